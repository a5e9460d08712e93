"""Shared fixtures. Real data is read from ../shared/data/nba through ``nba_raw_dir`` alone.

Every test session writes into a temporary data dir and Dagster home, whatever the shell
exported (a developer's ``DAGSTER_HOME`` is usually the repository's ``data/dagster_home``): the
variables are set here, before any Dagster instance exists. A test that needs its own (a fresh
pipeline, a PostgreSQL instance) sets them with ``monkeypatch``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from nba_pipeline import settings
from nba_pipeline.dagster_home import ensure_dagster_home

SESSION_DIR = Path(tempfile.mkdtemp(prefix="nba_pipeline_tests_"))
atexit.register(shutil.rmtree, SESSION_DIR, ignore_errors=True)
# Derived from the data dir unless set: unset them so nothing points back at a real deployment.
for _var in ("NBA_DATABASE_URL", "NBA_MODELS_DIR", "NBA_PULLED_DIR", "NBA_DAGSTER_PG_URL"):
    os.environ.pop(_var, None)
os.environ["NBA_DATA_DIR"] = str(SESSION_DIR / "data")
os.environ["DAGSTER_HOME"] = str(SESSION_DIR / "dagster_home")
# the home needs its dagster.yaml (telemetry off) before any Dagster instance is created
ensure_dagster_home()


@pytest.fixture(autouse=True)
def _no_dagster_instance_left_current(request):
    """A Dagster instance entered and never exited (e.g. ``build_schedule_context(...)`` not used
    as a context manager: it opens an instance of its own) stays the process's current one; once
    it is collected, every later ``Definitions`` fails with "undefined DagsterInstance weakref".
    Fail the test that leaves it, not the innocent ones after it."""
    yield
    if "dagster" not in sys.modules:
        return
    from dagster._core.storage.defs_state import base as defs_state  # Dagster's own context variable

    if defs_state.DefsStateStorage.get() is not None:
        defs_state._current_storage.set(None)  # the tests after this one start clean
        pytest.fail(
            f"{request.node.nodeid} left a Dagster instance current: use build_*_context(...) and "
            "DagsterInstance objects as context managers"
        )


@pytest.fixture(scope="session")
def nba_raw_dir() -> Path:
    """The real data folder; tests that need it skip, saying why, when it is absent."""
    path = Path(os.environ.get("NBA_RAW_DIR", settings.REPO_ROOT.parent / "shared" / "data" / "nba"))
    if not (path / "games.parquet").exists():
        pytest.skip(f"real NBA data not found at {path} (set NBA_RAW_DIR to the folder with games.parquet)")
    return path


# --- PostgreSQL: a real server started by the suite (Debian's postgresql package) -------------


def _pg_bin_dir() -> Path | None:
    """Directory holding initdb and pg_ctl: PATH first, then Debian's /usr/lib/postgresql/<v>/bin."""
    import shutil

    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return candidates[0].parent if candidates else None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A throw-away PostgreSQL server that fault tests can stop and start again."""

    def __init__(self, run, pg_ctl: Path, data: Path, opts: str, log: Path, port: int) -> None:
        self._run, self._pg_ctl, self._data, self._opts, self._log = run, pg_ctl, data, opts, log
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"

    def start(self) -> None:
        args = ["-D", str(self._data), "-o", self._opts, "-l", str(self._log), "-w", "-t", "60", "start"]
        r = self._run([str(self._pg_ctl), *args])
        if r.returncode != 0:
            log = self._log.read_text() if self._log.exists() else ""
            pytest.fail(f"pg_ctl start failed: {r.stderr or r.stdout}\n{log}")

    def fresh_database(self, name: str) -> str:
        """An empty database of that name on this server (dropped first if present); its URL."""
        import sqlalchemy as sa

        engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def stop(self, mode: str = "fast") -> None:
        """``fast`` disconnects clients; ``immediate`` is a crash (no shutdown checkpoint)."""
        self._run([str(self._pg_ctl), "-D", str(self._data), "-m", mode, "-w", "stop"])


@pytest.fixture(scope="session")
def postgres_url(postgres_server) -> str:
    """SQLAlchemy URL of the throw-away PostgreSQL server."""
    return postgres_server.url


@pytest.fixture(scope="session")
def postgres_server():
    """A throw-away PostgreSQL server on 127.0.0.1 (own data and socket dir, free port). initdb
    refuses root, so as root the server runs as the ``postgres`` user. Skips, saying why, when the
    server binaries are not installed."""
    import shutil
    import subprocess
    import tempfile

    bindir = _pg_bin_dir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql; "
            "install Debian's postgresql package (scripts/install.sh does it when apt-get is available)"
        )
    as_root = os.geteuid() == 0
    if as_root:
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the PostgreSQL server as")
    base = Path(tempfile.mkdtemp(prefix="nba_pg_"))
    base.chmod(0o755)
    data, sock = base / "data", base / "sock"
    data.mkdir()
    sock.mkdir()
    if as_root:
        for d in (data, sock):
            os.chown(d, pw.pw_uid, pw.pw_gid)
    data.chmod(0o700)
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    port = _free_port()
    log = base / "server.log"
    if as_root:
        log.touch()
        os.chown(log, pw.pw_uid, pw.pw_gid)

    def run(args: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(prefix + args, capture_output=True, text=True, timeout=120)

    r = run(
        [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]
    )
    if r.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"initdb failed: {r.stderr or r.stdout}")
    opts = f"-h 127.0.0.1 -p {port} -k {sock} -c fsync=off -c synchronous_commit=off"
    server = PostgresServer(run, bindir / "pg_ctl", data, opts, log, port)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
