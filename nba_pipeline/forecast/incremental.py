"""Incremental featurization of one game: a forecast after a new event costs that event, not the game.

:class:`GameForecaster.forecast` (the batch path) featurizes a game the way training does: every
raw row through ``ingest.plays.build_plays``, lineups rebuilt by ``analytics.stints``, then
``features.season_arrays`` and ``training.dataset``. Repeating that after every event costs
~100 ms of pandas plus, the first time, reading the whole season's tables. :class:`LiveGame` keeps
the game's state instead and produces the same numbers:

- the game's static inputs are looked up once (:class:`AsOfLookup`): the context vector (the
  game's two ``team_game_features`` rows), the node features of each player (latest snapshot
  before the game date) and the chemistry minutes of each pair of teammates, read only for the
  games in which the players of this game were on court (which are the only games where a pair of
  them can have shared minutes), not for the whole season;
- each raw PlayByPlayV2 row is converted by :func:`play_from_raw`, the row-wise twin of
  ``build_plays``, and inserted at its time-order position (``seq`` key: period, clock
  descending, EVENTNUM; a late row that sorts before earlier ones re-scores only what follows it);
- on-court players are rebuilt by :class:`LineupRebuilder`, the per-game twin of
  ``analytics.stints.reconstruct_lineups`` working from per-period evidence kept as rows arrive;
- the ModelBatch of the current cut is built by ``training.dataset.NBADataset`` over a one-game
  :class:`~nba_pipeline.features.season_arrays.SeasonArrays` that holds only the last <= 50
  events and the players on court, so the batch code is the training code.

Equality with the batch path (every cut, within 1e-4) is tested on real games in
``nba_pipeline_tests/test_forecast``; a row whose content changes after it was seen (a corrected
feed) rebuilds the state from all rows, which stays exact.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from nba_pipeline.features.graphs import NODE_DIM
from nba_pipeline.features.in_game_state import STATE_DIM, state_counts
from nba_pipeline.features.season_arrays import SeasonArrays
from nba_pipeline.features.tokenizer import MAX_EVENTS, EventTokenizer, time_left_fraction
from nba_pipeline.forecast.asof import AsOfLookup
from nba_pipeline.forecast.model import Forecast, ForecastModel
from nba_pipeline.ingest.raw import RawDataError
from nba_pipeline.models.batch import ModelBatch

# Mirrors of the constants the batch path uses (ingest.plays, analytics.stints).
HOME_PERSON_TYPES = (2, 4, 6)
AWAY_PERSON_TYPES = (3, 5, 7)
REGULATION_SECONDS = 2880.0
EVIDENCE_EVENT_TYPES = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 10})
TECHNICAL_FOULS = frozenset({11, 12, 13, 16, 18, 19, 25, 30})
FIRST_TEAM_ID = 1_610_000_000
_MISS = re.compile(r"\bMISS\b", re.ASCII)  # Arrow's regex engine (build_plays) is ASCII
_CLOCK = re.compile(r"^(\d+):(\d+(?:\.\d*)?)$")


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _int(v: Any) -> int:
    return 0 if _missing(v) else int(v)


def _text(v: Any) -> str | None:
    return None if _missing(v) else str(v)


class Play(NamedTuple):
    """One ``plays`` row, the columns the model inputs and the lineup rebuild read."""

    event_num: int
    period: int
    event_type: int
    action_type: int
    clock_seconds: float
    game_seconds: float
    seconds_left_regulation: float
    side: int  # 0 neutral, 1 home, 2 away
    points: int
    players: tuple[int, int, int]  # player1..3 id, 0 none
    teams: tuple[int, int, int]  # player1..3 team id, 0 none

    @property
    def key(self) -> tuple[int, float, int]:
        """Time order within the game (``plays.seq``): period, clock descending, EVENTNUM."""
        return (self.period, -self.clock_seconds, self.event_num)


def play_from_raw(row: Mapping[str, Any], source: str = "live feed") -> Play:
    """One raw PlayByPlayV2 row -> :class:`Play`, with ``ingest.plays.build_plays``'s rules (acting
    side from PERSON1TYPE then the descriptions, jump balls neutral, points from ``3PT`` / ``MISS``,
    a free throw without MISS and without SCORE counted as missed); the equality tests compare
    the two on real games."""
    clock_text = str(row["PCTIMESTRING"]).strip()
    m = _CLOCK.match(clock_text)
    if m is None:
        raise RawDataError(f"{source}: column 'PCTIMESTRING' has unparsable clock value {clock_text!r}")
    clock = float(m.group(1)) * 60 + float(m.group(2))
    period, et = int(row["PERIOD"]), int(row["EVENTMSGTYPE"])
    start = (period - 1) * 720.0 if period <= 4 else REGULATION_SECONDS + (period - 5) * 300.0
    game_seconds = start + (720.0 if period <= 4 else 300.0) - clock
    home_d, away_d = _text(row.get("HOMEDESCRIPTION")), _text(row.get("VISITORDESCRIPTION"))
    p1type = _int(row.get("PERSON1TYPE"))
    side = 1 if p1type in HOME_PERSON_TYPES else 2 if p1type in AWAY_PERSON_TYPES else 0
    if side == 0 and (home_d is None) != (away_d is None):
        side = 1 if home_d is not None else 2  # only one team's description
    if et == 10:
        side = 0
    text = (home_d or "") + " " + (away_d or "")
    ft_miss = bool(_MISS.search(text)) or (et == 3 and _missing(row.get("SCORE")))
    points = (3 if "3PT" in text else 2) if et == 1 else (1 if et == 3 and not ft_miss else 0)
    if points > 0 and side == 0:
        raise RawDataError(
            f"{source}: scoring event without a home/away side (PERSON1TYPE), e.g. "
            f"{[str(row['GAME_ID']), int(row['EVENTNUM'])]}"
        )
    return Play(
        event_num=int(row["EVENTNUM"]),
        period=period,
        event_type=et,
        action_type=int(row["EVENTMSGACTIONTYPE"]),
        clock_seconds=clock,
        game_seconds=game_seconds,
        seconds_left_regulation=max(REGULATION_SECONDS - game_seconds, 0.0) if period <= 4 else 0.0,
        side=side,
        points=points,
        players=tuple(_int(row.get(f"PLAYER{n}_ID")) for n in (1, 2, 3)),  # type: ignore[arg-type]
        teams=tuple(_int(row.get(f"PLAYER{n}_TEAM_ID")) for n in (1, 2, 3)),  # type: ignore[arg-type]
    )


# ----------------------------------------------------------------------------- lineups


@dataclass
class _PeriodEvidence:
    """What ``reconstruct_lineups`` reads from one period: starters in order of first appearance,
    players whose first appearance is a substitution in (banned from filling), activity counts."""

    starters: dict[int, list[int]]
    banned: set[int]
    activity: dict[tuple[int, int], int]  # (side, player) -> evidence rows


class LineupRebuilder:
    """``analytics.stints.reconstruct_lineups`` for one game, fed one period at a time.

    The starters of a period are the players who act (or are substituted out) before being
    substituted in; a side with fewer than five is completed from the game's first-period starters
    (third period only), the previous period's closing lineup, then the side's most active players
    of the game so far; substitutions are applied in time order."""

    def __init__(self, home_team_id: int, away_team_id: int) -> None:
        self.home_team_id = int(home_team_id)
        self.away_team_id = int(away_team_id)

    def evidence(self, plays: list[Play]) -> _PeriodEvidence:
        """One period's evidence from its plays (time order)."""
        first: dict[int, tuple[int, int]] = {}  # player -> (role, side) of the first entry
        starters: dict[int, list[int]] = {1: [], 2: []}
        banned: set[int] = set()
        activity: dict[tuple[int, int], int] = {}
        for p in plays:
            et = p.event_type
            if et not in EVIDENCE_EVENT_TYPES or (et == 6 and p.action_type in TECHNICAL_FOULS):
                continue
            entries = []
            for n in range(3):
                pid, tid = p.players[n], p.teams[n]
                side = 1 if tid == self.home_team_id else 2 if tid == self.away_team_id else 0
                if pid <= 0 or pid >= FIRST_TEAM_ID or side == 0 or (n == 2 and et == 8):
                    continue
                entries.append((1 if (et == 8 and n == 1) else 0, n, side, pid))
            entries.sort()  # by role, then slot: ``_evidence`` sorts each row's entries by role
            for role, _, side, pid in entries:
                activity[(side, pid)] = activity.get((side, pid), 0) + 1
                if pid not in first:
                    first[pid] = (role, side)
                    if role == 0:
                        starters[side].append(pid)
                    else:
                        banned.add(pid)
        return _PeriodEvidence(starters, banned, activity)

    @staticmethod
    def activity_order(activity: dict[tuple[int, int], int]) -> dict[int, list[int]]:
        """Players of each side by evidence count, most active first, ties as ``reconstruct_lineups``
        orders them (pandas ``sort_values`` over the players in id order)."""
        out: dict[int, list[int]] = {}
        for side in (1, 2):
            items = sorted((pid, n) for (s, pid), n in activity.items() if s == side)
            if items:
                df = pd.DataFrame(items, columns=["player", "n"])
                out[side] = df.sort_values("n", ascending=False)["player"].tolist()
        return out

    def lineups(self, periods: list[list[Play]], evidence: list[_PeriodEvidence]) -> np.ndarray:
        """int64 [n_plays, 10]: the ten on-court ids (0 unknown) of every play, periods in order."""
        total: dict[tuple[int, int], int] = {}
        for ev in evidence:
            for k, v in ev.activity.items():
                total[k] = total.get(k, 0) + v
        act_map: dict[int, list[int]] | None = None
        rows: list[np.ndarray] = []
        prev_end: dict[int, list[int]] = {}
        q1: dict[int, list[int]] = {}
        for plays, ev in zip(periods, evidence, strict=True):
            per = plays[0].period
            lineup: dict[int, list[int]] = {}
            for s in (1, 2):
                cur = list(ev.starters[s])[:5]
                if len(cur) < 5:
                    if act_map is None:
                        act_map = self.activity_order(total)
                    pools = ([q1.get(s, [])] if per == 3 else []) + [prev_end.get(s, []), act_map.get(s, [])]
                    for pool in pools:
                        for pl in pool:
                            if len(cur) < 5 and pl not in cur and pl not in ev.banned:
                                cur.append(pl)
                lineup[s] = cur + [0] * (5 - len(cur))
            if per == 1:
                q1 = {s: list(v) for s, v in lineup.items()}
            cur_row = lineup[1] + lineup[2]
            out = np.empty((len(plays), 10), dtype=np.int64)
            last = 0
            for i, p in enumerate(plays):
                if p.event_type != 8:
                    continue
                out[last:i] = cur_row
                p1, p2 = p.players[0], p.players[1]
                if p1 in cur_row and p2 > 0 and p2 not in cur_row:
                    cur_row = list(cur_row)
                    cur_row[cur_row.index(p1)] = p2
                last = i
            out[last:] = cur_row
            rows.append(out)
            prev_end = {1: cur_row[:5], 2: cur_row[5:]}
        return np.concatenate(rows) if rows else np.zeros((0, 10), dtype=np.int64)


# ----------------------------------------------------------------------------- the game state


@dataclass
class CutState:
    """The game at the current cut: what a forecast line and the chart show beside the numbers."""

    events_seen: int
    period: int
    clock_seconds: float
    game_seconds: float
    home_score: int
    away_score: int


class LiveGame:
    """One game's incremental state (module docstring). ``add_rows`` raw PlayByPlayV2 rows as they
    come (any batch size, any order), ``batch()`` / ``forecast()`` at the current cut."""

    def __init__(
        self,
        model: ForecastModel,
        lookup: AsOfLookup,
        starters: tuple[list[int], list[int]] | None = None,
        prefetch: bool = True,
    ) -> None:
        self.model = model
        self.game_id = lookup.game_id
        self.season = lookup.season
        self.lookup = lookup
        self.rebuilder = LineupRebuilder(self.lookup.home_team_id, self.lookup.away_team_id)
        self.starters = starters
        self._raw: dict[int, tuple] = {}  # EVENTNUM -> the row as given (duplicate / change check)
        self._raw_rows: list[dict[str, Any]] = []
        self._dtypes: dict[str, Any] = {}  # column dtypes of the frames given (raw_rows restores them)
        self._reset()
        if prefetch:  # the likely players' inputs now, not at their first event
            everyone, rotation = self.lookup.expected_players()
            named = [int(p) for s in starters for p in s] if starters is not None else []
            self.lookup.node_x(everyone + named)
            self.lookup.cover(rotation + named)

    def _reset(self) -> None:
        self.plays: list[Play] = []
        self._keys: list[tuple[int, float, int]] = []
        self.home_score: list[int] = []
        self.away_score: list[int] = []
        self._evidence: dict[int, _PeriodEvidence] = {}  # per period, dropped when its rows change
        self._on_court: np.ndarray | None = None

    # -- rows in

    def add_rows(self, rows: pd.DataFrame | Iterable[Mapping[str, Any]]) -> int:
        """Add raw PlayByPlayV2 rows (rows of other games are ignored, an exact repeat of a row is
        dropped as ``build_plays`` drops duplicates). Returns the number of new events. A row whose
        EVENTNUM was seen with other content (a corrected feed) rebuilds the state from every row."""
        if isinstance(rows, pd.DataFrame):
            self._dtypes.update(rows.dtypes.to_dict())
            records = rows.to_dict("records")
        else:
            records = list(rows)
        added, changed = 0, False
        for r in records:
            if str(r["GAME_ID"]) != self.game_id:
                continue
            sig = tuple(sorted((k, None if _missing(v) else v) for k, v in r.items()))
            en = int(r["EVENTNUM"])
            seen = self._raw.get(en)
            if seen is not None:
                if seen != sig:
                    self._raw[en] = sig
                    self._raw_rows = [x for x in self._raw_rows if int(x["EVENTNUM"]) != en] + [dict(r)]
                    changed = True
                continue
            self._raw[en] = sig
            self._raw_rows.append(dict(r))
            if not changed:
                self._insert(play_from_raw(r, f"play-by-play of {self.game_id}"))
            added += 1
        if changed:
            self._reset()
            for r in self._raw_rows:
                self._insert(play_from_raw(r, f"play-by-play of {self.game_id}"))
        return added

    def _insert(self, play: Play) -> None:
        key = play.key
        i = bisect_left(self._keys, key)
        self._keys.insert(i, key)
        self.plays.insert(i, play)
        self.home_score.insert(i, 0)
        self.away_score.insert(i, 0)
        h = self.home_score[i - 1] if i else 0
        a = self.away_score[i - 1] if i else 0
        for j in range(i, len(self.plays)):  # running score from the insertion point on
            p = self.plays[j]
            h += p.points if p.side == 1 else 0
            a += p.points if p.side == 2 else 0
            self.home_score[j], self.away_score[j] = h, a
        self._evidence.pop(play.period, None)
        self._on_court = None

    # -- state out

    def seen_event_nums(self) -> set[int]:
        """EVENTNUMs of the rows taken so far."""
        return set(self._raw)

    def raw_rows(self) -> pd.DataFrame:
        """The raw rows the state holds (each EVENTNUM in its latest form), in arrival order: what
        the batch path must be given to featurize the same cut."""
        df = pd.DataFrame(self._raw_rows)
        return df.astype({c: t for c, t in self._dtypes.items() if c in df.columns}) if len(df) else df

    @property
    def n_rows(self) -> int:
        """Raw rows held (duplicates and other games' rows not counted)."""
        return len(self._raw_rows)

    @property
    def n_events(self) -> int:
        return len(self.plays)

    def cut(self) -> CutState:
        if not self.plays:
            return CutState(0, 1, 720.0, 0.0, 0, 0)
        p = self.plays[-1]
        n = len(self.plays)
        return CutState(
            n, p.period, p.clock_seconds, p.game_seconds, self.home_score[-1], self.away_score[-1]
        )

    def on_court(self) -> np.ndarray:
        """int64 [n_events, 10]: the rebuilt on-court ids of every event (0 unknown)."""
        if self._on_court is None:
            periods: list[list[Play]] = []
            for p in self.plays:
                if periods and periods[-1][0].period == p.period:
                    periods[-1].append(p)
                else:
                    periods.append([p])
            evidence = []
            for plays in periods:
                per = plays[0].period
                if per not in self._evidence:
                    self._evidence[per] = self.rebuilder.evidence(plays)
                evidence.append(self._evidence[per])
            self._on_court = self.rebuilder.lineups(periods, evidence)
        return self._on_court

    def state_frame(self) -> pd.DataFrame:
        """The events so far as the ``plays`` columns ``features.in_game_state`` reads (a field goal
        event is made or missed by its type, a free throw made when it scored)."""
        et = np.array([p.event_type for p in self.plays], dtype=np.int64)
        points = np.array([p.points for p in self.plays], dtype=np.int64)
        made = np.where(et == 3, points > 0, et == 1)
        return pd.DataFrame(
            {
                "game_id": self.game_id,
                "period": np.array([p.period for p in self.plays], dtype=np.int64),
                "event_type": et,
                "action_type": np.array([p.action_type for p in self.plays], dtype=np.int64),
                "side": np.array([p.side for p in self.plays], dtype=np.int64),
                "is_made": made,
                "clock_seconds": np.array([p.clock_seconds for p in self.plays], dtype=np.float64),
            }
        )

    def window(self, max_events: int = MAX_EVENTS) -> SeasonArrays:
        """A one-game SeasonArrays holding the last ``max_events`` events and the players on court
        at the cut (the pregame cut: the starters): all that the cut's ModelBatch reads."""
        n = len(self.plays)
        w = self.plays[max(0, n - max_events) :]
        m = len(w)
        if m:
            on = self.on_court()[n - m :]
            last = on[-1]
        else:
            on = np.zeros((0, 10), dtype=np.int64)
            last = np.zeros(10, dtype=np.int64)
            if self.starters is not None:
                home, away = (list(s) for s in self.starters)
                last[: len(home)] = home
                last[5 : 5 + len(away)] = away
        ids = np.unique(last[last > 0])
        local = np.where(last > 0, np.searchsorted(ids, last), -1).astype(np.int16)
        x = self.lookup.node_x(ids.tolist())
        ii, jj = np.meshgrid(np.arange(len(ids)), np.arange(len(ids)), indexing="ij")
        chem = np.zeros(len(ids) ** 2)
        off = (ii != jj).ravel()
        if off.any():
            chem[off] = self.lookup.chem(ids[ii.ravel()[off]].tolist(), ids[jj.ravel()[off]].tolist())
        et = np.array([p.event_type for p in w], dtype=np.int64)
        side = np.array([p.side for p in w], dtype=np.int64)
        token, _ = EventTokenizer.token_ids(et, side)
        period = np.array([p.period for p in w], dtype=np.int64)
        hs = np.array(self.home_score[n - m :], dtype=np.int64)
        as_ = np.array(self.away_score[n - m :], dtype=np.int64)
        pl = np.array([p.players for p in w], dtype=np.int64).reshape(m, 3)
        known = on > 0
        actor = known & (on == pl[:, :1])
        involved = actor | (known & ((on == pl[:, 1:2]) | (on == pl[:, 2:3])))
        ev_on_court = np.full((m, 10), -1, dtype=np.int16)
        if m:
            ev_on_court[-1] = local
        # Fouls and timeouts count from the period's / game's start: every event's state, then the window's.
        state = state_counts(self.state_frame())[n - m :]
        return SeasonArrays(
            season=self.season,
            game_id=np.array([self.game_id], dtype="<U10"),
            game_date=np.array([self.lookup.game_date], dtype="datetime64[D]"),
            home_pts=np.zeros(1, np.int32),
            away_pts=np.zeros(1, np.int32),
            context=self.lookup.context.reshape(1, -1),
            starters=(local if not m else np.full(10, -1, np.int16)).reshape(1, 10),
            event_offsets=np.array([0, m], dtype=np.int64),
            player_offsets=np.array([0, len(ids)], dtype=np.int64),
            chem_offsets=np.array([0, len(ids) ** 2], dtype=np.int64),
            ev_token=token,
            ev_time_left=time_left_fraction(
                period,
                np.array([p.clock_seconds for p in w], dtype=np.float64),
                np.array([p.seconds_left_regulation for p in w], dtype=np.float64),
            ),
            ev_score_diff=(hs - as_).astype(np.int16),
            ev_score_total=(hs + as_).astype(np.int16),
            ev_lineup=np.concatenate([involved, actor], axis=1).astype(np.uint8).reshape(m, 20),
            ev_state=state.reshape(m, STATE_DIM),
            ev_period=period.astype(np.int8),
            ev_game_seconds=np.array([p.game_seconds for p in w], dtype=np.float32),
            ev_on_court=ev_on_court,
            player_id=ids.astype(np.int64),
            player_x=x.astype(np.float32).reshape(len(ids), NODE_DIM),
            player_found=np.ones(len(ids), dtype=bool),
            chem_minutes=chem.astype(np.float32),
        )

    def batch(self) -> ModelBatch:
        """The ModelBatch of the current cut, built by the training dataset code."""
        arrays = self.window(MAX_EVENTS)
        return self.model.batch(arrays, int(arrays.n_events[0]))

    def forecast(self) -> Forecast:
        """The forecast at the current cut."""
        c = self.cut()
        return self.model.forecast(
            self.batch(),
            self.game_id,
            self.lookup.lines,
            events_seen=c.events_seen,
            period=c.period,
            clock_seconds=c.clock_seconds,
            home_score=c.home_score,
            away_score=c.away_score,
        )
