"""The pregame forecasts the product ships, scored with the market's lines withheld (the model's
own view, what every game without a line gets):

- *tip-off*: the game's announced (actual) starting fives, as the evaluation's model inputs hold
  them (``model (lines withheld)`` of the report);
- *morning*: only what the daily run knows on the morning of the game: each side's expected five
  (``forecast.daily.expected_fives``, from starts strictly before the date), the inputs built by
  ``forecast.game.GameForecaster.pregame_arrays``, the function the daily and live forecasts
  build a pregame input with, not a copy of it. Who is out is the same in both: in the past, a
  rotation player who did not play the game (``analytics.availability``), the backtest's stand-in
  for the injury report the morning run reads;
- *morning, no report*: the morning forecast without that report or the live box score's list,
  which is what the daily run has when nobody imported a report and the feed is down: who is out is
  who of the rotation missed the team's latest game (``forecast.availability``, as known the day
  before), and the strength is computed for them (``forecast.daily.pregame_context``, the daily
  run's function);
- the *early season*: the first :data:`EARLY_GAMES` games of the season by date, where a model
  that learns teams from this season's games knows least, beside the market on the same games.

The rows are the report's (``evaluate.report.COLUMNS``), so the walk-forward tables list them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from nba_pipeline.db import read_table
from nba_pipeline.evaluate.report import COLUMNS
from nba_pipeline.features.context import without_lines
from nba_pipeline.features.season_arrays import SeasonArrays
from nba_pipeline.forecast.availability import availability_of
from nba_pipeline.forecast.daily import expected_fives, made_before, pregame_context
from nba_pipeline.forecast.game import GameForecaster
from nba_pipeline.forecast.model import ForecastModel
from nba_pipeline.training.dataset import NBADataset
from nba_pipeline.training.metrics import score
from nba_pipeline.training.predict import predict_frame

EARLY_GAMES = 150
EARLY = f"pregame, first {EARLY_GAMES} games"
TIPOFF = "model (lines withheld)"
MORNING = "model, morning (lines withheld)"
NO_REPORT = "model, morning, no report (lines withheld)"


def pregame_without_lines(model: ForecastModel, arrays: SeasonArrays) -> pd.DataFrame:
    """The pregame forecast (cut 0) of every game of ``arrays`` with its line hidden:
    ``predict_frame`` rows (game_id, p_home, margin, total and the truth), in the arrays' order."""
    hidden = replace(arrays, context=without_lines(arrays.context))
    ds = NBADataset(hidden, model.norm, model.score_diff_std, mode="all_events")
    every = np.arange(arrays.n_games)
    at = ds.sample_index(every, np.zeros(arrays.n_games, dtype=np.int64))
    return predict_frame(model.model, ds, model.norm, indices=at, temperature=model.temperature)


def morning_arrays(forecaster: GameForecaster, game_ids: list[str], report: bool = True) -> SeasonArrays:
    """The pregame inputs of ``game_ids`` as the morning run builds them: expected fives, as-of
    features of the database behind ``forecaster``. ``report``: who is out as the injury report's
    stand-in says (who did not play, as stored); False: as the daily run knows it without a report
    or the feed, the day before each game (who missed the team's latest game)."""
    cols = ["game_id", "game_date", "season", "home_team_id", "away_team_id"]
    games = read_table(forecaster.engine, "games", columns=cols)
    games = games[games["game_id"].astype(str).isin(set(game_ids))].copy()
    games["game_date"] = pd.to_datetime(games["game_date"]).dt.date
    arrays = forecaster.pregame_arrays(game_ids, expected_fives(forecaster.engine, games))
    if report:
        return arrays
    out = availability_of(forecaster.engine, games, made_before(games["game_date"]))
    ctx = pregame_context(forecaster.engine, games.assign(origin="games"), out).values
    context = np.stack([ctx[str(g)] for g in arrays.game_id]).astype(arrays.context.dtype)
    return replace(arrays, context=context)


def _row(checkpoint: str, source: str, f: pd.DataFrame) -> dict[str, Any]:
    m = score(f["p_home"], f["margin"], f["total"], f["win"], f["margin_true"], f["total_true"])
    return {"checkpoint": checkpoint, "source": source, **m}


def shipped_rows(
    forecaster: GameForecaster,
    test: SeasonArrays,
    with_lines: pd.DataFrame,
    market: pd.DataFrame | None,
    early: int = EARLY_GAMES,
) -> pd.DataFrame:
    """Report rows (``COLUMNS``) of the model that ships on ``test``: at ``pregame`` the morning
    forecasts, with the report's stand-in and without a report; at :data:`EARLY` (the first
    ``early`` games by date that have a market line), the model with its line, the tip-off and
    morning forecasts with lines withheld, and the market.
    ``with_lines``: the model's pregame ``predict_frame`` rows of ``test`` (the report's
    ``model``)."""
    tipoff = pregame_without_lines(forecaster.model, test)
    morning, no_report = (
        pregame_without_lines(forecaster.model, morning_arrays(forecaster, list(test.game_id), report))
        .set_index("game_id")
        .loc[tipoff["game_id"]]
        .reset_index()
        for report in (True, False)
    )
    for f in (morning, no_report):
        if not np.array_equal(f["win"].to_numpy(), tipoff["win"].to_numpy()):
            raise AssertionError("morning and tip-off forecasts are of different games")
    rows = [_row("pregame", MORNING, morning), _row("pregame", NO_REPORT, no_report)]
    order = np.argsort(test.game_date, kind="stable")
    ids = pd.Index(test.game_id[order].astype(str))
    if market is not None:
        m = market.set_index(market["game_id"].astype(str)).reindex(ids)
        cols = ["market_p_home", "market_margin", "market_total"]
        ids = ids[m[cols].notna().all(axis=1).to_numpy()]
        mk = m.loc[ids[:early], cols].set_axis(["p_home", "margin", "total"], axis=1)
    first = ids[:early]
    truth = tipoff.set_index("game_id").loc[first, ["win", "margin_true", "total_true"]]
    own = with_lines.drop_duplicates("game_id").set_index("game_id").loc[first]
    rows.append(_row(EARLY, "model", own))
    rows.append(_row(EARLY, TIPOFF, tipoff.set_index("game_id").loc[first]))
    rows.append(_row(EARLY, MORNING, morning.set_index("game_id").loc[first]))
    rows.append(_row(EARLY, NO_REPORT, no_report.set_index("game_id").loc[first]))
    if market is not None:
        rows.append(_row(EARLY, "market", pd.concat([mk, truth], axis=1)))
    return pd.DataFrame(rows, columns=COLUMNS)
