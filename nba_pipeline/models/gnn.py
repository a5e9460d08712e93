"""PlayerInteractionGNN: two GATv2 layers over the on-court players, side-aware readout.

Why side-aware: a mean or max over all ten nodes is symmetric in the two teams, so the graph
vector could not say which side is stronger. Home and away nodes are
pooled separately (mean and max per side), the per-side node counts are appended (partial
lineups and an empty side stay distinguishable from zero features), and an MLP projects to 128.

Edges carry their type (0 teammate, 1 opponent) as a learned embedding plus the chemistry
weight as an edge attribute, so attention can treat teammates and opponents differently.
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import GATv2Conv, global_max_pool, global_mean_pool

from nba_pipeline.models.config import GNNConfig

TEAMMATE, OPPONENT = 0, 1


class PlayerInteractionGNN(nn.Module):
    """Lineup graphs -> [G, out_dim]; home (side 0) and away (side 1) nodes pooled separately."""

    def __init__(self, cfg: GNNConfig) -> None:
        super().__init__()
        if cfg.n_layers < 1:
            raise ValueError(f"n_layers must be >= 1, got {cfg.n_layers}")
        for width in (cfg.hidden_dim, cfg.out_dim):
            if width % cfg.heads:
                raise ValueError(f"width {width} is not divisible by heads={cfg.heads}")
        self.cfg = cfg
        self.edge_type_emb = nn.Embedding(cfg.n_edge_types, cfg.edge_type_dim)
        edge_dim = cfg.edge_type_dim + (1 if cfg.use_edge_weight else 0)
        widths = [cfg.node_dim] + [cfg.hidden_dim] * (cfg.n_layers - 1) + [cfg.out_dim]
        self.convs = nn.ModuleList(
            GATv2Conv(
                w_in,
                w_out // cfg.heads,
                heads=cfg.heads,
                concat=True,
                dropout=cfg.dropout,
                edge_dim=edge_dim,
                add_self_loops=True,
            )
            for w_in, w_out in zip(widths[:-1], widths[1:], strict=True)
        )
        self.dropout = nn.Dropout(cfg.dropout)
        self.act = nn.ELU()
        # Readout input: (mean, max) x (home, away) x out_dim, plus the two per-side node counts.
        self.readout = nn.Sequential(
            nn.Linear(4 * cfg.out_dim + 2, cfg.out_dim),
            nn.ReLU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.out_dim, cfg.out_dim),
        )

    def forward(
        self,
        x: torch.Tensor,
        edge_index: torch.Tensor,
        side: torch.Tensor,
        batch: torch.Tensor | None = None,
        edge_weight: torch.Tensor | None = None,
        edge_type: torch.Tensor | None = None,
        num_graphs: int | None = None,
    ) -> torch.Tensor:
        """x [N, node_dim], edge_index [2, E], side [N] (0 home, 1 away), batch [N] graph ids.

        ``edge_type`` defaults to what the sides imply (teammate when both ends share a side);
        ``edge_weight`` defaults to 1.0 (chemistry off); ``num_graphs`` defaults to max(batch)+1
        and must be given when trailing graphs may have no nodes at all.
        """
        n_nodes = x.shape[0]
        if x.shape[-1] != self.cfg.node_dim:
            raise ValueError(f"x has {x.shape[-1]} features per node, expected {self.cfg.node_dim}")
        if side.shape != (n_nodes,):
            raise ValueError(f"side has shape {tuple(side.shape)}, expected ({n_nodes},)")
        if batch is None:
            batch = torch.zeros(n_nodes, dtype=torch.long, device=x.device)
        if num_graphs is None:
            num_graphs = int(batch.max()) + 1 if n_nodes else 1
        side = side.long()
        if n_nodes and not bool(((side == 0) | (side == 1)).all()):
            raise ValueError(f"side must be 0 (home) or 1 (away); got values {side.unique().tolist()}")
        if edge_type is None:
            edge_type = (side[edge_index[0]] != side[edge_index[1]]).long()
        edge_attr = self.edge_type_emb(edge_type.long())
        if self.cfg.use_edge_weight:
            if edge_weight is None:
                edge_weight = torch.ones(edge_index.shape[1], dtype=x.dtype, device=x.device)
            edge_attr = torch.cat([edge_attr, edge_weight.to(x.dtype)[:, None]], dim=-1)

        h = x
        for i, conv in enumerate(self.convs):
            h = self.dropout(h)
            h = conv(h, edge_index, edge_attr=edge_attr)
            if i < len(self.convs) - 1:
                h = self.act(h)

        # Side-aware pooling: group g*2 + side, so each graph has a home and an away slot.
        group = batch * 2 + side
        size = 2 * num_graphs
        mean = global_mean_pool(h, group, size=size).view(num_graphs, 2 * self.cfg.out_dim)
        mx = global_max_pool(h, group, size=size).view(num_graphs, 2 * self.cfg.out_dim)  # empty -> 0
        counts = torch.bincount(group, minlength=size).to(h.dtype).view(num_graphs, 2)
        counts = counts / self.cfg.players_per_side
        return self.readout(torch.cat([mean, mx, counts], dim=-1))
