"""Malformed and missing raw files on a real 20-game slice: clear errors, no lost rows."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nba_pipeline.db import make_engine
from nba_pipeline.ingest.raw import RawDataError, read_raw

from .conftest import SEASON, materialize_season

TABLES = ("games", "plays", "shots", "players", "player_game_stats")


def _counts(url: str) -> dict[str, int]:
    with make_engine(url).connect() as conn:
        return {t: conn.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar_one() for t in TABLES}


@pytest.fixture
def raw_copy(slice_raw_dir: Path, tmp_path: Path) -> Path:
    d = tmp_path / "raw"
    shutil.copytree(slice_raw_dir, d)
    return d


@pytest.fixture
def ingested(raw_copy: Path, tmp_path: Path) -> tuple[str, dict[str, int]]:
    url = f"sqlite:///{tmp_path / 'nba.db'}"
    assert materialize_season(url, raw_copy).success
    return url, _counts(url)


def _error_text(result) -> str:
    return "\n".join(
        str(e.event_specific_data.error) for e in result.all_events if e.event_type_value == "STEP_FAILURE"
    )


def test_rerunning_a_season_leaves_row_counts_unchanged(ingested, raw_copy):
    url, before = ingested
    assert all(n > 0 for n in before.values()), before
    assert materialize_season(url, raw_copy).success
    assert _counts(url) == before


def test_missing_column_fails_naming_file_and_column_and_keeps_rows(ingested, raw_copy):
    url, before = ingested
    path = raw_copy / f"pbp_{SEASON}.parquet"
    pd.read_parquet(path).drop(columns=["PCTIMESTRING"]).to_parquet(path, index=False)
    res = materialize_season(url, raw_copy, players=False)
    assert not res.success
    msg = _error_text(res)
    assert str(path) in msg and "PCTIMESTRING" in msg
    assert _counts(url) == before


def test_wrong_dtype_fails_naming_file_and_column_and_keeps_rows(ingested, raw_copy):
    url, before = ingested
    path = raw_copy / f"lineups_{SEASON}.parquet"
    df = pd.read_parquet(path)
    df["ACTION_NUMBER"] = df["ACTION_NUMBER"].astype(str)
    df.to_parquet(path, index=False)
    res = materialize_season(url, raw_copy, players=False)
    assert not res.success
    msg = _error_text(res)
    assert str(path) in msg and "ACTION_NUMBER" in msg and "expected int" in msg
    assert _counts(url) == before


def test_unreadable_parquet_fails_naming_the_file_and_keeps_rows(ingested, raw_copy):
    url, before = ingested
    path = raw_copy / f"shots_{SEASON}.parquet"
    path.write_bytes(b"PAR1 this is not a parquet file")
    res = materialize_season(url, raw_copy, players=False)
    assert not res.success
    msg = _error_text(res)
    assert str(path) in msg and "unreadable" in msg
    assert _counts(url) == before


def test_missing_shots_file_degrades_to_no_shot_rows_with_a_warning(ingested, raw_copy, caplog):
    url, before = ingested
    (raw_copy / f"shots_{SEASON}.parquet").unlink()
    with caplog.at_level(logging.WARNING):
        assert materialize_season(url, raw_copy, players=False).success
    after = _counts(url)
    assert after["shots"] == 0
    assert {k: v for k, v in after.items() if k != "shots"} == {
        k: v for k, v in before.items() if k != "shots"
    }


def test_missing_lineups_file_leaves_on_court_null_and_seconds_null(ingested, raw_copy):
    url, _ = ingested
    (raw_copy / f"lineups_{SEASON}.parquet").unlink()
    assert materialize_season(url, raw_copy, players=False).success
    with make_engine(url).connect() as conn:
        assert (
            conn.exec_driver_sql("SELECT COUNT(*) FROM plays WHERE home_on_1 IS NOT NULL").scalar_one() == 0
        )
        assert (
            conn.exec_driver_sql(
                "SELECT COUNT(*) FROM player_game_stats WHERE seconds IS NOT NULL"
            ).scalar_one()
            == 0
        )


def test_read_raw_missing_file_returns_none_with_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        assert read_raw(tmp_path, "shots", SEASON) is None
    assert f"shots_{SEASON}.parquet" in caplog.text


def test_read_raw_reports_every_mistyped_column(slice_raw_dir, tmp_path):
    t = pq.read_table(slice_raw_dir / "games.parquet")
    t = t.set_column(
        t.schema.get_field_index("pts_home"),
        "pts_home",
        pa.array([str(v) for v in t["pts_home"].to_pylist()]),
    )
    pq.write_table(t, tmp_path / "games.parquet")
    with pytest.raises(RawDataError, match=r"games\.parquet.*'pts_home'.*expected int"):
        read_raw(tmp_path, "games")
