"""Honest promotion: the validation games that choose the epoch are not the games the checks judge,
and they come first in time."""

from __future__ import annotations

import numpy as np
import pytest

from nba_pipeline.features.season_arrays import build_season_arrays
from nba_pipeline.training.config import RunConfig
from nba_pipeline.training.fit import fit_forecaster, selection_split, temporal_split
from nba_pipeline_tests.test_features.real import real_inputs


@pytest.fixture(scope="module")
def real_arrays(nba_raw_dir):
    plays, games, tgf = real_inputs(nba_raw_dir, "2023-24", 100)
    return build_season_arrays(plays, games, None, tgf, season="2023-24")


def test_selection_and_judged_games_are_disjoint_and_the_judged_come_later(real_arrays):
    a = real_arrays
    train, val = temporal_split(a, 0.4)
    select, judged = selection_split(a, val)
    assert len(select) and len(judged)
    assert not set(select) & set(judged) and sorted([*select, *judged]) == sorted(val)
    assert a.game_date[select].max() < a.game_date[judged].min()
    assert a.game_date[train].max() < a.game_date[select].min()


def test_fit_selects_the_epoch_on_the_earlier_half_and_hands_the_later_half_to_the_checks(
    real_arrays, tmp_path
):
    a = real_arrays
    cfg = RunConfig.from_dict(
        {
            "data": {"train_seasons": ["2023-24"], "val_fraction": 0.4, "batch_games": 16},
            "optim": {"max_epochs": 2, "patience": 1},
        }
    )
    out = fit_forecaster(a, cfg, tmp_path)
    _, val = temporal_split(a, 0.4)
    select, judged = selection_split(a, val)
    assert np.array_equal(out.select_games, select) and np.array_equal(out.val_games, judged)
    assert np.array_equal(out.val_dataset.games, judged)
    # every epoch's validation loss (which picks the best epoch) was computed on the selection games
    for h in out.result.history:
        assert h["val_metrics"]["all"]["n"] == 5 * len(select)
    # the win temperature was fitted and chosen on the selection games' checkpoints only
    cal = out.preprocessing["calibration"]
    assert cal["samples"] == 5 * len(select)
    assert out.preprocessing["win_temperature"] in (1.0, cal["fitted_temperature"])
