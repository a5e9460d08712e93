"""Two facts about games that in-game modelling leans on, from the model inputs
(``$NBA_DATA_DIR/features``), printed as tables:

    python scripts/in_game_facts.py --ball-season 2019-20 \
        --windows 2017-18,2018-19,2019-20 2018-19,2019-20,2020-21

1. What holding the ball is worth: the mean rest-of-game margin (final margin minus the margin
   after the event, home minus away) after every event of ``--ball-season``, by who has the ball
   after it (features.in_game_state: +1 home, -1 away, 0 nobody) and the share of the game left.
2. How the home edge moves within a training window: the home win rate and mean home margin of
   the training, selection and judged games of each window (training.fit's temporal split), the
   games each part of a run is fitted, chosen and judged on.
"""

from __future__ import annotations

import argparse

import numpy as np

from nba_pipeline import settings
from nba_pipeline.features.season_arrays import SeasonArrays
from nba_pipeline.tables import render_table
from nba_pipeline.training.config import DataConfig
from nba_pipeline.training.fit import load_training_arrays, selection_split, temporal_split

TIME_LEFT_BINS = (0.0, 0.02, 0.1, 0.3, 0.7, 1.0)


def ball_table(a: SeasonArrays) -> str:
    game = np.repeat(np.arange(a.n_games), a.n_events)
    rest = (a.home_pts - a.away_pts)[game].astype(float) - a.ev_score_diff
    ball = a.ev_state[:, 0].astype(int) - a.ev_state[:, 1]
    rows = []
    for lo, hi in zip(TIME_LEFT_BINS[:-1], TIME_LEFT_BINS[1:], strict=True):
        in_bin = (a.ev_time_left > lo) & (a.ev_time_left <= hi)
        row = [f"({lo}, {hi}]"]
        for side in (1, 0, -1):
            m = in_bin & (ball == side)
            row.append(f"{rest[m].mean():+.2f} (n {int(m.sum())})")
        rows.append(row)
    headers = ["share of game left", "home has the ball", "nobody", "away has the ball"]
    return render_table(headers, rows)


def home_edge_table(windows: list[list[str]]) -> str:
    rows = []
    for seasons in windows:
        a = load_training_arrays(settings.features_dir(), seasons)
        train, val = temporal_split(a, DataConfig().val_fraction)
        select, judged = selection_split(a, val)
        margin = (a.home_pts - a.away_pts).astype(float)
        row = [f"{seasons[0]}..{seasons[-1]}"]
        for part in (train, select, judged):
            row.append(f"{np.mean(margin[part] > 0):.3f} / {margin[part].mean():+.2f} (n {len(part)})")
        rows.append(row)
    headers = ["window", "training: home win / margin", "selection", "judged"]
    return render_table(headers, rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ball-season", default="2019-20")
    ap.add_argument("--windows", nargs="*", default=[], help="comma-separated seasons of each window")
    args = ap.parse_args()
    a = SeasonArrays.load_parts(settings.features_dir(), args.ball_season)
    print(f"mean rest-of-game margin (points) after each event of {args.ball_season}:")
    print(ball_table(a))
    if args.windows:
        print("\nhome edge within each training window:")
        print(home_edge_table([w.split(",") for w in args.windows]))


if __name__ == "__main__":
    main()
