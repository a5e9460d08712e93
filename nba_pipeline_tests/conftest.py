"""Shared fixtures. Real data is read from ../shared/data/nba through ``nba_raw_dir`` alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nba_pipeline import settings

os.environ.setdefault("DAGSTER_HOME", str(settings.REPO_ROOT / "data" / "dagster_home"))


@pytest.fixture(scope="session")
def nba_raw_dir() -> Path:
    """The real data folder; tests that need it skip, saying why, when it is absent."""
    path = Path(os.environ.get("NBA_RAW_DIR", settings.REPO_ROOT.parent / "shared" / "data" / "nba"))
    if not (path / "games.parquet").exists():
        pytest.skip(f"real NBA data not found at {path} (set NBA_RAW_DIR to the folder with games.parquet)")
    return path
