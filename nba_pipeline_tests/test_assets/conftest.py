"""A real slice of the raw data and a pipeline pointed at a temporary data directory and database
through the environment, as a deployment would be. The slice is the specification's smoke-test
setting: the whole 2022-23 regular season to train on, the first 100 games of 2023-24 to test on."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

SLICE_SEASONS = ("2022-23", "2023-24")
SLICE_GAMES = {"2022-23": None, "2023-24": 100}  # None: every game


def make_raw_slice(src: Path, dst: Path, games: dict[str, int | None]) -> Path:
    """Copy the non-seasonal files and, per season, the first ``games[season]`` games (by id, i.e.
    by date) of the season's files."""
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.glob("*.parquet"):
        if "_20" not in f.name:
            shutil.copy(f, dst / f.name)
    for season, n_games in games.items():
        pbp = pd.read_parquet(src / f"pbp_{season}.parquet")
        keep = sorted(pbp["GAME_ID"].unique())[:n_games]
        pbp[pbp["GAME_ID"].isin(keep)].to_parquet(dst / f"pbp_{season}.parquet")
        for kind in ("lineups", "shots"):
            path = src / f"{kind}_{season}.parquet"
            if path.exists():
                df = pd.read_parquet(path)
                df[df["GAME_ID"].isin(keep)].to_parquet(dst / path.name)
    return dst


@pytest.fixture(scope="module")
def pipeline_env(nba_raw_dir, tmp_path_factory):
    """Environment variables that point the real Definitions at a fresh slice, database and data dir."""
    base = tmp_path_factory.mktemp("pipeline")
    raw = make_raw_slice(nba_raw_dir, base / "raw", SLICE_GAMES)
    env = {
        "NBA_RAW_DIR": str(raw),
        "NBA_DATA_DIR": str(base / "data"),
        "NBA_DATABASE_URL": f"sqlite:///{base / 'nba.db'}",
    }
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    yield base
    mp.undo()


# ``dagster dev`` started from a script ignores SIGINT/SIGTERM unless SIGINT is restored (stack.md).
RESTORE_SIGINT = (
    "import os,signal,sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])"
)


@contextmanager
def dagster_dev(env: dict[str, str], log_path: Path, wait_s: float = 150) -> Iterator[str]:
    """``dagster dev`` over the definitions on 127.0.0.1 with ``env`` (DAGSTER_HOME, NBA_*); yields
    its URL once it answers, and stops the whole process group at the end."""
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    from nba_pipeline import settings
    from nba_pipeline_tests.conftest import _free_port

    port = _free_port()
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
                    pytest.fail(f"dagster dev did not come up; log: {log_path.read_text()[-2000:]}")
                try:
                    with urllib.request.urlopen(url + "/server_info", timeout=5) as r:
                        if r.status == 200:
                            break
                except OSError:  # not listening yet
                    time.sleep(2)
            yield url
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
