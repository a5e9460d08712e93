"""The Dagster wiring of the source: the ``stats_api`` resource and the ``pulled_season`` asset
(season-partitioned, in the ``stats_nba_com`` pool), materialized through a fake transport."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pandas as pd
import pytest

from nba_pipeline.assets.sources import POOL, current_season, pullable_seasons, pulled_season
from nba_pipeline.ingest.raw import seasons_in
from nba_pipeline.resources import RawData, StatsApi, default_resources

from .conftest import SEASON_PULLED


def test_partitions_are_the_seasons_after_the_shipped_ones(nba_raw_dir, tmp_path):
    raw = RawData(path=str(nba_raw_dir), pulled_path=str(tmp_path))
    last = max(seasons_in(nba_raw_dir))
    assert (
        current_season(dt.date(2026, 2, 1)) == "2025-26" and current_season(dt.date(2026, 10, 1)) == "2026-27"
    )
    got = pullable_seasons(raw, dt.date(2026, 2, 1))
    assert got[0] > last and got[-1] == "2025-26" and not set(got) & set(seasons_in(nba_raw_dir))
    assert pulled_season.op.pool == POOL == "stats_nba_com"


def test_the_resource_is_registered_and_reads_the_environment(monkeypatch):
    assert isinstance(default_resources()["stats_api"], StatsApi)
    monkeypatch.setenv("NBA_API_PROXY", "http://proxy.example:3128")
    s = StatsApi(delay_s=2.0).settings()
    assert (s.delay_s, s.proxy) == (2.0, "http://proxy.example:3128")


def test_pulled_season_materializes_through_the_fake_transport(pull_setup, nba_raw_dir):
    s = pull_setup
    raw = RawData(path=str(nba_raw_dir), pulled_path=str(s["pulled"]))
    res = dg.materialize(
        [pulled_season],
        partition_key=SEASON_PULLED,
        resources={"raw": raw, "stats_api": StatsApi(delay_s=0.0, retries=1, backoff_s=0.0)},
    )
    assert res.success
    md = res.asset_materializations_for_node("pulled_season")[0].metadata
    assert md["games_pulled"].value == 2
    assert md["quirks"].value["games_without_pbp"] == ["0022500002"]
    assert md["quirks"].value["home_side_swapped"] == ["0022500147"]
    assert SEASON_PULLED in raw.seasons()
    assert len(pd.read_parquet(s["pulled"] / f"pbp_{SEASON_PULLED}.parquet")) > 0


def test_a_shipped_season_is_never_pulled_over(nba_raw_dir, tmp_path):
    raw = RawData(path=str(nba_raw_dir), pulled_path=str(tmp_path))
    shipped = seasons_in(nba_raw_dir)[-1]
    ctx = dg.build_asset_context(partition_key=shipped)
    with pytest.raises(dg.Failure, match="has a shipped play-by-play file"):
        pulled_season(ctx, raw=raw, stats_api=StatsApi())
    assert list(tmp_path.iterdir()) == []
