"""The market's lines of games to come: kept with the time they were had, and the one a game uses.

    nba-pipeline lines FILE.json                  # the lines of a saved odds response, one per game
    nba-pipeline lines --fetch                    # fetch the live odds feed now, keep it, print it
    nba-pipeline lines --import FILE.csv [--source NAME]   # lines bought elsewhere

Why it works this way:

- The odds feed (``sources.odds``) changes through the day and drops a game at tip-off, so every
  answer is appended to ``fetched_lines`` (``ingest.schema``) with its time, never overwriting an
  earlier one; the line a game uses is the last one had before its tip-off (:func:`latest_lines`).
- ``betting_lines`` (one line per game, rebuilt per season from ``odds.parquet``) is left as it
  is: :func:`betting_lines_of` takes a game's ``betting_lines`` row when it has one, else its
  latest fetched line, in the same units (``market_margin`` is minus the home spread).
- An imported CSV is checked whole before anything is stored: one bad value (named by row and
  column) and nothing is loaded, so a file is never half in. Its columns (header names, any case):
  ``game_id``, or ``date`` (YYYY-MM-DD) with ``home`` and ``away`` (abbreviation such as HOU, or
  team id) of a game in the ``games`` table or a pulled schedule; ``home_ml`` and ``away_ml``
  (American odds), or ``p_home`` (the home win probability); ``spread`` (the home side's,
  negative when it is favoured); optional ``total`` and ``fetched_at`` (when the line was quoted,
  ISO time, UTC unless it says otherwise; default the time of the import).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from nba_pipeline.db import insert_new, naive_utc
from nba_pipeline.ingest.schema import betting_lines, fetched_lines
from nba_pipeline.sources.odds import LINE_FIELDS, american_probability, parse_odds, utcnow

CSV_SOURCE = "csv"
KEY = [c.name for c in fetched_lines.primary_key]  # game, source, time: one answer
CSV_COLUMNS = (
    "game_id",
    "date",
    "home",
    "away",
    "home_ml",
    "away_ml",
    "p_home",
    "spread",
    "total",
    "fetched_at",
)
SPREAD_MAX = 50.0  # no NBA spread comes near it: a larger value is a typo or another column
TOTAL_RANGE = (150.0, 300.0)
# The ledger's ``line_source`` of a game's ``betting_lines`` row: the shipped historical odds file.
HISTORICAL_LINE_SOURCE = "odds.parquet"
# The columns of betting_lines a forecast reads, plus which line it is.
SELECTED = ["game_id", "market_p_home", "market_margin", "market_total", "source", "fetched_at", "books"]


class LinesImportError(ValueError):
    """A CSV of lines with bad values; ``problems`` lists each (row, column, why)."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.problems = problems
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(
            f"{path}: {len(problems)} problem(s), nothing loaded:\n  " + "\n  ".join(problems[:20]) + more
        )


# ---- the table: append, select ------------------------------------------------------------


def append_lines(engine: sa.Engine, rows: pd.DataFrame) -> int:
    """Append lines (``LINE_FIELDS``) in one transaction; a row already there (same game, source
    and time: the same answer stored twice) is skipped. Returns how many rows were new."""
    fetched_lines.create(engine, checkfirst=True)
    if rows.empty:
        return 0
    # plain Python values, None for missing ones (the drivers take neither numpy scalars nor NaN)
    cols = {c: rows[c].astype(object).where(rows[c].notna(), None).tolist() for c in LINE_FIELDS}
    cols["fetched_at"] = [pd.Timestamp(t).to_pydatetime() for t in rows["fetched_at"]]
    for k in ("home_team_id", "away_team_id", "books"):
        cols[k] = [None if v is None else int(v) for v in cols[k]]
    records = [dict(zip(cols, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]
    with engine.begin() as conn:
        return insert_new(conn, fetched_lines, records, KEY)


def read_fetched(engine: sa.Engine, game_ids: list[str] | None = None) -> pd.DataFrame:
    """Every stored line (of ``game_ids``), oldest first: the fetch history."""
    if not sa.inspect(engine).has_table(fetched_lines.name):
        return pd.DataFrame(columns=LINE_FIELDS)
    t = fetched_lines
    q = sa.select(t).order_by(t.c.fetched_at, t.c.game_id, t.c.source)
    if game_ids is not None:
        q = q.where(t.c.game_id.in_([str(g) for g in game_ids]))
    with engine.connect() as conn:
        df = pd.read_sql(q, conn)
    df["fetched_at"] = pd.to_datetime(df["fetched_at"])
    return df[LINE_FIELDS]


def latest_lines(
    engine: sa.Engine,
    game_ids: list[str],
    before: dt.datetime | Mapping[str, dt.datetime] | None = None,
) -> pd.DataFrame:
    """The line each game uses, in ``betting_lines``' units (``SELECTED``): the last one stored
    strictly before ``before`` (its tip-off: one time, or one per game; naive UTC or aware; a game
    without one: the last stored, as the feed drops a game at tip-off). Games without a line are
    absent."""
    hist = read_fetched(engine, [str(g) for g in game_ids])
    if before is not None and len(hist):
        cut = before if isinstance(before, Mapping) else dict.fromkeys(hist["game_id"], before)
        limit = hist["game_id"].map({str(g): pd.Timestamp(naive_utc(t)) for g, t in cut.items()})
        hist = hist[limit.isna() | (hist["fetched_at"] < limit)]
    last = hist.sort_values(["fetched_at", "source"]).drop_duplicates("game_id", keep="last")
    out = last.assign(market_margin=-last["home_spread"].astype("float64"))
    return out[SELECTED].sort_values("game_id").reset_index(drop=True)


def betting_lines_of(
    engine: sa.Engine,
    game_ids: list[str],
    before: dt.datetime | Mapping[str, dt.datetime] | None = None,
) -> pd.DataFrame | None:
    """The line of each of ``game_ids``: its ``betting_lines`` row (the historical odds, ``source``
    ``HISTORICAL_LINE_SOURCE``, ``fetched_at`` NaT), else the last line fetched or imported for it
    before ``before`` (:func:`latest_lines`, with its own ``source`` and ``fetched_at``); None when
    no game has one: the games are forecast without a line. Tonight's games are in no
    ``betting_lines`` season, so they take the feed's. Every row says which line it is, so the
    rows a context is built from also tell the ledger which line a forecast used
    (:func:`line_of`)."""
    if not game_ids:
        return None
    parts = []
    if sa.inspect(engine).has_table(betting_lines.name):
        with engine.connect() as conn:
            q = sa.select(betting_lines).where(betting_lines.c.game_id.in_(game_ids))
            hist = pd.read_sql(q, conn)
        hist["source"] = HISTORICAL_LINE_SOURCE
        hist["fetched_at"] = pd.Series(pd.NaT, index=hist.index, dtype="datetime64[us]")
        parts.append(hist)
    have = set(parts[0]["game_id"].astype(str)) if parts else set()
    rest = [str(g) for g in game_ids if str(g) not in have]
    if rest:
        parts.append(latest_lines(engine, rest, before))
    parts = [p for p in parts if len(p)]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def line_of(lines: pd.DataFrame | None, game_id: str) -> tuple[str | None, dt.datetime | None]:
    """(source, fetched_at) of ``game_id``'s row in ``lines`` (:func:`betting_lines_of`), (None,
    None) when it has none; ``fetched_at`` None for the historical file, naive UTC otherwise."""
    if lines is None or lines.empty:
        return None, None
    rows = lines[lines["game_id"].astype(str) == str(game_id)]
    if rows.empty:
        return None, None
    r = rows.iloc[0]
    fetched = r.get("fetched_at")
    when = None if fetched is None or pd.isna(fetched) else pd.Timestamp(fetched).to_pydatetime()
    return str(r["source"]), when


# ---- a CSV of lines ----------------------------------------------------------------------------


def _team_ids() -> dict[str, int]:
    """Abbreviation or id (as text) -> team id, from nba_api's static team list (no network)."""
    from nba_api.stats.static import teams

    out: dict[str, int] = {}
    for t in teams.get_teams():
        out[str(t["abbreviation"]).upper()] = int(t["id"])
        out[str(t["id"])] = int(t["id"])
    return out


def known_games(engine: sa.Engine | None, pulled_dir: Path | None) -> pd.DataFrame:
    """``game_id, game_date, home_team_id, away_team_id`` of the ``games`` table and the pulled
    ``schedule_<season>.parquet`` files: where a CSV row given by date and teams finds its game."""
    cols = ["game_id", "game_date", "home_team_id", "away_team_id"]
    parts = []
    if engine is not None and sa.inspect(engine).has_table("games"):
        with engine.connect() as conn:
            parts.append(pd.read_sql(sa.text(f"SELECT {', '.join(cols)} FROM games"), conn))
    if pulled_dir is not None and Path(pulled_dir).is_dir():
        parts += [
            pd.read_parquet(p, columns=cols) for p in sorted(Path(pulled_dir).glob("schedule_*.parquet"))
        ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    out["game_id"] = out["game_id"].astype(str).str.zfill(10)
    out["game_date"] = pd.to_datetime(out["game_date"]).dt.strftime("%Y-%m-%d")
    for c in ("home_team_id", "away_team_id"):
        out[c] = out[c].astype("int64")
    return out.drop_duplicates(["game_date", "home_team_id", "away_team_id"])


class _Checks:
    """Collects (row, column, message) problems of a CSV, rows numbered from 1 after the header."""

    def __init__(self, raw: pd.DataFrame) -> None:
        self.raw = raw
        self.found: list[tuple[int, str]] = []

    def flag(self, bad: pd.Series | np.ndarray, column: str, why: str) -> None:
        for i in np.flatnonzero(np.asarray(bad, dtype=bool)):
            value = self.raw[column].iloc[i] if column in self.raw else ""
            shown = f"{value!r} " if isinstance(value, str) and value else ""
            self.found.append((int(i), f"row {i + 1} (line {i + 2}), column '{column}': {shown}{why}"))

    def messages(self) -> list[str]:
        return [m for _, m in sorted(self.found, key=lambda x: x[0])]


def _number(raw: pd.DataFrame, col: str, checks: _Checks) -> pd.Series:
    """A numeric column (NaN where blank); a value that is not a number is flagged."""
    text = raw[col] if col in raw else pd.Series("", index=raw.index)
    x = pd.to_numeric(text.str.lstrip("+"), errors="coerce").astype("float64")
    checks.flag((text != "") & ~np.isfinite(x), col, "is not a number")
    return x.where(text != "")


def read_lines_csv(
    path: Path,
    engine: sa.Engine | None = None,
    pulled_dir: Path | None = None,
    source: str = CSV_SOURCE,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """The lines of a CSV (module docstring) as ``LINE_FIELDS`` rows, or :class:`LinesImportError`
    naming every bad value by row and column (nothing is returned then, so nothing is loaded)."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, ValueError) as exc:
        raise LinesImportError(path, [f"cannot read the file: {exc}"]) from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = _missing_columns(set(raw.columns))
    if missing:
        raise LinesImportError(path, missing)
    raw = raw.map(lambda v: v.strip() if isinstance(v, str) else v)
    ck = _Checks(raw)
    game_id = _game_ids(raw, ck, engine, pulled_dir)
    p_home = _probabilities(raw, ck)
    spread = _number(raw, "spread", ck)
    ck.flag(raw["spread"].eq("").to_numpy(), "spread", "is empty: every line needs the home spread")
    ck.flag(spread.abs() > SPREAD_MAX, "spread", f"is beyond +-{SPREAD_MAX:g} points")
    total = _number(raw, "total", ck)
    lo, hi = TOTAL_RANGE
    ck.flag((total < lo) | (total > hi), "total", f"is outside {lo:g}-{hi:g} points")
    when = _times(raw, ck, now or utcnow())
    dup = game_id.notna() & pd.DataFrame({"g": game_id, "t": when}).duplicated(keep="first")
    ck.flag(dup, "game_id" if "game_id" in raw else "date", "repeats the game of an earlier row")
    if ck.found:
        raise LinesImportError(path, ck.messages())
    return pd.DataFrame(
        {
            "game_id": game_id.astype(str),
            "source": source,
            "fetched_at": when,
            "home_team_id": pd.array([None] * len(raw), dtype="Int64"),
            "away_team_id": pd.array([None] * len(raw), dtype="Int64"),
            "market_p_home": p_home,
            "home_spread": spread,
            "market_total": total,
            "books": pd.array([None] * len(raw), dtype="Int64"),
        }
    )[LINE_FIELDS]


def _missing_columns(have: set[str]) -> list[str]:
    out = []
    if "game_id" not in have and not {"date", "home", "away"} <= have:
        out.append("no column 'game_id', nor 'date', 'home' and 'away': which game is it?")
    if "p_home" not in have and not {"home_ml", "away_ml"} <= have:
        out.append("no column 'p_home', nor 'home_ml' and 'away_ml': what is the line?")
    if "spread" not in have:
        out.append("no column 'spread' (the home side's, negative when favoured)")
    unknown = sorted(have - set(CSV_COLUMNS))
    if unknown:
        out.append(f"unknown column(s) {unknown}; the columns are {list(CSV_COLUMNS)}")
    return out


def _game_ids(raw: pd.DataFrame, ck: _Checks, engine: sa.Engine | None, pulled: Path | None) -> pd.Series:
    """Each row's game id: its ``game_id`` (digits, leading zeros optional), else the game of its
    date and teams."""
    gid = raw["game_id"] if "game_id" in raw else pd.Series("", index=raw.index)
    ok_id = gid.str.fullmatch(r"\d{1,10}")
    ck.flag((gid != "") & ~ok_id, "game_id", "is not a game id (up to 10 digits, e.g. 0022400913)")
    out = gid.where(ok_id).str.zfill(10)
    need = gid.eq("")
    if not need.any():
        return out
    if not {"date", "home", "away"} <= set(raw.columns):
        ck.flag(need, "game_id", "is empty and the file has no 'date', 'home' and 'away' columns")
        return out
    teams = _team_ids()
    day = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
    ck.flag(need & day.isna(), "date", "is not a date YYYY-MM-DD")
    side = {}
    for col in ("home", "away"):
        side[col] = raw[col].str.upper().map(teams)
        ck.flag(need & side[col].isna(), col, "is not a team abbreviation (e.g. HOU) or team id")
    same = need & side["home"].notna() & (side["home"] == side["away"])
    ck.flag(same, "away", "is the home team")
    keyed = need & day.notna() & side["home"].notna() & side["away"].notna() & ~same
    if keyed.any():
        games = known_games(engine, pulled)
        look = pd.DataFrame(
            {
                "game_date": day.dt.strftime("%Y-%m-%d"),
                "home_team_id": side["home"].astype("Int64"),
                "away_team_id": side["away"].astype("Int64"),
            }
        )
        found = look.merge(games.astype({"home_team_id": "Int64", "away_team_id": "Int64"}), how="left")
        found.index = raw.index
        ck.flag(
            keyed & found["game_id"].isna(),
            "date",
            "has no game of these home and away teams in the games table or a pulled schedule",
        )
        out = out.where(~keyed, found["game_id"])
    return out


def _probabilities(raw: pd.DataFrame, ck: _Checks) -> pd.Series:
    """The no-vig home win probability: ``p_home``, else from the two American moneylines."""
    p = _number(raw, "p_home", ck)
    ck.flag((p <= 0) | (p >= 1), "p_home", "is not a probability strictly between 0 and 1")
    ml = {c: _number(raw, c, ck) for c in ("home_ml", "away_ml")}
    implied = {}
    for c, x in ml.items():
        ck.flag(x.abs() < 100, c, "is not American odds (e.g. -150 or +130)")
        implied[c] = american_probability(x)
    from_ml = pd.Series(implied["home_ml"] / (implied["home_ml"] + implied["away_ml"]), index=raw.index)
    no_p = _blank(raw, "p_home")
    if "home_ml" in raw:
        for c in ("home_ml", "away_ml"):
            ck.flag(no_p & _blank(raw, c), c, "is empty and so is 'p_home': the row has no line")
    else:
        ck.flag(no_p, "p_home", "is empty (and there are no 'home_ml', 'away_ml' columns)")
    return p.where(~no_p, from_ml)


def _blank(raw: pd.DataFrame, col: str) -> pd.Series:
    return raw[col].eq("") if col in raw else pd.Series(True, index=raw.index)


def _times(raw: pd.DataFrame, ck: _Checks, now: dt.datetime) -> pd.Series:
    """When each line was quoted (naive UTC): the ``fetched_at`` column, else ``now``."""
    text = raw["fetched_at"] if "fetched_at" in raw else pd.Series("", index=raw.index)
    t = pd.to_datetime(text.where(text != ""), utc=True, errors="coerce", format="ISO8601")
    ck.flag((text != "") & t.isna(), "fetched_at", "is not a time (ISO, e.g. 2025-03-01T17:00:00Z)")
    return t.dt.tz_localize(None).fillna(pd.Timestamp(now)).astype("datetime64[us]")


# ---- the command -------------------------------------------------------------------------------


def render(lines: pd.DataFrame) -> str:
    """One line per game: game id, no-vig home win probability, home spread, total (or -), books."""
    rows = [
        [
            r.game_id,
            _fmt(r.market_p_home, ".3f"),
            _fmt(r.home_spread, "+.1f"),
            _fmt(r.market_total, ".1f"),
            "-" if pd.isna(r.books) else str(int(r.books)),
        ]
        for r in lines.itertuples(index=False)
    ]
    from nba_pipeline.tables import render_table

    return render_table(["game", "P(home win)", "home spread", "total", "books"], rows)


def _fmt(x: float, spec: str) -> str:
    return "-" if pd.isna(x) else format(float(x), spec)


def main(argv: list[str] | None = None) -> int:
    """``nba-pipeline lines``: exit 0, 1 on bad input, 3 when the feed stays unreachable."""
    ap = argparse.ArgumentParser(
        prog="nba-pipeline lines",
        description=(__doc__ or "").split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument("response", nargs="?", type=Path, help="a saved odds_todaysGames.json response")
    what.add_argument("--fetch", action="store_true", help="fetch the live odds feed now and store it")
    what.add_argument("--import", dest="csv", type=Path, metavar="FILE.csv", help="store the lines of a CSV")
    ap.add_argument(
        "--source", default=CSV_SOURCE, help=f"source name of imported lines (default {CSV_SOURCE})"
    )
    args = ap.parse_args(argv)
    if len(args.source) > fetched_lines.c.source.type.length:
        print(f"error: --source is at most {fetched_lines.c.source.type.length} characters", file=sys.stderr)
        return 1
    if args.response is not None:
        return _print_response(args.response)
    from nba_pipeline import settings
    from nba_pipeline.db import make_engine

    engine = make_engine(settings.database_url())
    if args.fetch:
        return _fetch(engine, settings.pulled_dir())
    try:
        rows = read_lines_csv(args.csv, engine, settings.pulled_dir(), source=args.source)
    except LinesImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    n = append_lines(engine, rows)
    print(f"{args.csv}: {len(rows)} lines, {n} new, source {args.source!r}")
    print(render(rows))
    return 0


def _print_response(path: Path) -> int:
    from nba_pipeline.sources.odds import OddsFormatError

    try:
        response = json.loads(path.read_text(encoding="utf-8"))
        lines = parse_odds(response, dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC))
    except (OSError, ValueError, OddsFormatError) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 1
    print(render(lines))
    return 0


def fetch_and_store(
    engine: sa.Engine, pulled_dir: Path, now: Callable[[], dt.datetime] | None = None
) -> tuple[pd.DataFrame, int, dt.datetime]:
    """Ask the live odds feed now (``now``: the clock, for replays), keep its answer
    (``pulled_dir/cdn``) and its lines (``fetched_lines``): the lines, how many were new, and when
    they were fetched. Raises ``SourceUnavailable`` naming the endpoint when the feed cannot be
    reached."""
    from nba_pipeline.sources.client import ApiSettings
    from nba_pipeline.sources.odds import fetch_odds, odds_client

    client = odds_client(Path(pulled_dir) / "cdn", ApiSettings.from_env())
    body, fetched_at = fetch_odds(client) if now is None else fetch_odds(client, now=now)
    lines = parse_odds(body, fetched_at)
    return lines, append_lines(engine, lines), fetched_at


def _fetch(engine: sa.Engine, pulled_dir: Path) -> int:
    from nba_pipeline.sources.client import SourceError, SourceUnavailable

    try:
        lines, n, fetched_at = fetch_and_store(engine, pulled_dir)
    except SourceUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except (SourceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"odds feed at {fetched_at:%Y-%m-%d %H:%M:%S} UTC: {len(lines)} games, {n} new lines stored")
    print(render(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
