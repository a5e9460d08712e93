"""In-game state after each event: who has the ball, fouls before the penalty, timeouts left.

The sequence model sees only the last 50 events (about five minutes of play), so it cannot count a
period's fouls or a game's timeouts itself; late in a close game they decide what a lead is worth
(a team in the penalty gives free throws on every foul, a team with fouls to give can stop the
clock without them, a team without timeouts cannot advance the ball). Six values per event, home
then away for each pair so that a home/away swap is a permutation (``STATE_SWAP_PERM``):

- ``possession`` (dims 0-1): the side holding the ball after the event, one-hot; both 0 when the
  ball is loose or not yet resolved (after a missed shot, a jump ball, a period's start or end).
  A made field goal or a made last free throw of a trip gives the ball to the other side, a
  rebound to the rebounder's side, a turnover and a (non-technical) foul to the other side; free
  throws before the last of a trip, and every free throw of a flagrant or clear-path trip (the
  shooting team keeps the ball), keep it with the shooter's side; every other event (timeouts,
  substitutions, technical fouls and their free throws, violations) carries the previous value.
- ``fouls_to_penalty`` (dims 2-3): team fouls a side can still commit in the period before the
  other side shoots free throws on every foul, divided by 5: five in a regulation period, four in
  overtime, and at most two minus those already committed in the period's last two minutes (NBA
  rule 12B, section V). 0 means the opponent is in the penalty. Team fouls are the personal-type
  fouls (``TEAM_FOUL_ACTIONS``); offensive fouls, technicals and double fouls do not count.
- ``timeouts_left`` (dims 4-5): a side's timeouts left, divided by 7, under the rules in force
  since 2017-18: seven a game, at most four in the fourth period and two after its 3:00 mark, two
  per overtime period (earlier seasons had six full timeouts and two short ones; the same rule is
  applied to them, an approximation). Regular and short timeouts count; coach's challenges (the
  timeout comes back when the challenge succeeds) and official timeouts do not.

Everything is computed for a whole season at once from ``plays`` in (game, seq) order; a game's
first event starts from "no possession, no fouls, no timeouts used". :func:`state_counts` gives the
raw values (what the season arrays store, int8); the model reads them divided by ``STATE_SCALE``.
"""

from __future__ import annotations

import numpy as np

from nba_pipeline.analytics.stints import FINAL_FT
from nba_pipeline.ingest.plays import Rows, column, cumulative_in_runs

STATE_DIM = 6
# New state = state[..., STATE_SWAP_PERM] when home and away are exchanged.
STATE_SWAP_PERM: np.ndarray = np.array([1, 0, 3, 2, 5, 4])

STATE_PLAY_COLUMNS = ("game_id", "period", "event_type", "action_type", "side", "is_made", "clock_seconds")

# EVENTMSGACTIONTYPE codes of fouls that count toward the team's penalty: personal, shooting, loose
# ball, inbound, away from play, punch, clear path, flagrant 1 and 2, personal block, personal take,
# shooting block, transition take.
TEAM_FOUL_ACTIONS = (1, 2, 3, 5, 6, 8, 9, 14, 15, 27, 28, 29, 31)
# Fouls that do not move the ball: technicals (and their kin) and double personal fouls.
NO_POSSESSION_FOULS = (10, 11, 12, 13, 16, 17, 18, 19, 25, 30)
# Free throws besides the last of a regular trip (``FINAL_FT``: a make hands the ball over, a miss
# is live): those of trips after which the shooting team keeps the ball, and technical free throws
# (nothing changes).
KEEP_BALL_FREE_THROW = (18, 19, 20, 25, 26, 27, 28, 29)
TECHNICAL_FREE_THROW = (16, 21, 22)
COUNTED_TIMEOUTS = (1, 2)  # regular, short

REGULATION_FOUL_LIMIT, OVERTIME_FOUL_LIMIT, LAST_MINUTES_FOUL_LIMIT = 5, 4, 2
GAME_TIMEOUTS, FOURTH_PERIOD_TIMEOUTS, LATE_FOURTH_TIMEOUTS, OVERTIME_TIMEOUTS = 7, 4, 2, 2
STATE_SCALE: np.ndarray = np.array(
    [1, 1, REGULATION_FOUL_LIMIT, REGULATION_FOUL_LIMIT, GAME_TIMEOUTS, GAME_TIMEOUTS], np.float32
)
# Before tip-off: nobody has the ball, every foul and timeout is left (the CLS state of the pregame cut).
PREGAME_STATE: np.ndarray = np.array(
    [0, 0, REGULATION_FOUL_LIMIT, REGULATION_FOUL_LIMIT, GAME_TIMEOUTS, GAME_TIMEOUTS], np.int8
)


def _other(side: np.ndarray) -> np.ndarray:
    return np.where(side == 1, 2, np.where(side == 2, 1, 0))


def possession_after(plays: Rows) -> np.ndarray:
    """Side holding the ball after each event (1 home, 2 away, 0 loose/unknown), int8 [E]."""
    et = column(plays, "event_type", np.int64)
    at = column(plays, "action_type", np.int64)
    side = column(plays, "side", np.int64)
    made = column(plays, "is_made", bool)
    game = column(plays, "game_id")
    carry = -1
    pos = np.full(len(et), carry, np.int64)
    pos[et == 1] = _other(side[et == 1])
    pos[et == 2] = 0
    ft = et == 3
    last = ft & np.isin(at, FINAL_FT)
    pos[ft & ~np.isin(at, TECHNICAL_FREE_THROW)] = side[ft & ~np.isin(at, TECHNICAL_FREE_THROW)]
    pos[last] = np.where(made[last], _other(side[last]), 0)
    pos[ft & np.isin(at, KEEP_BALL_FREE_THROW)] = side[ft & np.isin(at, KEEP_BALL_FREE_THROW)]
    pos[(et == 4) & (side > 0)] = side[(et == 4) & (side > 0)]
    pos[(et == 5) & (side > 0)] = _other(side[(et == 5) & (side > 0)])
    foul = (et == 6) & (side > 0) & ~np.isin(at, NO_POSSESSION_FOULS)
    pos[foul] = _other(side[foul])
    pos[np.isin(et, (10, 12, 13))] = 0
    # Forward fill within each game: a game's first event never carries (nothing to carry from).
    first = np.r_[True, game[1:] != game[:-1]] if len(game) else np.zeros(0, bool)
    pos[first & (pos == carry)] = 0
    src = np.maximum.accumulate(np.where(pos != carry, np.arange(len(pos)), 0)) if len(pos) else pos
    return pos[src].astype(np.int8)


def fouls_to_penalty(plays: Rows) -> np.ndarray:
    """Team fouls home / away can still commit before the penalty, int8 [E, 2] (module docstring)."""
    et = column(plays, "event_type", np.int64)
    at = column(plays, "action_type", np.int64)
    side = column(plays, "side", np.int64)
    period = column(plays, "period", np.int64)
    late = column(plays, "clock_seconds", np.float64) <= 120.0
    keys = [column(plays, "game_id"), period]
    team_foul = (et == 6) & np.isin(at, TEAM_FOUL_ACTIONS)
    limit = np.where(period <= 4, REGULATION_FOUL_LIMIT, OVERTIME_FOUL_LIMIT)
    out = np.empty((len(et), 2), np.int8)
    for j, s in enumerate((1, 2)):
        fouls = cumulative_in_runs(keys, team_foul & (side == s))
        late_fouls = cumulative_in_runs(keys, team_foul & (side == s) & late)
        left = limit - fouls
        left = np.where(late, np.minimum(left, LAST_MINUTES_FOUL_LIMIT - late_fouls), left)
        out[:, j] = np.clip(left, 0, None)
    return out


def timeouts_left(plays: Rows) -> np.ndarray:
    """Timeouts home / away have left, int8 [E, 2] (module docstring)."""
    et = column(plays, "event_type", np.int64)
    at = column(plays, "action_type", np.int64)
    side = column(plays, "side", np.int64)
    period = column(plays, "period", np.int64)
    game = column(plays, "game_id")
    late = (period == 4) & (column(plays, "clock_seconds", np.float64) <= 180.0)
    timeout = (et == 9) & np.isin(at, COUNTED_TIMEOUTS)
    out = np.empty((len(et), 2), np.int8)
    for j, s in enumerate((1, 2)):
        called = timeout & (side == s)
        in_game = cumulative_in_runs([game], called & (period <= 4))
        in_period = cumulative_in_runs([game, period], called)
        in_late = cumulative_in_runs([game, period], called & late)
        left = GAME_TIMEOUTS - in_game
        left = np.where(period == 4, np.minimum(left, FOURTH_PERIOD_TIMEOUTS - in_period), left)
        left = np.where(late, np.minimum(left, LATE_FOURTH_TIMEOUTS - in_late), left)
        left = np.where(period > 4, OVERTIME_TIMEOUTS - in_period, left)
        out[:, j] = np.clip(left, 0, None)
    return out


def state_counts(plays: Rows) -> np.ndarray:
    """The six raw state values after every event of ``plays`` (module docstring), int8 [E, 6].

    ``plays`` must be in (game, seq) order with each game's rows contiguous.
    """
    missing = [c for c in STATE_PLAY_COLUMNS if c not in plays]
    if missing:
        raise ValueError(f"plays: missing columns {missing} (needed for the in-game state)")
    pos = possession_after(plays)
    out = np.empty((len(pos), STATE_DIM), np.int8)
    out[:, 0] = pos == 1
    out[:, 1] = pos == 2
    out[:, 2:4] = fouls_to_penalty(plays)
    out[:, 4:6] = timeouts_left(plays)
    return out
