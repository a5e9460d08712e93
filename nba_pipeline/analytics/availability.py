"""Who is in a team's rotation as of a date, with expected minutes, and who of it missed a game.

Rotation of team T as of day D: the players with at least ``ROTATION_MINUTES`` minutes per game
played over T's last ``ROTATION_GAMES`` games of the same season strictly before D, having played
at least ``MIN_APPEARANCES`` of them (or all of them when T has played fewer). A player's
``expected_minutes`` is his mean minutes over the window games he played: what he plays when he
is available. Only games before D feed it, so a rotation as of D knows nothing of D's games.

Trades and returns: a player belongs to the rotation of the team of his latest game before D, or
of the team a game's roster puts him on (``joined``: in a backtest, he played the game; at
forecast time, an import lists him for the team). A player who moved to T, or whom ``joined`` puts
on T, but who has too few of T's window games, joins T's rotation with his *own* minutes: his mean
over his last ``ROTATION_GAMES`` games of the season on any team (at least ``MIN_APPEARANCES`` of
them, ``ROTATION_MINUTES`` a game). So a traded player's minutes, and with them his rating, move
with him on the day he is known to be on the new team, and a player back from a long absence counts
on the day he plays. He leaves his old team's rotation once his latest game is for another team.

The season's first games: the rotation is built from this season's games only (offseason moves
make the previous season's roster a poor guide), so it is empty before a team's first game.

Unavailable (history): a rotation player with no ``player_game_stats`` row of his team in game G
did not play G. In a backtest this stands in for the injury report a morning forecast reads; it
also counts a healthy player the coach kept on the bench all game (the data cannot tell the two
apart).

Minutes: ``player_game_stats.seconds``; where it is NULL (seasons without a lineups file) the
seconds come from the stints (:func:`with_stint_seconds`). A row still without seconds counts as
a game played but not in the mean minutes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

from nba_pipeline.analytics.player_features import on_court_from_stints
from nba_pipeline.analytics.team_features import as_datetime, check_columns

ROTATION_GAMES = 10
ROTATION_MINUTES = 12.0
MIN_APPEARANCES = 2
APPEARANCE_COLUMNS = ["game_id", "season", "game_date", "team_id", "player_id", "seconds"]
ROTATION_COLUMNS = [
    "season",
    "team_id",
    "player_id",
    "expected_minutes",
    "games_played",
    "window_games",
    "missed_last",
]


def _empty() -> pd.DataFrame:
    """No rotation (no game before the date): the columns with their types."""
    types = {"season": object, "team_id": "int64", "player_id": "int64", "expected_minutes": "float64"}
    types |= {"games_played": "int64", "window_games": "int64", "missed_last": bool}
    return pd.DataFrame({"_t": pd.Series(dtype="int64")} | {c: pd.Series(dtype=t) for c, t in types.items()})


def with_stint_seconds(appearances: pd.DataFrame, stints: pd.DataFrame) -> pd.DataFrame:
    """``appearances`` with NULL ``seconds`` taken from the players' on-court time in ``stints``
    (the older seasons' ``player_game_stats`` has no seconds; their stints are rebuilt)."""
    check_columns(appearances, APPEARANCE_COLUMNS, "player_game_stats")
    out = appearances.copy()
    missing = out["seconds"].isna().to_numpy()
    if not missing.any() or stints.empty:
        return out
    oc = on_court_from_stints(stints).set_index(["game_id", "player_id"])["seconds"]
    keys = pd.MultiIndex.from_arrays([out["game_id"].astype(str), out["player_id"].astype("int64")])
    oc.index = oc.index.set_levels(oc.index.levels[0].astype(str), level=0)
    from_stints = oc.reindex(keys).to_numpy(dtype="float64")
    out["seconds"] = np.where(missing, from_stints, out["seconds"].to_numpy(dtype="float64"))
    return out


def _prepared(appearances: pd.DataFrame) -> pd.DataFrame:
    check_columns(appearances, APPEARANCE_COLUMNS, "player_game_stats")
    a = appearances[APPEARANCE_COLUMNS].copy()
    a["game_id"] = a["game_id"].astype(str)
    a["season"] = a["season"].astype(str)
    a["game_date"] = as_datetime(a["game_date"]).to_numpy()
    a["team_id"] = a["team_id"].astype("int64")
    a["player_id"] = a["player_id"].astype("int64")
    a["seconds"] = pd.to_numeric(a["seconds"], errors="coerce").astype("float64")
    return a


def _own_windows(a: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """For each ``pairs`` row (season, player_id, game_date): the player's own last
    ``ROTATION_GAMES`` games of the season strictly before the date, on any team: ``own_games``,
    ``own_minutes`` (mean over the games with known seconds), ``latest_team`` (the team of the
    latest) and ``moved`` (a game among them for another team than the latest). NaN/False where
    he has no game before the date."""
    s = a.sort_values(["season", "player_id", "game_date", "game_id"]).reset_index(drop=True)
    n = len(s)
    idx = np.arange(n)
    season, player, team = (s[c].to_numpy() for c in ("season", "player_id", "team_id"))
    new_group = np.ones(n, bool)
    new_group[1:] = (season[1:] != season[:-1]) | (player[1:] != player[:-1])
    new_run = new_group.copy()
    new_run[1:] |= team[1:] != team[:-1]
    group_start = np.maximum.accumulate(np.where(new_group, idx, 0))
    run_start = np.maximum.accumulate(np.where(new_run, idx, 0))
    sec = s["seconds"].to_numpy(float)
    cs_sec = np.concatenate([[0.0], np.cumsum(np.nan_to_num(sec))])
    cs_known = np.concatenate([[0], np.cumsum(~np.isnan(sec))])
    s["_i"] = idx
    m = pd.merge_asof(
        pairs.reset_index(drop=True).assign(_pos=np.arange(len(pairs))).sort_values("game_date"),
        s[["season", "player_id", "game_date", "_i"]].sort_values("game_date"),
        on="game_date",
        by=["season", "player_id"],
        allow_exact_matches=False,  # his games strictly before the date
    ).sort_values("_pos")
    has = m["_i"].notna().to_numpy()
    last = m["_i"].fillna(0).to_numpy().astype("int64")
    start = np.maximum(group_start[last], last - ROTATION_GAMES + 1)
    known = cs_known[last + 1] - cs_known[start]
    minutes = (cs_sec[last + 1] - cs_sec[start]) / 60.0 / np.where(known > 0, known, np.nan)
    out = pd.DataFrame(index=pairs.index)
    out["own_games"] = np.where(has, last - start + 1, 0)
    out["own_minutes"] = np.where(has, minutes, np.nan)
    out["latest_team"] = np.where(has, team[last], -1).astype("int64")
    out["moved"] = has & (run_start[last] > start)
    return out


def _team_windows(a: pd.DataFrame, targets: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each target with a game of its team before its date (``t``: with ``window_games``) and one
    row per (target, player) who played any of the team's last ``ROTATION_GAMES`` games before it
    (``g``: seconds, known, games_played, played_last)."""
    keys = ["season", "team_id"]
    tg = a[[*keys, "game_id", "game_date"]].drop_duplicates(["game_id", "team_id"])
    tg = tg.sort_values([*keys, "game_date", "game_id"]).reset_index(drop=True)
    tg["rank"] = tg.groupby(keys, sort=False).cumcount()
    t = pd.merge_asof(
        targets.sort_values("game_date"),
        tg[[*keys, "game_date", "rank"]].sort_values("game_date"),
        on="game_date",
        by=keys,
        allow_exact_matches=False,  # the team's games strictly before the date
    ).dropna(subset=["rank"])
    last = t["rank"].to_numpy(dtype="int64")
    n = np.minimum(last + 1, ROTATION_GAMES)
    t["window_games"] = n
    # one row per (target, window game): lag 0 is the team's latest game before the date
    rep = np.repeat(np.arange(len(t)), n)
    lag = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n)
    w = t.iloc[rep][["_t", *keys, "game_date"]].reset_index(drop=True)
    w["rank"], w["lag"] = last[rep] - lag, lag
    w = w.merge(tg[[*keys, "rank", "game_id"]], on=[*keys, "rank"])
    rows = w.merge(a[["game_id", "team_id", "player_id", "seconds"]], on=["game_id", "team_id"])
    rows["last"] = rows["lag"] == 0
    g = rows.groupby(["_t", "player_id"], sort=False).agg(
        seconds=("seconds", "sum"),
        known=("seconds", "count"),
        games_played=("game_id", "size"),
        played_last=("last", "any"),
    )
    return t, g.reset_index()


def _rotations(a: pd.DataFrame, targets: pd.DataFrame, joined: pd.DataFrame) -> pd.DataFrame:
    """The rotation of each target row (``_t``, season, team_id, game_date) from the appearances
    ``a`` strictly before its date: one row per (target, player) with ROTATION_COLUMNS.
    ``joined`` (``_t``, player_id): players known to be on the target's team that day."""
    if a.empty or targets.empty:
        return _empty()
    t, g = _team_windows(a, targets)
    if t.empty:
        return _empty()
    with_t = ["_t", "player_id"]
    joined = joined[with_t].astype("int64").drop_duplicates()
    g = g.merge(joined.assign(joined=True), on=with_t, how="outer")
    g = g.merge(t[["_t", "season", "team_id", "game_date", "window_games"]], on="_t")
    g = g.fillna({"seconds": 0.0, "known": 0, "games_played": 0, "played_last": False, "joined": False})
    g = g.join(_own_windows(a, g[["season", "player_id", "game_date"]]))
    on_team = (g["latest_team"].to_numpy() == g["team_id"].to_numpy()) | g["joined"].to_numpy(bool)
    g["expected_minutes"] = g["seconds"] / 60.0 / g["known"].where(g["known"] > 0)
    need = np.minimum(MIN_APPEARANCES, g["window_games"].to_numpy())
    regular = (g["expected_minutes"] >= ROTATION_MINUTES) & (g["games_played"] >= need)
    # new on the team, or back: too few of its window games for the team's rule
    arrived = (g["joined"].to_numpy(bool) | g["moved"].to_numpy(bool)) & (g["games_played"] < need)
    own = (g["own_minutes"] >= ROTATION_MINUTES) & (g["own_games"] >= MIN_APPEARANCES) & arrived
    g["expected_minutes"] = np.where(regular, g["expected_minutes"], g["own_minutes"])
    g = g[on_team & (regular | own)].copy()
    g["missed_last"] = ~g["played_last"].astype(bool)
    g["games_played"] = g["games_played"].astype("int64")
    g["window_games"] = g["window_games"].astype("int64")
    g["player_id"] = g["player_id"].astype("int64")
    return g[["_t", *ROTATION_COLUMNS]].reset_index(drop=True)


def rotation_as_of(
    appearances: pd.DataFrame,
    season: str,
    team_ids: list[int],
    as_of: object,
    joined: Mapping[int, Collection[int]] | None = None,
) -> pd.DataFrame:
    """The rotation of each of ``team_ids`` in ``season`` as of the day ``as_of``, from the
    appearances strictly before it: ROTATION_COLUMNS sorted by team and expected minutes (most
    first). ``missed_last``: he did not play the team's latest game, the morning forecast's
    guess of who is out when nothing better is known. ``joined``: team id -> players known to be
    on it that day (an import's report), traded or back from an absence. What happens on
    ``as_of`` is never read."""
    a = _prepared(appearances)
    day = as_datetime([as_of]).iloc[0]
    a = a[(a["season"] == str(season)) & (a["game_date"] < day)]
    targets = pd.DataFrame(
        {
            "_t": np.arange(len(team_ids)),
            "season": str(season),
            "team_id": np.asarray(team_ids, dtype="int64"),
            "game_date": day,
        }
    )
    targets["game_date"] = targets["game_date"].astype("datetime64[ns]")
    known = [(i, int(p)) for i, team in enumerate(team_ids) for p in (joined or {}).get(int(team), ())]
    on = pd.DataFrame(known, columns=["_t", "player_id"], dtype="int64")
    r = _rotations(a, targets, on).drop(columns="_t")
    return r.sort_values(["team_id", "expected_minutes"], ascending=[True, False]).reset_index(drop=True)


def game_rotations(appearances: pd.DataFrame) -> pd.DataFrame:
    """For every (game, team) of ``appearances`` (any seasons): the team's rotation as of the game
    date, the players who played the game counted as on the team (``joined``: a traded player's
    first game, a return), and whether each of its players was ``out`` (no row of his team in that
    game: unavailable, as the backtest's stand-in for the injury report). Columns: game_id,
    game_date, then ROTATION_COLUMNS, then out; sorted by game, team and expected minutes (most
    first)."""
    a = _prepared(appearances)
    targets = a[["game_id", "season", "team_id", "game_date"]].drop_duplicates(["game_id", "team_id"])
    targets = targets.reset_index(drop=True)
    targets["_t"] = np.arange(len(targets))
    roster = a[["game_id", "team_id", "player_id"]].merge(targets[["game_id", "team_id", "_t"]])
    r = _rotations(a, targets[["_t", "season", "team_id", "game_date"]], roster[["_t", "player_id"]])
    r = r.merge(targets[["_t", "game_id", "game_date"]], on="_t").drop(columns="_t")
    played = pd.MultiIndex.from_frame(a[["game_id", "team_id", "player_id"]])
    r["out"] = ~pd.MultiIndex.from_frame(r[["game_id", "team_id", "player_id"]]).isin(played)
    r = r[["game_id", "game_date", *ROTATION_COLUMNS, "out"]]
    return r.sort_values(
        ["game_id", "team_id", "expected_minutes"], ascending=[True, True, False]
    ).reset_index(drop=True)
