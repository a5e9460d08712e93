"""ContextFeatureBuilder: the static context vector of a game (Tower A input).

Built from ``team_game_features`` (one row per game and team, computed from games strictly before
the game date, so the vector is as-of the date by construction) and, where the game has one, the
betting market's pregame line (``betting_lines``). Order (``FEATURE_NAMES``):

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
32-36  strength of the players available (``analytics.team_strength``): home_avail_rating,
       away_avail_rating (expected minutes x rating over the rotation less who is out, the RAPM
       sum of five on court), home_out_share, away_out_share (share of the rotation's minutes
       out), avail_rating_diff
37     neutral_site: 1 where neither team is at home (no home edge: ``models.fusion``)
38-42  the market's line: market_logit (logit of the no-vig home win probability),
       market_margin (expected home margin / 10), market_total (over/under above 220, / 20),
       has_line (1 where the game has a line, else 0 and the three values are 0), has_total
       (1 where the line has a total: the live odds feed gives none, and a missing total is
       missing, not 220)
====== ===================================================================================

Dims 0-31 are the specification's 32 features, unchanged (``SPEC_CONTEXT_DIM``); the strength of
the available players and the neutral-site flag follow (``TOWER_CONTEXT_DIM``: what the towers
read, ``models.config``), then the line (``LINE_DIMS``). A model of another layout is refused by
the input format (``models.batch.INPUT_FORMAT``, ``features.season_arrays.FORMAT_VERSION``).
Why the line: the market prices injuries, rest decisions and news that no box-score feature sees;
before tip-off it is the best single forecast there is, better than a logistic regression on dims
0-31 in every test season (docs/results.md). ``has_line`` lets the model forecast without one (a
season or a game without an odds file, tomorrow's games): the towers read dims 0-37 only, and
where a game has a line it takes their place (``models.market_line``).

Scaling (so every input is O(1)): rest days are clipped to [0, ``REST_CAP_DAYS``] (a long break
is a long break), travel miles are divided by 1000, hull areas (sq ft) by 1000; the rest are used
as stored (z-scores, rates, RAPM sums).

Missing values (no ``team_game_features`` row for a side, or a NaN value) take ``DEFAULTS``
(league-typical values: 0 for z-scores and RAPM, average four factors, 1 day rest, no travel, an
average hull) and are counted per feature in ``ContextResult.missing``; the output never holds
NaN. A hull flagged ``hull_area_missing`` keeps the value the table imputed (the mean of the known
hulls before the game, ``analytics.lineup_features``) and is counted as missing; it takes the
default only where the table had nothing to impute from (0). Seasons without a shots file flag
about 30% of team-games (2018-19, 2021-22), so the default has to be a typical hull, about 10 sq ft
(the default before, 500 sq ft, was 50 times the mean: docs/experiments.md).

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
STRENGTH = ("avail_rating", "out_share")
SOURCE_COLUMNS = (
    *RATINGS,
    *FOUR_FACTORS,
    "rest_days",
    "back_to_back",
    "travel_miles",
    *LINEUP,
    "hull_area",
    "hull_area_missing",
    *STRENGTH,
    "neutral_site",
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
    "hull_area": 10.0,  # sq ft: the mean known hull is 9.3-12.4 in each shipped season
    "avail_rating": 0.0,
    "out_share": 0.0,
    "neutral_site": 0.0,
}


# The line's scale: points of margin per unit, the over/under's centre and points per unit.
LINE_MARGIN_SCALE = 10.0
LINE_TOTAL_CENTER = 220.0
LINE_TOTAL_SCALE = 20.0
LINE_FEATURES = ("market_logit", "market_margin", "market_total", "has_line", "has_total")
LINE_COLUMNS = ("game_id", "market_p_home", "market_margin", "market_total")  # of betting_lines
# Exchanging the teams negates these (a home favourite becomes an away favourite).
_ANTISYMMETRIC = {"market_logit", "market_margin"}


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
    n += [f"{s}_{f}" for f in STRENGTH for s in ("home", "away")] + ["avail_rating_diff", "neutral_site"]
    return n + list(LINE_FEATURES)


FEATURE_NAMES: list[str] = _names()
CONTEXT_DIM = len(FEATURE_NAMES)
SPEC_CONTEXT_DIM = 32  # the specification's features, dims 0-31
TOWER_CONTEXT_DIM = SPEC_CONTEXT_DIM + 2 * len(STRENGTH) + 2  # what the towers read (models.config)
NEUTRAL_DIM = FEATURE_NAMES.index("neutral_site")
LINE_DIMS = slice(TOWER_CONTEXT_DIM, CONTEXT_DIM)
assert TOWER_CONTEXT_DIM + len(LINE_FEATURES) == CONTEXT_DIM


def _swap() -> tuple[np.ndarray, np.ndarray]:
    idx = {n: i for i, n in enumerate(FEATURE_NAMES)}
    perm = np.arange(CONTEXT_DIM)
    sign = np.ones(CONTEXT_DIM, dtype=np.float32)
    for n, i in idx.items():
        if n.startswith("home_"):
            j = idx["away_" + n[5:]]
            perm[i], perm[j] = j, i
        elif n.endswith("_diff") or n in _ANTISYMMETRIC:
            sign[i] = -1.0
    return perm, sign


CONTEXT_SWAP_PERM, CONTEXT_SWAP_SIGN = _swap()


def without_lines(context: np.ndarray) -> np.ndarray:
    """A copy of context vectors [..., CONTEXT_DIM] as for games without a line (the line dims 0):
    how the model forecasts a game no line is known for."""
    out = np.array(context, copy=True)
    out[..., LINE_DIMS] = 0.0
    return out


@dataclass
class ContextResult:
    values: np.ndarray  # float32 [G, CONTEXT_DIM]
    missing: dict[str, int] = field(default_factory=dict)  # source feature (home_x / away_x) -> count
    games_without_rows: int = 0  # games lacking the home or the away team_game_features row
    games_with_line: int = 0  # games whose has_line is 1


def line_features(game_ids: pd.Index, lines: pd.DataFrame | None) -> tuple[np.ndarray, dict[str, int]]:
    """The line dims [G, 5] of ``game_ids`` from ``betting_lines`` rows (module docstring),
    and counts of what was missing: a game needs a probability in (0, 1) and a margin to have a
    line; a line without a usable total keeps the rest and counts ``market_total``."""
    out = np.zeros((len(game_ids), len(LINE_FEATURES)), dtype=np.float64)
    if lines is None or lines.empty:
        return out, {}
    check_columns(lines, list(LINE_COLUMNS), "betting_lines")
    dup = lines["game_id"].astype(str).duplicated()
    if dup.any():
        raise ValueError(f"betting_lines: more than one line for game {lines.loc[dup, 'game_id'].iloc[0]!r}")
    rows = lines.set_index(lines["game_id"].astype(str)).reindex(game_ids)
    p = rows["market_p_home"].astype("float64").to_numpy()
    margin = rows["market_margin"].astype("float64").to_numpy()
    total = rows["market_total"].astype("float64").to_numpy()
    listed = game_ids.isin(lines["game_id"].astype(str))
    has = np.isfinite(p) & (p > 0.0) & (p < 1.0) & np.isfinite(margin)
    total_ok = has & np.isfinite(total)
    safe_p = np.where(has, p, 0.5)
    out[:, 0] = np.where(has, np.log(safe_p / (1.0 - safe_p)), 0.0)
    out[:, 1] = np.where(has, margin / LINE_MARGIN_SCALE, 0.0)
    out[:, 2] = np.where(total_ok, (total - LINE_TOTAL_CENTER) / LINE_TOTAL_SCALE, 0.0)
    out[:, 3] = has
    out[:, 4] = total_ok
    missing = {"market_line": int((listed & ~has).sum()), "market_total": int((has & ~total_ok).sum())}
    return out, {k: v for k, v in missing.items() if v}


class ContextFeatureBuilder:
    """Context vectors for many games at once (module docstring)."""

    dim = CONTEXT_DIM

    def __init__(self, defaults: dict[str, float] | None = None) -> None:
        self.defaults = {**DEFAULTS, **(defaults or {})}

    def build(
        self,
        game_ids: pd.Series | np.ndarray | list[str],
        team_game_features: pd.DataFrame,
        lines: pd.DataFrame | None = None,
    ) -> ContextResult:
        """One row per game id, in the given order, from the home and away rows of the game and its
        ``betting_lines`` row (none: every game without a line)."""
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
                bad = counted = np.isnan(v)
                if col == "hull_area":  # the table's imputed mean stays, counted as missing
                    bad = bad | (hull_flag & (v <= 0.0))
                    counted = bad | hull_flag
                if counted.any():
                    missing[f"{side}_{col}"] = int(counted.sum())
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
        cols += [h["avail_rating"], a["avail_rating"], h["out_share"], a["out_share"]]
        cols += [h["avail_rating"] - a["avail_rating"], np.maximum(h["neutral_site"], a["neutral_site"])]
        line, line_missing = line_features(gids, lines)
        missing.update(line_missing)
        cols += list(line.T)
        values = np.column_stack(cols).astype(np.float32).reshape(len(gids), CONTEXT_DIM)
        if not np.isfinite(values).all():
            bad = int(np.argwhere(~np.isfinite(values))[0][1])
            raise ValueError(
                f"context feature {FEATURE_NAMES[bad]!r} is not finite (inf in team_game_features?)"
            )
        return ContextResult(
            values=values,
            missing=missing,
            games_without_rows=int(no_row.sum()),
            games_with_line=int(line[:, 3].sum()),
        )
