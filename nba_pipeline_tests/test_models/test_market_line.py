"""MarketLineBlend and the forecaster around it: the line moves only the games that have one, the
towers never learn from it, and the no-line outputs are the forecasts of a game without a line."""

from __future__ import annotations

import math

import pytest
import torch

from nba_pipeline.models.forecaster import NBAForecaster
from nba_pipeline.models.market_line import MarketLineBlend, line_only_scalars
from nba_pipeline.models.norm import TargetNorm
from nba_pipeline.training.loss import multitask_loss, with_no_line_loss
from nba_pipeline_tests.test_models.synthetic import make_batch, tiny_config


def _line_config():
    cfg = tiny_config()
    cfg.fusion.market_line = True
    return cfg


# market logit, margin / 10, total above 220 / 20, has_line, has_total
LINE = torch.tensor([1.2, 0.6, -0.3, 1.0, 1.0])


def _with_line(batch, rows):
    ctx = batch.context.clone()
    ctx[rows, 32:] = LINE
    batch.context = ctx
    return batch


def test_the_blend_starts_as_the_towers_and_follows_its_formula_where_a_line_exists():
    blend = MarketLineBlend()
    out = {k: torch.tensor([0.5, -0.2]) for k in ("win_logit", "margin", "total")}
    line = torch.stack([LINE, torch.zeros(5)])
    for k, v in blend(out, line).items():
        assert torch.equal(v, out[k])  # every scalar starts at 0
    with torch.no_grad():
        blend.w["win_self"].fill_(-0.5)
        blend.w["win_line"].fill_(0.8)
        blend.w["total_bias"].fill_(0.1)
    got = blend(out, line)
    assert got["win_logit"][0].item() == pytest.approx(0.5 * 0.5 + 0.8 * 1.2)
    assert got["total"][0].item() == pytest.approx(0.5 + 0.1)
    assert got["win_logit"][1] == out["win_logit"][1] and got["total"][1] == out["total"][1]  # no line
    with pytest.raises(ValueError, match="the line has 3 values"):
        blend(out, line[:, :3])


def test_a_line_without_a_total_leaves_the_towers_total_alone():
    """The live odds feed has no total: a missing total is missing, never a line of 220."""
    blend = MarketLineBlend()
    with torch.no_grad():
        for k in ("total_self", "total_line", "total_bias", "win_line"):
            blend.w[k].fill_(0.5)
    out = {k: torch.tensor([0.5]) for k in ("win_logit", "margin", "total")}
    no_total = LINE.clone()
    no_total[2:] = torch.tensor([0.0, 1.0, 0.0])
    got = blend(out, no_total[None])
    assert got["total"].item() == 0.5 and got["win_logit"].item() == pytest.approx(0.5 + 0.5 * 1.2)


def test_the_blend_nests_the_line_pregame_forecast_is_exactly_the_lines():
    """With ``line_only_scalars`` the model's pregame forecast, through the side-combined heads, the
    skip and the game-state head, is the line's: its probability, margin and total in points."""
    torch.manual_seed(0)
    model = NBAForecaster(_line_config()).eval()
    norm = TargetNorm(margin_mean=2.5, margin_std=14.0, total_mean=224.0, total_std=19.0)
    model.set_scales(10.5, norm)
    tau0 = model.fusion.state_head.scalars()["tau0"].item()
    scalars = line_only_scalars(math.sqrt(1 + tau0), 2.5, 14.0, 224.0, 19.0)
    with torch.no_grad():
        for k, v in scalars.items():
            model.fusion.market_line.w[k].fill_(v)
    batch = _with_line(make_batch(4), slice(None))
    for name in ("time_left", "score_diff", "score_total", "state"):
        field = getattr(batch, name)
        setattr(batch, name, torch.ones_like(field) if name == "time_left" else torch.zeros_like(field))
    got = model.predict(batch, norm)
    p_line = torch.sigmoid(LINE[0])
    assert torch.allclose(got["win_prob"], p_line.expand(4), atol=1e-6)
    assert torch.allclose(got["margin"], torch.full((4,), 6.0), atol=1e-4)
    assert torch.allclose(got["total"], torch.full((4,), 214.0), atol=1e-4)


def test_a_blend_stored_before_its_margin_intercept_loads_with_it_at_zero():
    blend = MarketLineBlend()
    old = {k: v for k, v in blend.state_dict().items() if not k.endswith("margin_bias")}
    fresh = MarketLineBlend()
    fresh.load_state_dict(old, strict=True)
    assert fresh.w["margin_bias"].item() == 0.0


def test_the_line_changes_only_the_games_that_have_one_and_no_line_outputs_ignore_it():
    torch.manual_seed(0)
    model = NBAForecaster(_line_config()).eval()
    with torch.no_grad():
        model.fusion.market_line.w["win_line"].fill_(1.0)
    plain = make_batch(6)
    batch = _with_line(make_batch(6), [0, 1, 2])
    with torch.no_grad():
        base = model(plain)["win_logit"]
        out = model(batch, with_no_line=True)
    assert not torch.allclose(out["win_logit"][:3], base[:3])
    assert torch.equal(out["win_logit"][3:], base[3:])
    assert torch.allclose(out["win_logit_no_line"], base, atol=1e-6)
    assert model.has_line(batch.context).tolist() == [True] * 3 + [False] * 3


def test_the_line_never_trains_the_towers():
    """A loss on games that all have a line reaches the blend and the state head, not the towers."""
    torch.manual_seed(0)
    model = NBAForecaster(_line_config())
    batch = _with_line(make_batch(6), slice(None))
    loss, _ = multitask_loss(model(batch), batch)
    loss.backward()
    assert model.fusion.market_line.w["win_line"].grad.abs() > 0
    for module in (model.transformer, model.gnn, model.fusion.context_tower, model.fusion.win_head):
        assert all(p.grad is None or not p.grad.any() for p in module.parameters())


def test_training_loss_adds_the_no_line_loss_of_the_games_with_a_line():
    torch.manual_seed(0)
    model = NBAForecaster(_line_config())
    plain = make_batch(6)
    out = model(plain, with_no_line=True)
    none = model.has_line(plain.context)
    assert with_no_line_loss(out, plain, none)[0] == multitask_loss(out, plain)[0]
    batch = _with_line(make_batch(6), [0, 1])
    out = model(batch, with_no_line=True)
    has = model.has_line(batch.context)
    extra, _ = multitask_loss(
        {k: out[f"{k}_no_line"][has] for k in ("win_logit", "margin", "total")},
        type("T", (), {"win": batch.win[has], "margin": batch.margin[has], "total": batch.total[has]}),
    )
    got = with_no_line_loss(out, batch, has)[0]
    assert got.item() == pytest.approx(multitask_loss(out, batch)[0].item() + extra.item() * 2 / 6)
    loss = got
    loss.backward()
    assert any(p.grad is not None and p.grad.any() for p in model.transformer.parameters())
