"""The architecture's settings, one dataclass per module (nanoGPT style), in a module without torch
so the Dagster definitions can mirror them as run config without importing torch.

``ForecasterConfig`` is the ``model`` section of a training run's config
(``training.config.RunConfig``) and is stored with every registry version as ``model_config``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class TransformerConfig:
    """Sizes of the sequence encoder. ``vocab_size`` comes from the tokenizer."""

    vocab_size: int = 45  # features.tokenizer.VOCAB_SIZE (checked by a test)
    d_model: int = 128
    n_heads: int = 4
    n_layers: int = 2
    # Feed-forward width 1x d_model keeps the encoder near its ~200K parameters (SPEC_PARAMETERS); the
    # PyTorch default (2048) would make it ~1.1M.
    ff_dim: int = 128
    max_events: int = 50
    lineup_dim: int = 20
    dropout: float = 0.1
    pad_id: int = 0

    @property
    def max_len(self) -> int:
        """Positions including CLS."""
        return self.max_events + 1


@dataclass
class GNNConfig:
    """Sizes of the graph encoder. Hidden/output widths are totals over heads."""

    node_dim: int = 16
    hidden_dim: int = 64
    out_dim: int = 128
    heads: int = 4
    n_layers: int = 2
    dropout: float = 0.1
    n_edge_types: int = 2
    edge_type_dim: int = 8
    use_edge_weight: bool = True
    players_per_side: int = 5


@dataclass
class FusionConfig:
    """Sizes of the fusion. Its parts are fixed (``models.fusion``): side-symmetric heads, the
    context skip, the game-state head and the market's line where a game has one."""

    # The towers' context features: the specification's 32, then the strength of the players
    # available and the neutral-site flag (features.context.TOWER_CONTEXT_DIM, checked by a test).
    context_dim: int = 38
    seq_dim: int = 128
    graph_dim: int = 128
    tower_dim: int = 256
    fusion_hidden: int = 256
    fusion_out: int = 128
    dropout: float = 0.1


@dataclass
class ForecasterConfig:
    transformer: TransformerConfig = field(default_factory=TransformerConfig)
    gnn: GNNConfig = field(default_factory=GNNConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, dict[str, Any]]) -> ForecasterConfig:
        """A stored ``model_config`` (a version saved in an older registry format, with settings
        this code no longer has, is refused before it gets here: ``registry.layout``)."""
        return cls(
            transformer=TransformerConfig(**data["transformer"]),
            gnn=GNNConfig(**data["gnn"]),
            fusion=FusionConfig(**data["fusion"]),
        )
