"""The forecast ledger: rows only ever added, a forecast never twice, no pregame after tip-off."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from nba_pipeline.forecast import ledger as L
from nba_pipeline.forecast.ledger import LedgerEntry, PregameAfterTipoff, append_forecasts, read_ledger

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
