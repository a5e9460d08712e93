"""Two versions side by side: their validation metrics (which side is better, by each metric's
stated direction) and the hyperparameters that differ.

Each metric's direction is written down in :data:`METRIC_DIRECTIONS` rather than guessed from its
name (a guess calls "n" or a new "skill_loss" whatever its letters suggest); a metric missing from
the table is an error that says where to add it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from nba_pipeline.registry.errors import RegistryError

Direction = Literal["higher", "lower", "neither"]

# The leaf names of ``validation_metrics`` (``training.metrics.score``, per checkpoint) and which
# way is better. "neither": a count, not a quality, so no side is better.
METRIC_DIRECTIONS: dict[str, Direction] = {
    "accuracy": "higher",
    "brier": "lower",
    "log_loss": "lower",
    "margin_mae": "lower",
    "total_mae": "lower",
    "n": "neither",
}


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> ``{"pregame.accuracy": 0.61, "train.lr": 1e-4, ...}`` (every leaf)."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def flatten_metrics(metrics: Mapping[str, Any]) -> dict[str, float | None]:
    """:func:`flatten` keeping only the numbers (as floats) and None: what tables can compare."""
    return {
        k: None if v is None else float(v)
        for k, v in flatten(metrics).items()
        if v is None or (isinstance(v, int | float) and not isinstance(v, bool))
    }


def metric_direction(metric: str) -> Direction:
    """The direction of a flattened metric (``"pregame.brier"`` -> its leaf ``"brier"``: lower)."""
    leaf = metric.rsplit(".", 1)[-1]
    try:
        return METRIC_DIRECTIONS[leaf]
    except KeyError:
        raise RegistryError(
            f"metric {metric!r}: no direction known for {leaf!r}; add it to METRIC_DIRECTIONS in "
            f"nba_pipeline/registry/comparison.py ('higher', 'lower' or 'neither')"
        ) from None


def better(metric: str, a: float | None, b: float | None) -> str:
    """Which side is better: ``'a'``, ``'b'``, ``'='``, or ``''`` when a value is missing or the
    metric has no better side."""
    direction = metric_direction(metric)
    if direction == "neither" or a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return ""
    if a == b:
        return "="
    sign = 1 if direction == "higher" else -1
    return "b" if (b - a) * sign > 0 else "a"


def compare_metadata(ma: Mapping[str, Any], mb: Mapping[str, Any]) -> dict[str, Any]:
    """Side-by-side validation metrics (and differing hyperparameters) of two versions' metadata."""
    fa, fb = flatten_metrics(ma["validation_metrics"]), flatten_metrics(mb["validation_metrics"])
    rows = []
    for key in sorted(set(fa) | set(fb)):
        va, vb = fa.get(key), fb.get(key)
        delta = vb - va if va is not None and vb is not None else None
        rows.append({"metric": key, "a": va, "b": vb, "delta": delta, "better": better(key, va, vb)})
    ha, hb = flatten(ma["hyperparameters"]), flatten(mb["hyperparameters"])
    hyper = [
        {"name": k, "a": ha.get(k), "b": hb.get(k)}
        for k in sorted(set(ha) | set(hb))
        if ha.get(k) != hb.get(k)
    ]
    return {
        "a": ma["version"],
        "b": mb["version"],
        "data_date_range": {"a": ma["data_date_range"], "b": mb["data_date_range"]},
        "promoted": {"a": ma["promoted"], "b": mb["promoted"]},
        "metrics": rows,
        "hyperparameters": hyper,
    }
