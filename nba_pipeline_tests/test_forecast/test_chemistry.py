"""Chemistry at forecast time comes from the lineups training saw, also for a season whose plays
carry no lineups (2015-16 to 2019-20 and every season pulled from stats.nba.com): the model inputs
rebuild those games' lineups from the play-by-play, and so must both forecast paths."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from nba_pipeline.ingest.schema import ON_COURT
from nba_pipeline_tests.test_forecast.conftest import GAME, SEASON, assert_same_forecast


@pytest.fixture(scope="module")
def no_lineups_forecaster(forecaster, slice_env, tmp_path_factory):
    """The slice's database with every on-court column NULL, as plays are stored without a
    lineups file, and the same model."""
    from nba_pipeline.db import make_engine
    from nba_pipeline.forecast.game import GameForecaster

    src = Path(sa.make_url(slice_env["NBA_DATABASE_URL"]).database)
    dst = tmp_path_factory.mktemp("no_lineups") / "nba.db"
    shutil.copy(src, dst)
    engine = make_engine(f"sqlite:///{dst}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE plays SET " + ", ".join(f"{c} = NULL" for c in ON_COURT)))
    return GameForecaster(forecaster.model, engine)


def test_forecast_pair_minutes_are_those_of_the_rebuilt_lineups_the_model_inputs_use(no_lineups_forecaster):
    from nba_pipeline.analytics.stints import complete_lineups
    from nba_pipeline.db import read_table
    from nba_pipeline.features.graphs import shared_minutes_by_game
    from nba_pipeline.features.tokenizer import sort_plays

    engine = no_lineups_forecaster.engine
    plays = read_table(engine, "plays", {"season": SEASON})
    games = read_table(engine, "games", {"season": SEASON})
    assert shared_minutes_by_game(plays).empty  # from the stored plays alone: no chemistry at all

    expected = shared_minutes_by_game(sort_plays(complete_lineups(plays, games)))  # as model_inputs
    got = no_lineups_forecaster._season(SEASON)["pairs"]
    key = ["game_id", "player_a", "player_b"]
    merged = expected.merge(got, on=key, how="outer", suffixes=("_inputs", "_forecast"), indicator=True)
    assert (merged["_merge"] == "both").all()
    np.testing.assert_allclose(merged["minutes_forecast"], merged["minutes_inputs"], rtol=1e-12)
    # two teams of ten pairs, each sharing part of 48 minutes: several hundred pair-minutes a game
    assert merged["minutes_inputs"].sum() > 500 * plays["game_id"].nunique()


def test_live_and_batch_forecasts_agree_in_a_season_without_lineups(no_lineups_forecaster, game_rows):
    """The incremental path reads the chemistry games on demand and rebuilds their lineups too."""
    n = len(game_rows)
    batch, game = no_lineups_forecaster, no_lineups_forecaster.open_game(GAME)
    for k in (n // 4, n // 2, n):
        game.add_rows(game_rows.iloc[:k])
        assert_same_forecast(game.forecast(), batch.forecast(GAME, game_rows.iloc[:k]), f"cut {k}")
    court = game.on_court()[0]
    starters = ([int(p) for p in court[:5]], [int(p) for p in court[5:]])
    live = batch.open_game(GAME, starters=starters).forecast()
    assert_same_forecast(live, batch.forecast(GAME, starters=starters), "pregame")
