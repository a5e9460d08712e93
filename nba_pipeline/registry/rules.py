"""The quality rules a model must pass before promotion, as plain functions (the Dagster asset
checks are thin wrappers). Each returns ``(passed, details)`` so a failure says by how much.

Noise rule for the calibration deciles: with ~10-100 games per bin, an observed win rate has a
binomial standard error of 5-15 points, so strict monotonicity would fail well-calibrated models
by chance. A drop between adjacent deciles counts as a violation only when it exceeds
``z`` (default 1.96) standard errors of the difference of the two rates; and, coarser but strict,
the upper half of the deciles must win more often than the lower half.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nba_pipeline.training.metrics import calibration_bins, win_metrics


def decile_monotonicity(p: np.ndarray, y: np.ndarray, n_bins: int = 10, z: float = 1.96) -> tuple[bool, dict]:
    """Calibration: the observed win rate rises with the predicted probability (noise rule above)."""
    bins = calibration_bins(p, y, n_bins=n_bins)
    rates = np.array([b["win_rate"] for b in bins])
    counts = np.array([b["count"] for b in bins], dtype=float)
    violations = []
    for i in range(n_bins - 1):
        drop = rates[i] - rates[i + 1]
        if drop <= 0:
            continue
        se = np.sqrt(
            rates[i] * (1 - rates[i]) / max(counts[i], 1)
            + rates[i + 1] * (1 - rates[i + 1]) / max(counts[i + 1], 1)
        )
        if drop > z * max(se, 1e-9):
            violations.append({"between_bins": [i, i + 1], "drop": float(drop), "allowed": float(z * se)})
    half = n_bins // 2
    lower = float(np.average(rates[:half], weights=counts[:half]))
    upper = float(np.average(rates[half:], weights=counts[half:]))
    passed = not violations and upper > lower
    return passed, {
        "bins": bins,
        "violations": violations,
        "lower_half_win_rate": lower,
        "upper_half_win_rate": upper,
        "rule": f"no adjacent drop beyond {z} SE and upper half > lower half",
    }


def prediction_span(p: np.ndarray, low: float = 0.3, high: float = 0.7) -> tuple[bool, dict]:
    """A model that never leaves [0.4, 0.6] says little: predictions must reach both ends."""
    pmin, pmax = float(np.min(p)), float(np.max(p))
    return (pmin <= low and pmax >= high), {"min": pmin, "max": pmax, "required": [low, high]}


def threshold(value: float, limit: float, higher_is_better: bool) -> tuple[bool, dict]:
    """A metric strictly beyond its limit; the details say by how much."""
    passed = value > limit if higher_is_better else value < limit
    return passed, {"value": float(value), "limit": limit, "direction": ">" if higher_is_better else "<"}


def pregame_quality(p: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Every blocking rule on pregame predictions, evaluated at once."""
    m = win_metrics(p, y)
    return {
        "accuracy": threshold(m["accuracy"], 0.55, True),
        "brier": threshold(m["brier"], 0.25, False),
        "calibration": decile_monotonicity(p, y),
        "span": prediction_span(p),
    }
