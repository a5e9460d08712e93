"""The evaluation report of the promoted model on a test season later than every training game:
the model against home-win rate, Elo, context logistic regression, score-and-clock and the betting
market, per checkpoint (``nba_pipeline.evaluate.report``). Written as Markdown under
``<data dir>/reports/`` and attached to the materialization."""

import dagster as dg

from nba_pipeline.assets.training import version_materialized_in_run
from nba_pipeline.resources import Database, RawData, Storage


class EvaluationConfig(dg.Config):
    test_season: str | None = None  # None: the season after the model's training seasons
    all_events_stride: int = 1  # score every k-th in-game cut for the all-events row (1: every event)


@dg.asset(
    deps=["promoted_model", "tokenized_sequences", "lineup_graphs", "context_features", "games"],
    group_name="evaluation",
    kinds={"pytorch"},
    code_version="1",  # bump when the report's metrics or baselines change
    description="The model promoted in this run (else `latest`) vs real baselines (home-win rate, Elo, "
    "context logistic, score and clock, betting market) on the test season (by default the season after its "
    "training seasons), per checkpoint (pregame, end Q1, half, end Q3, 5:00 left, all events).",
)
def evaluation_report(
    context: dg.AssetExecutionContext,
    config: EvaluationConfig,
    database: Database,
    raw: RawData,
    storage: Storage,
) -> dg.MaterializeResult:
    from nba_pipeline.evaluate.run import nothing_held_out, run_evaluation

    # The version promoted in this run; `latest` when the run evaluates without promoting (another
    # run may have moved `latest` since this run's promotion).
    version = version_materialized_in_run(context, dg.AssetKey("promoted_model")) or "latest"
    trained_on = _train_seasons(storage, version)  # empty without such a model: the evaluation says so
    reason = (
        nothing_held_out(version, trained_on, config.test_season, storage.features()) if trained_on else None
    )
    if reason:
        context.log.warning(reason)
        return dg.MaterializeResult(metadata={"version": version, "not_evaluated": reason})
    result = run_evaluation(
        registry_root=storage.models(),
        features_dir=storage.features(),
        engine=database.engine(),
        raw_dir=raw.dir(),
        reports_dir=storage.reports(),
        test_season=config.test_season,
        all_events_stride=config.all_events_stride,
        version=version,
    )
    table = result.evaluation.table
    pregame = table[(table["checkpoint"] == "pregame") & (table["source"] == "model")].iloc[0]
    context.log.info(f"evaluation of {result.version} on {result.test_season} written to {result.path}")
    return dg.MaterializeResult(
        metadata={
            "version": result.version,
            "test_season": result.test_season,
            "path": dg.MetadataValue.path(str(result.path)),
            "report": dg.MetadataValue.md(result.evaluation.markdown),
            "pregame_accuracy": float(pregame["accuracy"]),
            "pregame_brier": float(pregame["brier"]),
        }
    )


def _train_seasons(storage: Storage, version: str) -> list[str]:
    """The training seasons recorded with ``version`` (empty when the registry has no such model)."""
    from nba_pipeline.registry.errors import RegistryError
    from nba_pipeline.registry.store import ModelRegistry

    try:
        return list(ModelRegistry(storage.models()).read_metadata(version).get("train_seasons") or [])
    except RegistryError:
        return []
