"""Forecasts of one game with a registry model: pregame, live after every event, and the ledger
that keeps every forecast the product issues."""

from nba_pipeline.forecast.game import GameForecaster
from nba_pipeline.forecast.model import Forecast, ForecastModel

__all__ = ["Forecast", "ForecastModel", "GameForecaster"]
