"""One training config: every field of RunConfig is settable from Dagster run config, defaults are
the dataclasses' own, unknown settings fail by name, and the seasons stay a list."""

from __future__ import annotations

import dataclasses
import typing

import dagster as dg
import pytest

from nba_pipeline.assets.training import TrainingRunConfig, trained_model
from nba_pipeline.resources import Storage
from nba_pipeline.training.config import DataConfig, RunConfig


def _job() -> dg.JobDefinition:
    defs = dg.Definitions(
        assets=[trained_model],
        jobs=[dg.define_asset_job("train", [trained_model])],
        resources={"storage": Storage()},
    )
    return defs.resolve_job_def("train")


def _other_value(name: str, value: typing.Any) -> typing.Any:
    """A valid value different from the default."""
    special = {"scheduler": "plateau", "device": "cpu", "train_seasons": ["2018-19", "2019-20"]}
    if name in special:
        return special[name]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value / 2 if 0 < value < 1 else value + 0.5
    raise AssertionError(f"no test value for {name}={value!r}")


def _every_leaf_changed(obj: typing.Any) -> dict[str, typing.Any]:
    return {
        f.name: _every_leaf_changed(getattr(obj, f.name))
        if dataclasses.is_dataclass(getattr(obj, f.name))
        else _other_value(f.name, getattr(obj, f.name))
        for f in dataclasses.fields(obj)
    }


def _leaves(d: dict, prefix: str = "") -> dict[str, typing.Any]:
    out = {}
    for k, v in d.items():
        out.update(_leaves(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


def test_every_field_of_the_run_config_is_settable_from_dagster_run_config():
    settings = _every_leaf_changed(RunConfig())
    run_config = {"ops": {"trained_model": {"config": settings}}}
    assert dg.validate_run_config(_job(), run_config)
    got = TrainingRunConfig(**settings).to_run_config()
    assert isinstance(got, RunConfig)
    changed, default = _leaves(got.to_dict()), _leaves(RunConfig().to_dict())
    assert changed == _leaves(settings)
    assert all(changed[k] != default[k] for k in default), "a field kept its default"
    assert len(changed) > 40  # data, optim (with loss weights), the three modules' sizes, threads


def test_one_architecture_setting_leaves_every_other_default():
    """The issue's example: --config-json '{"ops":{"trained_model":{"config":
    {"model":{"transformer":{"n_layers":3}}}}}}'."""
    settings = {"model": {"transformer": {"n_layers": 3}}}
    assert dg.validate_run_config(_job(), {"ops": {"trained_model": {"config": settings}}})
    got = TrainingRunConfig(**settings).to_run_config()
    expected = RunConfig()
    expected.model.transformer.n_layers = 3
    assert got == expected


def test_dagster_defaults_are_the_dataclass_defaults():
    assert TrainingRunConfig().to_run_config() == RunConfig()
    # The default is the rolling window (training.window): no fixed season list.
    assert RunConfig().data.train_seasons == [] and RunConfig().data.window_seasons == 3


def test_unknown_settings_fail_naming_them():
    with pytest.raises(ValueError, match="learning_rate"):
        RunConfig.from_dict({"optim": {"learning_rate": 1e-3}})
    with pytest.raises(dg.DagsterInvalidConfigError, match="learning_rate"):
        dg.validate_run_config(
            _job(), {"ops": {"trained_model": {"config": {"optim": {"learning_rate": 1e-3}}}}}
        )


@pytest.mark.parametrize(
    "bad", [{"window_seasons": 0}, {"train_seasons": ["2022-23", "2022-23"]}, {"val_fraction": 1.0}]
)
def test_data_config_refuses_impossible_settings(bad):
    with pytest.raises(ValueError):
        DataConfig(**bad)


def test_fit_refuses_arrays_of_other_seasons_than_the_config_names(tmp_path):
    from nba_pipeline.features.season_arrays import build_season_arrays
    from nba_pipeline.training.fit import fit_forecaster
    from nba_pipeline_tests.test_features.synthetic import (
        synthetic_games,
        synthetic_plays,
        synthetic_team_game_features,
    )

    plays = synthetic_plays(n_games=4, events_per_period=5)
    games = synthetic_games(plays)
    arrays = build_season_arrays(plays, games, None, synthetic_team_game_features(games), season="2022-23")
    cfg = RunConfig.from_dict({"data": {"train_seasons": ["2021-22"]}, "optim": {"max_epochs": 0}})
    with pytest.raises(ValueError, match="2021-22"):
        fit_forecaster(arrays, cfg, tmp_path)


def test_the_readme_training_config_is_valid_run_config_with_the_default_values():
    import re

    import yaml

    from nba_pipeline import settings

    readme = (settings.REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "trained_model" in b)
    run_config = yaml.safe_load(block)
    config = run_config["ops"]["trained_model"]["config"]
    assert dg.validate_run_config(_job(), {"ops": {"trained_model": {"config": config}}})
    assert TrainingRunConfig(**config).to_run_config() == RunConfig()
