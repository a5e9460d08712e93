"""The table of fetched lines (``ingest.schema.fetched_lines``): every answer of the odds feed
and every imported line, appended with the time it was had, never overwritten.

The feed (``sources.odds``) changes through the day and drops a game at tip-off, so each answer
is kept; which one a game uses is :mod:`nba_pipeline.sources.line_lookup`'s job.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from nba_pipeline.db import insert_new, no_rows, read_select
from nba_pipeline.ingest.schema import fetched_lines
from nba_pipeline.sources.odds import LINE_FIELDS

KEY = [c.name for c in fetched_lines.primary_key]  # game, source, time: one answer


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
        return no_rows(fetched_lines, LINE_FIELDS)
    t = fetched_lines
    q = sa.select(t).order_by(t.c.fetched_at, t.c.game_id, t.c.source)
    if game_ids is not None:
        q = q.where(t.c.game_id.in_([str(g) for g in game_ids]))
    with engine.connect() as conn:
        df = read_select(conn, q)
    df["fetched_at"] = pd.to_datetime(df["fetched_at"])
    return df[LINE_FIELDS]
