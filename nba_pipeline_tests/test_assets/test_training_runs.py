"""Two overlapping training runs check and promote only the version each one trained.

Run A trains, saves and checks its version; then, before A's promotion step starts, run B trains,
saves and checks its own (and promotes it when it passes); then A's promotion step executes. So B's
materialization of trained_model is the latest when A promotes. Training is tiny (a tiny
architecture set through run config, one epoch on synthetic season arrays); which version passes
the blocking rules is decided by the test (synthetic data cannot meet the real thresholds), the
rest is the real code path: registry, judging, marking, Dagster's blocking checks and promotion.
"""

from __future__ import annotations

import shutil

import dagster as dg
import pytest

from nba_pipeline.assets.training import PROMOTION_RULES, promoted_model, trained_model
from nba_pipeline.features.season_arrays import build_season_arrays
from nba_pipeline.registry import candidate
from nba_pipeline.registry.store import ModelRegistry
from nba_pipeline.resources import Storage
from nba_pipeline_tests.test_features.synthetic import (
    synthetic_games,
    synthetic_player_features,
    synthetic_plays,
    synthetic_team_game_features,
)
from nba_pipeline_tests.test_models.synthetic import tiny_config

SEASON = "2022-23"
BLOCKING = set(PROMOTION_RULES)


@pytest.fixture(scope="module")
def season_features(tmp_path_factory):
    """Synthetic model inputs of one season (20 games on 20 dates), built once."""
    base = tmp_path_factory.mktemp("training_runs_features")
    plays = synthetic_plays(n_games=20, events_per_period=15)
    games = synthetic_games(plays)
    pf = synthetic_player_features([*range(1, 9), *range(101, 109)], "2022-10-01")
    arrays = build_season_arrays(plays, games, pf, synthetic_team_game_features(games), season=SEASON)
    arrays.save_parts(base)
    return base


@pytest.fixture
def data_dir(season_features, tmp_path):
    """A fresh data directory per test (its own registry) holding the season's model inputs."""
    shutil.copytree(season_features, tmp_path / "features")
    return tmp_path


def _run_config(seed: int) -> dict:
    """The architecture and every other setting through run config, as a user would set them."""
    return {
        "ops": {
            "trained_model": {
                "config": {
                    "data": {"train_seasons": [SEASON], "batch_games": 4},
                    "optim": {"max_epochs": 1, "patience": 1, "lr": 1e-3, "seed": seed, "device": "cpu"},
                    "model": tiny_config().to_dict(),
                    "torch_threads": 1,
                }
            }
        }
    }


def _job(data_dir, hooks=frozenset()):
    defs = dg.Definitions(
        assets=[trained_model, promoted_model],
        jobs=[
            dg.define_asset_job(
                "train_and_promote", selection=[trained_model, promoted_model], hooks=set(hooks)
            )
        ],
        resources={"storage": Storage(data_dir=str(data_dir))},
    )
    return defs.resolve_job_def("train_and_promote")


def _checks(result) -> dict[str, tuple[bool, str]]:
    """check name -> (passed, version it judged)."""
    out = {}
    for e in result.all_events:
        if e.event_type_value == "ASSET_CHECK_EVALUATION":
            ev = e.asset_check_evaluation_data
            out[ev.check_name] = (ev.passed, str(ev.metadata["version"].value))
    return out


def _version(result, asset: str) -> str | None:
    for e in result.get_asset_materialization_events():
        if e.asset_key.to_user_string() == asset:
            return str(e.materialization.metadata["version"].value)
    return None


@pytest.mark.parametrize("a_passes", [True, False], ids=["A passes, B fails", "A fails, B passes"])
def test_overlapping_runs_each_check_and_promote_only_their_own_version(data_dir, monkeypatch, a_passes):
    registry = ModelRegistry(data_dir / "models")
    instance = dg.DagsterInstance.ephemeral()
    trained: list[str] = []  # versions in the order they were saved: A's, then B's
    run_b: list[dg.ExecuteInProcessResult] = []
    real_train, real_judge = candidate.train_candidate, candidate.judge

    def run_b_overtakes(context) -> None:
        """After A's trained_model step (passed or failed), before A's promoted_model step."""
        if context.op.name == "trained_model" and not run_b:
            run_b.append(
                _job(data_dir).execute_in_process(
                    instance=instance, run_config=_run_config(1), raise_on_error=False
                )
            )

    def record_version(*args, **kwargs):
        cand = real_train(*args, **kwargs)
        trained.append(cand.version)
        return cand

    def judge_by_run(registry, version):
        results = real_judge(registry, version)  # the stored predictions of exactly this version
        passes = a_passes == (version == trained[0])
        return {rule: (passes, details) for rule, (_ok, details) in results.items()}

    monkeypatch.setattr(candidate, "train_candidate", record_version)
    monkeypatch.setattr(candidate, "judge", judge_by_run)
    latest_before = registry.latest_version()
    job_a = _job(
        data_dir,
        {
            dg.success_hook(name="b_after_success")(run_b_overtakes),
            dg.failure_hook(name="b_after_failure")(run_b_overtakes),
        },
    )

    run_a = job_a.execute_in_process(instance=instance, run_config=_run_config(0), raise_on_error=False)

    assert len(trained) == 2 and len(run_b) == 1
    version_a, version_b = trained
    assert version_a != version_b
    checks_a, checks_b = _checks(run_a), _checks(run_b[0])
    assert set(checks_a) == set(checks_b) == BLOCKING | {"not_worse_than_latest"}
    assert {v for _, v in checks_a.values()} == {version_a}
    assert {v for _, v in checks_b.values()} == {version_b}
    assert all(checks_a[c][0] == a_passes for c in BLOCKING)
    assert all(checks_b[c][0] != a_passes for c in BLOCKING)
    assert _version(run_a, "trained_model") == version_a
    assert _version(run_b[0], "trained_model") == version_b
    if a_passes:  # B fails and is overtaken by A, which promotes its own version
        assert run_b[0].success is False and _version(run_b[0], "promoted_model") is None
        assert run_a.success and _version(run_a, "promoted_model") == version_a
        assert registry.latest_version() == version_a
        assert registry.read_metadata(version_b)["promoted"] is False
    else:  # B promoted its version; A's failing checks stop A's promotion (not B's version)
        assert run_b[0].success and _version(run_b[0], "promoted_model") == version_b
        assert run_a.success is False and _version(run_a, "promoted_model") is None
        assert registry.latest_version() == version_b != latest_before
        assert registry.read_metadata(version_a)["promoted"] is False


def test_promoted_model_without_a_training_in_its_run_promotes_nothing(data_dir):
    """Promotion never falls back to another run's model: alone, it fails naming what to do."""
    registry = ModelRegistry(data_dir / "models")
    instance = dg.DagsterInstance.ephemeral()
    job = _job(data_dir)
    trained = job.execute_in_process(
        instance=instance, run_config=_run_config(2), op_selection=["trained_model"], raise_on_error=False
    )
    assert _version(trained, "trained_model") is not None
    latest = registry.latest_version()
    alone = job.execute_in_process(instance=instance, op_selection=["promoted_model"], raise_on_error=False)
    assert not alone.success
    failure = next(e for e in alone.all_events if e.event_type_value == "STEP_FAILURE")
    assert "this run trained none" in failure.event_specific_data.error.message
    assert registry.latest_version() == latest


def test_trained_model_claims_the_training_pool():
    """Dagster runs at most one step of the pool at a time where the instance limits it (the
    project's Dagster home sets every pool's limit to 1, nba_pipeline/dagster_home.py)."""
    assert trained_model.op.pool == "training"
