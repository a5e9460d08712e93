"""Runs of a dead main job: marked failed and their concurrency slots freed; nothing else touched."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

from nba_pipeline.orphaned_runs import (
    OWNER_HOST,
    OWNER_PID,
    OWNER_START,
    free_orphaned_runs,
    owner_is_dead,
    owner_tags,
)


@pytest.fixture
def instance(tmp_path):
    with dg.DagsterInstance.local_temp(
        str(tmp_path), overrides={"concurrency": {"pools": {"default_limit": 1}}}
    ) as inst:
        yield inst


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _run(instance, tags: dict[str, str], status=DagsterRunStatus.STARTED) -> str:
    run_id = str(uuid.uuid4())
    instance.add_run(DagsterRun(job_name="nba_main_stage_4", run_id=run_id, status=status, tags=tags))
    return run_id


def test_owner_tags_name_a_living_process_and_a_finished_one_is_dead():
    assert not owner_is_dead(owner_tags())
    dead = {**owner_tags(), OWNER_PID: str(_dead_pid())}
    assert owner_is_dead(dead)
    assert not owner_is_dead({**dead, OWNER_HOST: "another-host"})  # can't tell: left alone
    assert not owner_is_dead({})  # launched by the daemon or the UI: theirs to monitor
    # a reused pid: this process, but started at another time than the run's owner
    assert owner_is_dead({**owner_tags(), OWNER_START: "1"})


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="zombies are read from /proc")
def test_an_owner_that_ended_but_was_not_reaped_is_dead():
    """The workers of a killed main job are nobody's children until init reaps them (which may
    take long): their /proc entry, a zombie's, stays with the same start time."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    stat = Path(f"/proc/{proc.pid}/stat")
    fields = stat.read_text().rsplit(")", 1)[1].split()  # from field 3, the state
    tags = {**owner_tags(), OWNER_PID: str(proc.pid), OWNER_START: fields[19]}
    while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
        time.sleep(0.01)  # ended, not yet waited for
    assert owner_is_dead(tags)
    proc.wait()


def test_a_dead_owners_run_is_marked_failed_and_its_training_slot_freed(instance):
    storage = instance.event_log_storage
    dead = _run(instance, {OWNER_HOST: socket.gethostname(), OWNER_PID: str(_dead_pid()), OWNER_START: "1"})
    alive = _run(instance, owner_tags())
    daemons = _run(instance, {})  # no owner tags: launched by the daemon or the UI
    storage.set_concurrency_slots("training", 1)
    assert storage.claim_concurrency_slot("training", dead, "trained_model").is_claimed
    assert not storage.claim_concurrency_slot("training", alive, "trained_model").is_claimed  # blocked

    lines = free_orphaned_runs(instance)

    assert len(lines) == 1 and dead in lines[0] and "marked failed" in lines[0]
    assert f"pid {os.getpid()}" not in lines[0]
    assert instance.get_run_by_id(dead).status == DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(alive).status == DagsterRunStatus.STARTED
    assert instance.get_run_by_id(daemons).status == DagsterRunStatus.STARTED
    assert storage.claim_concurrency_slot("training", alive, "trained_model").is_claimed
    assert free_orphaned_runs(instance) == []  # nothing left to free


def test_slots_still_held_by_a_finished_run_are_freed(instance):
    storage = instance.event_log_storage
    finished = _run(instance, {}, status=DagsterRunStatus.SUCCESS)
    storage.set_concurrency_slots("training", 1)
    assert storage.claim_concurrency_slot("training", finished, "trained_model").is_claimed

    (line,) = free_orphaned_runs(instance)

    assert finished in line and "SUCCESS" in line
    assert storage.get_concurrency_info("training").active_slot_count == 0
