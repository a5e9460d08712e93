"""Predictions of a trained forecaster over a dataset, as a table: what asset checks, the
evaluation report and the reliability diagram all read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from nba_pipeline.models.batch import CHECKPOINTS
from nba_pipeline.models.forecaster import NBAForecaster
from nba_pipeline.models.norm import TargetNorm
from nba_pipeline.training.dataset import NBADataset

BATCH_SIZE = 512  # samples per forward pass: bounded memory, few Python round trips


@torch.no_grad()
def predict_frame(
    model: NBAForecaster,
    dataset: NBADataset,
    norm: TargetNorm,
    indices: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per sample (all of ``dataset``, or ``indices``): ``game_id, game_index, checkpoint,
    cut, p_home, margin, total`` (points) and the truth ``win, margin_true, total_true``. Runs
    where the model is (CPU or GPU), in eval mode."""
    model.eval()
    device = next(model.parameters()).device
    idx = np.arange(len(dataset)) if indices is None else np.asarray(indices, dtype=np.int64)
    if idx.size == 0:
        raise ValueError("predict_frame: no samples to predict")
    names = ("game_index", "checkpoint", "p_home", "margin", "total")
    cols: dict[str, list[np.ndarray]] = {k: [] for k in names}
    for start in range(0, len(idx), BATCH_SIZE):
        batch = dataset.get_batch(idx[start : start + BATCH_SIZE])
        out = model.predict(batch.to(device), norm)
        cols["game_index"].append(batch.game_index.numpy())
        cols["checkpoint"].append(batch.checkpoint.numpy())
        cols["p_home"].append(out["win_prob"].cpu().numpy())
        cols["margin"].append(out["margin"].cpu().numpy())
        cols["total"].append(out["total"].cpu().numpy())
    df = pd.DataFrame({k: np.concatenate(v) for k, v in cols.items()})
    a = dataset.arrays
    gi = df["game_index"].to_numpy()
    df.insert(0, "game_id", a.game_id[gi].astype(str))
    df["checkpoint"] = np.asarray(CHECKPOINTS, dtype=object)[df["checkpoint"].to_numpy()]
    df["cut"] = np.array([dataset.cut_of(int(i))[1] for i in idx], dtype=np.int64)
    df["win"] = (a.home_pts[gi] > a.away_pts[gi]).astype(float)
    df["margin_true"] = (a.home_pts[gi] - a.away_pts[gi]).astype(float)
    df["total_true"] = (a.home_pts[gi] + a.away_pts[gi]).astype(float)
    return df
