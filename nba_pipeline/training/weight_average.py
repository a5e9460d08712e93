"""An exponential moving average of a model's weights (Polyak averaging), for evaluation.

A few thousand games a season make the last steps' weights noisy: two seeds of the same run
differ in game by about as much as the model differs from its baselines. The average of the
weights over the last hundred or so steps is a smoother model at no cost in training. The
trainer evaluates, selects and saves the averaged weights and keeps training the raw ones.

The decay ramps up as ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates, so the first
epoch's average is not dominated by the random initial weights.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn


class WeightAverage:
    """The moving average of ``model``'s parameters (not its buffers)."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay must be in (0, 1), got {decay}")
        self.decay = float(decay)
        self.updates = 0
        self.shadow = [p.detach().clone() for p in model.parameters()]

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average toward the current weights (call after each optimizer step)."""
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for s, p in zip(self.shadow, model.parameters(), strict=True):
            s.lerp_(p.detach(), 1.0 - decay)

    @contextmanager
    def applied(self, model: nn.Module) -> Iterator[None]:
        """``model`` holds the averaged weights inside the block and its own weights after it."""
        params = list(model.parameters())
        saved = [p.detach().clone() for p in params]
        with torch.no_grad():
            for p, s in zip(params, self.shadow, strict=True):
                p.copy_(s)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, s in zip(params, saved, strict=True):
                    p.copy_(s)

    def state_dict(self) -> dict[str, Any]:
        return {"decay": self.decay, "updates": self.updates, "shadow": self.shadow}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if len(state["shadow"]) != len(self.shadow):
            raise ValueError("the saved weight average belongs to another architecture")
        self.decay, self.updates = float(state["decay"]), int(state["updates"])
        for s, v in zip(self.shadow, state["shadow"], strict=True):
            s.copy_(v)
