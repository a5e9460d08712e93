"""A season from stats.nba.com written as the raw contract: ``pbp_<season>.parquet`` (V2 columns),
``games_<season>.parquet`` (the columns of ``games.parquet``), ``shots_<season>.parquet`` (field
goals with their locations, :mod:`nba_pipeline.sources.shots_v3`) and ``schedule_<season>.parquet``
(games not played yet), in the writable pulled dir.

Why these sources: LeagueGameLog (team rows) is the record of finished games with their box-score
totals; ScheduleLeagueV2 adds the games not played yet and the neutral-site flag; each finished
game's PlayByPlayV3 is converted to V2 rows (:mod:`nba_pipeline.sources.pbp_v3`), and its
BoxScoreTraditionalV3 supplies the roster that resolves names of players who never act in the pbp.

Quirks, handled and counted in :class:`PullReport`, never fatal to a season:
- exact duplicate actions: dropped (``duplicate_actions_dropped``);
- neutral-site games (Mexico City, Paris, Cup semifinals) whose play-by-play home side is the
  schedule's away side: the pbp sides are swapped to agree with the games rows (``home_side_swapped``);
- a finished game without play-by-play yet (``{}``, no actions): left out of this pull, not cached,
  fetched again next time (``games_without_pbp``).

No lineups file is written: V3 carries no on-court players, and the pipeline already rebuilds
them from the play-by-play for a season without one (``analytics.stints.reconstruct_lineups``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from nba_pipeline.sources.client import EmptyResponse, SourceError, SourceUnavailable, StatsClient
from nba_pipeline.sources.pbp_v2 import empty_v2, swap_home_away
from nba_pipeline.sources.pbp_v3 import actions_frame, convert_actions, rosters_frame
from nba_pipeline.sources.shots_v3 import shots_from_actions

log = logging.getLogger(__name__)

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


# ---- endpoints: exact parameters from nba_api's endpoint classes, validators for cached bodies ----


def _params(cls_name: str, **kw: Any) -> tuple[str, dict]:
    from nba_api.stats import endpoints

    ep = getattr(endpoints, cls_name)(get_request=False, **kw)
    return ep.endpoint, dict(ep.parameters)


def valid_pbp(body: dict) -> str | None:
    """A finished game's play-by-play: actions present, at least four periods, and the last
    period's end marker (a body cut short during a game lacks it)."""
    acts = (body.get("game") or {}).get("actions") if isinstance(body, dict) else None
    if not acts:
        return "no play-by-play actions"
    last = max(int(a.get("period") or 0) for a in acts)
    if last < 4:
        return "truncated play-by-play (fewer than 4 periods)"
    ended = any(
        int(a.get("period") or 0) == last
        and str(a.get("actionType", "")).lower() == "period"
        and str(a.get("subType", "")).lower() == "end"
        for a in acts[-30:]
    )
    return None if ended else f"truncated play-by-play (no end of period {last})"


def valid_box(body: dict) -> str | None:
    b = body.get("boxScoreTraditional") if isinstance(body, dict) else None
    if not b or not (b.get("homeTeam") or {}).get("players"):
        return "no box score players"
    return None


def valid_result_sets(body: dict) -> str | None:
    rs = body.get("resultSets") if isinstance(body, dict) else None
    if not rs or "rowSet" not in rs[0]:
        return "no resultSets"
    return None


def valid_schedule(body: dict) -> str | None:
    ls = body.get("leagueSchedule") if isinstance(body, dict) else None
    return None if ls and ls.get("gameDates") else "no leagueSchedule.gameDates"


def fetch_gamelog(client: StatsClient, season: str) -> dict:
    ep, p = _params("LeagueGameLog", season=season, player_or_team_abbreviation="T")
    return client.get(
        ep, p, key=season, validate=valid_result_sets, max_age_s=client.settings.season_max_age_s
    )


def fetch_schedule(client: StatsClient, season: str) -> dict:
    ep, p = _params("ScheduleLeagueV2", season=season)
    return client.get(ep, p, key=season, validate=valid_schedule, max_age_s=client.settings.season_max_age_s)


def fetch_pbp(client: StatsClient, game_id: str) -> dict:
    ep, p = _params("PlayByPlayV3", game_id=game_id)
    return client.get(ep, p, key=game_id, validate=valid_pbp)


def fetch_box(client: StatsClient, game_id: str) -> dict:
    ep, p = _params("BoxScoreTraditionalV3", game_id=game_id)
    return client.get(ep, p, key=game_id, validate=valid_box)


def valid_scoreboard(body: dict) -> str | None:
    sb = body.get("scoreboard") if isinstance(body, dict) else None
    return None if isinstance(sb, dict) and "games" in sb else "no scoreboard.games"


def fetch_scoreboard(client: StatsClient, day: dt.date) -> dict:
    ep, p = _params("ScoreboardV3", game_date=day.isoformat())
    return client.get(
        ep, p, key=day.isoformat(), validate=valid_scoreboard, max_age_s=client.settings.season_max_age_s
    )


def schedule_from_scoreboards(client: StatsClient, start: dt.date, days: int) -> pd.DataFrame:
    """The games of ``days`` days from ``start`` from ScoreboardV3 (one request a day): the fallback
    schedule when ScheduleLeagueV2 cannot be had."""
    frames = [scoreboard_frame(fetch_scoreboard(client, start + dt.timedelta(days=i))) for i in range(days)]
    return pd.concat(frames, ignore_index=True) if frames else scoreboard_frame({"scoreboard": {"games": []}})


# ---- games rows ----


def result_set(body: dict, index: int = 0) -> pd.DataFrame:
    """A legacy ``resultSets[index]`` as a frame (columns = its headers)."""
    rs = body["resultSets"][index]
    return pd.DataFrame(rs["rowSet"], columns=rs["headers"])


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
    need = [
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
    missing = [c for c in need if c not in t.columns]
    if missing:
        raise SourceError(f"LeagueGameLog {season}: missing column(s) {missing}")
    home_of = dict(home_of or {})
    t["GAME_ID"] = t["GAME_ID"].astype(str).str.zfill(10)
    t = t[t["GAME_ID"].str[:3].isin(list(GAME_TYPES))].reset_index(drop=True)
    n = t.groupby("GAME_ID")["TEAM_ID"].transform("size")
    one_sided = sorted(t.loc[n != 2, "GAME_ID"].unique().tolist())
    t = t[n == 2].reset_index(drop=True)
    t["_home"] = t["MATCHUP"].astype(str).str.contains(" vs. ", regex=False)
    unclear = t.groupby("GAME_ID")["_home"].transform("sum") != 1
    neutral = set(neutral or set()) | set(t.loc[unclear, "GAME_ID"])
    first = ~t.duplicated("GAME_ID")
    t["_home"] = t["_home"].where(~unclear, first)
    given = t["GAME_ID"].map(home_of)
    t["_home"] = t["_home"].where(given.isna(), t["TEAM_ID"] == given)
    guessed = sorted(set(t.loc[unclear, "GAME_ID"]) - set(home_of))
    bad = t.groupby("GAME_ID")["_home"].transform("sum") != 1
    if bad.any():  # home_of named a team that did not play: fall back on the log
        one_sided += sorted(t.loc[bad, "GAME_ID"].unique().tolist())
        t = t[~bad]
    home = t[t["_home"]].set_index("GAME_ID")
    road = t[~t["_home"]].set_index("GAME_ID").reindex(home.index)
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
    out = out[GAMES_FILE_COLUMNS].sort_values(["game_date", "game_id"]).reset_index(drop=True)
    return out, {"one_sided": one_sided, "home_guessed": guessed}


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
    sc = pbp["SCORE"].str.extract(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
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


# ---- the pull ----


@dataclass
class PullReport:
    """What a pull did and what it had to handle (printed by the CLI, shown by the asset)."""

    season: str
    games_in_log: int = 0
    games_one_sided: list[str] = field(default_factory=list)
    games_finished: int = 0
    games_pulled: int = 0
    games_without_pbp: list[str] = field(default_factory=list)
    boxes_missing: list[str] = field(default_factory=list)
    home_side_swapped: list[str] = field(default_factory=list)
    neutral_home_guessed: list[str] = field(default_factory=list)  # neither schedule nor pbp said
    teams_disagree: list[str] = field(default_factory=list)
    score_mismatch: list[str] = field(default_factory=list)  # pbp final score != game log points
    games_scheduled: int = 0
    duplicate_actions_dropped: int = 0
    names_unresolved: int = 0
    unmapped_subtypes: dict[str, int] = field(default_factory=dict)
    pbp_rows: int = 0
    shots: int = 0
    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def write_parquet_atomic(df: pd.DataFrame, path: Path) -> None:
    """Parquet via a temporary file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        df.to_parquet(tmp, index=False, compression="zstd")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def align_home_sides(
    pbp: pd.DataFrame, pbp_home: dict[str, int], games: pd.DataFrame
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Make every game's pbp home side the games row's home team; returns the pbp, the swapped
    game ids, and ids whose pbp teams match neither side (kept as they are, counted)."""
    g = games.set_index("game_id")
    swapped, disagree = [], []
    for gid, h in pbp_home.items():
        if gid not in g.index:
            continue
        if h == int(g.at[gid, "team_id_home"]):
            continue
        if h == int(g.at[gid, "team_id_road"]):
            swapped.append(gid)
        else:
            disagree.append(gid)
    return swap_home_away(pbp, swapped), swapped, disagree


def season_cache_dir(pulled_dir: Path, season: str) -> Path:
    return Path(pulled_dir) / "nba_api_cache" / season


def _fmt_s(s: float) -> str:
    s = int(round(s))
    return f"{s // 60}m{s % 60:02d}s"


def pull_season(
    season: str,
    pulled_dir: Path,
    client: StatsClient | None = None,
    through: dt.date | None = None,
    progress: Callable[[str], None] | None = print,
    with_schedule: bool = True,
    scoreboard_days: int = 7,
    today: dt.date | None = None,
) -> PullReport:
    """Pull (or rebuild from the cache) ``season`` into ``pulled_dir`` as raw-contract files.

    Finished games up to ``through`` (default: all in the log) get their PlayByPlayV3 and
    BoxScoreTraditionalV3 (cached; only missing ones are requested). Writes ``pbp_<season>``,
    ``games_<season>`` and, when the schedule could be had, ``schedule_<season>`` (games not yet
    final; from ScoreboardV3 of ``scoreboard_days`` days from ``today`` when ScheduleLeagueV2
    fails). Raises :class:`~nba_pipeline.sources.client.SourceUnavailable` (naming the endpoint and
    game) when the API stays unreachable; everything fetched before stays in the cache.
    """
    t0 = time.monotonic()
    pulled_dir = Path(pulled_dir)
    client = client or StatsClient(season_cache_dir(pulled_dir, season))
    rep = PullReport(season=season)
    say = progress or (lambda _m: None)

    log_body = fetch_gamelog(client, season)
    sched = None
    if with_schedule:
        try:
            sched = schedule_frame(fetch_schedule(client, season))
        except SourceError as exc:
            log.warning(
                "schedule %s unavailable (%s): no schedule file written, no neutral-site flags", season, exc
            )
            say(f"schedule unavailable: {exc}")
            if scoreboard_days > 0:  # fallback: the next days' scoreboards
                start = today or dt.date.today()
                try:
                    sched = schedule_from_scoreboards(client, start, scoreboard_days)
                    say(
                        f"schedule from ScoreboardV3: {len(sched)} games, {scoreboard_days} days from {start}"
                    )
                except SourceError as exc2:
                    log.warning("scoreboards from %s unavailable too (%s)", start, exc2)
    neutral = set(sched.loc[sched["neutral_site"], "game_id"]) if sched is not None else set()
    sched_home = dict(zip(sched["game_id"], sched["home_team_id"], strict=True)) if sched is not None else {}
    games, info = games_from_gamelog(log_body, season, neutral, sched_home)
    rep.games_one_sided = info["one_sided"]
    rep.games_in_log = len(games)
    todo = games if through is None else games[games["game_date"] <= through]
    rep.games_finished = len(todo)

    pbps: list[dict] = []
    boxes: list[dict] = []
    n = len(todo)
    fetch_t = 0.0
    fetched_games = 0
    for i, gid in enumerate(todo["game_id"], start=1):
        before = client.requests_made
        ts = time.monotonic()
        try:
            pbps.append(fetch_pbp(client, gid))
        except EmptyResponse as exc:
            rep.games_without_pbp.append(gid)
            log.warning("%s", exc)
            continue
        except SourceUnavailable:
            if not client.offline:
                raise
            rep.games_without_pbp.append(gid)  # offline rebuild: a game not cached is left out
            continue
        try:
            boxes.append(fetch_box(client, gid))
        except SourceUnavailable:
            raise
        except SourceError as exc:  # the box score only helps resolve names: counted, not fatal
            rep.boxes_missing.append(gid)
            log.warning("%s", exc)
        if client.requests_made > before:
            fetched_games += 1
            fetch_t += time.monotonic() - ts
        if i % 25 == 0 or i == n or client.requests_made > before:
            per_game = fetch_t / fetched_games if fetched_games else 0.0
            say(
                f"[{season}] games {i}/{n}  requests {client.requests_made}  cached {client.cache_hits}  "
                f"elapsed {_fmt_s(time.monotonic() - t0)}  left ~{_fmt_s(per_game * (n - i))}"
            )

    frame = actions_frame(pbps)
    rosters = rosters_frame(boxes) if boxes else None
    pbp, crep = convert_actions(frame, rosters) if len(frame) else (empty_v2(), None)
    if crep is not None:
        rep.duplicate_actions_dropped = crep.duplicate_actions_dropped
        rep.names_unresolved = crep.names_unresolved
        rep.unmapped_subtypes = crep.unmapped_subtypes
    pbp_home = {}
    for b in pbps:
        acts = b["game"]["actions"]
        teams = pd.Series([a.get("teamId") for a in acts if a.get("location") == "h" and a.get("teamId")])
        if len(teams):
            pbp_home[str(b["game"]["gameId"]).zfill(10)] = int(teams.mode().iloc[0])
    if info["home_guessed"]:  # no schedule: a neutral-site game's home side is the pbp's
        games, info = games_from_gamelog(
            log_body,
            season,
            neutral,
            {**{g: pbp_home[g] for g in info["home_guessed"] if g in pbp_home}, **sched_home},
        )
    rep.neutral_home_guessed = info["home_guessed"]
    pbp, rep.home_side_swapped, rep.teams_disagree = align_home_sides(pbp, pbp_home, games)
    games = fill_quarter_points(games, pbp)
    rep.score_mismatch = final_score_mismatches(pbp, games)
    rep.games_pulled = int(pbp["GAME_ID"].nunique())
    rep.pbp_rows = len(pbp)

    files = []
    if len(pbp):
        p = pulled_dir / f"pbp_{season}.parquet"
        write_parquet_atomic(pbp, p)
        files.append(p)
        shots = shots_from_actions(frame, dict(zip(games["game_id"], games["game_date"], strict=True)))
        rep.shots = len(shots)
        p = pulled_dir / f"shots_{season}.parquet"
        write_parquet_atomic(shots, p)
        files.append(p)
    p = pulled_dir / f"games_{season}.parquet"
    write_parquet_atomic(games, p)
    files.append(p)
    if sched is not None:
        upcoming = sched[sched["status"] != "final"]
        if through is not None:
            upcoming = pd.concat(
                [upcoming, sched[(sched["status"] == "final") & (sched["game_date"] > through)]]
            )
        upcoming = upcoming[~upcoming["game_id"].isin(todo["game_id"])]
        rep.games_scheduled = len(upcoming)
        p = pulled_dir / f"schedule_{season}.parquet"
        write_parquet_atomic(
            upcoming[SCHEDULE_COLUMNS].sort_values(["game_date", "game_id"]).reset_index(drop=True), p
        )
        files.append(p)
    rep.files = [str(f) for f in files]
    rep.requests = client.requests_made
    rep.cache_hits = client.cache_hits
    rep.retries = client.retries_made
    rep.seconds = round(time.monotonic() - t0, 3)
    say(
        f"[{season}] done: {rep.games_pulled} games, {rep.pbp_rows} pbp rows, {rep.requests} requests, "
        f"{len(rep.games_without_pbp)} without pbp yet, {len(rep.home_side_swapped)} home sides swapped, "
        f"{rep.duplicate_actions_dropped} duplicate actions dropped, {rep.seconds:.1f} s"
    )
    return rep
