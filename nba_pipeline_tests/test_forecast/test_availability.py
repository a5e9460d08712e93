"""Who is out of a forecast game, on the forecast conftest's real slice of 2022-23: an import known
before the forecast wins, then the live box score's list, then history (the rotation players who
missed the team's latest game); every daily and backtest forecast records them in its output and
in the ledger, and a feed that is down is a warning of the run."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from nba_pipeline.analytics.availability import rotation_as_of
from nba_pipeline.analytics.reads import appearances_before
from nba_pipeline.forecast.availability import HISTORY, MISSED_LAST, availability_of
from nba_pipeline.forecast.daily import backtest_forecasts, games_to_come, run_daily
from nba_pipeline.forecast.ledger import read_ledger
from nba_pipeline.sources.availability import append_reports, read_availability_csv
from nba_pipeline.sources.inactive import InactiveLists, parse_roster
from nba_pipeline_tests.test_forecast.conftest import GAME
from nba_pipeline_tests.test_forecast.test_daily import _day, _evening_before

MITCHELL, LAVINE = 1628378, 203897  # Cleveland (home of GAME) and Chicago (away)


def _teams(db: sa.Engine) -> tuple[int, int]:
    with db.connect() as conn:
        q = sa.text("SELECT home_team_id, away_team_id FROM games WHERE game_id = :g")
        home, away = conn.execute(q, {"g": GAME}).one()
    return int(home), int(away)


def _import(db: sa.Engine, tmp_path: Path, rows: str) -> None:
    path = tmp_path / "availability.csv"
    path.write_text("date,team,player,status,known_at\n" + rows, encoding="utf-8")
    append_reports(db, read_availability_csv(path, db))


def _missed_last(db: sa.Engine, team: int, day: dt.date) -> set[int]:
    rot = rotation_as_of(appearances_before(db, "2022-23", day), "2022-23", [team], day)
    return set(rot.loc[rot["missed_last"], "player_id"])


def test_an_import_then_the_feed_then_history_decide_who_is_out(db, tmp_path):
    day = _day(db)
    home, away = _teams(db)
    games = games_to_come(db, None, day, 1)
    made = _evening_before(day)

    plain = availability_of(db, games, made).of(GAME)
    assert {p.player_id for p in plain.home} == _missed_last(db, home, day)
    assert {p.player_id for p in plain.away} == _missed_last(db, away, day)
    assert all(p.source == HISTORY and p.status == MISSED_LAST for p in plain.players())

    day_s = day.isoformat()
    _import(
        db,
        tmp_path,
        f"{day_s},CLE,Donovan Mitchell,out,{made - dt.timedelta(hours=5):%Y-%m-%dT%H:%MZ}\n"
        f"{day_s},CHI,Zach LaVine,out,{made + dt.timedelta(hours=1):%Y-%m-%dT%H:%MZ}\n",  # after: unseen
    )
    imported = availability_of(db, games, made).of(GAME)
    assert [(p.player_id, p.name, p.status, p.source) for p in imported.home] == [
        (MITCHELL, "Donovan Mitchell", "out", "csv")
    ]
    assert imported.away == plain.away  # Chicago's report came later: history still

    box = {
        "game": {
            "gameId": GAME,
            "homeTeam": {"teamId": home, "players": [{"personId": 1, "status": "ACTIVE"}]},
            "awayTeam": {"teamId": away, "players": [{"personId": LAVINE, "status": "INACTIVE"}]},
        }
    }
    feed = InactiveLists(parse_roster(box, day, made), games={GAME})
    fed = availability_of(db, games, made, feed).of(GAME)
    assert fed.home == imported.home  # the import wins over the feed
    assert availability_of(db, games, made, feed).known_out()[GAME] >= {MITCHELL, LAVINE}
    assert [(p.player_id, p.status, p.source) for p in fed.away] == [(LAVINE, "inactive", "nba_api_boxscore")]


def test_every_daily_forecast_names_its_out_players_in_the_table_and_the_ledger(fc, db, tmp_path):
    day = _day(db)
    made = _evening_before(day)
    _import(
        db,
        tmp_path,
        f"{day.isoformat()},CLE,1628378,doubtful,{made - dt.timedelta(hours=1):%Y-%m-%dT%H:%MZ}\n",
    )
    res = run_daily(fc, db, None, day, days=1, now=made)
    t = res.table().set_index("game_id")
    assert t.loc[GAME, "home_out"] == "Donovan Mitchell (doubtful, csv)"
    assert {f.game_id: f.out_players for f in res.forecasts}[GAME] == res.availability.of(GAME).players()
    led = read_ledger(db, source="daily").set_index("game_id")
    assert len(led) == len(t) and led["out_players"].notna().all()
    home = [p for p in json.loads(led.loc[GAME, "out_players"]) if p["team_id"] == _teams(db)[0]]
    assert home == [
        {
            "player_id": MITCHELL,
            "name": "Donovan Mitchell",
            "team_id": _teams(db)[0],
            "status": "doubtful",
            "source": "csv",
        }
    ]


def test_a_backtest_of_a_past_day_with_an_import_names_the_player_in_output_and_ledger(
    slice_env, model_version, db, tmp_path, monkeypatch, capsys
):
    from nba_pipeline.commands import daily

    day = _day(db)
    known = dt.datetime.combine(day, dt.time(0, 0)) - dt.timedelta(days=1, hours=2)  # before made_at
    _import(db, tmp_path, f"{day.isoformat()},CLE,Donovan Mitchell,out,{known:%Y-%m-%dT%H:%MZ}\n")
    monkeypatch.setenv("NBA_DATABASE_URL", str(db.url))
    monkeypatch.setenv("NBA_MODELS_DIR", slice_env["NBA_MODELS_DIR"])
    assert daily.main(["--backtest", str(day), str(day)]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if GAME in x)
    assert "Donovan Mitchell (out, csv)" in line
    led = read_ledger(db, source="backtest").set_index("game_id")
    assert "Donovan Mitchell" in led.loc[GAME, "out_players"]


def _played(db: sa.Engine, player: int) -> bool:
    with db.connect() as conn:
        q = sa.text("SELECT COUNT(*) FROM player_game_stats WHERE game_id = :g AND player_id = :p")
        return bool(conn.execute(q, {"g": GAME, "p": player}).scalar())


def test_a_backtest_names_who_of_the_rotation_did_not_play_the_game(fc, db):
    from nba_pipeline.analytics.availability import game_rotations
    from nba_pipeline.forecast.availability import DID_NOT_PLAY

    day = _day(db)
    rot = game_rotations(appearances_before(db, "2022-23", day + dt.timedelta(days=1)))
    missed = set(rot.loc[(rot["game_id"] == GAME) & rot["out"], "player_id"])
    assert missed  # someone of the rotations sat out, so the test can fail
    assert backtest_forecasts(fc, db, [GAME]) == 1
    players = json.loads(read_ledger(db, source="backtest")["out_players"].item())
    assert {p["player_id"] for p in players} == missed
    assert {(p["status"], p["source"]) for p in players} == {(DID_NOT_PLAY, HISTORY)}


def test_an_imported_player_out_moves_the_forecast_that_names_him(fc, db, tmp_path):
    """The players a forecast names are the ones its strength left out: Mitchell played the game,
    so only the import can take him out, in a backtest and in a daily run of the day before."""
    from nba_pipeline.features.context import FEATURE_NAMES
    from nba_pipeline.forecast.daily import pregame_context

    assert _played(db, MITCHELL)
    day = _day(db)
    made = _evening_before(day)
    games = games_to_come(db, None, day, 1)
    out_share = FEATURE_NAMES.index("home_out_share")  # Cleveland's minutes out
    share = pregame_context(db, games, availability_of(db, games, made)).values[GAME][out_share]
    before = backtest_forecasts(fc, db, [GAME], source="before")
    plain = run_daily(fc, db, None, day, days=1, now=made, source="plain")
    known = dt.datetime.combine(day, dt.time(0, 0)) - dt.timedelta(days=1, hours=2)  # before both
    _import(db, tmp_path, f"{day.isoformat()},CLE,Donovan Mitchell,out,{known:%Y-%m-%dT%H:%MZ}\n")
    assert pregame_context(db, games, availability_of(db, games, made)).values[GAME][out_share] > share
    assert before == backtest_forecasts(fc, db, [GAME]) == 1
    told = run_daily(fc, db, None, day, days=1, now=made, source="told")
    led = read_ledger(db).set_index("source")
    led = led[led["game_id"] == GAME]
    for without, with_import in (("before", "backtest"), ("plain", "told")):
        assert MITCHELL not in {p["player_id"] for p in json.loads(led.loc[without, "out_players"])}
        assert MITCHELL in {p["player_id"] for p in json.loads(led.loc[with_import, "out_players"])}
        # The session's model is random: the strength moves its forecast a little, but it moves.
        assert led.loc[with_import, "p_home_win"] != pytest.approx(led.loc[without, "p_home_win"], abs=1e-7)
    assert {f.game_id: f for f in told.forecasts}[GAME].p_home_win == led.loc["told", "p_home_win"]
    assert {f.game_id: f for f in plain.forecasts}[GAME].p_home_win == led.loc["plain", "p_home_win"]


def test_a_report_known_after_the_backtest_forecast_is_not_used(fc, db, tmp_path):
    day = _day(db)
    _import(db, tmp_path, f"{day.isoformat()},CLE,Donovan Mitchell,out,{day.isoformat()}T15:00Z\n")
    assert backtest_forecasts(fc, db, [GAME]) == 1
    players = json.loads(read_ledger(db, source="backtest")["out_players"].item())
    assert all(p["source"] == HISTORY for p in players)


def test_a_live_box_score_feed_that_is_down_is_a_warning_of_the_run(fc, db, tmp_path, live_feed, monkeypatch):
    monkeypatch.setenv("NBA_API_RETRIES", "0")
    monkeypatch.setenv("NBA_API_DELAY_S", "0")
    live_feed(requests.ConnectionError("connection refused"))
    day = _day(db)
    res = run_daily(
        fc, db, tmp_path / "pulled", day, days=1, now=_evening_before(day), fetch_inactive_lists=True
    )
    assert res.written == len(res.games) > 0
    assert len(res.warnings) == 1 and "unreachable" in res.warnings[0]
    assert res.availability.of(GAME) == availability_of(db, res.games, _evening_before(day)).of(GAME)


def test_the_live_box_score_s_list_is_what_the_daily_forecast_takes(fc, db, tmp_path, live_feed, monkeypatch):
    monkeypatch.setenv("NBA_API_DELAY_S", "0")  # one request per game of the day
    day = _day(db)
    home, away = _teams(db)
    box = {
        "game": {
            "gameId": GAME,
            "homeTeam": {"teamId": home, "players": []},
            "awayTeam": {"teamId": away, "players": [{"personId": LAVINE, "status": "INACTIVE"}]},
        }
    }
    live_feed(box)
    res = run_daily(
        fc, db, tmp_path / "pulled", day, days=1, now=_evening_before(day), fetch_inactive_lists=True
    )
    t = res.table().set_index("game_id")
    assert t.loc[GAME, "away_out"] == "Zach LaVine (inactive, nba_api_boxscore)"
    assert t.loc[GAME, "home_out"] == "-"  # the feed had the game: nobody of Cleveland inactive
    assert not res.warnings
    others = t.drop(index=GAME)  # the answer is of GAME alone: the other games keep their history
    plain = availability_of(db, res.games, _evening_before(day))
    assert all(res.availability.of(g) == plain.of(g) for g in others.index)
    led = read_ledger(db, source="daily").set_index("game_id")
    assert [p["player_id"] for p in json.loads(led.loc[GAME, "out_players"])] == [LAVINE]


def test_an_import_listing_a_traded_player_puts_him_on_his_new_team_that_day(db, tmp_path):
    from nba_pipeline.forecast.daily import scheduled_rotations

    day = _day(db)
    home, _ = _teams(db)
    games = games_to_come(db, None, day, 1)
    made = _evening_before(day)
    before = scheduled_rotations(db, games[games["game_id"] == GAME])
    assert LAVINE not in set(before.loc[before["team_id"] == home, "player_id"])

    _import(db, tmp_path, f"{day.isoformat()},CLE,Zach LaVine,available,{made:%Y-%m-%dT%H:%MZ}\n")  # a trade
    availability = availability_of(db, games, made)
    assert availability.known_on()[GAME] == {home: frozenset({LAVINE})}
    assert LAVINE not in availability.known_out()[GAME]
    rot = scheduled_rotations(
        db, games[games["game_id"] == GAME], availability.known_out(), availability.known_on()
    )
    cle = rot[rot["team_id"] == home].set_index("player_id")
    chicago = rotation_as_of(appearances_before(db, "2022-23", day), "2022-23", [_teams(db)[1]], day)
    assert not cle.loc[LAVINE, "out"]
    assert (
        cle.loc[LAVINE, "expected_minutes"] == chicago.set_index("player_id").loc[LAVINE, "expected_minutes"]
    )


def test_a_player_the_live_box_score_lists_as_active_for_a_team_is_on_it_that_day(db):
    day = _day(db)
    home, away = _teams(db)
    games = games_to_come(db, None, day, 1)
    made = _evening_before(day)
    box = {
        "game": {
            "gameId": GAME,
            "homeTeam": {"teamId": home, "players": [{"personId": LAVINE, "status": "ACTIVE"}]},  # a trade
            "awayTeam": {"teamId": away, "players": [{"personId": 1629632, "status": "INACTIVE"}]},
        }
    }
    feed = InactiveLists(parse_roster(box, day, made), games={GAME})
    availability = availability_of(db, games, made, feed)
    assert availability.known_on()[GAME] == {home: frozenset({LAVINE})}
    assert [p.player_id for p in availability.of(GAME).players()] == [1629632]
