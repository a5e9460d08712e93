"""GameStateHead: what the score and the clock at a cut already say about how the game ends.

A basketball game's remaining margin behaves much like a random walk: with ``tau`` of the game
left, a lead of ``d`` points and an expected full-game margin ``mu`` (the pregame edge), the final
margin is about ``d + tau * mu`` with a spread growing like ``sqrt(tau)``, so

    P(home wins) ~ Phi((d + tau * mu) / (sigma * sqrt(tau))).

A network can learn that shape from the score fed as one input among many, but only roughly: the
deep model used to trail a logistic regression on exactly this feature late in games. This module
writes the shape into the heads, and the towers only supply what the score and clock cannot know
(the edge ``mu``, in-game adjustments):

    win_logit = (k * d + tau * l) / sqrt(tau + tau0) + j * d
    margin_z  = a_m * d + tau * m
    total_z   = a_t * s + tau * t

where ``l, m, t`` are the fused heads' outputs (a full game's win logit, margin and total in
z-units), ``d`` is the score differential and ``s`` the points above the expected pace at the cut
(the CLS position of the sequence, in the tokenizer's units), ``k, tau0, a_m, a_t`` are four
learned positive scalars and ``j`` a learned scalar of either sign (``lead_flat``). Real leads are
not quite a random walk's (leaders slow the game down, trailers foul, starters rest in garbage
time): fitted on validation games with the model's own pregame logit, a lead's weight is
``k / sqrt(tau + tau0)`` plus a part ``j`` that does not grow as the clock runs down (j < 0 there),
and ``tau0`` is about one possession, not the minute of the pure random walk. Without ``j`` in the
head the towers could only undo the excess weight of a lead themselves, and in one validation
window they did, at a cost in Brier early in games (their full-game logit moved against the lead:
std 0.66, correlation -0.75 with it at the end of Q1).
Pregame (``tau = 1``, ``d = s = 0``) the forecast is the towers' alone. The margin follows from
``final = current + tau * full-game margin``; the total from ``final = points so far + tau *
full-game total``, which in points above pace is ``s * 20 + tau * t``.

Every term keeps the forecast side-equivariant: ``d`` flips sign with the teams, ``tau`` and ``s``
do not, and ``l, m`` are the already side-combined outputs.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.functional import softplus

# Starting values of the positive scalars, in the units the sequence inputs use (score_diff is
# points / the season's in-game std, ~10.5; score_total is points above pace / 20; margin z is
# points / ~14; total z points / ~19.5). A lead of one in-game std at half time is then worth a win
# logit of about 1.5 / sqrt(0.5), as the random walk with a full-game spread of ~12 points says;
# tau0 = 0.005 is about 15 seconds, a possession. ``lead_flat`` (either sign) starts at 0.
INIT = {"win_k": 1.5, "tau0": 0.005, "margin_a": 10.5 / 14.0, "total_a": 20.0 / 19.5}


def _inverse_softplus(y: float) -> float:
    return y + math.log(-math.expm1(-y))


class GameStateHead(nn.Module):
    """(side-combined head outputs, CLS time left, score diff, score total) -> final outputs."""

    def __init__(self, lead_flat: bool = True) -> None:
        super().__init__()
        # Softplus keeps each scalar positive (a lead never lowers the win probability).
        self.raw = nn.ParameterDict(
            {k: nn.Parameter(torch.tensor(_inverse_softplus(v))) for k, v in INIT.items()}
        )
        # FusionConfig.state_lead_flat; heads released before it have no such term
        self.lead_flat = nn.Parameter(torch.zeros(())) if lead_flat else None

    def scalars(self) -> dict[str, torch.Tensor]:
        return {k: softplus(v) for k, v in self.raw.items()}

    def forward(
        self,
        out: dict[str, torch.Tensor],
        time_left: torch.Tensor,
        score_diff: torch.Tensor,
        score_total: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """``out``: win_logit / margin / total [B] for a full game; the state [B] at each cut."""
        c = self.scalars()
        tau = time_left.clamp(0.0, 1.0)
        win = (c["win_k"] * score_diff + tau * out["win_logit"]) / torch.sqrt(tau + c["tau0"])
        if self.lead_flat is not None:
            win = win + self.lead_flat * score_diff
        return {
            "win_logit": win,
            "margin": c["margin_a"] * score_diff + tau * out["margin"],
            "total": c["total_a"] * score_total + tau * out["total"],
        }
