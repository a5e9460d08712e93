"""NBADataset and collate: sample shapes, cuts per mode, labels, valid batches, no NaN on real games."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader

from nba_pipeline.features.context import CONTEXT_DIM
from nba_pipeline.features.season_arrays import build_season_arrays
from nba_pipeline.features.tokenizer import CLS, PAD
from nba_pipeline.models.batch import CHECKPOINT_CODE, ModelBatch
from nba_pipeline.models.norm import TargetNorm
from nba_pipeline.training.dataset import (
    NBADataset,
    checkpoint_cuts,
    collate,
    score_diff_std_from_arrays,
    target_norm_from_arrays,
    target_norm_from_season_stats,
)
from nba_pipeline_tests.test_features.real import real_inputs
from nba_pipeline_tests.test_features.synthetic import (
    synthetic_games,
    synthetic_player_features,
    synthetic_plays,
    synthetic_team_game_features,
)

NORM = TargetNorm(margin_mean=2.0, margin_std=14.0, total_mean=228.0, total_std=20.0)


@pytest.fixture(scope="module")
def arrays():
    plays = synthetic_plays(n_games=4, events_per_period=20)
    games = synthetic_games(plays)
    pf = synthetic_player_features([1, 2, 3, 4, 5, 101, 102, 103], "2022-10-01")
    return build_season_arrays(plays, games, pf, synthetic_team_game_features(games))


def test_sample_has_the_contract_shapes_and_types(arrays):
    s = NBADataset(arrays, NORM, 12.0, mode="eval")[2]
    assert s.tokens.shape == (51,) and s.tokens.dtype == torch.int64
    assert s.time_left.shape == s.score_diff.shape == s.mask.shape == (51,)
    assert s.lineup.shape == (51, 20) and s.lineup.dtype == torch.float32
    assert s.mask.dtype == torch.bool and s.context.shape == (CONTEXT_DIM,)
    assert s.graph.x.shape == (10, 16) and s.graph.side.shape == (10,)
    assert s.checkpoint == CHECKPOINT_CODE["halftime"] and s.game_index == 0


def test_collate_builds_a_valid_model_batch(arrays):
    ds = NBADataset(arrays, NORM, 12.0, mode="train")
    b = collate([ds[i] for i in range(len(ds))])
    assert isinstance(b, ModelBatch) and len(b) == 8
    assert b.tokens.shape == (8, 51) and b.lineup.shape == (8, 51, 20) and b.context.shape == (8, CONTEXT_DIM)
    assert b.graph.num_graphs == 8 and b.graph.x.shape == (80, 16)
    assert b.graph.batch.max() == 7 and b.graph.edge_index.max() < 80
    assert b.graph.edge_type.shape == b.graph.edge_weight.shape == (b.graph.edge_index.shape[1],)
    assert b.checkpoint.tolist() == [CHECKPOINT_CODE["pregame"], CHECKPOINT_CODE["random"]] * 4
    assert (b.tokens[:, 0] == CLS).all() and b.mask[:, 0].all()
    assert (b.tokens[~b.mask] == PAD).all()
    # a DataLoader with workers-free default path gives the same batch type
    loaded = next(iter(DataLoader(ds, batch_size=4, collate_fn=collate)))
    assert isinstance(loaded, ModelBatch) and len(loaded) == 4
    moved = b.to("cpu")
    assert moved.graph.num_graphs == 8


def test_labels_are_final_result_standardized_with_the_given_norm(arrays):
    ds = NBADataset(arrays, NORM, 12.0, mode="eval")
    s = ds[5]  # second game, pregame
    g = s.game_index
    margin = arrays.home_pts[g] - arrays.away_pts[g]
    assert s.win == float(margin > 0)
    assert s.margin == pytest.approx((margin - 2.0) / 14.0)
    assert s.total == pytest.approx((arrays.home_pts[g] + arrays.away_pts[g] - 228.0) / 20.0)


def test_train_cuts_are_fresh_per_epoch_and_reproducible_per_seed(arrays):
    ds = NBADataset(arrays, NORM, 12.0, mode="train", seed=7)
    n = len(ds)
    assert n == 2 * arrays.n_games
    epoch0 = [ds.cut_of(i)[1] for i in range(n)]
    assert all(c == 0 for c in epoch0[0::2])  # pregame every game, every epoch
    assert all(1 <= c <= arrays.n_events[i // 2] for i, c in enumerate(epoch0) if i % 2)
    cuts = []
    for e in range(5):
        ds.set_epoch(e)
        cuts.append(tuple(ds.cut_of(i)[1] for i in range(1, n, 2)))
    assert len(set(cuts)) > 1
    again = NBADataset(arrays, NORM, 12.0, mode="train", seed=7)
    again.set_epoch(3)
    assert tuple(again.cut_of(i)[1] for i in range(1, n, 2)) == cuts[3]
    other = NBADataset(arrays, NORM, 12.0, mode="train", seed=8)
    other.set_epoch(3)
    assert tuple(other.cut_of(i)[1] for i in range(1, n, 2)) != cuts[3]


def test_eval_checkpoints_cut_at_the_last_event_before_each_game_time(arrays):
    cuts = checkpoint_cuts(arrays)
    for g in range(arrays.n_games):
        off = arrays.event_offsets[g]
        period = arrays.ev_period[off : arrays.event_offsets[g + 1]]
        secs = arrays.ev_game_seconds[off : arrays.event_offsets[g + 1]]
        assert cuts[g, 0] == 0
        for j, p in enumerate((1, 2, 3), start=1):
            assert period[cuts[g, j] - 1] == p and period[cuts[g, j]] == p + 1
        k = cuts[g, 4]
        assert secs[k - 1] <= 2580 < secs[k]
    ds = NBADataset(arrays, NORM, 12.0, mode="eval")
    assert len(ds) == 5 * arrays.n_games
    assert [ds.cut_of(i)[2] for i in range(5)] == [0, 1, 2, 3, 4]


def test_all_events_mode_covers_every_cut_once(arrays):
    ds = NBADataset(arrays, NORM, 12.0, mode="all_events", games=[1, 3])
    assert len(ds) == int(arrays.n_events[1] + arrays.n_events[3] + 2)
    g, cut, code = zip(*(ds.cut_of(i) for i in range(len(ds))), strict=True)
    assert set(g) == {1, 3}
    assert list(cut[: arrays.n_events[1] + 1]) == list(range(arrays.n_events[1] + 1))
    assert code[0] == CHECKPOINT_CODE["pregame"] and set(code[1 : arrays.n_events[1] + 1]) == {
        CHECKPOINT_CODE["random"]
    }
    in_game = ds.in_game_samples()
    assert in_game.tolist() == [i for i in range(len(ds)) if cut[i] > 0]
    assert len(in_game) == int(arrays.n_events[1] + arrays.n_events[3])
    with pytest.raises(ValueError, match="all_events"):
        NBADataset(arrays, NORM, 12.0, mode="eval").in_game_samples()


def test_graph_at_a_cut_holds_the_players_on_court_after_the_last_seen_event(arrays):
    ds = NBADataset(arrays, NORM, 12.0, mode="eval")
    s = ds[4]  # game 0, 5:00 left in Q4: on court are home 4..8 and away 104..108
    g, cut, _ = ds.cut_of(4)
    poff = arrays.player_offsets[g]
    slots = arrays.ev_on_court[arrays.event_offsets[g] + cut - 1]
    expected = arrays.player_x[poff + slots.astype(int)]
    got = s.graph.x.numpy()
    assert sorted(map(tuple, got.round(5))) == sorted(map(tuple, expected.round(5)))
    assert s.graph.side.tolist() == [0] * 5 + [1] * 5


def test_invalid_mode_and_game_index_are_rejected(arrays):
    with pytest.raises(ValueError, match="mode"):
        NBADataset(arrays, NORM, 12.0, mode="test")
    with pytest.raises(IndexError):
        NBADataset(arrays, NORM, 12.0, games=[99])


def test_norm_stats_pool_training_seasons_from_season_stats():
    ss = pd.DataFrame(
        {
            "season": ["a", "a", "a", "b", "b", "b"],
            "stat": ["margin", "total", "score_diff"] * 2,
            "mean": [2.0, 220.0, 1.0, 4.0, 230.0, 1.0],
            "std": [14.0, 20.0, 9.0, 14.0, 20.0, 11.0],
            "n": [100] * 6,
        }
    )
    norm = target_norm_from_season_stats(ss, ["a", "b"])
    assert norm.margin_mean == pytest.approx(3.0) and norm.margin_std == pytest.approx(np.sqrt(196 + 1))
    assert norm.total_mean == pytest.approx(225.0) and norm.total_std == pytest.approx(np.sqrt(400 + 25))
    with pytest.raises(ValueError, match="no 'margin' row for seasons"):
        target_norm_from_season_stats(ss, ["c"])


def test_real_games_give_valid_batches_without_nan(nba_raw_dir):
    plays, games, tgf = real_inputs(nba_raw_dir, "2023-24", 100)
    a = build_season_arrays(plays, games, None, tgf, season="2023-24")
    train = np.arange(80)
    norm, sd = target_norm_from_arrays(a, train), score_diff_std_from_arrays(a, train)
    assert 8 < sd < 16 and 10 < norm.margin_std < 20 and 200 < norm.total_mean < 250
    ds = NBADataset(a, norm, sd, mode="eval", games=np.arange(80, 100))
    batches = list(DataLoader(ds, batch_size=32, collate_fn=collate))
    assert sum(len(b) for b in batches) == 100
    for b in batches:
        for name in ("time_left", "score_diff", "lineup", "context", "win", "margin", "total"):
            assert torch.isfinite(getattr(b, name)).all(), name
        assert torch.isfinite(b.graph.x).all() and torch.isfinite(b.graph.edge_weight).all()
        assert (b.time_left >= 0).all() and (b.time_left <= 1).all()
        assert set(b.win.unique().tolist()) <= {0.0, 1.0}
    # the sequence at halftime ends on the end-of-period token
    s = ds[2]
    last = int(s.mask.sum()) - 1
    assert s.tokens[last].item() == 3 + 3 * 12  # "13:neutral" (end of period)


def test_sample_index_finds_any_moment_of_an_all_events_dataset(arrays):
    ds = NBADataset(arrays, NORM, 12.0, mode="all_events", games=[0, 2])
    n = arrays.n_events
    game, cut = np.array([2, 0, 2, 0]), np.array([0, int(n[0]), int(n[2]), 3])
    g, c, _ = ds.cuts_of(ds.sample_index(game, cut))
    np.testing.assert_array_equal(g, game)
    np.testing.assert_array_equal(c, cut)
    with pytest.raises(IndexError, match="not in this dataset"):
        ds.sample_index(np.array([1]), np.array([0]))
    with pytest.raises(IndexError):
        ds.sample_index(np.array([0]), np.array([int(n[0]) + 1]))


def test_fast_get_batch_equals_collate_of_the_same_samples(arrays):
    ds = NBADataset(arrays, NORM, 12.0, mode="all_events", games=[0, 2])
    idx = [0, 5, 88, 89, 90, 150, len(ds) - 1]
    a, b = ds.get_batch(idx), collate([ds[i] for i in idx])
    for name in (
        "tokens",
        "time_left",
        "score_diff",
        "lineup",
        "mask",
        "context",
        "win",
        "margin",
        "total",
        "checkpoint",
        "game_index",
    ):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    for name in ("x", "edge_index", "edge_type", "edge_weight", "side", "batch", "ptr"):
        assert torch.equal(getattr(a.graph, name), getattr(b.graph, name)), name
    assert a.graph.num_graphs == b.graph.num_graphs == len(idx)
    one, ref = a.graph.to_data_list()[3], ds[idx[3]].graph
    assert one.num_nodes == 10 and torch.equal(one.edge_index, ref.edge_index) and torch.equal(one.x, ref.x)


def test_running_total_is_fed_as_points_above_the_training_pace():
    from nba_pipeline.training.dataset import points_above_pace

    norm = TargetNorm(margin_mean=0.0, margin_std=12.0, total_mean=230.0, total_std=20.0)
    on_pace = points_above_pace(np.array([0, 115, 230]), np.array([1.0, 0.5, 0.0]), norm)
    np.testing.assert_allclose(on_pace, [0.0, 0.0, 0.0], atol=1e-4)
    hot = points_above_pace(np.array([135]), np.array([0.5]), norm)
    np.testing.assert_allclose(hot, [20.0], atol=1e-4)
    # overtime: the clock (time_left 300 / 2880 at its start) and the pace restart
    start_of_ot = points_above_pace(np.array([230]), np.array([300 / 2880]), norm)
    np.testing.assert_allclose(start_of_ot, [230 * 300 / 2880], atol=1e-3)


def test_a_model_saved_with_another_input_format_is_refused():
    from nba_pipeline.models.batch import INPUT_FORMAT, check_input_format

    check_input_format({"input_format": INPUT_FORMAT}, "here")
    with pytest.raises(ValueError, match="input format 1"):
        check_input_format({"input_format": 1}, "model v1.0.0")
    with pytest.raises(ValueError, match="retrain"):
        check_input_format({}, "model v0.1.0")
