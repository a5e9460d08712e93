"""Temperature scaling of the win logit: ``p = sigmoid(logit / T)``, one number fitted on the
validation games that select the epoch (never the judged games, never a test season).

Whether to keep it is decided on those same selection games by two-fold cross-fitting (folds by
game, so the cuts of one game stay together): T is kept only when the held-out log loss improves;
otherwise T = 1 (no change). The judged games then MEASURE the effect, they decide nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

T_BOUNDS = (0.25, 4.0)


def _nll(logit: np.ndarray, win: np.ndarray, t: float) -> float:
    z = logit / t
    # log(1 + e^z) - y z, stable for large |z|
    return float(np.mean(np.logaddexp(0.0, z) - win * z))


def logit_of(p: np.ndarray) -> np.ndarray:
    """The win logit back from a probability (clipped away from 0 and 1)."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1 - 1e-7)
    return np.log(p) - np.log1p(-p)


def fit_temperature(logit: np.ndarray, win: np.ndarray) -> float:
    """The T in ``T_BOUNDS`` minimizing the log loss of ``sigmoid(logit / T)`` on these samples."""
    logit, win = np.asarray(logit, dtype=np.float64), np.asarray(win, dtype=np.float64)
    if logit.size == 0:
        raise ValueError("fit_temperature: no samples")
    res = minimize_scalar(lambda t: _nll(logit, win, t), bounds=T_BOUNDS, method="bounded")
    return float(res.x)


def choose_temperature(logit: np.ndarray, win: np.ndarray, game: np.ndarray) -> tuple[float, dict[str, Any]]:
    """T fitted on all samples if two-fold cross-fitting by game says it lowers the held-out log
    loss, else 1.0; with the cross-fitted numbers that decided it."""
    logit, win = np.asarray(logit, dtype=np.float64), np.asarray(win, dtype=np.float64)
    _, code = np.unique(np.asarray(game), return_inverse=True)
    fold = code % 2
    raw = cal = 0.0
    for k in (0, 1):
        held = fold == k
        if held.all() or not held.any():
            return 1.0, {"kept": False, "note": "too few games to cross-fit"}
        t = fit_temperature(logit[~held], win[~held])
        raw += _nll(logit[held], win[held], 1.0) * held.sum()
        cal += _nll(logit[held], win[held], t) * held.sum()
    raw, cal = raw / len(win), cal / len(win)
    keep = cal < raw
    t_all = fit_temperature(logit, win)
    return (t_all if keep else 1.0), {
        "kept": bool(keep),
        "fitted_temperature": t_all,
        "cv_log_loss_raw": raw,
        "cv_log_loss_scaled": cal,
        "samples": int(len(win)),
    }


def scaled_probability(p: np.ndarray, temperature: float) -> np.ndarray:
    """``sigmoid(logit(p) / T)``: apply a temperature to probabilities already computed."""
    return 1.0 / (1.0 + np.exp(-logit_of(p) / temperature))
