"""V3 ``actionType`` / ``subType`` -> the V2 codes EVENTMSGTYPE / EVENTMSGACTIONTYPE.

Why tables: the V2 codes are what the whole pipeline reads (the tokenizer, the box-score counts),
and V3 names the same events in words; an unmapped sub-type becomes code 0 and is counted, never
fatal. V3 also gives a steal or a block a row of its own (``actionType`` empty): those rows get no
code here, they are attached to their turnover / missed shot as players 2 and 3
(:mod:`nba_pipeline.sources.pbp_v3_players`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from nba_pipeline.sources.pbp_v3_text import on_uniques

EVENT_TYPES: dict[str, int] = {
    "made shot": 1,
    "missed shot": 2,
    "free throw": 3,
    "rebound": 4,
    "turnover": 5,
    "foul": 6,
    "violation": 7,
    "substitution": 8,
    "timeout": 9,
    "jump ball": 10,
    "ejection": 11,
    "instant replay": 18,
}

# V2 EVENTMSGACTIONTYPE per (EVENTMSGTYPE, normalized V3 subType). Codes checked against the V2
# rows of the recorded game where it has them, the rest from the V2 files' descriptions.
_SHOTS = {
    "jump shot": 1,
    "running jump shot": 2,
    "hook shot": 3,
    "layup shot": 5,
    "driving layup shot": 6,
    "dunk shot": 7,
    "driving dunk shot": 9,
    "running layup shot": 41,
    "alley oop layup shot": 43,
    "reverse layup shot": 44,
    "turnaround jump shot": 47,
    "running dunk shot": 50,
    "reverse dunk shot": 51,
    "alley oop dunk shot": 52,
    "driving hook shot": 57,
    "turnaround hook shot": 58,
    "fadeaway jump shot": 63,
    "jump bank shot": 66,
    "hook bank shot": 67,
    "finger roll layup shot": 71,
    "putback layup shot": 72,
    "driving reverse layup shot": 73,
    "running reverse layup shot": 74,
    "driving finger roll layup shot": 75,
    "running finger roll layup shot": 76,
    "floating jump shot": 78,
    "pullup jump shot": 79,
    "step back jump shot": 80,
    "fadeaway bank shot": 83,
    "turnaround bank shot": 85,
    "turnaround fadeaway shot": 86,
    "putback dunk shot": 87,
    "driving bank hook shot": 93,
    "turnaround bank hook shot": 96,
    "tip layup shot": 97,
    "cutting layup shot": 98,
    "cutting finger roll layup shot": 99,
    "running alley oop layup shot": 100,
    "driving floating jump shot": 101,
    "driving floating bank jump shot": 102,
    "running pullup jump shot": 103,
    "step back bank jump shot": 104,
    "turnaround fadeaway bank jump shot": 105,
    "running alley oop dunk shot": 106,
    "tip dunk shot": 107,
    "cutting dunk shot": 108,
    "driving reverse dunk shot": 109,
    "running reverse dunk shot": 110,
}
ACTION_TYPES: dict[int, dict[str, int]] = {
    1: _SHOTS,
    2: _SHOTS,
    3: {
        "free throw 1 of 1": 10,
        "free throw 1 of 2": 11,
        "free throw 2 of 2": 12,
        "free throw 1 of 3": 13,
        "free throw 2 of 3": 14,
        "free throw 3 of 3": 15,
        "free throw technical": 16,
        "free throw flagrant 1 of 2": 18,
        "free throw flagrant 2 of 2": 19,
        "free throw flagrant 1 of 1": 20,
        "free throw technical 1 of 2": 21,
        "free throw technical 2 of 2": 22,
        "free throw clear path 1 of 2": 25,
        "free throw clear path 2 of 2": 26,
        "free throw flagrant 1 of 3": 27,
        "free throw flagrant 2 of 3": 28,
        "free throw flagrant 3 of 3": 29,
    },
    4: {"normal rebound": 1, "unknown": 0},
    5: {
        "bad pass": 1,
        "lost ball": 2,
        "traveling": 4,
        "double dribble": 6,
        "discontinue dribble": 7,
        "discontinued dribble": 7,
        "3 second violation": 8,
        "5 second violation": 9,
        "8 second violation": 10,
        "shot clock": 11,
        "inbound": 12,
        "backcourt": 13,
        "offensive goaltending": 15,
        "lane violation": 17,
        "jump ball violation": 18,
        "kicked ball violation": 19,
        "illegal assist": 20,
        "palming": 21,
        "punched ball": 33,
        "swinging elbows": 34,
        "basket from below": 35,
        "illegal screen": 36,
        "offensive foul": 37,
        "step out of bounds": 39,
        "out of bounds lost ball": 40,
        "excess timeout": 42,
        "out of bounds bad pass": 45,
    },
    6: {
        "personal": 1,
        "shooting": 2,
        "loose ball": 3,
        "offensive": 4,
        "inbound": 5,
        "away from play": 6,
        "punch": 8,
        "clear path": 9,
        "double personal": 10,
        "technical": 11,
        "non unsportsmanlike": 12,
        "hanging": 13,
        "flagrant type 1": 14,
        "flagrant type 2": 15,
        "double technical": 16,
        "defense 3 second": 17,
        "delay technical": 18,
        "taunting": 19,
        "excess timeout technical": 25,
        "offensive charge": 26,
        "personal block": 27,
        "personal take": 28,
        "shooting block": 29,
        "too many players technical": 30,
        "transition take": 31,
    },
    7: {
        "delay of game": 1,
        "defensive goaltending": 2,
        "lane": 3,
        "jump ball": 4,
        "kicked ball": 5,
        "double lane": 6,
    },
    9: {"regular": 1, "coach challenge": 7},
    18: {"support ruling": 0, "coach challenge ruling stands": 6, "replay center": 7},
}
TECHNICAL_FOUL = 11  # the code of a technical-like foul sub-type the table lacks
PERIOD_START, PERIOD_END = 12, 13  # V3 has one "period" action type, sub-type start / end
FOUL = 6


class ActionKinds(NamedTuple):
    """What each action is: its EVENTMSGTYPE (NaN where V3 has no V2 event of its own), whether it
    is V3's own steal / block row, and the unknown action types with their counts."""

    event_type: pd.Series
    is_steal: pd.Series
    is_block: pd.Series
    unknown: dict[str, int]


def action_kinds(action_type: pd.Series, sub_type: pd.Series, description: pd.Series) -> ActionKinds:
    """Classify actions. The recorded feed gives steals / blocks an empty ``actionType`` and a
    ``X STEAL (n STL)`` / ``X BLOCK (n BLK)`` description; ``steal`` / ``block`` are accepted too."""
    at = action_type.str.strip().str.lower()
    et = at.map(EVENT_TYPES)
    sub = sub_type.str.strip().str.lower()
    et = et.where(~(at == "period"), np.where(sub == "end", PERIOD_END, PERIOD_START))
    no_kind = et.isna()
    text = description.where(no_kind, "")
    is_steal = no_kind & ((at == "steal") | text.str.contains(r"\bSTEAL\b", regex=True))
    is_block = no_kind & ((at == "block") | text.str.contains(r"\bBLOCK\b", regex=True))
    unknown = no_kind & ~is_steal & ~is_block
    counts = {str(k): int(v) for k, v in at[unknown].value_counts().items()} if unknown.any() else {}
    return ActionKinds(et, is_steal, is_block, counts)


def _norm_subtype(s: pd.Series) -> pd.Series:
    """Sub-types as the tables spell them: lower case, no hyphens, no trailing `` turnover``."""

    def f(x: str) -> str:
        x = " ".join(x.lower().replace("-", " ").split())
        return x[: -len(" turnover")] if x.endswith(" turnover") else x

    return on_uniques(s, f)


def action_codes(event_type: pd.Series, sub_type: pd.Series) -> tuple[pd.Series, dict[str, int]]:
    """EVENTMSGACTIONTYPE of each row (0 where unmapped) and the unmapped ``"type:sub-type"``
    counts. A technical-like foul sub-type the table lacks still gets the technical code, so it is
    never counted as a personal foul."""
    nst = _norm_subtype(sub_type)
    code = pd.Series(0, index=event_type.index, dtype="int64")
    unmapped: dict[str, int] = {}
    for t, table in ACTION_TYPES.items():
        m = event_type == t
        if not m.any():
            continue
        c = nst[m].map(table)
        if t == FOUL:
            tech = c.isna() & nst[m].str.contains(r"tech", regex=True)
            c = c.where(~tech, TECHNICAL_FOUL)
        miss = c.isna() & (nst[m] != "")
        for k, v in nst[m][miss].value_counts().items():
            unmapped[f"{t}:{k}"] = int(v)
        code[m] = c.fillna(0).astype("int64")
    return code, unmapped
