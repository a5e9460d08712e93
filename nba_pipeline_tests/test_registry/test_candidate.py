"""The release steps' bookkeeping: which versions still wait for their verdict."""

from __future__ import annotations

from nba_pipeline.registry.candidate import awaits_verdict
from nba_pipeline_tests.test_registry.test_store import save


def test_a_saved_version_awaits_its_verdict_until_promoted_or_marked_not_promoted(reg):
    """A version whose run died after the save and before the checks or the promotion is the one
    the next run judges; a judged version (either way) is not judged again."""
    first, second = save(reg, seed=0), save(reg, seed=1)
    assert awaits_verdict(reg, first) and awaits_verdict(reg, second)
    reg.promote(first)
    reg.mark_not_promoted(second, "asset checks ['pregame_brier'] failed")
    assert not awaits_verdict(reg, first) and not awaits_verdict(reg, second)
