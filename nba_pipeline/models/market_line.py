"""The betting market's line as the full-game forecast of every game that has one.

The towers forecast from what the pipeline computes itself (ratings, rest, lineups, play-by-play);
the market also prices injuries, rest decisions and news. No blend of the two learned here beat
the line alone on games it had not seen (docs/experiments.md), so where a game has a line its
full-game outputs (before the game-state head) are the line's own forecast, in the heads' units:

    win_logit = logit_scale * market_logit
    margin    = (market margin in points - margin_mean) / margin_std
    total     = (market total in points - total_mean) / total_std      (where the line has a total)

(the line in the context's units, ``features.context``; the means and stds those of the training
targets, ``models.norm.TargetNorm``). ``logit_scale`` undoes what comes after: the game-state
head divides a pregame logit by ``sqrt(1 + tau0)`` and the forecast divides it by the win
temperature (:func:`pregame_logit_scale`). Where a game has no line the towers' outputs pass
unchanged, and so does the total where the line has no total (the live odds feed gives none).

The line never reaches the towers: they stay the model of a game without a line, trained on every
game (``training.trainer`` adds their loss on the games with lines), so a forecast without a line
is as good as that of a model that never saw lines.

Side-equivariance holds as for the heads: the line's logit and margin change sign with the teams,
its total does not.
"""

from __future__ import annotations

import math
from typing import Protocol

import torch

from nba_pipeline.features.context import LINE_MARGIN_SCALE, LINE_TOTAL_CENTER, LINE_TOTAL_SCALE

# market_logit, market_margin, market_total, has_line, has_total (features.context.LINE_FEATURES)
LINE_WIDTH = 5
HAS_LINE, HAS_TOTAL = 3, 4


class TargetScales(Protocol):
    """The training targets' means and stds in points: a ``TargetNorm`` or the game-state head,
    which holds them as buffers."""

    margin_mean: float | torch.Tensor
    margin_std: float | torch.Tensor
    total_mean: float | torch.Tensor
    total_std: float | torch.Tensor


def the_line_where_given(
    towers: dict[str, torch.Tensor],
    line: torch.Tensor,
    logit_scale: float | torch.Tensor,
    scales: TargetScales,
) -> dict[str, torch.Tensor]:
    """The full-game outputs (``win_logit``, ``margin``, ``total``, [B] each): the line's own
    forecast where the game has a line (``line`` [B, LINE_WIDTH]), ``towers`` where it has none."""
    if line.shape[-1] != LINE_WIDTH:
        raise ValueError(f"the line has {line.shape[-1]} values, expected {LINE_WIDTH}")
    own = {
        "win_logit": logit_scale * line[:, 0],
        "margin": (LINE_MARGIN_SCALE * line[:, 1] - scales.margin_mean) / scales.margin_std,
        "total": (LINE_TOTAL_SCALE * line[:, 2] + LINE_TOTAL_CENTER - scales.total_mean) / scales.total_std,
    }
    has = line[:, HAS_LINE] > 0.5
    has_total = has & (line[:, HAS_TOTAL] > 0.5)
    return {k: torch.where(has_total if k == "total" else has, own[k], v) for k, v in towers.items()}


def pregame_logit_scale(tau0: float, temperature: float) -> float:
    """What the line's no-vig logit is multiplied by so that the pregame forecast of a game with a
    line is the line's probability: the game-state head divides a pregame logit by
    ``sqrt(1 + tau0)`` and the forecast divides it by the win ``temperature``."""
    return temperature * math.sqrt(1.0 + tau0)
