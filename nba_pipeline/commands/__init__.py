"""``nba-pipeline``: one command in front of the project's commands.

    nba-pipeline run [--partition 2023-24] [--select games plays]   # materialize the asset graph
    nba-pipeline backfill [--url http://127.0.0.1:3000]             # every season, via Dagster's daemon
    nba-pipeline pull --season 2025-26                              # new games from stats.nba.com
    nba-pipeline live GAME_ID                                       # forecast a game as it is played
    nba-pipeline lines FILE.json | --fetch | --import FILE.csv      # the market's lines of games to come
    nba-pipeline availability --import FILE.csv | --date DAY        # who is out of a day's games
    nba-pipeline registry list                                      # the model registry
    nba-pipeline evaluate --test-season 2023-24                     # the promoted model vs baselines
    nba-pipeline bench --season 2023-24                             # time and memory per stage

``nba-pipeline COMMAND --help`` shows a command's options. Each command is a module with
``main(argv) -> int``, imported only when it runs: Dagster and torch take seconds to import, and
``--help`` should not wait for them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NamedTuple


class Command(NamedTuple):
    module: str  # has main(argv: list[str] | None) -> int
    help: str
    prefix: tuple[str, ...] = ()  # arguments put before the user's (a subcommand of the module)


COMMANDS: dict[str, Command] = {
    "run": Command("nba_pipeline.run", "materialize every asset (or a selection) in process"),
    "backfill": Command(
        "nba_pipeline.backfill",
        "backfill every season through a running Dagster, in parallel",
    ),
    "pull": Command(
        "nba_pipeline.sources.cli", "pull a season's new games from stats.nba.com", prefix=("pull",)
    ),
    "live": Command("nba_pipeline.forecast.live", "forecast a game live from the stats.nba.com feed"),
    "lines": Command(
        "nba_pipeline.sources.lines", "the market's lines of games to come: print, fetch, import a CSV"
    ),
    "availability": Command(
        "nba_pipeline.sources.availability", "who is out of a day's games: import a CSV, print a day"
    ),
    "registry": Command("nba_pipeline.registry.cli", "list, show, compare and promote model versions"),
    "evaluate": Command("nba_pipeline.evaluate.run", "evaluate a model on a test season against baselines"),
    "bench": Command("nba_pipeline.bench", "time and peak memory of every stage for one season"),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser, for ``--help`` and the command name (the rest goes to the command)."""
    ap = argparse.ArgumentParser(
        prog="nba-pipeline",
        description="One command in front of the project's commands (each imported only when it runs).",
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
    command = COMMANDS[name]
    try:
        module = importlib.import_module(command.module)
    except ModuleNotFoundError as exc:
        if exc.name and command.module.startswith(exc.name):  # the command's own module is missing
            print(
                f"nba-pipeline {name}: not available yet ({command.module} is not installed)", file=sys.stderr
            )
        else:
            print(
                f"nba-pipeline {name}: {command.module} needs {exc.name!r}, which is missing", file=sys.stderr
            )
        return 2
    # Commands whose parser takes its name from sys.argv[0] then print 'usage: nba-pipeline run ...'.
    argv0, sys.argv[0] = sys.argv[0], f"nba-pipeline {name}"
    try:
        return int(module.main([*command.prefix, *rest]) or 0)
    finally:
        sys.argv[0] = argv0


if __name__ == "__main__":
    sys.exit(main())
