"""The README's main command, run as a user runs it: ``python -m nba_pipeline.run`` in a process of
its own, on a fresh data dir and Dagster home, over a real slice (the first 160 games of 2022-23
and of 2023-24), with stats.nba.com unreachable (every proxy variable points at a closed local
port). It must materialize everything the data on disk supports: tables, model inputs, a trained
and promoted model, and the forecasts step (no games today: it says so)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from nba_pipeline import settings
from nba_pipeline_tests.services import make_raw_slice

SEASONS = ("2022-23", "2023-24")
GAMES = 160
pytestmark = pytest.mark.slow


def _closed_port() -> int:
    """A local port nothing listens on: a connection to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def fresh(nba_raw_dir, tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("main_command")
    raw = make_raw_slice(nba_raw_dir, base / "raw", dict.fromkeys(SEASONS, GAMES))
    proxy = f"http://127.0.0.1:{_closed_port()}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NBA_", "DAGSTER_")) and "proxy" not in k.lower()
    }
    env |= {"NBA_RAW_DIR": str(raw), "NBA_DATA_DIR": str(base / "data")}
    env |= {k: proxy for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")}
    return {"env": env, "data": base / "data"}


def _main_command(fresh: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nba_pipeline.run", *args],
        env=fresh["env"],
        cwd=settings.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )


def _materializations(home: Path, asset: str) -> list[dict]:
    """Metadata of every materialization of ``asset`` in the Dagster home, oldest first."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        records = instance.fetch_materializations(dg.AssetKey(asset), limit=100, ascending=True).records
        return [{k: v.value for k, v in r.asset_materialization.metadata.items()} for r in records]


@pytest.fixture(scope="module")
def first_run(fresh) -> subprocess.CompletedProcess:
    return _main_command(fresh)


def test_the_main_command_on_a_fresh_clone_without_network_trains_promotes_and_forecasts(fresh, first_run):
    from nba_pipeline.registry.store import ModelRegistry

    out = first_run.stdout + first_run.stderr
    assert first_run.returncode == 0, out[-5000:]
    assert "pulled_season" not in out and "stats.nba.com unreachable" not in out
    data = fresh["data"]
    engine = sa.create_engine(f"sqlite:///{data / 'nba.db'}")
    with engine.connect() as conn:
        seasons = {r[0] for r in conn.execute(sa.text("SELECT DISTINCT season FROM games"))}
        played = dict(
            conn.execute(sa.text("SELECT season, COUNT(DISTINCT game_id) FROM plays GROUP BY season")).all()
        )
        n_plays = conn.execute(sa.text("SELECT COUNT(*) FROM plays")).scalar()
        n_stints = conn.execute(sa.text("SELECT COUNT(*) FROM stints")).scalar()
    engine.dispose()
    assert seasons == set(SEASONS)
    assert played == dict.fromkeys(SEASONS, GAMES)
    assert n_plays > 100 * GAMES and n_stints > 10 * GAMES
    for season in SEASONS:
        for part in ("sequences", "graphs", "context"):
            assert (data / "features" / f"{part}_{season}.npz").exists()
    registry = ModelRegistry(data / "models")
    assert [v.version for v in registry.list_versions()] == ["v1.0.0"]
    assert registry.latest_version() == "v1.0.0"
    forecasts = _materializations(data / "dagster_home", "daily_forecasts")[0]  # later tests run again
    assert forecasts["version"] == "v1.0.0"
    assert forecasts["games"] == 0 and forecasts["forecasts_written"] == 0
    assert f"No games on {forecasts['days']}." in forecasts["forecasts"]
    assert "no games on" in out


def test_the_main_command_for_one_season_again_trains_nothing_and_still_forecasts(fresh, first_run):
    from nba_pipeline.registry.store import ModelRegistry

    assert first_run.returncode == 0
    again = _main_command(fresh, "--partition", SEASONS[1])
    out = again.stdout + again.stderr
    assert again.returncode == 0, out[-5000:]
    assert f"partition {SEASONS[1]}" in out and f"partition {SEASONS[0]}" not in out
    assert "no new data since v1.0.0" in out
    assert [v.version for v in ModelRegistry(fresh["data"] / "models").list_versions()] == ["v1.0.0"]
    runs = _materializations(fresh["data"] / "dagster_home", "daily_forecasts")
    assert [m["version"] for m in runs] == ["v1.0.0", "v1.0.0"]


def test_the_main_command_refuses_a_season_without_data_and_names_the_seasons_it_has(fresh):
    res = _main_command(fresh, "--partition", "2030-31")
    assert res.returncode == 2
    assert "2030-31" in res.stderr and all(s in res.stderr for s in SEASONS)


def test_the_main_command_refuses_runs_at_once_that_is_not_a_count(fresh):
    res = _main_command(fresh, "--runs-at-once", "0")
    assert res.returncode == 2 and "--runs-at-once" in res.stderr and "'0'" in res.stderr


def _killed_when(env: dict, seen: str, then: str | None = None) -> str:
    """Start the main command in a data dir of its own and SIGKILL it (the whole
    process group, as a machine that goes down would) as soon as its output shows ``seen`` (and
    then ``then``). Returns what it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "nba_pipeline.run"],
        env=env,
        cwd=settings.REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines, waiting_for = [], [s for s in (seen, then) if s]
    try:
        for line in proc.stdout:
            lines.append(line)
            if waiting_for[0] in line:
                waiting_for.pop(0)
                if not waiting_for:
                    os.killpg(proc.pid, signal.SIGKILL)
                    break
    finally:
        proc.stdout.close()
        proc.wait(timeout=60)
    out = "".join(lines)
    assert not waiting_for, f"the main command ended before {waiting_for[0]!r}:\n{out[-3000:]}"
    assert proc.returncode == -signal.SIGKILL
    return out


def _tables(db: Path) -> dict[str, pd.DataFrame]:
    """Every table of a database, rows sorted, so two builds compare row for row."""
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            frames = {name: pd.read_sql_table(name, conn) for name in names}
    finally:
        engine.dispose()
    return {n: f.sort_values(list(f.columns)).reset_index(drop=True) for n, f in frames.items()}


def _registry(models: Path) -> dict:
    """What a registry holds: versions, latest, verdicts and the sha256 of every file."""
    from nba_pipeline.registry.store import ModelRegistry

    registry = ModelRegistry(models)
    mds = {v: registry.read_metadata(v) for v in registry.versions()}
    return {
        "latest": registry.latest_version(),
        "versions": {
            v: (md["promoted"], md["not_promoted_reason"], md["files"], md["data_fingerprint"])
            for v, md in mds.items()
        },
        "leftovers": sorted(p.name for p in models.iterdir() if p.name.startswith(".")),
    }


def test_the_main_command_killed_during_model_inputs_and_training_reruns_to_a_clean_runs_result(
    fresh, first_run, tmp_path
):
    """Killed with SIGKILL while it builds the model inputs, then again while it trains, the main
    command run a third time frees what the dead runs hold (the training pool's one slot) and ends
    with the tables, model inputs and registry of a clean run (``first_run``, same slice). The
    clean run and the kills execute two runs at a time in worker processes (the default), the
    third run one after another: the order the runs take changes nothing either."""
    from nba_pipeline.commands.run import DEFAULT_RUNS_AT_ONCE
    from nba_pipeline.registry.store import ModelRegistry

    assert first_run.returncode == 0
    data = tmp_path / "data"
    env = fresh["env"] | {"NBA_DATA_DIR": str(data)}
    _killed_when(env, 'Started execution of step "model_inputs"')
    during_training = _killed_when(env, 'Started execution of step "trained_model"', "epoch 0: train")
    assert "marked failed" in during_training  # the runs killed during the model inputs
    assert ModelRegistry(data / "models").list_versions() == []  # nothing half-written is listed

    rerun = subprocess.run(
        [sys.executable, "-m", "nba_pipeline.run", "--runs-at-once", "1"],
        env=env,
        cwd=settings.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    out = rerun.stdout + rerun.stderr
    assert rerun.returncode == 0, out[-5000:]
    assert "freed what a dead main job left" in out and "marked failed" in out
    assert "blocked by limit for pool" not in out
    assert "(1 at a time)" in out and f"({DEFAULT_RUNS_AT_ONCE} at a time)" in first_run.stdout

    clean, after = _tables(fresh["data"] / "nba.db"), _tables(data / "nba.db")
    assert sorted(after) == sorted(clean)
    for name, table in clean.items():
        pd.testing.assert_frame_equal(after[name], table, obj=f"table {name}")
    for path in sorted((fresh["data"] / "features").glob("*.npz")):
        with np.load(path) as want, np.load(data / "features" / path.name) as got:
            assert sorted(got.files) == sorted(want.files), path.name
            for key in set(want.files) - {"build_id"}:  # build_id: a random id per build
                np.testing.assert_array_equal(got[key], want[key], err_msg=f"{path.name}[{key}]")
    assert _registry(data / "models") == _registry(fresh["data"] / "models")
