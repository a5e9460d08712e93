"""Private readers of the raw files into the ingest-contract columns, for the analytics tests.

Kept tiny on purpose: they only rename columns of games.parquet (the ingest package owns the real
transformation); plays come from ``nba_pipeline.ingest`` when available.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

BOX = ("fgm", "fga", "fg3m", "fg3a", "ftm", "fta", "oreb", "dreb", "ast", "stl", "blk", "tov", "pf")


def games_from_raw(raw_dir: Path, seasons: list[str] | None = None) -> pd.DataFrame:
    g = pd.read_parquet(Path(raw_dir) / "games.parquet")
    if seasons is not None:
        g = g[g["season"].isin(seasons)]
    out = pd.DataFrame(
        {
            "game_id": g["game_id"],
            "season": g["season"].astype(str),
            "game_date": pd.to_datetime(g["game_date"]),
            "game_type": g["game_type"],
            "is_regular_season": g["game_type"].isin(["regular_season", "nba_cup_semi"]),
            "is_postseason": g["game_type"].isin(["playoffs", "play_in"]),
            "neutral_site": g["neutral_site"].astype(bool),
            "home_team_id": g["team_id_home"].astype("int64"),
            "away_team_id": g["team_id_road"].astype("int64"),
            "home_team_abbr": g["team_abbreviation_home"],
            "away_team_abbr": g["team_abbreviation_road"],
            "home_pts": g["pts_home"],
            "away_pts": g["pts_road"],
        }
    )
    for side, src in (("home", "home"), ("away", "road")):
        for s in BOX:
            out[f"{s}_{side}"] = g[f"{s}_{src}"]
    out["possessions_home"] = g["possessions_home"].astype(float)
    out["possessions_away"] = g["possessions_road"].astype(float)
    out["minutes"] = g["minutes_home"] // 5
    return out.reset_index(drop=True)


def shots_from_raw(raw_dir: Path, season: str) -> pd.DataFrame | None:
    """The columns of the ``shots`` table that spacing needs; None when the season has no file."""
    path = Path(raw_dir) / f"shots_{season}.parquet"
    if not path.exists():
        return None
    s = pd.read_parquet(path, columns=["GAME_ID", "GAME_DATE", "PLAYER_ID", "LOC_X", "LOC_Y"])
    return pd.DataFrame(
        {
            "season": season,
            "game_id": s["GAME_ID"],
            "game_date": pd.to_datetime(s["GAME_DATE"]),
            "player_id": s["PLAYER_ID"].astype("int64"),
            "loc_x": s["LOC_X"].astype(float),
            "loc_y": s["LOC_Y"].astype(float),
        }
    )
