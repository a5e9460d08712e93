"""Refit the game-state head's win scalars on the selection games: an in-game calibration.

The head turns the towers' full-game logit ``l`` and the state at a cut (lead ``d``, time left
``tau``) into ``win = (k d + tau l) / sqrt(tau + tau0) + j d`` (``models.game_state``). Its three
scalars are learned with everything else on all training seasons, while what a lead is worth
drifts from season to season (pace, three-point rate, home advantage; 2020-21 was played largely
without crowds). The score-and-clock baseline fitted on the latest games carries the latest
values; this gives the model the same: with the towers frozen, ``k, tau0, j`` are fitted by
maximum likelihood on random cuts of the selection games (the earlier half of the validation
dates, which already choose the epoch and the temperature; the judged games stay unseen).

As for the temperature (``training.calibration``), whether to keep the refit is decided on the
selection games by two-fold cross-fitting by game: it is kept only when the held-out log loss of
the refitted scalars is lower than that of the trained ones. Margin and total are not touched.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy.optimize import minimize

from nba_pipeline.models.forecaster import NBAForecaster
from nba_pipeline.training.dataset import NBADataset
from nba_pipeline.training.predict import forecast_outputs

CUTS_PER_GAME = 8  # random in-game cuts of each selection game (the pregame cut is added)
K_BOUNDS, TAU0_BOUNDS, FLAT_BOUNDS = (0.05, 5.0), (1e-4, 0.2), (-2.0, 2.0)


def head_inputs(
    model: NBAForecaster, dataset: NBADataset, per_game: int = CUTS_PER_GAME, seed: int = 0
) -> dict[str, np.ndarray]:
    """The head's inputs at the pregame cut and ``per_game`` random cuts of every game of
    ``dataset``: full-game logit ``l``, lead ``d`` and time left ``tau`` (the model's units), the
    outcome ``win`` and the game index ``game`` [N] each."""
    a = dataset.arrays
    games = np.asarray(dataset.games, dtype=np.int64)
    rng = np.random.default_rng(seed)
    n_ev = a.n_events[games]
    cuts = np.column_stack(
        [np.zeros(len(games), np.int64), rng.integers(1, n_ev[:, None] + 1, (len(games), per_game))]
    )
    cuts = np.where(n_ev[:, None] > 0, cuts, 0)
    g = np.repeat(games, per_game + 1)
    cut = cuts.reshape(-1)
    logit = forecast_outputs(model, dataset, g, cut, shaped=False)["win_logit"].astype(np.float64)
    seq = dataset.sequence_tensors(g, cut)
    win = (a.home_pts[g] > a.away_pts[g]).astype(np.float64)
    return {
        "l": logit,
        "d": seq["score_diff"][:, 0].numpy().astype(np.float64),
        "tau": seq["time_left"][:, 0].numpy().clip(0.0, 1.0).astype(np.float64),
        "win": win,
        "game": g,
    }


def win_logit(x: dict[str, np.ndarray], k: float, tau0: float, flat: float) -> np.ndarray:
    """The head's win logit (``models.game_state``) with these scalars."""
    return (k * x["d"] + x["tau"] * x["l"]) / np.sqrt(x["tau"] + tau0) + flat * x["d"]


def log_loss(x: dict[str, np.ndarray], scalars: dict[str, float]) -> float:
    z = win_logit(x, scalars["win_k"], scalars["tau0"], scalars["lead_flat"])
    return float(np.mean(np.logaddexp(0.0, z) - x["win"] * z))


def fit_win_scalars(x: dict[str, np.ndarray], start: dict[str, float]) -> dict[str, float]:
    """``win_k, tau0, lead_flat`` minimizing the log loss on ``x`` (bounded, from ``start``)."""
    names = ("win_k", "tau0", "lead_flat")
    res = minimize(
        lambda p: log_loss(x, dict(zip(names, p, strict=True))),
        x0=np.array(
            [np.clip(start[n], *b) for n, b in zip(names, (K_BOUNDS, TAU0_BOUNDS, FLAT_BOUNDS), strict=True)]
        ),
        method="L-BFGS-B",
        bounds=[K_BOUNDS, TAU0_BOUNDS, FLAT_BOUNDS],
    )
    return {n: float(v) for n, v in zip(names, res.x, strict=True)}


def trained_scalars(model: NBAForecaster) -> dict[str, float]:
    head = model.fusion.state_head
    c = head.scalars()
    flat = 0.0 if head.lead_flat is None else float(head.lead_flat)
    return {"win_k": float(c["win_k"]), "tau0": float(c["tau0"]), "lead_flat": flat}


def choose_win_scalars(
    x: dict[str, np.ndarray], current: dict[str, float]
) -> tuple[dict[str, float], dict[str, Any]]:
    """The scalars refitted on all of ``x`` if two-fold cross-fitting by game says they lower the
    held-out log loss, else ``current``; with the cross-fitted numbers that decided it."""
    _, code = np.unique(x["game"], return_inverse=True)
    fold = code % 2
    before = after = 0.0
    for k in (0, 1):
        held = fold == k
        if held.all() or not held.any():
            return current, {"kept": False, "note": "too few games to cross-fit"}
        part = {n: v[~held] for n, v in x.items()}
        test = {n: v[held] for n, v in x.items()}
        fitted = fit_win_scalars(part, current)
        before += log_loss(test, current) * held.sum()
        after += log_loss(test, fitted) * held.sum()
    before, after = before / len(x["win"]), after / len(x["win"])
    refit = fit_win_scalars(x, current)
    keep = after < before
    report = {
        "kept": bool(keep),
        "trained": current,
        "refitted": refit,
        "cv_log_loss_trained": before,
        "cv_log_loss_refitted": after,
        "samples": int(len(x["win"])),
    }
    return (refit if keep else current), report


def _inverse_softplus(y: float) -> float:
    return y + math.log(-math.expm1(-y))


def refit_state_head(model: NBAForecaster, select: NBADataset, seed: int = 0) -> dict[str, Any]:
    """Refit the head's win scalars on the games of ``select`` (module docstring) and write them into
    ``model`` when kept. Returns the report (``kept``, both sets of scalars, cross-fitted losses)."""
    head = model.fusion.state_head if model.cfg.fusion.state_head else None
    if head is None or head.lead_flat is None:
        return {"kept": False, "note": "the model has no game-state head with a flat lead term"}
    x = head_inputs(model, select, seed=seed)
    chosen, report = choose_win_scalars(x, trained_scalars(model))
    if report["kept"]:
        with torch.no_grad():
            head.raw["win_k"].fill_(_inverse_softplus(chosen["win_k"]))
            head.raw["tau0"].fill_(_inverse_softplus(chosen["tau0"]))
            head.lead_flat.fill_(chosen["lead_flat"])
    return report
