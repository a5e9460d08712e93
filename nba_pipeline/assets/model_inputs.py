"""Model inputs per season: tokenized event sequences, lineup graphs and context vectors.

One computation (``features.season_arrays.build_season_arrays``) yields all three, so they are
one multi-asset: materializing a season writes ``sequences_<season>.npz``,
``graphs_<season>.npz`` and ``context_<season>.npz`` under ``<data dir>/features/``. Everything is
read from the database (plays, games, player_features, team_game_features), so the step can run
in its own process. Games whose plays have no lineups (seasons without a lineups file) get lineups
rebuilt from the play-by-play (``analytics.stints.complete_lineups``), as the stints do.

``code_version``: bump it (with ``models.batch.INPUT_FORMAT`` when the model must notice) when
the same tables would give different arrays (a change in ``nba_pipeline/features/``).
"""

import dagster as dg

from nba_pipeline.analytics import schema as aschema
from nba_pipeline.analytics.stints import EVIDENCE_COLUMNS
from nba_pipeline.analytics.stints import PLAY_COLUMNS as STINT_PLAY_COLUMNS
from nba_pipeline.assets.partitions import (
    merge_season_metadata,
    run_seasons,
    season_backfill,
    season_partitions,
)
from nba_pipeline.features.tokenizer import REQUIRED_PLAY_COLUMNS
from nba_pipeline.ingest import schema as ischema
from nba_pipeline.memory import season_build
from nba_pipeline.resources import Database, Storage

GROUP = "model_inputs"
# What the tokenizer needs, plus what lineup reconstruction needs (seasons without a lineups file).
PLAY_COLUMNS = list(
    dict.fromkeys([*REQUIRED_PLAY_COLUMNS, *STINT_PLAY_COLUMNS, *EVIDENCE_COLUMNS, "lineup_source"])
)
CODE_VERSION = "5"  # the three arrays come from one computation, so they share a version

_specs = [
    dg.AssetSpec(
        "tokenized_sequences",
        deps=["plays", "games"],
        partitions_def=season_partitions,
        group_name=GROUP,
        kinds={"numpy"},
        code_version=CODE_VERSION,
        description="Per event: token (event type x acting side), time left, score difference, running "
        "total, 20-dim lineup participation, in-game state (possession, fouls before the penalty, "
        "timeouts left); per game: offsets and final scores (features.tokenizer).",
    ),
    dg.AssetSpec(
        "lineup_graphs",
        deps=["plays", "player_features"],
        partitions_def=season_partitions,
        group_name=GROUP,
        kinds={"numpy"},
        code_version=CODE_VERSION,
        description="Per game: the players on court at every event and the starters, their 16 node "
        "features as of the game date, and the chemistry minutes shared before it (features.graphs).",
    ),
    dg.AssetSpec(
        "context_features",
        deps=["team_game_features", "betting_lines"],
        partitions_def=season_partitions,
        group_name=GROUP,
        kinds={"numpy"},
        code_version=CODE_VERSION,
        description="Per game: the pregame context vector as of the game date: the specification's 32 "
        "features and the market's line where there is one (features.context).",
    ),
]


@dg.multi_asset(specs=_specs, can_subset=False, backfill_policy=season_backfill)
def model_inputs(context: dg.AssetExecutionContext, database: Database, storage: Storage):
    per_asset: dict[str, dict[str, dict]] = {spec.key.to_user_string(): {} for spec in _specs}
    for season in run_seasons(context):
        with season_build():
            built = _build_season(context, season, database, storage)
        for key, md in built.items():
            per_asset[key][season] = md
    for key, per_season in per_asset.items():
        yield dg.MaterializeResult(asset_key=key, metadata=merge_season_metadata(per_season))


def _build_season(
    context: dg.AssetExecutionContext, season: str, database: Database, storage: Storage
) -> dict:
    """Build and store one season's three model inputs; the metadata of each asset."""
    from nba_pipeline.analytics.stints import complete_lineups
    from nba_pipeline.features.season_arrays import SeasonArrays, build_season_arrays

    plays = database.read(ischema.plays, [season], PLAY_COLUMNS)
    if plays.empty:
        raise dg.Failure(f"model inputs {season}: the plays table has no rows for the season")
    games = database.read(ischema.games, [season])
    rebuilt = int(plays[ischema.ON_COURT].isna().any(axis=1).groupby(plays["game_id"]).any().sum())
    if rebuilt:
        context.log.info(
            f"model inputs {season}: rebuilding the lineups of {rebuilt} games from the play-by-play"
        )
        plays = complete_lineups(plays, games)
    player_features = database.read(aschema.player_features, [season])
    team_features = database.read(aschema.team_game_features, [season])
    lines = database.read(ischema.betting_lines, [season])
    arrays: SeasonArrays = build_season_arrays(
        plays,
        games,
        player_features if not player_features.empty else None,
        team_features if not team_features.empty else None,
        season=season,
        betting_lines=lines if not lines.empty else None,
    )
    paths = arrays.save_parts(storage.features())
    rep = arrays.report
    context.log.info(f"model inputs {season}: {arrays.n_games} games, {len(arrays.ev_token)} events, {rep}")
    common = {"season": season, "games": arrays.n_games, "games_with_rebuilt_lineups": rebuilt}
    return {
        "tokenized_sequences": {
            **common,
            "path": dg.MetadataValue.path(str(paths["sequences"])),
            "events": len(arrays.ev_token),
            "unknown_event_tokens": int(rep.get("unknown_event_tokens", 0)),
            "unknown_event_codes": dg.MetadataValue.json(rep.get("unknown_event_codes", {})),
        },
        "lineup_graphs": {
            **common,
            "path": dg.MetadataValue.path(str(paths["graphs"])),
            "events_with_full_lineup": int(rep.get("events_full_lineup", 0)),
            "games_with_full_starters": int(rep.get("games_full_starters", 0)),
            "game_players": len(arrays.player_id),
            "players_without_features": int((~arrays.player_found).sum()),
        },
        "context_features": {
            **common,
            "path": dg.MetadataValue.path(str(paths["context"])),
            "games_with_line": int(rep.get("games_with_line", 0)),
            "report": dg.MetadataValue.json({k: v for k, v in rep.items() if "context" in k or "team" in k}),
        },
    }
