"""Daily pregame forecasts on a real slice of 2022-23 (the forecast conftest's slice and random
model): every game of the window forecast once with its expected starters, before tip-off only,
starters from earlier games only, a rerun adds nothing to the ledger, and each ledger row names
the market line the forecast used (historical, fetched) or none."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from nba_pipeline.forecast.availability import availability_of
from nba_pipeline.forecast.daily import backtest_forecasts, expected_fives, games_to_come, run_daily
from nba_pipeline.forecast.ledger import read_ledger
from nba_pipeline_tests.test_forecast.conftest import GAME


def _line_model(fc, engine: sa.Engine):
    """A forecaster over ``engine`` whose model forecasts the market line's own win probability
    where a game has one (the line's scale set as training sets it); randomly initialised like the
    session's."""
    import dataclasses

    import torch

    from nba_pipeline.forecast.game import GameForecaster
    from nba_pipeline.models.config import ForecasterConfig
    from nba_pipeline.models.forecaster import NBAForecaster

    torch.manual_seed(0)
    model = NBAForecaster(ForecasterConfig.from_dict(fc.model.model.cfg.to_dict())).eval()
    model.set_scales(fc.model.score_diff_std, fc.model.norm)
    model.set_line_scale()
    with_line = dataclasses.replace(fc.model, model=model, version=f"{fc.model.version}-line")
    return GameForecaster(with_line, engine)


def _historical_line(db: sa.Engine, game_id: str) -> None:
    """A ``betting_lines`` row (as built from odds.parquet) for ``game_id``."""
    from nba_pipeline.db import create_tables, replace_rows
    from nba_pipeline.ingest.schema import betting_lines

    create_tables(db, [betting_lines])
    row = {"game_id": game_id, "season": "2022-23", "market_p_home": 0.7, "market_margin": 5.5}
    replace_rows(db, betting_lines, pd.DataFrame([{**row, "market_total": 224.5}]), {"season": "2022-23"})


def _day(db: sa.Engine) -> dt.date:
    with db.connect() as conn:
        d = conn.execute(sa.text("SELECT game_date FROM games WHERE game_id = :g"), {"g": GAME}).scalar()
    return pd.Timestamp(d).date()


def _evening_before(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0)) - dt.timedelta(hours=2)  # naive UTC


def _starters_before(db: sa.Engine, team_id: int, day: dt.date) -> set[int]:
    """Every player who started (first stint) a game of ``team_id`` before ``day``."""
    q = sa.text(
        "SELECT s.*, g.home_team_id, g.away_team_id FROM stints s JOIN games g USING (game_id) "
        "WHERE s.stint = 0 AND s.game_date < :d AND (g.home_team_id = :t OR g.away_team_id = :t)"
    )
    with db.connect() as conn:
        st = pd.read_sql(q, conn, params={"d": day, "t": team_id})
    out: set[int] = set()
    for r in st.to_dict("records"):
        side = "home" if r["home_team_id"] == team_id else "away"
        out |= {int(r[f"{side}_{i}"]) for i in range(1, 6)}
    return out


def test_every_game_of_the_window_is_forecast_once_with_expected_starters(fc, db):
    day = _day(db)
    res = run_daily(fc, db, None, day, days=1, now=_evening_before(day))
    with db.connect() as conn:
        on_day = {
            r[0] for r in conn.execute(sa.text("SELECT game_id FROM games WHERE game_date = :d"), {"d": day})
        }
    assert set(res.games["game_id"]) == on_day and GAME in on_day
    assert res.written == len(on_day) and not res.skipped
    led = read_ledger(db, source="daily")
    assert sorted(led["game_id"]) == sorted(on_day)
    assert (led["state"] == "pregame").all() and (led["event_index"] == 0).all()
    row = res.games.set_index("game_id").loc[GAME]
    home, away = list(row["home_starters"]), list(row["away_starters"])
    assert len(home) == 5 and len(away) == 5  # not an empty lineup graph
    assert set(home) <= _starters_before(db, int(row["home_team_id"]), day)
    assert set(away) <= _starters_before(db, int(row["away_team_id"]), day)
    # Told who is out as the stored features were (the game's box score), a daily forecast is
    # exactly the batch path's pregame forecast with those starters.
    told = availability_of(db, res.games, _evening_before(day), played=True)
    run_daily(fc, db, None, day, days=1, now=_evening_before(day), availability=told, source="told")
    direct = fc.forecast(GAME, starters=(home, away))
    got = read_ledger(db, source="told").set_index("game_id").loc[GAME]
    assert got["p_home_win"] == pytest.approx(direct.p_home_win, abs=1e-6)
    assert got["margin"] == pytest.approx(direct.margin, abs=1e-4)


def test_rerunning_a_day_adds_no_forecast(fc, db):
    day = _day(db)
    first = run_daily(fc, db, None, day, days=1, now=_evening_before(day))
    n = len(read_ledger(db))
    again = run_daily(fc, db, None, day, days=1, now=_evening_before(day) + dt.timedelta(hours=1))
    assert first.written > 0
    assert again.written == 0 and not again.forecasts
    assert sorted(again.already) == sorted(first.games["game_id"])
    assert len(read_ledger(db)) == n


def test_games_already_tipped_off_are_skipped_not_written(fc, db):
    day = _day(db)
    late = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(5, 0))  # after the evening games
    res = run_daily(fc, db, None, day, days=1, now=late)
    assert res.written == 0 and not res.forecasts
    assert set(res.skipped) == set(res.games["game_id"])
    assert all("tipped off" in why for why in res.skipped.values())
    assert read_ledger(db).empty


def test_expected_starters_use_only_games_before_the_date(db):
    day = _day(db)
    games = games_to_come(db, None, day, 1)
    before = expected_fives(db, games)
    with db.begin() as conn:  # later results (and the day's own) must not matter
        conn.execute(sa.text("DELETE FROM stints WHERE game_date >= :d"), {"d": day})
    assert expected_fives(db, games) == before
    assert all(len(h) == 5 and len(a) == 5 for h, a in before.values())


def _without_games_from(db: sa.Engine, day: dt.date, tmp_path: Path) -> tuple[sa.Engine, Path]:
    """A copy of the slice database as it was before ``day``'s games were ingested (games and
    team features from ``day`` on taken out), and an empty pulled dir for their schedule."""
    shutil.copy(Path(str(db.url.database)), tmp_path / "before.db")
    db2 = sa.create_engine(f"sqlite:///{tmp_path / 'before.db'}")
    with db2.begin() as conn:
        for table in ("games", "team_game_features"):
            conn.execute(sa.text(f"DELETE FROM {table} WHERE game_date >= :d"), {"d": day})
    pulled = tmp_path / "pulled"
    pulled.mkdir()
    return db2, pulled


def test_a_scheduled_game_not_in_the_games_table_is_forecast_as_if_it_were(fc, db, tmp_path):
    """The day's games taken out of the games and team_game_features tables and given by a pulled
    schedule file instead (tonight's games of a pulled season): their context is computed from the
    games before the date exactly as the analytics asset did (told who is out: the players of the
    rotation who did not play, the asset's stand-in for the injury report), and their forecasts
    are the same."""
    from nba_pipeline.analytics.availability import game_rotations, with_stint_seconds
    from nba_pipeline.db import read_table
    from nba_pipeline.features.context import ContextFeatureBuilder
    from nba_pipeline.forecast.availability import Availability, GameAvailability, OutPlayer
    from nba_pipeline.forecast.daily import scheduled_context
    from nba_pipeline.forecast.game import GameForecaster

    day = _day(db)
    ref = run_daily(fc, db, None, day, days=1, now=_evening_before(day)).table().set_index("game_id")
    with db.connect() as conn:
        tgf = pd.read_sql(
            sa.text("SELECT * FROM team_game_features WHERE game_date = :d"), conn, params={"d": day}
        )
    rot = game_rotations(with_stint_seconds(read_table(db, "player_game_stats"), read_table(db, "stints")))
    # The slice holds the play-by-play of a few of the day's games only; a game without a box score
    # has no rotation in the history (its strength falls back to the expected starters), while the
    # morning has one for every scheduled game: the games compared are those with a box score.
    boxed = sorted(set(rot["game_id"]) & set(ref.index))
    rot = rot[rot["game_id"].isin(boxed)]
    played = rot[~rot["out"]]  # on the team that day: a traded player's first game, a return
    known_on = {
        g: {int(t): set(p["player_id"]) for t, p in gp.groupby("team_id")}
        for g, gp in played.groupby("game_id")
    }
    rot = rot[rot["out"]]
    known_out = {g: set(rot.loc[rot["game_id"] == g, "player_id"]) for g in boxed}
    assert len(boxed) >= 2 and any(known_out.values())  # a player is out, so the test can fail
    db2, pulled = _without_games_from(db, day, tmp_path)
    sched = ref.reset_index()[["game_id", "game_date", "home_team_id", "away_team_id"]].assign(
        status="scheduled"
    )
    sched = pd.concat(
        [
            sched,
            pd.DataFrame(
                [
                    {
                        **sched.iloc[0].to_dict(),
                        "game_id": "0022299992",
                        "game_date": day + dt.timedelta(days=5),
                    }
                ]
            ),
        ]
    )
    sched.to_parquet(pulled / "schedule_2022-23.parquet")
    games = games_to_come(db2, pulled, day, 2)
    assert set(games["origin"]) == {"schedule"} and set(games["game_id"]) == set(ref.index)  # not day + 5
    ctx = scheduled_context(db2, games, known_out, known_on)
    want = ContextFeatureBuilder().build(boxed, tgf).values
    assert ctx.lines is None  # the slice has no lines
    for i, gid in enumerate(boxed):
        np.testing.assert_allclose(ctx.values[gid], want[i], rtol=1e-5, atol=1e-5)
    fc2 = GameForecaster(fc.model, db2)
    told = Availability(
        {
            g: GameAvailability(
                home=tuple(OutPlayer(p, "", 0, "out", "test") for p in ps),
                listed=tuple((t, p) for t, on in known_on[g].items() for p in on),
            )
            for g, ps in known_out.items()
        }
    )
    res = run_daily(fc2, db2, pulled, day, days=1, now=_evening_before(day), availability=told)
    got = res.table().set_index("game_id")
    # The same games in the games table, told the same: the stored rows, their strength recomputed.
    ref = run_daily(fc, db, None, day, days=1, now=_evening_before(day), availability=told, source="told")
    ref = ref.table().set_index("game_id")
    assert res.written == len(ref) and not res.skipped
    assert (got["home_starters"] == ref["home_starters"]).all()
    np.testing.assert_allclose(got.loc[boxed, "p_home_win"], ref.loc[boxed, "p_home_win"], atol=1e-5)
    np.testing.assert_allclose(got.loc[boxed, "margin"], ref.loc[boxed, "margin"], atol=1e-3)


def test_backtest_rows_are_made_the_day_before_and_kept_apart(fc, db):
    day = _day(db)
    assert backtest_forecasts(fc, db, [GAME]) == 1
    assert backtest_forecasts(fc, db, [GAME]) == 0
    bt = read_ledger(db, source="backtest")
    assert bt["made_at"].iloc[0] == pd.Timestamp(
        dt.datetime.combine(day, dt.time(0, 0)) - dt.timedelta(days=1), tz="UTC"
    )
    assert read_ledger(db, source="daily").empty


def test_the_commands_print_the_day_and_score_backtest_rows(
    slice_env, model_version, db, monkeypatch, capsys, tmp_path
):
    from nba_pipeline.commands import daily, scorecard

    day = _day(db)
    monkeypatch.setenv("NBA_DATABASE_URL", str(db.url))
    monkeypatch.setenv("NBA_MODELS_DIR", slice_env["NBA_MODELS_DIR"])
    monkeypatch.setenv("NBA_PULLED_DIR", str(tmp_path / "pulled"))
    assert daily.main(["--as-of", str(day), "--days", "1"]) == 0
    out = capsys.readouterr().out
    assert "0 forecasts written" in out and f"{GAME}: not forecast: tipped off" in out  # the day is past
    assert daily.main(["--as-of", "2031-01-02", "--days", "2"]) == 0  # a day without games says so
    assert "no games on 2031-01-02 to 2031-01-03" in capsys.readouterr().out
    assert daily.main(["--backtest", str(day), str(day)]) == 0
    n = len(read_ledger(db, source="backtest"))
    assert n > 0 and f"{n} new ledger rows" in capsys.readouterr().out
    assert daily.main(["--backtest", str(day), str(day)]) == 0  # again: the rows made are kept
    assert f"0 new ledger rows, {n} already there" in capsys.readouterr().out
    assert len(read_ledger(db, source="backtest")) == n
    assert scorecard.main(["--source", "backtest", "--plot", str(tmp_path / "b.png")]) == 0
    out = capsys.readouterr().out
    assert f"{n} games scored" in out and "## By week" in out
    assert (tmp_path / "b.png").read_bytes()[:4] == b"\x89PNG"


def test_a_forecast_with_a_historical_line_names_it_in_the_ledger(fc, db, game_rows):
    """The game's betting_lines row reaches the context, and its ledger row says 'odds.parquet'
    with no fetch time; the day's other games, without a line, have both NULL; the live path says
    the same after events; a model that does not read the line records none."""
    day = _day(db)
    _historical_line(db, GAME)
    line_fc = _line_model(fc, db)
    res = run_daily(line_fc, db, None, day, days=1, now=_evening_before(day))
    by_game = {f.game_id: f for f in res.forecasts}
    assert (by_game[GAME].line_source, by_game[GAME].line_fetched_at) == ("odds.parquet", None)
    led = read_ledger(db, source="daily").set_index("game_id")
    assert len(led) == len(res.forecasts) > 1
    assert led.loc[GAME, "line_source"] == "odds.parquet" and pd.isna(led.loc[GAME, "line_fetched_at"])
    others = led.drop(index=GAME)
    assert others["line_source"].isna().all() and others["line_fetched_at"].isna().all()
    # The line is in the forecast: without it the same model says something else.
    g = res.games.set_index("game_id").loc[GAME]
    fives = (list(g["home_starters"]), list(g["away_starters"]))
    with_line = line_fc.forecast(GAME, starters=fives)
    assert with_line.p_home_win == pytest.approx(by_game[GAME].p_home_win, abs=1e-9)
    with db.begin() as conn:
        conn.execute(sa.text("DELETE FROM betting_lines"))
    bare = line_fc.forecast(GAME, starters=fives)
    assert bare.line_source is None and bare.p_home_win != pytest.approx(with_line.p_home_win, abs=1e-6)
    _historical_line(db, GAME)
    live = line_fc.open_game(GAME, prefetch=False)
    live.add_rows(game_rows.head(40))
    now = live.forecast()
    assert now.events_seen > 0 and (now.line_source, now.line_fetched_at) == ("odds.parquet", None)


def test_a_scheduled_game_with_a_fetched_line_names_the_feed_and_its_time(fc, db, tmp_path):
    """Tonight's games (only in a pulled schedule), one with a line stored by the lines module: its
    forecast uses it and its ledger row names the feed and when the line was fetched; the others
    record no line."""
    from nba_pipeline.sources.line_store import append_lines
    from nba_pipeline.sources.odds import LINE_FIELDS

    day = _day(db)
    with db.connect() as conn:
        sched = pd.read_sql(
            sa.text("SELECT game_id, game_date, home_team_id, away_team_id FROM games WHERE game_date = :d"),
            conn,
            params={"d": day},
        )
    db2, pulled = _without_games_from(db, day, tmp_path)
    sched.assign(game_date=day, status="scheduled").to_parquet(pulled / "schedule_2022-23.parquet")
    fetched = _evening_before(day) - dt.timedelta(hours=3)
    row = sched.set_index("game_id").loc[GAME]
    line = {
        "game_id": GAME,
        "source": "nba_api_odds",
        "fetched_at": fetched,
        "home_team_id": int(row["home_team_id"]),
        "away_team_id": int(row["away_team_id"]),
        "market_p_home": 0.62,
        "home_spread": -4.5,
        "market_total": 221.5,
        "books": 6,
    }
    assert append_lines(db2, pd.DataFrame([line])[LINE_FIELDS]) == 1
    res = run_daily(_line_model(fc, db2), db2, pulled, day, days=1, now=_evening_before(day))
    assert set(res.games["origin"]) == {"schedule"} and res.written == len(sched) > 1
    led = read_ledger(db2, source="daily").set_index("game_id")
    assert led.loc[GAME, "line_source"] == "nba_api_odds"
    assert led.loc[GAME, "line_fetched_at"] == pd.Timestamp(fetched, tz="UTC")
    others = led.drop(index=GAME)
    assert others["line_source"].isna().all() and others["line_fetched_at"].isna().all()


def test_the_saved_odds_answer_is_fetched_stored_used_tonight_and_named_in_the_ledger(
    fc, db, tmp_path, odds_response, live_feed
):
    """The recorded odds feed answer (game 0022400913: the no-vig home probability 0.700 and spread
    -7.0 over 8 books, no total), fetched through the source into the database, is the line the
    morning forecast of its game reads, and the game's ledger row names the feed and the fetch
    time. The game is scheduled on the slice's day with the answer's teams."""
    from nba_pipeline.sources.line_fetch import fetch_and_store
    from nba_pipeline.sources.line_lookup import betting_lines_of

    day = _day(db)
    db2, pulled = _without_games_from(db, day, tmp_path)
    game = odds_response["games"][0]
    gid = game["gameId"]
    teams = {"home_team_id": int(game["homeTeamId"]), "away_team_id": int(game["awayTeamId"])}
    pd.DataFrame([{"game_id": gid, "game_date": day, **teams, "status": "scheduled"}]).to_parquet(
        pulled / "schedule_2022-23.parquet"
    )
    fetched = _evening_before(day) - dt.timedelta(hours=3)
    live_feed(odds_response)
    lines, new, at = fetch_and_store(db2, pulled, now=lambda: fetched)
    assert (new, at, list(lines["game_id"])) == (1, fetched, [gid])

    line = betting_lines_of(db2, [gid]).set_index("game_id").loc[gid]
    assert line["market_p_home"] == pytest.approx(0.700, abs=5e-4) and line["market_margin"] == 7.0
    assert pd.isna(line["market_total"]) and line["source"] == "nba_api_odds"
    model = _line_model(fc, db2)
    res = run_daily(model, db2, pulled, day, days=1, now=_evening_before(day))
    assert list(res.games["game_id"]) == [gid] and res.written == 1
    led = read_ledger(db2, source="daily").set_index("game_id")
    assert led.loc[gid, "line_source"] == "nba_api_odds"
    assert led.loc[gid, "line_fetched_at"] == pd.Timestamp(fetched, tz="UTC")


def test_a_forecast_that_used_a_line_keeps_the_model_s_own_beside_it(fc, db):
    """The ledger row of a forecast with a line also holds the model's own forecast: the same
    model's forecast of the game without a line; the rows without a line hold none."""
    day = _day(db)
    _historical_line(db, GAME)
    line_fc = _line_model(fc, db)
    res = run_daily(line_fc, db, None, day, days=1, now=_evening_before(day))
    got = {f.game_id: f for f in res.forecasts}[GAME]
    with db.begin() as conn:
        conn.execute(sa.text("DELETE FROM betting_lines"))
    again = run_daily(line_fc, db, None, day, days=1, now=_evening_before(day), source="without_line")
    bare = {f.game_id: f for f in again.forecasts}[GAME]
    assert bare.line_source is None and bare.own_p_home_win is None
    assert got.own_p_home_win == pytest.approx(bare.p_home_win, abs=1e-6)
    assert got.own_margin == pytest.approx(bare.margin, abs=1e-4)
    assert got.own_total == pytest.approx(bare.total, abs=1e-4)
    assert got.p_home_win != pytest.approx(got.own_p_home_win, abs=1e-6)
    led = read_ledger(db, source="daily").set_index("game_id")
    assert led.loc[GAME, "own_p_home_win"] == pytest.approx(bare.p_home_win, abs=1e-6)
    assert led.drop(index=GAME)[["own_p_home_win", "own_margin", "own_total"]].isna().all(axis=None)
