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
    context_dim: int = 32  # the towers' context features (the specification's 32)
    seq_dim: int = 128
    graph_dim: int = 128
    tower_dim: int = 256
    fusion_hidden: int = 256
    fusion_out: int = 128
    dropout: float = 0.1
    # Side-symmetric heads (see combine_sides): the forecaster runs the towers on the batch and on
    # its home/away mirror; a learned home advantage is the only asymmetric part.
    side_symmetric: bool = True
    # A linear map from the context features to the three heads beside the towers (fusion.py).
    context_skip: bool = True
    # Heads shaped by the score and clock at the cut (models.game_state).
    state_head: bool = True
    # The state head's lead weight has a part that does not grow as time runs out (game_state.py).
    state_lead_flat: bool = True
    # The market's line (the context dims after context_dim) as the full-game outputs where a game
    # has one (models.market_line, training.line_blend).
    market_line: bool = True


# Settings added after models were released: a stored model_config without them was trained
# without them (ForecasterConfig.from_dict fills these in, not the defaults).
ABSENT_MEANS = {
    "fusion": {"context_skip": False, "state_head": False, "state_lead_flat": False, "market_line": False},
}


@dataclass
class ForecasterConfig:
    transformer: TransformerConfig = field(default_factory=TransformerConfig)
    gnn: GNNConfig = field(default_factory=GNNConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, dict[str, Any]]) -> ForecasterConfig:
        transformer = dict(data["transformer"])
        # Removed setting: a stored 0 (the in-game state not read) is what this code does; any
        # other value was trained on an input this code no longer has, and is refused below.
        if transformer.get("state_dim") == 0:
            del transformer["state_dim"]
        return cls(
            transformer=TransformerConfig(**transformer),
            gnn=GNNConfig(**data["gnn"]),
            fusion=FusionConfig(**{**ABSENT_MEANS["fusion"], **data["fusion"]}),
        )
