"""Training assets: ``trained_model`` (a new, unpromoted registry version, judged by its blocking
checks in the same step) and ``promoted_model`` (moves ``latest``). Thin wrappers over
``nba_pipeline.registry.candidate``; torch is imported inside the bodies only.

The version a run trains travels as data: ``trained_model`` judges the version it has just saved
and yields the check results itself (``check_specs``), and ``promoted_model`` reads the ``version``
metadata of the ``trained_model`` materialization of ITS OWN run. Two overlapping training runs
therefore never check or promote each other's model, and ``pool="training"`` lets Dagster run one
training at a time where the instance limits that pool.
"""

import base64
import dataclasses
import json
import typing

import dagster as dg
import pydantic

from nba_pipeline.resources import Storage
from nba_pipeline.text_tables import metrics_table
from nba_pipeline.training.config import RunConfig, build_dataclass

GROUP = "training"
TRAINED_MODEL = dg.AssetKey("trained_model")


def dagster_config(cls: type) -> type[dg.Config]:
    """A Dagster ``Config`` with the fields, types and defaults of dataclass ``cls`` (nested
    dataclasses become nested Config classes): run config can set every field, and the defaults
    stay written once, in the dataclass."""
    hints = typing.get_type_hints(cls)
    spec: dict[str, typing.Any] = {}
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            sub = dagster_config(kind)
            spec[f.name] = (sub, sub())
        else:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            spec[f.name] = (kind, default)
    return pydantic.create_model(f"{cls.__name__}Settings", __base__=dg.Config, __doc__=cls.__doc__, **spec)


class TrainingRunConfig(dagster_config(RunConfig)):
    """``training.config.RunConfig`` as run config: ``data``, ``optim``, ``model``, ``torch_threads``."""

    def to_run_config(self) -> RunConfig:
        return build_dataclass(RunConfig, self.model_dump())


def _png_markdown(title: str, png: bytes) -> dg.MetadataValue:
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})")


def _json(details: dict) -> dg.MetadataValue:
    """Check details (numpy numbers, NaN, dates) as JSON metadata."""
    return dg.MetadataValue.json(json.loads(json.dumps(details, default=str)))


# blocking check name -> (rule of candidate.judge, description)
PROMOTION_RULES = {
    "pregame_accuracy": ("accuracy", "Pregame validation accuracy > 0.55."),
    "pregame_brier": ("brier", "Pregame validation Brier score < 0.25."),
    "calibration": (
        "calibration",
        "Pregame forecasts are calibrated: Cox's test that recalibrating them (logit P(win) = a + b "
        "logit p) would change nothing (a = 0, b = 1), statistic < 9.21 (chi-squared 2 df; a calibrated "
        "model fails 1% of the time at any number of games, registry.rules.calibration_test). The "
        "deciles' win rates and their monotonicity are reported in the metadata, not blocking.",
    ),
    "span": ("span", "Pregame predictions reach at least [0.3, 0.7]."),
}
INCUMBENT_CHECK = "not_worse_than_latest"

CHECK_SPECS = [
    *(
        dg.AssetCheckSpec(name, asset=TRAINED_MODEL, blocking=True, description=description)
        for name, (_rule, description) in PROMOTION_RULES.items()
    ),
    dg.AssetCheckSpec(
        INCUMBENT_CHECK,
        asset=TRAINED_MODEL,
        blocking=False,
        description="The new version is not worse (Brier over all checkpoints) than the promoted model "
        "on the same validation games. Warning only.",
    ),
]


def _check_metadata(version: str, details: dict, **extra: typing.Any) -> dict[str, typing.Any]:
    """A check result's metadata: its details as JSON, and the calibration check's decile
    diagnostic also as a Markdown table (the specification's view, reported, not blocking)."""
    from nba_pipeline.registry.rules import decile_table

    meta = {"version": version, **extra, "details": _json(details)}
    if isinstance(details.get("deciles"), dict):
        meta["decile_table"] = dg.MetadataValue.md(decile_table(details["deciles"]))
    return meta


def judge_version(registry, version: str) -> list[dg.AssetCheckResult]:
    """The check results of ``version``: the blocking rules (a failing version is marked not
    promoted in the registry) and the warning-only comparison with the incumbent."""
    from nba_pipeline.registry.candidate import compare_with_incumbent, judge

    results = judge(registry, version)
    failed = {  # the reason stored in the registry: the verdicts, without the reported decile table
        name: {k: v for k, v in results[rule][1].items() if k != "deciles"}
        for name, (rule, _) in PROMOTION_RULES.items()
        if not results[rule][0]
    }
    if failed:
        registry.mark_not_promoted(
            version, f"asset checks {sorted(failed)} failed: {json.dumps(failed, default=str)}"
        )
    out = [
        dg.AssetCheckResult(
            check_name=name,
            asset_key=TRAINED_MODEL,
            passed=results[rule][0],
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=_check_metadata(version, results[rule][1]),
        )
        for name, (rule, _) in PROMOTION_RULES.items()
    ]
    passed, details = compare_with_incumbent(registry, version)
    out.append(
        dg.AssetCheckResult(
            check_name=INCUMBENT_CHECK,
            asset_key=TRAINED_MODEL,
            passed=passed,
            severity=dg.AssetCheckSeverity.WARN,
            metadata=_check_metadata(version, details),
        )
    )
    return out


def unchanged_since(registry, cfg: RunConfig, fingerprint: str) -> str | None:
    """The newest registry version of this code's format trained on the same data (fingerprint)
    with the same settings: training again would only repeat it (an experiment with other settings
    in between does not count as new data). None when there is none."""
    from nba_pipeline.registry.layout import FORMAT_VERSION

    hyper = json.loads(json.dumps(cfg.hyperparameters()))
    model = json.loads(json.dumps(cfg.model.to_dict()))
    for version in reversed(registry.versions()):
        md = registry.read_metadata(version)
        if (
            md.get("format_version") == FORMAT_VERSION
            and md.get("data_fingerprint") == fingerprint
            and md.get("hyperparameters") == hyper
            and md.get("model_config") == model
        ):
            return version
    return None


def checks_of_unchanged(registry, version: str, reason: str) -> list[dg.AssetCheckResult]:
    """Check results when nothing was trained: the stored verdicts of ``version`` (the version of
    this data), as warnings, so a skipped night neither fails nor claims a new pass."""
    from nba_pipeline.registry.candidate import compare_with_incumbent, judge

    verdicts = judge(registry, version)
    results = {name: verdicts[rule] for name, (rule, _) in PROMOTION_RULES.items()}
    results[INCUMBENT_CHECK] = compare_with_incumbent(registry, version)
    return [
        dg.AssetCheckResult(
            check_name=name,
            asset_key=TRAINED_MODEL,
            passed=passed,
            severity=dg.AssetCheckSeverity.WARN,
            metadata=_check_metadata(version, details, nothing_trained=reason),
        )
        for name, (passed, details) in results.items()
    ]


def verdict_of_an_ended_run(
    registry, same: str, seasons: list[str], fingerprint: str
) -> dg.MaterializeResult:
    """``trained_model``'s result for version ``same``, saved by a run that died before its checks
    and promotion: judged now, so that promoted_model goes on; nothing is trained."""
    return dg.MaterializeResult(
        metadata={
            "version": same,
            "resumed": f"{same} saved by an earlier run that ended before its verdict; nothing trained",
            "train_seasons": dg.MetadataValue.json(seasons),
            "data_fingerprint": fingerprint,
        },
        check_results=judge_version(registry, same),
    )


def nothing_trained(
    context: dg.AssetExecutionContext, registry, same: str, seasons: list[str], arrays, fingerprint: str
) -> list[dg.AssetCheckResult]:
    """What ``trained_model`` reports when version ``same`` was trained on this data with these
    settings: it logs an observation saying why and returns that version's stored verdicts, as
    warnings."""
    reason = (
        f"no new data since {same}: the {arrays.n_games} games of {', '.join(seasons)} "
        f"(fingerprint {fingerprint[:12]}) and the settings are those it was trained with; "
        "nothing trained, no new version"
    )
    context.log.info(reason)
    context.log_event(
        dg.AssetObservation(
            asset_key=TRAINED_MODEL,
            metadata={
                "nothing_trained": reason,
                "version": same,
                "data_fingerprint": fingerprint,
                "train_seasons": dg.MetadataValue.json(seasons),
            },
        )
    )
    return checks_of_unchanged(registry, same, reason)


def epoch_logger(context: dg.AssetExecutionContext) -> typing.Callable[[dict], None]:
    """One log line per training epoch: losses and the pregame accuracy and Brier."""

    def log_epoch(e: dict) -> None:
        pre = e["val_metrics"].get("pregame", {})
        context.log.info(
            f"epoch {e['epoch']}: train {e['train_loss']:.4f} val {e['val_loss']:.4f} "
            f"pregame acc {pre.get('accuracy', float('nan')):.3f} Brier {pre.get('brier', float('nan')):.4f}"
        )

    return log_epoch


def candidate_metadata(cand, cfg: RunConfig, fingerprint: str) -> dict[str, typing.Any]:
    """The materialization's metadata: the version, its data and settings, the judged validation
    metrics, the reliability diagram and deciles, and the training curves."""
    from nba_pipeline.evaluate.plots import reliability_diagram_png, training_curves_png
    from nba_pipeline.registry.rules import decile_monotonicity, decile_table

    pre = cand.predictions[cand.predictions["checkpoint"] == "pregame"]
    _, deciles = decile_monotonicity(pre["p_home"].to_numpy(), pre["win"].to_numpy())
    meta = {
        "version": cand.version,
        "incumbent": cand.incumbent or "none",
        "train_seasons": dg.MetadataValue.json(list(cfg.data.train_seasons)),
        "data_fingerprint": fingerprint,
        "run_config": dg.MetadataValue.json(cfg.to_dict()),
        "data_date_range": dg.MetadataValue.json(cand.outcome.data_date_range),
        "train_games": len(cand.outcome.train_games),
        "validation_games": len(cand.outcome.val_games),
        "validation_metrics": dg.MetadataValue.md(metrics_table(cand.metrics)),
        "pregame_accuracy": cand.metrics["pregame"]["accuracy"],
        "pregame_brier": cand.metrics["pregame"]["brier"],
        "reliability_diagram": _png_markdown(
            "reliability", reliability_diagram_png(pre["p_home"].to_numpy(), pre["win"].to_numpy())
        ),
        # the specification's calibration view; the blocking rule is the `calibration` check
        "calibration_deciles": dg.MetadataValue.md(decile_table(deciles)),
    }
    if cand.outcome.result is not None:
        meta["best_epoch"] = cand.outcome.result.best_epoch
        meta["training_curves"] = _png_markdown(
            "training curves", training_curves_png(cand.outcome.result.history)
        )
    return meta


@dg.asset(
    deps=["tokenized_sequences", "lineup_graphs", "context_features"],
    output_required=False,  # no new data since the last version: nothing trained, nothing downstream
    group_name=GROUP,
    kinds={"pytorch"},
    pool="training",  # one training at a time where the instance limits the pool
    # Bump when the same inputs and config would train another model (architecture, sampling, loss).
    # 2: the game-state heads and the context skip (models.game_state), learning rate 1e-3.
    # 3: the flat part of a lead's weight in the state head, its scalars at 10x the learning rate.
    # 4: the heads end on the score (the buzzer is the result) and count who has the ball.
    # 5: the market's line as the full-game forecast of a game that has one.
    # 6: the line alone as a function, not a blend's frozen scalars; registry format 3 (the same
    #    forecasts; a version saved before is refused on load and must be retrained).
    code_version="6",
    check_specs=CHECK_SPECS,
    description="Trains the two-tower forecaster (Transformer + GATv2 + context) on the training seasons "
    "(default: the rolling window, the last complete seasons plus the current one so far) with a "
    "temporal validation split, saves it in the registry as a new, NOT promoted version, and judges "
    "that version with its blocking checks (a failing version is marked not promoted). Trains nothing "
    "when a stored version was trained on the same data (fingerprint) with the same settings.",
)
def trained_model(context: dg.AssetExecutionContext, config: TrainingRunConfig, storage: Storage):
    from nba_pipeline.registry.candidate import awaits_verdict, train_candidate
    from nba_pipeline.registry.store import ModelRegistry
    from nba_pipeline.training.fit import load_training_arrays
    from nba_pipeline.training.window import data_fingerprint, training_seasons

    cfg = config.to_run_config()
    seasons = training_seasons(cfg.data, storage.features())
    cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, train_seasons=seasons))
    arrays = load_training_arrays(storage.features(), cfg.data.train_seasons)
    fingerprint = data_fingerprint(arrays)
    registry = ModelRegistry(storage.models())
    same = unchanged_since(registry, cfg, fingerprint)
    if same is not None and awaits_verdict(registry, same):
        context.log.info(f"{same} was saved by a run that ended before its checks and promotion: judging it")
        yield verdict_of_an_ended_run(registry, same, seasons, fingerprint)
        return
    if same is not None:
        yield from nothing_trained(context, registry, same, seasons, arrays, fingerprint)
        return
    cand = train_candidate(
        arrays,
        cfg,
        registry,
        storage.base() / "training" / context.run.run_id,
        on_epoch_end=epoch_logger(context),
        extra_metadata={"data_fingerprint": fingerprint, "data_games": int(arrays.n_games)},
    )
    checks = judge_version(registry, cand.version)
    blocking_failed = [c.check_name for c in checks if not c.passed and c.check_name in PROMOTION_RULES]
    context.log.info(
        f"saved {cand.version}; blocking checks "
        + (f"failed: {blocking_failed} (not promoted)" if blocking_failed else "passed")
    )
    yield dg.MaterializeResult(metadata=candidate_metadata(cand, cfg, fingerprint), check_results=checks)


def version_materialized_in_run(context: dg.AssetExecutionContext, asset_key: dg.AssetKey) -> str | None:
    """The ``version`` metadata of ``asset_key``'s materialization in this run, or in the run this one
    re-executes (a retry of a later step): never a version written by another run."""
    instance, run = context.instance, context.run
    while run is not None:
        records = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
        for record in reversed(records):
            mat = record.event_log_entry.asset_materialization
            if mat is not None and mat.asset_key == asset_key and "version" in mat.metadata:
                return str(mat.metadata["version"].value)
        run = instance.get_run_by_id(run.parent_run_id) if run.parent_run_id else None
    return None


@dg.asset(
    deps=[trained_model],
    group_name=GROUP,
    kinds={"pytorch"},
    description="Moves the registry's `latest` to the version trained_model wrote IN THIS RUN, only when "
    "its blocking checks passed (Dagster skips this step otherwise, and the rules are re-applied here, "
    "so it can never be promoted around them).",
)
def promoted_model(context: dg.AssetExecutionContext, storage: Storage) -> dg.MaterializeResult:
    from nba_pipeline.registry.candidate import promote_if_passing
    from nba_pipeline.registry.store import ModelRegistry

    version = version_materialized_in_run(context, TRAINED_MODEL)
    if version is None:
        raise dg.Failure(
            "promoted_model promotes the version trained_model saved in the same run, and this run "
            "trained none: materialize both together (job train_and_promote), or promote a stored "
            "version with `nba-pipeline registry promote vX.Y.Z`."
        )
    registry = ModelRegistry(storage.models())
    previous = registry.latest_version()
    try:
        promote_if_passing(registry, version)
    except ValueError as exc:
        raise dg.Failure(str(exc)) from exc
    context.log.info(f"promoted {version} (previous latest: {previous})")
    return dg.MaterializeResult(metadata={"version": version, "previous_latest": previous or "none"})
