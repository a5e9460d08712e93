"""stats.nba.com PlayByPlayV3 responses -> rows in the raw contract's PlayByPlayV2 columns.

Why a conversion: every shipped season is PlayByPlayV2 and the whole pipeline reads those
columns; stats.nba.com no longer serves V2, so newer games are converted into it and nothing
downstream changes.

How (all vectorized over every game at once), one step function each, in :func:`convert_actions`'s
order: ids typed, exact duplicate actions dropped; ``actionType``/``subType`` -> EVENTMSGTYPE /
EVENTMSGACTIONTYPE (:mod:`~nba_pipeline.sources.pbp_v3_codes`); ``actionNumber`` -> EVENTNUM,
made unique per game; ``location`` h/v -> HOME/VISITOR description and person types 4/5 (2/3
for team rows, whose ``personId`` is the team id); ``clock`` ``PT11M43.00S`` -> ``11:43``;
``scoreHome``/``scoreAway`` -> ``SCORE`` ``"AWAY - HOME"`` on scoring rows only (V2 convention);
players 2 and 3 from V3's separate steal / block rows and from names in the descriptions
(:mod:`~nba_pipeline.sources.pbp_v3_players`); the contract's columns and dtypes
(:mod:`~nba_pipeline.sources.pbp_v2`).

What V3 does not carry (left empty, and listed by the tests): the fouled player (V2 PLAYER2 of a
foul), full player names and team city / nickname (V3 has ``J. Allen`` and the tricode), the
wall clock (WCTIMESTRING), the coach person types 6/7 (a coach's technical reads as a player's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nba_pipeline.ingest.plays import FIRST_TEAM_ID
from nba_pipeline.sources.pbp_v2 import empty_v2, to_v2_dtypes
from nba_pipeline.sources.pbp_v3_codes import PERIOD_START, action_codes, action_kinds
from nba_pipeline.sources.pbp_v3_players import (
    attach_steals_blocks,
    name_players_2_3,
    players_from_descriptions,
)
from nba_pipeline.sources.pbp_v3_text import extract

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
_ID_KEYS = ("actionNumber", "period", "teamId", "personId")
_TEXT_KEYS = tuple(k for k in V3_ACTION_KEYS if k not in _ID_KEYS)

# kept when present: the shot location and result (shots file), the video flag
V3_OPTIONAL_KEYS = ("videoAvailable", "isFieldGoal", "shotResult", "shotValue", "xLegacy", "yLegacy")

_CLOCK_RE = r"^PT(?P<g0>\d+)M(?P<g1>\d+)(?:\.\d+)?S$"  # named groups: see pbp_v3_text.extract


class V3FormatError(ValueError):
    """A PlayByPlayV3 response without the structure the conversion needs (names what is missing)."""


@dataclass
class ConversionReport:
    """What the conversion had to handle, per batch of games: counted, never fatal."""

    duplicate_actions_dropped: int = 0
    names_unresolved: int = 0  # assister / sub-in / jump-ball names not found among the game's ids
    unmapped_subtypes: dict[str, int] = field(default_factory=dict)
    unknown_action_types: dict[str, int] = field(default_factory=dict)  # dropped


# ---- responses -> frames ----


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
        not_object = next((j for j, a in enumerate(actions) if not isinstance(a, dict)), None)
        if not_object is not None:
            bad = actions[not_object]
            raise V3FormatError(f"game {gid}: game.actions[{not_object}] is {bad!r:.40}, not an object")
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


def rosters_frame(boxes: list[dict]) -> pd.DataFrame:
    """BoxScoreTraditionalV3 responses -> ``gameId, teamId, personId, familyName, nameI, points``."""
    rows = []
    for b in boxes:
        bs = b["boxScoreTraditional"]
        gid = str(bs["gameId"]).zfill(10)
        for side in ("homeTeam", "awayTeam"):
            team = bs[side]
            for p in team.get("players", []):
                rows.append(
                    {
                        "gameId": gid,
                        "teamId": int(team["teamId"]),
                        "personId": int(p["personId"]),
                        "familyName": p.get("familyName", ""),
                        "nameI": p.get("nameI", ""),
                        "points": int((p.get("statistics") or {}).get("points") or 0),
                    }
                )
    return pd.DataFrame(rows, columns=["gameId", "teamId", "personId", "familyName", "nameI", "points"])


# ---- the conversion, step by step ----


def _to_int(s: pd.Series, name: str, gids: pd.Series) -> pd.Series:
    v = pd.to_numeric(s.replace("", np.nan), errors="coerce")
    bad = v.isna() & s.notna() & (s.astype(str) != "")
    if bad.any():
        i = bad.idxmax()
        raise V3FormatError(f"game {gids[i]}: action key {name!r} has non-numeric value {s[i]!r}")
    return v.fillna(0).astype("int64")


def _typed(a: pd.DataFrame) -> pd.DataFrame:
    """Ids as int64 (a non-numeric one raises, naming the game), text as str, missing as ``""``:
    every later step can compare without guarding against None."""
    a = a.copy()
    gids = a["gameId"]
    for c in _ID_KEYS:
        a[c] = _to_int(a[c], c, gids)
    for c in _TEXT_KEYS:
        a[c] = a[c].fillna("").astype(str)
    a["videoAvailable"] = pd.to_numeric(a["videoAvailable"], errors="coerce").fillna(0).astype("int64")
    return a


def _drop_duplicate_actions(a: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The source repeats some actions exactly: drop them (and say how many)."""
    dup = a.duplicated([c for c in a.columns if c != "order"])
    return a[~dup].reset_index(drop=True), int(dup.sum())


def side_teams(a: pd.DataFrame, side: str) -> pd.Series:
    """Game id -> the team on ``side`` (``"h"`` / ``"v"``) of its play-by-play: the most frequent
    ``teamId`` of the rows with that ``location`` (the smaller id on a tie), games in first-seen
    order. Why: V3 has no home / visitor team field; the pull also checks it against the schedule."""
    t = pd.to_numeric(a["teamId"], errors="coerce")
    rows = pd.DataFrame({"gameId": a["gameId"], "teamId": t})[(a["location"] == side) & (t > 0)]
    n = rows.groupby(["gameId", "teamId"], sort=False).size().reset_index(name="n")
    best = n.sort_values(["n", "teamId"], ascending=[False, True], kind="stable").drop_duplicates("gameId")
    return best.set_index("gameId")["teamId"].astype("int64").reindex(pd.unique(rows["gameId"]))


def _unique_event_numbers(main: pd.DataFrame) -> pd.Series:
    """EVENTNUM is the ``actionNumber``; when two rows of a game share one, the later gets a number
    past the game's last, so (GAME_ID, EVENTNUM) stays a key as the ingest requires."""
    num = main["actionNumber"]
    dup = main.duplicated(["gameId", "actionNumber"])
    if not dup.any():
        return num
    top = main.groupby("gameId")["actionNumber"].transform("max")
    k = dup.astype("int64").groupby(main["gameId"]).cumsum()
    return num.where(~dup, top + k)


def _person1_types(main: pd.DataFrame) -> np.ndarray:
    """PERSON1TYPE from ``location``: 4 / 5 for a home / visitor player, 2 / 3 for a team row (its
    ``personId`` is the team id), 0 for none and for a player row without a team (an official on
    an instant replay row), as V2 has them."""
    pid, team, loc = main["personId"], main["teamId"], main["location"]
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
    return np.where((team == 0) & ~is_team_row, 0, p1type)


def _clock_strings(main: pd.DataFrame) -> pd.Series:
    """``PT11M43.00S`` -> ``11:43`` (PCTIMESTRING); an unparsable clock raises, naming the action."""
    clk = extract(main["clock"], _CLOCK_RE, pd.Series(True, index=main.index))
    if clk[0].isna().any():
        i = clk[0].isna().idxmax()
        g, num, bad = main.at[i, "gameId"], main.at[i, "actionNumber"], main.at[i, "clock"]
        raise V3FormatError(f"game {g}: action {num} has unparsable clock {bad!r}")
    return clk[0].astype(int).astype(str) + ":" + clk[1].str.zfill(2)


def _score_columns(main: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """SCORE ``"AWAY - HOME"`` and SCOREMARGIN (home minus away, ``TIE`` at 0), only on the rows V2
    puts them on: made field goals and free throws, period start / end and replay rows that carry
    one (not the 0 - 0 of the tip-off)."""
    sh, sa, ev = main["scoreHome"], main["scoreAway"], main["EVENTMSGTYPE"]
    scoring = (sh != "") & (sa != "") & ev.isin([1, 3, 12, 13, 18])
    scoring &= ~((ev == PERIOD_START) & (sh == "0") & (sa == "0"))
    margin = pd.to_numeric(sh.where(scoring), errors="coerce") - pd.to_numeric(
        sa.where(scoring), errors="coerce"
    )
    score = (sa + " - " + sh).where(scoring)
    return score, margin.astype("Int64").astype(str).where(margin != 0, "TIE").where(scoring)


def _v2_rows(main: pd.DataFrame, code: pd.Series) -> pd.DataFrame:
    """One V2 row per main action with everything the action itself says (player 1, the clock,
    the side's description, the score); players 2 and 3 empty until the later steps fill them."""
    team, loc = main["teamId"], main["location"]
    p1type = _person1_types(main)
    out = pd.DataFrame(index=main.index)
    out["GAME_ID"] = main["gameId"]
    out["EVENTNUM"] = main["actionNumber"]
    out["EVENTMSGTYPE"] = main["EVENTMSGTYPE"]
    out["EVENTMSGACTIONTYPE"] = code
    out["PERIOD"] = main["period"]
    out["WCTIMESTRING"] = None
    out["PCTIMESTRING"] = _clock_strings(main)
    d = main["description"].where(main["description"] != "")
    out["HOMEDESCRIPTION"] = d.where(loc == "h")
    out["VISITORDESCRIPTION"] = d.where(loc == "v")
    out["NEUTRALDESCRIPTION"] = d.where(~loc.isin(["h", "v"]))
    out["SCORE"], out["SCOREMARGIN"] = _score_columns(main)
    out["PERSON1TYPE"] = p1type
    out["PLAYER1_ID"] = main["personId"]
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
    return out


def convert_actions(
    a: pd.DataFrame, rosters: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, ConversionReport]:
    """V3 actions of any number of games (:func:`actions_frame`) -> V2 rows and a report.

    ``rosters`` (optional; columns ``gameId, teamId, personId, familyName, nameI``, e.g.
    :func:`rosters_frame`) resolves names of players who never act themselves in the pbp.
    """
    rep = ConversionReport()
    if not len(a):
        return empty_v2(), rep
    a, rep.duplicate_actions_dropped = _drop_duplicate_actions(_typed(a))
    kinds = action_kinds(a["actionType"], a["subType"], a["description"])
    rep.unknown_action_types = kinds.unknown
    has_event = kinds.event_type.notna()
    main = a[has_event].copy()
    main["EVENTMSGTYPE"] = kinds.event_type[has_event].astype("int64")
    home_of = main["gameId"].map(side_teams(a, "h")).fillna(0).astype("int64")
    away_of = main["gameId"].map(side_teams(a, "v")).fillna(0).astype("int64")
    main["actionNumber"] = _unique_event_numbers(main)
    code, rep.unmapped_subtypes = action_codes(main["EVENTMSGTYPE"], main["subType"])
    out = _v2_rows(main, code)
    rep.names_unresolved = players_from_descriptions(out, main, a, rosters, home_of, away_of)
    attach_steals_blocks(out, main, a, kinds.is_steal, kinds.is_block)
    name_players_2_3(out, a)
    out = out.sort_values(["GAME_ID", "PERIOD", "EVENTNUM"], kind="stable").reset_index(drop=True)
    return to_v2_dtypes(out), rep


def convert_pbp_v3(response: dict) -> pd.DataFrame:
    """One game's PlayByPlayV3 JSON response -> its rows in the raw contract's pbp columns.

    Works from the play-by-play response alone (names are mapped to ids from the game's own rows);
    the same columns and dtypes as ``pbp_<season>.parquet``. See the module docstring for what V3
    does not carry. Raises :class:`V3FormatError` on a response without ``game.actions``.
    """
    df, _ = convert_actions(actions_frame([response]))
    return df
