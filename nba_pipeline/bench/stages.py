"""Benchmark one season through the pipeline: wall time and peak memory of each stage, and the
latency of a single-game forecast from a loaded model.

    nba-pipeline bench [--season 2023-24] [--work DIR]

Each stage runs in its own process (stages only share the database and files, as in production),
so the peak resident memory printed is that stage's own. Everything goes to a temporary data
directory and SQLite database; the raw files are read from NBA_RAW_DIR (default ../shared/data/nba).
Stages: ingest (games, plays, shots, players, player_game_stats), analytics (stints, RAPM, spacing,
player and team features, season stats), features (tokenized sequences, lineup graphs, context),
one training epoch (spec-size model, 80/20 temporal split of the season), evaluation (the
report's model and baselines on the season's last 20% of games, all-events stride 10), forecast
(a loaded model forecasting one game: the batch path at halftime from raw play-by-play, and the
incremental path: first forecast of a game and time per new event; see ``_forecast_latency``).

    nba-pipeline bench --work DIR --stages forecast    # again, on DIR's data and model

The ingest, analytics and features stages run ``nba-pipeline run`` narrowed to their assets
(:mod:`nba_pipeline.commands.run`), so what is timed is what a user runs, one run at a time in
this process, so that the peak memory is the stage's own (the main job runs two at once).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

STAGES = ["ingest", "analytics", "features", "train_epoch", "evaluation", "forecast"]
SELECT = {
    "ingest": ["games", "plays", "shots", "players", "player_game_stats"],
    "analytics": [
        "stints",
        "player_rapm",
        "lineup_spacing",
        "player_features",
        "team_game_features",
        "season_stats",
    ],
    "features": ["tokenized_sequences", "lineup_graphs", "context_features"],
}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def run_stage(stage: str, season: str) -> dict:
    """One stage, inside its own process: its seconds, peak memory and figures."""
    from nba_pipeline import settings

    t0 = time.perf_counter()
    extra: dict = {}
    if stage in SELECT:
        from nba_pipeline.commands.run import main as run_main

        rc = run_main(["--partition", season, "--select", *SELECT[stage], "--runs-at-once", "1"])
        if rc != 0:
            raise RuntimeError(f"stage {stage} failed (nba-pipeline run exit {rc})")
    else:
        from nba_pipeline.features.season_arrays import SeasonArrays
        from nba_pipeline.registry.store import ModelRegistry
        from nba_pipeline.training.config import RunConfig
        from nba_pipeline.training.fit import fit_forecaster, temporal_split

        arrays = SeasonArrays.load_parts(settings.features_dir(), season)
        work = settings.data_dir() / "bench"
        if stage == "train_epoch":
            cfg = RunConfig.from_dict({"data": {"train_seasons": [season]}, "optim": {"max_epochs": 1}})
            out = fit_forecaster(arrays, cfg, work / "fit")
            h = out.result.history[0]
            extra = {"train_games": len(out.train_games), "epoch_seconds": round(h["seconds"], 2)}
            m = out.model
            ModelRegistry(settings.models_dir()).save_model(
                {"transformer": m.transformer, "gnn": m.gnn, "fusion": m.fusion},
                metadata={
                    "data_date_range": out.data_date_range,
                    "hyperparameters": {"bench": True, **cfg.hyperparameters()},
                    "validation_metrics": {},
                },
                preprocessing=out.preprocessing,
                model_config=m.cfg.to_dict(),
            )
        elif stage == "evaluation":
            import pandas as pd

            from nba_pipeline.db import make_engine, read_table
            from nba_pipeline.evaluate.market import load_market
            from nba_pipeline.evaluate.report import evaluate_forecaster
            from nba_pipeline.forecast.model import ForecastModel

            loaded = ModelRegistry(settings.models_dir()).load_model(
                ModelRegistry(settings.models_dir()).versions()[-1]
            )
            tr, te = temporal_split(arrays, 0.2)
            games = read_table(make_engine(settings.database_url()), "games")
            games["game_date"] = pd.to_datetime(games["game_date"])
            ev = evaluate_forecaster(
                ForecastModel.from_loaded(loaded),
                arrays.subset(tr),
                arrays.subset(te),
                games,
                load_market(settings.raw_dir()),
                all_events_stride=10,
            )
            extra = {"test_games": len(te), "rows_scored": int(ev.table["n"].sum())}
        elif stage == "forecast":
            extra = _forecast_latency(season, str(arrays.game_id[-1]))
    return {
        "stage": stage,
        "seconds": round(time.perf_counter() - t0, 2),
        "peak_rss_mb": round(_peak_mb(), 1),
        **extra,
    }


def _forecast_latency(season: str, game_id: str) -> dict:
    """Single-game forecast latency with a loaded model, one torch thread, on the season's last game.

    batch: ``GameForecaster.forecast`` on the raw rows of the first half (the training
    featurization of the whole game so far), first call (reads the season's tables) and repeats.
    incremental: ``GameForecaster.open_game`` from a fresh forecaster, then every row of the game in
    feed (EVENTNUM) order, one at a time, a forecast after each: the first forecast (as-of inputs
    read from the database + the first event) and the time per new event (add the row + forecast).
    """
    import pandas as pd
    import torch

    from nba_pipeline import settings
    from nba_pipeline.db import make_engine
    from nba_pipeline.forecast.game import GameForecaster
    from nba_pipeline.registry.store import ModelRegistry

    torch.set_num_threads(1)
    registry = ModelRegistry(settings.models_dir())
    loaded = registry.load_model(registry.versions()[-1])
    rows = pd.read_parquet(settings.raw_dir() / f"pbp_{season}.parquet")
    rows = rows[rows["GAME_ID"] == game_id].sort_values("EVENTNUM", kind="stable")
    half = rows[rows["PERIOD"] <= 2]

    def ms(seconds: list[float], q: float) -> float:
        return round(sorted(seconds)[int(len(seconds) * q)] * 1000, 1)

    f = GameForecaster.from_loaded(loaded, make_engine(settings.database_url()))
    t = time.perf_counter()
    f.forecast(game_id, half)  # the first call also reads the season's tables (cached after)
    batch_first = time.perf_counter() - t
    batch = []
    for _ in range(20):
        t = time.perf_counter()
        f.forecast(game_id, half)
        batch.append(time.perf_counter() - t)

    f = GameForecaster.from_loaded(loaded, make_engine(settings.database_url()))  # nothing cached
    records = [rows.iloc[i : i + 1] for i in range(len(rows))]
    t = time.perf_counter()
    game = f.open_game(game_id)
    game.add_rows(records[0])
    game.forecast()
    first = time.perf_counter() - t
    per_event = []
    for r in records[1:]:
        t = time.perf_counter()
        game.add_rows(r)
        game.forecast()
        per_event.append(time.perf_counter() - t)
    return {
        "game": game_id,
        "batch_first_call_ms": round(batch_first * 1000, 1),
        "batch_median_ms": ms(batch, 0.5),
        "batch_events": len(half),
        "incremental_first_forecast_ms": round(first * 1000, 1),
        "incremental_per_event_median_ms": ms(per_event, 0.5),
        "incremental_per_event_p90_ms": ms(per_event, 0.9),
        "incremental_events": len(per_event) + 1,
    }


def bench_stages(season: str, work: Path, stages: list[str]) -> int:
    """Run ``stages`` in order, each in its own process (``nba-pipeline bench --stage``) over
    ``work``, and print one line per stage; 1 when a stage fails."""
    env = {
        **os.environ,
        "NBA_DATA_DIR": str(work),
        "NBA_DATABASE_URL": f"sqlite:///{work / 'nba.db'}",
    }
    print(f"benchmark of season {season} in {work} ({os.cpu_count()} CPUs)", flush=True)
    for stage in stages:
        proc = subprocess.run(
            [sys.executable, "-m", "nba_pipeline", "bench", "--stage", stage, "--season", season],
            env=env,
            capture_output=True,
            text=True,
        )
        line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH ")), None)
        if proc.returncode != 0 or line is None:
            print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
            print(f"stage {stage} failed", file=sys.stderr)
            return 1
        row = json.loads(line[6:])
        extra = {k: v for k, v in row.items() if k not in ("stage", "seconds", "peak_rss_mb")}
        print(
            f"{stage:<12} {row['seconds']:>8.1f} s  peak {row['peak_rss_mb']:>7.0f} MB  {extra or ''}",
            flush=True,
        )
    return 0
