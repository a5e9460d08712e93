"""Stints (maximal intervals with the same ten players on court) and lineup reconstruction.

Possessions are counted from possession-ending events (never estimated): a made field goal, a
turnover, a made last free throw of a trip (``2 of 2``, ``3 of 3``), or a defensive rebound of a
live miss (a missed field goal or a missed last free throw). A ``1 of 1`` free throw follows an
and-one or an away-from-play foul: the possession already ended (or continues), so it ends nothing.

Seasons without a lineups file get their on-court players rebuilt from the play-by-play: the
starters of a period are the players who act (or are substituted out) before being substituted in;
substitutions are then applied in time order. A period with fewer than five detected starters on
a side is completed from (in order) the game's first-period starters when it is the third period,
the previous period's closing lineup, then the side's most active players in the game.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nba_pipeline.analytics.schema import AWAY_COLS, HOME_COLS
from nba_pipeline.analytics.team_features import check_columns
from nba_pipeline.ingest.plays import FIRST_TEAM_ID, period_length, period_start, run_starts
from nba_pipeline.ingest.schema import ON_COURT

log = logging.getLogger(__name__)

HOME_ON, AWAY_ON = ON_COURT[:5], ON_COURT[5:]
PLAY_COLUMNS = [
    "game_id",
    "seq",
    "period",
    "event_type",
    "action_type",
    "game_seconds",
    "side",
    "points",
    "is_made",
]
EVIDENCE_COLUMNS = [
    "player1_id",
    "player1_team_id",
    "player2_id",
    "player2_team_id",
    "player3_id",
    "player3_team_id",
]
# The columns of the stints rows, in the table's order.
STINT_COLUMNS = [
    "game_id",
    "stint",
    "season",
    "game_date",
    "period",
    "start_seconds",
    "end_seconds",
    *HOME_COLS,
    *AWAY_COLS,
    "home_pts",
    "away_pts",
    "home_poss",
    "away_poss",
    "lineup_source",
]
FINAL_FT = (10, 12, 15)  # 1 of 1, 2 of 2, 3 of 3: a miss is live
ENDING_FT = (12, 15)  # a make ends the possession
# Events whose players are on court (made and missed shots, free throws, rebounds, turnovers,
# fouls, violations, substitutions, jump balls), but not technical / non-play fouls: a bench
# player can be their actor.
EVIDENCE_EVENT_TYPES = (1, 2, 3, 4, 5, 6, 7, 8, 10)
TECHNICAL_FOULS = (11, 12, 13, 16, 18, 19, 25, 30)


def _sorted_plays(plays: pd.DataFrame) -> pd.DataFrame:
    return plays.sort_values(["game_id", "seq"], kind="stable").reset_index(drop=True)


def possession_ends(plays: pd.DataFrame) -> np.ndarray:
    """Side (1 home, 2 away) whose possession ends at each event of time-ordered ``plays``; 0 none."""
    et = plays["event_type"].to_numpy(np.int64)
    at = plays["action_type"].to_numpy(np.int64)
    side = plays["side"].to_numpy(np.int64)
    made = plays["is_made"].fillna(False).to_numpy(bool)
    game = plays["game_id"].to_numpy()
    ends = np.zeros(len(plays), np.int64)
    ends[(et == 1) | (et == 5)] = side[(et == 1) | (et == 5)]
    ft_end = (et == 3) & made & np.isin(at, ENDING_FT)
    ends[ft_end] = side[ft_end]
    # Defensive rebounds: the previous shot-type event (FG, FT, rebound) is a live miss of the other side.
    live_miss = (et == 2) | ((et == 3) & ~made & np.isin(at, FINAL_FT))
    shotlike = np.isin(et, (1, 2, 3, 4))
    idx = np.flatnonzero(shotlike)
    miss_side = np.where(live_miss, side, 0)[idx]
    prev_miss = np.r_[0, miss_side[:-1]]
    same_game = np.r_[False, game[idx][1:] == game[idx][:-1]]
    reb = et[idx] == 4
    dreb = reb & same_game & (prev_miss > 0) & (side[idx] > 0) & (side[idx] != prev_miss)
    ends[idx[dreb]] = prev_miss[dreb]
    ends[(ends != 1) & (ends != 2)] = 0
    return ends


def build_stints(plays: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    """Stints of every game in ``plays`` (which must have all ten on-court columns filled)."""
    check_columns(plays, PLAY_COLUMNS + ON_COURT, "plays")
    check_columns(games, ["game_id", "season", "game_date"], "games")
    p = _sorted_plays(plays)
    if p[ON_COURT].isna().any().any():
        bad = p.loc[p[ON_COURT].isna().any(axis=1), "game_id"].unique()[:5].tolist()
        raise ValueError(f"plays: on-court players missing in games {bad}; rebuild lineups first")
    home, away = _stint_lineups(p)
    game = p["game_id"].to_numpy()
    period = p["period"].to_numpy(np.int64)
    new = np.ones(len(p), bool)
    new[1:] = (
        (game[1:] != game[:-1])
        | (period[1:] != period[:-1])
        | (home[1:] != home[:-1]).any(axis=1)
        | (away[1:] != away[:-1]).any(axis=1)
    )
    sid = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    st = pd.DataFrame({"game_id": game[first], "period": period[first]})
    st[HOME_COLS] = home[first]
    st[AWAY_COLS] = away[first]
    st["start_seconds"], st["end_seconds"] = _stint_times(st, p["game_seconds"].to_numpy(float)[first])
    st[["home_pts", "away_pts", "home_poss", "away_poss"]] = _stint_totals(p, sid).to_numpy()
    src = p["lineup_source"] if "lineup_source" in p.columns else pd.Series("file", index=p.index)
    rebuilt = pd.Series(src.to_numpy() == "rebuilt").groupby(sid).any().to_numpy()
    st["lineup_source"] = np.where(rebuilt, "rebuilt", "file")
    st["stint"] = st.groupby("game_id").cumcount()
    g = games[["game_id", "season", "game_date"]].drop_duplicates("game_id")
    st = st.merge(g, on="game_id", how="left")
    if st["season"].isna().any():
        raise ValueError(
            "plays: games not in the games table: "
            f"{st.loc[st['season'].isna(), 'game_id'].unique()[:5].tolist()}"
        )
    return st[STINT_COLUMNS]


def _stint_lineups(p: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(home, away) int64 [n, 5]: each event's five per side, sorted. A substitution event takes
    the lineup of the next non-substitution event of its period, so that a batch of simultaneous
    substitutions makes one lineup change, not zero-length stints."""
    on = p[ON_COURT].astype("float64")
    on[p["event_type"].to_numpy() == 8] = np.nan
    keys = [p["game_id"], p["period"]]
    on = on.groupby(keys).bfill().fillna(on.groupby(keys).ffill()).fillna(p[ON_COURT].astype("float64"))
    home = np.sort(on[HOME_ON].to_numpy(np.int64), axis=1)
    away = np.sort(on[AWAY_ON].to_numpy(np.int64), axis=1)
    return home, away


def _stint_totals(p: pd.DataFrame, sid: np.ndarray) -> pd.DataFrame:
    """Per stint ``sid``: home_pts, away_pts, home_poss, away_poss (counted possession ends)."""
    side = p["side"].to_numpy(np.int64)
    pts = p["points"].to_numpy(np.int64)
    ends = possession_ends(p)
    frame = pd.DataFrame(
        {
            "sid": sid,
            "home_pts": np.where(side == 1, pts, 0),
            "away_pts": np.where(side == 2, pts, 0),
            "home_poss": (ends == 1).astype(np.int64),
            "away_poss": (ends == 2).astype(np.int64),
        }
    )
    return frame.groupby("sid").sum()


def _stint_times(st: pd.DataFrame, first_seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) game seconds of the stints ``st`` (game_id, period, in order) whose first
    events are at ``first_seconds``: a period's first stint starts at the period start, its last
    ends at the period end, the others end where the next one starts."""
    per_start = period_start(st["period"])
    per_end = per_start + period_length(st["period"])
    gid, per = st["game_id"].to_numpy(), st["period"].to_numpy()
    first_in_period = np.r_[True, (gid[1:] != gid[:-1]) | (per[1:] != per[:-1])]
    start = np.where(first_in_period, per_start, first_seconds)
    last_in_period = np.r_[first_in_period[1:], True]
    end = np.where(last_in_period, per_end, np.r_[start[1:], 0.0])
    return start, np.maximum(end, start)


@dataclass
class RebuiltLineups:
    on_court: np.ndarray  # int64 [n, 10]: home slots then away slots, 0 unknown
    filled: int  # period-sides completed by a fallback
    anomalies: int  # substitutions that could not be applied


def _most_active(players: np.ndarray, counts: np.ndarray) -> list[int]:
    """Players by evidence count, most active first; ties in the order pandas' default sort gives
    players listed in id order (the rebuilt lineups of every stored season depend on it)."""
    frame = pd.DataFrame({"player": players, "n": counts})
    return frame.sort_values("n", ascending=False)["player"].tolist()


def rebuild_on_court(
    game_id: np.ndarray,
    period: np.ndarray,
    event_type: np.ndarray,
    action_type: np.ndarray,
    players: np.ndarray,
    teams: np.ndarray,
    home_team_id: np.ndarray,
    away_team_id: np.ndarray,
) -> RebuiltLineups:
    """The ten on-court players of every event, from the play-by-play alone (module docstring).

    Rows in (game, seq) order; ``players`` / ``teams``: int64 [n, 3], player1..3 and their team
    ids (0 none); ``home_team_id`` / ``away_team_id``: each row's game's teams. Arrays in, arrays
    out, so that a live game's events so far are rebuilt by this function after each event, as a
    season is: the lineup of a substitution event is the one after it."""
    et = np.asarray(event_type, dtype=np.int64)
    n = len(et)
    pid = np.asarray(players, dtype=np.int64).reshape(n, 3)
    starts = run_starts([game_id, period])
    block = np.cumsum(starts) - 1  # (game, period) index of each row
    game_no = np.cumsum(run_starts([game_id])) - 1
    sides = _team_sides(np.asarray(teams, dtype=np.int64).reshape(n, 3), home_team_id, away_team_id)
    ev = _OnCourtEvidence.of(et, action_type, pid, sides, block, game_no)
    out = np.zeros((n, 10), np.int64)
    bounds = np.r_[np.flatnonzero(starts), n] if n else np.zeros(1, np.int64)
    filled = anomalies = 0
    prev_end: dict[int, list[int]] = {}
    q1: dict[int, list[int]] = {}
    for b0, b1 in zip(bounds[:-1], bounds[1:], strict=True):
        b, g, per = int(block[b0]), int(game_no[b0]), int(period[b0])
        if b0 == 0 or game_no[b0 - 1] != g:
            prev_end, q1 = {}, {}
        lineup: dict[int, list[int]] = {}
        for s in (1, 2):
            fallbacks = ([q1.get(s, [])] if per == 3 else []) + [prev_end.get(s, [])]
            lineup[s], was_filled = ev.period_starters(b, g, s, fallbacks)
            filled += was_filled
        if per == 1:
            q1 = {s: list(v) for s, v in lineup.items()}
        cur_row, bad = _substitute(out, np.array(lineup[1] + lineup[2], np.int64), b0, b1, et, pid)
        anomalies += bad
        prev_end = {1: cur_row[:5].tolist(), 2: cur_row[5:].tolist()}
    return RebuiltLineups(out, filled, anomalies)


def _team_sides(tid: np.ndarray, home_team_id: np.ndarray, away_team_id: np.ndarray) -> np.ndarray:
    """int [n, 3]: 1 where the team id is the row's home team, 2 the away team, else 0."""
    home, away = np.asarray(home_team_id)[:, None], np.asarray(away_team_id)[:, None]
    return np.where(tid == home, 1, np.where(tid == away, 2, 0))


@dataclass
class _OnCourtEvidence:
    """Who the play-by-play shows on court. Evidence that a player is on court: he acts, or is
    substituted out (role 0); a player whose first appearance in a period is being substituted
    in (role 1) was on the bench at its start."""

    starters: dict[tuple[int, int], list[int]]  # (block, side) -> first seen on court, in order
    benched: dict[int, set[int]]  # block -> players first seen coming in
    keys: np.ndarray  # sorted (game * 4 + side) << 31 | player, of every piece of evidence
    counts: np.ndarray  # evidence count of each key
    active: dict[tuple[int, int], list[int]]  # (game, side) -> most active first (cached)

    @classmethod
    def of(
        cls,
        et: np.ndarray,
        action_type: np.ndarray,
        pid: np.ndarray,
        sides: np.ndarray,
        block: np.ndarray,
        game_no: np.ndarray,
    ) -> _OnCourtEvidence:
        usable = np.isin(et, EVIDENCE_EVENT_TYPES) & ~((et == 6) & np.isin(action_type, TECHNICAL_FOULS))
        ok = usable[:, None] & (pid > 0) & (pid < FIRST_TEAM_ID) & (sides > 0)
        ok[:, 2] &= et != 8
        rows, slot = np.nonzero(ok)  # by row, then slot
        role = np.where((et[rows] == 8) & (slot == 1), 1, 0)
        order = np.lexsort((role, rows))  # by row, then role, then slot (stable)
        rows, slot, role = rows[order], slot[order], role[order]
        ev_side, ev_player = sides[rows, slot], pid[rows, slot]
        _, first_at = np.unique(block[rows] * (1 << 31) + ev_player, return_index=True)
        first = np.zeros(len(rows), bool)
        first[first_at] = True
        starters: dict[tuple[int, int], list[int]] = {}
        benched: dict[int, set[int]] = {}
        for i in np.flatnonzero(first):
            b, pl = int(block[rows[i]]), int(ev_player[i])
            if role[i] == 0:
                starters.setdefault((b, int(ev_side[i])), []).append(pl)
            else:
                benched.setdefault(b, set()).add(pl)
        keys, counts = np.unique((game_no[rows] * 4 + ev_side) * (1 << 31) + ev_player, return_counts=True)
        return cls(starters, benched, keys, counts, {})

    def most_active(self, g: int, s: int) -> list[int]:
        """Side ``s``'s players of game ``g``, most evidence first."""
        if (g, s) not in self.active:
            lo, hi = np.searchsorted(self.keys >> 31, [g * 4 + s, g * 4 + s + 1])
            self.active[(g, s)] = _most_active(self.keys[lo:hi] & ((1 << 31) - 1), self.counts[lo:hi])
        return self.active[(g, s)]

    def period_starters(self, b: int, g: int, s: int, fallbacks: list[list[int]]) -> tuple[list[int], bool]:
        """Side ``s``'s five at the start of block ``b`` of game ``g`` (0 for unknown) and whether
        it was completed from ``fallbacks``, then the game's most active players."""
        cur = list(self.starters.get((b, s), []))[:5]
        if len(cur) == 5:
            return cur, False
        banned = self.benched.get(b, set())
        for pool in [*fallbacks, self.most_active(g, s)]:
            for pl in pool:
                if len(cur) < 5 and pl not in cur and pl not in banned:
                    cur.append(pl)
        return cur + [0] * (5 - len(cur)), True


def _substitute(
    out: np.ndarray, cur_row: np.ndarray, b0: int, b1: int, et: np.ndarray, pid: np.ndarray
) -> tuple[np.ndarray, int]:
    """Fill ``out[b0:b1]`` (one period) from the starting ten ``cur_row``, applying each
    substitution (player1 out, player2 in) from its row on; (the closing ten, substitutions
    that could not be applied)."""
    anomalies = 0
    last = b0
    for r in b0 + np.flatnonzero(et[b0:b1] == 8):
        out[last:r] = cur_row
        pos = np.flatnonzero(cur_row == pid[r, 0])
        if len(pos) and pid[r, 1] > 0 and pid[r, 1] not in cur_row:
            cur_row = cur_row.copy()
            cur_row[pos[0]] = pid[r, 1]
        else:
            anomalies += 1
        last = r
    out[last:b1] = cur_row
    return cur_row, anomalies


def reconstruct_lineups(plays: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    """``plays`` with the ten on-court columns rebuilt from the play-by-play (``lineup_source='rebuilt'``,
    :func:`rebuild_on_court`). Counts of periods that needed filling are logged (they are the weak
    spot of any play-by-play reconstruction)."""
    check_columns(plays, PLAY_COLUMNS + EVIDENCE_COLUMNS, "plays")
    check_columns(games, ["game_id", "home_team_id", "away_team_id"], "games")
    p = _sorted_plays(plays)
    teams = games.drop_duplicates("game_id").set_index("game_id")[["home_team_id", "away_team_id"]]

    def ids(col: pd.Series) -> np.ndarray:  # a game without a games row has no team: -1 matches none
        return col.astype("Float64").fillna(0).to_numpy(np.float64).astype(np.int64)

    rebuilt = rebuild_on_court(
        p["game_id"].to_numpy(),
        p["period"].to_numpy(np.int64),
        p["event_type"].to_numpy(np.int64),
        p["action_type"].to_numpy(np.int64),
        np.column_stack([ids(p[f"player{n}_id"]) for n in (1, 2, 3)]),
        np.column_stack([ids(p[f"player{n}_team_id"]) for n in (1, 2, 3)]),
        p["game_id"].map(teams["home_team_id"]).fillna(-1).to_numpy(np.int64),
        p["game_id"].map(teams["away_team_id"]).fillna(-1).to_numpy(np.int64),
    )
    if rebuilt.filled or rebuilt.anomalies:
        log.info(
            "lineup reconstruction: %d period-sides completed by fallback, %d substitutions not applicable",
            rebuilt.filled,
            rebuilt.anomalies,
        )
    out = rebuilt.on_court
    res = p.copy()
    for i, c in enumerate(ON_COURT):
        res[c] = pd.array(np.where(out[:, i] > 0, out[:, i], 0), dtype="Int64")
        res[c] = res[c].mask(res[c] == 0)
    res["lineup_source"] = "rebuilt"
    return res


def lineup_agreement(rebuilt: pd.DataFrame, reference: pd.DataFrame) -> pd.Series:
    """Share of events (not substitutions, with a lineup-file row) whose rebuilt ten players equal the
    reference ten players, per season."""
    ref = reference[(reference["lineup_source"] == "file") & (reference["event_type"] != 8)]
    m = ref[["game_id", "seq", "season", *ON_COURT]].merge(
        rebuilt[["game_id", "seq", *ON_COURT]], on=["game_id", "seq"], suffixes=("", "_r")
    )
    a = np.sort(m[HOME_ON].to_numpy(np.float64), axis=1), np.sort(m[AWAY_ON].to_numpy(np.float64), axis=1)
    b = (
        np.sort(m[[c + "_r" for c in HOME_ON]].to_numpy(np.float64), axis=1),
        np.sort(m[[c + "_r" for c in AWAY_ON]].to_numpy(np.float64), axis=1),
    )
    ok = (a[0] == b[0]).all(axis=1) & (a[1] == b[1]).all(axis=1)
    return pd.Series(ok).groupby(m["season"].to_numpy()).mean()


def complete_lineups(plays: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    """Keep lineups from the file where a game has them on every event; rebuild every other game."""
    miss = plays[ON_COURT].isna().any(axis=1)
    bad_games = plays.loc[miss, "game_id"].unique()
    if len(bad_games) == 0:
        return plays
    part = plays[plays["game_id"].isin(bad_games)]
    log.info("rebuilding lineups of %d games without complete lineup rows", len(bad_games))
    rebuilt = reconstruct_lineups(part, games)
    # Without the empty part of a season with no lineups file: its on-court columns read as float
    # (all NULL), and concatenating it would turn the rebuilt int64 ids into floats.
    kept = plays[~plays["game_id"].isin(bad_games)]
    return pd.concat([p for p in (kept, rebuilt[plays.columns]) if len(p)], ignore_index=True)
