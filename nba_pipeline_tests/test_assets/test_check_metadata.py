"""The calibration check as a user sees it, without training: its verdict is the global test,
and its metadata carries the specification's decile table (reported, not blocking)."""

from __future__ import annotations

import dagster as dg
import numpy as np

from nba_pipeline.assets import training
from nba_pipeline.registry import candidate
from nba_pipeline.registry.rules import pregame_quality


class FakeRegistry:
    def __init__(self) -> None:
        self.not_promoted: dict[str, str] = {}

    def mark_not_promoted(self, version: str, reason: str) -> None:
        self.not_promoted[version] = reason


def _judge_with(monkeypatch, p: np.ndarray, y: np.ndarray) -> tuple[dict, FakeRegistry]:
    monkeypatch.setattr(candidate, "judge", lambda registry, version: pregame_quality(p, y))
    monkeypatch.setattr(
        candidate, "compare_with_incumbent", lambda registry, version: (True, {"incumbent": None})
    )
    registry = FakeRegistry()
    results = {r.check_name: r for r in training.judge_version(registry, "v1.0.0")}
    return results, registry


def test_the_calibration_check_keeps_its_name_and_says_what_it_tests():
    spec = {s.name: s for s in training.CHECK_SPECS}["calibration"]
    assert spec.blocking and "Cox's test" in spec.description and "not blocking" in spec.description


def test_the_calibration_check_reports_the_decile_table_beside_its_verdict(monkeypatch):
    rng = np.random.default_rng(0)
    p = rng.beta(3.7, 2.8, size=400).clip(0.02, 0.98)
    y = (rng.random(p.size) < p).astype(float)
    results, registry = _judge_with(monkeypatch, p, y)
    cal = results["calibration"]
    assert cal.passed and cal.severity == dg.AssetCheckSeverity.ERROR
    details = cal.metadata["details"].value
    assert details["statistic"] < details["critical_value"] and len(details["deciles"]["bins"]) == 10
    assert "| decile |" in cal.metadata["decile_table"].value
    assert "decile_table" not in results["span"].metadata
    assert registry.not_promoted == {}  # every blocking rule passed


def test_an_overconfident_model_fails_the_check_and_the_reason_stays_short(monkeypatch):
    rng = np.random.default_rng(1)
    truth = rng.beta(3.7, 2.8, size=400).clip(0.02, 0.98)
    y = (rng.random(truth.size) < truth).astype(float)
    p = np.clip(truth + 0.15 * np.sign(truth - 0.5), 0.01, 0.99)
    results, registry = _judge_with(monkeypatch, p, y)
    assert not results["calibration"].passed
    reason = registry.not_promoted["v1.0.0"]
    assert "calibration" in reason and "statistic" in reason and "bins" not in reason


def test_a_night_with_nothing_trained_judges_the_stored_version_once(monkeypatch):
    rng = np.random.default_rng(2)
    p = rng.beta(3.7, 2.8, size=200).clip(0.02, 0.98)
    y = (rng.random(p.size) < p).astype(float)
    calls: list[str] = []

    def judge(registry, version: str) -> dict:
        calls.append(version)
        return pregame_quality(p, y)

    monkeypatch.setattr(candidate, "judge", judge)
    monkeypatch.setattr(
        candidate, "compare_with_incumbent", lambda registry, version: (True, {"incumbent": None})
    )
    results = training.checks_of_unchanged(FakeRegistry(), "v1.0.0", "no new data")
    assert calls == ["v1.0.0"]
    assert {r.check_name for r in results} == {*training.PROMOTION_RULES, training.INCUMBENT_CHECK}
    assert all(r.severity == dg.AssetCheckSeverity.WARN for r in results)
