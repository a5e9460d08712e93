"""Season I/O in one place: ``Database.read`` / ``Database.replace_season`` and
``partitions.materialize_seasons``, exercised through the real season assets on a small real slice
of two seasons, and the raw-data resource checked against the partitions it was not built from."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from nba_pipeline.analytics import schema as aschema
from nba_pipeline.assets import analytics, ingest
from nba_pipeline.ingest import schema as ischema
from nba_pipeline.resources import Database, RawData
from nba_pipeline_tests.services import make_raw_slice

SEASONS = ["2022-23", "2023-24"]
RANGE_TAGS = {
    "dagster/asset_partition_range_start": SEASONS[0],
    "dagster/asset_partition_range_end": SEASONS[1],
}
SEASON_ASSETS = [
    ingest.games,
    ingest.plays,
    ingest.shots,
    ingest.betting_lines,
    ingest.player_game_stats,
    analytics.stints,
    analytics.player_rapm,
    analytics.lineup_spacing,
    analytics.player_features,
    analytics.team_game_features,
    analytics.season_stats,
]
TABLES = {
    "games": ischema.games,
    "plays": ischema.plays,
    "shots": ischema.shots,
    "betting_lines": ischema.betting_lines,
    "player_game_stats": ischema.player_game_stats,
    "stints": aschema.stints,
    "player_rapm": aschema.player_rapm,
    "lineup_spacing": aschema.lineup_spacing,
    "player_features": aschema.player_features,
    "team_game_features": aschema.team_game_features,
    "season_stats": aschema.season_stats,
}


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key.path == [asset])
    return {k: v.value for k, v in event.materialization.metadata.items()}


@pytest.fixture(scope="module")
def two_season_run(nba_raw_dir, tmp_path_factory):
    """Every ingest and analytics season asset over the range 2022-23...2023-24 in ONE run, on the
    first 80 games of each season (RAPM needs a next week to score), into a fresh SQLite database."""
    base = tmp_path_factory.mktemp("season_io")
    raw = make_raw_slice(nba_raw_dir, base / "raw", dict.fromkeys(SEASONS, 80))
    resources = {"database": Database(url=f"sqlite:///{base / 'nba.db'}"), "raw": RawData(path=str(raw))}
    assert dg.materialize([ingest.players], resources=resources).success
    result = dg.materialize(SEASON_ASSETS, resources=resources, tags=RANGE_TAGS, raise_on_error=False)
    return result, resources["database"]


def test_a_range_run_stores_every_season_and_reports_its_row_count(two_season_run):
    result, database = two_season_run
    assert result.success
    for asset, table in TABLES.items():
        md = _metadata(result, asset)
        assert md["seasons"] == SEASONS, asset
        stored = database.read(table, SEASONS)["season"].value_counts().to_dict()
        assert {s: md["per_season"][s]["rows"] for s in SEASONS} == {s: stored.get(s, 0) for s in SEASONS}
        assert all(stored.get(s, 0) > 0 for s in SEASONS), (asset, stored)


def test_a_range_run_builds_seasons_oldest_first_so_the_later_one_reads_the_earlier(two_season_run):
    result, _ = two_season_run
    rapm = _metadata(result, "player_rapm")["per_season"]
    assert rapm["2022-23"]["used_prior_season"] is False  # 2021-22 is not in the database
    assert rapm["2023-24"]["used_prior_season"] is True  # 2022-23 was stored before 2023-24 ran


def test_read_returns_the_seasons_in_the_order_asked_and_no_rows_for_a_missing_table(tmp_path):
    db = Database(url=f"sqlite:///{tmp_path / 'nba.db'}")
    empty = db.read(aschema.season_stats, ["2023-24"])
    assert empty.empty and list(empty.columns) == [c.name for c in aschema.season_stats.columns]
    for season in SEASONS:
        db.replace_season(aschema.season_stats, season, _stats(season, 2))
    assert (
        db.read(aschema.season_stats, SEASONS[::-1])["season"].tolist() == ["2023-24"] * 2 + ["2022-23"] * 2
    )
    assert db.read(aschema.season_stats, ["2024-25"]).empty


def test_replace_season_replaces_only_that_season_and_a_failure_keeps_the_previous_rows(tmp_path):
    db = Database(url=f"sqlite:///{tmp_path / 'nba.db'}")
    db.replace_season(aschema.season_stats, "2022-23", _stats("2022-23", 3))
    db.replace_season(aschema.season_stats, "2023-24", _stats("2023-24", 3))
    assert db.replace_season(aschema.season_stats, "2023-24", _stats("2023-24", 1)) == 1
    with pytest.raises(ValueError, match="missing columns"):
        db.replace_season(aschema.season_stats, "2023-24", _stats("2023-24", 5).drop(columns="std"))
    counts = db.read(aschema.season_stats)["season"].value_counts().to_dict()
    assert counts == {"2022-23": 3, "2023-24": 1}


def _stats(season: str, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"season": season, "stat": [f"s{i}" for i in range(n)], "mean": 0.0, "std": 1.0, "n": 1}
    )


# --- the partitions and the raw-data resource ------------------------------------------------------


def test_the_partitions_are_the_seasons_of_the_default_raw_data_resource():
    from nba_pipeline.assets.partitions import season_partitions
    from nba_pipeline.definitions import defs

    assert season_partitions.get_partition_keys() == RawData().seasons()
    assert isinstance(defs.resources["raw"], RawData) and defs.resources["raw"].path == ""


def test_a_raw_data_resource_without_the_run_season_fails_naming_it_and_writes_nothing(nba_raw_dir, tmp_path):
    raw = make_raw_slice(nba_raw_dir, tmp_path / "raw", {"2023-24": 5})  # has no 2022-23 file
    database = Database(url=f"sqlite:///{tmp_path / 'nba.db'}")
    result = dg.materialize(
        [ingest.games],
        partition_key="2022-23",
        resources={"database": database, "raw": RawData(path=str(raw))},
        raise_on_error=False,
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error.message
    assert "2022-23" in failure and str(raw) in failure
    assert database.read(ischema.games).empty


def test_raw_data_reads_the_shipped_then_the_pulled_dir_and_has_the_seasons_of_both(tmp_path):
    shipped, pulled = tmp_path / "shipped", tmp_path / "pulled"
    for d, season in ((shipped, "2022-23"), (pulled, "2024-25")):
        d.mkdir()
        (d / f"pbp_{season}.parquet").touch()
    raw = RawData(path=str(shipped), pulled_path=str(pulled))
    assert raw.dirs() == [shipped, pulled]
    assert raw.seasons() == ["2022-23", "2024-25"]


def test_a_season_pulled_into_the_pulled_dir_is_a_partition_at_the_next_definitions_load(tmp_path):
    import os
    import subprocess
    import sys

    shipped, pulled = tmp_path / "shipped", tmp_path / "pulled"
    for d, season in ((shipped, "2022-23"), (pulled, "2024-25")):
        d.mkdir()
        (d / f"pbp_{season}.parquet").touch()
    env = {**os.environ, "NBA_RAW_DIR": str(shipped), "NBA_PULLED_DIR": str(pulled)}
    code = "from nba_pipeline.assets.partitions import season_partitions as p; print(p.get_partition_keys())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['2022-23', '2024-25']"
