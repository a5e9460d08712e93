"""The towers' win and margin averaged with the linear fit of strength and rest, written into the
weights: the pregame forecast becomes the average exactly, the total stays the towers'."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, logit

from nba_pipeline.features.context import FEATURE_NAMES, without_lines
from nba_pipeline.training.dataset import NBADataset
from nba_pipeline.training.predict import predict_frame
from nba_pipeline.training.strength_blend import (
    STRENGTH_DIMS,
    STRENGTH_SHARE,
    blend_strength_fit,
    strength_design,
    strength_fit,
)
from nba_pipeline_tests.test_evaluate.test_report import _synthetic_season


def _pregame(model, arrays, norm):
    ds = NBADataset(arrays, norm, 5.0, mode="eval")
    return predict_frame(model, ds, norm).query("checkpoint == 'pregame'").sort_values("game_index")


def test_the_blend_makes_the_pregame_forecast_the_average_of_the_towers_and_the_fit():
    games, arrays, model, norm = _synthetic_season(n_games=8)
    model.set_scales(5.0, norm)
    model.eval()
    rng = np.random.default_rng(1)
    home_pts = rng.integers(90, 130, 40)
    away_pts = home_pts + rng.choice([-7, -3, 4, 9], 40)
    train_context = np.tile(arrays.context, (5, 1))
    before = _pregame(model, arrays, norm)

    record = blend_strength_fit(model, train_context, home_pts, away_pts, norm)

    after = _pregame(model, arrays, norm)
    coef = strength_fit(train_context, home_pts, away_pts, norm)
    design = strength_design(arrays.context[before["game_index"].to_numpy()])
    fit_logit, fit_margin_z = design @ coef[0], design @ coef[1]
    share = STRENGTH_SHARE
    want = expit((1 - share) * logit(before["p_home"].to_numpy(np.float64)) + share * fit_logit)
    assert after["p_home"].to_numpy() == pytest.approx(want, abs=2e-5)
    fit_margin = fit_margin_z * norm.margin_std + norm.margin_mean  # no neutral site here
    assert after["margin"].to_numpy() == pytest.approx(
        (1 - share) * before["margin"].to_numpy() + share * fit_margin, abs=1e-3
    )
    assert after["total"].to_numpy() == pytest.approx(before["total"].to_numpy(), abs=1e-4)
    assert record["features"][-1] == "home" and len(record["win"]) == len(record["features"])


def test_the_fit_reads_the_home_minus_away_strength_and_not_the_line():
    """Mirrored games (home and away exchanged) have the opposite design but for the home column;
    the market's line is not among its features, so a model without lines blends the same."""
    _, arrays, _, _ = _synthetic_season(n_games=8)
    context = arrays.context
    design = strength_design(context)
    assert [FEATURE_NAMES[d] for d in STRENGTH_DIMS] == [
        "avail_rating_diff",
        "rest_diff",
        "home_back_to_back",
    ]
    diff = context[:, FEATURE_NAMES.index("avail_rating_diff")]
    assert design[:, 0] == pytest.approx(diff)
    assert design[:, -1] == pytest.approx(1.0 - context[:, FEATURE_NAMES.index("neutral_site")])
    assert strength_design(without_lines(context)) == pytest.approx(design)
