"""A real slice of the raw data and a pipeline pointed at a temporary data directory and database
through the environment, as a deployment would be. The slice is the specification's smoke-test
setting: the whole 2022-23 regular season to train on, the first 100 games of 2023-24 to test on."""

from __future__ import annotations

import pytest

from nba_pipeline_tests.services import make_raw_slice

SLICE_SEASONS = ("2022-23", "2023-24")
SLICE_GAMES = {"2022-23": None, "2023-24": 100}  # None: every game


@pytest.fixture(scope="module")
def pipeline_env(nba_raw_dir, tmp_path_factory):
    """Environment variables that point the real Definitions at a fresh slice, database and data dir."""
    base = tmp_path_factory.mktemp("pipeline")
    raw = make_raw_slice(nba_raw_dir, base / "raw", SLICE_GAMES)
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
