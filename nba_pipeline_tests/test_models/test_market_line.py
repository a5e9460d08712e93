"""The market's line as the full-game forecast: it replaces the towers' outputs only where a game
has a line (its total only where the line has one), the pregame forecast is then exactly the
line's, the towers never learn from it, and the no-line outputs are those of a game without one."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from scipy.special import expit

from nba_pipeline.features.context import LINE_DIMS, LINE_MARGIN_SCALE
from nba_pipeline.models.market_line import the_line_where_given
from nba_pipeline.models.norm import TargetNorm
from nba_pipeline.training.dataset import NBADataset
from nba_pipeline.training.loss import multitask_loss, with_no_line_loss
from nba_pipeline.training.predict import predict_frame
from nba_pipeline_tests.test_evaluate.test_report import _synthetic_season
from nba_pipeline_tests.test_models.synthetic import make_batch, tiny_model

# market logit, margin / 10, total above 220 / 20, has_line, has_total
LINE = torch.tensor([1.2, 0.6, -0.3, 1.0, 1.0])
NORM = TargetNorm(margin_mean=2.5, margin_std=14.0, total_mean=224.0, total_std=19.0)
TEMPERATURE = 1.3


def _with_line(batch, rows):
    ctx = batch.context.clone()
    ctx[rows, LINE_DIMS] = LINE
    batch.context = ctx
    return batch


def _pregame(batch):
    """``batch`` at tip-off: all the game left, no score, nobody with the ball."""
    for name in ("time_left", "score_diff", "score_total", "state"):
        field = getattr(batch, name)
        setattr(batch, name, torch.ones_like(field) if name == "time_left" else torch.zeros_like(field))
    return batch


def test_the_line_replaces_the_towers_where_a_game_has_one_and_its_total_where_it_has_a_total():
    """The live odds feed has no total: a missing total is missing, never a line of 220."""
    towers = {k: torch.tensor([0.5, -0.2, 0.7]) for k in ("win_logit", "margin", "total")}
    no_total = torch.tensor([1.2, 0.6, 0.0, 1.0, 0.0])
    got = the_line_where_given(towers, torch.stack([LINE, no_total, torch.zeros(5)]), 2.0, NORM)
    assert got["win_logit"].tolist() == pytest.approx([2.4, 2.4, 0.7])
    assert got["margin"].tolist() == pytest.approx([(6.0 - 2.5) / 14.0, (6.0 - 2.5) / 14.0, 0.7])
    assert got["total"].tolist() == pytest.approx([(214.0 - 224.0) / 19.0, -0.2, 0.7])
    with pytest.raises(ValueError, match="the line has 3 values"):
        the_line_where_given(towers, torch.zeros(3, 3), 2.0, NORM)


def test_with_the_line_scale_set_the_pregame_forecast_is_exactly_the_lines():
    """Through the side-combined heads, the skip and the game-state head: the line's probability,
    margin and total in points."""
    torch.manual_seed(0)
    model = tiny_model().eval()
    model.set_scales(10.5, NORM)
    model.set_line_scale()
    got = model.predict(_pregame(_with_line(make_batch(4), slice(None))), NORM)
    assert torch.allclose(got["win_prob"], torch.sigmoid(LINE[0]).expand(4), atol=1e-6)
    assert torch.allclose(got["margin"], torch.full((4,), 6.0), atol=1e-4)
    assert torch.allclose(got["total"], torch.full((4,), 214.0), atol=1e-4)


def test_the_line_scale_folds_in_the_temperature_and_games_without_a_line_keep_the_towers():
    """What training leaves (``training.fit.calibrate``): after the temperature, a game with a line
    forecasts the line's probability and margin; the towers forecast the others unchanged."""
    games, arrays, model, norm = _synthetic_season(n_games=8)
    rng = np.random.default_rng(0)
    margin = (arrays.home_pts - arrays.away_pts).astype(float) + rng.normal(0, 8, arrays.n_games)
    ctx = arrays.context.copy()
    ctx[:, LINE_DIMS] = np.column_stack(
        [margin / 8, margin / LINE_MARGIN_SCALE, *(np.full(arrays.n_games, v) for v in (0.0, 1.0, 0.0))]
    )
    ctx[-2:, LINE_DIMS] = 0.0  # two games without a line
    arrays = replace(arrays, context=ctx.astype(np.float32))
    model.set_scales(5.0, norm)
    ds = NBADataset(arrays, norm, 5.0, mode="eval")
    before = predict_frame(model, ds, norm, temperature=TEMPERATURE).query("checkpoint == 'pregame'")
    model.set_line_scale(TEMPERATURE)
    pre = predict_frame(model, ds, norm, temperature=TEMPERATURE).query("checkpoint == 'pregame'")
    line = arrays.context[pre["game_index"].to_numpy(), LINE_DIMS]
    assert pre["p_home"].to_numpy()[:-2] == pytest.approx(expit(line[:-2, 0]), abs=1e-5)
    assert pre["margin"].to_numpy()[:-2] == pytest.approx(line[:-2, 1] * LINE_MARGIN_SCALE, abs=1e-3)
    assert pre["p_home"].to_numpy()[-2:] == pytest.approx(before["p_home"].to_numpy()[-2:])
    assert pre["total"].to_numpy() == pytest.approx(before["total"].to_numpy(), abs=1e-3)  # no total line


def test_an_untrained_model_gives_a_game_with_a_line_even_odds():
    """The scale is 0 until training sets it: the deliberately broken model of the asset checks'
    tests (0 epochs) forecasts no line's favourite."""
    torch.manual_seed(0)
    model = tiny_model().eval()
    p = model.predict(_pregame(_with_line(make_batch(4), slice(None))), NORM)["win_prob"]
    assert float(model.fusion.line_logit_scale) == 0.0
    assert torch.equal(p, torch.full((4,), 0.5))


def test_the_line_changes_only_the_games_that_have_one_and_no_line_outputs_ignore_it():
    torch.manual_seed(0)
    model = tiny_model().eval()
    model.set_line_scale()
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
    """A loss on games that all have a line reaches the game-state head, not the towers."""
    torch.manual_seed(0)
    model = tiny_model()
    model.set_line_scale()
    batch = _with_line(make_batch(6), slice(None))
    loss, _ = multitask_loss(model(batch), batch)
    loss.backward()
    assert model.fusion.state_head.signed["margin_fade"].grad.abs() > 0
    for module in (model.transformer, model.gnn, model.fusion.context_tower, model.fusion.win_head):
        assert all(p.grad is None or not p.grad.any() for p in module.parameters())


def test_training_loss_adds_the_no_line_loss_of_the_games_with_a_line():
    torch.manual_seed(0)
    model = tiny_model()
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
