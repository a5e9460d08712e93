"""Evaluate the promoted model on a test season and write the report: the plain function behind
the ``evaluation_report`` asset and ``nba-pipeline evaluate``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from nba_pipeline.evaluate.report import Evaluation, evaluate_forecaster


@dataclass
class EvaluationRun:
    version: str
    evaluation: Evaluation
    path: Path


def run_evaluation(
    registry_root: Path,
    features_dir: Path,
    engine: sa.Engine,
    raw_dir: Path,
    reports_dir: Path,
    test_season: str,
    all_events_stride: int = 1,
    version: str = "latest",
) -> EvaluationRun:
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
    if test_season in train_seasons:
        raise ValueError(
            f"test season {test_season} is one of the training seasons {train_seasons} of "
            f"{loaded.version}: a model trained on the rolling window includes the newest season; test "
            "one trained on data.train_seasons before the test season, or compare models out of "
            "sample with nba-pipeline walk-forward"
        )
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
    return EvaluationRun(version=loaded.version, evaluation=ev, path=path)
