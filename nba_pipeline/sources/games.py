"""League-wide responses -> the games and schedule rows of a pulled season, and the games' quarter
points from the converted play-by-play.

Why: ``games_<season>.parquet`` must have the columns of the shipped ``games.parquet`` (the ingest
reads both alike), and LeagueGameLog, the record of finished games with their box-score totals,
has two team rows per game and no home field; ScheduleLeagueV2 (or a day's ScoreboardV3) adds the
games not played yet and the neutral-site flag.
"""

from __future__ import annotations

import pandas as pd

from nba_pipeline.sources.client import SourceError
from nba_pipeline.sources.pbp_v2 import SCORE_RE

GAME_TYPES = {"002": "regular_season", "004": "playoffs", "005": "play_in", "006": "nba_cup_final"}
SCHEDULE_COLUMNS = ["game_id", "game_date", "home_team_id", "away_team_id", "status"]
_BOX = [
    "fgm",
    "fga",
    "fg_pct",
    "fg3m",
    "fg3a",
    "fg3_pct",
    "ftm",
    "fta",
    "ft_pct",
    "oreb",
    "dreb",
    "reb",
    "ast",
    "stl",
    "blk",
    "tov",
    "pf",
    "plus_minus",
]
GAMES_FILE_COLUMNS = (
    ["game_id", "game_date", "season", "game_type", "neutral_site"]
    + [f"{c}_{s}" for s in ("home",) for c in ("team_id", "team_abbreviation", "team_name")]
    + [f"{c}_{s}" for s in ("road",) for c in ("team_id", "team_abbreviation", "team_name")]
    + ["pts_home", "pts_road", "wl_home"]
    + [f"{c}_{s}" for s in ("home", "road") for c in _BOX]
    + [f"pts_{q}_{s}" for s in ("home", "road") for q in ("qtr1", "qtr2", "qtr3", "qtr4", "ot_total")]
    + ["possessions_home", "possessions_road", "minutes_home", "minutes_road"]
)


def result_set(body: dict, index: int = 0) -> pd.DataFrame:
    """A legacy ``resultSets[index]`` as a frame (columns = its headers); a body of another shape
    is a :class:`SourceError` naming the field."""
    try:
        rs = body["resultSets"][index]
        return pd.DataFrame(rs["rowSet"], columns=rs["headers"])
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise SourceError(f"resultSets[{index}] is not a table of rowSet and headers ({exc!r:.80})") from exc


GAMELOG_COLUMNS = [
    "TEAM_ID",
    "TEAM_ABBREVIATION",
    "TEAM_NAME",
    "GAME_ID",
    "GAME_DATE",
    "MATCHUP",
    "WL",
    "MIN",
    "PTS",
    "PLUS_MINUS",
]


def games_from_gamelog(
    body: dict,
    season: str,
    neutral: set[str] | None = None,
    home_of: dict[str, int] | None = None,
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """LeagueGameLog (team rows) -> one row per finished game in ``games.parquet`` columns.

    Home is the team whose MATCHUP reads ``vs.``. Neutral-site games (Mexico City, Paris, Cup
    semifinals) read ``@`` on both rows: they are flagged ``neutral_site`` and their home team comes
    from ``home_of`` (the schedule's, or the play-by-play's), else the log's first row of the game
    is taken and the game is listed under ``home_guessed``. ``home_of`` also overrides the log.
    Quarter points are left empty here (the pbp fills them); possessions are estimated per side as
    ``FGA - OREB + TOV + 0.44 FTA`` (``games.parquet`` took them from the advanced box score,
    which is not pulled). Returns the rows and lists of game ids: ``one_sided`` (a single team
    row, left out) and ``home_guessed``.
    """
    t = result_set(body)
    missing = [c for c in GAMELOG_COLUMNS if c not in t.columns]
    if missing:
        raise SourceError(f"LeagueGameLog {season}: missing column(s) {missing}")
    t["GAME_ID"] = t["GAME_ID"].astype(str).str.zfill(10)
    t = t[t["GAME_ID"].str[:3].isin(list(GAME_TYPES))].reset_index(drop=True)
    n = t.groupby("GAME_ID")["TEAM_ID"].transform("size")
    one_sided = sorted(t.loc[n != 2, "GAME_ID"].unique().tolist())
    t, neutral_ids, guessed, unmatched = _home_sides(t[n == 2].reset_index(drop=True), neutral, home_of)
    home = t[t["_home"]].set_index("GAME_ID")
    road = t[~t["_home"]].set_index("GAME_ID").reindex(home.index)
    out = _game_rows(home, road, season, neutral_ids)
    return out, {"one_sided": one_sided + unmatched, "home_guessed": guessed}


def _home_sides(
    t: pd.DataFrame, neutral: set[str] | None, home_of: dict[str, int] | None
) -> tuple[pd.DataFrame, set[str], list[str], list[str]]:
    """The two team rows of each game with ``_home`` (games_from_gamelog's rules); the neutral
    games, the games whose home was guessed, and the games left out because ``home_of`` named a
    team that did not play."""
    home_of = dict(home_of or {})
    t["_home"] = t["MATCHUP"].astype(str).str.contains(" vs. ", regex=False)
    unclear = t.groupby("GAME_ID")["_home"].transform("sum") != 1
    neutral_ids = set(neutral or set()) | set(t.loc[unclear, "GAME_ID"])
    first = ~t.duplicated("GAME_ID")
    t["_home"] = t["_home"].where(~unclear, first)
    given = t["GAME_ID"].map(home_of)
    t["_home"] = t["_home"].where(given.isna(), t["TEAM_ID"] == given)
    guessed = sorted(set(t.loc[unclear, "GAME_ID"]) - set(home_of))
    bad = t.groupby("GAME_ID")["_home"].transform("sum") != 1
    unmatched = sorted(t.loc[bad, "GAME_ID"].unique().tolist()) if bad.any() else []
    return t[~bad], neutral_ids, guessed, unmatched


def _game_rows(home: pd.DataFrame, road: pd.DataFrame, season: str, neutral: set[str]) -> pd.DataFrame:
    """``GAMES_FILE_COLUMNS`` of each game from its home and road team rows (indexed by game id)."""
    out = pd.DataFrame(index=home.index)
    out["game_id"] = home.index.astype(str)
    out["game_date"] = pd.to_datetime(home["GAME_DATE"]).dt.date
    out["season"] = season
    out["game_type"] = home.index.str[:3].map(GAME_TYPES)
    out["neutral_site"] = home.index.isin(sorted(neutral))
    # The NBA Cup semifinals count as regular-season games and take the season's last two
    # regular-season ids (0022301229/30, 0022401229/30, 0022501229/30), played on a neutral floor.
    semi = out["neutral_site"] & home.index.str.match(r"^002\d\d0(1229|1230)$")
    out["game_type"] = out["game_type"].where(~semi, "nba_cup_semi")
    for side, src in (("home", home), ("road", road)):
        out[f"team_id_{side}"] = src["TEAM_ID"].astype("int64")
        out[f"team_abbreviation_{side}"] = src["TEAM_ABBREVIATION"].astype(str)
        out[f"team_name_{side}"] = src["TEAM_NAME"].astype(str)
    out["pts_home"] = home["PTS"].astype("int64")
    out["pts_road"] = road["PTS"].astype("int64")
    out["wl_home"] = home["WL"].astype(str)
    for side, src in (("home", home), ("road", road)):
        for c in _BOX:
            col = c.upper()
            if col not in src:
                raise SourceError(f"LeagueGameLog {season}: missing column {col!r}")
            out[f"{c}_{side}"] = src[col].astype("float64" if c.endswith("pct") else "int64")
        for q in ("qtr1", "qtr2", "qtr3", "qtr4", "ot_total"):
            out[f"pts_{q}_{side}"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out[f"possessions_{side}"] = (
            (src["FGA"] - src["OREB"] + src["TOV"] + 0.44 * src["FTA"]).astype("float64").round(1)
        )
        out[f"minutes_{side}"] = src["MIN"].astype("int64")
    return out[GAMES_FILE_COLUMNS].sort_values(["game_date", "game_id"]).reset_index(drop=True)


def schedule_frame(body: dict) -> pd.DataFrame:
    """ScheduleLeagueV2 -> every game of the season: ``game_id, game_date, home_team_id,
    away_team_id, status`` (scheduled / in_progress / final) and ``neutral_site``."""
    rows = []
    for day in body["leagueSchedule"]["gameDates"]:
        for g in day.get("games", []):
            rows.append(
                {
                    "game_id": str(g.get("gameId", "")).zfill(10),
                    "game_date": g.get("gameDateEst") or day.get("gameDate"),
                    "home_team_id": (g.get("homeTeam") or {}).get("teamId"),
                    "away_team_id": (g.get("awayTeam") or {}).get("teamId"),
                    "status_code": g.get("gameStatus"),
                    "neutral_site": bool(g.get("isNeutral")),
                }
            )
    df = pd.DataFrame(
        rows, columns=["game_id", "game_date", "home_team_id", "away_team_id", "status_code", "neutral_site"]
    )
    df = df[df["game_id"].str[:3].isin(list(GAME_TYPES))]
    df["game_date"] = pd.to_datetime(df["game_date"], format="mixed").dt.date
    df["status"] = df["status_code"].map({1: "scheduled", 2: "in_progress", 3: "final"}).fillna("scheduled")
    for c in ("home_team_id", "away_team_id"):
        df[c] = pd.to_numeric(df[c], errors="coerce").fillna(0).astype("int64")
    return df.drop(columns="status_code").reset_index(drop=True)


def scoreboard_frame(body: dict) -> pd.DataFrame:
    """ScoreboardV3 (one day) -> the same columns as :func:`schedule_frame` (for a day's games)."""
    sb = body["scoreboard"]
    rows = [
        {
            "game_id": str(g["gameId"]).zfill(10),
            "game_date": sb.get("gameDate"),
            "home_team_id": g["homeTeam"]["teamId"],
            "away_team_id": g["awayTeam"]["teamId"],
            "status": {1: "scheduled", 2: "in_progress", 3: "final"}.get(g.get("gameStatus"), "scheduled"),
            "neutral_site": bool(g.get("isNeutral")),
        }
        for g in sb.get("games", [])
    ]
    df = pd.DataFrame(
        rows, columns=["game_id", "game_date", "home_team_id", "away_team_id", "status", "neutral_site"]
    )
    df["game_date"] = pd.to_datetime(df["game_date"]).dt.date
    return df


def period_points(pbp: pd.DataFrame) -> pd.DataFrame:
    """Points per side and period from V2 rows' SCORE (``"AWAY - HOME"``): game_id, period, home, road."""
    sc = pbp["SCORE"].str.extract(SCORE_RE)
    d = pd.DataFrame(
        {
            "game_id": pbp["GAME_ID"],
            "period": pbp["PERIOD"].astype("int64"),
            "road": pd.to_numeric(sc[0]),
            "home": pd.to_numeric(sc[1]),
        }
    ).dropna()
    end = d.groupby(["game_id", "period"])[["home", "road"]].max().groupby(level=0).cummax()
    prev = end.groupby(level=0).shift(1).fillna(0)
    return (end - prev).reset_index()


def final_score_mismatches(pbp: pd.DataFrame, games: pd.DataFrame) -> list[str]:
    """Games whose play-by-play final score (sum of the period points) differs from the game log's
    points: a check of the conversion and of the home/away alignment, reported, never fatal."""
    if not len(pbp):
        return []
    tot = period_points(pbp).groupby("game_id")[["home", "road"]].sum()
    g = games.set_index("game_id").reindex(tot.index)
    bad = (tot["home"] != g["pts_home"]) | (tot["road"] != g["pts_road"])
    return sorted(tot.index[bad.fillna(True).to_numpy(bool)].tolist())


def fill_quarter_points(games: pd.DataFrame, pbp: pd.DataFrame) -> pd.DataFrame:
    """Quarter and overtime points of ``games`` from the pulled play-by-play (where there is one)."""
    if not len(pbp):
        return games
    pp = period_points(pbp)
    g = games.set_index("game_id")
    for side in ("home", "road"):
        wide = pp.pivot(index="game_id", columns="period", values=side)
        for q in (1, 2, 3, 4):
            if q in wide:
                v = wide[q].reindex(g.index)
                g[f"pts_qtr{q}_{side}"] = pd.array(v.round(), dtype="Int64")
        ot = (
            wide[[c for c in wide.columns if c > 4]].sum(axis=1)
            if len(wide.columns)
            else pd.Series(dtype=float)
        )
        has = g.index.isin(wide.index)
        v = ot.reindex(g.index).fillna(0).where(has)
        g[f"pts_ot_total_{side}"] = pd.array(v.round(), dtype="Int64")
    return g.reset_index()[games.columns]
