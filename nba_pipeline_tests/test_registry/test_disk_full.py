"""A registry save that runs out of disk: a clear error, no partial version, ``latest`` intact.

The registry lives on a small tmpfs (mounting one needs root; the test skips, saying so, where it
cannot mount)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from nba_pipeline.registry.errors import RegistryError
from nba_pipeline.registry.store import ModelRegistry
from nba_pipeline_tests.test_registry.test_store import build_dict, save


@pytest.fixture
def small_disk(tmp_path: Path):
    mount = tmp_path / "small_disk"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {r.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_save_that_fills_the_disk_fails_clearly_and_leaves_no_version_and_latest_intact(small_disk):
    reg = ModelRegistry(small_disk / "models")
    first = save(reg, seed=0)
    reg.promote(first)
    too_big = {"noise": np.random.default_rng(0).random((256, 1024))}  # 2 MB of incompressible floats
    with pytest.raises(RegistryError, match="No space left on device") as err:
        save(reg, seed=1, artifacts=too_big)
    assert str(reg.root) in str(err.value) and f"latest is unchanged ({first})" in str(err.value)
    assert [v.version for v in reg.list_versions()] == [first]
    assert reg.latest_version() == first
    leftovers = [p.name for p in reg.root.iterdir() if p.name.startswith(".tmp")]
    assert not leftovers, f"partial save left {leftovers}"
    loaded = reg.load_model("latest", build=build_dict)
    assert loaded.version == first
    # The failed save took its files with it: an ordinary save fits again.
    second = save(reg, seed=1)
    assert [v.version for v in reg.list_versions()] == [first, second]
    assert os.path.exists(reg.root / second / "metadata.json")
