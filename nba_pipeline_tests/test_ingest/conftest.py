"""Fixtures of the ingest tests: a small real slice of 2023-24 and one full-season ingestion
(each built once per test session)."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from nba_pipeline.assets import ingest as ingest_assets
from nba_pipeline.resources import Database, RawData

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


def write_slice(src: Path, dst: Path, n_games: int = SLICE_GAMES, season: str = SEASON) -> list[str]:
    """Copy the first ``n_games`` games of a season (pbp, lineups, shots, games) plus players."""
    dst.mkdir(parents=True, exist_ok=True)
    pbp = pd.read_parquet(src / f"pbp_{season}.parquet")
    ids = sorted(pbp["GAME_ID"].unique())[:n_games]
    pbp[pbp["GAME_ID"].isin(ids)].to_parquet(dst / f"pbp_{season}.parquet", index=False)
    for kind in ("lineups", "shots"):
        df = pd.read_parquet(src / f"{kind}_{season}.parquet")
        df[df["GAME_ID"].isin(ids)].to_parquet(dst / f"{kind}_{season}.parquet", index=False)
    games = pd.read_parquet(src / "games.parquet")
    games[games["season"] == season].to_parquet(dst / "games.parquet", index=False)
    shutil.copy(src / "players.parquet", dst / "players.parquet")
    return ids


@pytest.fixture(scope="session")
def slice_raw_dir(nba_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("raw_slice")
    write_slice(nba_raw_dir, d)
    return d


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
