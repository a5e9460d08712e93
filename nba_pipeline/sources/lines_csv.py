"""A CSV of lines bought elsewhere (``nba-pipeline lines --import FILE.csv``), checked whole
before anything is stored: one bad value (named by row and column) and nothing is loaded, so a
file is never half in.

Its columns (header names, any case): ``game_id``, or ``date`` (YYYY-MM-DD) with ``home`` and
``away`` (abbreviation such as HOU, or team id) of a game in the ``games`` table or a pulled
schedule; ``home_ml`` and ``away_ml`` (American odds), or ``p_home`` (the home win probability);
``spread`` (the home side's, negative when it is favoured); optional ``total`` and ``fetched_at``
(when the line was quoted, ISO time, UTC unless it says otherwise; default the time of the import).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from nba_pipeline.sources.odds import LINE_FIELDS, american_probability, utcnow

CSV_SOURCE = "csv"
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


class LinesImportError(ValueError):
    """A CSV of lines with bad values; ``problems`` lists each (row, column, why), and the message
    holds them on one line."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.problems = problems
        more = f"; ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(
            f"{path}: {len(problems)} problem(s), nothing loaded: " + "; ".join(problems[:20]) + more
        )


def team_ids() -> dict[str, int]:
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


class CsvChecks:
    """Collects (row, column, message) problems of a CSV, rows numbered from 1 after the header
    (the lines CSV here, the availability CSV in ``sources.availability``)."""

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


def _number(raw: pd.DataFrame, col: str, checks: CsvChecks) -> pd.Series:
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
    ck = CsvChecks(raw)
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


def _game_ids(raw: pd.DataFrame, ck: CsvChecks, engine: sa.Engine | None, pulled: Path | None) -> pd.Series:
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
    teams = team_ids()
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


def _probabilities(raw: pd.DataFrame, ck: CsvChecks) -> pd.Series:
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


def _times(raw: pd.DataFrame, ck: CsvChecks, now: dt.datetime) -> pd.Series:
    """When each line was quoted (naive UTC): the ``fetched_at`` column, else ``now``."""
    text = raw["fetched_at"] if "fetched_at" in raw else pd.Series("", index=raw.index)
    t = pd.to_datetime(text.where(text != ""), utc=True, errors="coerce", format="ISO8601")
    ck.flag((text != "") & t.isna(), "fetched_at", "is not a time (ISO, e.g. 2025-03-01T17:00:00Z)")
    return t.dt.tz_localize(None).fillna(pd.Timestamp(now)).astype("datetime64[us]")
