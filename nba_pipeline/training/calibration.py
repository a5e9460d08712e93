"""Recalibration fitted on the validation games that select the epoch (never the judged games,
never a test season), one number at a time:

- temperature scaling of the win logit, ``p = sigmoid(logit / T)``;
- a shift of the home edge, ``logit + delta * s`` (``s``: how much each forecast's logit moves per
  unit of the model's learned home advantage, ``fusion.side_bias``). The home edge drifts between
  seasons (2020-21 was played largely without crowds) and the towers learn it from three seasons,
  the selection games are the most recent games a run has.

Whether to keep each is decided on those same selection games by two-fold cross-fitting (folds by
game, so the cuts of one game stay together): it is kept only when the held-out loss improves;
otherwise it is the identity. The judged games then MEASURE the effect, they decide nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

T_BOUNDS = (0.25, 4.0)
SHIFT_BOUNDS = (-2.0, 2.0)  # in units of the win logit (a home edge of about 0.3 today)


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


def _cross_fit(
    game: np.ndarray, fit: Callable[[np.ndarray], float], loss: Callable[[np.ndarray, float], float], identity: float
) -> tuple[float, float] | None:
    """Two-fold cross-fitting by game: ``fit(train_mask) -> value``, ``loss(held_mask, value) ->
    mean loss``. The held-out mean loss at ``identity`` and at the fitted values, or None when the
    games do not make two folds."""
    _, code = np.unique(np.asarray(game), return_inverse=True)
    fold = code % 2
    raw = tuned = 0.0
    for k in (0, 1):
        held = fold == k
        if held.all() or not held.any():
            return None
        value = fit(~held)
        raw += loss(held, identity) * held.sum()
        tuned += loss(held, value) * held.sum()
    return raw / len(fold), tuned / len(fold)


def choose_temperature(logit: np.ndarray, win: np.ndarray, game: np.ndarray) -> tuple[float, dict[str, Any]]:
    """T fitted on all samples if two-fold cross-fitting by game says it lowers the held-out log
    loss, else 1.0; with the cross-fitted numbers that decided it."""
    logit, win = np.asarray(logit, dtype=np.float64), np.asarray(win, dtype=np.float64)
    cv = _cross_fit(
        game,
        lambda m: fit_temperature(logit[m], win[m]),
        lambda m, t: _nll(logit[m], win[m], t),
        identity=1.0,
    )
    if cv is None:
        return 1.0, {"kept": False, "note": "too few games to cross-fit"}
    raw, cal = cv
    keep = cal < raw
    t_all = fit_temperature(logit, win)
    return (t_all if keep else 1.0), {
        "kept": bool(keep),
        "fitted_temperature": t_all,
        "cv_log_loss_raw": raw,
        "cv_log_loss_scaled": cal,
        "samples": int(len(win)),
    }


def _shift_nll(logit: np.ndarray, sens: np.ndarray, win: np.ndarray, delta: float) -> float:
    z = logit + delta * sens
    return float(np.mean(np.logaddexp(0.0, z) - win * z))


def fit_shift(logit: np.ndarray, sens: np.ndarray, win: np.ndarray) -> float:
    """The delta in ``SHIFT_BOUNDS`` minimizing the log loss of ``sigmoid(logit + delta * sens)``."""
    logit, sens, win = (np.asarray(x, dtype=np.float64) for x in (logit, sens, win))
    if logit.size == 0:
        raise ValueError("fit_shift: no samples")
    res = minimize_scalar(lambda d: _shift_nll(logit, sens, win, d), bounds=SHIFT_BOUNDS, method="bounded")
    return float(res.x)


def choose_shift(
    logit: np.ndarray, sens: np.ndarray, win: np.ndarray, game: np.ndarray
) -> tuple[float, dict[str, Any]]:
    """The home-edge shift fitted on all samples if two-fold cross-fitting by game says it lowers
    the held-out log loss, else 0.0; with the cross-fitted numbers that decided it."""
    logit, sens, win = (np.asarray(x, dtype=np.float64) for x in (logit, sens, win))
    cv = _cross_fit(
        game,
        lambda m: fit_shift(logit[m], sens[m], win[m]),
        lambda m, d: _shift_nll(logit[m], sens[m], win[m], d),
        identity=0.0,
    )
    if cv is None:
        return 0.0, {"kept": False, "note": "too few games to cross-fit"}
    raw, shifted = cv
    keep = shifted < raw
    d_all = fit_shift(logit, sens, win)
    return (d_all if keep else 0.0), {
        "kept": bool(keep),
        "fitted_shift": d_all,
        "cv_log_loss_raw": raw,
        "cv_log_loss_shifted": shifted,
        "samples": int(len(win)),
    }


def scaled_probability(p: np.ndarray, temperature: float) -> np.ndarray:
    """``sigmoid(logit(p) / T)``: apply a temperature to probabilities already computed."""
    return 1.0 / (1.0 + np.exp(-logit_of(p) / temperature))
