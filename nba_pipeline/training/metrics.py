"""Forecast metrics: accuracy, Brier, log loss, margin/total MAE in points, per checkpoint; calibration.

Plain numpy functions (torch tensors and pandas columns are accepted and converted) so that the
trainer, the promotion rules, the registry comparison and the evaluation report compute the same
numbers the same way: :func:`score` is the one metrics dict, :func:`score_by_checkpoint` the one
grouping.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nba_pipeline.models.batch import CHECKPOINTS
from nba_pipeline.models.norm import TargetNorm

EPS = 1e-7  # probability clip for log loss: a single p=0 miss costs ~16, not inf


def _np(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64).reshape(-1)


def win_metrics(prob: Any, win: Any) -> dict[str, float]:
    """Accuracy (p >= 0.5 means a home-win call), Brier score and log loss of home-win probabilities."""
    p, y = _np(prob), _np(win)
    if p.shape != y.shape:
        raise ValueError(f"prob has {p.size} values, win has {y.size}")
    if p.size == 0:
        raise ValueError("no samples to score")
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError("probabilities must be finite and in [0, 1]")
    pc = np.clip(p, EPS, 1 - EPS)
    return {
        "accuracy": float(np.mean((p >= 0.5) == (y >= 0.5))),
        "brier": float(np.mean((p - y) ** 2)),
        "log_loss": float(-np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc))),
    }


def score(
    p_home: Any, margin: Any, total: Any, win: Any, margin_true: Any, total_true: Any
) -> dict[str, float]:
    """The metrics dict, written once: ``n``, accuracy, Brier, log loss, margin and total MAE
    (in the units of ``margin``/``total``: points everywhere but inside :func:`forecast_metrics`)."""
    p, y = _np(p_home), _np(win)
    dm, dt = np.abs(_np(margin) - _np(margin_true)), np.abs(_np(total) - _np(total_true))
    if not (p.size == dm.size == dt.size):
        raise ValueError("all inputs must have one value per sample")
    return {
        "n": int(p.size),
        **win_metrics(p, y),
        "margin_mae": float(dm.mean()),
        "total_mae": float(dt.mean()),
    }


def score_by_checkpoint(
    checkpoint: Any,
    p_home: Any,
    margin: Any,
    total: Any,
    win: Any,
    margin_true: Any,
    total_true: Any,
) -> dict[str, dict[str, float]]:
    """:func:`score` over all samples (key ``"all"``) and per checkpoint name in ``checkpoint``;
    checkpoints in ``CHECKPOINTS`` order, any other names after them in order of appearance."""
    names = np.asarray(checkpoint, dtype=object).reshape(-1)
    cols = [_np(c) for c in (p_home, margin, total, win, margin_true, total_true)]
    if any(c.size != names.size for c in cols):
        raise ValueError("all inputs must have one value per sample")
    known = {name: i for i, name in enumerate(CHECKPOINTS)}
    seen = list(dict.fromkeys(names.tolist()))
    order = sorted(seen, key=lambda n: (known.get(n, len(known)), seen.index(n)))
    out = {"all": score(*cols)}
    for name in order:
        sel = names == name
        out[str(name)] = score(*(c[sel] for c in cols))
    return out


def prediction_metrics(preds: Any) -> dict[str, dict[str, float]]:
    """:func:`score_by_checkpoint` of a ``training.predict.predict_frame`` table (points)."""
    return score_by_checkpoint(
        *(
            preds[c].to_numpy()
            for c in ("checkpoint", "p_home", "margin", "total", "win", "margin_true", "total_true")
        )
    )


def forecast_metrics(
    prob: Any,
    margin_z_pred: Any,
    total_z_pred: Any,
    win: Any,
    margin_z: Any,
    total_z: Any,
    checkpoint: Any,
    norm: TargetNorm,
) -> dict[str, dict[str, float]]:
    """:func:`score_by_checkpoint` of the trainer's tensors: standardized (z) regression outputs,
    reported in points (z * std; the mean cancels in the error), and checkpoint codes."""
    code = _np(checkpoint).astype(np.int64)
    if code.size and ((code < 0) | (code >= len(CHECKPOINTS))).any():
        raise ValueError(f"checkpoint codes must be in 0..{len(CHECKPOINTS) - 1}")
    return score_by_checkpoint(
        np.asarray(CHECKPOINTS, dtype=object)[code],
        prob,
        _np(margin_z_pred) * norm.margin_std,
        _np(total_z_pred) * norm.total_std,
        win,
        _np(margin_z) * norm.margin_std,
        _np(total_z) * norm.total_std,
    )


def calibration_bins(prob: Any, win: Any, n_bins: int = 10) -> list[dict[str, float]]:
    """Predictions in ``n_bins`` equal-count bins by predicted probability (deciles by default).

    Each bin: lower/upper edge, count, mean predicted probability, actual home-win rate. With fewer
    predictions than bins, empty bins are kept with count 0 and NaN values, so there are always
    ``n_bins`` rows.
    """
    p, y = _np(prob), _np(win)
    if p.shape != y.shape or p.size == 0:
        raise ValueError("prob and win must be non-empty and of equal length")
    order = np.argsort(p, kind="stable")
    ranks = np.empty(p.size, dtype=np.int64)
    ranks[order] = np.arange(p.size)
    idx = ranks * n_bins // p.size  # equal-count bins (sizes differ by at most one)
    counts = np.bincount(idx, minlength=n_bins)
    sum_p = np.bincount(idx, weights=p, minlength=n_bins)
    sum_y = np.bincount(idx, weights=y, minlength=n_bins)
    bins = []
    for b in range(n_bins):
        sel = idx == b
        n = int(counts[b])
        lo, hi = (float(p[sel].min()), float(p[sel].max())) if n else (float("nan"), float("nan"))
        bins.append(
            {
                "bin": b,
                "lower": lo,
                "upper": hi,
                "count": n,
                "mean_pred": float(sum_p[b] / n) if n else float("nan"),
                "win_rate": float(sum_y[b] / n) if n else float("nan"),
            }
        )
    return bins
