"""The forecasts the product ships (``evaluate.shipped``), scored on the forecast conftest's real slice
of 2022-23 (random model; here, beside the forecast tests, because they share that slice): the
morning inputs are the daily run's (expected fives through ``GameForecaster``), one game's batch input
equals its own forecast, and the rows name the morning and the early season."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nba_pipeline.evaluate.shipped import (
    EARLY,
    MORNING,
    NO_REPORT,
    TIPOFF,
    morning_arrays,
    pregame_without_lines,
    shipped_rows,
)
from nba_pipeline.forecast.daily import expected_fives, starters_from_arrays
from nba_pipeline.forecast.game import GameForecaster
from nba_pipeline_tests.test_forecast.conftest import SEASON


@pytest.fixture(scope="module")
def ids(forecaster) -> list[str]:
    from nba_pipeline.db import read_table

    games = read_table(forecaster.engine, "games", {"season": SEASON})
    return sorted(games["game_id"].astype(str))[20:40]


def test_a_batch_of_pregame_inputs_forecasts_each_game_as_its_own_forecast(forecaster: GameForecaster, ids):
    from nba_pipeline.db import read_table

    games = read_table(forecaster.engine, "games", {"season": SEASON})
    games = games[games["game_id"].isin(ids)].assign(
        game_date=lambda d: pd.to_datetime(d["game_date"]).dt.date
    )
    fives = expected_fives(forecaster.engine, games)
    batch = pregame_without_lines(forecaster.model, forecaster.pregame_arrays(ids, fives)).set_index(
        "game_id"
    )
    for gid in ids[:4]:
        one = forecaster.forecast(gid, starters=fives[gid])
        assert abs(batch.loc[gid, "p_home"] - one.p_home_win) < 1e-4
        assert abs(batch.loc[gid, "margin"] - one.margin) < 1e-3


def test_the_morning_inputs_hold_the_expected_fives_not_the_actual_ones(forecaster: GameForecaster, ids):
    from nba_pipeline.db import read_table

    games = read_table(forecaster.engine, "games", {"season": SEASON})
    games = games[games["game_id"].isin(ids)].assign(
        game_date=lambda d: pd.to_datetime(d["game_date"]).dt.date
    )
    expected = expected_fives(forecaster.engine, games)
    morning = morning_arrays(forecaster, ids)
    assert sorted(morning.game_id) == sorted(ids)
    got = starters_from_arrays(morning)
    assert {g: (sorted(h), sorted(a)) for g, (h, a) in got.items()} == {
        g: (sorted(h), sorted(a)) for g, (h, a) in expected.items()
    }
    assert any(len(h) == 5 for h, _ in got.values())


def test_shipped_rows_score_the_morning_and_the_first_games(forecaster: GameForecaster, ids):
    test = forecaster.pregame_arrays(ids, {})
    with_lines = pregame_without_lines(forecaster.model, test)
    market = pd.DataFrame({"game_id": ids, "market_p_home": 0.6, "market_margin": 3.0, "market_total": 225.0})
    rows = shipped_rows(forecaster, test, with_lines, market, early=10).set_index(["checkpoint", "source"])
    assert rows.loc[("pregame", MORNING), "n"] == rows.loc[("pregame", NO_REPORT), "n"] == len(ids)
    for source in ("model", TIPOFF, MORNING, NO_REPORT, "market"):
        assert rows.loc[(EARLY, source), "n"] == 10
    assert np.isclose(
        rows.loc[(EARLY, "market"), "brier"],
        np.mean((0.6 - (test.home_pts > test.away_pts)[np.argsort(test.game_date, kind="stable")][:10]) ** 2),
    )


def test_the_morning_without_a_report_leaves_out_who_missed_the_latest_game(fc: GameForecaster, ids):
    """The inputs differ from the report's stand-in only in the strength, and they are the daily
    run's own: its forecasts of a day's games made the day before."""
    import datetime as dt

    from nba_pipeline.db import read_table
    from nba_pipeline.features.context import FEATURE_NAMES, STRENGTH
    from nba_pipeline.forecast.daily import run_daily

    report, none = morning_arrays(fc, ids), morning_arrays(fc, ids, report=False)
    names = [f"{side}_{f}" for f in STRENGTH for side in ("home", "away")] + ["avail_rating_diff"]
    strength = [FEATURE_NAMES.index(n) for n in names]
    rest = [i for i in range(len(FEATURE_NAMES)) if i not in strength]
    np.testing.assert_array_equal(report.context[:, rest], none.context[:, rest])
    assert not np.array_equal(report.context[:, strength], none.context[:, strength])
    games = read_table(fc.engine, "games", {"season": SEASON}).set_index("game_id")
    day = pd.Timestamp(games.loc[ids[0], "game_date"]).date()
    made = dt.datetime.combine(day, dt.time(0, 0)) - dt.timedelta(days=1)
    daily = {f.game_id: f.p_home_win for f in run_daily(fc, fc.engine, None, day, days=1, now=made).forecasts}
    frame = pregame_without_lines(fc.model, none).set_index("game_id")
    assert set(daily) & set(ids)
    for gid in set(daily) & set(ids):
        assert abs(frame.loc[gid, "p_home"] - daily[gid]) < 1e-4
