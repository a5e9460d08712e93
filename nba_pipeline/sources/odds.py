"""Tonight's lines from the live CDN's odds feed (``nba_api.live.nba.endpoints.odds``).

Why: the market's pregame line is the best single pregame input, and the shipped odds end with
2023-24; this feed is the free source of lines for games not played yet. It lists today's games,
each with markets quoted per book (``2way``: the moneyline, decimal odds; ``spread``: each side's
handicap, the home side's negative when it is favoured), and it is replaced through the day (a game
drops out at tip-off). So every answer is kept with the time it was fetched (``sources.line_store``), and
the line a game uses is the last one fetched before its tip-off.

One row per game (:func:`parse_odds`, pure; ``LINE_FIELDS``):

- ``market_p_home``: per book, each side's odds -> implied probability (decimal ``d``: 1/d;
  American ``+a``: 100/(a+100), ``-a``: a/(a+100)), the vig removed by normalizing the two sides
  to sum to 1; then the median over books (a book with one side off is a typo the median ignores);
- ``home_spread``: the home outcome's handicap (the away one's, negated, where the home one is
  missing), median over books;
- ``market_total``: the over/under where the feed has a totals market, else NaN: a missing market
  is missing, never 0;
- ``books``: the books that quoted a usable moneyline, spread or total for the game.

The feed lists some books once per country (Novibet, GR and CY) with the same quotes; such a book
counts once, or its quote would weigh twice in the median.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nba_pipeline.db import naive_utc
from nba_pipeline.sources.client import ApiSettings, SourceError, StatsClient

SOURCE = "nba_api_odds"
ENDPOINT = "odds/odds_todaysGames.json"  # nba_api's Odds.endpoint_url, on cdn.nba.com's liveData
MONEYLINE_MARKETS = frozenset({"2way", "moneyline"})
SPREAD_MARKETS = frozenset({"spread", "spreads"})
# The sample response has no totals market; these are the names such a market would plausibly
# carry. Its outcomes (over, under) hold the line in ``spread`` or ``total``.
TOTAL_MARKETS = frozenset({"totals", "total", "over/under", "over_under", "overunder"})
LINE_FIELDS = [
    "game_id",
    "source",
    "fetched_at",  # naive UTC, as the forecast ledger keeps times
    "home_team_id",
    "away_team_id",
    "market_p_home",
    "home_spread",
    "market_total",
    "books",
]


class OddsFormatError(SourceError):
    """The odds response does not have the feed's shape; the message names the field, e.g.
    ``games[0].markets``."""


def american_probability(x: np.ndarray | pd.Series) -> np.ndarray:
    """The implied probability of American odds: ``+a`` -> 100 / (a + 100), ``-a`` -> a / (a + 100)."""
    x = np.asarray(x, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(x > 0, 100.0 / (x + 100.0), -x / (-x + 100.0))


def implied_probability(odds: pd.Series) -> np.ndarray:
    """The implied probability of each quote, as the feed gives it: decimal (``"1.370"``, above 1)
    or American (signed, or at least 100 in size: ``"-150"``, ``"+130"``); NaN for anything else,
    so a malformed quote drops its book instead of skewing the median."""
    text = odds.astype("string").str.strip()
    x = pd.to_numeric(text, errors="coerce").astype("float64").to_numpy()
    signed = text.str.match(r"^[+-]").fillna(False).to_numpy(dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        american = np.abs(x) >= 100  # no American quote lies strictly between -100 and +100
        decimal = ~signed & (x > 1.0) & (x < 100)
        return np.where(american, american_probability(x), np.where(decimal, 1.0 / x, np.nan))


def _game_rows(response: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    games = response.get("games") if isinstance(response, Mapping) else None
    if not isinstance(games, list):
        raise OddsFormatError("odds response has no 'games' list (is it odds_todaysGames.json?)")
    _check_nesting(games, "games", ("markets", "books", "outcomes"))
    return games


def _check_nesting(items: list[Any], where: str, levels: tuple[str, ...]) -> None:
    """Every item an object and each of ``levels`` (when present) a list of objects, so a malformed
    answer is refused naming the field (``games[0].markets``) instead of failing deep in parsing."""
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise OddsFormatError(f"{where}[{i}] is {type(item).__name__} {item!r:.40}, not an object")
        if not levels:
            continue
        inner = item.get(levels[0])
        if inner is None:
            continue
        if not isinstance(inner, list):
            field = f"{where}[{i}].{levels[0]}"
            raise OddsFormatError(f"{field} is {type(inner).__name__} {inner!r:.40}, not a list")
        _check_nesting(inner, f"{where}[{i}].{levels[0]}", levels[1:])


def _outcomes(games: list[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per quoted outcome: game, market, book, side, odds, line; a book listed again in the
    same market (once per country) kept once."""
    rows = [
        (
            str(g.get("gameId")),
            str(m.get("name") or "").lower(),
            str(b.get("id") or b.get("name") or ""),
            str(o.get("type") or "").lower(),
            o.get("odds"),
            o.get("spread", o.get("total")),
        )
        for g in games
        for m in g.get("markets") or []
        for b in m.get("books") or []
        for o in b.get("outcomes") or []
    ]
    cols = ["game_id", "market", "book", "side", "odds", "line"]
    out = pd.DataFrame(rows, columns=cols, dtype=object)
    out = out.drop_duplicates(["game_id", "market", "book", "side"], keep="first")
    out["line"] = pd.to_numeric(out["line"], errors="coerce").astype("float64")
    return out


def _per_book(quotes: pd.DataFrame, value: str) -> pd.DataFrame:
    """(game, book) rows with one column per side (home, away, over, under) of ``value``."""
    wide = quotes.set_index(["game_id", "book", "side"])[value].unstack("side")
    return wide.reindex(columns=sorted(set(wide.columns) | {"home", "away", "over", "under"}))


def _median(per_book: pd.Series) -> tuple[pd.Series, pd.Index]:
    """The median over books per game, and the (game, book) pairs that counted."""
    ok = per_book[np.isfinite(per_book.astype("float64"))]
    return ok.groupby(level="game_id").median(), ok.index


def parse_odds(response: Mapping[str, Any], fetched_at: dt.datetime, source: str = SOURCE) -> pd.DataFrame:
    """One row per game of an odds response (``LINE_FIELDS``; module docstring), in the feed's
    order; a game without a usable market has NaN figures and 0 books. ``fetched_at``: when the
    answer was fetched (stored naive UTC)."""
    games = _game_rows(response)
    out = pd.DataFrame(
        {
            "game_id": [str(g.get("gameId")) for g in games],
            "home_team_id": pd.array([_team(g.get("homeTeamId")) for g in games], dtype="Int64"),
            "away_team_id": pd.array([_team(g.get("awayTeamId")) for g in games], dtype="Int64"),
        }
    ).drop_duplicates("game_id")
    q = _outcomes(games)
    counted = []
    ml = q[q["market"].isin(MONEYLINE_MARKETS)].assign(p=lambda d: implied_probability(d["odds"]))
    p = _per_book(ml, "p")
    p_med, used = _median(p["home"] / (p["home"] + p["away"]))
    counted.append(used)
    sp = _per_book(q[q["market"].isin(SPREAD_MARKETS)], "line")
    spread_med, used = _median(sp["home"].fillna(-sp["away"]))
    counted.append(used)
    tot = _per_book(q[q["market"].isin(TOTAL_MARKETS)], "line")
    total_med, used = _median(tot["over"].fillna(tot["under"]))
    counted.append(used)
    pairs = pd.concat([i.to_frame(index=False) for i in counted], ignore_index=True)
    n_books = pairs.drop_duplicates().groupby("game_id").size()
    gid = out["game_id"]
    out["market_p_home"] = gid.map(p_med).astype("float64")
    out["home_spread"] = gid.map(spread_med).astype("float64")
    out["market_total"] = gid.map(total_med).astype("float64")
    out["books"] = gid.map(n_books).fillna(0).astype("int64")
    out["fetched_at"] = pd.Timestamp(naive_utc(fetched_at))
    out["source"] = source
    return out[LINE_FIELDS].reset_index(drop=True)


def _team(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def utcnow() -> dt.datetime:
    """Now, naive UTC, to the second (a fetch's time; tests give their own)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def odds_client(cache_dir: Path, settings: ApiSettings | None = None, **kw: Any) -> StatsClient:
    """A :class:`StatsClient` for the live CDN (cdn.nba.com) instead of stats.nba.com: the same
    delay, retries and errors that name the endpoint; nba_api's CDN headers (the stats headers
    name another host)."""
    from dataclasses import replace

    from nba_api.live.nba.library.http import NBALiveHTTP

    api = replace(settings or ApiSettings(), headers=None)
    return StatsClient(cache_dir, api, http=NBALiveHTTP, host="cdn.nba.com", **kw)


def _usable(body: dict) -> str | None:
    return None if isinstance(body.get("games"), list) else "no 'games' list in the answer"


def fetch_odds(
    client: StatsClient, now: Callable[[], dt.datetime] = utcnow
) -> tuple[dict[str, Any], dt.datetime]:
    """The feed's answer now and the time it was asked for. Every answer is also written to the
    client's cache under that time (``<cache>/odds/odds_todaysgames.json/<time>.json``), never
    over an earlier one. Raises ``SourceUnavailable`` (naming the endpoint) when the CDN stays
    unreachable."""
    fetched_at = naive_utc(now())
    key = f"{fetched_at:%Y%m%dT%H%M%SZ}"
    body = client.get(ENDPOINT, {}, key=key, validate=_usable, use_cache=False)
    return body, fetched_at
