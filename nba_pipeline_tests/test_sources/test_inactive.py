"""sources.inactive: the live box score's inactive list, fetched through nba_api's CDN client,
stored with the time it was had; a game the CDN does not have yet adds nothing, and a feed that
is down is a warning, never an error.

No recorded box score with an inactive list is shipped (../shared/data/nba_api has the V3
traditional box score only), so the answer here is nba_api's documented shape
(``BoxScore.expected_data``) with players marked ``INACTIVE`` as the live feed marks them.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import requests
import sqlalchemy as sa

from nba_pipeline.db import make_engine
from nba_pipeline.sources.availability import reports_known
from nba_pipeline.sources.client import ApiSettings
from nba_pipeline.sources.inactive import (
    SOURCE,
    BoxScoreFormatError,
    fetch_inactive,
    parse_roster,
)

GAME = "0022000180"  # the game of nba_api's documented box score (BOS home, ORL away)
BOS, ORL = 1610612738, 1610612753
DAY = dt.date(2021, 1, 15)
AT = dt.datetime(2021, 1, 15, 23, 0)
QUICK = ApiSettings(delay_s=0, retries=0)


def box_score() -> dict:
    """nba_api's documented live box score, one inactive player per team added."""
    from nba_api.live.nba.endpoints.boxscore import BoxScore

    body = copy.deepcopy(BoxScore.expected_data)
    game = body["game"]
    game["awayTeam"].setdefault("players", [])
    for side, pid, name in (("homeTeam", 1628369, "Jayson Tatum"), ("awayTeam", 203932, "Aaron Gordon")):
        game[side]["players"].append(
            {
                "status": "INACTIVE",
                "notPlayingReason": "INACTIVE_INJURY",
                "order": 15,
                "personId": pid,
                "name": name,
                "starter": "0",
                "played": "0",
            }
        )
    return body


class AnswersWith:
    """nba_api's live HTTP session answering every GET with one HTTP status and body."""

    def __init__(self, status: int, body: object) -> None:
        self.status, self.body = status, body

    def get(self, url, params, headers=None, proxies=None, timeout=None):
        r = requests.Response()
        r.url, r.status_code, r._content = url, self.status, json.dumps(self.body).encode()
        return r


@pytest.fixture()
def engine(tmp_path: Path) -> sa.Engine:
    return make_engine(f"sqlite:///{tmp_path / 'nba.db'}")


GAMES = pd.DataFrame({"game_id": [GAME], "game_date": [DAY]})


def test_the_inactive_players_of_both_teams_are_read():
    rows = parse_roster(box_score(), DAY, AT)
    rows = rows[rows["status"] == "inactive"]
    assert rows[["player_id", "team_id", "status", "game_id"]].values.tolist() == [
        [1628369, BOS, "inactive", GAME],
        [203932, ORL, "inactive", GAME],
    ]
    assert (rows["source"] == SOURCE).all() and (rows["known_at"] == pd.Timestamp(AT)).all()
    with pytest.raises(BoxScoreFormatError, match="no 'game' object"):
        parse_roster({"meta": {}}, DAY, AT)


def test_the_roster_lists_every_player_of_both_teams_active_or_inactive():
    body = box_score()
    rows = parse_roster(body, DAY, AT)
    game = body["game"]
    want = {
        (int(p["personId"]), int(game[side]["teamId"]), "active" if p["status"] == "ACTIVE" else "inactive")
        for side in ("homeTeam", "awayTeam")
        for p in game[side]["players"]
    }
    assert set(map(tuple, rows[["player_id", "team_id", "status"]].values.tolist())) == want
    assert set(rows["status"]) == {"active", "inactive"}


def test_a_fetched_list_is_kept_with_its_time_and_read_back(engine, tmp_path, live_feed):
    session = live_feed(box_score())
    got = fetch_inactive(engine, tmp_path / "pulled", GAMES, now=lambda: AT, settings=QUICK)
    assert got.games == {GAME} and not got.warnings
    assert len(got.rows) == len(parse_roster(box_score(), DAY, AT))
    assert session.urls[0][0].endswith(f"boxscore/boxscore_{GAME}.json")
    stored = reports_known(engine, DAY, AT)
    assert sorted(stored.loc[stored["out"], "player_id"]) == [203932, 1628369]
    assert len(stored) == len(got.rows)  # the active players are kept too: who is on each team
    cached = [p for p in (tmp_path / "pulled" / "cdn").rglob("*.json") if p.is_file()]
    assert len(cached) == 1 and "20210115T230000Z" in cached[0].name


def test_a_game_the_cdn_does_not_have_yet_adds_nothing_and_warns_nothing(engine, tmp_path, monkeypatch):
    from nba_api.live.nba.library.http import NBALiveHTTP

    session = AnswersWith(403, {"Code": "AccessDenied"})
    monkeypatch.setattr(NBALiveHTTP, "get_session", classmethod(lambda cls: session))
    got = fetch_inactive(engine, tmp_path / "pulled", GAMES, now=lambda: AT, settings=QUICK)
    assert got.games == set() and got.rows.empty and not got.warnings


def test_a_feed_that_is_down_is_a_warning(engine, tmp_path, live_feed):
    live_feed(requests.ConnectionError("connection refused"))
    got = fetch_inactive(engine, tmp_path / "pulled", GAMES, now=lambda: AT, settings=QUICK)
    assert got.games == set() and got.rows.empty
    assert (
        len(got.warnings) == 1
        and "unreachable" in got.warnings[0]
        and "connection refused" in got.warnings[0]
    )
