"""Per-season normalization statistics (long format: season, stat, mean, std, n).

Later stages standardize with them (regression targets, the in-game score differential, node and
context features). They describe a whole season, so they are computed after it: a model must
take them from its training seasons only (models/dataset.py pools the training seasons).

Statistics: ``margin`` and ``total`` (final, home minus away and sum), ``score_diff`` (home minus
away after every play-by-play event), ``pace`` (possessions per team per 48 minutes), ``ortg`` /
``drtg`` (points scored / allowed per 100 possessions per team-game), every player feature
(over all snapshot rows of players with history) and every team-game feature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nba_pipeline.analytics.schema import NODE_FEATURES, TEAM_GAME_FEATURES
from nba_pipeline.analytics.team_features import check_columns, team_game_long


def _row(season: str, stat: str, values: np.ndarray) -> dict:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        raise ValueError(f"season_stats {season}: no finite value for {stat!r}")
    return {
        "season": season,
        "stat": stat,
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
        "n": int(len(v)),
    }


def build_season_stats(
    games: pd.DataFrame,
    plays: pd.DataFrame,
    player_features: pd.DataFrame | None,
    team_game_features: pd.DataFrame | None,
    season: str,
) -> pd.DataFrame:
    """``season_stats`` rows of one season (``games``/``plays`` of that season)."""
    check_columns(plays, ["home_score", "away_score"], "plays")
    g = games[games["season"].astype(str) == season]
    if g.empty:
        raise ValueError(f"season_stats {season}: no games")
    rows = [
        _row(season, "margin", (g["home_pts"] - g["away_pts"]).to_numpy()),
        _row(season, "total", (g["home_pts"] + g["away_pts"]).to_numpy()),
        _row(season, "score_diff", (plays["home_score"] - plays["away_score"]).to_numpy()),
    ]
    long = team_game_long(g)
    minutes = pd.to_numeric(g.set_index("game_id")["minutes"], errors="coerce") if "minutes" in g else None
    poss = long["poss"].to_numpy(float)
    if minutes is not None and minutes.notna().all():
        m = long["game_id"].map(minutes).to_numpy(float)
        scale = np.where(m > 100, 240.0 / m, 48.0 / m)  # team minutes (240) or game minutes (48)
        rows.append(_row(season, "pace", poss * scale))
    else:
        rows.append(_row(season, "pace", poss))
    rows.append(_row(season, "ortg", 100.0 * long["pts"].to_numpy() / poss))
    rows.append(_row(season, "drtg", 100.0 * long["opp_pts"].to_numpy() / long["opp_poss"].to_numpy(float)))
    if player_features is not None and len(player_features):
        pf = player_features[player_features["has_history"].astype(bool)]
        rows += [_row(season, c, pf[c].to_numpy()) for c in NODE_FEATURES]
    if team_game_features is not None and len(team_game_features):
        rows += [_row(season, c, team_game_features[c].to_numpy()) for c in TEAM_GAME_FEATURES]
    return pd.DataFrame(rows)
