"""The ``nba-pipeline`` console script: ``--help`` lists every command, a command runs its
module's ``main`` with the rest of the line, and a command whose module is missing says so."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nba_pipeline import cli

SCRIPT = Path(sys.executable).parent / "nba-pipeline"
COMMANDS = ["run", "backfill", "pull", "live", "lines", "availability", "registry", "evaluate", "bench"]


def _script(*args: str, **env: str) -> subprocess.CompletedProcess:
    assert SCRIPT.exists(), "console script missing: pip install -e '.[dev]'"
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=300, env={**os.environ, **env}
    )


def test_help_lists_every_command():
    out = _script("--help")
    assert out.returncode == 0, out.stderr
    # a command's line is indented 4; a help wrapped under a long name ('availability') deeper
    listed = [line.split()[0] for line in out.stdout.splitlines() if re.match(r"    \S", line)]
    assert listed == COMMANDS


def test_registry_list_runs_the_registry_command_on_the_configured_registry(tmp_path):
    out = _script("registry", "list", NBA_MODELS_DIR=str(tmp_path / "models"))
    assert out.returncode == 0, out.stderr
    assert f"registry: {tmp_path / 'models'}" in out.stdout


def test_a_command_gets_its_own_help_under_the_script_name():
    out = _script("run", "--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: nba-pipeline run ") and "--partition" in out.stdout


def test_every_command_names_a_module_with_a_main():
    for name, command in cli.COMMANDS.items():
        assert callable(importlib.import_module(command.module).main), name


def test_a_command_whose_module_is_not_there_yet_says_so(monkeypatch, capsys):
    monkeypatch.setitem(cli.COMMANDS, "live", cli.Command("nba_pipeline.not_written_yet", "later"))
    assert cli.main(["live", "0022300061"]) == 2
    assert "nba-pipeline live: not available yet (nba_pipeline.not_written_yet" in capsys.readouterr().err


def test_an_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train"])
    assert exit_.value.code == 2
    assert "unknown command 'train'" in capsys.readouterr().err
