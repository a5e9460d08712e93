"""Season arrays: one vectorized build of every model input, saved and loaded as one .npz."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

from nba_pipeline.features.context import CONTEXT_DIM
from nba_pipeline.features.graphs import NODE_FEATURES, default_node_vector
from nba_pipeline.features.season_arrays import PARTS, SeasonArrays, build_season_arrays
from nba_pipeline.features.tokenizer import CLS, EventTokenizer
from nba_pipeline.training.dataset import (
    NBADataset,
    collate,
    score_diff_std_from_arrays,
    target_norm_from_arrays,
)
from nba_pipeline_tests.test_features.real import real_inputs
from nba_pipeline_tests.test_features.synthetic import (
    synthetic_games,
    synthetic_player_features,
    synthetic_plays,
    synthetic_team_game_features,
)


@pytest.fixture()
def synth():
    plays = synthetic_plays(n_games=3, events_per_period=20)
    games = synthetic_games(plays)
    pf = synthetic_player_features([1, 2, 3, 4, 5, 6, 101, 102], "2022-10-01")
    return plays, games, pf, synthetic_team_game_features(games)


def test_arrays_hold_every_event_game_and_player_with_consistent_offsets(synth):
    plays, games, pf, tgf = synth
    a = build_season_arrays(plays.sample(frac=1, random_state=0), games, pf, tgf, season="2022-23")
    assert a.n_games == 3 and len(a.ev_token) == len(plays) == a.event_offsets[-1]
    assert a.n_events.tolist() == [88, 88, 88]
    assert list(a.game_id) == sorted(games["game_id"])  # dates increase with the id here
    assert a.context.shape == (3, CONTEXT_DIM) and a.player_x.shape == (len(a.player_id), 16)
    # players of a game: 8 home (1..8) + 8 away (101..108), sorted by id
    assert np.diff(a.player_offsets).tolist() == [16, 16, 16]
    assert a.player_id[:16].tolist() == list(range(1, 9)) + list(range(101, 109))
    # starters: the first event's on-court players (home 1..5, away 101..105)
    assert a.player_id[a.starters[0].astype(int)].tolist() == [1, 2, 3, 4, 5, 101, 102, 103, 104, 105]
    # events reordered back to (game, seq) although the input was shuffled
    first = plays.sort_values(["game_id", "seq"]).iloc[: a.n_events[0]]
    tokens, _ = EventTokenizer.token_ids(first["event_type"].to_numpy(), first["side"].to_numpy())
    assert (a.ev_token[: a.n_events[0]] == tokens).all()
    # node features: players 1-6, 101, 102 have a snapshot; 7, 8, 103-108 take the defaults
    assert a.player_found[:16].tolist() == [True] * 6 + [False] * 2 + [True] * 2 + [False] * 6
    np.testing.assert_array_equal(a.player_x[7], default_node_vector())
    np.testing.assert_allclose(
        a.player_x[0], pf.set_index("player_id").loc[1, list(NODE_FEATURES)].to_numpy(float), rtol=1e-6
    )
    assert a.report["node_rows_without_snapshot"] == 3 * 8


def test_chemistry_counts_minutes_of_earlier_games_only(synth):
    plays, games, pf, tgf = synth
    a = build_season_arrays(plays, games, pf, tgf)
    ids = a.player_id[: a.player_offsets[1]]
    i4, i5 = int(np.flatnonzero(ids == 4)[0]), int(np.flatnonzero(ids == 5)[0])
    assert a.chem_matrix(0)[i4, i5] == 0.0  # first game: no earlier minutes
    m1, m2 = a.chem_matrix(1)[i4, i5], a.chem_matrix(2)[i4, i5]
    assert m1 == pytest.approx(48.0, abs=0.5) and m2 == pytest.approx(2 * m1, rel=1e-3)
    assert (a.chem_matrix(2) == a.chem_matrix(2).T).all() and (np.diag(a.chem_matrix(2)) == 0).all()


def test_save_and_load_round_trip_exactly(synth, tmp_path):
    plays, games, pf, tgf = synth
    a = build_season_arrays(plays, games, pf, tgf, season="2022-23")
    path = a.save(tmp_path / "season_2022-23.npz")
    assert path.name == "season_2022-23.npz" and not list(tmp_path.glob("*.tmp*"))
    b = SeasonArrays.load(path)
    assert b.season == "2022-23" and b.report == a.report
    for name in (
        "game_id",
        "game_date",
        "context",
        "ev_token",
        "ev_lineup",
        "ev_on_court",
        "player_x",
        "chem_minutes",
    ):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert getattr(a, name).dtype == getattr(b, name).dtype


def test_three_part_files_cover_every_array_and_load_back_equal(synth, tmp_path):
    plays, games, pf, tgf = synth
    a = build_season_arrays(plays, games, pf, tgf, season="2022-23")
    stored = {n for names in PARTS.values() for n in names} | {"game_id"}
    assert stored == {f.name for f in fields(SeasonArrays)} - {"season", "report"}
    paths = a.save_parts(tmp_path)
    assert sorted(p.name for p in paths.values()) == [
        "context_2022-23.npz",
        "graphs_2022-23.npz",
        "sequences_2022-23.npz",
    ]
    b = SeasonArrays.load_parts(tmp_path, "2022-23")
    for f in fields(SeasonArrays):
        if f.name not in ("season", "report"):
            np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name))


def test_part_files_from_different_builds_are_refused(synth, tmp_path):
    plays, games, pf, tgf = synth
    a = build_season_arrays(plays, games, pf, tgf, season="2022-23")
    a.save_parts(tmp_path)
    first_game = plays["game_id"].iloc[0]
    other = build_season_arrays(plays[plays["game_id"] != first_game], games, pf, tgf, season="2022-23")
    other.save(tmp_path / "context_2022-23.npz", PARTS["context"])
    with pytest.raises(ValueError, match="not written whole"):
        SeasonArrays.load_parts(tmp_path, "2022-23")
    (tmp_path / "graphs_2022-23.npz").unlink()
    with pytest.raises(FileNotFoundError, match="graphs_2022-23"):
        SeasonArrays.load_parts(tmp_path, "2022-23")


def test_subset_keeps_each_selected_game_intact(synth):
    plays, games, pf, tgf = synth
    a = build_season_arrays(plays, games, pf, tgf, season="2022-23")
    pick = np.array([a.n_games - 1, 0])
    b = a.subset(pick)
    assert b.n_games == 2 and list(b.game_id) == list(a.game_id[pick])
    for new, old in enumerate(pick):
        e0, e1 = a.event_offsets[old], a.event_offsets[old + 1]
        np.testing.assert_array_equal(
            b.ev_token[b.event_offsets[new] : b.event_offsets[new + 1]], a.ev_token[e0:e1]
        )
        np.testing.assert_array_equal(
            b.ev_on_court[b.event_offsets[new] : b.event_offsets[new + 1]], a.ev_on_court[e0:e1]
        )
        np.testing.assert_array_equal(b.chem_matrix(new), a.chem_matrix(old))
        np.testing.assert_array_equal(b.starters[new], a.starters[old])
        p0, p1 = a.player_offsets[old], a.player_offsets[old + 1]
        np.testing.assert_array_equal(
            b.player_x[b.player_offsets[new] : b.player_offsets[new + 1]], a.player_x[p0:p1]
        )
    with pytest.raises(IndexError):
        a.subset([a.n_games])


def test_concat_shifts_offsets(synth):
    plays, games, pf, tgf = synth
    a = build_season_arrays(plays, games, pf, tgf)
    c = SeasonArrays.concat([a, a])
    c.validate()
    assert c.n_games == 6 and (c.n_events == np.tile(a.n_events, 2)).all()
    np.testing.assert_array_equal(c.chem_matrix(4), a.chem_matrix(1))


def test_game_without_a_games_row_or_score_fails_naming_it(synth):
    plays, games, pf, tgf = synth
    with pytest.raises(ValueError, match="games: no row for 1 games"):
        build_season_arrays(plays, games.iloc[1:], pf, tgf)
    bad = games.astype({"home_pts": "float"}).copy()
    bad.loc[0, "home_pts"] = np.nan
    with pytest.raises(ValueError, match="final score missing"):
        build_season_arrays(plays, bad, pf, tgf)


def test_missing_analytics_tables_degrade_to_defaults_and_say_so(synth, caplog):
    plays, games, _, _ = synth
    a = build_season_arrays(plays, games, None, None)
    assert a.report["player_features_missing"] and a.report["team_game_features_missing"]
    assert "no player_features" in caplog.text
    assert np.isfinite(a.context).all() and (a.player_x == default_node_vector()).all()


def test_builders_produce_tensors_for_100_real_games_at_several_cuts_without_nan(nba_raw_dir):
    """100 real 2023-24 games: season arrays, then every checkpoint and a random cut, no NaN."""
    plays, games, tgf = real_inputs(nba_raw_dir, "2023-24", 100)
    a = build_season_arrays(plays, games, None, tgf, season="2023-24")
    assert a.n_games == 100
    print(f"\n100 real games: {len(a.ev_token)} events, report {a.report}")
    assert a.report["events_full_lineup"] / len(a.ev_token) > 0.99
    assert a.report["games_full_starters"] == 100
    assert a.report["games_without_team_features"] == 0
    norm, sd = target_norm_from_arrays(a), score_diff_std_from_arrays(a)
    n_checked = 0
    for mode in ("eval", "train"):
        ds = NBADataset(a, norm, sd, mode=mode, seed=3)
        for lo in range(0, len(ds), 50):
            b = collate([ds[i] for i in range(lo, min(lo + 50, len(ds)))])
            for t in (
                b.time_left,
                b.score_diff,
                b.lineup,
                b.context,
                b.win,
                b.margin,
                b.total,
                b.graph.x,
                b.graph.edge_weight,
            ):
                assert torch_finite(t)
            assert (b.tokens[:, 0] == CLS).all() and b.mask[:, 0].all()
            assert (b.graph.num_nodes == 10 * len(b)) and b.graph.edge_index.shape[1] == 50 * len(b)
            n_checked += len(b)
    assert n_checked == 100 * 5 + 100 * 2
    # end-of-game cut: the final score in the sequence equals the label
    last = int(a.event_offsets[1]) - 1
    assert int(a.ev_score_diff[last]) == int(a.home_pts[0] - a.away_pts[0])


def torch_finite(t) -> bool:
    import torch

    return bool(torch.isfinite(t.float()).all())


def test_real_team_features_land_in_the_context_vector(nba_raw_dir):
    plays, games, tgf = real_inputs(nba_raw_dir, "2023-24", 100)
    a = build_season_arrays(plays, games, None, tgf)
    home = tgf[tgf["is_home"]].set_index("game_id")
    np.testing.assert_allclose(
        a.context[:, 0], home.loc[list(a.game_id), "ortg_z"].to_numpy(), rtol=1e-5, atol=1e-6
    )
    assert isinstance(a.report["context_missing"], dict) and pd.notna(a.context).all()


def test_mirrored_game_matches_the_exported_swap_mappings(synth):
    """Exchanging home and away in the raw inputs gives exactly the tensors that SWAP_SIDES,
    LINEUP_SWAP_PERM, STATE_SWAP_PERM, CONTEXT_SWAP_PERM/SIGN and a negated score predict (what
    models.swap uses)."""
    from nba_pipeline.features.context import CONTEXT_SWAP_PERM, CONTEXT_SWAP_SIGN
    from nba_pipeline.features.in_game_state import STATE_SWAP_PERM
    from nba_pipeline.features.tokenizer import LINEUP_SWAP_PERM, SWAP_SIDES
    from nba_pipeline.ingest.schema import ON_COURT

    plays, games, pf, tgf = synth
    mirror = plays.copy()
    mirror["side"] = plays["side"].map({0: 0, 1: 2, 2: 1})
    mirror["home_score"], mirror["away_score"] = plays["away_score"], plays["home_score"]
    mirror[ON_COURT] = plays[ON_COURT[5:] + ON_COURT[:5]].to_numpy()
    mgames = games.assign(home_pts=games["away_pts"], away_pts=games["home_pts"])
    mtgf = tgf.assign(is_home=~tgf["is_home"])
    a = build_season_arrays(plays, games, pf, tgf)
    m = build_season_arrays(mirror, mgames, pf, mtgf)
    np.testing.assert_array_equal(m.ev_token, SWAP_SIDES[a.ev_token])
    np.testing.assert_array_equal(m.ev_lineup, a.ev_lineup[:, LINEUP_SWAP_PERM])
    np.testing.assert_array_equal(m.ev_state, a.ev_state[:, STATE_SWAP_PERM])
    np.testing.assert_array_equal(m.ev_score_diff, -a.ev_score_diff)
    np.testing.assert_allclose(m.context, a.context[:, CONTEXT_SWAP_PERM] * CONTEXT_SWAP_SIGN, atol=1e-6)
    norm = target_norm_from_arrays(a)
    da, dm = NBADataset(a, norm, 10.0, mode="eval"), NBADataset(m, norm, 10.0, mode="eval")
    for i in (0, 3):
        ga, gm = da[i].graph, dm[i].graph
        nodes_a = sorted(
            (tuple(x.round(decimals=5).tolist()), 1 - s) for x, s in zip(ga.x, ga.side.tolist(), strict=True)
        )
        nodes_m = sorted(
            (tuple(x.round(decimals=5).tolist()), s) for x, s in zip(gm.x, gm.side.tolist(), strict=True)
        )
        assert nodes_a == nodes_m
        assert sorted(ga.edge_weight.tolist()) == pytest.approx(sorted(gm.edge_weight.tolist()))
    assert (da[0].win, dm[0].win) in ((1.0, 0.0), (0.0, 1.0))


KILLED_BETWEEN_PARTS = """
import os, signal, sys
sys.path.insert(0, {repo!r})
from nba_pipeline.features import season_arrays as sa
from nba_pipeline_tests.test_features.synthetic import (
    synthetic_games, synthetic_player_features, synthetic_plays, synthetic_team_game_features)
plays = synthetic_plays(n_games=3, events_per_period=20, seed={seed})
games = synthetic_games(plays)
pf = synthetic_player_features([1, 2, 3, 4, 5, 6, 101, 102], "2022-10-01", seed={seed})
tgf = synthetic_team_game_features(games, seed={seed})
a = sa.build_season_arrays(plays, games, pf, tgf, season="2022-23")
save = sa.SeasonArrays.save
def save_then_die(self, *args, **kwargs):
    path = save(self, *args, **kwargs)
    if {kill}:
        os.kill(os.getpid(), signal.SIGKILL)  # after the first of the three files
    return path
sa.SeasonArrays.save = save_then_die
a.save_parts({out!r})
"""


def _build_in_child(out, seed: int, kill: bool) -> int:
    import subprocess
    import sys

    from nba_pipeline import settings

    code = KILLED_BETWEEN_PARTS.format(repo=str(settings.REPO_ROOT), out=str(out), seed=seed, kill=kill)
    return subprocess.run([sys.executable, "-c", code], timeout=120).returncode


def test_a_build_killed_between_the_three_files_never_loads_as_a_mixed_set(tmp_path):
    """Same games, other values (another build): the leftover old files must not load beside the new
    one; a rerun writes the whole set and it loads."""
    import signal

    assert _build_in_child(tmp_path, seed=0, kill=False) == 0
    before = SeasonArrays.load_parts(tmp_path, "2022-23")
    assert _build_in_child(tmp_path, seed=1, kill=True) == -signal.SIGKILL
    with pytest.raises(ValueError, match="not written whole"):
        SeasonArrays.load_parts(tmp_path, "2022-23")
    assert _build_in_child(tmp_path, seed=1, kill=False) == 0
    after = SeasonArrays.load_parts(tmp_path, "2022-23")
    np.testing.assert_array_equal(after.game_id, before.game_id)
    assert not np.array_equal(after.context, before.context)  # the rerun's values, whole
