"""A polite, robust layer over nba_api's own HTTP client, with every raw response cached on disk.

Why: stats.nba.com rate-limits and blocks aggressively, answers 429/5xx or hangs under load, and
sometimes returns ``{}`` or a truncated body for a game that is over. A season pull is ~2,500
requests, so a rerun must fetch only what is missing, and a bad answer must never be kept:

- requests go through ``nba_api.stats.library.http.NBAStatsHTTP.send_api_request`` (the
  package's own client and headers; the endpoint classes only build the exact parameters);
- at least ``delay_s`` (default 0.6 s) between two requests; a ``timeout_s`` per request;
- retries with exponential backoff on HTTP 429 / 5xx, timeouts, connection errors, bodies that
  are not JSON, and bodies the caller's validator rejects (``{}``, no actions);
- one JSON file per endpoint and key under the cache dir, written atomically (temporary file +
  ``os.replace``): a killed pull leaves either the old file or the new one, never half of one;
- when the API stays unreachable, :class:`SourceUnavailable` names the endpoint and the key
  (game id, season, date); nothing already stored is touched.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_DELAY_S = 0.6


class SourceError(RuntimeError):
    """The source could not produce a usable response."""


class SourceUnavailable(SourceError):
    """stats.nba.com stayed unreachable or kept failing for one request (named in the message)."""


class EmptyResponse(SourceError):
    """The API answered, but with nothing usable (``{}``, a finished game without actions)."""


@dataclass
class ApiSettings:
    """How to talk to stats.nba.com: politeness, robustness, and the way out of a block."""

    delay_s: float = DEFAULT_DELAY_S
    timeout_s: float = 30.0
    retries: int = 4  # attempts after the first one
    backoff_s: float = 2.0  # first retry wait; doubles each time
    max_backoff_s: float = 60.0
    headers: dict[str, str] | None = None  # None: nba_api's browser-like defaults
    proxy: str | None = None  # e.g. "http://user:pass@host:3128"
    season_max_age_s: float = 6 * 3600  # schedule / game log responses older than this are refetched

    @classmethod
    def from_env(cls, **overrides: Any) -> ApiSettings:
        """Settings from the environment, then ``overrides`` (None values ignored):
        ``NBA_API_DELAY_S``, ``NBA_API_TIMEOUT_S``, ``NBA_API_RETRIES``, ``NBA_API_PROXY``,
        ``NBA_API_HEADERS`` (a JSON object merged over nba_api's browser-like headers)."""
        env = os.environ
        kw: dict[str, Any] = {}
        for name, var, conv in (
            ("delay_s", "NBA_API_DELAY_S", float),
            ("timeout_s", "NBA_API_TIMEOUT_S", float),
            ("retries", "NBA_API_RETRIES", int),
            ("proxy", "NBA_API_PROXY", str),
        ):
            if env.get(var):
                try:
                    kw[name] = conv(env[var])
                except ValueError as exc:
                    raise ValueError(f"environment variable {var}={env[var]!r}: {exc}") from exc
        if env.get("NBA_API_HEADERS"):
            try:
                extra = json.loads(env["NBA_API_HEADERS"])
            except ValueError as exc:
                raise ValueError(f"environment variable NBA_API_HEADERS is not a JSON object: {exc}") from exc
            kw["headers"] = extra
        kw.update({k: v for k, v in overrides.items() if v is not None})
        if kw.get("headers"):
            from nba_api.stats.library.http import STATS_HEADERS

            kw["headers"] = {**STATS_HEADERS, **kw["headers"]}
        return cls(**kw)

    def __post_init__(self) -> None:
        if self.delay_s < 0 or self.timeout_s <= 0 or self.retries < 0 or self.backoff_s < 0:
            raise ValueError(f"invalid API settings: {self}")


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write JSON to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, separators=(",", ":"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class StatsClient:
    """Cached, rate-limited, retrying GETs to stats.nba.com endpoints (see the module docstring)."""

    cache_dir: Path
    settings: ApiSettings = field(default_factory=ApiSettings)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    requests_made: int = 0
    cache_hits: int = 0
    retries_made: int = 0
    offline: bool = False  # cache only: a missing response raises instead of being requested
    # nba_api's HTTP class (None: NBAStatsHTTP); the live CDN feeds take NBALiveHTTP, and ``host``
    # names the server in the messages, so an unreachable feed is reported as itself.
    http: Callable[[], Any] | None = None
    host: str = "stats.nba.com"
    _last_request: float | None = None

    def __post_init__(self) -> None:
        self.cache_dir = Path(self.cache_dir)

    def cache_path(self, endpoint: str, key: str) -> Path:
        return self.cache_dir / endpoint.lower() / f"{key}.json"

    def cached(self, endpoint: str, key: str, max_age_s: float | None = None) -> dict | None:
        """The stored response, or None when absent, unreadable or older than ``max_age_s``."""
        p = self.cache_path(endpoint, key)
        if not p.exists():
            return None
        if max_age_s is not None and time.time() - p.stat().st_mtime > max_age_s:
            return None
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("cached response %s unreadable: fetched again", p)
            return None

    def get(
        self,
        endpoint: str,
        parameters: dict[str, Any],
        key: str,
        validate: Callable[[dict], str | None] | None = None,
        max_age_s: float | None = None,
        use_cache: bool = True,
    ) -> dict:
        """The response of ``endpoint`` with ``parameters``, from the cache when there, else fetched.

        ``validate(body)`` returns None for a usable body, else a reason: such a body is retried and
        never stored; if it persists, :class:`EmptyResponse`. Network trouble that outlasts the
        retries raises :class:`SourceUnavailable`.
        """
        if use_cache:
            hit = self.cached(endpoint, key, max_age_s)
            if hit is not None and (validate is None or validate(hit) is None):
                self.cache_hits += 1
                return hit
        body = self._fetch(endpoint, parameters, key, validate)
        atomic_write_json(self.cache_path(endpoint, key), body)
        return body

    def _wait_turn(self) -> None:
        if self._last_request is not None:
            wait = self.settings.delay_s - (self.clock() - self._last_request)
            if wait > 0:
                self.sleep(wait)

    def _fetch(
        self,
        endpoint: str,
        parameters: dict[str, Any],
        key: str,
        validate: Callable[[dict], str | None] | None,
    ) -> dict:
        import requests
        from nba_api.stats.library.http import NBAStatsHTTP

        what = f"{endpoint} {key}"
        if self.offline:
            raise SourceUnavailable(f"offline: {what} is not in the cache {self.cache_path(endpoint, key)}")
        s = self.settings
        last_problem = ""
        empty = False
        for attempt in range(s.retries + 1):
            if attempt:
                self.retries_made += 1
                self.sleep(min(s.backoff_s * 2 ** (attempt - 1), s.max_backoff_s))
            self._wait_turn()
            self.requests_made += 1
            try:
                resp = (self.http or NBAStatsHTTP)().send_api_request(
                    endpoint=endpoint,
                    parameters=dict(parameters),
                    proxy=s.proxy,
                    headers=s.headers,
                    timeout=s.timeout_s,
                )
            except requests.Timeout as exc:
                last_problem, empty = f"timeout after {s.timeout_s:g} s ({type(exc).__name__})", False
                continue
            except requests.RequestException as exc:
                last_problem, empty = f"connection failed ({type(exc).__name__}: {exc})", False
                continue
            finally:
                self._last_request = self.clock()
            # NBAResponse has no public status accessor; the attribute is set by send_api_request
            status = getattr(resp, "_status_code", None)
            if status is not None and status != 200:
                last_problem, empty = f"HTTP {status}", False
                if status == 429 or status >= 500:
                    continue
                raise SourceError(
                    f"{self.host} {what}: HTTP {status} (not retried): {str(resp.get_response())[:200]}"
                )
            try:
                body = resp.get_dict()
            except ValueError:
                last_problem, empty = "body is not JSON (truncated or an error page)", False
                continue
            reason = "empty JSON object" if body in ({}, None) else (validate(body) if validate else None)
            if reason:
                last_problem, empty = reason, True
                continue
            return body
        if empty:
            raise EmptyResponse(
                f"{self.host} {what}: {last_problem} after {s.retries + 1} attempts; nothing stored"
            )
        raise SourceUnavailable(
            f"{self.host} unreachable for {what}: {last_problem} after {s.retries + 1} attempts "
            f"(proxy={'set' if s.proxy else 'none'}); responses already cached are kept. "
            "If the machine is blocked, set a proxy, other headers or a longer delay (see README)."
        )
