"""``games.parquet`` -> rows of the ``games`` table for one season."""

from __future__ import annotations

import pandas as pd

from nba_pipeline.ingest.schema import BOX_STATS, games

GAMES_COLUMNS = [c.name for c in games.columns]
REGULAR_SEASON_TYPES = ("regular_season", "nba_cup_semi")  # Cup semis count as RS games
POSTSEASON_TYPES = ("playoffs", "play_in")


def build_games(raw_games: pd.DataFrame, season: str) -> pd.DataFrame:
    """One row per game of ``season``; regular season / postseason flags from ``game_type``."""
    g = raw_games[raw_games["season"] == season]
    out = pd.DataFrame(
        {
            "game_id": g["game_id"].astype(str),
            "season": season,
            "game_date": pd.to_datetime(g["game_date"]).dt.date,
            "game_type": g["game_type"].astype(str),
            "is_regular_season": g["game_type"].isin(REGULAR_SEASON_TYPES),
            "is_postseason": g["game_type"].isin(POSTSEASON_TYPES),
            "neutral_site": g["neutral_site"].astype(bool),
            "home_team_id": g["team_id_home"].astype("int64"),
            "away_team_id": g["team_id_road"].astype("int64"),
            "home_team_abbr": g["team_abbreviation_home"].astype(str),
            "away_team_abbr": g["team_abbreviation_road"].astype(str),
            "home_pts": g["pts_home"].astype("int64"),
            "away_pts": g["pts_road"].astype("int64"),
        }
    )
    for side, src in (("home", "home"), ("away", "road")):
        for stat in BOX_STATS:
            out[f"{stat}_{side}"] = g[f"{stat}_{src}"].astype("Int64")
    out["possessions_home"] = g["possessions_home"].astype("float64")
    out["possessions_away"] = g["possessions_road"].astype("float64")
    out["minutes"] = g["minutes_home"].astype("Int64")
    return out[GAMES_COLUMNS].reset_index(drop=True)
