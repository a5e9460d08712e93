"""Daily pregame forecasts: every game of the next days, forecast with the promoted model before
tip-off and written to the forecast ledger (the plain logic behind the ``daily_forecasts`` asset).

    from nba_pipeline.forecast.daily import run_daily
    res = run_daily(GameForecaster.from_registry("latest"), engine, pulled_dir, dt.date(2026, 11, 24), days=2)
    res.written, res.skipped          # rows new in the ledger; game id -> why it was not forecast

Why it works this way:

- Games to come are the games of ``[as_of, as_of + days)``: from the ``games`` table (a shipped
  season, or one whose games are ingested) and from ``schedule_<season>.parquet`` in the pulled dir
  (stats.nba.com's games not played yet). Each is forecast through ``GameForecaster.open_game``
  with a context computed for this forecast (:func:`pregame_context`): a game of the ``games``
  table takes its stored ``team_game_features`` rows with the strength computed again for the
  players this forecast takes as out (:func:`listed_context`); a scheduled game, its row from the
  schedule and its team features computed (:func:`scheduled_context`) by the
  ``team_game_features`` asset's own function (``analytics.team_game_table``), from the games
  played before its date.
- Starters: nobody announces them in the morning, so each side gets its expected starting five
  (``analytics.lineup_features.expected_starters``: the five who started most in the team's last
  games strictly before the game date), never an empty lineup graph. Announced fives can be given.
- Who is out (``forecast.availability``): per team, an imported report known before the forecast,
  else the live box score's inactive list (asked when ``fetch_inactive``; a feed that is down is a
  warning in ``DailyResult.warnings``), else the rotation players who missed the team's latest
  game. The forecast's strength features leave out exactly these players, and every forecast
  records them (``Forecast.out_players``, the ledger's ``out_players``, the ``home_out`` /
  ``away_out`` columns of the output table).
- No leakage: a game on day D is featurized by ``GameForecaster`` from games before D only, and the
  expected starters come from starts before D.
- The ledger is append-only and keyed by (game, version, state, events, source), so a rerun of a
  day adds nothing; games already in the ledger for this model and source are not even recomputed.
  A game whose tip-off has passed (noon US/Eastern of its date when no time is known) is skipped:
  the ledger would refuse its pregame forecast anyway.
- The market line: a game's ``betting_lines`` row, else its last fetched line
  (``line_lookup.betting_lines_of``, whose rows say which line they are); each ledger row names the line
  its forecast used (``line_source``, ``line_fetched_at``), or none when the game had none or the
  model does not read the line (``ForecastModel.line_used``).
- :func:`backtest_forecasts` writes the same pregame forecasts of past games with ``made_at`` the
  day before each game under source ``backtest`` (kept apart from the live scorecard), to check the
  scorecard against the evaluation report on the same games: without an import, who is out is who
  of the rotation did not play the game, as in the stored features the evaluation reads.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from nba_pipeline.analytics import reads
from nba_pipeline.analytics import schema as aschema
from nba_pipeline.analytics.availability import rotation_as_of
from nba_pipeline.analytics.lineup_features import (
    SLOTS,
    expected_starters,
    game_starters,
)
from nba_pipeline.analytics.team_game_table import (
    player_feature_seasons,
    read_team_game_inputs,
    team_game_features,
)
from nba_pipeline.analytics.team_strength import add_strength_features
from nba_pipeline.db import naive_utc, read_seasons, read_table
from nba_pipeline.features.context import ContextFeatureBuilder
from nba_pipeline.features.season_arrays import SeasonArrays
from nba_pipeline.forecast.availability import Availability, OutPlayer, availability_of
from nba_pipeline.forecast.game import GameForecaster, Starters
from nba_pipeline.forecast.ledger import (
    append_forecasts,
    default_tipoff,
    entry_from_forecast,
    read_ledger,
)
from nba_pipeline.forecast.model import Forecast
from nba_pipeline.ingest.raw import previous_season
from nba_pipeline.sources.inactive import fetch_inactive
from nba_pipeline.sources.line_lookup import betting_lines_of

log = logging.getLogger(__name__)

GAME_COLUMNS = ["game_id", "game_date", "season", "home_team_id", "away_team_id", "origin"]


@dataclass
class DailyResult:
    """What one daily run did: the games it looked at, the forecasts it made, what it wrote."""

    as_of: dt.date
    days: int
    games: pd.DataFrame  # GAME_COLUMNS + home_starters, away_starters (lists of player ids)
    forecasts: list[Forecast] = field(default_factory=list)  # one per game forecast
    written: int = 0  # ledger rows that were new
    already: list[str] = field(default_factory=list)  # games already in the ledger (this model, source)
    skipped: dict[str, str] = field(default_factory=dict)  # game id -> why it was not forecast
    availability: Availability = field(default_factory=Availability)  # who each game is without
    warnings: list[str] = field(default_factory=list)  # what went wrong without stopping the run

    def span(self) -> str:
        """The days forecast, as people read them: '2026-12-06' or '2026-12-06 to 2026-12-07'."""
        last = self.as_of + dt.timedelta(days=self.days - 1)
        return str(self.as_of) if self.days == 1 else f"{self.as_of} to {last}"

    def no_games(self) -> str | None:
        """Why nothing was forecast when there was no game to forecast, else None."""
        if len(self.games):
            return None
        return f"no games on {self.span()} in the games table or a pulled schedule: nothing to forecast"

    def table(self) -> pd.DataFrame:
        """One row per forecast: game, date, teams, expected starters, probability, margin, total,
        the model's own probability where a line was used, and the players taken as out per side
        (``home_out``, ``away_out``: 'name (status, source)', comma-separated)."""
        cols = ["game_id", "p_home_win", "margin", "total", "own_p_home_win", "home_out", "away_out"]
        fc = pd.DataFrame(
            [
                {
                    "game_id": f.game_id,
                    "p_home_win": f.p_home_win,
                    "margin": f.margin,
                    "total": f.total,
                    "own_p_home_win": f.own_p_home_win,
                    "home_out": out_names(self.availability.of(f.game_id).home),
                    "away_out": out_names(self.availability.of(f.game_id).away),
                }
                for f in self.forecasts
            ],
            columns=cols,
        )
        return self.games.merge(fc, on="game_id", how="inner")


def out_names(players: tuple[OutPlayer, ...]) -> str:
    """Players as people read them: 'LeBron James (out, csv), ...'; '-' for nobody."""
    return ", ".join(f"{p.name or p.player_id} ({p.status}, {p.source})" for p in players) or "-"


def games_to_come(engine: sa.Engine, pulled_dir: Path | None, as_of: dt.date, days: int) -> pd.DataFrame:
    """The games of ``[as_of, as_of + days)``: ``GAME_COLUMNS``, ``origin`` 'games' (in the games
    table) or 'schedule' (only in a pulled ``schedule_<season>.parquet``), by date and id."""
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    end = as_of + dt.timedelta(days=days)
    parts = []
    g = reads.games_between(engine, as_of, end)
    if g is not None:
        parts.append(g.assign(origin="games"))
    if pulled_dir is not None and Path(pulled_dir).is_dir():
        for path in sorted(Path(pulled_dir).glob("schedule_*.parquet")):
            s = pd.read_parquet(path)
            s["game_date"] = pd.to_datetime(s["game_date"]).dt.date
            s = s[(s["game_date"] >= as_of) & (s["game_date"] < end)]
            if "status" in s:
                s = s[s["status"] != "final"]
            season = path.stem.removeprefix("schedule_")
            parts.append(s.assign(season=season, origin="schedule"))
    if not parts:
        return pd.DataFrame(columns=GAME_COLUMNS)
    out = pd.concat([p[GAME_COLUMNS] for p in parts if len(p)] or [parts[0][GAME_COLUMNS]], ignore_index=True)
    out["game_id"] = out["game_id"].astype(str)
    out["game_date"] = pd.to_datetime(out["game_date"]).dt.date
    # A game in both: the games-table row wins (it is the one the forecaster reads).
    out = out.sort_values(["game_id", "origin"]).drop_duplicates("game_id", keep="first")
    return out.sort_values(["game_date", "game_id"]).reset_index(drop=True)


def expected_fives(engine: sa.Engine, games: pd.DataFrame) -> dict[str, Starters]:
    """game id -> (home five, away five) expected from each team's starts strictly before the
    game date (this season and the previous one, so an opener has its team's last starters).
    A side with less history gets the players known (fewer than five, possibly none)."""
    seasons = sorted({s for x in games.get("season", []) for s in (str(x), previous_season(str(x)))})
    # Only each game's first stint (stint 0) is needed: its starters.
    st = reads.first_stints(engine, seasons) if len(games) else None
    if st is None:
        return {str(g): ([], []) for g in games.get("game_id", [])}
    played = reads.games_of_seasons(engine, seasons)
    starts = game_starters(st, played)
    base = games[["game_id", "game_date"]]
    targets = pd.concat(
        [
            base.assign(team_id=games["home_team_id"].astype("int64"), side="home"),
            base.assign(team_id=games["away_team_id"].astype("int64"), side="away"),
        ],
        ignore_index=True,
    )
    exp = expected_starters(targets[["game_id", "team_id", "game_date"]], starts)
    exp["side"] = targets["side"].to_numpy()
    out: dict[str, Starters] = {str(g): ([], []) for g in games["game_id"]}
    for r in exp.itertuples(index=False):
        five = [int(getattr(r, s)) for s in SLOTS if int(getattr(r, s)) != 0]
        home, away = out[str(r.game_id)]
        out[str(r.game_id)] = (five, away) if r.side == "home" else (home, five)
    return out


@dataclass
class PregameContext:
    """The context vectors of games to forecast before tip-off and the lines they were built from
    (the rows of ``line_lookup.betting_lines_of``, None: no game had one), which say which line each
    vector holds."""

    values: dict[str, np.ndarray]  # game id -> float32 [CONTEXT_DIM]
    lines: pd.DataFrame | None = None


def games_with_scheduled(played: pd.DataFrame, sched: pd.DataFrame, season: str) -> pd.DataFrame:
    """The games table's rows before the first scheduled date, then the scheduled games of
    ``season`` with an empty box score (they count for rest and travel, and add to no rate)."""
    played = played.assign(game_date=pd.to_datetime(played["game_date"]))
    played = played[played["game_date"] < pd.Timestamp(sched["game_date"].min())]
    teams = ("home_team_id", "away_team_id")
    box = [c for c in played.columns if c.endswith(("_home", "_away")) and c not in teams]
    new = pd.DataFrame(
        {
            "game_id": sched["game_id"].astype(str).to_numpy(),
            "season": season,
            "game_date": pd.to_datetime(sched["game_date"]).to_numpy(),
            "neutral_site": False,
            "home_team_id": sched["home_team_id"].astype("int64").to_numpy(),
            "away_team_id": sched["away_team_id"].astype("int64").to_numpy(),
            "home_pts": 0,
            "away_pts": 0,
            **{c: 0 for c in box},
        }
    )
    return pd.concat([played, new], ignore_index=True)


def scheduled_context(
    engine: sa.Engine,
    scheduled: pd.DataFrame,
    known_out: Mapping[str, Collection[int]] | None = None,
    known_on: Mapping[str, Mapping[int, Collection[int]]] | None = None,
) -> PregameContext:
    """The context features of scheduled games that are not in the ``games`` table, computed by
    the ``team_game_features`` asset's computation (``analytics.team_game_table``) over the played
    games of the season and the one before with the scheduled games added
    (:func:`games_with_scheduled`), their rotations and who is out from
    :func:`scheduled_rotations`, so every value of a game on day D comes from the games played
    before D.
    The line dims come from :func:`betting_lines_of`, whose rows are returned beside them.
    ``known_out``, ``known_on``: who is known to be out, and on each team (:func:`scheduled_rotations`)."""

    def rows() -> Iterator[tuple[list[str], pd.DataFrame]]:
        for season, sched in scheduled.groupby("season"):
            inputs = read_team_game_inputs(partial(read_seasons, engine), str(season))
            games = games_with_scheduled(inputs.games, sched, str(season))
            new = games[games["game_id"].isin(sched["game_id"].astype(str))]
            rotations = scheduled_rotations(engine, new, known_out, known_on)
            tf = team_game_features(replace(inputs, games=games), rotations)
            ids = sched["game_id"].astype(str).tolist()
            yield ids, tf[tf["game_id"].isin(ids)]

    return _context_of(engine, rows())


def listed_context(
    engine: sa.Engine,
    games: pd.DataFrame,
    known_out: Mapping[str, Collection[int]] | None = None,
    known_on: Mapping[str, Mapping[int, Collection[int]]] | None = None,
) -> PregameContext:
    """The context vectors of games of the ``games`` table (game_id, game_date, season,
    home_team_id, away_team_id) with the strength of the players this forecast takes as available:
    the stored ``team_game_features`` rows, their strength columns computed again by the asset's
    function (``team_strength.add_strength_features``) over :func:`scheduled_rotations` told
    ``known_out`` and ``known_on``. The stored rows took who did not play each game as out; a
    forecast takes what it knows before tip-off (an import, the feed, who missed the latest game)
    and names it, so its numbers must come from the same players. Told who did not play and who
    played (a backtest), the vectors are the stored ones."""

    def rows() -> Iterator[tuple[list[str], pd.DataFrame]]:
        for season, part in games.assign(game_id=games["game_id"].astype(str)).groupby("season"):
            ids = part["game_id"].tolist()
            player_features = read_seasons(
                engine, aschema.player_features, player_feature_seasons(str(season))
            )
            rotations = scheduled_rotations(engine, part, known_out, known_on)
            yield ids, add_strength_features(reads.team_game_rows_of(engine, ids), rotations, player_features)

    return _context_of(engine, rows())


def _context_of(engine: sa.Engine, rows: Iterable[tuple[list[str], pd.DataFrame]]) -> PregameContext:
    """The context vectors of each (game ids, their ``team_game_features`` rows) with the market
    line of each game (:func:`betting_lines_of`)."""
    out: dict[str, np.ndarray] = {}
    used: list[pd.DataFrame] = []
    for ids, tf in rows:
        lines = betting_lines_of(engine, ids)
        ctx = ContextFeatureBuilder().build(ids, tf, lines).values
        out.update({g: ctx[i].astype(np.float32) for i, g in enumerate(ids)})
        if lines is not None:
            used.append(lines)
    return PregameContext(out, pd.concat(used, ignore_index=True) if used else None)


def scheduled_rotations(
    engine: sa.Engine,
    scheduled: pd.DataFrame,
    known_out: Mapping[str, Collection[int]] | None = None,
    known_on: Mapping[str, Mapping[int, Collection[int]]] | None = None,
) -> pd.DataFrame:
    """The rotation of each side of ``scheduled`` games (one season) as of the game date
    (``analytics.availability.rotation_as_of``, from games strictly before it), with ``out`` the
    players ``known_out`` lists for the game (game id -> player ids: an injury report), and for a
    game it does not list the players who missed their team's latest game; ``known_on`` (game id
    -> team id -> players: an import's available players) puts a traded player on his new team
    that day (``rotation_as_of``'s ``joined``). Rows as
    ``availability.game_rotations``'s (game_id, game_date, season, team_id, player_id,
    expected_minutes, out)."""
    known_out, known_on = known_out or {}, known_on or {}
    season = str(scheduled["season"].iloc[0])
    parts = []
    for day, games in scheduled.groupby("game_date"):
        teams = sorted({int(t) for c in ("home_team_id", "away_team_id") for t in games[c]})
        joined: dict[int, set[int]] = {}
        for gid in games["game_id"].astype(str):
            for team, players in known_on.get(gid, {}).items():
                joined.setdefault(int(team), set()).update(int(p) for p in players)
        appearances = reads.appearances_before(engine, season, pd.Timestamp(day).date())
        rot = rotation_as_of(appearances, season, teams, day, joined)
        for g in games.itertuples(index=False):
            mine = rot[rot["team_id"].isin([int(g.home_team_id), int(g.away_team_id)])]
            gid = str(g.game_id)
            if gid in known_out:
                out = mine["player_id"].isin({int(p) for p in known_out[gid]})
            else:
                out = mine["missed_last"].astype(bool)
            parts.append(mine.assign(game_id=gid, game_date=pd.Timestamp(day), out=out.to_numpy()))
    cols = ["game_id", "game_date", "season", "team_id", "player_id", "expected_minutes", "out"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def _utcnow() -> dt.datetime:
    """Now, naive UTC (the ledger's convention); tests replace it to play a past day."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _still_to_forecast(
    games: pd.DataFrame, have: set, tipoffs: Mapping[str, dt.datetime], now: dt.datetime, res: DailyResult
) -> list[str]:
    """The games to forecast now: not tipped off (``res.skipped`` says when they did) and not in the
    ledger for this model and source (``res.already``)."""
    todo = []
    for g in games.itertuples(index=False):
        gid = str(g.game_id)
        tip = naive_utc(tipoffs.get(gid) or default_tipoff(g.game_date))
        if now >= tip:
            res.skipped[gid] = f"tipped off at {tip:%Y-%m-%d %H:%M} UTC (now {now:%Y-%m-%d %H:%M} UTC)"
        elif gid in have:
            res.already.append(gid)
        else:
            todo.append(gid)
    return todo


def _forecast_one(
    forecaster: GameForecaster, g: Any, starters: Starters | None, contexts: PregameContext
) -> Forecast:
    """One game's pregame forecast through ``open_game``, with the context computed for it from
    the players it takes as out (:func:`pregame_context`)."""
    gid = str(g.game_id)
    row = pd.Series(
        {
            "game_id": gid,
            "season": g.season,
            "game_date": g.game_date,
            "home_team_id": int(g.home_team_id),
            "away_team_id": int(g.away_team_id),
        }
    )
    live = forecaster.open_game(gid, starters=starters, game=row)
    live.lookup.use_context(contexts.values[gid], contexts.lines)
    return live.forecast()


def pregame_context(engine: sa.Engine, games: pd.DataFrame, availability: Availability) -> PregameContext:
    """The context vectors of ``games`` (``GAME_COLUMNS``) with the players ``availability`` takes
    as out: :func:`listed_context` for a game of the ``games`` table, :func:`scheduled_context` for
    one only scheduled."""
    known_out, known_on = availability.known_out(), availability.known_on()
    parts = [
        make(engine, part, known_out, known_on)
        for origin, make in (("games", listed_context), ("schedule", scheduled_context))
        if len(part := games[games["origin"] == origin])
    ]
    lines = [p.lines for p in parts if p.lines is not None]
    return PregameContext(
        {g: v for p in parts for g, v in p.values.items()},
        pd.concat(lines, ignore_index=True) if lines else None,
    )


def run_daily(
    forecaster: GameForecaster,
    engine: sa.Engine,
    pulled_dir: Path | None,
    as_of: dt.date,
    days: int = 2,
    source: str = "daily",
    now: dt.datetime | None = None,
    tipoffs: Mapping[str, dt.datetime] | None = None,
    starters: Mapping[str, Starters] | None = None,
    availability: Availability | None = None,
    fetch_inactive_lists: bool = False,
) -> DailyResult:
    """Forecast every game of ``[as_of, as_of + days)`` with ``forecaster`` (a
    ``GameForecaster``) and append the pregame forecasts to the ledger, made ``now``.

    ``tipoffs``: known tip-off times (else noon US/Eastern of the date); ``starters``: announced
    fives (else the expected ones); ``availability``: who is out (else imports, the live box
    score when ``fetch_inactive_lists``, history: ``forecast.availability``), which the strength
    features of a scheduled game read (:func:`scheduled_context`). Games already tipped off, or
    already in the ledger for this model and source, are not forecast (``skipped`` / ``already``
    say which)."""
    now = now or _utcnow()
    tipoffs = dict(tipoffs or {})
    games = games_to_come(engine, pulled_dir, as_of, days)
    fives = expected_fives(engine, games)
    if starters:
        fives.update({str(k): (list(v[0]), list(v[1])) for k, v in starters.items()})
    games["home_starters"] = [fives.get(g, ([], []))[0] for g in games["game_id"]]
    games["away_starters"] = [fives.get(g, ([], []))[1] for g in games["game_id"]]
    res = DailyResult(as_of=as_of, days=days, games=games)
    version = forecaster.model.version
    have = read_ledger(engine, game_ids=list(games["game_id"]), source=source)
    have = set(have.loc[(have["state"] == "pregame") & (have["model_version"] == version), "game_id"])
    todo = _still_to_forecast(games, have, tipoffs, now, res)
    if availability is None:
        feed = None
        if fetch_inactive_lists and todo and pulled_dir is not None:
            feed = fetch_inactive(engine, pulled_dir, games[games["game_id"].isin(todo)], now=lambda: now)
            res.warnings.extend(feed.warnings)
        availability = availability_of(engine, games[games["game_id"].isin(todo)], now, feed)
    res.availability = availability
    contexts = pregame_context(engine, games[games["game_id"].isin(todo)], availability)
    entries = []
    for g in games[games["game_id"].isin(todo)].itertuples(index=False):
        fc = _forecast_one(forecaster, g, fives.get(str(g.game_id)) or None, contexts)
        fc = replace(fc, out_players=availability.of(str(g.game_id)).players())
        res.forecasts.append(fc)
        entries.append(entry_from_forecast(fc, source=source, made_at=now))
    res.written = append_forecasts(engine, entries, tipoffs=tipoffs)
    log.info(
        "daily forecasts %s +%d days: %d games, %d forecast, %d new ledger rows, %d already, %d skipped",
        as_of,
        days,
        len(games),
        len(res.forecasts),
        res.written,
        len(res.already),
        len(res.skipped),
    )
    return res


def made_before(
    dates: Iterable[dt.date], lead: dt.timedelta = dt.timedelta(days=1)
) -> dict[dt.date, dt.datetime]:
    """When a forecast of a past game day is taken as made: ``lead`` before its midnight (naive
    UTC), so it knows only what was known then (a backtest, the evaluation's morning)."""
    return {d: dt.datetime.combine(d, dt.time(0, 0)) - lead for d in set(dates)}


def backtest_forecasts(
    forecaster: GameForecaster,
    engine: sa.Engine,
    game_ids: Sequence[str],
    source: str = "backtest",
    lead: dt.timedelta = dt.timedelta(days=1),
    starters: Mapping[str, Starters] | None = None,
) -> int:
    """The pregame forecasts of past games, written to the ledger as if made ``lead`` before each
    game date (midnight UTC), under ``source`` (default 'backtest', which the scorecard keeps out
    of the live numbers). ``starters``: the fives to use (e.g. the actual ones,
    :func:`starters_from_arrays`, to compare with the evaluation report); else the expected ones.
    Who is out: the imports known when each forecast is made, else the game's box score (who of
    the rotation did not play it: the stand-in for the injury report, as in the stored features);
    the forecast's strength comes from them (:func:`listed_context`). Returns the number of new
    rows."""
    ids = [str(g) for g in game_ids]
    cols = ["game_id", "game_date", "season", "home_team_id", "away_team_id"]
    games = read_table(engine, "games", columns=cols)
    games = games[games["game_id"].astype(str).isin(ids)].copy()
    missing = sorted(set(ids) - set(games["game_id"].astype(str)))
    if missing:
        raise KeyError(f"backtest: games not in the games table: {missing[:5]}")
    games["game_date"] = pd.to_datetime(games["game_date"]).dt.date
    fives = dict(starters) if starters is not None else expected_fives(engine, games)
    made_at = made_before(games["game_date"], lead)
    out = availability_of(engine, games, made_at, played=True)
    contexts = listed_context(engine, games, out.known_out(), out.known_on())
    entries = []
    for g in games.itertuples(index=False):
        fc = _forecast_one(forecaster, g, fives.get(str(g.game_id)) or None, contexts)
        fc = replace(fc, out_players=out.of(str(g.game_id)).players())
        entries.append(entry_from_forecast(fc, source=source, made_at=made_at[g.game_date]))
    return append_forecasts(engine, entries)


def starters_from_arrays(arrays: SeasonArrays) -> dict[str, Starters]:
    """game id -> the starting fives the model inputs (``features.season_arrays``) hold for each
    game: the pregame lineup training and the evaluation report see."""
    out: dict[str, Starters] = {}
    for g, gid in enumerate(arrays.game_id):
        local = arrays.starters[g].astype(int)
        ids = [int(arrays.player_id[arrays.player_offsets[g] + i]) if i >= 0 else 0 for i in local]
        out[str(gid)] = ([p for p in ids[:5] if p], [p for p in ids[5:] if p])
    return out
