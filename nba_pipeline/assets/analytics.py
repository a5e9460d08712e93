"""Analytics assets: stints, RAPM, lineup spacing, player and team features, season statistics.

Thin wrappers over ``nba_pipeline.analytics``: each reads the season (and the previous season
where a prior is needed) through ``Database.read`` and says what the season's rows are;
``partitions.materialize_seasons`` stores them, one transaction per season, oldest season first.

``code_version``: bump an asset's version when the same stored inputs would give different rows
(a change in ``nba_pipeline/analytics/``), and leave it for changes that keep the output.
"""

import dagster as dg
import pandas as pd

from nba_pipeline.analytics import schema as aschema
from nba_pipeline.analytics import team_game_table
from nba_pipeline.analytics.player_features import build_player_features
from nba_pipeline.analytics.rapm import final_ratings, out_of_sample_r2, rapm_snapshots
from nba_pipeline.analytics.season_stats import build_season_stats
from nba_pipeline.analytics.spacing import build_lineup_spacing
from nba_pipeline.analytics.stints import (
    EVIDENCE_COLUMNS,
    ON_COURT,
    PLAY_COLUMNS,
    build_stints,
    complete_lineups,
    lineup_agreement,
    reconstruct_lineups,
)
from nba_pipeline.analytics.team_strength import PRIOR_SEASONS
from nba_pipeline.assets.partitions import (
    SEASONS,
    earlier_seasons,
    materialize_seasons,
    season_backfill,
    season_partitions,
    with_earlier_seasons,
)
from nba_pipeline.ingest import schema as ischema
from nba_pipeline.ingest.raw import previous_season
from nba_pipeline.resources import Database

GROUP = "analytics"
STINT_PLAY_COLUMNS = [*PLAY_COLUMNS, "season", *EVIDENCE_COLUMNS, *ON_COURT, "lineup_source"]


def _dates_to_date(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    for c in cols:
        df[c] = pd.to_datetime(df[c]).dt.date
    return df


@dg.asset(
    partitions_def=season_partitions,
    backfill_policy=season_backfill,
    group_name=GROUP,
    kinds={"sql"},
    code_version="1",
    deps=["plays", "games"],
    description="Maximal intervals with the same ten players on court, with points and counted possessions "
    "per side; lineups rebuilt from the play-by-play where the season (or game) has no lineups file.",
)
def stints(context: dg.AssetExecutionContext, database: Database) -> dg.MaterializeResult:
    def build(season: str) -> tuple[pd.DataFrame, dict]:
        plays = database.read(ischema.plays, [season], STINT_PLAY_COLUMNS)
        games = database.read(ischema.games, [season])
        if plays.empty:
            raise dg.Failure(f"stints {season}: no plays rows (materialize plays first)")
        meta: dict[str, object] = {}
        has_file = bool((plays["lineup_source"] == "file").any())
        if has_file:
            agree = lineup_agreement(reconstruct_lineups(plays, games), plays)
            meta["reconstruction_agreement"] = float(agree.get(season, float("nan")))
            context.log.info(
                f"stints {season}: rebuilt lineups agree with the lineups file on {agree.to_dict()}"
            )
        full = complete_lineups(plays, games)
        rows = build_stints(full, games)
        rows = _dates_to_date(rows, ["game_date"])
        meta.update(
            games=int(rows["game_id"].nunique()),
            rebuilt_stints=int((rows["lineup_source"] == "rebuilt").sum()),
            has_lineups_file=has_file,
        )
        return rows, meta

    return materialize_seasons(context, database, aschema.stints, build)


@dg.asset(
    partitions_def=season_partitions,
    backfill_policy=season_backfill,
    group_name=GROUP,
    kinds={"sql"},
    code_version="1",
    deps=[dg.AssetDep("stints", partition_mapping=with_earlier_seasons(len(SEASONS)))],
    description="Weekly as-of RAPM (offense / defense ridge on stints, prior = previous season's final "
    "ratings, lambda by grouped cross-validation).",
)
def player_rapm(context: dg.AssetExecutionContext, database: Database) -> dg.MaterializeResult:
    def build(season: str) -> tuple[pd.DataFrame, dict]:
        st = database.read(aschema.stints, [season])
        if st.empty:
            raise dg.Failure(f"player_rapm {season}: no stints (materialize stints first)")
        # The prior is the previous season's final ratings, recomputed here from the stints of the
        # seasons before (not read from player_rapm): a season depends on nothing built after it.
        earlier = earlier_seasons(season)
        by_season = dict(tuple(database.read(aschema.stints, earlier).groupby("season")))
        prior = final_ratings([by_season.get(s, st.iloc[:0]) for s in earlier])
        if prior is None:
            context.log.warning(f"player_rapm {season}: no stints the season before: prior 0")
        rows, fits = rapm_snapshots(st, prior)
        r2 = out_of_sample_r2(st, fits)
        rows["season"] = season
        context.log.info(f"player_rapm {season}: out-of-sample {r2}")
        return rows, {
            "snapshots": len(fits),
            "oos_r2_next_week_stints": r2["r2_rapm"],
            "oos_r2_intercept_only": r2["r2_intercept_only"],
            "used_prior_season": prior is not None,
            "final_lambda": float(fits[-1][1].lam),
        }

    return materialize_seasons(context, database, aschema.player_rapm, build)


@dg.asset(
    partitions_def=season_partitions,
    backfill_policy=season_backfill,
    group_name=GROUP,
    kinds={"sql"},
    code_version="1",
    deps=["stints", dg.AssetDep("shots", partition_mapping=with_earlier_seasons(3)), "games"],
    description="Per game and team: convex hull area (sq ft) of the starters' and the used lineups' average "
    "shot locations from shots before the game; NULL + flag where a player has no known location.",
)
def lineup_spacing(context: dg.AssetExecutionContext, database: Database) -> dg.MaterializeResult:
    def build(season: str) -> tuple[pd.DataFrame, dict]:
        st = database.read(aschema.stints, [season])
        games = database.read(ischema.games, [season])
        shots = team_game_table.read_shot_window(database.read, season)
        if shots.empty:
            context.log.warning(
                f"lineup_spacing {season}: no shots in this or the 3 previous seasons: all missing"
            )
        rows = build_lineup_spacing(st, shots, games, season)
        return rows, {"starters_missing_share": float(rows["starters_missing"].mean()) if len(rows) else 1.0}

    return materialize_seasons(context, database, aschema.lineup_spacing, build)


@dg.asset(
    partitions_def=season_partitions,
    backfill_policy=season_backfill,
    group_name=GROUP,
    kinds={"sql"},
    code_version="1",
    deps=[
        dg.AssetDep("plays", partition_mapping=with_earlier_seasons(1)),
        dg.AssetDep("stints", partition_mapping=with_earlier_seasons(1)),
        "players",
        "player_rapm",
    ],
    description="Player node features (the 16 NODE_FEATURES + has_history) as-of every game date of the "
    "season.",
)
def player_features(context: dg.AssetExecutionContext, database: Database) -> dg.MaterializeResult:
    def build(season: str) -> tuple[pd.DataFrame, dict]:
        seasons = [previous_season(season), season]
        cols = ["game_id", "event_type", "is_made", "player1_id", "player2_id", "description"]
        plays = database.read(ischema.plays, seasons, cols)
        st = database.read(aschema.stints, seasons)
        players = database.read(ischema.players)
        rapm = database.read(aschema.player_rapm, [season])
        rows = build_player_features(plays, st, players, rapm, season)
        return rows, {
            "snapshots": int(rows["as_of_date"].nunique()),
            "share_with_history": float(rows["has_history"].mean()),
        }

    return materialize_seasons(context, database, aschema.player_features, build)


@dg.asset(
    partitions_def=season_partitions,
    backfill_policy=season_backfill,
    group_name=GROUP,
    kinds={"sql"},
    code_version="2",
    deps=[
        dg.AssetDep("games", partition_mapping=with_earlier_seasons(1)),
        dg.AssetDep("stints", partition_mapping=with_earlier_seasons(1)),
        dg.AssetDep("player_rapm", partition_mapping=with_earlier_seasons(1)),
        dg.AssetDep("shots", partition_mapping=with_earlier_seasons(3)),
        "player_game_stats",
        dg.AssetDep("player_features", partition_mapping=with_earlier_seasons(PRIOR_SEASONS)),
    ],
    description="Per game and team, from games strictly before the game date: ratings z-scored by season, "
    "four factors, rest, back-to-back, travel miles, RAPM sums and hull area of the expected starting five, "
    "and the strength of the rotation players available (expected minutes x rating, who is out).",
)
def team_game_features(context: dg.AssetExecutionContext, database: Database) -> dg.MaterializeResult:
    def build(season: str) -> tuple[pd.DataFrame, dict]:
        inputs = team_game_table.read_team_game_inputs(database.read, season)
        games = inputs.games
        if not (games["season"] == season).any():
            raise dg.Failure(f"team_game_features {season}: no games (materialize games first)")
        if not (games["season"] == previous_season(season)).any():
            context.log.warning(
                f"team_game_features {season}: no previous season: early-season values are unshrunk"
            )
        tf = team_game_table.team_game_features(inputs)
        rows = tf[tf["season"] == season][[c.name for c in aschema.team_game_features.columns]].copy()
        rows = _dates_to_date(rows, ["game_date"])
        return rows, {
            "hull_area_missing_share": float(rows["hull_area_missing"].mean()) if len(rows) else 0.0
        }

    return materialize_seasons(context, database, aschema.team_game_features, build)


@dg.asset(
    partitions_def=season_partitions,
    backfill_policy=season_backfill,
    group_name=GROUP,
    kinds={"sql"},
    code_version="1",
    deps=["games", "plays", "player_features", "team_game_features"],
    description="Per-season mean / std of margin, total, in-game score differential, pace, ratings and every "
    "player and team-game feature (normalization statistics for the models).",
)
def season_stats(context: dg.AssetExecutionContext, database: Database) -> dg.MaterializeResult:
    def build(season: str) -> tuple[pd.DataFrame, dict]:
        games = database.read(ischema.games, [season])
        plays = database.read(ischema.plays, [season], ["home_score", "away_score"])
        pf = database.read(aschema.player_features, [season])
        tgf = database.read(aschema.team_game_features, [season])
        rows = build_season_stats(games, plays, pf if len(pf) else None, tgf if len(tgf) else None, season)
        stats = {r.stat: [round(r.mean, 4), round(r.std, 4)] for r in rows.itertuples()}
        return rows, {"stats": dg.MetadataValue.json(stats)}

    return materialize_seasons(context, database, aschema.season_stats, build)


@dg.asset_check(asset=team_game_features, blocking=True, description="No NaN in any team-game feature.")
def team_game_features_have_no_nan(database: Database) -> dg.AssetCheckResult:
    """A season whose rows lack a whole column (written before the column existed: NULL in every
    row, ``db.create_tables``) is not a NaN of this code's: it is listed as stale, to be built
    again (the main job rebuilds every season), and does not fail the check."""
    df = database.read(aschema.team_game_features)
    nan = df[aschema.TEAM_GAME_FEATURES].isna()
    stale = nan.groupby(df["season"]).all().any(axis=1)
    stale_seasons = sorted(str(s) for s in stale[stale].index)
    n_nan = int(nan[~df["season"].isin(stale_seasons).to_numpy()].sum().sum())
    meta = {"nan_values": n_nan, "rows": len(df), "stale_seasons": ", ".join(stale_seasons) or "none"}
    return dg.AssetCheckResult(passed=n_nan == 0, metadata=meta)
