"""The forecast ledger: rows only ever added, a forecast never twice, no pregame after tip-off, each
row naming the market line its forecast used; a ledger of the old schema gains those columns."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
import sqlalchemy as sa

from nba_pipeline.forecast import ledger as L
from nba_pipeline.forecast.game import Forecast
from nba_pipeline.forecast.ledger import (
    LedgerEntry,
    PregameAfterTipoff,
    append_forecasts,
    entry_from_forecast,
    read_ledger,
)

TIP = dt.datetime(2023, 1, 3, 0, 30, tzinfo=dt.UTC)  # 7:30 PM US/Eastern on 2023-01-02


def entry(state: str = "after_event", n: int = 10, source: str = "live", **kw) -> LedgerEntry:
    base = {
        "game_id": "0022200552",
        "model_version": "v1.0.0",
        "state": state,
        "event_index": n,
        "p_home_win": 0.61,
        "margin": 3.5,
        "total": 228.0,
        "source": source,
        "made_at": TIP + dt.timedelta(minutes=30),
    }
    return LedgerEntry(**{**base, **kw})


@pytest.fixture
def engine(tmp_path):
    return sa.create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")


def test_appended_rows_are_read_back_with_utc_times(engine):
    assert append_forecasts(engine, [entry(n=1), entry(n=2)]) == 2
    df = read_ledger(engine, game_ids=["0022200552"])
    assert df["event_index"].tolist() == [1, 2]
    assert df["made_at"].iloc[0] == TIP + dt.timedelta(minutes=30)
    assert set(df.columns) >= {
        "game_id",
        "model_version",
        "made_at",
        "state",
        "event_index",
        "p_home_win",
        "margin",
        "total",
        "source",
    }


def test_a_forecast_already_in_the_ledger_is_not_added_again(engine):
    assert append_forecasts(engine, [entry(n=5), entry(n=5)]) == 1  # twice in one call
    assert append_forecasts(engine, [entry(n=5, p_home_win=0.7), entry(n=6)]) == 1  # again later
    assert append_forecasts(engine, [entry(n=5, source="replay")]) == 1  # another source is another row
    df = read_ledger(engine)
    assert len(df) == 3
    assert df.loc[(df["event_index"] == 5) & (df["source"] == "live"), "p_home_win"].item() == 0.61


def test_a_pregame_forecast_after_tipoff_is_refused_and_nothing_is_added(engine):
    late = entry("pregame", 0, source="daily", made_at=TIP + dt.timedelta(seconds=1))
    with pytest.raises(PregameAfterTipoff, match="0022200552.*tip-off"):
        append_forecasts(engine, [entry(n=3), late], tipoffs={"0022200552": TIP})
    assert read_ledger(engine).empty
    early = entry("pregame", 0, source="daily", made_at=TIP - dt.timedelta(hours=5))
    assert append_forecasts(engine, [early], tipoffs={"0022200552": TIP}) == 1


def test_without_a_given_tipoff_the_first_in_game_forecast_or_noon_eastern_is_the_limit(engine):
    append_forecasts(engine, [entry(n=1, made_at=TIP + dt.timedelta(minutes=2))])
    with pytest.raises(PregameAfterTipoff):  # the game was already being forecast live
        append_forecasts(engine, [entry("pregame", 0, made_at=TIP + dt.timedelta(minutes=5))])
    from nba_pipeline.ingest.schema import games

    games.create(engine)
    with engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO games (game_id, season, game_date, game_type, is_regular_season, "
                "is_postseason, neutral_site, home_team_id, away_team_id, home_team_abbr, "
                "away_team_abbr, home_pts, away_pts) VALUES ('0022300001', '2023-24', "
                "'2023-10-24', 'regular_season', 1, 0, 0, 1, 2, 'DEN', 'LAL', 0, 0)"
            )
        )
    noon_et = dt.datetime(2023, 10, 24, 16, 0, tzinfo=dt.UTC)
    with pytest.raises(PregameAfterTipoff):
        append_forecasts(engine, [entry("pregame", 0, game_id="0022300001", made_at=noon_et)])
    ok = entry("pregame", 0, game_id="0022300001", made_at=noon_et - dt.timedelta(minutes=1))
    assert append_forecasts(engine, [ok]) == 1


def test_each_row_names_the_line_its_forecast_used_or_none(engine):
    fetched = dt.datetime(2023, 1, 2, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))  # 17:00 UTC
    rows = [
        entry(n=1, line_source="odds.parquet"),  # the historical file: no fetch time
        entry(n=2, line_source="nba_api_odds", line_fetched_at=fetched),
        entry(n=3),  # no line
    ]
    assert append_forecasts(engine, rows) == 3
    df = read_ledger(engine).set_index("event_index")
    assert df.loc[1, "line_source"] == "odds.parquet" and pd.isna(df.loc[1, "line_fetched_at"])
    assert df.loc[2, "line_source"] == "nba_api_odds"
    assert df.loc[2, "line_fetched_at"] == pd.Timestamp("2023-01-02 17:00", tz="UTC")
    assert pd.isna(df.loc[3, "line_source"]) and pd.isna(df.loc[3, "line_fetched_at"])


def test_an_entry_of_a_forecast_carries_its_line():
    fc = Forecast("0022200552", 0.6, 3.0, 225.0, 0, "v1.0.0", line_source="csv")
    fc.line_fetched_at = dt.datetime(2023, 1, 2, 17, 0)
    e = entry_from_forecast(fc, source="daily")
    assert (e.state, e.line_source, e.line_fetched_at) == ("pregame", "csv", dt.datetime(2023, 1, 2, 17, 0))
    bare = entry_from_forecast(Forecast("0022200552", 0.6, 3.0, 225.0, 12, "v1.0.0"), source="live")
    assert bare.line_source is None and bare.line_fetched_at is None


def test_an_entry_records_the_players_taken_as_out_and_the_model_s_own_forecast(engine):
    from nba_pipeline.forecast.availability import OutPlayer

    out = (OutPlayer(2544, "LeBron James", 1610612747, "out", "csv"),)
    fc = Forecast("0022200552", 0.7, 5.0, 225.0, 0, "v1.0.0", line_source="odds.parquet", out_players=out)
    fc.own_p_home_win, fc.own_margin, fc.own_total = 0.55, 1.5, 221.0
    nobody = Forecast("0022200553", 0.5, 0.0, 220.0, 0, "v1.0.0", out_players=())
    live = Forecast("0022200554", 0.5, 0.0, 220.0, 10, "v1.0.0")
    made = TIP - dt.timedelta(hours=3)
    append_forecasts(
        engine, [entry_from_forecast(f, source="daily", made_at=made) for f in (fc, nobody, live)]
    )
    df = read_ledger(engine).set_index("game_id")
    assert json.loads(df.loc["0022200552", "out_players"]) == [
        {"player_id": 2544, "name": "LeBron James", "team_id": 1610612747, "status": "out", "source": "csv"}
    ]
    assert df.loc["0022200552", ["own_p_home_win", "own_margin", "own_total"]].tolist() == [0.55, 1.5, 221.0]
    assert df.loc["0022200553", "out_players"] == "[]"  # recorded: nobody out
    assert pd.isna(df.loc["0022200554", "out_players"]) and pd.isna(df.loc["0022200554", "own_p_home_win"])


def _old_ledger(engine: sa.Engine) -> None:
    """``forecast_ledger`` as the release before the line columns created it, triggers included."""
    cols = [c for c in L.forecast_ledger.columns if c.name not in L.ADDED_COLUMNS]
    old = sa.Table(
        "forecast_ledger",
        sa.MetaData(),
        *(sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable) for c in cols),
        sa.UniqueConstraint(*L.KEY, name="uq_forecast_ledger_forecast"),
        sa.CheckConstraint("state IN ('pregame', 'after_event')", name="ck_forecast_ledger_state"),
        sa.CheckConstraint("event_index >= 0", name="ck_forecast_ledger_event_index"),
        sa.Index("ix_forecast_ledger_game", "game_id"),
    )
    old.create(engine)
    with engine.begin() as c:
        for sql in L._SQLITE_TRIGGERS if engine.dialect.name == "sqlite" else L._PG_TRIGGER:
            c.execute(sa.DDL(sql))


def _upgrade_keeps_rows_and_triggers(engine: sa.Engine) -> None:
    _old_ledger(engine)
    with engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO forecast_ledger (game_id, model_version, made_at, state, event_index, "
                "p_home_win, margin, total, source) VALUES "
                "('0022200552', 'v0.9.0', '2023-01-03 01:00:00', 'after_event', 7, 0.55, 1.5, 224.0, 'live')"
            )
        )
    assert not {"line_source", "line_fetched_at"} & {
        c["name"] for c in sa.inspect(engine).get_columns("forecast_ledger")
    }
    old = read_ledger(engine)  # reading migrates
    assert len(old) == 1 and old["p_home_win"].item() == 0.55 and old["model_version"].item() == "v0.9.0"
    assert pd.isna(old["line_source"].item()) and pd.isna(old["line_fetched_at"].item())
    assert old[["out_players", "own_p_home_win", "own_margin", "own_total"]].isna().all(axis=None)
    fetched = dt.datetime(2023, 1, 2, 17, 0)
    new = entry(n=8, line_source="nba_api_odds", line_fetched_at=fetched)
    assert append_forecasts(engine, [new, entry(n=7, model_version="v0.9.0")]) == 1  # the old row is kept
    df = read_ledger(engine).set_index("event_index")
    assert df.loc[8, "line_source"] == "nba_api_odds"
    assert df.loc[8, "line_fetched_at"] == pd.Timestamp(fetched, tz="UTC")
    L.ensure_ledger(engine)  # again: nothing to add
    for sql in ("UPDATE forecast_ledger SET line_source = 'csv'", "DELETE FROM forecast_ledger"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as c:
            c.execute(sa.text(sql))
    assert len(read_ledger(engine)) == 2


def test_a_ledger_of_the_old_schema_gains_the_line_columns_and_keeps_its_rows(engine):
    _upgrade_keeps_rows_and_triggers(engine)


def test_a_postgres_ledger_of_the_old_schema_gains_the_line_columns(postgres_url):
    schema = "old_ledger"  # its own schema: the server's public one is the other tests'
    with sa.create_engine(postgres_url).begin() as c:
        c.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine = sa.create_engine(postgres_url, connect_args={"options": f"-csearch_path={schema}"})
    _upgrade_keeps_rows_and_triggers(engine)


def test_the_database_refuses_to_update_or_delete_a_ledger_row(engine):
    append_forecasts(engine, [entry(n=1)])
    for sql in ("UPDATE forecast_ledger SET p_home_win = 0.99", "DELETE FROM forecast_ledger"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as c:
            c.execute(sa.text(sql))
    assert read_ledger(engine)["p_home_win"].tolist() == [0.61]


def test_the_module_offers_no_way_to_change_a_row():
    public = [n for n in dir(L) if not n.startswith("_") and callable(getattr(L, n))]
    assert not [n for n in public if any(w in n.lower() for w in ("update", "delete", "remove", "replace"))]


def test_bad_states_are_refused(engine):
    with pytest.raises(ValueError, match="state"):
        append_forecasts(engine, [entry(state="halftime")])
    with pytest.raises(ValueError, match="event_index"):
        append_forecasts(engine, [entry(state="pregame", n=4)])


def test_postgres_ledger_is_append_only_and_skips_duplicates(postgres_url):
    engine = sa.create_engine(postgres_url)
    assert append_forecasts(engine, [entry(n=1), entry(n=1), entry(n=2)]) == 2
    assert append_forecasts(engine, [entry(n=2)]) == 0
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as c:
        c.execute(sa.text("DELETE FROM forecast_ledger"))
    assert len(read_ledger(engine)) == 2
