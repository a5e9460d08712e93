"""The project's Dagster home: ``<data dir>/dagster_home`` with telemetry off.

Without DAGSTER_HOME Dagster writes to ~/.dagster and tries to send telemetry; every entry point
of the project (``python -m nba_pipeline.run``, the tests) calls :func:`ensure_dagster_home`.
``python -m nba_pipeline.dagster_home`` creates it and prints its path, for
``export DAGSTER_HOME=$(python -m nba_pipeline.dagster_home)`` before ``dagster dev`` / ``dg dev``.
"""

from __future__ import annotations

import os
from pathlib import Path

from nba_pipeline import settings

DAGSTER_YAML = """\
# Written by nba_pipeline.dagster_home: local instance of the project, no telemetry.
telemetry:
  enabled: false
"""


def dagster_home_dir() -> Path:
    return settings.data_dir() / "dagster_home"


def ensure_dagster_home(set_env: bool = True) -> Path:
    """Create the Dagster home (with a dagster.yaml that disables telemetry) and point
    ``DAGSTER_HOME`` at it unless the variable is already set. Returns the home in use."""
    if os.environ.get("DAGSTER_HOME"):
        home = Path(os.environ["DAGSTER_HOME"])
    else:
        home = dagster_home_dir()
        if set_env:
            os.environ["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text(DAGSTER_YAML)
    return home


if __name__ == "__main__":
    print(ensure_dagster_home())
