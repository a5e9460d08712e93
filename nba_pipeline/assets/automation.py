"""Jobs, the nightly schedules and sensors.

Nightly (04:00 US/Eastern, after the last West-coast games), every run tagged ``nba/nightly=<date>``:
1. ``nightly_pull`` pulls the current season's games finished since the last pull from
   stats.nba.com (job ``pull_new_games``, asset ``pulled_season``; cached responses are reused), when
   the current season is one the pipeline pulls (no shipped file); ``refresh_after_pull`` then
   requests the ``season_data`` runs. Where the current season has a shipped file (replaying past
   seasons) there is nothing to pull and ``nightly_refresh`` requests them itself;
2. the refresh: the newest season (new games), and every season partition never materialized (a
   season file that just appeared is a new partition at the next definitions load);
3. when every run of that night's batch has succeeded, ``retrain_after_refresh`` requests
   ``train_and_promote``: trained_model (trains nothing when the data did not change), its
   blocking checks, promoted_model (skipped by Dagster when a blocking check fails) and
   evaluation_report;
4. ``log_failed_assets`` logs, for any failed run, which assets' steps failed.

Sensors and schedules need the Dagster daemon (``dagster dev`` starts one).
"""

import datetime as dt

import dagster as dg

from nba_pipeline.assets.partitions import season_partitions
from nba_pipeline.assets.sources import current_season, pull_partitions, pulled_season

NIGHTLY_TAG = "nba/nightly"

season_data_job = dg.define_asset_job(
    "season_data",
    selection=dg.AssetSelection.groups("ingest", "analytics", "model_inputs"),
    description="Ingest, analytics and model inputs of one season partition.",
)
pull_job = dg.define_asset_job(
    "pull_new_games",
    selection=[pulled_season],
    partitions_def=pull_partitions,
    description="Pull a season's new games from stats.nba.com into the pulled raw dir.",
)
train_job = dg.define_asset_job(
    "train_and_promote",
    selection=dg.AssetSelection.assets("trained_model", "promoted_model", "evaluation_report"),
    description="Train a new version, run its blocking checks, promote it when they pass, evaluate.",
)


def partitions_to_refresh(all_keys: list[str], materialized: set[str]) -> list[str]:
    """The newest season always (it gains games every night) plus any never-materialized season."""
    todo = [k for k in all_keys if k not in materialized]
    if all_keys and all_keys[-1] not in todo:
        todo.append(all_keys[-1])
    return todo


def refresh_requests(instance: dg.DagsterInstance, night: str) -> list[dg.RunRequest]:
    """One ``season_data`` run per season to refresh, tagged with the night (one run per season and
    night: the run key). Whatever starts the night's refresh (the schedule today, a sensor after a
    pull step later) asks this."""
    keys = list(season_partitions.get_partition_keys())
    done = instance.get_materialized_partitions(dg.AssetKey("tokenized_sequences"))
    return [
        dg.RunRequest(run_key=f"{night}:{k}", partition_key=k, tags={NIGHTLY_TAG: night})
        for k in partitions_to_refresh(keys, set(done))
    ]


def batch_not_done(instance: dg.DagsterInstance, night: str) -> str | None:
    """Why the night's runs (every run tagged with it) are not all successful yet, or None."""
    runs = instance.get_runs(filters=dg.RunsFilter(tags={NIGHTLY_TAG: night}))
    unfinished = [r.run_id for r in runs if not r.is_finished]
    failed = [r.run_id for r in runs if r.is_finished and not r.is_success]
    if unfinished:
        return f"nightly batch {night}: {len(unfinished)} runs still going"
    if failed:
        return f"nightly batch {night}: runs {failed} failed; no retraining"
    return None


def season_to_pull(day: dt.date) -> str | None:
    """The season under way on ``day`` when the pipeline pulls it (no shipped file), else None."""
    season = current_season(day)
    return season if season in pull_partitions.get_partition_keys() else None


@dg.schedule(
    job=pull_job,
    cron_schedule="0 4 * * *",
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def nightly_pull(context: dg.ScheduleEvaluationContext):
    tick = context.scheduled_execution_time
    season = season_to_pull(tick.date())
    if season is None:
        return dg.SkipReason(f"{current_season(tick.date())} has a shipped file: nothing to pull")
    night = tick.strftime("%Y-%m-%d")
    return dg.RunRequest(run_key=f"{night}:pull:{season}", partition_key=season, tags={NIGHTLY_TAG: night})


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[pull_job],
    request_job=season_data_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def refresh_after_pull(context: dg.RunStatusSensorContext):
    night = context.dagster_run.tags.get(NIGHTLY_TAG)
    if night is None:
        return dg.SkipReason("not a nightly pull")
    return refresh_requests(context.instance, night)


@dg.schedule(
    job=season_data_job,
    cron_schedule="0 4 * * *",
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def nightly_refresh(context: dg.ScheduleEvaluationContext):
    tick = context.scheduled_execution_time
    if season_to_pull(tick.date()) is not None:
        return dg.SkipReason("the current season is pulled first: refresh_after_pull refreshes after it")
    return refresh_requests(context.instance, tick.strftime("%Y-%m-%d"))


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[season_data_job],
    request_job=train_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def retrain_after_refresh(context: dg.RunStatusSensorContext):
    night = context.dagster_run.tags.get(NIGHTLY_TAG)
    if night is None:
        return dg.SkipReason("not a nightly run")
    reason = batch_not_done(context.instance, night)
    if reason:
        return dg.SkipReason(reason)
    return dg.RunRequest(run_key=f"train:{night}", tags={NIGHTLY_TAG: night})


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING)
def log_failed_assets(context: dg.RunFailureSensorContext) -> None:
    steps = sorted({e.step_key for e in context.get_step_failure_events() if e.step_key})
    partition = context.dagster_run.tags.get("dagster/partition", "-")
    context.log.error(
        f"run {context.dagster_run.run_id} of job {context.dagster_run.job_name} (partition {partition}) "
        f"failed in steps {steps or ['(before any step)']}: {context.failure_event.message}"
    )


JOBS = [pull_job, season_data_job, train_job]
SCHEDULES = [nightly_pull, nightly_refresh]
SENSORS = [refresh_after_pull, retrain_after_refresh, log_failed_assets]
