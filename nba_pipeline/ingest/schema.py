"""Tables filled by ingestion. Every later stage reads these columns, so they are the contract
between ``ingest`` and everything downstream.

Conventions
- ``season`` is the ``YYYY-YY`` label; every table carries it so a season partition can be
  replaced as a unit.
- ``side`` codes: 0 neutral (period markers, official's events), 1 home, 2 away.
- Clock: ``clock_seconds`` is seconds left in the period; ``game_seconds`` is seconds elapsed since
  tip-off (periods 1-4 are 720 s, overtimes 300 s); ``seconds_left_regulation`` is seconds left in
  the 48 regulation minutes (0 throughout overtime).
- ``seq`` is the event's position in TIME order within the game (period, clock descending, then
  EVENTNUM): EVENTNUM order is not always time order in the source.
"""

from __future__ import annotations

import sqlalchemy as sa

from nba_pipeline.db import metadata

GameId = sa.String(10)
Season = sa.String(7)
BOX_STATS = ("fgm", "fga", "fg3m", "fg3a", "ftm", "fta", "oreb", "dreb", "ast", "stl", "blk", "tov", "pf")

games = sa.Table(
    "games",
    metadata,
    sa.Column("game_id", GameId, primary_key=True),
    sa.Column("season", Season, nullable=False),
    sa.Column("game_date", sa.Date, nullable=False),
    sa.Column("game_type", sa.String(20), nullable=False),  # regular_season, playoffs, play_in, nba_cup_*
    sa.Column("is_regular_season", sa.Boolean, nullable=False),  # regular_season and nba_cup_semi
    sa.Column("is_postseason", sa.Boolean, nullable=False),  # playoffs and play_in
    sa.Column("neutral_site", sa.Boolean, nullable=False),
    sa.Column("home_team_id", sa.BigInteger, nullable=False),
    sa.Column("away_team_id", sa.BigInteger, nullable=False),
    sa.Column("home_team_abbr", sa.String(3), nullable=False),
    sa.Column("away_team_abbr", sa.String(3), nullable=False),
    sa.Column("home_pts", sa.Integer, nullable=False),
    sa.Column("away_pts", sa.Integer, nullable=False),
    # Team box-score totals (from games.parquet) for the four factors and ratings.
    *[sa.Column(f"{stat}_{side}", sa.Integer) for side in ("home", "away") for stat in BOX_STATS],
    sa.Column("possessions_home", sa.Float),
    sa.Column("possessions_away", sa.Float),
    sa.Column("minutes", sa.Integer),  # team minutes / 5 (240 regulation, +25 per overtime)
    sa.Index("ix_games_season", "season"),
    sa.Index("ix_games_date", "game_date"),
    sa.Index("ix_games_home_team", "home_team_id", "game_date"),
    sa.Index("ix_games_away_team", "away_team_id", "game_date"),
    info={"order_by": ("game_date", "game_id")},  # the builder's order (db.read_order)
)

ON_COURT = [f"home_on_{i}" for i in range(1, 6)] + [f"away_on_{i}" for i in range(1, 6)]

plays = sa.Table(
    "plays",
    metadata,
    sa.Column("game_id", GameId, primary_key=True),
    sa.Column("event_num", sa.Integer, primary_key=True),
    sa.Column("season", Season, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),  # time order within the game, 0-based
    sa.Column("period", sa.SmallInteger, nullable=False),
    sa.Column("event_type", sa.SmallInteger, nullable=False),  # EVENTMSGTYPE, unknown codes kept
    sa.Column("action_type", sa.SmallInteger, nullable=False),  # EVENTMSGACTIONTYPE
    sa.Column("clock_seconds", sa.Float, nullable=False),
    sa.Column("game_seconds", sa.Float, nullable=False),
    sa.Column("seconds_left_regulation", sa.Float, nullable=False),
    sa.Column("side", sa.SmallInteger, nullable=False),  # 0 neutral, 1 home, 2 away
    sa.Column("points", sa.SmallInteger, nullable=False),  # points this event scored (0-3)
    sa.Column("is_made", sa.Boolean),  # made/missed for FG and FT events, NULL otherwise
    sa.Column("home_score", sa.Integer, nullable=False),  # running score AFTER this event
    sa.Column("away_score", sa.Integer, nullable=False),
    sa.Column("person1_type", sa.SmallInteger),
    sa.Column("player1_id", sa.BigInteger),
    sa.Column("player1_team_id", sa.BigInteger),
    sa.Column("player2_id", sa.BigInteger),
    sa.Column("player2_team_id", sa.BigInteger),
    sa.Column("player3_id", sa.BigInteger),
    sa.Column("player3_team_id", sa.BigInteger),
    sa.Column("description", sa.Text),  # home / neutral / visitor descriptions joined with " | "
    # Ten players on court (NULL where unknown); lineups_source says where they came from.
    *[sa.Column(c, sa.BigInteger) for c in ON_COURT],
    sa.Column("lineup_source", sa.String(12)),  # 'file', 'carried', 'rebuilt' or NULL
    sa.Index("ix_plays_season", "season"),
    sa.Index("ix_plays_game_seq", "game_id", "seq"),
    sa.Index("ix_plays_player1", "player1_id"),
    info={"order_by": ("game_id", "seq")},  # the builder's order (db.read_order)
)

shots = sa.Table(
    "shots",
    metadata,
    sa.Column("shot_id", sa.Integer, primary_key=True, autoincrement=False),  # row number in the season file
    sa.Column("season", Season, primary_key=True),
    sa.Column("game_id", GameId, nullable=False),
    sa.Column("game_date", sa.Date, nullable=False),
    sa.Column("event_num", sa.Integer),  # GAME_EVENT_ID_MATCHED, NULL when unmatched
    sa.Column("team_id", sa.BigInteger, nullable=False),
    sa.Column("player_id", sa.BigInteger, nullable=False),
    sa.Column("period", sa.SmallInteger, nullable=False),
    sa.Column("clock_seconds", sa.Float, nullable=False),
    sa.Column("made", sa.Boolean, nullable=False),
    sa.Column("is_three", sa.Boolean, nullable=False),
    sa.Column("loc_x", sa.Float, nullable=False),  # feet, hoop at (0, 5.25)
    sa.Column("loc_y", sa.Float, nullable=False),
    sa.Column("distance", sa.Float, nullable=False),
    sa.Column("zone", sa.String(40)),
    sa.Index("ix_shots_game", "game_id"),
    sa.Index("ix_shots_player_date", "player_id", "game_date"),
)

# The betting market's pregame line per game (ingest.lines); NULL where the source has none.
betting_lines = sa.Table(
    "betting_lines",
    metadata,
    sa.Column("game_id", GameId, primary_key=True),
    sa.Column("season", Season, nullable=False),
    sa.Column("market_p_home", sa.Float),  # home win probability, moneylines with the vig removed
    sa.Column("market_margin", sa.Float),  # expected home minus away points (minus the home spread)
    sa.Column("market_total", sa.Float),  # over/under
    sa.Index("ix_betting_lines_season", "season"),
)

# Lines of games to come, every answer kept with its time (sources.line_store): append-only, never
# replaced by season (no season column), so a season rebuild of betting_lines leaves them alone.
# The line a game uses is its betting_lines row, else the last row here fetched before tip-off.
fetched_lines = sa.Table(
    "fetched_lines",
    metadata,
    sa.Column("game_id", GameId, primary_key=True),
    sa.Column("source", sa.String(20), primary_key=True),  # 'nba_api_odds', 'csv', ...
    sa.Column("fetched_at", sa.DateTime, primary_key=True),  # UTC (stored without a zone)
    sa.Column("home_team_id", sa.BigInteger),
    sa.Column("away_team_id", sa.BigInteger),
    sa.Column("market_p_home", sa.Float),  # no-vig home win probability, median over books
    sa.Column("home_spread", sa.Float),  # negative: home favoured; median over books
    sa.Column("market_total", sa.Float),  # over/under; NULL where no book quotes one
    sa.Column("books", sa.Integer),  # books quoted (NULL for an import that does not say)
)

# Who is out of the games of a day, every report kept with the time it was known
# (sources.availability): a user's import ('csv') or the live box score's inactive list
# ('nba_api_boxscore'). Append-only: a later report of the same player and day is a new row, and
# a forecast reads the last one known before it was made.
player_availability = sa.Table(
    "player_availability",
    metadata,
    sa.Column("game_date", sa.Date, primary_key=True),
    sa.Column("player_id", sa.BigInteger, primary_key=True),
    sa.Column("source", sa.String(20), primary_key=True),  # 'csv', 'nba_api_boxscore', ...
    sa.Column("known_at", sa.DateTime, primary_key=True),  # UTC (stored without a zone)
    sa.Column("team_id", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # out, doubtful, questionable, ...
    sa.Column("game_id", GameId),  # the feed's game; NULL for an import (a date and a team)
)

players = sa.Table(
    "players",
    metadata,
    sa.Column("player_id", sa.BigInteger, primary_key=True),
    sa.Column("name", sa.String(80)),
    sa.Column("height_in", sa.Float),  # NULL when no source has it (counted, not invented)
    sa.Column("weight_lb", sa.Float),
    sa.Column("position", sa.String(2)),  # PG/SG/SF/PF/C, NULL when unknown
    sa.Column("position_source", sa.String(20)),
)

player_game_stats = sa.Table(
    "player_game_stats",
    metadata,
    sa.Column("game_id", GameId, primary_key=True),
    sa.Column("player_id", sa.BigInteger, primary_key=True),
    sa.Column("season", Season, nullable=False),
    sa.Column("game_date", sa.Date, nullable=False),
    sa.Column("team_id", sa.BigInteger, nullable=False),
    sa.Column("is_home", sa.Boolean, nullable=False),
    *[sa.Column(c, sa.Integer, nullable=False) for c in ("pts", *BOX_STATS)],
    sa.Column("seconds", sa.Float),  # seconds on court, NULL where lineups are unknown
    sa.Column("plus_minus", sa.Integer),  # NULL where lineups are unknown
    sa.Index("ix_pgs_season", "season"),
    sa.Index("ix_pgs_player_date", "player_id", "game_date"),
)
