"""Where the pipeline reads and writes: one place, overridable by environment variables.

Every asset, script and test resolves paths through these functions, so a deployment (or a test)
redirects the whole pipeline by setting a few variables and nothing reads process-local state.

- ``NBA_DATA_DIR``      base directory for everything generated (default: ``<repo>/data``)
- ``NBA_RAW_DIR``       directory of raw season files (default: ``<repo>/../shared/data/nba``)
- ``NBA_DATABASE_URL``  any SQLAlchemy URL (default: SQLite at ``<data dir>/nba.db``)
- ``NBA_MODELS_DIR``    model registry (default: ``<data dir>/models``)
- ``NBA_PULLED_DIR``    writable dir of seasons pulled from stats.nba.com (default: ``<data dir>/raw``)
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    return Path(os.environ.get("NBA_DATA_DIR", REPO_ROOT / "data")).resolve()


def raw_dir() -> Path:
    return Path(os.environ.get("NBA_RAW_DIR", REPO_ROOT.parent / "shared" / "data" / "nba")).resolve()


def pulled_dir() -> Path:
    """Seasons pulled from stats.nba.com (pbp_/games_/schedule_<season>.parquet + the response
    cache): writable, unlike the shipped raw dir, which may be read-only."""
    return Path(os.environ.get("NBA_PULLED_DIR", data_dir() / "raw")).resolve()


def database_url() -> str:
    return os.environ.get("NBA_DATABASE_URL", f"sqlite:///{data_dir() / 'nba.db'}")


def models_dir() -> Path:
    return Path(os.environ.get("NBA_MODELS_DIR", data_dir() / "models")).resolve()


def features_dir() -> Path:
    """Model-input files (tokenized sequences, graphs, context vectors), one set per season."""
    return data_dir() / "features"


def reports_dir() -> Path:
    return data_dir() / "reports"
