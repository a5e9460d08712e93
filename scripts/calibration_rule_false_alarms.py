"""How often the calibration check (``registry.rules.decile_monotonicity``) fails a model that is
perfectly calibrated, by the number of judged games: outcomes are drawn from the forecasts
themselves, with forecasts spread like a pregame model's (logit ~ N(0.2, 0.75)).

    python scripts/calibration_rule_false_alarms.py [--games 138 300 700] [--draws 2000]
"""

from __future__ import annotations

import argparse

import numpy as np

from nba_pipeline.registry.rules import decile_monotonicity


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--games", type=int, nargs="+", default=[138, 300, 700])
    ap.add_argument("--draws", type=int, default=2000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    for n in args.games:
        fails = 0
        for _ in range(args.draws):
            p = 1.0 / (1.0 + np.exp(-rng.normal(0.2, 0.75, n)))
            y = (rng.random(n) < p).astype(float)
            fails += not decile_monotonicity(p, y)[0]
        print(f"{n} judged games: a perfectly calibrated model fails {fails / args.draws:.1%} of the time")


if __name__ == "__main__":
    main()
