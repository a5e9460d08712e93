"""The rows of the ``team_game_features`` table, computed once for whoever needs them.

The ``team_game_features`` asset stores a season's rows; the daily forecasts compute the rows of
games only scheduled (not in the ``games`` table yet) the same way. Both read their inputs with
:func:`read_team_game_inputs` (the season and the one before; shots over :func:`shot_window`,
which the ``lineup_spacing`` asset reads too) and compute with :func:`team_game_features`, so
the stored rows and a scheduled game's rows cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pandas as pd
import sqlalchemy as sa

from nba_pipeline.analytics import schema as aschema
from nba_pipeline.analytics.availability import game_rotations, with_stint_seconds
from nba_pipeline.analytics.lineup_features import add_lineup_features
from nba_pipeline.analytics.team_features import build_team_game_features
from nba_pipeline.analytics.team_strength import PRIOR_SEASONS, add_strength_features
from nba_pipeline.ingest import schema as ischema
from nba_pipeline.ingest.raw import previous_season

SHOT_HISTORY_SEASONS = 3  # earlier seasons whose shots locate a player (spacing.player_locations)
SHOT_COLUMNS = ["season", "game_id", "game_date", "player_id", "loc_x", "loc_y"]


class SeasonReader(Protocol):
    """Reads the rows of some seasons of a table, in the order of ``seasons`` (``Database.read``,
    or ``db.read_seasons`` bound to an engine)."""

    def __call__(
        self, table: sa.Table, seasons: list[str], columns: list[str] | None = None
    ) -> pd.DataFrame: ...


def shot_window(season: str) -> list[str]:
    """The season and the ``SHOT_HISTORY_SEASONS`` before it, oldest first: the shots that give
    the players' locations for the season's hulls."""
    seasons = [season]
    for _ in range(SHOT_HISTORY_SEASONS):
        seasons.insert(0, previous_season(seasons[0]))
    return seasons


def read_shot_window(read: SeasonReader, season: str) -> pd.DataFrame:
    """``SHOT_COLUMNS`` of the shots of :func:`shot_window`, oldest season first."""
    return read(ischema.shots, shot_window(season), SHOT_COLUMNS)


@dataclass
class TeamGameInputs:
    """What the rows of a season's games are computed from."""

    games: pd.DataFrame  # the games of the season and the one before (the prior of early values)
    stints: pd.DataFrame  # the same seasons (an opener's expected starters)
    rapm: pd.DataFrame  # the same seasons' RAPM snapshots
    shots: pd.DataFrame  # SHOT_COLUMNS of shot_window(season)
    player_features: pd.DataFrame  # the season and the PRIOR_SEASONS before it (team_strength)
    appearances: pd.DataFrame  # player_game_stats of the season (the rotations of the history)


def player_feature_seasons(season: str) -> list[str]:
    """The season and the ``PRIOR_SEASONS`` before it, oldest first: the player features the
    season's strength reads (its ratings and the box-score prior fitted on the seasons before)."""
    seasons = [season]
    for _ in range(PRIOR_SEASONS):
        seasons.insert(0, previous_season(seasons[0]))
    return seasons


def read_team_game_inputs(read: SeasonReader, season: str) -> TeamGameInputs:
    """The inputs of ``season``'s rows, read with ``read``."""
    seasons = [previous_season(season), season]
    return TeamGameInputs(
        games=read(ischema.games, seasons),
        stints=read(aschema.stints, seasons),
        rapm=read(aschema.player_rapm, seasons),
        shots=read_shot_window(read, season),
        player_features=read(aschema.player_features, player_feature_seasons(season)),
        appearances=read(ischema.player_game_stats, [season]),
    )


def team_game_features(inputs: TeamGameInputs, rotations: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per game of ``inputs.games`` and team: the team rates, rest and travel
    (``team_features``), the expected five's RAPM sums and hull (``lineup_features``), then the
    strength of the players available (``team_strength``) over ``rotations``: by default each
    played game's rotation less who did not play it (``availability.game_rotations``, the history's
    stand-in for the injury report); the daily forecasts pass the scheduled games' own."""
    tf = build_team_game_features(inputs.games)
    tf = add_lineup_features(tf, inputs.stints, inputs.games, inputs.rapm, inputs.shots)
    if rotations is None:
        rotations = game_rotations(with_stint_seconds(inputs.appearances, inputs.stints))
    return add_strength_features(tf, rotations, inputs.player_features)
