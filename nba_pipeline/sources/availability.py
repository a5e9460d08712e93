"""Who is out of a day's games, as reported: a user's file, kept with the time it was known.

The command is ``nba-pipeline availability`` (:mod:`nba_pipeline.commands.availability`).

Why it works this way:

- An injury report changes through the day, so every report is appended to
  ``player_availability`` (``ingest.schema``) with the time it was known (``known_at``), never
  overwriting an earlier one; a forecast made at time T reads, per player and day, the last
  report known at or before T (:func:`reports_known`), so a backtest cannot see a report written
  after its forecast.
- A file is checked whole before anything is stored: one bad value (named by row and column) and
  nothing is loaded. Columns (header names, any case): ``date`` (YYYY-MM-DD, the game day),
  ``team`` (abbreviation such as LAL, or team id), ``player`` (player id, or the name as in the
  ``players`` table; accents and case do not matter; an unknown or ambiguous name is an error),
  ``status`` (one of ``STATUSES``), optional ``known_at`` (ISO time, UTC unless it says
  otherwise; default the time of the import).
- ``out`` and ``doubtful`` count as out (:data:`OUT_STATUSES`, with the feed's ``inactive``);
  the other statuses are kept (a later report may clear a player) but count as available.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from nba_pipeline.db import insert_new, naive_utc, no_rows, read_select
from nba_pipeline.ingest.schema import player_availability, players
from nba_pipeline.sources.lines_csv import CsvChecks, team_ids
from nba_pipeline.sources.odds import utcnow

CSV_SOURCE = "csv"
FEED_SOURCE = "nba_api_boxscore"  # the live box score's inactive lists (sources.inactive)
STATUSES = ("out", "doubtful", "questionable", "probable", "available")
OUT_STATUSES = frozenset({"out", "doubtful", "inactive"})  # inactive: the live box score (sources.inactive)
CSV_COLUMNS = ("date", "team", "player", "status", "known_at")
REQUIRED = ("date", "team", "player", "status")
FIELDS = [c.name for c in player_availability.columns]
KEY = [c.name for c in player_availability.primary_key]


class AvailabilityImportError(ValueError):
    """A file of availability reports with bad values; ``problems`` lists each (row, column, why)."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.problems = problems
        more = f"; ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(
            f"{path}: {len(problems)} problem(s), nothing loaded: " + "; ".join(problems[:20]) + more
        )


def name_key(names: pd.Series) -> pd.Series:
    """Names as they are matched: accents dropped, case folded, spaces collapsed (``Nikola Jokić``
    and ``nikola jokic`` are the same player)."""

    def one(v: object) -> str:
        if not isinstance(v, str):
            return ""
        plain = unicodedata.normalize("NFKD", v).encode("ascii", "ignore").decode()
        return " ".join(plain.casefold().split())

    return names.map(one)


def player_names(engine: sa.Engine) -> pd.DataFrame:
    """player_id, name of the ``players`` table (empty without it)."""
    if not sa.inspect(engine).has_table(players.name):
        return pd.DataFrame({"player_id": pd.Series(dtype="int64"), "name": pd.Series(dtype=object)})
    with engine.connect() as conn:
        rows = conn.execute(sa.select(players.c.player_id, players.c.name)).fetchall()
    return pd.DataFrame(rows, columns=["player_id", "name"]).astype({"player_id": "int64"})


def _players(raw: pd.DataFrame, ck: CsvChecks, known: pd.DataFrame) -> pd.Series:
    """Each row's player id: digits are an id that must be in ``players``; anything else a name
    that must match exactly one player."""
    text = raw["player"]
    digits = text.str.fullmatch(r"\d+")
    ids = pd.to_numeric(text.where(digits), errors="coerce").astype("Int64")
    ck.flag(text.eq(""), "player", "is empty")
    ck.flag(digits & ~ids.isin(known["player_id"]), "player", "is not a player id of the players table")
    lookup = pd.DataFrame({"key": name_key(known["name"]), "player_id": known["player_id"]})
    counts = lookup.loc[lookup["key"] != "", "key"].value_counts()
    single = lookup[lookup["key"].map(counts) == 1].set_index("key")["player_id"]
    asked = name_key(text).where(~digits & text.ne(""))
    n = asked.map(counts).fillna(0).astype(int)
    ck.flag(asked.notna() & (n == 0), "player", "is no player of the players table (by id or name)")
    ck.flag(n > 1, "player", "names more than one player of the players table: give the player id")
    return ids.fillna(asked.map(single).astype("Int64"))


def read_availability_csv(
    path: Path, engine: sa.Engine, source: str = CSV_SOURCE, now: dt.datetime | None = None
) -> pd.DataFrame:
    """The reports of a file (module docstring) as ``player_availability`` rows, or
    :class:`AvailabilityImportError` naming every bad value by row and column (nothing is
    returned then, so nothing is loaded)."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, ValueError) as exc:
        raise AvailabilityImportError(path, [f"cannot read the file: {exc}"]) from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    problems = [f"no column '{c}'" for c in REQUIRED if c not in raw.columns]
    unknown = sorted(set(raw.columns) - set(CSV_COLUMNS))
    if unknown:
        problems.append(f"unknown column(s) {unknown}; the columns are {list(CSV_COLUMNS)}")
    if problems:
        raise AvailabilityImportError(path, problems)
    raw = raw.map(lambda v: v.strip() if isinstance(v, str) else v)
    ck = CsvChecks(raw)
    day = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
    ck.flag(day.isna(), "date", "is not a date YYYY-MM-DD")
    team = raw["team"].str.upper().map(team_ids())
    ck.flag(team.isna(), "team", "is not a team abbreviation (e.g. LAL) or team id")
    status = raw["status"].str.lower()
    ck.flag(~status.isin(STATUSES), "status", f"is not one of {', '.join(STATUSES)}")
    player = _players(raw, ck, player_names(engine))
    text = raw["known_at"] if "known_at" in raw else pd.Series("", index=raw.index)
    when = pd.to_datetime(text.where(text != ""), utc=True, errors="coerce", format="ISO8601")
    ck.flag((text != "") & when.isna(), "known_at", "is not a time (ISO, e.g. 2025-03-01T17:00:00Z)")
    known_at = when.dt.tz_localize(None).fillna(pd.Timestamp(naive_utc(now or utcnow())))
    key = pd.DataFrame({"d": day, "p": player, "t": known_at})
    ck.flag(player.notna() & day.notna() & key.duplicated(), "player", "repeats a player of an earlier row")
    if ck.found:
        raise AvailabilityImportError(path, ck.messages())
    return pd.DataFrame(
        {
            "game_date": day.dt.date,
            "player_id": player.astype("int64"),
            "source": source,
            "known_at": known_at.astype("datetime64[us]"),
            "team_id": team.astype("int64"),
            "status": status,
            "game_id": None,
        }
    )[FIELDS]


def append_reports(engine: sa.Engine, rows: pd.DataFrame) -> int:
    """Append reports (``FIELDS``) in one transaction; one already stored (same day, player,
    source and time) is skipped. Returns how many rows were new."""
    player_availability.create(engine, checkfirst=True)
    if rows.empty:
        return 0
    records = [
        {
            "game_date": pd.Timestamp(r.game_date).date(),
            "player_id": int(r.player_id),
            "source": str(r.source),
            "known_at": pd.Timestamp(r.known_at).to_pydatetime(),
            "team_id": int(r.team_id),
            "status": str(r.status),
            "game_id": None if r.game_id is None or pd.isna(r.game_id) else str(r.game_id),
        }
        for r in rows[FIELDS].itertuples(index=False)
    ]
    with engine.begin() as conn:
        return insert_new(conn, player_availability, records, KEY)


def reports_known(
    engine: sa.Engine,
    day: dt.date,
    at: dt.datetime,
    sources: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """The reports of game day ``day`` known at or before ``at`` (naive UTC or aware), the last one
    per player and source (``FIELDS``, with ``out``: its status counts as out)."""
    if not sa.inspect(engine).has_table(player_availability.name):
        return no_rows(player_availability).assign(out=False)
    t = player_availability
    q = sa.select(t).where(t.c.game_date == day, t.c.known_at <= naive_utc(at))
    if sources is not None:
        q = q.where(t.c.source.in_(sources))
    with engine.connect() as conn:
        df = read_select(conn, q)
    df = df.sort_values("known_at").drop_duplicates(["player_id", "source"], keep="last")
    df["out"] = df["status"].isin(OUT_STATUSES)
    return df.reset_index(drop=True)
