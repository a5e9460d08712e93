"""The Dagster entry point: every asset, check, job, schedule and resource of the project.

Assets and checks are collected from the modules of ``nba_pipeline.assets``; jobs, schedules and
sensors from ``nba_pipeline.assets.automation`` when present. Nothing heavy (torch) is imported here.
"""

from __future__ import annotations

import importlib
import pkgutil

import dagster as dg

from nba_pipeline import assets as assets_pkg
from nba_pipeline.resources import default_resources

_modules = [
    importlib.import_module(f"{assets_pkg.__name__}.{m.name}")
    for m in pkgutil.iter_modules(assets_pkg.__path__)
    if not m.name.startswith("_")
]

_jobs, _schedules, _sensors = [], [], []
for _m in _modules:
    _jobs += list(getattr(_m, "JOBS", []))
    _schedules += list(getattr(_m, "SCHEDULES", []))
    _sensors += list(getattr(_m, "SENSORS", []))

defs = dg.Definitions(
    assets=dg.load_assets_from_modules(_modules),
    asset_checks=dg.load_asset_checks_from_modules(_modules),
    jobs=_jobs,
    schedules=_schedules,
    sensors=_sensors,
    resources=default_resources(),
    executor=dg.in_process_executor,
)
