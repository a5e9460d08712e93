"""A real slice of 2022-23 in a temporary database (ingest and analytics tables only) and a randomly
initialised model in a temporary registry: enough to compare the incremental and batch paths
on real games (equality does not need a trained model).

The slice is the season's first 50 games (so that the as-of tables have history) and the games
around 0022200552 (CLE-CHI, 2023-01-02, the recorded PlayByPlayV3 game), built once per test
session by ``python -m nba_pipeline.run`` in a subprocess pointed at the slice.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from nba_pipeline_tests.services import make_raw_slice

SEASON = "2022-23"
GAME = "0022200552"
ANALYTICS = [
    "games",
    "plays",
    "shots",
    "players",
    "player_game_stats",
    "stints",
    "player_rapm",
    "lineup_spacing",
    "player_features",
    "team_game_features",
    "season_stats",
]


def _first_50_and_around_game(ids: list[str]) -> list[str]:
    i = ids.index(GAME)
    return ids[:50] + ids[i - 8 : i + 2]


@pytest.fixture(scope="session")
def slice_env(nba_raw_dir, tmp_path_factory) -> dict[str, str]:
    """Environment of a deployment pointed at the slice (raw dir, data dir, database, registry)."""
    base = tmp_path_factory.mktemp("forecast_slice")
    raw = make_raw_slice(nba_raw_dir, base / "raw", {SEASON: _first_50_and_around_game})
    env = {
        "NBA_RAW_DIR": str(raw),
        "NBA_DATA_DIR": str(base / "data"),
        "NBA_DATABASE_URL": f"sqlite:///{base / 'nba.db'}",
        "NBA_MODELS_DIR": str(base / "models"),
        "DAGSTER_HOME": str(base / "data" / "dagster_home"),
    }
    out = subprocess.run(
        [sys.executable, "-m", "nba_pipeline.run", "--partition", SEASON, "--select", *ANALYTICS],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return env


@pytest.fixture(scope="session")
def model_version(slice_env) -> str:
    """A randomly initialised forecaster with the training preprocessing, saved and promoted."""
    import torch

    from nba_pipeline.models.forecaster import NBAForecaster
    from nba_pipeline.models.norm import TargetNorm
    from nba_pipeline.registry.store import ModelRegistry
    from nba_pipeline.training.fit import preprocessing_bundle

    torch.manual_seed(0)
    m = NBAForecaster().eval()
    norm = TargetNorm(margin_mean=2.0, margin_std=14.0, total_mean=228.0, total_std=20.0)
    reg = ModelRegistry(Path(slice_env["NBA_MODELS_DIR"]))
    v = reg.save_model(
        {"transformer": m.transformer, "gnn": m.gnn, "fusion": m.fusion},
        metadata={
            "data_date_range": {"start": "2022-10-18", "end": "2022-12-31"},
            "hyperparameters": {"random_init": True},
            "validation_metrics": {},
        },
        preprocessing=preprocessing_bundle(norm, 12.0, [SEASON]),
        model_config=m.cfg.to_dict(),
    )
    reg.promote(v)
    return v


@pytest.fixture(scope="session")
def forecaster(slice_env, model_version):
    import torch

    from nba_pipeline.db import make_engine
    from nba_pipeline.forecast.game import GameForecaster
    from nba_pipeline.registry.store import ModelRegistry

    torch.set_num_threads(1)
    loaded = ModelRegistry(Path(slice_env["NBA_MODELS_DIR"])).load_model(model_version)
    return GameForecaster.from_loaded(loaded, make_engine(slice_env["NBA_DATABASE_URL"]))


@pytest.fixture(scope="session")
def game_rows(nba_raw_dir) -> pd.DataFrame:
    """The raw PlayByPlayV2 rows of 0022200552 in EVENTNUM (feed) order."""
    pbp = pd.read_parquet(nba_raw_dir / f"pbp_{SEASON}.parquet")
    return pbp[pbp["GAME_ID"] == GAME].sort_values("EVENTNUM", kind="stable").reset_index(drop=True)


@pytest.fixture
def db(slice_env, tmp_path):
    """A private copy of the slice database (the ledger rows of one test stay in it)."""
    import sqlalchemy as sa

    src = Path(slice_env["NBA_DATABASE_URL"].removeprefix("sqlite:///"))
    dst = tmp_path / "nba.db"
    shutil.copy(src, dst)
    return sa.create_engine(f"sqlite:///{dst}")


@pytest.fixture
def fc(forecaster, db):
    """The session forecaster's model over the private database."""
    from nba_pipeline.forecast.game import GameForecaster

    return GameForecaster(forecaster.model, db)


def assert_same_forecast(a, b, where: str = "") -> None:
    """Incremental and batch forecasts agree within 1e-4 (probability, margin and total points)."""
    assert a.events_seen == b.events_seen, where
    assert abs(a.p_home_win - b.p_home_win) < 1e-4, (where, a, b)
    assert abs(a.margin - b.margin) < 1e-4, (where, a, b)
    assert abs(a.total - b.total) < 1e-4, (where, a, b)
    assert (a.home_score, a.away_score, a.period) == (b.home_score, b.away_score, b.period), (where, a, b)
