"""Command line and table rendering for the model registry.

    python -m nba_pipeline.registry [--root DIR] list [--metrics a,b] [--format text|markdown]
    python -m nba_pipeline.registry show V            (V may be "latest")
    python -m nba_pipeline.registry compare A B [--format text|markdown]
    python -m nba_pipeline.registry promote V
    python -m nba_pipeline.registry not-promoted V --reason "failed calibration check"
    python -m nba_pipeline.registry verify V

Kept apart from store.py so the storage logic stays short; tables are drawn by the one renderer,
``nba_pipeline.tables``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nba_pipeline import settings
from nba_pipeline.registry.comparison import flatten_metrics
from nba_pipeline.registry.entities import VersionSummary
from nba_pipeline.registry.errors import IntegrityError, RegistryError
from nba_pipeline.registry.store import ModelRegistry
from nba_pipeline.tables import cell, render_table


def default_list_metrics(summaries: Sequence[VersionSummary], limit: int = 6) -> list[str]:
    """Top-level (overall) metrics present in any version; nested per-checkpoint ones only if none."""
    keys: list[str] = []
    for s in summaries:
        for k in s.metrics:
            if k not in keys:
                keys.append(k)
    top = [k for k in keys if "." not in k]
    return (top or keys)[:limit]


def render_versions(
    summaries: Sequence[VersionSummary], metrics: Sequence[str] | None = None, fmt: str = "text"
) -> str:
    """``list``: one row per version; unreadable versions are listed after, never hidden."""
    if not summaries:
        return "(no versions)"
    metrics = list(metrics) if metrics is not None else default_list_metrics(summaries)
    headers = ["version", "latest", "promoted", "created_at", "parent", "data", *metrics]
    rows = []
    for s in summaries:
        data = f"{s.data_date_range['start']}..{s.data_date_range['end']}" if s.data_date_range else None
        created = s.created_at[:19].replace("T", " ") if s.created_at else None
        row = [s.version, "*" if s.is_latest else "", s.promoted, created, s.parent_version, data]
        row += [s.metrics.get(m) for m in metrics]
        rows.append(row)
    text = render_table(headers, rows, fmt)
    errors = [f"{s.version}: {s.error}" for s in summaries if s.error]
    return text + ("\n\nunreadable versions:\n" + "\n".join(errors) if errors else "")


def render_comparison(cmp: dict[str, Any], fmt: str = "text") -> str:
    """The output of ``ModelRegistry.compare_versions`` as tables (metrics, then hyperparameters)."""
    a, b = cmp["a"], cmp["b"]
    dra, drb = cmp["data_date_range"]["a"], cmp["data_date_range"]["b"]
    head = [
        f"{a} (data {dra['start']}..{dra['end']}, promoted {cell(cmp['promoted']['a'])})",
        f"{b} (data {drb['start']}..{drb['end']}, promoted {cell(cmp['promoted']['b'])})",
    ]
    better = {"a": a, "b": b, "=": "=", "": ""}
    rows = [[r["metric"], r["a"], r["b"], r["delta"], better[r["better"]]] for r in cmp["metrics"]]
    parts = [
        "\n".join(head),
        render_table(["metric", a, b, f"{b} - {a}", "better"], rows, fmt) if rows else "(no metrics)",
    ]
    if cmp["hyperparameters"]:
        hrows = [[h["name"], h["a"], h["b"]] for h in cmp["hyperparameters"]]
        parts.append("hyperparameters that differ:\n" + render_table(["hyperparameter", a, b], hrows, fmt))
    else:
        parts.append("hyperparameters: identical")
    return "\n\n".join(parts)


def render_show(registry: ModelRegistry, version: str, fmt: str = "text") -> str:
    """``show``: one version's metadata, integrity, modules, files, metrics and hyperparameters."""
    md = registry.read_metadata(version)
    name = md["version"]
    try:
        registry.verify(name)
        integrity = "ok (every file matches its sha256)"
    except IntegrityError as exc:
        integrity = f"FAILED: {exc}"
    latest = registry.latest_version() == name
    info = [
        ["version", name + ("  (latest)" if latest else "")],
        ["created_at", md["created_at"]],
        ["promoted", md["promoted"]],
        ["promoted_at", md.get("promoted_at")],
        ["not_promoted_reason", md.get("not_promoted_reason")],
        ["parent_version", md["parent_version"]],
        ["data_date_range", f"{md['data_date_range']['start']}..{md['data_date_range']['end']}"],
        ["train_seasons", ", ".join(md.get("train_seasons") or []) or None],
        ["data_games", md.get("data_games")],
        ["data_fingerprint", md.get("data_fingerprint")],
        ["git_commit", md["git_commit"]],
        ["format_version", md["format_version"]],
        ["integrity", integrity],
    ]
    vdir = registry.root / name
    files = [
        [rel, (vdir / rel).stat().st_size if (vdir / rel).exists() else None, sha[:16]]
        for rel, sha in md["files"].items()
    ]
    modules = [[n, m["class"], m["parameters"]] for n, m in md["modules"].items()]
    metrics = [[k, v] for k, v in flatten_metrics(md["validation_metrics"]).items()]
    hyper = [[k, v] for k, v in sorted(md["hyperparameters"].items())]
    parts = [
        render_table(["field", "value"], info, fmt),
        "modules:\n" + render_table(["module", "class", "parameters"], modules, fmt),
        "files:\n" + render_table(["file", "bytes", "sha256"], files, fmt),
        "validation metrics:\n" + (render_table(["metric", "value"], metrics, fmt) if metrics else "(none)"),
        "hyperparameters:\n" + (render_table(["name", "value"], hyper, fmt) if hyper else "(none)"),
    ]
    return "\n\n".join(parts)


def build_parser() -> argparse.ArgumentParser:
    """The command line in the module docstring."""
    p = argparse.ArgumentParser(prog="python -m nba_pipeline.registry", description=__doc__.split("\n")[0])
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


def main(argv: Sequence[str] | None = None) -> int:
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


if __name__ == "__main__":
    sys.exit(main())
