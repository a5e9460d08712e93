"""File I/O that keeps a registry whole: durable writes (fsynced file and directory), atomic
replacement, the registry-wide lock, sha256 of stored files and the JSON every file is written as.

Why: a version is written into a temporary directory, every file fsynced, then renamed into place,
so it exists whole or not at all; :func:`locked` makes concurrent saves take different versions."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nba_pipeline.registry.errors import RegistryError
from nba_pipeline.registry.layout import LOCK_FILE, TMP_PREFIX


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (weights files can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a created or renamed file) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes_durable(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` so readers see the old or the new content, never a torn file."""
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}-{uuid.uuid4().hex}")
    try:
        write_bytes_durable(tmp, text.encode("utf-8"))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    fsync_dir(path.parent)


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``<root>/.lock``, released when the holder ends (even killed)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def json_default(obj: Any) -> Any:
    """JSON for the values a trainer naturally has: numpy scalars/arrays, dates, paths, tensors."""
    if isinstance(obj, dt.datetime | dt.date):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, set | frozenset | tuple):
        return sorted(obj) if isinstance(obj, set | frozenset) else list(obj)
    for attr in ("tolist", "item"):  # numpy arrays/scalars, torch tensors, pandas Timestamps go above
        if hasattr(obj, attr):
            return getattr(obj, attr)()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise TypeError(f"value of type {type(obj).__name__} is not JSON-serializable: {obj!r:.80}")


def dumps(obj: Any, what: str) -> str:
    """The JSON text of a stored file; NaN, infinity and foreign types are a RegistryError naming
    ``what``, raised before anything is written."""
    try:
        return json.dumps(obj, indent=2, sort_keys=True, default=json_default, allow_nan=False)
    except ValueError as exc:  # NaN / inf
        raise RegistryError(
            f"{what} contains NaN or infinity ({exc}); store None for a missing value"
        ) from exc
    except TypeError as exc:
        raise RegistryError(f"{what} is not JSON-serializable: {exc}") from exc
