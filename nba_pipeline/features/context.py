"""ContextFeatureBuilder: the 32-dim static context vector of a game (Tower A input).

Built from ``team_game_features`` (one row per game and team, computed from games strictly before
the game date, so the vector is as-of the date by construction). Order (``FEATURE_NAMES``):

====== ===================================================================================
dims   features
====== ===================================================================================
0-3    ratings: home_ortg_z, home_drtg_z, away_ortg_z, away_drtg_z
4-11   four factors: home_efg, home_tov_pct, home_orb_pct, home_ft_rate, then the same for away
12-17  rest / travel: home_rest_days, away_rest_days, home_back_to_back, away_back_to_back,
       home_travel_kmiles, away_travel_kmiles
18-23  lineup RAPM of the expected starting five: home_lineup_orapm, home_lineup_drapm,
       home_lineup_rapm, then the same for away
24-25  spacing: home_hull_kft2, away_hull_kft2
26-31  differentials (home minus away): net_rating_diff ((ortg_z - drtg_z) home minus away),
       efg_diff, lineup_rapm_diff, lineup_orapm_diff, lineup_drapm_diff, rest_diff
====== ===================================================================================

Scaling (so every input is O(1)): rest days are clipped to [0, ``REST_CAP_DAYS``] (a long break
is a long break), travel miles are divided by 1000, hull areas (sq ft) by 1000; the rest are used
as stored (z-scores, rates, RAPM sums).

Missing values (no ``team_game_features`` row for a side, a NaN value, or ``hull_area_missing``)
take ``DEFAULTS`` (league-typical values: 0 for z-scores and RAPM, average four factors, 1 day
rest, no travel, an average hull) and are counted per feature in ``ContextResult.missing``;
the output never holds NaN.

``CONTEXT_SWAP_PERM`` / ``CONTEXT_SWAP_SIGN``: exchanging home and away maps every home feature to
its away twin and negates the differentials (``swapped = context[..., PERM] * SIGN``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nba_pipeline.features.tokenizer import check_columns

REST_CAP_DAYS = 7.0
RATINGS = ("ortg_z", "drtg_z")
FOUR_FACTORS = ("efg", "tov_pct", "orb_pct", "ft_rate")
LINEUP = ("lineup_orapm", "lineup_drapm", "lineup_rapm")
SOURCE_COLUMNS = (
    *RATINGS,
    *FOUR_FACTORS,
    "rest_days",
    "back_to_back",
    "travel_miles",
    *LINEUP,
    "hull_area",
    "hull_area_missing",
)

# Defaults for a missing source value (in the stored units, before scaling).
DEFAULTS: dict[str, float] = {
    "ortg_z": 0.0,
    "drtg_z": 0.0,
    "efg": 0.53,
    "tov_pct": 0.13,
    "orb_pct": 0.25,
    "ft_rate": 0.20,
    "rest_days": 1.0,
    "back_to_back": 0.0,
    "travel_miles": 0.0,
    "lineup_orapm": 0.0,
    "lineup_drapm": 0.0,
    "lineup_rapm": 0.0,
    "hull_area": 500.0,
}


def _names() -> list[str]:
    n = [f"{s}_{r}" for s in ("home", "away") for r in RATINGS]
    n += [f"{s}_{f}" for s in ("home", "away") for f in FOUR_FACTORS]
    n += ["home_rest_days", "away_rest_days", "home_back_to_back", "away_back_to_back"]
    n += ["home_travel_kmiles", "away_travel_kmiles"]
    n += [f"{s}_{f}" for s in ("home", "away") for f in LINEUP]
    n += ["home_hull_kft2", "away_hull_kft2"]
    n += [
        "net_rating_diff",
        "efg_diff",
        "lineup_rapm_diff",
        "lineup_orapm_diff",
        "lineup_drapm_diff",
        "rest_diff",
    ]
    return n


FEATURE_NAMES: list[str] = _names()
CONTEXT_DIM = len(FEATURE_NAMES)
assert CONTEXT_DIM == 32


def _swap() -> tuple[np.ndarray, np.ndarray]:
    idx = {n: i for i, n in enumerate(FEATURE_NAMES)}
    perm = np.arange(CONTEXT_DIM)
    sign = np.ones(CONTEXT_DIM, dtype=np.float32)
    for n, i in idx.items():
        if n.startswith("home_"):
            j = idx["away_" + n[5:]]
            perm[i], perm[j] = j, i
        elif n.endswith("_diff"):
            sign[i] = -1.0
    return perm, sign


CONTEXT_SWAP_PERM, CONTEXT_SWAP_SIGN = _swap()


@dataclass
class ContextResult:
    values: np.ndarray  # float32 [G, 32]
    missing: dict[str, int] = field(default_factory=dict)  # source feature (home_x / away_x) -> count
    games_without_rows: int = 0  # games lacking the home or the away team_game_features row


class ContextFeatureBuilder:
    """Context vectors for many games at once (module docstring)."""

    dim = CONTEXT_DIM

    def __init__(self, defaults: dict[str, float] | None = None) -> None:
        self.defaults = {**DEFAULTS, **(defaults or {})}

    def build(
        self, game_ids: pd.Series | np.ndarray | list[str], team_game_features: pd.DataFrame
    ) -> ContextResult:
        """One row per game id, in the given order, from the home and away rows of the game."""
        check_columns(team_game_features, ["game_id", "is_home", *SOURCE_COLUMNS], "team_game_features")
        tgf = team_game_features
        dup = tgf.duplicated(["game_id", "is_home"])
        if dup.any():
            bad = tgf.loc[dup, "game_id"].iloc[0]
            raise ValueError(f"team_game_features: more than one home or away row for game {bad!r}")
        gids = pd.Index(pd.Series(np.asarray(game_ids, dtype=object)).astype(str))
        missing: dict[str, int] = {}
        side_vals: dict[str, dict[str, np.ndarray]] = {}
        no_row = np.zeros(len(gids), dtype=bool)
        home_flag = tgf["is_home"].astype(bool).to_numpy()
        for side, flag in (("home", True), ("away", False)):
            part = tgf[home_flag == flag]
            keys = part["game_id"].astype(str)
            rows = part.set_index(keys).reindex(gids)
            no_row |= ~gids.isin(keys).astype(bool)
            vals: dict[str, np.ndarray] = {}
            hull_flag = rows["hull_area_missing"].astype("float64").fillna(1.0).to_numpy() > 0.5
            for col in SOURCE_COLUMNS:
                if col == "hull_area_missing":
                    continue
                v = rows[col].astype("float64").to_numpy()
                bad = np.isnan(v) | (hull_flag if col == "hull_area" else False)
                if bad.any():
                    missing[f"{side}_{col}"] = int(bad.sum())
                vals[col] = np.where(bad, self.defaults[col], v)
            side_vals[side] = vals
        h, a = side_vals["home"], side_vals["away"]

        def rest(d: np.ndarray) -> np.ndarray:
            return np.clip(d, 0.0, REST_CAP_DAYS)

        cols = [h["ortg_z"], h["drtg_z"], a["ortg_z"], a["drtg_z"]]
        cols += [h[f] for f in FOUR_FACTORS] + [a[f] for f in FOUR_FACTORS]
        cols += [rest(h["rest_days"]), rest(a["rest_days"]), h["back_to_back"], a["back_to_back"]]
        cols += [h["travel_miles"] / 1000.0, a["travel_miles"] / 1000.0]
        cols += [h[f] for f in LINEUP] + [a[f] for f in LINEUP]
        cols += [h["hull_area"] / 1000.0, a["hull_area"] / 1000.0]
        cols += [
            (h["ortg_z"] - h["drtg_z"]) - (a["ortg_z"] - a["drtg_z"]),
            h["efg"] - a["efg"],
            h["lineup_rapm"] - a["lineup_rapm"],
            h["lineup_orapm"] - a["lineup_orapm"],
            h["lineup_drapm"] - a["lineup_drapm"],
            rest(h["rest_days"]) - rest(a["rest_days"]),
        ]
        values = np.column_stack(cols).astype(np.float32).reshape(len(gids), CONTEXT_DIM)
        if not np.isfinite(values).all():
            bad = int(np.argwhere(~np.isfinite(values))[0][1])
            raise ValueError(
                f"context feature {FEATURE_NAMES[bad]!r} is not finite (inf in team_game_features?)"
            )
        return ContextResult(values=values, missing=missing, games_without_rows=int(no_row.sum()))
