"""Home/away swap of a ModelBatch: the same game seen with the two teams exchanged.

Used to check that the model is not blind to sides (a model that cannot tell which team acted
cannot tell who is winning): a swapped batch
must move the win probability the other way. What "exchanging the teams" means for each input is
owned by the features package, so the permutations come from there:

- tokens: ``features.tokenizer.SWAP_SIDES`` (home-side tokens <-> away-side tokens);
- score differential: negated (home minus away);
- lineup dims: ``features.tokenizer.LINEUP_SWAP_PERM``;
- in-game state dims: ``features.in_game_state.STATE_SWAP_PERM``;
- graph: node ``side`` 0 <-> 1 (edge types are unchanged: teammates stay teammates);
- context: a permutation and a sign per dimension (home block <-> away block, differentials
  negated), from ``features.context`` (``CONTEXT_SWAP_PERM`` / ``CONTEXT_SWAP_SIGN``) when it
  provides them, or given explicitly;
- labels: win -> 1 - win, margin -> -margin (in points, re-standardized), total unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from nba_pipeline.models.batch import ModelBatch
from nba_pipeline.models.norm import TargetNorm


@dataclass(frozen=True)
class SideSwap:
    """Index maps (``new = old[..., perm]`` / ``new_token = token_perm[token]``) and context signs."""

    token_perm: torch.Tensor  # int64 [vocab]
    lineup_perm: torch.Tensor  # int64 [20]
    state_perm: torch.Tensor  # int64 [6]
    context_perm: torch.Tensor  # int64 [context dims]
    context_sign: torch.Tensor  # float32 [context dims], -1 for home-minus-away quantities

    def __post_init__(self) -> None:
        for name in ("token_perm", "lineup_perm", "state_perm", "context_perm"):
            perm = getattr(self, name)
            if not torch.equal(torch.sort(perm).values, torch.arange(len(perm))):
                raise ValueError(f"SideSwap.{name} is not a permutation of 0..{len(perm) - 1}")
            if not torch.equal(perm[perm], torch.arange(len(perm))):
                raise ValueError(f"SideSwap.{name} is not its own inverse (swapping twice must be identity)")
        if self.context_sign.shape != self.context_perm.shape:
            raise ValueError("SideSwap.context_sign must have one entry per context dimension")

    @classmethod
    def from_arrays(
        cls,
        token_perm: np.ndarray | torch.Tensor,
        lineup_perm: np.ndarray | torch.Tensor,
        state_perm: np.ndarray | torch.Tensor,
        context_perm: np.ndarray | torch.Tensor,
        context_sign: np.ndarray | torch.Tensor,
    ) -> SideSwap:
        return cls(
            token_perm=torch.as_tensor(np.asarray(token_perm), dtype=torch.long),
            lineup_perm=torch.as_tensor(np.asarray(lineup_perm), dtype=torch.long),
            state_perm=torch.as_tensor(np.asarray(state_perm), dtype=torch.long),
            context_perm=torch.as_tensor(np.asarray(context_perm), dtype=torch.long),
            context_sign=torch.as_tensor(np.asarray(context_sign), dtype=torch.float32),
        )

    @classmethod
    def from_features(cls) -> SideSwap:
        """The swap defined by the features package (tokenizer vocabulary and context order)."""
        from nba_pipeline.features import context, in_game_state, tokenizer

        missing = [n for n in ("CONTEXT_SWAP_PERM", "CONTEXT_SWAP_SIGN") if not hasattr(context, n)]
        if missing:
            raise AttributeError(f"nba_pipeline.features.context does not define {missing}")
        return cls.from_arrays(
            tokenizer.SWAP_SIDES,
            tokenizer.LINEUP_SWAP_PERM,
            in_game_state.STATE_SWAP_PERM,
            context.CONTEXT_SWAP_PERM,
            context.CONTEXT_SWAP_SIGN,
        )


def halves_swap(dim: int) -> np.ndarray:
    """Permutation exchanging the first and second half of ``dim`` entries."""
    if dim % 2:
        raise ValueError(f"cannot split {dim} dims into halves")
    h = dim // 2
    return np.r_[h:dim, 0:h]


def mirror_inputs(batch: ModelBatch, swap: SideSwap) -> ModelBatch:
    """The batch with home and away exchanged in every INPUT; labels are left as they are (the
    side-symmetric forecaster reads its inputs from both sides)."""
    dev = batch.tokens.device
    graph = batch.graph.clone()
    graph.side = 1 - graph.side
    return ModelBatch(
        tokens=swap.token_perm.to(dev)[batch.tokens],
        time_left=batch.time_left,
        score_diff=-batch.score_diff,
        score_total=batch.score_total,
        lineup=batch.lineup[..., swap.lineup_perm.to(dev)],
        state=batch.state[..., swap.state_perm.to(dev)],
        mask=batch.mask,
        graph=graph,
        context=batch.context[..., swap.context_perm.to(dev)] * swap.context_sign.to(dev),
        win=batch.win,
        margin=batch.margin,
        total=batch.total,
        checkpoint=batch.checkpoint,
        game_index=batch.game_index,
    )


def swap_sides(batch: ModelBatch, swap: SideSwap, norm: TargetNorm) -> ModelBatch:
    """The batch with home and away exchanged in every input and label (module docstring)."""
    mirrored = mirror_inputs(batch, swap)
    margin_points = norm.to_points("margin", batch.margin)
    mirrored.win = 1.0 - batch.win
    mirrored.margin = norm.to_z("margin", -margin_points)
    return mirrored
