"""GameStateHead: the score and clock at a cut shape the forecast as a random walk says."""

from __future__ import annotations

import torch

from nba_pipeline.models.config import ForecasterConfig, FusionConfig
from nba_pipeline.models.forecaster import NBAForecaster
from nba_pipeline.models.game_state import INIT, GameStateHead
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
        out = head(_full_game(3), one, zero, zero)
        tau0 = head.scalars()["tau0"]
    torch.testing.assert_close(out["margin"], torch.full((3,), 0.3))
    torch.testing.assert_close(out["total"], torch.full((3,), -0.2))
    torch.testing.assert_close(out["win_logit"], 0.4 / torch.sqrt(1 + tau0).expand(3))


def test_a_lead_counts_more_as_time_runs_out_and_a_bigger_lead_more():
    head = GameStateHead()
    tau = torch.tensor([0.75, 0.5, 0.25, 0.05, 0.5, 0.5])
    lead = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.5, 2.0])  # in-game score std units
    with torch.no_grad():
        p = torch.sigmoid(head(_full_game(6, logit=0.0), tau, lead, torch.zeros(6))["win_logit"])
    assert bool((p[:4].diff() > 0).all()), p  # the same lead, less time: more likely to hold
    assert p[4] < p[1] < p[5]  # half time: the bigger the lead, the likelier the win
    assert float(p[3]) > 0.95  # a one-std lead (~10 points) with 2.4 minutes left


def test_margin_is_the_current_lead_plus_the_share_of_the_full_game_margin_left():
    head = GameStateHead()
    with torch.no_grad():
        out = head(
            _full_game(2), torch.tensor([0.5, 0.0]), torch.tensor([1.0, -1.0]), torch.tensor([0.5, 0.5])
        )
    a_m, a_t = INIT["margin_a"], INIT["total_a"]
    torch.testing.assert_close(out["margin"], torch.tensor([a_m + 0.5 * 0.3, -a_m]))
    torch.testing.assert_close(out["total"], torch.tensor([0.5 * a_t - 0.5 * 0.2, 0.5 * a_t]))


def test_the_flat_part_of_a_leads_weight_moves_in_game_forecasts_only():
    head = GameStateHead()
    tau, lead, zero = torch.tensor([1.0, 0.5]), torch.tensor([0.0, 1.0]), torch.zeros(2)
    with torch.no_grad():
        before = head(_full_game(2), tau, lead, zero)["win_logit"]
        head.lead_flat.fill_(-0.3)
        after = head(_full_game(2), tau, lead, zero)["win_logit"]
    torch.testing.assert_close(after[0], before[0])  # tip-off: no lead, nothing changes
    torch.testing.assert_close(after[1], before[1] - 0.3)
    assert GameStateHead(lead_flat=False).lead_flat is None


def test_a_model_config_stored_before_the_state_head_and_context_skip_loads_without_them():
    """Released versions store model_config; one written before these settings existed was trained
    without them and must rebuild the same module (its weights load strictly)."""
    old = ForecasterConfig(fusion=FusionConfig(context_skip=False, state_head=False)).to_dict()
    for key in ("context_skip", "state_head", "state_lead_flat"):
        del old["fusion"][key]
    model = NBAForecaster(ForecasterConfig.from_dict(old))
    assert not hasattr(model.fusion, "state_head") and not hasattr(model.fusion, "context_skip")
    reference = NBAForecaster(ForecasterConfig(fusion=FusionConfig(context_skip=False, state_head=False)))
    model.load_state_dict(reference.state_dict(), strict=True)


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


def test_a_state_head_released_before_the_flat_lead_term_loads_strictly():
    """Version-2 releases store ``state_head: true`` without ``state_lead_flat``: they rebuild the
    head without the term and their weights load strictly."""
    old = ForecasterConfig(fusion=FusionConfig(state_lead_flat=False)).to_dict()
    del old["fusion"]["state_lead_flat"]
    model = NBAForecaster(ForecasterConfig.from_dict(old))
    assert model.fusion.state_head.lead_flat is None
    model.load_state_dict(
        NBAForecaster(ForecasterConfig(fusion=FusionConfig(state_lead_flat=False))).state_dict()
    )
