"""How the suite is spread over pytest-xdist workers (``-n 3`` in pyproject.toml, on two cores).

A worker builds each module- and session-scoped fixture it needs itself, so the tests that share
one run on the same worker: a file is one unit of work, and so is a directory whose conftest builds
a session fixture its files share (a real slice, a season ingested once).

Two workers run the units that compute, slow units first (``slow`` marker), so that neither is
left with a long one at the end. A third runs only the units of :data:`WAITING` (the PostgreSQL
backfill, which spends three quarters of its two and a half minutes waiting for Dagster's daemon
and used 23% of a core): while it waits, the two others have both cores. With fewer than three
workers every worker takes every kind of unit.

xdist's own ``--dist loadgroup`` renames node ids, which pytest 9 no longer lets a plugin do; this
scheduler gives xdist's scope scheduling the units above instead.
"""

from __future__ import annotations

import os

import pytest

SHARED_BY_DIRECTORY = {"test_analytics", "test_features", "test_forecast", "test_ingest", "test_sources"}
WAITING = {"nba_pipeline_tests/test_assets/test_instance_postgres.py"}

if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one torch thread per worker (and its subprocesses)


def work_unit(nodeid: str) -> str:
    """The test's unit of work: its file, or its directory where that shares a session fixture."""
    parts = nodeid.split("::")[0].split("/")
    return parts[1] if len(parts) > 2 and parts[1] in SHARED_BY_DIRECTORY else "/".join(parts)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Units with a slow test first; the order within a unit is kept."""
    slow = {work_unit(item.nodeid) for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: work_unit(item.nodeid) not in slow)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    from xdist.scheduler import LoadScopeScheduling

    class ByWorkUnit(LoadScopeScheduling):
        """xdist's scope scheduling with :func:`work_unit` as the scope, in collection order, and
        the last of three or more workers kept for the waiting units."""

        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

        def _next_unit(self, node) -> str | None:
            """The first queued unit this node takes: the waiting node only waiting units, the
            others computing units first, then whatever is left."""
            nodes = self.nodes
            if len(nodes) >= 3 and node is nodes[-1]:
                return next((s for s in self.workqueue if s in WAITING), None)
            return next((s for s in self.workqueue if s not in WAITING), next(iter(self.workqueue), None))

        def _assign_work_unit(self, node) -> None:
            scope = self._next_unit(node)
            if scope is None:
                node.shutdown()  # it finishes what it holds first
                return
            self.workqueue.move_to_end(scope, last=False)  # the base class takes the first unit
            super()._assign_work_unit(node)

        def _reschedule(self, node) -> None:
            if not node.shutting_down and self.workqueue and self._next_unit(node) is None:
                node.shutdown()
                return
            super()._reschedule(node)

    config.option.loadscopereorder = False  # keep the slow units first
    return ByWorkUnit(config, log)
