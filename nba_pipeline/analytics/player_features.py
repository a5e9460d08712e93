"""Player node features as-of a date (the 16 ``NODE_FEATURES`` of the specification).

A snapshot dated T is built from games on or before T and is used by games after T (lookup:
latest snapshot with ``as_of_date < D``). Snapshots: the day before the season's first game, then
every game date. The stats window is this season's games up to T plus the previous season's
games at weight ``PREV_WEIGHT``.

- ``orapm, drapm, rapm``: the latest RAPM snapshot on or before T (0, the ridge prior mean, for a
  player without one).
- ``height_z, weight_z``: bio height / weight z-scored over the players of the two seasons;
  0 when unknown. ``pos_*``: one-hot of PG/SG/SF/PF/C, all 0 when unknown.
- ``fg_pct, fg3_pct, ft_pct``: ``(made + K * league) / (attempts + K)`` (K = 100 FGA, 50 3PA,
  30 FTA): small samples are pulled to the league rate of the same window.
- ``minutes_per_game``: minutes on court per game played (from stints).
- ``usage_rate``: (FGA + 0.44 FTA + TOV) per team offensive possession while on court.
- ``ast_rate`` (the extra usage indicator): assists per team offensive possession while on court,
  i.e. how much of the offense runs through the player as a creator. Both rates are shrunk with
  K = 300 possessions toward the league rate.

A player without any game in the window gets ``has_history = False``: league rates, 0 minutes,
0 RAPM (or the prior-season RAPM when known). No feature is ever NaN: when the window holds no
game at all (opening day of the earliest season loaded) the league rates are ``FALLBACK_RATES``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nba_pipeline.analytics.schema import AWAY_COLS, HOME_COLS, NODE_FEATURES
from nba_pipeline.analytics.team_features import as_datetime, check_columns
from nba_pipeline.ingest.plays import FIRST_TEAM_ID
from nba_pipeline.ingest.raw import previous_season

__all__ = ["NODE_FEATURES", "build_player_features", "player_box_from_plays", "lookup_player_features"]

PREV_WEIGHT = 0.5
SHRINK = {"fg_pct": 100.0, "fg3_pct": 50.0, "ft_pct": 30.0, "usage_rate": 300.0, "ast_rate": 300.0}
FALLBACK_RATES = {"fg_pct": 0.46, "fg3_pct": 0.35, "ft_pct": 0.77, "usage_rate": 0.2, "ast_rate": 0.12}
POSITIONS = ("PG", "SG", "SF", "PF", "C")
STAT_COLS = ["fga", "fgm", "fg3a", "fg3m", "fta", "ftm", "tov", "ast", "seconds", "team_poss", "games"]


def player_box_from_plays(plays: pd.DataFrame) -> pd.DataFrame:
    """Per (game_id, player_id): FGA, FGM, 3PA, 3PM, FTA, FTM, TOV, AST counted from the plays."""
    check_columns(
        plays, ["game_id", "event_type", "is_made", "player1_id", "player2_id", "description"], "plays"
    )
    et = plays["event_type"].to_numpy(np.int64)
    p1 = plays["player1_id"].astype("Float64").fillna(0).to_numpy(np.float64)
    p2 = plays["player2_id"].astype("Float64").fillna(0).to_numpy(np.float64)
    made = plays["is_made"].fillna(False).to_numpy(bool)
    three = plays["description"].fillna("").str.contains("3PT", regex=False).to_numpy()
    is_player1 = (p1 > 0) & (p1 < FIRST_TEAM_ID)
    fg = np.isin(et, (1, 2)) & is_player1
    parts = pd.DataFrame(
        {
            "game_id": plays["game_id"].to_numpy(),
            "player_id": p1.astype(np.int64),
            "fga": fg,
            "fgm": fg & (et == 1),
            "fg3a": fg & three,
            "fg3m": fg & three & (et == 1),
            "fta": (et == 3) & is_player1,
            "ftm": (et == 3) & is_player1 & made,
            "tov": (et == 5) & is_player1,
            "ast": False,
        }
    )[is_player1]
    ast_rows = (et == 1) & (p2 > 0) & (p2 < FIRST_TEAM_ID)
    ast = pd.DataFrame(
        {"game_id": plays["game_id"].to_numpy()[ast_rows], "player_id": p2[ast_rows].astype(np.int64)}
    )
    ast = ast.assign(fga=False, fgm=False, fg3a=False, fg3m=False, fta=False, ftm=False, tov=False, ast=True)
    box = pd.concat([parts, ast], ignore_index=True).groupby(["game_id", "player_id"]).sum().astype(float)
    return box.reset_index()


def on_court_from_stints(stints: pd.DataFrame) -> pd.DataFrame:
    """Per (game_id, player_id): seconds on court and team offensive possessions while on court."""
    secs = (stints["end_seconds"] - stints["start_seconds"]).to_numpy(float)
    parts = []
    for cols, poss in ((HOME_COLS, "home_poss"), (AWAY_COLS, "away_poss")):
        for c in cols:
            parts.append(
                pd.DataFrame(
                    {
                        "game_id": stints["game_id"].to_numpy(),
                        "player_id": stints[c].to_numpy(np.int64),
                        "seconds": secs,
                        "team_poss": stints[poss].to_numpy(float),
                    }
                )
            )
    oc = pd.concat(parts, ignore_index=True).groupby(["game_id", "player_id"]).sum().reset_index()
    oc["games"] = (oc["seconds"] > 0).astype(float)
    return oc


def player_game_table(plays: pd.DataFrame, stints: pd.DataFrame) -> pd.DataFrame:
    """Per player-game: box stats, on-court seconds and possessions, season and date."""
    oc = on_court_from_stints(stints)
    box = player_box_from_plays(plays)
    # Players on court only: the box reader also sees ids of coaches / officials in odd rows.
    t = oc.merge(box, on=["game_id", "player_id"], how="left").fillna({c: 0.0 for c in STAT_COLS})
    meta = stints.drop_duplicates("game_id").set_index("game_id")
    t["season"] = t["game_id"].map(meta["season"]).astype(str)
    t["game_date"] = as_datetime(t["game_id"].map(meta["game_date"])).to_numpy()
    return t[~t["game_date"].isna()]


def _bio_features(players: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    check_columns(players, ["player_id", "height_in", "weight_lb", "position"], "players")
    p = players.drop_duplicates("player_id").set_index("player_id").reindex(ids)
    out = pd.DataFrame(index=pd.Index(ids, name="player_id"))
    for src, dst in (("height_in", "height_z"), ("weight_lb", "weight_z")):
        v = p[src].astype(float)
        sd = v.std()
        out[dst] = ((v - v.mean()) / sd).fillna(0.0) if sd and sd > 0 else 0.0
    pos = p["position"].astype("string").str.upper()
    for code in POSITIONS:
        out[f"pos_{code.lower()}"] = (pos == code).fillna(False).astype(float)
    return out


def build_player_features(
    plays: pd.DataFrame,
    stints: pd.DataFrame,
    players: pd.DataFrame,
    rapm: pd.DataFrame,
    season: str,
) -> pd.DataFrame:
    """``player_features`` rows of ``season``. ``plays``/``stints`` hold this season and, when
    available, the previous one; ``rapm`` the snapshots of this season."""
    pg = player_game_table(plays, stints)
    prev_season = previous_season(season)
    cur = pg[pg["season"] == season]
    if cur.empty:
        raise ValueError(f"player features: no stints of season {season}")
    prev = pg[pg["season"] == prev_season].groupby("player_id")[STAT_COLS].sum() * PREV_WEIGHT
    dates = np.sort(cur["game_date"].unique())
    snap = np.r_[dates[0] - np.timedelta64(1, "D"), dates]
    ids = np.union1d(cur["player_id"].unique(), prev.index.to_numpy())
    daily = cur.groupby(["player_id", "game_date"])[STAT_COLS].sum().groupby(level=0).cumsum().reset_index()
    grid = pd.DataFrame({"as_of": np.repeat(snap, len(ids)), "player_id": np.tile(ids, len(snap))})
    grid = pd.merge_asof(
        grid.sort_values("as_of"),
        daily.sort_values("game_date"),
        left_on="as_of",
        right_on="game_date",
        by="player_id",
    )
    grid[STAT_COLS] = grid[STAT_COLS].fillna(0.0) + prev.reindex(grid["player_id"]).fillna(0.0).to_numpy()
    league = grid.groupby("as_of")[STAT_COLS].transform("sum")
    lg = {
        "fg_pct": league["fgm"] / league["fga"],
        "fg3_pct": league["fg3m"] / league["fg3a"],
        "ft_pct": league["ftm"] / league["fta"],
        "usage_rate": (league["fga"] + 0.44 * league["fta"] + league["tov"]) / league["team_poss"],
        "ast_rate": league["ast"] / league["team_poss"],
    }
    num = {
        "fg_pct": (grid["fgm"], grid["fga"]),
        "fg3_pct": (grid["fg3m"], grid["fg3a"]),
        "ft_pct": (grid["ftm"], grid["fta"]),
        "usage_rate": (grid["fga"] + 0.44 * grid["fta"] + grid["tov"], grid["team_poss"]),
        "ast_rate": (grid["ast"], grid["team_poss"]),
    }
    for name, (n, d) in num.items():
        base = lg[name].where(np.isfinite(lg[name]), FALLBACK_RATES[name])
        grid[name] = (n + SHRINK[name] * base) / (d + SHRINK[name])
    grid["has_history"] = grid["games"] > 0
    grid["minutes_per_game"] = np.where(
        grid["has_history"], grid["seconds"] / 60.0 / grid["games"].clip(lower=1e-9), 0.0
    )
    grid["games_played"] = np.round(grid["games"]).astype(int)
    bio = _bio_features(players, ids)
    grid = grid.join(bio, on="player_id")
    r = rapm[["as_of_date", "player_id", "orapm", "drapm", "rapm"]].copy()
    r["as_of_date"] = as_datetime(r["as_of_date"]).to_numpy()
    grid = pd.merge_asof(
        grid.sort_values("as_of"),
        r.sort_values("as_of_date"),
        left_on="as_of",
        right_on="as_of_date",
        by="player_id",
    )
    grid[["orapm", "drapm", "rapm"]] = grid[["orapm", "drapm", "rapm"]].fillna(0.0)
    out = grid.assign(as_of_date=grid["as_of"].dt.date, season=season)
    out = out[["as_of_date", "player_id", "season", *NODE_FEATURES, "has_history", "games_played"]]
    if out[NODE_FEATURES].isna().any().any():
        bad = out[NODE_FEATURES].columns[out[NODE_FEATURES].isna().any()].tolist()
        raise AssertionError(f"player features: NaN in {bad}")
    return out.sort_values(["as_of_date", "player_id"]).reset_index(drop=True)


def default_features() -> dict[str, float]:
    """Values of a player found in no snapshot (documented defaults; has_history False)."""
    d = dict.fromkeys(NODE_FEATURES, 0.0)
    d.update({k: v for k, v in FALLBACK_RATES.items() if k in d})
    return d


def lookup_player_features(
    features: pd.DataFrame, requests: pd.DataFrame, extra: tuple[str, ...] = ()
) -> pd.DataFrame:
    """For each request row (``player_id``, ``game_date``) the latest snapshot with
    ``as_of_date < game_date``; players in no earlier snapshot get :func:`default_features` and
    ``has_history = False``. Returns ``requests`` with NODE_FEATURES, has_history and the
    ``extra`` snapshot columns (NaN without a snapshot) added."""
    check_columns(requests, ["player_id", "game_date"], "requests")
    f = features[["as_of_date", "player_id", *NODE_FEATURES, "has_history", *extra]].copy()
    f["as_of_date"] = as_datetime(f["as_of_date"]).to_numpy()
    f["player_id"] = f["player_id"].astype("int64")
    q = requests.copy()
    q["_order"] = np.arange(len(q))
    q["_date"] = as_datetime(q["game_date"]).to_numpy()
    q["player_id"] = q["player_id"].astype("int64")
    m = pd.merge_asof(
        q.sort_values("_date"),
        f.sort_values("as_of_date"),
        left_on="_date",
        right_on="as_of_date",
        by="player_id",
        allow_exact_matches=False,
    )
    m = m.sort_values("_order")
    m["has_history"] = m["has_history"].astype("boolean").fillna(False).astype(bool)
    m = m.fillna(default_features())
    return m.drop(columns=["_order", "_date", "as_of_date"]).reset_index(drop=True)
