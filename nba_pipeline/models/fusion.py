"""TwoTowerFusion: static context tower + dynamic (sequence, graph) tower -> three forecasts.

Shapes: context tower 32 -> 256 -> 256, dynamic tower 256 -> 256 -> 256, fusion
512 -> 256 -> 128, then linear heads. Heads return the win *logit* (the sigmoid is applied in
the loss and in ``NBAForecaster.predict``, which is numerically safer) and margin/total in
standardized units (z-scores with the training normalization statistics).
"""

from __future__ import annotations

import torch
from torch import nn

from nba_pipeline.models.config import FusionConfig
from nba_pipeline.models.game_state import GameStateHead


def _mlp(sizes: list[int], dropout: float) -> nn.Sequential:
    """Linear -> ReLU -> Dropout for every layer (the towers end activated, as the spec draws them)."""
    layers: list[nn.Module] = []
    for d_in, d_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(d_in, d_out), nn.ReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)


class TwoTowerFusion(nn.Module):
    """(context [B, 32], seq_repr [B, 128], graph_repr [B, 128]) -> dict of [B] tensors."""

    def __init__(self, cfg: FusionConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.context_tower = _mlp([cfg.context_dim, cfg.tower_dim, cfg.tower_dim], cfg.dropout)
        self.dynamic_tower = _mlp([cfg.seq_dim + cfg.graph_dim, cfg.tower_dim, cfg.tower_dim], cfg.dropout)
        self.fusion = _mlp([2 * cfg.tower_dim, cfg.fusion_hidden, cfg.fusion_out], cfg.dropout)
        self.win_head = nn.Linear(cfg.fusion_out, 1)
        self.margin_head = nn.Linear(cfg.fusion_out, 1)
        self.total_head = nn.Linear(cfg.fusion_out, 1)
        # Home advantage: win logit and standardized margin of two equal teams (combine_sides).
        self.side_bias = nn.Parameter(torch.zeros(2))
        # The "wide" part: a linear map from the context features straight to the three heads, so
        # the logistic regression on the same features is one step away (it starts at zero: the
        # deep path alone).
        self.context_skip = nn.Linear(cfg.context_dim, 3)
        nn.init.zeros_(self.context_skip.weight)
        nn.init.zeros_(self.context_skip.bias)
        # Applied by the forecaster after combine_sides, where the score and clock are known; it
        # lives here so that the fusion's weights file carries it.
        self.state_head = GameStateHead()
        # What the line's no-vig logit is multiplied by where a game has a line
        # (models.market_line.pregame_logit_scale), set by training, saved with the weights. At 0
        # (a model not trained) a game with a line is even odds.
        self.register_buffer("line_logit_scale", torch.zeros(()))

    def forward(
        self, context: torch.Tensor, seq_repr: torch.Tensor, graph_repr: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        if context.shape[-1] != self.cfg.context_dim:
            raise ValueError(f"context has {context.shape[-1]} features, expected {self.cfg.context_dim}")
        if not (context.shape[0] == seq_repr.shape[0] == graph_repr.shape[0]):
            raise ValueError(
                f"batch sizes differ: context {context.shape[0]}, sequence {seq_repr.shape[0]}, "
                f"graph {graph_repr.shape[0]}"
            )
        return self.from_context_repr(self.encode_context(context), seq_repr, graph_repr)

    def encode_context(self, context: torch.Tensor) -> torch.Tensor:
        """What the heads need of the context: the tower's output [B, tower_dim], followed by the
        skip's three head terms ([B, tower_dim + 3])."""
        return torch.cat([self.context_tower(context), self.context_skip(context)], dim=-1)

    def from_context_repr(
        self, context_repr: torch.Tensor, seq_repr: torch.Tensor, graph_repr: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """The heads after ``encode_context``: lets a caller encode the context once per game (it
        depends on nothing else) and reuse it for every cut of the game."""
        tower, skip = context_repr[:, : self.cfg.tower_dim], context_repr[:, self.cfg.tower_dim :]
        b = self.dynamic_tower(torch.cat([seq_repr, graph_repr], dim=-1))
        z = self.fusion(torch.cat([tower, b], dim=-1))
        out = {
            "win_logit": self.win_head(z).squeeze(-1),
            "margin": self.margin_head(z).squeeze(-1),
            "total": self.total_head(z).squeeze(-1),
        }
        return {k: v + skip[:, i] for i, (k, v) in enumerate(out.items())}

    def combine_sides(
        self,
        out: dict[str, torch.Tensor],
        mirrored: dict[str, torch.Tensor],
        home: torch.Tensor | float = 1.0,
    ) -> dict[str, torch.Tensor]:
        """Heads that are exactly side-equivariant: ``out`` is computed on the batch, ``mirrored`` on
        the same batch with home and away exchanged. The team part of the win logit and of the
        margin is antisymmetric (swapping the teams negates it), the total is symmetric, and a
        learned home advantage is added; so a favourite whose edge exceeds home court becomes an
        underdog when the teams exchange places. ``home``: 1 where the home team is at home, 0 at
        a neutral site, where no home advantage applies ([B] or a scalar): neither the learned one
        nor the training mean margin (the game-state head holds the target norm)."""
        mean_z = self.state_head.margin_mean / self.state_head.margin_std
        return {
            "win_logit": (out["win_logit"] - mirrored["win_logit"]) / 2 + self.side_bias[0] * home,
            "margin": (out["margin"] - mirrored["margin"]) / 2
            + self.side_bias[1] * home
            - (1 - home) * mean_z,
            "total": (out["total"] + mirrored["total"]) / 2,
        }
