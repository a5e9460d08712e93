"""``nba-pipeline analytics-report``: the quality checks of the analytics stage on the real data.

    nba-pipeline analytics-report [--raw DIR] [--seasons 2022-23 2023-24]

Seasons: those given, by default every season of the raw dir that has a lineups file. For each
season with a lineups file: the share of events whose rebuilt ten players (play-by-play
reconstruction) equal the lineups file. Then RAPM chained over the seasons (each season's prior =
the previous season's final snapshot) and its out-of-sample R^2 on the stints of the week after
each snapshot, against the zero model; the intercept-only model (league rate + home advantage, no
players) is printed beside it as the baseline the player ratings must beat.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from nba_pipeline import settings
from nba_pipeline.analytics.rapm import out_of_sample_r2, rapm_snapshots
from nba_pipeline.analytics.stints import (
    build_stints,
    complete_lineups,
    lineup_agreement,
    reconstruct_lineups,
)
from nba_pipeline.ingest.games import build_games
from nba_pipeline.ingest.plays import build_plays
from nba_pipeline.ingest.raw import RawDataError, raw_path, read_raw, seasons_in


def main(argv: list[str] | None = None) -> int:
    """Print one row per season; exit 1 when the raw dir has no games file."""
    ap = argparse.ArgumentParser(
        prog="nba-pipeline analytics-report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--raw", default=None, help="raw data directory (default: NBA_RAW_DIR setting)")
    ap.add_argument("--seasons", nargs="*", help="seasons to report (default: those with a lineups file)")
    args = ap.parse_args(argv)
    raw = Path(args.raw) if args.raw else settings.raw_dir()
    seasons = args.seasons or [s for s in seasons_in(raw) if raw_path(raw, "lineups", s).exists()]
    try:
        return _report(raw, seasons)
    except RawDataError as exc:  # a malformed raw file: its path and column, on one line
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _report(raw: Path, seasons: list[str]) -> int:
    """Print the table, one season at a time (a season takes about a minute)."""
    raw_games = read_raw(raw, "games")
    if raw_games is None:
        print(f"error: no games.parquet in {raw}", file=sys.stderr)
        return 1
    if not seasons:
        print(f"error: no season with play-by-play and a lineups file in {raw}", file=sys.stderr)
        return 1
    prior = None
    head = ("season", "agreement", "events", "stints", "r2_rapm", "r2_intercept", "secs")
    print("{:8} {:>10} {:>8} {:>7} {:>8} {:>12} {:>6}".format(*head))
    for season in sorted(seasons):
        t0 = time.time()
        pbp = read_raw(raw, "pbp", season)
        if pbp is None:
            print(f"{season:8} no play-by-play file")
            prior = None
            continue
        lineups = read_raw(raw, "lineups", season)
        games = build_games(raw_games, season)
        plays, _ = build_plays(pbp, lineups, season)
        agree_txt, n_ev = "no file", 0
        if lineups is not None:
            agree = lineup_agreement(reconstruct_lineups(plays, games), plays)
            agree_txt = f"{agree.get(season, float('nan')):.4f}"
            n_ev = int(((plays["lineup_source"] == "file") & (plays["event_type"] != 8)).sum())
        st = build_stints(complete_lineups(plays, games), games)
        rows, fits = rapm_snapshots(st, prior)
        r2 = out_of_sample_r2(st, fits)
        last = rows["as_of_date"].max()
        prior = rows[rows["as_of_date"] == last]
        print(
            f"{season:8} {agree_txt:>10} {n_ev:>8} {len(st):>7} {r2['r2_rapm']:>8.4f} "
            f"{r2['r2_intercept_only']:>12.4f} {time.time() - t0:>6.1f}",
            flush=True,
        )
    return 0
