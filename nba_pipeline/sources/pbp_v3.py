"""stats.nba.com PlayByPlayV3 responses -> rows in the raw contract's PlayByPlayV2 columns.

Why a conversion: every shipped season is PlayByPlayV2 and the whole pipeline reads those
columns; stats.nba.com no longer serves V2, so newer games are converted into it and nothing
downstream changes.

What V3 gives and how each V2 column is rebuilt (all vectorized over every game at once):

- one person per row: a steal or a block is its own row (``actionType`` empty, description
  ``X STEAL (n STL)`` / ``X BLOCK (n BLK)``) sharing the ``actionNumber`` of its turnover / missed
  shot; it becomes PLAYER2 (steal) / PLAYER3 (block) of that row, as in V2, and its description
  the other side's description;
- the assister is only in the made shot's description ``(Love 1 AST)``, the player coming in on
  a substitution only in ``SUB: Osman FOR Stevens`` (``personId`` is the player going out), the
  jump-ball opponent and recoverer only in ``Jump Ball A vs. B: Tip to C``: names are mapped to
  ids from the game's own rows (family name or ``F. Name``, accents folded, per team; a name two
  players of a team share is ambiguous and left unresolved, never guessed);
- ``clock`` ``PT11M43.00S`` -> ``11:43``; ``scoreHome``/``scoreAway`` -> ``SCORE`` ``"AWAY - HOME"``
  on scoring rows only (V2 convention); ``location`` h/v -> HOME/VISITOR description and person
  types 4/5 (2/3 for team rows, whose ``personId`` is the team id);
- ``actionType``/``subType`` -> EVENTMSGTYPE / EVENTMSGACTIONTYPE through the tables below (the
  V2 codes; an unmapped sub-type becomes 0 and is counted, never fatal).

What V3 does not carry (left empty, and listed by the tests): the fouled player (V2 PLAYER2 of a
foul), full player names and team city / nickname (V3 has ``J. Allen`` and the tricode), the
wall clock (WCTIMESTRING), the coach person types 6/7 (a coach's technical reads as a player's).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

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

V3_ACTION_KEYS = (
    "actionNumber",
    "clock",
    "period",
    "teamId",
    "teamTricode",
    "personId",
    "playerName",
    "playerNameI",
    "scoreHome",
    "scoreAway",
    "location",
    "description",
    "actionType",
    "subType",
)

# kept when present: the shot location and result (shots file), the video flag
V3_OPTIONAL_KEYS = ("videoAvailable", "isFieldGoal", "shotResult", "shotValue", "xLegacy", "yLegacy")

FIRST_TEAM_ID = 1_610_000_000  # team ids are 1610612737..; a personId at or above is a team

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
TECHNICAL_FOUL = 11  # a technical-like sub-type not in the table still must not count as a personal foul

# named groups g0, g1, ... (Arrow's extract_regex needs names)
_CLOCK_RE = r"^PT(?P<g0>\d+)M(?P<g1>\d+)(?:\.\d+)?S$"
_AST_RE = r"\((?P<g0>[^()]+?) \d+ AST\)"
_SUB_RE = r"^SUB:\s*(?P<g0>.+?)\s+FOR\s+(?P<g1>.+?)\s*$"
_JUMP_RE = r"^Jump Ball (?P<g0>.+?) vs\. (?P<g1>.+?): Tip to (?P<g2>.+?)\s*$"


class V3FormatError(ValueError):
    """A PlayByPlayV3 response without the structure the conversion needs (names what is missing)."""


@dataclass
class ConversionReport:
    """What the conversion had to handle, per batch of games: counted, never fatal."""

    games: int = 0
    actions: int = 0
    rows: int = 0
    duplicate_actions_dropped: int = 0
    steals_attached: int = 0
    blocks_attached: int = 0
    extra_rows_unattached: int = 0  # steal/block/unknown rows with no row to attach to (dropped)
    names_unresolved: int = 0  # assister / sub-in / jump-ball names not found among the game's ids
    unmapped_subtypes: dict[str, int] = field(default_factory=dict)
    unknown_action_types: dict[str, int] = field(default_factory=dict)
    event_numbers_reassigned: int = 0  # two main rows sharing an actionNumber

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def norm_name(s: pd.Series) -> pd.Series:
    """Accent-folded, lower-case, single-spaced names: ``Vučević`` and ``Vucevic`` agree."""

    def fold(x: str) -> str:
        return unicodedata.normalize("NFKD", x).encode("ascii", "ignore").decode("ascii")

    return _on_uniques(s, lambda x: " ".join(fold(x).lower().split()))


def _on_uniques(s: pd.Series, f) -> pd.Series:  # noqa: ANN001 - a str -> str function
    """``f`` applied to each distinct value once (a season has ~500k rows, a few hundred names)."""
    u = pd.unique(s.dropna().astype(str))
    return s.map({x: f(x) for x in u}).fillna("").astype(object)


def _norm_subtype(s: pd.Series) -> pd.Series:
    def f(x: str) -> str:
        x = " ".join(x.lower().replace("-", " ").split())
        return x[: -len(" turnover")] if x.endswith(" turnover") else x

    return _on_uniques(s, f)


def actions_frame(responses: list[dict]) -> pd.DataFrame:
    """The ``game.actions`` of many PlayByPlayV3 responses as one frame (``gameId``, ``order``
    added). Raises :class:`V3FormatError` naming the game and the missing key."""
    gids: list[str] = []
    lists: list[list] = []
    for i, resp in enumerate(responses):
        if not isinstance(resp, dict) or not isinstance(resp.get("game"), dict):
            what = list(resp)[:5] if isinstance(resp, dict) else type(resp).__name__
            raise V3FormatError(f"response #{i}: no 'game' object (got {what})")
        game = resp["game"]
        gid = str(game.get("gameId", "")).zfill(10)
        actions = game.get("actions")
        if not isinstance(actions, list):
            raise V3FormatError(f"game {gid}: 'game.actions' is missing or not a list")
        if actions:
            keys = set().union(*(a.keys() for a in actions[:1] + actions[-1:]))
            missing = [k for k in V3_ACTION_KEYS if k not in keys]
            if missing:
                raise V3FormatError(f"game {gid}: actions lack key(s) {missing}")
        gids.append(gid)
        lists.append(actions)
    cols = [*V3_ACTION_KEYS, *V3_OPTIONAL_KEYS]
    flat = [a for acts in lists for a in acts]
    df = pd.DataFrame({k: [a.get(k) for a in flat] for k in cols}, columns=cols)
    sizes = [len(x) for x in lists]
    df.insert(0, "order", np.concatenate([np.arange(n) for n in sizes]) if flat else np.zeros(0, np.int64))
    df.insert(0, "gameId", np.repeat(np.array(gids, dtype=object), sizes) if flat else [])
    return df


def _to_int(s: pd.Series, name: str, gids: pd.Series) -> pd.Series:
    v = pd.to_numeric(s.replace("", np.nan), errors="coerce")
    bad = v.isna() & s.notna() & (s.astype(str) != "")
    if bad.any():
        i = bad.idxmax()
        raise V3FormatError(f"game {gids[i]}: action key {name!r} has non-numeric value {s[i]!r}")
    return v.fillna(0).astype("int64")


def _name_table(a: pd.DataFrame, rosters: pd.DataFrame | None) -> pd.DataFrame:
    """(gameId, teamId, key) -> personId from the game's own rows (+ optional box-score rosters);
    keys that two players of a team share are dropped (ambiguous)."""
    own = a[(a["personId"] > 0) & (a["personId"] < FIRST_TEAM_ID) & (a["teamId"] > 0)]
    parts = [
        pd.DataFrame(
            {
                "gameId": own["gameId"],
                "teamId": own["teamId"],
                "key": norm_name(own[c]),
                "personId": own["personId"],
            }
        )
        for c in ("playerName", "playerNameI")
    ]
    if rosters is not None and len(rosters):
        for c in ("familyName", "nameI"):
            if c in rosters:
                parts.append(
                    pd.DataFrame(
                        {
                            "gameId": rosters["gameId"].astype(str),
                            "teamId": rosters["teamId"].astype("int64"),
                            "key": norm_name(rosters[c]),
                            "personId": rosters["personId"].astype("int64"),
                        }
                    )
                )
    t = pd.concat(parts, ignore_index=True)
    t = t[t["key"] != ""].drop_duplicates()
    n = t.groupby(["gameId", "teamId", "key"])["personId"].transform("size")
    return t[n == 1]


def _resolve(names: pd.Series, gid: pd.Series, team: pd.Series, table: pd.DataFrame) -> np.ndarray:
    """personId for each (game, team, name); 0 where not found. ``team`` 0 = either team of the game."""
    q = pd.DataFrame(
        {"gameId": gid.to_numpy(), "teamId": team.to_numpy(), "key": norm_name(names).to_numpy()}
    )
    q["_i"] = np.arange(len(q))
    exact = q[q["teamId"] > 0].merge(table, on=["gameId", "teamId", "key"], how="inner")
    anyteam = q[q["teamId"] == 0].drop(columns="teamId").merge(table, on=["gameId", "key"], how="inner")
    anyteam = anyteam[anyteam.groupby("_i")["personId"].transform("nunique") == 1]
    out = np.zeros(len(q), dtype=np.int64)
    hits = pd.concat([exact[["_i", "personId"]], anyteam[["_i", "personId"]]]).drop_duplicates("_i")
    out[hits["_i"].to_numpy()] = hits["personId"].to_numpy()
    return out


def convert_actions(
    a: pd.DataFrame, rosters: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, ConversionReport]:
    """V3 actions of any number of games (:func:`actions_frame`) -> V2 rows and a report.

    ``rosters`` (optional; columns ``gameId, teamId, personId, familyName, nameI``, e.g. from
    BoxScoreTraditionalV3) resolves names of players who never act themselves in the pbp.
    """
    rep = ConversionReport(games=int(a["gameId"].nunique()), actions=len(a))
    if not len(a):
        return empty_v2(), rep
    a = a.copy()
    gids = a["gameId"]
    for c in ("actionNumber", "period", "teamId", "personId"):
        a[c] = _to_int(a[c], c, gids)
    for c in (
        "clock",
        "teamTricode",
        "playerName",
        "playerNameI",
        "scoreHome",
        "scoreAway",
        "location",
        "description",
        "actionType",
        "subType",
    ):
        a[c] = a[c].fillna("").astype(str)
    if "videoAvailable" not in a:
        a["videoAvailable"] = 0
    a["videoAvailable"] = pd.to_numeric(a["videoAvailable"], errors="coerce").fillna(0).astype("int64")

    # exact duplicate actions (the source repeats rows): dropped, counted
    content = [c for c in a.columns if c != "order"]
    dup = a.duplicated(content)
    rep.duplicate_actions_dropped = int(dup.sum())
    a = a[~dup].reset_index(drop=True)

    at = a["actionType"].str.strip().str.lower()
    et = at.map(EVENT_TYPES)
    sub = a["subType"].str.strip().str.lower()
    et = et.where(~(at == "period"), np.where(sub == "end", 13, 12))
    desc = a["description"]
    no_kind = et.isna()  # the recorded feed gives steals / blocks an empty actionType; named also accepted
    is_steal = no_kind & ((at == "steal") | desc.where(no_kind, "").str.contains(r"\bSTEAL\b", regex=True))
    is_block = no_kind & ((at == "block") | desc.where(no_kind, "").str.contains(r"\bBLOCK\b", regex=True))
    unknown = et.isna() & ~is_steal & ~is_block
    if unknown.any():
        rep.unknown_action_types = {str(k): int(v) for k, v in at[unknown].value_counts().items()}
    main = a[et.notna()].copy()
    main["EVENTMSGTYPE"] = et[et.notna()].astype("int64")
    rep.extra_rows_unattached += int(unknown.sum())

    # home / visitor team of each game, from the rows' location
    loc_team = a.loc[(a["teamId"] > 0) & a["location"].isin(["h", "v"]), ["gameId", "location", "teamId"]]
    sides = loc_team.groupby(["gameId", "location"])["teamId"].agg(lambda s: s.mode().iloc[0]).unstack()
    home_of = (
        main["gameId"].map(sides["h"] if "h" in sides else pd.Series(dtype="int64")).fillna(0).astype("int64")
    )
    away_of = (
        main["gameId"].map(sides["v"] if "v" in sides else pd.Series(dtype="int64")).fillna(0).astype("int64")
    )

    # EVENTNUM: actionNumber, made unique within a game when two main rows share one
    dupnum = main.duplicated(["gameId", "actionNumber"])
    if dupnum.any():
        rep.event_numbers_reassigned = int(dupnum.sum())
        top = main.groupby("gameId")["actionNumber"].transform("max")
        k = dupnum.astype("int64").groupby(main["gameId"]).cumsum()
        main.loc[dupnum, "actionNumber"] = (top + k)[dupnum]

    # action sub-types -> V2 codes
    nst = _norm_subtype(main["subType"])
    code = pd.Series(0, index=main.index, dtype="int64")
    unmapped: dict[str, int] = {}
    for t, table in ACTION_TYPES.items():
        m = main["EVENTMSGTYPE"] == t
        if not m.any():
            continue
        c = nst[m].map(table)
        if t == 6:
            tech = c.isna() & nst[m].str.contains(r"tech", regex=True)
            c = c.where(~tech, TECHNICAL_FOUL)
        miss = c.isna() & (nst[m] != "")
        for k, v in nst[m][miss].value_counts().items():
            unmapped[f"{t}:{k}"] = int(v)
        code[m] = c.fillna(0).astype("int64")
    rep.unmapped_subtypes = unmapped

    pid = main["personId"]
    team = main["teamId"]
    loc = main["location"]
    is_team_row = (pid >= FIRST_TEAM_ID) & (team == 0)
    p1type = np.where(
        pid == 0,
        0,
        np.where(
            is_team_row,
            np.where(loc == "h", 2, np.where(loc == "v", 3, 0)),
            np.where(loc == "h", 4, np.where(loc == "v", 5, 0)),
        ),
    )
    # a player row without a team (an official on an instant replay row): person type 0, as V2
    p1type = np.where((team == 0) & ~is_team_row, 0, p1type)

    out = pd.DataFrame(index=main.index)
    out["GAME_ID"] = main["gameId"]
    out["EVENTNUM"] = main["actionNumber"]
    out["EVENTMSGTYPE"] = main["EVENTMSGTYPE"]
    out["EVENTMSGACTIONTYPE"] = code
    out["PERIOD"] = main["period"]
    out["WCTIMESTRING"] = None
    clk = _extract(main["clock"], _CLOCK_RE, pd.Series(True, index=main.index))
    if clk[0].isna().any():
        i = clk[0].isna().idxmax()
        g, num, bad = main.at[i, "gameId"], main.at[i, "actionNumber"], main.at[i, "clock"]
        raise V3FormatError(f"game {g}: action {num} has unparsable clock {bad!r}")
    out["PCTIMESTRING"] = clk[0].astype(int).astype(str) + ":" + clk[1].str.zfill(2)
    d = main["description"].where(main["description"] != "")
    out["HOMEDESCRIPTION"] = d.where(loc == "h")
    out["VISITORDESCRIPTION"] = d.where(loc == "v")
    out["NEUTRALDESCRIPTION"] = d.where(~loc.isin(["h", "v"]))
    # SCORE "AWAY - HOME" on scoring rows (made FG, made FT) and period start / end / replay rows
    # that carry one, as V2 does
    sh, sa = main["scoreHome"], main["scoreAway"]
    scoring = (sh != "") & (sa != "") & main["EVENTMSGTYPE"].isin([1, 3, 12, 13, 18])
    scoring &= ~((main["EVENTMSGTYPE"] == 12) & (sh == "0") & (sa == "0"))  # not at tip-off
    out["SCORE"] = (sa + " - " + sh).where(scoring)
    margin = pd.to_numeric(sh.where(scoring), errors="coerce") - pd.to_numeric(
        sa.where(scoring), errors="coerce"
    )
    out["SCOREMARGIN"] = margin.astype("Int64").astype(str).where(margin != 0, "TIE").where(scoring)

    out["PERSON1TYPE"] = p1type
    out["PLAYER1_ID"] = pid
    out["PLAYER1_NAME"] = main["playerNameI"].where((p1type >= 4) & (main["playerNameI"] != ""))
    out["PLAYER1_TEAM_ID"] = team.where(team > 0)
    out["PLAYER1_TEAM_CITY"] = None
    out["PLAYER1_TEAM_NICKNAME"] = None
    out["PLAYER1_TEAM_ABBREVIATION"] = main["teamTricode"].where(team > 0)
    for n in (2, 3):
        out[f"PERSON{n}TYPE"] = 0
        out[f"PLAYER{n}_ID"] = 0
        out[f"PLAYER{n}_TEAM_ID"] = pd.NA
    out["VIDEO_AVAILABLE_FLAG"] = main["videoAvailable"]

    names = _name_table(a, rosters)
    ev = out["EVENTMSGTYPE"]
    other_team = np.where(team == home_of, away_of, np.where(team == away_of, home_of, 0))
    other_type = np.where(loc == "h", 5, 4)
    own_type = np.where(loc == "h", 4, 5)

    def put(n: int, mask: pd.Series, ids: np.ndarray, team_ids: np.ndarray, types: np.ndarray) -> None:
        ok = mask.to_numpy() & (ids > 0)
        rep.names_unresolved += int((mask.to_numpy() & (ids == 0)).sum())
        idx = out.index[ok]
        out.loc[idx, f"PLAYER{n}_ID"] = ids[ok]
        out.loc[idx, f"PLAYER{n}_TEAM_ID"] = team_ids[ok]
        out.loc[idx, f"PERSON{n}TYPE"] = types[ok]

    # assists: "(Love 1 AST)" on made shots, a teammate of the shooter
    ast = _extract(main["description"], _AST_RE, ev == 1)[0]
    m = (ev == 1) & ast.notna()
    ids = _resolve(ast.fillna(""), main["gameId"], team, names)
    put(2, m, ids, team.to_numpy(), own_type)
    # substitutions: "SUB: IN FOR OUT", personId is the player going out
    sm = _extract(main["description"], _SUB_RE, ev == 8)
    m = (ev == 8) & sm[0].notna()
    ids = _resolve(sm[0].fillna(""), main["gameId"], team, names)
    put(2, m, ids, team.to_numpy(), own_type)
    # jump balls: "Jump Ball A vs. B: Tip to C" (B opposite team, C either)
    jm = _extract(main["description"], _JUMP_RE, ev == 10)
    m = (ev == 10) & jm[1].notna()
    ids = _resolve(jm[1].fillna(""), main["gameId"], pd.Series(other_team, index=main.index), names)
    put(2, m, ids, other_team, other_type)
    ids3 = _resolve(jm[2].fillna(""), main["gameId"], pd.Series(0, index=main.index), names)
    t3 = _team_of(ids3, main["gameId"], a)
    put(3, m, ids3, t3, np.where(t3 == home_of.to_numpy(), 4, 5))

    # steals and blocks: attach to the turnover / missed shot of the same actionNumber
    extra = a[is_steal | is_block].copy()
    extra["_kind"] = np.where(is_steal[is_steal | is_block], 5, 2)
    target = pd.DataFrame(
        {
            "gameId": main["gameId"],
            "actionNumber": main["actionNumber"],
            "_kind": main["EVENTMSGTYPE"],
            "_row": main.index,
        }
    )
    hit = extra.merge(target, on=["gameId", "actionNumber", "_kind"], how="left")
    # fall back on the same period and clock when the numbers differ
    lost = hit["_row"].isna()
    if lost.any():
        t2 = pd.DataFrame(
            {
                "gameId": main["gameId"],
                "period": main["period"],
                "clock": main["clock"],
                "_kind": main["EVENTMSGTYPE"],
                "_row2": main.index,
            }
        ).drop_duplicates(["gameId", "period", "clock", "_kind"], keep="last")
        fb = hit.loc[lost, ["gameId", "period", "clock", "_kind"]].merge(
            t2, how="left", on=["gameId", "period", "clock", "_kind"]
        )
        hit.loc[lost, "_row"] = fb["_row2"].to_numpy()
    hit = hit.dropna(subset=["_row"]).drop_duplicates(["_row", "_kind"])
    rep.extra_rows_unattached += len(extra) - len(hit)
    rows = hit["_row"].astype("int64").to_numpy()
    types = np.where(hit["location"].to_numpy() == "h", 4, np.where(hit["location"].to_numpy() == "v", 5, 0))
    for kind, n in ((5, 2), (2, 3)):
        k = hit["_kind"].to_numpy() == kind
        r = rows[k]
        out.loc[r, f"PLAYER{n}_ID"] = hit["personId"].to_numpy()[k]
        out.loc[r, f"PLAYER{n}_TEAM_ID"] = hit["teamId"].to_numpy()[k]
        out.loc[r, f"PERSON{n}TYPE"] = types[k]
        col_h = hit["location"].to_numpy()[k] == "h"
        dsc = hit["description"].to_numpy()[k]
        out.loc[r[col_h], "HOMEDESCRIPTION"] = dsc[col_h]
        out.loc[r[~col_h], "VISITORDESCRIPTION"] = dsc[~col_h]
    rep.steals_attached = int((hit["_kind"] == 5).sum())
    rep.blocks_attached = int((hit["_kind"] == 2).sum())

    # names and team abbreviations of players 2 and 3, from the game's own rows
    who = (
        a[(a["personId"] > 0) & (a["personId"] < FIRST_TEAM_ID) & (a["playerNameI"] != "")]
        .drop_duplicates(["gameId", "personId"])
        .set_index(["gameId", "personId"])
    )
    tri = (
        a[a["teamId"] > 0]
        .drop_duplicates(["gameId", "teamId"])
        .set_index(["gameId", "teamId"])["teamTricode"]
    )
    for n in (2, 3):
        key = pd.MultiIndex.from_arrays([out["GAME_ID"], out[f"PLAYER{n}_ID"].astype("int64")])
        out[f"PLAYER{n}_NAME"] = who["playerNameI"].reindex(key).to_numpy()
        tkey = pd.MultiIndex.from_arrays(
            [out["GAME_ID"], out[f"PLAYER{n}_TEAM_ID"].fillna(0).astype("int64")]
        )
        out[f"PLAYER{n}_TEAM_ABBREVIATION"] = tri.reindex(tkey).to_numpy()
        out[f"PLAYER{n}_TEAM_CITY"] = None
        out[f"PLAYER{n}_TEAM_NICKNAME"] = None

    out = out.sort_values(["GAME_ID", "PERIOD", "EVENTNUM"], kind="stable").reset_index(drop=True)
    rep.rows = len(out)
    return to_v2_dtypes(out), rep


def _extract(s: pd.Series, pattern: str, rows: pd.Series) -> pd.DataFrame:
    """Regex groups of ``s`` on ``rows`` only (NaN elsewhere), through Arrow: fast on a season."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = re.compile(pattern).groups
    out = pd.DataFrame({i: pd.Series(np.nan, index=s.index, dtype=object) for i in range(n)})
    sub = s[rows]
    if not len(sub):
        return out
    arr = pc.extract_regex(pa.array(sub.astype(str).to_numpy(dtype=object), type=pa.large_string()), pattern)
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    for i in range(n):
        vals = arr.field(f"g{i}").to_numpy(zero_copy_only=False).astype(object)
        vals[~valid] = np.nan
        out.loc[sub.index, i] = vals
    return out


def _team_of(ids: np.ndarray, gid: pd.Series, a: pd.DataFrame) -> np.ndarray:
    t = (
        a[(a["personId"] > 0) & (a["teamId"] > 0)]
        .drop_duplicates(["gameId", "personId"])
        .set_index(["gameId", "personId"])["teamId"]
    )
    key = pd.MultiIndex.from_arrays([gid.to_numpy(), ids])
    return t.reindex(key).fillna(0).astype("int64").to_numpy()


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


def convert_pbp_v3(response: dict) -> pd.DataFrame:
    """One game's PlayByPlayV3 JSON response -> its rows in the raw contract's pbp columns.

    Works from the play-by-play response alone (names are mapped to ids from the game's own rows);
    the same columns and dtypes as ``pbp_<season>.parquet``. See the module docstring for what V3
    does not carry. Raises :class:`V3FormatError` on a response without ``game.actions``.
    """
    df, _ = convert_actions(actions_frame([response]))
    return df


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
    swap = {2: 3, 3: 2, 4: 5, 5: 4, 6: 7, 7: 6}
    for n in (1, 2, 3):
        c = f"PERSON{n}TYPE"
        out.loc[m, c] = pbp.loc[m, c].map(lambda v: swap.get(v, v) if pd.notna(v) else v).astype("Int16")
    sc = pbp.loc[m, "SCORE"].str.extract(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
    out.loc[m, "SCORE"] = (sc[1] + " - " + sc[0]).where(sc[0].notna(), pbp.loc[m, "SCORE"])
    mg = pbp.loc[m, "SCOREMARGIN"]
    num = pd.to_numeric(mg, errors="coerce")
    out.loc[m, "SCOREMARGIN"] = (-num).astype("Int64").astype(str).where(num.notna(), mg)
    return to_v2_dtypes(out)
