"""``shots_<season>.parquet`` -> rows of the ``shots`` table (coordinates already in feet)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nba_pipeline.ingest.schema import shots

SHOTS_COLUMNS = [c.name for c in shots.columns]


def build_shots(raw: pd.DataFrame, season: str) -> pd.DataFrame:
    """One row per shot; ``shot_id`` is the row number in the season file (stable key), and
    ``event_num`` the matched pbp EVENTNUM (NULL when the source could not match it)."""
    out = pd.DataFrame(
        {
            "shot_id": np.arange(len(raw), dtype=np.int64),
            "season": season,
            "game_id": raw["GAME_ID"].astype(str).to_numpy(),
            "game_date": pd.to_datetime(raw["GAME_DATE"]).dt.date.to_numpy(),
            "event_num": raw["GAME_EVENT_ID_MATCHED"].astype("Int64").to_numpy(),
            "team_id": raw["TEAM_ID"].astype("int64").to_numpy(),
            "player_id": raw["PLAYER_ID"].astype("int64").to_numpy(),
            "period": raw["QUARTER"].astype("int64").to_numpy(),
            "clock_seconds": raw["SECS_LEFT_PERIOD"].astype("float64").to_numpy(),
            "made": raw["SHOT_MADE"].astype(bool).to_numpy(),
            "is_three": raw["SHOT_TYPE"].astype(str).str.startswith("3PT").to_numpy(),
            "loc_x": raw["LOC_X"].astype("float64").to_numpy(),
            "loc_y": raw["LOC_Y"].astype("float64").to_numpy(),
            "distance": raw["SHOT_DISTANCE"].astype("float64").to_numpy(),
            "zone": raw["BASIC_ZONE"].to_numpy(),
        }
    )
    return out[SHOTS_COLUMNS]
