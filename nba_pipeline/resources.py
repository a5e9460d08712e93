"""Dagster resources: where the data lives. Each defaults to ``nba_pipeline.settings`` (environment
variables), so one variable redirects a run and tests point everything at a temporary folder.

``Database`` is also the one place where season assets read and write: ``read`` (a table's rows
of some seasons) and ``replace_season`` (a season's rows, atomically), so an asset body says only
what it computes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import pandas as pd
import sqlalchemy as sa
from pydantic import PrivateAttr

from nba_pipeline import settings
from nba_pipeline.db import create_tables, make_engine, no_rows, read_seasons, read_table, replace_rows
from nba_pipeline.ingest.raw import seasons_in


class Database(dg.ConfigurableResource):
    """The SQL database (any SQLAlchemy URL; SQLite at data/nba.db by default)."""

    url: str = ""
    # One engine (one connection pool) per resource instance, not one per read or write.
    _engine: sa.Engine | None = PrivateAttr(default=None)

    def resolved_url(self) -> str:
        return self.url or settings.database_url()

    def engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = make_engine(self.resolved_url())
        return self._engine

    def read(
        self,
        table: sa.Table,
        seasons: Sequence[str] | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """The rows of ``seasons`` in that order (every row when None). A season not stored yet,
        or a table not created yet, reads as no rows: a first run and a missing upstream season
        look the same, and the caller decides whether that is an error."""
        engine = self.engine()
        if not sa.inspect(engine).has_table(table.name):
            return no_rows(table, columns)
        if seasons is None:
            return read_table(engine, table, columns=columns)
        return read_seasons(engine, table, seasons, columns)

    def replace_season(self, table: sa.Table, season: str | None, rows: pd.DataFrame) -> int:
        """Replace the rows of ``season`` (the whole table when None) by ``rows`` in one
        transaction, creating the table on first use; a failure keeps the previous rows.
        Returns the number of rows written."""
        engine = self.engine()
        create_tables(engine, [table])
        return replace_rows(engine, table, rows, {"season": season} if season is not None else {})


class RawData(dg.ConfigurableResource):
    """Where raw season files are read (pbp_<season>.parquet, games.parquet, ...): the shipped
    directory (``NBA_RAW_DIR``, may be read-only), then the directory seasons pulled from
    stats.nba.com land in (``NBA_PULLED_DIR``); the first holding a file wins.

    Its seasons are the season partitions (``assets.partitions`` builds them from ``RawData()``),
    so the partition list and the data read come from the same settings.
    """

    path: str = ""
    pulled_path: str = ""

    def dir(self) -> Path:
        """The shipped raw directory."""
        return Path(self.path) if self.path else settings.raw_dir()

    def pulled_dir(self) -> Path:
        return Path(self.pulled_path) if self.pulled_path else settings.pulled_dir()

    def dirs(self) -> list[Path]:
        """Every raw directory, in reading order: ``[shipped, pulled]``."""
        return [self.dir(), self.pulled_dir()]

    def seasons(self) -> list[str]:
        """Seasons with a play-by-play file in any of the directories, oldest first."""
        return seasons_in(self.dirs())


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


class StatsApi(dg.ConfigurableResource):
    """How runs talk to stats.nba.com (``assets.sources``): politeness and the way out of a block.
    Unset fields come from the environment (``NBA_API_DELAY_S``, ``NBA_API_TIMEOUT_S``,
    ``NBA_API_RETRIES``, ``NBA_API_PROXY``, ``NBA_API_HEADERS``), then the defaults of
    ``nba_pipeline.sources.client.ApiSettings`` (0.6 s between requests, 30 s timeout, 4 retries)."""

    delay_s: float | None = None
    timeout_s: float | None = None
    retries: int | None = None
    backoff_s: float | None = None
    proxy: str | None = None  # e.g. http://user:pass@host:3128
    headers: dict[str, str] | None = None  # merged over nba_api's browser-like headers

    def settings(self):  # noqa: ANN201 - sources.client.ApiSettings, imported when used
        from nba_pipeline.sources.client import ApiSettings

        return ApiSettings.from_env(
            delay_s=self.delay_s,
            timeout_s=self.timeout_s,
            retries=self.retries,
            backoff_s=self.backoff_s,
            proxy=self.proxy,
            headers=self.headers,
        )

    def client(self, cache_dir: Path):  # noqa: ANN201 - sources.client.StatsClient
        from nba_pipeline.sources.client import StatsClient

        return StatsClient(cache_dir, self.settings())


def default_resources() -> dict[str, dg.ConfigurableResource]:
    return {"database": Database(), "raw": RawData(), "storage": Storage(), "stats_api": StatsApi()}
