"""ingest.lines: the betting lines of a season, one row per game, unusable values dropped and counted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nba_pipeline.ingest.games import REGULAR_SEASON_TYPES
from nba_pipeline.ingest.lines import LINE_COLUMNS, build_lines
from nba_pipeline.ingest.raw import read_raw


def _odds(**over) -> pd.DataFrame:
    base = {
        "season": ["2023-24"] * 4,
        "game_id": ["0022300001", "0022300002", None, "0022300002"],
        "ml_home_implied_prob_novig": [0.6, 0.3, 0.5, 0.35],
        "home_spread": [-3.5, 6.0, 0.0, 5.0],
        "total_line": [225.5, 1111.0, 220.0, 230.0],
        "total_line_suspect": [False, True, False, False],
    }
    return pd.DataFrame({**base, **over})


def test_one_row_per_game_in_the_pipeline_units_with_the_last_listing_kept():
    rows, rep = build_lines(_odds(), "2023-24")
    assert list(rows.columns) == LINE_COLUMNS
    assert rows["game_id"].tolist() == ["0022300001", "0022300002"]
    first = rows.iloc[0]
    assert first["market_p_home"] == 0.6 and first["market_margin"] == 3.5 and first["market_total"] == 225.5
    assert rows.iloc[1]["market_margin"] == -5.0  # the later listing of the game
    assert rep.without_game_id == 1 and rep.duplicates_dropped == 1 and rep.rows == 2


def test_suspect_totals_and_impossible_probabilities_become_null_and_are_counted():
    odds = _odds(game_id=["a", "b", "c", "d"], ml_home_implied_prob_novig=[0.6, 1.0, np.inf, 0.4])
    rows, rep = build_lines(odds, "2023-24")
    assert rows["market_p_home"].isna().tolist() == [False, True, True, False]
    assert rows["market_total"].isna().tolist() == [False, True, False, False]
    assert rep.suspect_totals == 1 and rep.bad_probabilities == 1
    assert len(build_lines(odds, "2022-23")[0]) == 0  # another season: no rows


def test_real_lines_of_2023_24_cover_the_season_and_agree_with_their_spreads(nba_raw_dir):
    rows, rep = build_lines(read_raw(nba_raw_dir, "odds"), "2023-24")
    games = read_raw(nba_raw_dir, "games")
    rs = games[(games["season"] == "2023-24") & games["game_type"].isin(REGULAR_SEASON_TYPES)]
    covered = rs["game_id"].astype(str).isin(rows["game_id"]).sum()
    assert covered == 1216  # of 1230 regular-season games (data README)
    ok = rows.dropna()
    assert ((ok["market_p_home"] > 0) & (ok["market_p_home"] < 1)).all()
    favourite_agrees = (ok["market_p_home"] > 0.5) == (ok["market_margin"] > 0)
    assert favourite_agrees.mean() > 0.99  # the moneyline and spread favourites agree (README: 99.4-99.7 %)
    assert ok["market_total"].between(180, 270).all()


@pytest.mark.parametrize("column", ["home_spread", "total_line_suspect"])
def test_an_odds_file_without_a_required_column_fails_naming_it(tmp_path, column):
    from nba_pipeline.ingest.raw import RawDataError

    _odds().drop(columns=column).to_parquet(tmp_path / "odds.parquet")
    with pytest.raises(RawDataError, match=column):
        read_raw(tmp_path, "odds")
