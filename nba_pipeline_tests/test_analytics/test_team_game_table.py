"""The team_game_features rows' one computation: which seasons of which tables it reads."""

from __future__ import annotations

import pandas as pd

from nba_pipeline.analytics.team_game_table import SHOT_COLUMNS, read_team_game_inputs, shot_window


def test_the_shot_window_is_the_season_and_the_three_before_oldest_first():
    assert shot_window("2023-24") == ["2020-21", "2021-22", "2022-23", "2023-24"]


def test_the_inputs_are_the_season_and_the_one_before_shots_and_player_features_over_windows():
    asked = []

    def read(table, seasons, columns=None):
        asked.append((table.name, list(seasons), columns))
        return pd.DataFrame({"table": [table.name]})

    inputs = read_team_game_inputs(read, "2016-17")
    assert asked == [
        ("games", ["2015-16", "2016-17"], None),
        ("stints", ["2015-16", "2016-17"], None),
        ("player_rapm", ["2015-16", "2016-17"], None),
        ("shots", ["2013-14", "2014-15", "2015-16", "2016-17"], SHOT_COLUMNS),
        ("player_features", ["2013-14", "2014-15", "2015-16", "2016-17"], None),  # the box prior's seasons
        ("player_game_stats", ["2016-17"], None),  # the season's rotations
    ]
    assert [f["table"].iloc[0] for f in (inputs.games, inputs.stints, inputs.rapm, inputs.shots)] == [
        "games",
        "stints",
        "player_rapm",
        "shots",
    ]
