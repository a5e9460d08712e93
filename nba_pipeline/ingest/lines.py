"""``odds.parquet`` -> rows of the ``betting_lines`` table for one season.

The market's pregame view of a game, in the units the rest of the pipeline uses: the home win
probability from the two moneylines with the vig removed, the expected home margin (``-home_spread``:
a home favourite by 5 has spread -5) and the over/under. A total flagged ``total_line_suspect`` in
the source (parse errors such as 1.5 or 1111) is dropped rather than trusted; a probability outside
(0, 1) or a non-finite value becomes NULL and is counted. Lines differ in timing by season (opening
lines up to 2021-22, closing-like lines from 2023-24), which the table does
not hide: ``season`` is kept so a consumer can tell them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nba_pipeline.ingest.schema import betting_lines

LINE_COLUMNS = [c.name for c in betting_lines.columns]


@dataclass
class LinesReport:
    rows: int = 0
    without_game_id: int = 0  # source rows not matched to a game (dropped: nothing to join them to)
    duplicates_dropped: int = 0
    suspect_totals: int = 0
    bad_probabilities: int = 0


def build_lines(raw_odds: pd.DataFrame, season: str | None = None) -> tuple[pd.DataFrame, LinesReport]:
    """One row per game id (the last source row wins for a game listed twice); every season when
    ``season`` is None."""
    odds = raw_odds if season is None else raw_odds[raw_odds["season"].astype(str) == season]
    rep = LinesReport(without_game_id=int(odds["game_id"].isna().sum()))
    odds = odds.dropna(subset=["game_id"])
    n = len(odds)
    odds = odds.drop_duplicates("game_id", keep="last")
    rep.duplicates_dropped = n - len(odds)
    suspect = odds["total_line_suspect"].fillna(False).astype(bool).to_numpy()
    rep.suspect_totals = int(suspect.sum())
    p = odds["ml_home_implied_prob_novig"].astype("float64").to_numpy()
    bad_p = np.isfinite(p) & ((p <= 0.0) | (p >= 1.0))
    rep.bad_probabilities = int(bad_p.sum())
    out = pd.DataFrame(
        {
            "game_id": odds["game_id"].astype(str).to_numpy(),
            "season": odds["season"].astype(str).to_numpy(),
            "market_p_home": np.where(bad_p, np.nan, p),
            "market_margin": -odds["home_spread"].astype("float64").to_numpy(),
            "market_total": np.where(suspect, np.nan, odds["total_line"].astype("float64").to_numpy()),
        }
    ).replace({np.inf: np.nan, -np.inf: np.nan})
    rep.rows = len(out)
    return out[LINE_COLUMNS], rep
