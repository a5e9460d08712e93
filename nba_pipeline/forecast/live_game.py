"""Incremental featurization of one game: a forecast after a new event costs that event, not the game.

:meth:`GameForecaster.forecast <nba_pipeline.forecast.game.GameForecaster.forecast>` (the batch
path) featurizes a game the way training does: ``ingest.plays.build_plays``, the lineups rebuilt
by ``analytics.stints``, then ``features.season_arrays`` with the season's as-of tables.
Repeating that after every event costs ~100 ms of pandas plus, the first time, reading the whole
season's tables. :class:`LiveGame` runs the same feature functions on the game's rows so far, on
arrays instead of frames, and keeps only what does not change during the game:

- each raw row is converted once, when it comes, by ``ingest.plays.event_columns`` (what
  ``build_plays`` converts a season with); after every event the rows so far are put in time order
  and scored by ``ingest.plays.time_order`` and ``sequence_columns``, their lineups rebuilt by
  ``analytics.stints.rebuild_on_court`` and their events encoded by
  ``features.tokenizer.EventTokenizer.encode_events``: a few hundred rows, numpy only;
- the game's static inputs are looked up once (:class:`~nba_pipeline.forecast.asof.AsOfLookup`):
  context vector, node features, chemistry minutes;
- the ModelBatch of the cut is built by the training dataset code over a one-game
  :class:`~nba_pipeline.features.season_arrays.SeasonArrays` that holds the last <= 50 events and
  the players on court.

Equality with the batch path (every cut, within 1e-4) is tested on real games in
``nba_pipeline_tests/test_forecast``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nba_pipeline.analytics.stints import rebuild_on_court
from nba_pipeline.features.game_players import chemistry_matrices, game_players
from nba_pipeline.features.graphs import NODE_DIM
from nba_pipeline.features.in_game_state import STATE_DIM
from nba_pipeline.features.season_arrays import SeasonArrays
from nba_pipeline.features.tokenizer import LINEUP_DIM, MAX_EVENTS, EventArrays, EventTokenizer
from nba_pipeline.forecast.asof import AsOfLookup
from nba_pipeline.forecast.model import Forecast, ForecastModel
from nba_pipeline.ingest.plays import (
    PLAYER_SLOTS,
    QUARTER_SECONDS,
    event_columns,
    rows_of_records,
    sequence_columns,
    time_order,
)
from nba_pipeline.ingest.schema import ON_COURT
from nba_pipeline.models.batch import ModelBatch

PLAYERS = [f"player{n}_id" for n in PLAYER_SLOTS]
TEAMS = [f"player{n}_team_id" for n in PLAYER_SLOTS]


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))


@dataclass
class CutState:
    """The game at the current cut: what a forecast line and the chart show beside the numbers."""

    events_seen: int
    period: int
    clock_seconds: float
    game_seconds: float
    home_score: int
    away_score: int
    event_type: int = 0  # of the last event (0: none yet)


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
        self.lookup = lookup
        self.game_id = lookup.game_id
        self.season = lookup.season
        self.starters = starters
        self._raw: dict[int, tuple] = {}  # EVENTNUM -> the row as given (duplicate / change check)
        self._raw_rows: list[dict[str, Any]] = []
        self._dtypes: dict[str, Any] = {}  # column dtypes of the frames given (raw_rows restores them)
        self._rows: dict[str, np.ndarray] = {}  # event_columns of the rows taken, in arrival order
        self._plays: pd.DataFrame | None = None  # the plays so far, in time order (cached)
        if prefetch:  # the likely players' inputs now, not at their first event
            everyone, rotation = lookup.expected_players()
            named = [int(p) for s in starters for p in s] if starters is not None else []
            lookup.node_x(everyone + named)
            lookup.cover(rotation + named)

    # -- rows in

    def add_rows(self, rows: pd.DataFrame | Iterable[Mapping[str, Any]]) -> int:
        """Add raw PlayByPlayV2 rows (rows of other games are ignored, an exact repeat of a row is
        dropped as ``build_plays`` drops duplicates). Returns the number of new events. A row whose
        EVENTNUM was seen with other content (a corrected feed) replaces it."""
        if isinstance(rows, pd.DataFrame):
            self._dtypes.update(rows.dtypes.to_dict())
            names = list(rows.columns)
            records = [dict(zip(names, v, strict=True)) for v in rows.to_numpy(dtype=object)]
        else:
            records = [dict(r) for r in rows]
        new: list[dict[str, Any]] = []
        changed = False
        for r in records:
            if str(r["GAME_ID"]) != self.game_id:
                continue
            sig = tuple(sorted((k, None if _missing(v) else v) for k, v in r.items()))
            en = int(r["EVENTNUM"])
            seen = self._raw.get(en)
            if seen is not None:
                if seen != sig:
                    self._raw[en] = sig
                    self._raw_rows = [x for x in self._raw_rows if int(x["EVENTNUM"]) != en] + [r]
                    changed = True
                continue
            self._raw[en] = sig
            self._raw_rows.append(r)
            new.append(r)
        if changed:
            self._rows = self._convert(self._raw_rows)
        elif new:
            cols = self._convert(new)
            self._rows = (
                {k: np.concatenate([self._rows[k], v]) for k, v in cols.items()} if self._rows else cols
            )
        if changed or new:
            self._plays = None
        return len(new)

    def _convert(self, records: list[dict[str, Any]]) -> dict[str, np.ndarray]:
        """``ingest.plays.event_columns`` of raw rows given as records."""
        cols = event_columns(rows_of_records(records), f"play-by-play of {self.game_id}")
        cols.pop("ft_ambiguous")
        return cols

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
    def n_events(self) -> int:
        """Events so far: the raw rows held (repeats and other games' rows not counted)."""
        return len(self._raw_rows)

    def plays(self) -> dict[str, np.ndarray]:
        """The events so far as ``plays`` columns in time order (those the model inputs read: ids
        0 for none, the ten on court rebuilt from the play-by-play), made by the functions the
        batch path runs; the feature functions read it as they read a season's ``plays`` frame."""
        if self._plays is None:
            r = self._rows
            if not r:
                return {}
            order = time_order(r["game_id"], r["period"], r["clock_seconds"], r["event_num"])
            p = {k: v[order] for k, v in r.items()}
            p.update(sequence_columns(p["game_id"], p["side"], p["points"]))
            n = len(order)
            on = rebuild_on_court(
                p["game_id"],
                p["period"],
                p["event_type"],
                p["action_type"],
                np.column_stack([p[c] for c in PLAYERS]),
                np.column_stack([p[c] for c in TEAMS]),
                np.full(n, self.lookup.home_team_id),
                np.full(n, self.lookup.away_team_id),
            ).on_court
            p.update({c: on[:, i] for i, c in enumerate(ON_COURT)})
            p["on_court"] = on
            self._plays = p
        return self._plays

    def on_court(self) -> np.ndarray:
        """int64 [n_events, 10]: the rebuilt on-court ids of every event (0 unknown)."""
        return self.plays()["on_court"] if self.n_events else np.zeros((0, len(ON_COURT)), np.int64)

    def cut(self) -> CutState:
        if not self.n_events:
            return CutState(0, 1, QUARTER_SECONDS, 0.0, 0, 0)
        p = self.plays()
        return CutState(
            self.n_events,
            int(p["period"][-1]),
            float(p["clock_seconds"][-1]),
            float(p["game_seconds"][-1]),
            int(p["home_score"][-1]),
            int(p["away_score"][-1]),
            int(p["event_type"][-1]),
        )

    def window(self, max_events: int = MAX_EVENTS) -> SeasonArrays:
        """A one-game SeasonArrays holding the last ``max_events`` events (encoded over the whole
        game, as the in-game state counts from its start) and the players on court at the cut
        (the pregame cut: the starters): all that the cut's ModelBatch reads."""
        n = self.n_events
        m = min(n, max_events)
        if n:
            plays = self.plays()
            ev = EventTokenizer(score_diff_std=1.0).encode_events(plays)
            last = self.on_court()[-1]
        else:
            ev = EventArrays(
                token=np.zeros(0, np.int16),
                time_left=np.zeros(0, np.float32),
                score_diff=np.zeros(0, np.int16),
                score_total=np.zeros(0, np.int16),
                lineup=np.zeros((0, LINEUP_DIM), np.uint8),
                state=np.zeros((0, STATE_DIM), np.int8),
                game_id=np.zeros(0, object),
                n_unknown=0,
                unknown_codes={},
            )
            plays = {"period": np.zeros(0, np.int64), "game_seconds": np.zeros(0)}
            last = np.zeros(10, dtype=np.int64)
            if self.starters is not None:
                home, away = (list(s) for s in self.starters)
                last[: len(home)] = home
                last[5 : 5 + len(away)] = away
        players = game_players(np.zeros(1, np.int64), last[None, :], 1)
        ids, local = players.player_id, players.slots[0]
        chem_offsets, chem = chemistry_matrices(
            players, lambda _, a, b: self.lookup.chem(a.tolist(), b.tolist())
        )
        ev_on_court = np.full((m, 10), -1, dtype=np.int16)
        if m:
            ev_on_court[-1] = local
        w = slice(n - m, n)
        return SeasonArrays(
            season=self.season,
            game_id=np.array([self.game_id], dtype="<U10"),
            game_date=np.array([self.lookup.game_date], dtype="datetime64[D]"),
            home_pts=np.zeros(1, np.int32),
            away_pts=np.zeros(1, np.int32),
            context=self.lookup.context.reshape(1, -1),
            starters=(local if not m else np.full(10, -1, np.int16)).reshape(1, 10),
            event_offsets=np.array([0, m], dtype=np.int64),
            player_offsets=players.offsets,
            chem_offsets=chem_offsets,
            ev_token=ev.token[w],
            ev_time_left=ev.time_left[w],
            ev_score_diff=ev.score_diff[w],
            ev_score_total=ev.score_total[w],
            ev_lineup=ev.lineup[w].reshape(m, LINEUP_DIM),
            ev_state=ev.state[w].reshape(m, STATE_DIM),
            ev_period=plays["period"][w].astype(np.int8),
            ev_game_seconds=plays["game_seconds"][w].astype(np.float32),
            ev_on_court=ev_on_court,
            player_id=ids.astype(np.int64),
            player_x=self.lookup.node_x(ids.tolist()).astype(np.float32).reshape(len(ids), NODE_DIM),
            player_found=np.ones(len(ids), dtype=bool),
            chem_minutes=chem,
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
