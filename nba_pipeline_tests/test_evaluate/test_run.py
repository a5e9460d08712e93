"""Which season a model is evaluated on: by default the one after its training seasons, and a
reason, not a crash, when none is held out."""

from __future__ import annotations

from pathlib import Path

from nba_pipeline.evaluate.run import held_out_season, nothing_held_out
from nba_pipeline.features.season_arrays import PARTS, part_path

TRAINED = ["2020-21", "2021-22", "2022-23"]


def _inputs_of(season: str, features: Path) -> None:
    for part in PARTS:
        part_path(part, season, features).touch()


def test_the_default_test_season_is_the_one_after_the_newest_training_season():
    assert held_out_season(TRAINED) == "2023-24"
    assert held_out_season(["2022-23", "2020-21"]) == "2023-24"


def test_the_season_after_training_is_evaluated_once_its_model_inputs_exist(tmp_path):
    why = nothing_held_out("v1.0.0", TRAINED, None, tmp_path)
    assert why is not None and "the season after them, 2023-24, has no model inputs" in why
    _inputs_of("2023-24", tmp_path)
    assert nothing_held_out("v1.0.0", TRAINED, None, tmp_path) is None


def test_a_season_asked_for_that_the_model_trained_on_is_refused_with_the_reason(tmp_path):
    for season in ("2022-23", "2019-20"):
        why = nothing_held_out("v1.0.0", TRAINED, season, tmp_path)
        assert why is not None and f"test season {season} is not later" in why
    assert nothing_held_out("v1.0.0", TRAINED, "2024-25", tmp_path) is None  # its inputs: load_parts' say
