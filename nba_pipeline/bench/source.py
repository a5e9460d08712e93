"""Benchmark of the stats.nba.com source on an on-disk cache: convert + ingest a season, and count
the requests a rerun makes when the cache is full.

What is measured, exactly (only real recorded responses exist offline, so the cache is built
from them):

- the season's game list is the real recorded LeagueGameLog 2025-26 (844 finished games,
  2025-10-21 to 2026-02-21, ../shared/data/nba_api);
- every game's PlayByPlayV3 / BoxScoreTraditionalV3 in the cache is the one recorded game
  0022200552 (560 actions, an overtime game: 546 V2 rows, above the ~467 of an average game)
  relabelled with that game's id and team ids. Content is synthetic, sizes and code paths are real;
- ``pull`` = ``nba_pipeline.sources.season.pull_season`` on that cache through the normal client
  (any request would go to nba_api's client, whose session is replaced by a guard that counts and
  refuses): reading 2 x 844 JSON files, converting, writing pbp/games parquet files;
- ``ingest`` = ``ingest.plays.build_plays`` + ``ingest.games.build_games`` on the written files
  (the first ingest stage, as the ``plays``/``games`` assets run it, without the database write);
- the per-game rate is also scaled to a full 1,230-game season (printed as an extrapolation).

    nba-pipeline bench source [--recordings ../shared/data/nba_api] [--keep DIR]
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
import time
from pathlib import Path

from nba_pipeline import settings
from nba_pipeline.ingest.games import build_games
from nba_pipeline.ingest.plays import build_plays
from nba_pipeline.ingest.raw import read_raw
from nba_pipeline.sources.client import ApiSettings, SourceError, StatsClient, atomic_write_json
from nba_pipeline.sources.games import games_from_gamelog
from nba_pipeline.sources.season import pull_season, season_cache_dir

SEASON = "2025-26"
GAME = "0022200552"
FULL_SEASON_GAMES = 1230


class RefuseNetwork:
    """Stands in for nba_api's requests session: counts and refuses every request."""

    calls = 0

    def get(self, **kw: object) -> None:
        RefuseNetwork.calls += 1
        raise AssertionError(f"benchmark made a network request: {kw.get('url')}")


class RecordingError(ValueError):
    """A recording the benchmark is built from is missing or malformed; names the file and field."""


def _recording(path: Path, field: tuple[str, ...]) -> dict:
    """One recorded response, with ``field`` (a path of keys) present, or :class:`RecordingError`."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RecordingError(f"{path}: cannot read the recording ({exc})") from exc
    node = body
    for i, key in enumerate(field):
        if not isinstance(node, dict) or key not in node:
            raise RecordingError(f"{path}: no field {'.'.join(field[: i + 1])!r}")
        node = node[key]
    return body


def build_cache(recordings: Path, pulled: Path) -> int:
    """Fill the pulled dir's cache for SEASON (see the module docstring); returns the game count."""
    resp = recordings / "responses"
    log = _recording(resp / f"leaguegamelog_team_{SEASON}.json", ())
    pbp = _recording(resp / f"playbyplayv3_{GAME}.json", ("game", "actions"))
    box = _recording(resp / f"boxscoretraditionalv3_{GAME}.json", ("boxScoreTraditional", "homeTeam"))
    try:
        games, _ = games_from_gamelog(log, SEASON)
    except SourceError as exc:
        raise RecordingError(f"{resp / f'leaguegamelog_team_{SEASON}.json'}: {exc}") from exc
    client = StatsClient(season_cache_dir(pulled, SEASON))
    atomic_write_json(client.cache_path("leaguegamelog", SEASON), log)
    home0, away0 = 1610612739, 1610612741
    for g in games.itertuples():
        swap = {home0: int(g.team_id_home), away0: int(g.team_id_road)}
        p = copy.deepcopy(pbp)
        p["game"]["gameId"] = g.game_id
        for a in p["game"]["actions"]:
            a["teamId"] = swap.get(a["teamId"], a["teamId"])
            a["personId"] = swap.get(a["personId"], a["personId"])
        atomic_write_json(client.cache_path("playbyplayv3", g.game_id), p)
        b = copy.deepcopy(box)
        bs = b["boxScoreTraditional"]
        bs["gameId"], bs["homeTeamId"], bs["awayTeamId"] = g.game_id, swap[home0], swap[away0]
        bs["homeTeam"]["teamId"], bs["awayTeam"]["teamId"] = swap[home0], swap[away0]
        atomic_write_json(client.cache_path("boxscoretraditionalv3", g.game_id), b)
    return len(games)


DEFAULT_RECORDINGS = settings.REPO_ROOT.parent / "shared" / "data" / "nba_api"


def bench_source(recordings: Path = DEFAULT_RECORDINGS, keep: Path | None = None) -> int:
    """Build the cache from ``recordings`` (in ``keep``, else a temporary dir), pull and ingest the
    season from it and print the times; 1 when the rerun made a request, else 0."""
    from nba_api.stats.library.http import NBAStatsHTTP

    # nba_api's session refuses every request while the bench runs, and is put back after it
    own = NBAStatsHTTP.__dict__.get("get_session")  # None: inherited from nba_api's NBAHTTP
    NBAStatsHTTP.get_session = classmethod(lambda cls: RefuseNetwork())  # type: ignore[method-assign]
    pulled = keep or Path(tempfile.mkdtemp(prefix="bench_source_"))
    try:
        t = time.perf_counter()
        n = build_cache(recordings, pulled)
        t_cache = time.perf_counter() - t
        print(f"cache: {n} games x (PlayByPlayV3 + BoxScoreTraditionalV3) written in {t_cache:.1f} s")

        client = StatsClient(season_cache_dir(pulled, SEASON), ApiSettings())
        t = time.perf_counter()
        rep = pull_season(SEASON, pulled, client, progress=None, with_schedule=False)
        t_pull = time.perf_counter() - t
        t = time.perf_counter()
        dirs = [settings.raw_dir(), pulled]
        plays, prep = build_plays(read_raw(dirs, "pbp", SEASON), None, SEASON)
        games = build_games(read_raw(dirs, "games"), SEASON)
        t_ingest = time.perf_counter() - t
        total = t_pull + t_ingest
        per_game = total / rep.games_pulled
        print(
            f"pull from cache (read JSON, convert, write parquet): {t_pull:.2f} s, {rep.games_pulled} games"
        )
        print(f"ingest (build_plays + build_games): {t_ingest:.2f} s, {prep.rows} plays, {len(games)} games")
        print(f"convert + ingest, measured ({rep.games_pulled} games): {total:.2f} s (goal < 60 s)")
        full = per_game * FULL_SEASON_GAMES
        print(f"convert + ingest, scaled to {FULL_SEASON_GAMES} games (extrapolated): {full:.2f} s")
        print(f"requests made on the rerun with a full cache: {rep.requests} (goal 0)")
        print(f"network attempts refused by the guard: {RefuseNetwork.calls}")
        return 0 if rep.requests == 0 and RefuseNetwork.calls == 0 else 1
    finally:
        if own is None:
            del NBAStatsHTTP.get_session
        else:
            NBAStatsHTTP.get_session = own  # type: ignore[method-assign]
        if keep is None:
            shutil.rmtree(pulled, ignore_errors=True)
