"""Where a game has a line, the model's full-game view is the line's own (``models.market_line``).

The blend's scalars are learned with the rest of the model, on the training games, where the
towers' forecasts are in-sample: they fit those games better than games to come, so the blend
learned there leans on them too much. Refitted on the held-out games that selected the epoch it
still did not hold: on the 2019-22 window the refit gave the towers 0.6 of the win logit and the
judged games then trailed the line alone (0.1993 against 0.1971); on 2018-21 it gave them none. Fit
on a few hundred games, the towers' weight beside the line is noise. So after training (and after
the temperature) the blend is set to reproduce the line exactly (:func:`the_line_alone`): pregame
the forecast of a game with a line is the line's, and in game the game-state head moves it with
the score, the clock and the ball. The towers forecast every game without a line.
"""

from __future__ import annotations

import math

import torch

from nba_pipeline.models.forecaster import NBAForecaster
from nba_pipeline.models.market_line import line_only_scalars
from nba_pipeline.models.norm import TargetNorm


def the_line_alone(model: NBAForecaster, norm: TargetNorm, temperature: float) -> dict[str, float]:
    """The blend's scalars that make ``model``'s pregame forecast the line's own, after the state
    head (which divides a pregame logit by ``sqrt(1 + tau0)``) and the temperature."""
    scale = temperature
    if model.cfg.fusion.state_head:
        scale *= math.sqrt(1.0 + model.fusion.state_head.scalars()["tau0"].item())
    return line_only_scalars(scale, norm.margin_mean, norm.margin_std, norm.total_mean, norm.total_std)


def nest_the_line(model: NBAForecaster, norm: TargetNorm, temperature: float = 1.0) -> dict[str, float]:
    """Set ``model``'s blend in place to :func:`the_line_alone`; returns its scalars (none for a
    model that reads no line)."""
    if not model.cfg.fusion.market_line:
        return {}
    scalars = the_line_alone(model, norm, temperature)
    with torch.no_grad():
        for k, v in scalars.items():
            model.fusion.market_line.w[k].fill_(v)
    return scalars
