"""The nightly schedule and the sensors, evaluated with Dagster's context builders against a
temporary instance: which seasons a night refreshes, that retraining waits for the whole night's
batch to succeed, and that a failed run's failed steps are logged."""

from __future__ import annotations

import datetime as dt
import logging

import dagster as dg
import pytest

from nba_pipeline.assets.automation import (
    NIGHTLY_TAG,
    log_failed_assets,
    nightly_refresh,
    retrain_after_refresh,
)

EASTERN = dt.timezone(dt.timedelta(hours=-5))
# A night while a shipped season is under way (replaying 2023-24): nothing to pull, the schedule
# refreshes itself.
NIGHT = "2024-03-01"
TICK = dt.datetime(2024, 3, 1, 4, 0, tzinfo=EASTERN)  # 04:00 US/Eastern
# A night of a season after the shipped files: it is pulled first, the refresh follows the pull.
PULL_NIGHT = "2026-11-24"
PULL_TICK = dt.datetime(2026, 11, 24, 4, 0, tzinfo=EASTERN)


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def seasons(nba_raw_dir) -> list[str]:
    """The season partitions (the real raw dir's seasons; the schedule needs more than one)."""
    from nba_pipeline.assets.partitions import season_partitions

    keys = list(season_partitions.get_partition_keys())
    assert len(keys) >= 3
    return keys


def _tick(instance: dg.DagsterInstance) -> list[dg.RunRequest]:
    """One tick as the daemon evaluates it (the requests are resolved against the repository)."""
    from nba_pipeline.definitions import defs

    # As a context manager: the context opens an instance of its own, closed on exit (otherwise it
    # stays the process's current instance and breaks the Definitions of later tests).
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=TICK, repository_def=defs.get_repository_def()
    ) as context:
        return list(nightly_refresh.evaluate_tick(context).run_requests or [])


def test_the_nightly_schedule_runs_season_data_at_4am_eastern_and_is_off_by_default():
    assert nightly_refresh.job_name == "season_data"
    assert (nightly_refresh.cron_schedule, nightly_refresh.execution_timezone) == (
        "0 4 * * *",
        "America/New_York",
    )
    assert nightly_refresh.default_status == dg.DefaultScheduleStatus.STOPPED


def test_a_first_night_refreshes_every_season_tagged_with_the_night(instance, seasons):
    requests = _tick(instance)
    assert [r.partition_key for r in requests] == seasons
    assert {r.tags[NIGHTLY_TAG] for r in requests} == {NIGHT}
    assert [r.run_key for r in requests] == [f"{NIGHT}:{s}" for s in seasons]


def test_a_later_night_refreshes_the_newest_season_and_the_seasons_never_materialized(instance, seasons):
    missing = seasons[1]
    for season in seasons:
        if season != missing:
            instance.report_runless_asset_event(
                dg.AssetMaterialization("tokenized_sequences", partition=season)
            )
    assert [r.partition_key for r in _tick(instance)] == [missing, seasons[-1]]


# --- retraining after the night's refresh --------------------------------------------------------


@dg.asset
def step_ok() -> None:
    pass


@dg.asset
def step_fails() -> None:
    raise RuntimeError("the season's data is broken")


TEST_DEFS = dg.Definitions(
    assets=[step_ok, step_fails],
    jobs=[
        dg.define_asset_job("season_data", selection=[step_ok]),
        dg.define_asset_job("broken", selection=[step_ok, step_fails]),
        dg.define_asset_job("pull_new_games", selection=[step_ok]),
    ],
    executor=dg.in_process_executor,
)


def _run(instance, job: str = "season_data", night: str | None = NIGHT) -> dg.ExecuteInProcessResult:
    tags = {NIGHTLY_TAG: night} if night else {}
    return TEST_DEFS.resolve_job_def(job).execute_in_process(
        instance=instance, tags=tags, raise_on_error=False
    )


def _on_success(instance, result: dg.ExecuteInProcessResult):
    context = dg.build_run_status_sensor_context(
        sensor_name="retrain_after_refresh",
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
        dagster_event=result.get_run_success_event(),
    )
    return retrain_after_refresh(context)


def test_retraining_requests_train_and_promote():
    assert retrain_after_refresh.job_name == "train_and_promote"


def test_retraining_is_requested_once_every_run_of_the_night_succeeded(instance):
    _run(instance)
    _run(instance, job="broken", night="2026-11-23")  # another night's failure does not count
    last = _run(instance)
    request = _on_success(instance, last)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == f"train:{NIGHT}" and request.tags[NIGHTLY_TAG] == NIGHT


def test_no_retraining_when_a_run_of_the_night_failed(instance):
    failed = _run(instance, job="broken")
    assert not failed.success
    skip = _on_success(instance, _run(instance))
    assert isinstance(skip, dg.SkipReason) and failed.run_id in skip.skip_message


def test_no_retraining_while_a_run_of_the_night_is_still_going(instance):
    pending = dg.DagsterRun(
        job_name="season_data", tags={NIGHTLY_TAG: NIGHT}, status=dg.DagsterRunStatus.STARTED
    )
    instance.add_run(pending)
    skip = _on_success(instance, _run(instance))
    assert isinstance(skip, dg.SkipReason) and "1 runs still going" in skip.skip_message


def test_a_run_outside_the_nightly_batch_triggers_no_retraining(instance):
    skip = _on_success(instance, _run(instance, night=None))
    assert isinstance(skip, dg.SkipReason) and "not a nightly run" in skip.skip_message


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_failed_run_is_logged_with_the_steps_that_failed(instance):
    failed = _run(instance, job="broken")
    context = dg.build_run_status_sensor_context(
        sensor_name="log_failed_assets",
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(failed.run_id),
        dagster_event=failed.get_run_failure_event(),
    ).for_run_failure()
    records = _Records()
    context.log.addHandler(records)  # the sensor's own logger (it does not propagate to caplog)
    log_failed_assets(context)
    assert any(failed.run_id in m and "['step_fails']" in m for m in records.messages), records.messages


# --- pulling the night's games first ------------------------------------------------------------


def _evaluate(schedule: dg.ScheduleDefinition, instance, tick: dt.datetime):
    from nba_pipeline.definitions import defs

    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=tick, repository_def=defs.get_repository_def()
    ) as context:
        return schedule.evaluate_tick(context)


def test_a_night_of_a_pulled_season_pulls_it_first_and_the_schedule_leaves_the_refresh_to_the_pull(
    instance, seasons
):
    from nba_pipeline.assets.automation import nightly_pull

    pull = _evaluate(nightly_pull, instance, PULL_TICK)
    assert [(r.partition_key, r.tags[NIGHTLY_TAG]) for r in pull.run_requests] == [("2026-27", PULL_NIGHT)]
    assert nightly_pull.job_name == "pull_new_games"
    refresh = _evaluate(nightly_refresh, instance, PULL_TICK)
    assert not refresh.run_requests and "pulled first" in refresh.skip_message


def test_a_night_replaying_a_shipped_season_pulls_nothing_and_refreshes_directly(instance, seasons):
    from nba_pipeline.assets.automation import nightly_pull

    pull = _evaluate(nightly_pull, instance, TICK)
    assert not pull.run_requests and "2023-24 has a shipped file" in pull.skip_message
    assert [r.partition_key for r in _evaluate(nightly_refresh, instance, TICK).run_requests] == seasons


def test_a_successful_nightly_pull_starts_that_nights_refresh(instance, seasons):
    from nba_pipeline.assets.automation import refresh_after_pull

    pulled = _run(instance, job="pull_new_games", night=PULL_NIGHT)
    context = dg.build_run_status_sensor_context(
        sensor_name="refresh_after_pull",
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(pulled.run_id),
        dagster_event=pulled.get_run_success_event(),
    )
    requests = refresh_after_pull(context)
    assert [r.partition_key for r in requests] == seasons
    assert {r.tags[NIGHTLY_TAG] for r in requests} == {PULL_NIGHT}  # the retrain waits for the pull too
    assert refresh_after_pull.job_name == "season_data"
