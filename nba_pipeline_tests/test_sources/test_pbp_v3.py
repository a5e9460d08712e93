"""PlayByPlayV3 -> V2 rows, checked against the real V2 rows of the same game (0022200552, CLE 145 -
134 CHI, OT: in ../shared/data/nba/pbp_2022-23.parquet with its lineups file) after replaying the
recorded responses through nba_api's own client."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nba_pipeline.analytics.stints import lineup_agreement, reconstruct_lineups
from nba_pipeline.features.tokenizer import EventTokenizer, sort_plays
from nba_pipeline.ingest.games import build_games
from nba_pipeline.ingest.plays import build_plays
from nba_pipeline.ingest.raw import read_raw
from nba_pipeline.ingest.schema import ON_COURT
from nba_pipeline.sources import convert_pbp_v3
from nba_pipeline.sources.client import ApiSettings, StatsClient
from nba_pipeline.sources.endpoints import fetch_box, fetch_pbp
from nba_pipeline.sources.pbp_v2 import V2_COLUMNS, swap_home_away
from nba_pipeline.sources.pbp_v3 import V3FormatError, actions_frame, convert_actions, rosters_frame

from .conftest import GAME

SEASON = "2022-23"


@pytest.fixture(scope="module")
def recorded(replay, tmp_path_factory) -> dict:
    """The game's PlayByPlayV3 and BoxScoreTraditionalV3, replayed through nba_api's client."""
    client = StatsClient(tmp_path_factory.mktemp("cache"), ApiSettings(delay_s=0))
    with replay.use_cassette(f"playbyplayv3_{GAME}.yaml"):
        pbp = fetch_pbp(client, GAME)
    with replay.use_cassette(f"boxscoretraditionalv3_{GAME}.yaml"):
        box = fetch_box(client, GAME)
    assert client.requests_made == 2
    return {"pbp": pbp, "box": box}


@pytest.fixture(scope="module")
def v3(recorded) -> pd.DataFrame:
    return convert_pbp_v3(recorded["pbp"])


@pytest.fixture(scope="module")
def v2(nba_raw_dir: Path) -> pd.DataFrame:
    pbp = read_raw(nba_raw_dir, "pbp", SEASON, all_columns=True)
    return pbp[pbp["GAME_ID"] == GAME].reset_index(drop=True)


@pytest.fixture(scope="module")
def games(nba_raw_dir: Path) -> pd.DataFrame:
    g = build_games(read_raw(nba_raw_dir, "games"), SEASON)
    return g[g["game_id"] == GAME].reset_index(drop=True)


@pytest.fixture(scope="module")
def plays(v2, v3, games, nba_raw_dir) -> dict[str, pd.DataFrame]:
    """The ingest path on both: V2 with the season's lineups file (what ingest does for 2022-23),
    V2 without it and V3 (both rebuilt from the pbp, what ingest does for a season without one)."""
    lu = read_raw(nba_raw_dir, "lineups", SEASON)
    lu = lu[lu["GAME_ID"] == GAME]
    v2_file, _ = build_plays(v2, lu, SEASON)
    v2_rebuilt = reconstruct_lineups(build_plays(v2, None, SEASON)[0], games)
    v3_rebuilt = reconstruct_lineups(build_plays(v3, None, SEASON)[0], games)
    return {
        "v2_file": sort_plays(v2_file),
        "v2_rebuilt": sort_plays(v2_rebuilt),
        "v3": sort_plays(v3_rebuilt),
    }


def test_same_columns_and_dtypes_as_the_shipped_pbp_files(v3, nba_raw_dir):
    shipped = pd.read_parquet(nba_raw_dir / "pbp_2023-24.parquet").head(0)
    assert list(v3.columns) == list(shipped.columns) == V2_COLUMNS
    assert v3.dtypes.astype(str).to_dict() == shipped.dtypes.astype(str).to_dict()


def test_one_row_per_v2_event_with_the_same_event_numbers(v3, v2):
    assert len(v2) == 546
    assert len(v3) == len(v2)
    assert v3["EVENTNUM"].tolist() == v2["EVENTNUM"].tolist()


def test_same_count_of_every_event_kind_and_sub_type(v3, v2):
    kinds = ["EVENTMSGTYPE", "EVENTMSGACTIONTYPE"]
    assert v3["EVENTMSGTYPE"].value_counts().to_dict() == v2["EVENTMSGTYPE"].value_counts().to_dict()
    assert v3.value_counts(kinds).to_dict() == v2.value_counts(kinds).to_dict()
    # and event by event, not only in total
    assert (v3[kinds].to_numpy() == v2[kinds].to_numpy()).all()


def test_same_score_after_every_period(plays):
    def ends(p: pd.DataFrame) -> dict[int, tuple[int, int]]:
        last = p.groupby("period").tail(1)
        return {int(r.period): (int(r.home_score), int(r.away_score)) for r in last.itertuples()}

    v2_ends, v3_ends = ends(plays["v2_file"]), ends(plays["v3"])
    assert v3_ends == v2_ends
    assert v3_ends[5] == (145, 134)  # CLE 145 - 134 CHI after overtime


def test_every_players_points_equal_the_v3_box_score(plays, recorded):
    p = plays["v3"]
    s = p[p["points"] > 0]
    pts = s.groupby(s["player1_id"].astype("int64"))["points"].sum()
    box = rosters_frame([recorded["box"]]).set_index("personId")["points"]
    scored = box[box > 0]
    assert pts.sort_index().to_dict() == scored.sort_index().to_dict()
    assert int(pts[1628378]) == 71  # Donovan Mitchell


def test_substitutions_bring_in_and_take_out_the_same_players(v3, v2):
    def subs(df: pd.DataFrame) -> set[tuple[int, int, int]]:
        s = df[df["EVENTMSGTYPE"] == 8]
        return set(zip(s["EVENTNUM"], s["PLAYER1_ID"].astype(int), s["PLAYER2_ID"].astype(int), strict=True))

    assert len(subs(v2)) == 54
    assert subs(v3) == subs(v2)


def test_assists_steals_blocks_and_jump_balls_carry_the_v2_ids(v3, v2):
    for n in (1, 2, 3):
        cols = [f"PLAYER{n}_ID", f"PLAYER{n}_TEAM_ID"]
        kinds = [1, 2, 5, 8, 10] if n > 1 else list(range(1, 19))  # fouls: see the listed differences
        m = v2["EVENTMSGTYPE"].isin(kinds).to_numpy()
        a = v3.loc[m, cols].fillna(0).astype("int64").to_numpy()
        b = v2.loc[m, cols].fillna(0).astype("int64").to_numpy()
        assert (a == b).all(), f"PLAYER{n} differs on {int((a != b).any(axis=1).sum())} rows"
    # the steal / block / assist rows really are there
    assert int(((v3["EVENTMSGTYPE"] == 5) & (v3["PLAYER2_ID"] > 0)).sum()) == 9
    assert int(((v3["EVENTMSGTYPE"] == 2) & (v3["PLAYER3_ID"] > 0)).sum()) == 5
    assert int(((v3["EVENTMSGTYPE"] == 1) & (v3["PLAYER2_ID"] > 0)).sum()) == 49


# Every V2 column on which V3 differs, and exactly where: what V3 does not carry.
def _listed_differences(v2: pd.DataFrame) -> dict[str, pd.Series]:
    foul = v2["EVENTMSGTYPE"] == 6
    person = v2["PERSON1TYPE"].isin([4, 5])
    p2 = v2["PLAYER2_ID"].fillna(0) > 0
    p3 = v2["PLAYER3_ID"].fillna(0) > 0
    return {
        "WCTIMESTRING": pd.Series(True, index=v2.index),  # V3 has no wall clock per action
        "PLAYER1_NAME": person | v2["PLAYER1_NAME"].notna(),  # V3: "J. Allen", V2: "Jarrett Allen"
        "PLAYER1_TEAM_CITY": person,  # V3 has only the tricode
        "PLAYER1_TEAM_NICKNAME": person,
        "PLAYER2_NAME": p2,
        "PLAYER2_TEAM_CITY": p2,
        "PLAYER2_TEAM_NICKNAME": p2,
        "PLAYER3_NAME": p3,
        "PLAYER3_TEAM_CITY": p3,
        "PLAYER3_TEAM_NICKNAME": p3,
        # the fouled player (V2 PLAYER2 of a foul) is in no V3 field or description
        "PERSON2TYPE": foul,
        "PLAYER2_ID": foul,
        "PLAYER2_TEAM_ID": foul,
        "PLAYER2_TEAM_ABBREVIATION": foul,
        # V2 marks the referee of a foul / violation / replay / turnover as PERSON3TYPE 1 (no id)
        "PERSON3TYPE": v2["PERSON3TYPE"] == 1,
    }


def test_v3_equals_v2_except_the_listed_differences(v3, v2):
    listed = _listed_differences(v2)
    for c in V2_COLUMNS:
        a, b = v3[c], v2[c]
        same = ((a == b).fillna(False) | (a.isna() & b.isna())).to_numpy(bool)
        allowed = listed.get(c, pd.Series(False, index=v2.index)).to_numpy(bool)
        bad = ~same & ~allowed
        assert not bad.any(), (
            f"{c}: {int(bad.sum())} unlisted differences, e.g. {a[bad].iloc[0]!r} vs {b[bad].iloc[0]!r}"
        )
    # and the listed ones are real (the list is not a blanket excuse)
    assert int((v2["EVENTMSGTYPE"] == 6).sum()) == 64
    assert int(((v2["EVENTMSGTYPE"] == 6) & (v2["PLAYER2_ID"] > 0)).sum()) == 60
    assert int((v3.loc[v2["EVENTMSGTYPE"] == 6, "PLAYER2_ID"] > 0).sum()) == 0


def test_lineups_rebuilt_from_v3_agree_with_the_lineups_file(plays):
    agree = lineup_agreement(plays["v3"], plays["v2_file"])
    assert float(agree[SEASON]) >= 0.98
    assert plays["v3"][ON_COURT].notna().all().all()


def _involved_sets(p: pd.DataFrame, lineup: np.ndarray) -> np.ndarray:
    """Per event, per side: sorted ids on court, involved, acting (slot order removed)."""
    on = p[ON_COURT].fillna(0).to_numpy(np.int64)
    inv = np.where(lineup[:, :10] > 0, on, 0)
    act = np.where(lineup[:, 10:] > 0, on, 0)
    parts = [on[:, :5], on[:, 5:], inv[:, :5], inv[:, 5:], act[:, :5], act[:, 5:]]
    return np.concatenate([np.sort(x, axis=1) for x in parts], axis=1)


def test_model_inputs_equal_the_v2_paths_except_the_listed_differences(plays):
    tok = EventTokenizer(score_diff_std=12.0)
    ev = {k: tok.encode_events(p) for k, p in plays.items()}
    for k in ("v2_file", "v2_rebuilt"):
        for arr in ("token", "time_left", "score_diff", "score_total"):
            assert np.array_equal(getattr(ev["v3"], arr), getattr(ev[k], arr)), f"{arr} differs from {k}"
    # on-court players and who took part, per event (set per side: slot order is the order of first
    # appearance in the pbp, which the fouled player of V2 changes; the model sees the same players).
    ref = plays["v2_rebuilt"]
    a = _involved_sets(plays["v3"], ev["v3"].lineup)
    b = _involved_sets(ref, ev["v2_rebuilt"].lineup)
    diff = (a != b).any(axis=1)
    # Listed difference: a foul's fouled player (V2 PLAYER2) is not in V3, so he is not marked as
    # taking part. Every differing event is such a foul, and each of those foul events differs.
    fouled_on_court = (ref["event_type"].to_numpy() == 6) & (
        ref[ON_COURT].to_numpy(np.float64)
        == ref["player2_id"].astype("Float64").fillna(0).to_numpy()[:, None]
    ).any(axis=1)
    assert np.array_equal(diff, fouled_on_court)
    assert 0 < int(diff.sum()) <= 64
    # on court: identical sets on every event, and against the file on every non-substitution event
    on = slice(0, 10)
    assert (a[:, on] == b[:, on]).all()
    f = plays["v2_file"]
    c = _involved_sets(f, ev["v2_file"].lineup)
    non_sub = f["event_type"].to_numpy() != 8
    same = (a[:, on] == c[:, on]).all(axis=1)
    from_file = f["lineup_source"].to_numpy() == "file"
    assert same[non_sub & from_file].all()
    # events the file has no row for (violations, period starts) carry the previous row's players
    assert same[non_sub].mean() >= 0.98


def test_quirks_are_counted_not_fatal(recorded):
    resp = json.loads(json.dumps(recorded["pbp"]))
    acts = resp["game"]["actions"]
    acts.insert(10, dict(acts[10]))  # an exact duplicate row
    acts.append({**acts[5], "actionNumber": 9999, "actionType": "Made Shot", "subType": "Sky Hook Deluxe"})
    acts.append({**acts[5], "actionNumber": 9998, "actionType": "Mystery", "subType": ""})
    df, rep = convert_actions(actions_frame([resp]))
    assert rep.duplicate_actions_dropped == 1
    assert rep.unmapped_subtypes == {"1:sky hook deluxe": 1}
    assert rep.unknown_action_types == {"mystery": 1}
    assert len(df) == 546 + 1  # the unknown kind is dropped (counted), the odd sub-type kept as code 0
    assert int(df.loc[df["EVENTNUM"] == 9999, "EVENTMSGACTIONTYPE"].iloc[0]) == 0


def test_names_only_in_the_box_score_are_resolved_with_the_roster(recorded):
    resp = json.loads(json.dumps(recorded["pbp"]))
    # Osman comes in at action 61; drop every other row that names him: only the box score knows him
    acts = [a for a in resp["game"]["actions"] if a.get("personId") != 1626224 or a["actionNumber"] == 61]
    acts = [a for a in acts if "Osman" not in a["description"] or a["actionNumber"] == 61]
    resp["game"]["actions"] = acts
    alone, rep_alone = convert_actions(actions_frame([resp]))
    sub = alone[alone["EVENTNUM"] == 61]
    assert int(sub["PLAYER2_ID"].iloc[0]) == 0 and rep_alone.names_unresolved >= 1
    with_box, rep_box = convert_actions(actions_frame([resp]), rosters_frame([recorded["box"]]))
    assert int(with_box.loc[with_box["EVENTNUM"] == 61, "PLAYER2_ID"].iloc[0]) == 1626224
    assert rep_box.names_unresolved < rep_alone.names_unresolved


def test_neutral_site_swap_exchanges_home_and_away(v3, plays, games):
    swapped = swap_home_away(v3, {GAME})
    assert swapped["HOMEDESCRIPTION"].equals(v3["VISITORDESCRIPTION"])
    p = build_plays(swapped, None, SEASON)[0]
    last = p.sort_values("seq").iloc[-1]
    assert (int(last["home_score"]), int(last["away_score"])) == (134, 145)
    assert swap_home_away(swapped, [GAME]).equals(v3)


def test_bad_responses_fail_naming_the_problem():
    with pytest.raises(V3FormatError, match="no 'game' object"):
        convert_pbp_v3({})
    with pytest.raises(V3FormatError, match="game 0022200552: 'game.actions'"):
        convert_pbp_v3({"game": {"gameId": GAME}})
    with pytest.raises(V3FormatError, match=r"lack key\(s\) \['clock'"):
        convert_pbp_v3({"game": {"gameId": GAME, "actions": [{"actionNumber": 1}]}})
    good = {k: "" for k in ("teamTricode", "playerName", "playerNameI", "scoreHome", "scoreAway")}
    row = {**good, "actionNumber": 1, "clock": "12:00", "period": 1, "teamId": 0, "personId": 0}
    row |= {"location": "", "description": "x", "actionType": "period", "subType": "start"}
    with pytest.raises(V3FormatError, match="unparsable clock '12:00'"):
        convert_pbp_v3({"game": {"gameId": GAME, "actions": [row]}})


def test_shots_from_v3_equal_the_shipped_shots_file(recorded, nba_raw_dir, games):
    from nba_pipeline.ingest.raw import SHOT_COLUMNS, validate_schema
    from nba_pipeline.ingest.shots import build_shots
    from nba_pipeline.sources.shots_v3 import shots_from_actions

    frame = actions_frame([recorded["pbp"]])
    ours = shots_from_actions(frame, dict(zip(games["game_id"], games["game_date"], strict=True)))
    ref = pd.read_parquet(nba_raw_dir / f"shots_{SEASON}.parquet")
    ref = ref[ref["GAME_ID"] == GAME].sort_values(["QUARTER", "GAME_EVENT_ID_MATCHED"]).reset_index(drop=True)
    assert len(ours) == len(ref) == 187
    for c in ours.columns:
        assert str(ours[c].dtype) == str(ref[c].dtype), c
        if c in ("PLAYER_NAME", "ACTION_TYPE"):  # V3: "J. Allen" and its own sub-type spelling
            continue
        a, b = ours[c].to_numpy(), ref[c].to_numpy()
        assert (a == b).all(), f"{c}: {int((a != b).sum())} rows differ"
    import pyarrow as pa

    validate_schema(Path("shots_v3"), pa.Schema.from_pandas(ours), SHOT_COLUMNS)
    assert len(build_shots(ours, SEASON)) == 187


@pytest.mark.parametrize("cut", [0, 1, 2, 50, 300, 559])
def test_a_game_in_progress_converts_at_every_cut(recorded, v3, cut):
    """Live forecasting converts the actions so far: same dtypes, and every row equals the full
    game's row of the same event (kind, clock, score, actor)."""
    part = json.loads(json.dumps(recorded["pbp"]))
    part["game"]["actions"] = part["game"]["actions"][:cut]
    df = convert_pbp_v3(part)
    assert df.dtypes.equals(v3.dtypes)
    cols = ["EVENTNUM", "EVENTMSGTYPE", "EVENTMSGACTIONTYPE", "PCTIMESTRING", "SCORE", "PLAYER1_ID"]
    full = v3.set_index("EVENTNUM").loc[df["EVENTNUM"], cols[1:]].reset_index()
    assert df[cols].fillna("-").astype(str).equals(full[cols].fillna("-").astype(str))
