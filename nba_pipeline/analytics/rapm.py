"""Regularized adjusted plus-minus (RAPM) on stints, as-of dates.

Each stint gives two rows: the home offense against the away defense and the reverse. The target
is points per 100 possessions of the offense, weighted by its possessions; the design has +1 for
each of the five offensive players (offense block), +1 for each defender (defense block) and a
home-offense column. Ridge regression shrinks toward a prior: the previous season's final
ratings (0 for players without one), i.e. it minimizes

    sum_i w_i (y_i - mu - x_i beta)^2 + lambda * ||beta - beta_prior||^2,

solved from the dense normal equations (about 1,400 unknowns; the design itself is scipy.sparse).
The home column is scaled by ``HOME_SCALE`` so that its effective penalty is negligible.
ORAPM = offense coefficient, DRAPM = minus the defense coefficient (positive = good defender),
RAPM = ORAPM + DRAPM, all in points per 100 possessions.

Snapshots: one before the first game (prior only), then every ``SNAPSHOT_DAYS`` days and on the
last game date; a snapshot dated T uses the stints of games on or before T. Lambda is chosen at
snapshots by K-fold cross-validation over the games available at that date (every ``CV_EVERY``-th
snapshot, the first one with ``MIN_CV_GAMES`` games and the last; the other snapshots keep the
latest choice, ``DEFAULT_LAMBDA`` before the first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spl

from nba_pipeline.analytics.schema import AWAY_COLS, HOME_COLS
from nba_pipeline.analytics.team_features import as_datetime, check_columns

SNAPSHOT_DAYS = 7
LAMBDA_GRID = (500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0)
DEFAULT_LAMBDA = 2000.0
CV_FOLDS = 4
CV_EVERY = 4  # cross-validate lambda on every 4th snapshot (and the first possible one)
MIN_CV_GAMES = 40
HOME_SCALE = 10.0
STINT_COLUMNS = [
    "game_id",
    "game_date",
    *HOME_COLS,
    *AWAY_COLS,
    "home_pts",
    "away_pts",
    "home_poss",
    "away_poss",
]


@dataclass
class RapmFit:
    """One fitted snapshot: per-player coefficients plus the intercept terms (for predictions)."""

    players: np.ndarray
    orapm: np.ndarray
    drapm: np.ndarray
    mu: float
    home: float
    lam: float
    off_poss: np.ndarray
    def_poss: np.ndarray

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "player_id": self.players,
                "orapm": self.orapm,
                "drapm": self.drapm,
                "rapm": self.orapm + self.drapm,
                "off_poss": self.off_poss,
                "def_poss": self.def_poss,
                "ridge_lambda": self.lam,
            }
        )


def design(stints: pd.DataFrame, index: pd.Index) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    """Sparse design [2S, 2P+1], target (pts/100 poss), weights (poss) and the row's game id.

    Rows with no possession are dropped."""
    n_p = len(index)
    home = np.column_stack([index.get_indexer(stints[c]) for c in HOME_COLS])
    away = np.column_stack([index.get_indexer(stints[c]) for c in AWAY_COLS])
    if (home < 0).any() or (away < 0).any():
        raise ValueError("rapm design: a stint player is missing from the player index")
    rows_x, rows_y, rows_w, rows_g = [], [], [], []
    for off, dfn, pts, poss, is_home in (
        (home, away, "home_pts", "home_poss", 1.0),
        (away, home, "away_pts", "away_poss", 0.0),
    ):
        w = stints[poss].to_numpy(float)
        keep = w > 0
        s = int(keep.sum())
        cols = np.hstack([off[keep], dfn[keep] + n_p, np.full((s, 1), 2 * n_p)])
        vals = np.hstack([np.ones((s, 10)), np.full((s, 1), HOME_SCALE * is_home)])
        r = np.repeat(np.arange(s), 11)
        rows_x.append(sp.csr_matrix((vals.ravel(), (r, cols.ravel())), shape=(s, 2 * n_p + 1)))
        rows_y.append(100.0 * stints[pts].to_numpy(float)[keep] / w[keep])
        rows_w.append(w[keep])
        rows_g.append(stints["game_id"].to_numpy()[keep])
    return sp.vstack(rows_x).tocsr(), np.concatenate(rows_y), np.concatenate(rows_w), np.concatenate(rows_g)


def _solve(a: sp.csr_matrix, b: np.ndarray, lam: float, prior: np.ndarray) -> np.ndarray:
    """(A + lam I) beta = b + lam prior by Jacobi-preconditioned conjugate gradients (A is sparse:
    players only meet teammates and opponents), started from the prior."""
    m = (a + lam * sp.eye(a.shape[0], format="csr")).tocsr()
    inv_d = 1.0 / m.diagonal()
    pre = spl.LinearOperator(m.shape, matvec=lambda v: inv_d * v)
    beta, info = spl.cg(m, b + lam * prior, x0=prior.copy(), M=pre, rtol=1e-9, maxiter=5000)
    if info != 0:
        raise RuntimeError(f"rapm: conjugate gradients did not converge (info={info}, lambda={lam})")
    return beta


def _normal(x: sp.csr_matrix, y: np.ndarray, w: np.ndarray, mu: float) -> tuple[sp.csr_matrix, np.ndarray]:
    xw = x.multiply(w[:, None]).tocsr()
    return (x.T @ xw).tocsr(), np.asarray(xw.T @ (y - mu)).ravel()


def choose_lambda(
    x: sp.csr_matrix, y: np.ndarray, w: np.ndarray, groups: np.ndarray, prior: np.ndarray
) -> float:
    """Lambda of LAMBDA_GRID with the lowest K-fold (by game) weighted squared error."""
    uniq = np.unique(groups)
    fold_of_game = np.arange(len(uniq)) % CV_FOLDS
    fold = fold_of_game[np.searchsorted(uniq, groups)]
    errs = np.zeros(len(LAMBDA_GRID))
    mu = float(np.average(y, weights=w))
    a_all, b_all = _normal(x, y, w, mu)
    for k in range(CV_FOLDS):
        te = fold == k
        a_te, b_te = _normal(x[te], y[te], w[te], mu)
        for j, lam in enumerate(LAMBDA_GRID):
            beta = _solve(a_all - a_te, b_all - b_te, lam, prior)
            r = y[te] - mu - x[te] @ beta
            errs[j] += float(np.sum(w[te] * r * r))
    return float(LAMBDA_GRID[int(np.argmin(errs))])


def fit_snapshot(
    stints: pd.DataFrame,
    index: pd.Index,
    prior: np.ndarray,
    lam: float | None,
    cross_validate: bool = True,
    prior_mu: float | None = None,
) -> RapmFit:
    """Fit one snapshot on ``stints`` (already filtered to the as-of window)."""
    n_p = len(index)
    if len(stints) == 0:
        return RapmFit(
            index.to_numpy(),
            prior[:n_p].copy(),
            -prior[n_p : 2 * n_p],
            prior_mu or 0.0,
            prior[-1] * HOME_SCALE,
            lam or DEFAULT_LAMBDA,
            np.zeros(n_p),
            np.zeros(n_p),
        )
    x, y, w, g = design(stints, index)
    if cross_validate and len(np.unique(g)) >= MIN_CV_GAMES:
        lam = choose_lambda(x, y, w, g, prior)
    lam = lam or DEFAULT_LAMBDA
    mu = float(np.average(y, weights=w))
    a, b = _normal(x, y, w, mu)
    beta = _solve(a, b, lam, prior)
    off_poss = np.asarray(x[:, :n_p].multiply(w[:, None]).sum(axis=0)).ravel()
    def_poss = np.asarray(x[:, n_p : 2 * n_p].multiply(w[:, None]).sum(axis=0)).ravel()
    return RapmFit(
        index.to_numpy(), beta[:n_p], -beta[n_p : 2 * n_p], mu, beta[-1] * HOME_SCALE, lam, off_poss, def_poss
    )


def snapshot_dates(game_dates: pd.Series) -> list[pd.Timestamp]:
    """The day before the first game, then every SNAPSHOT_DAYS days, then the last game date."""
    d = as_datetime(game_dates)
    first, last = d.min().normalize(), d.max().normalize()
    out = [first - pd.Timedelta(days=1)]
    t = first + pd.Timedelta(days=SNAPSHOT_DAYS - 1)
    while t < last:
        out.append(t)
        t += pd.Timedelta(days=SNAPSHOT_DAYS)
    out.append(last)
    return out


def rapm_snapshots(
    stints: pd.DataFrame,
    prior: pd.DataFrame | None = None,
    dates: list[pd.Timestamp] | None = None,
) -> tuple[pd.DataFrame, list[tuple[pd.Timestamp, RapmFit]]]:
    """Weekly as-of RAPM of one season. ``prior``: the previous season's final snapshot
    (player_id, orapm, drapm) or None. Returns the ``player_rapm`` rows (without ``season``) and
    the fits (for out-of-sample checks)."""
    check_columns(stints, STINT_COLUMNS, "stints")
    st = stints.copy()
    st["game_date"] = as_datetime(st["game_date"]).to_numpy()
    ids = np.unique(st[HOME_COLS + AWAY_COLS].to_numpy(np.int64))
    if prior is not None and len(prior):
        ids = np.union1d(ids, prior["player_id"].to_numpy(np.int64))
    index = pd.Index(ids)
    n_p = len(index)
    beta0 = np.zeros(2 * n_p + 1)
    if prior is not None and len(prior):
        pos = index.get_indexer(prior["player_id"].to_numpy(np.int64))
        beta0[pos] = prior["orapm"].to_numpy(float)
        beta0[n_p + pos] = -prior["drapm"].to_numpy(float)
    dates = snapshot_dates(st["game_date"]) if dates is None else dates
    fits: list[tuple[pd.Timestamp, RapmFit]] = []
    frames = []
    lam: float | None = None
    cv_done = 0
    for k, d in enumerate(dates):
        window = st[st["game_date"] <= d]
        enough = window["game_id"].nunique() >= MIN_CV_GAMES
        cv = enough and (cv_done == 0 or k % CV_EVERY == 0 or k == len(dates) - 1)
        fit = fit_snapshot(window, index, beta0, lam, cross_validate=cv)
        cv_done += int(cv)
        lam = fit.lam
        fits.append((d, fit))
        f = fit.frame()
        f["as_of_date"] = d.date()
        frames.append(f)
    return pd.concat(frames, ignore_index=True), fits


def predicted_margin(fit: RapmFit, stints: pd.DataFrame, players: bool = True) -> np.ndarray:
    """Expected home-minus-away points of each stint given its possessions (players=False: the
    intercept-and-home model only, the baseline that shows what the player ratings add)."""
    idx = pd.Index(fit.players)

    def total(cols: list[str], arr: np.ndarray) -> np.ndarray:
        pos = np.column_stack([idx.get_indexer(stints[c]) for c in cols])
        vals = np.where(pos >= 0, arr[np.maximum(pos, 0)], 0.0)
        return vals.sum(axis=1) if players else np.zeros(len(stints))

    home_rate = fit.mu + fit.home + total(HOME_COLS, fit.orapm) - total(AWAY_COLS, fit.drapm)
    away_rate = fit.mu + total(AWAY_COLS, fit.orapm) - total(HOME_COLS, fit.drapm)
    return (
        home_rate * stints["home_poss"].to_numpy(float) - away_rate * stints["away_poss"].to_numpy(float)
    ) / 100.0


def out_of_sample_r2(
    stints: pd.DataFrame, fits: list[tuple[pd.Timestamp, RapmFit]], horizon_days: int = SNAPSHOT_DAYS
) -> dict[str, float]:
    """R^2 of stint margins in the ``horizon_days`` after each snapshot (snapshots that saw at
    least one game) against the zero model; also for the intercept-only model."""
    st = stints.copy()
    st["game_date"] = as_datetime(st["game_date"]).to_numpy()
    actual, pred, base = [], [], []
    first_game = st["game_date"].min()
    for d, fit in fits:
        if d < first_game:
            continue
        nxt = st[(st["game_date"] > d) & (st["game_date"] <= d + pd.Timedelta(days=horizon_days))]
        if len(nxt) == 0:
            continue
        actual.append((nxt["home_pts"] - nxt["away_pts"]).to_numpy(float))
        pred.append(predicted_margin(fit, nxt))
        base.append(predicted_margin(fit, nxt, players=False))
    a, p, b = np.concatenate(actual), np.concatenate(pred), np.concatenate(base)
    sst = float(np.sum(a * a))
    return {
        "r2_rapm": 1.0 - float(np.sum((a - p) ** 2)) / sst,
        "r2_intercept_only": 1.0 - float(np.sum((a - b) ** 2)) / sst,
        "n_stints": float(len(a)),
    }


def final_ratings(stints_by_season: list[pd.DataFrame]) -> pd.DataFrame | None:
    """The last season's final ratings (player_id, orapm, drapm), each season's fit shrunk toward
    the one before it, oldest season first: the prior of the season that follows.

    This is exactly the last snapshot that :func:`rapm_snapshots` stores for each season (the same
    window, prior, index and cross-validated lambda), recomputed from stints alone (about half a
    second a season), so a season's RAPM depends only on stints, never on another season's stored
    RAPM: seasons can be built in any order, or in parallel, with the same rows."""
    prior: pd.DataFrame | None = None
    for st in stints_by_season:
        if st.empty:  # a season without stints breaks the chain, as a missing season does
            prior = None
            continue
        last = snapshot_dates(st["game_date"])[-1:]
        rows, _ = rapm_snapshots(st, prior, dates=last)
        prior = rows[["player_id", "orapm", "drapm"]]
    return prior
