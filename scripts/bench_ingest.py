"""Benchmark: ingest one season into a temporary SQLite database and print seconds per table.

    .venv/bin/python scripts/bench_ingest.py [--season 2023-24] [--raw DIR]

Runs the same plain-Python functions as the Dagster assets (read + validate, build, replace the
season's rows in one transaction); Dagster's own overhead is not included.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from nba_pipeline import settings
from nba_pipeline.db import create_tables, make_engine, read_table, replace_rows
from nba_pipeline.ingest import schema
from nba_pipeline.ingest.games import build_games
from nba_pipeline.ingest.player_game_stats import PGS_INPUT_COLUMNS, build_player_game_stats
from nba_pipeline.ingest.players import build_players
from nba_pipeline.ingest.plays import build_plays
from nba_pipeline.ingest.raw import read_raw
from nba_pipeline.ingest.shots import build_shots


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--season", default="2023-24")
    ap.add_argument("--raw", type=Path, default=settings.raw_dir())
    args = ap.parse_args()
    season, raw = args.season, args.raw
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        create_tables(
            engine, [schema.games, schema.plays, schema.shots, schema.players, schema.player_game_stats]
        )
        times: dict[str, float] = {}
        rows: dict[str, int] = {}
        t_all = time.perf_counter()

        t = time.perf_counter()
        g = build_games(read_raw(raw, "games"), season)
        rows["games"] = replace_rows(engine, schema.games, g, {"season": season})
        times["games"] = time.perf_counter() - t

        t = time.perf_counter()
        p, _ = build_plays(read_raw(raw, "pbp", season), read_raw(raw, "lineups", season), season)
        rows["plays"] = replace_rows(engine, schema.plays, p, {"season": season})
        times["plays"] = time.perf_counter() - t

        t = time.perf_counter()
        s_raw = read_raw(raw, "shots", season)
        if s_raw is not None:
            rows["shots"] = replace_rows(engine, schema.shots, build_shots(s_raw, season), {"season": season})
        else:
            rows["shots"] = 0
        times["shots"] = time.perf_counter() - t

        t = time.perf_counter()
        pl, _ = build_players(read_raw(raw, "players"))
        rows["players"] = replace_rows(engine, schema.players, pl, {})
        times["players"] = time.perf_counter() - t

        t = time.perf_counter()  # as the asset does: read plays and games back from the database
        pdb = read_table(engine, schema.plays, where={"season": season}, columns=PGS_INPUT_COLUMNS)
        gdb = read_table(engine, schema.games, where={"season": season})
        pgs = build_player_game_stats(pdb, gdb, season)
        rows["player_game_stats"] = replace_rows(engine, schema.player_game_stats, pgs, {"season": season})
        times["player_game_stats"] = time.perf_counter() - t

        total = time.perf_counter() - t_all
        print(f"ingest benchmark: season {season}, raw {raw}, SQLite in a temporary directory")
        for k, v in times.items():
            print(f"  {k:<18} {rows[k]:>8} rows  {v:6.1f} s")
        print(f"  {'total':<18} {sum(rows.values()):>8} rows  {total:6.1f} s")
        engine.dispose()


if __name__ == "__main__":
    main()
