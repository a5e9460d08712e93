"""Shots are stored in feet in every season, whatever unit the source file used."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nba_pipeline.ingest.raw import read_raw
from nba_pipeline.ingest.shots import HOOP_Y, build_shots, normalize_shot_units


def test_seasons_in_tens_of_feet_are_converted_and_feet_are_left_alone():
    tens = pd.DataFrame({"season": "2019-20", "loc_x": [-2.2, 0.0, 1.5], "loc_y": [5.25, 6.25, 7.25]})
    feet = pd.DataFrame({"season": "2022-23", "loc_x": [-22.0, 0.0, 15.0], "loc_y": [0.0, 10.0, 20.0]})
    out = normalize_shot_units(pd.concat([tens, feet], ignore_index=True))
    np.testing.assert_allclose(out["loc_x"], [-22.0, 0.0, 15.0, -22.0, 0.0, 15.0])
    np.testing.assert_allclose(out["loc_y"][:3], [0.0, 10.0, 20.0])
    np.testing.assert_allclose(normalize_shot_units(out)["loc_x"], out["loc_x"])  # idempotent


def test_real_2020_21_shots_are_stored_in_feet(nba_raw_dir):
    season = "2020-21"
    rows = build_shots(read_raw(nba_raw_dir, "shots", season), season)
    dist = np.hypot(rows["loc_x"], rows["loc_y"] - HOOP_Y)
    assert rows["loc_x"].abs().max() > 20
    assert np.corrcoef(dist, rows["distance"])[0, 1] > 0.99
    assert (dist - rows["distance"]).abs().mean() < 1.0
