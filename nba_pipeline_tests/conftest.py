"""Shared fixtures. Real data is read from ../shared/data/nba through ``nba_raw_dir`` alone.

Every test session writes into a temporary data dir and Dagster home, whatever the shell
exported (a developer's ``DAGSTER_HOME`` is usually the repository's ``data/dagster_home``): the
variables are set here, before any Dagster instance exists. A test that needs its own (a fresh
pipeline, a PostgreSQL instance) sets them with ``monkeypatch``.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from nba_pipeline import settings
from nba_pipeline.dagster_home import ensure_dagster_home
from nba_pipeline_tests.missing_data import missing_data

pytest_plugins = ["nba_pipeline_tests.workers"]  # how the tests are spread over xdist's workers

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
    """The real data folder; tests that need it skip, saying why, when it is absent (fail under CI)."""
    path = Path(os.environ.get("NBA_RAW_DIR", settings.REPO_ROOT.parent / "shared" / "data" / "nba"))
    if not (path / "games.parquet").exists():
        missing_data(f"real NBA data not found at {path} (set NBA_RAW_DIR to the folder with games.parquet)")
    return path


# --- The live odds feed: a recorded answer, replayed through nba_api's own CDN client ------------

ODDS_GAME = "0022400913"  # the game of the recorded odds_todaysGames.json answer


@pytest.fixture(scope="session")
def odds_path(nba_raw_dir: Path) -> Path:
    """The recorded odds feed answer (../shared/data/nba_api/responses); skips when absent (fails
    under CI)."""
    path = nba_raw_dir.parent / "nba_api" / "responses" / f"odds_todaysgames_{ODDS_GAME}.json"
    if not path.exists():
        missing_data(f"saved odds response not found at {path} (the nba_api recordings of ../shared)")
    return path


@pytest.fixture()
def odds_response(odds_path: Path) -> dict:
    """A fresh copy of the recorded answer (tests may change it)."""
    return json.loads(odds_path.read_text(encoding="utf-8"))


class LiveFeedSession:
    """Stands in for nba_api's HTTP session of the live CDN: answers its GETs with the given bodies
    in turn (the last one again and again); an exception instance is raised instead. ``urls`` keeps
    (url, Host header) of every request."""

    def __init__(self, *answers: object) -> None:
        self.answers, self.urls = list(answers), []

    def get(self, url, params, headers=None, proxies=None, timeout=None):
        import requests

        self.urls.append((url, dict(headers or {}).get("Host")))
        a = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(a, Exception):
            raise a
        r = requests.Response()
        r.url, r.status_code, r._content = url, 200, json.dumps(a).encode()
        return r


@pytest.fixture()
def live_feed(monkeypatch):
    """``live_feed(*answers)`` installs a :class:`LiveFeedSession` under nba_api's live client."""
    from nba_api.live.nba.library.http import NBALiveHTTP

    def install(*answers: object) -> LiveFeedSession:
        session = LiveFeedSession(*answers)
        monkeypatch.setattr(NBALiveHTTP, "get_session", classmethod(lambda cls: session))
        return session

    return install


# --- PostgreSQL: a real server started by the suite (Debian's postgresql package) -------------


@pytest.fixture(scope="session")
def postgres_url(postgres_server) -> str:
    """SQLAlchemy URL of the throw-away PostgreSQL server."""
    return postgres_server.url


@pytest.fixture(scope="session")
def postgres_server():
    """A throw-away PostgreSQL server on 127.0.0.1 (``services.PostgresServer``); skips, saying why,
    when it cannot run here."""
    from nba_pipeline_tests.services import ServiceUnavailable, postgres_server

    try:
        with postgres_server() as server:
            yield server
    except ServiceUnavailable as e:
        pytest.skip(str(e))
