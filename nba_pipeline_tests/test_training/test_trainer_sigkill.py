"""A training process SIGKILLed mid-run (no exception handler, no cleanup) resumes from its last
checkpoint in a fresh process to exactly the result of an uninterrupted run."""

from __future__ import annotations

import signal
import subprocess
import sys

import torch

from nba_pipeline import settings
from nba_pipeline.training.trainer import TrainConfig
from nba_pipeline_tests.test_training.test_trainer import _comparable, _run

CFG = TrainConfig(lr=3e-3, max_epochs=5, patience=5, device="cpu", seed=3)

CHILD = """
import os, signal, sys
from pathlib import Path
import torch
torch.set_num_threads(1)
sys.path.insert(0, {repo!r})
from nba_pipeline.training.trainer import TrainConfig
from nba_pipeline_tests.test_training.test_trainer import _run

def die_in_epoch_2(entry):
    if entry["epoch"] == 2:
        os.kill(os.getpid(), signal.SIGKILL)

_run(Path({tmp!r}), "killed", TrainConfig(lr=3e-3, max_epochs=5, patience=5, device="cpu", seed=3),
     on_epoch_end=die_in_epoch_2)
"""


def test_training_killed_with_sigkill_resumes_to_the_uninterrupted_result(tmp_path):
    torch.set_num_threads(1)
    full, _ = _run(tmp_path, "full", CFG)
    child = subprocess.run(
        [sys.executable, "-c", CHILD.format(repo=str(settings.REPO_ROOT), tmp=str(tmp_path))],
        cwd=settings.REPO_ROOT,
        timeout=600,
    )
    assert child.returncode == -signal.SIGKILL
    assert list((tmp_path / "killed").glob("*.pt")), "the killed run left no checkpoint to resume from"
    torch.manual_seed(999)  # a fresh process: other weights and RNG state until the checkpoint loads
    resumed, _ = _run(tmp_path, "killed", CFG, model_seed=12345)
    assert [e["epoch"] for e in resumed.history] == list(range(5))
    assert _comparable(resumed.history) == _comparable(full.history)
    assert resumed.best_epoch == full.best_epoch
