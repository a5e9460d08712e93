import numpy as np
import pandas as pd

from nba_pipeline.evaluate.elo import EloConfig, elo_forecasts


def _games(rows):
    return pd.DataFrame(
        rows,
        columns=["game_id", "season", "game_date", "home_team_id", "away_team_id", "home_pts", "away_pts"],
    )


def test_elo_first_game_uses_home_advantage_only():
    f = elo_forecasts(_games([("g1", "2020-21", "2021-01-01", 1, 2, 100, 90)]))
    expected = 1 / (1 + 10 ** (-100 / 400))
    assert np.isclose(f.loc[0, "elo_p_home"], expected)
    assert np.isclose(f.loc[0, "elo_margin"], 100 / 28)


def test_elo_games_on_same_day_do_not_see_each_other():
    same_day = elo_forecasts(
        _games([("g1", "s", "2021-01-01", 1, 2, 130, 90), ("g2", "s", "2021-01-01", 1, 3, 100, 99)])
    )
    assert np.isclose(same_day.loc[0, "elo_home"], same_day.loc[1, "elo_home"])
    next_day = elo_forecasts(
        _games([("g1", "s", "2021-01-01", 1, 2, 130, 90), ("g2", "s", "2021-01-02", 1, 3, 100, 99)])
    )
    assert next_day.loc[1, "elo_home"] > next_day.loc[0, "elo_home"]


def test_elo_regresses_toward_mean_between_seasons():
    cfg = EloConfig()
    first = ("g1", "s1", "2021-01-01", 1, 2, 140, 80)
    same_season = elo_forecasts(_games([first, ("g2", "s1", "2021-11-01", 1, 2, 100, 99)]), cfg)
    new_season = elo_forecasts(_games([first, ("g2", "s2", "2021-11-01", 1, 2, 100, 99)]), cfg)
    rating_after_g1 = same_season.loc[1, "elo_home"]
    assert rating_after_g1 > cfg.initial
    expected = cfg.carryover * rating_after_g1 + (1 - cfg.carryover) * cfg.season_mean
    assert np.isclose(new_season.loc[1, "elo_home"], expected)


def test_elo_beats_home_rate_on_real_2023_24_season(nba_raw_dir):
    g = pd.read_parquet(nba_raw_dir / "games.parquet").rename(
        columns={
            "team_id_home": "home_team_id",
            "team_id_road": "away_team_id",
            "pts_home": "home_pts",
            "pts_road": "away_pts",
        }
    )
    f = g.merge(elo_forecasts(g), on="game_id")
    test = f[(f.season == "2023-24") & (f.game_type == "regular_season")]
    y = (test.home_pts > test.away_pts).to_numpy(float)
    p = test.elo_p_home.to_numpy()
    brier = np.mean((p - y) ** 2)
    constant_brier = np.mean((y.mean() - y) ** 2)
    assert np.mean((p > 0.5) == y) > 0.60
    assert brier < constant_brier - 0.015
