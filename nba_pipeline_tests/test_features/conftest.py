"""Real 2023-24 plays (through the ingest package), shared by the feature and dataset tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest


def _plays(raw_dir: Path, season: str, game_ids: list[str] | None = None) -> pd.DataFrame:
    from nba_pipeline.ingest.plays import build_plays
    from nba_pipeline.ingest.raw import read_raw

    pbp = read_raw(raw_dir, "pbp", season)
    lineups = read_raw(raw_dir, "lineups", season)
    if game_ids is not None:
        pbp = pbp[pbp["GAME_ID"].isin(game_ids)]
        lineups = lineups[lineups["GAME_ID"].isin(game_ids)] if lineups is not None else None
    plays, _ = build_plays(pbp, lineups, season)
    return plays


@pytest.fixture(scope="session")
def real_plays_2023(nba_raw_dir: Path) -> pd.DataFrame:
    return _plays(nba_raw_dir, "2023-24")
