"""Serial vs parallel backfill of every season, on PostgreSQL data and a PostgreSQL Dagster instance.

For each mode (the run queue admitting one run, then two), a fresh database and instance on a
throw-away PostgreSQL server, ``dagster dev`` (webserver, daemon, code location) over the real
definitions, and one asset backfill of the ingest and analytics groups over every season
(``nba_pipeline.backfill``, the UI's "Materialize all"). Prints the wall time of each, their ratio,
the peak number of server connections (``pg_stat_activity``), and per table the row count and a
checksum of its contents in both modes; exits 1 when a table differs.

    nba-pipeline bench backfill                       # all nine seasons (~35 min here)
    nba-pipeline bench backfill --games 80 --seasons 2021-22 2022-23 2023-24

It starts its servers with the test suite's helpers (``nba_pipeline_tests.services``: a throw-away
PostgreSQL server, ``dagster dev``), so it runs from a checkout of the repository only.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from nba_pipeline import settings

DEFAULT_RAW = settings.REPO_ROOT.parent / "shared" / "data" / "nba"


def run_backfill(
    server, mode: str, max_runs: int, raw: Path, seasons: list[str], groups: list[str], work: Path
) -> tuple:
    """One backfill in its own database, instance and ``dagster dev``: (wall s, runs, peak, url)."""
    from nba_pipeline import backfill
    from nba_pipeline.dagster_home import instance_yaml
    from nba_pipeline_tests.services import ConnectionPeak, dagster_dev

    env = {
        "NBA_RAW_DIR": str(raw),
        "NBA_DATA_DIR": str(work / f"data_{mode}"),
        "NBA_DATABASE_URL": server.fresh_database(f"nba_{mode}"),
        "NBA_DAGSTER_PG_URL": server.fresh_database(f"dagster_{mode}"),
        "NBA_MAX_CONCURRENT_RUNS": str(max_runs),
        "DAGSTER_HOME": str(work / f"home_{mode}"),
    }
    home = Path(env["DAGSTER_HOME"])
    home.mkdir(parents=True)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # instance_yaml() and the asset list read the environment
    try:
        (home / "dagster.yaml").write_text(instance_yaml())
        paths = backfill.season_asset_paths(groups)
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    print(f"\n[{mode}] max {max_runs} run(s) at once: starting dagster dev", flush=True)
    log = work / f"dagster_dev_{mode}.log"
    with dagster_dev(env, log, wait_s=300) as url, ConnectionPeak(server.url, every_s=0.5) as peak:
        t0 = time.perf_counter()
        backfill_id = backfill.launch(url, paths, seasons, title=f"bench {mode}")
        runs = backfill.wait(url, backfill_id, poll_s=3, echo=lambda s: print(s, flush=True))
        wall = time.perf_counter() - t0
    most = backfill.max_overlap(runs)
    print(f"[{mode}] {len(runs)} runs in {wall:.0f} s, at most {most} at once", flush=True)
    return wall, runs, peak.peak, env["NBA_DATABASE_URL"]


def fingerprints(url: str, groups: list[str]) -> dict[str, tuple[int, str]]:
    """(rows, checksum) of every table the groups' assets write (each asset writes its namesake)."""
    import sqlalchemy as sa

    from nba_pipeline.backfill import season_asset_paths
    from nba_pipeline.db import metadata, table_fingerprint

    names = [p[-1] for p in season_asset_paths(groups) if p[-1] in metadata.tables]
    engine = sa.create_engine(url)
    try:
        return {t: table_fingerprint(engine, metadata.tables[t]) for t in names}
    finally:
        engine.dispose()


def bench_backfill(
    raw: Path = DEFAULT_RAW,
    seasons: list[str] | None = None,
    games: int | None = None,
    groups: list[str] | tuple[str, ...] = ("ingest", "analytics"),
) -> int:
    """Backfill ``seasons`` of ``raw`` (every one; ``games``: the first N of each) serially, then
    two at a time, and print the times and each table's checksum; 1 when a table differs."""
    from nba_pipeline.ingest.raw import seasons_in

    try:
        from nba_pipeline_tests.services import make_raw_slice, postgres_server
    except ModuleNotFoundError as exc:
        print(f"error: bench backfill needs a checkout of the repository ({exc})", file=sys.stderr)
        return 2
    groups = list(groups)
    chosen = seasons or seasons_in(raw)
    work = Path(tempfile.mkdtemp(prefix="bench_backfill_"))
    if games or seasons:
        raw = make_raw_slice(raw, work / "raw", dict.fromkeys(chosen, games))
    seasons = chosen
    os.environ["NBA_RAW_DIR"] = str(raw)  # the partitions of the definitions imported below
    print(f"seasons {seasons}, {'first ' + str(games) if games else 'all'} games; work dir {work}")

    with postgres_server() as server:
        results = {
            mode: run_backfill(server, mode, n, raw, seasons, groups, work)
            for mode, n in (("serial", 1), ("parallel", 2))
        }
        prints = {mode: fingerprints(r[3], groups) for mode, r in results.items()}

    print(f"\n{'table':<20} {'rows':>10}  {'checksum serial':>18}  {'checksum parallel':>18}  equal")
    differ = []
    for table, (rows, checksum) in prints["serial"].items():
        other = prints["parallel"][table]
        same = other == (rows, checksum)
        differ += [] if same else [table]
        flag = "yes" if same else "NO"
        print(f"{table:<20} {rows:>10}  {checksum[-16:]:>18}  {other[1][-16:]:>18}  {flag}")
    (ws, rs, ps, _), (wp, rp, pp, _) = results["serial"], results["parallel"]
    print(f"\nserial:   {ws:7.0f} s wall, {len(rs)} runs, peak {ps} server connections")
    print(f"parallel: {wp:7.0f} s wall, {len(rp)} runs, peak {pp} server connections")
    print(f"parallel / serial wall time: {wp / ws:.2f} ({os.cpu_count()} CPU cores)")
    if differ:
        print(f"tables that differ: {differ}", file=sys.stderr)
        return 1
    print("every table: same rows and checksum")
    return 0
