"""Fixtures of the ingest tests: a small real slice of 2023-24 and one full-season ingestion
(each built once per test session)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from nba_pipeline.assets import ingest as ingest_assets
from nba_pipeline.resources import Database, RawData
from nba_pipeline_tests.services import make_raw_slice

SEASON = "2023-24"
SLICE_GAMES = 20
SEASONAL_ASSETS = [
    ingest_assets.games,
    ingest_assets.plays,
    ingest_assets.shots,
    ingest_assets.player_game_stats,
    ingest_assets.plays_final_scores_match_games,
]


def materialize_season(
    url: str, raw_dir: Path, season: str = SEASON, players: bool = True
) -> dg.ExecuteInProcessResult:
    """Run the ingestion assets of one season (and players) in process, as the main job does."""
    resources = {"database": Database(url=url), "raw": RawData(path=str(raw_dir))}
    res = dg.materialize(SEASONAL_ASSETS, partition_key=season, resources=resources, raise_on_error=False)
    if res.success and players:
        assert dg.materialize([ingest_assets.players], resources=resources, raise_on_error=False).success
    return res  # the season's run (its check evaluations, its failures)


@pytest.fixture(scope="session")
def slice_raw_dir(nba_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_raw_slice(nba_raw_dir, tmp_path_factory.mktemp("raw_slice"), {SEASON: SLICE_GAMES})


@pytest.fixture(scope="session")
def season_ingest(nba_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, bool]]:
    """The whole 2023-24 season ingested once through the Dagster assets into SQLite:
    (database URL, asset-check outcomes by check name)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('season_db') / 'nba.db'}"
    res = materialize_season(url, nba_raw_dir)
    assert res.success, "ingesting 2023-24 through the assets failed"
    return url, {e.check_name: e.passed for e in res.get_asset_check_evaluations()}


@pytest.fixture(scope="session")
def season_db_url(season_ingest: tuple[str, dict[str, bool]]) -> str:
    return season_ingest[0]
