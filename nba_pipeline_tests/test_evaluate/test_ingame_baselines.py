"""The in-game baselines fed a pregame forecast: score and clock + the model's own pregame, and +
the market's, on real games of 2023-24 (lines from odds.parquet)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from nba_pipeline.evaluate.baselines import SampleForecasts
from nba_pipeline.evaluate.report import (
    ORDER,
    _random_cuts,
    evaluate_forecaster,
    fit_score_clock,
    state_at_cut,
)
from nba_pipeline.features.season_arrays import build_season_arrays
from nba_pipeline.forecast.model import ForecastModel
from nba_pipeline.models.forecaster import NBAForecaster
from nba_pipeline.training.dataset import score_diff_std_from_arrays, target_norm_from_arrays
from nba_pipeline.training.metrics import score
from nba_pipeline_tests.test_features.real import real_inputs


@pytest.fixture(scope="module")
def real(nba_raw_dir):
    from nba_pipeline.evaluate.market import load_market

    plays, games, tgf = real_inputs(nba_raw_dir, "2023-24", 100)
    a = build_season_arrays(plays, games, None, tgf, season="2023-24")
    games = games.assign(game_date=pd.to_datetime(games["game_date"]))
    return a, games, load_market(nba_raw_dir)


def test_the_pregame_forecast_fed_to_score_and_clock_is_used(real):
    """Fed a pregame forecast that knows the result, the fitted regression wins early in the game; fed
    a coin flip it cannot: the pregame input is read, and weighted less as time runs out."""
    a = real[0]
    win = (a.home_pts > a.away_pts).astype(float)
    n = a.n_games
    fit, test = np.arange(70), np.arange(70, n)
    rng = np.random.default_rng(0)
    # an informative but noisy pregame forecast
    p = np.clip(np.where(win > 0, 0.7, 0.3) + rng.normal(0, 0.1, n), 0.05, 0.95)
    informed = SampleForecasts(p, (p - 0.5) * 20, np.full(n, 225.0))
    flat = SampleForecasts(np.full(n, 0.5), np.zeros(n), np.full(n, 225.0))
    briers = {}
    for name, pre in (("informed", informed), ("flat", flat)):
        clock = fit_score_clock(a, fit, pre, win)
        g, c = _random_cuts(a, per_game=1, seed=5, games=test)
        c = np.minimum(c, 30)  # early in the game: the score says little yet
        st = state_at_cut(a, g, c)
        f = clock.predict(
            st["diff"], st["total"], st["time_left"], pre.p_home[g], pre.margin[g], pre.total[g]
        )
        briers[name] = score(f.p_home, f.margin, f.total, win[g], win[g], win[g])["brier"]
    assert briers["informed"] < briers["flat"] - 0.03, briers


def test_report_has_both_fed_baselines_at_every_in_game_checkpoint_on_real_games(real):
    a, games, market = real
    train, test = a.subset(np.arange(70)), a.subset(np.arange(70, a.n_games))
    norm, sd = target_norm_from_arrays(train), score_diff_std_from_arrays(train)
    torch.manual_seed(0)
    model = NBAForecaster().eval()
    ev = evaluate_forecaster(
        ForecastModel("untrained", model, norm, sd, temperature=1.0),
        train,
        test,
        games,
        market,
        all_events_stride=7,
        own_pregame_fit_games=np.arange(50, 70),
    )
    t = ev.table.set_index(["checkpoint", "source"])
    with_lines = market.set_index("game_id").reindex(test.game_id.astype(str))
    n_lines = int(with_lines[["market_p_home", "market_margin", "market_total"]].notna().all(axis=1).sum())
    assert 0 < n_lines <= test.n_games
    for cp in ORDER[1:]:
        for source in ("score and clock", "score and clock + own pregame"):
            assert t.loc[(cp, source), "n"] == t.loc[(cp, "model"), "n"]
        assert t.loc[(cp, "score and clock + market"), "n"] == t.loc[(cp, "model (games with lines)"), "n"]
        if cp != "all_events":
            assert t.loc[(cp, "score and clock + market"), "n"] == n_lines
        # the model row on the games with lines is the model's predictions on exactly those games
        part = ev.predictions[ev.predictions["checkpoint"] == cp]
        lines_ok = with_lines[["market_p_home", "market_margin", "market_total"]].notna().all(axis=1)
        sub = part[part["game_id"].map(lines_ok).to_numpy(dtype=bool)]
        expected = score(
            sub["p_home"], sub["margin"], sub["total"], sub["win"], sub["margin_true"], sub["total_true"]
        )
        assert t.loc[(cp, "model (games with lines)"), "brier"] == pytest.approx(expected["brier"])
    # late in the game both know the score: far below a coin flip's 0.25
    assert t.loc[("q4_5min", "score and clock + market"), "brier"] < 0.2
    assert t.loc[("q4_5min", "score and clock + own pregame"), "brier"] < 0.2
    assert "score and clock + own pregame" in ev.markdown
