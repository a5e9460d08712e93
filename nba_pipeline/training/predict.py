"""Predictions of a trained forecaster over a dataset, as a table: what asset checks, the
evaluation report and the reliability diagram all read.

The default path computes each part of the forward pass once per thing it depends on: the context
tower once per game, the graph encoder once per (game, ten players on court) (a game has ~30
lineups but ~460 cuts), and only the Transformer and the heads per cut. It equals the plain
per-batch forward pass (``reuse=False``) within float noise (tested).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import torch
from scipy.special import expit

from nba_pipeline.models.batch import CHECKPOINTS
from nba_pipeline.models.forecaster import N_SIDES, NBAForecaster, cut_state
from nba_pipeline.models.norm import TargetNorm
from nba_pipeline.training.dataset import NBADataset

BATCH_SIZE = 512  # samples per forward pass of the plain path
SEQ_BATCH = 2048  # cuts per Transformer pass of the reusing path (bounded memory, few round trips)
GRAPH_BATCH = 4096  # lineup graphs per GNN pass


def _by_side(rows: torch.Tensor, inverse: np.ndarray) -> torch.Tensor:
    """Rows of per-side stacked encodings ([N_SIDES * U, d]) for items ``inverse`` ([n] into U), in
    the model's stacked order ([N_SIDES * n, d])."""
    u = rows.shape[0] // N_SIDES
    inv = torch.from_numpy(inverse).to(rows.device)
    return rows.view(N_SIDES, u, -1)[:, inv].reshape(N_SIDES * len(inverse), -1)


def _head_inputs(
    model: NBAForecaster, dataset: NBADataset, g: np.ndarray, cut: np.ndarray
) -> Iterator[tuple[slice, tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]]:
    """The heads' inputs of cuts ``(g, cut)`` in chunks: (rows, (context, sequence, graph
    encodings), the cut's state), each encoding computed once per game / lineup / chunk of cuts
    (module docstring). Call it without autograd."""
    dev = next(model.parameters()).device
    games, g_inv = np.unique(g, return_inverse=True)
    ctx = model.encode_context(torch.from_numpy(dataset.arrays.context[games]).to(dev))
    key = np.column_stack([g, dataset.lineup_slots(g, cut)])
    _, first, l_inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    l_inv = l_inv.reshape(-1)
    parts = []
    for lo in range(0, len(first), GRAPH_BATCH):
        sel = first[lo : lo + GRAPH_BATCH]
        enc = model.encode_graph(dataset.graph_batch(g[sel], cut[sel]).to(dev), len(sel))
        parts.append(enc.view(N_SIDES, len(sel), -1))
    graphs = torch.cat(parts, dim=1).reshape(N_SIDES * len(first), -1)
    for lo in range(0, len(g), SEQ_BATCH):
        sl = slice(lo, lo + SEQ_BATCH)
        seq = {k: v.to(dev) for k, v in dataset.sequence_tensors(g[sl], cut[sl]).items()}
        in_game = seq.pop("state")  # the head reads it at the cut; the Transformer does not
        encoded = (_by_side(ctx, g_inv[sl]), model.encode_sequence(**seq), _by_side(graphs, l_inv[sl]))
        yield sl, encoded, cut_state(seq["time_left"], seq["score_diff"], seq["score_total"], in_game)


def forecast_outputs(
    model: NBAForecaster, dataset: NBADataset, g: np.ndarray, cut: np.ndarray
) -> dict[str, np.ndarray]:
    """Raw model outputs (``win_logit``, standardized ``margin`` and ``total``) of cuts ``(g, cut)``,
    each part computed once per game / lineup / cut (module docstring). Eval mode, no autograd."""
    model.eval()
    out: dict[str, list[np.ndarray]] = {"win_logit": [], "margin": [], "total": []}
    with torch.inference_mode():
        for _, encoded, state in _head_inputs(model, dataset, g, cut):
            res = model.head(*encoded, state)
            for k in out:
                out[k].append(res[k].float().cpu().numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def _forecast_outputs_plain(
    model: NBAForecaster, dataset: NBADataset, idx: np.ndarray
) -> dict[str, np.ndarray]:
    """The same outputs from the model's ordinary forward pass on ModelBatches (the reference)."""
    model.eval()
    dev = next(model.parameters()).device
    out: dict[str, list[np.ndarray]] = {"win_logit": [], "margin": [], "total": []}
    with torch.inference_mode():
        for lo in range(0, len(idx), BATCH_SIZE):
            res = model(dataset.get_batch(idx[lo : lo + BATCH_SIZE]).to(dev))
            for k in out:
                out[k].append(res[k].float().cpu().numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def predict_frame(
    model: NBAForecaster,
    dataset: NBADataset,
    norm: TargetNorm,
    indices: np.ndarray | None = None,
    reuse: bool = True,
    temperature: float = 1.0,
) -> pd.DataFrame:
    """One row per sample (all of ``dataset``, or ``indices``): ``game_id, game_index, checkpoint,
    cut, p_home, margin, total`` (points) and the truth ``win, margin_true, total_true``. Runs
    where the model is (CPU or GPU), in eval mode. ``reuse=False`` runs the plain forward pass per
    batch (the reference the reusing path is tested against); ``temperature`` divides the win
    logit (calibration, ``training.calibration``)."""
    idx = np.arange(len(dataset)) if indices is None else np.asarray(indices, dtype=np.int64)
    if idx.size == 0:
        raise ValueError("predict_frame: no samples to predict")
    was_training = model.training
    gi, cut, code = dataset.cuts_of(idx)
    try:
        raw = (
            forecast_outputs(model, dataset, gi, cut)
            if reuse
            else _forecast_outputs_plain(model, dataset, idx)
        )
    finally:
        model.train(was_training)
    a = dataset.arrays
    df = pd.DataFrame(
        {
            "game_id": a.game_id[gi].astype(str),
            "game_index": gi,
            "checkpoint": np.asarray(CHECKPOINTS, dtype=object)[code],
            "p_home": expit(raw["win_logit"].astype(np.float64) / temperature),
            "margin": norm.to_points("margin", raw["margin"]),
            "total": norm.to_points("total", raw["total"]),
            "cut": cut,
        }
    )
    df["p_home"] = df["p_home"].astype(np.float32)
    df["win"] = (a.home_pts[gi] > a.away_pts[gi]).astype(float)
    df["margin_true"] = (a.home_pts[gi] - a.away_pts[gi]).astype(float)
    df["total_true"] = (a.home_pts[gi] + a.away_pts[gi]).astype(float)
    return df
