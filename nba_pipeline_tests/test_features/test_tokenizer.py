"""EventTokenizer: vocabulary, UNK counting, padding/mask, pregame cut, lineup vector, speed."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from nba_pipeline.features.tokenizer import (
    CLS,
    LINEUP_SWAP_PERM,
    PAD,
    SCORE_TOTAL_SCALE,
    SEQ_LEN,
    SWAP_SIDES,
    UNK,
    VOCAB,
    VOCAB_SIZE,
    EventTokenizer,
    sort_plays,
    time_left_fraction,
)
from nba_pipeline_tests.test_features.synthetic import synthetic_plays


def test_vocabulary_has_special_tokens_and_one_token_per_known_type_and_side():
    assert (VOCAB["<PAD>"], VOCAB["<CLS>"], VOCAB["<UNK>"]) == (0, 1, 2)
    assert VOCAB_SIZE == 3 + 14 * 3 == len(VOCAB)
    assert sorted(VOCAB.values()) == list(range(VOCAB_SIZE))
    tokens, unknown = EventTokenizer.token_ids(np.array([1, 1, 1, 18]), np.array([0, 1, 2, 2]))
    assert tokens.tolist() == [VOCAB["1:neutral"], VOCAB["1:home"], VOCAB["1:away"], VOCAB["18:away"]]
    assert not unknown.any()


def test_unknown_event_codes_map_to_unk_and_are_counted():
    plays = synthetic_plays(n_games=1, events_per_period=5)
    plays.loc[3, "event_type"] = 99
    plays.loc[4, "event_type"] = 14
    plays.loc[5, "event_type"] = 99
    ev = EventTokenizer(10.0).encode_events(plays)
    assert ev.token[[3, 4, 5]].tolist() == [UNK, UNK, UNK]
    assert ev.n_unknown == 3
    assert ev.unknown_codes == {14: 1, 99: 2}
    assert (ev.token[np.r_[0:3, 6 : len(ev.token)]] > UNK).all()


def test_bad_side_code_is_rejected_with_the_column_named():
    with pytest.raises(ValueError, match="plays.side"):
        EventTokenizer.token_ids(np.array([1]), np.array([3]))


def test_swap_mapping_exchanges_home_and_away_tokens_and_is_an_involution():
    assert SWAP_SIDES[VOCAB["5:home"]] == VOCAB["5:away"]
    assert SWAP_SIDES[VOCAB["5:away"]] == VOCAB["5:home"]
    for t in ("<PAD>", "<CLS>", "<UNK>", "12:neutral"):
        assert SWAP_SIDES[VOCAB[t]] == VOCAB[t]
    assert (SWAP_SIDES[SWAP_SIDES] == np.arange(VOCAB_SIZE)).all()
    assert sorted(LINEUP_SWAP_PERM.tolist()) == list(range(20))
    assert LINEUP_SWAP_PERM[:5].tolist() == [5, 6, 7, 8, 9]


def test_pregame_cut_is_cls_only_and_everything_else_masked():
    plays = synthetic_plays(n_games=1)
    tok = EventTokenizer(score_diff_std=12.0)
    s = tok.sequence(tok.encode_events(plays), 0, 0)
    assert s["tokens"].shape == (SEQ_LEN,)
    assert s["tokens"][0] == CLS and (s["tokens"][1:] == PAD).all()
    assert s["mask"][0] and not s["mask"][1:].any()
    assert s["time_left"][0] == 1.0 and s["score_diff"][0] == 0.0
    assert not s["lineup"].any()


def test_cut_keeps_last_50_events_in_time_order_then_padding():
    plays = synthetic_plays(n_games=2, events_per_period=30)  # 128 events per game
    tok = EventTokenizer(score_diff_std=10.0)
    ev = tok.encode_events(plays)
    # short cut: 7 events -> CLS + 7 events + 43 PAD
    s = tok.sequence(ev, 0, 7)
    assert s["mask"].sum() == 8 and s["mask"][:8].all()
    assert (s["tokens"][1:8] == ev.token[:7]).all() and (s["tokens"][8:] == PAD).all()
    assert s["score_diff"][0] == pytest.approx(ev.score_diff[6] / 10.0)
    assert (s["time_left"][8:] == 0).all() and not s["lineup"][8:].any()
    # long cut in the second game: the last 50 events before the cut
    start = 128
    s = tok.sequence(ev, start, start + 100)
    assert s["mask"].all()
    assert (s["tokens"][1:] == ev.token[start + 50 : start + 100]).all()
    np.testing.assert_allclose(s["score_diff"][1:], ev.score_diff[start + 50 : start + 100] / 10.0)
    assert np.all(np.diff(s["time_left"][1:]) <= 1e-6)  # time runs down along the sequence


def test_batched_sequences_equal_single_sequences():
    plays = synthetic_plays(n_games=2)
    tok = EventTokenizer(score_diff_std=8.0)
    ev = tok.encode_events(plays)
    starts, cuts = np.array([0, 0, 128, 128]), np.array([0, 77, 128, 256])
    batch = tok.sequences(ev, starts, cuts)
    for b in range(4):
        one = tok.sequence(ev, int(starts[b]), int(cuts[b]))
        for k in one:
            np.testing.assert_array_equal(batch[k][b], one[k])


def test_lineup_vector_marks_slots_of_participants_and_actor():
    plays = synthetic_plays(n_games=1)
    plays["player1_id"] = pd.array([None] * len(plays), dtype="Int64")
    plays["player2_id"] = pd.array([None] * len(plays), dtype="Int64")
    row = 5
    plays.loc[row, "player1_id"] = plays.loc[row, "away_on_3"]
    plays.loc[row, "player2_id"] = plays.loc[row, "home_on_2"]
    plays.loc[row, "player3_id"] = 999999  # not on court: marks nothing
    lineup = EventTokenizer.lineup_vectors(plays)
    assert lineup.shape == (len(plays), 20)
    assert np.flatnonzero(lineup[row]).tolist() == [1, 7, 17]  # home slot 2, away slot 3, actor away 3
    assert lineup[np.arange(len(plays)) != row].sum() == 0


def test_unknown_on_court_slot_is_never_marked():
    plays = synthetic_plays(n_games=1)
    plays.loc[5, "player1_id"] = 7
    plays.loc[5, "home_on_1"] = pd.NA
    plays.loc[5, "home_on_2"] = 7
    lineup = EventTokenizer.lineup_vectors(plays)
    assert lineup[5, 0] == 0 and lineup[5, 1] == 1 and lineup[5, 11] == 1


def test_time_left_is_regulation_fraction_and_overtime_clock_on_same_scale():
    t = time_left_fraction(
        np.array([1, 4, 4, 5, 5]), np.array([720, 60, 0, 300, 0.0]), np.array([2880, 60, 0, 0, 0.0])
    )
    np.testing.assert_allclose(t, [1.0, 60 / 2880, 0.0, 300 / 2880, 0.0])
    assert (t >= 0).all() and (t <= 1).all()


def test_rows_out_of_seq_order_are_rejected():
    plays = synthetic_plays(n_games=1).iloc[::-1]
    with pytest.raises(ValueError, match="seq order"):
        EventTokenizer(10.0).encode_events(plays)


def test_invalid_score_std_is_rejected():
    with pytest.raises(ValueError, match="score_diff_std"):
        EventTokenizer(0.0)


def test_tokenizes_every_cut_of_a_real_season_quickly(real_plays_2023):
    """A whole real season: encode once, then all ~570k cuts in batches, no Python loop per event."""
    plays = sort_plays(real_plays_2023)
    tok = EventTokenizer(score_diff_std=12.0)
    t0 = time.perf_counter()
    ev = tok.encode_events(plays)
    t_encode = time.perf_counter() - t0
    gid = plays["game_id"].to_numpy()
    first = np.r_[0, np.flatnonzero(gid[1:] != gid[:-1]) + 1]
    starts = np.repeat(first, np.diff(np.r_[first, len(gid)]))
    cuts = np.arange(len(gid)) + 1
    t0 = time.perf_counter()
    n_tokens = 0
    for lo in range(0, len(cuts), 65536):
        s = tok.sequences(ev, starts[lo : lo + 65536], cuts[lo : lo + 65536])
        n_tokens += int(s["mask"].sum())
        assert (
            np.isfinite(s["score_diff"]).all() and (s["time_left"] >= 0).all() and (s["time_left"] <= 1).all()
        )
    t_cuts = time.perf_counter() - t0
    print(
        f"\nreal 2023-24: {len(plays)} events encoded in {t_encode:.2f} s; {len(cuts)} cuts in {t_cuts:.2f} s"
    )
    assert ev.n_unknown == 0
    assert len(plays) > 500_000
    assert t_encode < 30


def test_running_total_score_is_carried_per_event_and_at_cls():
    plays = synthetic_plays(n_games=1, events_per_period=30)
    tok = EventTokenizer(score_diff_std=10.0)
    ev = tok.encode_events(plays)
    expected = (plays["home_score"] + plays["away_score"]).to_numpy()
    np.testing.assert_array_equal(ev.score_total, expected)
    s = tok.sequence(ev, 0, 40)
    assert s["score_total"][0] == pytest.approx(expected[39] / SCORE_TOTAL_SCALE)
    np.testing.assert_allclose(s["score_total"][1:41], expected[:40] / SCORE_TOTAL_SCALE)
    assert (s["score_total"][41:] == 0).all()
    assert tok.sequence(ev, 0, 0)["score_total"][0] == 0.0


def test_in_game_state_is_carried_per_event_and_at_cls_and_is_full_before_tip_off():
    from nba_pipeline.features.in_game_state import PREGAME_STATE, STATE_SCALE, state_counts

    plays = synthetic_plays(n_games=1, events_per_period=30).assign(action_type=1)  # fouls count
    tok = EventTokenizer(score_diff_std=10.0)
    ev = tok.encode_events(plays)
    expected = state_counts(plays) / STATE_SCALE
    assert (ev.state[:, 2:4] < 5).any(), "the synthetic game should reach some team fouls"
    s = tok.sequence(ev, 0, 40)
    np.testing.assert_allclose(s["state"][0], expected[39])
    np.testing.assert_allclose(s["state"][1:41], expected[:40])
    assert (s["state"][41:] == 0).all()
    np.testing.assert_allclose(tok.sequence(ev, 0, 0)["state"][0], PREGAME_STATE / STATE_SCALE)
