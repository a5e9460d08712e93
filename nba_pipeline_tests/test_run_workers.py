"""The main job's scheduler: runs start once their prerequisites end, two at a time, a failure
stops new starts, a dead worker is a failure that says so, and workers die with the main job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil

from nba_pipeline import settings
from nba_pipeline.run import PlannedRun
from nba_pipeline.run_workers import PeakMemory, RunResult, execute_plan

SEASONS = ["2021-22", "2022-23", "2023-24"]


def _plan() -> list[PlannedRun]:
    """Two season stages (the second reads the first) and a run after both, unpartitioned; the
    assets are plain names, so a worker process imports no Dagster to run them."""
    a, b, c = "ingest", "features", "model"
    return [
        *(PlannedRun(0, (a,), s) for s in SEASONS),
        *(PlannedRun(1, (b,), s, frozenset({a})) for s in SEASONS),
        PlannedRun(2, (c,), None, frozenset({a, b})),
    ]


def _sleepy(run: PlannedRun) -> RunResult:
    """Stands in for a Dagster run: sleeps, fails for 2022-23's features, dies for 2023-24's; its
    run id is the process it ran in."""
    if run.stage == 1 and run.partition == "2023-24" and os.environ.get("TEST_WORKER_DIES"):
        os._exit(3)
    time.sleep(0.3)
    ok = not (run.stage == 1 and run.partition == "2022-23" and os.environ.get("TEST_RUN_FAILS"))
    return RunResult(ok, str(os.getpid()), 0.3, [], [] if ok else ["boom"])


def _execute(plan, workers, monkeypatch, **env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr("nba_pipeline.run_workers.execute", _sleepy)
    events: list[tuple[str, PlannedRun, object]] = []

    def on_end(run: PlannedRun, result: RunResult) -> None:
        events.extend([("end", run, time.monotonic()), ("result", run, result)])

    failures = execute_plan(
        plan, workers, lambda run: events.append(("start", run, time.monotonic())), on_end
    )
    return events, failures


def test_runs_start_after_their_prerequisites_and_two_run_at_once(monkeypatch):
    from nba_pipeline.run import prerequisites

    plan = _plan()
    events, failures = _execute(plan, 2, monkeypatch)
    assert failures == []
    start = {run: t for kind, run, t in events if kind == "start"}
    end = {run: t for kind, run, t in events if kind == "end"}
    assert set(start) == set(end) == set(plan)
    for run in plan:
        assert all(end[p] <= start[run] for p in prerequisites(run, plan)), run
    level = most = 0
    for kind, _, _ in events:
        level += {"start": 1, "end": -1}.get(kind, 0)
        most = max(most, level)
    assert most == 2


def test_one_worker_runs_the_plan_in_order_in_this_process(monkeypatch):
    plan = _plan()
    events, failures = _execute(plan, 1, monkeypatch)
    assert failures == []
    assert [run for kind, run, _ in events if kind == "start"] == plan


def test_after_a_failure_no_run_starts_and_the_failure_is_returned(monkeypatch):
    plan = _plan()
    events, failures = _execute(plan, 2, monkeypatch, TEST_RUN_FAILS="1")
    assert [(r.stage, r.partition, result.failed) for r, result in failures] == [(1, "2022-23", ["boom"])]
    failed_at = next(t for kind, run, t in events if kind == "end" and run == failures[0][0])
    assert all(t < failed_at for kind, _, t in events if kind == "start")
    assert plan[-1] not in [run for kind, run, _ in events]  # the model waits for every season


def test_a_worker_that_dies_is_a_failure_that_says_so(monkeypatch):
    plan = _plan()
    _, failures = _execute(plan, 2, monkeypatch, TEST_WORKER_DIES="1")
    # the run whose worker died, and any run in progress beside it (the pool breaks as a whole)
    assert (1, "2023-24") in {(run.stage, run.partition) for run, _ in failures}
    assert all("worker process died" in result.failed[0] for _, result in failures)


def test_runs_that_can_only_go_one_after_another_execute_in_this_process(monkeypatch):
    """The seasons in workers; then training and the forecasts, each waiting for the one before,
    in the main process once the workers have gone (an idle worker holds memory)."""
    plan = [*_plan(), PlannedRun(3, ("forecasts",), None, frozenset({"model"}))]
    events, failures = _execute(plan, 2, monkeypatch)
    assert failures == []
    ran_in = {run: int(result.run_id) for kind, run, result in events if kind == "result"}
    here = os.getpid()
    assert [run.keys for run in plan if ran_in[run] == here] == [("model",), ("forecasts",)]
    assert len({ran_in[run] for run in plan[:-2]}) == 2  # the season runs: two workers


def test_workers_die_with_the_main_job():
    """SIGKILL the parent alone (not its process group) while its workers are busy: they must not
    go on writing behind it."""
    script = textwrap.dedent(
        """
        import time
        from nba_pipeline.run_workers import _executor
        with _executor(2) as pool:
            for _ in range(2):
                pool.submit(eval, "print('busy', flush=True) or __import__('time').sleep(120)")
            time.sleep(120)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=settings.REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    assert [proc.stdout.readline().strip() for _ in range(2)] == ["busy", "busy"]
    workers = [c.pid for c in psutil.Process(proc.pid).children() if "spawn_main" in " ".join(c.cmdline())]
    assert len(workers) == 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in workers):
        assert time.monotonic() < deadline, "a worker outlived the main job"
        time.sleep(0.1)


def test_peak_memory_counts_the_children():
    with PeakMemory(interval_s=0.05) as memory:
        child = subprocess.Popen(
            [sys.executable, "-c", "b = b'x' * (300 * 2**20); import time; time.sleep(1)"]
        )
        child.wait(timeout=30)
    assert memory.peak_bytes > 300 * 2**20 + psutil.Process().memory_info().rss * 0.5
