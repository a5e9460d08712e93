"""One training run, from season arrays to a trained forecaster and everything that must travel
with it: the temporal split, the normalization fitted on training games only, the loaders, the
trainer, and the preprocessing bundle saved in the registry (so that a loaded model featurizes new
games exactly as in training).

The Dagster asset ``trained_model`` and the commands call :func:`fit_forecaster` with one
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
from nba_pipeline.training.strength_blend import blend_strength_fit
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


@dataclass
class GameSplit:
    """A run's games by role, with the target norms fitted on the training games alone and the
    datasets each role is read through."""

    train_games: np.ndarray
    select_games: np.ndarray  # the validation games that choose the epoch (earlier half of the dates)
    val_games: np.ndarray  # the JUDGED validation games (later half of the validation dates)
    norm: TargetNorm
    score_diff_std: float
    train_dataset: NBADataset
    select_dataset: NBADataset
    val_dataset: NBADataset


def split_games(arrays: SeasonArrays, cfg: RunConfig) -> GameSplit:
    """The temporal split (:func:`temporal_split`, then :func:`selection_split`) and everything
    fitted on the training games: no later game leaks into the norms."""
    train_idx, all_val = temporal_split(arrays, cfg.data.val_fraction)
    select_idx, val_idx = selection_split(arrays, all_val)
    norm = target_norm_from_arrays(arrays, train_idx)
    sd_std = score_diff_std_from_arrays(arrays, train_idx)
    seed = cfg.optim.seed
    return GameSplit(
        train_games=train_idx,
        select_games=select_idx,
        val_games=val_idx,
        norm=norm,
        score_diff_std=sd_std,
        train_dataset=NBADataset(arrays, norm, sd_std, mode="train", games=train_idx, seed=seed),
        val_dataset=NBADataset(arrays, norm, sd_std, mode="eval", games=val_idx),
        select_dataset=NBADataset(arrays, norm, sd_std, mode="eval", games=select_idx),
    )


def train_model(
    model: NBAForecaster,
    split: GameSplit,
    cfg: RunConfig,
    work_dir: Path,
    on_epoch_end: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Train ``model`` in place on the training games, choosing the epoch on the selection games,
    and put the best epoch's weights back. A game with a line gives the game-state head the line's
    forecast to learn from, the forecast it will be given once released: its scale is set here for
    the head as it starts, at temperature 1, and again for the trained head by :func:`calibrate`."""
    model.set_line_scale()
    gen = torch.Generator().manual_seed(cfg.optim.seed)
    train_loader = DataLoader(
        split.train_dataset,
        batch_size=2 * cfg.data.batch_games,
        shuffle=True,
        generator=gen,
        collate_fn=collate,
        num_workers=cfg.data.num_workers,
    )
    # Early stopping reads the selection games only; the judged games stay unseen until the checks.
    val_loader = DataLoader(split.select_dataset, batch_size=256, shuffle=False, collate_fn=collate)
    trainer = FusionTrainer(model, cfg.optim, split.norm, Path(work_dir) / "checkpoints", on_epoch_end)
    dates = split.train_dataset.arrays.game_date
    log.info(
        "training on %d games (%s), selecting the epoch on %d games from %s, judging %d games from %s",
        len(split.train_games),
        ", ".join(cfg.data.train_seasons),
        len(split.select_games),
        dates[split.select_games].min(),
        len(split.val_games),
        dates[split.val_games].min(),
    )
    result = trainer.fit(train_loader, val_loader)
    restore_best(model, result)
    return result


def calibrate(model: NBAForecaster, split: GameSplit) -> dict[str, Any]:
    """The preprocessing entries of a trained model's calibration: the temperature of the win
    logit, chosen on the selection games (``training.calibration``), and the line's scale set for
    that temperature (``NBAForecaster.set_line_scale``), so a game with a line forecasts the line."""
    sel = predict_frame(model, split.select_dataset, split.norm)
    temperature, calibration = choose_temperature(
        logit_of(sel["p_home"].to_numpy()), sel["win"].to_numpy(), sel["game_index"].to_numpy()
    )
    return {
        "win_temperature": temperature,
        "calibration": calibration,
        "line_logit_scale": model.set_line_scale(temperature),
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
    split = split_games(arrays, cfg)
    seed_everything(cfg.optim.seed)
    model = NBAForecaster(cfg.model)
    model.set_scales(split.score_diff_std, split.norm)
    result = None
    if cfg.optim.max_epochs > 0:
        result = train_model(model, split, cfg, work_dir, on_epoch_end)
    model = model.cpu().eval()
    prep = preprocessing_bundle(split.norm, split.score_diff_std, seasons)
    if result is None:
        prep.update(win_temperature=1.0, calibration={"kept": False, "note": "not trained"})
    else:
        train = split.train_games
        prep["strength_blend"] = blend_strength_fit(
            model, arrays.context[train], arrays.home_pts[train], arrays.away_pts[train], split.norm
        )
        prep.update(calibrate(model, split))
    dates = arrays.game_date
    return FitOutcome(
        model=model,
        norm=split.norm,
        score_diff_std=split.score_diff_std,
        preprocessing=prep,
        result=result,
        train_games=split.train_games,
        val_games=split.val_games,
        val_dataset=split.val_dataset,
        data_date_range={
            "start": str(dates[split.train_games].min()),
            "end": str(dates[split.val_games].max()),
        },
        select_games=split.select_games,
    )
