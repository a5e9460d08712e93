"""FusionTrainer: trains an NBAForecaster on ModelBatch loaders.

AdamW, cosine (per epoch) or reduce-on-plateau schedule, gradient clipping, early stopping on
validation loss, best checkpoint by validation loss, per-epoch log with validation metrics per
checkpoint (``evaluate.metrics``), seeded and resumable:

- ``checkpoint_dir/last.pt`` is rewritten atomically after every epoch with everything the next
  epoch depends on (model, optimizer, scheduler, epoch, history, early-stopping state and every
  RNG state: python, numpy, torch, CUDA, and the loaders' own generators). ``fit`` resumes from
  it, so an interrupted run continues exactly where it stopped; on CPU the result is bitwise
  identical to an uninterrupted run.
- ``checkpoint_dir/best.pt`` holds the weights of the best epoch with its metrics.

Reproducibility needs the model built after ``seed_everything(config.seed)`` and loaders
whose randomness comes from torch's generators (the default) or a dataset with ``set_epoch``.
On GPU, results match up to floating-point noise (scatter operations are not deterministic).
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nba_pipeline.models.batch import ModelBatch
from nba_pipeline.models.forecaster import NBAForecaster
from nba_pipeline.models.norm import TargetNorm
from nba_pipeline.training.config import TrainConfig
from nba_pipeline.training.loss import with_no_line_loss
from nba_pipeline.training.metrics import forecast_metrics

log = logging.getLogger(__name__)

LAST, BEST = "last.pt", "best.pt"
# Fields that may differ between an interrupted run and its resumption.
_RESUMABLE_CHANGES = {"max_epochs", "patience", "device"}


@dataclass
class TrainResult:
    best_epoch: int
    best_val_loss: float
    best_metrics: dict[str, dict[str, float]]
    history: list[dict[str, Any]]
    best_checkpoint: Path
    last_checkpoint: Path
    stopped_early: bool


@dataclass
class _Progress:
    """Early-stopping state and history of a run, what ``last.pt`` saves after every epoch."""

    history: list[dict[str, Any]] = field(default_factory=list)
    best_val: float = math.inf
    best_epoch: int = -1
    bad_epochs: int = 0
    best_metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    next_epoch: int = 0
    stopped_early: bool = False


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _loader_generators(loader: Iterable) -> list[torch.Generator]:
    """torch Generators a DataLoader draws from (its own and its sampler's), if any."""
    gens = []
    for owner in (loader, getattr(loader, "sampler", None), getattr(loader, "batch_sampler", None)):
        g = getattr(owner, "generator", None)
        if isinstance(g, torch.Generator) and all(g is not h for h in gens):
            gens.append(g)
    return gens


def _set_epoch(loader: Iterable, epoch: int) -> None:
    """Let datasets/samplers that draw per-epoch randomness (random cuts) key it on the epoch."""
    for owner in (getattr(loader, "dataset", None), getattr(loader, "sampler", None)):
        if owner is not None and callable(getattr(owner, "set_epoch", None)):
            owner.set_epoch(epoch)


# The game-state head's few scalars (models.game_state) start from a random walk's values and must
# travel to where real games put them; at the towers' learning rate they barely moved in ten epochs
# and the towers compensated instead (docs/experiments.md). Adam's step is about lr whatever the
# gradient, so they get a larger one.
STATE_HEAD_LR_SCALE = 10.0


def _param_groups(model: NBAForecaster, lr: float) -> list[dict[str, Any]]:
    """The optimizer's groups: the game-state head's scalars at
    ``STATE_HEAD_LR_SCALE * lr``, the rest at ``lr``."""
    head = list(model.fusion.state_head.parameters())
    head_ids = {id(p) for p in head}
    rest = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
    return [{"params": rest}, {"params": head, "lr": lr * STATE_HEAD_LR_SCALE}]


def _log_epoch(epoch: int, train_loss: float, val_loss: float, a: dict[str, float], improved: bool) -> None:
    """One line per epoch: the losses and the validation metrics over all samples (``*``: best)."""
    log.info(
        "epoch %d train %.4f val %.4f acc %.3f brier %.4f logloss %.4f margin MAE %.2f total MAE %.2f%s",
        epoch,
        train_loss,
        val_loss,
        a["accuracy"],
        a["brier"],
        a["log_loss"],
        a["margin_mae"],
        a["total_mae"],
        " *" if improved else "",
    )


def _atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)


class FusionTrainer:
    """Trains ``model``; writes ``best.pt`` and ``last.pt`` into ``checkpoint_dir``."""

    def __init__(
        self,
        model: NBAForecaster,
        config: TrainConfig,
        norm: TargetNorm,
        checkpoint_dir: str | Path,
        on_epoch_end: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.config = config
        self.norm = norm
        self.device = resolve_device(config.device)
        self.model = model.to(self.device)
        self.checkpoint_dir = Path(checkpoint_dir)
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        self.on_epoch_end = on_epoch_end
        # fused: one kernel over all parameters; the default per-tensor loop costs more than the
        # forward pass of this small model on CPU (same update up to float rounding)
        self.optimizer = torch.optim.AdamW(
            _param_groups(model, config.lr), lr=config.lr, weight_decay=config.weight_decay, fused=True
        )
        if config.scheduler == "cosine":
            self.scheduler: Any = torch.optim.lr_scheduler.CosineAnnealingLR(
                self.optimizer, T_max=config.max_epochs, eta_min=config.min_lr
            )
        else:
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                self.optimizer, factor=0.5, patience=max(1, config.patience // 3), min_lr=config.min_lr
            )

    # ------------------------------------------------------------------ one pass
    def _train_epoch(self, loader: Iterable[ModelBatch], epoch: int) -> dict[str, float]:
        self.model.train()
        w = self.config.loss_weights
        sums = {"loss": 0.0, "win": 0.0, "margin": 0.0, "total": 0.0}
        n_total = 0
        for i, batch in enumerate(loader):
            batch = batch.to(self.device)
            out = self.model(batch, with_no_line=True)
            loss, parts = with_no_line_loss(out, batch, self.model.has_line(batch.context), w)
            if not torch.isfinite(loss):
                detail = ", ".join(f"{k}={v.item():.4g}" for k, v in parts.items())
                raise FloatingPointError(
                    f"non-finite training loss {loss.item()} at epoch {epoch}, batch {i} ({detail}); "
                    "check the inputs of this batch for NaN/inf or lower the learning rate"
                )
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            self.optimizer.step()
            n = len(batch)
            n_total += n
            sums["loss"] += loss.item() * n
            for k, v in parts.items():
                sums[k] += v.item() * n
        if n_total == 0:
            raise ValueError(f"the training loader yielded no samples at epoch {epoch}")
        return {k: v / n_total for k, v in sums.items()}

    @torch.no_grad()
    def evaluate(self, loader: Iterable[ModelBatch], epoch: int | None = None) -> tuple[float, dict]:
        """Validation loss (the training loss, sample-weighted mean) and metrics over all samples and
        per checkpoint."""
        self.model.eval()
        w = self.config.loss_weights
        loss_sum, n_total = 0.0, 0
        cols: dict[str, list[torch.Tensor]] = {k: [] for k in ("p", "m", "t", "win", "margin", "total", "ck")}
        for i, batch in enumerate(loader):
            batch = batch.to(self.device)
            # the training loss: with a line, also the towers' forecast without it, so the epoch is
            # chosen for the games without a line too
            out = self.model(batch, with_no_line=True)
            loss, _ = with_no_line_loss(out, batch, self.model.has_line(batch.context), w)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"non-finite validation loss {loss.item()} at epoch {epoch}, batch {i}"
                )
            loss_sum += loss.item() * len(batch)
            n_total += len(batch)
            for key, value in (
                ("p", torch.sigmoid(out["win_logit"])),
                ("m", out["margin"]),
                ("t", out["total"]),
                ("win", batch.win),
                ("margin", batch.margin),
                ("total", batch.total),
                ("ck", batch.checkpoint),
            ):
                cols[key].append(value.detach().cpu())
        if n_total == 0:
            raise ValueError("the validation loader yielded no samples")
        c = {k: torch.cat(v) for k, v in cols.items()}
        metrics = forecast_metrics(
            c["p"], c["m"], c["t"], c["win"], c["margin"], c["total"], c["ck"], self.norm
        )
        return loss_sum / n_total, metrics

    # ------------------------------------------------------------------ state
    def _rng_state(self, loaders: list[Iterable]) -> dict[str, Any]:
        # Plain lists and tensors only, so the checkpoint loads with ``weights_only=True``.
        py_version, py_state, py_gauss = random.getstate()
        np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
        return {
            "python": [py_version, list(py_state), py_gauss],
            "numpy": [np_kind, torch.from_numpy(np_keys.astype(np.int64)), np_pos, np_has_gauss, np_gauss],
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "loaders": [[g.get_state() for g in _loader_generators(ld)] for ld in loaders],
        }

    def _set_rng_state(self, state: dict[str, Any], loaders: list[Iterable]) -> None:
        py_version, py_state, py_gauss = state["python"]
        random.setstate((py_version, tuple(py_state), py_gauss))
        np_kind, np_keys, np_pos, np_has_gauss, np_gauss = state["numpy"]
        np.random.set_state((np_kind, np_keys.numpy().astype(np.uint32), np_pos, np_has_gauss, np_gauss))
        torch.set_rng_state(state["torch"])
        if state["cuda"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])
        for ld, saved in zip(loaders, state["loaders"], strict=True):
            gens = _loader_generators(ld)
            if len(gens) != len(saved):
                raise ValueError(
                    "the loaders' generators differ from the checkpoint's; cannot resume exactly"
                )
            for g, s in zip(gens, saved, strict=True):
                g.set_state(s)

    def _check_resumable(self, state: dict[str, Any]) -> None:
        """Refuse a ``last.pt`` written with other optimisation settings or another architecture
        (a different dropout, say, would load without error and silently change the run)."""
        now, saved = self.config.to_dict(), state["train_config"]
        diff = {k for k in now if k not in _RESUMABLE_CHANGES and now[k] != saved.get(k)}
        model_now, model_saved = self.model.cfg.to_dict(), state.get("model_config", {})
        diff |= {
            f"model.{part}.{k}"
            for part in model_now
            for k in model_now[part]
            if model_now[part][k] != model_saved.get(part, {}).get(k)
        }
        if diff:
            raise ValueError(
                f"{self.checkpoint_dir / LAST} was written with other settings "
                f"({', '.join(sorted(diff))}); use another checkpoint_dir or resume=False"
            )

    # ------------------------------------------------------------------ main loop
    def _start(self, loaders: list[Iterable], resume: bool) -> _Progress:
        """Where training starts: from ``last.pt`` (model, optimizer, scheduler, early-stopping state
        and every RNG restored) when resuming one, else from epoch 0 with everything seeded."""
        last_path = self.checkpoint_dir / LAST
        if not (resume and last_path.exists()):
            seed_everything(self.config.seed)
            for ld in loaders:
                for g in _loader_generators(ld):
                    g.manual_seed(self.config.seed)
            return _Progress()
        state = torch.load(last_path, map_location=self.device, weights_only=True)
        self._check_resumable(state)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self._set_rng_state(state["rng"], loaders)
        log.info("resuming from %s after epoch %d", last_path, state["epoch"])
        return _Progress(
            history=state["history"],
            best_val=state["best_val"],
            best_epoch=state["best_epoch"],
            bad_epochs=state["bad_epochs"],
            best_metrics=state["best_metrics"],
            # a run that stopped early has nothing left to do
            next_epoch=self.config.max_epochs if state.get("stopped_early") else state["epoch"] + 1,
        )

    def _epoch(
        self, epoch: int, train_loader: Iterable[ModelBatch], val_loader: Iterable[ModelBatch], p: _Progress
    ) -> None:
        """One epoch: train, validate, step the schedule, keep the best weights in ``best.pt`` and
        update the early-stopping state and history in ``p``."""
        cfg = self.config
        t0 = time.perf_counter()
        _set_epoch(train_loader, epoch)
        train = self._train_epoch(train_loader, epoch)
        val_loss, metrics = self.evaluate(val_loader, epoch)
        lr = self.optimizer.param_groups[0]["lr"]
        if cfg.scheduler == "cosine":
            self.scheduler.step()
        else:
            self.scheduler.step(val_loss)
        improved = val_loss < p.best_val
        if improved:
            p.best_val, p.best_epoch, p.bad_epochs, p.best_metrics = val_loss, epoch, 0, metrics
            _atomic_save(
                {
                    "model": self.model.state_dict(),
                    "model_config": self.model.cfg.to_dict(),
                    "train_config": cfg.to_dict(),
                    "norm": self.norm.to_dict(),
                    "epoch": epoch,
                    "val_loss": val_loss,
                    "metrics": metrics,
                },
                self.checkpoint_dir / BEST,
            )
        else:
            p.bad_epochs += 1
        p.stopped_early = p.bad_epochs >= cfg.patience
        p.history.append(
            {
                "epoch": epoch,
                "train_loss": train["loss"],
                "train_parts": {k: train[k] for k in ("win", "margin", "total")},
                "val_loss": val_loss,
                "val_metrics": metrics,
                "lr": lr,
                "best": improved,
                "seconds": time.perf_counter() - t0,
            }
        )
        _log_epoch(epoch, train["loss"], val_loss, metrics["all"], improved)

    def _save_last(self, epoch: int, p: _Progress, loaders: list[Iterable]) -> None:
        """``last.pt``: everything the next epoch depends on, so a resumed run continues exactly."""
        _atomic_save(
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "epoch": epoch,
                "history": p.history,
                "best_val": p.best_val,
                "best_epoch": p.best_epoch,
                "best_metrics": p.best_metrics,
                "bad_epochs": p.bad_epochs,
                "stopped_early": p.stopped_early,
                "train_config": self.config.to_dict(),
                "model_config": self.model.cfg.to_dict(),
                "rng": self._rng_state(loaders),
            },
            self.checkpoint_dir / LAST,
        )

    def fit(
        self, train_loader: Iterable[ModelBatch], val_loader: Iterable[ModelBatch], resume: bool = True
    ) -> TrainResult:
        """Train until ``max_epochs`` or early stopping; resume from ``last.pt`` when present."""
        cfg = self.config
        loaders = [train_loader, val_loader]
        p = self._start(loaders, resume)
        for epoch in range(p.next_epoch, cfg.max_epochs):
            self._epoch(epoch, train_loader, val_loader, p)
            self._save_last(epoch, p, loaders)
            if self.on_epoch_end is not None:
                self.on_epoch_end(p.history[-1])
            if p.stopped_early:
                log.info("early stopping after epoch %d (best epoch %d)", epoch, p.best_epoch)
                break
        if p.best_epoch < 0:
            raise RuntimeError("training ran no epoch; nothing to return")
        return TrainResult(
            best_epoch=p.best_epoch,
            best_val_loss=p.best_val,
            best_metrics=p.best_metrics,
            history=p.history,
            best_checkpoint=self.checkpoint_dir / BEST,
            last_checkpoint=self.checkpoint_dir / LAST,
            stopped_early=p.stopped_early or bool(p.history and p.history[-1]["epoch"] < cfg.max_epochs - 1),
        )


def restore_best(model: NBAForecaster, result: TrainResult) -> dict[str, Any]:
    """Put the best epoch's weights back into ``model`` and return that checkpoint (epoch, norm,
    validation loss): a run ends on its last epoch, the product keeps its best."""
    state = torch.load(result.best_checkpoint, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    return state
