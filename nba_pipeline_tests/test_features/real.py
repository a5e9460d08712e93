"""Real inputs for the builder and dataset tests: the first N games of 2023-24 (by date) through
the ingest games and plays builders, and team features from the analytics package."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from nba_pipeline.analytics.schema import TEAM_GAME_FEATURES


@lru_cache(maxsize=4)
def real_inputs(raw_dir: Path, season: str = "2023-24", n_games: int = 100) -> tuple[pd.DataFrame, ...]:
    """(plays, games, team_game_features) of the first ``n_games`` regular-season games of ``season``."""
    from nba_pipeline.analytics.team_features import build_team_game_features
    from nba_pipeline.ingest.games import build_games
    from nba_pipeline.ingest.plays import build_plays
    from nba_pipeline.ingest.raw import read_raw

    prev = f"{int(season[:4]) - 1}-{int(season[:4]) % 100:02d}"
    raw_games = pd.read_parquet(Path(raw_dir) / "games.parquet")
    games = pd.concat([build_games(raw_games, s) for s in (prev, season)], ignore_index=True)
    pbp = read_raw(raw_dir, "pbp", season)
    lineups = read_raw(raw_dir, "lineups", season)
    these = games[(games["season"] == season) & games["game_id"].isin(pbp["GAME_ID"].unique())]
    ids = these.sort_values(["game_date", "game_id"])["game_id"].head(n_games).tolist()
    plays, _ = build_plays(pbp[pbp["GAME_ID"].isin(ids)], lineups[lineups["GAME_ID"].isin(ids)], season)
    tgf = build_team_game_features(games)
    tgf = tgf[tgf["game_id"].isin(ids)].copy()
    for col in TEAM_GAME_FEATURES:  # columns the analytics package has not produced yet: counted defaults
        if col not in tgf.columns:
            tgf[col] = True if col == "hull_area_missing" else np.nan
    return plays, games[games["game_id"].isin(ids)].reset_index(drop=True), tgf
