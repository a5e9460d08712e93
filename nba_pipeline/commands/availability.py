"""``nba-pipeline availability``: who is out of a day's games, as reported in a user's file
(``sources.availability``: its columns, and why every report is kept with its time).

    nba-pipeline availability --import FILE.csv     # validate, store (append-only), print
    nba-pipeline availability --date 2023-11-18     # what is stored for a day

A file is checked whole first: one bad value, named by row and column on one error line, and
nothing is stored.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import pandas as pd

from nba_pipeline import settings
from nba_pipeline.db import make_engine
from nba_pipeline.ingest.schema import player_availability
from nba_pipeline.sources.availability import (
    CSV_SOURCE,
    FEED_SOURCE,
    AvailabilityImportError,
    append_reports,
    player_names,
    read_availability_csv,
    reports_known,
)
from nba_pipeline.text_tables import render_table


def render(rows: pd.DataFrame, names: pd.DataFrame) -> str:
    """One line per report: day, team, player (id and name), status, known at."""
    name = names.drop_duplicates("player_id").set_index("player_id")["name"]
    body = [
        [
            pd.Timestamp(r.game_date).date(),
            int(r.team_id),
            int(r.player_id),
            name.get(int(r.player_id), ""),
            r.status,
            f"{pd.Timestamp(r.known_at):%Y-%m-%d %H:%M}",
        ]
        for r in rows.itertuples(index=False)
    ]
    return render_table(["date", "team", "player", "name", "status", "known at (UTC)"], body)


def main(argv: list[str] | None = None) -> int:
    """Import a file or print a day; exit 0, 1 on bad input (nothing stored then)."""
    ap = argparse.ArgumentParser(prog="nba-pipeline availability", description=(__doc__ or "").split("\n")[0])
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--import", dest="csv", type=Path, metavar="FILE.csv", help="store the reports of a CSV"
    )
    what.add_argument("--date", type=dt.date.fromisoformat, help="print the reports stored for a day")
    ap.add_argument(
        "--source", default=CSV_SOURCE, help=f"source name of imported reports (default {CSV_SOURCE})"
    )
    args = ap.parse_args(argv)
    if args.source == FEED_SOURCE:
        print(f"error: --source {FEED_SOURCE} is the live box score's, not an import", file=sys.stderr)
        return 1
    if len(args.source) > player_availability.c.source.type.length:
        print(
            f"error: --source is at most {player_availability.c.source.type.length} characters",
            file=sys.stderr,
        )
        return 1
    engine = make_engine(settings.database_url())
    names = player_names(engine)
    if args.date is not None:
        rows = reports_known(engine, args.date, dt.datetime.max)
        print(f"{args.date}: {len(rows)} reports")
        print(render(rows, names))
        return 0
    try:
        rows = read_availability_csv(args.csv, engine, source=args.source)
    except AvailabilityImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    n = append_reports(engine, rows)
    print(f"{args.csv}: {len(rows)} reports, {n} new, source {args.source!r}")
    print(render(rows, names))
    return 0
