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
    Forecast,
    HomeRateBaseline,
    ScoreClockBaseline,
)
from nba_pipeline.evaluate.elo import elo_forecasts
from nba_pipeline.features.context import LINE_DIMS, SPEC_CONTEXT_DIM, without_lines
from nba_pipeline.features.season_arrays import SeasonArrays
from nba_pipeline.ingest.plays import REGULATION_SECONDS
from nba_pipeline.models.forecaster import NBAForecaster
from nba_pipeline.models.norm import TargetNorm
from nba_pipeline.tables import metrics_table
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
COLUMNS = ["checkpoint", "source", "n", "accuracy", "brier", "log_loss", "margin_mae", "total_mae"]


@dataclass
class Evaluation:
    """The report as data (table, predictions) and as the Markdown people read."""

    table: pd.DataFrame  # COLUMNS, one row per checkpoint and source
    predictions: pd.DataFrame  # the model's test predictions (predict_frame) incl. all-events cuts
    markdown: str


def _score(
    checkpoint: str, source: str, f: Forecast, win: np.ndarray, margin: np.ndarray, total: np.ndarray
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


def _market_by_game(market: pd.DataFrame | None, a: SeasonArrays) -> Forecast | None:
    """The market's pregame forecast of each game of ``a`` (NaN where it has no complete line)."""
    if market is None:
        return None
    m = market.set_index("game_id").reindex(a.game_id.astype(str))
    cols = [m[c].to_numpy(dtype=float) for c in ("market_p_home", "market_margin", "market_total")]
    return Forecast(*cols)


def _has_line(f: Forecast) -> np.ndarray:
    return np.isfinite(f.p_home) & np.isfinite(f.margin) & np.isfinite(f.total)


def score_clock_at_cuts(
    clock: ScoreClockBaseline, a: SeasonArrays, g: np.ndarray, cut: np.ndarray, pregame: Forecast
) -> Forecast:
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
    pregame: Forecast,
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


def model_pregame(
    model: NBAForecaster,
    norm: TargetNorm,
    score_diff_std: float,
    a: SeasonArrays,
    games: np.ndarray,
    temperature: float = 1.0,
) -> Forecast:
    """The model's pregame forecast of ``games`` of ``a``, as a per-game Forecast of all of ``a``
    (NaN for the other games)."""
    ds = NBADataset(a, norm, score_diff_std, mode="eval", games=games)
    pregame = np.arange(0, len(ds), 5)  # eval mode: five checkpoints per game, pregame first
    pre = predict_frame(model, ds, norm, indices=pregame, temperature=temperature)
    out = Forecast(*(np.full(a.n_games, np.nan) for _ in range(3)))
    gi = pre["game_index"].to_numpy()
    out.p_home[gi], out.margin[gi], out.total[gi] = (pre[c].to_numpy() for c in ("p_home", "margin", "total"))
    return out


def predict_without_lines(
    model: NBAForecaster,
    norm: TargetNorm,
    score_diff_std: float,
    a: SeasonArrays,
    games: np.ndarray | None = None,
    temperature: float = 1.0,
) -> pd.DataFrame:
    """The model's checkpoint forecasts (``predict_frame``) of ``games`` of ``a`` (default all) with
    every market line hidden: what it forecasts for a game without one."""
    hidden = replace(a, context=without_lines(a.context))
    ds = NBADataset(hidden, norm, score_diff_std, mode="eval", games=games)
    return predict_frame(model, ds, norm, temperature=temperature)


def fit_own_pregame_clock(
    model: NBAForecaster,
    norm: TargetNorm,
    score_diff_std: float,
    a: SeasonArrays,
    games: np.ndarray,
    temperature: float = 1.0,
    possession: bool = False,
) -> ScoreClockBaseline:
    """Score and clock fed the model's own pregame forecast, fitted on ``games`` of ``a`` (games
    whose pregame forecast the weights were not fitted on, for an honest baseline)."""
    win = (a.home_pts > a.away_pts).astype(float)
    pregame = model_pregame(model, norm, score_diff_std, a, games, temperature)
    return fit_score_clock(a, games, pregame, win, possession=possession)


def evaluate_forecaster(
    model: NBAForecaster,
    norm: TargetNorm,
    score_diff_std: float,
    train: SeasonArrays,
    test: SeasonArrays,
    games: pd.DataFrame,
    market: pd.DataFrame | None,
    all_events_stride: int = 1,
    own_pregame_fit_games: np.ndarray | None = None,
    temperature: float = 1.0,
) -> Evaluation:
    """Score the model and every baseline on ``test``; baselines are fitted on ``train`` only.

    ``games`` is the games table of every season up to and including the test season (Elo runs
    through all of it, forecasting each game from earlier games only). ``own_pregame_fit_games``:
    the games of ``train`` the score-and-clock fed the model's pregame forecast is fitted on
    (default all; pass games the model was not fitted on, e.g. its validation games).
    ``temperature``: the model's win-logit temperature (``preprocessing["win_temperature"]``).
    """
    train_win = (train.home_pts > train.away_pts).astype(float)
    train_margin = (train.home_pts - train.away_pts).astype(float)
    train_total = (train.home_pts + train.away_pts).astype(float)
    home = HomeRateBaseline().fit(train_win, train_margin, train_total)
    spec = slice(0, SPEC_CONTEXT_DIM)  # the context logistic does without the line
    ctx = ContextLogisticBaseline().fit(train.context[:, spec], train_win, train_margin, train_total)

    # Score-and-clock, fitted on random cuts of the training games.
    tg, tc = _random_cuts(train, per_game=8, seed=0)
    ts = state_at_cut(train, tg, tc)
    pre_train = ctx.predict(train.context[:, spec])
    clock = ScoreClockBaseline().fit(
        ts["diff"], ts["time_left"], pre_train.p_home[tg], pre_train.margin[tg], train_win[tg]
    )
    own_games = (
        np.arange(train.n_games) if own_pregame_fit_games is None else np.asarray(own_pregame_fit_games)
    )
    clock_own = fit_own_pregame_clock(model, norm, score_diff_std, train, own_games, temperature)
    clock_ball = fit_own_pregame_clock(
        model, norm, score_diff_std, train, own_games, temperature, possession=True
    )
    mkt_train, mkt_test = _market_by_game(market, train), _market_by_game(market, test)
    clock_mkt = None
    if mkt_train is not None and mkt_test is not None and _has_line(mkt_train).sum() >= 20:
        clock_mkt = fit_score_clock(train, np.flatnonzero(_has_line(mkt_train)), mkt_train, train_win)

    eval_ds = NBADataset(test, norm, score_diff_std, mode="eval")
    all_ds = NBADataset(test, norm, score_diff_std, mode="all_events")
    in_game = all_ds.in_game_samples()
    every_game = np.arange(test.n_games)
    late = [
        predict_frame(
            model, all_ds, norm, indices=all_ds.sample_index(every_game, cuts), temperature=temperature
        ).assign(checkpoint=name)
        for name, cuts in late_checkpoint_cuts(test).items()
    ]
    preds = pd.concat(
        [
            predict_frame(model, eval_ds, norm, temperature=temperature),
            *late,
            predict_frame(
                model, all_ds, norm, indices=in_game[:: max(1, all_events_stride)], temperature=temperature
            ).assign(checkpoint="all_events"),
        ],
        ignore_index=True,
    )
    withheld = None  # a season without lines forecasts the same with them hidden: no second pass
    if test.context[:, LINE_DIMS].any():
        withheld = predict_without_lines(model, norm, score_diff_std, test, temperature=temperature)

    pre_test = ctx.predict(test.context[:, spec])
    pg = preds[preds["checkpoint"] == "pregame"]
    own_test = Forecast(*(np.full(test.n_games, np.nan) for _ in range(3)))
    gi = pg["game_index"].to_numpy()
    own_test.p_home[gi], own_test.margin[gi], own_test.total[gi] = (
        pg[c].to_numpy() for c in ("p_home", "margin", "total")
    )
    elo = elo_forecasts(games).set_index("game_id")
    mkt = market.set_index("game_id") if market is not None else None
    rows: list[dict[str, Any]] = []
    for checkpoint in ORDER:
        part = preds[preds["checkpoint"] == checkpoint]
        if part.empty:
            continue
        g = part["game_index"].to_numpy()
        win, margin, total = (part[c].to_numpy() for c in ("win", "margin_true", "total_true"))
        model_f = Forecast(part["p_home"].to_numpy(), part["margin"].to_numpy(), part["total"].to_numpy())
        rows.append(_score(checkpoint, "model", model_f, win, margin, total))
        if withheld is not None and checkpoint in set(withheld["checkpoint"]):
            w = withheld[withheld["checkpoint"] == checkpoint]
            if not np.array_equal(w["game_index"].to_numpy(), g):
                raise AssertionError(f"{checkpoint}: the withheld-line forecasts are of other games")
            wf = Forecast(*(w[c].to_numpy() for c in ("p_home", "margin", "total")))
            rows.append(_score(checkpoint, "model (lines withheld)", wf, win, margin, total))
        rows.append(_score(checkpoint, "home-win rate", home.predict(len(g)), win, margin, total))
        ctx_f = Forecast(pre_test.p_home[g], pre_test.margin[g], pre_test.total[g])
        rows.append(_score(checkpoint, "context logistic (pregame info)", ctx_f, win, margin, total))
        if checkpoint == "pregame":
            ids = test.game_id[g].astype(str)
            e = elo.reindex(ids)
            elo_f = Forecast(
                e["elo_p_home"].to_numpy(), e["elo_margin"].to_numpy(), np.full(len(g), home.total)
            )
            rows.append(_score(checkpoint, "Elo (total: training mean)", elo_f, win, margin, total))
            if mkt is not None:
                m = mkt.reindex(ids)
                ok = m[["market_p_home", "market_margin", "market_total"]].notna().all(axis=1).to_numpy()
                if ok.any():
                    mf = Forecast(
                        *(m[c].to_numpy()[ok] for c in ("market_p_home", "market_margin", "market_total"))
                    )
                    rows.append(_score(checkpoint, "market", mf, win[ok], margin[ok], total[ok]))
                    sub = Forecast(model_f.p_home[ok], model_f.margin[ok], model_f.total[ok])
                    rows.append(
                        _score(checkpoint, "model (games with lines)", sub, win[ok], margin[ok], total[ok])
                    )
        else:
            st = state_at_cut(test, g, part["cut"].to_numpy())
            clock_f = clock.predict(
                st["diff"],
                st["total"],
                st["time_left"],
                pre_test.p_home[g],
                pre_test.margin[g],
                pre_test.total[g],
            )
            rows.append(_score(checkpoint, "score and clock", clock_f, win, margin, total))
            args = (st["diff"], st["total"], st["time_left"])
            own_f = clock_own.predict(*args, own_test.p_home[g], own_test.margin[g], own_test.total[g])
            rows.append(_score(checkpoint, "score and clock + own pregame", own_f, win, margin, total))
            ball_f = clock_ball.predict(
                *args, own_test.p_home[g], own_test.margin[g], own_test.total[g], st["possession"]
            )
            rows.append(
                _score(checkpoint, "score and clock + own pregame + possession", ball_f, win, margin, total)
            )
            if clock_mkt is not None and mkt_test is not None:
                ok = _has_line(mkt_test)[g]
                if ok.any():
                    mk = clock_mkt.predict(
                        *(x[ok] for x in args),
                        mkt_test.p_home[g][ok],
                        mkt_test.margin[g][ok],
                        mkt_test.total[g][ok],
                    )
                    sub = Forecast(model_f.p_home[ok], model_f.margin[ok], model_f.total[ok])
                    truth = (win[ok], margin[ok], total[ok])
                    rows.append(_score(checkpoint, "score and clock + market", mk, *truth))
                    rows.append(_score(checkpoint, "model (games with lines)", sub, *truth))
    table = pd.DataFrame(rows, columns=COLUMNS)
    return Evaluation(table=table, predictions=preds, markdown=to_markdown(table, train, test))


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
