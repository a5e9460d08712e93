"""The line a game uses: its ``betting_lines`` row (the shipped historical odds), else the last
line fetched or imported for it before its tip-off (``fetched_lines``, :mod:`line_store`).

``betting_lines`` (one line per game, rebuilt per season from ``odds.parquet``) is left as it is;
a fetched line is returned in its units (``market_margin`` is minus the home spread), and every
row says which line it is (``source``, ``fetched_at``), so the ledger can name the line a
forecast used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd
import sqlalchemy as sa

from nba_pipeline.db import naive_utc, read_select
from nba_pipeline.ingest.schema import betting_lines
from nba_pipeline.sources.line_store import read_fetched

# The ledger's ``line_source`` of a game's ``betting_lines`` row: the shipped historical odds file.
HISTORICAL_LINE_SOURCE = "odds.parquet"
# The columns of betting_lines a forecast reads, plus which line it is.
SELECTED = ["game_id", "market_p_home", "market_margin", "market_total", "source", "fetched_at", "books"]


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
            hist = read_select(conn, q)
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
