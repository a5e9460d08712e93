"""``shots_<season>.parquet`` -> rows of the ``shots`` table, coordinates in feet."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from nba_pipeline.ingest.schema import shots

SHOTS_COLUMNS = [c.name for c in shots.columns]
HOOP_Y = 5.25  # feet from the baseline to the hoop
log = logging.getLogger(__name__)


def normalize_shot_units(shots: pd.DataFrame) -> pd.DataFrame:
    """Bring every season's coordinates to feet from the baseline.

    Quirk of the real copy (not in its README): in 2019-20 and 2020-21 ``LOC_X`` is in tens of
    feet and ``LOC_Y`` is ``feet / 10 + 5.25`` (|x| <= 2.5). Converting back (x * 10,
    (y - 5.25) * 10) reproduces ``SHOT_DISTANCE`` (corr 0.9996, mean abs diff 0.48 ft, as in the
    other seasons). A season is converted when its largest |loc_x| is below 5 ft."""
    s = shots.copy()
    span = s.groupby("season")["loc_x"].transform(lambda v: v.abs().max())
    small = span < 5.0
    if small.any():
        log.warning(
            "shots: seasons %s have coordinates in tens of feet; converted to feet",
            sorted(s.loc[small, "season"].astype(str).unique()),
        )
        s.loc[small, "loc_x"] = s.loc[small, "loc_x"] * 10.0
        s.loc[small, "loc_y"] = (s.loc[small, "loc_y"] - HOOP_Y) * 10.0
    return s


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
    return normalize_shot_units(out[SHOTS_COLUMNS])
