"""Team strength from the players available for a game: expected minutes times rating over the
team's rotation less the players who are out (``analytics.availability``), so the bench, an injured
star and a traded player count, not only the five expected starters.

Player rating as of day D (points per 100 possessions, the RAPM scale): the player's latest
``player_features`` snapshot strictly before D gives his RAPM (carried across seasons: each
season's ridge is shrunk toward the previous season's final ratings, and the ratings belong to the
player, not to a team, so a traded player takes his with him) and his box-score rates. The RAPM is
shrunk toward a box-score prior by the minutes behind it:

    rating = (M * rapm + SHRINK_MINUTES * prior) / (M + SHRINK_MINUTES)

where M is his minutes in the snapshot's window (this season, the previous one at half weight) and
``prior`` a weighted least-squares fit of RAPM on the box-score rates (:data:`PRIOR_FEATURES`) of
every player at the end of each of the :data:`PRIOR_SEASONS` seasons before D's season (complete
seasons only, so nothing of D's season or later feeds it; no earlier season: prior 0).

Team strength of a team for a game: its rotation as of the game date (players of this season's
games strictly before D, with expected minutes), less the players out. The available players'
expected minutes are scaled down to the game's 240 when they exceed it; minutes short of 240 go to
a replacement player (:data:`REPLACEMENT_RATING`). ``avail_rating`` = sum of minutes / 48 x rating:
the expected RAPM sum of the five on court. ``out_share``: the share of the rotation's expected
minutes that is out. A team with no rotation yet (before its first game of the season) takes
``lineup_rapm`` (its expected starting five, from the previous season) and ``out_share`` 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nba_pipeline.analytics.player_features import lookup_player_features
from nba_pipeline.analytics.schema import NODE_FEATURES
from nba_pipeline.analytics.team_features import check_columns

SHRINK_MINUTES = 500.0
PRIOR_SEASONS = 3
PRIOR_MIN_MINUTES = 100.0  # players in the prior's fit
PRIOR_RIDGE = 1e3  # a little ridge on the standardized rates (minutes-weighted scale)
REPLACEMENT_RATING = -0.5
TEAM_MINUTES = 240.0
# the prior's inputs: every player feature the towers read but the RAPM it is a prior for
PRIOR_FEATURES = tuple(f for f in NODE_FEATURES if f not in ("orapm", "drapm", "rapm"))
STRENGTH_COLUMNS = ("avail_rating", "out_share")


def _window_minutes(rows: pd.DataFrame) -> np.ndarray:
    return (rows["minutes_per_game"].to_numpy(float) * rows["games_played"].to_numpy(float)).clip(min=0.0)


def box_prior(player_features: pd.DataFrame, season: str) -> np.ndarray | None:
    """Coefficients (intercept first, then :data:`PRIOR_FEATURES`) of RAPM on the box-score rates
    at the end of each of the :data:`PRIOR_SEASONS` seasons before ``season`` in
    ``player_features`` (its last snapshot of each), weighted by minutes; None when there is none."""
    check_columns(
        player_features, ["season", "as_of_date", "games_played", "rapm", *PRIOR_FEATURES], "player_features"
    )
    earlier = sorted(s for s in player_features["season"].astype(str).unique() if s < season)[-PRIOR_SEASONS:]
    pf = player_features[player_features["season"].astype(str).isin(earlier)]
    if pf.empty:
        return None
    last = pf.groupby("season")["as_of_date"].transform("max")
    end = pf[pf["as_of_date"] == last]
    w = _window_minutes(end)
    end, w = end[w >= PRIOR_MIN_MINUTES], w[w >= PRIOR_MIN_MINUTES]
    if len(end) < 2 * len(PRIOR_FEATURES):
        return None
    x = np.column_stack([np.ones(len(end)), end[list(PRIOR_FEATURES)].to_numpy(float)])
    y = end["rapm"].to_numpy(float)
    xtw = x.T * w
    penalty = PRIOR_RIDGE * np.eye(x.shape[1])
    penalty[0, 0] = 0.0
    return np.linalg.solve(xtw @ x + penalty, xtw @ y)


def player_ratings(
    requests: pd.DataFrame, player_features: pd.DataFrame, prior: np.ndarray | None
) -> np.ndarray:
    """float64 [n]: each request's (``player_id``, ``game_date``) rating as of the date (module
    docstring); a player in no earlier snapshot gets the prior of the default rates."""
    f = lookup_player_features(player_features, requests[["player_id", "game_date"]], extra=("games_played",))
    rapm = f["rapm"].to_numpy(float)
    if prior is None:
        base = np.zeros(len(f))
    else:
        base = prior[0] + f[list(PRIOR_FEATURES)].to_numpy(float) @ prior[1:]
    m = np.nan_to_num(_window_minutes(f.fillna({"games_played": 0})))
    return (m * rapm + SHRINK_MINUTES * base) / (m + SHRINK_MINUTES)


def team_strength(rotations: pd.DataFrame, ratings: np.ndarray) -> pd.DataFrame:
    """Per (game_id, team_id) of ``rotations`` (``analytics.availability`` rows: expected_minutes
    and ``out`` per rotation player) with ``ratings`` (one per row): :data:`STRENGTH_COLUMNS`."""
    check_columns(rotations, ["game_id", "team_id", "expected_minutes", "out"], "rotations")
    r = rotations[["game_id", "team_id"]].copy()
    minutes = rotations["expected_minutes"].to_numpy(float)
    avail = ~rotations["out"].to_numpy(bool)
    r["m_all"] = minutes
    r["m_avail"] = np.where(avail, minutes, 0.0)
    r["mr_avail"] = np.where(avail, minutes * ratings, 0.0)
    g = r.groupby(["game_id", "team_id"], sort=False)[["m_all", "m_avail", "mr_avail"]].sum()
    scale = np.minimum(1.0, TEAM_MINUTES / g["m_avail"].clip(lower=1e-9))
    spare = (TEAM_MINUTES - g["m_avail"] * scale).clip(lower=0.0)
    out = pd.DataFrame(index=g.index)
    out["avail_rating"] = (g["mr_avail"] * scale + spare * REPLACEMENT_RATING) / 48.0
    out["out_share"] = 1.0 - g["m_avail"] / g["m_all"].clip(lower=1e-9)
    return out.reset_index()


def add_strength_features(
    team_feats: pd.DataFrame, rotations: pd.DataFrame, player_features: pd.DataFrame
) -> pd.DataFrame:
    """``team_feats`` (with ``lineup_rapm``, from ``add_lineup_features``) with
    :data:`STRENGTH_COLUMNS` from ``rotations`` (this season's rotations and who is out of each
    game) and ``player_features`` (this season's snapshots and those of the earlier seasons the
    prior is fitted on). A team-game without a rotation takes ``lineup_rapm`` and ``out_share`` 0."""
    check_columns(team_feats, ["game_id", "team_id", "season", "lineup_rapm"], "team_game_features")
    check_columns(rotations, ["season", "game_id", "game_date", "team_id", "player_id"], "rotations")
    parts = []
    for season, rot in rotations.groupby(rotations["season"].astype(str)):
        prior = box_prior(player_features, str(season))
        ratings = player_ratings(rot[["player_id", "game_date"]], player_features, prior)
        parts.append(team_strength(rot, ratings))
    cols = ["game_id", "team_id", *STRENGTH_COLUMNS]
    strength = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    strength["game_id"] = strength["game_id"].astype(str)
    strength["team_id"] = strength["team_id"].astype("int64")
    out = team_feats.drop(columns=[c for c in STRENGTH_COLUMNS if c in team_feats]).merge(
        strength[cols], on=["game_id", "team_id"], how="left"
    )
    none = out["avail_rating"].isna()
    out["avail_rating"] = np.where(none, out["lineup_rapm"], out["avail_rating"])
    out["out_share"] = out["out_share"].fillna(0.0)
    return out
