"""Time the model's two hot paths on real model inputs (``$NBA_DATA_DIR/features``) and print the
figures: the all-events evaluation of a season and training epochs.

    python scripts/bench_model.py eval --season 2023-24 [--games 100] [--plain]
    python scripts/bench_model.py train --seasons 2020-21 2021-22 2022-23 [--epochs 2] [--games 600]
        [--device cuda|cpu|auto] [--threads 2]

``eval`` predicts every cut of the first ``--games`` games (all by default) with a randomly
initialised spec-size model (speed does not depend on the weights) and extrapolates to the whole
season; ``--plain`` uses the per-batch forward pass instead of the reusing one. ``train`` runs
``fit_forecaster`` for ``--epochs`` epochs and prints each epoch's seconds (train + validation)
and the device it ran on; ``--threads`` sets torch's CPU threads (2: the CI machine's cores).
On a shared machine the figures move with the load: the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def _eval(args: argparse.Namespace) -> None:
    from nba_pipeline import settings
    from nba_pipeline.features.season_arrays import SeasonArrays
    from nba_pipeline.models.forecaster import NBAForecaster
    from nba_pipeline.training.dataset import NBADataset, score_diff_std_from_arrays, target_norm_from_arrays
    from nba_pipeline.training.predict import predict_frame

    a = SeasonArrays.load_parts(settings.features_dir(), args.season)
    norm, sd = target_norm_from_arrays(a), score_diff_std_from_arrays(a)
    torch.manual_seed(0)
    model = NBAForecaster().eval()
    n = min(args.games or a.n_games, a.n_games)
    ds = NBADataset(a, norm, sd, mode="all_events", games=np.arange(n))
    t = time.perf_counter()
    predict_frame(model, ds, norm, reuse=not args.plain)
    s = time.perf_counter() - t
    full = s / len(ds) * int((a.n_events + 1).sum())
    print(
        f"eval {'plain' if args.plain else 'reusing'}: {len(ds)} cuts of {n} games in {s:.1f} s "
        f"({len(ds) / s:.0f} cuts/s); whole season {a.season} ({int((a.n_events + 1).sum())} cuts) "
        f"~{full:.0f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )


def _train(args: argparse.Namespace) -> None:
    from nba_pipeline import settings
    from nba_pipeline.training.config import RunConfig
    from nba_pipeline.training.fit import fit_forecaster, load_training_arrays
    from nba_pipeline.training.trainer import resolve_device

    arrays = load_training_arrays(settings.features_dir(), args.seasons)
    if args.games:
        arrays = arrays.subset(np.arange(min(args.games, arrays.n_games)))
        arrays.season = "+".join(args.seasons)
    cfg = RunConfig.from_dict(
        {
            "data": {"train_seasons": list(args.seasons)},
            "optim": {"max_epochs": args.epochs, "device": args.device},
            "torch_threads": args.threads,
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
        f"device {resolve_device(args.device)}, epoch seconds {secs}, run {total:.1f} s; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs, "
        f"torch threads {torch.get_num_threads()}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    e = sub.add_parser("eval")
    e.add_argument("--season", default="2023-24")
    e.add_argument("--games", type=int, default=0)
    e.add_argument("--plain", action="store_true")
    t = sub.add_parser("train")
    t.add_argument("--seasons", nargs="+", default=["2020-21", "2021-22", "2022-23"])
    t.add_argument("--epochs", type=int, default=2)
    t.add_argument("--games", type=int, default=0, help="only the first N games (0: all)")
    t.add_argument("--device", default="auto", help="auto (cuda when present), cuda or cpu")
    t.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = ap.parse_args(argv)
    (_eval if args.what == "eval" else _train)(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
