"""Time the model's two hot paths on real model inputs (``$NBA_DATA_DIR/features``) and print the
figures: the all-events evaluation of a season and training epochs. The per-stage bench
(:mod:`nba_pipeline.bench.stages`) times one epoch of one season on the CPU; this one times many
seasons, either device, a chosen number of threads, and the evaluation's two forward passes.

    nba-pipeline bench model eval --season 2023-24 [--games 100] [--plain]
    nba-pipeline bench model train --seasons 2020-21 2021-22 2022-23 [--epochs 2] [--games 600]
        [--device cuda|cpu|auto] [--threads 2]

``eval`` predicts every cut of the first ``--games`` games (all by default) with a randomly
initialised spec-size model (speed does not depend on the weights) and extrapolates to the whole
season; ``--plain`` uses the per-batch forward pass instead of the reusing one. ``train`` runs
``fit_forecaster`` for ``--epochs`` epochs and prints each epoch's seconds (train + validation)
and the device it ran on; ``--threads`` sets torch's CPU threads (2: the CI machine's cores).
On a shared machine the figures move with the load: the load average is printed beside them.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def bench_eval(season: str, games: int = 0, plain: bool = False) -> None:
    """Print the all-events evaluation speed of ``games`` games of ``season`` (0: all)."""
    from nba_pipeline import settings
    from nba_pipeline.features.season_arrays import SeasonArrays
    from nba_pipeline.models.forecaster import NBAForecaster
    from nba_pipeline.training.dataset import NBADataset, score_diff_std_from_arrays, target_norm_from_arrays
    from nba_pipeline.training.predict import predict_frame

    a = SeasonArrays.load_parts(settings.features_dir(), season)
    norm, sd = target_norm_from_arrays(a), score_diff_std_from_arrays(a)
    torch.manual_seed(0)
    model = NBAForecaster().eval()
    n = min(games or a.n_games, a.n_games)
    ds = NBADataset(a, norm, sd, mode="all_events", games=np.arange(n))
    t = time.perf_counter()
    predict_frame(model, ds, norm, reuse=not plain)
    s = time.perf_counter() - t
    full = s / len(ds) * int((a.n_events + 1).sum())
    print(
        f"eval {'plain' if plain else 'reusing'}: {len(ds)} cuts of {n} games in {s:.1f} s "
        f"({len(ds) / s:.0f} cuts/s); whole season {a.season} ({int((a.n_events + 1).sum())} cuts) "
        f"~{full:.0f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )


def bench_train(
    seasons: list[str], epochs: int = 2, games: int = 0, device: str = "auto", threads: int = 0
) -> None:
    """Print the seconds of each training epoch on ``seasons`` (``games``: only the first N)."""
    from nba_pipeline import settings
    from nba_pipeline.training.config import RunConfig
    from nba_pipeline.training.fit import fit_forecaster, load_training_arrays
    from nba_pipeline.training.trainer import resolve_device

    arrays = load_training_arrays(settings.features_dir(), seasons)
    if games:
        arrays = arrays.subset(np.arange(min(games, arrays.n_games)))
        arrays.season = "+".join(seasons)
    cfg = RunConfig.from_dict(
        {
            "data": {"train_seasons": list(seasons)},
            "optim": {"max_epochs": epochs, "device": device},
            "torch_threads": threads,
        }
    )
    with tempfile.TemporaryDirectory() as work:
        t = time.perf_counter()
        out = fit_forecaster(arrays, cfg, Path(work))
        total = time.perf_counter() - t
    assert out.result is not None
    secs = [round(h["seconds"], 1) for h in out.result.history]
    print(
        f"train: {len(out.train_games)} training games, {len(out.val_games)} validation games, "
        f"device {resolve_device(device)}, epoch seconds {secs}, run {total:.1f} s; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs, "
        f"torch threads {torch.get_num_threads()}"
    )
