"""training.metrics: values by hand, per-checkpoint grouping, points de-standardization, calibration bins."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nba_pipeline.models.batch import CHECKPOINT_CODE, CHECKPOINTS
from nba_pipeline.models.norm import TargetNorm
from nba_pipeline.training.metrics import (
    calibration_bins,
    forecast_metrics,
    prediction_metrics,
    score,
    score_by_checkpoint,
    win_metrics,
)

NORM = TargetNorm(margin_mean=2.0, margin_std=14.0, total_mean=228.0, total_std=20.0)


def test_win_metrics_match_hand_computed_values():
    m = win_metrics([0.9, 0.2, 0.6, 0.5], [1, 0, 0, 1])
    assert m["accuracy"] == 0.75  # 0.6 calls a home win that did not happen; 0.5 counts as a home call
    assert math.isclose(m["brier"], (0.01 + 0.04 + 0.36 + 0.25) / 4)
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.4) + math.log(0.5)) / 4
    assert math.isclose(m["log_loss"], expected, rel_tol=1e-9)


def test_log_loss_is_finite_for_certain_wrong_predictions():
    m = win_metrics([1.0, 0.0], [0, 1])
    assert math.isfinite(m["log_loss"]) and m["log_loss"] > 10
    with pytest.raises(ValueError, match="probabilities"):
        win_metrics([1.2], [1])


def test_forecast_metrics_group_by_checkpoint_and_report_mae_in_points():
    ck = [CHECKPOINT_CODE["pregame"]] * 2 + [CHECKPOINT_CODE["halftime"]] * 2
    out = forecast_metrics(
        prob=[0.6, 0.4, 0.9, 0.1],
        margin_z_pred=[0.0, 0.0, 1.0, 0.0],
        total_z_pred=[0.0, 0.5, 0.0, 0.0],
        win=[1, 1, 1, 0],
        margin_z=[0.5, -0.5, 1.0, 0.0],
        total_z=[0.0, 0.0, 0.0, 1.0],
        checkpoint=ck,
        norm=NORM,
    )
    assert set(out) == {"all", "pregame", "halftime"}
    assert out["pregame"]["n"] == 2 and out["all"]["n"] == 4
    assert out["pregame"]["accuracy"] == 0.5 and out["halftime"]["accuracy"] == 1.0
    assert math.isclose(out["pregame"]["margin_mae"], 0.5 * 14.0)  # |dz| = 0.5 -> 7 points
    assert math.isclose(out["all"]["margin_mae"], 0.25 * 14.0)
    assert math.isclose(out["pregame"]["total_mae"], 0.25 * 20.0)
    assert math.isclose(out["halftime"]["total_mae"], 0.5 * 20.0)


def test_quantile_calibration_bins_have_equal_counts_and_track_the_actual_rate():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, 20_000)
    y = (rng.uniform(size=p.size) < p).astype(float)  # perfectly calibrated
    bins = calibration_bins(p, y)
    assert len(bins) == 10
    assert {b["count"] for b in bins} == {2000}
    for b in bins:
        assert b["lower"] <= b["mean_pred"] <= b["upper"]
        assert abs(b["win_rate"] - b["mean_pred"]) < 0.04
    rates = [b["win_rate"] for b in bins]
    assert rates == sorted(rates)


def test_calibration_bins_keep_empty_bins_when_there_are_fewer_predictions_than_bins():
    bins = calibration_bins([0.05, 0.07, 0.95, 1.0], [0, 1, 1, 1])
    assert [b["count"] for b in bins] == [1, 0, 1, 0, 0, 1, 0, 1, 0, 0]
    assert bins[0]["win_rate"] == 0.0 and math.isnan(bins[1]["win_rate"])


def test_score_is_the_metrics_dict_with_maes_in_the_units_given():
    m = score([0.9, 0.2], [3.0, -1.0], [200.0, 210.0], [1, 1], [5.0, 1.0], [190.0, 230.0])
    assert list(m) == ["n", "accuracy", "brier", "log_loss", "margin_mae", "total_mae"]
    assert m["n"] == 2 and m["accuracy"] == 0.5
    assert m["margin_mae"] == 2.0 and m["total_mae"] == 15.0
    with pytest.raises(ValueError, match="one value per sample"):
        score([0.5], [1.0, 2.0], [1.0], [1], [1.0], [1.0])


def test_score_by_checkpoint_lists_known_checkpoints_in_order_then_other_names_by_appearance():
    names = ["all_events", "halftime", "pregame", "all_events", "halftime"]
    ones = np.ones(len(names))
    out = score_by_checkpoint(names, 0.5 * ones, ones, ones, ones, ones, ones)
    assert list(out) == ["all", "pregame", "halftime", "all_events"]
    assert out["all"]["n"] == 5 and out["all_events"]["n"] == 2 and out["pregame"]["n"] == 1


def test_prediction_table_and_trainer_tensors_give_the_same_metrics():
    """The registry's comparison (points, names) and the trainer (z, codes) share one definition."""
    rng = np.random.default_rng(1)
    n = 40
    code = rng.integers(0, 5, n)
    p, win = rng.uniform(0.05, 0.95, n), (rng.uniform(size=n) < 0.6).astype(float)
    mz, mz_true, tz, tz_true = (rng.normal(size=n) for _ in range(4))
    from_z = forecast_metrics(p, mz, tz, win, mz_true, tz_true, code, NORM)
    frame = pd.DataFrame(
        {
            "checkpoint": np.asarray(CHECKPOINTS, dtype=object)[code],
            "p_home": p,
            "win": win,
            "margin": mz * NORM.margin_std + NORM.margin_mean,
            "margin_true": mz_true * NORM.margin_std + NORM.margin_mean,
            "total": tz * NORM.total_std + NORM.total_mean,
            "total_true": tz_true * NORM.total_std + NORM.total_mean,
        }
    )
    from_frame = prediction_metrics(frame)
    assert list(from_frame) == list(from_z)
    for cp, m in from_z.items():
        assert from_frame[cp] == pytest.approx(m, rel=1e-12, abs=1e-9)
