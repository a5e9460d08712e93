"""``nba-pipeline evaluate``: a registry model against the baselines on a season after its
training, written to the reports dir and printed (``evaluate.run.run_evaluation``).

    nba-pipeline evaluate [--test-season 2023-24] [--version v1.2.0] [--all-events-stride 5]
"""

from __future__ import annotations

import argparse
import sys

from nba_pipeline import settings
from nba_pipeline.db import make_engine
from nba_pipeline.evaluate.run import run_evaluation
from nba_pipeline.registry.errors import RegistryError


def main(argv: list[str] | None = None) -> int:
    """Evaluate and print the report; exit 2 when the model cannot be evaluated on the season."""
    ap = argparse.ArgumentParser(prog="nba-pipeline evaluate", description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument(
        "--test-season", help="season to test on (default: the season after the model's training seasons)"
    )
    ap.add_argument("--version", default="latest", help="registry version (default: the promoted one)")
    ap.add_argument(
        "--all-events-stride", type=int, default=1, help="score every k-th in-game cut in the all-events row"
    )
    args = ap.parse_args(argv)
    try:
        run = run_evaluation(
            registry_root=settings.models_dir(),
            features_dir=settings.features_dir(),
            engine=make_engine(settings.database_url()),
            raw_dir=settings.raw_dir(),
            reports_dir=settings.reports_dir(),
            test_season=args.test_season,
            all_events_stride=args.all_events_stride,
            version=args.version,
        )
    except (ValueError, RegistryError, FileNotFoundError) as exc:  # nothing held out, no such model or input
        print(f"cannot evaluate: {exc}", file=sys.stderr)
        return 2
    print(run.path.read_text(encoding="utf-8"))
    return 0
