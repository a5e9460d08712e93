"""``nba-pipeline scorecard``: the ledger's pregame forecasts scored once the games are played,
beside Elo and the market (``evaluate.scorecard``; live sources unless ``--source`` says).

    nba-pipeline scorecard [--source S ...] [--plot OUT.png] [--window 50]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nba_pipeline import settings
from nba_pipeline.db import make_engine
from nba_pipeline.evaluate.scorecard import DEFAULT_WINDOW, rolling_brier_png, score_ledger


def main(argv: list[str] | None = None) -> int:
    """Print the scorecard (and write the plot when asked); exit 0."""
    ap = argparse.ArgumentParser(prog="nba-pipeline scorecard", description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--source", action="append", help="ledger source(s) to score (default: live ones)")
    ap.add_argument("--plot", help="write the rolling Brier PNG here")
    ap.add_argument("--window", type=int, default=DEFAULT_WINDOW, help="games in the rolling Brier")
    args = ap.parse_args(argv)
    card = score_ledger(make_engine(settings.database_url()), settings.raw_dir(), args.source)
    print(card.markdown)
    if args.plot and len(card.games):
        Path(args.plot).write_bytes(rolling_brier_png(card, args.window))
        print(f"\nrolling Brier written to {args.plot}")
    return 0
