"""The player index and chemistry layout shared by a season's build and a live cut."""

from __future__ import annotations

import numpy as np

from nba_pipeline.features.game_players import chemistry_matrices, game_players


def test_a_season_index_equals_each_game_indexed_alone():
    on = np.array(
        [
            [5, 3, 0, 0, 0, 9, 0, 0, 0, 0],
            [3, 7, 0, 0, 0, 9, 0, 0, 0, 0],
            [4, 0, 0, 0, 0, 2, 0, 0, 0, 0],
            [0] * 10,
        ],
        dtype=np.int64,
    )
    game = np.array([0, 0, 1, 2])
    season = game_players(game, on, 3)
    assert season.offsets.tolist() == [0, 4, 6, 6]
    assert season.player_id.tolist() == [3, 5, 7, 9, 2, 4]
    assert season.slots[0, :2].tolist() == [1, 0] and season.slots[0, 2] == -1
    for g in range(3):
        rows = game == g
        alone = game_players(np.zeros(rows.sum(), np.int64), on[rows], 1)
        lo, hi = season.offsets[g], season.offsets[g + 1]
        assert alone.player_id.tolist() == season.player_id[lo:hi].tolist()
        assert (alone.slots == season.slots[rows]).all()


def test_chemistry_is_row_major_per_game_with_a_zero_diagonal():
    on = np.array([[1, 2, 0, 0, 0, 3, 0, 0, 0, 0], [4, 0, 0, 0, 0, 5, 0, 0, 0, 0]], dtype=np.int64)
    players = game_players(np.array([0, 1]), on, 2)
    asked = []

    def minutes(g: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        asked.append((g.tolist(), a.tolist(), b.tolist()))
        return (10 * a + b).astype(float)

    offsets, chem = chemistry_matrices(players, minutes)
    assert offsets.tolist() == [0, 9, 13]
    assert chem.dtype == np.float32
    assert chem[:9].reshape(3, 3).tolist() == [[0, 12, 13], [21, 0, 23], [31, 32, 0]]
    assert chem[9:].reshape(2, 2).tolist() == [[0, 45], [54, 0]]
    assert asked[0][0] == [0] * 6 + [1] * 2  # the diagonal is never asked
