"""``nba-pipeline lines``: the market's lines of games to come, printed, fetched or imported.

    nba-pipeline lines FILE.json                  # the lines of a saved odds response, one per game
    nba-pipeline lines --fetch                    # fetch the live odds feed now, keep it, print it
    nba-pipeline lines --import FILE.csv [--source NAME]   # lines bought elsewhere

Every line fetched or imported is appended to ``fetched_lines`` with its time
(``sources.line_store``); the line a game uses is the last one had before its tip-off
(``sources.line_lookup``). An imported CSV (its columns: ``sources.lines_csv``) is checked whole
first: one bad value, named by row and column, and nothing is stored. A malformed saved response
is one error line naming the file and the field.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from nba_pipeline.ingest.schema import fetched_lines
from nba_pipeline.sources.line_store import append_lines
from nba_pipeline.sources.lines_csv import CSV_SOURCE, LinesImportError, read_lines_csv
from nba_pipeline.sources.odds import OddsFormatError, parse_odds
from nba_pipeline.text_tables import render_table


def render(lines: pd.DataFrame) -> str:
    """One line per game: game id, no-vig home win probability, home spread, total (or -), books."""
    rows = [
        [
            r.game_id,
            _fmt(r.market_p_home, ".3f"),
            _fmt(r.home_spread, "+.1f"),
            _fmt(r.market_total, ".1f"),
            "-" if pd.isna(r.books) else str(int(r.books)),
        ]
        for r in lines.itertuples(index=False)
    ]
    return render_table(["game", "P(home win)", "home spread", "total", "books"], rows)


def _fmt(x: float, spec: str) -> str:
    return "-" if pd.isna(x) else format(float(x), spec)


def main(argv: list[str] | None = None) -> int:
    """``nba-pipeline lines``: exit 0, 1 on bad input, 3 when the feed stays unreachable."""
    ap = argparse.ArgumentParser(
        prog="nba-pipeline lines",
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument("response", nargs="?", type=Path, help="a saved odds_todaysGames.json response")
    what.add_argument("--fetch", action="store_true", help="fetch the live odds feed now and store it")
    what.add_argument("--import", dest="csv", type=Path, metavar="FILE.csv", help="store the lines of a CSV")
    ap.add_argument(
        "--source", default=CSV_SOURCE, help=f"source name of imported lines (default {CSV_SOURCE})"
    )
    args = ap.parse_args(argv)
    if len(args.source) > fetched_lines.c.source.type.length:
        print(f"error: --source is at most {fetched_lines.c.source.type.length} characters", file=sys.stderr)
        return 1
    if args.response is not None:
        return _print_response(args.response)
    from nba_pipeline import settings
    from nba_pipeline.db import make_engine

    engine = make_engine(settings.database_url())
    if args.fetch:
        return _fetch(engine, settings.pulled_dir())
    try:
        rows = read_lines_csv(args.csv, engine, settings.pulled_dir(), source=args.source)
    except LinesImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    n = append_lines(engine, rows)
    print(f"{args.csv}: {len(rows)} lines, {n} new, source {args.source!r}")
    print(render(rows))
    return 0


def _print_response(path: Path) -> int:
    try:
        response = json.loads(path.read_text(encoding="utf-8"))
        lines = parse_odds(response, dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC))
    except (OSError, ValueError, OddsFormatError) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 1
    print(render(lines))
    return 0


def _fetch(engine: sa.Engine, pulled_dir: Path) -> int:
    from nba_pipeline.sources.client import SourceError, SourceUnavailable
    from nba_pipeline.sources.line_fetch import fetch_and_store

    try:
        lines, n, fetched_at = fetch_and_store(engine, pulled_dir)
    except SourceUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except (SourceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"odds feed at {fetched_at:%Y-%m-%d %H:%M:%S} UTC: {len(lines)} games, {n} new lines stored")
    print(render(lines))
    return 0
