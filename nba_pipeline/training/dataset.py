"""NBADataset: (game, cut) samples sliced from precomputed season arrays, and the collate function.

A sample is one game seen at one cut, so one game teaches every moment of play: ``cut = k`` means
the first ``k`` events of the game (time order) are known, nothing after; ``k = 0`` is the pregame
cut.

Modes:

- ``"train"``: two samples per game and epoch: the pregame cut and one random in-game cut
  ``k ~ U{1..n_events}``, drawn from ``(seed, epoch, game)`` so that every epoch sees fresh cuts
  (call :meth:`NBADataset.set_epoch`) and the same seed reproduces them, with any number of
  DataLoader workers.
- ``"eval"``: the fixed checkpoints of ``batch.CHECKPOINTS`` (five per game): pregame; end of Q1,
  halftime, end of Q3 (every event of periods <= 1, 2, 3); 5:00 left in Q4 (every event at or
  before game time 43:00, i.e. ``game_seconds <= 2580``). A cut is the last event at or before
  that game time.
- ``"all_events"``: every cut ``k = 0..n_events`` of every game (for "averaged over all events");
  ``k = 0`` has code ``pregame``, the others code ``random`` (an in-game cut off the checkpoints).

Labels are the final result: ``win`` (home won), ``margin`` and ``total`` standardized with the
training :class:`~nba_pipeline.models.norm.TargetNorm` (see :func:`target_norm_from_season_stats`).
``__getitem__`` only slices the arrays (see ``features.season_arrays``) and builds the small graph.
``game_index`` in a sample is the game's row in ``dataset.arrays`` (``arrays.game_id[i]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from nba_pipeline.features.graphs import LineupGraphBuilder
from nba_pipeline.features.season_arrays import SeasonArrays
from nba_pipeline.features.tokenizer import EventArrays, EventTokenizer
from nba_pipeline.models.batch import CHECKPOINT_CODE, CHECKPOINTS, ModelBatch
from nba_pipeline.models.norm import TargetNorm
from nba_pipeline.training.loss import Targets

Mode = Literal["train", "eval", "all_events"]
EVAL_CHECKPOINTS = CHECKPOINTS[:5]  # pregame, end_q1, halftime, end_q3, q4_5min
Q4_5MIN_GAME_SECONDS = 3 * 720 + 420  # 2580 s elapsed = 5:00 left in the 4th
SEQUENCE_FIELDS = ("tokens", "time_left", "score_diff", "score_total", "lineup", "state", "mask")


def _pooled(season_stats: pd.DataFrame, stat: str, seasons: Sequence[str]) -> tuple[float, float]:
    rows = season_stats[(season_stats["stat"] == stat) & season_stats["season"].isin(list(seasons))]
    found = set(rows["season"])
    missing = [s for s in seasons if s not in found]
    if missing:
        raise ValueError(f"season_stats: no {stat!r} row for seasons {missing}")
    n = rows["n"].to_numpy(dtype=float) if "n" in rows.columns else np.ones(len(rows))
    mean = rows["mean"].to_numpy(dtype=float)
    std = rows["std"].to_numpy(dtype=float)
    m = float(np.average(mean, weights=n))
    var = float(np.average(std**2 + mean**2, weights=n) - m**2)
    return m, float(np.sqrt(max(var, 0.0)))


def target_norm_from_season_stats(season_stats: pd.DataFrame, seasons: Sequence[str]) -> TargetNorm:
    """Margin and total statistics pooled over the training seasons (weighted by ``n``)."""
    mm, ms = _pooled(season_stats, "margin", seasons)
    tm, ts = _pooled(season_stats, "total", seasons)
    return TargetNorm(margin_mean=mm, margin_std=ms, total_mean=tm, total_std=ts)


def target_norm_from_arrays(arrays: SeasonArrays, games: np.ndarray | None = None) -> TargetNorm:
    """The same statistics from the final scores of (training) games, when season_stats is absent."""
    idx = np.arange(arrays.n_games) if games is None else np.asarray(games)
    margin = (arrays.home_pts[idx] - arrays.away_pts[idx]).astype(float)
    total = (arrays.home_pts[idx] + arrays.away_pts[idx]).astype(float)
    return TargetNorm(
        margin_mean=float(margin.mean()),
        margin_std=float(margin.std()),
        total_mean=float(total.mean()),
        total_std=float(total.std()),
    )


def score_diff_std_from_arrays(arrays: SeasonArrays, games: np.ndarray | None = None) -> float:
    """Std of the in-game score differential over every event of the (training) games."""
    idx = np.arange(arrays.n_games) if games is None else np.asarray(games)
    starts, ends = arrays.event_offsets[idx], arrays.event_offsets[idx + 1]
    delta = np.zeros(len(arrays.ev_score_diff) + 1, dtype=np.int64)
    np.add.at(delta, starts, 1)
    np.add.at(delta, ends, -1)
    sel = np.cumsum(delta[:-1]) > 0
    return float(arrays.ev_score_diff[sel].astype(float).std())


def points_above_pace(score_total: np.ndarray, time_left: np.ndarray, norm: TargetNorm) -> np.ndarray:
    """Points scored so far minus the training games' average pace for the share of the game the
    clock has run (``total_mean x (1 - time_left)``): what the running total tells about the final
    total, on a scale the model can use directly. In overtime the clock restarts, and so does the
    pace: points so far are then ``above + total_mean x (1 - time_left)`` in every period, which
    lets the game-state head end on the exact total (``models.game_state``)."""
    pace = norm.total_mean * (1.0 - np.clip(time_left.astype(np.float32), 0.0, 1.0))
    return (score_total.astype(np.float32) - pace).astype(np.float32)


@dataclass
class Sample:
    tokens: torch.Tensor  # int64 [L]
    time_left: torch.Tensor  # float32 [L]
    score_diff: torch.Tensor  # float32 [L]
    score_total: torch.Tensor  # float32 [L]
    lineup: torch.Tensor  # float32 [L, 20]
    state: torch.Tensor  # float32 [L, 6]
    mask: torch.Tensor  # bool [L]
    graph: object  # torch_geometric.data.Data
    context: torch.Tensor  # float32 [36] (features.context)
    win: float
    margin: float
    total: float
    checkpoint: int
    game_index: int


def events_per_game(arrays: SeasonArrays, known: np.ndarray) -> np.ndarray:
    """int64 [G]: how many events of each game satisfy ``known`` (bool [E]); for a condition that
    holds up to a moment of the game and not after (events are in time order), the cut there."""
    cs = np.concatenate([[0], np.cumsum(known)])
    off = arrays.event_offsets
    return (cs[off[1:]] - cs[off[:-1]]).astype(np.int64)


def checkpoint_cuts(arrays: SeasonArrays) -> np.ndarray:
    """int64 [G, 5]: the cut (number of events known) of every game at each eval checkpoint."""
    period = arrays.ev_period.astype(np.int64)
    conds = [
        period <= 1,
        period <= 2,
        period <= 3,
        (period <= 4) & (arrays.ev_game_seconds <= Q4_5MIN_GAME_SECONDS),
    ]
    out = np.zeros((arrays.n_games, len(EVAL_CHECKPOINTS)), dtype=np.int64)
    for j, c in enumerate(conds, start=1):
        out[:, j] = events_per_game(arrays, c)
    return out


class NBADataset(Dataset):
    """(game, cut) samples over one :class:`SeasonArrays` (or several, concatenated)."""

    def __init__(
        self,
        arrays: SeasonArrays,
        target_norm: TargetNorm,
        score_diff_std: float,
        mode: Mode = "train",
        games: np.ndarray | Sequence[int] | None = None,
        seed: int = 0,
        graph_builder: LineupGraphBuilder | None = None,
        max_events: int = 50,
    ) -> None:
        if mode not in ("train", "eval", "all_events"):
            raise ValueError(f"mode must be 'train', 'eval' or 'all_events', got {mode!r}")
        self.arrays = arrays
        self.norm = target_norm
        self.mode: Mode = mode
        self.seed = int(seed)
        self.epoch = 0
        self.tokenizer = EventTokenizer(score_diff_std=score_diff_std, max_events=max_events)
        self.graphs = graph_builder or LineupGraphBuilder()
        self.games = np.arange(arrays.n_games) if games is None else np.asarray(games, dtype=np.int64)
        if len(self.games) and (self.games.min() < 0 or self.games.max() >= arrays.n_games):
            raise IndexError(f"games: indices must be in [0, {arrays.n_games})")
        self._ev = EventArrays(
            token=arrays.ev_token,
            time_left=arrays.ev_time_left,
            score_diff=arrays.ev_score_diff,
            score_total=points_above_pace(arrays.ev_score_total, arrays.ev_time_left, target_norm),
            lineup=arrays.ev_lineup,
            state=arrays.ev_state,
            game_id=np.empty(0),
            n_unknown=0,
            unknown_codes={},
        )
        n_ev = arrays.n_events
        if mode == "eval":
            cuts = checkpoint_cuts(arrays)[self.games]  # [n, 5]
            self._game = np.repeat(self.games, len(EVAL_CHECKPOINTS))
            self._cut = cuts.reshape(-1)
            self._code = np.tile(np.arange(len(EVAL_CHECKPOINTS)), len(self.games))
        elif mode == "all_events":
            counts = n_ev[self.games] + 1
            self._game = np.repeat(self.games, counts)
            starts = np.repeat(np.cumsum(counts) - counts, counts)
            self._cut = np.arange(counts.sum()) - starts
            self._code = np.where(self._cut == 0, CHECKPOINT_CODE["pregame"], CHECKPOINT_CODE["random"])
        else:
            self._game = np.repeat(self.games, 2)
            self._cut = np.zeros(len(self._game), dtype=np.int64)  # odd entries drawn per epoch
            self._code = np.tile([CHECKPOINT_CODE["pregame"], CHECKPOINT_CODE["random"]], len(self.games))
        margin = (arrays.home_pts - arrays.away_pts).astype(np.float64)
        total = (arrays.home_pts + arrays.away_pts).astype(np.float64)
        self._win = (margin > 0).astype(np.float32)
        self._margin_z = np.asarray(target_norm.to_z("margin", margin), dtype=np.float32)
        self._total_z = np.asarray(target_norm.to_z("total", total), dtype=np.float32)

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose random in-game cuts ``train`` mode returns."""
        self.epoch = int(epoch)

    def random_cut(self, game: int) -> int:
        n = int(self.arrays.n_events[game])
        if n == 0:
            return 0
        rng = np.random.default_rng([self.seed, self.epoch, int(game)])
        return int(rng.integers(1, n + 1))

    def __len__(self) -> int:
        return len(self._game)

    def cut_of(self, i: int) -> tuple[int, int, int]:
        """(game index, cut, checkpoint code) of sample ``i``."""
        g, code = int(self._game[i]), int(self._code[i])
        if self.mode == "train" and code == CHECKPOINT_CODE["random"]:
            return g, self.random_cut(g), code
        return g, int(self._cut[i]), code

    def in_game_samples(self) -> np.ndarray:
        """``all_events`` mode: the indices of every in-game cut (each game's pregame cut left out),
        in game order: what the evaluation's "all events" averages over."""
        if self.mode != "all_events":
            raise ValueError(f"in_game_samples needs mode 'all_events', this dataset is {self.mode!r}")
        return np.flatnonzero(self._cut > 0)

    def sample_index(self, game: np.ndarray, cut: np.ndarray) -> np.ndarray:
        """``all_events`` mode: the index of the sample after ``cut`` events of game ``game`` (an
        index into the arrays, one of this dataset's games): any moment of a game, e.g. the late
        checkpoints the evaluation scores."""
        if self.mode != "all_events":
            raise ValueError(f"sample_index needs mode 'all_events', this dataset is {self.mode!r}")
        counts = self.arrays.n_events[self.games] + 1
        start = np.full(self.arrays.n_games, -1, dtype=np.int64)
        start[self.games] = np.cumsum(counts) - counts
        game, cut = np.asarray(game, dtype=np.int64), np.asarray(cut, dtype=np.int64)
        if (start[game] < 0).any() or (cut < 0).any() or (cut > self.arrays.n_events[game]).any():
            raise IndexError("sample_index: a game not in this dataset, or a cut outside its events")
        return start[game] + cut

    def cuts_of(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Vectorized :meth:`cut_of`: int64 arrays (game index, cut, checkpoint code) of the samples."""
        idx = np.asarray(indices, dtype=np.int64)
        idx = np.where(idx < 0, idx + len(self), idx)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise IndexError(f"indices must be in [0, {len(self)})")
        g, cut, code = self._game[idx], self._cut[idx].astype(np.int64), self._code[idx].astype(np.int64)
        if self.mode == "train":
            rand = code == CHECKPOINT_CODE["random"]
            cut = cut.copy()
            cut[rand] = [self.random_cut(int(gi)) for gi in g[rand]]
        return g.astype(np.int64), cut, code

    def targets(self, g: np.ndarray) -> Targets:
        """The final outcome of games ``g`` (win, standardized margin and total), as the loss reads it."""
        g = np.asarray(g, dtype=np.int64)
        return Targets(
            win=torch.from_numpy(self._win[g]),
            margin=torch.from_numpy(self._margin_z[g]),
            total=torch.from_numpy(self._total_z[g]),
        )

    def lineup_slots(self, g: np.ndarray, cut: np.ndarray) -> np.ndarray:
        """int [N, 10]: the on-court slots (home 5, away 5; -1 unknown) after ``cut`` events of game
        ``g`` (the starters at cut 0): with the game, all the lineup graph depends on."""
        a = self.arrays
        pos = np.maximum(a.event_offsets[g] + cut - 1, 0)
        return np.where((cut == 0)[:, None], a.starters[g], a.ev_on_court[pos])

    def __getitem__(self, i: int) -> Sample:
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        g, cut, code = self.cut_of(i)
        a = self.arrays
        start = int(a.event_offsets[g])
        seq = self.tokenizer.sequence(self._ev, start, start + cut)
        graph = self._graph(g, cut)
        return Sample(
            tokens=torch.from_numpy(seq["tokens"]),
            time_left=torch.from_numpy(seq["time_left"]),
            score_diff=torch.from_numpy(seq["score_diff"]),
            score_total=torch.from_numpy(seq["score_total"]),
            lineup=torch.from_numpy(seq["lineup"]),
            state=torch.from_numpy(seq["state"]),
            mask=torch.from_numpy(seq["mask"]),
            graph=graph,
            context=torch.from_numpy(a.context[g]),
            win=float(self._win[g]),
            margin=float(self._margin_z[g]),
            total=float(self._total_z[g]),
            checkpoint=code,
            game_index=g,
        )

    def _graph_inputs(self, g: int, cut: int) -> tuple[np.ndarray, ...]:
        a = self.arrays
        slots = a.starters[g] if cut == 0 else a.ev_on_court[int(a.event_offsets[g]) + cut - 1]
        poff = int(a.player_offsets[g])
        home = slots[:5][slots[:5] >= 0].astype(np.int64)
        away = slots[5:][slots[5:] >= 0].astype(np.int64)
        chem = a.chem_matrix(g)
        return (
            a.player_x[poff + home],
            a.player_x[poff + away],
            chem[np.ix_(home, home)],
            chem[np.ix_(away, away)],
        )

    def _graph(self, g: int, cut: int) -> object:
        return self.graphs.build(*self._graph_inputs(g, cut))

    def __getitems__(self, indices: Sequence[int]) -> ModelBatch:
        """What a DataLoader fetches for one batch: :meth:`get_batch` (``collate`` passes a ModelBatch
        through), so training batches skip per-sample tensors and ``Data`` objects."""
        return self.get_batch(indices)

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> ModelBatch:
        """The same ModelBatch as ``collate([self[i] for i in indices])``, built without per-sample
        tensors or ``Data`` objects (sequences in one vectorized call): the fast path for training
        batches and for evaluating many cuts, e.g. ``all_events`` mode."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if not idx.size:
            raise ValueError("get_batch: no indices")
        g, cut, code = self.cuts_of(idx)
        seq = self.sequence_tensors(g, cut)
        return ModelBatch(
            **seq,
            graph=self.graph_batch(g, cut),
            context=torch.from_numpy(self.arrays.context[g]),
            win=torch.from_numpy(self._win[g]),
            margin=torch.from_numpy(self._margin_z[g]),
            total=torch.from_numpy(self._total_z[g]),
            checkpoint=torch.from_numpy(code),
            game_index=torch.from_numpy(g),
        )

    def sequence_tensors(self, g: np.ndarray, cut: np.ndarray) -> dict[str, torch.Tensor]:
        """The sequence inputs of cuts ``(g, cut)`` (ModelBatch field names), in one vectorized call."""
        starts = self.arrays.event_offsets[g]
        seq = self.tokenizer.sequences(self._ev, starts, starts + cut)
        return {k: torch.from_numpy(seq[k]) for k in SEQUENCE_FIELDS}

    def graph_batch(self, g: np.ndarray, cut: np.ndarray) -> object:
        """The lineup graphs of cuts ``(g, cut)`` as one PyG ``Batch`` (what ``Batch.from_data_list``
        of the per-sample graphs gives), built from numpy arrays."""
        import torch_geometric.data as pyg

        parts = [
            self.graphs.arrays(*self._graph_inputs(int(gi), int(ci))) for gi, ci in zip(g, cut, strict=True)
        ]
        n = len(parts)
        n_nodes = np.array([p["x"].shape[0] for p in parts], dtype=np.int64)
        n_edges = np.array([p["edge_type"].shape[0] for p in parts], dtype=np.int64)
        node_off = np.concatenate([[0], np.cumsum(n_nodes)])
        edge_index = np.concatenate([p["edge_index"] for p in parts], axis=1) + np.repeat(
            node_off[:-1], n_edges
        )
        graph = pyg.Batch(
            x=torch.from_numpy(
                np.concatenate([p["x"] for p in parts]).reshape(-1, self.arrays.player_x.shape[1])
            ),
            edge_index=torch.from_numpy(edge_index.reshape(2, -1)),
            edge_type=torch.from_numpy(np.concatenate([p["edge_type"] for p in parts])),
            edge_weight=torch.from_numpy(np.concatenate([p["edge_weight"] for p in parts])),
            side=torch.from_numpy(np.concatenate([p["side"] for p in parts])),
            batch=torch.from_numpy(np.repeat(np.arange(n), n_nodes)),
            ptr=torch.from_numpy(node_off),
        )
        graph._num_graphs = n
        # What Batch.from_data_list records, so that to_data_list() / index_select work too.
        e_ptr = torch.from_numpy(np.concatenate([[0], np.cumsum(n_edges)]))
        zeros = torch.zeros(n, dtype=torch.long)
        graph._slice_dict = {
            "x": graph.ptr,
            "side": graph.ptr,
            "edge_index": e_ptr,
            "edge_type": e_ptr,
            "edge_weight": e_ptr,
        }
        graph._inc_dict = {"x": zeros, "side": zeros, "edge_type": zeros, "edge_weight": zeros}
        graph._inc_dict["edge_index"] = graph.ptr[:-1]
        graph._num_nodes = n_nodes.tolist()
        return graph


def collate(samples: Sequence[Sample] | ModelBatch) -> ModelBatch:
    """Stack samples into a :class:`ModelBatch` (graphs batched with ``torch_geometric`` Batch); a
    ModelBatch (what :meth:`NBADataset.__getitems__` fetches) is passed through."""
    from torch_geometric.data import Batch

    if isinstance(samples, ModelBatch):
        return samples
    if not samples:
        raise ValueError("collate: empty list of samples")
    return ModelBatch(
        tokens=torch.stack([s.tokens for s in samples]),
        time_left=torch.stack([s.time_left for s in samples]),
        score_diff=torch.stack([s.score_diff for s in samples]),
        score_total=torch.stack([s.score_total for s in samples]),
        lineup=torch.stack([s.lineup for s in samples]),
        state=torch.stack([s.state for s in samples]),
        mask=torch.stack([s.mask for s in samples]),
        graph=Batch.from_data_list([s.graph for s in samples]),
        context=torch.stack([s.context for s in samples]),
        win=torch.tensor([s.win for s in samples], dtype=torch.float32),
        margin=torch.tensor([s.margin for s in samples], dtype=torch.float32),
        total=torch.tensor([s.total for s in samples], dtype=torch.float32),
        checkpoint=torch.tensor([s.checkpoint for s in samples], dtype=torch.int64),
        game_index=torch.tensor([s.game_index for s in samples], dtype=torch.int64),
    )
