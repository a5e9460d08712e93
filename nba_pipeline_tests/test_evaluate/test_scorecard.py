"""The ledger scorecard: the last pregame forecast of each played game scored with the one metrics
function, beside Elo and the market, by week; backtest rows kept apart; and, on a real slice, the
scored backtest ledger equals the evaluation report's pregame model row on the same games."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from nba_pipeline.evaluate.elo import elo_forecasts
from nba_pipeline.evaluate.scorecard import (
    ELO,
    MARKET,
    MODEL,
    MODEL_LINES,
    NO_LINE,
    OWN,
    OWN_LINES,
    build_scorecard,
    rolling_brier,
    rolling_brier_png,
    score_ledger,
)
from nba_pipeline_tests.test_forecast.conftest import (  # noqa: F401 - session fixtures of the real slice
    forecaster,
    model_version,
    slice_env,
)


def _games(n: int = 40, seed: int = 0) -> pd.DataFrame:
    """A synthetic games table: four teams, one game a day from Monday 2024-01-01."""
    rng = np.random.default_rng(seed)
    teams = np.array([1, 2, 3, 4])
    home = teams[np.arange(n) % 4]
    away = teams[(np.arange(n) + 1 + (np.arange(n) // 4) % 3) % 4]
    return pd.DataFrame(
        {
            "game_id": [f"00223{i:05d}" for i in range(n)],
            "season": "2023-24",
            "game_date": pd.date_range("2024-01-01", periods=n, freq="D"),
            "home_team_id": home,
            "away_team_id": away,
            "home_pts": rng.integers(95, 130, n),
            "away_pts": rng.integers(95, 130, n),
        }
    ).query("home_team_id != away_team_id")


def _ledger(games: pd.DataFrame, seed: int = 1, source: str = "daily") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(games)
    return pd.DataFrame(
        {
            "forecast_id": np.arange(n),
            "game_id": games["game_id"].to_numpy(),
            "model_version": "v1.0.0",
            "made_at": pd.to_datetime(games["game_date"]).dt.tz_localize("UTC") - pd.Timedelta(hours=6),
            "state": "pregame",
            "event_index": 0,
            "p_home_win": rng.uniform(0.2, 0.8, n),
            "margin": rng.normal(2, 8, n),
            "total": rng.normal(225, 10, n),
            "source": source,
        }
    )


def test_model_row_is_the_metrics_of_the_last_pregame_forecast_of_each_played_game():
    games = _games()
    led = _ledger(games)
    # An earlier forecast of game 0 by another version, an in-game row, and a game not played yet.
    early = led.iloc[[0]].assign(
        forecast_id=-1, p_home_win=0.01, made_at=led["made_at"].iloc[0] - pd.Timedelta(days=1)
    )
    live = led.iloc[[1]].assign(forecast_id=999, state="after_event", event_index=40, p_home_win=0.99)
    future = led.iloc[[2]].assign(forecast_id=1000, game_id="0022399999")
    card = build_scorecard(pd.concat([early, led, live, future]), games)
    assert card.pending == 1 and len(card.games) == len(games)
    win = (games["home_pts"] > games["away_pts"]).to_numpy(float)
    p = led["p_home_win"].to_numpy()
    m = card.overall[MODEL]
    assert m["n"] == len(games)
    assert m["brier"] == pytest.approx(np.mean((p - win) ** 2))
    assert m["accuracy"] == pytest.approx(np.mean((p >= 0.5) == (win == 1)))
    margin_true = (games["home_pts"] - games["away_pts"]).to_numpy(float)
    assert m["margin_mae"] == pytest.approx(np.mean(np.abs(led["margin"].to_numpy() - margin_true)))


def test_elo_row_scores_elo_forecasts_of_the_same_games():
    games = _games()
    card = build_scorecard(_ledger(games), games)
    elo = elo_forecasts(games.assign(game_date=pd.to_datetime(games["game_date"]))).set_index("game_id")
    win = (games["home_pts"] > games["away_pts"]).to_numpy(float)
    p = elo["elo_p_home"].reindex(games["game_id"]).to_numpy()
    assert card.overall[ELO]["brier"] == pytest.approx(np.mean((p - win) ** 2))
    # Elo's total: the mean total of the games before the date (the first date: its own).
    t = (games["home_pts"] + games["away_pts"]).to_numpy(float)
    assert card.games["elo_total"].iloc[0] == pytest.approx(t[0])
    assert card.games["elo_total"].iloc[5] == pytest.approx(t[:5].mean())


def test_market_rows_only_on_games_with_lines():
    games = _games()
    led = _ledger(games)
    lines = games.iloc[::3]
    market = pd.DataFrame(
        {
            "game_id": lines["game_id"],
            "market_p_home": 0.6,
            "market_margin": 3.0,
            "market_total": 220.0,
        }
    )
    card = build_scorecard(led, games, market)
    assert card.overall[MARKET]["n"] == card.overall[MODEL_LINES]["n"] == len(lines)
    assert card.overall[MODEL]["n"] == len(games)
    no_lines = build_scorecard(led, games, None)
    assert MARKET not in no_lines.overall


def test_the_card_counts_the_scored_forecasts_by_the_line_they_used():
    games = _games()
    led = _ledger(games)
    n = len(led)
    led["line_source"] = [
        ("odds.parquet" if i % 3 == 0 else "nba_api_odds" if i % 3 == 1 else None) for i in range(n)
    ]
    future = led.iloc[[0]].assign(forecast_id=1000, game_id="0022399999")  # pending: not counted
    card = build_scorecard(pd.concat([led, future]), games)
    want = {k: int(v) for k, v in led["line_source"].fillna(NO_LINE).value_counts().items()}
    assert card.lines_used == want and sum(want.values()) == len(card.games)
    assert (
        f"{want['odds.parquet']} odds.parquet" in card.markdown and f"{want[NO_LINE]} none" in card.markdown
    )
    # a ledger read before the column existed: every forecast without a line
    assert build_scorecard(_ledger(games), games).lines_used == {NO_LINE: n}


def test_the_model_s_own_forecast_is_scored_beside_the_line_it_used():
    """Own view: the recorded own forecast where a line was used, the forecast itself where none
    was; a forecast with a line written before the own columns is left out of the own rows."""
    games = _games()
    led = _ledger(games)
    n = len(led)
    with_line = np.arange(n) % 2 == 0
    led["line_source"] = np.where(with_line, "odds.parquet", None)
    rng = np.random.default_rng(5)
    led["own_p_home_win"] = np.where(with_line, rng.uniform(0.3, 0.7, n), np.nan)
    led["own_margin"] = np.where(with_line, rng.normal(0, 5, n), np.nan)
    led["own_total"] = np.where(with_line, rng.normal(220, 5, n), np.nan)
    led.loc[led.index[0], ["own_p_home_win", "own_margin", "own_total"]] = np.nan  # an old row
    market = pd.DataFrame(
        {"game_id": games["game_id"], "market_p_home": 0.6, "market_margin": 3.0, "market_total": 220.0}
    )[with_line]
    card = build_scorecard(led, games, market)
    win = (games["home_pts"] > games["away_pts"]).to_numpy(float)
    own = np.where(with_line, led["own_p_home_win"], led["p_home_win"])
    known = ~np.isnan(own)
    assert card.overall[OWN]["n"] == n - 1
    assert card.overall[OWN]["brier"] == pytest.approx(np.mean((own[known] - win[known]) ** 2))
    both = with_line & known
    assert card.overall[OWN_LINES]["n"] == both.sum() == card.overall[MARKET]["n"] - 1
    assert card.overall[OWN_LINES]["brier"] == pytest.approx(np.mean((own[both] - win[both]) ** 2))
    assert OWN in card.markdown and OWN_LINES in card.markdown


def test_weeks_split_the_games_monday_to_sunday():
    games = _games(n=30)
    card = build_scorecard(_ledger(games), games)
    model_rows = [(label, m) for label, m in card.weekly if label.endswith(f" {MODEL}")]
    assert sum(m["n"] for _, m in model_rows) == card.overall[MODEL]["n"]
    for week, part in card.games.groupby("week"):
        assert pd.Timestamp(week).weekday() == 0
        assert (part["game_date"] - pd.Timestamp(week)).dt.days.between(0, 6).all()
    assert "## By week" in card.markdown and "| week, forecaster |" in card.markdown


def test_backtest_rows_stay_out_of_the_live_scorecard_unless_asked():
    games = _games()
    led = pd.concat([_ledger(games.iloc[:10]), _ledger(games, seed=5, source="backtest")])
    live = build_scorecard(led, games)
    assert live.sources == ["daily"] and live.overall[MODEL]["n"] == 10
    back = build_scorecard(led, games, sources=["backtest"])
    assert back.overall[MODEL]["n"] == len(games)


def test_rolling_brier_averages_the_last_games_and_plots_as_png():
    games = _games()
    card = build_scorecard(_ledger(games), games)
    r = rolling_brier(card, window=5)
    sq = (card.games["p_home_win"] - card.games["win"]) ** 2
    assert r["model"].iloc[10] == pytest.approx(sq.iloc[6:11].mean())
    assert r["model"].iloc[0] == pytest.approx(sq.iloc[0])
    assert rolling_brier_png(card, window=5)[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_empty_ledger_scores_nothing_without_failing(tmp_path):
    card = score_ledger(sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}"))
    assert card.games.empty and card.overall == {} and "No forecast" in card.markdown


def test_scored_backtest_ledger_equals_the_evaluation_report_on_the_same_games(
    slice_env,  # noqa: F811 - the imported session fixture
    forecaster,  # noqa: F811
    tmp_path,
):
    """Forecasts of past games written to a ledger (source backtest, the actual starters the model
    inputs hold) score exactly as the report's pregame model row on those games."""
    from nba_pipeline.analytics import schema as aschema
    from nba_pipeline.analytics.stints import complete_lineups
    from nba_pipeline.db import read_table
    from nba_pipeline.evaluate.report import evaluate_forecaster
    from nba_pipeline.features.season_arrays import build_season_arrays
    from nba_pipeline.forecast.daily import backtest_forecasts, starters_from_arrays
    from nba_pipeline.forecast.game import GameForecaster

    src = Path(slice_env["NBA_DATABASE_URL"].removeprefix("sqlite:///"))
    shutil.copy(src, tmp_path / "nba.db")
    db = sa.create_engine(f"sqlite:///{tmp_path / 'nba.db'}")
    season = "2022-23"
    plays = read_table(db, "plays", {"season": season})
    games = read_table(db, "games", {"season": season})
    if plays[[c for c in plays if c.startswith(("home_on", "away_on"))]].isna().any(axis=None):
        plays = complete_lineups(plays, games)
    arrays = build_season_arrays(
        plays,
        games,
        read_table(db, aschema.player_features, {"season": season}),
        read_table(db, aschema.team_game_features, {"season": season}),
        season=season,
    )
    n = arrays.n_games
    train, test = arrays.subset(np.arange(0, n - 12)), arrays.subset(np.arange(n - 12, n))
    model = forecaster.model
    ev = evaluate_forecaster(
        model,
        train,
        test,
        games.assign(game_date=pd.to_datetime(games["game_date"])),
        None,
        all_events_stride=500,
    )
    fc = GameForecaster(model, db)
    ids = [str(g) for g in test.game_id]
    assert backtest_forecasts(fc, db, ids, starters=starters_from_arrays(test)) == len(ids)
    live = score_ledger(db)
    assert live.games.empty  # backtest rows are not the live scorecard
    card = score_ledger(db, sources=["backtest"])
    made = card.games["made_at"].dt.tz_convert(None)
    assert (made == pd.to_datetime(card.games["game_date"]) - pd.Timedelta(days=1)).all()
    row = ev.table[(ev.table["checkpoint"] == "pregame") & (ev.table["source"] == "model")].iloc[0]
    got = card.overall[MODEL]
    assert got["n"] == row["n"] == len(ids)
    for k in ("accuracy", "brier", "log_loss", "margin_mae", "total_mae"):
        assert got[k] == pytest.approx(row[k], abs=1e-5), k
    elo_row = ev.table[(ev.table["checkpoint"] == "pregame") & ev.table["source"].str.startswith("Elo")].iloc[
        0
    ]
    assert card.overall[ELO]["brier"] == pytest.approx(elo_row["brier"], abs=1e-9)
