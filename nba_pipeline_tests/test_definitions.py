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


def _real_plan(seasons: list[str]):
    from nba_pipeline.definitions import defs
    from nba_pipeline.run import plan_runs, plan_stages

    stages = plan_stages(defs, None)
    return plan_runs(defs, stages, {i: seasons for i, (pdef, _) in enumerate(stages) if pdef is not None})


def test_no_run_of_the_main_job_reads_another_season_of_its_own_stage():
    """What lets the seasons of one stage build at once: a cross-season read starts a new stage."""
    from nba_pipeline.definitions import defs
    from nba_pipeline.run import plan_stages

    graph = defs.resolve_asset_graph()
    for _pdef, keys in plan_stages(defs, None):
        for key in keys:
            for parent, mapping in graph.get(key).partition_mappings.items():
                if parent in keys:
                    assert isinstance(mapping, dg.IdentityPartitionMapping), f"{key} reads {parent}"
    stage_of = {k.to_user_string(): i for i, (_pdef, ks) in enumerate(plan_stages(defs, None)) for k in ks}
    assert stage_of["player_rapm"] > stage_of["stints"]  # reads the stints of every earlier season


def test_main_job_runs_wait_for_what_they_read_and_seasons_of_a_stage_do_not_wait_for_each_other():
    from nba_pipeline.run import prerequisites

    seasons = ["2021-22", "2022-23", "2023-24"]
    plan = _real_plan(seasons)

    def run_of(asset: str, season: str | None):
        (run,) = [r for r in plan if dg.AssetKey(asset) in r.keys and r.partition == season]
        return run

    def waits_for(asset: str, season: str | None) -> set[tuple[str, str | None]]:
        runs = prerequisites(run_of(asset, season), plan)
        return {(k.to_user_string(), r.partition) for r in runs for k in r.keys}

    assert [r for r in plan if prerequisites(r, plan) == []] == [run_of("plays", s) for s in seasons] + [
        run_of("players", None)
    ]
    rapm = waits_for("player_rapm", "2022-23")
    assert {("stints", "2021-22"), ("stints", "2022-23")} <= rapm
    assert ("stints", "2023-24") not in rapm and ("player_rapm", "2021-22") not in rapm
    assert ("player_features", "2021-22") in waits_for("context_features", "2022-23")
    training = waits_for("trained_model", None)
    assert {("context_features", s) for s in seasons} <= training
    assert ("forecast_scorecard", None) in training  # unpartitioned runs keep their order
    assert {("trained_model", None), ("forecast_scorecard", None)} <= waits_for("daily_forecasts", None)
    assert not any(asset == "forecast_scorecard" for asset, _ in waits_for("context_features", "2021-22"))
