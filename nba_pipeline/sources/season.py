"""A season from stats.nba.com written as the raw contract: ``pbp_<season>.parquet`` (V2 columns),
``games_<season>.parquet`` (the columns of ``games.parquet``), ``shots_<season>.parquet`` (field
goals with their locations, :mod:`nba_pipeline.sources.shots_v3`) and ``schedule_<season>.parquet``
(games not played yet), in the writable pulled dir.

Why these sources: LeagueGameLog (team rows) is the record of finished games with their box-score
totals; ScheduleLeagueV2 adds the games not played yet and the neutral-site flag
(:mod:`nba_pipeline.sources.games`); each finished game's PlayByPlayV3 is converted to V2 rows
(:mod:`nba_pipeline.sources.pbp_v3`), and its BoxScoreTraditionalV3 supplies the roster that
resolves names of players who never act in the pbp. The requests are in
:mod:`nba_pipeline.sources.endpoints`.

:func:`pull_season` runs the steps in order: fetch (the log, the schedule, then each finished
game), convert, fix the home side, and write every file in one place at the end.

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
from nba_pipeline.sources.endpoints import (
    fetch_box,
    fetch_gamelog,
    fetch_pbp,
    fetch_schedule,
    fetch_scoreboard,
)
from nba_pipeline.sources.games import (
    SCHEDULE_COLUMNS,
    fill_quarter_points,
    final_score_mismatches,
    games_from_gamelog,
    schedule_frame,
    scoreboard_frame,
)
from nba_pipeline.sources.pbp_v2 import empty_v2, swap_home_away
from nba_pipeline.sources.pbp_v3 import actions_frame, convert_actions, rosters_frame, side_teams
from nba_pipeline.sources.shots_v3 import shots_from_actions

log = logging.getLogger(__name__)


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


def season_cache_dir(pulled_dir: Path, season: str) -> Path:
    return Path(pulled_dir) / "nba_api_cache" / season


def _fmt_s(s: float) -> str:
    s = int(round(s))
    return f"{s // 60}m{s % 60:02d}s"


# ---- fetch ----


def schedule_from_scoreboards(client: StatsClient, start: dt.date, days: int) -> pd.DataFrame:
    """The games of ``days`` days from ``start`` from ScoreboardV3 (one request a day): the fallback
    schedule when ScheduleLeagueV2 cannot be had."""
    frames = [scoreboard_frame(fetch_scoreboard(client, start + dt.timedelta(days=i))) for i in range(days)]
    return pd.concat(frames, ignore_index=True) if frames else scoreboard_frame({"scoreboard": {"games": []}})


def _fetch_schedule(
    client: StatsClient, season: str, say: Callable[[str], None], scoreboard_days: int, today: dt.date | None
) -> pd.DataFrame | None:
    """ScheduleLeagueV2, else the next ``scoreboard_days`` days' scoreboards, else None: the
    schedule only adds upcoming games and neutral-site flags, so a season pulls without it."""
    try:
        return schedule_frame(fetch_schedule(client, season))
    except SourceError as exc:
        log.warning(
            "schedule %s unavailable (%s): no schedule file written, no neutral-site flags", season, exc
        )
        say(f"schedule unavailable: {exc}")
    if scoreboard_days <= 0:
        return None
    start = today or dt.date.today()
    try:
        sched = schedule_from_scoreboards(client, start, scoreboard_days)
    except SourceError as exc:
        log.warning("scoreboards from %s unavailable too (%s)", start, exc)
        return None
    say(f"schedule from ScoreboardV3: {len(sched)} games, {scoreboard_days} days from {start}")
    return sched


def _schedule_hints(sched: pd.DataFrame | None) -> tuple[set[str], dict[str, int]]:
    """The schedule's neutral-site game ids and home team of each game (empty without one)."""
    if sched is None:
        return set(), {}
    neutral = set(sched.loc[sched["neutral_site"], "game_id"])
    return neutral, dict(zip(sched["game_id"], sched["home_team_id"], strict=True))


def _fetch_games(
    client: StatsClient,
    season: str,
    game_ids: pd.Series,
    rep: PullReport,
    say: Callable[[str], None],
    t0: float,
) -> tuple[list[dict], list[dict]]:
    """Each finished game's PlayByPlayV3 and BoxScoreTraditionalV3 (cached ones are not requested
    again), saying progress and the time left every 25 games and after every request. A game
    without play-by-play yet is left out and listed; a missing box score only costs names."""
    pbps: list[dict] = []
    boxes: list[dict] = []
    n = len(game_ids)
    fetch_t = 0.0
    fetched_games = 0
    for i, gid in enumerate(game_ids, start=1):
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
    return pbps, boxes


# ---- convert ----


def _convert(frame: pd.DataFrame, boxes: list[dict], rep: PullReport) -> pd.DataFrame:
    """The games' actions as V2 rows, the box scores' rosters resolving names; quirks counted."""
    if not len(frame):
        return empty_v2()
    pbp, crep = convert_actions(frame, rosters_frame(boxes) if boxes else None)
    rep.duplicate_actions_dropped = crep.duplicate_actions_dropped
    rep.names_unresolved = crep.names_unresolved
    rep.unmapped_subtypes = crep.unmapped_subtypes
    return pbp


# ---- fix the home side ----


def align_home_sides(
    pbp: pd.DataFrame, pbp_home: pd.Series, games: pd.DataFrame
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Make every game's pbp home side the games row's home team; ``pbp_home`` is game id -> the
    pbp's home team. Returns the pbp, the swapped game ids, and ids whose pbp teams match neither
    side (kept as they are, counted)."""
    g = games.set_index("game_id")
    h = pbp_home[pbp_home.index.isin(g.index)]
    home = g["team_id_home"].reindex(h.index).to_numpy()
    road = g["team_id_road"].reindex(h.index).to_numpy()
    other = h.to_numpy() != home
    swapped = h.index[other & (h.to_numpy() == road)].tolist()
    disagree = h.index[other & (h.to_numpy() != road)].tolist()
    return swap_home_away(pbp, swapped), swapped, disagree


def _fix_home_sides(
    pbp: pd.DataFrame,
    frame: pd.DataFrame,
    log_body: dict,
    sched: pd.DataFrame | None,
    games: pd.DataFrame,
    home_guessed: list[str],
    rep: PullReport,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Games and pbp agreeing on the home team: without a schedule a neutral-site game's home is
    the pbp's (the games rows are rebuilt with it); then each pbp whose home side is the games
    row's road team is swapped. Returns the games and the pbp."""
    pbp_home = side_teams(frame, "h")
    if home_guessed:
        neutral, sched_home = _schedule_hints(sched)
        from_pbp = {g: int(pbp_home[g]) for g in home_guessed if g in pbp_home.index}
        games, info = games_from_gamelog(log_body, rep.season, neutral, {**from_pbp, **sched_home})
        home_guessed = info["home_guessed"]
    rep.neutral_home_guessed = home_guessed
    pbp, rep.home_side_swapped, rep.teams_disagree = align_home_sides(pbp, pbp_home, games)
    return games, pbp


# ---- write ----


def _upcoming(sched: pd.DataFrame, through: dt.date | None, pulled_ids: pd.Series) -> pd.DataFrame:
    """The schedule's games not pulled: not final yet, or final after ``through``."""
    upcoming = sched[sched["status"] != "final"]
    if through is not None:
        upcoming = pd.concat([upcoming, sched[(sched["status"] == "final") & (sched["game_date"] > through)]])
    upcoming = upcoming[~upcoming["game_id"].isin(pulled_ids)]
    return upcoming[SCHEDULE_COLUMNS].sort_values(["game_date", "game_id"]).reset_index(drop=True)


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


def _write(pulled_dir: Path, season: str, tables: dict[str, pd.DataFrame]) -> list[str]:
    """Each table as ``<kind>_<season>.parquet``, atomically, in the order given; the paths."""
    paths = []
    for kind, df in tables.items():
        p = pulled_dir / f"{kind}_{season}.parquet"
        write_parquet_atomic(df, p)
        paths.append(str(p))
    return paths


# ---- the pull ----


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
    ``shots_<season>`` and ``games_<season>`` and, when the schedule could be had,
    ``schedule_<season>`` (games not yet final; from ScoreboardV3 of ``scoreboard_days`` days from
    ``today`` when ScheduleLeagueV2 fails). Raises
    :class:`~nba_pipeline.sources.client.SourceUnavailable` (naming the endpoint and game) when the
    API stays unreachable; everything fetched before stays in the cache.
    """
    t0 = time.monotonic()
    pulled_dir = Path(pulled_dir)
    client = client or StatsClient(season_cache_dir(pulled_dir, season))
    rep = PullReport(season=season)
    say = progress or (lambda _m: None)

    log_body = fetch_gamelog(client, season)
    sched = _fetch_schedule(client, season, say, scoreboard_days, today) if with_schedule else None
    games, info = games_from_gamelog(log_body, season, *_schedule_hints(sched))
    rep.games_one_sided = info["one_sided"]
    rep.games_in_log = len(games)
    todo = games if through is None else games[games["game_date"] <= through]
    rep.games_finished = len(todo)
    pbps, boxes = _fetch_games(client, season, todo["game_id"], rep, say, t0)

    frame = actions_frame(pbps)
    pbp = _convert(frame, boxes, rep)
    games, pbp = _fix_home_sides(pbp, frame, log_body, sched, games, info["home_guessed"], rep)
    games = fill_quarter_points(games, pbp)
    rep.score_mismatch = final_score_mismatches(pbp, games)
    rep.games_pulled = int(pbp["GAME_ID"].nunique())
    rep.pbp_rows = len(pbp)

    tables: dict[str, pd.DataFrame] = {}
    if len(pbp):
        tables["pbp"] = pbp
        tables["shots"] = shots_from_actions(
            frame, dict(zip(games["game_id"], games["game_date"], strict=True))
        )
        rep.shots = len(tables["shots"])
    tables["games"] = games
    if sched is not None:
        tables["schedule"] = _upcoming(sched, through, todo["game_id"])
        rep.games_scheduled = len(tables["schedule"])
    rep.files = _write(pulled_dir, season, tables)

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
