"""features.in_game_state: possession, fouls before the penalty and timeouts left after each event."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nba_pipeline.features.in_game_state import (
    PREGAME_STATE,
    STATE_SWAP_PERM,
    fouls_to_penalty,
    possession_after,
    state_counts,
    timeouts_left,
)

HOME, AWAY = 1, 2


def plays(rows: list[tuple], game_id: str = "0022300001") -> pd.DataFrame:
    """Rows of (period, clock_seconds, event_type, action_type, side, is_made) in time order."""
    df = pd.DataFrame(
        rows, columns=["period", "clock_seconds", "event_type", "action_type", "side", "is_made"]
    )
    return df.assign(game_id=game_id)


def test_possession_follows_makes_rebounds_turnovers_and_the_last_free_throw():
    p = plays(
        [
            (1, 720, 12, 0, 0, None),  # period start: nobody
            (1, 700, 1, 1, HOME, True),  # home scores: away ball
            (1, 690, 2, 1, AWAY, False),  # away misses: loose
            (1, 688, 4, 1, HOME, None),  # home rebound
            (1, 680, 9, 1, HOME, None),  # timeout: carries
            (1, 675, 5, 1, HOME, None),  # home turnover: away ball
            (1, 670, 6, 2, HOME, None),  # home shooting foul: away ball
            (1, 670, 3, 11, AWAY, True),  # 1 of 2: away keeps it
            (1, 670, 3, 12, AWAY, True),  # 2 of 2 made: home ball
            (1, 660, 6, 11, AWAY, None),  # technical foul: carries
            (1, 660, 3, 16, HOME, True),  # technical free throw: carries
            (1, 650, 6, 1, AWAY, None),  # away personal foul: home ball
            (1, 640, 6, 2, AWAY, None),  # shooting foul on away
            (1, 640, 3, 10, HOME, False),  # 1 of 1 missed: loose
            (1, 630, 6, 14, AWAY, None),  # flagrant
            (1, 630, 3, 19, HOME, True),  # flagrant 2 of 2 made: home keeps the ball
        ]
    )
    assert possession_after(p).tolist() == [0, 2, 0, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 0, 1, 1]


def test_possession_does_not_carry_from_one_game_into_the_next():
    p = pd.concat([plays([(1, 700, 4, 1, HOME, None)], "A"), plays([(1, 720, 8, 0, AWAY, None)], "B")])
    assert possession_after(p.reset_index(drop=True)).tolist() == [1, 0]


def test_the_fifth_team_foul_of_a_period_puts_the_opponent_in_the_penalty_and_resets_next_period():
    rows = [(1, 700 - 10 * i, 6, 1, HOME, None) for i in range(4)]
    rows += [(1, 600, 6, 4, HOME, None)]  # offensive foul: not a team foul
    rows += [(1, 590, 6, 11, HOME, None)]  # technical: not a team foul
    rows += [(1, 580, 6, 2, HOME, None)]  # the fifth team foul
    rows += [(2, 720, 12, 0, 0, None)]
    left = fouls_to_penalty(plays(rows))
    assert left[:, 0].tolist() == [4, 3, 2, 1, 1, 1, 0, 5]
    assert (left[:, 1] == 5).all()


def test_the_second_foul_of_the_last_two_minutes_reaches_the_penalty_and_overtime_allows_four():
    rows = [(4, 300, 6, 1, AWAY, None), (4, 100, 6, 1, AWAY, None), (4, 90, 6, 1, AWAY, None)]
    rows += [(5, 300, 12, 0, 0, None), (5, 200, 6, 1, HOME, None)]
    left = fouls_to_penalty(plays(rows))
    # away: 4 left after the first foul; in the last two minutes one more is allowed, then none
    assert left[:, 1].tolist()[:3] == [4, 1, 0]
    assert left[3:, 0].tolist() == [4, 3] and left[3, 1] == 4


def test_timeouts_left_follow_the_game_fourth_period_and_overtime_limits():
    rows = [(1, 600 - i, 9, 1, HOME, None) for i in range(3)]  # three in the first period
    rows += [(2, 500, 9, 2, HOME, None)]  # a short timeout counts
    rows += [(2, 400, 9, 7, HOME, None)]  # a coach's challenge does not
    rows += [(2, 300, 9, 4, 0, None)]  # nor an official timeout
    rows += [(4, 720, 12, 0, 0, None)]  # 3 left, within the fourth period's 4
    rows += [(4, 170, 8, 0, HOME, None)]  # after 3:00 of the fourth: at most 2
    rows += [(5, 300, 12, 0, 0, None), (5, 100, 9, 1, HOME, None)]  # overtime: 2 per period
    left = timeouts_left(plays(rows))
    assert left[:, 0].tolist() == [6, 5, 4, 3, 3, 3, 3, 2, 2, 1]
    assert left[:, 1].tolist() == [7, 7, 7, 7, 7, 7, 4, 2, 2, 2]


def test_the_state_of_a_mirrored_game_is_the_swapped_state():
    rng = np.random.default_rng(0)
    n = 400
    et = rng.choice([1, 2, 3, 4, 5, 6, 8, 9], n)
    p = plays(
        list(
            zip(
                np.repeat([1, 2, 3, 4], n // 4),
                np.tile(np.linspace(720, 0, n // 4), 4),
                et,
                rng.choice([1, 2, 4, 10, 11, 12], n),
                rng.integers(1, 3, n),
                np.where(et == 1, True, np.where(et == 2, False, rng.random(n) < 0.75)),
                strict=True,
            )
        )
    )
    mirror = p.assign(side=p["side"].map({1: 2, 2: 1}))
    np.testing.assert_array_equal(state_counts(mirror), state_counts(p)[:, STATE_SWAP_PERM])
    assert (PREGAME_STATE[STATE_SWAP_PERM] == PREGAME_STATE).all()


def test_on_real_games_the_penalty_and_timeouts_agree_with_the_official_descriptions(real_plays_2023):
    """The play-by-play writes ``PN`` on a foul committed while the opponent is in the penalty and
    each team's timeouts called so far (``Full n``): the state computed from event codes alone
    agrees with both."""
    p = real_plays_2023.sort_values(["game_id", "seq"], kind="stable").reset_index(drop=True)
    s = state_counts(p)
    fouls = (p["event_type"] == 6).to_numpy() & p["action_type"].isin([1, 2, 3, 28, 31]).to_numpy()
    side = p["side"].to_numpy()
    left = np.where(side == 1, s[:, 2], s[:, 3])[fouls]
    in_penalty = p["description"].str.contains(r"\.PN\)", regex=True).to_numpy()[fouls]
    agree = float(((left == 0) == in_penalty).mean())
    print(f"\npenalty agrees with the description's PN on {agree:.4%} of {fouls.sum()} team fouls")
    assert fouls.sum() > 30_000 and agree > 0.995
    to = ((p["event_type"] == 9) & (p["action_type"] == 1) & (p["period"] <= 3)).to_numpy()
    called = p["description"].str.extract(r"(?:Full |Reg\.)(\d+)")[0].astype(float).to_numpy()[to]
    left_to = np.where(side == 1, s[:, 4], s[:, 5])[to]
    ok = ~np.isnan(called)
    assert ok.mean() > 0.95
    assert ((called + left_to)[ok] == 7).mean() > 0.99
