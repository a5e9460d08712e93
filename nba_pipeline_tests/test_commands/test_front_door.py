"""The front door: ``python -m nba_pipeline`` (the same as the ``nba-pipeline`` console script)
lists every command, a command runs its module's ``main`` with the rest of the line, each command
is one module of ``nba_pipeline.commands``, and no library module defines a ``main``."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import tomllib

import pytest

from nba_pipeline import commands
from nba_pipeline.settings import REPO_ROOT

PACKAGE = REPO_ROOT / "nba_pipeline"


def _front_door(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nba_pipeline", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
        env={**os.environ, "COLUMNS": "200", **env},
    )


def test_help_lists_every_command_including_the_forecasts_and_the_studies():
    out = _front_door("--help")
    assert out.returncode == 0, out.stderr
    listed = re.findall(r"^    (\S+)", out.stdout, flags=re.M)
    assert listed == list(commands.COMMANDS)
    wanted = {"daily", "scorecard", "walk-forward", "compare-on-validation", "analytics-report"}
    assert wanted | {"calibration-false-alarms", "bench", "live", "lines", "run"} <= set(listed)


def test_the_console_script_is_the_same_front_door():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"] == {"nba-pipeline": "nba_pipeline.commands:main"}


def test_registry_list_runs_the_registry_command_on_the_configured_registry(tmp_path):
    out = _front_door("registry", "list", NBA_MODELS_DIR=str(tmp_path / "models"))
    assert out.returncode == 0, out.stderr
    assert f"registry: {tmp_path / 'models'}" in out.stdout


def test_a_command_gets_its_own_help_under_the_script_name():
    out = _front_door("run", "--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: nba-pipeline run ") and "--partition" in out.stdout


@pytest.mark.parametrize("name", list(commands.COMMANDS))
def test_every_command_is_a_module_of_the_commands_package_with_a_main(name):
    module = importlib.import_module(f"nba_pipeline.commands.{commands.COMMANDS[name].module}")
    assert callable(module.main), name


def test_only_the_commands_package_defines_main():
    defining = sorted(
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if re.search(r"^def main\(", p.read_text(encoding="utf-8"), flags=re.M)
    )
    assert defining and all(p.startswith("commands/") for p in defining), defining


def test_the_readme_set_up_module_runs_the_run_command():
    out = subprocess.run(
        [sys.executable, "-m", "nba_pipeline.run", "--help"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert "usage: nba-pipeline run " in out.stdout


def test_a_command_whose_module_is_missing_says_so(monkeypatch, capsys):
    monkeypatch.setitem(commands.COMMANDS, "live", commands.Command("not_written_yet", "later"))
    assert commands.main(["live", "0022300061"]) == 2
    err = capsys.readouterr().err
    assert "nba-pipeline live: not available (nba_pipeline.commands.not_written_yet" in err


def test_an_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        commands.main(["train"])
    assert exit_.value.code == 2
    assert "unknown command 'train'" in capsys.readouterr().err


def test_the_scripts_folder_holds_no_python_command():
    assert sorted(p.name for p in (REPO_ROOT / "scripts").glob("*.py")) == []


def test_no_shim_modules_are_left():
    for shim in ("live.py", "cli.py", "registry/__main__.py", "sources/__main__.py", "registry/cli.py"):
        assert not (PACKAGE / shim).exists(), shim
