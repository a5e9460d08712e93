"""The one table renderer: aligned plain text or a Markdown (GitHub) table.

Standard library only, so every layer (the registry CLI, the evaluation report, the Dagster
assets, which must not import torch at module level) can use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# The forecast metrics as every report shows them: (key, header, format).
METRIC_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("n", "n", None),
    ("accuracy", "accuracy", ".3f"),
    ("brier", "Brier", ".4f"),
    ("log_loss", "log loss", ".4f"),
    ("margin_mae", "margin MAE", ".2f"),
    ("total_mae", "total MAE", ".2f"),
)


def cell(value: Any, spec: str | None = None) -> str:
    """One value as text: ``spec`` when given, else "-" for None, yes/no, 4 significant digits."""
    if spec is not None and value is not None:
        return format(value, spec)
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.6g}"
    return str(value)


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: str = "text",
    formats: Sequence[str | None] | None = None,
    right: Sequence[bool] | None = None,
) -> str:
    """Rows under headers, as aligned ``text`` or a ``markdown`` table.

    ``formats``: a format spec per column (None: :func:`cell`'s default). ``right``: per column,
    whether Markdown right-aligns it (``---:``)."""
    specs = list(formats) if formats is not None else [None] * len(headers)
    cells = [[cell(v, s) for v, s in zip(row, specs, strict=True)] for row in rows]
    if fmt == "markdown":
        align = list(right) if right is not None else [False] * len(headers)
        lines = [
            "| " + " | ".join(headers) + " |",
            "|" + "|".join("---:" if r else "---" for r in align) + "|",
        ]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        return "\n".join(lines)
    if fmt != "text":
        raise ValueError(f"unknown table format {fmt!r} (text or markdown)")
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line.rstrip(), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(out)


def metrics_table(
    metrics: Mapping[str, Mapping[str, Any]] | Iterable[tuple[str, Mapping[str, Any]]],
    label: str = "checkpoint",
    fmt: str = "markdown",
) -> str:
    """``{row label: metrics dict}`` or ``(label, metrics dict)`` pairs (``training.metrics.score``'s
    keys) as the metrics table every report shows."""
    pairs = metrics.items() if isinstance(metrics, Mapping) else metrics
    headers = [label, *(header for _, header, _ in METRIC_COLUMNS)]
    rows = [[name, *(m[key] for key, _, _ in METRIC_COLUMNS)] for name, m in pairs]
    formats = [None, *(spec for _, _, spec in METRIC_COLUMNS)]
    return render_table(headers, rows, fmt, formats, right=[False] + [True] * len(METRIC_COLUMNS))
