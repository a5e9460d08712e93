"""The main job: materialize every asset of the project, in process.

``nba-pipeline run`` (or ``python -m nba_pipeline.run``) walks the asset graph in dependency
order and materializes every asset: season-partitioned ones once per season found in the raw
directories, unpartitioned ones once. Assets added to ``nba_pipeline/assets/`` later are picked up
automatically, since the order comes from ``nba_pipeline.definitions``. Options narrow a run:

    nba-pipeline run --partition 2023-24 --select games plays
"""

from __future__ import annotations

import argparse
import sys
import time

from nba_pipeline.dagster_home import ensure_dagster_home


def _stages(defs, selected: set | None) -> list[tuple[object, list]]:
    """Groups of assets to run together, in dependency order.

    An asset's stage is the latest stage of its parents, plus one when the parent has another
    partitions definition (unpartitioned vs per season), and the outputs of one multi-asset share a
    stage; assets of one stage and one partitions definition run in one Dagster run (per
    partition), which orders them itself.
    """
    graph = defs.resolve_asset_graph()
    keys = [k for k in graph.toposorted_asset_keys if graph.get(k).is_materializable]
    # Keys of one multi-asset execute together, so they share the latest of their stages: iterate
    # to a fixed point (stages only grow and are bounded by the number of keys).
    stage: dict = dict.fromkeys(keys, 0)
    changed = True
    while changed:
        changed = False
        for k in keys:
            node = graph.get(k)
            s = max(
                [stage[k]]
                + [
                    stage[p] + (0 if graph.get(p).partitions_def == node.partitions_def else 1)
                    for p in node.parent_keys
                    if p in stage
                ]
                + [stage[m] for m in node.execution_set_asset_keys if m in stage]
            )
            if s != stage[k]:
                stage[k], changed = s, True
    if selected is not None:
        selected = set().union(*(graph.get(k).execution_set_asset_keys for k in selected if graph.has(k)))
    groups: dict[tuple[int, int], tuple[object, list]] = {}
    pdefs: list = []
    for k in keys:
        if selected is not None and k not in selected:
            continue
        pdef = graph.get(k).partitions_def
        if pdef not in pdefs:
            pdefs.append(pdef)
        groups.setdefault((stage[k], pdefs.index(pdef)), (pdef, []))[1].append(k)
    return [groups[g] for g in sorted(groups)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--partition", action="append", help="season partition(s) to run (default: all)")
    ap.add_argument("--select", nargs="*", help="asset names to run (default: all)")
    args = ap.parse_args(argv)

    home = ensure_dagster_home()
    import dagster as dg

    from nba_pipeline.definitions import defs

    selected = {dg.AssetKey(s.split("/")) for s in args.select} if args.select else None
    instance = dg.DagsterInstance.get()
    print(f"DAGSTER_HOME={home}", flush=True)
    stages = _stages(defs, selected)
    if not stages:
        print("nothing to materialize", flush=True)
        return 1
    t_all = time.perf_counter()
    n_runs = 0
    for i, (pdef, keys) in enumerate(stages):
        names = ", ".join(k.to_user_string() for k in keys)
        job_name = f"nba_main_stage_{i}"
        job = dg.define_asset_job(job_name, selection=dg.AssetSelection.assets(*keys))
        stage_defs = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
        job_def = stage_defs.resolve_job_def(job_name)
        if pdef is None:
            parts: list[str | None] = [None]
        else:
            parts = list(pdef.get_partition_keys(dynamic_partitions_store=instance))
            if args.partition:
                unknown = sorted(set(args.partition) - set(parts))
                if unknown:
                    print(f"unknown partition(s) {unknown}; known: {parts}", file=sys.stderr)
                    return 2
                parts = [p for p in parts if p in args.partition]
        for part in parts:
            t0 = time.perf_counter()
            label = f"[{names}]" + (f" partition {part}" if part else "")
            print(f"materializing {label} ...", flush=True)
            res = job_def.execute_in_process(instance=instance, partition_key=part, raise_on_error=False)
            n_runs += 1
            dt = time.perf_counter() - t0
            if not res.success:
                print(f"FAILED {label} after {dt:.1f}s (run {res.run_id})", file=sys.stderr, flush=True)
                return 1
            print(f"done {label} in {dt:.1f}s", flush=True)
    print(f"all {n_runs} runs succeeded in {time.perf_counter() - t_all:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
