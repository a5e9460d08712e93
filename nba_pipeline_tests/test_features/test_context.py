"""ContextFeatureBuilder: 32 dims in the documented order, defaults counted, never NaN, swap maps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nba_pipeline.features.context import (
    CONTEXT_SWAP_PERM,
    CONTEXT_SWAP_SIGN,
    DEFAULTS,
    FEATURE_NAMES,
    ContextFeatureBuilder,
)
from nba_pipeline_tests.test_features.synthetic import (
    synthetic_games,
    synthetic_plays,
    synthetic_team_game_features,
)


@pytest.fixture()
def tgf() -> pd.DataFrame:
    return synthetic_team_game_features(synthetic_games(synthetic_plays(n_games=3, events_per_period=3)))


def test_context_has_32_named_features_in_the_documented_category_order():
    assert len(FEATURE_NAMES) == 32 == len(set(FEATURE_NAMES))
    assert FEATURE_NAMES[:4] == ["home_ortg_z", "home_drtg_z", "away_ortg_z", "away_drtg_z"]
    assert FEATURE_NAMES[4] == "home_efg" and FEATURE_NAMES[11] == "away_ft_rate"
    assert FEATURE_NAMES[12:14] == ["home_rest_days", "away_rest_days"]
    assert FEATURE_NAMES[18] == "home_lineup_orapm" and FEATURE_NAMES[23] == "away_lineup_rapm"
    assert FEATURE_NAMES[24:26] == ["home_hull_kft2", "away_hull_kft2"]
    assert all(n.endswith("_diff") for n in FEATURE_NAMES[26:])


def test_values_land_in_their_named_slots(tgf):
    res = ContextFeatureBuilder().build(tgf["game_id"].unique(), tgf)
    assert res.values.shape == (3, 32) and res.values.dtype == np.float32
    home = tgf[tgf["is_home"]].set_index("game_id")
    away = tgf[~tgf["is_home"]].set_index("game_id")
    gid = tgf["game_id"].unique()[1]
    row = dict(zip(FEATURE_NAMES, res.values[1], strict=True))
    assert row["home_ortg_z"] == pytest.approx(home.loc[gid, "ortg_z"])
    assert row["away_drtg_z"] == pytest.approx(away.loc[gid, "drtg_z"])
    assert row["away_lineup_orapm"] == pytest.approx(away.loc[gid, "lineup_orapm"])
    assert row["home_travel_kmiles"] == pytest.approx(0.8)
    assert row["home_hull_kft2"] == pytest.approx(0.6)
    net = (home.loc[gid, "ortg_z"] - home.loc[gid, "drtg_z"]) - (
        away.loc[gid, "ortg_z"] - away.loc[gid, "drtg_z"]
    )
    assert row["net_rating_diff"] == pytest.approx(net, rel=1e-5)
    assert row["rest_diff"] == pytest.approx(home.loc[gid, "rest_days"] - away.loc[gid, "rest_days"])
    assert res.missing == {} and res.games_without_rows == 0


def test_missing_rows_and_values_take_defaults_and_are_counted(tgf):
    tgf = tgf.copy()
    gids = tgf["game_id"].unique()
    tgf.loc[(tgf["game_id"] == gids[0]) & tgf["is_home"], "efg"] = np.nan
    tgf.loc[(tgf["game_id"] == gids[1]) & ~tgf["is_home"], "hull_area_missing"] = True
    tgf = tgf[~((tgf["game_id"] == gids[2]) & ~tgf["is_home"])]  # no away row at all
    res = ContextFeatureBuilder().build(gids, tgf)
    assert not np.isnan(res.values).any()
    v = {n: res.values[:, i] for i, n in enumerate(FEATURE_NAMES)}
    assert v["home_efg"][0] == pytest.approx(DEFAULTS["efg"])
    assert v["away_hull_kft2"][1] == pytest.approx(DEFAULTS["hull_area"] / 1000)
    assert v["away_ortg_z"][2] == DEFAULTS["ortg_z"]
    assert res.missing["home_efg"] == 1
    assert res.missing["away_hull_area"] == 2  # flagged in game 1, no row in game 2
    assert res.missing["away_ortg_z"] == 1
    assert res.games_without_rows == 1


def test_rest_is_capped_and_games_follow_the_requested_order(tgf):
    tgf = tgf.copy()
    tgf.loc[tgf["is_home"], "rest_days"] = 200.0
    gids = tgf["game_id"].unique()[::-1]
    res = ContextFeatureBuilder().build(gids, tgf)
    assert (res.values[:, FEATURE_NAMES.index("home_rest_days")] == 7.0).all()
    first = tgf[(tgf["game_id"] == gids[0]) & tgf["is_home"]]["ortg_z"].item()
    assert res.values[0, 0] == pytest.approx(first)


def test_duplicate_side_rows_and_missing_columns_fail_clearly(tgf):
    with pytest.raises(ValueError, match="more than one home or away row"):
        ContextFeatureBuilder().build(tgf["game_id"].unique(), pd.concat([tgf, tgf.iloc[:1]]))
    with pytest.raises(ValueError, match=r"team_game_features: missing columns \['hull_area'"):
        ContextFeatureBuilder().build(tgf["game_id"].unique(), tgf.drop(columns=["hull_area"]))


def test_swap_maps_home_to_away_and_negates_differentials(tgf):
    res = ContextFeatureBuilder().build(tgf["game_id"].unique(), tgf)
    swapped_tgf = tgf.assign(is_home=~tgf["is_home"])
    res_swapped = ContextFeatureBuilder().build(tgf["game_id"].unique(), swapped_tgf)
    np.testing.assert_allclose(
        res.values[:, CONTEXT_SWAP_PERM] * CONTEXT_SWAP_SIGN, res_swapped.values, atol=1e-6
    )
    assert (CONTEXT_SWAP_PERM[CONTEXT_SWAP_PERM] == np.arange(32)).all()
