"""NBAForecaster: GameFlowTransformer + PlayerInteractionGNN + TwoTowerFusion on one ModelBatch.

With ``fusion.side_symmetric`` (the default) the three modules run twice, on the batch and on its
home/away mirror, and the fusion's ``combine_sides`` makes the forecast exactly side-equivariant:
a model that only learned "home teams win" could otherwise keep a strong favourite favoured after
the teams exchange places. This doubles the compute of a forward pass.
"""

from __future__ import annotations

import torch
from torch import nn

from nba_pipeline.models.batch import ModelBatch
from nba_pipeline.models.config import ForecasterConfig
from nba_pipeline.models.fusion import TwoTowerFusion
from nba_pipeline.models.gnn import PlayerInteractionGNN
from nba_pipeline.models.norm import TargetNorm
from nba_pipeline.models.swap import SideSwap, mirror_inputs
from nba_pipeline.models.transformer import GameFlowTransformer

# The specification's table of approximate parameter counts (phase4-model-training.md).
SPEC_PARAMETERS = {"transformer": 200_000, "gnn": 100_000, "fusion": 150_000, "total": 450_000}


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class NBAForecaster(nn.Module):
    """ModelBatch -> dict(win_logit, margin, total), each [B]; regression outputs standardized."""

    def __init__(self, cfg: ForecasterConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or ForecasterConfig()
        if cfg.fusion.seq_dim != cfg.transformer.d_model or cfg.fusion.graph_dim != cfg.gnn.out_dim:
            raise ValueError(
                f"fusion expects seq_dim={cfg.fusion.seq_dim}, graph_dim={cfg.fusion.graph_dim} but the "
                f"transformer gives {cfg.transformer.d_model} and the GNN {cfg.gnn.out_dim}"
            )
        self.cfg = cfg
        self.transformer = GameFlowTransformer(cfg.transformer)
        self.gnn = PlayerInteractionGNN(cfg.gnn)
        self.fusion = TwoTowerFusion(cfg.fusion)
        self._swap: SideSwap | None = None  # the features package's home/away maps, built on first use

    def forward(self, batch: ModelBatch) -> dict[str, torch.Tensor]:
        out = self._one_side(batch)
        if not self.cfg.fusion.side_symmetric:
            return out
        return self.fusion.combine_sides(out, self._one_side(mirror_inputs(batch, self._side_swap())))

    def _side_swap(self) -> SideSwap:
        if self._swap is None:
            self._swap = SideSwap.from_features()
        return self._swap

    def _one_side(self, batch: ModelBatch) -> dict[str, torch.Tensor]:
        seq = self.transformer(
            batch.tokens, batch.time_left, batch.score_diff, batch.lineup, batch.mask, batch.score_total
        )
        g = batch.graph
        n_samples = len(batch)
        if g.num_graphs != n_samples:
            raise ValueError(f"batch has {n_samples} samples but {g.num_graphs} graphs")
        graph = self.gnn(
            g.x,
            g.edge_index,
            g.side,
            g.batch,
            edge_weight=getattr(g, "edge_weight", None),
            edge_type=getattr(g, "edge_type", None),
            num_graphs=n_samples,
        )
        return self.fusion(batch.context, seq, graph)

    @torch.no_grad()
    def predict(self, batch: ModelBatch, norm: TargetNorm) -> dict[str, torch.Tensor]:
        """Home win probability and margin/total in points, in eval mode (restores the mode after)."""
        was_training = self.training
        self.eval()
        try:
            out = self(batch)
        finally:
            self.train(was_training)
        return {
            "win_prob": torch.sigmoid(out["win_logit"]),
            "margin": norm.to_points("margin", out["margin"]),
            "total": norm.to_points("total", out["total"]),
        }

    def parameter_counts(self) -> dict[str, int]:
        counts = {
            "transformer": count_parameters(self.transformer),
            "gnn": count_parameters(self.gnn),
            "fusion": count_parameters(self.fusion),
        }
        counts["total"] = sum(counts.values())
        return counts


def parameter_table(model: NBAForecaster) -> str:
    """Readable comparison of the actual parameter counts with the specification's table."""
    rows = [f"{'component':<12}{'actual':>10}{'spec':>10}{'ratio':>8}"]
    for name, actual in model.parameter_counts().items():
        spec = SPEC_PARAMETERS[name]
        rows.append(f"{name:<12}{actual:>10,}{spec:>10,}{actual / spec:>8.2f}")
    return "\n".join(rows)


if __name__ == "__main__":
    print(parameter_table(NBAForecaster()))
