"""The stats.nba.com requests of a season pull, through ``nba_api`` and the caching client.

Why each has a validator: a cached or fresh body is only kept when it has what the pull reads
(a finished game's play-by-play ends with its last period's end marker; a body cut short during
a game lacks it and is fetched again next time).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from nba_pipeline.sources.client import StatsClient


def _params(cls_name: str, **kw: Any) -> tuple[str, dict]:
    """The endpoint name and the exact parameters of ``nba_api``'s endpoint class (no request)."""
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
