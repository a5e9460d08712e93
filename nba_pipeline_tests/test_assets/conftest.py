"""A small real slice of the raw data (the first games of two seasons) and a pipeline pointed at a
temporary data directory and database through the environment, as a deployment would be."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

SLICE_SEASONS = ("2022-23", "2023-24")
SLICE_GAMES = 200


def make_raw_slice(src: Path, dst: Path, seasons=SLICE_SEASONS, n_games: int = SLICE_GAMES) -> Path:
    """Copy the non-seasonal files and the first ``n_games`` games of each season's files."""
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.glob("*.parquet"):
        if not any(f.name.endswith(f"_{s}.parquet") for s in seasons) and "_20" not in f.name:
            shutil.copy(f, dst / f.name)
    for season in seasons:
        pbp = pd.read_parquet(src / f"pbp_{season}.parquet")
        keep = sorted(pbp["GAME_ID"].unique())[:n_games]
        pbp[pbp["GAME_ID"].isin(keep)].to_parquet(dst / f"pbp_{season}.parquet")
        for kind in ("lineups", "shots"):
            path = src / f"{kind}_{season}.parquet"
            if path.exists():
                df = pd.read_parquet(path)
                df[df["GAME_ID"].isin(keep)].to_parquet(dst / path.name)
    return dst


@pytest.fixture(scope="module")
def pipeline_env(nba_raw_dir, tmp_path_factory):
    """Environment variables that point the real Definitions at a fresh slice, database and data dir."""
    base = tmp_path_factory.mktemp("pipeline")
    raw = make_raw_slice(nba_raw_dir, base / "raw")
    env = {
        "NBA_RAW_DIR": str(raw),
        "NBA_DATA_DIR": str(base / "data"),
        "NBA_DATABASE_URL": f"sqlite:///{base / 'nba.db'}",
    }
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    yield base
    mp.undo()
