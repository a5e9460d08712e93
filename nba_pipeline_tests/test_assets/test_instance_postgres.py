"""The Dagster instance on PostgreSQL: runs, event logs and schedule state in a real server
(``NBA_DAGSTER_PG_URL`` -> dagster.yaml, written by ``nba_pipeline.dagster_home``), with the data
tables on the same server. A season runs there and a schedule tick reads its materializations
back from it; the peak number of server connections is reported."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from nba_pipeline_tests.test_assets.conftest import make_raw_slice

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
SEASON = "2022-23"


class ConnectionPeak:
    """Samples pg_stat_activity while a block runs: the most client connections seen at once."""

    def __init__(self, server_url: str) -> None:
        self.engine = sa.create_engine(server_url, poolclass=sa.pool.NullPool)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        sql = sa.text("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
        while not self._stop.is_set():
            with self.engine.connect() as conn:
                self.peak = max(self.peak, int(conn.execute(sql).scalar()) - 1)  # less the sampler's own
            self._stop.wait(0.2)

    def __enter__(self) -> ConnectionPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()


def test_a_season_and_a_schedule_tick_run_with_the_dagster_instance_on_postgresql(
    postgres_server, nba_raw_dir, tmp_path, monkeypatch
):
    import dagster as dg

    from nba_pipeline.assets.automation import nightly_refresh
    from nba_pipeline.dagster_home import ensure_dagster_home
    from nba_pipeline.definitions import defs

    instance_url = postgres_server.fresh_database("dagster_instance")
    data_url = postgres_server.fresh_database("nba_data")
    raw = make_raw_slice(nba_raw_dir, tmp_path / "raw", {SEASON: 60})
    for key, value in {
        "NBA_DAGSTER_PG_URL": instance_url,
        "NBA_DATABASE_URL": data_url,
        "NBA_RAW_DIR": str(raw),
        "NBA_DATA_DIR": str(tmp_path / "data"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }.items():
        monkeypatch.setenv(key, value)
    home = ensure_dagster_home()
    assert "postgres" in (home / "dagster.yaml").read_text()

    with ConnectionPeak(postgres_server.url) as peak, dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        season = defs.resolve_job_def("season_data").execute_in_process(
            partition_key=SEASON, instance=instance
        )
        assert season.success

        # A night replaying shipped seasons: the schedule refreshes itself (no pull first).
        tick_time = dt.datetime(2024, 3, 1, 4, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
        with dg.build_schedule_context(  # a context manager: it closes the instance it opens
            instance=instance, scheduled_execution_time=tick_time, repository_def=defs.get_repository_def()
        ) as context:
            requested = {r.partition_key for r in nightly_refresh.evaluate_tick(context).run_requests or []}

    # The tick read the season's materializations back from PostgreSQL: the materialized (and not
    # newest) season is not refreshed again, every season never materialized is.
    assert SEASON not in requested
    assert requested, "the tick requested no run"
    with sa.create_engine(instance_url).connect() as conn:
        runs = conn.execute(sa.text("SELECT count(*) FROM runs")).scalar()
        events = conn.execute(sa.text("SELECT count(*) FROM event_logs")).scalar()
    assert runs >= 1 and events > 0
    print(f"\nPostgreSQL instance: {runs} run(s), {events} events; peak server connections {peak.peak}")
    assert 0 < peak.peak <= 20, f"{peak.peak} connections at once: engines are not being reused"
