"""Tables filled by the analytics stage (registered on the shared :data:`nba_pipeline.db.metadata`).

Every table carries ``season`` so a season partition is replaced as a unit. Every as-of table
(``player_rapm``, ``player_features``) holds snapshots: a snapshot with ``as_of_date = T`` is built
from games played on or before ``T`` and is usable by games on days strictly after ``T``.
"""

from __future__ import annotations

import sqlalchemy as sa

from nba_pipeline.db import metadata

GameId = sa.String(10)
Season = sa.String(7)

HOME_COLS = [f"home_{i}" for i in range(1, 6)]
AWAY_COLS = [f"away_{i}" for i in range(1, 6)]

stints = sa.Table(
    "stints",
    metadata,
    sa.Column("game_id", GameId, primary_key=True),
    sa.Column("stint", sa.Integer, primary_key=True),  # 0-based, time order within the game
    sa.Column("season", Season, nullable=False),
    sa.Column("game_date", sa.Date, nullable=False),
    sa.Column("period", sa.SmallInteger, nullable=False),
    sa.Column("start_seconds", sa.Float, nullable=False),  # game seconds elapsed at the stint start
    sa.Column("end_seconds", sa.Float, nullable=False),
    *[sa.Column(c, sa.BigInteger, nullable=False) for c in HOME_COLS + AWAY_COLS],
    sa.Column("home_pts", sa.Integer, nullable=False),
    sa.Column("away_pts", sa.Integer, nullable=False),
    sa.Column("home_poss", sa.Integer, nullable=False),  # possessions ended by the home offense
    sa.Column("away_poss", sa.Integer, nullable=False),
    sa.Column("lineup_source", sa.String(12), nullable=False),  # 'file' or 'rebuilt'
    sa.Index("ix_stints_season", "season"),
)

player_rapm = sa.Table(
    "player_rapm",
    metadata,
    sa.Column("as_of_date", sa.Date, primary_key=True),
    sa.Column("player_id", sa.BigInteger, primary_key=True),
    sa.Column("season", Season, nullable=False),
    sa.Column("orapm", sa.Float, nullable=False),  # points per 100 possessions added on offense
    sa.Column("drapm", sa.Float, nullable=False),  # points per 100 possessions prevented on defense
    sa.Column("rapm", sa.Float, nullable=False),  # orapm + drapm
    sa.Column("off_poss", sa.Float, nullable=False),  # possessions of data in this season up to as_of_date
    sa.Column("def_poss", sa.Float, nullable=False),
    sa.Column("ridge_lambda", sa.Float, nullable=False),
    sa.Index("ix_player_rapm_season", "season"),
)

lineup_spacing = sa.Table(
    "lineup_spacing",
    metadata,
    sa.Column("game_id", GameId, primary_key=True),
    sa.Column("team_id", sa.BigInteger, primary_key=True),
    sa.Column("season", Season, nullable=False),
    sa.Column("game_date", sa.Date, nullable=False),
    sa.Column("starters_hull_area", sa.Float),  # sq ft; NULL when a starter has no known shot location
    sa.Column("weighted_hull_area", sa.Float),  # seconds-weighted over the lineups used (known ones)
    sa.Column("known_share", sa.Float, nullable=False),  # share of seconds whose lineup hull is known
    sa.Column("starters_missing", sa.Boolean, nullable=False),
    sa.Index("ix_lineup_spacing_season", "season"),
    info={"order_by": ("game_date", "game_id", "team_id")},  # the builder's order (db.read_order)
)

season_stats = sa.Table(
    "season_stats",
    metadata,
    sa.Column("season", Season, primary_key=True),
    sa.Column("stat", sa.String(40), primary_key=True),
    sa.Column("mean", sa.Float, nullable=False),
    sa.Column("std", sa.Float, nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
)

NODE_FEATURES = [
    "orapm",
    "drapm",
    "rapm",
    "height_z",
    "weight_z",
    "pos_pg",
    "pos_sg",
    "pos_sf",
    "pos_pf",
    "pos_c",
    "fg_pct",
    "fg3_pct",
    "ft_pct",
    "minutes_per_game",
    "usage_rate",
    "ast_rate",
]

player_features = sa.Table(
    "player_features",
    metadata,
    sa.Column("as_of_date", sa.Date, primary_key=True),
    sa.Column("player_id", sa.BigInteger, primary_key=True),
    sa.Column("season", Season, nullable=False),
    *[sa.Column(c, sa.Float, nullable=False) for c in NODE_FEATURES],
    sa.Column("has_history", sa.Boolean, nullable=False),
    sa.Column("games_played", sa.Integer, nullable=False),  # games in the stats window
    sa.Index("ix_player_features_season", "season"),
    sa.Index("ix_player_features_player", "player_id", "as_of_date"),
)

TEAM_GAME_FEATURES = [
    "ortg_z",
    "drtg_z",
    "efg",
    "tov_pct",
    "orb_pct",
    "ft_rate",
    "rest_days",
    "back_to_back",
    "travel_miles",
    "lineup_orapm",
    "lineup_drapm",
    "lineup_rapm",
    "hull_area",
    "hull_area_missing",
    "avail_rating",  # analytics.team_strength
    "out_share",
    "neutral_site",  # 1 where neither team is at home (team_features.neutral_site_games)
]

team_game_features = sa.Table(
    "team_game_features",
    metadata,
    sa.Column("game_id", GameId, primary_key=True),
    sa.Column("team_id", sa.BigInteger, primary_key=True),
    sa.Column("is_home", sa.Boolean, nullable=False),
    sa.Column("game_date", sa.Date, nullable=False),
    sa.Column("season", Season, nullable=False),
    *[sa.Column(c, sa.Float, nullable=False) for c in TEAM_GAME_FEATURES],
    sa.Index("ix_team_game_features_season", "season"),
    info={"order_by": ("game_date", "game_id", "-is_home")},  # the builder's order (db.read_order)
)
