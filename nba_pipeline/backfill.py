"""Backfill seasons through Dagster itself: ``nba-pipeline backfill`` asks a running webserver
(``dagster dev``, or a deployment's) to launch an asset backfill, the same request as the UI's
"Materialize all", and follows it to the end.

Dagster's daemon then launches one run per season (the season assets' backfill policy) as soon as
the earlier seasons that run reads are materialized (the dependencies declared with
``assets.partitions.with_earlier_seasons``), and the run queue admits ``NBA_MAX_CONCURRENT_RUNS``
runs at once: seasons are built in parallel, in an order that gives the rows of a serial run
(``nba-pipeline bench backfill`` checks that and prints the wall times). The command is
:mod:`nba_pipeline.commands.backfill`.
"""

from __future__ import annotations

import json
import time
import urllib.request

DEFAULT_URL = "http://127.0.0.1:3000"
DEFAULT_GROUPS = ("ingest", "analytics")
DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}

LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
  }
}"""
STATUS = """
query Status($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status }
    ... on Error { message }
  }
  runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
    ... on Runs { results { runId status startTime endTime tags { key value } } }
  }
}"""


class BackfillError(RuntimeError):
    """The webserver refused the backfill or it ended in failure; the message says which run."""


def graphql(url: str, query: str, variables: dict, timeout_s: float = 60) -> dict:
    """The ``data`` of one GraphQL request to the webserver at ``url``; errors raise, named."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    req = urllib.request.Request(f"{url}/graphql", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout_s) as r:
        reply = json.loads(r.read())
    if reply.get("errors"):
        raise BackfillError(f"GraphQL error from {url}: {reply['errors']}")
    return reply["data"]


def season_asset_paths(groups: list[str] | tuple[str, ...]) -> list[list[str]]:
    """The asset keys of these groups (``players``, unpartitioned, is in ``ingest``)."""
    from nba_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = [k for k in graph.toposorted_asset_keys if graph.get(k).is_materializable]
    unknown = set(groups) - {graph.get(k).group_name for k in keys}
    if unknown:
        raise BackfillError(f"no asset in group(s) {sorted(unknown)}")
    return [list(k.path) for k in keys if graph.get(k).group_name in groups]


def launch(
    url: str, asset_paths: list[list[str]], partitions: list[str] | None = None, title: str = ""
) -> str:
    """Launch an asset backfill of ``asset_paths`` over ``partitions`` (every season when None);
    returns its id."""
    params: dict = {"assetSelection": [{"path": p} for p in asset_paths], "title": title or None}
    if partitions:
        params["partitionNames"] = partitions
    else:
        params["allPartitions"] = True
    reply = graphql(url, LAUNCH, {"params": params})["launchPartitionBackfill"]
    if reply["__typename"] != "LaunchBackfillSuccess":
        raise BackfillError(f"backfill refused by {url}: {reply['__typename']}: {reply.get('message')}")
    return reply["backfillId"]


def status(url: str, backfill_id: str) -> tuple[str, list[dict]]:
    """The backfill's status and its runs so far (id, status, start and end times, partition)."""
    data = graphql(url, STATUS, {"id": backfill_id})
    backfill = data["partitionBackfillOrError"]
    if backfill["__typename"] != "PartitionBackfill":
        raise BackfillError(f"backfill {backfill_id}: {backfill['__typename']}: {backfill.get('message')}")
    runs = []
    for r in data["runsOrError"].get("results", []):
        tags = {t["key"]: t["value"] for t in r.pop("tags")}
        first, last = (
            tags.get("dagster/asset_partition_range_start"),
            tags.get("dagster/asset_partition_range_end"),
        )
        span = first if first == last else f"{first}...{last}" if first else None
        runs.append({**r, "partition": tags.get("dagster/partition") or span})
    return backfill["status"], runs


def wait(
    url: str, backfill_id: str, timeout_s: float = 6 * 3600, poll_s: float = 5, echo=print
) -> list[dict]:
    """Follow the backfill to its end; its runs when every one succeeded, else BackfillError naming
    the failed runs."""
    deadline, seen = time.monotonic() + timeout_s, {}
    while True:
        state, runs = status(url, backfill_id)
        for r in runs:
            if seen.get(r["runId"]) != r["status"]:
                seen[r["runId"]] = r["status"]
                echo(f"  run {r['runId'][:8]} season {r['partition'] or '-'}: {r['status']}")
        if state in DONE and all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs):
            break
        if time.monotonic() > deadline:
            raise BackfillError(f"backfill {backfill_id} still {state} after {timeout_s:.0f} s")
        time.sleep(poll_s)
    failed = [f"{r['runId']} ({r['partition']})" for r in runs if r["status"] != "SUCCESS"]
    if state != "COMPLETED_SUCCESS" or failed:
        raise BackfillError(f"backfill {backfill_id} ended {state}; runs not successful: {failed}")
    return runs


def max_overlap(runs: list[dict]) -> int:
    """The most runs in progress at one time (from their start and end times)."""
    edges = sorted([(r["startTime"], 1) for r in runs] + [(r["endTime"], -1) for r in runs])
    most = level = 0
    for _, step in edges:
        level += step
        most = max(most, level)
    return most
