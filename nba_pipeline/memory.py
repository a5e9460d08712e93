"""How a process allocates while it builds a season's tables, and gives the memory back after.

A season's tables are ~570,000 rows built with pandas and Arrow. Inside :func:`season_build`,
glibc's malloc maps every block of 256 KiB or more on its own, so a freed array goes back to the
system at once (its moving threshold otherwise grows to 32 MiB, and a season's 4.5 MB arrays are
carved from a heap that fragments), and Arrow allocates through malloc instead of a pool of its
own (from the first season build on: torch does not use it): a season's plays peak at 0.9 GiB in
one process instead of 1.2 GiB. On leaving, what was freed goes back to the system
(:func:`give_back_freed`) and blocks under 32 MiB stay in the heap again, which training needs:
torch's tensors of a few MB come and go at every step, and mapped one by one they made training
twice as slow (283 s against 155 s).

Every season asset builds inside it (``assets.partitions.materialize_seasons``, the model
inputs), so a run gets this however it is launched: the main job's workers, a backfill's runs,
the UI, ``dagster asset materialize``.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
from collections.abc import Iterator

M_MMAP_THRESHOLD = -3  # malloc.h
SEASON_MMAP_THRESHOLD = 256 * 2**10  # bytes: season_build
HEAP_MMAP_THRESHOLD = 32 * 2**20  # bytes: glibc's own threshold once it has grown, for torch


@contextlib.contextmanager
def season_build() -> Iterator[None]:
    """Allocate for a season's tables while inside (module docstring); give back after."""
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    _glibc("mallopt", M_MMAP_THRESHOLD, SEASON_MMAP_THRESHOLD)
    try:
        yield
    finally:
        _glibc("mallopt", M_MMAP_THRESHOLD, HEAP_MMAP_THRESHOLD)
        give_back_freed()


def give_back_freed() -> None:
    """Hand the memory freed so far back to the system. glibc's malloc and Arrow's pool keep it
    for reuse, so a process would hold its largest season's peak (1.4 GiB after a season's plays)
    through all it does later."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    _glibc("malloc_trim", 0)


def _glibc(function: str, *args: int) -> None:
    """Call one of glibc's malloc tunings; elsewhere (another OS, musl's libc) there is none."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            getattr(ctypes.CDLL("libc.so.6"), function)(*args)
