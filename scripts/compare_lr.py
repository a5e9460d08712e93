"""Compare learning rates on the temporal VALIDATION split of the training seasons only (the test
season is never read), so hyperparameters are chosen without looking at test games.

    python scripts/compare_lr.py --seasons 2022-23 --lrs 1e-4 3e-4 1e-3 --epochs 15

Reads the season model inputs from the features directory (NBA_DATA_DIR/features) and prints,
per learning rate, the best epoch by validation loss and its pregame / all-checkpoint metrics.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from nba_pipeline import settings
from nba_pipeline.training.config import RunConfig
from nba_pipeline.training.fit import fit_forecaster, load_training_arrays


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seasons", nargs="+", required=True)
    ap.add_argument("--lrs", nargs="+", type=float, default=[1e-4, 3e-4, 1e-3])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    arrays = load_training_arrays(settings.features_dir(), args.seasons)
    print(f"seasons {args.seasons}: {arrays.n_games} games; validation = last 20% of dates")
    for lr in args.lrs:
        cfg = RunConfig.from_dict(
            {
                "data": {"train_seasons": args.seasons},
                "optim": {"lr": lr, "max_epochs": args.epochs, "patience": args.epochs},
            }
        )
        with tempfile.TemporaryDirectory() as work:
            out = fit_forecaster(arrays, cfg, Path(work))
        r = out.result
        pre, alls = r.best_metrics["pregame"], r.best_metrics["all"]
        curve = " ".join(f"{h['val_loss']:.3f}" for h in r.history)
        print(
            f"lr {lr:g}: best epoch {r.best_epoch} val loss {r.best_val_loss:.4f}"
            f" | pregame acc {pre['accuracy']:.3f} Brier {pre['brier']:.4f}"
            f" | all acc {alls['accuracy']:.3f} Brier {alls['brier']:.4f}"
            f" margin MAE {alls['margin_mae']:.2f} total MAE {alls['total_mae']:.2f}",
            flush=True,
        )
        print(f"    val loss by epoch: {curve}", flush=True)


if __name__ == "__main__":
    main()
