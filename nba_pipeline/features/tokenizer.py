"""EventTokenizer: play-by-play rows -> the sequence part of :class:`~nba_pipeline.models.batch.ModelBatch`.

Tokenizing is split in two so that every cut of a season costs one slice, not one pass over the
plays (a season is ~570k events):

1. :meth:`EventTokenizer.encode_events` turns a whole ``plays`` frame (any number of games) into
   per-event arrays at once (:class:`EventArrays`), fully vectorized.
2. :meth:`EventTokenizer.sequence` builds the padded model tensors for one cut from a slice of
   those arrays; :meth:`EventTokenizer.sequences` does it for many cuts at once.

Vocabulary (``VOCAB``): ``0 PAD``, ``1 CLS``, ``2 UNK``, then one token per (event type, acting
side) for the known EVENTMSGTYPE codes ``1-13, 18`` and the sides neutral / home / away:
``token = 3 + 3 * type_index + side`` (side codes as in ``plays.side``: 0 neutral, 1 home, 2 away),
45 tokens in all. An event type outside the known codes maps to UNK and is counted
(``EventArrays.n_unknown``); the side of a UNK event is lost, so UNK is its own side swap.

Per-position values (the CLS position carries the state AT the cut):

- ``time_left``: game time remaining as a fraction of regulation, ``seconds_left_regulation /
  2880`` in periods 1-4 (1.0 at tip-off, 0.0 at the end of the 4th). In overtime it is the time
  left in the current overtime period on the same scale, ``clock_seconds / 2880`` (at most
  300 / 2880 = 0.104): a tied game going to overtime genuinely has time left again, and the value
  stays in ``[0, 1]``. The CLS position holds the value after the last seen event (1.0 pregame).
- ``score_diff``: home minus away running score AFTER the event, divided by ``score_diff_std``
  (the season standard deviation of the in-game score differential, ``season_stats`` stat
  ``score_diff``). CLS holds the score at the cut (0 pregame). Arrays store the raw points so that
  the normalization (part of the model's preprocessing) is applied at slicing time.
- ``lineup`` (20 dims): the ten on-court slots of the event, in ``plays`` column order
  (``home_on_1..5`` then ``away_on_1..5``):

  - dims 0-4: home slot i took part in the event (is player1, player2 or player3 of the event);
  - dims 5-9: the same for away slots 1-5;
  - dims 10-14: home slot i is the event's main actor (player1);
  - dims 15-19: the same for away slots 1-5.

  A slot whose player is unknown (NULL) is never marked. CLS and PAD positions are all zero.
  Swapping home and away maps dims 0-4 <-> 5-9 and 10-14 <-> 15-19 (``LINEUP_SWAP_PERM``).
- ``state`` (6 dims): the in-game state after the event (``features.in_game_state``: who has the
  ball, each side's fouls before the penalty and timeouts left), scaled to [0, 1]. CLS holds the
  state at the cut (pregame: nobody has the ball, every foul and timeout left); PAD is all zero.
  Arrays store the raw counts (``EventArrays.state``, int8).

Sequences have length ``1 + max_events``: CLS, then the last ``max_events`` events before the cut
in time order, then PAD (``mask`` True on CLS and the events). The pregame cut is CLS alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nba_pipeline.features.in_game_state import PREGAME_STATE, STATE_DIM, STATE_SCALE, state_counts
from nba_pipeline.ingest.plays import REGULATION_SECONDS, Rows, column
from nba_pipeline.ingest.schema import ON_COURT

PAD, CLS, UNK = 0, 1, 2
N_SPECIAL = 3
KNOWN_EVENT_TYPES: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 18)
SIDES: tuple[str, ...] = ("neutral", "home", "away")
VOCAB_SIZE = N_SPECIAL + len(KNOWN_EVENT_TYPES) * len(SIDES)  # 45
MAX_EVENTS = 50
SEQ_LEN = 1 + MAX_EVENTS
LINEUP_DIM = 20
# The running total is fed as points ABOVE an expected pace (see models.dataset), in units of 20
# points: the deviation from the pace is what predicts the final total, and it is small next to
# the raw total, which a network would have to subtract out itself.
SCORE_TOTAL_SCALE = 20.0

# EVENTMSGTYPE code -> index in KNOWN_EVENT_TYPES, -1 for unknown codes (table covers int16 >= 0).
_TYPE_INDEX = np.full(1 << 15, -1, dtype=np.int64)
_TYPE_INDEX[list(KNOWN_EVENT_TYPES)] = np.arange(len(KNOWN_EVENT_TYPES))


def _build_vocab() -> dict[str, int]:
    vocab = {"<PAD>": PAD, "<CLS>": CLS, "<UNK>": UNK}
    for ti, code in enumerate(KNOWN_EVENT_TYPES):
        for si, side in enumerate(SIDES):
            vocab[f"{code}:{side}"] = N_SPECIAL + 3 * ti + si
    return vocab


VOCAB: dict[str, int] = _build_vocab()


def _build_swap() -> np.ndarray:
    swap = np.arange(VOCAB_SIZE, dtype=np.int64)
    for ti in range(len(KNOWN_EVENT_TYPES)):
        base = N_SPECIAL + 3 * ti
        swap[base + 1], swap[base + 2] = base + 2, base + 1
    return swap


# Token id -> token id with home and away exchanged (PAD/CLS/UNK and neutral tokens map to themselves).
SWAP_SIDES: np.ndarray = _build_swap()
# Lineup dims permutation for a home/away swap: new_lineup = lineup[..., LINEUP_SWAP_PERM].
LINEUP_SWAP_PERM: np.ndarray = np.r_[5:10, 0:5, 15:20, 10:15]


@dataclass
class EventArrays:
    """Per-event arrays for many games, in (game, seq) order (see the module docstring)."""

    token: np.ndarray  # int16 [E]
    time_left: np.ndarray  # float32 [E]
    score_diff: np.ndarray  # int16 [E] raw home minus away points after the event
    score_total: np.ndarray  # [E] home plus away points after the event (raw, or relative to a pace)
    lineup: np.ndarray  # uint8 [E, 20]
    state: np.ndarray  # int8 [E, 6] raw in-game state after the event (features.in_game_state)
    game_id: np.ndarray  # str [E]
    n_unknown: int  # events whose type was not a known code (tokenized as UNK)
    unknown_codes: dict[int, int]  # unknown code -> count


REQUIRED_PLAY_COLUMNS = (
    "game_id",
    "seq",
    "period",
    "event_type",
    "action_type",
    "side",
    "clock_seconds",
    "seconds_left_regulation",
    "home_score",
    "away_score",
    "is_made",
    "player1_id",
    "player2_id",
    "player3_id",
    *ON_COURT,
)


def check_columns(df: Rows, required: tuple[str, ...] | list[str], name: str) -> None:
    """Raise a ValueError naming the frame (or dict of arrays) and the missing columns."""
    missing = [c for c in required if c not in df]
    if missing:
        raise ValueError(f"{name}: missing columns {missing}")


def id_matrix(df: Rows, columns: list[str] | tuple[str, ...]) -> np.ndarray:
    """Player-id columns as int64 with 0 for NULL (the pbp also writes 0 for 'no player')."""
    cols = [column(df, c, np.int64) for c in columns]
    return np.column_stack(cols).reshape(len(cols[0]), len(columns))


def sort_plays(plays: pd.DataFrame) -> pd.DataFrame:
    """Plays in (game_id, seq) order, the order every per-event array uses."""
    return plays.sort_values(["game_id", "seq"], kind="stable").reset_index(drop=True)


def time_left_fraction(
    period: np.ndarray, clock_seconds: np.ndarray, secs_left_reg: np.ndarray
) -> np.ndarray:
    """Regulation fraction remaining; in overtime the remaining overtime clock on the same scale."""
    t = np.where(period <= 4, secs_left_reg, clock_seconds) / REGULATION_SECONDS
    return np.clip(t, 0.0, 1.0).astype(np.float32)


class EventTokenizer:
    """Vocabulary, per-event encoding and per-cut padding/masking (see the module docstring)."""

    vocab = VOCAB
    vocab_size = VOCAB_SIZE

    def __init__(self, score_diff_std: float, max_events: int = MAX_EVENTS) -> None:
        if not np.isfinite(score_diff_std) or score_diff_std <= 0:
            raise ValueError(f"score_diff_std must be a positive finite number, got {score_diff_std!r}")
        self.score_diff_std = float(score_diff_std)
        self.max_events = int(max_events)
        self.seq_len = 1 + self.max_events

    @staticmethod
    def token_ids(event_type: np.ndarray, side: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Token id per event and a boolean array of events that fell back to UNK."""
        event_type = np.asarray(event_type, dtype=np.int64)
        side = np.asarray(side, dtype=np.int64)
        if side.size and (side.min() < 0 or side.max() > 2):
            bad = np.unique(side[(side < 0) | (side > 2)])
            raise ValueError(f"plays.side: codes must be 0/1/2, got {bad.tolist()}")
        in_range = (event_type >= 0) & (event_type < _TYPE_INDEX.size)
        ti = np.full(event_type.shape, -1, dtype=np.int64)
        ti[in_range] = _TYPE_INDEX[event_type[in_range]]
        unknown = ti < 0
        tokens = np.where(unknown, UNK, N_SPECIAL + 3 * ti + side)
        return tokens.astype(np.int16), unknown

    def encode_events(self, plays: Rows) -> EventArrays:
        """Per-event token, time, raw score diff and lineup participation for every row of ``plays``.

        Each game's rows must be contiguous and in ``seq`` order (e.g. :func:`sort_plays`); checked.
        ``plays``: a frame, or a dict of arrays (a live game's events so far).
        """
        check_columns(plays, REQUIRED_PLAY_COLUMNS, "plays")
        gid = column(plays, "game_id")
        seq = column(plays, "seq", np.int64)
        if len(gid) > 1:
            change = gid[1:] != gid[:-1]
            if int(change.sum()) + 1 != len(pd.unique(gid)) or (~change & (seq[1:] <= seq[:-1])).any():
                raise ValueError("plays: each game's rows must be contiguous and in increasing seq order")
        event_type = column(plays, "event_type", np.int64)
        tokens, unknown = self.token_ids(event_type, column(plays, "side", np.int64))
        codes, counts = np.unique(event_type[unknown], return_counts=True)
        time_left = time_left_fraction(
            column(plays, "period", np.int64),
            column(plays, "clock_seconds", np.float64),
            column(plays, "seconds_left_regulation", np.float64),
        )
        home, away = column(plays, "home_score", np.int64), column(plays, "away_score", np.int64)
        score = (home - away).astype(np.int16)
        total = (home + away).astype(np.int16)
        return EventArrays(
            token=tokens,
            time_left=time_left,
            score_diff=score,
            score_total=total,
            lineup=self.lineup_vectors(plays),
            state=state_counts(plays),
            game_id=gid,
            n_unknown=int(unknown.sum()),
            unknown_codes={int(c): int(n) for c, n in zip(codes, counts, strict=True)},
        )

    @staticmethod
    def lineup_vectors(plays: Rows) -> np.ndarray:
        """The 20-dim participation vector of every event (module docstring), uint8 [E, 20]."""
        on = id_matrix(plays, ON_COURT)  # [E, 10], 0 = unknown
        p = id_matrix(plays, ["player1_id", "player2_id", "player3_id"])  # [E, 3]
        known = on > 0
        actor = known & (on == p[:, :1])
        involved = actor | (known & ((on == p[:, 1:2]) | (on == p[:, 2:3])))
        return np.concatenate([involved, actor], axis=1).astype(np.uint8)

    def sequence(self, ev: EventArrays, start: int, cut: int) -> dict[str, np.ndarray]:
        """Padded arrays for one cut: events ``[start, cut)`` of ``ev`` are the game's events so far.

        ``start`` is the index of the game's first event, ``cut`` one past the last seen event
        (``cut == start`` is the pregame cut).
        """
        out = self.sequences(ev, np.array([start]), np.array([cut]))
        return {k: v[0] for k, v in out.items()}

    def sequences(self, ev: EventArrays, starts: np.ndarray, cuts: np.ndarray) -> dict[str, np.ndarray]:
        """Vectorized :meth:`sequence` for B cuts: tokens int64 [B,L], time_left / score_diff float32
        [B,L], lineup float32 [B,L,20], state float32 [B,L,6], mask bool [B,L]."""
        starts = np.asarray(starts, dtype=np.int64)
        cuts = np.asarray(cuts, dtype=np.int64)
        if (cuts < starts).any():
            raise ValueError("cut before the game's first event")
        B, L = len(cuts), self.seq_len
        n = np.minimum(cuts - starts, self.max_events)  # events shown per cut
        first = cuts - n
        pos = np.arange(self.max_events)
        valid = pos[None, :] < n[:, None]  # [B, max_events]
        idx = np.where(valid, first[:, None] + pos[None, :], 0)
        tokens = np.zeros((B, L), dtype=np.int64)
        time_left = np.zeros((B, L), dtype=np.float32)
        score = np.zeros((B, L), dtype=np.float32)
        total = np.zeros((B, L), dtype=np.float32)
        lineup = np.zeros((B, L, LINEUP_DIM), dtype=np.float32)
        state = np.zeros((B, L, STATE_DIM), dtype=np.float32)
        mask = np.zeros((B, L), dtype=bool)
        if len(ev.token):
            tokens[:, 1:] = np.where(valid, ev.token[idx], PAD)
            time_left[:, 1:] = np.where(valid, ev.time_left[idx], 0.0)
            score[:, 1:] = np.where(valid, ev.score_diff[idx] / self.score_diff_std, 0.0)
            total[:, 1:] = np.where(valid, ev.score_total[idx] / SCORE_TOTAL_SCALE, 0.0)
            lineup[:, 1:] = np.where(valid[..., None], ev.lineup[idx], 0)
            state[:, 1:] = np.where(valid[..., None], ev.state[idx] / STATE_SCALE, 0.0)
        mask[:, 1:] = valid
        tokens[:, 0] = CLS
        mask[:, 0] = True
        has = n > 0
        last = np.maximum(cuts - 1, 0)
        time_left[:, 0] = np.where(has, ev.time_left[last] if len(ev.token) else 1.0, 1.0)
        score[:, 0] = np.where(has, (ev.score_diff[last] if len(ev.token) else 0) / self.score_diff_std, 0.0)
        total[:, 0] = np.where(has, (ev.score_total[last] if len(ev.token) else 0) / SCORE_TOTAL_SCALE, 0.0)
        state[:, 0] = PREGAME_STATE / STATE_SCALE
        if len(ev.token):
            state[has, 0] = ev.state[last[has]] / STATE_SCALE
        return {
            "tokens": tokens,
            "time_left": time_left,
            "score_diff": score,
            "score_total": total,
            "lineup": lineup,
            "state": state,
            "mask": mask,
        }
