"""GameStateHead: the score and clock at a cut shape the forecast as a random walk says."""

from __future__ import annotations

import torch

from nba_pipeline.models.config import ForecasterConfig
from nba_pipeline.models.forecaster import NBAForecaster
from nba_pipeline.models.game_state import DEFAULT_SCALES, FINAL_LOGIT, INIT, OVERTIME, GameStateHead
from nba_pipeline.models.norm import TargetNorm
from nba_pipeline_tests.test_models.synthetic import NORM, make_batch


def _full_game(b: int, logit: float = 0.4, margin: float = 0.3, total: float = -0.2) -> dict:
    return {k: torch.full((b,), v) for k, v in (("win_logit", logit), ("margin", margin), ("total", total))}


def test_scalars_start_at_their_documented_values_and_stay_positive():
    head = GameStateHead()
    for name, value in head.scalars().items():
        assert abs(value.item() - INIT[name]) < 1e-6, name
    with torch.no_grad():
        for p in head.raw.values():
            p.fill_(-30.0)
        assert all(v.item() > 0 for v in head.scalars().values())


def test_pregame_forecast_is_the_towers_own():
    """Tip-off (all the game left, no score): margin and total are the towers' outputs and the win
    logit only their fixed rescaling."""
    head = GameStateHead()
    one, zero = torch.ones(3), torch.zeros(3)
    with torch.no_grad():
        out = head(_full_game(3), one, zero, zero, zero)
        tau0 = head.scalars()["tau0"]
    torch.testing.assert_close(out["margin"], torch.full((3,), 0.3))
    torch.testing.assert_close(out["total"], torch.full((3,), -0.2))
    torch.testing.assert_close(out["win_logit"], 0.4 / torch.sqrt(1 + tau0).expand(3))


def test_a_lead_counts_more_as_time_runs_out_and_a_bigger_lead_more():
    head = GameStateHead()
    tau = torch.tensor([0.75, 0.5, 0.25, 0.05, 0.5, 0.5])
    lead = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.5, 2.0])  # in-game score std units
    with torch.no_grad():
        p = torch.sigmoid(
            head(_full_game(6, logit=0.0), tau, lead, torch.zeros(6), torch.zeros(6))["win_logit"]
        )
    assert bool((p[:4].diff() > 0).all()), p  # the same lead, less time: more likely to hold
    assert p[4] < p[1] < p[5]  # half time: the bigger the lead, the likelier the win
    assert float(p[3]) > 0.95  # a one-std lead (~10 points) with 2.4 minutes left


def _points(head: GameStateHead, out: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """The head's margin and total in points."""
    return (
        out["margin"] * head.margin_std + head.margin_mean,
        out["total"] * head.total_std + head.total_mean,
    )


NORM_2023 = TargetNorm(margin_mean=2.4, margin_std=14.6, total_mean=229.0, total_std=20.1)


def test_margin_is_the_current_lead_plus_the_share_of_the_full_game_margin_left():
    head = GameStateHead()
    head.set_scales(11.0, NORM_2023)
    tau, lead = torch.tensor([0.5, 0.25]), torch.tensor([10.0, -5.5])  # points
    above = torch.tensor([12.0, -3.0])  # points above the pace
    with torch.no_grad():
        out = head(_full_game(2), tau, lead / 11.0, above / 20.0, torch.zeros(2))
    margin, total = _points(head, out)
    full_margin, full_total = 0.3 * 14.6 + 2.4, -0.2 * 20.1 + 229.0
    torch.testing.assert_close(margin, lead + tau * full_margin)
    so_far = above + 229.0 * (1 - tau)
    torch.testing.assert_close(total, so_far + tau * full_total)


def test_at_the_buzzer_the_forecast_is_the_result_whatever_the_towers_say():
    """Zero time left with the scores apart: P(home win) exactly 1 or 0 (also after a calibration
    temperature), the margin the lead, the total the points scored."""
    head = GameStateHead()
    head.set_scales(11.0, NORM_2023)
    lead = torch.tensor([1.0, -1.0, 23.0])
    points = torch.tensor([233.0, 201.0, 250.0])
    zero = torch.zeros(3)
    with torch.no_grad():
        out = head(
            _full_game(3, logit=-4.0, margin=-3.0, total=2.0),
            zero,
            lead / 11.0,
            (points - 229.0) / 20.0,
            torch.tensor([-1.0, 1.0, 0.0]),  # the ball with the loser: the game is still over
        )
    p = torch.sigmoid(out["win_logit"] / 1.3)
    assert p.tolist() == [1.0, 0.0, 1.0]
    assert float(out["win_logit"][0]) == FINAL_LOGIT
    margin, total = _points(head, out)
    torch.testing.assert_close(margin, lead, atol=1e-4, rtol=0)
    torch.testing.assert_close(total, points, atol=1e-3, rtol=0)


def test_a_tie_at_zero_time_left_goes_on_to_overtime():
    """Tied when the clock runs out: five more minutes of the random walk, so the towers' edge
    shows (never a flat 50%), and the margin and total expect an overtime's share of the game."""
    head = GameStateHead()
    zero = torch.zeros(2)
    with torch.no_grad():
        out = head(_full_game(2, logit=1.2), zero, zero, zero, zero)
        tau0 = head.scalars()["tau0"]
    torch.testing.assert_close(out["win_logit"], (OVERTIME * 1.2 / torch.sqrt(OVERTIME + tau0)).expand(2))
    assert float(torch.sigmoid(out["win_logit"][0])) > 0.55  # a 77% favourite: 59% in overtime
    margin, total = _points(head, out)
    full_margin = 0.3 * DEFAULT_SCALES["margin_std"] + DEFAULT_SCALES["margin_mean"]
    torch.testing.assert_close(margin, torch.full((2,), OVERTIME * full_margin))
    torch.testing.assert_close(
        total,
        torch.full(
            (2,),
            DEFAULT_SCALES["total_mean"]
            + OVERTIME * (-0.2 * DEFAULT_SCALES["total_std"] + DEFAULT_SCALES["total_mean"]),
        ),
    )


def test_margin_and_total_converge_to_the_score_as_time_runs_out_with_trained_fades():
    head = GameStateHead()
    head.set_scales(11.0, NORM_2023)
    lead, above = torch.tensor([6.0, -6.0]), torch.tensor([15.0, -15.0])
    with torch.no_grad():
        head.signed["margin_fade"].fill_(-0.4)
        head.signed["total_fade"].fill_(0.3)
        gaps = []
        for t in (0.1, 0.01, 0.001, 0.0):
            tau = torch.full((2,), t)
            margin, total = _points(
                head,
                head(_full_game(2, margin=1.0, total=1.0), tau, lead / 11.0, above / 20.0, torch.ones(2)),
            )
            so_far = above + 229.0 * (1 - tau)
            gaps.append(float(torch.cat([margin - lead, total - so_far]).abs().max()))
    assert gaps[0] > gaps[1] > gaps[2] > gaps[3] and gaps[3] < 2e-3, gaps


def test_the_ball_counts_as_part_of_a_lead_and_more_as_time_runs_out():
    """Holding the ball is worth ``ball_worth`` points of lead in the win logit (starting at half a
    point); its effect grows as the clock runs down, and it leaves the margin and total alone."""
    head = GameStateHead()
    head.set_scales(11.0, NORM_2023)
    tau = torch.tensor([0.5, 0.5, 0.02, 0.02])
    ball = torch.tensor([1.0, -1.0, 1.0, -1.0])
    zero = torch.zeros(4)
    with torch.no_grad():
        out = head(_full_game(4, logit=0.0), tau, zero, zero, ball)
        k, tau0 = head.scalars()["win_k"], head.scalars()["tau0"]
        nobody = head(_full_game(4, logit=0.0), tau, zero, zero, zero)
    expected = k * ball * 0.5 / 11.0 / torch.sqrt(tau + tau0)
    torch.testing.assert_close(out["win_logit"], expected)
    assert float(out["win_logit"][2] - out["win_logit"][0]) > 0  # worth more late
    torch.testing.assert_close(out["margin"], nobody["margin"])
    torch.testing.assert_close(out["total"], nobody["total"])


def test_the_scales_are_saved_with_the_weights():
    head = GameStateHead()
    head.set_scales(11.0, NORM_2023)
    state = head.state_dict()
    assert abs(float(state["margin_mean"]) - 2.4) < 1e-6 and abs(float(state["score_diff_std"]) - 11.0) < 1e-6
    fresh = GameStateHead()
    fresh.load_state_dict(state)
    assert abs(float(fresh.total_mean) - 229.0) < 1e-4


def test_the_flat_part_of_a_leads_weight_moves_in_game_forecasts_only():
    head = GameStateHead()
    tau, lead, zero = torch.tensor([1.0, 0.5]), torch.tensor([0.0, 1.0]), torch.zeros(2)
    with torch.no_grad():
        before = head(_full_game(2), tau, lead, zero, zero)["win_logit"]
        head.lead_flat.fill_(-0.3)
        after = head(_full_game(2), tau, lead, zero, zero)["win_logit"]
    torch.testing.assert_close(after[0], before[0])  # tip-off: no lead, nothing changes
    torch.testing.assert_close(after[1], before[1] - 0.3)


def test_the_state_head_changes_in_game_forecasts_and_their_gradients_reach_its_scalars():
    torch.manual_seed(0)
    model = NBAForecaster(ForecasterConfig())
    batch = make_batch(6, seed=3)
    out = model(batch)
    loss = out["win_logit"].sum() + out["margin"].sum() + out["total"].sum()
    loss.backward()
    for name, p in model.fusion.state_head.named_parameters():
        assert p.grad is not None and float(p.grad.abs()) > 0, name
    assert model.predict(batch, NORM)["win_prob"].shape == (6,)
