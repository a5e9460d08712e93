"""Lineup spacing: the convex hull area (sq ft) of the five players' average shot locations.

A player's location as-of day D is the mean (loc_x, loc_y) of his shots in games before D this
season, blended with his most recent earlier season that has shots (that season's mean counts as
``min(n, PRIOR_SHOTS)`` shots). Seasons without a shots file therefore use the players' most
recent known averages. A player with no known shot at all has no location: a lineup with such a
player has no hull (NULL, flagged), never an invented one.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.spatial import ConvexHull, QhullError

from nba_pipeline.analytics.schema import AWAY_COLS, HOME_COLS
from nba_pipeline.analytics.team_features import as_datetime, check_columns
from nba_pipeline.ingest.shots import normalize_shot_units  # idempotent: tables ingested before it

log = logging.getLogger(__name__)

PRIOR_SHOTS = 50.0
SHOT_COLUMNS = ["season", "game_date", "player_id", "loc_x", "loc_y"]


def hull_area(points: np.ndarray) -> float:
    """Area of the convex hull of 2-D points; 0 for degenerate (collinear) sets, NaN if any point
    is missing."""
    if np.isnan(points).any():
        return float("nan")
    try:
        return float(ConvexHull(points).volume)
    except QhullError:
        return 0.0


def player_locations(shots: pd.DataFrame, season: str, dates: np.ndarray) -> pd.DataFrame:
    """Per (as-of date, player): mean shot location from shots strictly before the date (this
    season) blended with the most recent earlier season's mean. Columns: date, player_id, x, y."""
    check_columns(shots, SHOT_COLUMNS, "shots")
    s = normalize_shot_units(shots)
    s["game_date"] = as_datetime(s["game_date"]).to_numpy()
    s["season"] = s["season"].astype(str)
    earlier = s[s["season"] < season]
    prior = earlier.groupby(["player_id", "season"]).agg(
        px=("loc_x", "mean"), py=("loc_y", "mean"), pn=("loc_x", "size")
    )
    prior = (
        prior.reset_index()
        .sort_values("season")
        .drop_duplicates("player_id", keep="last")
        .set_index("player_id")
    )
    cur = s[s["season"] == season]
    daily = cur.groupby(["player_id", "game_date"]).agg(
        sx=("loc_x", "sum"), sy=("loc_y", "sum"), n=("loc_x", "size")
    )
    daily = daily.groupby(level=0).cumsum().reset_index().sort_values("game_date")
    players = np.union1d(prior.index.to_numpy(), daily["player_id"].unique())
    dates = np.sort(as_datetime(dates).unique())
    grid = pd.DataFrame(
        {"game_date": np.repeat(dates, len(players)), "player_id": np.tile(players, len(dates))}
    )
    grid = pd.merge_asof(
        grid.sort_values("game_date"), daily, on="game_date", by="player_id", allow_exact_matches=False
    )
    grid[["sx", "sy", "n"]] = grid[["sx", "sy", "n"]].fillna(0.0)
    pr = prior.reindex(grid["player_id"].to_numpy())
    w = np.minimum(pr["pn"].to_numpy(float), PRIOR_SHOTS)
    w = np.nan_to_num(w)
    px, py = np.nan_to_num(pr["px"].to_numpy(float)), np.nan_to_num(pr["py"].to_numpy(float))
    den = grid["n"].to_numpy() + w
    with np.errstate(invalid="ignore", divide="ignore"):
        grid["x"] = (grid["sx"].to_numpy() + w * px) / den
        grid["y"] = (grid["sy"].to_numpy() + w * py) / den
    return grid[["game_date", "player_id", "x", "y"]].rename(columns={"game_date": "date"})


def lineup_hulls(lineups: pd.DataFrame, locations: pd.DataFrame, player_cols: list[str]) -> np.ndarray:
    """Hull area per row of ``lineups`` (columns ``date`` + five player columns)."""
    loc = locations.set_index(["date", "player_id"])
    pts = np.full((len(lineups), 5, 2), np.nan)
    dates = as_datetime(lineups["date"]).to_numpy()
    for i, c in enumerate(player_cols):
        key = pd.MultiIndex.from_arrays([dates, lineups[c].to_numpy(np.int64)])
        xy = loc.reindex(key)[["x", "y"]].to_numpy(float)
        pts[:, i, :] = xy
    return np.array([hull_area(p) for p in pts])


def build_lineup_spacing(
    stints: pd.DataFrame, shots: pd.DataFrame, games: pd.DataFrame, season: str
) -> pd.DataFrame:
    """``lineup_spacing`` rows of one season: per game and team, the actual starters' hull and the
    seconds-weighted hull over the lineups the team used (locations as-of the game date)."""
    st = stints[stints["season"] == season].copy()
    st["date"] = as_datetime(st["game_date"]).to_numpy()
    st["secs"] = st["end_seconds"] - st["start_seconds"]
    locs = player_locations(shots, season, st["date"].unique())
    teams = games.drop_duplicates("game_id").set_index("game_id")[["home_team_id", "away_team_id"]]
    out = []
    for cols, team_col in ((HOME_COLS, "home_team_id"), (AWAY_COLS, "away_team_id")):
        lu = st.groupby(["game_id", "date", *cols], as_index=False)["secs"].sum()
        lu["area"] = lineup_hulls(lu, locs, cols)
        lu["known"] = lu["area"].notna()
        lu["wa"] = lu["area"].fillna(0.0) * lu["secs"]
        lu["ks"] = lu["secs"].where(lu["known"], 0.0)
        agg = (
            lu.groupby(["game_id", "date"])
            .agg(wa=("wa", "sum"), ks=("ks", "sum"), secs=("secs", "sum"))
            .reset_index()
        )
        first = st.sort_values(["game_id", "stint"]).drop_duplicates("game_id")[["game_id", "date", *cols]]
        first["starters_hull_area"] = lineup_hulls(first, locs, cols)
        m = agg.merge(first[["game_id", "starters_hull_area"]], on="game_id")
        m["team_id"] = m["game_id"].map(teams[team_col]).astype("int64")
        m["weighted_hull_area"] = (m["wa"] / m["ks"]).where(m["ks"] > 0)
        m["known_share"] = (m["ks"] / m["secs"]).where(m["secs"] > 0, 0.0)
        out.append(m)
    res = pd.concat(out, ignore_index=True)
    res["season"] = season
    res["game_date"] = res["date"].dt.date
    res["starters_missing"] = res["starters_hull_area"].isna()
    cols = [
        "game_id",
        "team_id",
        "season",
        "game_date",
        "starters_hull_area",
        "weighted_hull_area",
        "known_share",
        "starters_missing",
    ]
    return res[cols].sort_values(["game_date", "game_id", "team_id"]).reset_index(drop=True)
