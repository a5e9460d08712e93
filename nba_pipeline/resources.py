"""Dagster resources: where the data lives. Each defaults to ``nba_pipeline.settings`` (environment
variables), so one variable redirects a run and tests point everything at a temporary folder."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from nba_pipeline import settings
from nba_pipeline.db import make_engine


class Database(dg.ConfigurableResource):
    """The SQL database (any SQLAlchemy URL; SQLite at data/nba.db by default)."""

    url: str = ""

    def resolved_url(self) -> str:
        return self.url or settings.database_url()

    def engine(self) -> sa.Engine:
        return make_engine(self.resolved_url())


class RawData(dg.ConfigurableResource):
    """The directory of raw season files (pbp_<season>.parquet, games.parquet, ...)."""

    path: str = ""

    def dir(self) -> Path:
        return Path(self.path) if self.path else settings.raw_dir()


class Storage(dg.ConfigurableResource):
    """Base directory for generated files: model inputs, registry, reports."""

    data_dir: str = ""
    models_dir: str = ""

    def base(self) -> Path:
        return Path(self.data_dir) if self.data_dir else settings.data_dir()

    def features(self) -> Path:
        return self.base() / "features"

    def models(self) -> Path:
        if self.models_dir:
            return Path(self.models_dir)
        return Path(self.data_dir) / "models" if self.data_dir else settings.models_dir()

    def reports(self) -> Path:
        return self.base() / "reports"


def default_resources() -> dict[str, dg.ConfigurableResource]:
    return {"database": Database(), "raw": RawData(), "storage": Storage()}
