"""No test writes to the repository's own Dagster home or data folder (conftest points the
session at a temporary one, whatever the shell exported)."""

from __future__ import annotations

from pathlib import Path

from nba_pipeline import settings

REPO_DATA = settings.REPO_ROOT / "data"
REPO_HOME = REPO_DATA / "dagster_home"


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and modification time (empty when absent)."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def test_the_session_dagster_home_and_data_paths_are_outside_the_repository_data():
    import os

    from nba_pipeline.dagster_home import ensure_dagster_home

    paths = {
        "DAGSTER_HOME": Path(os.environ["DAGSTER_HOME"]).resolve(),
        "ensure_dagster_home()": ensure_dagster_home().resolve(),
        "data dir": settings.data_dir(),
        "models dir": settings.models_dir(),
        "database": Path(settings.database_url().removeprefix("sqlite:///")).resolve(),
    }
    inside = {name: p for name, p in paths.items() if p.is_relative_to(REPO_DATA)}
    assert not inside, f"tests would write into the repository's data folder: {inside}"


def test_the_main_job_run_from_a_test_leaves_the_repository_dagster_home_untouched(nba_raw_dir):
    import dagster as dg

    from nba_pipeline.commands.run import main

    before = _snapshot(REPO_HOME)
    assert main(["--select", "players"]) == 0
    with dg.DagsterInstance.get() as instance:  # the session's temporary home
        assert Path(instance.root_directory).resolve() != REPO_HOME.resolve()
        assert instance.get_latest_materialization_event(dg.AssetKey("players")) is not None
    assert _snapshot(REPO_HOME) == before, "the run wrote into the repository's data/dagster_home"
