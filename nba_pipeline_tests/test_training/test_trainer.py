"""FusionTrainer on synthetic ModelBatches: learning, checkpoints, reproducibility, resume, NaN."""

from __future__ import annotations

import math

import pytest
import torch
from torch.utils.data import DataLoader

from nba_pipeline.features.context import CONTEXT_DIM
from nba_pipeline.models.forecaster import NBAForecaster
from nba_pipeline.models.norm import TargetNorm
from nba_pipeline.models.swap import swap_sides
from nba_pipeline.training.trainer import FusionTrainer, TrainConfig, restore_best, seed_everything
from nba_pipeline_tests.test_models.synthetic import (
    NORM,
    SampleList,
    collate,
    make_samples,
    synthetic_swap,
    tiny_config,
    tiny_model,
)

TRAIN = make_samples(256, seed=1)
VAL = make_samples(96, seed=2)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """One intra-op thread: on a small, shared CPU, thread contention made these tiny models ~30x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _loaders(train=TRAIN, val=VAL, batch_size=32):
    return (
        DataLoader(SampleList(train), batch_size=batch_size, shuffle=True, collate_fn=collate),
        DataLoader(SampleList(val), batch_size=64, shuffle=False, collate_fn=collate),
    )


def _run(tmp_path, name, cfg, on_epoch_end=None, resume=True, model_seed=None, model_cfg=None):
    seed_everything(cfg.seed if model_seed is None else model_seed)
    model = tiny_model(model_cfg)
    trainer = FusionTrainer(model, cfg, NORM, tmp_path / name, on_epoch_end=on_epoch_end)
    return trainer.fit(*_loaders(), resume=resume), model


def _comparable(history):
    return [{k: v for k, v in e.items() if k != "seconds"} for e in history]


FAST = TrainConfig(lr=3e-3, max_epochs=20, patience=20, device="cpu", seed=0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("trained"), "run", FAST)


def test_loss_decreases_and_validation_improves_on_a_learnable_task(trained):
    result, _ = trained
    train = [e["train_loss"] for e in result.history]
    val = [e["val_loss"] for e in result.history]
    print("train loss", [round(x, 3) for x in train])
    print("val loss", [round(x, 3) for x in val])
    assert train[-1] < 0.6 * train[0]
    assert min(val) < 0.7 * val[0]
    acc = result.best_metrics["all"]["accuracy"]
    assert acc > 0.75, f"validation accuracy {acc:.3f} on a learnable synthetic task"


def test_history_logs_losses_lr_and_metrics_per_checkpoint(trained):
    result, _ = trained
    e = result.history[0]
    assert set(e) >= {"epoch", "train_loss", "val_loss", "val_metrics", "lr", "train_parts"}
    assert math.isclose(e["lr"], FAST.lr)
    assert result.history[-1]["lr"] < FAST.lr  # cosine schedule anneals
    m = e["val_metrics"]
    assert set(m) == {"all", "pregame", "end_q1", "halftime", "end_q3", "q4_5min", "random"}
    assert sum(m[k]["n"] for k in m if k != "all") == m["all"]["n"] == len(VAL)
    for key in ("accuracy", "brier", "log_loss", "margin_mae", "total_mae"):
        assert math.isfinite(m["all"][key])


def test_best_checkpoint_holds_the_epoch_with_the_lowest_validation_loss(trained):
    result, _ = trained
    val = [e["val_loss"] for e in result.history]
    assert result.best_epoch == val.index(min(val))
    assert result.best_checkpoint.exists()
    model = tiny_model()
    state = restore_best(model, result)
    assert state["epoch"] == result.best_epoch and TargetNorm.from_dict(state["norm"]) == NORM
    trainer = FusionTrainer(model, FAST, NORM, result.best_checkpoint.parent / "reeval")
    val_loss, _ = trainer.evaluate(_loaders()[1])
    assert math.isclose(val_loss, min(val), rel_tol=1e-5)


def test_trained_model_turns_a_clear_home_favourite_into_an_underdog_when_sides_are_swapped(tmp_path):
    """The model is side-symmetric by construction (mirrored in the synthetic layout); what it
    learns is which team the context favours, and the swap must hand that edge to the other team."""
    _, model = _run(tmp_path, "plain", FAST)
    batch = collate(VAL)
    p = model.predict(batch, NORM)["win_prob"]
    p_swapped = model.predict(swap_sides(batch, synthetic_swap(), NORM), NORM)["win_prob"]
    favourites = p > 0.7
    n = int(favourites.sum())
    assert n >= 10
    # counted in integers: a float32 mean of 36 / 40 is 0.89999998, below a float64 0.9
    flipped = int((p_swapped[favourites] < 0.5).sum())
    print(f"{n} favourites, {flipped} ({flipped / n:.0%}) become underdogs after the swap")
    assert flipped >= 0.9 * n


def test_same_seed_gives_the_same_metrics_and_another_seed_does_not(tmp_path):
    cfg = TrainConfig(lr=3e-3, max_epochs=3, patience=3, device="cpu", seed=5)
    a, _ = _run(tmp_path, "a", cfg)
    b, _ = _run(tmp_path, "b", cfg)
    assert _comparable(a.history) == _comparable(b.history)
    c, _ = _run(tmp_path, "c", TrainConfig(lr=3e-3, max_epochs=3, patience=3, device="cpu", seed=6))
    assert _comparable(a.history) != _comparable(c.history)


def test_resume_after_an_interruption_gives_the_same_result_as_an_uninterrupted_run(tmp_path):
    cfg = TrainConfig(lr=3e-3, max_epochs=5, patience=5, device="cpu", seed=3)
    full, _ = _run(tmp_path, "full", cfg)

    class Interrupted(Exception):
        pass

    def stop_after_epoch_1(entry):
        if entry["epoch"] == 1:
            raise Interrupted

    with pytest.raises(Interrupted):
        _run(tmp_path, "resumed", cfg, on_epoch_end=stop_after_epoch_1)
    # A fresh process: different initial weights and RNG state, then resume from last.pt.
    torch.manual_seed(999)
    resumed, _ = _run(tmp_path, "resumed", cfg, model_seed=12345)
    assert [e["epoch"] for e in resumed.history] == list(range(5))
    assert _comparable(resumed.history) == _comparable(full.history)
    assert resumed.best_epoch == full.best_epoch


def test_resume_refuses_a_checkpoint_written_with_another_config(tmp_path):
    _run(tmp_path, "run", TrainConfig(lr=3e-3, max_epochs=1, device="cpu"))
    with pytest.raises(ValueError, match="lr"):
        _run(tmp_path, "run", TrainConfig(lr=1e-3, max_epochs=2, device="cpu"))


def test_resume_refuses_a_checkpoint_written_with_another_architecture(tmp_path):
    """Another dropout loads into the same weights without error: only the config check stops it."""
    from dataclasses import replace

    cfg = TrainConfig(lr=3e-3, max_epochs=1, device="cpu")
    _run(tmp_path, "run", cfg)
    tiny = tiny_config()
    other = replace(tiny, transformer=replace(tiny.transformer, dropout=0.3))
    seed_everything(0)
    trainer = FusionTrainer(NBAForecaster(other), replace(cfg, max_epochs=2), NORM, tmp_path / "run")
    with pytest.raises(ValueError, match=r"model\.transformer\.dropout"):
        trainer.fit(*_loaders())


def test_nan_loss_stops_with_an_error_naming_epoch_and_batch(tmp_path):
    bad = make_samples(64, seed=4)
    bad[40]["context"] = torch.full((CONTEXT_DIM,), float("nan"))
    seed_everything(0)
    trainer = FusionTrainer(tiny_model(), TrainConfig(device="cpu"), NORM, tmp_path / "nan")
    train = DataLoader(SampleList(bad), batch_size=16, shuffle=False, collate_fn=collate)
    with pytest.raises(FloatingPointError, match=r"epoch 0, batch 2"):
        trainer.fit(train, _loaders()[1])


def test_early_stopping_after_patience_epochs_without_improvement(tmp_path):
    cfg = TrainConfig(lr=0.0, max_epochs=20, patience=3, device="cpu")
    result, _ = _run(tmp_path, "flat", cfg)
    assert result.stopped_early
    assert [e["epoch"] for e in result.history] == [0, 1, 2, 3]
    assert result.best_epoch == 0


@pytest.mark.slow
def test_five_epochs_on_100_real_games_lower_the_loss_and_save_the_best_checkpoint(nba_raw_dir, tmp_path):
    """Spec integration test: the first 100 games of 2023-24 (first 80 by date train, last 20
    validate at the five checkpoints), spec-sized model, 5 epochs."""
    import numpy as np

    from nba_pipeline.features.season_arrays import build_season_arrays
    from nba_pipeline.models.forecaster import ForecasterConfig
    from nba_pipeline.training.dataset import (
        NBADataset,
        score_diff_std_from_arrays,
        target_norm_from_arrays,
    )
    from nba_pipeline.training.dataset import collate as real_collate
    from nba_pipeline_tests.test_features.real import real_inputs

    plays, games, tgf = real_inputs(nba_raw_dir, "2023-24", 100)
    arrays = build_season_arrays(plays, games, None, tgf, season="2023-24")
    train_idx, val_idx = np.arange(80), np.arange(80, 100)
    norm = target_norm_from_arrays(arrays, train_idx)
    sd = score_diff_std_from_arrays(arrays, train_idx)
    train_ds = NBADataset(arrays, norm, sd, mode="train", games=train_idx, seed=0)
    val_ds = NBADataset(arrays, norm, sd, mode="eval", games=val_idx)
    train = DataLoader(
        train_ds,
        batch_size=32,
        shuffle=True,
        collate_fn=real_collate,
        generator=torch.Generator().manual_seed(0),
    )
    val = DataLoader(val_ds, batch_size=100, shuffle=False, collate_fn=real_collate)
    cfg = TrainConfig(lr=1e-3, max_epochs=5, patience=10, device="cpu", seed=0)
    seed_everything(cfg.seed)
    trainer = FusionTrainer(NBAForecaster(ForecasterConfig()), cfg, norm, tmp_path / "ckpt")
    result = trainer.fit(train, val)

    train_loss = [e["train_loss"] for e in result.history]
    val_loss = [e["val_loss"] for e in result.history]
    print("train loss", [round(x, 4) for x in train_loss])
    print("val loss", [round(x, 4) for x in val_loss])
    print("best epoch", result.best_epoch, {k: round(v, 3) for k, v in result.best_metrics["all"].items()})
    assert len(result.history) == 5
    # Near-monotonic: no epoch more than 5% above the one before, and a clear overall decrease.
    assert all(b <= 1.05 * a for a, b in zip(train_loss, train_loss[1:], strict=False))
    assert train_loss[-1] < 0.95 * train_loss[0]
    assert min(val_loss) < val_loss[0]
    # Best checkpoint saved at the epoch of the lowest validation loss.
    assert result.best_epoch == val_loss.index(min(val_loss))
    state = torch.load(result.best_checkpoint, map_location="cpu", weights_only=True)
    assert state["epoch"] == result.best_epoch
    # Metrics logged for every epoch, over all samples and per checkpoint (20 games each).
    for e in result.history:
        m = e["val_metrics"]
        assert m["all"]["n"] == 100
        assert {m[k]["n"] for k in ("pregame", "end_q1", "halftime", "end_q3", "q4_5min")} == {20}
        for key in ("accuracy", "brier", "log_loss", "margin_mae", "total_mae"):
            assert np.isfinite(m["all"][key])
        assert 0 < m["all"]["margin_mae"] < 40 and 0 < m["all"]["total_mae"] < 60  # points, not z


def test_the_heads_scalars_learn_at_a_larger_rate_than_the_rest(tmp_path):
    from nba_pipeline.training.trainer import STATE_HEAD_LR_SCALE

    model = tiny_model()
    trainer = FusionTrainer(model, TrainConfig(lr=1e-3, max_epochs=1), NORM, tmp_path)
    rest, head = trainer.optimizer.param_groups
    scalars = list(model.fusion.state_head.parameters())
    assert {id(p) for p in head["params"]} == {id(p) for p in scalars}
    assert head["lr"] == pytest.approx(STATE_HEAD_LR_SCALE * rest["lr"])
    assert len(rest["params"]) + len(head["params"]) == len(list(model.parameters()))
