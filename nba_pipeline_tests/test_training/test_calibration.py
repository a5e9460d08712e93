"""Temperature scaling and the home-edge shift: each recovers a miscalibrated model's parameter and
is kept only when held-out games (cross-fitted by game) say it helps."""

from __future__ import annotations

import numpy as np
import pytest

from nba_pipeline.training.calibration import (
    choose_shift,
    choose_temperature,
    fit_shift,
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


def _home_games(edge_error: float, n_games: int = 3000, seed: int = 0):
    """Five cuts per game whose logit moves by ``sens`` per unit of home edge (1 pregame, less as
    the game runs out); the model's edge is off by ``edge_error``."""
    rng = np.random.default_rng(seed)
    game = np.repeat(np.arange(n_games), 5)
    sens = np.tile([1.0, 0.8, 0.6, 0.4, 0.2], n_games)
    truth = rng.normal(0, 1.2, game.size) + 0.3 * sens
    win = (rng.random(n_games) < 1 / (1 + np.exp(-truth[::5])))[game].astype(float)
    return truth + edge_error * sens, sens, win, game


def test_a_wrong_home_edge_is_shifted_back_and_kept():
    logit, sens, win, game = _home_games(edge_error=0.4)
    assert fit_shift(logit, sens, win) == pytest.approx(-0.4, abs=0.12)
    delta, info = choose_shift(logit, sens, win, game)
    assert info["kept"] and delta == info["fitted_shift"] == pytest.approx(-0.4, abs=0.12)
    assert info["cv_log_loss_shifted"] < info["cv_log_loss_raw"]


def test_a_shift_that_does_not_help_held_out_games_is_not_kept():
    logit, sens, win, game = _home_games(edge_error=0.0, n_games=200, seed=3)
    delta, info = choose_shift(logit, sens, win, game)
    assert info["kept"] == (delta != 0.0) and abs(info["fitted_shift"]) < 0.2
    assert info["kept"] == (info["cv_log_loss_shifted"] < info["cv_log_loss_raw"])
    one_game = choose_shift(logit[:5], sens[:5], win[:5], game[:5])
    assert one_game == (0.0, {"kept": False, "note": "too few games to cross-fit"})
