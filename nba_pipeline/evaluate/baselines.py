"""Baselines the model is measured against, on the same games: a constant home-win rate nearly
meets fixed accuracy and Brier floors, so only baselines tell what the model adds.

Each baseline is fitted on training games only and predicts, for a set of samples, the home-win
probability, the final margin and the total, in points:

- :class:`HomeRateBaseline`: the training home-win rate, mean margin and mean total (what a model
  with no information scores);
- :class:`ContextLogisticBaseline`: logistic regression (win) and ridge regression (margin, total)
  on the 32-dim pregame context vector;
- :class:`ScoreClockBaseline`: the classic in-game model: logistic regression on the score
  differential, the time left and the pregame probability; margin and total extrapolated from the
  current score and the pregame expectation over the time that is left; with ``possession``, who
  has the ball too.

Elo (``evaluate.elo``) and the betting market (``evaluate.market``) are pregame baselines computed
from the games table and odds file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


@dataclass
class SampleForecasts:
    """Forecasts of many samples (a game at a cut) as arrays: what every baseline and the model
    produce, so one scorer reads them all (``forecast.model.Forecast`` is one game's forecast as
    the product issues it)."""

    p_home: np.ndarray
    margin: np.ndarray
    total: np.ndarray


@dataclass
class HomeRateBaseline:
    """The same forecast for every game: the floor any model must clear."""

    p: float = 0.5
    margin: float = 0.0
    total: float = 220.0

    def fit(self, win: np.ndarray, margin: np.ndarray, total: np.ndarray) -> HomeRateBaseline:
        """The training games' home-win rate, mean margin and mean total."""
        self.p, self.margin, self.total = float(np.mean(win)), float(np.mean(margin)), float(np.mean(total))
        return self

    def predict(self, n: int) -> SampleForecasts:
        """The training means for ``n`` samples."""
        return SampleForecasts(np.full(n, self.p), np.full(n, self.margin), np.full(n, self.total))


class ContextLogisticBaseline:
    """What the pregame context vector alone predicts, with linear models; strongly regularized
    (C=0.1, alpha=10) since 32 correlated features meet only a few thousand games."""

    def __init__(self) -> None:
        self.win = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
        self.margin = make_pipeline(StandardScaler(), Ridge(alpha=10.0))
        self.total = make_pipeline(StandardScaler(), Ridge(alpha=10.0))

    def fit(
        self, x: np.ndarray, win: np.ndarray, margin: np.ndarray, total: np.ndarray
    ) -> ContextLogisticBaseline:
        """Fit the three regressions on training games' context vectors."""
        self.win.fit(x, win.astype(int))
        self.margin.fit(x, margin)
        self.total.fit(x, total)
        return self

    def predict(self, x: np.ndarray) -> SampleForecasts:
        """Forecasts for context vectors ``x`` (the same at every checkpoint of a game)."""
        return SampleForecasts(self.win.predict_proba(x)[:, 1], self.margin.predict(x), self.total.predict(x))


def _score_clock_features(
    score_diff: np.ndarray,
    time_left: np.ndarray,
    pregame_p: np.ndarray,
    pregame_margin: np.ndarray,
    possession: np.ndarray | None = None,
) -> np.ndarray:
    """Score differential matters more as time runs out: the diff scaled by 1/sqrt(time left) is the
    standard win-probability feature (a random walk's z-score); the pregame edge fades with time.
    Who has the ball (+1 home, -1 away, 0 loose) is worth about a point of lead, so it enters the
    same way: on its own and scaled by 1/sqrt(time left)."""
    t = np.clip(time_left, 0.0, 1.0)
    logit = np.log(np.clip(pregame_p, 1e-4, 1 - 1e-4) / np.clip(1 - pregame_p, 1e-4, 1))
    scale = 1.0 / np.sqrt(t + 1.0 / 48.0)
    cols = [score_diff, score_diff * scale, logit, logit * t, pregame_margin * t, t]
    if possession is not None:
        cols += [possession, possession * scale]
    return np.column_stack(cols)


class ScoreClockBaseline:
    """In-game: P(home win | score diff, time left, pregame probability), and with
    ``possession=True`` also who has the ball: what a careful simple model uses late in a game."""

    def __init__(self, possession: bool = False) -> None:
        self.possession = possession
        self.win = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))

    def _features(self, score_diff, time_left, pregame_p, pregame_margin, possession) -> np.ndarray:
        if self.possession and possession is None:
            raise ValueError("this score-and-clock baseline reads possession: pass it")
        return _score_clock_features(
            score_diff, time_left, pregame_p, pregame_margin, possession if self.possession else None
        )

    def fit(
        self,
        score_diff: np.ndarray,
        time_left: np.ndarray,
        pregame_p: np.ndarray,
        pregame_margin: np.ndarray,
        win: np.ndarray,
        possession: np.ndarray | None = None,
    ) -> ScoreClockBaseline:
        """Fit on cuts of training games (the pregame inputs from a pregame baseline)."""
        x = self._features(score_diff, time_left, pregame_p, pregame_margin, possession)
        self.win.fit(x, win.astype(int))
        return self

    def predict(
        self,
        score_diff: np.ndarray,
        score_total: np.ndarray,
        time_left: np.ndarray,
        pregame_p: np.ndarray,
        pregame_margin: np.ndarray,
        pregame_total: np.ndarray,
        possession: np.ndarray | None = None,
    ) -> SampleForecasts:
        """Margin: current diff plus the pregame margin for the share of the game left; total: current
        points plus the pregame total for the share left (overtime counts as no time left)."""
        t = np.clip(time_left, 0.0, 1.0)
        x = self._features(score_diff, t, pregame_p, pregame_margin, possession)
        p = self.win.predict_proba(x)[:, 1]
        return SampleForecasts(p, score_diff + pregame_margin * t, score_total + pregame_total * t)
