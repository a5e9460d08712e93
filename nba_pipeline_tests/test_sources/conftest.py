"""Fixtures of the source tests: the recorded stats.nba.com responses (../shared/data/nba_api),
replayed with vcrpy through nba_api's own HTTP client, so no test touches the network."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from urllib.parse import urlencode

import pytest

from nba_pipeline import settings
from nba_pipeline_tests.missing_data import missing_data

MATCH_ON = ["method", "scheme", "host", "path", "query"]
GAME = "0022200552"
SEASON_PULLED = "2025-26"


@pytest.fixture(scope="session")
def nba_api_dir() -> Path:
    """The recorded responses folder; tests that need it skip, saying why, when it is absent (fail
    under CI)."""
    path = Path(
        os.environ.get("NBA_API_RECORDINGS_DIR", settings.REPO_ROOT.parent / "shared" / "data" / "nba_api")
    )
    if not (path / "cassettes").is_dir():
        missing_data(
            f"recorded stats.nba.com responses not found at {path} "
            "(set NBA_API_RECORDINGS_DIR to the folder with cassettes/ and responses/)"
        )
    return path


@pytest.fixture(scope="session")
def replay(nba_api_dir: Path):
    """A vcr.VCR that only replays the recorded cassettes (record_mode='none': no network)."""
    import vcr

    return vcr.VCR(cassette_library_dir=str(nba_api_dir / "cassettes"), record_mode="none", match_on=MATCH_ON)


@pytest.fixture(scope="session")
def gamelog(replay, tmp_path_factory) -> dict:
    """The recorded LeagueGameLog 2025-26 (team rows), replayed through nba_api's client."""
    from nba_pipeline.sources.client import ApiSettings, StatsClient
    from nba_pipeline.sources.endpoints import fetch_gamelog

    client = StatsClient(tmp_path_factory.mktemp("cache"), ApiSettings(delay_s=0))
    with replay.use_cassette(f"leaguegamelog_team_{SEASON_PULLED}.yaml"):
        body = fetch_gamelog(client, SEASON_PULLED)
    assert client.requests_made == 1
    return body


def load_cassette(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def crafted_cassette(
    src: Path, dst_dir: Path, bad: list[tuple[int, str]], keep_good: bool = True
) -> tuple[Path, str]:
    """A cassette whose request is answered first by the ``bad`` (status, body) responses, then
    (``keep_good``) by the real recorded one. Returns the folder and the cassette file name."""
    import yaml

    data = load_cassette(src)
    good = data["interactions"][0]
    inter = []
    for status, body in bad:
        x = copy.deepcopy(good)
        x["response"]["body"]["string"] = body
        x["response"]["status"] = {"code": status, "message": "crafted"}
        x["response"]["headers"] = {
            k: v
            for k, v in x["response"]["headers"].items()
            if k.lower() not in ("content-encoding", "content-length")
        }
        inter.append(x)
    if keep_good:
        inter.append(good)
    data["interactions"] = inter
    dst_dir.mkdir(parents=True, exist_ok=True)
    name = "crafted_" + src.name
    (dst_dir / name).write_text(yaml.safe_dump(data), encoding="utf-8")
    return dst_dir, name


# ---- a season pull through nba_api's client with a fake transport (shared by the pull tests) ----


def synthetic_pbp(recorded: dict, game_id: str, home: int, away: int) -> dict:
    """The recorded 0022200552 actions relabelled as another game (ids and team ids only): synthetic
    content, used to exercise the pull's plumbing, not its numbers."""
    r = copy.deepcopy(recorded)
    r["game"]["gameId"] = game_id
    swap = {1610612739: home, 1610612741: away}
    for a in r["game"]["actions"]:
        a["teamId"] = swap.get(a["teamId"], a["teamId"])
        a["personId"] = swap.get(a["personId"], a["personId"])
    return r


def synthetic_box(recorded: dict, game_id: str, home: int, away: int) -> dict:
    r = copy.deepcopy(recorded)
    b = r["boxScoreTraditional"]
    b["gameId"], b["homeTeamId"], b["awayTeamId"] = game_id, home, away
    b["homeTeam"]["teamId"], b["awayTeam"]["teamId"] = home, away
    return r


class FakeResponse:
    def __init__(self, url: str, status: int, text: str) -> None:
        self.url, self.status_code, self.text = url, status, text


class FakeSession:
    """Answers nba_api's GETs from a dict ``(endpoint, key) -> body``; counts the calls."""

    def __init__(self, bodies: dict[tuple[str, str], object]) -> None:
        self.bodies, self.calls = bodies, []

    def get(self, url, params, headers=None, proxies=None, timeout=None):
        p = dict(params)
        endpoint = url.rsplit("/", 1)[-1]
        key = p.get("GameID") or p.get("Season") or p.get("GameDate")
        self.calls.append((endpoint, key))
        body = self.bodies.get((endpoint, key))
        full = f"{url}?{urlencode(params)}"
        if body is None:
            return FakeResponse(full, 404, "not found")
        return FakeResponse(full, 200, json.dumps(body))


@pytest.fixture()
def pull_setup(gamelog, nba_api_dir, monkeypatch, tmp_path):
    from nba_api.stats.library.http import NBAStatsHTTP

    resp = nba_api_dir / "responses"
    pbp = json.loads((resp / f"playbyplayv3_{GAME}.json").read_text())
    box = json.loads((resp / f"boxscoretraditionalv3_{GAME}.json").read_text())
    keep = {"0022500001", "0022500002", "0022500147"}
    log = copy.deepcopy(gamelog)
    log["resultSets"][0]["rowSet"] = [r for r in log["resultSets"][0]["rowSet"] if r[4] in keep]
    okc, hou, dal, det = 1610612760, 1610612745, 1610612742, 1610612765
    # the synthetic games below score like the recorded one (home side of the pbp 145, other 134)
    col = log["resultSets"][0]["headers"].index("PTS")
    pts = {
        ("0022500001", okc): 145,
        ("0022500001", hou): 134,
        ("0022500147", dal): 145,
        ("0022500147", det): 134,
    }
    for r in log["resultSets"][0]["rowSet"]:
        r[col] = pts.get((r[4], r[1]), r[col])

    def game(gid, date, home, away, status=3, neutral=False):
        return {
            "gameId": gid,
            "gameDateEst": f"{date}T00:00:00Z",
            "gameStatus": status,
            "isNeutral": neutral,
            "homeTeam": {"teamId": home},
            "awayTeam": {"teamId": away},
        }

    schedule = {
        "leagueSchedule": {
            "seasonYear": SEASON_PULLED,
            "gameDates": [
                {
                    "gameDate": "10/21/2025 00:00:00",
                    "games": [
                        game("0022500001", "2025-10-21", okc, hou),
                        game("0022500002", "2025-10-21", 1610612747, 1610612744),
                    ],
                },
                {
                    "gameDate": "11/01/2025 00:00:00",
                    "games": [game("0022500147", "2025-11-01", det, dal, neutral=True)],
                },
                {
                    "gameDate": "03/01/2026 00:00:00",
                    "games": [
                        game("0022500900", "2026-03-01", okc, dal, status=1),
                        game("0022500901", "2026-03-01", det, hou, 1),
                    ],
                },
            ],
        }
    }
    bodies = {
        ("leaguegamelog", SEASON_PULLED): log,
        ("scheduleleaguev2", SEASON_PULLED): schedule,
        ("playbyplayv3", "0022500001"): synthetic_pbp(pbp, "0022500001", okc, hou),
        ("boxscoretraditionalv3", "0022500001"): synthetic_box(box, "0022500001", okc, hou),
        ("playbyplayv3", "0022500002"): {},  # finished, no play-by-play yet
        # Mexico City: the schedule's home is DET, the play-by-play's home side is DAL
        ("playbyplayv3", "0022500147"): synthetic_pbp(pbp, "0022500147", dal, det),
        ("boxscoretraditionalv3", "0022500147"): synthetic_box(box, "0022500147", dal, det),
    }
    session = FakeSession(bodies)
    monkeypatch.setattr(NBAStatsHTTP, "get_session", classmethod(lambda cls: session))
    pulled = tmp_path / "pulled"

    from nba_pipeline.sources.client import ApiSettings, StatsClient
    from nba_pipeline.sources.season import season_cache_dir

    def client() -> StatsClient:
        return StatsClient(
            season_cache_dir(pulled, SEASON_PULLED), ApiSettings(delay_s=0, retries=1, backoff_s=0)
        )

    return {"session": session, "bodies": bodies, "pulled": pulled, "client": client}
