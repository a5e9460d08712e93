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
    """Stands in for a Dagster run: sleeps, fails for 2022-23's features, dies for the model."""
    if run.partition is None and os.environ.get("TEST_WORKER_DIES"):
        os._exit(3)
    time.sleep(0.3)
    ok = not (run.stage == 1 and run.partition == "2022-23" and os.environ.get("TEST_RUN_FAILS"))
    return RunResult(ok, f"{run.stage}-{run.partition}", 0.3, [], [] if ok else ["boom"])


def _execute(plan, workers, monkeypatch, **env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr("nba_pipeline.run_workers.execute", _sleepy)
    events: list[tuple[str, PlannedRun, float]] = []
    failures = execute_plan(
        plan,
        workers,
        lambda run: events.append(("start", run, time.monotonic())),
        lambda run, result: events.append(("end", run, time.monotonic())),
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
        level += 1 if kind == "start" else -1
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
    ((run, result),) = failures
    assert run.partition is None and not result.success
    assert "worker process died" in result.failed[0]


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
