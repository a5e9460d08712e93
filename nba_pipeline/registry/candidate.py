"""A model's way into production: train a candidate, store it unpromoted, judge it, promote it.

- :func:`train_candidate` trains on season arrays (``training.fit``), predicts the judged validation
  games (the later half of the validation dates; the earlier half chose the epoch) at every
  checkpoint, scores the current ``latest`` on the same games (when there is one), and saves the
  candidate in the registry NOT promoted, with both prediction tables as artifacts.
- :func:`judge` applies the blocking rules of ``registry.rules`` to the stored pregame
  validation predictions; :func:`compare_with_incumbent` is the non-blocking comparison.
- :func:`awaits_verdict` tells a version whose run died between its save and its verdict (neither
  promoted nor marked not promoted), so the next run judges and promotes it instead of keeping it
  in limbo.
- :func:`promote_if_passing` re-applies the rules itself before moving ``latest``, so a version can
  never be promoted around its checks (e.g. by materializing ``promoted_model`` alone).

Dagster assets and checks are thin wrappers over these functions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nba_pipeline.features.season_arrays import SeasonArrays
from nba_pipeline.registry import rules as checks
from nba_pipeline.registry.store import ModelRegistry
from nba_pipeline.training.config import RunConfig
from nba_pipeline.training.fit import FitOutcome, fit_forecaster
from nba_pipeline.training.metrics import prediction_metrics

log = logging.getLogger(__name__)
PREDICTIONS = "validation_predictions"
INCUMBENT = "incumbent_predictions"


@dataclass
class Candidate:
    version: str
    outcome: FitOutcome
    predictions: pd.DataFrame
    incumbent: str | None
    metrics: dict[str, dict[str, float]]


def _predict_with(loaded: Any, arrays: SeasonArrays, games: np.ndarray) -> pd.DataFrame:
    """Predictions of a registry model on ``games`` of ``arrays``, featurized with ITS preprocessing."""
    from nba_pipeline.models.batch import check_input_format
    from nba_pipeline.models.norm import TargetNorm
    from nba_pipeline.training.dataset import NBADataset
    from nba_pipeline.training.predict import predict_frame

    prep = loaded.preprocessing
    check_input_format(prep, f"model {loaded.version}")
    norm = TargetNorm.from_dict(prep["target_norm"])
    ds = NBADataset(arrays, norm, float(prep["score_diff_std"]), mode="eval", games=games)
    return predict_frame(loaded.model, ds, norm, temperature=float(prep.get("win_temperature", 1.0)))


def train_candidate(
    arrays: SeasonArrays,
    cfg: RunConfig,
    registry: ModelRegistry,
    work_dir: Path,
    on_epoch_end: Callable[[dict[str, Any]], None] | None = None,
    extra_metadata: dict[str, Any] | None = None,
) -> Candidate:
    """``extra_metadata``: more fields for the version's metadata (e.g. the data fingerprint)."""
    from nba_pipeline.training.predict import predict_frame

    outcome = fit_forecaster(arrays, cfg, work_dir, on_epoch_end)
    temperature = float(outcome.preprocessing.get("win_temperature", 1.0))
    preds = predict_frame(outcome.model, outcome.val_dataset, outcome.norm, temperature=temperature)
    metrics = prediction_metrics(preds)
    incumbent = registry.latest_version()
    artifacts: dict[str, Any] = {PREDICTIONS: preds}
    incumbent_error = None
    if incumbent is not None:
        try:
            artifacts[INCUMBENT] = _predict_with(registry.load_model(incumbent), arrays, outcome.val_games)
        except (ValueError, RuntimeError) as exc:  # another input format or architecture
            incumbent_error = f"{incumbent} cannot score these games: {exc}"
            log.warning("incumbent comparison skipped: %s", incumbent_error)
    history = outcome.result.history if outcome.result else []
    metadata = {
        "data_date_range": outcome.data_date_range,
        "hyperparameters": cfg.hyperparameters(),
        "validation_metrics": metrics,
        "train_seasons": outcome.preprocessing["train_seasons"],
        "train_games": int(len(outcome.train_games)),
        "validation_games": int(len(outcome.val_games)),  # judged by the checks, never chose the epoch
        "epoch_selection_games": int(len(outcome.select_games)),
        "best_epoch": outcome.result.best_epoch if outcome.result else None,
        "epochs_run": len(history),
        "history": [
            {"epoch": h["epoch"], "train_loss": h["train_loss"], "val_loss": h["val_loss"]} for h in history
        ],
        "parameters": outcome.model.parameter_counts(),
        "incumbent_error": incumbent_error,
        **(extra_metadata or {}),
    }
    m = outcome.model
    version = registry.save_model(
        {"transformer": m.transformer, "gnn": m.gnn, "fusion": m.fusion},
        metadata=metadata,
        preprocessing=outcome.preprocessing,
        model_config=m.cfg.to_dict(),
        parent=incumbent,
        artifacts=artifacts,
    )
    log.info("saved candidate %s (not promoted); incumbent %s", version, incumbent)
    return Candidate(
        version=version, outcome=outcome, predictions=preds, incumbent=incumbent, metrics=metrics
    )


def stored_predictions(registry: ModelRegistry, version: str, name: str = PREDICTIONS) -> pd.DataFrame | None:
    """A prediction table stored with ``version``, read alone: the model is neither loaded nor hashed."""
    return registry.read_artifact(version, name)


def _validation_predictions(registry: ModelRegistry, version: str) -> pd.DataFrame:
    preds = stored_predictions(registry, version)
    if preds is None:
        raise ValueError(f"{version}: no {PREDICTIONS} artifact; it was not saved by train_candidate")
    return preds


def judge(registry: ModelRegistry, version: str) -> dict[str, tuple[bool, dict]]:
    """The blocking rules on the candidate's pregame validation predictions."""
    preds = _validation_predictions(registry, version)
    pre = preds[preds["checkpoint"] == "pregame"]
    return checks.pregame_quality(pre["p_home"].to_numpy(), pre["win"].to_numpy())


def compare_with_incumbent(registry: ModelRegistry, version: str) -> tuple[bool, dict]:
    """Brier and log loss of the candidate vs the ``latest`` of its training time, on the same
    validation games and checkpoints. Passes when there was no incumbent."""
    md = registry.read_metadata(version)
    inc = stored_predictions(registry, version, INCUMBENT)
    parent = md.get("parent_version")
    if inc is None and md.get("incumbent_error"):
        return False, {"incumbent": parent, "note": f"not comparable: {md['incumbent_error']}"}
    if inc is None:
        return True, {"incumbent": None, "note": "no promoted model existed when this version was trained"}
    new = prediction_metrics(_validation_predictions(registry, version))
    old = prediction_metrics(inc)
    rows = {
        cp: {
            "brier_new": new[cp]["brier"],
            "brier_incumbent": old[cp]["brier"],
            "log_loss_new": new[cp]["log_loss"],
            "log_loss_incumbent": old[cp]["log_loss"],
        }
        for cp in new
        if cp in old
    }
    passed = new["all"]["brier"] <= old["all"]["brier"] + 1e-9
    return passed, {
        "incumbent": parent,
        "by_checkpoint": rows,
        "note": "the incumbent may have been trained on these validation games",
    }


def awaits_verdict(registry: ModelRegistry, version: str) -> bool:
    """True when ``version`` was saved but never judged to an end: not promoted and not marked
    not promoted (the run that trained it was killed before its checks or its promotion)."""
    md = registry.read_metadata(version)
    return not md["promoted"] and not md.get("not_promoted_reason")


def promote_if_passing(registry: ModelRegistry, version: str) -> str:
    results = judge(registry, version)
    # the verdicts, without the calibration check's reported (non-blocking) decile table
    failed = {k: {d: x for d, x in v[1].items() if d != "deciles"} for k, v in results.items() if not v[0]}
    if failed:
        raise ValueError(f"{version} fails the promotion rules {sorted(failed)}: {failed}")
    return registry.promote(version)
