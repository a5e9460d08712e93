"""FiveThirtyEight-style Elo: the classic pregame baseline any model must beat.

Rules (FiveThirtyEight's NBA Elo, 2015 version):
- every team starts at 1500; between seasons a rating regresses a quarter of the way to 1505;
- home advantage 100 Elo points (none at neutral sites);
- K = 20, scaled by the margin-of-victory multiplier
  ``(MOV + 3) ** 0.8 / (7.5 + 0.006 * elo_diff_of_winner)``, which damps blow-outs by favourites;
- win probability ``1 / (1 + 10 ** (-diff / 400))``; point spread ``diff / 28``.

Ratings are updated game by game in date order, so the forecast of a game only uses games played
before it (games on the same day never see each other). The loop is over games (~1,300 a season),
which Elo's sequential nature requires.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class EloConfig:
    """FiveThirtyEight's constants (module docstring), named so tests can derive expectations."""

    k: float = 20.0
    home_advantage: float = 100.0
    initial: float = 1500.0
    season_mean: float = 1505.0
    carryover: float = 0.75
    points_per_elo: float = 1.0 / 28.0


def elo_forecasts(games: pd.DataFrame, cfg: EloConfig = EloConfig()) -> pd.DataFrame:
    """Pregame Elo forecast for every game of ``games`` (columns of the ``games`` table).

    Returns one row per game: ``game_id, elo_home, elo_away, elo_p_home, elo_margin``. Games on the
    same date are forecast from the ratings as they stood before that date.
    """
    required = {"game_id", "season", "game_date", "home_team_id", "away_team_id", "home_pts", "away_pts"}
    missing = required - set(games.columns)
    if missing:
        raise ValueError(f"elo_forecasts: games frame lacks columns {sorted(missing)}")
    g = games.sort_values(["game_date", "game_id"]).reset_index(drop=True)
    neutral = g["neutral_site"].to_numpy(bool) if "neutral_site" in g else np.zeros(len(g), bool)
    home_ids = g["home_team_id"].to_numpy()
    away_ids = g["away_team_id"].to_numpy()
    margin = (g["home_pts"] - g["away_pts"]).to_numpy(float)
    seasons = g["season"].to_numpy()
    dates = g["game_date"].to_numpy()

    ratings: dict[int, float] = {}
    pre_home = np.empty(len(g))
    pre_away = np.empty(len(g))
    pending: list[tuple[int, float]] = []  # updates of the current date, applied after it
    current_season, current_date = None, None
    for i in range(len(g)):
        if dates[i] != current_date:
            for team, delta in pending:
                ratings[team] += delta
            pending.clear()
            current_date = dates[i]
        if seasons[i] != current_season:
            ratings = {
                t: cfg.carryover * r + (1 - cfg.carryover) * cfg.season_mean for t, r in ratings.items()
            }
            current_season = seasons[i]
        h = ratings.setdefault(int(home_ids[i]), cfg.initial)
        a = ratings.setdefault(int(away_ids[i]), cfg.initial)
        pre_home[i], pre_away[i] = h, a
        diff = h - a + (0.0 if neutral[i] else cfg.home_advantage)
        expected = 1.0 / (1.0 + 10.0 ** (-diff / 400.0))
        won = 1.0 if margin[i] > 0 else 0.0
        winner_diff = diff if won else -diff
        mov_mult = (abs(margin[i]) + 3.0) ** 0.8 / (7.5 + 0.006 * winner_diff)
        delta = cfg.k * mov_mult * (won - expected)
        pending += [(int(home_ids[i]), delta), (int(away_ids[i]), -delta)]

    diff = pre_home - pre_away + np.where(neutral, 0.0, cfg.home_advantage)
    return pd.DataFrame(
        {
            "game_id": g["game_id"].to_numpy(),
            "elo_home": pre_home,
            "elo_away": pre_away,
            "elo_p_home": 1.0 / (1.0 + 10.0 ** (-diff / 400.0)),
            "elo_margin": diff * cfg.points_per_elo,
        }
    )
