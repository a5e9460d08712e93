"""LineupGraphBuilder: connectivity, edge types and weights, sides, partial lineups, as-of lookup."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nba_pipeline.features.graphs import (
    NODE_DIM,
    NODE_FEATURES,
    LineupGraphBuilder,
    chemistry_minutes_asof,
    default_node_vector,
    lookup_node_features,
    shared_minutes_by_game,
)
from nba_pipeline_tests.test_features.synthetic import synthetic_games, synthetic_plays

POS = {"pg": 5, "sg": 6, "sf": 7, "pf": 8, "c": 9}


def team(positions: list[str], base: float) -> np.ndarray:
    x = np.zeros((len(positions), NODE_DIM), dtype=np.float32)
    for i, p in enumerate(positions):
        x[i, POS[p]] = 1.0
        x[i, 0] = base + i  # orapm marks the player
    return x


def edges(data, etype: int) -> set[tuple[int, int]]:
    ei = data.edge_index.numpy()
    sel = data.edge_type.numpy() == etype
    return set(zip(ei[0, sel].tolist(), ei[1, sel].tolist(), strict=True))


def test_node_features_follow_the_documented_order_of_the_analytics_contract():
    from nba_pipeline.analytics.schema import NODE_FEATURES as ANALYTICS_NODE_FEATURES

    assert list(NODE_FEATURES) == list(ANALYTICS_NODE_FEATURES)
    assert NODE_DIM == 16


def test_full_lineup_has_20_teammate_edges_per_team_and_5_positional_matchups_each_way():
    g = LineupGraphBuilder(opponent_edges="positional").build(
        team(["c", "pg", "sf", "sg", "pf"], 0), team(["sg", "pf", "pg", "c", "sf"], 100)
    )
    assert g.x.shape == (10, 16) and g.side.tolist() == [0] * 5 + [1] * 5
    mates = edges(g, 0)
    assert len(mates) == 40
    assert {(i, j) for i in range(5) for j in range(5) if i != j} <= mates
    assert {(i, j) for i in range(5, 10) for j in range(5, 10) if i != j} <= mates
    assert all((i < 5) == (j < 5) for i, j in mates)
    opp = edges(g, 1)
    assert len(opp) == 10 and all((i < 5) != (j < 5) for i, j in opp)
    assert all((j, i) in opp for i, j in opp)
    # positional: each home player is matched with the away player of the same position
    pos = g.x[:, 5:10].argmax(dim=1).tolist()
    assert all(pos[i] == pos[j] for i, j in opp)
    assert pos[:5] == [0, 1, 2, 3, 4]
    assert g.edge_weight.shape == (50,) and (g.edge_weight == 1.0).all()


def test_full_opponent_mode_connects_every_home_away_pair_both_ways():
    g = LineupGraphBuilder(opponent_edges="full").build(team(["pg"] * 5, 0), team(["c"] * 5, 100))
    assert len(edges(g, 0)) == 40
    opp = edges(g, 1)
    assert len(opp) == 50
    assert opp == {(i, j) for i in range(5) for j in range(5, 10)} | {
        (j, i) for i in range(5) for j in range(5, 10)
    }


def test_partial_lineups_give_fewer_nodes_and_consistent_edges():
    b = LineupGraphBuilder()
    g = b.build(team(["pg", "sg", "c"], 0), team(["pg", "sg", "sf", "pf", "c"], 100))
    assert g.num_nodes == 8 and g.side.tolist() == [0] * 3 + [1] * 5
    assert len(edges(g, 0)) == 3 * 2 + 5 * 4
    assert len(edges(g, 1)) == 2 * 3
    assert g.edge_index.max() < 8
    empty_home = b.build(np.zeros((0, 16), np.float32), team(["pg", "c"], 0))
    assert empty_home.num_nodes == 2 and len(edges(empty_home, 1)) == 0 and len(edges(empty_home, 0)) == 2
    none = b.build(np.zeros((0, 16), np.float32), np.zeros((0, 16), np.float32))
    assert none.num_nodes == 0 and none.edge_index.shape == (2, 0)


def test_chemistry_weights_teammate_edges_only():
    chem = np.full((5, 5), 100.0)
    np.fill_diagonal(chem, 0)
    chem[0, 1] = chem[1, 0] = 0.0  # never played together
    x = team(["pg", "sg", "sf", "pf", "c"], 0)
    g = LineupGraphBuilder(chemistry=True, chemistry_half_minutes=100.0).build(x, x.copy(), chem, chem)
    w = g.edge_weight.numpy()
    et = g.edge_type.numpy()
    assert (w[et == 1] == 1.0).all()
    assert np.isclose(w[et == 0], 0.5).sum() == 36 and (w[et == 0] == 0.0).sum() == 4
    off = LineupGraphBuilder(chemistry=False).build(x, x.copy(), chem, chem)
    assert (off.edge_weight == 1.0).all()


def test_node_lookup_uses_the_latest_snapshot_strictly_before_the_game_date():
    pf = pd.DataFrame(
        {"player_id": [7, 7, 7], "as_of_date": pd.to_datetime(["2023-01-01", "2023-01-10", "2023-01-20"])}
    )
    for i, f in enumerate(NODE_FEATURES):
        pf[f] = [1.0 + i, 2.0 + i, 3.0 + i]
    pf.loc[1, "fg_pct"] = np.nan
    q = pd.DataFrame(
        {
            "player_id": [7, 7, 7, 8],
            "game_date": pd.to_datetime(["2023-01-10", "2023-01-11", "2023-01-01", "2023-02-01"]),
        }
    )
    look = lookup_node_features(q, pf)
    assert look.x[0, 0] == 1.0  # the 01-10 snapshot is not usable ON 01-10
    assert look.x[1, 0] == 2.0
    assert look.x[1, NODE_FEATURES.index("fg_pct")] == default_node_vector()[NODE_FEATURES.index("fg_pct")]
    assert look.n_nan_filled == 1
    np.testing.assert_array_equal(look.x[2], default_node_vector())  # nothing before 01-01
    np.testing.assert_array_equal(look.x[3], default_node_vector())  # unknown player
    assert look.found.tolist() == [True, True, False, False] and look.n_missing == 2
    assert not np.isnan(look.x).any()


def test_missing_player_feature_column_is_named():
    pf = pd.DataFrame({"player_id": [1], "as_of_date": pd.to_datetime(["2023-01-01"])})
    with pytest.raises(ValueError, match="player_features: missing columns"):
        lookup_node_features(pd.DataFrame({"player_id": [1], "game_date": ["2023-01-02"]}), pf)


def test_shared_minutes_and_chemistry_count_only_earlier_games():
    plays = synthetic_plays(n_games=2, events_per_period=10)
    games = synthetic_games(plays)
    pm = shared_minutes_by_game(plays)
    assert (pm["player_a"] < pm["player_b"]).all()
    # players 4 and 5 are together in periods 1-4 for home (ids 1..5, 2..6, 3..7, 4..8): all 48 min
    one = pm[(pm["game_id"] == games["game_id"][0]) & (pm["player_a"] == 4) & (pm["player_b"] == 5)]
    assert one["minutes"].item() == pytest.approx(48.0, abs=0.5)
    q = pd.DataFrame({"player_a": [5, 4], "player_b": [4, 5], "game_date": games["game_date"].tolist()})
    before = chemistry_minutes_asof(q, pm, games)
    assert before[0] == 0.0  # first game: nothing before
    assert before[1] == pytest.approx(one["minutes"].item())  # second game: the first game's minutes


def test_build_from_ids_skips_unknown_players():
    pf = pd.DataFrame({"player_id": [1, 2], "as_of_date": pd.to_datetime(["2023-01-01"] * 2)})
    for f in NODE_FEATURES:
        pf[f] = 0.5
    g = LineupGraphBuilder().build_from_ids([1, None, 2], [3, 0], "2023-01-05", pf)
    assert g.num_nodes == 3 and g.side.tolist() == [0, 0, 1]
    assert not g.x.isnan().any()
