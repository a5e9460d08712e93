"""``nba-pipeline``: the one front door to the project's commands (``python -m nba_pipeline`` is
the same).

    nba-pipeline run [--partition 2023-24] [--select games plays]   # materialize the asset graph
    nba-pipeline backfill [--url http://127.0.0.1:3000]             # every season, via Dagster's daemon
    nba-pipeline pull --season 2025-26                              # new games from stats.nba.com
    nba-pipeline lines FILE.json | --fetch | --import FILE.csv      # the market's lines of games to come
    nba-pipeline availability --import FILE.csv | --date DAY        # who is out of a day's games
    nba-pipeline daily [--as-of 2026-12-06]                         # the next days' pregame forecasts
    nba-pipeline live GAME_ID                                       # forecast a game as it is played
    nba-pipeline scorecard                                          # the ledger's forecasts, scored
    nba-pipeline registry list                                      # the model registry
    nba-pipeline evaluate --test-season 2023-24                     # a model vs the baselines
    nba-pipeline walk-forward --out docs/results.md                 # train before, test on each season
    nba-pipeline bench --season 2023-24                             # time and memory per stage

``nba-pipeline COMMAND --help`` shows a command's options. Every command is one module of this
package with ``main(argv) -> int``; library modules hold none. A command's module is imported only
when it runs: Dagster and torch take seconds to import, and ``--help`` should not wait for them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NamedTuple


class Command(NamedTuple):
    module: str  # nba_pipeline.commands.<module>, with main(argv: list[str] | None) -> int
    help: str


COMMANDS: dict[str, Command] = {
    "run": Command("run", "materialize every asset (or a selection), without a daemon"),
    "backfill": Command("backfill", "backfill every season through a running Dagster, in parallel"),
    "pull": Command("pull", "pull a season's new games from stats.nba.com"),
    "convert-pbp-v3": Command("convert_pbp_v3", "convert a saved PlayByPlayV3 response to V2 rows (offline)"),
    "lines": Command("lines", "the market's lines of games to come: print, fetch, import a CSV"),
    "availability": Command("availability", "who is out of a day's games: import a CSV, print a day"),
    "daily": Command("daily", "forecast the next days' games before tip-off, into the ledger"),
    "live": Command("live", "forecast a game live from the stats.nba.com feed (or a replay)"),
    "scorecard": Command("scorecard", "score the ledger's pregame forecasts beside Elo and the market"),
    "registry": Command("registry", "list, show, compare and promote model versions"),
    "evaluate": Command("evaluate", "evaluate a model on a test season against baselines"),
    "walk-forward": Command("walk_forward", "train on the seasons before each test season, score it"),
    "compare-on-validation": Command(
        "compare_on_validation", "compare run configs on validation games only (no test season read)"
    ),
    "analytics-report": Command(
        "analytics_report", "lineup reconstruction agreement and RAPM out-of-sample R^2 per season"
    ),
    "calibration-false-alarms": Command(
        "calibration_false_alarms", "how often the calibration check fails a calibrated model (simulated)"
    ),
    "bench": Command("bench", "time and peak memory per stage; also the model, source and backfill benches"),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser, for ``--help`` and the command name (the rest goes to the command)."""
    ap = argparse.ArgumentParser(
        prog="nba-pipeline",
        description="The project's commands (each imported only when it runs).",
        epilog="Run 'nba-pipeline COMMAND --help' for the options of a command.",
    )
    sub = ap.add_subparsers(title="commands", metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub.add_parser(name, help=command.help, add_help=False)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to the command's ``main``; its exit status is ours."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not args or args[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        parser.error(f"unknown command {name!r} (choose from {', '.join(COMMANDS)})")
    module_name = f"{__name__}.{COMMANDS[name].module}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):  # the command's own module is missing
            print(f"nba-pipeline {name}: not available ({module_name} is not installed)", file=sys.stderr)
        else:
            print(f"nba-pipeline {name}: {module_name} needs {exc.name!r}, which is missing", file=sys.stderr)
        return 2
    # Parsers that take their name from sys.argv[0] then print 'usage: nba-pipeline run ...'.
    argv0, sys.argv[0] = sys.argv[0], f"nba-pipeline {name}"
    try:
        return int(module.main(rest) or 0)
    finally:
        sys.argv[0] = argv0
