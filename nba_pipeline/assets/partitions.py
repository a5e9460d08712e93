"""The season partitions shared by every per-season asset, and the loop that materializes them.

The partition list is the seasons of the default ``RawData`` resource, the same resource (same
settings: ``NBA_RAW_DIR``, ``NBA_PULLED_DIR``) that the assets read from, computed when the
definitions load: a new season's ``pbp_<season>.parquet`` in either directory (dropped in, or
pulled from stats.nba.com) is a new partition on the next load (CLI call, ``dagster dev``
reload), with no code change. A run given a ``RawData`` pointed elsewhere is checked against its
seasons (:func:`check_raw_has_seasons`) instead of silently reading nothing.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from nba_pipeline.ingest.raw import previous_season
from nba_pipeline.memory import season_build
from nba_pipeline.resources import Database, RawData

SEASONS: list[str] = RawData().seasons()

season_partitions = dg.StaticPartitionsDefinition(SEASONS)

# A backfill (the UI's "Materialize all", ``nba-pipeline backfill``) launches one run per season,
# each as soon as the earlier seasons it reads are done (``with_earlier_seasons``); the run queue
# admits NBA_MAX_CONCURRENT_RUNS at once, so seasons build in parallel. (Dagster's CLI runs a
# ``--partition-range`` only for single-run policies; a run over several seasons, in process,
# still processes them oldest first: ``materialize_seasons``.)
# The policy is marked beta in Dagster 1.13; its warning would print on every definitions load.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)
season_backfill = dg.BackfillPolicy.multi_run(max_partitions_per_run=1)


def with_earlier_seasons(n: int) -> dg.StaticPartitionMapping:
    """A dependency on an upstream asset's season S and the ``n`` seasons before it (those that
    exist), for season S downstream: what a season asset reads is declared, so Dagster's lineage,
    staleness and backfills know that, say, 2016-17's team features read 2015-16's games.

    Only other assets can be declared this way: Dagster allows an asset to depend on its own
    earlier partitions only for time partitions, so no season asset reads its own earlier seasons
    (player_rapm recomputes its prior from the earlier seasons' stints)."""
    downstream_of: dict[str, set[str]] = {s: set() for s in SEASONS}
    for season in SEASONS:
        upstream = season
        for _ in range(n + 1):
            if upstream in downstream_of:
                downstream_of[upstream].add(season)
            upstream = previous_season(upstream)
    return dg.StaticPartitionMapping(downstream_of)


def earlier_seasons(season: str) -> list[str]:
    """The unbroken run of partition seasons just before ``season``, oldest first."""
    out: list[str] = []
    s = previous_season(season)
    while s in SEASONS:
        out.insert(0, s)
        s = previous_season(s)
    return out


# What a season asset computes for one season: the rows to store and the metadata to show.
SeasonBuild = Callable[[str], tuple[pd.DataFrame, dict]]


def run_seasons(context: dg.AssetExecutionContext) -> list[str]:
    """The seasons of this run, oldest first (seasons build on the previous one: priors, RAPM)."""
    return sorted(context.partition_keys)


def check_raw_has_seasons(raw: RawData, seasons: list[str]) -> None:
    """Fail, before anything is written, when the run's seasons are not in the raw data the run
    reads (a ``RawData`` configured apart from the settings the partitions came from)."""
    have = raw.seasons()
    missing = [s for s in seasons if s not in have]
    if missing:
        raise dg.Failure(
            f"season(s) {missing} have no play-by-play file in the raw data {[str(d) for d in raw.dirs()]} "
            f"(seasons there: {have}); the partitions are {SEASONS}: point RawData and NBA_RAW_DIR / "
            "NBA_PULLED_DIR at the same folders"
        )


def _plain(value: object) -> object:
    return value.value if isinstance(value, dg.MetadataValue) else value


def merge_season_metadata(per_season: dict[str, dict]) -> dict:
    """One season's metadata as is; several seasons' side by side (a JSON table by season)."""
    if len(per_season) == 1:
        return next(iter(per_season.values()))
    table = {s: {k: _plain(v) for k, v in md.items()} for s, md in per_season.items()}
    return {
        "seasons": list(per_season),
        "per_season": dg.MetadataValue.json(json.loads(json.dumps(table, default=str))),
    }


def materialize_seasons(
    context: dg.AssetExecutionContext,
    database: Database,
    table: sa.Table,
    build: SeasonBuild,
    raw: RawData | None = None,
) -> dg.MaterializeResult:
    """For every season of the run, oldest first: ``rows, metadata = build(season)``, then replace
    that season's rows of ``table`` in one transaction (a failure keeps the previous rows) before
    the next season is built, since a season reads the previous one's stored rows. The metadata
    gains the row count first. Assets reading raw files pass ``raw`` to have it checked first.
    Each season is built and stored inside ``memory.season_build``, which gives back what it
    freed before the next."""
    seasons = run_seasons(context)
    if raw is not None:
        check_raw_has_seasons(raw, seasons)
    per_season = {}
    for season in seasons:
        with season_build():
            rows, metadata = build(season)
            n = database.replace_season(table, season, rows)
            del rows
        context.log.info(f"{table.name} {season}: {n} rows")
        per_season[season] = {"rows": n, **metadata}
    return dg.MaterializeResult(metadata=merge_season_metadata(per_season))
