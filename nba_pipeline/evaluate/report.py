"""The evaluation report: the model against real baselines on the same games of a test season
later than every training game, per checkpoint. Fixed floors (accuracy > 0.55, Brier < 0.25) say
little: a constant home-win rate nearly meets them (Brier about 0.245).

Rows per checkpoint (pregame, end of Q1, halftime, end of Q3, 5:00 / 2:00 / 1:00 / 0:30 left in
Q4, the end of regulation, the final buzzer, all events):
- ``model``: the trained forecaster;
- ``home-win rate``: training home-win rate, mean margin and mean total;
- ``context logistic``: logistic / ridge regression on the specification's 32 context features
  (pregame information without the market's line, so its forecast is the same at every
  checkpoint);
- ``Elo`` (pregame): FiveThirtyEight-style Elo carried across seasons; it has no total, so its
  total is the training mean (stated in the table);
- ``market`` (pregame): no-vig moneyline probability, spread and over/under, on the games that
  have lines; ``model (games with lines)`` is the model on exactly those games;
- ``score and clock`` (in-game): logistic regression on score differential, time left and the
  context-logistic pregame probability, fitted on random cuts of the training games;
- ``score and clock + own pregame`` (in-game): the same regression fed the MODEL's own pregame
  forecast (probability and margin), fitted on random cuts of ``own_pregame_fit_games`` (by default
  the training games; the walk-forward passes the validation games, which the weights never saw)
  with the model's pregame forecasts of those games: what the model adds in game beyond its own
  pregame view, i.e. what the play-by-play and the lineups are worth;
- ``score and clock + own pregame + possession`` (in-game): the same, also told who has the ball
  after the last event (``features.in_game_state``): in the last minutes a careful simple model
  knows that a possession is worth about a point;
- ``score and clock + market`` (in-game, games with lines): fed the market's pregame probability,
  spread and total, fitted on cuts of the training games with lines; ``model (games with lines)``
  is the model on the same cuts;
- ``model (lines withheld)`` (checkpoints, not all events; a model that uses the line): the model
  with the market's line hidden from every test game, as it forecasts a game without one
  (tomorrow's games, a season without an odds file).

"All events" averages over every in-game cut of the test games (every ``all_events_stride``-th
cut, to bound the cost; stride 1 is every event).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from nba_pipeline.evaluate.baselines import (
    ContextLogisticBaseline,
    HomeRateBaseline,
    SampleForecasts,
    ScoreClockBaseline,
)
from nba_pipeline.evaluate.elo import elo_forecasts
from nba_pipeline.features.context import LINE_DIMS, SPEC_CONTEXT_DIM, without_lines
from nba_pipeline.features.season_arrays import SeasonArrays
from nba_pipeline.forecast.model import ForecastModel
from nba_pipeline.ingest.plays import REGULATION_SECONDS
from nba_pipeline.text_tables import metrics_table
from nba_pipeline.training.dataset import NBADataset, events_per_game
from nba_pipeline.training.metrics import score
from nba_pipeline.training.predict import predict_frame

ORDER = [
    "pregame",
    "end_q1",
    "halftime",
    "end_q3",
    "q4_5min",
    "q4_2min",
    "q4_1min",
    "q4_30s",
    "end_reg",
    "final",
    "all_events",
]
# The last minutes, where a live forecast is watched most: seconds left in the 4th quarter at each
# cut (the last event at or before it), then the end of regulation (tied games go on to overtime)
# and the final buzzer (the last event: the forecast there should be the result).
LATE_Q4_SECONDS = {"q4_2min": 120.0, "q4_1min": 60.0, "q4_30s": 30.0}
SPEC = slice(0, SPEC_CONTEXT_DIM)  # the context logistic does without the line
COLUMNS = ["checkpoint", "source", "n", "accuracy", "brier", "log_loss", "margin_mae", "total_mae"]


@dataclass
class Evaluation:
    """The report as data (table, predictions) and as the Markdown people read."""

    table: pd.DataFrame  # COLUMNS, one row per checkpoint and source
    predictions: pd.DataFrame  # the model's test predictions (predict_frame) incl. all-events cuts
    markdown: str


def _score(
    checkpoint: str, source: str, f: SampleForecasts, win: np.ndarray, margin: np.ndarray, total: np.ndarray
) -> dict[str, Any]:
    """One table row; baseline probabilities are clipped into [0, 1] before scoring."""
    m = score(np.clip(f.p_home, 0.0, 1.0), f.margin, f.total, win, margin, total)
    return {"checkpoint": checkpoint, "source": source, **m}


def state_at_cut(a: SeasonArrays, game: np.ndarray, cut: np.ndarray) -> dict[str, np.ndarray]:
    """Score, time left and who has the ball (+1 home, -1 away, 0 nobody) after the first ``cut``
    events (cut 0: tip-off)."""
    pos = a.event_offsets[game] + cut - 1
    live = cut > 0
    safe = np.where(live, pos, 0)
    ball = a.ev_state[safe, 0].astype(float) - a.ev_state[safe, 1].astype(float)
    return {
        "diff": np.where(live, a.ev_score_diff[safe], 0).astype(float),
        "total": np.where(live, a.ev_score_total[safe], 0).astype(float),
        "time_left": np.where(live, a.ev_time_left[safe], 1.0).astype(float),
        "possession": np.where(live, ball, 0.0),
    }


def late_checkpoint_cuts(a: SeasonArrays) -> dict[str, np.ndarray]:
    """int64 [G] per late checkpoint: the events known at 2:00, 1:00 and 0:30 left in the 4th
    quarter, at the end of regulation, and at the final buzzer (every event)."""
    period = a.ev_period.astype(np.int64)
    conds = {
        name: (period <= 4) & (a.ev_game_seconds <= REGULATION_SECONDS - left)
        for name, left in LATE_Q4_SECONDS.items()
    }
    conds["end_reg"] = period <= 4
    out = {name: events_per_game(a, c) for name, c in conds.items()}
    out["final"] = a.n_events.astype(np.int64)
    return out


def _random_cuts(
    a: SeasonArrays, per_game: int, seed: int, games: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``per_game`` random in-game cuts of each of ``games`` (default all) of ``a``."""
    rng = np.random.default_rng(seed)
    n = a.n_events
    game = np.repeat(np.arange(a.n_games) if games is None else np.asarray(games, dtype=np.int64), per_game)
    cut = (rng.random(len(game)) * n[game]).astype(np.int64) + 1
    return game, np.minimum(cut, n[game])


def _market_by_game(market: pd.DataFrame | None, a: SeasonArrays) -> SampleForecasts | None:
    """The market's pregame forecast of each game of ``a`` (NaN where it has no complete line)."""
    if market is None:
        return None
    m = market.set_index("game_id").reindex(a.game_id.astype(str))
    cols = [m[c].to_numpy(dtype=float) for c in ("market_p_home", "market_margin", "market_total")]
    return SampleForecasts(*cols)


def _has_line(f: SampleForecasts) -> np.ndarray:
    return np.isfinite(f.p_home) & np.isfinite(f.margin) & np.isfinite(f.total)


def score_clock_at_cuts(
    clock: ScoreClockBaseline, a: SeasonArrays, g: np.ndarray, cut: np.ndarray, pregame: SampleForecasts
) -> SampleForecasts:
    """``clock``'s forecasts after ``cut`` events of games ``g`` of ``a``, fed ``pregame`` (one
    forecast per game of ``a``) and, when it reads it, who has the ball."""
    st = state_at_cut(a, g, cut)
    ball = st["possession"] if clock.possession else None
    return clock.predict(
        st["diff"], st["total"], st["time_left"], pregame.p_home[g], pregame.margin[g], pregame.total[g], ball
    )


def fit_score_clock(
    a: SeasonArrays,
    games: np.ndarray,
    pregame: SampleForecasts,
    win: np.ndarray,
    seed: int = 0,
    possession: bool = False,
) -> ScoreClockBaseline:
    """Score-and-clock fitted on 8 random cuts of each of ``games`` of ``a``, fed ``pregame`` (one
    forecast per game of ``a``), and who has the ball with ``possession``."""
    g, c = _random_cuts(a, per_game=8, seed=seed, games=games)
    st = state_at_cut(a, g, c)
    return ScoreClockBaseline(possession).fit(
        st["diff"], st["time_left"], pregame.p_home[g], pregame.margin[g], win[g], st["possession"]
    )


def _predict(fm: ForecastModel, ds: NBADataset, indices: np.ndarray | None = None) -> pd.DataFrame:
    """``predict_frame`` of ``fm`` (its network, norms and temperature) on samples of ``ds``."""
    return predict_frame(fm.model, ds, fm.norm, indices=indices, temperature=fm.temperature)


def _dataset(fm: ForecastModel, a: SeasonArrays, mode: str, games: np.ndarray | None = None) -> NBADataset:
    return NBADataset(a, fm.norm, fm.score_diff_std, mode=mode, games=games)


def _per_game(n_games: int, pred: pd.DataFrame) -> SampleForecasts:
    """One forecast per game of ``n_games`` from ``pred`` (one row per game: ``game_index``,
    p_home, margin, total); NaN for the games it does not hold."""
    out = SampleForecasts(*(np.full(n_games, np.nan) for _ in range(3)))
    gi = pred["game_index"].to_numpy()
    out.p_home[gi], out.margin[gi], out.total[gi] = (
        pred[c].to_numpy() for c in ("p_home", "margin", "total")
    )
    return out


def _of(pred: pd.DataFrame) -> SampleForecasts:
    return SampleForecasts(*(pred[c].to_numpy() for c in ("p_home", "margin", "total")))


def model_pregame(fm: ForecastModel, a: SeasonArrays, games: np.ndarray) -> SampleForecasts:
    """The model's pregame forecast of ``games`` of ``a``, as a per-game SampleForecasts of all of
    ``a`` (NaN for the other games)."""
    ds = _dataset(fm, a, "eval", games)
    pregame = np.arange(0, len(ds), 5)  # eval mode: five checkpoints per game, pregame first
    return _per_game(a.n_games, _predict(fm, ds, pregame))


def predict_without_lines(
    fm: ForecastModel, a: SeasonArrays, games: np.ndarray | None = None
) -> pd.DataFrame:
    """The model's checkpoint forecasts (``predict_frame``) of ``games`` of ``a`` (default all) with
    every market line hidden: what it forecasts for a game without one."""
    hidden = replace(a, context=without_lines(a.context))
    return _predict(fm, _dataset(fm, hidden, "eval", games))


def fit_own_pregame_clock(
    fm: ForecastModel, a: SeasonArrays, games: np.ndarray, possession: bool = False
) -> ScoreClockBaseline:
    """Score and clock fed the model's own pregame forecast, fitted on ``games`` of ``a`` (games
    whose pregame forecast the weights were not fitted on, for an honest baseline)."""
    win = (a.home_pts > a.away_pts).astype(float)
    pregame = model_pregame(fm, a, games)
    return fit_score_clock(a, games, pregame, win, possession=possession)


@dataclass
class _Baselines:
    """Every baseline, fitted on the training games."""

    home: HomeRateBaseline
    ctx: ContextLogisticBaseline
    clock: ScoreClockBaseline  # fed the context logistic's pregame forecast
    clock_own: ScoreClockBaseline  # fed the model's own pregame forecast
    clock_ball: ScoreClockBaseline  # the same, told who has the ball
    clock_mkt: ScoreClockBaseline | None  # fed the market's (None: fewer than 20 games with lines)


def _fit_baselines(
    fm: ForecastModel, train: SeasonArrays, market: pd.DataFrame | None, own_games: np.ndarray
) -> _Baselines:
    """The baselines fitted on ``train`` (the own-pregame clocks on ``own_games`` of it)."""
    win = (train.home_pts > train.away_pts).astype(float)
    margin = (train.home_pts - train.away_pts).astype(float)
    total = (train.home_pts + train.away_pts).astype(float)
    home = HomeRateBaseline().fit(win, margin, total)
    ctx = ContextLogisticBaseline().fit(train.context[:, SPEC], win, margin, total)
    # Score-and-clock, fitted on random cuts of the training games.
    tg, tc = _random_cuts(train, per_game=8, seed=0)
    ts = state_at_cut(train, tg, tc)
    pre = ctx.predict(train.context[:, SPEC])
    clock = ScoreClockBaseline().fit(ts["diff"], ts["time_left"], pre.p_home[tg], pre.margin[tg], win[tg])
    mkt = _market_by_game(market, train)
    clock_mkt = None
    if mkt is not None and _has_line(mkt).sum() >= 20:
        clock_mkt = fit_score_clock(train, np.flatnonzero(_has_line(mkt)), mkt, win)
    return _Baselines(
        home=home,
        ctx=ctx,
        clock=clock,
        clock_own=fit_own_pregame_clock(fm, train, own_games),
        clock_ball=fit_own_pregame_clock(fm, train, own_games, possession=True),
        clock_mkt=clock_mkt,
    )


def _model_predictions(fm: ForecastModel, test: SeasonArrays, all_events_stride: int) -> pd.DataFrame:
    """The model's forecasts of ``test`` at every checkpoint of ``ORDER`` (``predict_frame`` rows
    with ``checkpoint``), the all-events cuts every ``all_events_stride``-th."""
    all_ds = _dataset(fm, test, "all_events")
    every_game = np.arange(test.n_games)
    late = [
        _predict(fm, all_ds, all_ds.sample_index(every_game, cuts)).assign(checkpoint=name)
        for name, cuts in late_checkpoint_cuts(test).items()
    ]
    stride = all_ds.in_game_samples()[:: max(1, all_events_stride)]
    return pd.concat(
        [
            _predict(fm, _dataset(fm, test, "eval")),
            *late,
            _predict(fm, all_ds, stride).assign(checkpoint="all_events"),
        ],
        ignore_index=True,
    )


@dataclass
class _TestSide:
    """What the baselines are fed on the test games, one value per game of ``arrays``."""

    arrays: SeasonArrays
    ctx: SampleForecasts  # the context logistic's pregame forecast
    own: SampleForecasts  # the model's own pregame forecast
    market: SampleForecasts | None  # the market's (NaN without a complete line; None: no odds)
    elo: pd.DataFrame  # elo_forecasts by game_id
    market_rows: pd.DataFrame | None  # the market frame by game_id


def evaluate_forecaster(
    fm: ForecastModel,
    train: SeasonArrays,
    test: SeasonArrays,
    games: pd.DataFrame,
    market: pd.DataFrame | None,
    all_events_stride: int = 1,
    own_pregame_fit_games: np.ndarray | None = None,
) -> Evaluation:
    """Score the model ``fm`` (its network, norms and temperature) and every baseline on ``test``;
    baselines are fitted on ``train`` only.

    ``games`` is the games table of every season up to and including the test season (Elo runs
    through all of it, forecasting each game from earlier games only). ``own_pregame_fit_games``:
    the games of ``train`` the score-and-clock fed the model's pregame forecast is fitted on
    (default all; pass games the model was not fitted on, e.g. its validation games).
    """
    own_games = (
        np.arange(train.n_games) if own_pregame_fit_games is None else np.asarray(own_pregame_fit_games)
    )
    base = _fit_baselines(fm, train, market, own_games)
    preds = _model_predictions(fm, test, all_events_stride)
    withheld = None  # a season without lines forecasts the same with them hidden: no second pass
    if test.context[:, LINE_DIMS].any():
        withheld = predict_without_lines(fm, test)
    side = _TestSide(
        arrays=test,
        ctx=base.ctx.predict(test.context[:, SPEC]),
        own=_per_game(test.n_games, preds[preds["checkpoint"] == "pregame"]),
        market=_market_by_game(market, test),
        elo=elo_forecasts(games).set_index("game_id"),
        market_rows=market.set_index("game_id") if market is not None else None,
    )
    rows: list[dict[str, Any]] = []
    for checkpoint in ORDER:
        part = preds[preds["checkpoint"] == checkpoint]
        if not part.empty:
            rows += _checkpoint_rows(checkpoint, part, withheld, base, side)
    table = pd.DataFrame(rows, columns=COLUMNS)
    return Evaluation(table=table, predictions=preds, markdown=to_markdown(table, train, test))


def _checkpoint_rows(
    checkpoint: str,
    part: pd.DataFrame,
    withheld: pd.DataFrame | None,
    base: _Baselines,
    side: _TestSide,
) -> list[dict[str, Any]]:
    """The table rows of one checkpoint: the model's forecasts ``part`` there, then each
    baseline's on the same samples."""
    g = part["game_index"].to_numpy()
    truth = tuple(part[c].to_numpy() for c in ("win", "margin_true", "total_true"))
    model_f = _of(part)
    rows = [_score(checkpoint, "model", model_f, *truth)]
    if withheld is not None and checkpoint in set(withheld["checkpoint"]):
        w = withheld[withheld["checkpoint"] == checkpoint]
        if not np.array_equal(w["game_index"].to_numpy(), g):
            raise AssertionError(f"{checkpoint}: the withheld-line forecasts are of other games")
        rows.append(_score(checkpoint, "model (lines withheld)", _of(w), *truth))
    rows.append(_score(checkpoint, "home-win rate", base.home.predict(len(g)), *truth))
    ctx_f = SampleForecasts(side.ctx.p_home[g], side.ctx.margin[g], side.ctx.total[g])
    rows.append(_score(checkpoint, "context logistic (pregame info)", ctx_f, *truth))
    if checkpoint == "pregame":
        return rows + _pregame_rows(g, model_f, truth, base, side)
    return rows + _in_game_rows(checkpoint, g, part["cut"].to_numpy(), model_f, truth, base, side)


def _pregame_rows(
    g: np.ndarray,
    model_f: SampleForecasts,
    truth: tuple[np.ndarray, ...],
    base: _Baselines,
    side: _TestSide,
) -> list[dict[str, Any]]:
    """Elo, then the market and the model on the games with a complete line."""
    ids = side.arrays.game_id[g].astype(str)
    e = side.elo.reindex(ids)
    elo_f = SampleForecasts(
        e["elo_p_home"].to_numpy(), e["elo_margin"].to_numpy(), np.full(len(g), base.home.total)
    )
    rows = [_score("pregame", "Elo (total: training mean)", elo_f, *truth)]
    if side.market_rows is None:
        return rows
    m = side.market_rows.reindex(ids)
    cols = ("market_p_home", "market_margin", "market_total")
    ok = m[list(cols)].notna().all(axis=1).to_numpy()
    if ok.any():
        mf = SampleForecasts(*(m[c].to_numpy()[ok] for c in cols))
        sub = SampleForecasts(model_f.p_home[ok], model_f.margin[ok], model_f.total[ok])
        rows.append(_score("pregame", "market", mf, *(t[ok] for t in truth)))
        rows.append(_score("pregame", "model (games with lines)", sub, *(t[ok] for t in truth)))
    return rows


def _in_game_rows(
    checkpoint: str,
    g: np.ndarray,
    cut: np.ndarray,
    model_f: SampleForecasts,
    truth: tuple[np.ndarray, ...],
    base: _Baselines,
    side: _TestSide,
) -> list[dict[str, Any]]:
    """The score-and-clock baselines after ``cut`` events of games ``g``: fed the context
    logistic, the model's own pregame forecast (with and without the ball), the market."""
    st = state_at_cut(side.arrays, g, cut)
    args = (st["diff"], st["total"], st["time_left"])
    ctx, own = side.ctx, side.own
    clock_f = base.clock.predict(*args, ctx.p_home[g], ctx.margin[g], ctx.total[g])
    own_f = base.clock_own.predict(*args, own.p_home[g], own.margin[g], own.total[g])
    ball_f = base.clock_ball.predict(*args, own.p_home[g], own.margin[g], own.total[g], st["possession"])
    rows = [
        _score(checkpoint, "score and clock", clock_f, *truth),
        _score(checkpoint, "score and clock + own pregame", own_f, *truth),
        _score(checkpoint, "score and clock + own pregame + possession", ball_f, *truth),
    ]
    mkt = side.market
    if base.clock_mkt is None or mkt is None:
        return rows
    ok = _has_line(mkt)[g]
    if ok.any():
        mk = base.clock_mkt.predict(
            *(x[ok] for x in args), mkt.p_home[g][ok], mkt.margin[g][ok], mkt.total[g][ok]
        )
        sub = SampleForecasts(model_f.p_home[ok], model_f.margin[ok], model_f.total[ok])
        rows.append(_score(checkpoint, "score and clock + market", mk, *(t[ok] for t in truth)))
        rows.append(_score(checkpoint, "model (games with lines)", sub, *(t[ok] for t in truth)))
    return rows


def to_markdown(table: pd.DataFrame, train: SeasonArrays, test: SeasonArrays) -> str:
    """The report: what was trained and tested on, then one metrics table per checkpoint."""
    head = [
        f"# Evaluation: trained on {train.season} ({train.n_games} games), "
        f"tested on {test.season} ({test.n_games} games)",
        "",
        "Accuracy, Brier and log loss of the home-win probability; MAE of margin and total in points.",
        f"Regulation is {int(REGULATION_SECONDS)} s; checkpoints are cuts after the last event at or before",
        "the end of Q1, halftime, end of Q3, 5:00, 2:00, 1:00 and 0:30 left in Q4 and the end of regulation;",
        "'final' is the last event (the buzzer); 'all_events' averages over in-game cuts.",
        "",
    ]
    out = head
    for checkpoint in ORDER:
        part = table[table["checkpoint"] == checkpoint]
        if part.empty:
            continue
        rows = [(r["source"], r) for r in part.to_dict("records")]
        out += [f"## {checkpoint}", "", metrics_table(rows, label="source"), ""]
    return "\n".join(out)
