"""The lineup columns of ``team_game_features``: RAPM sums and hull area of the expected starting five.

Expected starters of a team for a game on day D: the five players who started most often in the
team's last ``LAST_GAMES`` games before D (ties: the more recent start), from the first stint of
each game. For a season opener these are the previous season's last games. With no earlier game
in the input the lineup is unknown: RAPM sums are 0 (the prior mean) and the hull is missing.

RAPM: the latest snapshot with ``as_of_date < D`` (0 for a player without one).
Hull: shot locations strictly before D (``spacing.player_locations``). When a starter has no
known location the area is missing: ``hull_area_missing = 1`` and ``hull_area`` takes the mean of
the known areas of all games strictly before D (0 when there is none), so that the model input
has no NaN while the flag says the value is imputed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nba_pipeline.analytics.schema import AWAY_COLS, HOME_COLS
from nba_pipeline.analytics.spacing import lineup_hulls, player_locations
from nba_pipeline.analytics.team_features import as_datetime

LAST_GAMES = 10
SLOTS = [f"s{i}" for i in range(1, 6)]


def game_starters(stints: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    """Per (game_id, team_id): game_date and the five players of the first stint."""
    first = stints.sort_values(["game_id", "stint"]).drop_duplicates("game_id")
    teams = games.drop_duplicates("game_id").set_index("game_id")
    parts = []
    for cols, tcol in ((HOME_COLS, "home_team_id"), (AWAY_COLS, "away_team_id")):
        d = first[["game_id", *cols]].copy()
        d.columns = ["game_id", *SLOTS]
        d["team_id"] = d["game_id"].map(teams[tcol])
        parts.append(d)
    out = pd.concat(parts, ignore_index=True).dropna(subset=["team_id"])
    out["team_id"] = out["team_id"].astype("int64")
    out["game_date"] = as_datetime(out["game_id"].map(teams["game_date"])).to_numpy()
    return out


def expected_starters(targets: pd.DataFrame, starters: pd.DataFrame) -> pd.DataFrame:
    """For each target (game_id, team_id, game_date): the expected five from starts strictly before
    the date. Players are 0 where fewer than five are known."""
    res = np.zeros((len(targets), 5), np.int64)
    tg = targets.reset_index(drop=True)
    tg_date = as_datetime(tg["game_date"]).to_numpy()
    for team, idx in tg.groupby("team_id").groups.items():
        hist = starters[starters["team_id"] == team].sort_values("game_date")
        h_dates = hist["game_date"].to_numpy()
        h_players = hist[SLOTS].to_numpy(np.int64)
        for i in idx:
            k = np.searchsorted(h_dates, tg_date[i], side="left")
            window = h_players[max(0, k - LAST_GAMES) : k]
            if len(window) == 0:
                continue
            flat = window[::-1].ravel()  # most recent first
            ids, first_pos, counts = np.unique(flat, return_index=True, return_counts=True)
            order = np.lexsort((first_pos, -counts))[:5]
            res[i, : len(order)] = ids[order]
    out = tg[["game_id", "team_id", "game_date"]].copy()
    out[SLOTS] = res
    return out


def add_lineup_features(
    team_feats: pd.DataFrame,
    stints: pd.DataFrame,
    games: pd.DataFrame,
    rapm: pd.DataFrame,
    shots: pd.DataFrame | None,
) -> pd.DataFrame:
    """``team_feats`` (from ``build_team_game_features``) with lineup_orapm/drapm/rapm, hull_area
    and hull_area_missing. ``stints`` should include the previous season (openers' starters)."""
    out = team_feats.reset_index(drop=True).copy()
    exp = expected_starters(out[["game_id", "team_id", "game_date"]], game_starters(stints, games))
    # RAPM sums: latest snapshot strictly before the game date.
    r = rapm[["as_of_date", "player_id", "orapm", "drapm", "rapm"]].copy()
    r["as_of_date"] = as_datetime(r["as_of_date"]).to_numpy()
    r["player_id"] = r["player_id"].astype("int64")
    r = r.sort_values("as_of_date")
    long = exp.melt(id_vars=["game_id", "team_id", "game_date"], value_vars=SLOTS, value_name="player_id")
    long["game_date"] = as_datetime(long["game_date"]).to_numpy()
    long = pd.merge_asof(
        long.sort_values("game_date"),
        r,
        left_on="game_date",
        right_on="as_of_date",
        by="player_id",
        allow_exact_matches=False,
    )
    sums = long.groupby(["game_id", "team_id"])[["orapm", "drapm", "rapm"]].sum(min_count=1).fillna(0.0)
    sums.columns = ["lineup_orapm", "lineup_drapm", "lineup_rapm"]
    out = out.merge(sums, left_on=["game_id", "team_id"], right_index=True, how="left")
    out[["lineup_orapm", "lineup_drapm", "lineup_rapm"]] = out[
        ["lineup_orapm", "lineup_drapm", "lineup_rapm"]
    ].fillna(0.0)
    # Hull of the expected five.
    area = np.full(len(out), np.nan)
    if shots is not None and len(shots):
        exp = exp.set_index(["game_id", "team_id"]).reindex(
            pd.MultiIndex.from_frame(out[["game_id", "team_id"]])
        )
        exp = exp.reset_index()
        exp["date"] = as_datetime(out["game_date"]).to_numpy()
        for season, idx in out.groupby("season").groups.items():
            sub = exp.loc[idx]
            locs = player_locations(shots, str(season), sub["date"].unique())
            area[np.asarray(idx)] = lineup_hulls(sub, locs, SLOTS)
    out["hull_area_missing"] = np.isnan(area).astype(float)
    dates = as_datetime(out["game_date"])
    known = pd.DataFrame({"d": dates, "a": area}).dropna()
    daily = known.groupby("d")["a"].agg(["sum", "count"]).sort_index().cumsum()
    running_mean = (daily["sum"] / daily["count"]).rename("m").reset_index()
    fill = pd.merge_asof(
        pd.DataFrame({"d": np.sort(dates.unique())}), running_mean, on="d", allow_exact_matches=False
    ).set_index("d")["m"]  # known areas strictly before
    imputed = dates.map(fill).to_numpy(float)
    out["hull_area"] = np.where(np.isnan(area), np.nan_to_num(imputed, nan=0.0), area)
    return out
