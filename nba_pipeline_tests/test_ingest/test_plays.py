"""Unit tests of the plays builder on small synthetic play-by-play (edge cases of the quirks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nba_pipeline.ingest.plays import build_plays, carry_within_runs
from nba_pipeline.ingest.raw import RawDataError, parse_clock

HOME, AWAY = 1610612754, 1610612739
H = [1, 2, 3, 4, 5]
A = [11, 12, 13, 14, 15]


def _row(
    eventnum,
    etype,
    clock,
    period=1,
    home=None,
    away=None,
    neutral=None,
    score=None,
    p1type=0,
    p1=0,
    team=None,
):
    return {
        "GAME_ID": "0022300001",
        "EVENTNUM": eventnum,
        "EVENTMSGTYPE": etype,
        "EVENTMSGACTIONTYPE": 0,
        "PERIOD": period,
        "PCTIMESTRING": clock,
        "HOMEDESCRIPTION": home,
        "NEUTRALDESCRIPTION": neutral,
        "VISITORDESCRIPTION": away,
        "SCORE": score,
        "PERSON1TYPE": p1type,
        "PLAYER1_ID": p1,
        "PLAYER1_TEAM_ID": team,
        "PERSON2TYPE": 0,
        "PLAYER2_ID": 0,
        "PLAYER2_TEAM_ID": None,
        "PERSON3TYPE": 0,
        "PLAYER3_ID": 0,
        "PLAYER3_TEAM_ID": None,
    }


def _pbp(rows):
    df = pd.DataFrame(rows)
    for c in (
        "PLAYER1_TEAM_ID",
        "PLAYER2_TEAM_ID",
        "PLAYER3_TEAM_ID",
        "PLAYER1_ID",
        "PLAYER2_ID",
        "PLAYER3_ID",
    ):
        df[c] = df[c].astype("Int64")
    return df


def _sample():
    return _pbp(
        [
            _row(2, 12, "12:00", neutral="Start of 1st Period"),
            _row(
                4, 1, "11:40", home="Turner 3PT Jump Shot (3 PTS)", score="0 - 3", p1type=4, p1=1, team=HOME
            ),
            # logged late: EVENTNUM 9 happened before EVENTNUM 6 (clock 11:30 > 11:10)
            _row(9, 1, "11:30", away="Mobley 2' Dunk (2 PTS)", score="2 - 3", p1type=5, p1=11, team=AWAY),
            _row(6, 3, "11:10", away="MISS Mobley Free Throw 1 of 2", p1type=5, p1=11, team=AWAY),
            _row(
                7,
                3,
                "11:10",
                away="Mobley Free Throw 2 of 2 (1 PTS)",
                score="3 - 3",
                p1type=5,
                p1=11,
                team=AWAY,
            ),
            _row(8, 10, "11:00", home="Jump Ball Turner vs. Mobley", p1type=4, p1=1, team=HOME),
            _row(10, 99, "10:50", neutral="mystery event"),
            _row(11, 13, "0:00", neutral="End of 1st Period"),
        ]
    )


def _lineups(actions):
    return pd.DataFrame(
        {
            "GAME_ID": "0022300001",
            "ACTION_NUMBER": actions,
            "HOME_ON": "|".join(map(str, H)),
            "AWAY_ON": "|".join(map(str, A)),
            "N_HOME_ON": 5,
            "N_AWAY_ON": 5,
        }
    )


def test_seq_follows_clock_not_eventnum_and_scores_accumulate_in_time_order():
    out, rep = build_plays(_sample(), None, "2023-24")
    assert out["event_num"].tolist() == [2, 4, 9, 6, 7, 8, 10, 11]
    assert out["seq"].tolist() == list(range(8))
    assert out["home_score"].tolist() == [0, 3, 3, 3, 3, 3, 3, 3]
    assert out["away_score"].tolist() == [0, 0, 2, 2, 3, 3, 3, 3]
    assert rep.score_rows_disagreeing == 0


def test_free_throw_make_or_miss_comes_from_the_description():
    out, _ = build_plays(_sample(), None, "2023-24")
    ft = out[out["event_type"] == 3].set_index("event_num")
    assert ft.loc[6, "is_made"] == False  # noqa: E712 - pandas NA-aware boolean
    assert ft.loc[6, "points"] == 0
    assert ft.loc[7, "is_made"] == True  # noqa: E712
    assert ft.loc[7, "points"] == 1
    assert out.set_index("event_num").loc[4, "points"] == 3
    assert pd.isna(out.set_index("event_num").loc[2, "is_made"])


def test_free_throw_without_miss_or_score_counts_as_missed():
    pbp = _sample()
    pbp.loc[pbp["EVENTNUM"] == 6, "VISITORDESCRIPTION"] = "Free Throw 1 of 2"  # truncated 2015-17 style
    out, rep = build_plays(pbp, None, "2023-24")
    ft = out.set_index("event_num")
    assert ft.loc[6, "points"] == 0 and ft.loc[6, "is_made"] == False  # noqa: E712
    assert rep.ft_without_miss_or_score == 1
    assert out["away_score"].iloc[-1] == 3


def test_side_is_home_away_or_neutral():
    out, _ = build_plays(_sample(), None, "2023-24")
    side = out.set_index("event_num")["side"]
    assert side[4] == 1 and side[9] == 2 and side[2] == 0 and side[8] == 0  # jump ball neutral


def test_clock_columns_count_from_tipoff_and_regulation():
    out, _ = build_plays(_sample(), None, "2023-24")
    r = out.set_index("event_num")
    assert r.loc[4, "clock_seconds"] == 700.0
    assert r.loc[4, "game_seconds"] == 20.0
    assert r.loc[4, "seconds_left_regulation"] == 2860.0
    assert r.loc[11, "game_seconds"] == 720.0


def test_overtime_has_no_regulation_time_left():
    out, _ = build_plays(
        _pbp([_row(1, 12, "5:00", period=5), _row(2, 13, "0:00", period=5)]), None, "2023-24"
    )
    assert out["game_seconds"].tolist() == [2880.0, 3180.0]
    assert out["seconds_left_regulation"].tolist() == [0.0, 0.0]


def test_exact_duplicates_are_dropped_and_counted():
    pbp = _sample()
    out, rep = build_plays(pd.concat([pbp, pbp.iloc[[1, 3]]]), None, "2023-24")
    assert len(out) == len(pbp)
    assert rep.duplicates_dropped == 2


def test_same_event_with_different_content_is_an_error():
    pbp = _sample()
    clash = pbp.iloc[[1]].assign(PCTIMESTRING="11:39")
    with pytest.raises(RawDataError, match="EVENTNUM"):
        build_plays(pd.concat([pbp, clash]), None, "2023-24", source="pbp_x.parquet")


def test_unknown_event_codes_are_kept_and_counted():
    out, rep = build_plays(_sample(), None, "2023-24")
    assert 99 in out["event_type"].tolist()
    assert rep.unknown_event_codes == {99: 1}


def test_lineups_join_on_eventnum_and_carry_forward_within_the_period():
    out, rep = build_plays(_sample(), _lineups([4, 9, 6]), "2023-24")
    r = out.set_index("event_num")
    assert r.loc[4, "lineup_source"] == "file"
    assert r.loc[7, "lineup_source"] == "carried"  # no lineup row: previous event's lineup
    assert r.loc[2, "lineup_source"] == "carried"  # period start: next known lineup
    assert r.loc[7, ["home_on_1", "away_on_5"]].tolist() == [1, 15]
    assert rep.lineup_rows_file == 3 and rep.lineup_rows_missing == 0


def test_a_value_is_carried_forward_then_back_but_never_into_another_run():
    values = np.array([-1, 7, -1, 8, -1, -1, -1, -1, 9])
    start = np.array([1, 0, 0, 0, 0, 1, 0, 1, 0], bool)  # runs: rows 0-4, 5-6, 7-8
    assert carry_within_runs(values, start).tolist() == [7, 7, 7, 8, 8, -1, -1, 9, 9]
    assert carry_within_runs(np.array([], np.int64), np.array([], bool)).tolist() == []


def test_incomplete_lineup_rows_are_not_used():
    lu = _lineups([4, 9])
    lu.loc[1, ["HOME_ON", "N_HOME_ON"]] = ["1|2|3|4", 4]  # mid-substitution row: 9 on court
    out, _ = build_plays(_sample(), lu, "2023-24")
    assert out.set_index("event_num").loc[9, "lineup_source"] == "carried"


def test_without_lineups_file_on_court_is_null():
    out, rep = build_plays(_sample(), None, "2023-24")
    assert out["home_on_1"].isna().all() and out["lineup_source"].isna().all()
    assert rep.lineup_coverage == 0.0


def test_bad_clock_value_names_file_column_and_value():
    with pytest.raises(RawDataError, match=r"pbp_x\.parquet.*PCTIMESTRING.*'1x:00'"):
        parse_clock(pd.Series(["12:00", "1x:00"]), "pbp_x.parquet", "PCTIMESTRING")
    assert np.allclose(parse_clock(pd.Series(["0:05.5", "11:59"]), "f", "c"), [5.5, 719.0])
