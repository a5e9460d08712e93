"""sources.odds: the live odds feed's answer -> one line per game (no-vig probability, spread,
total, books), checked by hand on the real saved response; the fetch through nba_api's CDN client,
replayed from that response (no network)."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from statistics import median

import numpy as np
import pandas as pd
import pytest
import requests

from nba_pipeline.sources.client import ApiSettings, SourceUnavailable
from nba_pipeline.sources.odds import (
    ENDPOINT,
    LINE_FIELDS,
    SOURCE,
    OddsFormatError,
    fetch_odds,
    implied_probability,
    odds_client,
    parse_odds,
)

GAME = "0022400913"
T0 = dt.datetime(2025, 3, 1, 15, 0, 0)


def test_the_saved_game_matches_a_hand_computation_from_the_file(odds_response):
    # 2way, decimal odds (home, away); Novibet is listed twice (GR, CY) with the same quotes: once.
    ml = {
        "Sportsbet": (1.370, 3.220),
        "Novibet": (1.370, 3.200),
        "FanDuel": (1.370, 3.200),
        "Olybet": (3.050, 1.350),  # the sides look swapped: the median ignores it
        "TabAustralia": (1.370, 3.200),
        "BetMGMCanadaOntario": (1.351, 3.250),
    }
    p = median((1 / h) / (1 / h + 1 / a) for h, a in ml.values())
    assert p == pytest.approx(3.2 / 4.57)  # = 0.70022
    # spread, the home side's: Sportsbet, Mozzartbet, Novibet, FanDuel, TabAustralia,
    # SportingbetBr, BetMGMCanadaOntario
    spread = median([-6.5, -7.5, -6.5, -7.0, -6.5, -17.5, -7.5])
    assert spread == -7.0

    row = parse_odds(odds_response, T0).iloc[0]
    assert row["game_id"] == GAME
    assert (row["home_team_id"], row["away_team_id"]) == (1610612745, 1610612740)
    assert row["market_p_home"] == pytest.approx(p, abs=1e-12)
    assert round(row["market_p_home"], 4) == 0.7002
    assert row["home_spread"] == spread
    assert np.isnan(row["market_total"])  # no totals market: missing, not 0
    assert row["books"] == 8  # the 6 moneyline books plus Mozzartbet and SportingbetBr (spread only)
    assert row["fetched_at"] == pd.Timestamp(T0)
    assert row["source"] == SOURCE


def test_a_book_listed_twice_counts_once(odds_response):
    """Counted twice, Novibet's -6.5 would move the spread's median to -6.75."""
    assert parse_odds(odds_response, T0)["home_spread"].iloc[0] == -7.0
    spreads = [
        float(o["spread"])
        for m in odds_response["games"][0]["markets"]
        if m["name"] == "spread"
        for b in m["books"]
        for o in b["outcomes"]
        if o["type"] == "home"
    ]
    assert len(spreads) == 8 and median(spreads) == -6.75


def test_one_row_per_game_with_the_table_columns_and_an_aware_time_stored_as_utc(odds_response):
    second = copy.deepcopy(odds_response["games"][0])
    second["gameId"] = "0022400914"
    odds_response["games"].append(second)
    aware = dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    out = parse_odds(odds_response, aware)
    assert list(out.columns) == LINE_FIELDS
    assert out["game_id"].tolist() == [GAME, "0022400914"]
    assert (out["fetched_at"] == pd.Timestamp(T0)).all()


def test_implied_probabilities_of_decimal_and_american_quotes():
    got = implied_probability(
        pd.Series(["2.50", "1.370", "-150", "+130", "150", "-100", "0.9", "x", None, "-50"])
    )
    want = [0.4, 1 / 1.37, 0.6, 100 / 230, 0.4, 0.5]
    np.testing.assert_allclose(got[:6], want)
    assert np.isnan(got[6:]).all()  # below 1 decimal, not a number, missing, an impossible American


def _book(book: str, home: object, away: object, line: str | None = None, sides=("home", "away")) -> dict:
    outs = []
    for side, odds in zip(sides, (home, away), strict=True):
        o = {"type": side, "odds": odds}
        if line is not None:
            o["spread"] = line if side in ("home", "over", "under") else str(-float(line))
        outs.append(o)
    return {"id": book, "name": book, "outcomes": outs}


def _game(gid: str, markets: list[dict]) -> dict:
    return {"gameId": gid, "homeTeamId": "1610612745", "awayTeamId": "1610612740", "markets": markets}


def test_a_book_missing_a_market_and_a_game_with_a_total():
    game = _game(
        "0022400001",
        [
            {"name": "2way", "books": [_book("a", "-150", "+130"), _book("b", "1.50", "2.70")]},
            {"name": "spread", "books": [_book("a", "1.9", "1.9", "-3.5"), _book("c", "1.9", "1.9", "-4.5")]},
            {
                "name": "totals",
                "books": [
                    _book("a", "1.9", "1.9", "221.5", sides=("over", "under")),
                    _book("d", "1.9", "1.9", "223.5", sides=("over", "under")),
                ],
            },
        ],
    )
    row = parse_odds({"games": [game]}, T0).iloc[0]
    pa = 0.6 / (0.6 + 100 / 230)
    pb = (1 / 1.5) / (1 / 1.5 + 1 / 2.7)
    assert row["market_p_home"] == pytest.approx((pa + pb) / 2)
    assert row["home_spread"] == -4.0
    assert row["market_total"] == 222.5
    assert row["books"] == 4  # a (every market), b (moneyline), c (spread), d (total)


def test_missing_sides_and_bad_quotes_drop_the_book_not_the_game():
    game = _game(
        "0022400002",
        [
            {
                "name": "2way",
                "books": [
                    {"id": "one_side", "outcomes": [{"type": "home", "odds": "1.5"}]},
                    _book("garbled", "n/a", "2.5"),
                    _book("ok", "2.0", "2.0"),
                ],
            },
            # only the away handicap: the home one is its negative
            {
                "name": "spread",
                "books": [{"id": "away_only", "outcomes": [{"type": "away", "spread": "2.5"}]}],
            },
        ],
    )
    empty = _game("0022400003", [])
    out = parse_odds({"games": [game, empty]}, T0)
    assert out.loc[0, "market_p_home"] == 0.5
    assert out.loc[0, "home_spread"] == -2.5
    assert out.loc[0, "books"] == 2  # ok, away_only
    assert out.loc[1, ["market_p_home", "home_spread", "market_total"]].isna().all()
    assert out.loc[1, "books"] == 0


def test_an_answer_without_games_is_a_format_error_and_no_games_is_no_rows():
    with pytest.raises(OddsFormatError, match="no 'games' list"):
        parse_odds({"scoreboard": {}}, T0)
    assert parse_odds({"games": []}, T0).empty


# ---- the fetch, through nba_api's CDN client with the saved body as the answer -----------------


def _client(tmp_path: Path):
    return odds_client(tmp_path / "cdn", ApiSettings(delay_s=0, retries=1, backoff_s=0), sleep=lambda s: None)


def test_each_fetch_is_kept_under_its_time(odds_response, live_feed, tmp_path):
    later = copy.deepcopy(odds_response)
    later["games"][0]["markets"][1]["books"][0]["outcomes"][0]["spread"] = "-8.5"
    session = live_feed(odds_response, later)
    client = _client(tmp_path)
    body1, t1 = fetch_odds(client, now=lambda: T0)
    body2, t2 = fetch_odds(client, now=lambda: T0 + dt.timedelta(hours=2))
    assert (t1, t2) == (T0, T0 + dt.timedelta(hours=2))
    assert body1 == odds_response and body2 == later
    url, host = session.urls[0]
    assert url == f"https://cdn.nba.com/static/json/liveData/{ENDPOINT}" and host == "cdn.nba.com"
    kept = sorted(p.name for p in (tmp_path / "cdn").rglob("*.json") if p.is_file())
    assert kept == ["20250301T150000Z.json", "20250301T170000Z.json"]


def test_an_unreachable_feed_names_the_cdn_and_the_endpoint_and_stores_nothing(live_feed, tmp_path):
    live_feed(requests.ConnectionError("no route to host"))
    with pytest.raises(SourceUnavailable, match=r"cdn\.nba\.com unreachable for odds/odds_todaysGames\.json"):
        fetch_odds(_client(tmp_path), now=lambda: T0)
    assert not [p for p in (tmp_path / "cdn").rglob("*") if p.is_file()]
