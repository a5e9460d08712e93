"""Forecasts of games to come and their scorecard: ``daily_forecasts`` (pregame forecasts of the
next days' games with the promoted model, appended to the forecast ledger before tip-off) and
``forecast_scorecard`` (the ledger scored once the results are in, beside Elo and the market, with
the rolling Brier as a plot). Thin wrappers over ``nba_pipeline.forecast.daily`` and
``nba_pipeline.evaluate.scorecard``; torch is imported inside the bodies only. The morning run
fetches tonight's market lines first (``fetch_lines``).

Neither asset ever changes a ledger row: the ledger is append-only (``forecast.ledger``), so a rerun
of a day adds nothing. The job ``forecast_day`` runs both (the scorecard scores the games whose
results are in; the new forecasts count as pending); its schedule ``morning_forecasts``
(10:00 US/Eastern: after the nightly refresh and retraining, before the first tip-off) is off by
default like the nightly one.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from nba_pipeline.assets.training import _png_markdown
from nba_pipeline.resources import Database, RawData, Storage
from nba_pipeline.text_tables import render_table

GROUP = "forecasts"
EASTERN = ZoneInfo("America/New_York")
MORNING_FETCHES = {"fetch_lines": True, "fetch_inactive": True}  # the morning schedule asks both feeds


class DailyForecastConfig(dg.Config):
    """Which days to forecast, with which model."""

    as_of_date: str = ""  # YYYY-MM-DD, the first day forecast; empty: today (US/Eastern)
    days_ahead: int = 2  # days forecast from as_of_date (2: today and tomorrow)
    model_version: str = "latest"  # the promoted model by default
    # Fetch tonight's lines from the live odds feed first (the morning schedule does; the main job
    # never calls the network). An unreachable feed is a warning: the forecasts use the lines stored.
    fetch_lines: bool = False
    # Ask the live box score for each game's inactive list (the morning schedule does); a feed that
    # is down is a warning: the forecasts take imported reports or history instead.
    fetch_inactive: bool = False


class ScorecardConfig(dg.Config):
    """Which ledger rows to score."""

    sources: list[str] = []  # empty: every live source (not backtest / replay)
    rolling_window: int = 50  # games in the rolling Brier


def _as_of(text: str) -> dt.date:
    if not text:
        return dt.datetime.now(EASTERN).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise dg.Failure(f"as_of_date must be YYYY-MM-DD, got {text!r}") from exc


def _fetch_lines(context: dg.AssetExecutionContext, database: Database, raw: RawData) -> dict:
    """Tonight's lines into ``fetched_lines`` before the forecasts read them; metadata saying what
    came back, or why nothing did."""
    from nba_pipeline.sources.client import SourceError
    from nba_pipeline.sources.line_fetch import fetch_and_store

    try:
        lines, new, at = fetch_and_store(database.engine(), raw.pulled_dir())
    except (SourceError, ValueError) as exc:
        context.log.warning(f"tonight's lines not fetched, forecasting with the lines stored: {exc}")
        return {"lines_fetched": 0, "line_feed_error": str(exc)}
    context.log.info(f"odds feed at {at:%Y-%m-%d %H:%M} UTC: {len(lines)} games, {new} new lines")
    return {"lines_fetched": len(lines), "lines_new": new, "lines_fetched_at": f"{at:%Y-%m-%d %H:%M:%S} UTC"}


@dg.asset(
    # Forecasts need a promoted model: a first run trains, promotes, then forecasts. The job
    # forecast_day (and the main command, in a run of its own) forecasts with the model promoted
    # before when a night trains nothing.
    deps=["promoted_model", "games", "stints", "player_features", "team_game_features"],
    group_name=GROUP,
    kinds={"pytorch", "sql"},
    description="Pregame forecasts of every game of the next days (run config: as_of_date, default "
    "today; days_ahead, default 2) with the promoted model and each team's expected starters, "
    "appended to the forecast ledger before tip-off (a rerun adds nothing).",
)
def daily_forecasts(
    context: dg.AssetExecutionContext,
    config: DailyForecastConfig,
    database: Database,
    raw: RawData,
    storage: Storage,
) -> dg.MaterializeResult:
    from nba_pipeline.forecast.daily import run_daily
    from nba_pipeline.forecast.game import GameForecaster
    from nba_pipeline.registry.errors import RegistryError
    from nba_pipeline.registry.store import ModelRegistry

    as_of = _as_of(config.as_of_date)
    fetched: dict = {}
    if config.fetch_lines:
        fetched = _fetch_lines(context, database, raw)
    try:
        loaded = ModelRegistry(storage.models()).load_model(config.model_version)
    except RegistryError as exc:
        raise dg.Failure(
            f"no model to forecast with ({exc}): train and promote one first (job train_and_promote)"
        ) from exc
    engine = database.engine()
    forecaster = GameForecaster.from_loaded(loaded, engine)
    res = run_daily(
        forecaster,
        engine,
        raw.pulled_dir(),
        as_of,
        config.days_ahead,
        fetch_inactive_lists=config.fetch_inactive,
    )
    for w in res.warnings:
        context.log.warning(w)
    context.log.info(
        f"{as_of} +{config.days_ahead} days with {loaded.version}: {len(res.games)} games, "
        f"{res.written} forecasts written, {len(res.already)} already in the ledger, "
        f"{len(res.skipped)} skipped"
    )
    for gid, why in res.skipped.items():
        context.log.warning(f"game {gid} not forecast: {why}")
    days = res.span()
    if res.no_games():
        context.log.info(f"{res.no_games()} (pull the current season first, or set as_of_date)")
    t = res.table()
    rows = [
        [r.game_date, r.game_id, r.home_team_id, r.away_team_id, r.p_home_win, r.margin, r.total]
        + [r.home_out, r.away_out]
        for r in t.itertuples(index=False)
    ]
    headers = ["date", "game", "home", "away", "P(home win)", "margin", "total", "home out", "away out"]
    formats = [None, None, None, None, ".3f", "+.1f", ".1f", None, None]
    return dg.MaterializeResult(
        metadata={
            "as_of_date": str(as_of),
            "days_ahead": config.days_ahead,
            **fetched,
            "version": loaded.version,
            "days": days,
            "games": len(res.games),
            "forecasts_written": res.written,
            "already_in_ledger": len(res.already),
            "skipped": dg.MetadataValue.json(res.skipped),
            "warnings": dg.MetadataValue.json(res.warnings),
            "forecasts": dg.MetadataValue.md(
                render_table(headers, rows, "markdown", formats)
                if rows
                else (f"No games on {days}." if res.games.empty else "No new forecast.")
            ),
        }
    )


@dg.asset(
    deps=["games"],  # reads the ledger: runs even when the day's forecasts fail (no model yet)
    group_name=GROUP,
    kinds={"sql"},
    description="The forecast ledger scored once results are in: accuracy, Brier, log loss, margin and "
    "total MAE overall and by week, beside Elo and (where lines exist) the market; rolling Brier plot.",
)
def forecast_scorecard(
    context: dg.AssetExecutionContext,
    config: ScorecardConfig,
    database: Database,
    raw: RawData,
    storage: Storage,
) -> dg.MaterializeResult:
    from nba_pipeline.evaluate.scorecard import ELO, MODEL, rolling_brier_png, score_ledger

    card = score_ledger(database.engine(), raw.dir(), config.sources or None)
    reports = storage.reports()
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / "scorecard.md"
    path.write_text(card.markdown + "\n", encoding="utf-8")
    card.games.to_csv(path.with_suffix(".csv"), index=False)
    context.log.info(f"scorecard: {len(card.games)} games scored, {card.pending} pending; {path}")
    meta: dict = {
        "sources": dg.MetadataValue.json(card.sources),
        "games_scored": len(card.games),
        "pending": card.pending,
        "lines_used": dg.MetadataValue.json(card.lines_used),  # line source (or 'none') -> forecasts
        "path": dg.MetadataValue.path(str(path)),
        "scorecard": dg.MetadataValue.md(card.markdown),
    }
    if len(card.games):
        meta["model_brier"] = card.overall[MODEL]["brier"]
        meta["model_accuracy"] = card.overall[MODEL]["accuracy"]
        if ELO in card.overall:
            meta["elo_brier"] = card.overall[ELO]["brier"]
        meta["rolling_brier"] = _png_markdown("rolling Brier", rolling_brier_png(card, config.rolling_window))
    return dg.MaterializeResult(metadata=meta)


forecast_day_job = dg.define_asset_job(
    "forecast_day",
    selection=dg.AssetSelection.assets(daily_forecasts, forecast_scorecard),
    description="Score the ledger (yesterday's results) and forecast the next days' games.",
)


@dg.schedule(
    job=forecast_day_job,
    cron_schedule="0 10 * * *",
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def morning_forecasts(context: dg.ScheduleEvaluationContext):
    day = context.scheduled_execution_time.astimezone(EASTERN).date().isoformat()
    return dg.RunRequest(
        run_key=f"forecast:{day}",
        run_config={"ops": {"daily_forecasts": {"config": {"as_of_date": day, **MORNING_FETCHES}}}},
    )


JOBS = [forecast_day_job]
SCHEDULES = [morning_forecasts]
