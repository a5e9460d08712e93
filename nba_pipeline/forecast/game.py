"""Forecast one game, before tip-off or live, with a model from the registry.

    from nba_pipeline.forecast.game import GameForecaster
    f = GameForecaster.from_registry("latest")            # settings: registry, database
    f.forecast("0022300061", pbp_rows)                   # raw stats.nba.com PlayByPlayV2 rows so far
    # -> Forecast(p_home_win=0.71, margin=5.8, total=229.4, events_seen=212, ...)

The game is featurized exactly as in training: play-by-play through ``ingest.plays`` (lineups
optional), then ``features.season_arrays`` with the model's saved preprocessing (vocabulary,
score-difference scale, target normalization) and, from the database, the as-of player features,
team features and the chemistry minutes of the season's earlier games. The season's tables are
read once per season and cached. This is the reference featurization; during a game use
``GameForecaster.open_game`` (``forecast.live_game.LiveGame``), which gives the same numbers
after each new event without featurizing the game again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from nba_pipeline import settings
from nba_pipeline.analytics.stints import complete_lineups
from nba_pipeline.db import make_engine, read_table
from nba_pipeline.features.graphs import LINEUP_INPUT_COLUMNS, pair_minutes_with_dates
from nba_pipeline.features.season_arrays import SeasonArrays, build_season_arrays
from nba_pipeline.forecast.asof import AsOfLookup
from nba_pipeline.forecast.live_game import LiveGame
from nba_pipeline.forecast.model import Forecast, ForecastModel
from nba_pipeline.ingest.plays import QUARTER_SECONDS, REGULATION_SECONDS, build_plays
from nba_pipeline.ingest.schema import ON_COURT
from nba_pipeline.registry.store import ModelRegistry
from nba_pipeline.sources.line_lookup import betting_lines_of

Starters = tuple[list[int], list[int]]


class GameForecaster:
    """One model (:class:`ForecastModel`, passed by value) over one database."""

    def __init__(self, model: ForecastModel, engine: sa.Engine) -> None:
        self.model = model
        self.engine = engine
        self._season_cache: dict[str, dict[str, pd.DataFrame]] = {}

    @classmethod
    def from_loaded(cls, loaded: Any, engine: sa.Engine) -> GameForecaster:
        """From what ``registry.store.ModelRegistry.load_model`` returned."""
        return cls(ForecastModel.from_loaded(loaded), engine)

    @classmethod
    def from_registry(
        cls, version: str = "latest", registry_root: Any = None, database_url: str | None = None
    ) -> GameForecaster:
        loaded = ModelRegistry(registry_root).load_model(version)
        return cls.from_loaded(loaded, make_engine(database_url or settings.database_url()))

    def _season(self, season: str) -> dict[str, pd.DataFrame]:
        """Per-season inputs read once: player and team features, and the teammates' shared minutes
        per game (chemistry), from the database."""
        if season not in self._season_cache:
            plays = read_table(self.engine, "plays", {"season": season}, columns=list(LINEUP_INPUT_COLUMNS))
            games = read_table(self.engine, "games", {"season": season})
            pairs = pair_minutes_with_dates(plays, games)
            self._season_cache[season] = {
                "player_features": read_table(self.engine, "player_features", {"season": season}),
                "team_game_features": read_table(self.engine, "team_game_features", {"season": season}),
                "pairs": pairs,
            }
        return self._season_cache[season]

    def _game(self, game_id: str) -> pd.DataFrame:
        game = read_table(self.engine, "games", {"game_id": game_id})
        if game.empty:
            raise KeyError(f"game {game_id!r} is not in the games table; ingest its season first")
        return game

    def game_row(self, game_id: str) -> pd.Series:
        """The game's row of the ``games`` table (date, season, teams); a clear error when absent."""
        return self._game(game_id).iloc[0]

    def open_game(
        self,
        game_id: str,
        starters: tuple[list[int], list[int]] | None = None,
        prefetch: bool = True,
        game: pd.Series | None = None,
    ) -> LiveGame:
        """Incremental state of one game (``forecast.live_game.LiveGame``): add raw rows as they
        come and forecast after each, with the numbers of :meth:`forecast` at a fraction of its cost.
        ``prefetch`` reads the as-of inputs of both teams' likely players up front. ``game``: the
        game's row (game_id, season, game_date, home/away_team_id) when it is not in ``games`` yet
        (a game of today); without team_game_features rows its context takes the defaults, until a
        caller gives it one (``LiveGame.lookup.use_context``: the daily run's and ``nba-pipeline
        live``'s, from ``forecast.daily.pregame_context``)."""
        row = game if game is not None else self.game_row(game_id)
        return LiveGame(self.model, AsOfLookup(self.engine, row), starters=starters, prefetch=prefetch)

    def forecast(
        self,
        game_id: str,
        pbp: pd.DataFrame | None = None,
        lineups: pd.DataFrame | None = None,
        starters: tuple[list[int], list[int]] | None = None,
    ) -> Forecast:
        """Forecast ``game_id`` after the events in ``pbp`` (raw PlayByPlayV2 rows, any order; None or
        empty: pregame). ``lineups``: the V3 on-court rows, if available; otherwise the lineups are
        rebuilt from the play-by-play. ``starters`` (home ids, away ids): the announced starting
        fives for a pregame forecast (without them the pregame lineup graph is empty, which the
        model handles but which is weaker than training, where starters were known).
        The game must be in the ``games`` table (date and teams); its final score is not used."""
        game = self._game(game_id)
        season = str(game["season"].iloc[0])
        if pbp is not None and len(pbp):
            plays, _ = build_plays(pbp, lineups, season, source=f"forecast input for {game_id}")
            plays = plays[plays["game_id"] == game_id]
            if len(plays) and plays[ON_COURT].isna().any(axis=None):
                plays = complete_lineups(plays, game)
        else:
            plays = pd.DataFrame()
        pregame = plays.empty
        if pregame:
            plays = _pregame_row(game_id, season, starters)
        lines = betting_lines_of(self.engine, [game_id])
        arrays = self._arrays(plays, game, season, lines)
        n_events = 0 if pregame else int(arrays.n_events[0])
        last = plays.sort_values("seq").iloc[-1]
        return self.model.forecast(
            self.model.batch(arrays, n_events),
            game_id,
            lines,
            events_seen=n_events,
            period=int(last["period"]),
            clock_seconds=float(last["clock_seconds"]),
            home_score=int(last["home_score"]),
            away_score=int(last["away_score"]),
        )

    def pregame_arrays(self, game_ids: Sequence[str], starters: Mapping[str, Starters]) -> SeasonArrays:
        """The pregame model inputs of many games of the ``games`` table at once, each with the
        fives in ``starters`` (game id -> (home ids, away ids); absent: an empty lineup), built as
        :meth:`forecast` builds one game's: what the morning forecasts of a season are scored on
        (``evaluate.shipped``). Labels are the games' final scores where known, else 0."""
        ids = [str(g) for g in game_ids]
        games = read_table(self.engine, "games", columns=None)
        games = games[games["game_id"].astype(str).isin(ids)]
        missing = sorted(set(ids) - set(games["game_id"].astype(str)))
        if missing:
            raise KeyError(f"games not in the games table: {missing[:5]}")
        parts = []
        for season, part in games.groupby("season"):
            rows = [_pregame_row(str(g), str(season), starters.get(str(g))) for g in part["game_id"]]
            lines = betting_lines_of(self.engine, [str(g) for g in part["game_id"]])
            parts.append(self._arrays(pd.concat(rows, ignore_index=True), part, str(season), lines))
        return SeasonArrays.concat(parts)

    def _arrays(
        self, plays: pd.DataFrame, games: pd.DataFrame, season: str, lines: pd.DataFrame | None
    ) -> SeasonArrays:
        """The model inputs of ``plays`` (games of one season) with the season's as-of features
        and the chemistry of the season's earlier games."""
        s = self._season(season)
        games = games.assign(home_pts=games["home_pts"].fillna(0), away_pts=games["away_pts"].fillna(0))
        last = pd.to_datetime(games["game_date"]).max()
        return build_season_arrays(
            plays,
            games,
            s["player_features"] if len(s["player_features"]) else None,
            s["team_game_features"] if len(s["team_game_features"]) else None,
            season=season,
            prior_pair_minutes=s["pairs"][s["pairs"]["game_date"] < last],
            betting_lines=lines,
        )


def _pregame_row(game_id: str, season: str, starters: tuple[list[int], list[int]] | None) -> pd.DataFrame:
    """A start-of-period marker standing for 'no events yet' (the pregame cut shows no events; the
    row only carries the starters, which the pregame graph is built from)."""
    on_court = dict.fromkeys(ON_COURT, np.nan)
    if starters is not None:
        home, away = (list(x) for x in starters)
        if len(home) > 5 or len(away) > 5:
            raise ValueError(f"starters: at most 5 per side, got {len(home)} home and {len(away)} away")
        on_court.update({f"home_on_{i + 1}": float(pid) for i, pid in enumerate(home)})
        on_court.update({f"away_on_{i + 1}": float(pid) for i, pid in enumerate(away)})
    row: dict[str, Any] = {
        "game_id": game_id,
        "seq": 0,
        "period": 1,
        "event_type": 12,
        "action_type": 0,
        "side": 0,
        "clock_seconds": QUARTER_SECONDS,
        "game_seconds": 0.0,
        "seconds_left_regulation": REGULATION_SECONDS,
        "home_score": 0,
        "away_score": 0,
        "is_made": None,
        "player1_id": np.nan,
        "player2_id": np.nan,
        "player3_id": np.nan,
        **on_court,
    }
    return pd.DataFrame([row])
