"""The whole graph in process on a real slice (all of 2022-23, the first 100 games of 2023-24):
season data, training, blocking checks, promotion (or not), evaluation report, forecasting, and
the specification's smoke test of the trained model on the 100 test games."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest
import torch

from nba_pipeline import settings
from nba_pipeline.definitions import defs  # imported before the environment points at the slice
from nba_pipeline.registry.store import ModelRegistry
from nba_pipeline_tests.test_assets.conftest import SLICE_SEASONS

BLOCKING = {"pregame_accuracy", "pregame_brier", "calibration", "span"}
EPOCHS = 6
pytestmark = pytest.mark.slow


def _train_config(max_epochs: int) -> dict:
    """The product's optimiser settings for a few epochs (the validation loss on 2022-23 levels off
    by then; the test games were not looked at)."""
    return {
        "ops": {
            "trained_model": {
                "config": {
                    "data": {"train_seasons": [SLICE_SEASONS[0]]},
                    "optim": {"max_epochs": max_epochs, "seed": 0},
                }
            },
            # no test_season: the season after the training season, the slice's 2023-24
            "evaluation_report": {"config": {"all_events_stride": 25}},
        }
    }


def _check_results(result) -> dict[str, bool]:
    return {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def _checked_versions(result) -> set[str]:
    return {
        str(e.asset_check_evaluation_data.metadata["version"].value)
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def _materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def _metadata(result, asset: str) -> dict:
    event = next(
        e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset
    )
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _rules_on_stored_predictions(registry: ModelRegistry, version: str) -> dict[str, bool]:
    """The blocking rules recomputed here from the version's stored pregame validation predictions."""
    from nba_pipeline.assets.training import PROMOTION_RULES
    from nba_pipeline.registry.rules import pregame_quality

    preds = registry.load_model(version).artifacts["validation_predictions"]
    pre = preds[preds["checkpoint"] == "pregame"]
    verdicts = pregame_quality(pre["p_home"].to_numpy(), pre["win"].to_numpy())
    return {name: bool(verdicts[rule][0]) for name, (rule, _) in PROMOTION_RULES.items()}


@pytest.fixture(scope="module")
def season_data(pipeline_env):
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


@pytest.fixture(scope="module")
def trained_run(season_data):
    defs, instance = season_data
    torch.set_num_threads(1)
    registry = ModelRegistry(settings.models_dir())
    before = registry.latest_version()
    res = defs.resolve_job_def("train_and_promote").execute_in_process(
        instance=instance, run_config=_train_config(max_epochs=EPOCHS), raise_on_error=False
    )
    return res, before, registry.list_versions()[-1].version


def test_trained_model_passes_every_check_is_promoted_and_evaluated(trained_run):
    """A few epochs on 2022-23 pass the four blocking rules on the validation games; with no model
    promoted before, the comparison passes too; the run promotes and evaluates ITS version."""
    res, before, version = trained_run
    registry = ModelRegistry(settings.models_dir())
    checks = _check_results(res)
    print(
        f"trained {version}: checks {checks}; trained_model metadata pregame accuracy "
        f"{_metadata(res, 'trained_model')['pregame_accuracy']:.3f} Brier "
        f"{_metadata(res, 'trained_model')['pregame_brier']:.4f}"
    )
    assert before is None
    assert checks == dict.fromkeys(BLOCKING | {"not_worse_than_latest"}, True), checks
    assert _rules_on_stored_predictions(registry, version) == dict.fromkeys(BLOCKING, True)
    assert _checked_versions(res) == {version}
    assert res.success
    assert {"trained_model", "promoted_model", "evaluation_report"} <= _materialized(res)
    assert _metadata(res, "trained_model")["version"] == version
    assert _metadata(res, "trained_model")["train_seasons"] == [SLICE_SEASONS[0]]
    assert _metadata(res, "promoted_model")["version"] == version
    assert _metadata(res, "evaluation_report")["version"] == version
    assert _metadata(res, "evaluation_report")["test_season"] == SLICE_SEASONS[1]
    assert registry.latest_version() == version
    report = (settings.reports_dir() / f"evaluation_{version}_{SLICE_SEASONS[1]}.md").read_text()
    assert "| market |" in report and "| score and clock |" in report


def test_forecast_from_raw_plays_equals_the_training_featurization(trained_run):
    """A loaded model forecasting a game from its raw play-by-play (pregame with the starters, and at
    halftime) gives what the evaluation path gives from the stored model inputs."""
    from nba_pipeline.db import make_engine
    from nba_pipeline.features.season_arrays import SeasonArrays
    from nba_pipeline.forecast.game import GameForecaster
    from nba_pipeline.models.norm import TargetNorm
    from nba_pipeline.training.dataset import NBADataset
    from nba_pipeline.training.predict import predict_frame

    _, _, version = trained_run
    loaded = ModelRegistry(settings.models_dir()).load_model(version)
    season = SLICE_SEASONS[1]
    arrays = SeasonArrays.load_parts(settings.features_dir(), season)
    g = 17
    game_id = str(arrays.game_id[g])
    prep = loaded.preprocessing
    norm = TargetNorm.from_dict(prep["target_norm"])
    ds = NBADataset(arrays, norm, float(prep["score_diff_std"]), mode="eval", games=[g])
    temperature = float(prep.get("win_temperature", 1.0))  # the calibration released with the model
    expected = predict_frame(loaded.model, ds, norm, temperature=temperature).set_index("checkpoint")

    raw = settings.raw_dir()
    pbp = pd.read_parquet(raw / f"pbp_{season}.parquet")
    pbp = pbp[pbp["GAME_ID"] == game_id]
    lineups = pd.read_parquet(raw / f"lineups_{season}.parquet")
    lineups = lineups[lineups["GAME_ID"] == game_id]
    forecaster = GameForecaster.from_loaded(loaded, make_engine(settings.database_url()))

    starters = arrays.player_id[arrays.player_offsets[g] + arrays.starters[g]]
    pre = forecaster.forecast(game_id, starters=(list(starters[:5]), list(starters[5:])))
    assert pre.events_seen == 0
    assert pre.p_home_win == pytest.approx(expected.loc["pregame", "p_home"], abs=1e-5)
    assert pre.total == pytest.approx(expected.loc["pregame", "total"], abs=1e-3)

    half = forecaster.forecast(game_id, pbp[pbp["PERIOD"] <= 2], lineups[lineups["PERIOD"] <= 2])
    assert half.events_seen == expected.loc["halftime", "cut"]
    assert half.p_home_win == pytest.approx(expected.loc["halftime", "p_home"], abs=1e-5)
    assert half.margin == pytest.approx(expected.loc["halftime", "margin"], abs=1e-3)
    assert half.model_version == version


def test_the_recorded_v3_play_by_play_gives_the_v2_forecasts_within_002_at_every_checkpoint(
    trained_run, nba_raw_dir
):
    """Game 0022200552 (CLE 145-134 CHI, OT): its PlayByPlayV3 response through the source's
    converter (lineups rebuilt: V3 has none) against its PlayByPlayV2 rows with the lineups file,
    through the same trained model, at every checkpoint."""
    import json

    from nba_pipeline.db import make_engine
    from nba_pipeline.forecast.game import GameForecaster
    from nba_pipeline.sources.pbp_v3 import convert_pbp_v3

    recorded = nba_raw_dir.parent / "nba_api" / "responses" / "playbyplayv3_0022200552.json"
    if not recorded.exists():
        pytest.skip(f"recorded response {recorded} not found")
    game, season = "0022200552", SLICE_SEASONS[0]
    v3 = convert_pbp_v3(json.loads(recorded.read_text()))
    raw = settings.raw_dir()
    v2 = pd.read_parquet(raw / f"pbp_{season}.parquet").query("GAME_ID == @game")
    lineups = pd.read_parquet(raw / f"lineups_{season}.parquet").query("GAME_ID == @game")
    _, _, version = trained_run
    forecaster = GameForecaster.from_loaded(
        ModelRegistry(settings.models_dir()).load_model(version), make_engine(settings.database_url())
    )
    clock = v2["PCTIMESTRING"].str.split(":", expand=True).astype(int)
    seconds_left = clock[0] * 60 + clock[1]
    cuts = {
        "end_q1": v2["PERIOD"] <= 1,
        "halftime": v2["PERIOD"] <= 2,
        "end_q3": v2["PERIOD"] <= 3,
        "q4_5min": (v2["PERIOD"] <= 3) | ((v2["PERIOD"] == 4) & (seconds_left >= 300)),
        "final": v2["PERIOD"] > 0,
    }
    gaps = {}
    for name, keep in cuts.items():
        events = set(v2.loc[keep, "EVENTNUM"])
        from_v2 = forecaster.forecast(game, v2[keep], lineups[lineups["ACTION_NUMBER"].isin(events)])
        from_v3 = forecaster.forecast(game, v3[v3["EVENTNUM"].isin(events)])
        assert from_v3.events_seen == from_v2.events_seen, name
        gaps[name] = abs(from_v3.p_home_win - from_v2.p_home_win)
    print(f"\n|p(V3) - p(V2)| per checkpoint: { {k: round(v, 4) for k, v in gaps.items()} }")
    assert max(gaps.values()) <= 0.02, gaps


def test_broken_model_fails_span_and_the_comparison_and_latest_does_not_move(trained_run, season_data):
    """An untrained model (0 epochs) after the trained one: its predictions hug 0.5, so span fails
    (the other rules go the way the stored predictions say), it is worse than the promoted model,
    the run fails before promotion and `latest` stays the trained version."""
    _, _, trained = trained_run
    defs, instance = season_data
    registry = ModelRegistry(settings.models_dir())
    assert registry.latest_version() == trained
    res = defs.resolve_job_def("train_and_promote").execute_in_process(
        instance=instance, run_config=_train_config(max_epochs=0), raise_on_error=False
    )
    broken = registry.list_versions()[-1].version
    checks = _check_results(res)
    print(f"broken {broken}: checks {checks}")
    assert broken != trained and _checked_versions(res) == {broken}
    assert checks["span"] is False
    assert checks["not_worse_than_latest"] is False
    assert {c: checks[c] for c in BLOCKING} == _rules_on_stored_predictions(registry, broken)
    assert not res.success
    assert "trained_model" in _materialized(res)
    assert not {"promoted_model", "evaluation_report"} & _materialized(res)
    assert registry.latest_version() == trained
    assert registry.read_metadata(broken)["promoted"] is False


def test_smoke_trained_on_2022_23_beats_chance_on_first_100_games_of_2023_24(trained_run):
    """The specification's smoke and calibration tests, on the 100 test games, pregame."""
    from nba_pipeline.features.season_arrays import SeasonArrays
    from nba_pipeline.models.norm import TargetNorm
    from nba_pipeline.registry.rules import calibration_test
    from nba_pipeline.training.dataset import NBADataset
    from nba_pipeline.training.metrics import win_metrics
    from nba_pipeline.training.predict import predict_frame

    _, _, version = trained_run
    loaded = ModelRegistry(settings.models_dir()).load_model(version)
    test = SeasonArrays.load_parts(settings.features_dir(), SLICE_SEASONS[1])
    assert test.n_games == 100
    prep = loaded.preprocessing
    norm = TargetNorm.from_dict(prep["target_norm"])
    preds = predict_frame(
        loaded.model, NBADataset(test, norm, float(prep["score_diff_std"]), mode="eval"), norm
    )
    pre = preds[preds["checkpoint"] == "pregame"]
    p, y = pre["p_home"].to_numpy(), pre["win"].to_numpy()
    m = win_metrics(p, y)
    calibrated, details = calibration_test(p, y)
    print(f"smoke {version}: pregame {m}, span [{p.min():.3f}, {p.max():.3f}], calibration {details}")
    assert m["accuracy"] > 0.52
    assert p.min() <= 0.3 and p.max() >= 0.7
    assert calibrated, details


def test_trained_model_turns_a_clear_home_favourite_into_an_underdog_when_sides_swap(trained_run):
    """Every clear home favourite (p > 0.7) becomes an underdog (p < 0.5) once home and away are
    swapped. The side-symmetric heads make this hold whenever the learned home advantage is below
    logit(0.7) / 2 (equal teams winning at home less than 60% of the time)."""
    from nba_pipeline.features.season_arrays import SeasonArrays
    from nba_pipeline.models.norm import TargetNorm
    from nba_pipeline.models.swap import SideSwap, swap_sides
    from nba_pipeline.training.dataset import NBADataset

    _, _, version = trained_run
    loaded = ModelRegistry(settings.models_dir()).load_model(version)
    prep = loaded.preprocessing
    norm = TargetNorm.from_dict(prep["target_norm"])
    test = SeasonArrays.load_parts(settings.features_dir(), SLICE_SEASONS[1])
    ds = NBADataset(test, norm, float(prep["score_diff_std"]), mode="eval")
    batch = ds.get_batch(range(len(ds)))
    p = loaded.model.predict(batch, norm)["win_prob"]
    favourites = p > 0.7
    assert int(favourites.sum()) >= 10, "too few clear home favourites to test"
    swapped = loaded.model.predict(swap_sides(batch, SideSwap.from_features(), norm), norm)["win_prob"]
    lower = float((swapped[favourites] < p[favourites]).float().mean())
    underdog = float((swapped[favourites] < 0.5).float().mean())
    print(
        f"{int(favourites.sum())} clear home favourites: {lower:.1%} lower when swapped, "
        f"{underdog:.1%} underdogs, median swapped p {float(swapped[favourites].median()):.3f}"
    )
    home_advantage = float(loaded.model.fusion.side_bias[0])
    print(f"learned home advantage: {home_advantage:.3f} logit")
    assert lower == 1.0
    assert underdog == 1.0
