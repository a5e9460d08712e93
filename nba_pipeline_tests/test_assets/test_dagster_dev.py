"""`dagster dev` serves the UI with the full asset graph: started on 127.0.0.1 (``services.dagster_dev``),
asked over GraphQL for the asset keys and checks, stopped by process group."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from nba_pipeline_tests.services import dagster_dev

pytestmark = pytest.mark.slow

EXPECTED_ASSETS = {
    "games", "plays", "shots", "betting_lines", "players", "player_game_stats", "stints", "player_rapm",
    "lineup_spacing",
    "player_features", "team_game_features", "season_stats", "tokenized_sequences", "lineup_graphs",
    "context_features", "trained_model", "promoted_model", "evaluation_report",
}  # fmt: skip
EXPECTED_CHECKS = {"pregame_accuracy", "pregame_brier", "calibration", "span", "not_worse_than_latest"}
QUERY = (
    """{ assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name } } } } }"""
)


def _graphql(url: str) -> dict:
    req = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_dagster_dev_serves_every_asset_and_check_over_graphql(tmp_path):
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dagster_dev({"DAGSTER_HOME": str(tmp_path)}, tmp_path / "dev.log") as url:
        deadline, data = time.monotonic() + 120, {}
        while not data.get("data", {}).get("assetNodes") and time.monotonic() < deadline:
            data = _graphql(url)  # the code location may still be loading
            time.sleep(1)
        nodes = data["data"]["assetNodes"]
        keys = {"/".join(n["assetKey"]["path"]) for n in nodes}
        checks = {c["name"] for n in nodes for c in (n["assetChecksOrError"] or {}).get("checks", [])}
        assert keys >= EXPECTED_ASSETS, EXPECTED_ASSETS - keys
        assert checks >= EXPECTED_CHECKS, EXPECTED_CHECKS - checks
