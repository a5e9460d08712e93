"""``nba-pipeline backfill`` pieces that need no webserver (the backfill itself runs against
``dagster dev`` in ``test_assets/test_instance_postgres.py``)."""

from __future__ import annotations

import pytest

from nba_pipeline import backfill
from nba_pipeline.commands import backfill as backfill_command
from nba_pipeline_tests.services import free_port


def test_max_overlap_counts_the_runs_in_progress_at_once():
    runs = [
        {"startTime": 0.0, "endTime": 10.0},
        {"startTime": 5.0, "endTime": 15.0},
        {"startTime": 10.0, "endTime": 20.0},  # starts as the first ends: not three at once
    ]
    assert backfill.max_overlap(runs) == 2
    assert backfill.max_overlap(runs[:1]) == 1
    assert backfill.max_overlap([]) == 0


def test_the_default_groups_are_the_season_tables_and_an_unknown_group_is_named():
    names = {p[-1] for p in backfill.season_asset_paths(backfill.DEFAULT_GROUPS)}
    assert {"games", "plays", "players", "stints", "player_rapm", "season_stats"} <= names
    assert "trained_model" not in names
    with pytest.raises(backfill.BackfillError, match="no_such_group"):
        backfill.season_asset_paths(["ingest", "no_such_group"])


def test_no_webserver_is_a_clear_failure_not_a_traceback(capsys):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert backfill_command.main(["--url", url, "--groups", "ingest"]) == 1
    assert "backfill failed" in capsys.readouterr().err
