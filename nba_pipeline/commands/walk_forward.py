"""``nba-pipeline walk-forward``: for each test season, train on the K seasons before it and
score the model and every baseline of the report on it (``evaluate.walk_forward``).

    nba-pipeline walk-forward [--test-seasons 2021-22 2022-23 2023-24] [--k 3]
        [--out docs/results.md] [--quick]

One table per checkpoint is printed and written to the Markdown file, headed by the command and
the commit that wrote it (``docs/results.md`` is this file for the default settings). Model inputs
come from ``$NBA_DATA_DIR/features/``, the games table from ``$NBA_DATABASE_URL``, the lines from
the raw ``odds.parquet``. Nothing is tuned here: every setting is the run config's default unless
given. ``--quick`` (tests, smoke runs): the first ``--games`` games of each season, one epoch,
every 10th in-game cut.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from nba_pipeline import settings
from nba_pipeline.db import make_engine, read_table
from nba_pipeline.evaluate.market import load_market
from nba_pipeline.evaluate.walk_forward import (
    DEFAULT_TEST_SEASONS,
    checkpoint_tables,
    provenance,
    run_season,
    seasons_before,
    to_markdown,
)
from nba_pipeline.ingest import schema  # noqa: F401 - registers the games table
from nba_pipeline.training.config import RunConfig
from nba_pipeline.training.window import available_seasons


def main(argv: list[str] | None = None) -> int:
    """Train and test each season in turn, writing the Markdown after each; exit 0."""
    ap = argparse.ArgumentParser(
        prog="nba-pipeline walk-forward",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--test-seasons",
        nargs="+",
        default=list(DEFAULT_TEST_SEASONS),
        help="seasons to test on, each after its own training (default: those of docs/results.md)",
    )
    ap.add_argument("--k", type=int, default=3, help="training seasons before each test season")
    ap.add_argument("--out", type=Path, help="Markdown file (default: reports dir / walk_forward.md)")
    ap.add_argument("--config", default="{}", help="run config overrides as JSON (RunConfig.from_dict)")
    ap.add_argument(
        "--all-events-stride", type=int, default=1, help="score every k-th in-game cut in the all-events row"
    )
    ap.add_argument("--games", type=int, default=0, help="only the first N games of each season (0: all)")
    ap.add_argument("--quick", action="store_true", help="smoke run: --games 60, 1 epoch, stride 10")
    ap.add_argument("--log", action="store_true", help="log every training epoch")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = ap.parse_args(argv)
    header = provenance(argv)
    if args.log:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        config = json.loads(args.config)
        RunConfig.from_dict(config)  # refused now, not after a season's training
    except (ValueError, TypeError) as exc:
        print(f"error: --config {args.config!r}: {exc}", file=sys.stderr)
        return 2
    games_per_season, stride = args.games, args.all_events_stride
    if args.quick:
        games_per_season = games_per_season or 60
        stride = max(stride, 10)
        config = {**config, "optim": {"max_epochs": 1, **config.get("optim", {})}}
    features_dir = settings.features_dir()
    available = available_seasons(features_dir)
    engine = make_engine(settings.database_url())
    games = read_table(engine, "games")
    # The morning forecasts are built from the database's analytics tables, as the daily run's.
    analytics = all(
        sa.inspect(engine).has_table(t) for t in ("stints", "player_features", "team_game_features")
    )
    if not analytics:
        print("no analytics tables in the database: the morning forecasts are not scored", flush=True)
    games["game_date"] = pd.to_datetime(games["game_date"])
    raw = settings.raw_dir()
    market = load_market(raw) if (Path(raw) / "odds.parquet").exists() else None
    path = args.out or settings.reports_dir() / "walk_forward.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    plan = {s: seasons_before(available, s, args.k) for s in args.test_seasons}  # refuse early
    results = []
    for season, train_seasons in plan.items():
        print(f"{season}: training on {', '.join(train_seasons)} ...", flush=True)
        r = run_season(
            features_dir,
            games,
            market,
            season,
            train_seasons,
            config,
            games_per_season,
            stride,
            engine if analytics else None,
        )
        print(f"{season}: {json.dumps(r.info)}", flush=True)
        results.append(r)
        # written after every season, so a long run leaves what it has finished
        path.write_text(to_markdown(results, header) + "\n", encoding="utf-8")
        long = pd.concat([x.table.assign(season=x.test_season) for x in results])
        long.to_csv(path.with_suffix(".csv"), index=False)
    for cp, table in checkpoint_tables(results, fmt="text").items():
        print(f"\n{cp}\n{table}")
    print(f"\nwritten {path}")
    return 0
