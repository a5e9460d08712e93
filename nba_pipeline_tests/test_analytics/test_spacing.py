"""Lineup spacing: the hull of the players' shot locations, as of each game."""

from __future__ import annotations

import pandas as pd

from nba_pipeline.analytics.spacing import build_lineup_spacing
from nba_pipeline.analytics.team_game_table import read_shot_window
from nba_pipeline.db import create_tables
from nba_pipeline.ingest import schema as ischema
from nba_pipeline.resources import Database

SEASON = "2021-22"
HOME, AWAY = [1, 2, 3, 4, 5], [6, 7, 8, 9, 10]


def _one_game() -> tuple[pd.DataFrame, pd.DataFrame]:
    stints = pd.DataFrame(
        {
            "game_id": ["0022100001"] * 2,
            "season": SEASON,
            "game_date": ["2021-10-19"] * 2,
            "stint": [1, 2],
            "start_seconds": [0.0, 300.0],
            "end_seconds": [300.0, 2880.0],
            **{f"home_{i + 1}": [p, p + (10 if i == 0 else 0)] for i, p in enumerate(HOME)},
            **{f"away_{i + 1}": [p, p] for i, p in enumerate(AWAY)},
        }
    )
    games = pd.DataFrame({"game_id": ["0022100001"], "home_team_id": [100], "away_team_id": [200]})
    return stints, games


def test_a_season_without_any_shots_to_locate_players_is_all_missing_not_an_error(tmp_path):
    """The first season of a deployment without a shots file: its shot window, read as the asset
    reads it, is an empty table."""
    stints, games = _one_game()
    database = Database(url=f"sqlite:///{tmp_path / 'no_shots.db'}")
    create_tables(database.engine(), [ischema.shots])
    no_shots = read_shot_window(database.read, SEASON)
    rows = build_lineup_spacing(stints, no_shots, games, SEASON)
    assert len(rows) == 2 and set(rows["team_id"]) == {100, 200}
    assert rows["starters_missing"].all() and rows["starters_hull_area"].isna().all()
    assert (rows["known_share"] == 0).all()
