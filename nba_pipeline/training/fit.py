"""One training run, from season arrays to a trained forecaster and everything that must travel
with it: the temporal split, the normalization fitted on training games only, the loaders, the
trainer, and the preprocessing bundle saved in the registry (so that a loaded model featurizes new
games exactly as in training).

The Dagster asset ``trained_model`` and ``scripts/`` call :func:`fit_forecaster` with one
:class:`~nba_pipeline.training.config.RunConfig`; it knows nothing about Dagster.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from nba_pipeline.features.context import FEATURE_NAMES
from nba_pipeline.features.graphs import NODE_FEATURES
from nba_pipeline.features.season_arrays import SeasonArrays
from nba_pipeline.features.tokenizer import MAX_EVENTS, VOCAB
from nba_pipeline.models.batch import INPUT_FORMAT
from nba_pipeline.models.forecaster import NBAForecaster
from nba_pipeline.models.norm import TargetNorm
from nba_pipeline.training.calibration import choose_temperature, logit_of
from nba_pipeline.training.config import RunConfig
from nba_pipeline.training.dataset import (
    NBADataset,
    collate,
    score_diff_std_from_arrays,
    target_norm_from_arrays,
)
from nba_pipeline.training.predict import predict_frame
from nba_pipeline.training.trainer import FusionTrainer, TrainResult, restore_best, seed_everything

log = logging.getLogger(__name__)


@dataclass
class FitOutcome:
    model: NBAForecaster  # best epoch's weights, eval mode
    norm: TargetNorm
    score_diff_std: float
    preprocessing: dict[str, Any]
    result: TrainResult | None  # None when trained for 0 epochs (an untrained model, for tests)
    train_games: np.ndarray
    val_games: np.ndarray  # the JUDGED validation games (later half of the validation dates)
    val_dataset: NBADataset  # eval-mode dataset of val_games: what the promotion checks judge
    data_date_range: dict[str, str]
    select_games: np.ndarray  # the validation games that chose the epoch (earlier half of the dates)


def temporal_split(arrays: SeasonArrays, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Game indices before / from the cut-off date: the last ``val_fraction`` of distinct dates
    validate, so no validation game is older than a training game."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    dates = np.unique(arrays.game_date)
    if len(dates) < 2:
        raise ValueError(f"temporal split needs games on at least 2 dates, got {len(dates)}")
    n_val = max(1, int(round(len(dates) * val_fraction)))
    cutoff = dates[len(dates) - n_val]
    idx = np.arange(arrays.n_games)
    return idx[arrays.game_date < cutoff], idx[arrays.game_date >= cutoff]


def selection_split(arrays: SeasonArrays, val_games: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The validation games split by date in two: the earlier half of the validation dates selects
    the epoch (early stopping), the later half is judged by the promotion checks and reported.
    Games that chose the model would flatter the checks that judge it."""
    val_games = np.asarray(val_games, dtype=np.int64)
    dates = np.unique(arrays.game_date[val_games])
    if len(dates) < 2:
        raise ValueError(f"the validation games fall on {len(dates)} date(s); two halves need at least 2")
    cutoff = dates[len(dates) // 2]
    early = arrays.game_date[val_games] < cutoff
    return val_games[early], val_games[~early]


def load_training_arrays(features_dir: Path, seasons: Sequence[str]) -> SeasonArrays:
    """The model inputs of ``seasons`` as one set of arrays (in the given order)."""
    return SeasonArrays.concat([SeasonArrays.load_parts(features_dir, s) for s in seasons])


def preprocessing_bundle(norm: TargetNorm, score_diff_std: float, seasons: list[str]) -> dict[str, Any]:
    """What a loaded model needs to featurize new games exactly as in training."""
    return {
        "input_format": INPUT_FORMAT,
        "vocabulary": VOCAB,
        "max_events": MAX_EVENTS,
        "score_diff_std": score_diff_std,
        "target_norm": norm.to_dict(),
        "context_features": list(FEATURE_NAMES),
        "node_features": list(NODE_FEATURES),
        "train_seasons": seasons,
    }


def fit_forecaster(
    arrays: SeasonArrays,
    cfg: RunConfig,
    work_dir: Path,
    on_epoch_end: Callable[[dict[str, Any]], None] | None = None,
) -> FitOutcome:
    """Train on ``arrays``, the model inputs of ``cfg.data.train_seasons`` (see
    :func:`load_training_arrays`), with a temporal validation split whose earlier half selects the
    epoch and whose later half (``val_games``) is left for the checks (:func:`selection_split`).

    ``cfg.optim.max_epochs == 0`` returns the untrained (randomly initialised) model: the asset
    checks' own tests use it as a deliberately broken model.
    """
    seasons = list(cfg.data.train_seasons)
    if arrays.season != "+".join(seasons):  # SeasonArrays.concat's label of these seasons
        raise ValueError(f"the arrays hold season(s) {arrays.season!r}, the config says {seasons}")
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    train_idx, all_val = temporal_split(arrays, cfg.data.val_fraction)
    select_idx, val_idx = selection_split(arrays, all_val)
    norm = target_norm_from_arrays(arrays, train_idx)
    sd_std = score_diff_std_from_arrays(arrays, train_idx)
    seed = cfg.optim.seed
    train_ds = NBADataset(arrays, norm, sd_std, mode="train", games=train_idx, seed=seed)
    val_ds = NBADataset(arrays, norm, sd_std, mode="eval", games=val_idx)
    select_ds = NBADataset(arrays, norm, sd_std, mode="eval", games=select_idx)
    seed_everything(seed)
    model = NBAForecaster(cfg.model)
    model.set_scales(sd_std, norm)
    dates = arrays.game_date
    date_range = {"start": str(dates[train_idx].min()), "end": str(dates[val_idx].max())}
    result = None
    if cfg.optim.max_epochs > 0:
        # The game-state head learns on the forecasts it will be given: a game with a line starts
        # from the line alone (models.market_line), at temperature 1.
        model.set_line_scale()
        gen = torch.Generator().manual_seed(seed)
        train_loader = DataLoader(
            train_ds,
            batch_size=2 * cfg.data.batch_games,
            shuffle=True,
            generator=gen,
            collate_fn=collate,
            num_workers=cfg.data.num_workers,
        )
        # Early stopping reads the selection games only; the judged games stay unseen until the checks.
        val_loader = DataLoader(select_ds, batch_size=256, shuffle=False, collate_fn=collate)
        trainer = FusionTrainer(model, cfg.optim, norm, Path(work_dir) / "checkpoints", on_epoch_end)
        log.info(
            "training on %d games (%s), selecting the epoch on %d games from %s, judging %d games from %s",
            len(train_idx),
            ", ".join(seasons),
            len(select_idx),
            dates[select_idx].min(),
            len(val_idx),
            dates[val_idx].min(),
        )
        result = trainer.fit(train_loader, val_loader)
        restore_best(model, result)
    model = model.cpu().eval()
    prep = preprocessing_bundle(norm, sd_std, seasons)
    # Temperature of the win logit, fitted and chosen on the selection games (training.calibration).
    prep["win_temperature"], prep["calibration"] = 1.0, {"kept": False, "note": "not trained"}
    if result is not None:
        # The temperature, chosen on the selection games (training.calibration); then the line's
        # scale set for that temperature (models.market_line).
        sel = predict_frame(model, select_ds, norm)
        prep["win_temperature"], prep["calibration"] = choose_temperature(
            logit_of(sel["p_home"].to_numpy()), sel["win"].to_numpy(), sel["game_index"].to_numpy()
        )
        prep["line_logit_scale"] = model.set_line_scale(prep["win_temperature"])
    return FitOutcome(
        model=model,
        norm=norm,
        score_diff_std=sd_std,
        preprocessing=prep,
        result=result,
        train_games=train_idx,
        val_games=val_idx,
        val_dataset=val_ds,
        data_date_range=date_range,
        select_games=select_idx,
    )
