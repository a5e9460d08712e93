"""The main job: materialize what the data on disk supports, without a Dagster daemon.

``nba-pipeline run`` (or ``python -m nba_pipeline.run``, the README's set-up command) walks the
asset graph in dependency order: every season asset once per season found in the raw directories
(the shipped files and the seasons already pulled), then training, promotion, evaluation and the
forecasts. Assets added to ``nba_pipeline/assets/`` later are picked up automatically, since the
order comes from ``nba_pipeline.definitions`` (:func:`nba_pipeline.run.plan_stages`). Options
narrow a run:

    nba-pipeline run --partition 2023-24 --select games plays

By default two runs execute at a time (one on a single core), in worker processes, each run as
soon as the runs it reads from have ended: on 2 cores the main job over the nine shipped seasons
takes about two thirds of the time of one run after another (the seasons about half; training is
one run), and a season run hands the memory it freed back, so two at once stay within the memory
budget (``nba_pipeline.run_workers``; figures in the README). Runs that can only go one after
another (training, then the forecasts; a plan of one run) execute in this process, as every run
does with ``--runs-at-once 1``.

It never talks to stats.nba.com: many machines cannot reach it, and the data on disk is enough
for every other asset. Pulling a newer season is explicit (``nba-pipeline pull``, the job
``pull_new_games`` and its schedule, or ``--select pulled_season --partition SEASON`` here).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from nba_pipeline.dagster_home import ensure_dagster_home
from nba_pipeline.run import PlannedRun, plan_runs, plan_stages
from nba_pipeline.run_workers import PeakMemory, RunResult, execute_plan

# Two runs at once on two cores or more: the main job in about two thirds of the time, within the
# memory budget (figures in the README).
DEFAULT_RUNS_AT_ONCE = min(2, os.cpu_count() or 1)


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number >= 1, not {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    """Execute the plan; 0 when every run succeeded, 1 on a failure, 2 on an unknown season."""
    ap = argparse.ArgumentParser(
        prog="nba-pipeline run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--partition", action="append", help="season partition(s) to run (default: all)")
    ap.add_argument("--select", nargs="*", help="asset names to run (default: all but pulled_season)")
    ap.add_argument(
        "--runs-at-once",
        type=_count,
        default=DEFAULT_RUNS_AT_ONCE,
        metavar="N",
        help=f"runs to execute at once, in worker processes (default {DEFAULT_RUNS_AT_ONCE} here: two, one "
        "on a single core); 1 runs them one after another in this process",
    )
    args = ap.parse_args(argv)

    home = ensure_dagster_home()
    import dagster as dg

    from nba_pipeline.definitions import defs

    selected = {dg.AssetKey(s.split("/")) for s in args.select} if args.select else None
    from nba_pipeline.orphaned_runs import free_orphaned_runs

    instance = dg.DagsterInstance.get()
    print(f"DAGSTER_HOME={home}", flush=True)
    for line in free_orphaned_runs(instance):
        print(f"freed what a dead main job left: {line}", flush=True)
    stages = plan_stages(defs, selected)
    if not stages:
        print("nothing to materialize", flush=True)
        return 1
    keys_of = {
        id(pdef): list(pdef.get_partition_keys(dynamic_partitions_store=instance))
        for pdef, _ in stages
        if pdef is not None
    }
    known = sorted(set().union(*keys_of.values()))
    unknown = sorted(set(args.partition or []) - set(known))
    if unknown:
        from nba_pipeline.resources import RawData

        dirs = ", ".join(str(d) for d in RawData().dirs())
        print(
            f"no data for season(s) {unknown}: the seasons with a play-by-play file in {dirs} are {known} "
            "(pull a newer season first: nba-pipeline pull --season SEASON)",
            file=sys.stderr,
        )
        return 2
    partitions = {
        i: [p for p in keys_of[id(pdef)] if not args.partition or p in args.partition]
        for i, (pdef, _) in enumerate(stages)
        if pdef is not None
    }
    plan = plan_runs(defs, stages, partitions)

    def on_start(run: PlannedRun) -> None:
        print(f"materializing {run.label} ...", flush=True)

    def on_end(run: PlannedRun, result: RunResult) -> None:
        if not result.success:
            failed = f"FAILED {run.label} after {result.seconds:.1f}s (run {result.run_id})"
            print(failed, file=sys.stderr, flush=True)
            for line in result.failed:
                print(f"  {line}", file=sys.stderr, flush=True)
            return
        print(f"done {run.label} in {result.seconds:.1f}s", flush=True)
        if result.skipped:
            print(f"  skipped (an upstream step produced nothing): {', '.join(result.skipped)}", flush=True)

    t_all = time.perf_counter()
    with PeakMemory() as memory:
        failures = execute_plan(plan, args.runs_at_once, on_start, on_end)
    if failures:
        return 1
    print(
        f"all {len(plan)} runs succeeded in {time.perf_counter() - t_all:.1f}s "
        f"({args.runs_at_once} at a time), peak memory {memory.peak_bytes / 2**30:.1f} GiB",
        flush=True,
    )
    return 0
