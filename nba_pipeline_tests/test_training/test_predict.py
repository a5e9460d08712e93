"""predict_frame: the reusing path (context once per game, graph once per lineup, Transformer per
cut) equals the plain forward pass of every batch, on synthetic games and a real slice."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nba_pipeline.features.season_arrays import build_season_arrays
from nba_pipeline.models.forecaster import ForecasterConfig, NBAForecaster
from nba_pipeline.training import predict
from nba_pipeline.training.dataset import NBADataset, score_diff_std_from_arrays, target_norm_from_arrays
from nba_pipeline.training.predict import predict_frame
from nba_pipeline_tests.test_features.real import real_inputs


def _assert_same(a, b) -> None:
    assert a[["game_id", "game_index", "checkpoint", "cut", "win"]].equals(
        b[["game_id", "game_index", "checkpoint", "cut", "win"]]
    )
    for col in ("p_home", "margin", "total"):
        np.testing.assert_allclose(a[col].to_numpy(), b[col].to_numpy(), rtol=0, atol=1e-4, err_msg=col)


@pytest.fixture(scope="module")
def real_arrays(nba_raw_dir):
    plays, games, tgf = real_inputs(nba_raw_dir, "2023-24", 100)
    return build_season_arrays(plays, games, None, tgf, season="2023-24")


def test_reusing_path_equals_the_plain_forward_pass_on_every_cut_of_real_games(real_arrays, monkeypatch):
    a = real_arrays
    norm, sd = target_norm_from_arrays(a), score_diff_std_from_arrays(a)
    torch.manual_seed(1)
    model = NBAForecaster(ForecasterConfig()).eval()
    model.set_line_scale()  # games with a line take the line's path
    ds = NBADataset(a, norm, sd, mode="all_events", games=np.arange(90, 96))
    # small chunks, so that lineups and games straddle batch boundaries
    monkeypatch.setattr(predict, "SEQ_BATCH", 97)
    monkeypatch.setattr(predict, "GRAPH_BATCH", 13)
    reused = predict_frame(model, ds, norm)
    plain = predict_frame(model, ds, norm, reuse=False)
    assert len(reused) == len(ds) and reused["p_home"].std() > 0
    _assert_same(reused, plain)
    # the graph encoder ran once per lineup of a game, far fewer than the cuts
    key = np.column_stack([reused["game_index"], ds.lineup_slots(*ds.cuts_of(np.arange(len(ds)))[:2])])
    assert len(np.unique(key, axis=0)) < len(ds) / 5


def test_reusing_path_equals_the_plain_path_at_the_checkpoints_and_in_train_mode(real_arrays):
    a = real_arrays
    norm, sd = target_norm_from_arrays(a), score_diff_std_from_arrays(a)
    torch.manual_seed(2)
    model = NBAForecaster().train()  # predict_frame evaluates in eval mode and restores the mode
    for mode in ("eval", "train"):
        ds = NBADataset(a, norm, sd, mode=mode, games=np.arange(60, 100), seed=3)
        _assert_same(predict_frame(model, ds, norm), predict_frame(model, ds, norm, reuse=False))
    assert model.training


def test_the_forecast_after_the_last_event_is_the_result_in_every_game_of_a_real_season(nba_raw_dir):
    """Every game of 2023-24 at its last event, through an untrained model (what the towers say
    does not matter there): P(home win) exactly 1 or 0 as the game ended, margin and total the final
    ones. The shape of the heads guarantees it, not training."""
    from nba_pipeline.evaluate.report import late_checkpoint_cuts

    plays, games, tgf = real_inputs(nba_raw_dir, "2023-24", 2000)
    a = build_season_arrays(plays, games, None, tgf, season="2023-24")
    assert a.n_games > 1200
    norm, sd = target_norm_from_arrays(a), score_diff_std_from_arrays(a)
    torch.manual_seed(0)
    model = NBAForecaster(ForecasterConfig()).eval()
    model.set_scales(sd, norm)
    ds = NBADataset(a, norm, sd, mode="all_events")
    every = np.arange(a.n_games)
    at_buzzer = ds.sample_index(every, late_checkpoint_cuts(a)["final"])
    final = predict_frame(model, ds, norm, indices=at_buzzer)
    last = a.event_offsets[1:] - 1
    # the play-by-play's last score is the games table's in every game
    np.testing.assert_array_equal(a.ev_score_diff[last], final["margin_true"].to_numpy())
    assert set(final["p_home"].unique()) == {0.0, 1.0}
    np.testing.assert_array_equal(final["p_home"].to_numpy(), final["win"].to_numpy())
    np.testing.assert_allclose(final["margin"], final["margin_true"], atol=0.01, rtol=0)
    np.testing.assert_allclose(final["total"], final["total_true"], atol=0.02, rtol=0)
    calibrated = predict_frame(model, ds, norm, indices=at_buzzer, temperature=1.3)
    np.testing.assert_array_equal(calibrated["p_home"].to_numpy(), final["win"].to_numpy())
