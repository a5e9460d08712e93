"""The rolling training window and the data fingerprint: by default a run trains on the newest
seasons; a run with no new data since the last version trains nothing (no new registry version,
and it says why); new games (a later slice of the season) change the fingerprint and train."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from nba_pipeline.training.config import DataConfig
from nba_pipeline.training.window import (
    data_fingerprint,
    training_seasons,
    window_seasons,
)
from nba_pipeline_tests.services import make_raw_slice

SEASON = "2022-23"
ALL = ["2019-20", "2020-21", "2021-22", "2022-23", "2023-24", "2024-25", "2025-26"]


def test_window_is_the_last_complete_seasons_plus_the_current_one():
    # Mid-season: the current season's games so far, after the last three complete seasons.
    assert window_seasons(ALL, 3, dt.date(2026, 1, 15)) == ["2022-23", "2023-24", "2024-25", "2025-26"]
    # The current season has no inputs yet: only complete seasons.
    assert window_seasons(ALL, 3, dt.date(2026, 11, 24)) == ["2023-24", "2024-25", "2025-26"]
    assert window_seasons(ALL, 1, dt.date(2026, 11, 24)) == ["2025-26"]


def test_an_explicit_season_list_replaces_the_window(tmp_path):
    assert training_seasons(DataConfig(train_seasons=["2018-19", "2019-20"]), tmp_path) == [
        "2018-19",
        "2019-20",
    ]
    with pytest.raises(ValueError, match="no season"):
        training_seasons(DataConfig(), tmp_path)  # no model inputs at all


class _Arrays:
    def __init__(self, ids, dates, home, away):
        self.game_id = np.array(ids)
        self.game_date = np.array(dates, dtype="datetime64[D]")
        self.home_pts = np.array(home)
        self.away_pts = np.array(away)


def test_fingerprint_is_order_free_and_changes_with_a_game_or_a_score():
    a = _Arrays(["0022200001", "0022200002"], ["2022-10-18", "2022-10-19"], [110, 99], [100, 104])
    b = _Arrays(["0022200002", "0022200001"], ["2022-10-19", "2022-10-18"], [99, 110], [104, 100])
    more = _Arrays(
        [*a.game_id, "0022200003"], [*a.game_date.astype(str), "2022-10-20"], [110, 99, 120], [100, 104, 90]
    )
    fixed = _Arrays(a.game_id, a.game_date.astype(str), [110, 98], [100, 104])
    assert data_fingerprint(a) == data_fingerprint(b)
    assert data_fingerprint(more) != data_fingerprint(a)
    assert data_fingerprint(fixed) != data_fingerprint(a)


@pytest.fixture(scope="module")
def pipeline(nba_raw_dir, tmp_path_factory):
    """A real slice (150 games of 2022-23) with its season data built, in a temporary data dir."""
    import dagster as dg

    base = tmp_path_factory.mktemp("rolling")
    raw = make_raw_slice(nba_raw_dir, base / "raw", {SEASON: 150})
    mp = pytest.MonkeyPatch()
    for k, v in {
        "NBA_RAW_DIR": str(raw),
        "NBA_DATA_DIR": str(base / "data"),
        "NBA_DATABASE_URL": f"sqlite:///{base / 'nba.db'}",
    }.items():
        mp.setenv(k, v)
    instance = dg.DagsterInstance.ephemeral()
    _season_data(instance)
    yield {"base": base, "raw": raw, "instance": instance}
    mp.undo()
    instance.dispose()


def _season_data(instance) -> None:
    from nba_pipeline.definitions import defs

    res = defs.resolve_job_def("season_data").execute_in_process(partition_key=SEASON, instance=instance)
    assert res.success


def _train(instance, seed: int = 0):
    """trained_model + promoted_model with the default data settings (the rolling window)."""
    import dagster as dg

    from nba_pipeline.assets.training import promoted_model, trained_model
    from nba_pipeline.resources import default_resources

    optim = {"max_epochs": 1, "patience": 1, "lr": 1e-3, "device": "cpu", "seed": seed}
    cfg = {"optim": optim, "data": {"batch_games": 8}}
    return dg.materialize(
        [trained_model, promoted_model],
        instance=instance,
        resources=default_resources(),
        run_config={"ops": {"trained_model": {"config": cfg}}},
        raise_on_error=False,
    )


@pytest.fixture(scope="module")
def first_training(pipeline):
    """The slice's first training: it makes the first version, whichever test asks first."""
    return _train(pipeline["instance"])


def _registry():
    from nba_pipeline import settings
    from nba_pipeline.registry.store import ModelRegistry

    return ModelRegistry(settings.models_dir())


def _arrays_fingerprint() -> str:
    from nba_pipeline import settings
    from nba_pipeline.training.fit import load_training_arrays

    return data_fingerprint(load_training_arrays(settings.features_dir(), [SEASON]))


def test_no_new_data_trains_nothing_and_new_games_train_a_new_version(pipeline, first_training, nba_raw_dir):
    import dagster as dg

    instance = pipeline["instance"]
    reg = _registry()
    assert len(reg.versions()) == 1
    v1 = reg.versions()[0]
    md1 = reg.read_metadata(v1)
    assert md1["data_fingerprint"] == _arrays_fingerprint()
    assert md1["train_seasons"] == [SEASON]  # the window: the only season with inputs
    assert md1["data_games"] == 150
    from nba_pipeline.registry.render import render_show

    assert md1["data_fingerprint"] in render_show(reg, v1)  # `nba-pipeline registry show` prints it
    events = first_training.get_asset_materialization_events()
    assert any(e.asset_key == dg.AssetKey("trained_model") for e in events)

    # Same data, same settings: no new version, the run succeeds and says why.
    again = _train(instance)
    assert again.success
    assert reg.versions() == [v1]
    assert not again.get_asset_materialization_events()  # neither trained_model nor promoted_model
    obs = [e for e in again.all_events if e.event_type_value == "ASSET_OBSERVATION"]
    (why,) = [o.event_specific_data.asset_observation.metadata["nothing_trained"].value for o in obs]
    assert "no new data" in why and v1 in why

    # An experiment with other settings trains; the nightly settings after it still find v1.
    _train(instance, seed=1)
    assert len(reg.versions()) == 2
    _train(instance)
    assert len(reg.versions()) == 2

    # A later slice of the season (20 more games): another fingerprint, a new version trained on it.
    make_raw_slice(nba_raw_dir, Path(pipeline["raw"]), {SEASON: 170})
    _season_data(instance)
    _train(instance)
    assert len(reg.versions()) == 3
    md2 = reg.read_metadata(reg.versions()[-1])
    assert md2["data_games"] == 170
    assert md2["data_fingerprint"] == _arrays_fingerprint() != md1["data_fingerprint"]


def test_evaluation_with_no_season_held_out_says_why_instead_of_failing(pipeline, first_training):
    """Asked for a season it trained on, or left to take the season after its training seasons when
    that season has no model inputs (the rolling window's model, on the newest data), the report
    says why it evaluated nothing."""
    import dagster as dg

    from nba_pipeline.assets.evaluation import evaluation_report
    from nba_pipeline.ingest.raw import next_season
    from nba_pipeline.resources import default_resources

    reg = _registry()
    reg.promote(reg.versions()[-1])  # a 1-epoch model may fail its checks; promoted by hand here

    def why(config: dict) -> str:
        res = dg.materialize(
            [evaluation_report],
            instance=pipeline["instance"],
            resources=default_resources(),
            run_config={"ops": {"evaluation_report": {"config": config}}},
        )
        (mat,) = res.get_asset_materialization_events()
        return mat.materialization.metadata["not_evaluated"].value

    assert f"test season {SEASON} is not later" in why({"test_season": SEASON})
    assert f"the season after them, {next_season(SEASON)}, has no model inputs" in why({})
