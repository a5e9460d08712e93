"""Database access shared by every package: one SQLAlchemy MetaData, an engine factory, the
season-replacement write that makes re-materializing a partition idempotent and atomic, and the
append that skips rows already stored (the append-only tables).

Table definitions live next to the code that fills them (``ingest/schema.py``,
``analytics/schema.py``) and register themselves on :data:`metadata`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

metadata = sa.MetaData()
CHUNK_ROWS = 50_000  # rows turned into Python values at once, read or written: ~50 MB of them


def make_engine(url: str) -> sa.Engine:
    """An engine for any SQLAlchemy URL; SQLite gets WAL and a busy timeout so that readers and
    one writer from separate processes (Dagster steps) do not trip over each other, and its
    folder is created (a fresh data dir has none)."""
    if url.startswith("sqlite"):
        database = sa.make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            import sqlite3

            cur = dbapi_conn.cursor()
            try:
                cur.execute("PRAGMA journal_mode=WAL")  # the first read of the file: fails if corrupt
            except sqlite3.DatabaseError as exc:
                raise sqlite3.DatabaseError(
                    f"SQLite database {database} is corrupt or not a SQLite file ({exc}); restore it "
                    "from a backup or move it away and rebuild (python -m nba_pipeline.run)"
                ) from exc
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def create_tables(engine: sa.Engine, tables: Iterable[sa.Table] | None = None) -> None:
    """Create missing tables (all registered ones by default). An existing table keeps its rows;
    a column the code defines and the stored table lacks (a table written by an older version) is
    added, NULL in the rows already there until their season is built again."""
    tables = list(tables) if tables is not None else list(metadata.sorted_tables)
    _again_if_raced(lambda: metadata.create_all(engine, tables=tables), len(tables))
    for table in tables:
        _again_if_raced(lambda table=table: _add_missing_columns(engine, table), len(table.columns))


def _add_missing_columns(engine: sa.Engine, table: sa.Table) -> None:
    q = engine.dialect.identifier_preparer
    have = {c["name"] for c in sa.inspect(engine).get_columns(table.name)}
    for col in (c for c in table.columns if c.name not in have):
        kind = col.type.compile(dialect=engine.dialect)
        add = f"ALTER TABLE {q.format_table(table)} ADD COLUMN {q.quote(col.name)} {kind}"
        with engine.begin() as conn:
            conn.execute(sa.text(add))


def _again_if_raced(change: Callable[[], None], objects: int) -> None:
    """Apply a schema change that looks before it writes; when it fails, look again and retry: two
    processes (two seasons' runs at once) may both see a table missing, and the second CREATE then
    fails with "already exists". Each lost race means one of the change's ``objects`` (tables,
    columns) was made by another process meanwhile, so ``objects + 1`` tries always end it; an
    error that is not such a race fails every try and is raised."""
    for attempt in range(objects + 1):
        try:
            change()
            return
        except sa.exc.DBAPIError:
            if attempt == objects:
                raise


def replace_rows(
    engine: sa.Engine,
    table: sa.Table,
    df: pd.DataFrame,
    where: dict[str, object],
    chunk_rows: int = CHUNK_ROWS,
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
    cond = sa.and_(*[table.c[k] == v for k, v in where.items()]) if where else sa.true()
    with engine.begin() as conn:
        conn.execute(table.delete().where(cond))
        # Python values a chunk at a time: a season's plays at once would hold ~0.5 GiB of them.
        for start in range(0, len(df), chunk_rows):
            _bulk_insert(conn, table, cols, _python_rows(df.iloc[start : start + chunk_rows]))
    return len(df)


def _python_rows(df: pd.DataFrame) -> list[tuple]:
    """Rows as tuples of plain Python values (None for NaN/NA), column by column: far faster than
    ``to_dict('records')`` on a ~570k-row season."""
    columns = []
    for name in df.columns:
        s = df[name]
        if s.dtype.kind in "iub" and not s.hasnans:  # numpy ints/bools without missing values
            vals = s.to_numpy().tolist()
        else:
            vals = s.to_numpy(dtype=object, na_value=None).tolist()
            if s.dtype == object and any(isinstance(v, np.generic) for v in vals[:1000]):
                vals = [v.item() if isinstance(v, np.generic) else v for v in vals]
        columns.append(vals)
    return list(zip(*columns, strict=True)) if columns else []


def _bulk_insert(conn: sa.Connection, table: sa.Table, cols: list[str], rows: list[tuple]) -> None:
    """Insert inside the caller's transaction with the driver's fastest bulk path: sqlite3
    ``executemany``, psycopg2 ``execute_values``; other drivers go through SQLAlchemy's insert."""
    if not rows:
        return
    dialect = conn.dialect
    col_sql = ", ".join(dialect.identifier_preparer.quote(c) for c in cols)
    name = dialect.identifier_preparer.format_table(table)
    if dialect.name == "sqlite":
        sql = f"INSERT INTO {name} ({col_sql}) VALUES ({', '.join('?' * len(cols))})"
        conn.exec_driver_sql(sql, rows)
    elif dialect.driver == "psycopg2":
        from psycopg2.extras import execute_values

        with conn.connection.driver_connection.cursor() as cur:
            execute_values(cur, f"INSERT INTO {name} ({col_sql}) VALUES %s", rows, page_size=5000)
    else:
        conn.execute(table.insert(), [dict(zip(cols, r, strict=True)) for r in rows])


def naive_utc(t: dt.datetime) -> dt.datetime:
    """A time as the tables store it: naive UTC (a naive input is taken as UTC already)."""
    return t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo else t


def insert_new(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], key: Sequence[str]) -> int:
    """Insert the rows whose ``key`` is not in ``table`` yet (nor earlier in ``rows``), inside the
    caller's transaction; returns how many were new. The key's first column (a game id) narrows the
    look-up of stored keys where the dialect has no ``ON CONFLICT DO NOTHING``."""
    unique: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        unique.setdefault(tuple(r[k] for k in key), r)
    rows = list(unique.values())
    name = conn.dialect.name
    if name in ("sqlite", "postgresql"):
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        stmt = insert(table).on_conflict_do_nothing(index_elements=list(key))
        return sum(conn.execute(stmt, [r]).rowcount for r in rows)
    first = table.c[key[0]]
    stored = conn.execute(
        sa.select(*(table.c[k] for k in key)).where(first.in_(sorted({r[key[0]] for r in rows})))
    )
    have = {tuple(x) for x in stored}
    new = [r for r in rows if tuple(r[k] for k in key) not in have]
    if new:
        conn.execute(table.insert(), new)
    return len(new)


def read_order(table: sa.Table) -> list[sa.ColumnElement]:
    """The order a table's rows are read in: ``info["order_by"]`` (column names, ``-`` for
    descending: the order its builder writes them, e.g. plays in time order), else its primary key.
    Without ORDER BY the order is the server's: PostgreSQL's depends on how and when the rows were
    written (two seasons written at once interleave), and sums over the rows (means, stds) would
    change in their last bits with it."""
    names = table.info.get("order_by") or [c.name for c in table.primary_key.columns]
    return [table.c[n[1:]].desc() if n.startswith("-") else table.c[n] for n in names]


def read_table(
    engine: sa.Engine,
    table: sa.Table | str,
    where: dict[str, object] | None = None,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Read a table (optionally filtered by equality on columns) into a DataFrame, in the table's
    :func:`read_order`.

    The rows pass through Python values :data:`CHUNK_ROWS` at a time: a season's plays read at
    once peak at ~1 GiB of them for a 0.14 GiB frame. A column is typed over all its rows, as one
    read would type it (a chunk whose values are all NULL would otherwise turn it to object), and
    a column with no value at all by its SQL type (:func:`_typed_by_the_statement`)."""
    t = table if isinstance(table, sa.Table) else metadata.tables[table]
    sel = sa.select(*(t.c[c] for c in columns)) if columns else sa.select(t)
    if where:
        sel = sel.where(sa.and_(*[t.c[k] == v for k, v in where.items()]))
    sel = sel.order_by(*read_order(t))
    with engine.connect() as conn:
        chunks = list(pd.read_sql(sel, conn, chunksize=CHUNK_ROWS))
    if len(chunks) == 1:
        return _typed_by_the_statement(chunks[0], sel)
    df = pd.concat(chunks, ignore_index=True)
    del chunks
    for name in df.columns[df.dtypes == np.dtype("O")]:
        df[name] = df[name].infer_objects()
    return _typed_by_the_statement(df, sel)


def read_select(conn: sa.Connection, stmt: sa.Select) -> pd.DataFrame:
    """The rows of a narrow ``stmt`` (one game, some players, some dates) in one read, its
    columns typed as :func:`read_table` types them."""
    return _typed_by_the_statement(pd.read_sql(stmt, conn), stmt)


def _typed_by_the_statement(df: pd.DataFrame, stmt: sa.Select) -> pd.DataFrame:
    """Give each column that holds no value (no rows, or every row NULL) the dtype a read with
    values gives its SQL type; the driver's values alone leave it untyped (object), and an empty
    season's ids or coordinates would then fail arithmetic, or turn a concatenation with a typed
    part into Python objects."""
    rows = len(df) > 0
    kinds = {c.name: c.type for c in stmt.selected_columns}
    for name in df.columns[df.dtypes == np.dtype("O")]:
        if df[name].notna().any() or name not in kinds:
            continue
        dtype = _dtype_without_values(kinds[name], rows)
        if dtype is not None:
            df[name] = df[name].astype(dtype)
    return df


def _dtype_without_values(kind: sa.types.TypeEngine, rows: bool) -> str | None:
    """The dtype of a column of SQL type ``kind`` with no value: as pandas types the type's values,
    with NULLs among them when there are ``rows`` (an integer column with NULLs reads as float).
    None where that is object anyway: a Date (``datetime.date`` values), a Boolean with NULLs."""
    if isinstance(kind, sa.Boolean):
        return None if rows else "bool"
    if isinstance(kind, sa.Integer):
        return "float64" if rows else "int64"
    if isinstance(kind, sa.Float | sa.Numeric):
        return "float64"
    if isinstance(kind, sa.DateTime):
        return "datetime64[us]"
    if isinstance(kind, sa.String):
        return "str"
    return None


def read_seasons(
    engine: sa.Engine, table: sa.Table | str, seasons: Sequence[str], columns: list[str] | None = None
) -> pd.DataFrame:
    """The rows of ``seasons``, in that order (seasons without rows left out of the concatenation,
    so the dtypes are those of the rows read)."""
    parts = [read_table(engine, table, {"season": s}, columns) for s in seasons]
    full = [p for p in parts if len(p)]
    return pd.concat(full, ignore_index=True) if full else no_rows(table, columns)


def no_rows(table: sa.Table | str, columns: list[str] | None = None) -> pd.DataFrame:
    """The table's ``columns`` (all by default) without rows, typed as a read of them: what a read
    of a season not stored yet, or of a table not created yet, gives, and the rows of a season
    whose optional raw file is absent."""
    t = table if isinstance(table, sa.Table) else metadata.tables[table]
    names = columns or [c.name for c in t.columns]
    return _typed_by_the_statement(pd.DataFrame(columns=names), sa.select(*(t.c[c] for c in names)))


def fetch_raw(conn: sa.Connection, stmt: sa.Select) -> list[tuple]:
    """All rows of ``stmt`` through the DBAPI cursor: SQLAlchemy's per-value result processing
    costs more than the query for ~10^5 rows. The statement must hold only internal values (ids),
    as it is rendered with its values inline."""
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cur = conn.connection.driver_connection.cursor()
    try:
        cur.execute(sql)
        return cur.fetchall()
    finally:
        cur.close()


def table_fingerprint(engine: sa.Engine, table: sa.Table) -> tuple[int, str]:
    """(row count, checksum) of a PostgreSQL table's contents, whatever the row order: the sum of
    every row's md5 (its text form: floats print exactly) as a number. Two builds of the same
    data, in any order or in parallel, give the same pair; one changed value changes it."""
    if engine.dialect.name != "postgresql":
        raise ValueError(
            f"table_fingerprint needs PostgreSQL (md5 of a row's text), not {engine.dialect.name}"
        )
    sql = sa.text(
        f"SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint::numeric), 0) "
        f'FROM "{table.name}" t'
    )
    with engine.connect() as conn:
        rows, total = conn.execute(sql).one()
    return int(rows), f"{int(total):x}"
