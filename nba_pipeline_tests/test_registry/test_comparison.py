"""Which version is better, by each metric's stated direction: never guessed from its name."""

from __future__ import annotations

import math

import pytest

from nba_pipeline.registry.comparison import METRIC_DIRECTIONS, better, metric_direction
from nba_pipeline.registry.errors import RegistryError


def test_every_metric_the_trainer_stores_has_a_direction():
    from nba_pipeline.training.metrics import score

    stored = score([0.6, 0.4], [3.0, -2.0], [220.0, 210.0], [1, 0], [5.0, -1.0], [225.0, 205.0])
    assert set(stored) <= set(METRIC_DIRECTIONS)


@pytest.mark.parametrize(
    ("metric", "a", "b", "expected"),
    [
        ("accuracy", 0.60, 0.63, "b"),
        ("pregame.brier", 0.23, 0.24, "a"),
        ("halftime.log_loss", 0.6, 0.6, "="),
        ("all.margin_mae", 10.0, 9.5, "b"),
        ("all.n", 100, 120, ""),  # a count: no side is better
        ("brier", None, 0.2, ""),
        ("brier", math.nan, 0.2, ""),
    ],
)
def test_better_follows_the_stated_direction(metric, a, b, expected):
    assert better(metric, a, b) == expected


def test_an_unknown_metric_is_an_error_that_says_where_to_state_its_direction():
    with pytest.raises(RegistryError, match=r"'pregame\.skill_loss'.*METRIC_DIRECTIONS"):
        metric_direction("pregame.skill_loss")
