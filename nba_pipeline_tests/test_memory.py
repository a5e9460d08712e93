"""The allocator settings of a season's build: run in a process of their own, since they are the
process's."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing

import psutil

from nba_pipeline.memory import season_build


def _season_in_miniature() -> tuple[str, float]:
    """Arrow's allocator inside ``season_build``, and the MiB still resident after leaving it,
    having freed 400 MiB of 4 MiB arrays allocated between small objects that stay."""
    import numpy as np
    import pyarrow as pa

    np.ones(30 * 2**17)  # a freed 30 MiB block: glibc's default then takes smaller ones from its heap
    before = psutil.Process().memory_info().rss
    kept = []
    with season_build():
        backend = pa.default_memory_pool().backend_name
        arrays = []
        for _ in range(100):
            arrays.append(np.ones(2**19))
            kept.append(np.ones(64))
        del arrays
    return backend, (psutil.Process().memory_info().rss - before) / 2**20


def test_a_season_build_gives_freed_memory_back_to_the_system():
    with cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        backend, kept_mib = pool.submit(_season_in_miniature).result(timeout=60)
    assert backend == "system"
    assert kept_mib < 20  # glibc's default keeps 40-400 MiB of them, by the process's history
