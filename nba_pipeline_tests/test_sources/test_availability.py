"""sources.availability: a file of who is out, checked whole (errors name the row and column, and
nothing is stored), names resolved through the shipped players, kept append-only with the time
each report was known, and read back as known at a time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from nba_pipeline.commands.availability import main
from nba_pipeline.db import create_tables, make_engine, replace_rows
from nba_pipeline.ingest.players import build_players
from nba_pipeline.ingest.raw import read_raw
from nba_pipeline.ingest.schema import player_availability, players
from nba_pipeline.sources.availability import (
    AvailabilityImportError,
    append_reports,
    read_availability_csv,
    reports_known,
)

LAKERS, NUGGETS = 1610612747, 1610612743
LEBRON, DAVIS, JOKIC = 2544, 203076, 203999
NOW = dt.datetime(2023, 11, 17, 15, 0)


@pytest.fixture(scope="module")
def shipped_players(nba_raw_dir: Path) -> pd.DataFrame:
    """The ``players`` rows of the shipped players file."""
    return build_players(read_raw(nba_raw_dir, "players"))[0]


@pytest.fixture()
def engine(tmp_path: Path, shipped_players: pd.DataFrame) -> sa.Engine:
    e = make_engine(f"sqlite:///{tmp_path / 'nba.db'}")
    create_tables(e, [players])
    replace_rows(e, players, shipped_players, {})
    return e


def _csv(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "out.csv"
    p.write_text(text, encoding="utf-8")
    return p


def _stored(engine: sa.Engine) -> int:
    if not sa.inspect(engine).has_table(player_availability.name):
        return 0
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(player_availability)).scalar()


def test_a_file_of_ids_and_names_is_stored_with_the_time_it_was_known(engine, tmp_path):
    path = _csv(
        tmp_path,
        "Date,Team,Player,Status,known_at\n"
        "2023-11-18,LAL,2544,Out,\n"
        "2023-11-18,lal,anthony davis,questionable,2023-11-17T20:00:00Z\n"
        "2023-11-18,1610612743,Nikola Jokic,doubtful,2023-11-17T12:00:00-05:00\n",
    )
    rows = read_availability_csv(path, engine, now=NOW)
    assert rows["player_id"].tolist() == [LEBRON, DAVIS, JOKIC]
    assert rows["team_id"].tolist() == [LAKERS, LAKERS, NUGGETS]
    assert rows["status"].tolist() == ["out", "questionable", "doubtful"]
    assert rows["known_at"].tolist() == [
        pd.Timestamp(NOW),
        pd.Timestamp("2023-11-17 20:00"),
        pd.Timestamp("2023-11-17 17:00"),
    ]
    assert append_reports(engine, rows) == 3
    assert append_reports(engine, rows) == 0  # the same reports again: nothing added


def test_each_player_s_last_report_known_by_then_is_read(engine, tmp_path):
    first = _csv(
        tmp_path, "date,team,player,status,known_at\n2023-11-18,LAL,LeBron James,out,2023-11-17T15:00Z\n"
    )
    append_reports(engine, read_availability_csv(first, engine))
    later = _csv(
        tmp_path,
        "date,team,player,status,known_at\n2023-11-18,LAL,LeBron James,available,2023-11-18T20:00Z\n",
    )
    append_reports(engine, read_availability_csv(later, engine))
    day = dt.date(2023, 11, 18)
    morning = reports_known(engine, day, dt.datetime(2023, 11, 18, 14, 0))
    assert morning[["player_id", "status", "out"]].values.tolist() == [[LEBRON, "out", True]]
    evening = reports_known(engine, day, dt.datetime(2023, 11, 18, 23, 0))
    assert evening[["status", "out"]].values.tolist() == [["available", False]]
    assert reports_known(engine, day, dt.datetime(2023, 11, 17, 0, 0)).empty  # nothing known yet
    assert _stored(engine) == 2  # both reports kept


def test_every_bad_value_is_named_by_row_and_column_and_nothing_is_stored(engine, tmp_path):
    path = _csv(
        tmp_path,
        "date,team,player,status\n"
        "2023-11-18,LAL,2544,out\n"
        "18/11/2023,LAL,2544,out\n"
        "2023-11-18,XYZ,203999,out\n"
        "2023-11-18,LAL,Nobody Atall,out\n"
        "2023-11-18,LAL,99999999,out\n"
        "2023-11-18,LAL,Anthony Davis,injured\n"
        "2023-11-18,LAL,LeBron James,out\n",
    )
    with pytest.raises(AvailabilityImportError) as err:
        read_availability_csv(path, engine, now=NOW)
    problems = err.value.problems
    assert problems == [
        "row 2 (line 3), column 'date': '18/11/2023' is not a date YYYY-MM-DD",
        "row 3 (line 4), column 'team': 'XYZ' is not a team abbreviation (e.g. LAL) or team id",
        "row 4 (line 5), column 'player': 'Nobody Atall' is no player of the players table (by id or name)",
        "row 5 (line 6), column 'player': '99999999' is not a player id of the players table",
        "row 6 (line 7), column 'status': 'injured' is not one of out, doubtful, questionable, probable, "
        "available",
        "row 7 (line 8), column 'player': 'LeBron James' repeats a player of an earlier row",
    ]
    assert _stored(engine) == 0


def test_a_name_two_players_share_is_an_error_asking_for_the_id(engine, tmp_path, shipped_players):
    twin = shipped_players[shipped_players["player_id"] == LEBRON].assign(player_id=1)
    replace_rows(engine, players, pd.concat([shipped_players, twin]), {})
    path = _csv(
        tmp_path, "date,team,player,status\n2023-11-18,LAL,LeBron James,out\n2023-11-18,LAL,2544,out\n"
    )
    with pytest.raises(
        AvailabilityImportError, match=r"row 1 \(line 2\), column 'player'.*give the player id"
    ):
        read_availability_csv(path, engine, now=NOW)


def test_missing_and_unknown_columns_are_named(engine, tmp_path):
    path = _csv(tmp_path, "date,team,name,status\n2023-11-18,LAL,LeBron James,out\n")
    with pytest.raises(AvailabilityImportError) as err:
        read_availability_csv(path, engine, now=NOW)
    assert err.value.problems[0] == "no column 'player'"
    assert "unknown column(s) ['name']" in err.value.problems[1]


def test_the_command_imports_a_file_and_prints_the_day(engine, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NBA_DATABASE_URL", str(engine.url))
    good = _csv(tmp_path, "date,team,player,status\n2023-11-18,LAL,LeBron James,out\n")
    assert main(["--import", str(good)]) == 0
    out = capsys.readouterr().out
    assert "1 reports, 1 new" in out and "LeBron James" in out
    assert main(["--date", "2023-11-18"]) == 0
    assert "LeBron James" in capsys.readouterr().out
    bad = _csv(tmp_path, "date,team,player,status\n2023-11-18,LAL,LeBron James,gone\n")
    assert main(["--import", str(bad)]) == 1
    assert "row 1 (line 2), column 'status'" in capsys.readouterr().err
    assert _stored(engine) == 1


def test_reports_read_before_any_is_stored_are_the_empty_table_of_one_created(tmp_path):
    """No import yet (the table not created): the same typed columns as a day without reports."""
    engine = make_engine(f"sqlite:///{tmp_path / 'none.db'}")
    day, at = dt.date(2023, 11, 18), dt.datetime(2023, 11, 18, 14, 0)
    before = reports_known(engine, day, at)
    create_tables(engine, [player_availability])
    pd.testing.assert_frame_equal(before, reports_known(engine, day, at))
