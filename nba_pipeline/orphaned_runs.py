"""Runs left behind by a main job that died (killed, machine down): found and freed.

The main job executes its runs in its own process (``execute_in_process``). When that process
dies, Dagster never hears of it: the run stays ``STARTED`` in the instance and keeps the
concurrency slots its steps claimed. The ``training`` pool has one slot, so every later main job
then waits at ``trained_model`` with "Step blocked by limit for pool training", forever (no daemon
runs the run monitoring that would free it).

So each run of the main job carries the identity of the process that executes it
(:func:`owner_tags`: host, pid and the pid's start time, since pids are reused), and the next main
job, before it starts, marks the runs of dead owners on this host failed and frees their slots
(:func:`free_orphaned_runs`). Runs of a living process, of another host, or launched by Dagster's
daemon or UI (no owner tags; the daemon's run monitoring looks after those) are left alone. Slots
still held by a run that has finished are freed too: a finished run never needs one.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dagster as dg
from dagster._core.storage.dagster_run import FINISHED_STATUSES, NOT_FINISHED_STATUSES

OWNER_HOST, OWNER_PID, OWNER_START = "nba_pipeline/host", "nba_pipeline/pid", "nba_pipeline/pid_start"


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, field 22 of /proc/PID/stat), or None
    when it does not exist or has ended: a zombie, whose parent died before it and which waits for
    init to reap it, as the worker processes of a killed main job may wait for a long time. Where
    /proc is absent, the pid's existence alone ("?")."""
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            text = stat.read_text()
        except OSError:
            return None
        # the command name (field 2) may hold spaces and parentheses: split after its last ')'
        fields = text[text.rindex(")") + 2 :].split()  # from field 3, the state
        return None if fields[0] in ("Z", "X") else fields[19]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # exists, owned by someone else
    return "?"


def owner_tags() -> dict[str, str]:
    """Tags naming this process as the owner of a run it executes in process."""
    pid = os.getpid()
    return {OWNER_HOST: socket.gethostname(), OWNER_PID: str(pid), OWNER_START: _process_start(pid) or "?"}


def owner_is_dead(tags: dict[str, str]) -> bool:
    """True only when the tags name a process of this host that no longer runs (its pid is gone,
    or now belongs to a process started at another time)."""
    if tags.get(OWNER_HOST) != socket.gethostname() or not tags.get(OWNER_PID, "").isdigit():
        return False
    started = _process_start(int(tags[OWNER_PID]))
    return started is None or started not in (tags.get(OWNER_START), "?")


def free_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the unfinished runs whose owner process died, free the concurrency slots they
    and any finished run still hold, and say what was freed (one line each)."""
    freed = []
    unfinished = instance.get_runs(filters=dg.RunsFilter(statuses=NOT_FINISHED_STATUSES))
    for run in unfinished:
        if not owner_is_dead(run.tags):
            continue
        message = (
            f"the process that ran it (pid {run.tags[OWNER_PID]} on {run.tags[OWNER_HOST]}) is gone: "
            "killed or stopped before the run ended"
        )
        instance.report_run_failed(run, message=f"Marked failed by the next main job: {message}.")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        freed.append(f"run {run.run_id} ({run.job_name}, {run.status.value}) marked failed: {message}")
    if instance.event_log_storage.supports_global_concurrency_limits:
        held = instance.event_log_storage.get_concurrency_run_ids()
        for run_id in sorted(held):
            run = instance.get_run_by_id(run_id)
            if run is None or run.status in FINISHED_STATUSES:
                instance.event_log_storage.free_concurrency_slots_for_run(run_id)
                state = "no longer exists" if run is None else f"ended ({run.status.value})"
                freed.append(f"concurrency slots of run {run_id} freed: the run {state}")
    return freed
