"""The line alone: with the blend nested, the pregame forecast of a game with a line is exactly the
line's, after the temperature; a game without one keeps the towers' forecast."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.special import expit

from nba_pipeline.features.context import LINE_DIMS, LINE_MARGIN_SCALE
from nba_pipeline.training.dataset import NBADataset
from nba_pipeline.training.line_blend import nest_the_line, the_line_alone
from nba_pipeline.training.predict import predict_frame
from nba_pipeline_tests.test_evaluate.test_report import _synthetic_season

TEMPERATURE = 1.3


def _with_lines(n_games: int, seed: int = 0):
    """Synthetic games whose line (no total) knows the result only roughly (a noisy final margin)."""
    games, arrays, model, norm = _synthetic_season(market_line=True, n_games=n_games)
    rng = np.random.default_rng(seed)
    margin = (arrays.home_pts - arrays.away_pts).astype(float) + rng.normal(0, 8, arrays.n_games)
    ctx = arrays.context.copy()
    ctx[:, LINE_DIMS] = np.column_stack(
        [margin / 8, margin / LINE_MARGIN_SCALE, *(np.full(arrays.n_games, v) for v in (0.0, 1.0, 0.0))]
    )
    arrays = replace(arrays, context=ctx.astype(np.float32))
    model.set_scales(5.0, norm)
    return arrays, model, norm


def test_the_line_alone_is_the_lines_own_pregame_forecast_after_the_temperature():
    arrays, model, norm = _with_lines(8)
    ctx = arrays.context.copy()
    ctx[-2:, LINE_DIMS] = 0.0  # two games without a line
    arrays = replace(arrays, context=ctx)
    ds = NBADataset(arrays, norm, 5.0, mode="eval")
    before = predict_frame(model, ds, norm, temperature=TEMPERATURE).query("checkpoint == 'pregame'")
    assert nest_the_line(model, norm, TEMPERATURE) == the_line_alone(model, norm, TEMPERATURE)
    pre = predict_frame(model, ds, norm, temperature=TEMPERATURE).query("checkpoint == 'pregame'")
    line = arrays.context[pre["game_index"].to_numpy(), LINE_DIMS]
    assert pre["p_home"].to_numpy()[:-2] == pytest.approx(expit(line[:-2, 0]), abs=1e-5)
    assert pre["margin"].to_numpy()[:-2] == pytest.approx(line[:-2, 1] * LINE_MARGIN_SCALE, abs=1e-3)
    assert pre["p_home"].to_numpy()[-2:] == pytest.approx(before["p_home"].to_numpy()[-2:])
    assert pre["total"].to_numpy() == pytest.approx(before["total"].to_numpy(), abs=1e-3)  # no total line
