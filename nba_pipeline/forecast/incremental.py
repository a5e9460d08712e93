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
import sqlalchemy as sa

from nba_pipeline.features.graphs import NODE_DIM
from nba_pipeline.features.in_game_state import STATE_DIM, state_counts
from nba_pipeline.features.tokenizer import MAX_EVENTS
from nba_pipeline.ingest.raw import RawDataError
from nba_pipeline.ingest.schema import ON_COURT

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


# ----------------------------------------------------------------------------- as-of lookups


def _fetch_raw(conn: sa.Connection, stmt: sa.Select) -> list[tuple]:
    """All rows of ``stmt`` through the DBAPI cursor: SQLAlchemy's per-value result processing
    costs more than the query for the ~10^5 rows of a season's plays. The statement holds only
    internal values (game ids), rendered inline."""
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cur = conn.connection.driver_connection.cursor()
    try:
        cur.execute(sql)
        return cur.fetchall()
    finally:
        cur.close()


class AsOfLookup:
    """The static inputs of one game, read from the database as of the game date and cached:
    context vector, node features per player, chemistry minutes per pair.

    Chemistry needs the minutes two players shared on court in this season's games before the
    date; such a game is one where both were on court, so only the games of the players met so
    far are read (each team's recent rotation up front, anyone else at his first appearance), and
    the pair minutes come from ``features.graphs.shared_minutes_by_game`` and
    ``chemistry_minutes_asof`` as in training."""

    def __init__(self, engine: sa.Engine, game: pd.Series) -> None:
        self.engine = engine
        self.game_id = str(game["game_id"])
        self.season = str(game["season"])
        self.game_date = pd.Timestamp(game["game_date"]).date()
        self.home_team_id = int(game["home_team_id"])
        self.away_team_id = int(game["away_team_id"])
        self._x: dict[int, np.ndarray] = {}
        self._chem: dict[tuple[int, int], float] = {}
        self._covered: set[int] = set()
        self._games_read: set[str] = set()
        self._pairs: list[pd.DataFrame] = []
        # The rows of forecast.daily.betting_lines_of the context's line dims come from: they say
        # which line a forecast used (GameForecaster.line_used).
        self.lines: pd.DataFrame | None = None
        self.context = self._context()

    def _tables(self) -> dict[str, sa.Table]:
        import nba_pipeline.analytics.schema  # noqa: F401 - registers player_features, team_game_features
        from nba_pipeline.db import metadata

        return metadata.tables  # type: ignore[return-value]

    def _context(self) -> np.ndarray:
        from nba_pipeline.features.context import ContextFeatureBuilder
        from nba_pipeline.forecast.daily import betting_lines_of

        t = self._tables()["team_game_features"]
        with self.engine.connect() as conn:
            rows = pd.read_sql(sa.select(t).where(t.c.game_id == self.game_id), conn)
        self.lines = betting_lines_of(self.engine, [self.game_id])
        return ContextFeatureBuilder().build([self.game_id], rows, self.lines).values[0].astype(np.float32)

    def use_context(self, context: np.ndarray, lines: pd.DataFrame | None) -> None:
        """Take a context computed elsewhere (``forecast.daily.scheduled_context``: a game not in
        ``team_game_features`` yet) with the line rows it was built from, so the forecast reports
        the line its context holds."""
        self.context = np.asarray(context, dtype=np.float32)
        self.lines = lines

    def expected_players(self, last_games: int = 3, per_team: int = 8) -> tuple[list[int], list[int]]:
        """(everyone who played for either team this season before the date, the rotation: each
        team's ``per_team`` players with the most seconds in its last ``last_games`` games)."""
        t = self._tables()["player_game_stats"]
        teams = [self.home_team_id, self.away_team_id]
        q = sa.select(t.c.player_id, t.c.team_id, t.c.game_date, t.c.seconds).where(
            t.c.season == self.season, t.c.team_id.in_(teams), t.c.game_date < self.game_date
        )
        with self.engine.connect() as conn:
            df = pd.DataFrame(
                conn.execute(q).fetchall(), columns=["player_id", "team_id", "game_date", "seconds"]
            )
        rotation: list[int] = []
        for team in teams:
            mine = df[df["team_id"] == team]
            recent = mine[mine["game_date"].isin(sorted(mine["game_date"].unique())[-last_games:])]
            secs = recent.groupby("player_id")["seconds"].sum().sort_values(ascending=False, kind="stable")
            rotation += [int(p) for p in secs.index[:per_team]]
        return sorted(int(p) for p in df["player_id"].unique()), rotation

    def node_x(self, ids: Iterable[int]) -> np.ndarray:
        """float32 [n, 16]: each player's latest player_features snapshot before the date."""
        ids = [int(i) for i in ids]
        new = sorted({i for i in ids if i not in self._x})
        if new:
            from nba_pipeline.features.graphs import default_node_vector, lookup_node_features

            t = self._tables()["player_features"]
            with self.engine.connect() as conn:
                pf = pd.read_sql(sa.select(t).where(t.c.season == self.season, t.c.player_id.in_(new)), conn)
            if pf.empty:
                x = np.tile(default_node_vector(), (len(new), 1))
            else:
                q = pd.DataFrame({"player_id": new, "game_date": [self.game_date] * len(new)})
                x = lookup_node_features(q, pf).x
            for pid, row in zip(new, x.reshape(len(new), NODE_DIM), strict=True):
                self._x[pid] = row.astype(np.float32)
        return np.stack([self._x[i] for i in ids]) if ids else np.zeros((0, NODE_DIM), np.float32)

    def cover(self, ids: Iterable[int]) -> None:
        """Read the pair minutes of every earlier game of the season in which one of ``ids`` was on
        court (games already read are skipped).

        The games come from ``player_game_stats`` (a row for every player on court in a game,
        indexed by player); their plays are read through the driver's cursor as numbers (no
        per-value type processing: ~80k rows for a late-season game in ~0.2 s)."""
        new = sorted({int(i) for i in ids if int(i) > 0} - self._covered)
        if not new:
            return
        from nba_pipeline.features.graphs import pair_minutes_with_dates

        tables = self._tables()
        plays, games, pgs = tables["plays"], tables["games"], tables["player_game_stats"]
        q = (
            sa.select(pgs.c.game_id)
            .distinct()
            .where(pgs.c.season == self.season, pgs.c.player_id.in_(new), pgs.c.game_date < self.game_date)
        )
        # Numbers only (game ids are digit strings, a NULL player is 0 as in ``id_matrix``), so the
        # driver's rows become one float array at once.
        numeric = [
            sa.cast(plays.c.game_id, sa.BigInteger),
            plays.c.seq,
            plays.c.game_seconds,
            *(sa.func.coalesce(plays.c[c], 0) for c in ON_COURT),
        ]
        with self.engine.connect() as conn:
            gids = sorted({str(r[0]) for r in conn.execute(q)} - self._games_read)
            if gids:
                fetched = _fetch_raw(conn, sa.select(*numeric).where(plays.c.game_id.in_(gids)))
                dates = conn.execute(
                    sa.select(
                        games.c.game_id, games.c.game_date, games.c.home_team_id, games.c.away_team_id
                    ).where(games.c.game_id.in_(gids))
                ).fetchall()
        if gids:
            arr = np.array(fetched, dtype=np.float64).reshape(len(fetched), 3 + len(ON_COURT))
            rows = pd.DataFrame(arr[:, 1:], columns=["seq", "game_seconds", *ON_COURT])
            rows.insert(0, "game_id", arr[:, 0].astype(np.int64).astype(str))
            day = pd.DataFrame(dates, columns=["game_id", "game_date", "home_team_id", "away_team_id"])
            day["game_id"] = day["game_id"].astype(np.int64).astype(str)
            rows = self._with_lineup_inputs(rows, gids)
            self._pairs.append(pair_minutes_with_dates(rows, day))
            self._games_read.update(gids)
        self._covered.update(new)

    def _with_lineup_inputs(self, rows: pd.DataFrame, game_ids: list[str]) -> pd.DataFrame:
        """``rows`` (numbers only: game ids without leading zeros, 0 for a NULL player), with the
        games whose lineups are not all known read again with what rebuilding them needs (seasons
        without a lineups file). ``game_ids``: the same games as stored."""
        unknown = (rows[ON_COURT].to_numpy() == 0).any(axis=1)
        numeric = set(rows.loc[unknown, "game_id"])
        if not numeric:
            return rows
        from nba_pipeline.features.graphs import LINEUP_INPUT_COLUMNS

        stored = [g for g in game_ids if str(int(g)) in numeric]
        t = self._tables()["plays"]
        with self.engine.connect() as conn:
            full = pd.read_sql(
                sa.select(*(t.c[c] for c in LINEUP_INPUT_COLUMNS)).where(t.c.game_id.in_(stored)), conn
            )
        full["game_id"] = full["game_id"].astype(np.int64).astype(str)
        return pd.concat([rows[~rows["game_id"].isin(numeric)], full], ignore_index=True)

    def chem(self, a: list[int], b: list[int]) -> np.ndarray:
        """float64 [len(a)]: minutes players a[i] and b[i] shared on court before the date."""
        need = [(x, y) for x, y in zip(a, b, strict=True) if (min(x, y), max(x, y)) not in self._chem]
        if need:
            from nba_pipeline.features.graphs import chemistry_minutes_asof

            self.cover([p for pair in need for p in pair])
            uniq = sorted({(min(x, y), max(x, y)) for x, y in need})
            if self._pairs:
                q = pd.DataFrame(
                    {
                        "player_a": [x for x, _ in uniq],
                        "player_b": [y for _, y in uniq],
                        "game_date": [pd.Timestamp(self.game_date)] * len(uniq),
                    }
                )
                vals = chemistry_minutes_asof(q, pd.concat(self._pairs, ignore_index=True))
            else:
                vals = np.zeros(len(uniq))
            self._chem.update({k: float(v) for k, v in zip(uniq, vals, strict=True)})
        return np.array([self._chem[(min(x, y), max(x, y))] for x, y in zip(a, b, strict=True)])


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
        forecaster: Any,
        game: pd.Series,
        starters: tuple[list[int], list[int]] | None = None,
        prefetch: bool = True,
    ) -> None:
        self.forecaster = forecaster
        self.game_id = str(game["game_id"])
        self.season = str(game["season"])
        self.lookup = AsOfLookup(forecaster.engine, game)
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

    def window(self, max_events: int = MAX_EVENTS) -> Any:
        """A one-game SeasonArrays holding the last ``max_events`` events and the players on court
        at the cut (the pregame cut: the starters): all that the cut's ModelBatch reads."""
        from nba_pipeline.features.season_arrays import SeasonArrays
        from nba_pipeline.features.tokenizer import EventTokenizer, time_left_fraction

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

    def batch(self) -> Any:
        """The ModelBatch of the current cut, built by the training dataset code."""
        from nba_pipeline.training.dataset import NBADataset

        f = self.forecaster
        arrays = self.window(MAX_EVENTS)
        ds = NBADataset(arrays, f.norm, f.score_diff_std, mode="all_events", max_events=MAX_EVENTS)
        return ds.get_batch([int(arrays.n_events[0])])

    def forecast(self) -> Any:
        """The forecast at the current cut (:class:`~nba_pipeline.forecast.game.Forecast`)."""
        from nba_pipeline.forecast.game import Forecast

        f = self.forecaster
        batch = self.batch()
        out = f.loaded.model.predict(batch, f.norm, f.temperature)
        line_source, line_fetched_at = f.line_used(batch.context, self.lookup.lines, self.game_id)
        c = self.cut()
        return Forecast(
            game_id=self.game_id,
            p_home_win=float(out["win_prob"][0]),
            margin=float(out["margin"][0]),
            total=float(out["total"][0]),
            events_seen=c.events_seen,
            model_version=f.loaded.version,
            period=c.period,
            clock_seconds=c.clock_seconds,
            home_score=c.home_score,
            away_score=c.away_score,
            line_source=line_source,
            line_fetched_at=line_fetched_at,
        )
