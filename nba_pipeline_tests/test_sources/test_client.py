"""Faults of the HTTP layer, through nba_api's own client: crafted cassettes (a 429, a 503, an empty
``{}`` before the real recorded response) and a wrapped session (a timeout, no network at all)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from nba_pipeline.sources.client import (
    ApiSettings,
    EmptyResponse,
    SourceError,
    SourceUnavailable,
    StatsClient,
)
from nba_pipeline.sources.endpoints import fetch_pbp

from .conftest import GAME, MATCH_ON, crafted_cassette

N_ACTIONS = 560


class Sleeps:
    """Records the waits instead of sleeping (the tests stay fast and see the backoff)."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, s: float) -> None:
        self.calls.append(s)


def _client(tmp_path: Path, sleeps: Sleeps, **kw) -> StatsClient:
    api = ApiSettings(**{"delay_s": 0.6, "backoff_s": 2.0, "retries": 3, **kw})
    return StatsClient(tmp_path / "cache", api, sleep=sleeps, clock=lambda: 0.0)


def _files(client: StatsClient) -> list[Path]:
    return sorted(p for p in client.cache_dir.rglob("*") if p.is_file())


def _replay_crafted(nba_api_dir: Path, tmp_path: Path, bad: list[tuple[int, str]], keep_good: bool = True):
    import vcr

    folder, name = crafted_cassette(
        nba_api_dir / "cassettes" / f"playbyplayv3_{GAME}.yaml", tmp_path / "cassettes", bad, keep_good
    )
    v = vcr.VCR(cassette_library_dir=str(folder), record_mode="none", match_on=MATCH_ON)
    return v.use_cassette(name, allow_playback_repeats=False)


@pytest.mark.parametrize(
    "bad",
    [
        [(429, "Too Many Requests")],
        [(503, "Service Unavailable")],
        [(200, "{}")],
        [(200, '{"game": {"gameId": "0022200552", "actions": []}}')],  # a finished game without actions
        [(200, '{"game": {"gameId": "0022200552", "act')],  # truncated body
        [(429, "slow down"), (502, "bad gateway"), (200, "{}")],
    ],
    ids=["429", "503", "empty-object", "no-actions", "truncated", "three-faults"],
)
def test_fault_then_success_gives_the_complete_response_and_caches_only_it(nba_api_dir, tmp_path, bad):
    sleeps = Sleeps()
    client = _client(tmp_path, sleeps)
    with _replay_crafted(nba_api_dir, tmp_path, bad) as cas:
        body = fetch_pbp(client, GAME)
        assert cas.play_count == len(bad) + 1
    assert len(body["game"]["actions"]) == N_ACTIONS
    assert client.requests_made == len(bad) + 1
    assert client.retries_made == len(bad)
    # backoff doubles (2, 4, ...) and the polite delay is kept before every retry
    backoffs = [s for s in sleeps.calls if s != 0.6]
    assert backoffs == [2.0 * 2**i for i in range(len(bad))]
    files = _files(client)
    assert [p.name for p in files] == [f"{GAME}.json"]
    assert len(json.loads(files[0].read_text())["game"]["actions"]) == N_ACTIONS
    # a rerun reads the cache: no request
    again = _client(tmp_path, Sleeps())
    assert fetch_pbp(again, GAME) == body and again.requests_made == 0 and again.cache_hits == 1


def test_an_empty_response_that_persists_is_never_stored(nba_api_dir, tmp_path):
    client = _client(tmp_path, Sleeps(), retries=2)
    cas = _replay_crafted(nba_api_dir, tmp_path, [(200, "{}")] * 3, keep_good=False)
    msg = rf"playbyplayv3 {GAME}: empty JSON object after 3 attempts"
    with cas, pytest.raises(EmptyResponse, match=msg):
        fetch_pbp(client, GAME)
    assert _files(client) == []


def test_a_client_error_is_not_retried(nba_api_dir, tmp_path):
    client = _client(tmp_path, Sleeps())
    cas = _replay_crafted(nba_api_dir, tmp_path, [(404, "not found")], keep_good=False)
    with cas, pytest.raises(SourceError, match=rf"playbyplayv3 {GAME}: HTTP 404 \(not retried\)"):
        fetch_pbp(client, GAME)
    assert client.requests_made == 1 and _files(client) == []


class FlakySession:
    """Wraps nba_api's session: raises ``errors`` first (one per call), then passes calls on."""

    def __init__(
        self, inner: requests.Session, errors: list[Exception] | None, always: Exception | None = None
    ):
        self.inner, self.errors, self.always, self.calls = inner, list(errors or []), always, 0

    def get(self, **kw):
        self.calls += 1
        if self.always is not None:
            raise self.always
        if self.errors:
            raise self.errors.pop(0)
        return self.inner.get(**kw)


def _wrap_session(monkeypatch, session: FlakySession) -> None:
    from nba_api.stats.library.http import NBAStatsHTTP

    monkeypatch.setattr(NBAStatsHTTP, "get_session", classmethod(lambda cls: session))


def test_a_timeout_then_success(replay, tmp_path, monkeypatch):
    session = FlakySession(requests.Session(), [requests.ReadTimeout("read timed out")])
    _wrap_session(monkeypatch, session)
    client = _client(tmp_path, Sleeps(), timeout_s=5)
    with replay.use_cassette(f"playbyplayv3_{GAME}.yaml"):
        body = fetch_pbp(client, GAME)
    assert len(body["game"]["actions"]) == N_ACTIONS
    assert session.calls == 2 and client.retries_made == 1
    assert [p.name for p in _files(client)] == [f"{GAME}.json"]


def test_offline_gives_a_clear_error_and_keeps_what_is_stored(tmp_path, monkeypatch):
    client = _client(tmp_path, Sleeps(), retries=2)
    kept = client.cache_path("playbyplayv3", "0022200001")
    kept.parent.mkdir(parents=True)
    end = {"period": 4, "actionType": "period", "subType": "end"}
    kept.write_text(json.dumps({"game": {"gameId": "0022200001", "actions": [end]}}))
    before = kept.read_bytes()
    no_net = requests.ConnectionError("Failed to resolve 'stats.nba.com' (Name or service not known)")
    session = FlakySession(requests.Session(), None, always=no_net)
    _wrap_session(monkeypatch, session)
    with pytest.raises(SourceUnavailable) as err:
        fetch_pbp(client, GAME)
    msg = str(err.value)
    assert "stats.nba.com unreachable for playbyplayv3 0022200552" in msg
    assert "connection failed" in msg and "after 3 attempts" in msg
    assert session.calls == 3
    assert kept.read_bytes() == before and _files(client) == [kept]
    # a cached game is still served without the network
    assert fetch_pbp(client, "0022200001")["game"]["gameId"] == "0022200001"


def test_offline_mode_never_touches_the_network(tmp_path, monkeypatch):
    session = FlakySession(requests.Session(), None, always=AssertionError("network used"))
    _wrap_session(monkeypatch, session)
    client = StatsClient(tmp_path, ApiSettings(), offline=True)
    with pytest.raises(SourceUnavailable, match=r"offline: playbyplayv3 0022200552 is not in the cache"):
        fetch_pbp(client, GAME)
    assert session.calls == 0


def test_delay_between_requests(replay, tmp_path):
    sleeps = Sleeps()
    t = iter([0.0, 0.1, 0.1, 0.2, 0.2, 0.25])  # clock reads: after 1st request, before/after 2nd ...
    client = StatsClient(tmp_path, ApiSettings(delay_s=0.6), sleep=sleeps, clock=lambda: next(t))
    with replay.use_cassette(f"playbyplayv3_{GAME}.yaml"):
        fetch_pbp(client, GAME)
    with replay.use_cassette(f"boxscoretraditionalv3_{GAME}.yaml"):
        from nba_pipeline.sources.endpoints import fetch_box

        fetch_box(client, GAME)
    assert sleeps.calls == [pytest.approx(0.5)]  # 0.6 s minus the 0.1 s already passed


def test_settings_are_checked():
    with pytest.raises(ValueError, match="invalid API settings"):
        ApiSettings(delay_s=-1)


def test_settings_from_the_environment(monkeypatch):
    from nba_api.stats.library.http import STATS_HEADERS

    monkeypatch.setenv("NBA_API_DELAY_S", "1.5")
    monkeypatch.setenv("NBA_API_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NBA_API_HEADERS", '{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"}')
    s = ApiSettings.from_env(retries=7, timeout_s=None)
    assert (s.delay_s, s.proxy, s.retries, s.timeout_s) == (1.5, "http://proxy.example:3128", 7, 30.0)
    assert s.headers["User-Agent"] == "Mozilla/5.0 (X11; Linux x86_64)"
    assert s.headers["Referer"] == STATS_HEADERS["Referer"]  # merged over nba_api's headers
    assert ApiSettings.from_env(delay_s=0.0).delay_s == 0.0  # an explicit value wins
    monkeypatch.setenv("NBA_API_DELAY_S", "slow")
    with pytest.raises(ValueError, match="NBA_API_DELAY_S='slow'"):
        ApiSettings.from_env()
