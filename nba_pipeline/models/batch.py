"""The one structure that crosses from data to model: a batch of (game, cut) samples.

``features`` / ``models.dataset`` produce it, ``models.forecaster`` and ``models.trainer`` consume
it. Sequences have length ``1 + max_events`` (51): position 0 is the CLS token, positions 1.. hold
the most recent events before the cut in time order, then padding.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch

# Bump when the meaning of a ModelBatch input changes: a model saved with another format would be
# fed inputs it was not trained on. 2: score_total is points above the training pace / 20.
# 3: the pace restarts with the overtime clock (time_left), so the head can end on the exact total.
# 4: the context holds the strength of the players available before the line (features.context).
# 5: a flagged hull keeps the table's imputed mean (features.context), not 500 sq ft.
INPUT_FORMAT = 5


def check_input_format(preprocessing: dict, where: str) -> None:
    """Refuse a stored model whose inputs were built differently from this code's."""
    found = preprocessing.get("input_format")
    if found != INPUT_FORMAT:
        raise ValueError(
            f"{where}: the model was trained on input format {found}, this code builds format "
            f"{INPUT_FORMAT}; retrain it (materialize trained_model) before using it"
        )


# Evaluation checkpoints: fixed moments of every game, so that models and baselines are scored on the
# same cuts; RANDOM marks a training cut drawn anywhere in the game.
CHECKPOINTS = ("pregame", "end_q1", "halftime", "end_q3", "q4_5min", "random")
CHECKPOINT_CODE = {name: i for i, name in enumerate(CHECKPOINTS)}


@dataclass
class ModelBatch:
    tokens: torch.Tensor  # int64 [B, L]   vocabulary ids (0 PAD, 1 CLS, 2 UNK, then event-type x side)
    time_left: torch.Tensor  # float32 [B, L] game time remaining, normalized to [0, 1]
    score_diff: torch.Tensor  # float32 [B, L] home minus away score, divided by the season std
    score_total: torch.Tensor  # float32 [B, L] points of both teams above the training pace, / 20
    lineup: torch.Tensor  # float32 [B, L, 20] per-event lineup participation (see features.tokenizer)
    state: torch.Tensor  # float32 [B, L, 6] in-game state after each event (features.in_game_state)
    mask: torch.Tensor  # bool [B, L]     True where the position is a real token (CLS always True)
    graph: object  # torch_geometric.data.Batch: x [N,16], edge_index, edge_type, edge_weight, side [N], batch
    context: torch.Tensor  # float32 [B, 36]  static context: 32 features + the market line (features.context)
    win: torch.Tensor  # float32 [B]      1.0 if the home team won
    margin: torch.Tensor  # float32 [B]   final home margin, standardized (z) with the training norm stats
    total: torch.Tensor  # float32 [B]    final total points, standardized (z)
    checkpoint: torch.Tensor  # int64 [B] code into CHECKPOINTS
    game_index: torch.Tensor  # int64 [B] index of the game in its dataset

    def to(self, device: torch.device | str) -> ModelBatch:
        moved = {f.name: getattr(self, f.name).to(device) for f in fields(self)}
        return ModelBatch(**moved)

    def __len__(self) -> int:
        return int(self.tokens.shape[0])
