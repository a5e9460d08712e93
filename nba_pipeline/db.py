"""Database access shared by every package: one SQLAlchemy MetaData, an engine factory, and the
season-replacement write that makes re-materializing a partition idempotent and atomic.

Table definitions live next to the code that fills them (``ingest/schema.py``,
``analytics/schema.py``) and register themselves on :data:`metadata`.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import sqlalchemy as sa

metadata = sa.MetaData()


def make_engine(url: str) -> sa.Engine:
    """An engine for any SQLAlchemy URL; SQLite gets WAL and a busy timeout so that readers and
    one writer from separate processes (Dagster steps) do not trip over each other."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def create_tables(engine: sa.Engine, tables: Iterable[sa.Table] | None = None) -> None:
    """Create missing tables (all registered ones by default); existing tables are left alone."""
    metadata.create_all(engine, tables=list(tables) if tables is not None else None)


def replace_rows(
    engine: sa.Engine,
    table: sa.Table,
    df: pd.DataFrame,
    where: dict[str, object],
    chunk_rows: int = 50_000,
) -> int:
    """Delete the rows matching ``where`` (e.g. ``{"season": "2023-24"}``) and insert ``df``, in ONE
    transaction: a failure anywhere leaves the previous rows untouched.

    ``df`` must have exactly the table's columns (extra or missing columns raise, naming them).
    Returns the number of rows inserted.
    """
    cols = [c.name for c in table.columns]
    missing = sorted(set(cols) - set(df.columns))
    extra = sorted(set(df.columns) - set(cols))
    if missing or extra:
        raise ValueError(f"table {table.name!r}: missing columns {missing}, unexpected columns {extra}")
    df = df[cols]
    # NaN/NA -> None so every driver writes NULL.
    df = df.astype(object).where(pd.notna(df), None)
    records = df.to_dict("records")
    cond = sa.and_(*[table.c[k] == v for k, v in where.items()]) if where else sa.true()
    with engine.begin() as conn:
        conn.execute(table.delete().where(cond))
        for start in range(0, len(records), chunk_rows):
            conn.execute(table.insert(), records[start : start + chunk_rows])
    return len(records)


def read_table(
    engine: sa.Engine,
    table: sa.Table | str,
    where: dict[str, object] | None = None,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Read a table (optionally filtered by equality on columns) into a DataFrame."""
    t = table if isinstance(table, sa.Table) else metadata.tables[table]
    sel = sa.select(*(t.c[c] for c in columns)) if columns else sa.select(t)
    if where:
        sel = sel.where(sa.and_(*[t.c[k] == v for k, v in where.items()]))
    with engine.connect() as conn:
        return pd.read_sql(sel, conn)
