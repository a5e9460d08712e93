"""The package layers of docs/architecture.md, enforced by the import-linter contracts in
pyproject.toml: a package imports only the packages below it, and only the Dagster layer
(assets, resources, definitions) imports Dagster."""

import shutil
import subprocess
import sys
from pathlib import Path

from nba_pipeline import settings


def _lint_imports() -> str:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is not installed (pip install -e '.[dev]')"
    return exe


def test_packages_import_only_the_layers_below_them_and_only_assets_import_dagster():
    out = subprocess.run(
        [_lint_imports(), "--no-cache"], cwd=settings.REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_the_layer_contract_catches_an_upward_import(tmp_path):
    """A model module importing the registry (a higher layer) must break the contract."""
    pkg = tmp_path / "nba_pipeline"
    shutil.copytree(settings.REPO_ROOT / "nba_pipeline", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    (pkg / "models" / "upward.py").write_text("from nba_pipeline.registry import store\n")
    shutil.copy(settings.REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    out = subprocess.run(
        [_lint_imports(), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(tmp_path), "PATH": str(Path(sys.executable).parent)},
    )
    assert out.returncode != 0
    assert "nba_pipeline.models.upward -> nba_pipeline.registry.store" in out.stdout
