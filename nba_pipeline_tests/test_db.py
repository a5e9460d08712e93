"""``db.read_table`` returns rows in the order their builder wrote them, whatever order the server
keeps them in (PostgreSQL's changes with concurrent writes)."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from nba_pipeline import db
from nba_pipeline.analytics import schema as aschema
from nba_pipeline.db import create_tables, no_rows, read_order, read_seasons, read_select, read_table


def test_rows_written_in_any_order_read_back_in_the_tables_read_order(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'order.db'}")
    table = aschema.team_game_features
    create_tables(engine, [table])
    rows = pd.DataFrame(
        {
            "game_id": ["0022300002", "0022300002", "0022300001", "0022300001"],
            "team_id": [1, 2, 3, 4],
            "is_home": [False, True, False, True],
            "game_date": pd.to_datetime(["2023-10-24", "2023-10-24", "2023-10-25", "2023-10-25"]).date,
            "season": "2023-24",
        }
    )
    for c in table.columns:
        if c.name not in rows:
            rows[c.name] = 0.0
    with engine.begin() as conn:  # shuffled: away before home, the later game first
        conn.execute(table.insert(), rows.iloc[[2, 0, 3, 1]].to_dict("records"))
    got = read_table(engine, table, {"season": "2023-24"}, ["game_id", "team_id"])
    # by date, then game, home team first: the order team_game_features is built in
    assert got["team_id"].tolist() == [2, 1, 4, 3]
    assert [str(c) for c in read_order(aschema.stints)] == ["stints.game_id", "stints.stint"]  # key order


def test_a_table_read_in_chunks_has_the_types_and_values_of_one_read(tmp_path, monkeypatch):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'chunks.db'}")
    table = sa.Table(
        "chunked",
        sa.MetaData(),
        sa.Column("k", sa.Integer, primary_key=True),
        sa.Column("n", sa.Integer),  # a whole chunk of NULLs after ints: float64 in one read
        sa.Column("x", sa.Float),
        sa.Column("s", sa.String),  # NULLs then text: str in one read
        sa.Column("b", sa.Boolean),
        sa.Column("d", sa.Date),
        sa.Column("t", sa.DateTime),
    )
    create_tables(engine, [table])
    day = pd.Timestamp("2024-01-02")
    rows = [
        {
            "k": k,
            "n": None if 3 <= k < 6 else k,
            "x": None if k < 3 else k / 2,
            "s": None if k < 3 else f"s{k}",
            "b": None if k >= 6 else k % 2 == 0,
            "d": (day + pd.Timedelta(days=k)).date(),
            "t": None if k < 3 else (day + pd.Timedelta(hours=k)).to_pydatetime(),
        }
        for k in range(8)
    ]
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    one_read = read_table(engine, table)
    monkeypatch.setattr(db, "CHUNK_ROWS", 3)
    pd.testing.assert_frame_equal(read_table(engine, table), one_read)
    assert one_read["n"].dtype == "float64" and one_read["s"].dtype == "str"


def test_a_column_without_values_reads_with_its_tables_type_not_as_object(tmp_path):
    """An empty season, or a column NULL in every row (on-court ids in a season without a lineups
    file): typed as a read with values types the column, so arithmetic and concatenation work."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    table = sa.Table(
        "sparse",
        sa.MetaData(),
        sa.Column("k", sa.Integer, primary_key=True),
        sa.Column("season", sa.String),
        sa.Column("n", sa.BigInteger),
        sa.Column("x", sa.Float),
        sa.Column("b", sa.Boolean),
        sa.Column("d", sa.Date),
        sa.Column("t", sa.DateTime),
    )
    create_tables(engine, [table])
    empty = read_table(engine, table, {"season": "2021-22"})
    assert len(empty) == 0
    pd.testing.assert_frame_equal(read_seasons(engine, table, ["2021-22", "2022-23"]), empty)
    pd.testing.assert_frame_equal(no_rows(table), empty)  # a table not created yet reads as this
    with engine.connect() as conn:  # a narrow read (one game, dates before a day) types the same
        narrow = read_select(conn, sa.select(table.c.n, table.c.t).where(table.c.k < 0))
    pd.testing.assert_frame_equal(narrow, empty[["n", "t"]])
    assert {c: str(t) for c, t in empty.dtypes.items()} == {
        "k": "int64",
        "season": "str",
        "n": "int64",
        "x": "float64",
        "b": "bool",
        "d": "object",  # datetime.date values, as a read with dates gives them
        "t": "datetime64[us]",
    }
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"k": k, "season": "2021-22"} for k in range(3)])
    nulls = read_table(engine, table, {"season": "2021-22"})
    assert nulls["n"].dtype == "float64" and nulls["x"].dtype == "float64"  # NULLs: NaN
    assert nulls["t"].dtype == "datetime64[us]" and nulls["t"].isna().all()
    assert nulls["b"].dtype == object and nulls["b"].isna().all()  # no bool dtype holds a NULL
    assert (nulls["n"].fillna(0) + 1).tolist() == [1.0, 1.0, 1.0]


def test_a_table_stored_by_an_older_version_gains_the_new_columns_and_keeps_its_rows(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE team_game_features (game_id VARCHAR(10), team_id BIGINT, season VARCHAR(7))"
            )
        )
        conn.execute(sa.text("INSERT INTO team_game_features VALUES ('0022300001', 1, '2022-23')"))
    create_tables(engine, [aschema.team_game_features])
    got = read_table(engine, aschema.team_game_features)
    assert set(got.columns) == {c.name for c in aschema.team_game_features.columns}
    assert got["game_id"].tolist() == ["0022300001"] and got["avail_rating"].isna().all()


def test_a_schema_change_that_loses_the_race_for_each_of_its_tables_still_ends():
    """Each lost race is a table another process made meanwhile: with five tables, five failures
    then a success end in success; a change that always fails is raised."""
    outcomes = iter([True] * 5 + [False])
    lost = sa.exc.OperationalError("CREATE TABLE t", {}, Exception("table t already exists"))

    def change() -> None:
        if next(outcomes):
            raise lost

    def always_lost() -> None:
        raise lost

    db._again_if_raced(change, objects=5)
    with pytest.raises(sa.exc.OperationalError):
        db._again_if_raced(always_lost, objects=5)


def _create_when_released(url: str, barrier) -> None:
    barrier.wait()
    create_tables(sa.create_engine(url))


def test_processes_creating_the_same_tables_at_once_all_succeed(tmp_path):
    """Two seasons' runs at once on a fresh database both find a table missing; the second CREATE
    must not fail the run (it did: "table stints already exists")."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    for i in range(5):  # without the retry, five rounds failed in most runs
        url = f"sqlite:///{tmp_path / f'race{i}.db'}"
        barrier = ctx.Barrier(3)
        procs = [ctx.Process(target=_create_when_released, args=(url, barrier)) for _ in range(3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=120)
        assert [p.exitcode for p in procs] == [0, 0, 0], f"round {i}"
        assert set(sa.inspect(sa.create_engine(url)).get_table_names()) >= {"stints", "team_game_features"}
