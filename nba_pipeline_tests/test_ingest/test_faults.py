"""What happens at night: a season's ingest killed mid-write (SQLite and PostgreSQL), a corrupt
SQLite file, the PostgreSQL server stopped mid-run. Each case ends with nothing lost and a rerun
completing. The runs are real: ``python -m nba_pipeline.run`` in a child process over a slice of
the real data, with a fault injected inside the season's write transaction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from nba_pipeline import settings
from nba_pipeline.db import make_engine
from nba_pipeline_tests.services import make_raw_slice

pytestmark = pytest.mark.slow
SEASON = "2022-23"
ASSETS = ["games", "plays"]

# The child runs the real command; FAULT picks what happens inside the plays write transaction,
# after the season's old rows are deleted and the first new rows inserted, before the commit.
CHILD = """
import os, signal, sys, time
from pathlib import Path
from nba_pipeline import db
insert = db._bulk_insert
def faulty(conn, table, cols, rows):
    if table.name != "plays" or not os.environ.get("FAULT"):
        return insert(conn, table, cols, rows)
    insert(conn, table, cols, rows[:500])
    Path(os.environ["MARKER"]).write_text("inside the transaction")
    if os.environ["FAULT"] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    # "wait": until the test has stopped the server (it says so in MARKER.stopped), at most 5 minutes
    deadline = time.monotonic() + 300
    while not Path(os.environ["MARKER"] + ".stopped").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return insert(conn, table, cols, rows[500:])
db._bulk_insert = faulty
from nba_pipeline.commands.run import main
sys.exit(main(["--partition", "{season}", "--select", *{assets!r}]))
"""


def _env(tmp: Path, raw: Path, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "NBA_RAW_DIR": str(raw),
        "NBA_PULLED_DIR": str(tmp / "pulled"),
        "NBA_DATABASE_URL": url,
        "NBA_DATA_DIR": str(tmp / "data"),
        "DAGSTER_HOME": str(tmp / "dagster_home"),
        "MARKER": str(tmp / "marker"),
    }


def _run(
    env: dict[str, str], fault: str = "", wait: bool = True
) -> subprocess.Popen | subprocess.CompletedProcess:
    code = CHILD.format(season=SEASON, assets=ASSETS)
    cmd = [sys.executable, "-c", code]
    env = {**env, "FAULT": fault}
    if not wait:
        return subprocess.Popen(cmd, env=env, cwd=settings.REPO_ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)  # fmt: skip
    return subprocess.run(cmd, env=env, cwd=settings.REPO_ROOT, capture_output=True, text=True, timeout=600)


def _snapshot(url: str) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent checksum of each table of the season."""
    engine = make_engine(url)
    out = {}
    with engine.connect() as conn:
        for table in ASSETS:
            df = pd.read_sql(sa.text(f"SELECT * FROM {table} WHERE season = :s"), conn, params={"s": SEASON})
            out[table] = (len(df), int(pd.util.hash_pandas_object(df, index=False).sum()))
    engine.dispose()
    return out


@pytest.fixture(scope="module")
def slices(nba_raw_dir, tmp_path_factory) -> tuple[Path, Path]:
    """Two raw dirs of the same season: 20 games, then 30 (a rebuild that changes the rows)."""
    base = tmp_path_factory.mktemp("fault_slices")
    return (
        make_raw_slice(nba_raw_dir, base / "raw20", {SEASON: 20}),
        make_raw_slice(nba_raw_dir, base / "raw30", {SEASON: 30}),
    )


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_season_ingest_killed_mid_write_keeps_the_previous_rows_and_a_rerun_completes(
    backend, slices, tmp_path, request
):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'nba.db'}"
    else:
        url = request.getfixturevalue("postgres_server").fresh_database("faults_kill")
    raw20, raw30 = slices
    first = _run(_env(tmp_path, raw20, url))
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    before = _snapshot(url)
    assert before["plays"][0] > 0

    killed = _run(_env(tmp_path, raw30, url), fault="kill")
    assert killed.returncode == -signal.SIGKILL
    assert (tmp_path / "marker").exists(), "the fault was never reached"
    assert _snapshot(url) == before  # the killed transaction left the previous season whole

    rerun = _run(_env(tmp_path, raw30, url))
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    after = _snapshot(url)
    assert after["plays"][0] > before["plays"][0]  # the 30-game season, whole


def test_a_corrupt_sqlite_file_fails_the_run_with_an_error_naming_it(slices, tmp_path):
    db_file = tmp_path / "nba.db"
    db_file.write_bytes(os.urandom(64 * 1024))
    run = _run(_env(tmp_path, slices[0], f"sqlite:///{db_file}"))
    assert run.returncode != 0
    out = run.stdout + run.stderr
    assert f"SQLite database {db_file} is corrupt or not a SQLite file" in out
    assert db_file.stat().st_size == 64 * 1024  # nothing overwritten: the file is the user's to recover


@pytest.mark.postgres
def test_postgres_stopped_mid_run_fails_clearly_and_a_rerun_after_restart_completes(
    postgres_server, slices, tmp_path
):
    url = postgres_server.fresh_database("faults_stop")
    raw20, raw30 = slices
    assert _run(_env(tmp_path, raw20, url)).returncode == 0
    before = _snapshot(url)

    proc = _run(_env(tmp_path, raw30, url), fault="wait", wait=False)
    try:
        deadline = time.monotonic() + 300
        while not (tmp_path / "marker").exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()[-3000:]
            time.sleep(0.2)
        postgres_server.stop(mode="immediate")  # a crash, mid-transaction
        (tmp_path / "marker.stopped").touch()  # the child waits for this, then goes on writing
        out, _ = proc.communicate(timeout=300)
    finally:
        postgres_server.start()
    assert proc.returncode not in (0, None)
    assert "FAILED [games, plays]" in out or "FAILED" in out, out[-3000:]
    assert (
        "server closed the connection" in out
        or "terminating connection" in out
        or "Connection refused" in out
    )
    assert _snapshot(url) == before  # the crash rolled the season's write back

    rerun = _run(_env(tmp_path, raw30, url))
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert _snapshot(url)["plays"][0] > before["plays"][0]
