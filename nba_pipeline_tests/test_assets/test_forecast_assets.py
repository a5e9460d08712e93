"""The daily_forecasts and forecast_scorecard assets on the real slice of the forecast tests (a
random promoted model): a day's forecasts land in the ledger once, however often the asset runs,
and the scorecard scores them with its rolling-Brier plot attached as a Markdown image."""

from __future__ import annotations

import base64
import datetime as dt
import re
import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from nba_pipeline_tests.test_forecast.conftest import (  # noqa: F401 - session fixtures of the real slice
    GAME,
    forecaster,
    model_version,
    slice_env,
)


@pytest.fixture
def env(slice_env, model_version, tmp_path, monkeypatch):  # noqa: F811
    """Resources over a private copy of the slice database; the clock set to the evening before
    the recorded game's day (its games have not tipped off)."""
    from nba_pipeline.forecast import daily
    from nba_pipeline.resources import Database, RawData, Storage

    src = Path(slice_env["NBA_DATABASE_URL"].removeprefix("sqlite:///"))
    shutil.copy(src, tmp_path / "nba.db")
    url = f"sqlite:///{tmp_path / 'nba.db'}"
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        day = pd.Timestamp(
            conn.execute(sa.text("SELECT game_date FROM games WHERE game_id = :g"), {"g": GAME}).scalar()
        ).date()
        n = conn.execute(sa.text("SELECT COUNT(*) FROM games WHERE game_date = :d"), {"d": day}).scalar()
    monkeypatch.setattr(
        daily, "_utcnow", lambda: dt.datetime.combine(day, dt.time(0, 0)) - dt.timedelta(hours=3)
    )
    resources = {
        "database": Database(url=url),
        "raw": RawData(path=slice_env["NBA_RAW_DIR"], pulled_path=str(tmp_path / "pulled")),
        "storage": Storage(data_dir=str(tmp_path / "data"), models_dir=slice_env["NBA_MODELS_DIR"]),
    }
    return {"resources": resources, "engine": engine, "day": day, "n": n, "tmp": tmp_path}


def _run(env, assets, config: dict | None = None) -> dg.ExecuteInProcessResult:
    from nba_pipeline.assets.forecasts import daily_forecasts, forecast_scorecard

    by_name = {"daily_forecasts": daily_forecasts, "forecast_scorecard": forecast_scorecard}
    cfg = {"daily_forecasts": {"config": {"as_of_date": str(env["day"]), "days_ahead": 1, **(config or {})}}}
    ops = {k: v for k, v in cfg.items() if k in assets}
    return dg.materialize([by_name[a] for a in assets], resources=env["resources"], run_config={"ops": ops})


def _meta(result: dg.ExecuteInProcessResult, key: str) -> dict:
    (mat,) = [m for m in result.get_asset_materialization_events() if m.asset_key.to_user_string() == key]
    return {k: v.value for k, v in mat.materialization.metadata.items()}


def test_daily_forecasts_writes_the_days_games_once_however_often_it_runs(env):
    from nba_pipeline.forecast.ledger import read_ledger

    first = _meta(_run(env, ["daily_forecasts"]), "daily_forecasts")
    assert first["games"] == env["n"] > 0
    assert first["forecasts_written"] == env["n"]
    assert GAME in first["forecasts"]
    rows = read_ledger(env["engine"])
    assert len(rows) == env["n"] and set(rows["source"]) == {"daily"}
    again = _meta(_run(env, ["daily_forecasts"]), "daily_forecasts")
    assert again["forecasts_written"] == 0 and again["already_in_ledger"] == env["n"]
    assert len(read_ledger(env["engine"])) == env["n"]


def test_scorecard_scores_the_days_forecasts_with_a_rolling_brier_image(env):
    _run(env, ["daily_forecasts"])
    meta = _meta(_run(env, ["forecast_scorecard"]), "forecast_scorecard")
    assert meta["games_scored"] == env["n"] and meta["pending"] == 0
    assert 0.0 <= meta["model_brier"] <= 1.0
    m = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)\)", meta["rolling_brier"])
    assert m and base64.b64decode(m.group(1))[:8] == b"\x89PNG\r\n\x1a\n"
    assert "## By week" in meta["scorecard"]
    assert (env["tmp"] / "data" / "reports" / "scorecard.md").exists()


def test_daily_forecasts_without_a_promoted_model_fails_saying_so(env, tmp_path):
    from nba_pipeline.resources import Storage

    env["resources"]["storage"] = Storage(data_dir=str(tmp_path / "d2"), models_dir=str(tmp_path / "empty"))
    from nba_pipeline.assets.forecasts import daily_forecasts

    result = dg.materialize([daily_forecasts], resources=env["resources"], raise_on_error=False)
    assert not result.success
    (fail,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "train and promote" in str(fail.event_specific_data.error.message) + str(fail.event_specific_data)


def test_forecast_day_job_runs_both_assets_and_forecasts_depend_on_the_promoted_model():
    from nba_pipeline.definitions import defs

    job = defs.resolve_job_def("forecast_day")
    keys = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    assert keys == {"daily_forecasts", "forecast_scorecard"}
    graph = defs.resolve_asset_graph()
    assert dg.AssetKey("daily_forecasts") not in graph.get(dg.AssetKey("forecast_scorecard")).parent_keys
    assert dg.AssetKey("promoted_model") in graph.get(dg.AssetKey("daily_forecasts")).parent_keys


def test_morning_schedule_forecasts_from_its_own_day_in_eastern_time():
    from nba_pipeline.assets.forecasts import morning_forecasts

    # 10:00 US/Eastern on 2026-11-25 is 15:00 UTC: the day forecast is the 25th.
    tick = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)
    with dg.build_schedule_context(scheduled_execution_time=tick) as ctx:
        req = morning_forecasts(ctx)
    assert req.run_config["ops"]["daily_forecasts"]["config"]["as_of_date"] == "2026-11-25"
    assert req.run_config["ops"]["daily_forecasts"]["config"]["fetch_lines"] is True  # lines first
    assert req.run_config["ops"]["daily_forecasts"]["config"]["fetch_inactive"] is True
    assert req.run_key == "forecast:2026-11-25"


def test_the_morning_fetch_stores_tonights_lines_and_a_feed_that_is_down_only_warns(
    env, odds_response, live_feed, monkeypatch
):
    """With ``fetch_lines`` the asset asks the odds feed first (a recorded answer, replayed through
    nba_api's own client) and stores its lines; when the feed cannot be reached the day is still
    forecast, and the materialization says why no line came."""
    import requests

    from nba_pipeline.sources.line_store import read_fetched

    feed = live_feed(odds_response)
    monkeypatch.setenv("NBA_API_DELAY_S", "0")
    monkeypatch.setenv("NBA_API_RETRIES", "1")
    got = _meta(_run(env, ["daily_forecasts"], {"fetch_lines": True}), "daily_forecasts")
    assert got["lines_fetched"] == 1 and got["lines_new"] == 1
    assert read_fetched(env["engine"])["game_id"].tolist() == ["0022400913"]
    assert got["forecasts_written"] == env["n"]

    feed.answers = [requests.ConnectionError("no route to host")]
    down = _meta(_run(env, ["daily_forecasts"], {"fetch_lines": True}), "daily_forecasts")
    assert down["lines_fetched"] == 0 and "cdn.nba.com unreachable" in down["line_feed_error"]
    assert down["already_in_ledger"] == env["n"]  # the day was forecast all the same
    assert len(read_fetched(env["engine"])) == 1


def test_the_morning_inactive_lists_feed_down_is_a_warning_and_the_day_is_forecast(
    env, live_feed, monkeypatch
):
    """With ``fetch_inactive`` the asset asks the live box score; when it cannot be reached the
    materialization carries the warning and every game is forecast with its out players recorded."""
    import requests

    from nba_pipeline.forecast.ledger import read_ledger

    live_feed(requests.ConnectionError("no route to host"))
    monkeypatch.setenv("NBA_API_DELAY_S", "0")
    monkeypatch.setenv("NBA_API_RETRIES", "0")
    got = _meta(_run(env, ["daily_forecasts"], {"fetch_inactive": True}), "daily_forecasts")
    assert got["forecasts_written"] == env["n"]
    assert len(got["warnings"]) == 1 and "unreachable" in got["warnings"][0]
    assert "home out" in got["forecasts"]
    assert read_ledger(env["engine"])["out_players"].notna().all()
