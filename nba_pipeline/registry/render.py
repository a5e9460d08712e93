"""The model registry as people read it: the version list, one version, two side by side
(``nba-pipeline registry``, :mod:`nba_pipeline.commands.registry`).

Kept apart from store.py so the storage logic stays short; tables are drawn by the one renderer,
``nba_pipeline.text_tables``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nba_pipeline.registry.comparison import flatten_metrics
from nba_pipeline.registry.entities import VersionSummary
from nba_pipeline.registry.errors import IntegrityError
from nba_pipeline.registry.store import ModelRegistry
from nba_pipeline.text_tables import cell, render_table


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
