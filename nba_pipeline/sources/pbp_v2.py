"""The raw contract's PlayByPlayV2 rows as the source writes them: columns, dtypes, and the
home / visitor swap of neutral-site games.

Why its own module: the V3 conversion (:mod:`nba_pipeline.sources.pbp_v3`) produces these rows and
the season pull (:mod:`nba_pipeline.sources.season`) fixes their home side; both must agree with
the shipped ``pbp_<season>.parquet`` files column for column.
"""

from __future__ import annotations

import pandas as pd

from nba_pipeline.ingest.plays import AWAY_PERSON_TYPES, HOME_PERSON_TYPES

# The raw contract's pbp columns and dtypes, exactly as in the shipped pbp_<season>.parquet files.
V2_DTYPES: dict[str, str] = {
    "GAME_ID": "str",
    "EVENTNUM": "int32",
    "EVENTMSGTYPE": "int16",
    "EVENTMSGACTIONTYPE": "int16",
    "PERIOD": "int16",
    "WCTIMESTRING": "str",
    "PCTIMESTRING": "str",
    "HOMEDESCRIPTION": "str",
    "NEUTRALDESCRIPTION": "str",
    "VISITORDESCRIPTION": "str",
    "SCORE": "str",
    "SCOREMARGIN": "str",
    **{
        k: v
        for n in (1, 2, 3)
        for k, v in {
            f"PERSON{n}TYPE": "Int16",
            f"PLAYER{n}_ID": "Int64",
            f"PLAYER{n}_NAME": "str",
            f"PLAYER{n}_TEAM_ID": "Int64",
            f"PLAYER{n}_TEAM_CITY": "str",
            f"PLAYER{n}_TEAM_NICKNAME": "str",
            f"PLAYER{n}_TEAM_ABBREVIATION": "str",
        }.items()
    },
    "VIDEO_AVAILABLE_FLAG": "Int16",
}
V2_COLUMNS: list[str] = list(V2_DTYPES)

# SCORE reads "AWAY - HOME"
SCORE_RE = r"^\s*(\d+)\s*-\s*(\d+)\s*$"

# a home person type <-> the visitor's (player, team, coach)
_OTHER_SIDE = dict(
    zip(HOME_PERSON_TYPES + AWAY_PERSON_TYPES, AWAY_PERSON_TYPES + HOME_PERSON_TYPES, strict=True)
)


def empty_v2() -> pd.DataFrame:
    """A frame with the V2 columns and dtypes and no rows."""
    return to_v2_dtypes(pd.DataFrame({c: [] for c in V2_COLUMNS}))


def to_v2_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    """Columns in the contract's order and dtypes (str columns keep missing values as NA)."""
    out = pd.DataFrame(index=df.index)
    for c, t in V2_DTYPES.items():
        s = df[c]
        if t == "str":
            out[c] = s.astype(object).where(s.notna(), None).astype("str")
        elif t in ("Int16", "Int64"):
            out[c] = pd.array(pd.to_numeric(s, errors="coerce"), dtype=t)
        else:
            out[c] = s.astype(t)
    return out


def swap_home_away(pbp: pd.DataFrame, game_ids: list[str] | set[str]) -> pd.DataFrame:
    """Exchange the home and visitor sides of the given games' V2 rows (descriptions, person types,
    SCORE, SCOREMARGIN): for neutral-site games whose play-by-play home side is the schedule's
    away side, so the pbp agrees with the games table."""
    m = pbp["GAME_ID"].isin(list(game_ids))
    if not m.any():
        return pbp
    out = pbp.copy()
    out.loc[m, ["HOMEDESCRIPTION", "VISITORDESCRIPTION"]] = pbp.loc[
        m, ["VISITORDESCRIPTION", "HOMEDESCRIPTION"]
    ].to_numpy()
    for n in (1, 2, 3):
        c = f"PERSON{n}TYPE"
        v = pbp.loc[m, c]
        out.loc[m, c] = v.map(_OTHER_SIDE).fillna(v).astype("Int16")
    sc = pbp.loc[m, "SCORE"].str.extract(SCORE_RE)
    out.loc[m, "SCORE"] = (sc[1] + " - " + sc[0]).where(sc[0].notna(), pbp.loc[m, "SCORE"])
    mg = pbp.loc[m, "SCOREMARGIN"]
    num = pd.to_numeric(mg, errors="coerce")
    out.loc[m, "SCOREMARGIN"] = (-num).astype("Int64").astype(str).where(num.notna(), mg)
    return to_v2_dtypes(out)
