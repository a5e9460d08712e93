"""The lines of games to come (sources.line_store, line_lookup, lines_csv): every fetched answer
kept (append-only), the last one before tip-off used, the historical betting_lines row first;
``nba-pipeline lines`` on a saved response, a live fetch and a CSV import whose bad values are
named by row and column and load nothing."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import requests
import sqlalchemy as sa

from nba_pipeline.commands.lines import main
from nba_pipeline.db import create_tables, make_engine, replace_rows
from nba_pipeline.ingest.schema import betting_lines
from nba_pipeline.sources.line_lookup import latest_lines
from nba_pipeline.sources.line_store import append_lines, read_fetched
from nba_pipeline.sources.lines_csv import CSV_COLUMNS, LinesImportError, read_lines_csv
from nba_pipeline.sources.odds import parse_odds

GAME = "0022400913"
T0 = dt.datetime(2025, 3, 1, 15, 0, 0)
TIP = dt.datetime(2025, 3, 2, 1, 0, 0)  # 8 pm US/Eastern


@pytest.fixture()
def engine(tmp_path: Path) -> sa.Engine:
    return make_engine(f"sqlite:///{tmp_path / 'nba.db'}")


def _moved(response: dict, spread: str) -> dict:
    """The response with every book's home spread at ``spread`` (a later answer of the feed)."""
    r = copy.deepcopy(response)
    for m in r["games"][0]["markets"]:
        for b in m["books"]:
            for o in b["outcomes"]:
                if m["name"] == "spread":
                    o["spread"] = spread if o["type"] == "home" else str(-float(spread))
    return r


def test_every_answer_is_kept_and_the_last_before_tipoff_is_used(odds_response, engine):
    morning = parse_odds(odds_response, T0)
    evening = parse_odds(_moved(odds_response, "-8.5"), TIP - dt.timedelta(minutes=30))
    late = parse_odds(_moved(odds_response, "-2.5"), TIP + dt.timedelta(minutes=5))  # in-game: not pregame
    assert append_lines(engine, morning) == 1
    assert append_lines(engine, evening) == 1
    assert append_lines(engine, late) == 1
    assert append_lines(engine, morning) == 0  # the same answer twice: kept once, nothing replaced
    hist = read_fetched(engine, [GAME])
    assert hist["home_spread"].tolist() == [-7.0, -8.5, -2.5]
    assert hist["fetched_at"].tolist() == [
        pd.Timestamp(T0),
        pd.Timestamp(TIP - dt.timedelta(minutes=30)),
        pd.Timestamp(TIP + dt.timedelta(minutes=5)),
    ]

    used = latest_lines(engine, [GAME], before={GAME: TIP}).iloc[0]
    assert used["market_margin"] == 8.5  # betting_lines' units: minus the home spread
    assert used["fetched_at"] == pd.Timestamp(TIP - dt.timedelta(minutes=30))
    assert used["source"] == "nba_api_odds" and used["books"] == 8
    assert used["market_p_home"] == pytest.approx(3.2 / 4.57)
    assert pd.isna(used["market_total"])
    aware = dt.datetime(2025, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=-5)))  # 17:00 UTC
    assert latest_lines(engine, [GAME], before=aware).iloc[0]["market_margin"] == 7.0
    assert latest_lines(engine, [GAME]).iloc[0]["market_margin"] == 2.5  # no tip-off known: the last
    assert latest_lines(engine, [GAME], before=T0).empty  # nothing fetched before
    assert latest_lines(engine, ["0022400999"]).empty


def test_the_forecasts_read_the_historical_line_first_then_the_fetched_one(odds_response, engine):
    from nba_pipeline.sources.line_lookup import betting_lines_of

    assert betting_lines_of(engine, [GAME]) is None  # no table at all: no line
    append_lines(engine, parse_odds(odds_response, T0))
    create_tables(engine, [betting_lines])
    hist = pd.DataFrame(
        {
            "game_id": ["0022300001"],
            "season": ["2023-24"],
            "market_p_home": [0.6],
            "market_margin": [3.5],
            "market_total": [225.5],
        }
    )
    replace_rows(engine, betting_lines, hist, {"season": "2023-24"})
    got = betting_lines_of(engine, ["0022300001", GAME, "0022400999"]).set_index("game_id")
    assert got.index.tolist() == ["0022300001", GAME]
    assert got.loc["0022300001", "market_margin"] == 3.5 and got.loc["0022300001", "source"] == "odds.parquet"
    assert pd.isna(got.loc["0022300001", "fetched_at"])
    assert got.loc[GAME, "market_margin"] == 7.0 and got.loc[GAME, "source"] == "nba_api_odds"
    assert got.loc[GAME, "fetched_at"] == pd.Timestamp(T0)
    # a game with only its historical line reads the betting_lines row, saying which line it is
    only = betting_lines_of(engine, ["0022300001"])
    assert list(only.columns) == [c.name for c in betting_lines.columns] + ["source", "fetched_at"]
    # the feed's line for a game that also has a historical one is not used
    dup = parse_odds(odds_response, T0).assign(game_id="0022300001")
    append_lines(engine, dup)
    assert betting_lines_of(engine, ["0022300001"])["market_margin"].tolist() == [3.5]


def test_the_command_prints_one_line_per_game_of_a_saved_response(odds_path, capsys):
    assert main([str(odds_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["game", "P(home", "win)", "home", "spread", "total", "books"]
    assert out[2].split() == [GAME, "0.700", "-7.0", "-", "8"]


def test_the_console_script_runs_the_lines_command(odds_path):
    import subprocess
    import sys

    script = Path(sys.executable).parent / "nba-pipeline"
    out = subprocess.run([str(script), "lines", str(odds_path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[2].split() == [GAME, "0.700", "-7.0", "-", "8"]


def test_a_file_that_is_not_an_odds_response_is_an_error(tmp_path, capsys):
    bad = tmp_path / "scoreboard.json"
    bad.write_text('{"scoreboard": {}}')
    assert main([str(bad)]) == 1
    assert "no 'games' list" in capsys.readouterr().err


@pytest.fixture()
def configured(tmp_path: Path, monkeypatch) -> dict:
    """The command's database and pulled dir, with a schedule of two games of 2025-03-01."""
    pulled = tmp_path / "pulled"
    pulled.mkdir()
    pd.DataFrame(
        {
            "game_id": [GAME, "0022400914"],
            "game_date": [dt.date(2025, 3, 1)] * 2,
            "home_team_id": [1610612745, 1610612747],  # HOU, LAL
            "away_team_id": [1610612740, 1610612744],  # NOP, GSW
            "status": ["scheduled"] * 2,
        }
    ).to_parquet(pulled / "schedule_2024-25.parquet")
    url = f"sqlite:///{tmp_path / 'nba.db'}"
    monkeypatch.setenv("NBA_DATABASE_URL", url)
    monkeypatch.setenv("NBA_PULLED_DIR", str(pulled))
    monkeypatch.setenv("NBA_API_RETRIES", "0")
    return {"pulled": pulled, "engine": make_engine(url)}


def _csv(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "lines.csv"
    p.write_text(text)
    return p


def test_a_csv_by_game_id_or_by_date_and_teams_is_imported(configured, tmp_path, capsys):
    path = _csv(
        tmp_path,
        "game_id,date,home,away,home_ml,away_ml,p_home,spread,total,fetched_at\n"
        "22400913,,,,-250,+205,,-7,,2025-03-01T17:00:00Z\n"
        ",2025-03-01,lal,1610612744,,,0.55,-2.5,231.5,2025-03-01T12:30:00-05:00\n",
    )
    assert main(["--import", str(path), "--source", "mybook"]) == 0
    out = capsys.readouterr().out
    assert "2 lines, 2 new, source 'mybook'" in out
    got = read_fetched(configured["engine"]).set_index("game_id")
    ph = (250 / 350) / (250 / 350 + 100 / 305)
    assert got.loc[GAME, "market_p_home"] == pytest.approx(ph)
    assert got.loc[GAME, "home_spread"] == -7.0 and pd.isna(got.loc[GAME, "market_total"])
    assert got.loc["0022400914", ["market_p_home", "home_spread", "market_total"]].tolist() == [
        0.55,
        -2.5,
        231.5,
    ]
    assert got["fetched_at"].tolist() == [pd.Timestamp("2025-03-01 17:00"), pd.Timestamp("2025-03-01 17:30")]
    assert (got["source"] == "mybook").all() and got["books"].isna().all()


def test_a_bad_csv_names_each_row_and_column_and_loads_nothing(configured, tmp_path, capsys):
    path = _csv(
        tmp_path,
        "game_id,date,home,away,home_ml,away_ml,p_home,spread,total\n"
        "0022400913,,,,-250,+205,,-7,\n"  # row 1: good
        ",2025-03-01,HOU,XXX,-110,-110,,-1,\n"  # row 2: unknown team
        "0022400914,,,,1.9,2.0,,-3,\n"  # row 3: decimal odds given as moneylines
        "0022400915,,,,,,1.2,abc,900\n"  # row 4: probability, spread, total
        ",2025-03-02,HOU,NOP,,,0.6,-3,\n"  # row 5: no such game
        "0022400913,,,,,,0.6,,\n"  # row 6: no spread, same game as row 1
        "0022400916,,,,,,,-3,\n",  # row 7: no line at all
    )
    with pytest.raises(LinesImportError) as err:
        read_lines_csv(path, configured["engine"], configured["pulled"])
    problems = err.value.problems
    assert (
        problems[0] == "row 2 (line 3), column 'away': 'XXX' is not a team abbreviation (e.g. HOU) or team id"
    )
    assert "row 3 (line 4), column 'home_ml': '1.9' is not American odds (e.g. -150 or +130)" in problems
    assert "row 3 (line 4), column 'away_ml': '2.0' is not American odds (e.g. -150 or +130)" in problems
    assert "row 4 (line 5), column 'p_home': '1.2' is not a probability strictly between 0 and 1" in problems
    assert "row 4 (line 5), column 'spread': 'abc' is not a number" in problems
    assert "row 4 (line 5), column 'total': '900' is outside 150-300 points" in problems
    assert any(p.startswith("row 5 (line 6), column 'date': '2025-03-02' has no game") for p in problems)
    assert "row 6 (line 7), column 'spread': is empty: every line needs the home spread" in problems
    assert "row 6 (line 7), column 'game_id': '0022400913' repeats the game of an earlier row" in problems
    assert "row 7 (line 8), column 'home_ml': is empty and so is 'p_home': the row has no line" in problems
    assert not any(p.startswith("row 1 ") for p in problems)
    assert [int(p.split()[1]) for p in problems] == sorted(int(p.split()[1]) for p in problems)

    assert main(["--import", str(path)]) == 1
    msg = capsys.readouterr().err
    assert msg.startswith(f"error: {path}: ") and "nothing loaded" in msg and "row 4 (line 5)" in msg
    assert read_fetched(configured["engine"]).empty


def test_a_csv_without_the_needed_columns_says_which(configured, tmp_path):
    path = _csv(tmp_path, "game,prob\n0022400913,0.6\n")
    with pytest.raises(LinesImportError) as err:
        read_lines_csv(path)
    assert err.value.problems == [
        "no column 'game_id', nor 'date', 'home' and 'away': which game is it?",
        "no column 'p_home', nor 'home_ml' and 'away_ml': what is the line?",
        "no column 'spread' (the home side's, negative when favoured)",
        f"unknown column(s) ['game', 'prob']; the columns are {list(CSV_COLUMNS)}",
    ]


def test_fetch_stores_the_answer_and_an_unreachable_feed_exits_3(
    odds_response, configured, live_feed, capsys
):
    s = live_feed(odds_response)
    assert main(["--fetch"]) == 0
    assert "1 games, 1 new lines stored" in capsys.readouterr().out
    stored = read_fetched(configured["engine"])
    assert stored["game_id"].tolist() == [GAME] and stored["books"].tolist() == [8]
    assert [p.name for p in (configured["pulled"] / "cdn").rglob("*Z.json")]  # the raw answer, kept

    s.answers = [requests.ConnectionError("no route to host")]
    assert main(["--fetch"]) == 3
    err = capsys.readouterr().err
    assert "cdn.nba.com unreachable for odds/odds_todaysGames.json" in err
    assert len(read_fetched(configured["engine"])) == 1


def test_lines_read_before_any_is_fetched_are_the_empty_table_of_one_created(tmp_path):
    """No fetch yet (the table not created): the same typed columns as a table without lines."""
    from nba_pipeline.ingest.schema import fetched_lines

    engine = make_engine(f"sqlite:///{tmp_path / 'none.db'}")
    before = read_fetched(engine)
    create_tables(engine, [fetched_lines])
    pd.testing.assert_frame_equal(before, read_fetched(engine))
