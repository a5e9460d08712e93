"""Real services started by the tests and by ``nba-pipeline bench backfill``: a throw-away PostgreSQL
server, ``dagster dev`` on a free port, a sampler of the server's connections, and a slice of the
real raw data. Nothing here needs pytest: a service that cannot start raises
:class:`ServiceUnavailable` (the fixtures turn it into a skip that says why) or ``RuntimeError``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from nba_pipeline import settings


class ServiceUnavailable(RuntimeError):
    """The service cannot run on this machine (binaries or user missing): a reason to skip."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- PostgreSQL: Debian's postgresql package, a server of our own on 127.0.0.1 -----------------


def pg_bin_dir() -> Path | None:
    """Directory holding initdb and pg_ctl: PATH first, then Debian's /usr/lib/postgresql/<v>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return candidates[0].parent if candidates else None


class PostgresServer:
    """A throw-away PostgreSQL server (own data and socket dir, free port) that fault tests can stop
    and start again. initdb refuses root, so as root the server runs as the ``postgres`` user."""

    def __init__(self, base: Path) -> None:
        bindir = pg_bin_dir()
        if bindir is None:
            raise ServiceUnavailable(
                "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql; "
                "install Debian's postgresql package (scripts/install.sh does it when apt-get is available)"
            )
        self._prefix: list[str] = []
        owner = None
        if os.geteuid() == 0:
            import pwd

            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise ServiceUnavailable(
                    "running as root and there is no 'postgres' user to run the PostgreSQL server as"
                ) from None
            self._prefix = ["runuser", "-u", "postgres", "--"]
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        base.chmod(0o755)
        self._data, sock, self._log = base / "data", base / "sock", base / "server.log"
        self._data.mkdir()
        sock.mkdir()
        self._log.touch()
        if owner is not None:
            for p in (self._data, sock, self._log):
                os.chown(p, owner.pw_uid, owner.pw_gid)
        self._data.chmod(0o700)
        self._pg_ctl = bindir / "pg_ctl"
        port = free_port()
        self._opts = f"-h 127.0.0.1 -p {port} -k {sock} -c fsync=off -c synchronous_commit=off"
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
        initdb = [str(bindir / "initdb"), "-D", str(self._data), "-U", "postgres", "-A", "trust"]
        r = self._run([*initdb, "-E", "UTF8", "--no-sync"])
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed: {r.stderr or r.stdout}")

    def _run(self, args: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(self._prefix + args, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        args = ["-D", str(self._data), "-o", self._opts, "-l", str(self._log), "-w", "-t", "60", "start"]
        r = self._run([str(self._pg_ctl), *args])
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {r.stderr or r.stdout}\n{self._log.read_text()}")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` disconnects clients; ``immediate`` is a crash (no shutdown checkpoint)."""
        self._run([str(self._pg_ctl), "-D", str(self._data), "-m", mode, "-w", "stop"])

    def fresh_database(self, name: str) -> str:
        """An empty database of that name on this server (dropped first if present); its URL."""
        engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url.rsplit("/", 1)[0] + f"/{name}"


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A started server, stopped and deleted at the end."""
    base = Path(tempfile.mkdtemp(prefix="nba_pg_"))
    try:
        server = PostgresServer(base)
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


class ConnectionPeak:
    """Samples pg_stat_activity while a block runs: the most client connections seen at once."""

    def __init__(self, server_url: str, every_s: float = 0.2) -> None:
        self.engine = sa.create_engine(server_url, poolclass=sa.pool.NullPool)
        self.peak = 0
        self._every = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        sql = sa.text("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
        while not self._stop.is_set():
            with self.engine.connect() as conn:
                self.peak = max(self.peak, int(conn.execute(sql).scalar()) - 1)  # less the sampler's own
            self._stop.wait(self._every)

    def __enter__(self) -> ConnectionPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()


# --- dagster dev --------------------------------------------------------------------------------

# ``dagster dev`` started from a script ignores SIGINT/SIGTERM unless SIGINT is restored (stack.md).
RESTORE_SIGINT = (
    "import os,signal,sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])"
)


WORKSPACE = "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"


def _code_loaded(url: str) -> bool:
    """The webserver answers and its code location has loaded (runs and backfills can start)."""
    req = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": WORKSPACE}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            entries = json.loads(r.read())["data"]["workspaceOrError"].get("locationEntries") or []
    except (OSError, KeyError, TypeError, ValueError):  # not listening yet, or still starting
        return False
    return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)


@contextmanager
def dagster_dev(env: dict[str, str], log_path: Path, wait_s: float = 150) -> Iterator[str]:
    """``dagster dev`` (webserver, daemon, code location) over the definitions on 127.0.0.1 with
    ``env`` (DAGSTER_HOME, NBA_*); yields its URL once its code has loaded, and stops the whole process group
    at the end."""
    port = free_port()
    dagster = str(Path(sys.executable).parent / "dagster")
    cmd = [sys.executable, "-c", RESTORE_SIGINT, dagster, "dev", "-m", "nba_pipeline.definitions"]
    cmd += ["-h", "127.0.0.1", "-p", str(port)]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=settings.REPO_ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + wait_s
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"dagster dev did not come up; log: {log_path.read_text()[-2000:]}")
                if _code_loaded(url):
                    break
                time.sleep(2)
            yield url
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


# --- real data ----------------------------------------------------------------------------------


def make_raw_slice(
    src: Path, dst: Path, games: Mapping[str, int | None | Callable[[list[str]], list[str]]]
) -> Path:
    """The one builder of a real raw slice: copy the non-seasonal files whole and, per season,
    the season's files (pbp, lineups, shots) cut to some games. ``games[season]``: the first that
    many games (by id, i.e. by date; None: every game), or a function choosing games from the
    season's ids in order."""
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.glob("*.parquet"):
        if "_20" not in f.name:
            shutil.copy(f, dst / f.name)
    for season, choose in games.items():
        pbp = pd.read_parquet(src / f"pbp_{season}.parquet")
        ids = sorted(pbp["GAME_ID"].unique())
        keep = choose(ids) if callable(choose) else ids[:choose]
        pbp[pbp["GAME_ID"].isin(keep)].to_parquet(dst / f"pbp_{season}.parquet", index=False)
        for kind in ("lineups", "shots"):
            path = src / f"{kind}_{season}.parquet"
            if path.exists():
                df = pd.read_parquet(path)
                df[df["GAME_ID"].isin(keep)].to_parquet(dst / path.name, index=False)
    return dst
