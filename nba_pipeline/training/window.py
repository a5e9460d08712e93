"""The rolling training window and the data fingerprint: train on the newest data, and not again
when nothing is new.

By default a training run uses the newest data: the last ``window_seasons`` complete seasons plus
the games already played of the current season (the season of today's date, when its model inputs
exist), split by date by ``training.fit`` (the latest games validate). An explicit
``data.train_seasons`` list replaces the window.

The fingerprint of the training data is a sha256 over the sorted (game id, date, final score) rows
of the training games: it changes when a game is added or a score corrected, not when the same games
are rebuilt. Every registry version records it, so a nightly run can tell that nothing is new since
the last version and train nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nba_pipeline.ingest.raw import season_of
from nba_pipeline.training.config import DataConfig

_PART = re.compile(r"^(sequences|graphs|context)_(\d{4}-\d{2})\.npz$")
PARTS = ("sequences", "graphs", "context")


def available_seasons(features_dir: Path) -> list[str]:
    """Seasons whose three model-input files exist in ``features_dir``, oldest first."""
    found: dict[str, set[str]] = {}
    if Path(features_dir).is_dir():
        for p in Path(features_dir).iterdir():
            m = _PART.match(p.name)
            if m:
                found.setdefault(m.group(2), set()).add(m.group(1))
    return sorted(s for s, parts in found.items() if parts >= set(PARTS))


def window_seasons(available: Sequence[str], k: int, today: dt.date) -> list[str]:
    """The last ``k`` complete seasons of ``available`` (those before today's season) plus today's
    season when it is there (its games so far)."""
    current = season_of(today)
    complete = [s for s in sorted(available) if s < current]
    return complete[-k:] + ([current] if current in available else [])


def training_seasons(data: DataConfig, features_dir: Path, today: dt.date | None = None) -> list[str]:
    """The seasons a run trains on: ``data.train_seasons`` when given, else the rolling window."""
    if data.train_seasons:
        return list(data.train_seasons)
    seasons = window_seasons(available_seasons(features_dir), data.window_seasons, today or dt.date.today())
    if not seasons:
        raise ValueError(
            f"no season's model inputs in {features_dir} to train on (materialize the season data first)"
        )
    return seasons


def data_fingerprint(arrays: Any) -> str:
    """sha256 over the training games' sorted ``game_id, game_date, home_pts, away_pts`` rows
    (``features.season_arrays.SeasonArrays``)."""
    ids = np.asarray(arrays.game_id).astype(str)
    order = np.argsort(ids, kind="stable")
    h = hashlib.sha256()
    for i in order:
        h.update(
            f"{ids[i]},{np.datetime_as_string(np.asarray(arrays.game_date)[i], unit='D')},"
            f"{int(arrays.home_pts[i])},{int(arrays.away_pts[i])}\n".encode()
        )
    return h.hexdigest()
