"""Would averaging models trained with different seeds help in game? Measured on VALIDATION games.

    python scripts/seed_average_on_validation.py --seasons 2018-19 2019-20 2020-21 --seeds 0 1 \
        --config '{"optim": {"max_epochs": 10, "patience": 4}, "model": {"fusion": {"market_line": true}}}'

Trains one model per seed on the seasons (``training.fit``, the test season is never read), then
scores on the JUDGED validation games (the later half of the validation dates) each model alone
and the average of their forecasts (win logits, margins and totals averaged), each against score
and clock fed that forecaster's own pregame forecast, fitted on the selection games as in
``scripts/compare_on_validation.py``. Printed: Brier per checkpoint for every row.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit

from nba_pipeline import settings
from nba_pipeline.evaluate.baselines import Forecast
from nba_pipeline.evaluate.report import fit_score_clock, model_pregame, score_clock_at_cuts
from nba_pipeline.tables import render_table
from nba_pipeline.training.calibration import logit_of
from nba_pipeline.training.config import RunConfig
from nba_pipeline.training.fit import fit_forecaster, load_training_arrays
from nba_pipeline.training.predict import predict_frame

CHECKPOINTS = ("pregame", "end_q1", "halftime", "end_q3", "q4_5min")


def average_forecasts(forecasts: list[Forecast]) -> Forecast:
    """Win probabilities averaged as logits, margins and totals as points."""
    logit = np.mean([logit_of(np.nan_to_num(f.p_home, nan=0.5)) for f in forecasts], axis=0)
    p = np.where(np.isnan(forecasts[0].p_home), np.nan, expit(logit))
    return Forecast(
        p, np.mean([f.margin for f in forecasts], axis=0), np.mean([f.total for f in forecasts], axis=0)
    )


def briers(
    arrays, preds: pd.DataFrame, pregame_select: Forecast, pregame_judged: Forecast, select
) -> list[str]:
    """Brier of ``preds`` at each checkpoint, then of score and clock fed ``pregame_*`` in game."""
    win = (arrays.home_pts > arrays.away_pts).astype(float)
    clock = fit_score_clock(arrays, select, pregame_select, win)
    model, base = [], []
    for cp in CHECKPOINTS:
        part = preds[preds["checkpoint"] == cp]
        model.append(float(np.mean((part["p_home"].to_numpy() - part["win"].to_numpy()) ** 2)))
        if cp == "pregame":
            continue
        g, cut = part["game_index"].to_numpy(), part["cut"].to_numpy()
        f = score_clock_at_cuts(clock, arrays, g, cut, pregame_judged)
        base.append(float(np.mean((f.p_home - part["win"].to_numpy()) ** 2)))
    return [f"{b:.4f}" for b in model] + [f"{b:.4f}" for b in base]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seasons", nargs="+", required=True)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--config", default='{"optim": {"max_epochs": 10, "patience": 4}}')
    args = ap.parse_args()
    arrays = load_training_arrays(settings.features_dir(), args.seasons)
    base_cfg = json.loads(args.config)
    rows, preds, pre_sel, pre_judged = [], [], [], []
    select = judged = None
    for seed in args.seeds:
        cfg_dict = {**base_cfg, "data": {**base_cfg.get("data", {}), "train_seasons": list(args.seasons)}}
        cfg_dict["optim"] = {**base_cfg.get("optim", {}), "seed": seed}
        cfg = RunConfig.from_dict(cfg_dict)
        with tempfile.TemporaryDirectory() as work:
            out = fit_forecaster(arrays, cfg, Path(work))
        # the raw forecasts (no temperature), as compare_on_validation.py prints them
        select, judged = out.select_games, out.val_games
        p = predict_frame(out.model, out.val_dataset, out.norm)
        ps = model_pregame(out.model, out.norm, out.score_diff_std, arrays, select)
        pj = model_pregame(out.model, out.norm, out.score_diff_std, arrays, judged)
        rows.append([f"seed {seed}", *briers(arrays, p, ps, pj, select)])
        preds.append(p)
        pre_sel.append(ps)
        pre_judged.append(pj)
        print(json.dumps({"seed": seed, "row": rows[-1]}), flush=True)
    avg = preds[0].copy()
    logit = np.mean([logit_of(p["p_home"].to_numpy()) for p in preds], axis=0)
    avg["p_home"] = expit(logit)
    ps, pj = average_forecasts(pre_sel), average_forecasts(pre_judged)
    rows.append([f"average of seeds {args.seeds}", *briers(arrays, avg, ps, pj, select)])
    headers = ["forecaster", *(f"Brier {c}" for c in CHECKPOINTS)]
    headers += [f"own-pregame baseline {c}" for c in CHECKPOINTS[1:]]
    print(f"seasons {args.seasons}, judged validation games: {len(judged)}")
    print(render_table(headers, rows))


if __name__ == "__main__":
    main()
