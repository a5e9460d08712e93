"""ContextFeatureBuilder: the spec's 32 dims, the strength of the players available and the
neutral-site flag, then the market's line, in the documented order;
defaults counted, never NaN, swap maps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nba_pipeline.features.context import (
    CONTEXT_SWAP_PERM,
    CONTEXT_SWAP_SIGN,
    DEFAULTS,
    FEATURE_NAMES,
    LINE_DIMS,
    NEUTRAL_DIM,
    SPEC_CONTEXT_DIM,
    TOWER_CONTEXT_DIM,
    ContextFeatureBuilder,
)
from nba_pipeline.models.config import ForecasterConfig
from nba_pipeline_tests.test_features.synthetic import (
    synthetic_games,
    synthetic_plays,
    synthetic_team_game_features,
)


@pytest.fixture()
def tgf() -> pd.DataFrame:
    return synthetic_team_game_features(synthetic_games(synthetic_plays(n_games=3, events_per_period=3)))


def test_context_has_the_spec_32_features_then_the_strength_then_the_line_in_the_documented_order():
    assert len(FEATURE_NAMES) == 43 == len(set(FEATURE_NAMES)) and SPEC_CONTEXT_DIM == 32
    assert FEATURE_NAMES[:4] == ["home_ortg_z", "home_drtg_z", "away_ortg_z", "away_drtg_z"]
    assert FEATURE_NAMES[4] == "home_efg" and FEATURE_NAMES[11] == "away_ft_rate"
    assert FEATURE_NAMES[12:14] == ["home_rest_days", "away_rest_days"]
    assert FEATURE_NAMES[18] == "home_lineup_orapm" and FEATURE_NAMES[23] == "away_lineup_rapm"
    assert FEATURE_NAMES[24:26] == ["home_hull_kft2", "away_hull_kft2"]
    assert all(n.endswith("_diff") for n in FEATURE_NAMES[26:32])
    assert FEATURE_NAMES[32:38] == [
        "home_avail_rating",
        "away_avail_rating",
        "home_out_share",
        "away_out_share",
        "avail_rating_diff",
        "neutral_site",
    ]
    assert TOWER_CONTEXT_DIM == 38 == ForecasterConfig().fusion.context_dim
    assert FEATURE_NAMES[LINE_DIMS] == [
        "market_logit",
        "market_margin",
        "market_total",
        "has_line",
        "has_total",
    ]


def test_values_land_in_their_named_slots(tgf):
    res = ContextFeatureBuilder().build(tgf["game_id"].unique(), tgf)
    assert res.values.shape == (3, 43) and res.values.dtype == np.float32
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
    assert row["home_avail_rating"] == pytest.approx(home.loc[gid, "avail_rating"])
    diff = home.loc[gid, "avail_rating"] - away.loc[gid, "avail_rating"]
    assert row["avail_rating_diff"] == pytest.approx(diff, rel=1e-5)
    assert row["away_out_share"] == pytest.approx(away.loc[gid, "out_share"])
    assert res.missing == {} and res.games_without_rows == 0
    assert (res.values[:, LINE_DIMS] == 0).all() and res.games_with_line == 0  # no lines given


def _lines(gids, **over) -> pd.DataFrame:
    base = {"game_id": list(gids), "market_p_home": 0.75, "market_margin": 6.5, "market_total": 230.0}
    return pd.DataFrame({**base, **over})


def test_a_line_gives_its_logit_margin_total_and_flag(tgf):
    gids = tgf["game_id"].unique()
    res = ContextFeatureBuilder().build(gids, tgf, _lines(gids[:2]))
    v = {n: res.values[:, i] for i, n in enumerate(FEATURE_NAMES)}
    assert v["market_logit"][0] == pytest.approx(np.log(3.0), rel=1e-5)
    assert v["market_margin"][1] == pytest.approx(0.65) and v["market_total"][1] == pytest.approx(0.5)
    assert list(v["has_line"]) == [1.0, 1.0, 0.0]  # the third game has no line: all line dims 0
    assert list(v["has_total"]) == [1.0, 1.0, 0.0]
    assert (res.values[2, LINE_DIMS] == 0).all() and res.games_with_line == 2
    assert res.missing == {}


def test_unusable_lines_are_dropped_and_counted_never_nan(tgf):
    gids = tgf["game_id"].unique()
    lines = _lines(gids, market_p_home=[0.6, 1.0, 0.4], market_total=[np.nan, 220.0, 220.0])
    res = ContextFeatureBuilder().build(gids, tgf, lines)
    v = {n: res.values[:, i] for i, n in enumerate(FEATURE_NAMES)}
    assert list(v["has_line"]) == [1.0, 0.0, 1.0]  # a probability of 1 is not a line
    assert v["market_total"][0] == 0.0 and v["market_margin"][0] == pytest.approx(0.65)
    assert list(v["has_total"]) == [0.0, 0.0, 1.0]  # a missing total is missing, not 220
    assert res.missing == {"market_line": 1, "market_total": 1}
    assert np.isfinite(res.values).all()
    with pytest.raises(ValueError, match="more than one line for game"):
        ContextFeatureBuilder().build(gids, tgf, pd.concat([lines, lines.iloc[:1]]))


def test_missing_rows_and_values_take_defaults_and_are_counted(tgf):
    tgf = tgf.copy()
    gids = tgf["game_id"].unique()
    tgf.loc[(tgf["game_id"] == gids[0]) & tgf["is_home"], "efg"] = np.nan
    away_of = lambda g: (tgf["game_id"] == g) & ~tgf["is_home"]  # noqa: E731
    tgf.loc[away_of(gids[1]), ["hull_area_missing", "hull_area"]] = [True, 0.0]  # none to impute from
    tgf = tgf[~away_of(gids[2])]  # no away row at all
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


def test_a_flagged_hull_keeps_the_tables_imputed_mean_and_is_counted(tgf):
    tgf = tgf.copy()
    gid = tgf["game_id"].iloc[0]
    home = (tgf["game_id"] == gid) & tgf["is_home"]
    tgf.loc[home, ["hull_area_missing", "hull_area"]] = [True, 11.5]
    res = ContextFeatureBuilder().build([gid], tgf)
    assert res.values[0, FEATURE_NAMES.index("home_hull_kft2")] == pytest.approx(0.0115)
    assert res.missing["home_hull_area"] == 1


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


def test_swap_maps_home_to_away_and_negates_differentials_and_the_line(tgf):
    gids = tgf["game_id"].unique()
    res = ContextFeatureBuilder().build(gids, tgf, _lines(gids))
    swapped_tgf = tgf.assign(is_home=~tgf["is_home"])
    # the away team's view of the same line: probability 1 - p, margin negated, same total
    swapped_lines = _lines(gids, market_p_home=0.25, market_margin=-6.5)
    res_swapped = ContextFeatureBuilder().build(gids, swapped_tgf, swapped_lines)
    np.testing.assert_allclose(
        res.values[:, CONTEXT_SWAP_PERM] * CONTEXT_SWAP_SIGN, res_swapped.values, atol=1e-6
    )
    assert (CONTEXT_SWAP_PERM[CONTEXT_SWAP_PERM] == np.arange(43)).all()
    assert (CONTEXT_SWAP_PERM[:TOWER_CONTEXT_DIM] < TOWER_CONTEXT_DIM).all()  # the towers' dims swap alone
    assert CONTEXT_SWAP_PERM[NEUTRAL_DIM] == NEUTRAL_DIM and CONTEXT_SWAP_SIGN[NEUTRAL_DIM] == 1


def test_without_lines_hides_only_the_line_and_leaves_the_input_alone(tgf):
    from nba_pipeline.features.context import without_lines

    gids = tgf["game_id"].unique()
    values = ContextFeatureBuilder().build(gids, tgf, _lines(gids)).values
    hidden = without_lines(values)
    assert (hidden[:, LINE_DIMS] == 0).all()
    np.testing.assert_array_equal(hidden[:, :SPEC_CONTEXT_DIM], values[:, :SPEC_CONTEXT_DIM])
    assert (values[:, LINE_DIMS][:, -1] == 1).all()  # a copy: the input keeps its lines
    np.testing.assert_array_equal(hidden, ContextFeatureBuilder().build(gids, tgf).values)
