"""Play-by-play (PlayByPlayV2) -> rows of the ``plays`` table.

Why each step exists (each is a quirk of the real source files):
- exact duplicate rows exist in the source: dropped and counted;
- EVENTNUM order is not always time order: ``seq`` sorts by period, clock descending, EVENTNUM;
- SCORE is only on scoring rows and not always in time order: the running score is the cumulative
  sum of each event's points in ``seq`` order (so it is monotone and ends at the final score); rows
  whose own SCORE disagrees with it are counted in the report, not silently trusted;
- a free throw's make/miss is only in the description (``MISS``);
- the ten players on court come from the lineups file (``ACTION_NUMBER == EVENTNUM``) and are
  carried over events with no (or an incomplete, e.g. mid-substitution) lineup row.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from nba_pipeline.ingest.raw import RawDataError, parse_clock
from nba_pipeline.ingest.schema import ON_COURT, plays

log = logging.getLogger(__name__)

KNOWN_EVENT_TYPES = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 18})
PLAYS_COLUMNS = [c.name for c in plays.columns]
HOME_PERSON_TYPES = (2, 4, 6)
AWAY_PERSON_TYPES = (3, 5, 7)
FIRST_TEAM_ID = 1_610_000_000  # team ids are 1610612737..: a PLAYERn_ID at or above is a team
QUARTER_SECONDS, OVERTIME_SECONDS = 720.0, 300.0
REGULATION_SECONDS = 4 * QUARTER_SECONDS
PLAYER_SLOTS = (1, 2, 3)


@dataclass
class PlaysReport:
    """What a person wants to see about one season's plays (shown as asset metadata)."""

    rows: int = 0
    games: int = 0
    duplicates_dropped: int = 0
    unknown_event_codes: dict[int, int] = field(default_factory=dict)
    score_rows_disagreeing: int = 0
    ft_without_miss_or_score: int = 0  # counted as missed
    lineup_rows_file: int = 0
    lineup_rows_carried: int = 0
    lineup_rows_missing: int = 0
    has_lineups_file: bool = False

    @property
    def lineup_coverage(self) -> float:
        return (self.lineup_rows_file + self.lineup_rows_carried) / self.rows if self.rows else 0.0


def period_length(period: pd.Series | np.ndarray) -> np.ndarray:
    """Seconds in a period: 720 for quarters, 300 for overtimes."""
    p = np.asarray(period)
    return np.where(p <= 4, QUARTER_SECONDS, OVERTIME_SECONDS)


def period_start(period: pd.Series | np.ndarray) -> np.ndarray:
    """Game seconds at the start of a period: 720 per quarter, then 300 per overtime."""
    p = np.asarray(period, dtype=np.int64)
    return np.where(p <= 4, (p - 1) * QUARTER_SECONDS, REGULATION_SECONDS + (p - 5) * OVERTIME_SECONDS)


def game_seconds_elapsed(period: pd.Series | np.ndarray, clock_seconds: pd.Series | np.ndarray) -> np.ndarray:
    """Seconds since tip-off for (period, seconds left in period)."""
    return period_start(period) + period_length(period) - np.asarray(clock_seconds, dtype=np.float64)


def _ids(ids: np.ndarray) -> pd.Series:
    """Player/team ids with 0 meaning 'none' -> nullable Int64 with NA."""
    s = pd.Series(ids, dtype="Int64")
    return s.mask(s == 0)


Rows = pd.DataFrame | Mapping[str, Any]  # a frame, or columns as arrays / lists (the live game's)


def rows_of_records(records: Sequence[Mapping[str, Any]]) -> dict[str, list]:
    """Raw rows given as records (a poll's new rows) as :data:`Rows`: the keys of the first."""
    return {k: [r.get(k) for r in records] for k in records[0]}


def column(rows: Rows, name: str, dtype: Any = None) -> np.ndarray:
    """A column of a frame or of a dict of arrays as numpy, a missing value as 0 (False): the
    feature functions read the season's ``plays`` frame and a live game's arrays alike."""
    col = rows[name]
    if isinstance(col, pd.Series):
        return col.to_numpy() if dtype is None else col.to_numpy(dtype=dtype, na_value=0)
    return np.asarray(col) if dtype is None else np.asarray(col, dtype=dtype)


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))


def _numbers(col: Any) -> np.ndarray:
    """A nullable integer column as int64, 0 for a missing value (the pbp's 'none')."""
    if isinstance(col, pd.Series):
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = np.array([np.nan if _missing(v) else v for v in col], dtype=np.float64)
    return np.nan_to_num(values).astype(np.int64)


def _texts(col: Any) -> pa.Array:
    if isinstance(col, pd.Series):
        return pa.array(col.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    return pa.array([None if _missing(v) else str(v) for v in col], type=pa.large_string())


def event_columns(raw: Rows, source: str = "pbp") -> dict[str, np.ndarray]:
    """The ``plays`` columns each raw PlayByPlayV2 row gives on its own: clock and game seconds,
    the acting side (PERSON1TYPE, else the only description; jump balls neutral), points and
    made/missed (``3PT`` / ``MISS`` in the descriptions), player and team ids (0: none). Numpy
    and Arrow only, so a season is one pass and one new live row costs microseconds: the live
    path converts its rows with this function too.

    ``ft_ambiguous``: free throws without MISS and without SCORE, counted as missed (a few
    2015-17 rows read just "Free Throw 2 of 2" and carry no SCORE: they did not score, the
    running score proves it; SCORE is set on every scoring row)."""
    et = _numbers(raw["EVENTMSGTYPE"])
    period = _numbers(raw["PERIOD"])
    clocks = raw["PCTIMESTRING"]
    clocks = clocks if isinstance(clocks, pd.Series) else pd.Series(list(clocks), dtype=object)
    clock = parse_clock(clocks, source, "PCTIMESTRING").to_numpy(np.float64)
    game_seconds = game_seconds_elapsed(period, clock)
    home_d, away_d = _texts(raw["HOMEDESCRIPTION"]), _texts(raw["VISITORDESCRIPTION"])
    has_home = pc.is_valid(home_d).to_numpy(zero_copy_only=False)
    has_away = pc.is_valid(away_d).to_numpy(zero_copy_only=False)

    # Acting side: PERSON1TYPE says whose player/team/coach acted; descriptions break the rest.
    p1 = _numbers(raw["PERSON1TYPE"])
    side = np.where(np.isin(p1, HOME_PERSON_TYPES), 1, np.where(np.isin(p1, AWAY_PERSON_TYPES), 2, 0))
    only_home, only_away = has_home & ~has_away, has_away & ~has_home
    side = np.where(side == 0, np.where(only_home, 1, np.where(only_away, 2, 0)), side)
    side = np.where(et == 10, 0, side)  # jump ball: both teams

    text = pc.binary_join_element_wise(
        pc.fill_null(home_d, ""), pc.fill_null(away_d, ""), pa.scalar(" ", pa.large_string())
    )
    is_three = pc.match_substring(text, "3PT").to_numpy(zero_copy_only=False)
    ft_miss = pc.match_substring_regex(text, r"\bMISS\b").to_numpy(zero_copy_only=False)
    no_score = pc.is_null(_texts(raw["SCORE"])).to_numpy(zero_copy_only=False)
    ambiguous_ft = (et == 3) & ~ft_miss & no_score
    ft_miss = ft_miss | ambiguous_ft
    made = np.where(et == 1, True, np.where(et == 2, False, ~ft_miss)) & np.isin(et, (1, 2, 3))
    points = np.where(et == 1, np.where(is_three, 3, 2), np.where((et == 3) & ~ft_miss, 1, 0))
    event_num = _numbers(raw["EVENTNUM"])
    ids = raw["GAME_ID"]
    ids = ids.astype(str) if isinstance(ids, pd.Series) else [str(g) for g in ids]
    game_id = np.asarray(ids, dtype=object)
    bad = (points > 0) & (side == 0)
    if bad.any():
        first = [str(game_id[bad][0]), int(event_num[bad][0])]
        raise RawDataError(f"{source}: scoring event without a home/away side (PERSON1TYPE), e.g. {first}")
    cols = {
        "game_id": game_id,
        "event_num": event_num,
        "period": period,
        "event_type": et,
        "action_type": _numbers(raw["EVENTMSGACTIONTYPE"]),
        "clock_seconds": clock,
        "game_seconds": game_seconds,
        "seconds_left_regulation": np.where(
            period <= 4, np.maximum(REGULATION_SECONDS - game_seconds, 0.0), 0.0
        ),
        "side": side,
        "points": points,
        "is_made": made,  # False for events other than shots and free throws
        "person1_type": p1,
        "ft_ambiguous": ambiguous_ft,
    }
    for n in PLAYER_SLOTS:
        cols[f"player{n}_id"] = _numbers(raw[f"PLAYER{n}_ID"])
        cols[f"player{n}_team_id"] = _numbers(raw[f"PLAYER{n}_TEAM_ID"])
    return cols


def run_starts(keys: Sequence[np.ndarray]) -> np.ndarray:
    """bool [n]: rows where a run of equal ``keys`` (e.g. game, period) begins."""
    n = len(keys[0]) if keys else 0
    start = np.zeros(n, bool)
    start[:1] = True
    for k in keys:
        k = np.asarray(k)
        start[1:] |= k[1:] != k[:-1]
    return start


def cumulative_in_runs(keys: Sequence[np.ndarray], values: np.ndarray) -> np.ndarray:
    """Running sum of ``values`` within runs of equal ``keys`` (each group's rows contiguous and
    in order); numpy only, so one game's few hundred events cost microseconds."""
    start = run_starts(keys) if keys else np.zeros(len(values), bool)
    total = np.cumsum(values, dtype=np.int64)
    before = np.maximum.accumulate(np.where(start, total - values, 0)) if len(values) else total
    return total - before


def time_order(
    game_id: np.ndarray, period: np.ndarray, clock_seconds: np.ndarray, event_num: np.ndarray
) -> np.ndarray:
    """The row order of ``plays.seq`` (EVENTNUM order is not always time order): game, period,
    clock descending, EVENTNUM."""
    return np.lexsort((event_num, -np.asarray(clock_seconds), period, np.asarray(game_id).astype(str)))


def sequence_columns(game_id: np.ndarray, side: np.ndarray, points: np.ndarray) -> dict[str, np.ndarray]:
    """``seq`` and the running score of rows in time order: each event's points summed in order,
    so the score is monotone and ends at the final score (the rows' own SCORE is not always in
    time order)."""
    start = run_starts([game_id])
    rows = np.arange(len(start))
    return {
        "seq": rows - np.maximum.accumulate(np.where(start, rows, 0)) if len(rows) else rows,
        "home_score": cumulative_in_runs([game_id], np.where(side == 1, points, 0)),
        "away_score": cumulative_in_runs([game_id], np.where(side == 2, points, 0)),
    }


def _split_on_court(s: pd.Series, prefix: str) -> pd.DataFrame:
    """``"a|b|c|d|e"`` strings (exactly five ids each) -> five Int64 columns, via Arrow (fast)."""
    arr = pa.array(s.to_numpy(dtype=object), type=pa.large_string())
    flat = pc.list_flatten(pc.split_pattern(arr, "|"))
    if len(flat) != 5 * len(s):
        raise RawDataError(f"lineups: {prefix.upper()}_ON does not hold exactly 5 ids on every 5-player row")
    ids = pc.cast(flat, pa.int64()).to_numpy().reshape(-1, 5)
    return pd.DataFrame(ids, columns=[f"{prefix}_on_{i}" for i in range(1, 6)]).astype("Int64")


def attach_lineups(df: pd.DataFrame, lineups: pd.DataFrame | None) -> pd.DataFrame:
    """Add the ten on-court columns and ``lineup_source`` to time-ordered plays.

    A lineup row is used only when it has exactly 5 home and 5 away ids (a V3 ``SUB out`` row has
    9); other events take the previous event's lineup within the same period, and events before
    the first known lineup of a period (period start, opening jump ball) take the next one. Both
    are marked ``carried``. Without a lineups file every on-court column is NULL. Each event
    carries the number of its lineup row, not ten columns: a season's frame is never copied.
    """
    if lineups is None:
        for c in ON_COURT:
            df[c] = pd.array([pd.NA] * len(df), dtype="Int64")
        df["lineup_source"] = pd.array([None] * len(df), dtype="object")
        return df
    lu = lineups[(lineups["N_HOME_ON"] == 5) & (lineups["N_AWAY_ON"] == 5)]
    lu = lu.drop_duplicates(["GAME_ID", "ACTION_NUMBER"])
    on = pd.concat(
        [
            lu[["GAME_ID", "ACTION_NUMBER"]].reset_index(drop=True),
            _split_on_court(lu["HOME_ON"].reset_index(drop=True), "home"),
            _split_on_court(lu["AWAY_ON"].reset_index(drop=True), "away"),
        ],
        axis=1,
    ).rename(columns={"GAME_ID": "game_id", "ACTION_NUMBER": "event_num"})
    on["event_num"] = on["event_num"].astype("int64")
    on = on.dropna(subset=ON_COURT).reset_index(drop=True)
    on["lineup_row"] = np.arange(len(on))
    key = ["game_id", "event_num"]
    keys = df[key].merge(on[[*key, "lineup_row"]], on=key, how="left", validate="one_to_one")
    own = keys["lineup_row"].to_numpy(dtype=np.int64, na_value=-1)
    row = carry_within_runs(own, run_starts([df["game_id"].to_numpy(), df["period"].to_numpy()]))
    known = row >= 0
    ids = np.zeros((len(df), len(ON_COURT)), np.int64)
    if known.any():
        ids = on[ON_COURT].to_numpy(dtype=np.int64)[np.where(known, row, 0)]
    for i, c in enumerate(ON_COURT):
        df[c] = pd.arrays.IntegerArray(ids[:, i], ~known)
    source = np.where(own >= 0, "file", np.where(known, "carried", None))
    df["lineup_source"] = pd.Series(source, index=df.index, dtype=object)
    return df


def carry_within_runs(values: np.ndarray, start: np.ndarray) -> np.ndarray:
    """``values`` (-1: none) carried forward within runs (``start`` marks where each begins), and
    back to the rows before a run's first value; -1 where a run has none."""
    n = len(values)
    if not n:
        return values
    idx = np.arange(n)
    has = values >= 0
    run = np.cumsum(start) - 1
    first = np.flatnonzero(start)
    last = np.r_[first[1:] - 1, n - 1]
    before = np.maximum.accumulate(np.where(has, idx, -1))  # latest row with a value, at or before
    after = np.minimum.accumulate(np.where(has, idx, n)[::-1])[::-1]  # the next one, at or after
    forward = np.where(before >= first[run], values[before.clip(0)], -1)
    backward = np.where(after <= last[run], values[after.clip(max=n - 1)], -1)
    return np.where(forward >= 0, forward, backward)


def build_plays(
    pbp: pd.DataFrame,
    lineups: pd.DataFrame | None,
    season: str,
    source: str = "pbp",
) -> tuple[pd.DataFrame, PlaysReport]:
    """Turn one season's raw play-by-play (+ optional lineups) into ``plays`` rows."""
    rep = PlaysReport(has_lineups_file=lineups is not None)
    # The event columns are built apart, so their intermediates are freed before the lineups join.
    out = _event_rows(pbp, season, source, rep)
    out = attach_lineups(out, lineups)
    src = out["lineup_source"]
    rep.lineup_rows_file = int((src == "file").sum())
    rep.lineup_rows_carried = int((src == "carried").sum())
    rep.lineup_rows_missing = int(src.isna().sum())
    rep.rows = len(out)
    rep.games = int(out["game_id"].nunique())
    return out[PLAYS_COLUMNS], rep


def _event_rows(pbp: pd.DataFrame, season: str, source: str, rep: PlaysReport) -> pd.DataFrame:
    """The ``plays`` columns but the lineups', in time order; counts what it drops in ``rep``."""
    n0 = len(pbp)
    df = pbp.drop_duplicates()
    rep.duplicates_dropped = n0 - len(df)
    dup_keys = df.duplicated(["GAME_ID", "EVENTNUM"])
    if dup_keys.any():
        first = df.loc[dup_keys, ["GAME_ID", "EVENTNUM"]].iloc[0].tolist()
        raise RawDataError(
            f"{source}: {int(dup_keys.sum())} rows share (GAME_ID, EVENTNUM) with different content, "
            f"e.g. {first}"
        )
    df = df.reset_index(drop=True)

    cols = event_columns(df, source)
    rep.ft_without_miss_or_score = int(cols.pop("ft_ambiguous").sum())
    order = time_order(cols["game_id"], cols["period"], cols["clock_seconds"], cols["event_num"])
    cols = {k: v[order] for k, v in cols.items()}
    cols.update(sequence_columns(cols["game_id"], cols["side"], cols["points"]))
    out = pd.DataFrame(cols)
    out["season"] = season
    desc = pd.concat([df["HOMEDESCRIPTION"], df["NEUTRALDESCRIPTION"], df["VISITORDESCRIPTION"]], axis=1)
    out["description"] = _join_desc(desc).iloc[order].reset_index(drop=True)
    shot = out["event_type"].isin((1, 2, 3)).to_numpy()
    out["is_made"] = pd.array(np.where(shot, cols["is_made"], False), dtype="boolean")
    out.loc[~shot, "is_made"] = pd.NA
    person1 = pd.array(cols["person1_type"], dtype="Int64")
    person1[~df["PERSON1TYPE"].notna().to_numpy()[order]] = pd.NA
    out["person1_type"] = person1
    for n in PLAYER_SLOTS:
        out[f"player{n}_id"] = _ids(cols[f"player{n}_id"])
        out[f"player{n}_team_id"] = _ids(cols[f"player{n}_team_id"])
    sc = df["SCORE"].iloc[order].reset_index(drop=True).str.extract(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
    has = sc[0].notna()
    rep.score_rows_disagreeing = int(
        (
            has & ((pd.to_numeric(sc[0]) != out["away_score"]) | (pd.to_numeric(sc[1]) != out["home_score"]))
        ).sum()
    )

    unknown = out.loc[~out["event_type"].isin(KNOWN_EVENT_TYPES), "event_type"]
    rep.unknown_event_codes = {int(k): int(v) for k, v in unknown.value_counts().sort_index().items()}
    if rep.unknown_event_codes:
        log.warning("%s: unknown EVENTMSGTYPE codes stored as-is: %s", source, rep.unknown_event_codes)
    return out


def _join_desc(desc: pd.DataFrame) -> pd.Series:
    """Non-null home / neutral / visitor descriptions joined with `` | `` (NULL when all empty)."""
    a, b, c = (desc.iloc[:, i] for i in range(3))
    res = a.copy()
    for part in (b, c):
        both = res.notna() & part.notna()
        res = res.where(~both, res + " | " + part)
        res = res.where(res.notna(), part)
    return res
