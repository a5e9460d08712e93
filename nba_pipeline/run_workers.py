"""The main job's runs, executed by worker processes, each as soon as the runs it reads from end.

Most of a season's work is single-threaded pandas, so one process keeps about one core busy.
``nba-pipeline run`` therefore starts two worker processes (``--runs-at-once N``: N) and gives each
the next run whose prerequisites have ended (:func:`nba_pipeline.run.prerequisites`): two seasons
build at once, and the tables, model inputs and model are those of a serial run. Each worker holds
a season's tables in memory while it builds them and gives back what it freed
(:func:`nba_pipeline.memory.season_build`, and after each run), so two at once stay within the
memory budget. With one worker the runs execute in the main job's own process, one after another.

A worker dies with the main job (on Linux the kernel kills it when its parent goes), so a main job
that is killed leaves no process writing behind it; the runs a worker executes carry its pid
(:func:`nba_pipeline.orphaned_runs.owner_tags`), and the next main job marks them failed.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import functools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import psutil

from nba_pipeline.memory import give_back_freed
from nba_pipeline.run import PlannedRun, prerequisites, run_outcome

PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(frozen=True)
class RunResult:
    """What one run did: its Dagster run id, wall seconds, skipped steps and failures."""

    success: bool
    run_id: str
    seconds: float
    skipped: list[str]
    failed: list[str]


@functools.cache
def _stage_job(stage: int, keys: tuple):
    """The Dagster job of one stage's assets, built once per process."""
    import dagster as dg

    from nba_pipeline.definitions import defs

    name = f"nba_main_stage_{stage}"
    job = dg.define_asset_job(name, selection=dg.AssetSelection.assets(*keys))
    return dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def(name)


@functools.cache
def _dagster_instance():
    """The instance of DAGSTER_HOME, opened once per process."""
    import dagster as dg

    return dg.DagsterInstance.get()


def execute(run: PlannedRun) -> RunResult:
    """Execute one planned run in this process, tagged with this process as its owner."""
    from nba_pipeline.orphaned_runs import owner_tags

    job, instance = _stage_job(run.stage, run.keys), _dagster_instance()
    t0 = time.perf_counter()
    res = job.execute_in_process(
        instance=instance, partition_key=run.partition, tags=owner_tags(), raise_on_error=False
    )
    _, skipped, failed = run_outcome(res)
    give_back_freed()  # training's and the forecasts' too, before the next run in this process
    return RunResult(res.success, res.run_id, time.perf_counter() - t0, skipped, failed)


def _die_with(parent_pid: int) -> None:
    """Worker initializer: be killed when the main job's process goes (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent went before the request took effect
        os._exit(1)


class _InProcess(cf.Executor):
    """One worker: the main job's own process, each run to its end when submitted."""

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future, as a pool would
            future.set_exception(exc)
        return future


def _executor(workers: int) -> cf.Executor:
    if workers == 1:
        return _InProcess()
    return cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),  # no fork of a process with Dagster's threads
        initializer=_die_with,
        initargs=(os.getpid(),),
    )


def execute_plan(
    plan: list[PlannedRun],
    workers: int,
    on_start: Callable[[PlannedRun], None],
    on_end: Callable[[PlannedRun, RunResult], None],
) -> list[tuple[PlannedRun, RunResult]]:
    """Execute the plan, at most ``workers`` runs at once, each run once its prerequisites ended
    in success, earlier runs of the plan first. After a failure no run starts; the runs in progress
    end. Returns the failed runs (a worker that died is a failure that says so).

    Once the runs left can only go one after another (each waits for the one before it: training,
    then the forecasts), the workers exit and those runs execute in this process: an idle worker
    holds about 0.5 GiB, and training itself 1.6 GiB."""
    needs = {run: set(prerequisites(run, plan)) for run in plan}
    waiting, running, succeeded, failures = list(plan), {}, set(), []
    pool = _executor(1 if _one_after_another(waiting, needs) else workers)
    try:
        while True:
            if not running and not isinstance(pool, _InProcess) and _one_after_another(waiting, needs):
                pool.shutdown()
                pool = _InProcess()
            ready = [] if failures else [r for r in waiting if needs[r] <= succeeded]
            for run in ready[: workers - len(running)]:
                waiting.remove(run)
                on_start(run)
                running[pool.submit(execute, run)] = run
            if not running:
                return failures
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in done:
                run = running.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool as exc:
                    result = RunResult(False, "-", 0.0, [], [f"its worker process died ({exc})"])
                on_end(run, result)
                if result.success:
                    succeeded.add(run)
                else:
                    failures.append((run, result))
    finally:
        pool.shutdown()


def _one_after_another(runs: list[PlannedRun], needs: dict[PlannedRun, set[PlannedRun]]) -> bool:
    """Whether each of ``runs`` (in plan order) waits for the one before it."""
    return all(before in needs[run] for before, run in zip(runs, runs[1:], strict=False))


class PeakMemory:
    """The most memory this process and its children held together (resident set, sampled every
    ``interval_s``), while the ``with`` block runs."""

    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval_s, self.peak_bytes = interval_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while True:
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # ended between the listing and the reading
                    total += proc.memory_info().rss
            self.peak_bytes = max(self.peak_bytes, total)
            if self._stop.wait(self.interval_s):
                return

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
