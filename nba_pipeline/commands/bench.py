"""``nba-pipeline bench``: wall time and peak memory of every stage of one season, each in its own
process (:mod:`nba_pipeline.bench.stages`); its subcommands time what that does not.

    nba-pipeline bench [--season 2023-24] [--work DIR] [--stages forecast ...]
    nba-pipeline bench model eval --season 2023-24 [--games 100] [--plain]     # evaluation speed
    nba-pipeline bench model train --seasons 2020-21 2021-22 2022-23 [--epochs 2] [--device cuda]
    nba-pipeline bench source [--recordings DIR] [--keep DIR]   # pull + ingest from a full cache
    nba-pipeline bench backfill [--games 80 --seasons ...]      # serial vs parallel seasons, PostgreSQL
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from nba_pipeline.bench.stages import STAGES


def build_parser() -> argparse.ArgumentParser:
    """The command line in the module docstring; no subcommand is the per-stage bench."""
    ap = argparse.ArgumentParser(
        prog="nba-pipeline bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--season", default="2023-24")
    ap.add_argument("--work", help="working directory (default: a new temporary one)")
    ap.add_argument(
        "--stages",
        nargs="+",
        choices=STAGES,
        default=STAGES,
        help="stages to run, in order (e.g. only 'forecast' again in an existing --work directory)",
    )
    ap.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)  # internal: one stage, JSON out
    sub = ap.add_subparsers(dest="bench", metavar="{model,source,backfill}")
    model = sub.add_parser("model", help="the model's evaluation and training hot paths")
    hot = model.add_subparsers(dest="path", required=True)
    e = hot.add_parser("eval", help="all-events evaluation of a season (random spec-size model)")
    e.add_argument("--season", default="2023-24")
    e.add_argument("--games", type=int, default=0, help="only the first N games (0: all)")
    e.add_argument("--plain", action="store_true", help="the per-batch forward pass, not the reusing one")
    t = hot.add_parser("train", help="seconds per training epoch")
    t.add_argument("--seasons", nargs="+", default=["2020-21", "2021-22", "2022-23"])
    t.add_argument("--epochs", type=int, default=2)
    t.add_argument("--games", type=int, default=0, help="only the first N games (0: all)")
    t.add_argument("--device", default="auto", help="auto (cuda when present), cuda or cpu")
    t.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    from nba_pipeline.bench.backfill import DEFAULT_RAW
    from nba_pipeline.bench.source import DEFAULT_RECORDINGS

    src = sub.add_parser("source", help="a season's pull and ingest from a full on-disk cache")
    src.add_argument("--recordings", type=Path, default=DEFAULT_RECORDINGS)
    src.add_argument("--keep", type=Path, help="build the cache here and keep it (default: a temporary dir)")
    bf = sub.add_parser("backfill", help="serial vs parallel backfill on PostgreSQL (needs a checkout)")
    bf.add_argument("--raw", type=Path, default=DEFAULT_RAW)
    bf.add_argument("--seasons", nargs="*", help="seasons to backfill (default: every season of --raw)")
    bf.add_argument("--games", type=int, help="only the first N games of each season (default: all)")
    bf.add_argument("--groups", nargs="+", default=["ingest", "analytics"])
    return ap


def main(argv: list[str] | None = None) -> int:
    """Run the bench asked for; exit 1 when a stage fails or a bench's own check does."""
    args = build_parser().parse_args(argv)
    if args.bench == "model":
        from nba_pipeline.bench.model import bench_eval, bench_train

        if args.path == "eval":
            bench_eval(args.season, args.games, args.plain)
        else:
            bench_train(args.seasons, args.epochs, args.games, args.device, args.threads)
        return 0
    if args.bench == "source":
        from nba_pipeline.bench.source import RecordingError, bench_source

        try:
            return bench_source(args.recordings, args.keep)
        except RecordingError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    if args.bench == "backfill":
        from nba_pipeline.bench.backfill import bench_backfill

        return bench_backfill(args.raw, args.seasons, args.games, args.groups)
    from nba_pipeline.bench.stages import bench_stages, run_stage

    if args.stage:
        print("BENCH " + json.dumps(run_stage(args.stage, args.season)), flush=True)
        return 0
    work = Path(args.work or tempfile.mkdtemp(prefix="nba_bench_"))
    return bench_stages(args.season, work, args.stages)
