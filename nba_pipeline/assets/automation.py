"""Jobs, the nightly schedule and sensors.

Nightly (04:00 US/Eastern, after the last West-coast games):
1. ``nightly_refresh`` requests ``season_data`` runs: the newest season (new games), and every
   season partition that has never been materialized (a season file that just appeared in the raw
   directory is a new partition at the next definitions load);
2. when every run of that night's batch has succeeded, ``retrain_after_refresh`` requests
   ``train_and_promote``: trained_model, its blocking checks, promoted_model (skipped by Dagster
   when a blocking check fails) and evaluation_report;
3. ``log_failed_assets`` logs, for any failed run, which assets' steps failed.

Every run of a night carries the tag ``nba/nightly=<date>``: the batch is "every run with that
tag", so a step added to the night (e.g. pulling new games before the refresh: the schedule
requests the pull, a run-status sensor on its success returns ``refresh_requests``) joins the
batch by tagging its runs, and retraining still waits for all of them (``batch_not_done``).

Sensors and schedules need the Dagster daemon (``dagster dev`` starts one).
"""

import dagster as dg

from nba_pipeline.assets.partitions import season_partitions

NIGHTLY_TAG = "nba/nightly"

season_data_job = dg.define_asset_job(
    "season_data",
    selection=dg.AssetSelection.groups("ingest", "analytics", "model_inputs"),
    description="Ingest, analytics and model inputs of one season partition.",
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


@dg.schedule(
    job=season_data_job,
    cron_schedule="0 4 * * *",
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def nightly_refresh(context: dg.ScheduleEvaluationContext):
    return refresh_requests(context.instance, context.scheduled_execution_time.strftime("%Y-%m-%d"))


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


JOBS = [season_data_job, train_job]
SCHEDULES = [nightly_refresh]
SENSORS = [retrain_after_refresh, log_failed_assets]
