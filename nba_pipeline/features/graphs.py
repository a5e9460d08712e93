"""LineupGraphBuilder: the players on court at a cut -> a PyTorch Geometric ``Data`` graph.

Graph contract (docs/architecture.md): ``x [N,16]`` in ``NODE_FEATURES`` order, ``edge_index
[2,E]``, ``edge_type [E]`` (0 teammate, 1 opponent), ``edge_weight [E]``, ``side [N]`` (0 home,
1 away).

- Nodes: the known players on court (up to 5 home, 5 away; a NULL slot is simply left out, so
  partial lineups give fewer nodes). Home nodes come first, then away; within a team nodes are
  ordered by position (PG, SG, SF, PF, C from the ``pos_*`` one-hot, ties and unknown positions by
  height), which is the order positional matchups use.
- Node features: the player's ``player_features`` snapshot as of the game date (latest snapshot
  with ``as_of_date < game_date``: never the game day itself). A player with no earlier snapshot
  gets ``DEFAULT_NODE_FEATURES`` (an average player of unknown position: 0 for the z-scored and
  RAPM values, 0.2 for each position, league-typical shooting and usage) and is counted.
- Teammate edges: every ordered pair within a team, both directions (20 for a team of 5).
- Opponent edges, both directions: ``"positional"``: the i-th home node with the i-th away node in
  position order (5 pairs -> 10 directed edges for 5 v 5; min(n_home, n_away) pairs otherwise);
  ``"full"``: every home-away pair (25 pairs -> 50 directed edges).
- Edge weights (``chemistry=True``): teammate edges get ``m / (m + chemistry_half_minutes)`` where
  ``m`` is the minutes the two players shared on court in games strictly before the game date
  (0 for pairs that never played together, 0.5 at ``chemistry_half_minutes``); opponent edges
  get 1.0. With ``chemistry=False`` every edge weight is 1.0.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from nba_pipeline.analytics.schema import NODE_FEATURES as _ANALYTICS_NODE_FEATURES
from nba_pipeline.analytics.stints import EVIDENCE_COLUMNS, complete_lineups
from nba_pipeline.analytics.stints import PLAY_COLUMNS as STINT_PLAY_COLUMNS
from nba_pipeline.features.tokenizer import check_columns, id_matrix, sort_plays
from nba_pipeline.ingest.schema import ON_COURT

if TYPE_CHECKING:  # torch_geometric is heavy; imported where graphs are built
    from torch_geometric.data import Data

# The 16 node features in model order; the analytics player_features table defines them.
NODE_FEATURES: tuple[str, ...] = tuple(_ANALYTICS_NODE_FEATURES)
NODE_DIM = len(NODE_FEATURES)
POSITION_COLUMNS = slice(5, 10)
HEIGHT_COLUMN = 3

# Values for a player with no snapshot before the game date (see module docstring).
DEFAULT_NODE_FEATURES: dict[str, float] = {
    "orapm": 0.0,
    "drapm": 0.0,
    "rapm": 0.0,
    "height_z": 0.0,
    "weight_z": 0.0,
    "pos_pg": 0.2,
    "pos_sg": 0.2,
    "pos_sf": 0.2,
    "pos_pf": 0.2,
    "pos_c": 0.2,
    "fg_pct": 0.46,
    "fg3_pct": 0.35,
    "ft_pct": 0.77,
    "minutes_per_game": 0.0,
    "usage_rate": 0.0,
    "ast_rate": 0.0,
}

TEAMMATE, OPPONENT = 0, 1
OpponentMode = Literal["positional", "full"]


def default_node_vector(defaults: dict[str, float] | None = None) -> np.ndarray:
    d = DEFAULT_NODE_FEATURES if defaults is None else {**DEFAULT_NODE_FEATURES, **defaults}
    return np.array([d[f] for f in NODE_FEATURES], dtype=np.float32)


@dataclass
class NodeLookup:
    x: np.ndarray  # float32 [Q, 16]
    found: np.ndarray  # bool [Q]: a snapshot before the date existed
    n_missing: int  # rows that got the defaults
    n_nan_filled: int  # individual NaN feature values replaced by their default


def lookup_node_features(
    queries: pd.DataFrame, player_features: pd.DataFrame, defaults: dict[str, float] | None = None
) -> NodeLookup:
    """Node features for (player_id, game_date) queries: latest snapshot with as_of_date < game_date.

    Vectorized (one ``merge_asof``). Rows without a snapshot get the defaults; NaN values inside
    a snapshot are replaced by the feature's default and counted (never NaN out).
    """
    check_columns(queries, ["player_id", "game_date"], "node feature queries")
    check_columns(player_features, ["player_id", "as_of_date", *NODE_FEATURES], "player_features")
    default = default_node_vector(defaults)
    q = pd.DataFrame(
        {
            "_row": np.arange(len(queries)),
            "player_id": queries["player_id"].to_numpy(dtype=np.int64),
            "_date": pd.to_datetime(queries["game_date"]).astype("datetime64[ns]").to_numpy(),
        }
    ).sort_values("_date", kind="stable")
    pf = player_features[["player_id", "as_of_date", *NODE_FEATURES]].copy()
    pf["player_id"] = pf["player_id"].astype(np.int64)
    pf["_date"] = pd.to_datetime(pf["as_of_date"]).astype("datetime64[ns]")
    pf = pf.drop(columns="as_of_date").sort_values("_date", kind="stable")
    pf["_found"] = True
    merged = pd.merge_asof(q, pf, on="_date", by="player_id", allow_exact_matches=False, direction="backward")
    merged = merged.sort_values("_row")
    found = merged["_found"].fillna(False).to_numpy(dtype=bool)
    x = merged[list(NODE_FEATURES)].to_numpy(dtype=np.float64)
    nan = np.isnan(x)
    n_nan_filled = int(nan[found].sum())
    x = np.where(nan, default[None, :], x).astype(np.float32)
    return NodeLookup(x=x, found=found, n_missing=int((~found).sum()), n_nan_filled=n_nan_filled)


def shared_minutes_by_game(plays: pd.DataFrame) -> pd.DataFrame:
    """Minutes each pair of teammates shared on court, per game: columns game_id, player_a,
    player_b (a < b), minutes. Computed from event durations (next event's game_seconds minus
    this one's, within the game) and the on-court columns; vectorized over the whole frame.

    ``plays`` must be in (game_id, seq) order.
    """
    check_columns(plays, ["game_id", "game_seconds", *ON_COURT], "plays")
    codes, uniq = pd.factorize(plays["game_id"].astype(str), sort=False)
    codes = codes.astype(np.int64)
    gs = plays["game_seconds"].to_numpy(dtype=np.float64)
    dur = np.zeros(len(plays))
    if len(plays) > 1:
        same = codes[1:] == codes[:-1]
        dur[:-1] = np.where(same, np.clip(gs[1:] - gs[:-1], 0, None), 0.0)
    # Collapse consecutive events with the same game and ten players into runs (~15x fewer rows).
    on_all = id_matrix(plays, ON_COURT)
    brk = np.ones(len(plays), dtype=bool)
    if len(plays) > 1:
        brk[1:] = (codes[1:] != codes[:-1]) | (on_all[1:] != on_all[:-1]).any(axis=1)
    run_start = np.flatnonzero(brk)
    run_dur = np.add.reduceat(dur, run_start) if len(run_start) else np.zeros(0)
    live = run_dur > 0
    g_parts, a_parts, b_parts, d_parts = [], [], [], []
    for lo in (0, 5):
        on = on_all[run_start][live][:, lo : lo + 5]
        d, g = run_dur[live], codes[run_start][live]
        for i in range(5):
            for j in range(i + 1, 5):
                a, b = on[:, i], on[:, j]
                ok = (a > 0) & (b > 0) & (a != b)
                g_parts.append(g[ok])
                a_parts.append(np.minimum(a[ok], b[ok]))
                b_parts.append(np.maximum(a[ok], b[ok]))
                d_parts.append(d[ok])
    g, a, b, d = (np.concatenate(p) for p in (g_parts, a_parts, b_parts, d_parts))
    order = np.lexsort((b, a, g))
    g, a, b, d = g[order], a[order], b[order], d[order]
    new = np.ones(len(g), dtype=bool)
    if len(g) > 1:
        new[1:] = (g[1:] != g[:-1]) | (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    starts = np.flatnonzero(new)
    seconds = np.add.reduceat(d, starts) if len(starts) else np.zeros(0)
    return pd.DataFrame(
        {
            "game_id": np.asarray(uniq, dtype=object)[g[starts]],
            "player_a": a[starts],
            "player_b": b[starts],
            "minutes": seconds / 60.0,
        }
    )


# What analytics.stints.complete_lineups reads to rebuild a game's lineups from its play-by-play.
LINEUP_INPUT_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(["game_id", "seq", "game_seconds", *STINT_PLAY_COLUMNS, *EVIDENCE_COLUMNS, *ON_COURT])
)


def pair_minutes_with_dates(plays: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    """:func:`shared_minutes_by_game` with each game's date, after rebuilding the lineups of the
    games whose plays lack them (``analytics.stints.complete_lineups``), as the model inputs are
    built: chemistry at forecast time must come from the lineups training saw. (A season without
    a lineups file, shipped or pulled, has NULL on-court columns in ``plays``; without the rebuild
    every pair would have shared 0 minutes.) ``plays``: :data:`LINEUP_INPUT_COLUMNS` (only the
    first three and the on-court ones when every lineup is known); ``games``: game_id, game_date,
    home_team_id, away_team_id."""
    plays = sort_plays(complete_lineups(plays, games))
    pairs = shared_minutes_by_game(plays).merge(games[["game_id", "game_date"]], on="game_id", how="left")
    pairs["game_date"] = pd.to_datetime(pairs["game_date"])
    return pairs


def _pair_key(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (np.minimum(a, b).astype(np.int64) << 31) | np.maximum(a, b).astype(np.int64)


def chemistry_minutes_asof(
    queries: pd.DataFrame, pair_minutes: pd.DataFrame, games: pd.DataFrame | None = None
) -> np.ndarray:
    """Minutes shared by each queried pair in games strictly before the query's game_date.

    ``queries``: player_a, player_b, game_date (pair order does not matter). ``pair_minutes``:
    output of :func:`shared_minutes_by_game` (any number of seasons) with a ``game_date`` column,
    or without it and ``games`` (game_id, game_date) to take the dates from.
    """
    check_columns(queries, ["player_a", "player_b", "game_date"], "chemistry queries")
    pm = pair_minutes
    if "game_date" not in pm.columns:
        if games is None:
            raise ValueError("pair minutes have no game_date column: pass games (game_id, game_date)")
        check_columns(games, ["game_id", "game_date"], "games")
        pm = pm.merge(games[["game_id", "game_date"]], on="game_id", how="left", validate="many_to_one")
    else:
        pm = pm.copy()
    if pm["game_date"].isna().any():
        bad = pm.loc[pm["game_date"].isna(), "game_id"].iloc[0]
        raise ValueError(f"pair minutes: game {bad!r} has no game_date")
    pm["_key"] = _pair_key(pm["player_a"].to_numpy(np.int64), pm["player_b"].to_numpy(np.int64))
    pm["_date"] = pd.to_datetime(pm["game_date"]).astype("datetime64[ns]")
    daily = pm.groupby(["_key", "_date"], as_index=False, sort=True)["minutes"].sum()
    daily["cum"] = daily.groupby("_key")["minutes"].cumsum()
    q = pd.DataFrame(
        {
            "_row": np.arange(len(queries)),
            "_key": _pair_key(queries["player_a"].to_numpy(np.int64), queries["player_b"].to_numpy(np.int64)),
            "_date": pd.to_datetime(queries["game_date"]).astype("datetime64[ns]").to_numpy(),
        }
    ).sort_values("_date", kind="stable")
    merged = pd.merge_asof(
        q,
        daily[["_key", "_date", "cum"]].sort_values("_date", kind="stable"),
        on="_date",
        by="_key",
        allow_exact_matches=False,
        direction="backward",
    ).sort_values("_row")
    return merged["cum"].fillna(0.0).to_numpy(dtype=np.float64)


@lru_cache(maxsize=128)
def edge_template(n_home: int, n_away: int, opponent_edges: OpponentMode) -> tuple[np.ndarray, np.ndarray]:
    """edge_index [2,E] and edge_type [E] for home nodes 0..n_home-1 then away nodes (position order)."""
    src, dst, typ = [], [], []
    for lo, n in ((0, n_home), (n_home, n_away)):
        for i in range(n):
            for j in range(n):
                if i != j:
                    src.append(lo + i)
                    dst.append(lo + j)
                    typ.append(TEAMMATE)
    if opponent_edges == "positional":
        pairs = [(i, n_home + i) for i in range(min(n_home, n_away))]
    elif opponent_edges == "full":
        pairs = [(i, n_home + j) for i in range(n_home) for j in range(n_away)]
    else:
        raise ValueError(f"opponent_edges must be 'positional' or 'full', got {opponent_edges!r}")
    for h, a in pairs:
        src += [h, a]
        dst += [a, h]
        typ += [OPPONENT, OPPONENT]
    ei = np.array([src, dst], dtype=np.int64).reshape(2, -1)
    et = np.array(typ, dtype=np.int64)
    ei.setflags(write=False)
    et.setflags(write=False)
    return ei, et


def position_order(x: np.ndarray) -> np.ndarray:
    """Order of nodes PG -> C (argmax of the position one-hot; ties/unknown broken by height)."""
    pos = x[:, POSITION_COLUMNS]
    code = np.argmax(pos, axis=1).astype(np.float64)
    unknown = pos.max(axis=1) - pos.min(axis=1) < 1e-6  # uniform or all zero
    code = np.where(unknown, 2.0, code)
    return np.lexsort((x[:, HEIGHT_COLUMN], code))


class LineupGraphBuilder:
    """Builds the lineup graph of a cut (module docstring); ``build`` is the fast per-sample path."""

    def __init__(
        self,
        opponent_edges: OpponentMode = "positional",
        chemistry: bool = True,
        chemistry_half_minutes: float = 100.0,
        defaults: dict[str, float] | None = None,
    ) -> None:
        if opponent_edges not in ("positional", "full"):
            raise ValueError(f"opponent_edges must be 'positional' or 'full', got {opponent_edges!r}")
        if chemistry_half_minutes <= 0:
            raise ValueError("chemistry_half_minutes must be positive")
        self.opponent_edges: OpponentMode = opponent_edges
        self.chemistry = chemistry
        self.chemistry_half_minutes = float(chemistry_half_minutes)
        self.defaults = defaults

    def arrays(
        self,
        x_home: np.ndarray,
        x_away: np.ndarray,
        chem_home: np.ndarray | None,
        chem_away: np.ndarray | None,
    ) -> dict[str, np.ndarray]:
        """Graph as numpy arrays. ``chem_*``: [n,n] shared minutes between the team's players (rows in
        the same order as ``x_*``), or None for no chemistry."""
        oh, oa = position_order(x_home), position_order(x_away)
        nh, na = len(oh), len(oa)
        x = np.concatenate([x_home[oh], x_away[oa]], axis=0).astype(np.float32).reshape(nh + na, NODE_DIM)
        side = np.concatenate([np.zeros(nh, np.int64), np.ones(na, np.int64)])
        ei, et = edge_template(nh, na, self.opponent_edges)
        w = np.ones(et.shape[0], dtype=np.float32)
        if self.chemistry and chem_home is not None and chem_away is not None:
            m = np.zeros((nh + na, nh + na))
            m[:nh, :nh] = chem_home[np.ix_(oh, oh)]
            m[nh:, nh:] = chem_away[np.ix_(oa, oa)]
            mins = m[ei[0], ei[1]]
            w = np.where(et == TEAMMATE, mins / (mins + self.chemistry_half_minutes), 1.0).astype(np.float32)
        return {"x": x, "edge_index": ei, "edge_type": et, "edge_weight": w, "side": side}

    def build(
        self,
        x_home: np.ndarray,
        x_away: np.ndarray,
        chem_home: np.ndarray | None = None,
        chem_away: np.ndarray | None = None,
    ) -> Data:
        """PyG ``Data`` for one cut from the node features of the home and away players on court."""
        import torch
        from torch_geometric.data import Data

        a = self.arrays(x_home, x_away, chem_home, chem_away)
        return Data(
            x=torch.from_numpy(a["x"]),
            edge_index=torch.from_numpy(a["edge_index"].copy()),
            edge_type=torch.from_numpy(a["edge_type"].copy()),
            edge_weight=torch.from_numpy(a["edge_weight"]),
            side=torch.from_numpy(a["side"]),
            num_nodes=a["x"].shape[0],
        )

    def build_from_ids(
        self,
        home_ids: list[int | None],
        away_ids: list[int | None],
        game_date: object,
        player_features: pd.DataFrame,
        pair_minutes: pd.DataFrame | None = None,
        games: pd.DataFrame | None = None,
    ) -> Data:
        """One graph from raw ids (None/0 = unknown player, left out): the path for forecasting a
        single game; the dataset uses precomputed season arrays instead."""
        hid = [int(p) for p in home_ids if p is not None and not pd.isna(p) and int(p) > 0]
        aid = [int(p) for p in away_ids if p is not None and not pd.isna(p) and int(p) > 0]
        ids = hid + aid
        look = lookup_node_features(
            pd.DataFrame({"player_id": ids, "game_date": [game_date] * len(ids)}),
            player_features,
            self.defaults,
        )
        chem = [None, None]
        if self.chemistry and pair_minutes is not None:
            if games is None:
                raise ValueError("build_from_ids: games (game_id, game_date) are needed with pair_minutes")
            for t, team in enumerate((hid, aid)):
                n = len(team)
                ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
                q = pd.DataFrame(
                    {
                        "player_a": np.array(team, dtype=np.int64)[ii.ravel()],
                        "player_b": np.array(team, dtype=np.int64)[jj.ravel()],
                        "game_date": [game_date] * (n * n),
                    }
                )
                chem[t] = (
                    chemistry_minutes_asof(q, pair_minutes, games).reshape(n, n) if n else np.zeros((0, 0))
                )
        return self.build(look.x[: len(hid)], look.x[len(hid) :], chem[0], chem[1])
