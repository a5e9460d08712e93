"""TwoTowerFusion and NBAForecaster: head shapes, sizes, predict, side-awareness (spec Task 4.3)."""

from __future__ import annotations

import pytest
import torch

from nba_pipeline.features.context import NEUTRAL_DIM, TOWER_CONTEXT_DIM
from nba_pipeline.models.forecaster import ForecasterConfig, NBAForecaster, parameter_table
from nba_pipeline.models.fusion import FusionConfig, TwoTowerFusion
from nba_pipeline.models.swap import SideSwap, swap_sides
from nba_pipeline_tests.test_models.synthetic import NORM, make_batch, synthetic_swap, tiny_model


def test_three_heads_have_batch_shape_with_mock_tower_inputs():
    torch.manual_seed(0)
    fusion = TwoTowerFusion(FusionConfig())
    out = fusion(torch.randn(8, TOWER_CONTEXT_DIM), torch.randn(8, 128), torch.randn(8, 128))
    assert set(out) == {"win_logit", "margin", "total"}
    for v in out.values():
        assert v.shape == (8,)
        assert torch.isfinite(v).all()


def test_fusion_layer_sizes_are_the_specified_ones():
    """32->256->256 (38 inputs here: the spec's 32, then the strength of the players available and
    the neutral-site flag), 256->256->256, 512->256->128 and three 128->1 heads. The spec's table
    says ~150K parameters; its 32 inputs imply 370,435 (reported, not hidden), six inputs more
    6 x 256 = 1,536, plus the two home-advantage scalars of the side-symmetric heads, the context
    skip (38 -> 3, 117 parameters) and the six scalars of the game-state head. The market's line
    adds none: it is the line alone."""
    fusion = TwoTowerFusion(FusionConfig())
    shapes = [tuple(m.weight.shape) for m in fusion.modules() if isinstance(m, torch.nn.Linear)]
    assert shapes == [
        (256, 38),
        (256, 256),
        (256, 256),
        (256, 256),
        (256, 512),
        (128, 256),
        (1, 128),
        (1, 128),
        (1, 128),
        (3, 38),
    ]
    assert sum(p.numel() for p in fusion.parameters()) == 370_435 + 1_536 + 2 + 117 + 6


def test_forecaster_forward_on_a_model_batch_returns_three_batch_vectors_and_reports_sizes():
    torch.manual_seed(0)
    model = NBAForecaster(ForecasterConfig())
    print("\n" + parameter_table(model))
    out = model(make_batch(5))
    assert {k: tuple(v.shape) for k, v in out.items()} == {"win_logit": (5,), "margin": (5,), "total": (5,)}


def test_predict_returns_probabilities_and_points_and_keeps_the_training_mode():
    torch.manual_seed(0)
    model = tiny_model()
    model.train()
    b = make_batch(6)
    pred = model.predict(b, NORM)
    assert model.training
    model.eval()
    raw = model(b)
    torch.testing.assert_close(pred["win_prob"], torch.sigmoid(raw["win_logit"]))
    torch.testing.assert_close(pred["margin"], raw["margin"] * NORM.margin_std + NORM.margin_mean)
    torch.testing.assert_close(pred["total"], raw["total"] * NORM.total_std + NORM.total_mean)
    assert ((pred["win_prob"] > 0) & (pred["win_prob"] < 1)).all()


def test_predict_runs_in_eval_mode_when_only_a_part_was_left_training():
    """The mode is switched only when some part trains (a live forecast skips the switch), and a
    part left training is still switched: its dropout never reaches a forecast."""
    torch.manual_seed(0)
    model = tiny_model()
    model.eval()
    model.transformer.train()
    b = make_batch(6)
    pred = model.predict(b, NORM)
    assert not any(m.training for m in model.modules())
    torch.testing.assert_close(pred["win_prob"], torch.sigmoid(model(b)["win_logit"]))


def test_swap_of_the_features_package_is_an_involution_on_a_batch():
    swap = SideSwap.from_features()
    b = make_batch(4)
    back = swap_sides(swap_sides(b, swap, NORM), swap, NORM)
    for name in ("tokens", "score_diff", "lineup", "context", "win", "margin", "total"):
        torch.testing.assert_close(getattr(back, name), getattr(b, name), msg=name)
    assert torch.equal(back.graph.side, b.graph.side)
    once = swap_sides(b, swap, NORM)
    torch.testing.assert_close(NORM.to_points("margin", once.margin), -NORM.to_points("margin", b.margin))
    assert not torch.equal(once.tokens, b.tokens)


def test_swapping_home_and_away_changes_the_win_probability_of_an_untrained_model():
    torch.manual_seed(0)
    model = NBAForecaster(ForecasterConfig()).eval()
    b = make_batch(8, seed=1)
    swap = SideSwap.from_features()
    p = model.predict(b, NORM)["win_prob"]
    p_swapped = model.predict(swap_sides(b, swap, NORM), NORM)["win_prob"]
    assert ((p - p_swapped).abs() > 1e-5).all()


def test_each_tower_input_alone_is_side_aware():
    """No component is blind to sides: swapping only the sequence, only the graph or only the
    context changes that component's contribution (a symmetric pooling would fail the graph part)."""
    torch.manual_seed(0)
    model = NBAForecaster(ForecasterConfig()).eval()
    b = make_batch(6, seed=2)
    s = swap_sides(b, synthetic_swap(), NORM)
    with torch.no_grad():
        seq = model.transformer(b.tokens, b.time_left, b.score_diff, b.lineup, b.mask)
        seq_s = model.transformer(s.tokens, s.time_left, s.score_diff, s.lineup, s.mask)
        gr = model.gnn(b.graph.x, b.graph.edge_index, b.graph.side, b.graph.batch)
        gr_s = model.gnn(s.graph.x, s.graph.edge_index, s.graph.side, s.graph.batch)
        ctx = model.fusion.context_tower(b.context[:, :TOWER_CONTEXT_DIM])
        ctx_s = model.fusion.context_tower(s.context[:, :TOWER_CONTEXT_DIM])
    for name, a, c in (("sequence", seq, seq_s), ("graph", gr, gr_s), ("context", ctx, ctx_s)):
        assert ((a - c).abs().amax(dim=1) > 1e-4).all(), f"{name} representation ignores the swap"


def test_side_symmetric_forecast_is_exactly_equivariant_to_a_home_away_swap():
    """Swapping the teams negates the team part of the win logit and margin (around the learned home
    advantage) and leaves the total unchanged: logit(x) + logit(swap x) = 2 * home advantage, which
    the game-state head scales by the time left (tau / sqrt(tau + tau0) for the logit, tau for the
    margin): home court is worth less with less of the game to play. Who has the ball swaps too."""
    torch.manual_seed(0)
    model = NBAForecaster(ForecasterConfig()).eval()
    with torch.no_grad():
        model.fusion.side_bias.copy_(torch.tensor([0.3, 0.2]))
    batch = make_batch(8, seed=5)
    with torch.no_grad():
        out = model(batch)
        swapped = model(swap_sides(batch, SideSwap.from_features(), NORM))
        tau = batch.time_left[:, 0]
        tau0 = model.fusion.state_head.scalars()["tau0"]
    torch.testing.assert_close(
        out["win_logit"] + swapped["win_logit"], 0.6 * tau / torch.sqrt(tau + tau0), atol=1e-5, rtol=0
    )
    head = model.fusion.state_head  # the full-game home edge (mean + learned bias) fades with tau
    fade = 2 * (tau - 1) * head.margin_mean / head.margin_std
    torch.testing.assert_close(out["margin"] + swapped["margin"], 0.4 * tau + fade, atol=1e-5, rtol=0)
    torch.testing.assert_close(out["total"], swapped["total"], atol=1e-5, rtol=0)


def test_predict_divides_the_win_logit_by_the_released_temperature():
    """A model released with a calibration temperature forecasts with it (the live path, the daily
    forecasts and the evaluation all give the same probability)."""
    torch.manual_seed(0)
    model = tiny_model()
    b = make_batch(6)
    logit = model.eval()(b)["win_logit"]
    p = model.predict(b, NORM, temperature=2.0)["win_prob"]
    assert torch.allclose(p, torch.sigmoid(logit / 2.0), atol=1e-6)
    assert torch.allclose(model.predict(b, NORM)["win_prob"], torch.sigmoid(logit), atol=1e-6)


def test_the_model_reads_its_context_and_line_from_a_longer_vector_and_refuses_a_shorter_one():
    """Context features are only appended (features.context): the model reads the towers' 38
    features and the line after them, whatever comes later, and a vector shorter than that is
    refused."""
    torch.manual_seed(0)
    model = NBAForecaster(ForecasterConfig()).eval()
    b = make_batch(4)
    longer, short = make_batch(4), make_batch(4)
    longer.context = torch.cat([b.context, torch.randn(4, 3)], dim=-1)
    short.context = b.context[:, :32]
    with torch.no_grad():
        assert torch.equal(model(longer)["win_logit"], model(b)["win_logit"])
        with pytest.raises(ValueError, match="context has 32 features, the model reads 43"):
            model(short)


def test_no_home_edge_at_a_neutral_site():
    """The learned home advantage (side_bias) applies where the home team is at home only: at a
    neutral site, exchanging the teams exactly mirrors the forecast (logit(x) + logit(swap x) = 0)."""
    torch.manual_seed(0)
    model = NBAForecaster(ForecasterConfig()).eval()
    with torch.no_grad():
        model.fusion.side_bias.copy_(torch.tensor([0.3, 0.2]))
    batch = make_batch(6, seed=5)
    neutral = batch.context.clone()
    neutral[:, NEUTRAL_DIM] = 1.0
    with torch.no_grad():
        home = (
            model(batch)["win_logit"] + model(swap_sides(batch, SideSwap.from_features(), NORM))["win_logit"]
        )
        batch.context = neutral
        away = model(swap_sides(batch, SideSwap.from_features(), NORM))["win_logit"]
        at_neutral = model(batch)["win_logit"] + away
        tau = batch.time_left[:, 0]
        tau0 = model.fusion.state_head.scalars()["tau0"]
    torch.testing.assert_close(home, 0.6 * tau / torch.sqrt(tau + tau0), atol=1e-5, rtol=0)
    torch.testing.assert_close(at_neutral, torch.zeros_like(home), atol=1e-5, rtol=0)
    # the margin in points too: the training mean margin is a home edge as well
    model.set_scales(12.0, NORM)
    swapped = swap_sides(batch, SideSwap.from_features(), NORM)
    margins = model.predict(batch, NORM)["margin"] + model.predict(swapped, NORM)["margin"]
    torch.testing.assert_close(margins, torch.zeros_like(margins), atol=1e-4, rtol=0)
