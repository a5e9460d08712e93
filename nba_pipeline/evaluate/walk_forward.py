"""Walk-forward evaluation: for each test season, train on the K seasons before it (temporal
validation split: the earlier half of the validation dates selects the epoch, the later half is
judged), test on the season, and score the model and every baseline of the report on it. The
command is ``nba-pipeline walk-forward`` (:mod:`nba_pipeline.commands.walk_forward`).

One table per checkpoint (pregame, end_q1, halftime, end_q3, q4_5min, q4_2min, q4_1min, q4_30s,
end_reg, final, all_events): a row per source, the Brier score of each test season and their mean,
then the mean log loss, accuracy and margin MAE (:func:`checkpoint_tables`, :func:`to_markdown`).
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from nba_pipeline.evaluate.report import ORDER
from nba_pipeline.evaluate.shipped import EARLY, MORNING, NO_REPORT
from nba_pipeline.text_tables import render_table

DEFAULT_TEST_SEASONS = ("2021-22", "2022-23", "2023-24")
CHECKPOINT_ORDER = [ORDER[0], EARLY, *ORDER[1:]]
MEAN_COLUMNS = ("brier", "log_loss", "accuracy", "margin_mae")
MEAN_HEADERS = ("Brier mean", "log loss mean", "accuracy mean", "margin MAE mean")
# Sources in the order the tables list them; any other source of the report follows.
SOURCE_ORDER = [
    "model",
    "model (lines withheld)",
    MORNING,
    NO_REPORT,
    "home-win rate",
    "Elo (total: training mean)",
    "context logistic (pregame info)",
    "score and clock",
    "score and clock + own pregame",
    "score and clock + own pregame + possession",
    "score and clock + market",
    "model (games with lines)",
    "market",
]


@dataclass
class SeasonResult:
    test_season: str
    train_seasons: list[str]
    table: pd.DataFrame  # the report's table (COLUMNS)
    info: dict[str, Any]


def seasons_before(available: list[str], test_season: str, k: int) -> list[str]:
    """The ``k`` seasons of ``available`` just before ``test_season``; ValueError when fewer."""
    before = [s for s in sorted(available) if s < test_season]
    if len(before) < k:
        raise ValueError(f"{test_season}: {k} earlier seasons wanted, found {before}")
    return before[-k:]


def _head(arrays: Any, n: int) -> Any:
    """The first ``n`` games of ``arrays`` by date (keeps the season label)."""
    if not n or n >= arrays.n_games:
        return arrays
    keep = np.sort(np.argsort(arrays.game_date, kind="stable")[:n])
    out = arrays.subset(keep)
    out.season = arrays.season
    return out


def _judged_calibration(out: Any) -> dict[str, Any]:
    """The temperature's calibration record, measured on the judged validation games (they decided
    nothing): raw and scaled win metrics beside what the fit stored."""
    from nba_pipeline.training.calibration import scaled_probability
    from nba_pipeline.training.metrics import win_metrics
    from nba_pipeline.training.predict import predict_frame

    judged = predict_frame(out.model, out.val_dataset, out.norm)
    p_raw, y = judged["p_home"].to_numpy(), judged["win"].to_numpy()
    fitted = float(out.preprocessing["calibration"].get("fitted_temperature", 1.0))
    return {
        **out.preprocessing["calibration"],
        "judged_raw": win_metrics(p_raw, y),
        "judged_scaled": win_metrics(scaled_probability(p_raw, fitted), y),
    }


def run_season(
    features_dir: Path,
    games: pd.DataFrame,
    market: pd.DataFrame | None,
    test_season: str,
    train_seasons: list[str],
    config: dict[str, Any],
    games_per_season: int = 0,
    all_events_stride: int = 1,
    engine: sa.Engine | None = None,
) -> SeasonResult:
    """Train on ``train_seasons`` and evaluate on ``test_season`` (everything from files; with
    ``engine``, the database the files were built from, also the morning forecasts and the early
    season: ``evaluate.shipped``)."""
    from nba_pipeline.evaluate.report import evaluate_forecaster
    from nba_pipeline.evaluate.shipped import shipped_rows
    from nba_pipeline.features.season_arrays import SeasonArrays
    from nba_pipeline.forecast.game import GameForecaster
    from nba_pipeline.forecast.model import ForecastModel
    from nba_pipeline.training.config import RunConfig
    from nba_pipeline.training.fit import fit_forecaster

    parts = [_head(SeasonArrays.load_parts(features_dir, s), games_per_season) for s in train_seasons]
    train = SeasonArrays.concat(parts)
    test = _head(SeasonArrays.load_parts(features_dir, test_season), games_per_season)
    if test.game_date.min() <= train.game_date.max():
        raise ValueError(f"{test_season} does not come after the training seasons {train_seasons}")
    cfg_dict = {**config, "data": {**config.get("data", {}), "train_seasons": list(train_seasons)}}
    cfg = RunConfig.from_dict(cfg_dict)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        out = fit_forecaster(train, cfg, Path(work))
    t_train = time.perf_counter() - t0
    temperature = float(out.preprocessing["win_temperature"])
    calib = _judged_calibration(out)
    t1 = time.perf_counter()
    fm = ForecastModel(
        version=f"walk-forward {test_season}",
        model=out.model,
        norm=out.norm,
        score_diff_std=out.score_diff_std,
        temperature=temperature,
        preprocessing=out.preprocessing,
    )
    ev = evaluate_forecaster(
        fm,
        train,
        test,
        games[games["season"] <= test_season],
        market,
        all_events_stride=all_events_stride,
        own_pregame_fit_games=np.concatenate([out.select_games, out.val_games]),
    )
    table = ev.table
    if engine is not None:
        pre = ev.predictions[ev.predictions["checkpoint"] == "pregame"]
        shipped = shipped_rows(GameForecaster(fm, engine), test, pre, market)
        table = pd.concat([table, shipped], ignore_index=True)
    info = {
        "train_games": int(len(out.train_games)),
        "selection_games": int(len(out.select_games)),
        "judged_games": int(len(out.val_games)),
        "test_games": int(test.n_games),
        "best_epoch": out.result.best_epoch if out.result else None,
        "epochs_run": len(out.result.history) if out.result else 0,
        "train_seconds": round(t_train, 1),
        "eval_seconds": round(time.perf_counter() - t1, 1),
        "win_temperature": temperature,
        "calibration": calib,
    }
    return SeasonResult(test_season, list(train_seasons), table, info)


def _ordered_sources(sources: list[str]) -> list[str]:
    known = [s for s in SOURCE_ORDER if s in sources]
    return known + [s for s in sources if s not in SOURCE_ORDER]


def checkpoint_tables(results: list[SeasonResult], fmt: str = "markdown") -> dict[str, str]:
    """One table per checkpoint: Brier per test season and the mean; mean log loss, accuracy,
    margin MAE over the seasons; rows = sources."""
    seasons = [r.test_season for r in results]
    long = pd.concat([r.table.assign(season=r.test_season) for r in results], ignore_index=True)
    out = {}
    for cp in CHECKPOINT_ORDER:
        part = long[long["checkpoint"] == cp]
        if part.empty:
            continue
        rows = []
        for source in _ordered_sources(list(dict.fromkeys(part["source"]))):
            s = part[part["source"] == source].set_index("season")
            brier = [float(s.loc[x, "brier"]) if x in s.index else None for x in seasons]
            # a mean only over all seasons: a source missing in one season has none
            means = [float(s[c].mean()) if len(s) == len(seasons) else None for c in MEAN_COLUMNS]
            rows.append([source, *brier, *means])
        headers = ["source", *(f"Brier {x}" for x in seasons), *MEAN_HEADERS]
        formats = [None, *([".4f"] * (len(seasons) + 2)), ".3f", ".2f"]
        right = [False] + [True] * (len(headers) - 1)
        out[cp] = render_table(headers, rows, fmt, formats, right)
    return out


def provenance(argv: list[str]) -> list[str]:
    """Markdown lines naming the command and the code that wrote a results file, so a reader can
    rerun it; the commit is marked ``+ uncommitted changes`` when the tree differs from it."""
    import subprocess

    from nba_pipeline.settings import REPO_ROOT

    def git(*args: str) -> str:
        try:
            out = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return out.stdout.strip() if out.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown (not a git checkout)"
    if git("status", "--porcelain", "--untracked-files=no", "--", "nba_pipeline"):
        commit += " + uncommitted changes under nba_pipeline/"
    command = " ".join(["nba-pipeline walk-forward", *argv])
    return [f"Written by `{command}` at commit {commit}.", ""]


def to_markdown(results: list[SeasonResult], header: list[str] | None = None) -> str:
    lines = [
        "# Walk-forward evaluation",
        "",
        *(header or []),
        "Each test season: trained on the seasons before it (temporal validation split, the earlier half "
        "of the validation dates selects the epoch), tested on every game of the season. Brier of the "
        "home-win probability per season and the mean over seasons; margin MAE in points. 'all_events' "
        "averages over in-game cuts.",
        "",
    ]
    for r in results:
        lines.append(f"- {r.test_season}: trained on {', '.join(r.train_seasons)}; {json.dumps(r.info)}")
    lines.append("")
    for cp, table in checkpoint_tables(results).items():
        lines += [f"## {cp}", "", table, ""]
    return "\n".join(lines)
