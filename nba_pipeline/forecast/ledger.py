"""The forecast ledger: every forecast the product issues, kept to be scored after the game.

A forecast is only honest if it was written down before the result was known and never touched
after, so the table is append-only:

- the module's API adds rows and reads them, nothing else: :func:`append_forecasts`,
  :func:`read_ledger` (and :func:`ensure_ledger` to create the table);
- on SQLite and PostgreSQL the table is created with triggers that make the database itself refuse
  an UPDATE or DELETE of a row (whatever code tries it);
- a forecast is identified by (game, model version, state, event index, source): appending one
  that is already there adds nothing (a rerun of the daily forecasts, a restarted live session);
- a ``pregame`` forecast made at or after the game's tip-off is refused
  (:class:`PregameAfterTipoff`): it would be scored as a forecast nobody could have used.
  The tip-off is, in order: the time the caller gives (e.g. the scoreboard's ``gameTimeUTC``),
  the first in-game forecast of the game already in the ledger, or noon US/Eastern of the game
  date (no NBA game starts earlier; the ``games`` table has dates, not times);
- each row says which market line the forecast used (``line_source``: 'odds.parquet' for the
  historical ``betting_lines``, else the ``fetched_lines`` source such as 'nba_api_odds' or 'csv';
  ``line_fetched_at``: when a fetched line was had), both NULL when it used none, so a forecast
  can be judged knowing what the market had told it. A table created before these columns gains
  them (:func:`ensure_ledger`: ``ALTER TABLE ... ADD COLUMN``, nullable, old rows NULL; the
  triggers refuse only UPDATE and DELETE, so they stay as they are);
- each pregame forecast of the daily run says which players it took as out (``out_players``,
  ``forecast.availability``), and one that used a line keeps the model's own forecast with the
  line withheld beside it (``own_p_home_win``, ``own_margin``, ``own_total``), so the scorecard
  shows both. Added later like the line columns: old rows read NULL (not recorded).

Usage (the daily asset, the live command, the scorecard):

    from nba_pipeline.forecast.ledger import append_forecasts, entry_from_forecast, read_ledger
    append_forecasts(engine, [entry_from_forecast(fc, source="daily")], tipoffs={gid: tip_utc})
    df = read_ledger(engine, game_ids=[gid])     # one row per forecast, made_at in UTC
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa

from nba_pipeline.db import insert_new, metadata, naive_utc, read_select

STATES = ("pregame", "after_event")
KEY = ("game_id", "model_version", "state", "event_index", "source")
EASTERN = ZoneInfo("America/New_York")
EARLIEST_TIPOFF_ET = dt.time(12, 0)

forecast_ledger = sa.Table(
    "forecast_ledger",
    metadata,
    sa.Column("forecast_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("game_id", sa.String(10), nullable=False),
    sa.Column("model_version", sa.String(32), nullable=False),
    sa.Column("made_at", sa.DateTime, nullable=False),  # UTC (stored without a zone)
    sa.Column("state", sa.String(12), nullable=False),  # 'pregame' or 'after_event'
    sa.Column("event_index", sa.Integer, nullable=False),  # events seen; 0 for pregame
    sa.Column("p_home_win", sa.Float, nullable=False),
    sa.Column("margin", sa.Float, nullable=False),  # final home margin, points
    sa.Column("total", sa.Float, nullable=False),  # final total points
    sa.Column("source", sa.String(20), nullable=False),  # 'live', 'replay', 'daily', ...
    # The market line the forecast used: 'odds.parquet' or a fetched_lines source; NULL: none.
    sa.Column("line_source", sa.String(20), nullable=True),
    sa.Column("line_fetched_at", sa.DateTime, nullable=True),  # UTC; NULL for the historical file
    # Who the forecast took as out: a JSON list of {player_id, name, team_id, status, source}
    # ('[]': nobody); NULL where not recorded (live forecasts, rows written before the column).
    sa.Column("out_players", sa.Text, nullable=True),
    # The model's own forecast (lines withheld) of a forecast that used a line; NULL otherwise.
    sa.Column("own_p_home_win", sa.Float, nullable=True),
    sa.Column("own_margin", sa.Float, nullable=True),
    sa.Column("own_total", sa.Float, nullable=True),
    sa.UniqueConstraint(*KEY, name="uq_forecast_ledger_forecast"),
    sa.CheckConstraint("state IN ('pregame', 'after_event')", name="ck_forecast_ledger_state"),
    sa.CheckConstraint("event_index >= 0", name="ck_forecast_ledger_event_index"),
    sa.Index("ix_forecast_ledger_game", "game_id"),
)

# Columns added after the table was first released: nullable, added to an older table in place.
ADDED_COLUMNS = (
    "line_source",
    "line_fetched_at",
    "out_players",
    "own_p_home_win",
    "own_margin",
    "own_total",
)

# The database refuses to change a row, whoever asks.
_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS forecast_ledger_no_{op.lower()} BEFORE {op} ON forecast_ledger "
    f"BEGIN SELECT RAISE(ABORT, 'forecast_ledger is append-only: {op} refused'); END"
    for op in ("UPDATE", "DELETE")
]
# (sa.DDL formats its text: %% is a literal %.)
_PG_TRIGGER = [
    "CREATE OR REPLACE FUNCTION forecast_ledger_append_only() RETURNS trigger AS $$ BEGIN "
    "RAISE EXCEPTION 'forecast_ledger is append-only: %% refused', TG_OP; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER forecast_ledger_append_only BEFORE UPDATE OR DELETE ON forecast_ledger "
    "FOR EACH ROW EXECUTE FUNCTION forecast_ledger_append_only()",
]
for _sql in _SQLITE_TRIGGERS:
    sa.event.listen(forecast_ledger, "after_create", sa.DDL(_sql).execute_if(dialect="sqlite"))
for _sql in _PG_TRIGGER:
    sa.event.listen(forecast_ledger, "after_create", sa.DDL(_sql).execute_if(dialect="postgresql"))


class PregameAfterTipoff(ValueError):
    """A 'pregame' forecast made at or after the game's tip-off."""


@dataclass(frozen=True)
class LedgerEntry:
    """One forecast as the ledger keeps it. ``made_at`` None: now (UTC) when appended."""

    game_id: str
    model_version: str
    state: str  # 'pregame' or 'after_event'
    event_index: int
    p_home_win: float
    margin: float
    total: float
    source: str
    made_at: dt.datetime | None = None
    line_source: str | None = None  # the market line used (None: none)
    line_fetched_at: dt.datetime | None = None  # when that line was had (None: the historical file)
    out_players: str | None = None  # JSON list of the players taken as out (None: not recorded)
    own_p_home_win: float | None = None  # the model's own forecast where the line was used
    own_margin: float | None = None
    own_total: float | None = None


def _players_json(players: Any) -> str | None:
    """The ``out_players`` column of a forecast's players (dataclasses), None when not recorded."""
    if players is None:
        return None
    return json.dumps([asdict(p) for p in players], ensure_ascii=False)


def _number(x: Any) -> float | None:
    return None if x is None else float(x)


def entry_from_forecast(forecast: Any, source: str, made_at: dt.datetime | None = None) -> LedgerEntry:
    """A ledger entry of a :class:`~nba_pipeline.forecast.model.Forecast` (state from events seen),
    with the line the forecast says it used, the players it took as out and its own forecast
    beside the line's."""
    n = int(forecast.events_seen)
    return LedgerEntry(
        game_id=str(forecast.game_id),
        model_version=str(forecast.model_version),
        state="pregame" if n == 0 else "after_event",
        event_index=n,
        p_home_win=float(forecast.p_home_win),
        margin=float(forecast.margin),
        total=float(forecast.total),
        source=source,
        made_at=made_at,
        line_source=forecast.line_source,
        line_fetched_at=forecast.line_fetched_at,
        out_players=_players_json(getattr(forecast, "out_players", None)),
        own_p_home_win=_number(getattr(forecast, "own_p_home_win", None)),
        own_margin=_number(getattr(forecast, "own_margin", None)),
        own_total=_number(getattr(forecast, "own_total", None)),
    )


def ensure_ledger(engine: sa.Engine) -> None:
    """Create the table (and its append-only triggers) if it does not exist, and give a table
    created by an older release the columns added since (``ADDED_COLUMNS``)."""
    forecast_ledger.create(engine, checkfirst=True)
    _add_missing_columns(engine)


def _add_missing_columns(engine: sa.Engine) -> None:
    """``ALTER TABLE forecast_ledger ADD COLUMN`` for each nullable column the table lacks: old rows
    read NULL (no line recorded), no row is rewritten, and the triggers (UPDATE, DELETE) stay. A
    process that added the column first is not an error."""
    have = {c["name"] for c in sa.inspect(engine).get_columns(forecast_ledger.name)}
    for name in ADDED_COLUMNS:
        if name in have:
            continue
        col = forecast_ledger.c[name]
        ddl = f"ALTER TABLE {forecast_ledger.name} ADD COLUMN {name} {col.type.compile(engine.dialect)}"
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(ddl))
        except sa.exc.DBAPIError:
            if name not in {c["name"] for c in sa.inspect(engine).get_columns(forecast_ledger.name)}:
                raise


def default_tipoff(game_date: dt.date) -> dt.datetime:
    """Noon US/Eastern of the game date, in UTC: no NBA game tips off earlier."""
    return naive_utc(dt.datetime.combine(game_date, EARLIEST_TIPOFF_ET, tzinfo=EASTERN))


def _tipoffs(
    conn: sa.Connection, game_ids: list[str], given: Mapping[str, dt.datetime]
) -> dict[str, dt.datetime]:
    out = {g: naive_utc(t) for g, t in given.items() if g in game_ids}
    rest = [g for g in game_ids if g not in out]
    if rest:
        t = forecast_ledger
        q = (
            sa.select(t.c.game_id, sa.func.min(t.c.made_at))
            .where(t.c.game_id.in_(rest), t.c.state == "after_event")
            .group_by(t.c.game_id)
        )
        out.update({str(g): m for g, m in conn.execute(q) if m is not None})
    rest = [g for g in rest if g not in out]
    if rest and "games" in metadata.tables and sa.inspect(conn).has_table("games"):
        games = metadata.tables["games"]
        q = sa.select(games.c.game_id, games.c.game_date).where(games.c.game_id.in_(rest))
        out.update({str(g): default_tipoff(pd.Timestamp(d).date()) for g, d in conn.execute(q)})
    return out


def append_forecasts(
    engine: sa.Engine,
    entries: Iterable[LedgerEntry],
    tipoffs: Mapping[str, dt.datetime] | None = None,
) -> int:
    """Add forecasts to the ledger in one transaction; returns how many rows were new.

    An entry already in the ledger (same game, version, state, event index, source) is skipped.
    Raises :class:`PregameAfterTipoff` (adding nothing) when a pregame entry is made at or after its
    game's tip-off (see the module docstring for where the tip-off comes from; ``tipoffs``: game id
    -> tip-off time, timezone-aware or naive UTC), and ValueError for an unknown state or a pregame
    entry with events."""
    now = naive_utc(dt.datetime.now(dt.UTC))
    rows = []
    for e in entries:
        if e.state not in STATES:
            raise ValueError(f"ledger: state must be one of {STATES}, got {e.state!r}")
        if (e.state == "pregame") != (int(e.event_index) == 0):
            raise ValueError(
                f"ledger: a pregame forecast has event_index 0 and an after_event one > 0 "
                f"(game {e.game_id}, state {e.state}, event_index {e.event_index})"
            )
        row = asdict(e)
        row["made_at"] = naive_utc(e.made_at) if e.made_at is not None else now
        if e.line_fetched_at is not None:
            row["line_fetched_at"] = naive_utc(e.line_fetched_at)
        rows.append(row)
    if not rows:
        return 0
    ensure_ledger(engine)
    with engine.begin() as conn:
        pre = sorted({r["game_id"] for r in rows if r["state"] == "pregame"})
        if pre:
            tips = _tipoffs(conn, pre, tipoffs or {})
            for r in rows:
                tip = tips.get(r["game_id"])
                if r["state"] == "pregame" and tip is not None and r["made_at"] >= tip:
                    raise PregameAfterTipoff(
                        f"ledger: pregame forecast of game {r['game_id']} made at "
                        f"{r['made_at']:%Y-%m-%d %H:%M:%S} UTC, at or after its tip-off "
                        f"{tip:%Y-%m-%d %H:%M:%S} UTC: refused"
                    )
        return insert_new(conn, forecast_ledger, rows, KEY)


def read_ledger(
    engine: sa.Engine, game_ids: Iterable[str] | None = None, source: str | None = None
) -> pd.DataFrame:
    """Ledger rows (all, or of some games / one source) in the order they were added; ``made_at``
    and ``line_fetched_at`` as UTC timestamps (NaT: no fetched line)."""
    ensure_ledger(engine)
    t = forecast_ledger
    q = sa.select(t).order_by(t.c.forecast_id)
    if game_ids is not None:
        q = q.where(t.c.game_id.in_([str(g) for g in game_ids]))
    if source is not None:
        q = q.where(t.c.source == source)
    with engine.connect() as conn:
        df = read_select(conn, q)
    for c in ("made_at", "line_fetched_at"):
        df[c] = pd.to_datetime(df[c]).dt.tz_localize("UTC")
    return df
