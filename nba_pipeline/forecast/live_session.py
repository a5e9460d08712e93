"""Follow a game live: poll its play-by-play, forecast after every new event, print, keep in the
ledger. The command is ``nba-pipeline live`` (:mod:`nba_pipeline.commands.live`).

Every poll returns the whole game so far; it is converted to the raw PlayByPlayV2 contract
(``sources.pbp_v3.convert_pbp_v3``) and the rows not seen before are fed, one event at a time,
to the game's incremental state (``forecast.live_game.LiveGame``): one forecast and one printed
line per new event, each appended to the forecast ledger (source ``live``, or ``replay``). A row
the feed corrects later (same EVENTNUM, other content) is taken in its new form.

``--replay`` plays a recorded PlayByPlayV3 response through the same path: the response is cut
into the polls a live session would have made, each handled as one poll. ``--speed S`` runs the
game clock S times faster (a poll every ``--interval`` seconds holds ``interval * S`` more
seconds of game); 0 = as fast as possible, one poll per game minute.
Before the first event a pregame forecast is printed (and ledgered unless the game has tipped off).
The database (``NBA_DATABASE_URL``) holds the season's tables read as of the game date; a game
not in ``games`` yet (tonight's) takes its teams from the feed (:func:`game_from_response`), and
the command gives it the team features the daily run computes (``forecast.daily.pregame_context``).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from nba_pipeline.forecast.availability import OutPlayer
from nba_pipeline.forecast.ledger import PregameAfterTipoff, append_forecasts, entry_from_forecast
from nba_pipeline.forecast.live_game import LiveGame
from nba_pipeline.forecast.model import Forecast
from nba_pipeline.ingest.plays import game_seconds_elapsed
from nba_pipeline.ingest.raw import season_of
from nba_pipeline.sources.pbp_v3 import convert_pbp_v3

DEFAULT_INTERVAL_S = 5.0
EASTERN = ZoneInfo("America/New_York")
_ISO_CLOCK = re.compile(r"^PT(\d+)M(\d+(?:\.\d+)?)S$")


@dataclass
class Update:
    """One issued forecast and the game at its cut."""

    forecast: Forecast
    game_seconds: float
    made_at: pd.Timestamp
    rows: int  # raw rows the live state held when it was made


@dataclass
class LiveSession:
    """One game followed live: rows in, a forecast per new event out (printed, ledgered, kept)."""

    game: LiveGame
    source: str = "live"
    ledger_engine: Any = None  # None: nothing is written to the ledger
    out: Callable[[str], None] = print
    on_update: Callable[[Update], None] | None = None
    updates: list[Update] = field(default_factory=list)
    home: str = "HOME"
    away: str = "AWAY"
    # The players the game's context left out (forecast.availability), recorded with each forecast;
    # None: not known.
    out_players: tuple[OutPlayer, ...] | None = None
    _last: pd.DataFrame | None = None  # the previous poll's rows

    def pregame(self) -> Update | None:
        """The pregame forecast, when no event has been seen yet."""
        if self.game.n_events:
            return None
        return self._issue()

    def ingest(self, rows: pd.DataFrame) -> list[Update]:
        """Feed the rows of one poll (the whole game so far or only new rows): corrected rows first,
        then each new event alone, in EVENTNUM order, with a forecast after each."""
        rows = rows[rows["GAME_ID"].astype(str) == self.game.game_id]
        if rows.empty:
            return []
        seen = self.game.seen_event_nums()
        is_new = ~rows["EVENTNUM"].astype(int).isin(seen)
        old = _changed(rows[~is_new], self._last)
        self._last = rows
        if len(old):
            self.game.add_rows(old)  # corrections rebuild the state
        made = []
        new = rows[is_new].sort_values("EVENTNUM", kind="stable")
        for i in range(len(new)):
            if self.game.add_rows(new.iloc[i : i + 1]):
                made.append(self._issue())
        return made

    @staticmethod
    def rows_of(response: dict) -> pd.DataFrame:
        """A PlayByPlayV3 response (the whole game so far) as raw-contract rows."""
        return convert_pbp_v3(response)

    @property
    def final(self) -> bool:
        """The last event ends the 4th period or an overtime with the scores apart."""
        c = self.game.cut()
        return c.event_type == 13 and c.period >= 4 and c.home_score != c.away_score

    def _issue(self) -> Update:
        fc = replace(self.game.forecast(), out_players=self.out_players)
        made_at = pd.Timestamp.now(tz="UTC")
        note = ""
        if self.ledger_engine is not None:
            try:
                entry = entry_from_forecast(fc, self.source, made_at=made_at.to_pydatetime())
                append_forecasts(self.ledger_engine, [entry])
            except PregameAfterTipoff as e:
                note = f"  (not ledgered: {e})"
        u = Update(fc, self.game.cut().game_seconds, made_at, self.game.n_events)
        self.updates.append(u)
        self.out(format_line(fc, self.home, self.away) + note)
        if self.on_update is not None:
            self.on_update(u)
        return u


def _changed(rows: pd.DataFrame, last: pd.DataFrame | None) -> pd.DataFrame:
    """The rows whose content differs from the previous poll's row with the same EVENTNUM (one
    vectorized hash per row); all rows when the previous poll cannot be matched row for row."""
    if last is None or rows.empty or list(rows.columns) != list(last.columns):
        return rows
    if rows["EVENTNUM"].duplicated().any() or last["EVENTNUM"].duplicated().any():
        return rows
    before = pd.Series(
        pd.util.hash_pandas_object(last, index=False).to_numpy(), index=last["EVENTNUM"].to_numpy()
    )
    now = pd.util.hash_pandas_object(rows, index=False).to_numpy()
    prev = before.reindex(rows["EVENTNUM"].to_numpy()).to_numpy()
    return rows[now != prev]


def clock_text(period: int, clock_seconds: float) -> str:
    label = f"Q{period}" if period <= 4 else f"OT{period - 4}"
    m, s = divmod(max(clock_seconds, 0.0), 60)
    return f"{label} {int(m):2d}:{s:04.1f}"


def format_line(fc: Forecast, home: str, away: str) -> str:
    """One printed update: game state, then the three forecasts."""
    state = "pregame    " if fc.events_seen == 0 else clock_text(fc.period, fc.clock_seconds)
    return (
        f"{state}  {home} {fc.home_score:3d}-{fc.away_score:<3d} {away}  event {fc.events_seen:3d}  "
        f"P({home} win) {fc.p_home_win:.3f}  margin {fc.margin:+5.1f}  total {fc.total:5.1f}"
    )


def _game_seconds(action: dict) -> float:
    m = _ISO_CLOCK.match(str(action.get("clock", "")))
    clock = float(m.group(1)) * 60 + float(m.group(2)) if m else 0.0
    return float(game_seconds_elapsed(int(action.get("period") or 1), clock))


def replay_polls(
    response: dict,
    speed: float = 0.0,
    interval_s: float = DEFAULT_INTERVAL_S,
    sleep: Callable[[float], None] = time.sleep,
    step_game_seconds: float | None = None,
) -> Iterator[dict]:
    """The recorded response as the polls a live session would have made: each poll holds the
    actions up to a game time, ``interval_s * speed`` game seconds after the previous poll's, and
    comes ``interval_s`` wall seconds after it. ``speed`` 0: no waiting, one poll per game minute.
    ``step_game_seconds`` overrides the spacing (0: one poll per action)."""
    game = response.get("game") or {}
    actions = game.get("actions") or []
    if step_game_seconds is None:
        step_game_seconds = interval_s * speed if speed > 0 else 60.0
    times = [_game_seconds(a) for a in actions]
    n = len(actions)
    if step_game_seconds <= 0:
        for i in range(1, n + 1):
            yield {**response, "game": {**game, "actions": actions[:i]}}
        return
    horizon, i = 0.0, 0
    while i < n:
        horizon += step_game_seconds
        j = i
        while j < n and times[j] <= horizon:  # feed order; the clock only runs forward
            j += 1
        if speed > 0:
            sleep(interval_s)
        if j > i:  # a poll with nothing new is not worth converting
            i = j
            yield {**response, "game": {**game, "actions": actions[:i]}}


def game_from_response(response: dict, game_id: str, game_date: dt.date) -> pd.Series | None:
    """A ``games``-like row (game_id, season, game_date, teams) from a PlayByPlayV3 response, for a
    game not ingested yet: the home team acts at ``location == 'h'``; None until both teams acted."""
    teams: dict[str, tuple[int, str]] = {}
    for a in (response.get("game") or {}).get("actions") or []:
        loc, tid = a.get("location"), a.get("teamId")
        if loc in ("h", "v") and tid and loc not in teams:
            teams[loc] = (int(tid), str(a.get("teamTricode") or tid))
    if len(teams) < 2:
        return None
    return pd.Series(
        {
            "game_id": game_id,
            "season": season_of(game_date),
            "game_date": game_date,
            "home_team_id": teams["h"][0],
            "away_team_id": teams["v"][0],
            "home_team_abbr": teams["h"][1],
            "away_team_abbr": teams["v"][1],
        }
    )


def fetch_pbp_v3(game_id: str, timeout_s: float = 30.0) -> dict:
    """The game's PlayByPlayV3 response so far, from stats.nba.com (nba_api)."""
    from nba_api.stats.endpoints import playbyplayv3

    return playbyplayv3.PlayByPlayV3(game_id=game_id, timeout=timeout_s).get_dict()


def follow(
    session: LiveSession,
    polls: Iterator[dict] | Callable[[], dict],
    interval_s: float = DEFAULT_INTERVAL_S,
    sleep: Callable[[float], None] = time.sleep,
    max_polls: int | None = None,
) -> list[Update]:
    """Poll until the game is final (or the replay ends): a callable is called every
    ``interval_s`` seconds; an iterator (a replay) is consumed as fast as it yields."""
    session.pregame()
    n = 0
    while max_polls is None or n < max_polls:
        n += 1
        if callable(polls):
            try:  # the source's trouble (network, an empty or malformed answer) is retried
                rows = session.rows_of(polls())
            except Exception as e:  # noqa: BLE001
                session.out(f"poll failed ({type(e).__name__}: {e}); retrying in {interval_s:.0f} s")
                sleep(interval_s)
                continue
        else:
            response = next(polls, None)
            if response is None:
                break
            rows = session.rows_of(response)
        session.ingest(rows)
        if session.final:
            break
        if callable(polls):
            sleep(interval_s)
    return session.updates
