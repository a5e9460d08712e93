"""The season partitions shared by every per-season asset (ingest, analytics, features).

Computed when the definitions load, from the ``pbp_<season>.parquet`` files in the raw directory
(``settings.raw_dir()``, i.e. ``NBA_RAW_DIR``): dropping a new season's file there makes a new
partition on the next load (CLI call, ``dagster dev`` reload), with no code change.
"""

from __future__ import annotations

import dagster as dg

from nba_pipeline import settings
from nba_pipeline.ingest.raw import seasons_in

SEASONS: list[str] = seasons_in(settings.raw_dir())

season_partitions = dg.StaticPartitionsDefinition(SEASONS)
