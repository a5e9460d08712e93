"""The betting market as a pregame baseline: the hardest one to beat.

Win probability from the two moneylines with the vig removed, margin from the spread, total from
the over/under, converted as the ``betting_lines`` table is (``ingest.lines``). Lines differ in
timing by season (opening lines up to 2021-22, closing-like lines from 2023-24), so the
baseline is not equally strong in every season.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nba_pipeline.ingest.lines import build_lines
from nba_pipeline.ingest.raw import RawDataError, raw_path, read_raw


def load_market(raw_dir: Path) -> pd.DataFrame:
    """One row per game id: ``game_id, market_p_home, market_margin, market_total`` (NaN where absent)."""
    try:
        odds = read_raw(raw_dir, "odds")
    except (OSError, RawDataError) as exc:
        raise ValueError(f"cannot read the betting lines ({exc})") from exc
    if odds is None:
        raise ValueError(f"{raw_path(raw_dir, 'odds')}: no betting lines file")
    lines, _ = build_lines(odds)
    return lines.drop(columns="season")
