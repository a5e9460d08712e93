"""Multi-task loss: BCE on the win logit + Huber on standardized margin + Huber on standardized total.

BCE is computed from logits (log-sum-exp form), never from probabilities, so saturated
predictions (p = 0 or 1) stay finite. Regression targets are z-scores, so the Huber delta is in
standard deviations and a 60-point margin (~4 sd) only contributes linearly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F

from nba_pipeline.training.config import LossWeights


class _Targets(Protocol):
    win: torch.Tensor
    margin: torch.Tensor
    total: torch.Tensor


def _task_losses(
    outputs: dict[str, torch.Tensor], batch: _Targets, w: LossWeights, reduction: str
) -> dict[str, torch.Tensor]:
    for name, out, target in (
        ("win_logit", outputs["win_logit"], batch.win),
        ("margin", outputs["margin"], batch.margin),
        ("total", outputs["total"], batch.total),
    ):
        if out.shape != target.shape:
            raise ValueError(f"output {name} has shape {tuple(out.shape)}, target {tuple(target.shape)}")
    win = batch.win.to(outputs["win_logit"].dtype)
    return {
        "win": F.binary_cross_entropy_with_logits(outputs["win_logit"], win, reduction=reduction),
        "margin": F.huber_loss(outputs["margin"], batch.margin, delta=w.huber_delta, reduction=reduction),
        "total": F.huber_loss(outputs["total"], batch.total, delta=w.huber_delta, reduction=reduction),
    }


def multitask_loss(
    outputs: dict[str, torch.Tensor], batch: _Targets, weights: LossWeights | None = None
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Weighted sum of the three task losses (means over the batch) and the detached parts."""
    w = weights or LossWeights()
    parts = _task_losses(outputs, batch, w, "mean")
    loss = w.win * parts["win"] + w.margin * parts["margin"] + w.total * parts["total"]
    return loss, {k: v.detach() for k, v in parts.items()}


def per_sample_loss(
    outputs: dict[str, torch.Tensor], batch: _Targets, weights: LossWeights | None = None
) -> torch.Tensor:
    """The weighted sum of the three task losses of each sample [B], for weighted fits."""
    w = weights or LossWeights()
    parts = _task_losses(outputs, batch, w, "none")
    return w.win * parts["win"] + w.margin * parts["margin"] + w.total * parts["total"]


@dataclass
class Targets:
    """The three targets of a set of samples ([B] each), as the loss reads them."""

    win: torch.Tensor
    margin: torch.Tensor
    total: torch.Tensor


def with_no_line_loss(
    outputs: dict[str, torch.Tensor],
    batch: _Targets,
    has_line: torch.Tensor,
    weights: LossWeights | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """:func:`multitask_loss` of the forecasts, plus that of the no-line outputs (``<key>_no_line``)
    on the samples that have a line (``has_line`` [B] bool): the towers then learn every game
    without the line (models.market_line), and the game-state head learns the games with one
    from the line's forecast."""
    loss, parts = multitask_loss(outputs, batch, weights)
    if bool(has_line.any()):
        sub = {k: outputs[f"{k}_no_line"][has_line] for k in ("win_logit", "margin", "total")}
        target = Targets(batch.win[has_line], batch.margin[has_line], batch.total[has_line])
        extra, _ = multitask_loss(sub, target, weights)
        loss = loss + extra * has_line.float().mean()
    return loss, parts
