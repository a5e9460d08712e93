"""Scores of a trained model on its JUDGED validation games (the later half of the validation
dates, which chose nothing), for comparing run configs without reading a test season
(``nba-pipeline compare-on-validation``): Brier and margin MAE at the in-game checkpoints beside
score and clock fed the model's own pregame forecast, the same with the line hidden, and the
model against the market's line on the games that have one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from scipy.special import expit

from nba_pipeline.evaluate.report import (
    fit_own_pregame_clock,
    late_checkpoint_cuts,
    model_pregame,
    predict_without_lines,
    score_clock_at_cuts,
)
from nba_pipeline.evaluate.shipped import morning_arrays, pregame_without_lines
from nba_pipeline.features.context import LINE_DIMS, LINE_MARGIN_SCALE
from nba_pipeline.features.season_arrays import SeasonArrays
from nba_pipeline.forecast.game import GameForecaster
from nba_pipeline.forecast.model import ForecastModel
from nba_pipeline.training.dataset import NBADataset
from nba_pipeline.training.fit import FitOutcome
from nba_pipeline.training.metrics import prediction_metrics
from nba_pipeline.training.predict import predict_frame

CHECKPOINTS = ("pregame", "end_q1", "halftime", "end_q3", "q4_5min", "all")
LATE = ("q4_2min", "q4_1min", "q4_30s", "end_reg", "final")
IN_GAME = (*CHECKPOINTS[1:5], *LATE)
SOURCES = ("model", "score and clock + own pregame", "+ possession")


def raw_network(out: FitOutcome) -> ForecastModel:
    """The fitted network with its win logit unscaled (temperature 1), as every score of this
    comparison is made."""
    return ForecastModel("candidate", out.model, out.norm, out.score_diff_std, temperature=1.0)


def in_game_scores(
    out: FitOutcome, arrays: SeasonArrays, preds: pd.DataFrame, all_events_stride: int
) -> dict[str, list[tuple[float, float]]]:
    """(Brier, margin MAE) at each in-game checkpoint of the judged games (``preds``; the late ones
    at every judged game's cut there), then, with ``all_events_stride``, over every that-many-th
    in-game cut of those games: of the model, of score and clock fed the model's own pregame
    forecast, and of the same also told who has the ball (both fitted on 8 random cuts of each
    selection game)."""
    fm = raw_network(out)
    clock = fit_own_pregame_clock(fm, arrays, out.select_games)
    ball = fit_own_pregame_clock(fm, arrays, out.select_games, possession=True)
    own = model_pregame(fm, arrays, out.val_games)
    parts = [preds[preds["checkpoint"] == cp] for cp in IN_GAME[:4]]
    ds = NBADataset(arrays, out.norm, out.score_diff_std, mode="all_events", games=out.val_games)
    late = late_checkpoint_cuts(arrays)
    for name in LATE:
        at = ds.sample_index(out.val_games, late[name][out.val_games])
        parts.append(predict_frame(out.model, ds, out.norm, indices=at))
    if all_events_stride:
        every = ds.in_game_samples()[::all_events_stride]
        parts.append(predict_frame(out.model, ds, out.norm, indices=every))
    scores: dict[str, list[tuple[float, float]]] = {s: [] for s in SOURCES}
    for part in parts:
        win, margin = part["win"].to_numpy(), part["margin_true"].to_numpy()
        g, cut = part["game_index"].to_numpy(), part["cut"].to_numpy()
        base, with_ball = (score_clock_at_cuts(c, arrays, g, cut, own) for c in (clock, ball))
        forecasts = {
            "model": (part["p_home"].to_numpy(), part["margin"].to_numpy()),
            SOURCES[1]: (base.p_home, base.margin),
            SOURCES[2]: (with_ball.p_home, with_ball.margin),
        }
        for source, (p, m) in forecasts.items():
            scores[source].append((float(np.mean((p - win) ** 2)), float(np.mean(np.abs(m - margin)))))
    return scores


def no_line_metrics(out: FitOutcome, arrays: SeasonArrays) -> dict:
    """The judged games' metrics with the line hidden from every game."""
    preds = predict_without_lines(raw_network(out), arrays, out.val_games)
    return prediction_metrics(preds)


def line_scores(pre: pd.DataFrame, arrays: SeasonArrays) -> tuple[str, str, int]:
    """Pregame "Brier / margin MAE" of the model and of the market's line alone on the judged games
    that have a line, and how many there are."""
    line = arrays.context[pre["game_index"].to_numpy(), LINE_DIMS]
    has = line[:, 3] > 0.5
    win, margin = pre["win"].to_numpy()[has], pre["margin_true"].to_numpy()[has]
    market_p, market_m = expit(line[has, 0]), line[has, 1] * LINE_MARGIN_SCALE
    model_p, model_m = pre["p_home"].to_numpy()[has], pre["margin"].to_numpy()[has]

    def fmt(p, m):
        return f"{np.mean((p - win) ** 2):.4f} / {np.mean(np.abs(m - margin)):.2f}"

    return fmt(model_p, model_m), fmt(market_p, market_m), int(has.sum())


def shipped_pregame(out: FitOutcome, arrays: SeasonArrays, engine: sa.Engine) -> tuple[float, float]:
    """Pregame Brier of the judged games with lines withheld, as the product forecasts them
    (``evaluate.shipped``, the model's temperature): at tip-off (the actual fives) and on the
    morning (the expected ones, built from ``engine``, the database the features came from)."""
    temperature = float(out.preprocessing["win_temperature"])
    model = ForecastModel("validation", out.model, out.norm, out.score_diff_std, temperature)
    judged = arrays.subset(out.val_games)
    tipoff = pregame_without_lines(model, judged)
    ids = list(judged.game_id)
    morning = pregame_without_lines(model, morning_arrays(GameForecaster(model, engine), ids))
    morning = morning.set_index("game_id").loc[tipoff["game_id"]]
    tip_brier, morning_brier = (
        float(np.mean((f["p_home"].to_numpy() - f["win"].to_numpy()) ** 2)) for f in (tipoff, morning)
    )
    return tip_brier, morning_brier
