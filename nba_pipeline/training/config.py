"""The one configuration of a training run: ``data`` (which games, how they are split and batched),
``optim`` (the trainer's settings) and ``model`` (the forecaster's architecture).

Each section is the dataclass its consumer reads, nanoGPT style: ``optim`` IS the trainer's
:class:`TrainConfig`, ``model`` IS :class:`ForecasterConfig`, so every default is written once,
next to the code that uses it, and there is one path from a run's settings to the modules. The
Dagster asset mirrors this tree field by field (``assets/training.py``), so run config can set any
of them; scripts build it with :meth:`RunConfig.from_dict`.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any, TypeVar

from nba_pipeline.models.config import ForecasterConfig

T = TypeVar("T")


@dataclass
class LossWeights:
    """Task weights (spec default 1.0 each) and the Huber delta in standard deviations."""

    win: float = 1.0
    margin: float = 1.0
    total: float = 1.0
    huber_delta: float = 1.0


@dataclass
class TrainConfig:
    """The ``optim`` section of a run's config (``training.config.RunConfig``)."""

    # 1e-3 over 1e-4: on the judged validation games of two training windows, clearly better on one and
    # slightly worse on the other; better in the walk-forward (docs/experiments.md).
    lr: float = 1e-3
    weight_decay: float = 1e-5
    max_epochs: int = 50
    patience: int = 10  # epochs without a better validation loss before stopping
    grad_clip: float = 1.0
    scheduler: str = "cosine"  # "cosine" (annealed over max_epochs) or "plateau"
    min_lr: float = 0.0
    seed: int = 0
    device: str = "auto"  # "auto": cuda when available, else cpu
    loss_weights: LossWeights = field(default_factory=LossWeights)

    def __post_init__(self) -> None:
        if self.scheduler not in ("cosine", "plateau"):
            raise ValueError(f"scheduler must be 'cosine' or 'plateau', got {self.scheduler!r}")
        # max_epochs 0 is allowed for training.fit (an untrained model); FusionTrainer.fit refuses it.
        if self.max_epochs < 0 or self.patience < 1:
            raise ValueError("max_epochs must be >= 0 and patience >= 1")
        if isinstance(self.loss_weights, dict):
            self.loss_weights = LossWeights(**self.loss_weights)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DataConfig:
    # Empty: the rolling window (training.window): the last ``window_seasons`` complete seasons plus
    # the current season's games so far. A list: exactly those seasons.
    train_seasons: list[str] = field(default_factory=list)
    window_seasons: int = 3
    val_fraction: float = 0.2  # the last 20% of training DATES validate (temporal split)
    batch_games: int = 32  # games per training batch (two samples each: pregame + a random cut)
    num_workers: int = 0  # DataLoader worker processes for the training loader

    def __post_init__(self) -> None:
        self.train_seasons = list(self.train_seasons)
        if len(set(self.train_seasons)) != len(self.train_seasons):
            raise ValueError(f"train_seasons must be distinct, got {self.train_seasons}")
        if self.window_seasons < 1:
            raise ValueError(f"window_seasons must be >= 1, got {self.window_seasons}")
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        if self.batch_games < 1:
            raise ValueError(f"batch_games must be >= 1, got {self.batch_games}")


@dataclass
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    optim: TrainConfig = field(default_factory=TrainConfig)
    model: ForecasterConfig = field(default_factory=ForecasterConfig)
    torch_threads: int = 0  # CPU intra-op threads for the run; 0 keeps torch's default

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def hyperparameters(self) -> dict[str, Any]:
        """What the registry records as hyperparameters (the architecture goes to model_config)."""
        return {"data": asdict(self.data), "optim": self.optim.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        """A (possibly partial) nested mapping: absent keys keep their defaults, unknown keys fail."""
        return build_dataclass(cls, data)


def build_dataclass(cls: type[T], data: Mapping[str, Any]) -> T:
    """``cls(**data)`` with nested mappings built into the nested dataclasses of ``cls``; an unknown
    key raises naming it (a typo must not silently fall back to a default)."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown settings {unknown}; known: {sorted(names)}")
    hints = typing.get_type_hints(cls)
    kwargs = {
        k: build_dataclass(hints[k], v) if is_dataclass(hints[k]) and isinstance(v, Mapping) else v
        for k, v in data.items()
    }
    return cls(**kwargs)
