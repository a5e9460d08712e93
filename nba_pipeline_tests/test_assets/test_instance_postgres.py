"""The Dagster instance on PostgreSQL (``NBA_DAGSTER_PG_URL`` -> dagster.yaml, written by
``nba_pipeline.dagster_home``), with the data tables on the same server, and seasons in parallel.

Two seasons of a real slice are built twice on one server: serially (``nba-pipeline run``, one
season after the other, in process) with the instance there, which a schedule tick then reads back;
and as a Dagster asset backfill through ``dagster dev`` with the run queue admitting two runs at
once. Both give exactly the same rows (row count and checksum of every table). The peak number of
server connections is reported. ``nba-pipeline bench backfill`` does the same on every season and
prints the wall times."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from nba_pipeline import settings
from nba_pipeline_tests.services import ConnectionPeak, dagster_dev, make_raw_slice

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
SEASONS = ["2022-23", "2023-24"]
GAMES = 80  # RAPM scores its fits on the next week's stints: a season needs more than a week
GROUPS = ["ingest", "analytics"]


def _pipeline_env(server, base: Path, raw: Path, name: str, max_runs: int = 2) -> dict[str, str]:
    return {
        "NBA_RAW_DIR": str(raw),
        "NBA_PULLED_DIR": str(base / f"pulled_{name}"),
        "NBA_DATA_DIR": str(base / f"data_{name}"),
        "NBA_DATABASE_URL": server.fresh_database(f"nba_{name}"),
        "NBA_DAGSTER_PG_URL": server.fresh_database(f"dagster_{name}"),
        "NBA_MAX_CONCURRENT_RUNS": str(max_runs),
        "DAGSTER_HOME": str(base / f"home_{name}"),
    }


def _table_prints(url: str) -> dict[str, tuple[int, str]]:
    from nba_pipeline.backfill import season_asset_paths
    from nba_pipeline.db import metadata, table_fingerprint

    engine = sa.create_engine(url)
    try:
        names = [p[-1] for p in season_asset_paths(GROUPS) if p[-1] in metadata.tables]
        return {t: table_fingerprint(engine, metadata.tables[t]) for t in names}
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def slice_raw(nba_raw_dir, tmp_path_factory) -> Path:
    return make_raw_slice(
        nba_raw_dir, tmp_path_factory.mktemp("pg_instance") / "raw", dict.fromkeys(SEASONS, GAMES)
    )


def _run_main(env: dict[str, str], *args: str) -> None:
    """``nba-pipeline run ARGS`` in a process of its own with ``env``; fails the test, with its
    output, when it fails."""
    cmd = [sys.executable, "-m", "nba_pipeline.run", *args]
    out = subprocess.run(
        cmd, env={**os.environ, **env}, cwd=settings.REPO_ROOT, capture_output=True, text=True, timeout=900
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


@pytest.fixture(scope="module")
def serial_build(postgres_server, slice_raw, tmp_path_factory) -> dict[str, str]:
    """Both seasons, oldest first, by ``nba-pipeline run`` with the instance on PostgreSQL (and the
    first season's model inputs, which the schedule looks for)."""
    from nba_pipeline.backfill import season_asset_paths

    env = _pipeline_env(postgres_server, tmp_path_factory.mktemp("serial"), slice_raw, "serial")
    partitions = [arg for season in SEASONS for arg in ("--partition", season)]
    with ConnectionPeak(postgres_server.url) as peak:
        _run_main(env, "--select", *[p[-1] for p in season_asset_paths(GROUPS)], *partitions)
        _run_main(env, "--select", "tokenized_sequences", "--partition", SEASONS[0])
    print(f"\nserial build on PostgreSQL: peak server connections {peak.peak}")
    assert 0 < peak.peak <= 20, f"{peak.peak} connections at once: engines are not being reused"
    return env


def test_runs_and_a_schedule_tick_use_the_dagster_instance_on_postgresql(serial_build, monkeypatch):
    import dagster as dg

    from nba_pipeline.assets.automation import nightly_refresh
    from nba_pipeline.dagster_home import ensure_dagster_home

    for key, value in serial_build.items():
        monkeypatch.setenv(key, value)
    home = ensure_dagster_home()
    assert "postgres" in (home / "dagster.yaml").read_text()
    from nba_pipeline.definitions import defs

    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        done = instance.get_materialized_partitions(dg.AssetKey("team_game_features"))
        assert done == set(SEASONS)

        # A night replaying shipped seasons: the schedule refreshes itself (no pull first).
        tick_time = dt.datetime(2024, 3, 1, 4, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
        with dg.build_schedule_context(  # a context manager: it closes the instance it opens
            instance=instance, scheduled_execution_time=tick_time, repository_def=defs.get_repository_def()
        ) as context:
            requested = {r.partition_key for r in nightly_refresh.evaluate_tick(context).run_requests or []}

    # The tick read the materializations back from PostgreSQL: the season with model inputs (and
    # not the newest) is not refreshed again; the newest is, as is every season never built.
    assert SEASONS[0] not in requested and SEASONS[1] in requested, requested
    with sa.create_engine(serial_build["NBA_DAGSTER_PG_URL"]).connect() as conn:
        runs = conn.execute(sa.text("SELECT count(*) FROM runs")).scalar()
        events = conn.execute(sa.text("SELECT count(*) FROM event_logs")).scalar()
    assert runs >= 2 * len(SEASONS) and events > 0
    print(f"\nPostgreSQL instance: {runs} runs, {events} events")


def test_a_backfill_two_runs_at_a_time_gives_exactly_the_rows_of_the_serial_build(
    postgres_server, serial_build, slice_raw, tmp_path
):
    from nba_pipeline import backfill
    from nba_pipeline.dagster_home import instance_yaml

    env = _pipeline_env(postgres_server, tmp_path, slice_raw, "parallel", max_runs=2)
    home = Path(env["DAGSTER_HOME"])
    home.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        (home / "dagster.yaml").write_text(instance_yaml())
    paths = backfill.season_asset_paths(GROUPS)

    log = tmp_path / "dagster_dev.log"
    with dagster_dev(env, log, wait_s=300) as url, ConnectionPeak(postgres_server.url) as peak:
        backfill_id = backfill.launch(url, paths, SEASONS, title="test: two seasons in parallel")
        runs = backfill.wait(url, backfill_id, timeout_s=900, poll_s=2)

    print(f"\nparallel backfill: {len(runs)} runs, peak server connections {peak.peak}")
    assert backfill.max_overlap(runs) == 2, "the two seasons never ran at the same time"
    # seasons ran in order where they read each other: player_rapm and the features of the second
    # season wait for the first season's stints, shots, games and RAPM (declared dependencies)
    assert {r["partition"] for r in runs} >= set(SEASONS)
    serial, parallel = _table_prints(serial_build["NBA_DATABASE_URL"]), _table_prints(env["NBA_DATABASE_URL"])
    assert set(serial) >= {"games", "plays", "stints", "player_rapm", "team_game_features", "season_stats"}
    assert all(rows > 0 for rows, _ in serial.values()), serial
    assert parallel == serial
