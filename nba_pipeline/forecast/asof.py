"""The static inputs of one game as of its date, read once and cached: context vector, node
features per player, chemistry minutes per pair (what :class:`~nba_pipeline.forecast.live_game.LiveGame`
reads beside the events)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa

from nba_pipeline.analytics import reads
from nba_pipeline.features.context import ContextFeatureBuilder
from nba_pipeline.features.graphs import (
    LINEUP_INPUT_COLUMNS,
    NODE_DIM,
    chemistry_minutes_asof,
    default_node_vector,
    lookup_node_features,
    pair_minutes_with_dates,
)
from nba_pipeline.ingest.schema import ON_COURT
from nba_pipeline.sources.line_lookup import betting_lines_of


def _numeric_ids(ids: pd.Series) -> pd.Series:
    """Game ids as the numeric reads give them (no leading zeros)."""
    return ids.astype(np.int64).astype(str)


class AsOfLookup:
    """The static inputs of one game, read from the database as of the game date and cached:
    context vector, node features per player, chemistry minutes per pair.

    Chemistry needs the minutes two players shared on court in this season's games before the
    date; such a game is one where both were on court, so only the games of the players met so
    far are read (each team's recent rotation up front, anyone else at his first appearance), and
    the pair minutes come from ``features.graphs.pair_minutes_with_dates`` and
    ``chemistry_minutes_asof`` as in training."""

    def __init__(self, engine: sa.Engine, game: pd.Series) -> None:
        self.engine = engine
        self.game_id = str(game["game_id"])
        self.season = str(game["season"])
        self.game_date = pd.Timestamp(game["game_date"]).date()
        self.home_team_id = int(game["home_team_id"])
        self.away_team_id = int(game["away_team_id"])
        self._x: dict[int, np.ndarray] = {}
        self._chem: dict[tuple[int, int], float] = {}
        self._covered: set[int] = set()
        self._games_read: set[str] = set()
        self._pairs: list[pd.DataFrame] = []
        # The rows of sources.line_lookup.betting_lines_of the context's line dims come from: they say
        # which line a forecast used (ForecastModel.line_used).
        self.lines = betting_lines_of(engine, [self.game_id])
        rows = reads.team_game_rows(engine, self.game_id)
        ctx = ContextFeatureBuilder().build([self.game_id], rows, self.lines)
        self.context = ctx.values[0].astype(np.float32)

    def use_context(self, context: np.ndarray, lines: pd.DataFrame | None) -> None:
        """Take a context computed elsewhere (``forecast.daily.pregame_context``: a game not in
        ``team_game_features`` yet, or one whose strength leaves out the players a forecast
        names) with the line rows it was built from, so the forecast reports the line its context
        holds."""
        self.context = np.asarray(context, dtype=np.float32)
        self.lines = lines

    def expected_players(self, last_games: int = 3, per_team: int = 8) -> tuple[list[int], list[int]]:
        """(everyone who played for either team this season before the date, the rotation: each
        team's ``per_team`` players with the most seconds in its last ``last_games`` games)."""
        teams = [self.home_team_id, self.away_team_id]
        df = reads.player_seconds(self.engine, self.season, teams, self.game_date)
        rotation: list[int] = []
        for team in teams:
            mine = df[df["team_id"] == team]
            recent = mine[mine["game_date"].isin(sorted(mine["game_date"].unique())[-last_games:])]
            secs = recent.groupby("player_id")["seconds"].sum().sort_values(ascending=False, kind="stable")
            rotation += [int(p) for p in secs.index[:per_team]]
        return sorted(int(p) for p in df["player_id"].unique()), rotation

    def node_x(self, ids: Iterable[int]) -> np.ndarray:
        """float32 [n, 16]: each player's latest player_features snapshot before the date."""
        ids = [int(i) for i in ids]
        new = sorted({i for i in ids if i not in self._x})
        if new:
            pf = reads.player_feature_rows(self.engine, self.season, new)
            if pf.empty:
                x = np.tile(default_node_vector(), (len(new), 1))
            else:
                q = pd.DataFrame({"player_id": new, "game_date": [self.game_date] * len(new)})
                x = lookup_node_features(q, pf).x
            for pid, row in zip(new, x.reshape(len(new), NODE_DIM), strict=True):
                self._x[pid] = row.astype(np.float32)
        return np.stack([self._x[i] for i in ids]) if ids else np.zeros((0, NODE_DIM), np.float32)

    def cover(self, ids: Iterable[int]) -> None:
        """Read the pair minutes of every earlier game of the season in which one of ``ids`` was on
        court (games already read are skipped)."""
        new = sorted({int(i) for i in ids if int(i) > 0} - self._covered)
        if not new:
            return
        played = reads.earlier_games_of(self.engine, self.season, new, self.game_date)
        gids = sorted(played - self._games_read)
        if gids:
            arr = reads.on_court_numbers(self.engine, gids)
            rows = pd.DataFrame(arr[:, 1:], columns=["seq", "game_seconds", *ON_COURT])
            rows.insert(0, "game_id", arr[:, 0].astype(np.int64).astype(str))
            day = reads.game_teams(self.engine, gids)
            day["game_id"] = _numeric_ids(day["game_id"])
            rows = self._with_lineup_inputs(rows, gids)
            self._pairs.append(pair_minutes_with_dates(rows, day))
            self._games_read.update(gids)
        self._covered.update(new)

    def _with_lineup_inputs(self, rows: pd.DataFrame, game_ids: list[str]) -> pd.DataFrame:
        """``rows`` (numbers only: game ids without leading zeros, 0 for a NULL player), with the
        games whose lineups are not all known read again with what rebuilding them needs (seasons
        without a lineups file). ``game_ids``: the same games as stored."""
        unknown = (rows[ON_COURT].to_numpy() == 0).any(axis=1)
        numeric = set(rows.loc[unknown, "game_id"])
        if not numeric:
            return rows
        stored = [g for g in game_ids if str(int(g)) in numeric]
        full = reads.plays_of_games(self.engine, stored, LINEUP_INPUT_COLUMNS)
        full["game_id"] = _numeric_ids(full["game_id"])
        return pd.concat([rows[~rows["game_id"].isin(numeric)], full], ignore_index=True)

    def chem(self, a: list[int], b: list[int]) -> np.ndarray:
        """float64 [len(a)]: minutes players a[i] and b[i] shared on court before the date."""
        need = [(x, y) for x, y in zip(a, b, strict=True) if (min(x, y), max(x, y)) not in self._chem]
        if need:
            self.cover([p for pair in need for p in pair])
            uniq = sorted({(min(x, y), max(x, y)) for x, y in need})
            if self._pairs:
                q = pd.DataFrame(
                    {
                        "player_a": [x for x, _ in uniq],
                        "player_b": [y for _, y in uniq],
                        "game_date": [pd.Timestamp(self.game_date)] * len(uniq),
                    }
                )
                vals = chemistry_minutes_asof(q, pd.concat(self._pairs, ignore_index=True))
            else:
                vals = np.zeros(len(uniq))
            self._chem.update({k: float(v) for k, v in zip(uniq, vals, strict=True)})
        return np.array([self._chem[(min(x, y), max(x, y))] for x, y in zip(a, b, strict=True)])
