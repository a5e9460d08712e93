"""The players of each game and the minutes each pair of them shared: the player index and the
chemistry matrices of the model inputs (``features.season_arrays``).

A season's build (:func:`~nba_pipeline.features.season_arrays.build_season_arrays`) and a live
game's cut (:class:`~nba_pipeline.forecast.live_game.LiveGame`) index the players and lay out
the matrices with these two functions, so the model reads the same layout whichever path built
its input; only where the minutes come from differs (a season's pair minutes, or a live game's
as-of lookup), and that is passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nba_pipeline.features.graphs import chemistry_minutes_asof, shared_minutes_by_game
from nba_pipeline.features.tokenizer import check_columns

# (game index [Q], player a [Q], player b [Q]) -> float [Q]: minutes a and b shared on court in
# games strictly before the game's date (a != b).
PairMinutes = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class GamePlayers:
    """Every player on court in each game (sorted by id within the game) and, per on-court slot,
    the slot's player as an index among its game's players."""

    game: np.ndarray  # int64 [P]: the game index of each player
    player_id: np.ndarray  # int64 [P]
    offsets: np.ndarray  # int64 [G+1]: the players of game g are offsets[g]:offsets[g+1]
    slots: np.ndarray  # int16 [E, 10]: local index of each slot's player, -1 unknown


def game_players(game_idx: np.ndarray, on_court: np.ndarray, n_games: int) -> GamePlayers:
    """The players of ``n_games`` games from the on-court ids ``on_court`` [E, 10] (0 unknown)
    of events of games ``game_idx`` [E]; vectorized over every event of a season."""
    on = np.asarray(on_court, dtype=np.int64)
    keys = (np.asarray(game_idx, dtype=np.int64)[:, None] << 32) | on
    ukeys = np.unique(keys[on > 0])
    p_game = (ukeys >> 32).astype(np.int64)
    offsets = np.searchsorted(p_game, np.arange(n_games + 1)).astype(np.int64)
    local = np.searchsorted(ukeys, keys) - offsets[np.asarray(game_idx, dtype=np.int64)][:, None]
    return GamePlayers(
        game=p_game,
        player_id=(ukeys & ((1 << 32) - 1)).astype(np.int64),
        offsets=offsets,
        slots=np.where(on > 0, local, -1).astype(np.int16),
    )


def chemistry_matrices(players: GamePlayers, minutes: PairMinutes) -> tuple[np.ndarray, np.ndarray]:
    """(chem_offsets int64 [G+1], chem_minutes float32 [sum P_g^2]): per game the flattened
    [P_g, P_g] matrix (row-major) of the minutes each ordered pair of its players shared before
    the game, from ``minutes``; 0 on the diagonal."""
    sizes = np.diff(players.offsets)
    chem_offsets = np.append(0, np.cumsum(sizes**2)).astype(np.int64)
    qg = np.repeat(np.arange(len(sizes)), sizes**2)
    within = np.arange(chem_offsets[-1]) - chem_offsets[qg]
    qi, qj = within // sizes[qg], within % sizes[qg]
    base = players.offsets[qg]
    pair = qi != qj
    chem = np.zeros(len(qg))
    if pair.any():
        a, b = players.player_id[base + qi], players.player_id[base + qj]
        chem[pair] = minutes(qg[pair], a[pair], b[pair])
    return chem_offsets, chem.astype(np.float32)


def season_pair_minutes(
    plays: pd.DataFrame,
    game_ids: np.ndarray,
    game_dates: np.ndarray,
    player_ids: np.ndarray,
    prior_pair_minutes: pd.DataFrame | None,
) -> pd.DataFrame:
    """The minutes pairs of players shared per game, with the game's date: the games of ``plays``
    (``game_ids`` [G] and ``game_dates`` [G]) and the rows of ``prior_pair_minutes`` (earlier
    seasons, ``shared_minutes_by_game`` rows with game_date) of pairs of ``player_ids``."""
    pm = shared_minutes_by_game(plays)
    pm = pm.merge(pd.DataFrame({"game_id": game_ids, "game_date": game_dates}), on="game_id", how="left")
    if prior_pair_minutes is None:
        return pm
    check_columns(prior_pair_minutes, ["player_a", "player_b", "minutes", "game_date"], "prior_pair_minutes")
    prior = prior_pair_minutes[
        prior_pair_minutes["player_a"].isin(player_ids) & prior_pair_minutes["player_b"].isin(player_ids)
    ]
    return pd.concat([prior[["game_id", "player_a", "player_b", "minutes", "game_date"]], pm])


def minutes_before_games(pair_minutes: pd.DataFrame, game_dates: np.ndarray) -> PairMinutes:
    """The :data:`PairMinutes` of a season's build: minutes from ``pair_minutes``
    (:func:`season_pair_minutes`) in games strictly before the date ``game_dates[g]``."""

    def minutes(game: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        q = pd.DataFrame({"player_a": a, "player_b": b, "game_date": game_dates[game]})
        return chemistry_minutes_asof(q, pair_minutes)

    return minutes
