"""What a test does when the real data of ``../shared`` is absent: on a developer's machine it
skips, saying why; under CI (``CI=true``) it fails, so a broken checkout of the data can never
pass green by skipping every test that reads it."""

from __future__ import annotations

import os

import pytest


def under_ci() -> bool:
    """True when the run is CI's (``CI=true``, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() == "true"


def missing_data(message: str) -> None:
    """Skip the test with ``message``, or fail it under CI."""
    if under_ci():
        pytest.fail(f"{message}; CI=true, so missing data fails the run instead of skipping", pytrace=False)
    pytest.skip(message)
