"""predict_frame: the reusing path (context once per game, graph once per lineup, Transformer per
cut) equals the plain forward pass of every batch, on synthetic games and a real slice."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nba_pipeline.features.season_arrays import build_season_arrays
from nba_pipeline.models.config import FusionConfig
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


@pytest.mark.parametrize("symmetric", [True, False])
def test_reusing_path_equals_the_plain_forward_pass_on_every_cut_of_real_games(
    real_arrays, symmetric, monkeypatch
):
    a = real_arrays
    norm, sd = target_norm_from_arrays(a), score_diff_std_from_arrays(a)
    torch.manual_seed(1)
    model = NBAForecaster(ForecasterConfig(fusion=FusionConfig(side_symmetric=symmetric))).eval()
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
