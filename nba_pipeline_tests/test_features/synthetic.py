"""Small synthetic inputs with the contract columns (plays, games, player_features,
team_game_features), for shape and edge-case tests of the feature builders."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nba_pipeline.features.graphs import NODE_FEATURES
from nba_pipeline.features.tokenizer import KNOWN_EVENT_TYPES
from nba_pipeline.ingest.schema import ON_COURT

HOME_TEAM, AWAY_TEAM = 1610612737, 1610612738


def synthetic_plays(n_games: int = 3, events_per_period: int = 30, seed: int = 0) -> pd.DataFrame:
    """Games of 4 periods: a period-start row, random events (known types, sides 1/2, scores),
    a period-end row. Home players are ids 1..8 (five on court, one sub per period), away 101..108."""
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(n_games):
        gid = f"00223{g:05d}"
        hs = as_ = 0
        seq = 0
        for period in range(1, 5):
            home_on = list(range(1 + period - 1, 6 + period - 1))
            away_on = list(range(101 + period - 1, 106 + period - 1))
            clocks = np.sort(rng.uniform(0, 720, events_per_period))[::-1]
            specs = [(12, 0, 720.0)]
            specs += [
                (int(rng.choice(KNOWN_EVENT_TYPES[:9])), int(rng.integers(1, 3)), float(c)) for c in clocks
            ]
            specs += [(13, 0, 0.0)]
            for et, side, clock in specs:
                pts = int(rng.integers(2, 4)) if et == 1 else 0
                hs += pts if side == 1 else 0
                as_ += pts if side == 2 else 0
                team = home_on if side == 1 else away_on
                p1 = team[int(rng.integers(0, 5))] if side else None
                p2 = team[int(rng.integers(0, 5))] if side and et == 1 else None
                gs = (period - 1) * 720 + 720 - clock
                rows.append(
                    {
                        "game_id": gid,
                        "event_num": seq + 1,
                        "season": "2022-23",
                        "seq": seq,
                        "period": period,
                        "event_type": et,
                        "action_type": 0,
                        "clock_seconds": clock,
                        "game_seconds": gs,
                        "seconds_left_regulation": max(2880 - gs, 0.0),
                        "side": side,
                        "points": pts,
                        "is_made": True if et == 1 else False if et == 2 else None,
                        "home_score": hs,
                        "away_score": as_,
                        "player1_id": p1,
                        "player2_id": p2,
                        "player3_id": None,
                        **dict(zip(ON_COURT, home_on + away_on, strict=True)),
                    }
                )
                seq += 1
    df = pd.DataFrame(rows)
    for c in ["player1_id", "player2_id", "player3_id", *ON_COURT]:
        df[c] = df[c].astype("Int64")
    return df


def synthetic_games(plays: pd.DataFrame, start: str = "2022-11-01") -> pd.DataFrame:
    last = plays.sort_values("seq").groupby("game_id").tail(1).sort_values("game_id")
    return pd.DataFrame(
        {
            "game_id": last["game_id"].to_numpy(),
            "game_date": pd.date_range(start, periods=len(last), freq="D"),
            "home_pts": last["home_score"].to_numpy(),
            "away_pts": last["away_score"].to_numpy(),
            "home_team_id": HOME_TEAM,
            "away_team_id": AWAY_TEAM,
        }
    )


def synthetic_player_features(player_ids: list[int], as_of: str, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"player_id": player_ids, "as_of_date": pd.Timestamp(as_of)})
    for f in NODE_FEATURES:
        df[f] = rng.normal(size=len(df))
    pos = rng.integers(0, 5, len(df))
    for i, f in enumerate(("pos_pg", "pos_sg", "pos_sf", "pos_pf", "pos_c")):
        df[f] = (pos == i).astype(float)
    df["has_history"] = True
    return df


def synthetic_team_game_features(games: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for _, g in games.iterrows():
        for is_home in (True, False):
            rows.append(
                {
                    "game_id": g["game_id"],
                    "team_id": HOME_TEAM if is_home else AWAY_TEAM,
                    "is_home": is_home,
                    "game_date": g["game_date"],
                    "season": "2022-23",
                    "ortg_z": rng.normal(),
                    "drtg_z": rng.normal(),
                    "efg": 0.5 + 0.05 * rng.normal(),
                    "tov_pct": 0.13,
                    "orb_pct": 0.25,
                    "ft_rate": 0.2,
                    "rest_days": float(rng.integers(0, 4)),
                    "back_to_back": 0.0,
                    "travel_miles": 800.0,
                    "lineup_orapm": rng.normal(),
                    "lineup_drapm": rng.normal(),
                    "lineup_rapm": rng.normal(),
                    "hull_area": 600.0,
                    "hull_area_missing": False,
                    "avail_rating": rng.normal(),
                    "out_share": 0.1 * rng.random(),
                    "neutral_site": 0.0,
                }
            )
    return pd.DataFrame(rows)
