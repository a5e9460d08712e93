"""Real-data slices shared by the analytics tests (built once per session through the ingest code)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from nba_pipeline.analytics.stints import build_stints, complete_lineups
from nba_pipeline.ingest.games import build_games
from nba_pipeline.ingest.plays import build_plays
from nba_pipeline.ingest.raw import read_raw

SLICE_SEASON = "2022-23"
SLICE_GAMES = 450  # the first 450 regular-season games of 2022-23 (to early December)


@dataclass
class Slice:
    games: pd.DataFrame  # every game of 2021-22 and 2022-23
    plays: pd.DataFrame  # plays of the slice games (lineups from the file)
    stints: pd.DataFrame
    raw_dir: Path


def games_for(raw_dir: Path, seasons: list[str]) -> pd.DataFrame:
    raw = read_raw(raw_dir, "games")
    return pd.concat([build_games(raw, s) for s in seasons], ignore_index=True)


def plays_for(raw_dir: Path, season: str, game_ids: list[str]) -> pd.DataFrame:
    pbp = read_raw(raw_dir, "pbp", season)
    lu = read_raw(raw_dir, "lineups", season)
    pbp = pbp[pbp["GAME_ID"].isin(game_ids)]
    if lu is not None:
        lu = lu[lu["GAME_ID"].isin(game_ids)]
    plays, _ = build_plays(pbp, lu, season)
    return plays


@pytest.fixture(scope="session")
def real_slice(nba_raw_dir: Path) -> Slice:
    games = games_for(nba_raw_dir, ["2021-22", SLICE_SEASON])
    rs = games[(games["season"] == SLICE_SEASON) & games["is_regular_season"]].sort_values(
        ["game_date", "game_id"]
    )
    ids = rs["game_id"].head(SLICE_GAMES).tolist()
    plays = plays_for(nba_raw_dir, SLICE_SEASON, ids)
    stints = build_stints(complete_lineups(plays, games), games)
    return Slice(games=games, plays=plays, stints=stints, raw_dir=nba_raw_dir)
