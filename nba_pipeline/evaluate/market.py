"""The betting market as a pregame baseline: the hardest one to beat.

Win probability from the two moneylines with the vig removed (``ml_home_implied_prob_novig``),
margin from the spread (``-home_spread``: a home favourite by 5 has spread -5), total from the
over/under. Totals flagged ``total_line_suspect`` in the source (parse errors such as 1.5 or 1111)
are dropped rather than trusted. Lines differ in timing by season (opening lines up to 2021-22,
closing-like lines from 2023-24): see the data README.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ODDS_COLUMNS = ["game_id", "ml_home_implied_prob_novig", "home_spread", "total_line", "total_line_suspect"]


def load_market(raw_dir: Path) -> pd.DataFrame:
    """One row per game id: ``game_id, market_p_home, market_margin, market_total`` (NaN where absent)."""
    path = Path(raw_dir) / "odds.parquet"
    try:
        odds = pd.read_parquet(path, columns=ODDS_COLUMNS)
    except (OSError, ValueError, KeyError) as exc:  # pyarrow raises ArrowInvalid (a ValueError)
        raise ValueError(f"{path}: cannot read the betting lines ({exc})") from exc
    odds = odds.dropna(subset=["game_id"]).drop_duplicates("game_id", keep="last")
    total = odds["total_line"].where(~odds["total_line_suspect"].astype(bool))
    return pd.DataFrame(
        {
            "game_id": odds["game_id"].astype(str).to_numpy(),
            "market_p_home": odds["ml_home_implied_prob_novig"].astype(float).to_numpy(),
            "market_margin": -odds["home_spread"].astype(float).to_numpy(),
            "market_total": total.astype(float).to_numpy(),
        }
    ).replace({np.inf: np.nan})
