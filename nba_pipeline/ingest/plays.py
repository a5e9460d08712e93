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
from dataclasses import dataclass, field

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
REGULATION_SECONDS = 4 * 720


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
    return np.where(p <= 4, 720.0, 300.0)


def game_seconds_elapsed(period: pd.Series | np.ndarray, clock_seconds: pd.Series | np.ndarray) -> np.ndarray:
    """Seconds since tip-off for (period, seconds left in period)."""
    p = np.asarray(period, dtype=np.int64)
    start = np.where(p <= 4, (p - 1) * 720.0, REGULATION_SECONDS + (p - 5) * 300.0)
    return start + period_length(p) - np.asarray(clock_seconds, dtype=np.float64)


def _ids(s: pd.Series) -> pd.Series:
    """Player/team ids with 0 meaning 'none' -> nullable Int64 with NA."""
    s = s.astype("Int64")
    return s.mask(s == 0)


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
    are marked ``carried``. Without a lineups file every on-court column is NULL.
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
    on = on.dropna(subset=ON_COURT)
    merged = df.merge(on, on=["game_id", "event_num"], how="left", validate="one_to_one")
    from_file = merged["home_on_1"].notna()
    grp = merged.groupby(["game_id", "period"], sort=False)[ON_COURT]
    filled = grp.ffill()
    merged[ON_COURT] = filled
    still = merged["home_on_1"].isna()
    if still.any():
        merged[ON_COURT] = merged.groupby(["game_id", "period"], sort=False)[ON_COURT].bfill()
    known = merged["home_on_1"].notna()
    merged["lineup_source"] = np.where(from_file, "file", np.where(known, "carried", None))
    merged["lineup_source"] = merged["lineup_source"].astype("object").where(known, None)
    return merged


def build_plays(
    pbp: pd.DataFrame,
    lineups: pd.DataFrame | None,
    season: str,
    source: str = "pbp",
) -> tuple[pd.DataFrame, PlaysReport]:
    """Turn one season's raw play-by-play (+ optional lineups) into ``plays`` rows."""
    rep = PlaysReport(has_lineups_file=lineups is not None)
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

    out = pd.DataFrame(
        {
            "game_id": df["GAME_ID"].astype(str),
            "event_num": df["EVENTNUM"].astype("int64"),
            "season": season,
            "period": df["PERIOD"].astype("int64"),
            "event_type": df["EVENTMSGTYPE"].astype("int64"),
            "action_type": df["EVENTMSGACTIONTYPE"].astype("int64"),
        }
    )
    out["clock_seconds"] = parse_clock(df["PCTIMESTRING"], source, "PCTIMESTRING")
    out["game_seconds"] = game_seconds_elapsed(out["period"], out["clock_seconds"])
    out["seconds_left_regulation"] = np.where(
        out["period"] <= 4, np.maximum(REGULATION_SECONDS - out["game_seconds"], 0.0), 0.0
    )

    home_d = df["HOMEDESCRIPTION"]
    away_d = df["VISITORDESCRIPTION"]
    desc = pd.concat([home_d, df["NEUTRALDESCRIPTION"], away_d], axis=1)
    out["description"] = _join_desc(desc)

    # Acting side: PERSON1TYPE says whose player/team/coach acted; descriptions break the rest.
    p1 = df["PERSON1TYPE"].astype("Int64").fillna(0).to_numpy()
    side = np.where(np.isin(p1, HOME_PERSON_TYPES), 1, np.where(np.isin(p1, AWAY_PERSON_TYPES), 2, 0))
    only_home = home_d.notna().to_numpy() & away_d.isna().to_numpy()
    only_away = away_d.notna().to_numpy() & home_d.isna().to_numpy()
    side = np.where(side == 0, np.where(only_home, 1, np.where(only_away, 2, 0)), side)
    side = np.where(out["event_type"].to_numpy() == 10, 0, side)  # jump ball: both teams
    out["side"] = side

    et = out["event_type"].to_numpy()
    text = home_d.fillna("") + " " + away_d.fillna("")
    is_three = text.str.contains("3PT", regex=False).to_numpy()
    ft_miss = text.str.contains(r"\bMISS\b", regex=True).to_numpy()
    # A few 2015-17 free throws read just "Free Throw 2 of 2" (no MISS, no "(N PTS)") and carry no
    # SCORE: they did not score (the running score proves it). SCORE is set on every scoring row.
    no_score = df["SCORE"].isna().to_numpy()
    ambiguous_ft = (et == 3) & ~ft_miss & no_score
    rep.ft_without_miss_or_score = int(ambiguous_ft.sum())
    ft_miss = ft_miss | ambiguous_ft
    made = np.where(et == 1, True, np.where(et == 2, False, ~ft_miss))
    out["is_made"] = pd.array(np.where(np.isin(et, (1, 2, 3)), made, False), dtype="boolean")
    out.loc[~np.isin(et, (1, 2, 3)), "is_made"] = pd.NA
    points = np.where(et == 1, np.where(is_three, 3, 2), np.where((et == 3) & ~ft_miss, 1, 0))
    if (points > 0).any() and (side[points > 0] == 0).any():
        bad = out.loc[(points > 0) & (side == 0), ["game_id", "event_num"]].iloc[0].tolist()
        raise RawDataError(f"{source}: scoring event without a home/away side (PERSON1TYPE), e.g. {bad}")
    out["points"] = points

    out["person1_type"] = df["PERSON1TYPE"].astype("Int64")
    for n in (1, 2, 3):
        out[f"player{n}_id"] = _ids(df[f"PLAYER{n}_ID"])
        out[f"player{n}_team_id"] = _ids(df[f"PLAYER{n}_TEAM_ID"])

    # Time order, then running scores.
    out["_score"] = df["SCORE"]
    out = out.sort_values(
        ["game_id", "period", "clock_seconds", "event_num"], ascending=[True, True, False, True]
    ).reset_index(drop=True)
    out["seq"] = out.groupby("game_id", sort=False).cumcount()
    pts = out["points"].to_numpy()
    sd = out["side"].to_numpy()
    out["_hp"] = np.where(sd == 1, pts, 0)
    out["_ap"] = np.where(sd == 2, pts, 0)
    g = out.groupby("game_id", sort=False)
    out["home_score"] = g["_hp"].cumsum()
    out["away_score"] = g["_ap"].cumsum()
    sc = out["_score"].str.extract(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
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

    out = attach_lineups(out, lineups)
    src = out["lineup_source"]
    rep.lineup_rows_file = int((src == "file").sum())
    rep.lineup_rows_carried = int((src == "carried").sum())
    rep.lineup_rows_missing = int(src.isna().sum())
    rep.rows = len(out)
    rep.games = int(out["game_id"].nunique())
    return out[PLAYS_COLUMNS], rep


def _join_desc(desc: pd.DataFrame) -> pd.Series:
    """Non-null home / neutral / visitor descriptions joined with `` | `` (NULL when all empty)."""
    a, b, c = (desc.iloc[:, i] for i in range(3))
    res = a.copy()
    for part in (b, c):
        both = res.notna() & part.notna()
        res = res.where(~both, res + " | " + part)
        res = res.where(res.notna(), part)
    return res
