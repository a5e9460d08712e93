"""The live command's path: polls -> new rows -> one forecast per new event -> printed line and ledger;
a recorded game replayed through it forecasts after every event and gives the batch forecast."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from nba_pipeline_tests.test_forecast.conftest import GAME, assert_same_forecast

RESPONSE = "playbyplayv3_0022200552.json"


@pytest.fixture(scope="session")
def v3_response(nba_raw_dir) -> dict:
    path = nba_raw_dir.parent / "nba_api" / "responses" / RESPONSE
    if not path.exists():
        pytest.skip(f"recorded response {path} not found")
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def convert():
    """The V3 -> raw-contract conversion the live command uses."""
    from nba_pipeline.sources.pbp_v3 import convert_pbp_v3

    return convert_pbp_v3


def _session(forecaster, source="replay", ledger=False, **kw):
    from nba_pipeline.forecast.live_session import LiveSession

    lines: list[str] = []
    s = LiveSession(
        forecaster.open_game(GAME),
        source=source,
        ledger_engine=forecaster.engine if ledger else None,
        out=lines.append,
        home="CLE",
        away="CHI",
        **kw,
    )
    return s, lines


CHECK_EVERY = 3  # events between two comparisons with a from-scratch forecast (0.14 s each)
CHECK_LAST = 30  # the last events, overtime included, are all compared


@pytest.mark.slow
def test_replaying_recorded_game_0022200552_forecasts_every_event_as_the_batch_does(
    forecaster, v3_response, convert
):
    """A forecast after every event; every third of them, and each of the last 30, equals the
    batch forecast of the rows seen so far (a drift of the incremental state shows at the next check)."""
    from nba_pipeline.forecast.live_session import follow, replay_polls

    held: list[pd.DataFrame] = []
    session, lines = _session(forecaster)
    session.on_update = lambda u: held.append(session.game.raw_rows())
    updates = follow(session, replay_polls(v3_response, speed=0))
    full = convert(v3_response)
    assert [u.forecast.events_seen for u in updates] == list(range(len(full) + 1))  # pregame + each event
    checked = 0
    for i, (u, rows) in enumerate(zip(updates[1:], held[1:], strict=True)):
        if i % CHECK_EVERY == 0 or i >= len(updates) - 1 - CHECK_LAST:
            assert_same_forecast(
                u.forecast, forecaster.forecast(GAME, rows), f"event {u.forecast.events_seen}"
            )
            checked += 1
    assert checked > len(full) // CHECK_EVERY
    last = updates[-1].forecast
    assert_same_forecast(last, forecaster.forecast(GAME, full), "after the last event, on the whole response")
    assert (last.home_score, last.away_score, last.period) == (145, 134, 5)
    assert session.final
    assert len(lines) == len(updates) and "CLE 145-134 CHI" in lines[-1]


def test_polling_forecasts_each_new_event_once_and_ledgers_it(forecaster, v3_response, convert):
    """A poll repeating the previous response adds nothing; a poll with several new events
    forecasts after each; every in-game forecast is in the ledger once (source 'live')."""
    from nba_pipeline.forecast.ledger import read_ledger
    from nba_pipeline.forecast.live_session import follow, replay_polls

    cuts = list(replay_polls(v3_response, step_game_seconds=30))[:12]
    polls = iter([c for c in cuts for _ in range(2)])  # every response polled twice
    session, lines = _session(forecaster, source="live", ledger=True)
    updates = follow(session, lambda: next(polls), interval_s=5, sleep=lambda s: None, max_polls=24)
    n = len(convert(cuts[-1]))
    assert [u.forecast.events_seen for u in updates] == list(range(n + 1))
    led = read_ledger(forecaster.engine, game_ids=[GAME], source="live")
    assert led["event_index"].tolist() == list(range(1, n + 1))  # the pregame one is after tip-off
    assert "not ledgered" in lines[0]
    follow(session, iter([cuts[-1]]))  # the same game polled again later: nothing new
    assert len(read_ledger(forecaster.engine, game_ids=[GAME], source="live")) == n


def test_a_failed_poll_is_reported_and_polling_goes_on(forecaster, v3_response, convert):
    from nba_pipeline.forecast.live_session import follow, replay_polls

    cuts = list(replay_polls(v3_response, step_game_seconds=60))[:3]

    answers = iter([cuts[0], ConnectionError("timed out"), {}, cuts[1], cuts[2]])

    def flaky() -> dict:
        a = next(answers)
        if isinstance(a, Exception):
            raise a
        return a

    waits: list[float] = []
    session, lines = _session(forecaster)
    follow(session, flaky, interval_s=7, sleep=waits.append, max_polls=5)
    assert sum("poll failed (ConnectionError: timed out)" in x for x in lines) == 1
    assert sum("poll failed" in x for x in lines) == 2  # the empty answer too
    assert session.updates[-1].forecast.events_seen == len(convert(cuts[2]))
    assert waits == [7] * 5


def test_v2_rows_in_overlapping_polls_give_one_forecast_per_event(forecaster, game_rows):
    session, _ = _session(forecaster)
    for end in (40, 40, 75, 130):
        session.ingest(game_rows.iloc[:end])
    assert [u.forecast.events_seen for u in session.updates] == list(range(1, 131))
    assert_same_forecast(session.updates[-1].forecast, forecaster.forecast(GAME, game_rows.iloc[:130]))


def test_live_command_replays_a_response_prints_lines_writes_chart_and_ledger(
    slice_env, model_version, v3_response, convert, tmp_path, monkeypatch, capsys
):
    from nba_pipeline.commands.live import main
    from nba_pipeline.db import make_engine
    from nba_pipeline.forecast.ledger import read_ledger

    for k, v in slice_env.items():
        monkeypatch.setenv(k, v)
    path = tmp_path / RESPONSE
    path.write_text(json.dumps(v3_response))
    chart = tmp_path / "wp.png"
    rc = main([GAME, "--replay", str(path), "--chart", str(chart), "--max-polls", "3"])
    out = capsys.readouterr().out.splitlines()
    assert rc == 0
    assert out[0].startswith("CHI at CLE, 2023-01-02") and model_version in out[0]
    assert out[1].startswith("out: ") and "(did_not_play, history)" in out[1]  # as its stored features
    assert out[2].startswith("pregame") and "P(CLE win)" in out[3]
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    led = read_ledger(make_engine(slice_env["NBA_DATABASE_URL"]), game_ids=[GAME], source="replay")
    assert len(led) == len([x for x in out if x.startswith("Q")]) > 0
    assert (led["model_version"] == model_version).all()


def test_live_command_forecasts_a_game_not_yet_in_the_games_table_from_the_feed(
    slice_env, model_version, fc, db, v3_response, convert, tmp_path, monkeypatch, capsys
):
    """Tonight's game is not ingested: its teams come from the feed (location h/v), its date from
    --date, its team features from the games before it, as the daily run computes them (not the
    defaults), leaving out who is known to be out, whom each forecast names; a response without any
    team action cannot be forecast (exit 2, saying why)."""
    from nba_pipeline.commands.live import main
    from nba_pipeline.forecast.ledger import read_ledger
    from nba_pipeline.forecast.live_session import game_from_response
    from nba_pipeline.sources.availability import append_reports, read_availability_csv

    for k, v in slice_env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("NBA_DATABASE_URL", str(db.url))  # a private copy: the import stays in it
    report = tmp_path / "out.csv"
    report.write_text("date,team,player,status\n2023-01-02,CLE,Donovan Mitchell,out\n", encoding="utf-8")
    append_reports(db, read_availability_csv(report, db))
    game = {**v3_response["game"], "gameId": "0022299999"}
    path = tmp_path / "new.json"
    path.write_text(json.dumps({**v3_response, "game": game}))
    argv = ["0022299999", "--replay", str(path), "--date", "2023-01-02", "--max-polls", "2"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "not in the games table" in out and "CHI at CLE, 2023-01-02, game 0022299999" in out
    assert "out: Donovan Mitchell (out, csv)" in out.splitlines()
    assert "P(CLE win)" in out.splitlines()[-1]
    led = read_ledger(db, game_ids=["0022299999"], source="replay")
    assert len(led) > 1 and (led["out_players"] == led["out_players"].iloc[0]).all()  # every forecast
    assert [p["player_id"] for p in json.loads(led["out_players"].iloc[0])] == [1628378]
    row = game_from_response({**v3_response, "game": game}, "0022299999", dt.date(2023, 1, 2))
    defaults = fc.open_game("0022299999", game=row).forecast()
    pregame = led[led["state"] == "pregame"].iloc[0]
    assert pregame["p_home_win"] != pytest.approx(defaults.p_home_win, abs=1e-7)
    argv.append("--no-ledger")
    path.write_text(json.dumps({**v3_response, "game": {**game, "actions": []}}))
    assert main(argv) == 2
    assert "0022299999" in capsys.readouterr().err
    assert main(["0022299999", "--replay", str(tmp_path / "absent.json")]) == 2


def test_live_command_forecasts_a_scheduled_game_before_its_first_event(
    slice_env, model_version, db, v3_response, convert, tmp_path, monkeypatch, capsys
):
    """A pulled schedule knows tonight's teams before tip-off: the command prints the pregame
    forecast at once, where the feed alone has no team until both have acted."""
    from nba_pipeline.commands.live import main

    for k, v in slice_env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("NBA_DATABASE_URL", str(db.url))
    pulled = tmp_path / "pulled"
    pulled.mkdir()
    monkeypatch.setenv("NBA_PULLED_DIR", str(pulled))
    cle, chi = 1610612739, 1610612741
    schedule = {"game_id": "0022299998", "game_date": pd.Timestamp("2023-01-02"), "status": "scheduled"}
    pd.DataFrame([{**schedule, "home_team_id": cle, "away_team_id": chi}]).to_parquet(
        pulled / "schedule_2022-23.parquet"
    )
    path = tmp_path / "empty.json"
    path.write_text(
        json.dumps({**v3_response, "game": {**v3_response["game"], "gameId": "0022299998", "actions": []}})
    )
    argv = ["0022299998", "--replay", str(path), "--date", "2023-01-02", "--max-polls", "1", "--no-ledger"]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert any("teams from the pulled schedule" in x for x in out)
    assert "CHI at CLE, 2023-01-02, game 0022299998" in "\n".join(out)
    assert out[-1].startswith("pregame") and "P(CLE win)" in out[-1]
