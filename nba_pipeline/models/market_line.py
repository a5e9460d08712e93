"""MarketLineBlend: the towers' full-game forecast combined with the betting market's line.

The towers forecast from what the pipeline computes itself (ratings, rest, lineups, play-by-play);
the market also prices injuries, rest decisions and news. Where a game has a line, the full-game
outputs are a learned linear blend of the two:

    win_logit' = (1 + a_w) * l + b_w * market_logit
    margin'    = (1 + a_m) * m + b_m * market_margin
    total'     = (1 + a_t) * t + b_t * market_total + c_t

(``l, m, t`` the side-combined full-game outputs, before the game-state head; the line in the
context's units, ``features.context``); where it has none, the outputs pass unchanged. The blend
reads the towers' outputs detached, so the line never trains the towers: they stay the model of a
game without a line, trained on every game (``training.trainer`` adds their loss on the games
with lines), and a forecast without a line (tomorrow's games, a season without an odds file) is as
good as a model that never saw lines. Every scalar starts at 0: the blend starts as the towers.

Side-equivariance holds as for the heads: ``l, m`` and the line's logit and margin change sign
with the teams, the total and its line do not.
"""

from __future__ import annotations

import torch
from torch import nn

LINE_WIDTH = 4  # market_logit, market_margin, market_total, has_line (features.context.LINE_FEATURES)
SCALARS = ("win_self", "win_line", "margin_self", "margin_line", "total_self", "total_line", "total_bias")


class MarketLineBlend(nn.Module):
    """(full-game outputs [B] each, the line [B, 4]) -> full-game outputs [B] each."""

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
            "margin": (1 + w["margin_self"]) * base["margin"] + w["margin_line"] * line[:, 1],
            "total": (1 + w["total_self"]) * base["total"] + w["total_line"] * line[:, 2] + w["total_bias"],
        }
        has = line[:, 3] > 0.5
        return {k: torch.where(has, blended[k], out[k]) for k in out}
