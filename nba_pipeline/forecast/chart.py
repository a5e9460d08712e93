"""The win-probability chart of a game: the home team's win probability over the 48 minutes (and
overtimes), with the scoring runs and the final result marked, as PNG bytes (matplotlib, Agg).

    png = chart_png(points, home="CLE", away="CHI")          # points: one row per forecast
    png = chart_from_updates(session.updates, "CLE", "CHI", path="wp.png")   # the live command
    png = game_chart(forecaster, game_id, pbp_rows)          # any game from its raw rows

``points`` columns: ``game_seconds`` (elapsed at the cut, 0 pregame), ``p_home_win``,
``home_score``, ``away_score``. A scoring run is a stretch of at least ``RUN_POINTS`` unanswered
points by one team; the biggest few are shaded and labelled.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nba_pipeline.ingest.plays import REGULATION_SECONDS

RUN_POINTS = 8
MAX_RUNS = 6
HOME_COLOR = "#1f5fa8"
AWAY_COLOR = "#c0392b"


def scoring_runs(points: pd.DataFrame, min_points: int = RUN_POINTS) -> pd.DataFrame:
    """Stretches of unanswered points: ``team`` ('home'/'away'), ``points``, ``start`` / ``end``
    (game seconds of the run's first and last basket), biggest first."""
    sc = points[["game_seconds", "home_score", "away_score"]].to_numpy(dtype=float)
    runs: list[dict[str, Any]] = []
    team, pts, start, end = None, 0.0, 0.0, 0.0
    for i in range(1, len(sc)):
        dh, da = sc[i, 1] - sc[i - 1, 1], sc[i, 2] - sc[i - 1, 2]
        if dh <= 0 and da <= 0:
            continue
        who = "home" if dh > 0 else "away"
        if who != team or (dh > 0 and da > 0):
            if team is not None and pts >= min_points:
                runs.append({"team": team, "points": int(pts), "start": start, "end": end})
            team, pts, start = who, 0.0, sc[i, 0]
        pts += max(dh, 0) + max(da, 0)
        end = sc[i, 0]
    if team is not None and pts >= min_points:
        runs.append({"team": team, "points": int(pts), "start": start, "end": end})
    out = pd.DataFrame(runs, columns=["team", "points", "start", "end"])
    return out.sort_values("points", ascending=False, kind="stable").reset_index(drop=True)


def chart_png(
    points: pd.DataFrame,
    home: str,
    away: str,
    title: str | None = None,
    path: str | Path | None = None,
) -> bytes:
    """The chart as PNG bytes (also written to ``path`` when given)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = points.sort_values("game_seconds", kind="stable")
    x = pts["game_seconds"].to_numpy(dtype=float) / 60.0
    p = pts["p_home_win"].to_numpy(dtype=float)
    end_min = max(48.0, float(x.max()) if len(x) else 48.0)
    n_ot = int(np.ceil(max(end_min - 48.0, 0.0) / 5.0 - 1e-9))

    fig, ax = plt.subplots(figsize=(11, 5.2), dpi=110)
    ax.fill_between(x, 0.5, p, where=p >= 0.5, step="post", color=HOME_COLOR, alpha=0.15, lw=0)
    ax.fill_between(x, 0.5, p, where=p < 0.5, step="post", color=AWAY_COLOR, alpha=0.15, lw=0)
    ax.step(x, p, where="post", color="#222222", lw=1.4)
    ax.axhline(0.5, color="#888888", lw=0.8, ls="--")
    _draw_axes(ax, n_ot, home, away)
    _draw_runs(ax, scoring_runs(pts).head(MAX_RUNS), home, away)
    if len(pts):
        _draw_status(ax, pts.iloc[-1], x[-1], p[-1], n_ot, home, away)
    ax.set_title(title or f"{away} at {home}: {home} win probability", loc="left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    png = buf.getvalue()
    if path is not None:
        Path(path).write_bytes(png)
    return png


def _draw_axes(ax: Any, n_ot: int, home: str, away: str) -> None:
    """Quarter (and overtime) lines and labels on x, each team's probability on y."""
    end_min = 48.0 + 5.0 * n_ot
    bounds = [12.0, 24.0, 36.0, 48.0] + [48.0 + 5.0 * k for k in range(1, n_ot + 1)]
    for b in bounds[:-1] if n_ot == 0 else bounds:
        if b < end_min:
            ax.axvline(b, color="#bbbbbb", lw=0.8)
    centers = [6.0, 18.0, 30.0, 42.0] + [50.5 + 5.0 * k for k in range(n_ot)]
    labels = ["Q1", "Q2", "Q3", "Q4"] + [f"OT{k + 1}" if n_ot > 1 else "OT" for k in range(n_ot)]
    ax.set_xticks(centers, labels)
    ax.set_xlim(0, end_min)
    ax.set_ylim(0, 1)
    ax.set_yticks(
        [0, 0.25, 0.5, 0.75, 1.0], [f"{away} 100%", f"{away} 75%", "50%", f"{home} 75%", f"{home} 100%"]
    )
    ax.set_ylabel(f"win probability ({home} up, {away} down)")
    ax.grid(axis="y", color="#eeeeee")


def _draw_runs(ax: Any, runs: pd.DataFrame, home: str, away: str) -> None:
    """Each scoring run shaded in its team's colour and labelled ("CLE 12-0")."""
    for r in runs.itertuples():
        color = HOME_COLOR if r.team == "home" else AWAY_COLOR
        ax.axvspan(r.start / 60.0, max(r.end / 60.0, r.start / 60.0 + 0.2), color=color, alpha=0.10, lw=0)
        y = 0.93 if r.team == "home" else 0.07
        ax.text(
            (r.start + r.end) / 120.0,
            y,
            f"{home if r.team == 'home' else away} {r.points}-0",
            ha="center",
            va="center",
            fontsize=8,
            color=color,
            fontweight="bold",
        )


def _draw_status(ax: Any, last: pd.Series, x: float, p: float, n_ot: int, home: str, away: str) -> None:
    """The last point marked (in the winner's colour once final) and the score above the plot."""
    hs, as_ = int(last["home_score"]), int(last["away_score"])
    final = hs != as_ and float(last["game_seconds"]) >= REGULATION_SECONDS
    winner = HOME_COLOR if hs > as_ else AWAY_COLOR
    ax.plot([x], [p], "o", color=winner if final else "#222222", ms=6, zorder=5)
    ot = f" ({n_ot}OT)" if n_ot > 1 else " (OT)" if n_ot else ""
    status = f"Final{ot}: {home} {hs}, {away} {as_}" if final else f"{home} {hs}, {away} {as_} (in progress)"
    ax.text(
        1.0,
        1.015,
        status,
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=10,
        fontweight="bold",
        color=winner if final else "#222222",
    )


def chart_from_updates(updates: list[Any], home: str, away: str, path: str | Path | None = None) -> bytes:
    """The chart of a live or replayed session's updates (``forecast.live_session.Update``)."""
    points = pd.DataFrame(
        {
            "game_seconds": [u.game_seconds for u in updates],
            "p_home_win": [u.forecast.p_home_win for u in updates],
            "home_score": [u.forecast.home_score for u in updates],
            "away_score": [u.forecast.away_score for u in updates],
        }
    )
    return chart_png(points, home, away, path=path)


def game_chart(forecaster: Any, game_id: str, pbp: pd.DataFrame, path: str | Path | None = None) -> bytes:
    """The chart of any game from its raw PlayByPlayV2 rows, forecast after every event through the
    incremental path (``GameForecaster.open_game``); e.g. for an asset's metadata."""
    game = forecaster.open_game(game_id)
    row = forecaster.game_row(game_id)
    rows = [game.forecast()]
    secs = [0.0]
    for r in pbp[pbp["GAME_ID"].astype(str) == game_id].sort_values("EVENTNUM").to_dict("records"):
        if game.add_rows([r]):
            rows.append(game.forecast())
            secs.append(game.cut().game_seconds)
    points = pd.DataFrame(
        {
            "game_seconds": secs,
            "p_home_win": [f.p_home_win for f in rows],
            "home_score": [f.home_score for f in rows],
            "away_score": [f.away_score for f in rows],
        }
    )
    return chart_png(points, str(row["home_team_abbr"]), str(row["away_team_abbr"]), path=path)
