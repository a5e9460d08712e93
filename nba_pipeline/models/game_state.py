"""GameStateHead: what the score and the clock at a cut already say about how the game ends.

A basketball game's remaining margin behaves much like a random walk: with ``tau`` of the game
left, a lead of ``d`` points and an expected full-game margin ``mu`` (the pregame edge), the final
margin is about ``d + tau * mu`` with a spread growing like ``sqrt(tau)``, so

    P(home wins) ~ Phi((d + tau * mu) / (sigma * sqrt(tau))).

A network can learn that shape from the score fed as one input among many, but only roughly: the
deep model used to trail a logistic regression on exactly this feature late in games. This module
writes the shape into the heads, and the towers only supply what the score and clock cannot know
(the edge ``mu``, in-game adjustments). In points:

    win_logit = (k * (d + w * ball) + tau * l) / sqrt(tau + tau0) + j * d
    margin    = lead * (1 + b_m * tau) + tau * full-game margin
    total     = points so far + b_t * tau * (points above pace) + tau * full-game total

where ``l`` and the full-game margin and total are the fused heads' outputs (``m, t`` in z-units:
margin = ``m * std + mean``), ``d`` is the score differential in the tokenizer's units, ``k, tau0``
learned positive scalars and ``j, b_m, b_t`` learned scalars of either sign starting at 0. Real
leads are not quite a random walk's (leaders slow the game down, trailers foul, starters rest in
garbage time): a lead's weight is ``k / sqrt(tau + tau0)`` plus a part ``j`` that does not grow as
the clock runs down, and ``tau0`` is about one possession, not the minute of the pure random walk;
``b_m`` and ``b_t`` let a lead or a fast start fade or hold, by a share that vanishes with the
time left.

``ball`` is who has the ball after the last event seen (+1 home, -1 away, 0 nobody:
``features.in_game_state``) and ``w`` what holding it is worth, in points (learned, starting at half
a point). It enters where a lead does, so it counts most in the last minutes, where it decides close
games: there it lowered the Brier on validation games, where an earlier try judged at 5:00 left had
found nothing (docs/experiments.md).

As the time left goes to zero every head converges to the score: the margin to the lead, the total
to the points scored, with no constant offset (the training means enter only through the share of
the game still to play). The game ends at zero time left with the scores apart: the forecast there
is the result (``FINAL_LOGIT``). Tied at zero time left, the game goes on to overtime: the clock and
the random-walk shape restart for five minutes (``OVERTIME``). To do this in points the head holds
the scales it was trained with (``set_scales``: the score-differential unit and the target
means and stds of ``models.norm.TargetNorm``), saved with its weights.

Pregame (``tau = 1``, ``d = s = 0``) the forecast is the towers' alone. Every term keeps the
forecast side-equivariant: ``d`` flips sign with the teams, ``tau`` and the points do not, and
``l, m`` are the already side-combined outputs.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.functional import softplus

# Starting values of the positive scalars, in the units the sequence inputs use (score_diff is
# points / the season's in-game std, ~10.5): a lead of one in-game std at half time is worth a win
# logit of about 1.5 / sqrt(0.5), as the random walk with a full-game spread of ~12 points says;
# tau0 = 0.005 is about 15 seconds, a possession. The signed scalars start at 0.
INIT = {"win_k": 1.5, "tau0": 0.005}
SIGNED = ("margin_fade", "total_fade")
BALL_INIT = 0.5  # points: what holding the ball is worth (a possession yields ~1.1 points)
# The scales a head uses before ``set_scales`` (a model built and not yet trained): typical values.
DEFAULT_SCALES = {
    "score_diff_std": 10.5,
    "margin_mean": 2.0,
    "margin_std": 14.0,
    "total_mean": 225.0,
    "total_std": 19.5,
}
SCORE_TOTAL_SCALE = 20.0  # points above pace are fed / 20 (features.tokenizer)
OVERTIME = 300.0 / 2880.0  # five minutes, in the share of a regulation game the clock counts
# The result as a logit: sigmoid(+-1000 / T) is exactly 1 or 0 in float32 and float64 for any
# calibration temperature T below 6 (those fitted are about 1). No gradient flows through it.
FINAL_LOGIT = 1000.0


def _inverse_softplus(y: float) -> float:
    return y + math.log(-math.expm1(-y))


class GameStateHead(nn.Module):
    """(side-combined head outputs, CLS time left, score diff, score total) -> final outputs."""

    def __init__(self) -> None:
        super().__init__()
        # Softplus keeps each scalar positive (a lead never lowers the win probability).
        self.raw = nn.ParameterDict(
            {k: nn.Parameter(torch.tensor(_inverse_softplus(v))) for k, v in INIT.items()}
        )
        self.signed = nn.ParameterDict({k: nn.Parameter(torch.zeros(())) for k in SIGNED})
        self.ball_worth = nn.Parameter(torch.tensor(BALL_INIT))
        self.lead_flat = nn.Parameter(torch.zeros(()))  # the lead's weight that does not grow (j)
        for name, value in DEFAULT_SCALES.items():
            self.register_buffer(name, torch.tensor(float(value)))

    def set_scales(self, score_diff_std: float, norm: object) -> None:
        """The training data's units: the score-differential std and the targets' ``TargetNorm``."""
        values = {"score_diff_std": score_diff_std}
        values |= {k: getattr(norm, k) for k in ("margin_mean", "margin_std", "total_mean", "total_std")}
        for name, value in values.items():
            getattr(self, name).fill_(float(value))

    def scalars(self) -> dict[str, torch.Tensor]:
        return {k: softplus(v) for k, v in self.raw.items()}

    def forward(
        self,
        out: dict[str, torch.Tensor],
        time_left: torch.Tensor,
        score_diff: torch.Tensor,
        score_total: torch.Tensor,
        ball: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """``out``: win_logit / margin / total [B] for a full game; the state [B] at each cut
        (``ball``: +1 home, -1 away, 0 when nobody has it)."""
        c = self.scalars()
        tau = time_left.clamp(0.0, 1.0)
        over = (tau <= 0.0) & (score_diff != 0)
        # A tie at zero time left goes on to overtime: five more minutes of the random walk.
        left = torch.where((tau <= 0.0) & (score_diff == 0), torch.full_like(tau, OVERTIME), tau)
        edge = score_diff + self.ball_worth * ball / self.score_diff_std  # the ball, as a lead
        win = (c["win_k"] * edge + left * out["win_logit"]) / torch.sqrt(left + c["tau0"])
        win = win + self.lead_flat * score_diff
        win = torch.where(over, torch.sign(score_diff) * FINAL_LOGIT, win)

        lead = score_diff * self.score_diff_std
        full_margin = out["margin"] * self.margin_std + self.margin_mean
        margin = lead * (1.0 + self.signed["margin_fade"] * left) + left * full_margin
        above_pace = score_total * SCORE_TOTAL_SCALE
        so_far = above_pace + self.total_mean * (1.0 - tau)  # pace: training mean x time played
        full_total = out["total"] * self.total_std + self.total_mean
        total = so_far + self.signed["total_fade"] * left * above_pace + left * full_total
        return {
            "win_logit": win,
            "margin": (margin - self.margin_mean) / self.margin_std,
            "total": (total - self.total_mean) / self.total_std,
        }
