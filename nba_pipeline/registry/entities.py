"""What the registry hands back: a loaded model, and one row of a listing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class LoadedModel:
    """A model as stored: rebuilt modules (eval mode), the builder's top-level model if it returned
    one, the metadata, the preprocessing needed to featurize new games, and the artifacts
    (DataFrames, dicts/lists, numpy arrays)."""

    version: str
    path: Path
    modules: dict[str, Any]
    metadata: dict[str, Any]
    preprocessing: dict[str, Any]
    artifacts: dict[str, Any] = field(default_factory=dict)
    model: Any = None


@dataclass
class VersionSummary:
    """One row of ``list``: enough to choose a version without loading it."""

    version: str
    created_at: str | None
    promoted: bool | None
    is_latest: bool
    parent_version: str | None
    data_date_range: dict[str, str] | None
    metrics: dict[str, float | None]
    error: str | None = None  # set when metadata.json could not be read; the row is still listed
