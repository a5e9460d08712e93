"""Fit the market line's blend (``models.market_line``) on held-out games, after training.

During training the blend learns on the training games, where the towers' forecasts are in-sample:
they fit those games better than they will fit games to come, so a blend learned there leans on the
towers too much and ends a little worse than the line alone on new games. The blend has eight
scalars and the towers are fixed by then, so it is refitted here, the way the temperature is, on
the validation games that selected the epoch (never the judged games, never a test season): the
training loss through the game-state head, over every checkpoint of those games, with the pregame
cut weighing as much as the in-game ones together, as in training (one pregame and one in-game cut
per game). The problem is convex in the scalars (a logistic and a Huber regression on linear
terms), so L-BFGS from any start finds the same blend.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from nba_pipeline.models.batch import CHECKPOINT_CODE
from nba_pipeline.models.forecaster import NBAForecaster
from nba_pipeline.models.market_line import HAS_LINE
from nba_pipeline.training.config import LossWeights
from nba_pipeline.training.dataset import NBADataset
from nba_pipeline.training.loss import per_sample_loss
from nba_pipeline.training.predict import full_game_parts

MIN_GAMES = 50  # fewer games with a line than this: keep the blend training gave


def fit_line_blend(
    model: NBAForecaster, dataset: NBADataset, weights: LossWeights | None = None
) -> dict[str, Any]:
    """Refit ``model``'s blend scalars in place on ``dataset``'s games with a line (eval mode: the
    checkpoints of each game); returns what was done, for the release's metadata."""
    if not model.cfg.fusion.market_line:
        return {"fitted": False, "note": "the model reads no line"}
    idx = np.arange(len(dataset))
    g, cut, code = dataset.cuts_of(idx)
    towers, line, state = full_game_parts(model, dataset, g, cut)
    has = (line[:, HAS_LINE] > 0.5).numpy()
    games = int(len(np.unique(g[has])))
    if games < MIN_GAMES:
        return {"fitted": False, "note": f"{games} games with a line, fewer than {MIN_GAMES}"}
    batch = dataset.targets(g[has])
    pregame = code[has] == CHECKPOINT_CODE["pregame"]
    # each game's pregame cut weighs as much as its in-game cuts together
    w = np.where(pregame, (~pregame).sum() / max(1, pregame.sum()), 1.0)
    w = torch.from_numpy(w / w.sum()).float()
    sel = torch.from_numpy(has)
    towers = {k: v[sel] for k, v in towers.items()}
    line, state = line[sel], tuple(t[sel] for t in state)
    blend = model.fusion.market_line
    params = list(blend.parameters())

    def loss() -> torch.Tensor:
        return (per_sample_loss(model.finish(towers, line, state), batch, weights) * w).sum()

    with torch.no_grad():
        before = float(loss())
    opt = torch.optim.LBFGS(params, lr=1.0, max_iter=200, tolerance_grad=1e-9, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        value = loss()
        value.backward()
        return value

    opt.step(closure)
    with torch.no_grad():
        after = float(loss())
    return {
        "fitted": True,
        "games": games,
        "samples": int(has.sum()),
        "loss_before": before,
        "loss_after": after,
        "scalars": {k: v.item() for k, v in blend.w.items()},
    }
