"""The season partitions shared by every per-season asset (ingest, analytics, features).

Computed when the definitions load, from the ``pbp_<season>.parquet`` files in the raw directory
(``settings.raw_dir()``, i.e. ``NBA_RAW_DIR``): dropping a new season's file there makes a new
partition on the next load (CLI call, ``dagster dev`` reload), with no code change.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable

import dagster as dg

from nba_pipeline import settings
from nba_pipeline.ingest.raw import seasons_in

SEASONS: list[str] = seasons_in(settings.raw_dir())

season_partitions = dg.StaticPartitionsDefinition(SEASONS)

# A run over a range of seasons (``--partition-range 2015-16...2023-24``, a backfill) executes each
# season asset once, for every season of the range in chronological order.
# The policy is marked beta in Dagster 1.13; its warning would print on every definitions load.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)
season_backfill = dg.BackfillPolicy.single_run()


def run_seasons(context: dg.AssetExecutionContext) -> list[str]:
    """The seasons of this run, oldest first (seasons build on the previous one: priors, RAPM)."""
    return sorted(context.partition_keys)


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


def for_each_season(
    context: dg.AssetExecutionContext, compute: Callable[[str], dg.MaterializeResult]
) -> dg.MaterializeResult:
    """Run ``compute(season)`` for every season of the run and merge the metadata."""
    results = {season: compute(season) for season in run_seasons(context)}
    if len(results) == 1:
        return next(iter(results.values()))
    return dg.MaterializeResult(
        metadata=merge_season_metadata({s: dict(r.metadata or {}) for s, r in results.items()})
    )
