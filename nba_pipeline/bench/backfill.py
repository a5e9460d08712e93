"""Serial vs parallel backfill of every season, on PostgreSQL data and a PostgreSQL Dagster instance.

For each mode (the run queue admitting one run, then two), a fresh database and instance on a
throw-away PostgreSQL server, ``dagster dev`` (webserver, daemon, code location) over the real
definitions, and one asset backfill of the ingest and analytics groups over every season
(``nba_pipeline.backfill``, the UI's "Materialize all"). Prints the wall time of each, their ratio,
the peak number of server connections (``pg_stat_activity``), and per table the row count and a
checksum of its contents in both modes; exits 1 when a table differs.

    .venv/bin/python scripts/bench_backfill.py                       # all nine seasons (~35 min here)
    .venv/bin/python scripts/bench_backfill.py --games 80 --seasons 2021-22 2022-23 2023-24
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw", type=Path, default=REPO.parent / "shared" / "data" / "nba")
    ap.add_argument("--seasons", nargs="*", help="seasons to backfill (default: every season of --raw)")
    ap.add_argument("--games", type=int, help="only the first N games of each season (default: all)")
    ap.add_argument("--groups", nargs="+", default=["ingest", "analytics"])
    args = ap.parse_args(argv)

    from nba_pipeline.ingest.raw import seasons_in
    from nba_pipeline_tests.services import make_raw_slice, postgres_server

    seasons = args.seasons or seasons_in(args.raw)
    work = Path(tempfile.mkdtemp(prefix="bench_backfill_"))
    raw = args.raw
    if args.games or args.seasons:
        raw = make_raw_slice(args.raw, work / "raw", dict.fromkeys(seasons, args.games))
    os.environ["NBA_RAW_DIR"] = str(raw)  # the partitions of the definitions imported below
    print(f"seasons {seasons}, {'first ' + str(args.games) if args.games else 'all'} games; work dir {work}")

    with postgres_server() as server:
        results = {
            mode: run_backfill(server, mode, n, raw, seasons, args.groups, work)
            for mode, n in (("serial", 1), ("parallel", 2))
        }
        prints = {mode: fingerprints(r[3], args.groups) for mode, r in results.items()}

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


if __name__ == "__main__":
    sys.exit(main())
