"""Who is out of each game to forecast, as known when the forecast is made: one value per run.

For each team of a game on day D, forecast at time T, the first source that knows the team wins:

1. an import (``nba-pipeline availability --import``, ``sources.availability``): the team has a
   report for D known at or before T; its players whose last report counts as out;
2. the live box score's inactive list (``sources.inactive``): the feed had the game (fetched in
   this run, or stored earlier); its inactive players of the team;
3. history. For a game to come: the players of the team's rotation as of D who missed its latest
   game (``analytics.availability.rotation_as_of``; from games strictly before D only). For a game
   played (a backtest): the rotation players who did not play it, and on the team those who did,
   as the game's box score says (``analytics.availability.game_rotations``). That is the stand-in
   for the injury report the ``team_game_features`` asset stores, so a backtest without an import
   forecasts what the evaluation scores.

An import or the feed also says who is on a team: a player an import lists for the team with a
status that is not out, or the box score lists as active for it (a trade, a return), joins the
team's rotation that day with his own minutes (``analytics.availability``), so his rating moves
with him before he has played there.

Every forecast records the players it took as out (``Forecast.out_players``, the ledger's
``out_players``); :class:`Availability` is the value a forecaster takes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from nba_pipeline.analytics import reads
from nba_pipeline.analytics.availability import game_rotations, rotation_as_of
from nba_pipeline.sources.availability import OUT_STATUSES, player_names, reports_known
from nba_pipeline.sources.inactive import SOURCE as FEED_SOURCE
from nba_pipeline.sources.inactive import InactiveLists

HISTORY = "history"
MISSED_LAST = "missed_last"  # the history's status: he did not play the team's latest game
DID_NOT_PLAY = "did_not_play"  # the history's status in a backtest: he did not play the game


@dataclass(frozen=True)
class OutPlayer:
    """A player taken as out of a game, and who said so."""

    player_id: int
    name: str
    team_id: int
    status: str  # 'out', 'doubtful' (an import), 'inactive' (the feed), 'missed_last' or
    # 'did_not_play' (history)
    source: str  # the import's source ('csv', ...), 'nba_api_boxscore', or 'history'


@dataclass(frozen=True)
class GameAvailability:
    """The players out of one game, per side, and the (team id, player id) an import or the feed
    lists as available for it (``listed``)."""

    home: tuple[OutPlayer, ...] = ()
    away: tuple[OutPlayer, ...] = ()
    listed: tuple[tuple[int, int], ...] = ()

    def players(self) -> tuple[OutPlayer, ...]:
        return self.home + self.away


@dataclass(frozen=True)
class Availability:
    """game id -> :class:`GameAvailability` of one run; a game it does not know has nobody out."""

    games: Mapping[str, GameAvailability] = field(default_factory=dict)

    def of(self, game_id: str) -> GameAvailability:
        return self.games.get(str(game_id), GameAvailability())

    def known_out(self) -> dict[str, frozenset[int]]:
        """game id -> the ids of the players out: the form a forecaster's strength features take."""
        return {g: frozenset(p.player_id for p in a.players()) for g, a in self.games.items()}

    def known_on(self) -> dict[str, dict[int, frozenset[int]]]:
        """game id -> team id -> the players an import or the feed lists as available for it: who
        is known to be on the team that day, a traded player included (``rotation_as_of``'s
        ``joined``)."""
        out: dict[str, dict[int, frozenset[int]]] = {}
        for g, a in self.games.items():
            for team in {t for t, _ in a.listed}:
                out.setdefault(g, {})[team] = frozenset(p for t, p in a.listed if t == team)
        return out


def _players(rows: pd.DataFrame, names: pd.Series, status: str | None = None) -> tuple[OutPlayer, ...]:
    return tuple(
        OutPlayer(
            player_id=int(r.player_id),
            name=str(names.get(int(r.player_id), "")),
            team_id=int(r.team_id),
            status=status or str(r.status),
            source=HISTORY if status else str(r.source),
        )
        for r in rows.itertuples(index=False)
    )


def _reported(
    rows: pd.DataFrame, team: int, names: pd.Series
) -> tuple[tuple[OutPlayer, ...], list[tuple[int, int]]]:
    """A team's reports, one per player (an import's or the feed's): the players whose status
    counts as out, and the (team id, player id) of those it lists as available."""
    out = rows["status"].isin(OUT_STATUSES).to_numpy()
    return _players(rows[out], names), [(team, int(p)) for p in rows.loc[~out, "player_id"]]


def availability_of(
    engine: sa.Engine,
    games: pd.DataFrame,
    made_at: dt.datetime | Mapping[dt.date, dt.datetime],
    feed: InactiveLists | None = None,
    played: bool = False,
) -> Availability:
    """Who is out of each of ``games`` (game_id, game_date, season, home_team_id, away_team_id) for
    a forecast made at ``made_at`` (one time, or one per game day as in a backtest; module
    docstring: import, feed, history, per team). ``feed``: what the live box score gave in this
    run, if it was asked. ``played``: the games were played (a backtest), so the history is the
    games' own box scores."""
    if games.empty:
        return Availability()
    names = player_names(engine).drop_duplicates("player_id").set_index("player_id")["name"]
    g = games.assign(
        game_id=games["game_id"].astype(str), game_date=pd.to_datetime(games["game_date"]).dt.date
    )
    history = _box_scores(engine, g) if played else _missed_last(engine, g)
    out: dict[str, GameAvailability] = {}
    for day, day_games in g.groupby("game_date"):
        reports = reports_known(engine, day, made_at[day] if isinstance(made_at, Mapping) else made_at)
        imported = reports[reports["source"] != FEED_SOURCE]
        stored_feed = reports[reports["source"] == FEED_SOURCE]
        parts = [x for x in (stored_feed, feed.rows if feed else None) if x is not None and len(x)]
        fed = pd.concat(parts, ignore_index=True) if parts else stored_feed
        fed_games = set(stored_feed["game_id"].dropna().astype(str)) | (feed.games if feed else set())
        for r in day_games.itertuples(index=False):
            sides, listed = [], []
            for team in (int(r.home_team_id), int(r.away_team_id)):
                mine = imported[imported["team_id"] == team]
                if len(mine):
                    gone, on = _reported(mine, team, names)
                elif r.game_id in fed_games:
                    rows = fed[(fed["game_id"].astype(str) == r.game_id) & (fed["team_id"] == team)]
                    gone, on = _reported(rows.drop_duplicates("player_id", keep="last"), team, names)
                else:
                    gone, on = history.of(r.game_id, team, names)
                sides.append(gone)
                listed += on
            out[r.game_id] = GameAvailability(*sides, listed=tuple(listed))
    return Availability(out)


@dataclass
class _History:
    """What the history says of each (game id, team id): the rotation players it takes as out
    (``out``, rotation rows) with their ``status``, and who it puts on the team (``on``, player ids;
    only a played game's box score says)."""

    status: str
    out: dict[tuple[str, int], pd.DataFrame] = field(default_factory=dict)
    on: dict[tuple[str, int], list[int]] = field(default_factory=dict)

    def of(
        self, game_id: str, team: int, names: pd.Series
    ) -> tuple[tuple[OutPlayer, ...], list[tuple[int, int]]]:
        rows = self.out.get((game_id, team))
        gone = () if rows is None else _players(rows, names, self.status)
        return gone, [(team, p) for p in self.on.get((game_id, team), [])]


def _by_season(engine: sa.Engine, games: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """Per season of ``games``: the season, its games, and its appearances (``player_game_stats``)
    through the last of their days; nothing before the table exists."""
    if not sa.inspect(engine).has_table("player_game_stats"):
        return
    for season, sg in games.groupby("season"):
        last = max(sg["game_date"])
        yield str(season), sg, reads.appearances_before(engine, str(season), last + dt.timedelta(days=1))


def _missed_last(engine: sa.Engine, games: pd.DataFrame) -> _History:
    """The rotation players who missed the team's latest game before the day (a game to come)."""
    out = _History(MISSED_LAST)
    for season, sg, appearances in _by_season(engine, games):
        for day, dg in sg.groupby("game_date"):
            teams = sorted(set(dg["home_team_id"].astype(int)) | set(dg["away_team_id"].astype(int)))
            rot = rotation_as_of(appearances, season, teams, day)
            missed = dict(list(rot[rot["missed_last"].to_numpy(dtype=bool)].groupby("team_id")))
            for g in dg.itertuples(index=False):
                for team in (int(g.home_team_id), int(g.away_team_id)):
                    if team in missed:
                        out.out[(g.game_id, team)] = missed[team]
    return out


def _box_scores(engine: sa.Engine, games: pd.DataFrame) -> _History:
    """The rotation players who did not play the game, and those who played it (on the team that
    day: a traded player's first game, a return), as ``game_rotations`` says (a game played)."""
    out = _History(DID_NOT_PLAY)
    for _, sg, appearances in _by_season(engine, games):
        ids = set(sg["game_id"])
        rot = game_rotations(appearances)
        rot = rot[rot["game_id"].astype(str).isin(ids) & rot["out"].to_numpy(dtype=bool)]
        for (game, team), rows in rot.groupby(["game_id", "team_id"]):
            out.out[(str(game), int(team))] = rows
        played = appearances[appearances["game_id"].astype(str).isin(ids)]
        for (game, team), rows in played.groupby(["game_id", "team_id"]):
            out.on[(str(game), int(team))] = [int(p) for p in rows["player_id"]]
    return out
