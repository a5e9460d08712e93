"""``plays`` (+ ``games``) -> one box-score row per player and game, vectorized.

Counting rules (PlayByPlayV2): PLAYER1 is the actor (shots, free throws, rebounds, turnovers,
fouls), PLAYER2 the assister on a made shot or the stealer on a turnover, PLAYER3 the blocker on a
missed shot. A rebound is offensive when the rebounder's team took the last missed shot before it.
Seconds on court and plus-minus come from the ten on-court columns; they are NULL for games whose
lineups are not known on every event.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nba_pipeline.ingest.plays import run_starts
from nba_pipeline.ingest.schema import BOX_STATS, ON_COURT, player_game_stats

PGS_COLUMNS = [c.name for c in player_game_stats.columns]
STAT_COLUMNS = ["pts", *BOX_STATS]
PLAYER_PERSON_TYPES = (4, 5)
# Technical / non-personal foul action types (EVENTMSGACTIONTYPE of EVENTMSGTYPE 6): not in PF.
TECHNICAL_FOUL_ACTIONS = (11, 12, 13, 16, 17, 18, 19, 25, 30)
# plays columns the builder reads (the asset loads only these from the database)
PGS_INPUT_COLUMNS = [
    "game_id",
    "seq",
    "event_type",
    "action_type",
    "is_made",
    "description",
    "points",
    "side",
    "game_seconds",
    "person1_type",
    *(f"player{n}_{c}" for n in (1, 2, 3) for c in ("id", "team_id")),
    "lineup_source",
    *ON_COURT,
]
_TEAM_ID_MIN, _TEAM_ID_MAX = 1610612700, 1610612799


def _is_player_id(ids: pd.Series) -> np.ndarray:
    v = ids.to_numpy(dtype="float64", na_value=np.nan)
    return ~np.isnan(v) & (v > 0) & ~((v >= _TEAM_ID_MIN) & (v <= _TEAM_ID_MAX))


def _action_stats(p: pd.DataFrame) -> pd.DataFrame:
    """Long table (game_id, player_id, team_id, stat columns) of every counted action."""
    et = p["event_type"].to_numpy()
    made = p["is_made"].to_numpy(dtype=bool, na_value=False)
    three = (p["description"].fillna("").str.contains("3PT", regex=False)).to_numpy() & np.isin(et, (1, 2))
    team1 = p["player1_team_id"].to_numpy(dtype="float64", na_value=np.nan)
    # offensive rebound: rebounder's team == team of the last miss (FG or FT) earlier in the game
    miss = (et == 2) | ((et == 3) & ~made)
    last_miss_team = pd.Series(np.where(miss, team1, np.nan)).groupby(p["game_id"].to_numpy()).ffill()
    # the rebound row itself is not a miss, so the ffill value on it is the previous miss's team
    reb = et == 4
    oreb = reb & (last_miss_team.to_numpy() == team1)

    p1 = np.isin(
        p["person1_type"].to_numpy(dtype="float64", na_value=0), PLAYER_PERSON_TYPES
    ) & _is_player_id(p["player1_id"])
    fga = np.isin(et, (1, 2))
    pf = (et == 6) & ~np.isin(p["action_type"].to_numpy(), TECHNICAL_FOUL_ACTIONS)
    a1 = pd.DataFrame(
        {
            "game_id": p["game_id"].to_numpy(),
            "player_id": p["player1_id"].to_numpy(dtype="float64", na_value=np.nan),
            "team_id": team1,
            "pts": p["points"].to_numpy(),
            "fgm": (et == 1).astype(int),
            "fga": fga.astype(int),
            "fg3m": ((et == 1) & three).astype(int),
            "fg3a": three.astype(int),
            "ftm": ((et == 3) & made).astype(int),
            "fta": (et == 3).astype(int),
            "oreb": oreb.astype(int),
            "dreb": (reb & ~oreb).astype(int),
            "tov": (et == 5).astype(int),
            "pf": pf.astype(int),
        }
    )[p1]
    ast = (et == 1) & _is_player_id(p["player2_id"])
    stl = (et == 5) & _is_player_id(p["player2_id"])
    a2 = pd.DataFrame(
        {
            "game_id": p["game_id"].to_numpy(),
            "player_id": p["player2_id"].to_numpy(dtype="float64", na_value=np.nan),
            "team_id": p["player2_team_id"].to_numpy(dtype="float64", na_value=np.nan),
            "ast": ast.astype(int),
            "stl": stl.astype(int),
        }
    )[ast | stl]
    blk = (et == 2) & _is_player_id(p["player3_id"])
    a3 = pd.DataFrame(
        {
            "game_id": p["game_id"].to_numpy()[blk],
            "player_id": p["player3_id"].to_numpy(dtype="float64", na_value=np.nan)[blk],
            "team_id": p["player3_team_id"].to_numpy(dtype="float64", na_value=np.nan)[blk],
            "blk": 1,
        }
    )
    return pd.concat([a1, a2, a3], ignore_index=True)


def _on_court_stats(p: pd.DataFrame) -> pd.DataFrame:
    """Long table (game_id, player_id, is_home, seconds, plus_minus) from the on-court columns.

    A season has ~5.7M on-court slots: they are grouped by one int64 that packs the game's number,
    the player and the side, in event order (the sums and the first-seen order of grouping by the
    three columns), at a fraction of the memory of grouping by the game id strings."""
    n = len(p)
    gs = p["game_seconds"].to_numpy(dtype="float64")
    gid = p["game_id"].to_numpy()
    new_game = run_starts([gid])
    dur = np.where(new_game, gs, gs - np.r_[0.0, gs[:-1]])
    dur = np.maximum(dur, 0.0)
    pts = p["points"].to_numpy()
    side = p["side"].to_numpy()
    diff = np.where(side == 1, pts, 0) - np.where(side == 2, pts, 0)  # home minus away this event
    on = p[ON_COURT].to_numpy(dtype="float64", na_value=np.nan).ravel()  # event by event, 10 slots
    seen = ~np.isnan(on)
    player = on[seen].astype(np.int64)
    del on
    if len(player) and not (player.min() > 0 and player.max() < 2**32):
        raise ValueError(
            f"player_game_stats: on-court player ids out of range: {player.min()}..{player.max()}"
        )
    is_home = np.tile(np.r_[np.ones(5, bool), np.zeros(5, bool)], n)[seen]
    key = np.repeat(np.cumsum(new_game) - 1, 10)[seen] << 33
    key |= player << 1
    del player
    key |= is_home
    plus_minus = np.repeat(diff, 10)[seen]
    np.negative(plus_minus, out=plus_minus, where=~is_home)
    long = pd.DataFrame({"seconds": np.repeat(dur, 10)[seen], "plus_minus": plus_minus})
    del plus_minus, is_home
    sums = long.groupby(key, sort=False).sum()
    key = sums.index.to_numpy()
    return pd.DataFrame(
        {
            "game_id": gid[new_game][key >> 33],
            "player_id": ((key >> 1) & (2**32 - 1)).astype("float64"),
            "is_home": (key & 1).astype(bool),
            "seconds": sums["seconds"].to_numpy(),
            "plus_minus": sums["plus_minus"].to_numpy(),
        }
    )


def build_player_game_stats(plays_df: pd.DataFrame, games_df: pd.DataFrame, season: str) -> pd.DataFrame:
    """Box score per player and game of one season, from its plays and games rows."""
    p = plays_df.sort_values(["game_id", "seq"]).reset_index(drop=True)
    g = games_df.set_index("game_id")[["game_date", "home_team_id", "away_team_id"]]
    missing_games = sorted(set(p["game_id"].unique()) - set(g.index))
    if missing_games:
        raise ValueError(f"player_game_stats {season}: plays of games absent from games: {missing_games[:5]}")

    acts = _action_stats(p)
    box = acts.groupby(["game_id", "player_id"], sort=False).agg(
        team_id=("team_id", "first"), **{c: (c, "sum") for c in STAT_COLUMNS}
    )
    court = _on_court_stats(p)
    # games where every event has a lineup: seconds / plus-minus are meaningful there only
    full = p["lineup_source"].notna().groupby(p["game_id"], sort=False).all()
    court = court[court["game_id"].map(full).to_numpy(dtype=bool)]
    court = court.set_index(["game_id", "player_id"])
    out = box.join(court, how="outer").reset_index()
    out[STAT_COLUMNS] = out[STAT_COLUMNS].fillna(0).astype("int64")
    gi = g.loc[out["game_id"]]
    home_id = gi["home_team_id"].to_numpy(dtype="float64")
    away_id = gi["away_team_id"].to_numpy(dtype="float64")
    team = out["team_id"].to_numpy(dtype="float64")
    court_home = out["is_home"].to_numpy(dtype="float64", na_value=np.nan) if "is_home" in out else np.nan
    team = np.where(np.isnan(team), np.where(court_home == 1.0, home_id, away_id), team)
    out["team_id"] = team.astype("int64")
    out["is_home"] = team == home_id
    out["game_date"] = gi["game_date"].to_numpy()
    out["season"] = season
    out["player_id"] = out["player_id"].astype("int64")
    in_full = out["game_id"].map(full).fillna(False).to_numpy(dtype=bool)
    out["seconds"] = out["seconds"].where(in_full, np.nan).fillna(0.0).where(in_full)
    out["plus_minus"] = out["plus_minus"].where(in_full).fillna(0).where(in_full).astype("Int64")
    return out[PGS_COLUMNS].sort_values(["game_id", "player_id"]).reset_index(drop=True)
