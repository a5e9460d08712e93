"""The registry tests' one fixture: an empty registry in the test's temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from nba_pipeline.registry.store import ModelRegistry


@pytest.fixture
def reg(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "models")
