"""Ingestion assets: raw season files -> games, plays, shots, betting_lines, players,
player_game_stats.

Thin wrappers over ``nba_pipeline.ingest``: each says what one season's rows are;
``partitions.materialize_seasons`` stores them (``Database.replace_season``: one transaction per
season, so a failure keeps the previous rows).

``code_version`` names the version of the transform behind each asset's rows: bump it when the
same raw input would give different rows (a fix or a new column in ``nba_pipeline/ingest/``), and
leave it for changes that keep the output, so Dagster shows which stored seasons are stale.
"""

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from nba_pipeline.assets.partitions import materialize_seasons, season_backfill, season_partitions
from nba_pipeline.db import no_rows
from nba_pipeline.ingest import schema
from nba_pipeline.ingest.games import build_games
from nba_pipeline.ingest.lines import build_lines
from nba_pipeline.ingest.player_game_stats import PGS_INPUT_COLUMNS, build_player_game_stats
from nba_pipeline.ingest.players import build_players
from nba_pipeline.ingest.plays import build_plays
from nba_pipeline.ingest.raw import raw_path, read_raw
from nba_pipeline.ingest.shots import build_shots
from nba_pipeline.resources import Database, RawData

GROUP = "ingest"


@dg.asset(
    partitions_def=season_partitions,
    backfill_policy=season_backfill,
    group_name=GROUP,
    kinds={"sql"},
    code_version="1",
    description="One row per game of the season from games.parquet (RS incl. Cup semis / play-in / playoffs "
    "flagged), with final scores and team box totals.",
)
def games(context: dg.AssetExecutionContext, database: Database, raw: RawData) -> dg.MaterializeResult:
    def build(season: str) -> tuple[pd.DataFrame, dict]:
        df = read_raw(raw.dirs(), "games")
        if df is None:
            context.log.warning(f"games {season}: no games.parquet: the season gets no games rows")
            rows = no_rows(schema.games)
        else:
            rows = build_games(df, season)
        counts = rows["game_type"].value_counts().to_dict()
        return rows, {
            "regular_season_games": int(rows["is_regular_season"].sum()),
            "postseason_games": int(rows["is_postseason"].sum()),
            "game_types": dg.MetadataValue.json({str(k): int(v) for k, v in counts.items()}),
        }

    return materialize_seasons(context, database, schema.games, build, raw)


@dg.asset(
    partitions_def=season_partitions,
    backfill_policy=season_backfill,
    group_name=GROUP,
    kinds={"sql"},
    code_version="1",
    description="Every play-by-play event of the season in time order (seq), with parsed clock, acting side, "
    "points, running score and the ten players on court (from the lineups file where one exists).",
)
def plays(context: dg.AssetExecutionContext, database: Database, raw: RawData) -> dg.MaterializeResult:
    def build(season: str) -> tuple[pd.DataFrame, dict]:
        pbp = read_raw(raw.dirs(), "pbp", season)
        if pbp is None:
            raise dg.Failure(
                f"no play-by-play file {raw_path(raw.dirs(), 'pbp', season)} for partition {season}"
            )
        lineups = read_raw(raw.dirs(), "lineups", season)
        if lineups is None:
            context.log.warning(f"plays {season}: no lineups file: on-court columns left NULL")
        rows, rep = build_plays(pbp, lineups, season, source=str(raw_path(raw.dirs(), "pbp", season)))
        if rep.unknown_event_codes:
            context.log.warning(f"plays {season}: unknown event codes kept: {rep.unknown_event_codes}")
        context.log.info(
            f"plays {season}: {rep.games} games, {rep.duplicates_dropped} duplicates dropped, "
            f"lineup coverage {rep.lineup_coverage:.4f}"
        )
        return rows, {
            "games": rep.games,
            "duplicates_dropped": rep.duplicates_dropped,
            "unknown_event_codes": dg.MetadataValue.json(
                {str(k): v for k, v in rep.unknown_event_codes.items()}
            ),
            "unknown_event_rows": sum(rep.unknown_event_codes.values()),
            "score_rows_disagreeing_with_SCORE": rep.score_rows_disagreeing,
            "free_throws_without_MISS_or_SCORE_counted_missed": rep.ft_without_miss_or_score,
            "has_lineups_file": rep.has_lineups_file,
            "lineup_rows_file": rep.lineup_rows_file,
            "lineup_rows_carried": rep.lineup_rows_carried,
            "lineup_rows_missing": rep.lineup_rows_missing,
            "lineup_coverage": float(round(rep.lineup_coverage, 6)),
        }

    return materialize_seasons(context, database, schema.plays, build, raw)


@dg.asset(
    partitions_def=season_partitions,
    backfill_policy=season_backfill,
    group_name=GROUP,
    kinds={"sql"},
    code_version="1",
    description="Shot locations (feet), made flag, player, game and matched pbp event; no rows for a season "
    "without a shots file.",
)
def shots(context: dg.AssetExecutionContext, database: Database, raw: RawData) -> dg.MaterializeResult:
    def build(season: str) -> tuple[pd.DataFrame, dict]:
        df = read_raw(raw.dirs(), "shots", season)
        if df is None:
            context.log.warning(f"shots {season}: no shots file: the season gets no shots rows")
            rows = no_rows(schema.shots)
        else:
            rows = build_shots(df, season)
        n = len(rows)
        return rows, {
            "games": int(rows["game_id"].nunique()) if n else 0,
            "has_shots_file": df is not None,
            "unmatched_to_pbp": int(rows["event_num"].isna().sum()) if n else 0,
        }

    return materialize_seasons(context, database, schema.shots, build, raw)


@dg.asset(
    partitions_def=season_partitions,
    backfill_policy=season_backfill,
    group_name=GROUP,
    kinds={"sql"},
    code_version="1",
    description="The betting market's pregame line per game of the season from odds.parquet: home win "
    "probability (no vig), expected margin, over/under (ingest.lines); no rows without the file.",
)
def betting_lines(
    context: dg.AssetExecutionContext, database: Database, raw: RawData
) -> dg.MaterializeResult:
    def build(season: str) -> tuple[pd.DataFrame, dict]:
        df = read_raw(raw.dirs(), "odds")
        if df is None:
            context.log.warning(f"betting_lines {season}: no odds.parquet: the season gets no lines")
            return no_rows(schema.betting_lines), {"has_odds_file": False, "games": 0}
        rows, rep = build_lines(df, season)
        return rows, {
            "has_odds_file": True,
            "games": rep.rows,
            "games_with_probability": int(rows["market_p_home"].notna().sum()),
            "source_rows_without_game_id": rep.without_game_id,
            "duplicates_dropped": rep.duplicates_dropped,
            "suspect_totals_dropped": rep.suspect_totals,
            "probabilities_outside_0_1": rep.bad_probabilities,
        }

    return materialize_seasons(context, database, schema.betting_lines, build, raw)


@dg.asset(
    group_name=GROUP,
    kinds={"sql"},
    code_version="1",
    description="One row per player: name, height, weight, position (shots position, else mapped from the "
    "bio); missing bios left NULL and counted.",
)
def players(context: dg.AssetExecutionContext, database: Database, raw: RawData) -> dg.MaterializeResult:
    df = read_raw(raw.dirs(), "players")
    if df is None:
        raise dg.Failure(f"no players file {raw_path(raw.dirs(), 'players')}")
    rows, rep = build_players(df)
    n = database.replace_season(schema.players, None, rows)
    context.log.info(f"players: {rep}")
    return dg.MaterializeResult(
        metadata={
            "rows": n,
            "no_height": rep.no_height,
            "no_weight": rep.no_weight,
            "position_from_shots": rep.position_from_shots,
            "position_from_bio": rep.position_from_bio,
            "no_position": rep.no_position,
        }
    )


@dg.asset(
    partitions_def=season_partitions,
    backfill_policy=season_backfill,
    group_name=GROUP,
    kinds={"sql"},
    code_version="1",
    deps=[plays, games],
    description="Box score per player and game derived from plays: points, FG/3P/FT, rebounds, AST, STL, "
    "BLK, TOV, PF, seconds on court and plus-minus (where lineups are known).",
)
def player_game_stats(context: dg.AssetExecutionContext, database: Database) -> dg.MaterializeResult:
    def build(season: str) -> tuple[pd.DataFrame, dict]:
        p = database.read(schema.plays, [season], PGS_INPUT_COLUMNS)
        g = database.read(schema.games, [season])
        rows = build_player_game_stats(p, g, season)
        return rows, {
            "games": int(rows["game_id"].nunique()),
            "players": int(rows["player_id"].nunique()),
            "rows_with_seconds": int(rows["seconds"].notna().sum()),
        }

    return materialize_seasons(context, database, schema.player_game_stats, build)


@dg.asset_check(
    asset=plays,
    additional_deps=[games],
    description="The running score at each game's last event equals the final score in games.",
)
def plays_final_scores_match_games(
    context: dg.AssetCheckExecutionContext, database: Database
) -> dg.AssetCheckResult:
    # One season's run checks that season; a run over several seasons checks every season stored.
    season = context.partition_key if context.has_partition_key else None
    where = "WHERE season = :season" if season else ""
    sql = sa.text(
        f"""SELECT g.game_id, g.home_pts, g.away_pts, p.home_score, p.away_score
           FROM games g
           JOIN (SELECT game_id, MAX(seq) AS s FROM plays {where} GROUP BY game_id) m
             ON m.game_id = g.game_id
           JOIN plays p ON p.game_id = m.game_id AND p.seq = m.s"""
    )
    with database.engine().connect() as conn:
        df = pd.read_sql(sql, conn, params={"season": season} if season else {})
    bad = df[(df["home_pts"] != df["home_score"]) | (df["away_pts"] != df["away_score"])]
    return dg.AssetCheckResult(
        passed=len(df) > 0 and bad.empty,
        metadata={
            "games_checked": len(df),
            "mismatched": len(bad),
            "examples": bad["game_id"].head(5).tolist(),
        },
    )
