"""Forecasts of one game with a registry model: pregame, live after every event, and the ledger
that keeps every forecast the product issues."""

from nba_pipeline.forecast.game import Forecast, GameForecaster

__all__ = ["Forecast", "GameForecaster"]
