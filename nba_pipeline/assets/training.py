"""Training assets: ``trained_model`` (a new, unpromoted registry version), the blocking checks that
guard promotion, and ``promoted_model`` (moves ``latest``). Thin wrappers over
``nba_pipeline.registry.release``; torch is imported inside the bodies only.
"""

import base64
import json

import dagster as dg

from nba_pipeline.assets.partitions import season_backfill
from nba_pipeline.resources import Storage
from nba_pipeline.tables import metrics_table

GROUP = "training"
DEFAULT_TRAIN_SEASONS = ["2020-21", "2021-22", "2022-23"]


class TrainingConfig(dg.Config):
    """Hyperparameters and data of a training run (defaults: the specification's)."""

    train_seasons: list[str] = DEFAULT_TRAIN_SEASONS
    max_epochs: int = 50
    patience: int = 10
    lr: float = 1e-4
    weight_decay: float = 1e-5
    batch_games: int = 32
    val_fraction: float = 0.2
    seed: int = 0
    torch_threads: int = 0  # 0: torch's default


def _png_markdown(title: str, png: bytes) -> dg.MetadataValue:
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})")


def trained_version(instance: dg.DagsterInstance) -> str:
    """The registry version written by the latest materialization of ``trained_model``."""
    event = instance.get_latest_materialization_event(dg.AssetKey("trained_model"))
    if event is None or event.asset_materialization is None:
        raise dg.Failure("trained_model has never been materialized")
    return str(event.asset_materialization.metadata["version"].value)


@dg.asset(
    deps=["tokenized_sequences", "lineup_graphs", "context_features"],
    group_name=GROUP,
    backfill_policy=season_backfill,  # unpartitioned; lets a season-range run include it
    kinds={"pytorch"},
    description="Trains the two-tower forecaster (Transformer + GATv2 + context) on the training seasons "
    "with a temporal validation split and saves it in the registry as a new, NOT promoted version.",
)
def trained_model(
    context: dg.AssetExecutionContext, config: TrainingConfig, storage: Storage
) -> dg.MaterializeResult:
    import torch

    from nba_pipeline.evaluate.plots import reliability_diagram_png, training_curves_png
    from nba_pipeline.features.season_arrays import SeasonArrays
    from nba_pipeline.registry.release import train_candidate
    from nba_pipeline.registry.store import ModelRegistry
    from nba_pipeline.training.fit import FitConfig
    from nba_pipeline.training.trainer import TrainConfig

    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    arrays = SeasonArrays.concat(
        [SeasonArrays.load_parts(storage.features(), s) for s in config.train_seasons]
    )
    fit_cfg = FitConfig(
        train=TrainConfig(
            lr=config.lr,
            weight_decay=config.weight_decay,
            max_epochs=config.max_epochs,
            patience=config.patience,
            seed=config.seed,
        ),
        batch_games=config.batch_games,
        val_fraction=config.val_fraction,
    )

    def log_epoch(e: dict) -> None:
        pre = e["val_metrics"].get("pregame", {})
        context.log.info(
            f"epoch {e['epoch']}: train {e['train_loss']:.4f} val {e['val_loss']:.4f} "
            f"pregame acc {pre.get('accuracy', float('nan')):.3f} Brier {pre.get('brier', float('nan')):.4f}"
        )

    registry = ModelRegistry(storage.models())
    work_dir = storage.base() / "training" / context.run.run_id
    cand = train_candidate(arrays, fit_cfg, registry, work_dir, on_epoch_end=log_epoch)
    pre = cand.predictions[cand.predictions["checkpoint"] == "pregame"]
    meta = {
        "version": cand.version,
        "incumbent": cand.incumbent or "none",
        "train_seasons": ", ".join(config.train_seasons),
        "data_date_range": dg.MetadataValue.json(cand.outcome.data_date_range),
        "train_games": len(cand.outcome.train_games),
        "validation_games": len(cand.outcome.val_games),
        "validation_metrics": dg.MetadataValue.md(metrics_table(cand.metrics)),
        "pregame_accuracy": cand.metrics["pregame"]["accuracy"],
        "pregame_brier": cand.metrics["pregame"]["brier"],
        "reliability_diagram": _png_markdown(
            "reliability", reliability_diagram_png(pre["p_home"].to_numpy(), pre["win"].to_numpy())
        ),
    }
    if cand.outcome.result is not None:
        meta["best_epoch"] = cand.outcome.result.best_epoch
        meta["training_curves"] = _png_markdown(
            "training curves", training_curves_png(cand.outcome.result.history)
        )
    return dg.MaterializeResult(metadata=meta)


def _json(details: dict) -> dg.MetadataValue:
    """Check details (numpy numbers, NaN, dates) as JSON metadata."""
    return dg.MetadataValue.json(json.loads(json.dumps(details, default=str)))


# check name -> (rule of release.judge, description)
PROMOTION_RULES = {
    "pregame_accuracy": ("accuracy", "Pregame validation accuracy > 0.55."),
    "pregame_brier": ("brier", "Pregame validation Brier score < 0.25."),
    "calibration": (
        "calibration",
        "Deciles of predicted probability have a non-decreasing actual win rate (noise rule in "
        "evaluate.checks: no adjacent drop beyond 1.96 standard errors; upper half wins more than "
        "lower half).",
    ),
    "span": ("span", "Pregame predictions reach at least [0.3, 0.7]."),
}


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(name, asset=trained_model, blocking=True, description=description)
        for name, (_rule, description) in PROMOTION_RULES.items()
    ],
    description="The blocking promotion rules, judged together from one load of the new version.",
)
def promotion_rules(context: dg.AssetCheckExecutionContext, storage: Storage):
    from nba_pipeline.registry.release import judge
    from nba_pipeline.registry.store import ModelRegistry

    registry = ModelRegistry(storage.models())
    version = trained_version(context.instance)
    results = judge(registry, version)
    failed = {name: results[rule][1] for name, (rule, _) in PROMOTION_RULES.items() if not results[rule][0]}
    if failed:
        registry.mark_not_promoted(
            version, f"asset checks {sorted(failed)} failed: {json.dumps(failed, default=str)}"
        )
    for name, (rule, _) in PROMOTION_RULES.items():
        passed, details = results[rule]
        yield dg.AssetCheckResult(
            check_name=name,
            asset_key=trained_model.key,
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"version": version, "details": _json(details)},
        )


@dg.asset_check(
    asset=trained_model,
    blocking=False,
    description="The new version is not worse (Brier over all checkpoints) than the promoted model on the "
    "same validation games. Warning only.",
)
def not_worse_than_latest(context: dg.AssetCheckExecutionContext, storage: Storage) -> dg.AssetCheckResult:
    from nba_pipeline.registry.release import compare_with_incumbent
    from nba_pipeline.registry.store import ModelRegistry

    version = trained_version(context.instance)
    passed, details = compare_with_incumbent(ModelRegistry(storage.models()), version)
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"version": version, "details": _json(details)},
    )


@dg.asset(
    deps=[trained_model],
    group_name=GROUP,
    backfill_policy=season_backfill,
    kinds={"pytorch"},
    description="Moves the registry's `latest` to the version trained_model wrote, only when its blocking "
    "checks passed (the rules are re-applied here, so it can never be promoted around them).",
)
def promoted_model(context: dg.AssetExecutionContext, storage: Storage) -> dg.MaterializeResult:
    from nba_pipeline.registry.release import promote_if_passing
    from nba_pipeline.registry.store import ModelRegistry

    registry = ModelRegistry(storage.models())
    version = trained_version(context.instance)
    previous = registry.latest_version()
    try:
        promote_if_passing(registry, version)
    except ValueError as exc:
        raise dg.Failure(str(exc)) from exc
    context.log.info(f"promoted {version} (previous latest: {previous})")
    return dg.MaterializeResult(metadata={"version": version, "previous_latest": previous or "none"})
