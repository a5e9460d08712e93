"""Narrow reads of the stored tables for forecasting a game: one game's rows, its teams' players,
the earlier games of some players, the games of some dates.

``db.read_table`` reads a table or a season whole; a forecast of one game needs only the rows of
its game, teams and players as of its date, and it needs them fast (the first forecast of a live
game is read in well under a second). The SQL lives here, beside the schemas of the tables it
reads, so that the forecast package holds none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa

from nba_pipeline.analytics.availability import with_stint_seconds
from nba_pipeline.analytics.schema import AWAY_COLS, HOME_COLS, player_features, stints, team_game_features
from nba_pipeline.db import fetch_raw, read_select
from nba_pipeline.ingest.schema import ON_COURT, games, player_game_stats, plays

GAME_TEAM_COLUMNS = ["game_id", "game_date", "home_team_id", "away_team_id"]
SCHEDULE_COLUMNS = ["game_id", "game_date", "season", "home_team_id", "away_team_id"]


def _ids(ids: Iterable[object]) -> list[str]:
    return [str(i) for i in ids]


def team_game_rows(engine: sa.Engine, game_id: str) -> pd.DataFrame:
    """The game's two ``team_game_features`` rows (none for a game not built yet)."""
    t = team_game_features
    with engine.connect() as conn:
        return read_select(conn, sa.select(t).where(t.c.game_id == str(game_id)))


def team_game_rows_of(engine: sa.Engine, game_ids: list[str]) -> pd.DataFrame:
    """The ``team_game_features`` rows of ``game_ids`` (two per game built)."""
    t = team_game_features
    with engine.connect() as conn:
        return read_select(conn, sa.select(t).where(t.c.game_id.in_(_ids(game_ids))))


def player_seconds(engine: sa.Engine, season: str, team_ids: list[int], before: dt.date) -> pd.DataFrame:
    """player_id, team_id, game_date, seconds of every ``player_game_stats`` row of ``team_ids`` in
    ``season`` strictly before ``before``."""
    t = player_game_stats
    q = sa.select(t.c.player_id, t.c.team_id, t.c.game_date, t.c.seconds).where(
        t.c.season == season, t.c.team_id.in_([int(x) for x in team_ids]), t.c.game_date < before
    )
    with engine.connect() as conn:
        return read_select(conn, q)


def appearances_before(engine: sa.Engine, season: str, before: dt.date) -> pd.DataFrame:
    """``availability.APPEARANCE_COLUMNS`` of every ``player_game_stats`` row of ``season``
    strictly before ``before``, NULL seconds taken from the season's stints (the rotation of a
    morning forecast)."""
    t = player_game_stats
    cols = ["game_id", "season", "game_date", "team_id", "player_id", "seconds"]
    q = sa.select(*(t.c[c] for c in cols)).where(t.c.season == season, t.c.game_date < before)
    with engine.connect() as conn:
        a = read_select(conn, q)
        if not a["seconds"].isna().any() or not sa.inspect(engine).has_table(stints.name):
            return a
        s = read_select(conn, sa.select(stints).where(stints.c.season == season, stints.c.game_date < before))
    return with_stint_seconds(a, s)


def player_feature_rows(engine: sa.Engine, season: str, player_ids: list[int]) -> pd.DataFrame:
    """Every ``player_features`` snapshot of ``player_ids`` in ``season``."""
    t = player_features
    q = sa.select(t).where(t.c.season == season, t.c.player_id.in_([int(p) for p in player_ids]))
    with engine.connect() as conn:
        return read_select(conn, q)


def earlier_games_of(engine: sa.Engine, season: str, player_ids: list[int], before: dt.date) -> set[str]:
    """The games of ``season`` before ``before`` in which one of ``player_ids`` was on court
    (``player_game_stats`` has a row for every player on court in a game, indexed by player)."""
    t = player_game_stats
    q = (
        sa.select(t.c.game_id)
        .distinct()
        .where(t.c.season == season, t.c.player_id.in_([int(p) for p in player_ids]), t.c.game_date < before)
    )
    with engine.connect() as conn:
        return {str(r[0]) for r in conn.execute(q)}


def on_court_numbers(engine: sa.Engine, game_ids: list[str]) -> np.ndarray:
    """float64 [n, 13]: game id (as a number), seq, game_seconds and the ten on-court ids (0 for
    NULL, as ``features.tokenizer.id_matrix``) of every play of ``game_ids``: numbers only, read
    through the driver's cursor, so ~80k rows become one array in ~0.2 s."""
    numeric = [
        sa.cast(plays.c.game_id, sa.BigInteger),
        plays.c.seq,
        plays.c.game_seconds,
        *(sa.func.coalesce(plays.c[c], 0) for c in ON_COURT),
    ]
    with engine.connect() as conn:
        fetched = fetch_raw(conn, sa.select(*numeric).where(plays.c.game_id.in_(_ids(game_ids))))
    return np.array(fetched, dtype=np.float64).reshape(len(fetched), 3 + len(ON_COURT))


def plays_of_games(engine: sa.Engine, game_ids: list[str], columns: Iterable[str]) -> pd.DataFrame:
    """``columns`` of every play of ``game_ids``."""
    q = sa.select(*(plays.c[c] for c in columns)).where(plays.c.game_id.in_(_ids(game_ids)))
    with engine.connect() as conn:
        return read_select(conn, q)


def game_teams(engine: sa.Engine, game_ids: list[str]) -> pd.DataFrame:
    """game_id, game_date, home_team_id, away_team_id of ``game_ids``."""
    q = sa.select(*(games.c[c] for c in GAME_TEAM_COLUMNS)).where(games.c.game_id.in_(_ids(game_ids)))
    with engine.connect() as conn:
        return read_select(conn, q)


def games_between(engine: sa.Engine, start: dt.date, end: dt.date) -> pd.DataFrame | None:
    """``SCHEDULE_COLUMNS`` of the games of ``[start, end)``; None without a ``games`` table."""
    if not sa.inspect(engine).has_table(games.name):
        return None
    q = sa.select(*(games.c[c] for c in SCHEDULE_COLUMNS)).where(
        games.c.game_date >= start, games.c.game_date < end
    )
    with engine.connect() as conn:
        return read_select(conn, q)


def first_stints(engine: sa.Engine, seasons: list[str]) -> pd.DataFrame | None:
    """game_id, stint and the ten players of each game's first stint (its starters) in
    ``seasons``; None without a ``stints`` table."""
    if not sa.inspect(engine).has_table(stints.name):
        return None
    cols = ["game_id", "stint", *HOME_COLS, *AWAY_COLS]
    q = sa.select(*(stints.c[c] for c in cols)).where(stints.c.season.in_(seasons), stints.c.stint == 0)
    with engine.connect() as conn:
        return read_select(conn, q)


def games_of_seasons(engine: sa.Engine, seasons: list[str]) -> pd.DataFrame:
    """``GAME_TEAM_COLUMNS`` of every game of ``seasons``."""
    q = sa.select(*(games.c[c] for c in GAME_TEAM_COLUMNS)).where(games.c.season.in_(seasons))
    with engine.connect() as conn:
        return read_select(conn, q)
