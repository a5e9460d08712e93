"""``nba-pipeline daily``: forecast every game of the next days before tip-off with the promoted
model and write the forecasts to the ledger (``forecast.daily.run_daily``, the logic of the
``daily_forecasts`` asset).

    nba-pipeline daily [--as-of 2026-12-06] [--days 2] [--version latest] [--fetch-inactive]
    nba-pipeline daily --backtest 2024-01-01 2024-01-07   # past games, source 'backtest'
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from nba_pipeline import settings
from nba_pipeline.analytics import reads
from nba_pipeline.db import make_engine
from nba_pipeline.forecast.availability import OutPlayer
from nba_pipeline.forecast.daily import backtest_forecasts, out_names, run_daily
from nba_pipeline.forecast.game import GameForecaster
from nba_pipeline.forecast.ledger import read_ledger
from nba_pipeline.registry.errors import RegistryError
from nba_pipeline.text_tables import render_table


def _side_names(cell: object, home: int, away: int) -> tuple[str, str]:
    """The ledger's ``out_players`` JSON as people read it, per side ('?': not recorded)."""
    if not isinstance(cell, str):
        return "?", "?"
    players = [OutPlayer(**p) for p in json.loads(cell)]
    return tuple(out_names(tuple(p for p in players if p.team_id == int(t))) for t in (home, away))


def _maybe(x: object) -> float | None:
    """A number for a table cell, None where missing (shown '-')."""
    return None if x is None or pd.isna(x) else float(x)


HEADERS = ["date", "game", "home", "away", "P(home win)", "own P", "margin", "total", "home out", "away out"]
FORMATS = [None, None, None, None, ".3f", ".3f", "+.1f", ".1f", None, None]


def _row(r: Any, home_out: str, away_out: str) -> list[object]:
    """One printed row (HEADERS) of a forecast ``r`` and the names of each side's out players."""
    return [
        r.game_date,
        r.game_id,
        r.home_team_id,
        r.away_team_id,
        r.p_home_win,
        _maybe(r.own_p_home_win),
        r.margin,
        r.total,
        home_out,
        away_out,
    ]


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="nba-pipeline daily", description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--as-of", help="first day forecast, YYYY-MM-DD (default: today, US/Eastern)")
    ap.add_argument("--days", type=int, default=2, help="days forecast (default 2)")
    ap.add_argument("--version", default="latest", help="registry version (default: the promoted one)")
    ap.add_argument(
        "--fetch-inactive",
        action="store_true",
        help="ask the live box score for each game's inactive list first (a feed down is a warning)",
    )
    ap.add_argument(
        "--backtest",
        nargs=2,
        metavar=("FROM", "TO"),
        help="instead: the played games of FROM..TO (dates) as source 'backtest', made the day before",
    )
    return ap


def _backtest(fc: GameForecaster, engine, lo: dt.date, hi: dt.date) -> None:
    """Forecast the played games of ``lo..hi`` as backtest rows and print the ledger's rows of them."""
    played = reads.games_between(engine, lo, hi + dt.timedelta(days=1))
    ids = [] if played is None else [str(g) for g in played["game_id"]]
    n = backtest_forecasts(fc, engine, ids)
    kept = (
        f", {len(ids) - n} already there (the ledger keeps a game's first forecast of a version and "
        "source: a report imported since does not change it)"
        if n < len(ids)
        else ""
    )
    print(f"backtest {lo}..{hi} with {fc.model.version}: {len(ids)} games, {n} new ledger rows{kept}")
    if played is None or not len(played):
        return
    led = read_ledger(engine, game_ids=ids, source="backtest")
    led = led[led["model_version"] == fc.model.version].drop_duplicates("game_id", keep="last")
    t = played.astype({"game_id": str}).merge(led, on="game_id")
    rows = [
        _row(r, *_side_names(r.out_players, r.home_team_id, r.away_team_id))
        for r in t.itertuples(index=False)
    ]
    print("the ledger's rows (own P: the model's own, lines withheld, where the line was used):")
    print(render_table(HEADERS, rows, formats=FORMATS))


def _forecast_days(fc: GameForecaster, engine, as_of: dt.date, days: int, fetch_inactive: bool) -> None:
    """Forecast the games of ``days`` days from ``as_of`` into the ledger and print them."""
    res = run_daily(fc, engine, settings.pulled_dir(), as_of, days, fetch_inactive_lists=fetch_inactive)
    rows = [_row(r, r.home_out, r.away_out) for r in res.table().itertuples(index=False)]
    print(
        f"{as_of} +{days} days with {fc.model.version}: {len(res.games)} games, "
        f"{res.written} forecasts written, {len(res.already)} already in the ledger, "
        f"{len(res.skipped)} skipped"
    )
    for w in res.warnings:
        print(f"warning: {w}")
    if rows:
        print(render_table(HEADERS, rows, formats=FORMATS))
    for gid, why in res.skipped.items():
        print(f"  {gid}: not forecast: {why}")
    if res.no_games():
        print(f"{res.no_games()} (pull the current season first: nba-pipeline pull, or pass --as-of)")


def main(argv: list[str] | None = None) -> int:
    """The daily forecasts (the asset's logic) or, with ``--backtest FROM TO``, past games' forecasts
    as backtest rows, each printed with the players it took as out; exit 1 when the model cannot be
    loaded."""
    args = _parser().parse_args(argv)
    engine = make_engine(settings.database_url())
    try:
        fc = GameForecaster.from_registry(args.version)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.backtest:
        lo, hi = (dt.date.fromisoformat(x) for x in args.backtest)
        _backtest(fc, engine, lo, hi)
    else:
        today = dt.datetime.now(ZoneInfo("America/New_York")).date()
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else today
        _forecast_days(fc, engine, as_of, args.days, args.fetch_inactive)
    return 0
