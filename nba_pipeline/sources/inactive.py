"""The live box score's inactive list (``nba_api.live.nba.endpoints.boxscore``): who each team
has ruled out of tonight's game, and who it has active, once the CDN has the game.

Why: the teams' inactive lists are the most certain report of who is out, and the live box score
carries them before tip-off: each team's ``players`` with ``status`` ``ACTIVE`` or ``INACTIVE``
(the shape is that of nba_api's ``BoxScore.expected_data``; the feed adds ``notPlayingReason``).
The CDN has a game's box score only from shortly before the game: a game it does not have yet is
answered with an HTTP error, which means "no list yet", not a failure. A feed that cannot be
reached is a warning for the caller; the morning run goes on with what else it knows.

Every answer is kept in the client's cache under the time it was fetched, and each team's players
are appended to ``player_availability`` (source ``SOURCE``, status ``inactive`` or ``active``)
with that time, as the odds feed's lines are (``sources.odds``). The active players say who is on
the team tonight: a player traded to it counts for it from that list on
(``forecast.availability``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from nba_pipeline.db import naive_utc
from nba_pipeline.sources.availability import FEED_SOURCE, FIELDS, append_reports
from nba_pipeline.sources.client import ApiSettings, SourceError, SourceUnavailable, StatsClient
from nba_pipeline.sources.odds import odds_client, utcnow

log = logging.getLogger(__name__)

SOURCE = FEED_SOURCE
ENDPOINT = "boxscore/boxscore_{game_id}.json"  # nba_api's BoxScore.endpoint_url, on cdn.nba.com
INACTIVE, ACTIVE = "inactive", "active"


class BoxScoreFormatError(SourceError):
    """The box score does not have the feed's shape (no ``game`` with two teams' players)."""


def _usable(body: dict) -> str | None:
    game = body.get("game")
    if not isinstance(game, dict):
        return "no 'game' object in the answer"
    for side in ("homeTeam", "awayTeam"):
        team = game.get(side)
        if not isinstance(team, dict) or not isinstance(team.get("players"), list):
            return f"no '{side}' with a 'players' list"
    return None


def parse_roster(
    body: Mapping[str, Any], game_date: dt.date, known_at: dt.datetime, source: str = SOURCE
) -> pd.DataFrame:
    """Every player of either team of a box score as ``player_availability`` rows known at
    ``known_at``: status ``active`` where the feed's ``status`` is ``ACTIVE``, else ``inactive``."""
    why = _usable(dict(body))
    if why:
        raise BoxScoreFormatError(f"live box score: {why}")
    game = body["game"]
    rows = [
        {
            "game_date": game_date,
            "player_id": int(p["personId"]),
            "source": source,
            "known_at": pd.Timestamp(naive_utc(known_at)),
            "team_id": int(game[side]["teamId"]),
            "status": ACTIVE if str(p.get("status", "ACTIVE")).upper() == "ACTIVE" else INACTIVE,
            "game_id": str(game.get("gameId")),
        }
        for side in ("homeTeam", "awayTeam")
        for p in game[side]["players"]
        if p.get("personId") is not None
    ]
    return pd.DataFrame(rows, columns=FIELDS)


def fetch_box_score(
    client: StatsClient, game_id: str, now: Callable[[], dt.datetime] = utcnow
) -> tuple[dict[str, Any], dt.datetime]:
    """The game's live box score now and the time it was asked for (cached under that time, never
    over an earlier answer). Raises ``SourceUnavailable`` when the CDN cannot be reached and
    ``SourceError`` when it answers without the game."""
    fetched_at = naive_utc(now())
    body = client.get(
        ENDPOINT.format(game_id=game_id),
        {},
        key=f"{fetched_at:%Y%m%dT%H%M%SZ}",
        validate=_usable,
        use_cache=False,
    )
    return body, fetched_at


@dataclass
class InactiveLists:
    """What one round of the feed gave: each team's players (``FIELDS`` rows, status ``inactive``
    or ``active``), the games whose box score it had (a game there with no inactive row has nobody
    inactive), and why some are missing."""

    rows: pd.DataFrame
    games: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)


def fetch_inactive(
    engine: sa.Engine,
    pulled_dir: Path,
    games: pd.DataFrame,
    now: Callable[[], dt.datetime] = utcnow,
    settings: ApiSettings | None = None,
) -> InactiveLists:
    """Ask the live box score of each of ``games`` (game_id, game_date) for its players, inactive
    and active, and store what comes back. A game the CDN does not have yet adds nothing; an
    unreachable feed is a warning and the remaining games are not asked."""
    client = odds_client(Path(pulled_dir) / "cdn", settings or ApiSettings.from_env())
    out = InactiveLists(pd.DataFrame(columns=FIELDS))
    parts = []
    for g in games.itertuples(index=False):
        try:
            body, at = fetch_box_score(client, str(g.game_id), now)
            if str(body["game"].get("gameId")) != str(g.game_id):
                raise BoxScoreFormatError(
                    f"asked for game {g.game_id}, answered {body['game'].get('gameId')}"
                )
            parts.append(parse_roster(body, pd.Timestamp(g.game_date).date(), at))
            out.games.add(str(g.game_id))
        except SourceUnavailable as exc:
            out.warnings.append(f"live box score feed unreachable, inactive lists not fetched: {exc}")
            break
        except SourceError as exc:
            log.info("no live box score of %s yet: %s", g.game_id, exc)
    if parts:
        out.rows = pd.concat(parts, ignore_index=True)
        append_reports(engine, out.rows)
    return out
