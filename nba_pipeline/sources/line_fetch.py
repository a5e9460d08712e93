"""Fetch the live odds feed now and keep its answer: the raw response under the pulled dir's
``cdn`` cache, its lines in ``fetched_lines`` (:mod:`line_store`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from nba_pipeline.sources.line_store import append_lines
from nba_pipeline.sources.odds import parse_odds


def fetch_and_store(
    engine: sa.Engine, pulled_dir: Path, now: Callable[[], dt.datetime] | None = None
) -> tuple[pd.DataFrame, int, dt.datetime]:
    """Ask the live odds feed now (``now``: the clock, for replays), keep its answer
    (``pulled_dir/cdn``) and its lines (``fetched_lines``): the lines, how many were new, and when
    they were fetched. Raises ``SourceUnavailable`` naming the endpoint when the feed cannot be
    reached."""
    from nba_pipeline.sources.client import ApiSettings
    from nba_pipeline.sources.odds import fetch_odds, odds_client

    client = odds_client(Path(pulled_dir) / "cdn", ApiSettings.from_env())
    body, fetched_at = fetch_odds(client) if now is None else fetch_odds(client, now=now)
    lines = parse_odds(body, fetched_at)
    return lines, append_lines(engine, lines), fetched_at
