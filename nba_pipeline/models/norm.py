"""Normalization statistics of the regression targets (margin, total).

Targets are standardized for the loss (so margin and total weigh alike whatever their scale) and
reported in points. The
same statistics must travel with a trained model, so they live in one small, torch-free value.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class TargetNorm:
    """Mean and standard deviation (points) of the final home margin and total points."""

    margin_mean: float
    margin_std: float
    total_mean: float
    total_std: float

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not math.isfinite(value):
                raise ValueError(f"TargetNorm.{name} must be finite, got {value}")
        for name in ("margin_std", "total_std"):
            if getattr(self, name) <= 0:
                raise ValueError(f"TargetNorm.{name} must be > 0, got {getattr(self, name)}")

    def to_points(self, target: str, z: Any) -> Any:
        """z-score -> points for ``target`` in {'margin', 'total'} (works on floats, arrays, tensors)."""
        mean, std = self._stats(target)
        return z * std + mean

    def to_z(self, target: str, points: Any) -> Any:
        """points -> z-score for ``target`` in {'margin', 'total'}."""
        mean, std = self._stats(target)
        return (points - mean) / std

    def _stats(self, target: str) -> tuple[float, float]:
        if target == "margin":
            return self.margin_mean, self.margin_std
        if target == "total":
            return self.total_mean, self.total_std
        raise KeyError(f"unknown target {target!r}; expected 'margin' or 'total'")

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> TargetNorm:
        return cls(**{k: float(data[k]) for k in ("margin_mean", "margin_std", "total_mean", "total_std")})
