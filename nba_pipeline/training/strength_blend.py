"""The towers' forecast of who wins, averaged with a linear fit of strength and rest.

Before tip-off, without a line, the towers' forecast is no better than a logistic regression of the
home win on the strength of the players available and rest (``STRENGTH_FEATURES``), and it moves
by up to 0.01 Brier from one epoch to the next; the two err differently, and their average beats
both on whole seasons the model was not trained on (docs/experiments.md). So once trained, the
towers' win logit and margin become

    (1 - STRENGTH_SHARE) * towers + STRENGTH_SHARE * linear fit

where the linear fit is a logistic regression (win) and a least-squares fit (margin, in the heads'
z-units) on the training games of the home-minus-away part of its features and a home indicator
(0 at a neutral site). The fusion's last steps are linear in the context skip, the win and margin
heads and the home edge (``models.fusion``), so the average is written into those weights: no new
part, and a stored model is a plain forecaster. The total is the towers' alone (strength says who
wins, not how many points). Where a game has a line none of this matters: the line replaces the
towers' full-game outputs (``models.market_line``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from nba_pipeline.features.context import CONTEXT_SWAP_PERM, CONTEXT_SWAP_SIGN, FEATURE_NAMES, NEUTRAL_DIM
from nba_pipeline.models.forecaster import NBAForecaster
from nba_pipeline.models.norm import TargetNorm

STRENGTH_FEATURES = ("avail_rating_diff", "rest_diff", "home_back_to_back")
STRENGTH_DIMS = [FEATURE_NAMES.index(f) for f in STRENGTH_FEATURES]  # their context dims
STRENGTH_SHARE = 0.5
WIN, MARGIN = 0, 1  # rows of the context skip and entries of the home edge


def strength_design(context: np.ndarray) -> np.ndarray:
    """The home-minus-away part of ``STRENGTH_FEATURES`` (what survives the fusion's
    ``combine_sides``) and the home indicator, [n, k + 1]."""
    x = context[:, STRENGTH_DIMS].astype(np.float64)
    mirrored = (context[:, CONTEXT_SWAP_PERM] * CONTEXT_SWAP_SIGN)[:, STRENGTH_DIMS].astype(np.float64)
    home = 1.0 - context[:, NEUTRAL_DIM].astype(np.float64)
    return np.column_stack([(x - mirrored) / 2.0, home])


def strength_fit(
    context: np.ndarray, home_pts: np.ndarray, away_pts: np.ndarray, norm: TargetNorm
) -> np.ndarray:
    """[2, k + 1] coefficients of the design (:func:`strength_design`): the win logit and the margin in
    z-units. Without an intercept the fit is side-equivariant as the towers are: the swapped game
    has the opposite home-minus-away part, and its forecast changes sign but for the home edge."""
    design = strength_design(context)
    margin = (home_pts - away_pts).astype(np.float64)
    scale = design.std(axis=0)
    scale[scale == 0] = 1.0
    logistic = LogisticRegression(C=0.1, fit_intercept=False, max_iter=5000)
    logistic.fit(design / scale, (margin > 0).astype(int))
    # the heads' margin at a neutral site is the team part minus the training mean (combine_sides)
    neutral = 1.0 - design[:, -1]
    z = (margin - norm.margin_mean) / norm.margin_std + neutral * norm.margin_mean / norm.margin_std
    margin_coef, *_ = np.linalg.lstsq(design, z, rcond=None)
    return np.vstack([logistic.coef_[0] / scale, margin_coef])


@torch.no_grad()
def blend_strength_fit(
    model: NBAForecaster, context: np.ndarray, home_pts: np.ndarray, away_pts: np.ndarray, norm: TargetNorm
) -> dict[str, list[float]]:
    """Write the average (module docstring) into a trained ``model``'s weights, the linear fit made
    on the training games given (``context`` [n, CONTEXT_DIM], final scores); returns the fit's
    coefficients (win logit, margin) for the model's record."""
    coef = strength_fit(context, home_pts, away_pts, norm)
    fusion = model.fusion
    # the game-state head divides a pregame logit by sqrt(1 + tau0): the fit is the forecast's logit
    coef[WIN] *= math.sqrt(1.0 + fusion.state_head.scalars()["tau0"].item())
    keep = 1.0 - STRENGTH_SHARE
    for row, head in ((WIN, fusion.win_head), (MARGIN, fusion.margin_head)):
        head.weight.mul_(keep)
        head.bias.mul_(keep)
        fusion.context_skip.weight[row].mul_(keep)
        fusion.context_skip.bias[row].mul_(keep)
        fitted = torch.as_tensor(coef[row, :-1], dtype=torch.float32)
        fusion.context_skip.weight[row, STRENGTH_DIMS] += STRENGTH_SHARE * fitted
        fusion.side_bias[row] = keep * fusion.side_bias[row] + STRENGTH_SHARE * float(coef[row, -1])
    features = [*STRENGTH_FEATURES, "home"]
    return {"features": features, "win": coef[WIN].tolist(), "margin": coef[MARGIN].tolist()}
