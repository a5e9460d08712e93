"""Players 2 and 3 of the V2 rows, rebuilt from V3's one-person-per-row actions.

Why: V2 names up to three people on a row (the shooter and the assister, the player going out and
the one coming in, the turnover and the stealer, the miss and the blocker, both jumpers and the
recoverer); V3 names one. The others are found two ways:

- a steal or a block is its own V3 row sharing the ``actionNumber`` of its turnover / missed shot:
  it becomes PLAYER2 (steal) / PLAYER3 (block) of that row, and its description the other side's;
- the assister (``(Love 1 AST)``), the player coming in (``SUB: Osman FOR Stevens``) and the
  jump-ball opponent and recoverer (``Jump Ball A vs. B: Tip to C``) are only in the description:
  names are mapped to ids from the game's own rows (family name or ``F. Name``, accents folded,
  per team, plus the box-score roster when given); a name two players of a team share is
  ambiguous and left unresolved, never guessed.

Every function here fills columns of the V2 frame ``out`` in place; ``main`` is the V3 actions
that became its rows (same index), ``a`` every action of the batch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nba_pipeline.ingest.plays import FIRST_TEAM_ID  # a personId at or above is a team
from nba_pipeline.sources.pbp_v3_text import extract, norm_name

# named groups g0, g1, ... (see pbp_v3_text.extract)
_AST_RE = r"\((?P<g0>[^()]+?) \d+ AST\)"
_SUB_RE = r"^SUB:\s*(?P<g0>.+?)\s+FOR\s+(?P<g1>.+?)\s*$"
_JUMP_RE = r"^Jump Ball (?P<g0>.+?) vs\. (?P<g1>.+?): Tip to (?P<g2>.+?)\s*$"

MADE_SHOT, MISSED_SHOT, TURNOVER, SUBSTITUTION, JUMP_BALL = 1, 2, 5, 8, 10


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


def _team_of(ids: np.ndarray, gid: pd.Series, a: pd.DataFrame) -> np.ndarray:
    """The team of each (game, person) among the game's rows; 0 where the person has none."""
    t = (
        a[(a["personId"] > 0) & (a["teamId"] > 0)]
        .drop_duplicates(["gameId", "personId"])
        .set_index(["gameId", "personId"])["teamId"]
    )
    key = pd.MultiIndex.from_arrays([gid.to_numpy(), ids])
    return t.reindex(key).fillna(0).astype("int64").to_numpy()


def _put(
    out: pd.DataFrame, n: int, mask: pd.Series, ids: np.ndarray, teams: np.ndarray, types: np.ndarray
) -> int:
    """Player ``n`` of the ``mask`` rows whose name resolved; returns how many did not."""
    m = mask.to_numpy()
    ok = m & (ids > 0)
    idx = out.index[ok]
    out.loc[idx, f"PLAYER{n}_ID"] = ids[ok]
    out.loc[idx, f"PLAYER{n}_TEAM_ID"] = teams[ok]
    out.loc[idx, f"PERSON{n}TYPE"] = types[ok]
    return int((m & (ids == 0)).sum())


def players_from_descriptions(
    out: pd.DataFrame,
    main: pd.DataFrame,
    a: pd.DataFrame,
    rosters: pd.DataFrame | None,
    home_of: pd.Series,
    away_of: pd.Series,
) -> int:
    """Assisters, players coming in, jump-ball opponents and recoverers, from the descriptions;
    returns how many names were not found (counted, never guessed). ``home_of`` / ``away_of``:
    each row's game's home / visitor team id."""
    names = _name_table(a, rosters)
    ev, gid, desc = out["EVENTMSGTYPE"], main["gameId"], main["description"]
    team, loc = main["teamId"], main["location"]
    other_team = np.where(team == home_of, away_of, np.where(team == away_of, home_of, 0))
    other_type = np.where(loc == "h", 5, 4)
    own_type = np.where(loc == "h", 4, 5)
    unresolved = 0
    # assists: "(Love 1 AST)" on made shots, a teammate of the shooter
    ast = extract(desc, _AST_RE, ev == MADE_SHOT)[0]
    ids = _resolve(ast.fillna(""), gid, team, names)
    unresolved += _put(out, 2, (ev == MADE_SHOT) & ast.notna(), ids, team.to_numpy(), own_type)
    # substitutions: "SUB: IN FOR OUT", personId is the player going out
    sm = extract(desc, _SUB_RE, ev == SUBSTITUTION)
    ids = _resolve(sm[0].fillna(""), gid, team, names)
    unresolved += _put(out, 2, (ev == SUBSTITUTION) & sm[0].notna(), ids, team.to_numpy(), own_type)
    # jump balls: "Jump Ball A vs. B: Tip to C" (B opposite team, C either)
    jm = extract(desc, _JUMP_RE, ev == JUMP_BALL)
    m = (ev == JUMP_BALL) & jm[1].notna()
    ids = _resolve(jm[1].fillna(""), gid, pd.Series(other_team, index=main.index), names)
    unresolved += _put(out, 2, m, ids, other_team, other_type)
    ids3 = _resolve(jm[2].fillna(""), gid, pd.Series(0, index=main.index), names)
    t3 = _team_of(ids3, gid, a)
    unresolved += _put(out, 3, m, ids3, t3, np.where(t3 == home_of.to_numpy(), 4, 5))
    return unresolved


def attach_steals_blocks(
    out: pd.DataFrame, main: pd.DataFrame, a: pd.DataFrame, is_steal: pd.Series, is_block: pd.Series
) -> None:
    """V3's own steal / block rows (of ``a``) as PLAYER2 of the turnover / PLAYER3 of the missed
    shot with the same ``actionNumber`` (else the same period and clock); their description goes
    on their side's column. Rows with nothing to attach to are dropped."""
    either = is_steal | is_block
    extra = a[either].assign(_kind=np.where(is_steal[either], TURNOVER, MISSED_SHOT))
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
    rows = hit["_row"].astype("int64").to_numpy()
    loc = hit["location"].to_numpy()
    types = np.where(loc == "h", 4, np.where(loc == "v", 5, 0))
    for kind, n in ((TURNOVER, 2), (MISSED_SHOT, 3)):
        k = hit["_kind"].to_numpy() == kind
        r = rows[k]
        out.loc[r, f"PLAYER{n}_ID"] = hit["personId"].to_numpy()[k]
        out.loc[r, f"PLAYER{n}_TEAM_ID"] = hit["teamId"].to_numpy()[k]
        out.loc[r, f"PERSON{n}TYPE"] = types[k]
        col_h = loc[k] == "h"
        dsc = hit["description"].to_numpy()[k]
        out.loc[r[col_h], "HOMEDESCRIPTION"] = dsc[col_h]
        out.loc[r[~col_h], "VISITORDESCRIPTION"] = dsc[~col_h]


def name_players_2_3(out: pd.DataFrame, a: pd.DataFrame) -> None:
    """Names and team tricodes of players 2 and 3, from the game's own rows (V3 has ``F. Name``
    and the tricode only; team city and nickname stay empty)."""
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
