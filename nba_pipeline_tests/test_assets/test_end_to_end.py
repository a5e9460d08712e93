"""The whole graph in process on a small real slice: season data, training, blocking checks,
promotion (or not), evaluation report."""

from __future__ import annotations

import dagster as dg
import pytest
import torch

from nba_pipeline import settings
from nba_pipeline.models.registry import ModelRegistry
from nba_pipeline_tests.test_assets.conftest import SLICE_SEASONS

BLOCKING = {"pregame_accuracy", "pregame_brier", "calibration", "span"}
pytestmark = pytest.mark.slow


def _train_config(max_epochs: int) -> dict:
    return {
        "ops": {
            "trained_model": {
                "config": {
                    "train_seasons": [SLICE_SEASONS[0]],
                    "max_epochs": max_epochs,
                    "lr": 1e-3,
                    "seed": 0,
                }
            },
            "evaluation_report": {"config": {"test_season": SLICE_SEASONS[1], "all_events_stride": 25}},
        }
    }


def _check_results(result) -> dict[str, bool]:
    return {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def _materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


@pytest.fixture(scope="module")
def season_data(pipeline_env):
    from nba_pipeline.definitions import defs

    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("season_data")
    for season in SLICE_SEASONS:
        res = job.execute_in_process(partition_key=season, instance=instance)
        assert res.success
        assert {
            "plays",
            "stints",
            "player_features",
            "tokenized_sequences",
            "context_features",
        } <= _materialized(res)
    return defs, instance


def test_whole_graph_trains_checks_and_promotes_only_when_checks_pass(season_data):
    defs, instance = season_data
    torch.set_num_threads(1)
    registry = ModelRegistry(settings.models_dir())
    before = registry.latest_version()
    res = defs.resolve_job_def("train_and_promote").execute_in_process(
        instance=instance, run_config=_train_config(max_epochs=6), raise_on_error=False
    )
    checks = _check_results(res)
    assert BLOCKING | {"not_worse_than_latest"} <= set(checks), checks
    version = registry.list_versions()[-1].version
    if all(checks[c] for c in BLOCKING):
        assert {"trained_model", "promoted_model", "evaluation_report"} <= _materialized(res)
        assert registry.latest_version() == version
        report = (settings.reports_dir() / f"evaluation_{version}_{SLICE_SEASONS[1]}.md").read_text()
        assert "| market |" in report and "| score and clock |" in report
    else:
        assert "promoted_model" not in _materialized(res)
        assert registry.latest_version() == before
        assert registry.read_metadata(version)["promoted"] is False


def test_broken_model_fails_a_blocking_check_and_latest_does_not_move(season_data):
    defs, instance = season_data
    registry = ModelRegistry(settings.models_dir())
    before = registry.latest_version()
    res = defs.resolve_job_def("train_and_promote").execute_in_process(
        instance=instance, run_config=_train_config(max_epochs=0), raise_on_error=False
    )
    checks = _check_results(res)
    assert not all(checks[c] for c in BLOCKING), checks
    assert checks["span"] is False  # an untrained model hugs 0.5
    assert "promoted_model" not in _materialized(res)
    assert registry.latest_version() == before
    broken = registry.list_versions()[-1].version
    assert registry.read_metadata(broken)["promoted"] is False
