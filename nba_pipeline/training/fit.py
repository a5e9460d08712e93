"""One training run, from season arrays to a trained forecaster and everything that must travel
with it: the temporal split, the normalization fitted on training games only, the loaders, the
trainer, and the preprocessing bundle saved in the registry (DESIGN.md, correction 3).

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
from nba_pipeline.training.config import RunConfig
from nba_pipeline.training.dataset import (
    NBADataset,
    collate,
    score_diff_std_from_arrays,
    target_norm_from_arrays,
)
from nba_pipeline.training.trainer import FusionTrainer, TrainResult, seed_everything

log = logging.getLogger(__name__)


@dataclass
class FitOutcome:
    model: NBAForecaster  # best epoch's weights, eval mode
    norm: TargetNorm
    score_diff_std: float
    preprocessing: dict[str, Any]
    result: TrainResult | None  # None when trained for 0 epochs (an untrained model, for tests)
    train_games: np.ndarray
    val_games: np.ndarray
    val_dataset: NBADataset
    data_date_range: dict[str, str]


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
    :func:`load_training_arrays`), with a temporal validation split.

    ``cfg.optim.max_epochs == 0`` returns the untrained (randomly initialised) model: the asset
    checks' own tests use it as a deliberately broken model.
    """
    seasons = list(cfg.data.train_seasons)
    if arrays.season != "+".join(seasons):  # SeasonArrays.concat's label of these seasons
        raise ValueError(f"the arrays hold season(s) {arrays.season!r}, the config says {seasons}")
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    train_idx, val_idx = temporal_split(arrays, cfg.data.val_fraction)
    norm = target_norm_from_arrays(arrays, train_idx)
    sd_std = score_diff_std_from_arrays(arrays, train_idx)
    seed = cfg.optim.seed
    train_ds = NBADataset(arrays, norm, sd_std, mode="train", games=train_idx, seed=seed)
    val_ds = NBADataset(arrays, norm, sd_std, mode="eval", games=val_idx)
    seed_everything(seed)
    model = NBAForecaster(cfg.model)
    dates = arrays.game_date
    date_range = {"start": str(dates[train_idx].min()), "end": str(dates[val_idx].max())}
    result = None
    if cfg.optim.max_epochs > 0:
        gen = torch.Generator().manual_seed(seed)
        train_loader = DataLoader(
            train_ds,
            batch_size=2 * cfg.data.batch_games,
            shuffle=True,
            generator=gen,
            collate_fn=collate,
            num_workers=cfg.data.num_workers,
        )
        val_loader = DataLoader(val_ds, batch_size=256, shuffle=False, collate_fn=collate)
        trainer = FusionTrainer(model, cfg.optim, norm, Path(work_dir) / "checkpoints", on_epoch_end)
        log.info(
            "training on %d games (%s), validating on %d games from %s",
            len(train_idx),
            ", ".join(seasons),
            len(val_idx),
            dates[val_idx].min(),
        )
        result = trainer.fit(train_loader, val_loader)
        state = torch.load(result.best_checkpoint, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
    model = model.cpu().eval()
    return FitOutcome(
        model=model,
        norm=norm,
        score_diff_std=sd_std,
        preprocessing=preprocessing_bundle(norm, sd_std, seasons),
        result=result,
        train_games=train_idx,
        val_games=val_idx,
        val_dataset=val_ds,
        data_date_range=date_range,
    )
