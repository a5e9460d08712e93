"""``nba-pipeline pull``: pull a season's games from stats.nba.com into the pulled dir.

    nba-pipeline pull --season 2025-26 [--through 2026-02-21] [--delay 1.0]
        [--proxy http://host:3128] [--header 'User-Agent: ...'] [--offline] [--out DIR]

It prints its progress (games done of total, requests made, time left) and a summary; it
exits 3 when stats.nba.com stays unreachable (the message names the endpoint and game; everything
already fetched stays in the cache), 1 on bad input, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path

from nba_pipeline import settings


def _header(value: str) -> tuple[str, str]:
    if ":" not in value:
        raise argparse.ArgumentTypeError(f"header must read 'Name: value', got {value!r}")
    k, v = value.split(":", 1)
    return k.strip(), v.strip()


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"date must be YYYY-MM-DD, got {value!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    """The command line in the module docstring."""
    p = argparse.ArgumentParser(prog="nba-pipeline pull", description=(__doc__ or "").split("\n")[0])
    p.add_argument("--season", required=True, help="season label YYYY-YY, e.g. 2025-26")
    p.add_argument("--through", type=_date, help="only games played on or before this date (YYYY-MM-DD)")
    p.add_argument("--out", type=Path, help="pulled dir (default: NBA_PULLED_DIR or <data dir>/raw)")
    p.add_argument("--delay", type=float, help="seconds between requests (NBA_API_DELAY_S, default 0.6)")
    p.add_argument("--timeout", type=float, help="seconds per request (NBA_API_TIMEOUT_S, default 30)")
    p.add_argument("--retries", type=int, help="retries per request (NBA_API_RETRIES, default 4)")
    p.add_argument("--proxy", help="HTTP(S) proxy URL for stats.nba.com (NBA_API_PROXY)")
    p.add_argument(
        "--header", type=_header, action="append", default=[], help="header 'Name: value' (NBA_API_HEADERS)"
    )
    p.add_argument("--offline", action="store_true", help="use only cached responses, no network")
    p.add_argument("--no-schedule", action="store_true", help="skip ScheduleLeagueV2 (no schedule file)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Pull the season; exit 0, 1 on bad input, 3 when stats.nba.com stays unreachable."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    from nba_pipeline.ingest.raw import SEASON_RE
    from nba_pipeline.sources.client import ApiSettings, SourceError, SourceUnavailable, StatsClient
    from nba_pipeline.sources.season import pull_season, season_cache_dir

    if not SEASON_RE.match(args.season):
        print(f"error: --season must be YYYY-YY, got {args.season!r}", file=sys.stderr)
        return 1
    out = args.out or settings.pulled_dir()
    try:
        api = ApiSettings.from_env(
            delay_s=args.delay,
            timeout_s=args.timeout,
            retries=args.retries,
            proxy=args.proxy,
            headers=dict(args.header) or None,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    shipped = settings.raw_dir() / f"pbp_{args.season}.parquet"
    if shipped.exists():
        print(f"note: {shipped} is shipped; it wins over the pulled file of the same season")
    client = StatsClient(season_cache_dir(out, args.season), api, offline=args.offline)
    try:
        rep = pull_season(args.season, out, client, through=args.through, with_schedule=not args.no_schedule)
    except SourceUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(rep.as_dict(), indent=1, default=str))
    return 0
