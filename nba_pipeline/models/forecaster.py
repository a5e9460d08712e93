"""NBAForecaster: GameFlowTransformer + PlayerInteractionGNN + TwoTowerFusion on one ModelBatch.

The three modules read the batch and its home/away mirror (stacked, one pass of each module), and
the fusion's ``combine_sides`` makes the forecast exactly side-equivariant: a model that only
learned "home teams win" could otherwise keep a strong favourite favoured after the teams exchange
places. This doubles the compute of a forward pass. Where a game has a market line it replaces the
towers' full-game forecast (``models.market_line``); the game-state head then moves the full-game
forecast with the score, the clock and the ball (``models.game_state``).
"""

from __future__ import annotations

import torch
from torch import nn

from nba_pipeline.features.context import NEUTRAL_DIM
from nba_pipeline.models.batch import ModelBatch
from nba_pipeline.models.config import ForecasterConfig
from nba_pipeline.models.fusion import TwoTowerFusion
from nba_pipeline.models.gnn import PlayerInteractionGNN
from nba_pipeline.models.market_line import HAS_LINE, LINE_WIDTH, pregame_logit_scale, the_line_where_given
from nba_pipeline.models.norm import TargetNorm
from nba_pipeline.models.swap import SideSwap
from nba_pipeline.models.transformer import GameFlowTransformer

# Approximate parameter counts the architecture was sized to (the original specification's table).
SPEC_PARAMETERS = {"transformer": 200_000, "gnn": 100_000, "fusion": 150_000, "total": 450_000}
# Each part of the forward pass runs on the batch and its home/away mirror, stacked: [2B, ...].
N_SIDES = 2


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class NBAForecaster(nn.Module):
    """ModelBatch -> dict(win_logit, margin, total), each [B]; regression outputs standardized."""

    def __init__(self, cfg: ForecasterConfig | None = None, swap: SideSwap | None = None) -> None:
        """``swap``: the home/away maps of the inputs; default the features package's, built on
        first use (tests of synthetic layouts give their own)."""
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
        self._swap = swap

    def set_scales(self, score_diff_std: float, norm: TargetNorm) -> None:
        """The training data's units, which the game-state head needs to end on the score."""
        self.fusion.state_head.set_scales(score_diff_std, norm)

    def set_line_scale(self, temperature: float = 1.0) -> float:
        """Make the pregame forecast of a game with a line the line's own probability after the
        game-state head as it is now and the win ``temperature``; returns the scale set
        (``models.market_line.pregame_logit_scale``). Training sets it before the first epoch, at
        temperature 1, and again once the temperature is chosen (``training.fit``)."""
        tau0 = self.fusion.state_head.scalars()["tau0"].item()
        scale = pregame_logit_scale(tau0, temperature)
        with torch.no_grad():
            self.fusion.line_logit_scale.fill_(scale)
        return scale

    def forward(self, batch: ModelBatch, with_no_line: bool = False) -> dict[str, torch.Tensor]:
        """``with_no_line``: also the outputs as if no game had a line (``<key>_no_line``), which the
        trainer fits on the games with lines so the towers learn every game (models.market_line)."""
        g = batch.graph
        n_samples = len(batch)
        if g.num_graphs != n_samples:
            raise ValueError(f"batch has {n_samples} samples but {g.num_graphs} graphs")
        seq = self.encode_sequence(
            batch.tokens,
            batch.time_left,
            batch.score_diff,
            batch.score_total,
            batch.lineup,
            batch.mask,
        )
        state = cut_state(batch.time_left, batch.score_diff, batch.score_total, batch.state)
        return self.head(
            self.encode_context(batch.context), seq, self.encode_graph(g, n_samples), state, with_no_line
        )

    # The forward pass in parts. Each part returns the batch's rows followed by its home/away
    # mirror's ([2B, ...], both sides in one pass of each module), and ``head`` combines them; the
    # parts let evaluation compute the context tower once per game and the graph encoder once per
    # lineup instead of once per cut (``training.predict``).

    def encode_sequence(
        self,
        tokens: torch.Tensor,
        time_left: torch.Tensor,
        score_diff: torch.Tensor,
        score_total: torch.Tensor,
        lineup: torch.Tensor,
        mask: torch.Tensor,
    ) -> torch.Tensor:
        """The Transformer's summary of each sample's events (``ModelBatch`` fields of the same
        names): [2B, d_model]."""
        sw = self._side_swap()
        tokens = torch.cat([tokens, sw.token_perm.to(tokens.device)[tokens]])
        lineup = torch.cat([lineup, lineup[..., sw.lineup_perm.to(lineup.device)]])
        score_diff = torch.cat([score_diff, -score_diff])
        time_left, score_total, mask = (torch.cat([t, t]) for t in (time_left, score_total, mask))
        return self.transformer(tokens, time_left, score_diff, lineup, mask, score_total)

    def encode_graph(self, g: object, num_graphs: int) -> torch.Tensor:
        """The GNN's summary of each lineup graph (a PyG Batch): [2 * num_graphs, out_dim]; the
        mirror is the same graph with node sides exchanged (teammates stay teammates)."""
        weight, etype = getattr(g, "edge_weight", None), getattr(g, "edge_type", None)
        return self.gnn(
            torch.cat([g.x, g.x]),
            torch.cat([g.edge_index, g.edge_index + g.x.shape[0]], dim=1),
            torch.cat([g.side, 1 - g.side]),
            torch.cat([g.batch, g.batch + num_graphs]),
            edge_weight=None if weight is None else torch.cat([weight, weight]),
            edge_type=None if etype is None else torch.cat([etype, etype]),
            num_graphs=N_SIDES * num_graphs,
        )

    def encode_context(self, context: torch.Tensor) -> torch.Tensor:
        """The fusion's encoding of each game's pregame features: [2B, tower_dim + 3], then the
        neutral-site flag when the towers read it (``features.context.NEUTRAL_DIM``, for
        :meth:`full_game`), then the game's market line (``LINE_WIDTH`` values).

        The towers read the first ``context_dim`` features, the line is the ``LINE_WIDTH`` after
        them. Context features are only ever appended (``features.context``), so a model reads what
        it was trained on from a longer vector."""
        d = self.cfg.fusion.context_dim
        width = d + LINE_WIDTH
        if context.shape[-1] < width:
            raise ValueError(f"context has {context.shape[-1]} features, the model reads {width}")
        context = context[..., :width]
        sw = self._side_swap()
        perm, sign = sw.context_perm[:width], sw.context_sign[:width]
        if int(perm.max()) >= width:
            raise ValueError(f"context features 0-{width - 1} are not closed under the home/away swap")
        dev = context.device
        context = torch.cat([context, context[..., perm.to(dev)] * sign.to(dev)])
        encoded = self.fusion.encode_context(context[..., :d])
        # The neutral-site flag rides along for combine_sides: no home edge where neither is home.
        neutral = context[..., NEUTRAL_DIM : NEUTRAL_DIM + 1] if d > NEUTRAL_DIM else context[..., :0]
        return torch.cat([encoded, neutral, context[..., d:]], dim=-1)

    def head(
        self,
        context_repr: torch.Tensor,
        seq_repr: torch.Tensor,
        graph_repr: torch.Tensor,
        state: tuple[torch.Tensor, ...],
        with_no_line: bool = False,
    ) -> dict[str, torch.Tensor]:
        """Fusion and heads on the three parts (rows aligned): :meth:`full_game`, then
        :meth:`finish`. ``with_no_line``: see :meth:`forward`."""
        return self.finish(*self.full_game(context_repr, seq_repr, graph_repr), state, with_no_line)

    def full_game(
        self, context_repr: torch.Tensor, seq_repr: torch.Tensor, graph_repr: torch.Tensor
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """The towers' full-game outputs ([B] each, both sides combined, no home edge at a neutral
        site) and the game's line ([B, LINE_WIDTH])."""
        context_repr, line = context_repr[:, :-LINE_WIDTH], context_repr[:, -LINE_WIDTH:]
        home = torch.ones(context_repr.shape[0], device=context_repr.device)
        if self.cfg.fusion.context_dim > NEUTRAL_DIM:
            home, context_repr = 1.0 - context_repr[:, -1], context_repr[:, :-1]
        out = self.fusion.from_context_repr(context_repr, seq_repr, graph_repr)
        n = context_repr.shape[0] // N_SIDES
        given, mirrored = ({k: v[part] for k, v in out.items()} for part in (slice(None, n), slice(n, None)))
        return self.fusion.combine_sides(given, mirrored, home[:n]), line[:n]

    def finish(
        self,
        towers: dict[str, torch.Tensor],
        line: torch.Tensor,
        state: tuple[torch.Tensor, ...],
        with_no_line: bool = False,
    ) -> dict[str, torch.Tensor]:
        """The market's line in place of the towers' outputs where there is one, then shaped by
        ``state`` (``cut_state`` of the batch's own side, [B] each) in the game-state head.
        ``with_no_line``: see :meth:`forward`."""
        head = self.fusion.state_head
        full_game = the_line_where_given(towers, line, self.fusion.line_logit_scale, head)
        final = head(full_game, *state)
        if with_no_line:
            final.update({f"{k}_no_line": v for k, v in head(towers, *state).items()})
        return final

    def has_line(self, context: torch.Tensor) -> torch.Tensor:
        """[B] bool: the games whose market line the model uses."""
        return context[:, self.cfg.fusion.context_dim + HAS_LINE] > 0.5

    def _side_swap(self) -> SideSwap:
        if self._swap is None:
            self._swap = SideSwap.from_features()
        return self._swap

    @torch.no_grad()
    def predict(
        self, batch: ModelBatch, norm: TargetNorm, temperature: float = 1.0
    ) -> dict[str, torch.Tensor]:
        """Home win probability and margin/total in points, in eval mode (restores the mode after).
        ``temperature`` divides the win logit: the calibration a model was released with
        (``preprocessing["win_temperature"]``), so a forecast equals what was evaluated."""
        # eval() and train() walk every submodule (about 0.4 ms of a live event's 9 ms forecast), so
        # the mode is switched only when some part, the model itself included, is training
        was_training = self.training
        if any(m.training for m in self.modules()):
            self.eval()
        try:
            out = self(batch)
        finally:
            if was_training:
                self.train()
        return {
            "win_prob": torch.sigmoid(out["win_logit"] / temperature),
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


def cut_state(
    time_left: torch.Tensor, score_diff: torch.Tensor, score_total: torch.Tensor, state: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The game's state at each cut, [B] each: the CLS position of the sequence inputs ([B, L],
    ``state`` [B, L, 6]) holds time left, score differential, points above pace and the in-game
    state after the last event seen; who has the ball is +1 home, -1 away, 0 nobody."""
    ball = state[:, 0, 0] - state[:, 0, 1]
    return time_left[:, 0], score_diff[:, 0], score_total[:, 0], ball


def parameter_table(model: NBAForecaster) -> str:
    """Readable comparison of the actual parameter counts with the specification's table."""
    rows = [f"{'component':<12}{'actual':>10}{'spec':>10}{'ratio':>8}"]
    for name, actual in model.parameter_counts().items():
        spec = SPEC_PARAMETERS[name]
        rows.append(f"{name:<12}{actual:>10,}{spec:>10,}{actual / spec:>8.2f}")
    return "\n".join(rows)


if __name__ == "__main__":
    print(parameter_table(NBAForecaster()))
