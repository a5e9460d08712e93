from __future__ import annotations

import numpy as np
import pandas as pd

from nba_pipeline.analytics.stints import (
    ON_COURT,
    build_stints,
    complete_lineups,
    lineup_agreement,
    possession_ends,
    reconstruct_lineups,
)

H = [1, 2, 3, 4, 5]
A = [11, 12, 13, 14, 15]
HT, AT = 1610612737, 1610612738


def _plays(events: list[dict]) -> pd.DataFrame:
    """Synthetic one-game plays: each event dict overrides the defaults."""
    rows = []
    for i, e in enumerate(events):
        r = {
            "game_id": "0000000001",
            "seq": i,
            "season": "2099-00",
            "period": 1,
            "event_type": 1,
            "action_type": 1,
            "game_seconds": float(10 * i),
            "side": 1,
            "points": 0,
            "is_made": None,
            "player1_id": None,
            "player1_team_id": None,
            "player2_id": None,
            "player2_team_id": None,
            "player3_id": None,
            "player3_team_id": None,
            "lineup_source": "file",
        }
        r.update({c: v for c, v in zip(ON_COURT, H + A, strict=True)})
        r.update(e)
        rows.append(r)
    return pd.DataFrame(rows)


GAMES = pd.DataFrame(
    {
        "game_id": ["0000000001"],
        "season": ["2099-00"],
        "game_date": [pd.Timestamp("2099-01-01")],
        "home_team_id": [HT],
        "away_team_id": [AT],
    }
)


def test_possession_ends_on_made_shot_turnover_final_free_throw_and_defensive_rebound_only():
    p = _plays(
        [
            {"event_type": 1, "side": 1, "points": 2, "is_made": True},  # made FG: home possession ends
            {"event_type": 2, "side": 2, "is_made": False},  # away miss
            {"event_type": 4, "side": 2},  # offensive rebound: nothing ends
            {"event_type": 2, "side": 2, "is_made": False},  # away miss
            {"event_type": 4, "side": 1},  # defensive rebound: away possession ends
            {"event_type": 1, "side": 1, "points": 2, "is_made": True},  # and-one: ends here
            {"event_type": 3, "action_type": 10, "side": 1, "points": 1, "is_made": True},  # 1 of 1: no end
            {"event_type": 5, "side": 2},  # turnover: away ends
            {"event_type": 3, "action_type": 11, "side": 1, "points": 1, "is_made": True},  # 1 of 2: no end
            {"event_type": 3, "action_type": 12, "side": 1, "points": 1, "is_made": True},  # 2 of 2: ends
            {"event_type": 3, "action_type": 11, "side": 2, "is_made": False},  # 1 of 2 missed: not live
            {"event_type": 4, "side": 1},  # team rebound after a non-final FT: nothing
            {"event_type": 3, "action_type": 12, "side": 2, "is_made": False},  # 2 of 2 missed: live
            {"event_type": 4, "side": 1},  # defensive rebound: away ends
        ]
    )
    assert possession_ends(p).tolist() == [1, 0, 0, 0, 2, 1, 0, 2, 0, 1, 0, 0, 0, 2]


def test_a_substitution_starts_a_new_stint_that_gets_later_points():
    sub = {c: v for c, v in zip(ON_COURT, [6, 2, 3, 4, 5] + A, strict=True)}
    p = _plays(
        [
            {"event_type": 12, "side": 0},
            {"event_type": 1, "side": 1, "points": 3, "is_made": True},
            {"event_type": 8, "side": 1, **sub},
            {"event_type": 1, "side": 2, "points": 2, "is_made": True, **sub},
        ]
    )
    st = build_stints(p, GAMES)
    assert len(st) == 2
    assert st[["home_pts", "away_pts", "home_poss", "away_poss"]].to_numpy().tolist() == [
        [3, 0, 1, 0],
        [0, 2, 0, 1],
    ]
    assert st["start_seconds"].tolist() == [0.0, 20.0] and st["end_seconds"].tolist() == [20.0, 720.0]
    assert sorted(st.loc[1, [f"home_{i}" for i in range(1, 6)]]) == [2, 3, 4, 5, 6]


def test_stints_refuse_plays_with_unknown_players():
    p = _plays([{"event_type": 12, "side": 0, "home_on_1": None}])
    try:
        build_stints(p, GAMES)
    except ValueError as exc:
        assert "rebuild lineups" in str(exc)
    else:
        raise AssertionError("missing on-court players were accepted")


def test_reconstruction_finds_a_silent_starter_from_the_previous_period_and_applies_substitutions():
    def act(pid, team, et=2, **kw):
        return {
            "event_type": et,
            "player1_id": pid,
            "player1_team_id": team,
            "side": 1 if team == HT else 2,
            **kw,
        }

    ev = [act(p, HT) for p in H] + [act(p, AT) for p in A]
    ev.append(
        {
            "event_type": 8,
            "side": 1,
            "player1_id": 5,
            "player1_team_id": HT,
            "player2_id": 6,
            "player2_team_id": HT,
        }
    )
    ev.append(act(6, HT))
    # period 2: player 4 never appears (plays silently), everybody else acts
    ev2 = [dict(act(p, HT), period=2) for p in (1, 2, 3, 6)] + [dict(act(p, AT), period=2) for p in A]
    rb = reconstruct_lineups(_plays(ev + ev2), GAMES)
    home = np.sort(rb[ON_COURT[:5]].to_numpy(np.int64), axis=1)
    assert home[0].tolist() == [1, 2, 3, 4, 5]
    assert home[len(ev) - 1].tolist() == [1, 2, 3, 4, 6]  # after the substitution
    assert home[-1].tolist() == [1, 2, 3, 4, 6]  # period 2 completed with silent player 4
    assert (rb["lineup_source"] == "rebuilt").all()


def test_real_slice_stints_add_up_to_the_final_scores_and_box_possessions(real_slice):
    st, g = real_slice.stints, real_slice.games.set_index("game_id")
    tot = st.groupby("game_id")[["home_pts", "away_pts", "home_poss", "away_poss"]].sum()
    g = g.loc[tot.index]
    assert (tot["home_pts"].to_numpy() == g["home_pts"].to_numpy()).all()
    assert (tot["away_pts"].to_numpy() == g["away_pts"].to_numpy()).all()
    diff = tot["home_poss"].to_numpy() - g["possessions_home"].to_numpy()
    assert np.abs(diff).mean() < 3.0 and np.abs(diff).max() <= 10
    assert (st["end_seconds"] >= st["start_seconds"]).all()


def test_real_slice_reconstruction_agrees_with_the_lineups_file_on_98_percent_of_events(real_slice):
    rb = reconstruct_lineups(real_slice.plays, real_slice.games)
    agree = lineup_agreement(rb, real_slice.plays)
    print(f"reconstruction agreement on the slice: {agree.to_dict()}")
    assert agree["2022-23"] >= 0.98


def test_a_season_without_lineups_gets_numeric_rebuilt_ids():
    """As read from a season without a lineups file: every on-court value NULL (float columns).
    The rebuilt ids stay int64."""
    ev = [{"event_type": 2, "player1_id": p, "player1_team_id": HT, "side": 1} for p in H]
    ev += [{"event_type": 2, "player1_id": p, "player1_team_id": AT, "side": 2} for p in A]
    plays = _plays(ev)
    for c in ON_COURT:
        plays[c] = np.nan
    plays["lineup_source"] = pd.Series([None] * len(plays), dtype="str")
    full = complete_lineups(plays, GAMES)
    assert all(full[c].dtype.kind == "i" for c in ON_COURT), full[ON_COURT].dtypes.to_dict()
    assert np.sort(full[ON_COURT[:5]].to_numpy(), axis=1)[0].tolist() == H
