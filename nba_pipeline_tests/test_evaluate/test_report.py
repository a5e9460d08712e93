"""The evaluation report's Markdown: the table format users know, drawn by the one renderer."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from nba_pipeline.evaluate.baselines import SampleForecasts
from nba_pipeline.evaluate.report import COLUMNS, _score, to_markdown
from nba_pipeline.forecast.model import ForecastModel
from nba_pipeline.text_tables import metrics_table
from nba_pipeline.training.metrics import prediction_metrics

ROWS = [
    ("pregame", "model", 1230, 0.6504, 0.21999, 0.63, 11.204, 18.5),
    ("pregame", "Elo (total: training mean)", 1230, 0.64, 0.2251, 0.6412, 11.6, 19.01),
    ("halftime", "score and clock", 1229, 0.7, float("nan"), 0.5, 8.0, 12.345),
]

EXPECTED = """\
# Evaluation: trained on 2020-21 (1230 games), tested on 2023-24 (1230 games)

Accuracy, Brier and log loss of the home-win probability; MAE of margin and total in points.
Regulation is 2880 s; checkpoints are cuts after the last event at or before
the end of Q1, halftime, end of Q3, 5:00, 2:00, 1:00 and 0:30 left in Q4 and the end of regulation;
'final' is the last event (the buzzer); 'all_events' averages over in-game cuts.

## pregame

| source | n | accuracy | Brier | log loss | margin MAE | total MAE |
|---|---:|---:|---:|---:|---:|---:|
| model | 1230 | 0.650 | 0.2200 | 0.6300 | 11.20 | 18.50 |
| Elo (total: training mean) | 1230 | 0.640 | 0.2251 | 0.6412 | 11.60 | 19.01 |

## halftime

| source | n | accuracy | Brier | log loss | margin MAE | total MAE |
|---|---:|---:|---:|---:|---:|---:|
| score and clock | 1229 | 0.700 | nan | 0.5000 | 8.00 | 12.35 |
"""


def test_report_markdown_keeps_the_known_table_format_and_checkpoint_order():
    table = pd.DataFrame(ROWS, columns=COLUMNS).iloc[[2, 0, 1]]  # order comes from ORDER, not the rows
    train = SimpleNamespace(season="2020-21", n_games=1230)
    test = SimpleNamespace(season="2023-24", n_games=1230)
    assert to_markdown(table, train, test) == EXPECTED


def test_training_metrics_table_has_the_same_columns_with_checkpoint_labels():
    metrics = {"all": dict(zip(COLUMNS[2:], ROWS[0][2:], strict=True))}
    assert metrics_table(metrics).splitlines() == [
        "| checkpoint | n | accuracy | Brier | log loss | margin MAE | total MAE |",
        "|---|---:|---:|---:|---:|---:|---:|",
        "| all | 1230 | 0.650 | 0.2200 | 0.6300 | 11.20 | 18.50 |",
    ]


def test_report_row_clips_baseline_probabilities_and_scores_in_points():
    f = SampleForecasts(np.array([1.2, -0.1]), np.array([5.0, -3.0]), np.array([220.0, 230.0]))
    row = _score(
        "pregame", "market", f, np.array([1.0, 0.0]), np.array([7.0, -3.0]), np.array([210.0, 240.0])
    )
    assert row["checkpoint"] == "pregame" and row["source"] == "market" and row["n"] == 2
    assert row["accuracy"] == 1.0 and row["brier"] == 0.0  # clipped to 1 and 0: both right, no error
    assert row["margin_mae"] == 1.0 and row["total_mae"] == 10.0
    assert list(row) == COLUMNS


def _synthetic_season(n_games: int = 6):
    """``n_games`` synthetic games, their model inputs, an untrained full-size model and a norm."""
    import torch

    from nba_pipeline.features.season_arrays import build_season_arrays
    from nba_pipeline.models.forecaster import ForecasterConfig, NBAForecaster
    from nba_pipeline.models.norm import TargetNorm
    from nba_pipeline_tests.test_features.synthetic import (
        synthetic_games,
        synthetic_player_features,
        synthetic_plays,
        synthetic_team_game_features,
    )

    plays = synthetic_plays(n_games=n_games, events_per_period=20)
    games = synthetic_games(plays).assign(season="2022-23")
    pf = synthetic_player_features([1, 2, 3, 4, 5, 101, 102, 103], "2022-10-01")
    arrays = build_season_arrays(plays, games, pf, synthetic_team_game_features(games))
    torch.manual_seed(0)
    model = NBAForecaster(ForecasterConfig())
    norm = TargetNorm(margin_mean=0.0, margin_std=10.0, total_mean=30.0, total_std=10.0)
    return games, arrays, model, norm


def test_evaluation_of_synthetic_games_scores_every_source_with_the_shared_metrics():
    """evaluate_forecaster end to end on six synthetic games: every checkpoint has its rows, the
    model rows equal the registry's prediction_metrics of the same predictions, and the Markdown is
    the table rendered."""
    from nba_pipeline.evaluate.report import ORDER, evaluate_forecaster

    games, arrays, model, norm = _synthetic_season()
    train, test = arrays.subset(np.arange(3)), arrays.subset(np.arange(3, 6))

    ev = evaluate_forecaster(
        ForecastModel("t", model, norm, 5.0, 1.0), train, test, games, None, all_events_stride=5
    )

    t = ev.table
    assert list(t.columns) == COLUMNS and list(dict.fromkeys(t["checkpoint"])) == ORDER
    assert set(t.loc[t["checkpoint"] == "pregame", "source"]) == {
        "model",
        "home-win rate",
        "context logistic (pregame info)",
        "Elo (total: training mean)",
    }
    assert (t.loc[t["checkpoint"] == "halftime", "source"] == "score and clock").sum() == 1
    assert "score and clock + own pregame + possession" in set(t.loc[t["checkpoint"] == "q4_30s", "source"])
    final = ev.predictions[ev.predictions["checkpoint"] == "final"]
    assert sorted(final["game_index"]) == list(range(test.n_games))
    assert (final["cut"].to_numpy() == test.n_events).all()
    expected = prediction_metrics(ev.predictions)
    for _, row in t[t["source"] == "model"].iterrows():
        assert row[COLUMNS[2:]].to_dict() == pytest.approx(expected[row["checkpoint"]])
    assert ev.markdown == to_markdown(t, train, test)


def test_a_test_season_with_lines_is_also_scored_with_the_lines_withheld():
    """``model (lines withheld)`` at each checkpoint (not all events): the same model on the same
    games with the line dims zeroed, i.e. as it forecasts a game without a line."""
    from dataclasses import replace

    from nba_pipeline.evaluate.report import evaluate_forecaster
    from nba_pipeline.features.context import LINE_DIMS
    from nba_pipeline.training.dataset import NBADataset
    from nba_pipeline.training.predict import predict_frame

    games, arrays, model, norm = _synthetic_season()
    ctx = arrays.context.copy()
    ctx[:, LINE_DIMS] = [1.5, 0.8, 0.1, 1.0, 1.0]  # a strong home favourite in every game
    arrays = replace(arrays, context=ctx)
    model.set_line_scale()  # as training sets it: the line's own win probability
    train, test = arrays.subset(np.arange(3)), arrays.subset(np.arange(3, 6))

    fm = ForecastModel("t", model, norm, 5.0, 1.0)
    t = evaluate_forecaster(fm, train, test, games, None, all_events_stride=5).table

    withheld = t[t["source"] == "model (lines withheld)"]
    assert list(withheld["checkpoint"]) == ["pregame", "end_q1", "halftime", "end_q3", "q4_5min"]
    hidden = test.context.copy()
    hidden[:, LINE_DIMS] = 0.0
    ds = NBADataset(replace(test, context=hidden), norm, 5.0, mode="eval")
    pre = predict_frame(model, ds, norm).query("checkpoint == 'pregame'")
    expected = prediction_metrics(pre)["pregame"]["brier"]
    assert withheld.iloc[0]["brier"] == pytest.approx(expected)
    model_pre = t[(t["source"] == "model") & (t["checkpoint"] == "pregame")].iloc[0]["brier"]
    assert model_pre != pytest.approx(expected)  # the line changed the forecasts


def test_late_checkpoints_are_the_last_events_before_each_mark_of_a_real_season(nba_raw_dir):
    """On a real season: 2:00, 1:00 and 0:30 left in Q4 come in that order, before the end of
    regulation and the buzzer; the cut at each is the last event at or before its mark; games tied
    at the end of regulation are exactly those with an overtime."""
    from nba_pipeline.evaluate.report import late_checkpoint_cuts
    from nba_pipeline.features.season_arrays import build_season_arrays
    from nba_pipeline_tests.test_features.real import real_inputs

    plays, games, tgf = real_inputs(nba_raw_dir, "2023-24", 400)
    a = build_season_arrays(plays, games, None, tgf, season="2023-24")
    cuts = late_checkpoint_cuts(a)
    assert list(cuts) == ["q4_2min", "q4_1min", "q4_30s", "end_reg", "final"]
    order = np.column_stack(list(cuts.values()))
    assert (np.diff(order, axis=1) >= 0).all() and (cuts["final"] == a.n_events).all()
    g = np.arange(a.n_games)
    last = a.event_offsets[g] + cuts["q4_1min"] - 1
    assert (a.ev_game_seconds[last] <= 2880 - 60).all() and (a.ev_period[last] <= 4).all()
    after = a.event_offsets[g] + cuts["q4_1min"]
    inside = cuts["q4_1min"] < a.n_events
    assert (a.ev_game_seconds[after[inside]] > 2880 - 60).all()
    end_reg = a.event_offsets[g] + cuts["end_reg"] - 1
    went_to_ot = a.n_events > cuts["end_reg"]
    np.testing.assert_array_equal(a.ev_score_diff[end_reg] == 0, went_to_ot)
    assert 0.02 < went_to_ot.mean() < 0.12
