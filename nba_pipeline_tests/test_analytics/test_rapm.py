from __future__ import annotations

import numpy as np
import pandas as pd

from nba_pipeline.analytics.rapm import final_ratings, out_of_sample_r2, rapm_snapshots, snapshot_dates
from nba_pipeline.analytics.schema import AWAY_COLS, HOME_COLS


def _synthetic_stints(n: int, seed: int = 0) -> tuple[pd.DataFrame, dict[int, float]]:
    """Stints among 40 players where player 0 adds +8 on offense and player 1 gives up +8 on defense."""
    rng = np.random.default_rng(seed)
    off = dict.fromkeys(range(40), 0.0)
    dfn = dict.fromkeys(range(40), 0.0)
    off[0], dfn[1] = 8.0, 8.0  # dfn = points allowed per 100 (bad defender)
    rows = []
    for i in range(n):
        players = rng.choice(40, size=10, replace=False)
        h, a = players[:5], players[5:]
        hp, ap = int(rng.integers(3, 12)), int(rng.integers(3, 12))
        h_rate = 110 + sum(off[p] for p in h) + sum(dfn[p] for p in a)
        a_rate = 110 + sum(off[p] for p in a) + sum(dfn[p] for p in h)
        rows.append(
            {
                "game_id": f"g{i // 30:05d}",
                "game_date": pd.Timestamp("2099-10-20") + pd.Timedelta(days=i // 90),
                **dict(zip(HOME_COLS, h + 100, strict=True)),
                **dict(zip(AWAY_COLS, a + 100, strict=True)),
                "home_pts": rng.poisson(h_rate / 100 * hp),
                "away_pts": rng.poisson(a_rate / 100 * ap),
                "home_poss": hp,
                "away_poss": ap,
            }
        )
    return pd.DataFrame(rows), off


def test_snapshots_start_the_day_before_the_first_game_and_are_weekly():
    d = snapshot_dates(pd.Series(pd.to_datetime(["2099-10-20", "2099-11-30"])))
    assert d[0] == pd.Timestamp("2099-10-19") and d[-1] == pd.Timestamp("2099-11-30")
    assert all((b - a).days <= 7 for a, b in zip(d[1:], d[2:], strict=False))


def test_rapm_recovers_a_strong_scorer_and_a_weak_defender_on_synthetic_stints():
    st, _ = _synthetic_stints(6000)
    rows, fits = rapm_snapshots(st)
    last = rows[rows["as_of_date"] == rows["as_of_date"].max()].set_index("player_id")
    assert last["orapm"].idxmax() == 100
    assert last["drapm"].idxmin() == 101
    assert last.loc[100, "orapm"] > 3 and last.loc[101, "drapm"] < -3
    np.testing.assert_allclose(last["rapm"], last["orapm"] + last["drapm"])
    # the first snapshot has no data: it equals the (zero) prior
    first = rows[rows["as_of_date"] == rows["as_of_date"].min()]
    assert (first["rapm"] == 0).all()


def test_prior_season_ratings_are_the_starting_point():
    st, _ = _synthetic_stints(600, seed=1)
    prior = pd.DataFrame({"player_id": [100 + k for k in range(40)], "orapm": 2.0, "drapm": -1.0})
    rows, _ = rapm_snapshots(st, prior)
    first = rows[rows["as_of_date"] == rows["as_of_date"].min()]
    assert np.allclose(first["orapm"], 2.0) and np.allclose(first["drapm"], -1.0)


def test_snapshot_uses_only_games_on_or_before_its_date():
    st, _ = _synthetic_stints(3000, seed=2)
    rows, _ = rapm_snapshots(st)
    cut = sorted(rows["as_of_date"].unique())[3]
    changed = st.copy()
    later = pd.to_datetime(changed["game_date"]).dt.date > cut
    changed.loc[later, "home_pts"] += 50  # rewrite every later result
    rows2, _ = rapm_snapshots(changed)
    a = rows[rows["as_of_date"] <= cut].sort_values(["as_of_date", "player_id"])
    b = rows2[rows2["as_of_date"] <= cut].sort_values(["as_of_date", "player_id"])
    np.testing.assert_allclose(a["rapm"].to_numpy(), b["rapm"].to_numpy())
    assert not np.allclose(rows["rapm"], rows2["rapm"])


def test_real_slice_rapm_predicts_next_week_stints_better_than_zero(real_slice):
    rows, fits = rapm_snapshots(real_slice.stints)
    r2 = out_of_sample_r2(real_slice.stints, fits)
    print(f"RAPM out-of-sample on the 2022-23 slice: {r2}")
    assert r2["r2_rapm"] > 0.0
    assert r2["r2_rapm"] > r2["r2_intercept_only"]
    assert rows[["orapm", "drapm", "rapm"]].notna().all().all()


def test_final_ratings_equal_the_last_snapshot_of_each_chained_season_and_a_gap_resets_the_chain():
    seasons = [_synthetic_stints(300, seed=k)[0] for k in range(3)]
    prior = None
    for st in seasons:  # the serial way: each season's weekly snapshots, prior = the stored last one
        rows, _ = rapm_snapshots(st, prior)
        prior = rows[rows["as_of_date"] == rows["as_of_date"].max()][["player_id", "orapm", "drapm"]]
    chained = final_ratings(seasons)
    pd.testing.assert_frame_equal(chained.reset_index(drop=True), prior.reset_index(drop=True))

    alone = final_ratings(seasons[2:])
    after_gap = final_ratings([seasons[0], seasons[0].iloc[:0], seasons[2]])
    pd.testing.assert_frame_equal(after_gap, alone)
    assert not np.allclose(alone["orapm"], chained["orapm"])  # the chain did carry information
    assert final_ratings([seasons[0], seasons[0].iloc[:0]]) is None
