"""``nba-pipeline calibration-false-alarms``: how often the calibration check fails a perfectly
calibrated model (its false-alarm rate), and how often it fails clearly miscalibrated ones (its
power), by simulation.

    nba-pipeline calibration-false-alarms [--sims 10000] [--seed 0] [--forecasts beta|uniform]
        [--games 138 375 1230] [--old-sims 2000]

Games are won with true probabilities drawn like a real model's pregame forecasts
(``registry.rules.simulated_forecasts``). Printed per number of judged games: the rate of the
blocking rule (``registry.rules.calibration_test``, Cox's test at 1%), the old decile rule's
(``decile_monotonicity``, now a reported diagnostic) on ``--old-sims`` simulations (it runs once
per simulation, so fewer), and the new rule's power against each of
``registry.rules.MISCALIBRATIONS``. 138 games: the end-to-end test's slice; 1,230: a season.
"""

from __future__ import annotations

import argparse
import time

from nba_pipeline.registry.rules import (
    CALIBRATION_ALPHA,
    CALIBRATION_CRITICAL,
    MISCALIBRATIONS,
    calibration_failure_rate,
    calibration_false_alarm_rate,
    decile_monotonicity,
)
from nba_pipeline.text_tables import render_table


def main(argv: list[str] | None = None) -> int:
    """Simulate and print the rates per number of judged games; exit 0."""
    ap = argparse.ArgumentParser(
        prog="nba-pipeline calibration-false-alarms", description=(__doc__ or "").split("\n\n")[0]
    )
    ap.add_argument("--sims", type=int, default=10_000, help="simulations per size for the new rule")
    ap.add_argument("--old-sims", type=int, default=2_000, help="simulations per size for the decile rule")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--forecasts", choices=["beta", "uniform"], default="beta")
    ap.add_argument("--games", type=int, nargs="+", default=[138, 375, 1230])
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    rows = []
    for n in args.games:
        new = calibration_false_alarm_rate(n, args.sims, args.seed, args.forecasts)
        old = calibration_false_alarm_rate(
            n, args.old_sims, args.seed, args.forecasts, rule=decile_monotonicity
        )
        power = [
            calibration_failure_rate(n, args.sims, args.seed, args.forecasts, distort=distort)
            for distort in MISCALIBRATIONS.values()
        ]
        rows.append([n, new, old, *power])
    print(
        f"calibration check: Cox's test, statistic < {CALIBRATION_CRITICAL:.3f} (chi-squared 2 df, "
        f"alpha {CALIBRATION_ALPHA:.0%}); forecasts {args.forecasts}, seed {args.seed}, "
        f"{args.sims} simulations ({args.old_sims} for the decile rule)\n"
    )
    headers = ["games", "false alarms", "old decile rule", *(f"power: {k}" for k in MISCALIBRATIONS)]
    print(render_table(headers, rows, formats=[None] + [".3f"] * (len(headers) - 1)))
    print(f"\n{time.perf_counter() - t0:.1f} s")
    return 0
