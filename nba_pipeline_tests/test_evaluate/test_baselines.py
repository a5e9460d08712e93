import numpy as np

from nba_pipeline.evaluate.baselines import ContextLogisticBaseline, HomeRateBaseline, ScoreClockBaseline
from nba_pipeline.evaluate.plots import reliability_diagram_png, training_curves_png


def test_home_rate_baseline_predicts_training_means():
    b = HomeRateBaseline().fit(
        np.array([1, 1, 0, 1]), np.array([5.0, 3, -2, 2]), np.array([200.0, 210, 220, 230])
    )
    f = b.predict(3)
    assert np.allclose(f.p_home, 0.75) and np.allclose(f.margin, 2.0) and np.allclose(f.total, 215.0)


def test_context_logistic_baseline_learns_a_separable_signal():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 32))
    margin = 8 * x[:, 0] + rng.normal(size=400)
    f = ContextLogisticBaseline().fit(x, (margin > 0).astype(float), margin, 220 + x[:, 1]).predict(x)
    assert np.mean((f.p_home > 0.5) == (margin > 0)) > 0.9
    assert np.corrcoef(f.margin, margin)[0, 1] > 0.9


def test_score_clock_baseline_trusts_a_late_lead_more_than_an_early_one():
    rng = np.random.default_rng(1)
    n = 4000
    t = rng.uniform(0, 1, n)
    diff = rng.normal(0, 12 * np.sqrt(1 - t + 0.01), n)
    final = diff + rng.normal(0, 12 * np.sqrt(t + 0.01), n)
    pre_p, pre_m = np.full(n, 0.55), np.full(n, 2.0)
    b = ScoreClockBaseline().fit(diff, t, pre_p, pre_m, (final > 0).astype(float))
    lead = np.array([8.0, 8.0])
    f = b.predict(
        lead, np.array([100.0, 200.0]), np.array([0.9, 0.05]), pre_p[:2], pre_m[:2], np.full(2, 220.0)
    )
    assert f.p_home[1] > f.p_home[0] > 0.5
    assert np.allclose(f.total, [100 + 220 * 0.9, 200 + 220 * 0.05])


def test_score_clock_with_possession_learns_what_the_ball_is_worth_late():
    """Late in a one-point game the side with the ball is the likelier winner; the baseline told who
    has it says so, and asks for it when it is missing."""
    rng = np.random.default_rng(3)
    n = 6000
    t = rng.uniform(0, 0.05, n)  # the last 2.4 minutes
    diff = rng.integers(-4, 5, n).astype(float)
    ball = rng.choice([-1.0, 1.0], n)
    final = diff + 1.0 * ball + rng.normal(0, 12 * np.sqrt(t + 0.002), n)
    pre_p, pre_m = np.full(n, 0.55), np.full(n, 2.0)
    win = (final > 0).astype(float)
    b = ScoreClockBaseline(possession=True).fit(diff, t, pre_p, pre_m, win, ball)
    one = np.full(2, 1.0)
    f = b.predict(
        -one,
        np.full(2, 200.0),
        np.full(2, 0.01),
        pre_p[:2],
        pre_m[:2],
        np.full(2, 220.0),
        np.array([1.0, -1.0]),
    )
    assert f.p_home[0] > f.p_home[1] + 0.1
    plain = ScoreClockBaseline().fit(diff, t, pre_p, pre_m, win)
    assert plain.win[-1].coef_.shape[1] == b.win[-1].coef_.shape[1] - 2
    import pytest

    with pytest.raises(ValueError, match="possession"):
        b.predict(-one, np.full(2, 200.0), np.full(2, 0.01), pre_p[:2], pre_m[:2], np.full(2, 220.0))


def test_plots_render_png_bytes():
    rng = np.random.default_rng(2)
    p = rng.uniform(0, 1, 300)
    assert reliability_diagram_png(p, (rng.uniform(size=300) < p).astype(float))[:4] == b"\x89PNG"
    hist = [{"epoch": e, "train_loss": 1 / (e + 1), "val_loss": 1.1 / (e + 1)} for e in range(3)]
    assert training_curves_png(hist)[:4] == b"\x89PNG"
