"""``nba-pipeline compare-on-validation``: compare run configs on the temporal VALIDATION split of
the training seasons only (the test season is never read), so settings are chosen without looking
at test games.

    nba-pipeline compare-on-validation --seasons 2020-21 2021-22 2022-23 \
        --configs '{"optim": {"lr": 1e-4}}' '{"optim": {"lr": 3e-4}}'

Each config (a partial ``RunConfig`` as JSON, over the defaults and ``--base``) trains on the
seasons; the earlier half of the validation dates chooses the epoch, as in every run. Printed per
config: the best epoch, its loss on the selection games (what chose it), the training seconds, and
the Brier score of the home-win probability at each checkpoint on the JUDGED validation games (the
later half, which chose nothing), with the pregame and all-checkpoints margin MAE ("all": the five
checkpoints pooled). Below, at the in-game checkpoints of the same games (also 2:00, 1:00 and 0:30
left in Q4, the end of regulation and the final buzzer), Brier and margin MAE of the model against
score and clock fed the model's own pregame forecast, and the same told who has the ball (the
walk-forward's in-game baselines, here fitted on the selection games), with
``--all-events-stride K`` also over every K-th in-game cut of those games (the walk-forward's
"all events"). "no line": the same model and games with the market's line hidden (as for a game
without one). "checks": the release's blocking rules
(``registry.rules.pregame_quality``) on the judged pregame forecasts, as ``trained_model``'s checks
judge them (failed rules named). "tip-off" / "morning": the judged games' pregame Brier with lines
withheld and the model's temperature, with the actual starting fives / the expected ones, built as
the daily run builds them (``evaluate.shipped``; the morning needs the database the features were
built from, ``NBA_DATABASE_URL``). Each config's JSON line also holds its temperature decision
(``calibration``, ``training.calibration``).

To compare code rather than settings, run it in a checkout of each commit (``git worktree add``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from nba_pipeline import settings
from nba_pipeline.db import make_engine
from nba_pipeline.evaluate.validation import (
    CHECKPOINTS,
    IN_GAME,
    in_game_scores,
    line_scores,
    no_line_metrics,
    shipped_pregame,
)
from nba_pipeline.registry.rules import pregame_quality
from nba_pipeline.text_tables import render_table
from nba_pipeline.training.config import RunConfig
from nba_pipeline.training.fit import fit_forecaster, load_training_arrays
from nba_pipeline.training.metrics import prediction_metrics
from nba_pipeline.training.predict import predict_frame


def _merged(base: dict, over: dict) -> dict:
    """``over`` on top of ``base``, nested sections merged key by key."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def main(argv: list[str] | None = None) -> int:
    """Train each config in turn and print its validation scores; exit 0."""
    ap = argparse.ArgumentParser(
        prog="nba-pipeline compare-on-validation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--seasons", nargs="+", required=True, help="training seasons")
    ap.add_argument("--configs", nargs="+", default=["{}"], help="partial run configs as JSON")
    ap.add_argument(
        "--all-events-stride",
        type=int,
        default=0,
        help="also every K-th in-game cut (0: the checkpoints only)",
    )
    ap.add_argument("--base", default='{"optim": {"max_epochs": 10, "patience": 4}}', help="JSON under each")
    args = ap.parse_args(argv)
    configs = {}
    for text in args.configs:  # every config refused now, not after the first one's training
        try:
            merged = _merged(json.loads(args.base), json.loads(text))
            configs[text] = RunConfig.from_dict(_merged(merged, {"data": {"train_seasons": args.seasons}}))
        except (ValueError, TypeError) as exc:
            print(f"error: config {text!r} (over --base {args.base!r}): {exc}", file=sys.stderr)
            return 2
    try:
        arrays = load_training_arrays(settings.features_dir(), args.seasons)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"seasons {args.seasons}: {arrays.n_games} games", flush=True)
    engine = make_engine(settings.database_url())
    rows, in_game = [], []
    for text, cfg in configs.items():
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as work:
            out = fit_forecaster(arrays, cfg, Path(work))
        seconds = time.perf_counter() - t0
        preds = predict_frame(out.model, out.val_dataset, out.norm)
        m = prediction_metrics(preds)
        scores = in_game_scores(out, arrays, preds, args.all_events_stride)
        bare = no_line_metrics(out, arrays)
        tipoff, morning = shipped_pregame(out, arrays, engine)
        pre = preds[preds["checkpoint"] == "pregame"]
        verdicts = pregame_quality(pre["p_home"].to_numpy(), pre["win"].to_numpy())
        failed = [rule for rule, (ok, _) in verdicts.items() if not ok]
        with_line = line_scores(pre, arrays)
        in_game += [[text, source, *(f"{b:.4f} / {m:.2f}" for b, m in s)] for source, s in scores.items()]
        rows.append(
            [text, out.result.best_epoch, f"{out.result.best_val_loss:.4f}", f"{seconds:.0f}"]
            + [f"{m[c]['brier']:.4f}" for c in CHECKPOINTS]
            + [f"{m['pregame']['margin_mae']:.2f}", f"{m['all']['margin_mae']:.2f}"]
            + [f"{tipoff:.4f}", f"{morning:.4f}", f"{bare['all']['brier']:.4f}"]
            + [*with_line]
            + ["pass" if not failed else "fail: " + ", ".join(failed)]
        )
        kept = ("calibration", "line_logit_scale")
        calibration = {k: out.preprocessing[k] for k in kept if k in out.preprocessing}
        print(json.dumps({"config": text, "judged": m, **calibration}), flush=True)
    headers = ["config", "best epoch", "selection loss", "train s"] + [f"Brier {c}" for c in CHECKPOINTS]
    headers += ["margin MAE pregame", "margin MAE all", "no line: Brier tip-off", "no line: Brier morning"]
    headers += ["no line: Brier all"]
    headers += ["with line: model", "with line: market", "games with line", "checks"]
    print(render_table(headers, rows))
    print("\nin game, judged validation games (Brier / margin MAE):")
    columns = [*IN_GAME, *(["all_events"] if args.all_events_stride else [])]
    print(render_table(["config", "source", *columns], in_game))
    return 0
