"""MarketLineBlend: the towers' full-game forecast combined with the betting market's line.

The towers forecast from what the pipeline computes itself (ratings, rest, lineups, play-by-play);
the market also prices injuries, rest decisions and news. Where a game has a line, the full-game
outputs are a linear blend of the two:

    win_logit' = (1 + a_w) * l + b_w * market_logit
    margin'    = (1 + a_m) * m + b_m * market_margin + c_m
    total'     = (1 + a_t) * t + b_t * market_total + c_t      (where the line has a total)

(``l, m, t`` the side-combined full-game outputs, before the game-state head; the line in the
context's units, ``features.context``); where it has none, the outputs pass unchanged, and so does
the total where the line has no total (the live odds feed gives none). The blend nests the line:
with ``a = -1`` it is the line's own forecast (:func:`line_only_scalars`), and that is where
training sets it and leaves it (``training.line_blend`` says why: no blend learned here beat the
line on games it had not seen).

The blend reads the towers' outputs detached, so the line never trains the towers: they stay the
model of a game without a line, trained on every game (``training.trainer`` adds their loss on the
games with lines), and a forecast without a line is as good as a model that never saw lines. A new
blend's scalars start at 0: the towers alone.

Side-equivariance holds as for the heads: ``l, m`` and the line's logit and margin change sign
with the teams, the total and its line do not; ``c_m`` is a home-court term, as the fusion's
``side_bias``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from nba_pipeline.features.context import LINE_MARGIN_SCALE, LINE_TOTAL_CENTER, LINE_TOTAL_SCALE

# market_logit, market_margin, market_total, has_line, has_total (features.context.LINE_FEATURES)
LINE_WIDTH = 5
HAS_LINE, HAS_TOTAL = 3, 4
SCALARS = (
    "win_self",
    "win_line",
    "margin_self",
    "margin_line",
    "margin_bias",
    "total_self",
    "total_line",
    "total_bias",
)
# Added after blends were released: a stored blend without them was trained without them (0).
ADDED_SCALARS = ("margin_bias",)


class MarketLineBlend(nn.Module):
    """(full-game outputs [B] each, the line [B, LINE_WIDTH]) -> full-game outputs [B] each."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.ParameterDict({k: nn.Parameter(torch.zeros(())) for k in SCALARS})

    def forward(self, out: dict[str, torch.Tensor], line: torch.Tensor) -> dict[str, torch.Tensor]:
        if line.shape[-1] != LINE_WIDTH:
            raise ValueError(f"the line has {line.shape[-1]} values, expected {LINE_WIDTH}")
        w = self.w
        base = {k: v.detach() for k, v in out.items()}
        blended = {
            "win_logit": (1 + w["win_self"]) * base["win_logit"] + w["win_line"] * line[:, 0],
            "margin": (1 + w["margin_self"]) * base["margin"]
            + w["margin_line"] * line[:, 1]
            + w["margin_bias"],
            "total": (1 + w["total_self"]) * base["total"] + w["total_line"] * line[:, 2] + w["total_bias"],
        }
        has = {k: line[:, HAS_LINE] > 0.5 for k in out}
        has["total"] = has["total"] & (line[:, HAS_TOTAL] > 0.5)
        return {k: torch.where(has[k], blended[k], out[k]) for k in out}

    def _load_from_state_dict(
        self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any
    ) -> None:
        for name in ADDED_SCALARS:
            state_dict.setdefault(f"{prefix}w.{name}", torch.zeros(()))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def line_only_scalars(
    pregame_logit_scale: float, margin_mean: float, margin_std: float, total_mean: float, total_std: float
) -> dict[str, float]:
    """The blend's scalars that make its output the line's own forecast: the no-vig win logit (times
    ``pregame_logit_scale``, what the game-state head divides a pregame logit by), the line's margin
    and total in the targets' standardized units (``models.norm.TargetNorm``)."""
    return {
        "win_self": -1.0,
        "win_line": pregame_logit_scale,
        "margin_self": -1.0,
        "margin_line": LINE_MARGIN_SCALE / margin_std,
        "margin_bias": -margin_mean / margin_std,
        "total_self": -1.0,
        "total_line": LINE_TOTAL_SCALE / total_std,
        "total_bias": (LINE_TOTAL_CENTER - total_mean) / total_std,
    }
