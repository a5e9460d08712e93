"""Seasons after the shipped files, pulled from stats.nba.com (V3 endpoints, ``nba_api``).

``pulled_season`` writes one season's raw-contract files (``pbp_``, ``games_``, ``shots_``,
``schedule_<season>.parquet``) into the pulled dir (``RawData.pulled_dir()``, ``NBA_PULLED_DIR``),
through :func:`nba_pipeline.sources.season.pull_season`: cached responses are reused, so a rerun
asks only for the games finished since the last pull. The pulled ``pbp_<season>.parquet`` is a
season partition of every season asset from the next definitions load on (``assets.partitions``),
nothing downstream changes.

Its own partitions: every season after the last shipped one up to the current one
(``ingest.raw.season_of`` today), plus seasons already pulled; a season with a shipped file is
never pulled over. ``pool="stats_nba_com"`` (limit 1, ``nba_pipeline.dagster_home``) lets one
run at a time talk to stats.nba.com.
"""

import datetime as dt

import dagster as dg

from nba_pipeline.ingest.raw import season_label, season_of, seasons_in
from nba_pipeline.resources import RawData, StatsApi

GROUP = "sources"
POOL = "stats_nba_com"


def current_season(today: dt.date | None = None) -> str:
    """The NBA season under way (or the next one, off-season) on ``today``."""
    return season_of(today or dt.date.today())


def pullable_seasons(raw: RawData, today: dt.date | None = None) -> list[str]:
    """Seasons after the last shipped one up to the current one, plus seasons already pulled,
    minus any season that has a shipped file."""
    shipped = set(seasons_in(raw.dir()))
    pulled = set(seasons_in(raw.pulled_dir()))
    last = int(current_season(today)[:4])
    first = int(max(shipped)[:4]) + 1 if shipped else last
    return sorted(({season_label(y) for y in range(first, last + 1)} | pulled) - shipped)


pull_partitions = dg.StaticPartitionsDefinition(pullable_seasons(RawData()))


@dg.asset(
    partitions_def=pull_partitions,
    pool=POOL,
    group_name=GROUP,
    kinds={"parquet"},
    code_version="1",
    description="A season from stats.nba.com (LeagueGameLog, ScheduleLeagueV2, PlayByPlayV3, "
    "BoxScoreTraditionalV3) written as raw-contract files in the pulled dir; responses cached, "
    "only missing games are fetched; quirks (duplicates, neutral-site sides, games without "
    "play-by-play yet) counted.",
)
def pulled_season(
    context: dg.AssetExecutionContext, raw: RawData, stats_api: StatsApi
) -> dg.MaterializeResult:
    from nba_pipeline.sources.client import SourceError
    from nba_pipeline.sources.season import pull_season, season_cache_dir

    season = context.partition_key
    shipped = raw.dir() / f"pbp_{season}.parquet"
    if shipped.exists():
        raise dg.Failure(f"{season} has a shipped play-by-play file {shipped}: it is not pulled over")
    out = raw.pulled_dir()
    client = stats_api.client(season_cache_dir(out, season))
    try:
        rep = pull_season(season, out, client, progress=context.log.info)
    except SourceError as exc:
        raise dg.Failure(f"pull {season}: {exc}") from exc
    if rep.games_without_pbp:
        context.log.warning(f"{season}: {len(rep.games_without_pbp)} finished games without play-by-play yet")
    return dg.MaterializeResult(
        metadata={
            "games_pulled": rep.games_pulled,
            "games_in_log": rep.games_in_log,
            "games_scheduled": rep.games_scheduled,
            "pbp_rows": rep.pbp_rows,
            "shots": rep.shots,
            "requests": rep.requests,
            "cache_hits": rep.cache_hits,
            "retries": rep.retries,
            "seconds": rep.seconds,
            "quirks": dg.MetadataValue.json(
                {
                    "games_without_pbp": rep.games_without_pbp,
                    "home_side_swapped": rep.home_side_swapped,
                    "neutral_home_guessed": rep.neutral_home_guessed,
                    "teams_disagree": rep.teams_disagree,
                    "score_mismatch": rep.score_mismatch,
                    "duplicate_actions_dropped": rep.duplicate_actions_dropped,
                    "names_unresolved": rep.names_unresolved,
                    "unmapped_subtypes": rep.unmapped_subtypes,
                    "boxes_missing": rep.boxes_missing,
                }
            ),
            "files": dg.MetadataValue.json(rep.files),
        }
    )
