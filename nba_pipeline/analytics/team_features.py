"""Team features of a game as-of its date: ratings, four factors, rest and travel.

Every value for a game on day D is computed from the team's games strictly before D, so no
feature sees the game's own result or a later one. Early in a season a team has few games, so each
rate is shrunk toward a prior built from the previous season:

    prior      = league_prev + CARRY * (team_prev - league_prev)
    value_D    = (num_before_D + PRIOR_GAMES * den_per_game_prev * prior)
                 / (den_before_D + PRIOR_GAMES * den_per_game_prev)

i.e. the previous season counts as ``PRIOR_GAMES`` games of evidence regressed ``1 - CARRY`` of
the way to the league mean. A team with no previous season uses the previous league value; when
the input has no previous season at all, the rates are the plain before-D ratios and, on the very
first date (nothing at all before it), the documented neutral constants in ``FIRST_DAY_DEFAULTS``.

Offensive / defensive ratings are z-scored by season on each date: against the mean and standard
deviation of all teams' as-of ratings on that same date (so only games before D are involved).

Rest: ``rest_days`` = days between games minus one (0 on a back-to-back), capped at ``REST_CAP``
(also the value with no previous game). Travel: great-circle miles from the venue of the team's
previous game to this venue (``arenas.csv`` per team and season, ``neutral_sites.csv`` for
international games, NBA Cup games in Las Vegas and the 2020 Orlando bubble; the Clippers and
Lakers share an arena so that trip is 0). After a break longer than ``REST_CAP`` days (off-season,
All-Star break) the team is assumed to leave from its home arena.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent
PRIOR_GAMES = 10.0
CARRY = 0.6
REST_CAP = 7
EARTH_RADIUS_MILES = 3958.8
FIRST_DAY_DEFAULTS = {"efg": 0.5, "tov_pct": 0.13, "orb_pct": 0.25, "ft_rate": 0.2}

GAME_COLUMNS = [
    "game_id",
    "season",
    "game_date",
    "neutral_site",
    "home_team_id",
    "away_team_id",
    "home_pts",
    "away_pts",
    *[
        f"{s}_{side}"
        for side in ("home", "away")
        for s in ("fgm", "fga", "fg3m", "fta", "ftm", "tov", "oreb", "dreb")
    ],
    "possessions_home",
    "possessions_away",
]

# rate name -> (numerator column, denominator column) in the team-game long table
RATES: dict[str, tuple[str, str]] = {
    "ortg": ("pts", "poss"),
    "drtg": ("opp_pts", "opp_poss"),
    "efg": ("efg_num", "fga"),
    "tov_pct": ("tov", "tov_den"),
    "orb_pct": ("oreb", "orb_den"),
    "ft_rate": ("ftm", "fga"),
}


def check_columns(df: pd.DataFrame, required: list[str], what: str) -> None:
    """Fail early, naming the input and the missing columns."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing required column(s) {missing}")


def as_datetime(values: object) -> pd.Series:
    """Dates as datetime64[ns] (SQLite gives strings, parquet gives date objects or [s]/[ms])."""
    return pd.Series(pd.to_datetime(values)).astype("datetime64[ns]")


def load_arenas(path: Path | None = None) -> pd.DataFrame:
    """Arena coordinates per team and range of seasons (``arenas.csv``)."""
    df = pd.read_csv(path or DATA_DIR / "arenas.csv", dtype={"from_season": str, "to_season": str})
    check_columns(
        df, ["team_id", "abbreviation", "arena", "lat", "lon", "from_season", "to_season"], "arenas.csv"
    )
    return df


def load_neutral_sites(path: Path | None = None) -> pd.DataFrame:
    """Venues of games not played in the home team's arena (``neutral_sites.csv``)."""
    df = pd.read_csv(
        path or DATA_DIR / "neutral_sites.csv", dtype={"game_id": str, "from_date": str, "to_date": str}
    )
    check_columns(df, ["game_id", "from_date", "to_date", "venue", "lat", "lon"], "neutral_sites.csv")
    return df


def haversine_miles(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in miles (vectorized)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _home_arena(team_ids: pd.Series, seasons: pd.Series, arenas: pd.DataFrame) -> pd.DataFrame:
    """(lat, lon) of each team's home arena in each season. A season the table does not list for a
    team (a new season, a move not entered yet) carries the team's last known arena forward,
    logged and counted: a new season never needs a code change. A team the table does not know
    at all raises, naming it."""
    q = pd.DataFrame({"team_id": team_ids.to_numpy(), "season": seasons.astype(str).to_numpy()})
    m = q.reset_index().merge(arenas, on="team_id", how="left")
    in_range = (m["season"] >= m["from_season"]) & (m["season"] <= m["to_season"])
    # Else the latest arena that had opened by then (rows sorted so the last one wins).
    carried = m[~in_range & (m["from_season"] <= m["season"])].sort_values("to_season")
    found = m[in_range].drop_duplicates("index").set_index("index")
    carried = (
        carried.drop_duplicates("index", keep="last").set_index("index").drop(found.index, errors="ignore")
    )
    out = pd.concat([found, carried]).reindex(range(len(q)))
    unknown = out["lat"].isna()
    if unknown.any():
        ex = q[unknown.to_numpy()].drop_duplicates().head(5).to_dict("records")
        raise ValueError(f"arenas.csv: no arena at all for team {ex} (add the team's arena to the table)")
    if len(carried):
        gaps = q.loc[carried.index].drop_duplicates().to_dict("records")
        log.warning(
            "arenas.csv lists no arena for %d team-season(s) %s: the last known arena is carried forward",
            len(gaps),
            gaps,
        )
    return out[["lat", "lon"]].reset_index(drop=True)


def game_venues(
    games: pd.DataFrame, arenas: pd.DataFrame | None = None, neutral: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Latitude/longitude of every game's venue: the home arena unless listed in neutral_sites.csv."""
    arenas = load_arenas() if arenas is None else arenas
    neutral = load_neutral_sites() if neutral is None else neutral
    loc = _home_arena(games["home_team_id"], games["season"], arenas)
    loc.index = games.index
    dates = as_datetime(games["game_date"]).set_axis(games.index)
    by_id = neutral[neutral["game_id"] != "*"].set_index("game_id")
    hit = games["game_id"].isin(by_id.index)
    if hit.any():  # (an empty selection would assign a string-typed empty Series into floats)
        loc.loc[hit, "lat"] = games.loc[hit, "game_id"].map(by_id["lat"]).astype(float)
        loc.loc[hit, "lon"] = games.loc[hit, "game_id"].map(by_id["lon"]).astype(float)
    for r in neutral[neutral["game_id"] == "*"].itertuples():
        sel = (dates >= pd.Timestamp(r.from_date)) & (dates <= pd.Timestamp(r.to_date))
        loc.loc[sel, "lat"], loc.loc[sel, "lon"] = r.lat, r.lon
    return loc


def neutral_site_games(games: pd.DataFrame, neutral: pd.DataFrame | None = None) -> np.ndarray:
    """bool [len(games)]: the games played where neither team is at home: flagged in
    ``games.neutral_site`` or listed in neutral_sites.csv (by id, or a date range such as the
    2020 bubble, where the designated home team had no crowd and no home court)."""
    neutral = load_neutral_sites() if neutral is None else neutral
    flag = (
        games["neutral_site"].fillna(False).to_numpy(bool)
        if "neutral_site" in games
        else np.zeros(len(games), bool)
    )
    flag = (
        flag | games["game_id"].astype(str).isin(neutral.loc[neutral["game_id"] != "*", "game_id"]).to_numpy()
    )
    dates = as_datetime(games["game_date"]).to_numpy()
    for r in neutral[neutral["game_id"] == "*"].itertuples():
        flag |= (dates >= np.datetime64(r.from_date)) & (dates <= np.datetime64(r.to_date))
    return flag


def team_game_long(games: pd.DataFrame) -> pd.DataFrame:
    """One row per game and team with own and opponent box totals (the basis of every rate)."""
    check_columns(games, GAME_COLUMNS, "games")
    g = games.copy()
    g["game_date"] = as_datetime(g["game_date"]).to_numpy()
    for side in ("home", "away"):  # possessions estimate where the box score has none
        est = g[f"fga_{side}"] - g[f"oreb_{side}"] + g[f"tov_{side}"] + 0.44 * g[f"fta_{side}"]
        g[f"possessions_{side}"] = g[f"possessions_{side}"].astype(float).fillna(est)
    parts = []
    for side, opp, is_home in (("home", "away", True), ("away", "home", False)):
        d = pd.DataFrame(
            {
                "game_id": g["game_id"],
                "season": g["season"].astype(str),
                "game_date": g["game_date"],
                "team_id": g[f"{side}_team_id"].astype("int64"),
                "opp_id": g[f"{opp}_team_id"].astype("int64"),
                "is_home": is_home,
                "pts": g[f"{side}_pts"].astype(float),
                "opp_pts": g[f"{opp}_pts"].astype(float),
                "poss": g[f"possessions_{side}"],
                "opp_poss": g[f"possessions_{opp}"],
                "fga": g[f"fga_{side}"].astype(float),
                "efg_num": g[f"fgm_{side}"] + 0.5 * g[f"fg3m_{side}"],
                "tov": g[f"tov_{side}"].astype(float),
                "tov_den": g[f"fga_{side}"] + 0.44 * g[f"fta_{side}"] + g[f"tov_{side}"],
                "oreb": g[f"oreb_{side}"].astype(float),
                "orb_den": (g[f"oreb_{side}"] + g[f"dreb_{opp}"]).astype(float),
                "ftm": g[f"ftm_{side}"].astype(float),
            }
        )
        num = [
            c
            for c in d.columns
            if c not in ("game_id", "season", "game_date", "team_id", "opp_id", "is_home")
        ]
        d[num] = d[num].astype("float64")
        parts.append(d)
    out = pd.concat(parts, ignore_index=True)
    if out.duplicated(["team_id", "game_date"]).any():
        dup = out[out.duplicated(["team_id", "game_date"], keep=False)].head(4)[
            ["game_id", "team_id", "game_date"]
        ]
        raise ValueError(f"games: a team plays twice on one date: {dup.to_dict('records')}")
    return out.sort_values(["team_id", "game_date"]).reset_index(drop=True)


def _season_priors(long: pd.DataFrame) -> pd.DataFrame:
    """Per (season, team): prior rate and prior weight (denominator units) from the previous season."""
    cols = sorted({c for pair in RATES.values() for c in pair})
    tot = long.groupby(["season", "team_id"])[cols].sum()
    ngames = long.groupby(["season", "team_id"]).size()
    league = long.groupby("season")[cols].sum()
    seasons = sorted(long["season"].unique())
    rows = []
    for i, s in enumerate(seasons):
        teams = long.loc[long["season"] == s, "team_id"].unique()
        prev = seasons[i - 1] if i > 0 else None
        if prev is None or _season_start(prev) + 1 != _season_start(s):
            continue  # no previous season in the input: no prior
        for t in teams:
            row = {"season": s, "team_id": t}
            for name, (num, den) in RATES.items():
                lg = league.loc[prev, num] / league.loc[prev, den]
                if (prev, t) in tot.index:
                    tm = tot.loc[(prev, t), num] / tot.loc[(prev, t), den]
                    per_game = tot.loc[(prev, t), den] / ngames.loc[(prev, t)]
                else:
                    tm = lg
                    per_game = league.loc[prev, den] / ngames.loc[prev].sum()
                row[f"{name}_prior"] = lg + CARRY * (tm - lg)
                row[f"{name}_w"] = PRIOR_GAMES * per_game
            rows.append(row)
    cols_out = ["season", "team_id"] + [f"{n}_{k}" for n in RATES for k in ("prior", "w")]
    out = pd.DataFrame(rows, columns=cols_out)
    return out.astype({"team_id": "int64", **{c: "float64" for c in cols_out[2:]}})


def _season_start(season: str) -> int:
    return int(str(season)[:4])


def asof_team_rates(long: pd.DataFrame) -> pd.DataFrame:
    """Every team's shrunk rates on every game date of its season, from games strictly before it.

    Returns one row per (season, game_date, team_id) for all teams of the season (a cross
    section per date, used for the z-scores)."""
    cols = sorted({c for pair in RATES.values() for c in pair})
    long = long.sort_values(["team_id", "game_date"]).copy()
    cum = long.groupby(["season", "team_id"])[cols].cumsum()
    cum[["season", "team_id", "game_date"]] = long[["season", "team_id", "game_date"]]
    grids = []
    for season, sl in long.groupby("season"):
        dates = np.sort(sl["game_date"].unique())
        teams = np.sort(sl["team_id"].unique())
        grid = pd.DataFrame(
            {"game_date": np.repeat(dates, len(teams)), "team_id": np.tile(teams, len(dates))}
        ).sort_values("game_date")
        c = cum[cum["season"] == season].sort_values("game_date")
        m = pd.merge_asof(
            grid, c.drop(columns="season"), on="game_date", by="team_id", allow_exact_matches=False
        )
        m[cols] = m[cols].astype("float64").fillna(0.0)
        m["season"] = season
        grids.append(m)
    grid = pd.concat(grids, ignore_index=True)
    grid = grid.merge(_season_priors(long), on=["season", "team_id"], how="left")
    for name, (num, den) in RATES.items():
        w = grid[f"{name}_w"].fillna(0.0)
        prior = grid[f"{name}_prior"].fillna(0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            grid[name] = (grid[num] + w * prior) / (grid[den] + w)
        # No prior and no game yet: the league value of games before D (other teams' games).
        lg = grid.groupby(["season", "game_date"])[[num, den]].transform("sum")
        with np.errstate(invalid="ignore", divide="ignore"):
            grid[name] = grid[name].fillna(lg[num] / lg[den])
    for name in ("ortg", "drtg"):
        grid[name] = grid[name] * 100.0
        stats = grid.groupby(["season", "game_date"])[name].agg(["mean", "std"])
        m = grid[["season", "game_date"]].merge(
            stats, left_on=["season", "game_date"], right_index=True, how="left"
        )
        std = m["std"].where(m["std"] > 1e-9)
        grid[f"{name}_z"] = ((grid[name] - m["mean"].to_numpy()) / std.to_numpy()).fillna(0.0)
    first = grid[list(FIRST_DAY_DEFAULTS)].isna().any(axis=1)
    if first.any():
        log.warning(
            "team features: %d team-dates have no game and no prior before them (first date of the input); "
            "using FIRST_DAY_DEFAULTS",
            int(first.sum()),
        )
        grid = grid.fillna(FIRST_DAY_DEFAULTS)
    return grid[["season", "game_date", "team_id", *RATES, "ortg_z", "drtg_z"]]


def rest_and_travel(long: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    """rest_days, back_to_back and travel_miles per (game_id, team_id), from the previous game."""
    venues = game_venues(games)
    vg = pd.DataFrame(
        {
            "game_id": games["game_id"].to_numpy(),
            "lat": venues["lat"].to_numpy(),
            "lon": venues["lon"].to_numpy(),
        }
    )
    d = long[["game_id", "team_id", "season", "game_date"]].merge(vg, on="game_id", how="left")
    d = d.sort_values(["team_id", "game_date"]).reset_index(drop=True)
    home = _home_arena(d["team_id"], d["season"], load_arenas())
    prev_date = d.groupby("team_id")["game_date"].shift(1)
    gap = (d["game_date"] - prev_date).dt.days
    d["rest_days"] = (gap - 1).clip(lower=0, upper=REST_CAP).fillna(REST_CAP).astype(float)
    d["back_to_back"] = (gap == 1).astype(float)
    plat = d.groupby("team_id")["lat"].shift(1)
    plon = d.groupby("team_id")["lon"].shift(1)
    long_break = gap.isna() | (gap > REST_CAP)
    plat = plat.where(~long_break, home["lat"])
    plon = plon.where(~long_break, home["lon"])
    d["travel_miles"] = haversine_miles(
        plat.to_numpy(float), plon.to_numpy(float), d["lat"].to_numpy(), d["lon"].to_numpy()
    )
    return d[["game_id", "team_id", "rest_days", "back_to_back", "travel_miles"]]


def build_team_game_features(games: pd.DataFrame) -> pd.DataFrame:
    """Team features (without the lineup columns) for every game and team in ``games``.

    ``games`` should hold the previous season too: it is the prior of the early-season values.
    """
    long = team_game_long(games)
    rates = asof_team_rates(long)
    out = long[["game_id", "team_id", "is_home", "game_date", "season"]].merge(
        rates, on=["season", "game_date", "team_id"], how="left"
    )
    out = out.merge(rest_and_travel(long, games), on=["game_id", "team_id"], how="left")
    neutral = pd.Series(neutral_site_games(games), index=games["game_id"].to_numpy())
    out["neutral_site"] = out["game_id"].map(neutral).fillna(False).astype(float)
    cols = [
        "game_id",
        "team_id",
        "is_home",
        "game_date",
        "season",
        "ortg_z",
        "drtg_z",
        "ortg",
        "drtg",
        "efg",
        "tov_pct",
        "orb_pct",
        "ft_rate",
        "rest_days",
        "back_to_back",
        "travel_miles",
        "neutral_site",
    ]
    return (
        out[cols]
        .sort_values(["game_date", "game_id", "is_home"], ascending=[True, True, False])
        .reset_index(drop=True)
    )
