"""Team strength from the players available: minutes x rating over the rotation less who is out,
ratings shrunk toward a box-score prior fitted on earlier seasons only (synthetic, exact values)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nba_pipeline.analytics.schema import NODE_FEATURES
from nba_pipeline.analytics.team_strength import (
    PRIOR_FEATURES,
    REPLACEMENT_RATING,
    SHRINK_MINUTES,
    add_strength_features,
    box_prior,
    player_ratings,
    team_strength,
)


def _rotation(minutes, ratings_out, game="g1", team=1):
    return pd.DataFrame(
        {
            "game_id": game,
            "team_id": team,
            "expected_minutes": minutes,
            "out": ratings_out,
        }
    )


def test_an_injured_star_lowers_the_strength_by_his_minutes_times_rating():
    mins = [36.0, 34.0, 32.0, 32.0, 30.0, 28.0, 26.0, 22.0]
    rating = np.array([6.0, 1.0, 0.0, 0.0, -1.0, 0.0, -1.0, -2.0])
    full = team_strength(_rotation(mins, [False] * 8), rating).iloc[0]
    hurt = team_strength(_rotation(mins, [True] + [False] * 7), rating).iloc[0]
    assert full["avail_rating"] == pytest.approx(np.dot(mins, rating) / 48.0)  # 240 minutes: no filler
    # his 36 minutes go to a replacement player
    assert hurt["avail_rating"] == pytest.approx(
        (np.dot(mins[1:], rating[1:]) + 36 * REPLACEMENT_RATING) / 48
    )
    assert hurt["out_share"] == pytest.approx(36 / 240) and full["out_share"] == 0.0


def test_more_than_240_expected_minutes_are_scaled_to_the_game():
    out = team_strength(_rotation([60.0, 60.0, 60.0, 60.0, 60.0], [False] * 5), np.ones(5)).iloc[0]
    assert out["avail_rating"] == pytest.approx(5.0)


def _features(season: str, date: str, rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(rows, len(NODE_FEATURES))), columns=NODE_FEATURES)
    df["minutes_per_game"] = rng.uniform(5, 36, rows)
    df["rapm"] = 0.2 * df["minutes_per_game"] - 3.0 + rng.normal(scale=0.1, size=rows)
    return df.assign(
        season=season,
        as_of_date=pd.Timestamp(date),
        player_id=np.arange(rows),
        games_played=60,
        has_history=True,
    )


def test_the_box_prior_is_fitted_on_earlier_seasons_only():
    early = _features("2020-21", "2021-05-16", 200, 0)
    later = _features("2021-22", "2022-04-10", 200, 1)
    later["rapm"] = 100.0  # a season after the target must change nothing
    coef = box_prior(pd.concat([early, later]), "2021-22")
    k = PRIOR_FEATURES.index("minutes_per_game") + 1
    assert coef[k] == pytest.approx(0.2, abs=0.02)
    assert box_prior(early, "2020-21") is None  # nothing before the first season


def test_a_rating_moves_from_the_prior_to_the_rapm_with_minutes():
    pf = _features("2020-21", "2021-05-16", 200, 0)
    coef = box_prior(pf, "2021-22")
    cur = pf.iloc[:2].assign(season="2021-22", as_of_date=pd.Timestamp("2021-10-20"), rapm=5.0)
    cur["games_played"] = [1, 1000]
    cur["minutes_per_game"] = 10.0
    req = pd.DataFrame({"player_id": cur["player_id"], "game_date": pd.Timestamp("2021-10-21")})
    r = player_ratings(req, pd.concat([pf, cur]), coef)
    prior = coef[0] + cur[list(PRIOR_FEATURES)].to_numpy(float) @ coef[1:]
    w = np.array([10.0, 10000.0])
    assert r == pytest.approx((w * 5.0 + SHRINK_MINUTES * prior) / (w + SHRINK_MINUTES))


def test_a_team_without_a_rotation_yet_takes_its_expected_starters_rapm():
    tf = pd.DataFrame(
        {"game_id": ["g1", "g1"], "team_id": [1, 2], "season": "2021-22", "lineup_rapm": [3.0, -1.0]}
    )
    rot = _rotation([30.0] * 8, [False] * 8).assign(
        season="2021-22", game_date=pd.Timestamp("2021-10-21"), player_id=np.arange(8)
    )
    out = add_strength_features(tf, rot, _features("2020-21", "2021-05-16", 50, 0)).set_index("team_id")
    assert out.loc[2, "avail_rating"] == -1.0 and out.loc[2, "out_share"] == 0.0
    assert np.isfinite(out.loc[1, "avail_rating"])
