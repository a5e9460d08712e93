"""``nba-pipeline registry``: list, show, compare, promote and verify model versions.

nba-pipeline registry [--root DIR] list [--metrics a,b] [--format text|markdown]
nba-pipeline registry show V            (V may be "latest")
nba-pipeline registry compare A B [--format text|markdown]
nba-pipeline registry promote V
nba-pipeline registry not-promoted V --reason "failed calibration check"
nba-pipeline registry verify V
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nba_pipeline import settings
from nba_pipeline.registry.errors import RegistryError
from nba_pipeline.registry.render import render_comparison, render_show, render_versions
from nba_pipeline.registry.store import ModelRegistry


def build_parser() -> argparse.ArgumentParser:
    """The command line in the module docstring."""
    p = argparse.ArgumentParser(prog="nba-pipeline registry", description=(__doc__ or "").split("\n")[0])
    p.add_argument(
        "--root", type=Path, default=None, help="registry directory (default: settings.models_dir())"
    )
    sub = p.add_subparsers(dest="command", required=True)
    table = argparse.ArgumentParser(add_help=False)  # the commands that print tables
    table.add_argument("--format", choices=("text", "markdown"), default="text")
    ls = sub.add_parser("list", parents=[table], help="all versions with summary metrics")
    ls.add_argument("--metrics", default=None, help="comma-separated metric names (dotted for nested)")
    sh = sub.add_parser("show", parents=[table], help="one version's metadata, files and metrics")
    sh.add_argument("version")
    cp = sub.add_parser("compare", parents=[table], help="two versions' metrics side by side")
    cp.add_argument("a")
    cp.add_argument("b")
    pr = sub.add_parser("promote", help="mark a version promoted and point 'latest' at it")
    pr.add_argument("version")
    npr = sub.add_parser("not-promoted", help="mark a version not promoted, with a reason")
    npr.add_argument("version")
    npr.add_argument("--reason", required=True)
    vf = sub.add_parser("verify", help="check every file of a version against its sha256")
    vf.add_argument("version")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; registry errors become a message on stderr and exit status 1."""
    args = build_parser().parse_args(argv)
    registry = ModelRegistry(args.root if args.root is not None else settings.models_dir())
    try:
        if args.command == "list":
            metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
            print(f"registry: {registry.root}")
            print(render_versions(registry.list_versions(), metrics, args.format))
        elif args.command == "show":
            print(render_show(registry, args.version, args.format))
        elif args.command == "compare":
            print(render_comparison(registry.compare_versions(args.a, args.b), args.format))
        elif args.command == "promote":
            name = registry.promote(args.version)
            print(f"promoted {name}; latest -> {registry.latest_version()}")
        elif args.command == "not-promoted":
            name = registry.mark_not_promoted(args.version, args.reason)
            print(f"{name} marked not promoted: {args.reason}")
        elif args.command == "verify":
            md = registry.verify(args.version)
            print(f"{md['version']}: ok ({len(md['files'])} files match their sha256)")
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
