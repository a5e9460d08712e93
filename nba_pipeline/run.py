"""The main job's plan: which assets run together, which runs must end before another starts,
and what a run did.

``python -m nba_pipeline.run`` is the README's set-up command, so this module runs the command
``nba-pipeline run`` (:mod:`nba_pipeline.commands.run`) when executed; it defines no ``main`` of
its own, since every command lives in :mod:`nba_pipeline.commands` (one front door). The plan is
the computation, kept here; the command only runs it and prints.

It never talks to stats.nba.com: assets of ``NETWORK_GROUPS`` run only when named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # dagster is imported by the command, when it runs
    import dagster as dg

# Assets that need stats.nba.com: run only when named in --select.
NETWORK_GROUPS = frozenset({"sources"})
# Groups that start a run of their own after the assets they depend on. Dagster skips every step
# downstream of a step that produced nothing in the same run, and a run that trains nothing (no new
# data since the stored version) must still forecast with the model promoted before.
OWN_RUN_GROUPS = frozenset({"forecasts"})


def plan_stages(defs: dg.Definitions, selected: set | None) -> list[tuple[object, list]]:
    """Groups of assets to run together, in dependency order.

    An asset's stage is the latest stage of its parents, plus one when the parent has another
    partitions definition (unpartitioned vs per season), when the asset reads other seasons of the
    parent than its own (a declared partition mapping, say the stints of every earlier season), or
    when the asset's group runs on its own (``OWN_RUN_GROUPS``); the outputs of one multi-asset
    share a stage. Assets of one stage and one partitions definition run in one Dagster run (per
    partition), which orders them itself, and no run reads another season of its own stage, so the
    seasons of a stage can run at once (:func:`prerequisites`). Assets of ``NETWORK_GROUPS`` are
    left out unless ``selected`` names them.
    """
    graph = defs.resolve_asset_graph()
    keys = [
        k
        for k in graph.toposorted_asset_keys
        if graph.get(k).is_materializable
        and (graph.get(k).group_name not in NETWORK_GROUPS or (selected is not None and k in selected))
    ]

    def boundary(parent, child) -> bool:
        return (
            parent.partitions_def != child.partitions_def
            or _reads_other_partitions(child, parent.key)
            or (child.group_name in OWN_RUN_GROUPS and parent.group_name != child.group_name)
        )

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
                + [stage[p] + int(boundary(graph.get(p), node)) for p in node.parent_keys if p in stage]
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


def _reads_other_partitions(node, parent_key) -> bool:
    """Whether an asset declares that it reads partitions of ``parent_key`` other than its own."""
    import dagster as dg

    mapping = node.partition_mappings.get(parent_key)
    return mapping is not None and not isinstance(mapping, dg.IdentityPartitionMapping)


@dataclass(frozen=True)
class PlannedRun:
    """One Dagster run of the main job: the assets of one stage, for one season (or none)."""

    stage: int  # index in ``plan_stages``' list
    keys: tuple  # the stage's dg.AssetKey, in dependency order
    partition: str | None
    upstream: frozenset = frozenset()  # every asset the run's assets read, directly or not

    @property
    def label(self) -> str:
        names = ", ".join(k.to_user_string() for k in self.keys)
        return f"[{names}]" + (f" partition {self.partition}" if self.partition else "")


def plan_runs(
    defs: dg.Definitions, stages: list[tuple[object, list]], partitions: dict[int, list[str]]
) -> list[PlannedRun]:
    """The runs of ``plan_stages``' stages in serial order (stage by stage, oldest season first);
    ``partitions`` gives the seasons to run for each partitioned stage, by its index."""
    graph = defs.resolve_asset_graph()
    runs = []
    for i, (pdef, keys) in enumerate(stages):
        upstream = set().union(*(graph.get_ancestor_asset_keys(k) for k in keys))
        for part in [None] if pdef is None else partitions[i]:
            runs.append(PlannedRun(i, tuple(keys), part, frozenset(upstream - set(keys))))
    return runs


def prerequisites(run: PlannedRun, plan: list[PlannedRun]) -> list[PlannedRun]:
    """The runs of ``plan`` that must end before ``run`` starts.

    Between two season runs: every run of an earlier stage for the same season or an earlier one.
    A season asset reads only its own and earlier seasons, and never other seasons of its own stage
    (``plan_stages``), so this covers every read, declared or not; it waits more than the declared
    reads need (the earlier seasons of every earlier stage), which keeps it right for a read a new
    asset forgets to declare. A season run and an unpartitioned one: the run of an earlier stage
    with an asset the other reads (the players table waits for nothing, training for every
    season). Unpartitioned runs keep their order (the scorecard reads the ledger the forecasts
    write).
    """

    def needed(other: PlannedRun) -> bool:
        if other.stage >= run.stage:
            return False
        if run.partition is None and other.partition is None:
            return True
        if run.partition is None or other.partition is None:
            return not run.upstream.isdisjoint(other.keys)
        return other.partition <= run.partition

    return [other for other in plan if needed(other)]


def run_outcome(res: dg.ExecuteInProcessResult) -> tuple[list[str], list[str], list[str]]:
    """The assets a run materialized, the steps it skipped and its failures (step: message)."""
    done = sorted({e.asset_key.to_user_string() for e in res.get_asset_materialization_events()})
    skipped = sorted({e.step_key for e in res.all_events if e.event_type_value == "STEP_SKIPPED"})
    failed = [
        f"{e.step_key}: {e.event_specific_data.error.message.strip()}" for e in res.get_step_failure_events()
    ]
    return done, skipped, failed


if __name__ == "__main__":
    import sys

    from nba_pipeline.commands.run import main

    sys.exit(main())
