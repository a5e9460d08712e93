"""``nba-pipeline backfill``: ask a running Dagster webserver for an asset backfill, the same
request as the UI's "Materialize all", and follow it to the end (:mod:`nba_pipeline.backfill`).

    nba-pipeline backfill                                  # ingest + analytics, every season
    nba-pipeline backfill --groups ingest analytics model_inputs --partition 2022-23 --partition 2023-24
    nba-pipeline backfill --url http://dagster.internal:3000 --no-wait
"""

from __future__ import annotations

import argparse
import sys
import time

from nba_pipeline.backfill import (
    DEFAULT_GROUPS,
    DEFAULT_URL,
    BackfillError,
    launch,
    max_overlap,
    season_asset_paths,
    wait,
)


def main(argv: list[str] | None = None) -> int:
    """Launch the backfill and follow it; 0 when every run succeeded, 1 otherwise."""
    ap = argparse.ArgumentParser(
        prog="nba-pipeline backfill",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--url", default=DEFAULT_URL, help="the Dagster webserver (default %(default)s)")
    ap.add_argument("--groups", nargs="+", default=list(DEFAULT_GROUPS), help="asset groups to backfill")
    ap.add_argument("--partition", action="append", help="season(s) to backfill (default: every season)")
    ap.add_argument("--no-wait", action="store_true", help="launch and return (follow it in the UI)")
    args = ap.parse_args(argv)
    try:
        paths = season_asset_paths(args.groups)
        t0 = time.perf_counter()
        backfill_id = launch(
            args.url, paths, args.partition, title=f"nba-pipeline backfill {' '.join(args.groups)}"
        )
        print(f"backfill {backfill_id}: {len(paths)} assets, seasons {args.partition or 'all'}", flush=True)
        if args.no_wait:
            return 0
        runs = wait(args.url, backfill_id, echo=lambda s: print(s, flush=True))
    except (BackfillError, OSError) as e:
        print(f"backfill failed: {e}", file=sys.stderr)
        return 1
    print(
        f"backfill {backfill_id}: {len(runs)} runs succeeded in {time.perf_counter() - t0:.0f} s, "
        f"at most {max_overlap(runs)} at once",
        flush=True,
    )
    return 0
