"""Figures a person wants next to a trained model: the reliability diagram and the training
curves, rendered to PNG bytes (headless matplotlib) so they can be written to disk or attached to a
Dagster materialization."""

from __future__ import annotations

import io
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np


def _figure() -> ModuleType:
    """pyplot on the headless Agg backend, imported only when a figure is drawn (it is slow)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def reliability_diagram_png(p: np.ndarray, y: np.ndarray) -> bytes:
    """Predicted probability (bin mean) against the observed home-win rate, deciles of prediction;
    the dot size shows how many games a bin holds."""
    from nba_pipeline.training.metrics import calibration_bins

    plt = _figure()
    bins = [b for b in calibration_bins(p, y) if b["count"] > 0]
    mean_p = np.array([b["mean_pred"] for b in bins])
    rate = np.array([b["win_rate"] for b in bins])
    counts = np.array([b["count"] for b in bins])
    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect calibration")
    ax.plot(mean_p, rate, color="tab:blue", lw=1)
    ax.scatter(mean_p, rate, s=20 + 200 * counts / counts.max(), color="tab:blue", label="deciles")
    ax.set_xlabel("predicted home-win probability")
    ax.set_ylabel("observed home-win rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(f"Reliability ({int(counts.sum())} games)")
    ax.legend(loc="upper left", fontsize=8)
    return _to_png(fig, plt)


def training_curves_png(history: Sequence[dict]) -> bytes:
    """Train and validation loss per epoch, and the pregame validation accuracy / Brier (the
    trainer's history entries: ``epoch, train_loss, val_loss, val_metrics[checkpoint][metric]``)."""
    plt = _figure()
    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5), dpi=100)
    ax1.plot(epochs, [h["train_loss"] for h in history], label="train loss")
    ax1.plot(epochs, [h["val_loss"] for h in history], label="validation loss")
    ax1.set_xlabel("epoch")
    ax1.legend()
    for key in ("accuracy", "brier"):
        values = [h.get("val_metrics", {}).get("pregame", {}).get(key) for h in history]
        if all(v is not None for v in values):
            ax2.plot(epochs, values, label=f"validation pregame {key}")
    ax2.set_xlabel("epoch")
    if ax2.lines:  # histories without validation metrics leave this panel empty
        ax2.legend()
    fig.tight_layout()
    return _to_png(fig, plt)


def _to_png(fig: Any, plt: ModuleType) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
