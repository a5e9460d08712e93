"""Where does the model's in-game forecast stand against score and clock fed its own pregame view,
on the VALIDATION games of one training window? (The test seasons are never read.)

    python scripts/diagnose_in_game.py --seasons 2017-18 2018-19 2019-20 [--save m.pt | --weights m.pt]

Trains as ``compare_on_validation.py`` does (at most 10 epochs, patience 4, over the defaults), or
loads weights saved by an earlier call (``--save``; weights of a head without ``lead_flat`` load
too). On the selection games (their checkpoints and every 3rd in-game cut) it fits:

- ``B``: score and clock + own pregame, logistic regression on the lead ``d``, ``d / sqrt(tau +
  1/48)``, the pregame logit ``l0``, ``l0 * tau``, the pregame margin times ``tau``, and ``tau``;
- ``B + model``: the same plus the model's in-game win logit (does the network add anything?);
- ``shape``: the state head's form on the towers' own pregame logit, ``(k d + tau l0) / sqrt(tau +
  tau0) + j d`` with ``d`` in the model's score units (``models.game_state``).

Printed: the fits, then on the judged games (their checkpoints and every 5th in-game cut) the Brier
of the model (with its released temperature), of the walk-forward's own-pregame baseline (fitted
on 8 random cuts of each selection game), of ``B``, ``B + model`` and ``shape``; and the "drift" of
the towers' full-game logit (at the cut minus at tip-off) with its correlation with the lead and
with the outcome's surprise (won minus the pregame probability).

To compare code, run it in a checkout of each commit (``git worktree add``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from nba_pipeline import settings
from nba_pipeline.evaluate.report import fit_own_pregame_clock, model_pregame, state_at_cut
from nba_pipeline.tables import render_table
from nba_pipeline.training.calibration import logit_of
from nba_pipeline.training.config import RunConfig
from nba_pipeline.training.dataset import NBADataset
from nba_pipeline.training.fit import fit_forecaster, load_training_arrays
from nba_pipeline.training.predict import predict_frame

IN_GAME = ("end_q1", "halftime", "end_q3", "q4_5min", "all_events")
BASE = {"optim": {"max_epochs": 10, "patience": 4}}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def cuts_frame(out, arrays, games: np.ndarray, stride: int) -> pd.DataFrame:
    """The checkpoints and every ``stride``-th in-game cut of ``games``: the model's win logit
    (``z``), the towers' full-game logit before the state head (``lt``) and at tip-off (``l0``),
    the pregame margin (``m0``), the lead (points) and the share of the game left."""
    model, norm, sd = out.model, out.norm, out.score_diff_std
    eval_ds = NBADataset(arrays, norm, sd, mode="eval", games=games)
    all_ds = NBADataset(arrays, norm, sd, mode="all_events", games=games)
    idx = np.arange(len(all_ds))
    keep = idx[all_ds.cuts_of(idx)[1] > 0][::stride]

    def frames() -> pd.DataFrame:
        return pd.concat(
            [
                predict_frame(model, eval_ds, norm),
                predict_frame(model, all_ds, norm, indices=keep).assign(checkpoint="all_events"),
            ],
            ignore_index=True,
        )

    f = frames()
    has_head = model.cfg.fusion.state_head
    model.cfg.fusion.state_head = False  # the towers' full-game outputs, before the state head
    try:
        towers = frames()
    finally:
        model.cfg.fusion.state_head = has_head
    f["z"] = logit_of(f["p_home"].to_numpy())
    f["lt"] = logit_of(towers["p_home"].to_numpy())
    pre = f["checkpoint"] == "pregame"
    by_game = towers[pre].set_index("game_index")
    g = f["game_index"].to_numpy()
    f["l0"] = logit_of(by_game["p_home"].reindex(g).to_numpy())
    f["m0"] = f[pre].set_index("game_index")["margin"].reindex(g).to_numpy()
    st = state_at_cut(arrays, g, f["cut"].to_numpy())
    f["d"], f["points"], f["tau"] = st["diff"], st["total"], np.clip(st["time_left"], 0.0, 1.0)
    return f


def baseline_features(f: pd.DataFrame, with_model: bool) -> np.ndarray:
    d, t, l0, m0 = (f[c].to_numpy() for c in ("d", "tau", "l0", "m0"))
    cols = [d, d / np.sqrt(t + 1.0 / 48.0), l0, l0 * t, m0 * t, t]
    return np.column_stack(cols + ([f["z"].to_numpy()] if with_model else []))


def shape_logit(p: np.ndarray, f: pd.DataFrame, score_unit: float) -> np.ndarray:
    k, tau0, j = np.exp(p[0]), np.exp(p[1]), p[2]
    t, du = f["tau"].to_numpy(), f["d"].to_numpy() / score_unit
    return (k * du + t * f["l0"].to_numpy()) / np.sqrt(t + tau0) + j * du


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seasons", nargs="+", required=True, help="training seasons")
    ap.add_argument("--save", type=Path, help="save the trained weights here")
    ap.add_argument("--weights", type=Path, help="load these weights instead of training")
    args = ap.parse_args()
    arrays = load_training_arrays(settings.features_dir(), args.seasons)
    settings_ = {**BASE, "data": {"train_seasons": args.seasons}}
    temperature = 1.0
    with tempfile.TemporaryDirectory() as work:
        if args.weights:
            state = torch.load(args.weights, map_location="cpu", weights_only=True)
            cfg = RunConfig.from_dict({**settings_, "optim": {"max_epochs": 0}})
            cfg.model.fusion.state_lead_flat = "fusion.state_head.lead_flat" in state
            out = fit_forecaster(arrays, cfg, Path(work))
            out.model.load_state_dict(state)
            meta = args.weights.with_suffix(".json")
            temperature = json.loads(meta.read_text())["win_temperature"] if meta.exists() else 1.0
        else:
            out = fit_forecaster(arrays, RunConfig.from_dict(settings_), Path(work))
            temperature = float(out.preprocessing["win_temperature"])
            if args.save:
                torch.save(out.model.state_dict(), args.save)
                args.save.with_suffix(".json").write_text(json.dumps({"win_temperature": temperature}))
    out.model.eval()
    sel = cuts_frame(out, arrays, out.select_games, stride=3)
    jud = cuts_frame(out, arrays, out.val_games, stride=5)
    fit = sel[sel["checkpoint"] != "pregame"]
    y = fit["win"].to_numpy().astype(int)
    print(
        f"{args.seasons}: {len(out.select_games)} selection games, {len(out.val_games)} judged; "
        f"T = {temperature:.3f}"
    )

    for name, with_model in (("B", False), ("B + model", True)):
        lr = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=3000))
        lr.fit(baseline_features(fit, with_model), y)
        jud[name] = lr.predict_proba(baseline_features(jud, with_model))[:, 1]
        print(f"{name}: standardized coefficients {np.round(lr[-1].coef_[0], 3).tolist()}")

    unit = out.score_diff_std

    def nll(p: np.ndarray) -> float:
        z = shape_logit(p, fit, unit)
        return float(np.mean(np.logaddexp(0.0, z) - y * z))

    res = minimize(nll, [0.3, -3.8, 0.0], method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-5})
    jud["shape"] = _sigmoid(shape_logit(res.x, jud, unit))
    head = out.model.fusion.state_head
    learned = {k: round(float(v.detach()), 4) for k, v in head.scalars().items()}
    if head.lead_flat is not None:
        learned["lead_flat"] = round(float(head.lead_flat.detach()), 4)
    print(
        f"shape fitted on the selection games: k {np.exp(res.x[0]):.3f}, "
        f"tau0 {np.exp(res.x[1]):.4f}, j {res.x[2]:.3f}"
    )
    print(f"the model's learned head: {learned}")

    clock = fit_own_pregame_clock(out.model, out.norm, unit, arrays, out.select_games, temperature)
    own_j = model_pregame(out.model, out.norm, unit, arrays, out.val_games, temperature)
    g = jud["game_index"].to_numpy()
    state = (jud[c].to_numpy() for c in ("d", "points", "tau"))
    own = clock.predict(*state, own_j.p_home[g], own_j.margin[g], own_j.total[g])
    jud["own pregame baseline"] = own.p_home
    jud["model"] = _sigmoid(jud["z"].to_numpy() / temperature)

    sources = ["model", "own pregame baseline", "B", "B + model", "shape"]
    rows = []
    for cp in ("pregame", *IN_GAME):
        part = jud[jud["checkpoint"] == cp]
        outcome = part["win"].to_numpy()
        row = [cp, *(f"{np.mean((part[s].to_numpy() - outcome) ** 2):.4f}" for s in sources)]
        if cp != "pregame":
            drift = (part["lt"] - part["l0"]).to_numpy()
            surprise = outcome - _sigmoid(part["l0"].to_numpy())
            row += [
                f"{drift.std():.3f}",
                f"{np.corrcoef(drift, part['d'])[0, 1]:.3f}",
                f"{np.corrcoef(drift, surprise)[0, 1]:.3f}",
            ]
        else:
            row += ["", "", ""]
        rows.append(row)
    headers = ["judged games", *(f"Brier {s}" for s in sources)]
    headers += ["drift std", "corr(drift, lead)", "corr(drift, surprise)"]
    print(render_table(headers, rows))


if __name__ == "__main__":
    main()
