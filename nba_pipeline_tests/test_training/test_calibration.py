"""Temperature scaling: recovers an over-confident model's temperature, is kept only when held-out
games (cross-fitted by game) say it helps."""

from __future__ import annotations

import numpy as np
import pytest

from nba_pipeline.training.calibration import (
    choose_temperature,
    fit_temperature,
    logit_of,
    scaled_probability,
)


def _games(true_logit_scale: float, n_games: int = 3000, seed: int = 0):
    rng = np.random.default_rng(seed)
    truth = rng.normal(0, 1.2, n_games)
    win = (rng.random(n_games) < 1 / (1 + np.exp(-truth))).astype(float)
    game = np.arange(n_games)
    return truth * true_logit_scale, win, game


def test_an_overconfident_models_temperature_is_found_and_kept():
    logit, win, game = _games(2.0)  # logits twice too large
    assert fit_temperature(logit, win) == pytest.approx(2.0, rel=0.15)
    t, info = choose_temperature(logit, win, game)
    assert info["kept"] and t == pytest.approx(2.0, rel=0.15)
    assert info["cv_log_loss_scaled"] < info["cv_log_loss_raw"]


def test_a_calibrated_model_keeps_a_temperature_near_one_or_none():
    logit, win, game = _games(1.0, seed=1)
    t, info = choose_temperature(logit, win, game)
    assert t == pytest.approx(1.0, abs=0.1)


def test_scaled_probability_divides_the_logit():
    p = np.array([0.2, 0.5, 0.9])
    np.testing.assert_allclose(logit_of(scaled_probability(p, 2.0)), logit_of(p) / 2, atol=1e-9)
