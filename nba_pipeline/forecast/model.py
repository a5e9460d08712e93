"""A registry model as one value: the network and the preprocessing it was saved with, and what a
forecast of one game is.

Every forecast path (the batch :class:`~nba_pipeline.forecast.game.GameForecaster`, the incremental
:class:`~nba_pipeline.forecast.live_game.LiveGame`, the daily forecasts) is handed a
:class:`ForecastModel` and reads the model, target norms, score-difference scale and temperature
from it alone: the preprocessing of a forecast is that of the model it names, never a second copy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from nba_pipeline.features.context import LINE_DIMS
from nba_pipeline.features.season_arrays import SeasonArrays
from nba_pipeline.features.tokenizer import VOCAB
from nba_pipeline.forecast.availability import OutPlayer
from nba_pipeline.ingest.plays import QUARTER_SECONDS
from nba_pipeline.models.batch import ModelBatch, check_input_format
from nba_pipeline.models.norm import TargetNorm
from nba_pipeline.sources.line_lookup import line_of
from nba_pipeline.training.dataset import NBADataset


@dataclass
class Forecast:
    game_id: str
    p_home_win: float
    margin: float  # final home margin, points
    total: float  # final total points
    events_seen: int
    model_version: str
    # The game at the cut (pregame: period 1, 12:00, 0-0), for forecast lines and charts.
    period: int = 1
    clock_seconds: float = QUARTER_SECONDS
    home_score: int = 0
    away_score: int = 0
    # The market line the forecast used (ForecastModel.line_used): its source ('odds.parquet',
    # 'nba_api_odds', 'csv', ...) and when it was had (naive UTC; None for the historical file);
    # both None when the forecast used no line.
    line_source: str | None = None
    line_fetched_at: dt.datetime | None = None
    # The players taken as out (forecast.availability; None: not recorded).
    out_players: tuple[OutPlayer, ...] | None = None
    # The model's own pregame forecast with the line withheld, where the forecast used a line
    # (None otherwise: the forecast is the model's own): what the scorecard shows beside the line's.
    own_p_home_win: float | None = None
    own_margin: float | None = None
    own_total: float | None = None


@dataclass(frozen=True)
class ForecastModel:
    """The model of one registry version with its saved preprocessing (``preprocessing``: the
    registry's dict as saved; ``norm``, ``score_diff_std`` and ``temperature`` read from it)."""

    version: str
    model: Any  # models.forecaster.NBAForecaster, eval mode
    norm: TargetNorm
    score_diff_std: float
    temperature: float  # the released calibration of the win logit
    preprocessing: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_loaded(cls, loaded: Any) -> ForecastModel:
        """From ``registry.store.LoadedModel``; refuses a model whose inputs this code would build
        differently (input format, event vocabulary)."""
        prep = loaded.preprocessing
        check_input_format(prep, f"model {loaded.version}")
        if prep.get("vocabulary") != VOCAB:
            raise ValueError(
                f"model {loaded.version} was trained with another event vocabulary than this code's; "
                "featurizing with it would feed the model wrong tokens"
            )
        return cls(
            version=str(loaded.version),
            model=loaded.model,
            norm=TargetNorm.from_dict(prep["target_norm"]),
            score_diff_std=float(prep["score_diff_std"]),
            temperature=float(prep.get("win_temperature", 1.0)),
            preprocessing=dict(prep),
        )

    def batch(self, arrays: SeasonArrays, cut: int) -> ModelBatch:
        """The ModelBatch of the first game of ``arrays`` after ``cut`` of its events (0: pregame),
        built by the training dataset code."""
        return NBADataset(arrays, self.norm, self.score_diff_std, mode="all_events").get_batch([cut])

    def predict(self, batch: ModelBatch) -> dict[str, Any]:
        return self.model.predict(batch, self.norm, self.temperature)

    def line_used(
        self, context: Any, lines: pd.DataFrame | None, game_id: str
    ) -> tuple[str | None, dt.datetime | None]:
        """(source, fetched_at) of the market line a one-game forecast used: its row in ``lines``
        (``line_lookup.betting_lines_of``, the rows its ``context`` [1, CONTEXT_DIM] was built
        from) when the context has one (``NBAForecaster.has_line``); (None, None) otherwise."""
        if lines is None or not bool(self.model.has_line(context)[0]):
            return None, None
        return line_of(lines, game_id)

    def own_forecast(self, batch: ModelBatch) -> dict[str, Any]:
        """:meth:`predict` with the market line withheld (the line dims 0, as for a game without
        one): the model's own view of a game whose forecast is the line's."""
        context = batch.context.clone()
        context[:, LINE_DIMS] = 0.0
        return self.predict(replace(batch, context=context))

    def forecast(self, batch: ModelBatch, game_id: str, lines: pd.DataFrame | None, **cut: Any) -> Forecast:
        """The forecast of one game's batch; ``cut``: the Forecast fields saying where the game is.
        A pregame forecast that used a line also carries the model's own (:meth:`own_forecast`);
        in game it is not computed (a second pass per event would double the latency)."""
        out = self.predict(batch)
        line_source, line_fetched_at = self.line_used(batch.context, lines, game_id)
        if line_source is not None and int(cut.get("events_seen", 0)) == 0:
            own = self.own_forecast(batch)
            cut.update(
                own_p_home_win=float(own["win_prob"][0]),
                own_margin=float(own["margin"][0]),
                own_total=float(own["total"][0]),
            )
        return Forecast(
            game_id=game_id,
            p_home_win=float(out["win_prob"][0]),
            margin=float(out["margin"][0]),
            total=float(out["total"][0]),
            model_version=self.version,
            line_source=line_source,
            line_fetched_at=line_fetched_at,
            **cut,
        )
