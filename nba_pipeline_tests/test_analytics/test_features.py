from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nba_pipeline.analytics.player_features import build_player_features, lookup_player_features
from nba_pipeline.analytics.rapm import rapm_snapshots
from nba_pipeline.analytics.schema import NODE_FEATURES, TEAM_GAME_FEATURES
from nba_pipeline.analytics.season_stats import build_season_stats
from nba_pipeline.analytics.team_features import build_team_game_features, haversine_miles
from nba_pipeline.analytics.team_game_table import TeamGameInputs, team_game_features
from nba_pipeline.ingest.player_game_stats import build_player_game_stats
from nba_pipeline.ingest.players import build_players
from nba_pipeline.ingest.raw import read_raw
from nba_pipeline.ingest.shots import build_shots

from .conftest import games_for

BASE = [
    "ortg_z",
    "drtg_z",
    "efg",
    "tov_pct",
    "orb_pct",
    "ft_rate",
    "rest_days",
    "back_to_back",
    "travel_miles",
]


@pytest.fixture(scope="module")
def four_seasons(nba_raw_dir):
    return games_for(nba_raw_dir, ["2019-20", "2020-21", "2021-22", "2022-23", "2023-24"])


@pytest.fixture(scope="module")
def slice_features(real_slice):
    """Every analytics table on the 2022-23 slice (prior: none, the slice is the first data)."""
    raw = real_slice.raw_dir
    st = real_slice.stints
    rapm, _ = rapm_snapshots(st)
    rapm["season"] = "2022-23"
    players, _ = build_players(read_raw(raw, "players"))
    shots = pd.concat(
        [build_shots(read_raw(raw, "shots", s), s) for s in ("2020-21", "2022-23")], ignore_index=True
    )
    shots = shots[shots["game_date"] <= pd.Timestamp(st["game_date"].max()).date()]
    pf = build_player_features(real_slice.plays, st, players, rapm, "2022-23")
    appearances = build_player_game_stats(real_slice.plays, real_slice.games, "2022-23")
    inputs = TeamGameInputs(real_slice.games, st, rapm, shots, pf, appearances)
    tf = team_game_features(inputs)  # the one implementation the asset and the daily path call
    tf = tf[tf["game_id"].isin(st["game_id"])]
    return {"rapm": rapm, "players": players, "shots": shots, "pf": pf, "tf": tf}


def test_haversine_matches_a_known_distance():
    # Boston TD Garden -> Los Angeles Crypto.com Arena is about 2,600 miles
    d = haversine_miles(np.array([42.3662]), np.array([-71.0621]), np.array([34.0430]), np.array([-118.2673]))
    assert 2580 < d[0] < 2620


def test_team_features_of_day_d_and_before_ignore_results_from_day_d_on(four_seasons):
    g = four_seasons[four_seasons["season"].isin(["2021-22", "2022-23"])].copy()
    base = build_team_game_features(g)
    day = pd.Timestamp("2022-12-10").date()
    pert = g.copy()
    on_day = pd.to_datetime(pert["game_date"]).dt.date == day
    assert on_day.sum() > 3
    for c in ("home_pts", "fgm_home", "fg3m_home", "tov_home", "oreb_home", "ftm_home", "possessions_home"):
        pert.loc[on_day, c] = pert.loc[on_day, c] * 2 + 7
    after = build_team_game_features(pert)
    up_to = pd.to_datetime(base["game_date"]).dt.date <= day
    pd.testing.assert_frame_equal(base[up_to].reset_index(drop=True), after[up_to].reset_index(drop=True))
    # ... and the perturbation does reach later games (the test can fail)
    assert not np.allclose(base.loc[~up_to, "ortg_z"], after.loc[~up_to, "ortg_z"])


def test_team_features_have_no_nan_in_any_completed_game_of_2020_21_to_2023_24(four_seasons):
    tf = build_team_game_features(four_seasons)
    tf = tf[tf["season"].isin(["2020-21", "2021-22", "2022-23", "2023-24"])]
    assert len(tf) > 2 * 4 * 1000
    assert not tf[BASE].isna().any().any()
    assert tf["travel_miles"].between(0, 5000).all() and tf["rest_days"].between(0, 7).all()


def test_rest_back_to_back_and_travel_follow_the_schedule(four_seasons):
    tf = build_team_game_features(four_seasons[four_seasons["season"] == "2022-23"])
    g = four_seasons.set_index("game_id")
    lal = tf[tf["team_id"] == 1610612747].sort_values("game_date").reset_index(drop=True)
    gaps = pd.to_datetime(lal["game_date"]).diff().dt.days
    assert ((gaps == 1) == (lal["back_to_back"] == 1)).iloc[1:].all()
    assert (lal.loc[1:, "rest_days"] == (gaps.iloc[1:] - 1).clip(upper=7)).all()
    # Consecutive games in the shared Los Angeles arena: no travel at all
    same = [
        i
        for i in range(1, len(lal))
        if {
            g.loc[lal.loc[i - 1, "game_id"], "home_team_abbr"],
            g.loc[lal.loc[i, "game_id"], "home_team_abbr"],
        }
        <= {"LAL", "LAC"}
        and lal.loc[i, "rest_days"] < 7
    ]
    assert same and (lal.loc[same, "travel_miles"] < 1e-6).all()


def test_player_and_team_features_have_no_nan_on_the_real_slice(slice_features):
    pf, tf = slice_features["pf"], slice_features["tf"]
    assert list(pf.columns[3 : 3 + len(NODE_FEATURES)]) == NODE_FEATURES
    assert not pf[NODE_FEATURES].isna().any().any()
    assert not tf[TEAM_GAME_FEATURES].isna().any().any()
    assert pf["has_history"].mean() > 0.5
    # a player's shooting is shrunk: a 1-for-1 shooter is nowhere near 100%
    assert pf["fg_pct"].between(0.2, 0.8).all()
    assert tf["hull_area_missing"].mean() < 0.2


def test_player_features_of_day_d_and_before_ignore_results_from_day_d_on(real_slice, slice_features):
    plays = real_slice.plays
    dates = real_slice.games.set_index("game_id")["game_date"]
    day = sorted(plays["game_id"].map(dates).unique())[20]
    on_day = plays["game_id"].map(dates) == day
    pert = plays.copy()
    fg = on_day & pert["event_type"].isin([1, 2])
    pert.loc[fg, "is_made"] = ~pert.loc[fg, "is_made"].astype(bool)
    pert.loc[fg, "event_type"] = 3 - pert.loc[fg, "event_type"]  # made <-> missed
    st = real_slice.stints.copy()
    st.loc[st["game_date"] == day, "home_pts"] += 20
    rapm, _ = rapm_snapshots(st)
    pf2 = build_player_features(pert, st, slice_features["players"], rapm, "2022-23")
    pf1 = slice_features["pf"]
    req = pd.DataFrame({"player_id": pf1["player_id"].unique()})
    for d in (day, day - pd.Timedelta(days=3)):
        q = req.assign(game_date=d)
        a, b = lookup_player_features(pf1, q), lookup_player_features(pf2, q)
        pd.testing.assert_frame_equal(a, b)
    later = req.assign(game_date=day + pd.Timedelta(days=1))
    assert not lookup_player_features(pf1, later)[NODE_FEATURES].equals(
        lookup_player_features(pf2, later)[NODE_FEATURES]
    )


def test_lookup_uses_the_latest_snapshot_strictly_before_the_date_and_defaults_otherwise(slice_features):
    pf = slice_features["pf"]
    pid = int(pf.loc[pf["has_history"], "player_id"].iloc[0])
    snaps = sorted(pf.loc[pf["player_id"] == pid, "as_of_date"].unique())
    q = pd.DataFrame({"player_id": [pid, pid, 999999999], "game_date": [snaps[5], snaps[0], snaps[5]]})
    out = lookup_player_features(pf, q)
    exp = pf[(pf["player_id"] == pid) & (pf["as_of_date"] == snaps[4])].iloc[0]
    assert out.loc[0, "minutes_per_game"] == pytest.approx(exp["minutes_per_game"])
    assert (
        not out.loc[1, "has_history"] and not out.loc[2, "has_history"]
    )  # nothing before the first snapshot
    assert not out[NODE_FEATURES].isna().any().any()


def test_season_stats_cover_targets_ratings_and_every_feature(real_slice, slice_features):
    g = real_slice.games[real_slice.games["game_id"].isin(real_slice.stints["game_id"])]
    ss = build_season_stats(g, real_slice.plays, slice_features["pf"], slice_features["tf"], "2022-23")
    stats = set(ss["stat"])
    assert {"margin", "total", "score_diff", "pace", "ortg", "drtg"} | set(NODE_FEATURES) | set(
        TEAM_GAME_FEATURES
    ) <= stats
    row = ss.set_index("stat")
    assert 8 < row.loc["margin", "std"] < 20 and 200 < row.loc["total", "mean"] < 250
    assert 95 < row.loc["pace", "mean"] < 105 and 105 < row.loc["ortg", "mean"] < 120


def test_venues_of_a_season_without_neutral_site_games_are_home_arenas():
    from nba_pipeline.analytics.team_features import game_venues, load_arenas

    games = pd.DataFrame(
        {
            "game_id": ["0022100001", "0022100002"],
            "season": ["2021-22", "2021-22"],
            "game_date": ["2021-10-19", "2021-10-20"],
            "home_team_id": [1610612749, 1610612747],
        }
    )
    loc = game_venues(games)
    arenas = load_arenas()
    assert loc["lat"].dtype == float and loc.notna().all().all()
    assert loc["lat"].nunique() == 2 and set(loc["lat"]) <= set(arenas["lat"])


def test_a_season_the_arena_table_does_not_list_carries_the_last_known_arena_forward(caplog):
    """A new season never needs a code change: a team whose table rows end before the season keeps
    its last arena (logged, counted); a team the table does not know at all is an error naming it."""
    from nba_pipeline.analytics.team_features import game_venues, load_arenas

    arenas = load_arenas()
    lac = arenas[arenas["abbreviation"] == "LAC"]
    old_only = arenas.drop(lac.index[lac["to_season"] > "2023-24"])  # as if the move were not entered
    games = pd.DataFrame(
        {
            "game_id": ["0022500001", "0022500002"],
            "season": ["2025-26", "2025-26"],
            "game_date": ["2025-10-22", "2025-10-23"],
            "home_team_id": [1610612746, 1610612749],
        }
    )
    with caplog.at_level("WARNING"):
        loc = game_venues(games, arenas=old_only)
    crypto = lac[lac["to_season"] == "2023-24"].iloc[0]
    assert (loc.loc[0, "lat"], loc.loc[0, "lon"]) == (crypto["lat"], crypto["lon"])
    assert "1 team-season(s)" in caplog.text and "1610612746" in caplog.text
    assert loc.loc[1, "lat"] in set(arenas["lat"])  # the listed team is untouched
    with pytest.raises(ValueError, match="no arena at all for team"):
        game_venues(games.assign(home_team_id=[1610619999, 1610612749]), arenas=old_only)


def test_neutral_sites_are_the_flagged_games_the_listed_ones_and_the_2020_bubble(four_seasons):
    from nba_pipeline.analytics.team_features import neutral_site_games

    tf = build_team_game_features(four_seasons)
    games = tf.drop_duplicates("game_id").set_index("game_id")
    flag = games["neutral_site"]
    # the 2023-24 In-Season Tournament semifinals in Las Vegas, and Mexico City in 2022-23
    assert flag.loc["0022301229"] == 1.0 and flag.loc["0022200439"] == 1.0
    dates = pd.to_datetime(games["game_date"])
    bubble = (dates >= "2020-07-30") & (dates <= "2020-10-11")
    assert bubble.sum() > 150 and (flag[bubble] == 1.0).all() and flag[~bubble].mean() < 0.01
    bubble = pd.DataFrame(
        {
            "game_id": ["0021901231", "0021900001"],
            "game_date": ["2020-08-01", "2019-10-22"],
            "neutral_site": False,
        }
    )
    assert neutral_site_games(bubble).tolist() == [True, False]
