"""PlayByPlayV3 field-goal actions -> rows in the raw contract's shots columns.

Why: lineup spacing (convex hull of the players' shot locations) reads ``shots_<season>.parquet``;
a pulled season without one would degrade to imputed areas. V3 carries every field goal's
location, so the file can be written from the same responses.

How each column is rebuilt (checked against the shipped ``shots_2022-23.parquet`` rows of the
recorded game, where every value agrees):
- ``LOC_X = -xLegacy / 10`` and ``LOC_Y = yLegacy / 10 + 5.25`` (feet, from the baseline; the
  shipped files are in feet, positive x on the court's left as seen from the baseline camera);
- ``SHOT_DISTANCE`` = floor of the distance to the hoop in feet;
- ``BASIC_ZONE`` from the location: backcourt beyond half court; a three is a corner three within
  14 ft of the baseline, else above the break; a two is in the restricted area within 4 ft of
  the hoop, in the paint within 8 ft either side and 19 ft of the baseline, else mid-range;
- ``GAME_EVENT_ID_MATCHED`` = ``actionNumber`` (the pbp ``EVENTNUM`` of the same shot).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nba_pipeline.ingest.shots import HOOP_Y

SHOT_DTYPES: dict[str, str] = {
    "GAME_ID": "str",
    "GAME_DATE": "object",
    "TEAM_ID": "int64",
    "PLAYER_ID": "int64",
    "PLAYER_NAME": "str",
    "EVENT_TYPE": "str",
    "SHOT_MADE": "bool",
    "ACTION_TYPE": "str",
    "SHOT_TYPE": "str",
    "BASIC_ZONE": "str",
    "LOC_X": "float64",
    "LOC_Y": "float64",
    "SHOT_DISTANCE": "int64",
    "QUARTER": "int64",
    "MINS_LEFT": "int64",
    "SECS_LEFT": "int64",
    "SECS_LEFT_PERIOD": "int16",
    "GAME_EVENT_ID_MATCHED": "Int32",
}


def basic_zone(x: np.ndarray, y: np.ndarray, three: np.ndarray) -> np.ndarray:
    """stats.nba.com's BASIC_ZONE from a location in feet (x across, y from the baseline)."""
    dist = np.hypot(x, y - HOOP_Y)
    return np.where(
        y > 47,
        "Backcourt",
        np.where(
            three,
            np.where(y <= 14, np.where(x > 0, "Left Corner 3", "Right Corner 3"), "Above the Break 3"),
            np.where(
                dist <= 4,
                "Restricted Area",
                np.where((np.abs(x) <= 8) & (y <= 19), "In The Paint (Non-RA)", "Mid-Range"),
            ),
        ),
    )


def shots_from_actions(actions: pd.DataFrame, game_dates: dict[str, object] | pd.Series) -> pd.DataFrame:
    """Field goals of V3 actions (``pbp_v3.actions_frame``) as shots rows; ``game_dates`` maps
    game id -> date (games without a date are left out: the contract needs one)."""
    need = ["gameId", "actionNumber", "clock", "period", "teamId", "personId", "isFieldGoal"]
    need += ["shotResult", "shotValue", "xLegacy", "yLegacy", "subType", "playerNameI"]
    a = actions.copy()
    for c in need:
        if c not in a:
            a[c] = np.nan
    a = a[~a.duplicated([c for c in a.columns if c != "order"])]  # exact duplicate actions
    fg = pd.to_numeric(a["isFieldGoal"], errors="coerce").fillna(0).astype(int) == 1
    a = a[fg & a["gameId"].isin(list(pd.Series(game_dates).index))]
    dates = pd.Series(game_dates)
    x = -pd.to_numeric(a["xLegacy"], errors="coerce").fillna(0).to_numpy(float) / 10.0
    y = pd.to_numeric(a["yLegacy"], errors="coerce").fillna(0).to_numpy(float) / 10.0 + HOOP_Y
    three = pd.to_numeric(a["shotValue"], errors="coerce").fillna(2).to_numpy() == 3
    made = a["shotResult"].astype(str).str.lower().eq("made").to_numpy()
    clk = a["clock"].astype(str).str.extract(r"^PT(\d+)M(\d+)")
    mins = pd.to_numeric(clk[0], errors="coerce").fillna(0).astype("int64").to_numpy()
    secs = pd.to_numeric(clk[1], errors="coerce").fillna(0).astype("int64").to_numpy()
    out = pd.DataFrame(
        {
            "GAME_ID": a["gameId"].astype(str).to_numpy(),
            "GAME_DATE": a["gameId"].map(dates).to_numpy(),
            "TEAM_ID": pd.to_numeric(a["teamId"]).astype("int64").to_numpy(),
            "PLAYER_ID": pd.to_numeric(a["personId"]).astype("int64").to_numpy(),
            "PLAYER_NAME": a["playerNameI"].astype(str).to_numpy(),
            "EVENT_TYPE": np.where(made, "Made Shot", "Missed Shot"),
            "SHOT_MADE": made,
            "ACTION_TYPE": a["subType"].astype(str).to_numpy(),
            "SHOT_TYPE": np.where(three, "3PT Field Goal", "2PT Field Goal"),
            "BASIC_ZONE": basic_zone(x, y, three),
            "LOC_X": x,
            "LOC_Y": y,
            "SHOT_DISTANCE": np.floor(np.hypot(x, y - HOOP_Y) + 1e-9).astype("int64"),
            "QUARTER": pd.to_numeric(a["period"]).astype("int64").to_numpy(),
            "MINS_LEFT": mins,
            "SECS_LEFT": secs,
            "SECS_LEFT_PERIOD": (mins * 60 + secs).astype("int16"),
            "GAME_EVENT_ID_MATCHED": pd.array(pd.to_numeric(a["actionNumber"]).to_numpy(), dtype="Int32"),
        }
    )
    out = out.sort_values(["GAME_ID", "QUARTER", "GAME_EVENT_ID_MATCHED"], kind="stable").reset_index(
        drop=True
    )
    return out.astype(SHOT_DTYPES)
