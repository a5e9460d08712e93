"""The main job: materialize what the data on disk supports, in process.

``nba-pipeline run`` (or ``python -m nba_pipeline.run``, the README's set-up command) walks the
asset graph in dependency order: every season asset once per season found in the raw directories
(the shipped files and the seasons already pulled), then training, promotion, evaluation and the
forecasts. Assets added to ``nba_pipeline/assets/`` later are picked up automatically, since the
order comes from ``nba_pipeline.definitions`` (:func:`nba_pipeline.run.plan_stages`). Options narrow a run:

    nba-pipeline run --partition 2023-24 --select games plays

It never talks to stats.nba.com: many machines cannot reach it, and the data on disk is enough
for every other asset. Pulling a newer season is explicit (``nba-pipeline pull``, the job
``pull_new_games`` and its schedule, or ``--select pulled_season --partition SEASON`` here).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from nba_pipeline.dagster_home import ensure_dagster_home
from nba_pipeline.run import plan_stages, run_outcome


def main(argv: list[str] | None = None) -> int:
    """Run the plan stage by stage; 0 when every run succeeded, 1 on a failure, 2 on an unknown season."""
    ap = argparse.ArgumentParser(
        prog="nba-pipeline run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--partition", action="append", help="season partition(s) to run (default: all)")
    ap.add_argument("--select", nargs="*", help="asset names to run (default: all but pulled_season)")
    args = ap.parse_args(argv)

    home = ensure_dagster_home()
    import dagster as dg

    from nba_pipeline.definitions import defs

    selected = {dg.AssetKey(s.split("/")) for s in args.select} if args.select else None
    from nba_pipeline.orphaned_runs import free_orphaned_runs, owner_tags

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
    t_all = time.perf_counter()
    n_runs = 0
    for i, (pdef, keys) in enumerate(stages):
        names = ", ".join(k.to_user_string() for k in keys)
        job_name = f"nba_main_stage_{i}"
        job = dg.define_asset_job(job_name, selection=dg.AssetSelection.assets(*keys))
        stage_defs = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
        job_def = stage_defs.resolve_job_def(job_name)
        parts: list[str | None] = [None] if pdef is None else keys_of[id(pdef)]
        if pdef is not None and args.partition:
            parts = [p for p in parts if p in args.partition]
        for part in parts:
            t0 = time.perf_counter()
            label = f"[{names}]" + (f" partition {part}" if part else "")
            print(f"materializing {label} ...", flush=True)
            res = job_def.execute_in_process(
                instance=instance, partition_key=part, tags=owner_tags(), raise_on_error=False
            )
            n_runs += 1
            dt = time.perf_counter() - t0
            _, skipped, failed = run_outcome(res)
            if not res.success:
                print(f"FAILED {label} after {dt:.1f}s (run {res.run_id})", file=sys.stderr, flush=True)
                for line in failed:
                    print(f"  {line}", file=sys.stderr, flush=True)
                return 1
            print(f"done {label} in {dt:.1f}s", flush=True)
            if skipped:
                print(f"  skipped (an upstream step produced nothing): {', '.join(skipped)}", flush=True)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux: KiB
    print(
        f"all {n_runs} runs succeeded in {time.perf_counter() - t_all:.1f}s, peak memory {peak_gib:.1f} GiB",
        flush=True,
    )
    return 0
