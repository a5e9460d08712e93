"""Rotations and who of them missed a game: a known injury in the real data, and synthetic edges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nba_pipeline.analytics.availability import (
    ROTATION_GAMES,
    game_rotations,
    rotation_as_of,
    with_stint_seconds,
)
from nba_pipeline.ingest.player_game_stats import build_player_game_stats

LAKERS, LEBRON = 1610612747, 2544
A, B = 1, 2  # synthetic team ids


@pytest.fixture(scope="module")
def slice_pgs(real_slice) -> pd.DataFrame:
    """player_game_stats of the real slice (the first 450 games of 2022-23)."""
    return build_player_game_stats(real_slice.plays, real_slice.games, "2022-23")


def test_lebron_out_with_his_november_2022_adductor_strain(slice_pgs):
    """LeBron James missed five Lakers games (11 to 22 November 2022) and came back on the 25th."""
    r = game_rotations(slice_pgs)
    lebron = r[(r["player_id"] == LEBRON) & (r["team_id"] == LAKERS)].set_index("game_date")
    missed = pd.to_datetime(["2022-11-11", "2022-11-13", "2022-11-18", "2022-11-20", "2022-11-22"])
    assert lebron.loc[missed, "out"].all()
    assert not lebron.loc[pd.Timestamp("2022-11-25"), "out"]
    assert (lebron["expected_minutes"] > 30).all()


def test_as_of_the_day_after_his_last_missed_game_he_missed_the_latest(slice_pgs):
    rot = rotation_as_of(slice_pgs, "2022-23", [LAKERS], "2022-11-23")
    row = rot.set_index("player_id").loc[LEBRON]
    assert row["missed_last"] and row["window_games"] == ROTATION_GAMES
    assert 8 <= len(rot) <= 13


def test_rotation_as_of_a_game_day_equals_the_history_of_that_game(slice_pgs):
    """One computation: the morning rotation of a game day is the history's rotation of its game."""
    r = game_rotations(slice_pgs)
    game = r[(r["team_id"] == LAKERS) & (r["game_date"] == pd.Timestamp("2022-11-18"))]
    morning = rotation_as_of(slice_pgs, "2022-23", [LAKERS], "2022-11-18")
    assert sorted(morning["player_id"]) == sorted(game["player_id"])
    np.testing.assert_allclose(
        morning.set_index("player_id")["expected_minutes"].sort_index(),
        game.set_index("player_id")["expected_minutes"].sort_index(),
    )


def _games(n: int, team: int, start: str = "2023-10-24", players=(10, 11, 12, 13, 14)) -> pd.DataFrame:
    """``n`` games of ``team`` two days apart, each of ``players`` on court 30 minutes."""
    dates = pd.date_range(start, periods=n, freq="2D")
    rows = [
        {
            "game_id": f"g{team}_{i:03d}",
            "season": "2023-24",
            "game_date": d,
            "team_id": team,
            "player_id": p,
            "seconds": 1800.0,
        }
        for i, d in enumerate(dates)
        for p in players
    ]
    return pd.DataFrame(rows)


def test_nothing_on_or_after_the_day_changes_its_rotation():
    a = _games(12, A)
    day = a["game_date"].iloc[30]  # the seventh game's date
    before = rotation_as_of(a, "2023-24", [A], day)
    later = a[a["game_date"] >= day].assign(player_id=99, seconds=3000.0)
    after = rotation_as_of(pd.concat([a[a["game_date"] < day], later]), "2023-24", [A], day)
    pd.testing.assert_frame_equal(before, after)
    history = game_rotations(pd.concat([a, later]))
    assert 99 not in set(history.loc[history["game_date"] <= day, "player_id"])


def test_a_team_with_no_game_yet_has_an_empty_rotation():
    a = _games(3, A)
    assert rotation_as_of(a, "2023-24", [A], a["game_date"].min()).empty
    assert rotation_as_of(a, "2024-25", [A], "2024-10-30").empty  # a new season starts empty
    first = a[a["game_date"] == a["game_date"].min()]
    assert game_rotations(first).empty


def test_few_minutes_or_one_appearance_keeps_a_player_out_of_the_rotation():
    a = _games(10, A)
    cameo = a[a["player_id"] == 10].head(4).assign(player_id=20, seconds=300.0)  # 5 minutes
    once = a[a["player_id"] == 10].head(1).assign(player_id=21, seconds=2400.0)  # 40 minutes, once
    rot = rotation_as_of(pd.concat([a, cameo, once]), "2023-24", [A], "2024-01-01")
    assert set(rot["player_id"]) == {10, 11, 12, 13, 14}


def test_a_star_who_stops_playing_is_out_until_the_window_passes():
    a = _games(20, A)
    a = a[~((a["player_id"] == 14) & (a["game_id"] >= "g1_005"))]  # player 14 out from game 5 on
    r = game_rotations(a)
    out = r[(r["player_id"] == 14) & r["out"]]["game_id"].tolist()
    # in the rotation while 2 of his games are among the team's last 10: games 5 to 13
    assert out == [f"g1_{i:03d}" for i in range(5, 14)]


def _traded() -> pd.DataFrame:
    """Player 14 plays A's games 0 to 5, then B's from g2_006 (2023-11-06) on, 30 minutes each."""
    a, b = _games(10, A), _games(10, B, start="2023-10-25", players=(30, 31, 32, 33, 34))
    b.loc[(b["player_id"] == 34) & (b["game_id"] >= "g2_006"), "player_id"] = 14
    a = a[~((a["player_id"] == 14) & (a["game_id"] >= "g1_006"))]
    return pd.concat([a, b])


def test_a_traded_player_joins_the_new_rotation_on_the_day_he_is_known_there():
    both = _traded()
    first_b_game = pd.Timestamp("2023-11-06")
    assert 14 not in set(rotation_as_of(both, "2023-24", [B], first_b_game)["player_id"])
    known = rotation_as_of(both, "2023-24", [B], first_b_game, joined={B: [14]}).set_index("player_id")
    assert known.loc[14, "expected_minutes"] == pytest.approx(30.0)  # his own minutes, for A
    history = game_rotations(both)
    first = history[(history["game_date"] == first_b_game) & (history["team_id"] == B)]
    assert not first.set_index("player_id").loc[14, "out"]  # he played it: on B that day
    next_day = rotation_as_of(both, "2023-24", [B], first_b_game + pd.Timedelta(days=1))
    assert 14 in set(next_day["player_id"])  # one game for B is enough: he moved


def test_a_traded_player_leaves_the_old_rotation_once_he_plays_for_the_new_team():
    both = _traded()
    trade_day, first_b_game = pd.Timestamp("2023-11-05"), pd.Timestamp("2023-11-06")
    assert 14 in set(rotation_as_of(both, "2023-24", [A], trade_day)["player_id"])
    after = rotation_as_of(both, "2023-24", [A, B], first_b_game + pd.Timedelta(days=4))
    assert set(after.loc[after["team_id"] == B, "player_id"]) >= {14}
    assert 14 not in set(after.loc[after["team_id"] == A, "player_id"])


def test_a_player_back_from_a_long_absence_counts_on_the_day_he_plays():
    a = _games(30, A)
    a = a[~((a["player_id"] == 14) & a["game_id"].between("g1_005", "g1_024"))]  # out 20 games
    r = game_rotations(a)
    back = r[(r["game_id"] == "g1_025") & (r["player_id"] == 14)]
    assert len(back) == 1 and not back["out"].iloc[0]
    assert back["expected_minutes"].iloc[0] == pytest.approx(30.0)
    assert 14 not in set(r.loc[r["game_id"] == "g1_020", "player_id"])  # not while he is away


def test_null_seconds_come_from_the_stints():
    a = _games(1, A).assign(seconds=np.nan)
    stints = pd.DataFrame(
        {
            "game_id": ["g1_000"] * 2,
            "start_seconds": [0.0, 600.0],
            "end_seconds": [600.0, 2880.0],
            **{f"home_{i}": [9 + i, 9 + i] for i in range(1, 6)},
            **{f"away_{i}": [40 + i, 40 + i] for i in range(1, 6)},
            "home_poss": [10, 40],
            "away_poss": [10, 40],
        }
    )
    filled = with_stint_seconds(a, stints)
    assert (filled["seconds"] == 2880.0).all()


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match=r"player_game_stats.*seconds"):
        game_rotations(_games(2, A).drop(columns="seconds"))


def test_an_empty_rotation_keeps_its_columns_and_types():
    empty = rotation_as_of(_games(3, A), "2023-24", [A], "2023-10-01")
    assert empty.empty and empty["missed_last"].dtype == bool and empty["team_id"].dtype == "int64"
    assert empty[empty["missed_last"]].empty
