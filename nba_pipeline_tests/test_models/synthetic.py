"""Synthetic ModelBatches for model and trainer tests (shapes and contracts of models/batch.py).

Inputs are random, but the labels of ``make_samples`` follow a side-aware rule (home strength
minus away strength from the context halves, the score at the cut and the graph's home/away node
features), so a model can learn them and a home/away swap flips them.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset
from torch_geometric.data import Batch, Data

from nba_pipeline.features.context import CONTEXT_DIM
from nba_pipeline.models.batch import CHECKPOINTS, ModelBatch
from nba_pipeline.models.forecaster import ForecasterConfig, NBAForecaster
from nba_pipeline.models.fusion import FusionConfig
from nba_pipeline.models.gnn import GNNConfig
from nba_pipeline.models.norm import TargetNorm
from nba_pipeline.models.swap import SideSwap, halves_swap
from nba_pipeline.models.transformer import TransformerConfig

VOCAB = 45
L = 51
NORM = TargetNorm(margin_mean=2.0, margin_std=14.0, total_mean=228.0, total_std=20.0)


def tiny_config() -> ForecasterConfig:
    """Small widths for fast CPU tests that are not about the specification's sizes."""
    return ForecasterConfig(
        transformer=TransformerConfig(vocab_size=VOCAB, d_model=16, n_heads=2, n_layers=1, ff_dim=16),
        gnn=GNNConfig(hidden_dim=16, out_dim=16, heads=2, edge_type_dim=4),
        fusion=FusionConfig(seq_dim=16, graph_dim=16, tower_dim=32, fusion_hidden=32, fusion_out=16),
    )


def tiny_model(cfg: ForecasterConfig | None = None) -> NBAForecaster:
    """A forecaster of ``cfg`` (default :func:`tiny_config`) that mirrors home and away in the
    synthetic layout (:func:`synthetic_swap`: the context in halves, home 0-15, away 16-31, no line)
    rather than in the features package's order."""
    return NBAForecaster(cfg or tiny_config(), swap=synthetic_swap())


def synthetic_swap() -> SideSwap:
    """Token swap of the tokenizer layout (3 + 3*type + side), lineup and context halves."""
    token_perm = np.arange(VOCAB)
    for base in range(3, VOCAB, 3):
        token_perm[base + 1], token_perm[base + 2] = base + 2, base + 1
    lineup_perm = np.r_[5:10, 0:5, 15:20, 10:15]
    state_perm = np.array([1, 0, 3, 2, 5, 4])
    # dims 32 on (strength, neutral flag and line in the features package) stay 0 here
    context_perm = np.r_[halves_swap(32), 32:CONTEXT_DIM]
    return SideSwap.from_arrays(token_perm, lineup_perm, state_perm, context_perm, np.ones(CONTEXT_DIM))


def lineup_graph(
    n_home: int = 5, n_away: int = 5, x: torch.Tensor | None = None, cross: str = "positional"
) -> Data:
    """Lineup graph as in docs/architecture.md: teammate edges fully connected within a side
    (both directions), opponent edges by position (slot i <-> slot i) or all cross pairs."""
    n = n_home + n_away
    side = torch.tensor([0] * n_home + [1] * n_away, dtype=torch.long)
    home = torch.arange(n_home)
    away = torch.arange(n_home, n)
    pairs = []
    for members in (home, away):
        a, b = torch.meshgrid(members, members, indexing="ij")
        keep = a != b
        pairs.append(torch.stack([a[keep], b[keep]]))
    team = torch.cat(pairs, dim=1) if pairs else torch.zeros(2, 0, dtype=torch.long)
    if cross == "positional":
        k = min(n_home, n_away)
        opp = torch.stack([home[:k], away[:k]])
    elif cross == "full":
        a, b = torch.meshgrid(home, away, indexing="ij")
        opp = torch.stack([a.reshape(-1), b.reshape(-1)])
    else:
        raise ValueError(cross)
    opp = torch.cat([opp, opp.flip(0)], dim=1)
    edge_index = torch.cat([team, opp], dim=1)
    edge_type = torch.cat([torch.zeros(team.shape[1]), torch.ones(opp.shape[1])]).long()
    if x is None:
        x = torch.randn(n, 16)
    return Data(
        x=x,
        edge_index=edge_index,
        edge_type=edge_type,
        edge_weight=torch.ones(edge_index.shape[1]),
        side=side,
        num_nodes=n,
    )


def make_samples(n: int, seed: int = 0, noise: float = 0.3) -> list[dict]:
    """``n`` samples with random inputs and learnable, side-antisymmetric labels."""
    g = torch.Generator().manual_seed(seed)
    g_state = torch.Generator().manual_seed(seed + 10_000)  # apart, so the other inputs keep their draws
    samples = []
    for i in range(n):
        n_events = int(torch.randint(0, 51, (1,), generator=g))
        mask = torch.zeros(L, dtype=torch.bool)
        mask[: 1 + n_events] = True
        tokens = torch.randint(3, VOCAB, (L,), generator=g)
        tokens[0] = 1
        tokens[~mask] = 0
        time_left = torch.rand(L, generator=g) * mask
        score = torch.randn(L, generator=g) * mask
        lineup = (torch.rand(L, 20, generator=g) < 0.1).float() * mask[:, None]
        context = torch.cat([torch.randn(32, generator=g), torch.zeros(CONTEXT_DIM - 32)])
        x = torch.randn(10, 16, generator=g)
        strength = (
            (context[0] - context[16])
            + score[0]
            + (x[:5, 2].mean() - x[5:, 2].mean())
            + noise * torch.randn((), generator=g)
        )
        margin_z = 0.8 * strength
        total_z = 0.7 * (context[1] + context[17])
        samples.append(
            {
                "tokens": tokens,
                "time_left": time_left,
                "score_diff": score,
                "score_total": 2.0 * (1.0 - time_left) * mask,  # points accumulate as time runs out
                "lineup": lineup,
                "state": torch.rand(L, 6, generator=g_state) * mask[:, None],
                "mask": mask,
                "graph": lineup_graph(5, 5, x),
                "context": context,
                "win": (strength > 0).float(),
                "margin": margin_z,
                "total": total_z,
                "checkpoint": torch.tensor(i % len(CHECKPOINTS)),
                "game_index": torch.tensor(i),
            }
        )
    return samples


class SampleList(Dataset):
    def __init__(self, samples: list[dict]) -> None:
        self.samples = samples

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> dict:
        return self.samples[i]


def collate(samples: list[dict]) -> ModelBatch:
    stack = {k: torch.stack([s[k] for s in samples]) for k in samples[0] if k != "graph"}
    return ModelBatch(graph=Batch.from_data_list([s["graph"] for s in samples]), **stack)


def make_batch(n: int = 4, seed: int = 0) -> ModelBatch:
    return collate(make_samples(n, seed))
