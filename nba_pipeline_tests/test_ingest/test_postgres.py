"""The same real slice ingested into SQLite and into a real PostgreSQL server gives equal tables."""

from __future__ import annotations

import pandas as pd
import pytest

from nba_pipeline.db import make_engine, read_table
from nba_pipeline.ingest import schema

from .conftest import materialize_season

pytestmark = pytest.mark.postgres

KEYS = {
    "games": ["game_id"],
    "plays": ["game_id", "event_num"],
    "shots": ["season", "shot_id"],
    "players": ["player_id"],
    "player_game_stats": ["game_id", "player_id"],
}


def _norm(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    df = df.sort_values(keys).reset_index(drop=True)
    for c in df.columns:
        if df[c].dtype == object or str(df[c].dtype) in ("str", "string"):
            df[c] = (
                df[c]
                .astype(object)
                .where(df[c].notna(), None)
                .map(lambda v: str(v) if v is not None else None)
            )
        else:
            df[c] = pd.to_numeric(df[c].astype("float64"), errors="coerce")
    return df


def test_postgres_ingestion_equals_sqlite_on_a_real_slice(postgres_url, slice_raw_dir, tmp_path):
    sqlite_url = f"sqlite:///{tmp_path / 'nba.db'}"
    assert materialize_season(sqlite_url, slice_raw_dir).success
    assert materialize_season(postgres_url, slice_raw_dir).success
    assert materialize_season(postgres_url, slice_raw_dir).success  # replace, not append, on PostgreSQL too
    lite, pg = make_engine(sqlite_url), make_engine(postgres_url)
    for name, keys in KEYS.items():
        a = _norm(read_table(lite, getattr(schema, name)), keys)
        b = _norm(read_table(pg, getattr(schema, name)), keys)
        assert len(a) > 0, name
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=name)
