"""Missing real data skips a test on a developer's machine and fails it under CI (``CI=true``)."""

from __future__ import annotations

import pytest

from nba_pipeline_tests.missing_data import missing_data


def test_missing_data_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no data here"):
        missing_data("no data here")


def test_missing_data_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no data here; CI=true"):
        missing_data("no data here")
