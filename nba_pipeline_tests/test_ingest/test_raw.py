"""Season labels: one rule says which season a date is in, for the rolling window, the pull and
live games alike."""

from __future__ import annotations

import datetime as dt

import pytest

from nba_pipeline.ingest.raw import next_season, previous_season, season_label, season_of


def test_a_season_runs_from_july_to_june():
    assert season_of(dt.date(2026, 6, 10)) == "2025-26"  # the Finals close 2025-26
    assert season_of(dt.date(2026, 6, 30)) == "2025-26"
    assert season_of(dt.date(2026, 7, 1)) == "2026-27"  # the league year opens the next one
    assert season_of(dt.date(2026, 1, 15)) == "2025-26"


def test_september_and_october_dates_belong_to_the_season_about_to_start():
    assert season_of(dt.date(2026, 9, 15)) == "2026-27"
    assert season_of(dt.date(2026, 10, 1)) == "2026-27"
    assert season_of(dt.date(2026, 10, 31)) == "2026-27"
    assert season_of(dt.date(1999, 9, 30)) == "1999-00"


def test_labels_follow_each_other_across_a_century():
    assert season_label(2099) == "2099-00"
    assert previous_season("2000-01") == "1999-00"
    assert previous_season(season_of(dt.date(2026, 11, 24))) == "2025-26"
    assert next_season("1999-00") == "2000-01"
    assert next_season(previous_season("2023-24")) == "2023-24"


def test_a_label_not_shaped_yyyy_yy_is_refused_with_the_label():
    for step in (previous_season, next_season):
        with pytest.raises(ValueError, match="'2023'"):
            step("2023")
