"""The ledger scorecard: the pregame forecasts the product actually issued, scored once the games
are played, beside Elo and (where lines exist) the betting market. It is the honest measure of the
product: forecasts written before tip-off, never touched after, so none was fitted to its result.

    from nba_pipeline.evaluate.scorecard import score_ledger
    card = score_ledger(engine, raw_dir)          # the live ledger (sources other than backtest/replay)
    print(card.markdown)                          # overall and weekly tables; card.games per game

- One forecast per game: the LAST pregame forecast in the ledger for it (what a user saw at
  tip-off); a game without a result yet is counted as pending, not scored.
- Metrics come from ``training.metrics.score`` and tables from ``tables.metrics_table``: the same
  numbers, computed the same way, as training and the evaluation report.
- Elo is ``evaluate.elo`` over the whole games table (each game from earlier games only); it has no
  total, so its total is the mean total of the games before the date (stated in the row name).
- Sources: ``backtest`` rows (past games forecast after the fact, see ``forecast.daily``) and
  ``replay`` rows never enter the live scorecard unless asked for (``sources=["backtest"]``).
- Lines: how many scored forecasts used a market line, and whose (the ledger's ``line_source``),
  so a score is read knowing how much of it the market told the model.
- The model's own view: where a forecast used a line, the ledger keeps the model's forecast with
  the line withheld beside it (``own_*``); a forecast without a line is the model's own. The row
  ``model's own`` scores that view on every game where it is known (not on forecasts with a line
  written before the columns), and ``model's own (games with lines)`` beside the market.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from nba_pipeline.evaluate.elo import elo_forecasts
from nba_pipeline.text_tables import metrics_table
from nba_pipeline.training.metrics import score

NOT_LIVE = ("backtest", "replay")  # sources kept out of the live scorecard by default
MODEL, ELO, MARKET, MODEL_LINES = (
    "model",
    "Elo (total: mean of earlier games)",
    "market",
    "model (games with lines)",
)
OWN, OWN_LINES = "model's own (lines withheld)", "model's own (games with lines)"
OWN_COLUMNS = {"p_home_win": "own_p_home_win", "margin": "own_margin", "total": "own_total"}
DEFAULT_WINDOW = 50  # games in the rolling Brier
NO_LINE = "none"  # lines_used key of the forecasts made without a line


@dataclass
class Scorecard:
    """The scored ledger as data and as the Markdown people read."""

    games: pd.DataFrame  # one row per scored game: the forecast, the result, Elo, market, week
    overall: dict[str, dict[str, float]]  # row name (MODEL, ELO, ...) -> training.metrics.score dict
    weekly: list[tuple[str, dict[str, float]]]  # ("<week start> <row name>", metrics), oldest first
    pending: int  # games forecast but not played yet
    sources: list[str]
    markdown: str
    lines_used: dict[str, int] = field(default_factory=dict)  # line source (or NO_LINE) -> forecasts


def count_lines_used(forecasts: pd.DataFrame) -> dict[str, int]:
    """Forecasts per market line source they used (the ledger's ``line_source``), most first, and
    ``NO_LINE``: those that used none (all of them for a ledger written before the column)."""
    src = forecasts["line_source"] if "line_source" in forecasts else pd.Series(None, index=forecasts.index)
    counts = src.astype(object).where(src.notna(), NO_LINE).value_counts()
    return {str(k): int(v) for k, v in counts.items()}


def last_pregame(ledger: pd.DataFrame) -> pd.DataFrame:
    """The last pregame forecast of each game (latest ``made_at``, then latest row)."""
    pre = ledger[ledger["state"] == "pregame"]
    order = ["made_at", "forecast_id"] if "forecast_id" in pre else ["made_at"]
    return (
        pre.sort_values(order, kind="stable").drop_duplicates("game_id", keep="last").reset_index(drop=True)
    )


def _mean_total_before(games: pd.DataFrame) -> pd.Series:
    """Per game id: the mean total points of every game strictly before its date (the table's
    first date, with nothing before it, takes its own games' mean)."""
    g = games.assign(t=games["home_pts"] + games["away_pts"])
    daily = g.groupby("game_date")["t"].agg(["sum", "count"]).sort_index()
    cum = daily.cumsum().shift(1)
    mean = (cum["sum"] / cum["count"]).fillna(daily["sum"] / daily["count"]).rename("m")
    return pd.Series(g["game_date"].map(mean).to_numpy(float), index=g["game_id"].astype(str))


def build_scorecard(
    ledger: pd.DataFrame,
    games: pd.DataFrame,
    market: pd.DataFrame | None = None,
    sources: Sequence[str] | None = None,
) -> Scorecard:
    """Score the ledger's pregame forecasts of ``sources`` (None: every source but ``NOT_LIVE``)
    against ``games`` (the games table: results and the Elo history) and ``market``
    (``evaluate.market.load_market``)."""
    games = games.copy()
    games["game_id"] = games["game_id"].astype(str)
    games["game_date"] = pd.to_datetime(games["game_date"])
    chosen = sorted(set(ledger["source"]) - set(NOT_LIVE)) if sources is None else list(sources)
    fc = last_pregame(ledger[ledger["source"].isin(chosen)])
    fc["game_id"] = fc["game_id"].astype(str)
    played = games.set_index("game_id")
    done = fc[fc["game_id"].isin(played.index)].copy()
    pending = int(len(fc) - len(done))
    res = played.loc[done["game_id"]]
    done["game_date"] = res["game_date"].to_numpy()
    done["home_pts"] = res["home_pts"].to_numpy(int)
    done["away_pts"] = res["away_pts"].to_numpy(int)
    done["win"] = (done["home_pts"] > done["away_pts"]).astype(float)
    done["margin_true"] = (done["home_pts"] - done["away_pts"]).astype(float)
    done["total_true"] = (done["home_pts"] + done["away_pts"]).astype(float)
    if len(done):
        seasons = games[games["season"] <= str(res["season"].max())]
        elo = elo_forecasts(seasons).set_index("game_id")
        done["elo_p_home"] = elo["elo_p_home"].reindex(done["game_id"]).to_numpy(float)
        done["elo_margin"] = elo["elo_margin"].reindex(done["game_id"]).to_numpy(float)
        done["elo_total"] = _mean_total_before(games).reindex(done["game_id"]).to_numpy(float)
    mcols = ["market_p_home", "market_margin", "market_total"]
    if market is not None and len(done):
        m = market.assign(game_id=market["game_id"].astype(str)).set_index("game_id")
        for c in mcols:
            done[c] = m[c].reindex(done["game_id"]).to_numpy(float)
    else:
        for c in mcols:
            done[c] = np.nan
    done["week"] = (done["game_date"] - pd.to_timedelta(done["game_date"].dt.day_of_week, unit="D")).dt.date
    no_line = done["line_source"].isna() if "line_source" in done else pd.Series(True, index=done.index)
    for k, c in OWN_COLUMNS.items():
        own = done[c].astype(float) if c in done else pd.Series(np.nan, index=done.index)
        done[c] = own.where(own.notna() | ~no_line, done[k].astype(float))
    done = done.sort_values(["game_date", "game_id"]).reset_index(drop=True)
    overall = _rows(done)
    weekly = [(f"{week} {name}", m) for week, part in done.groupby("week") for name, m in _rows(part).items()]
    card = Scorecard(done, overall, weekly, pending, chosen, "", count_lines_used(done))
    card.markdown = to_markdown(card)
    return card


def _rows(d: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The metrics of the model, Elo, the model's own view and (on the games with lines) the
    market, the model and the model's own."""
    if d.empty:
        return {}
    truth = [d[c].to_numpy(float) for c in ("win", "margin_true", "total_true")]
    out = {MODEL: score(d["p_home_win"], d["margin"], d["total"], *truth)}
    elo_ok = d[["elo_p_home", "elo_margin", "elo_total"]].notna().all(axis=1).to_numpy()
    if elo_ok.all():
        out[ELO] = score(d["elo_p_home"], d["elo_margin"], d["elo_total"], *truth)
    ok = d[["market_p_home", "market_margin", "market_total"]].notna().all(axis=1).to_numpy()
    if ok.any():
        t = [x[ok] for x in truth]
        out[MARKET] = score(
            *(d[c].to_numpy(float)[ok] for c in ("market_p_home", "market_margin", "market_total")), *t
        )
        out[MODEL_LINES] = score(*(d[c].to_numpy(float)[ok] for c in ("p_home_win", "margin", "total")), *t)
    own = d[list(OWN_COLUMNS.values())].notna().all(axis=1).to_numpy()
    if own.any():
        out[OWN] = score(*(d[c].to_numpy(float)[own] for c in OWN_COLUMNS.values()), *(x[own] for x in truth))
    both = own & ok
    if both.any():
        t = [x[both] for x in truth]
        out[OWN_LINES] = score(*(d[c].to_numpy(float)[both] for c in OWN_COLUMNS.values()), *t)
    return out


def to_markdown(card: Scorecard) -> str:
    """Overall table, then the weekly table (every metric from ``training.metrics.score``)."""
    head = [
        f"# Scorecard: {len(card.games)} games scored, {card.pending} pending "
        f"(sources: {', '.join(card.sources) or 'none'})",
        "",
        "The last pregame forecast of each game in the ledger, against the result; accuracy, Brier and",
        "log loss of the home-win probability, MAE of margin and total in points.",
        "",
    ]
    if card.games.empty:
        return "\n".join([*head, "No forecast of a played game yet."])
    used = ", ".join(f"{n} {src}" for src, n in card.lines_used.items())
    return "\n".join(
        [
            *head,
            f"Market line the scored forecasts used: {used}.",
            f"{OWN}: the network's forecast with the line withheld where the forecast used a line,",
            "the forecast itself where it used none (forecasts with a line made before this was",
            "recorded are left out of it).",
            "",
            "## Overall",
            "",
            metrics_table(card.overall, label="forecaster"),
            "",
            "## By week (week starting Monday)",
            "",
            metrics_table(card.weekly, label="week, forecaster"),
        ]
    )


def rolling_brier(card: Scorecard, window: int = DEFAULT_WINDOW) -> pd.DataFrame:
    """Per scored game in date order: the Brier of the model and of Elo over the last ``window``
    games (fewer at the start)."""
    d = card.games
    out = pd.DataFrame({"game_date": d["game_date"], "game_id": d["game_id"]})
    for name, col in (("model", "p_home_win"), ("elo", "elo_p_home")):
        if col in d:
            sq = (d[col].astype(float) - d["win"]) ** 2
            out[name] = sq.rolling(window, min_periods=1).mean().to_numpy()
    return out


def rolling_brier_png(card: Scorecard, window: int = DEFAULT_WINDOW) -> bytes:
    """The rolling Brier of the model and of Elo over the scored games, as PNG bytes."""
    from nba_pipeline.evaluate.plots import _figure, _to_png

    plt = _figure()
    r = rolling_brier(card, window)
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=100)
    x = np.arange(1, len(r) + 1)
    for name, color in (("model", "tab:blue"), ("elo", "tab:orange")):
        if name in r:
            ax.plot(x, r[name], color=color, label="Elo" if name == "elo" else "model")
    ax.axhline(0.25, color="grey", lw=1, ls="--", label="coin flip (0.25)")
    ax.set_xlabel("games scored (date order)")
    ax.set_ylabel(f"Brier, last {window} games")
    ax.set_title(f"Rolling Brier ({len(r)} games)")
    ax.legend(loc="upper right", fontsize=8)
    return _to_png(fig, plt)


def score_ledger(
    engine: sa.Engine, raw_dir: Path | None = None, sources: Sequence[str] | None = None
) -> Scorecard:
    """:func:`build_scorecard` of the database's ledger and games, with the market of
    ``raw_dir/odds.parquet`` when the file exists."""
    from nba_pipeline.db import read_table
    from nba_pipeline.evaluate.market import load_market
    from nba_pipeline.forecast.ledger import read_ledger

    ledger = read_ledger(engine)
    games: Any = (
        read_table(engine, "games")
        if sa.inspect(engine).has_table("games")
        else pd.DataFrame(
            columns=["game_id", "season", "game_date", "home_team_id", "away_team_id", "home_pts", "away_pts"]
        )
    )
    market = None
    if raw_dir is not None and (Path(raw_dir) / "odds.parquet").exists():
        market = load_market(Path(raw_dir))
    return build_scorecard(ledger, games, market, sources)
