"""The blocking calibration rule: a known false-alarm rate at every size, power against clear
miscalibration, and the specification's decile table still reported beside it (not blocking)."""

from __future__ import annotations

import numpy as np
import pytest

from nba_pipeline.registry.rules import (
    CALIBRATION_CRITICAL,
    MISCALIBRATIONS,
    calibration_failure_rate,
    calibration_false_alarm_rate,
    calibration_statistic,
    calibration_test,
    decile_monotonicity,
    decile_table,
    pregame_quality,
)

SIZES = [138, 375, 1230]  # the end-to-end test's judged games, a mid-size window, a season


@pytest.mark.parametrize("forecasts", ["beta", "uniform"])
@pytest.mark.parametrize("n_games", SIZES)
def test_a_calibrated_model_fails_at_most_5_percent_of_the_time_at_every_size(n_games, forecasts):
    rate = calibration_false_alarm_rate(n_games, n_sims=4000, seed=n_games, forecasts=forecasts)
    assert rate <= 0.05
    assert 0.003 <= rate <= 0.02  # the level it is built for, 1%, within simulation noise


def test_the_old_decile_rule_raised_false_alarms_far_more_often_at_the_smallest_size():
    old = calibration_false_alarm_rate(138, n_sims=800, seed=1, forecasts="uniform", rule=decile_monotonicity)
    assert old > 0.08  # 16% with enough simulations (nba-pipeline calibration-false-alarms)


@pytest.mark.parametrize(
    ("miscalibration", "at_least"), [("pushed 0.15 out", 0.99), ("shift +0.1", 0.85), ("shift -0.1", 0.8)]
)
def test_a_clearly_miscalibrated_model_fails_with_high_probability_at_375_games(miscalibration, at_least):
    power = calibration_failure_rate(375, n_sims=2000, seed=3, distort=MISCALIBRATIONS[miscalibration])
    assert power >= at_least


def test_the_vectorized_statistic_is_the_one_the_check_uses():
    rng = np.random.default_rng(5)
    p = rng.uniform(0.2, 0.85, size=(6, 300))
    y = (rng.random(p.shape) < np.clip(p + 0.05, 0, 1)).astype(float)
    stats = calibration_statistic(p, y)
    for row, stat in zip(zip(p, y, strict=True), stats, strict=True):
        passed, details = calibration_test(*row)
        assert details["statistic"] == pytest.approx(stat)
        assert passed == (stat < CALIBRATION_CRITICAL)


def test_the_estimated_recalibration_says_which_way_a_model_is_wrong():
    rng = np.random.default_rng(7)
    truth = rng.beta(3.7, 2.8, size=5000)
    y = (rng.random(truth.size) < truth).astype(float)
    over = np.clip(truth + 0.15 * np.sign(truth - 0.5), 0.01, 0.99)
    _, calibrated = calibration_test(truth, y)
    passed, overconfident = calibration_test(over, y)
    assert (
        abs(calibrated["recalibration_intercept"]) < 0.1 and abs(calibrated["recalibration_slope"] - 1) < 0.1
    )
    assert not passed and overconfident["recalibration_slope"] < 0.8


def test_a_non_monotone_decile_table_is_reported_but_does_not_block():
    p = np.repeat(np.linspace(0.3, 0.75, 10), 30)  # ten deciles of 30 games each
    wins = np.round(30 * np.linspace(0.3, 0.75, 10)).astype(int)
    wins[4], wins[5] = wins[4] + 6, wins[5] - 6  # decile 6 wins far less often than decile 5
    y = np.concatenate([np.r_[np.ones(w), np.zeros(30 - w)] for w in wins])
    monotone, _ = decile_monotonicity(p, y)
    verdicts = pregame_quality(p, y)
    passed, details = verdicts["calibration"]
    assert not monotone and passed
    deciles = details["deciles"]
    assert deciles["monotone"] is False and deciles["blocking"] is False
    assert len(deciles["bins"]) == 10 and deciles["violations"][0]["between_bins"] == [4, 5]
    table = decile_table(deciles)
    assert "| decile |" in table and table.count("\n|") >= 11
    assert "does not rise" in table and "5->6" in table and "not blocking" in table


def test_constant_forecasts_are_judged_on_their_bias_alone():
    y = np.r_[np.ones(60), np.zeros(40)]
    assert calibration_test(np.full(100, 0.6), y)[0]
    passed, details = calibration_test(np.full(100, 0.3), y)
    assert not passed and details["recalibration_slope"] is None
