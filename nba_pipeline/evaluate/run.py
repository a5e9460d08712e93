"""Evaluate the promoted model on a test season and write the report: the plain function behind
the ``evaluation_report`` asset and ``nba-pipeline evaluate``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from nba_pipeline.evaluate.report import Evaluation, evaluate_forecaster
from nba_pipeline.ingest.raw import next_season


@dataclass
class EvaluationRun:
    version: str
    test_season: str
    evaluation: Evaluation
    path: Path


def held_out_season(train_seasons: list[str]) -> str:
    """The season after the newest training season: the default test season, the first whose games
    the model cannot have seen (whatever the seasons, so a new one needs no setting)."""
    return next_season(max(train_seasons))


def nothing_held_out(
    version: str, train_seasons: list[str], test_season: str | None, features_dir: Path
) -> str | None:
    """Why ``version`` has no season to be evaluated on (``test_season``, by default
    :func:`held_out_season`), or None. The rolling window trains on the newest season, so the season
    after it is not played yet; a season asked for may be one it trained on."""
    from nba_pipeline.features.season_arrays import SeasonArrays

    seen = f"{version} was trained on {', '.join(train_seasons)}"
    elsewhere = (
        "the forecast scorecard measures the model on the games it forecasts, and nba-pipeline "
        "walk-forward compares models out of sample"
    )
    if test_season is None:
        after = held_out_season(train_seasons)
        if not SeasonArrays.missing_parts(features_dir, after):
            return None
        return (
            f"{seen}: the season after them, {after}, has no model inputs, so nothing is held out to "
            f"evaluate on (name a later season that has them, or evaluate a model trained with "
            f"data.train_seasons before one); {elsewhere}"
        )
    if test_season <= max(train_seasons):
        return (
            f"{seen}: test season {test_season} is not later than its training games, so nothing is held "
            f"out to evaluate on (name a later season, or evaluate a model trained with "
            f"data.train_seasons before it); {elsewhere}"
        )
    return None


def run_evaluation(
    registry_root: Path,
    features_dir: Path,
    engine: sa.Engine,
    raw_dir: Path,
    reports_dir: Path,
    test_season: str | None = None,
    all_events_stride: int = 1,
    version: str = "latest",
) -> EvaluationRun:
    """Evaluate ``version`` on ``test_season``, by default the season after its training seasons
    (:func:`held_out_season`)."""
    from nba_pipeline.db import read_table
    from nba_pipeline.evaluate.market import load_market
    from nba_pipeline.features.season_arrays import SeasonArrays
    from nba_pipeline.forecast.model import ForecastModel
    from nba_pipeline.registry.store import ModelRegistry
    from nba_pipeline.training.fit import load_training_arrays

    loaded = ModelRegistry(registry_root).load_model(version)
    fm = ForecastModel.from_loaded(loaded)  # refuses a model of another input format
    prep = loaded.preprocessing
    train_seasons = list(prep["train_seasons"])
    reason = nothing_held_out(loaded.version, train_seasons, test_season, features_dir)
    if reason:
        raise ValueError(reason)
    test_season = test_season or held_out_season(train_seasons)
    train = load_training_arrays(features_dir, train_seasons)
    test = SeasonArrays.load_parts(features_dir, test_season)
    if test.game_date.min() <= train.game_date.max():
        raise ValueError(
            f"test season {test_season} starts {test.game_date.min()}, not after the last training game "
            f"({train.game_date.max()}): the evaluation must be on later games"
        )
    games = read_table(engine, "games")
    games = games[games["season"] <= test_season]
    games["game_date"] = pd.to_datetime(games["game_date"])
    market_path = Path(raw_dir) / "odds.parquet"
    market = load_market(raw_dir) if market_path.exists() else None
    ev = evaluate_forecaster(fm, train, test, games, market, all_events_stride=all_events_stride)
    header = f"Model {loaded.version} (trained {loaded.metadata.get('created_at', '?')}).\n\n"
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / f"evaluation_{loaded.version}_{test_season}.md"
    path.write_text(header + ev.markdown + "\n", encoding="utf-8")
    ev.table.to_csv(path.with_suffix(".csv"), index=False)
    return EvaluationRun(version=loaded.version, test_season=test_season, evaluation=ev, path=path)
