"""The Dagster definitions load, pass `dg check defs`, and the main job orders the ingest assets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from nba_pipeline import settings

INGEST = ["games", "plays", "shots", "betting_lines", "players", "player_game_stats"]


def test_definitions_load_with_every_ingest_asset_and_the_resources():
    from nba_pipeline.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert set(INGEST) <= keys
    assert {"database", "raw"} <= set(defs.resources)


def test_season_partitions_are_the_pbp_files_of_the_shipped_and_pulled_raw_dirs(nba_raw_dir):
    from nba_pipeline.assets.partitions import season_partitions

    dirs = [settings.raw_dir(), settings.pulled_dir()]
    expected = sorted({p.name[4:11] for d in dirs for p in Path(d).glob("pbp_*.parquet")})
    assert season_partitions.get_partition_keys() == expected
    assert "2023-24" in expected


def test_main_job_runs_plays_and_games_before_player_game_stats():
    from nba_pipeline.definitions import defs
    from nba_pipeline.run import plan_stages

    order: list[str] = []
    for _pdef, keys in plan_stages(defs, {dg.AssetKey(k) for k in INGEST}):
        order += [k.to_user_string() for k in keys]
    assert set(order) == set(INGEST)
    assert order.index("plays") < order.index("player_game_stats")
    assert order.index("games") < order.index("player_game_stats")


def test_main_job_leaves_out_the_pull_and_forecasts_in_a_run_after_promotion():
    """The main command never needs stats.nba.com, and its forecasts run after (not beside) the
    promotion, in a run of their own: a run that trains nothing still forecasts."""
    from nba_pipeline.definitions import defs
    from nba_pipeline.run import plan_stages

    stage_of = {
        k.to_user_string(): i for i, (_pdef, keys) in enumerate(plan_stages(defs, None)) for k in keys
    }
    assert "pulled_season" not in stage_of
    assert stage_of["trained_model"] == stage_of["promoted_model"]
    assert stage_of["daily_forecasts"] > stage_of["promoted_model"]
    named = plan_stages(defs, {dg.AssetKey("pulled_season")})
    assert [[k.to_user_string() for k in keys] for _pdef, keys in named] == [["pulled_season"]]


def test_dg_check_defs_passes():
    dg_bin = Path(sys.executable).parent / "dg"
    env = {**os.environ, "DAGSTER_HOME": os.environ["DAGSTER_HOME"]}
    r = subprocess.run(
        [str(dg_bin), "check", "defs"],
        cwd=settings.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "All definitions loaded successfully" in r.stdout + r.stderr


def test_season_assets_declare_the_earlier_seasons_they_read(nba_raw_dir):
    """Team features read last season's games and RAPM, spacing reads three seasons of shots:
    Dagster's lineage and backfills see it (only player_rapm's self-prior cannot be declared)."""
    import dagster as dg

    from nba_pipeline.assets.partitions import SEASONS
    from nba_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    season = SEASONS[3]

    def parents(child: str, parent: str) -> list[str]:
        res = graph.get_parent_partition_keys_for_child(
            partition_key=season, parent_asset_key=dg.AssetKey(parent), child_asset_key=dg.AssetKey(child)
        )
        return sorted(res.partitions_subset.get_partition_keys())

    assert parents("team_game_features", "games") == SEASONS[2:4]
    assert parents("team_game_features", "player_rapm") == SEASONS[2:4]
    assert parents("player_features", "stints") == SEASONS[2:4]
    assert parents("lineup_spacing", "shots") == SEASONS[0:4]
    assert parents("season_stats", "games") == [season]
