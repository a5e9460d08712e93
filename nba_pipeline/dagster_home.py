"""The project's Dagster home: ``<data dir>/dagster_home`` with telemetry off.

Without DAGSTER_HOME Dagster writes to ~/.dagster and tries to send telemetry; every entry point
of the project (``python -m nba_pipeline.run``, the tests) calls :func:`ensure_dagster_home`.
``python -m nba_pipeline.dagster_home`` creates it and prints its path, for
``export DAGSTER_HOME=$(python -m nba_pipeline.dagster_home)`` before ``dagster dev`` / ``dg dev``.

The instance is configured from the environment (the dagster.yaml is rewritten when it is the
project's own and the environment changed; a hand-written one is left alone):

- ``NBA_DAGSTER_PG_URL`` (e.g. ``postgresql+psycopg2://user:pass@host:5432/dagster``): runs, event logs and
  schedules in PostgreSQL (dagster-postgres), for a team or several machines; SQLite files in the
  home when unset.
- ``NBA_MAX_CONCURRENT_RUNS`` (default 2): the run queue's limit, e.g. two seasons in parallel.
- Concurrency pools hold one run step at a time each: ``stats_nba_com`` (one run talks to
  stats.nba.com) and ``training`` (one training at a time).
"""

from __future__ import annotations

import os
from pathlib import Path

from nba_pipeline import settings

HEADER = "# Written by nba_pipeline.dagster_home from the environment; edit the environment, not this file."


def instance_yaml() -> str:
    """The project's dagster.yaml for the current environment."""
    text = f"{HEADER}\ntelemetry:\n  enabled: false\n"
    if os.environ.get("NBA_DAGSTER_PG_URL"):
        text += "storage:\n  postgres:\n    postgres_url:\n      env: NBA_DAGSTER_PG_URL\n"
    runs = int(os.environ.get("NBA_MAX_CONCURRENT_RUNS", "2"))
    text += f"concurrency:\n  runs:\n    max_concurrent_runs: {runs}\n  pools:\n    default_limit: 1\n"
    return text


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
    wanted = instance_yaml()
    if not cfg.exists() or (cfg.read_text().startswith(HEADER) and cfg.read_text() != wanted):
        tmp = cfg.with_name(f".dagster.yaml.{os.getpid()}")
        tmp.write_text(wanted)
        os.replace(tmp, cfg)
    return home


if __name__ == "__main__":
    print(ensure_dagster_home())
