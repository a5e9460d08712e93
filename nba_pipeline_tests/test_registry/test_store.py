"""ModelRegistry: the specification's registry tests plus atomicity, locking and integrity.

Synthetic small modules stand in for the real towers: the registry stores state dicts and must not
depend on the model classes.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from nba_pipeline import settings
from nba_pipeline.commands.registry import main as cli_main
from nba_pipeline.registry import store as registry_mod
from nba_pipeline.registry.errors import IntegrityError, RegistryError
from nba_pipeline.registry.files import atomic_write_text, dumps, sha256_file
from nba_pipeline.registry.layout import FORMAT_VERSION
from nba_pipeline.registry.render import render_comparison
from nba_pipeline.registry.schema import signed, validate_metadata
from nba_pipeline.registry.store import ModelRegistry


class Tower(nn.Module):
    """Small module with parameters and buffers (BatchNorm running stats must round-trip too)."""

    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.lin = nn.Linear(d_in, d_out)
        self.norm = nn.BatchNorm1d(d_out)


class Forecaster(nn.Module):
    def __init__(self, cfg: dict) -> None:
        super().__init__()
        self.transformer = Tower(cfg["d"], 8)
        self.gnn = Tower(cfg["d"], 4)
        self.fusion = Tower(12, 3)


def build_dict(cfg: dict) -> dict[str, nn.Module]:
    f = Forecaster(cfg)
    return {"transformer": f.transformer, "gnn": f.gnn, "fusion": f.fusion}


def make_modules(seed: int, d: int = 6) -> dict[str, nn.Module]:
    torch.manual_seed(seed)
    mods = build_dict({"d": d})
    for m in mods.values():  # non-default buffers, so a load that skipped them would be caught
        m.norm.running_mean.uniform_(-1, 1)
        m.norm.running_var.uniform_(0.5, 2)
        m.norm.num_batches_tracked.fill_(seed + 3)
    return mods


def metadata(accuracy: float = 0.6, brier: float = 0.24) -> dict:
    return {
        "data_date_range": {"start": "2022-10-18", "end": "2023-04-09"},
        "hyperparameters": {"lr": 1e-4, "weight_decay": 1e-5, "batch_size": 32},
        "validation_metrics": {
            "accuracy": accuracy,
            "brier": brier,
            "margin_mae": 10.5,
            "pregame": {"accuracy": accuracy - 0.02, "brier": brier + 0.01},
        },
    }


PREPROCESSING = {"vocabulary": ["PAD", "CLS", "UNK", "shot_made:home"], "norm": {"margin": [1.9, 14.2]}}


def save(reg: ModelRegistry, seed: int = 0, **kw) -> str:
    kw.setdefault("metadata", metadata())
    return reg.save_model(make_modules(seed), preprocessing=PREPROCESSING, model_config={"d": 6}, **kw)


def save_forecaster(reg: ModelRegistry, model: nn.Module) -> str:
    """Save an ``NBAForecaster``'s three towers with its config, as training does."""
    return reg.save_model(
        {"transformer": model.transformer, "gnn": model.gnn, "fusion": model.fusion},
        metadata=metadata(),
        preprocessing=PREPROCESSING,
        model_config=model.cfg.to_dict(),
    )


def assert_same_weights(a: dict[str, nn.Module], b: dict[str, nn.Module]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        sa, sb = a[name].state_dict(), b[name].state_dict()
        assert sa.keys() == sb.keys()
        for key in sa:
            assert sa[key].dtype == sb[key].dtype, f"{name}.{key}"
            assert torch.equal(sa[key], sb[key]), f"{name}.{key} differs after the round trip"


# ----------------------------------------------------------------------------- round trip


def test_round_trip_restores_exactly_equal_weights_preprocessing_and_artifacts(reg):
    original = make_modules(seed=1)
    frame = pd.DataFrame({"game_id": ["0022300001", "0022300002"], "p_home": [0.61, 0.42], "cut": [0, 17]})
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    v = reg.save_model(
        original,
        metadata=metadata(),
        preprocessing=PREPROCESSING,
        model_config={"d": 6},
        artifacts={"scaler": {"mean": [1.0, 2.0], "order": ("a", "b")}, "preds": frame, "grid": array},
    )
    loaded = reg.load_model(v, build=build_dict)
    fresh = build_dict({"d": 6})
    assert not torch.equal(fresh["gnn"].lin.weight, original["gnn"].lin.weight)
    assert_same_weights(original, loaded.modules)
    assert loaded.preprocessing == PREPROCESSING
    assert set(loaded.artifacts) == {"scaler", "preds", "grid"}
    assert loaded.artifacts["scaler"] == {"mean": [1.0, 2.0], "order": ["a", "b"]}  # JSON: tuple -> list
    pd.testing.assert_frame_equal(loaded.artifacts["preds"], frame)
    assert loaded.artifacts["grid"].dtype == np.float32 and np.array_equal(loaded.artifacts["grid"], array)
    assert sorted(p.name for p in (reg.root / v / "artifacts").iterdir()) == [
        "grid.npz",
        "preds.parquet",
        "scaler.json",
    ]
    assert loaded.version == v and loaded.path == reg.root / v
    assert all(not m.training for m in loaded.modules.values())


def test_builder_returning_one_module_fills_its_named_submodules(reg):
    original = make_modules(seed=2)
    v = save(reg, seed=2)
    loaded = reg.load_model(v, build=Forecaster)
    assert isinstance(loaded.model, Forecaster)
    assert loaded.modules["gnn"] is loaded.model.gnn
    assert_same_weights(original, loaded.modules)


def test_default_builder_rebuilds_an_nba_forecaster_with_exact_weights(reg):
    from nba_pipeline.models.forecaster import ForecasterConfig, NBAForecaster

    torch.manual_seed(5)
    model = NBAForecaster(ForecasterConfig())
    v = save_forecaster(reg, model)
    loaded = reg.load_model(v)  # no build: the registry's own NBAForecaster builder is used
    assert isinstance(loaded.model, NBAForecaster)
    assert loaded.model.state_dict().keys() == model.state_dict().keys()
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.model.state_dict()[key]), key


def _as_saved_by_format_2(reg: ModelRegistry, version: str) -> None:
    """Rewrite a saved forecaster as the code of registry format 2 wrote it: the fusion switches in
    its model_config and the market line's eight blend scalars in fusion.pt instead of the line's
    scale, metadata signed as that code signed it."""
    vdir = reg.root / version
    fusion = torch.load(vdir / "fusion.pt", weights_only=True)
    del fusion["line_logit_scale"]
    blend = [
        "win_self",
        "win_line",
        *(f"{h}_{p}" for h in ("margin", "total") for p in ("self", "line", "bias")),
    ]
    fusion |= {f"market_line.w.{name}": torch.zeros(()) for name in blend}
    torch.save(fusion, vdir / "fusion.pt")
    md = reg.read_metadata(version)
    switches = ("side_symmetric", "context_skip", "state_head", "state_lead_flat", "market_line")
    md["model_config"]["fusion"].update(dict.fromkeys(switches, True))
    md["format_version"] = 2
    md["files"]["fusion.pt"] = sha256_file(vdir / "fusion.pt")
    atomic_write_text(vdir / "metadata.json", dumps(signed(md, where=version), "metadata"))


def test_a_forecaster_saved_in_format_2_is_listed_but_refused_on_load_and_promotion_saying_retrain(reg):
    """Its weights would not fit this code's fusion, and its switches are gone: it must be trained
    again, never half-read. Its metadata and artifacts stay readable (listing, comparison)."""
    from nba_pipeline.models.forecaster import ForecasterConfig, NBAForecaster

    model = NBAForecaster(ForecasterConfig())
    v = save_forecaster(reg, model)
    _as_saved_by_format_2(reg, v)
    assert reg.verify(v)["format_version"] == 2
    assert [(row.version, row.error) for row in reg.list_versions()] == [(v, None)]
    message = (
        rf"{v}: saved in registry format 2, this code loads format {FORMAT_VERSION}: .*switches.*retrain it"
    )
    with pytest.raises(RegistryError, match=message):
        reg.load_model(v)
    with pytest.raises(RegistryError, match=message):
        reg.promote(v)
    assert reg.latest_version() is None


def test_save_refuses_metadata_that_names_a_builder(reg):
    with pytest.raises(RegistryError, match="may not name code"):
        save(reg, metadata={**metadata(), "builder": f"{__name__}:build_dict"})
    assert reg.versions() == []


@pytest.mark.parametrize(
    "value",
    [object(), {1, 2}, ("a", "b"), torch.zeros(2), np.array([object()]), "text"],
    ids=lambda v: type(v).__name__,  # the same on every xdist worker (no object addresses)
)
def test_save_refuses_artifacts_that_are_not_frames_dicts_lists_or_plain_arrays(reg, value):
    with pytest.raises(RegistryError, match="artifact 'x'"):
        save(reg, artifacts={"x": value})
    assert reg.versions() == []
    assert not reg.root.exists() or [p.name for p in reg.root.iterdir() if p.name.startswith(".tmp-")] == []


def test_load_refuses_top_level_model_with_weights_no_file_provides(reg):
    class WithExtra(Forecaster):
        def __init__(self, cfg: dict) -> None:
            super().__init__(cfg)
            self.calibration = nn.Linear(1, 1)

    v = save(reg)
    with pytest.raises(RegistryError, match="calibration"):
        reg.load_model(v, build=WithExtra)


def test_load_refuses_weights_that_do_not_fit_the_rebuilt_module(reg):
    v = save(reg)
    with pytest.raises(RegistryError, match=r"transformer\.pt do not fit"):
        reg.load_model(v, build=lambda cfg: build_dict({"d": 7}))


def test_read_artifact_reads_one_file_without_loading_or_hashing_the_model(reg, monkeypatch):
    frame = pd.DataFrame({"game_id": ["0022300001"], "p_home": [0.61]})
    v = save(reg, artifacts={"preds": frame, "scaler": {"mean": 1.5}})
    hashed = []
    real_sha = registry_mod.sha256_file
    monkeypatch.setattr(registry_mod, "sha256_file", lambda path: hashed.append(path.name) or real_sha(path))

    def no_weights(*args, **kwargs):
        raise AssertionError("read_artifact loaded weights")

    monkeypatch.setattr(torch, "load", no_weights)
    pd.testing.assert_frame_equal(reg.read_artifact(v, "preds"), frame)
    assert hashed == ["preds.parquet"]
    assert reg.read_artifact(v, "absent") is None


def test_read_artifact_refuses_a_corrupted_artifact_naming_it(reg):
    v = save(reg, artifacts={"scaler": {"mean": 1.5}})
    path = reg.root / v / "artifacts" / "scaler.json"
    path.write_text('{"mean": 2.5}')
    with pytest.raises(IntegrityError, match=rf"{v}: file artifacts/scaler\.json is corrupted"):
        reg.read_artifact(v, "scaler")


# ----------------------------------------------------------------------------- metadata


def test_metadata_json_holds_required_fields_with_valid_values(reg):
    before = dt.datetime.now(dt.UTC)
    parent = save(reg, seed=0)
    v = save(reg, seed=1, parent=parent)
    md = json.loads((reg.root / v / "metadata.json").read_text())

    assert md["version"] == v == "v1.1.0"
    created = dt.datetime.fromisoformat(md["created_at"])
    assert created.utcoffset() == dt.timedelta(0)
    assert before - dt.timedelta(seconds=1) <= created <= dt.datetime.now(dt.UTC)
    assert md["data_date_range"] == {"start": "2022-10-18", "end": "2023-04-09"}
    assert md["hyperparameters"] == metadata()["hyperparameters"]
    assert md["validation_metrics"] == metadata()["validation_metrics"]
    assert md["git_commit"] is None or (len(md["git_commit"]) == 40 and int(md["git_commit"], 16) >= 0)
    assert md["parent_version"] == parent
    assert md["promoted"] is False
    assert md["model_config"] == {"d": 6}
    assert md["format_version"] == FORMAT_VERSION and "builder" not in md
    assert set(md["files"]) == {"transformer.pt", "gnn.pt", "fusion.pt", "preprocessing.json"}
    for rel, digest in md["files"].items():
        assert sha256_file(reg.root / v / rel) == digest
    assert md["modules"]["gnn"]["parameters"] == sum(p.numel() for p in make_modules(0)["gnn"].parameters())
    validate_metadata(md)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("version", "1.0", "version"),
        ("created_at", "2024-01-01T10:00:00+02:00", "created_at"),
        ("data_date_range", {"start": "2024-02-01", "end": "2024-01-01"}, "data_date_range"),
        ("promoted", "yes", "promoted"),
        ("files", {"gnn.pt": "not-a-hash"}, "files"),
        ("git_commit", "zz", "git_commit"),
    ],
)
def test_validate_metadata_rejects_invalid_values_naming_the_field(reg, field, value, message):
    md = json.loads((reg.root / save(reg) / "metadata.json").read_text())
    md[field] = value
    with pytest.raises(RegistryError, match=message):
        validate_metadata(md)
    del md[field]
    with pytest.raises(RegistryError, match=f"missing field '{field}'"):
        validate_metadata(md)


def test_save_rejects_bad_metadata_before_writing_anything(reg):
    bad = metadata()
    del bad["validation_metrics"]
    with pytest.raises(RegistryError, match="validation_metrics"):
        save(reg, metadata=bad)
    nan = metadata()
    nan["validation_metrics"]["brier"] = float("nan")
    with pytest.raises(RegistryError, match="NaN"):
        save(reg, metadata=nan)
    with pytest.raises(RegistryError, match="may not set"):
        save(reg, metadata={**metadata(), "promoted": True})
    assert reg.versions() == []


# ----------------------------------------------------------------------------- versions


def test_versions_bump_from_the_highest_existing_version(reg):
    assert save(reg) == "v1.0.0"
    assert save(reg, bump="minor") == "v1.1.0"
    assert save(reg, bump="patch") == "v1.1.1"
    assert save(reg, bump="major") == "v2.0.0"
    assert save(reg, bump="minor") == "v2.1.0"
    with pytest.raises(RegistryError, match="already exists"):
        save(reg, version="v1.1.1")


def test_list_versions_orders_by_semantic_version_not_string(reg):
    for v in ["1.9.0", "v1.10.0", "1.2.0", "v2.0.0", "1.10.2"]:
        save(reg, version=v)
    (reg.root / ".tmp-v9.9.9-abc").mkdir()  # leftover of a killed save: never listed
    names = [s.version for s in reg.list_versions()]
    assert names == ["v1.2.0", "v1.9.0", "v1.10.0", "v1.10.2", "v2.0.0"]
    assert save(reg, bump="minor") == "v2.1.0"
    assert not (reg.root / ".tmp-v9.9.9-abc").exists()  # cleaned up by the next save


def test_list_versions_reports_summary_metrics(reg):
    save(reg, metadata=metadata(accuracy=0.61))
    save(reg, metadata=metadata(accuracy=0.64))
    rows = reg.list_versions()
    assert [r.metrics["accuracy"] for r in rows] == [0.61, 0.64]
    assert rows[1].metrics["pregame.accuracy"] == pytest.approx(0.62)
    assert rows[0].data_date_range == {"start": "2022-10-18", "end": "2023-04-09"}


# ----------------------------------------------------------------------------- latest


def test_latest_resolves_only_to_the_promoted_version(reg):
    v1 = save(reg, seed=1)
    with pytest.raises(RegistryError, match="no promoted model.*promote one first"):
        reg.load_model("latest", build=build_dict)
    reg.promote(v1)
    link = reg.root / "latest"
    assert link.is_symlink() and os.readlink(link) == v1  # relative: the registry can be moved
    v2 = save(reg, seed=2)
    assert reg.latest_version() == v1  # saving does not move latest
    reg.mark_not_promoted(v2, "failed calibration check")
    assert reg.latest_version() == v1  # neither does marking
    md2 = reg.read_metadata(v2)
    assert md2["promoted"] is False and md2["not_promoted_reason"] == "failed calibration check"
    assert_same_weights(make_modules(1), reg.load_model("latest", build=build_dict).modules)
    reg.promote(v2)
    assert reg.latest_version() == v2 and reg.read_metadata(v2)["promoted"] is True
    assert_same_weights(make_modules(2), reg.load_model("latest", build=build_dict).modules)
    with pytest.raises(RegistryError, match="current 'latest'"):
        reg.mark_not_promoted(v2, "oops")
    assert [s.is_latest for s in reg.list_versions()] == [False, True]


def test_latest_uses_pointer_file_where_symlinks_are_unavailable(reg, monkeypatch):
    v1, v2 = save(reg, seed=1), save(reg, seed=2)
    reg.promote(v1)

    def no_symlinks(*args, **kwargs):
        raise OSError("symlinks not supported")

    monkeypatch.setattr(registry_mod.os, "symlink", no_symlinks)
    reg.promote(v2)
    assert not (reg.root / "latest").exists()
    assert (reg.root / "LATEST").read_text().strip() == v2
    assert reg.latest_version() == v2
    assert_same_weights(make_modules(2), reg.load_model("latest", build=build_dict).modules)


# ----------------------------------------------------------------------------- concurrency and faults


def _concurrent_save(root: str, seed: int, barrier, queue) -> None:
    reg = ModelRegistry(root)
    reg._on_file_written = lambda rel: time.sleep(0.05)  # widen the window in which saves could collide
    barrier.wait(timeout=60)
    try:
        queue.put((seed, save(reg, seed=seed)))
    except Exception as exc:  # report it instead of leaving the parent waiting
        queue.put((seed, f"failed: {exc!r}"))


def test_two_processes_saving_at_once_get_different_versions_both_loadable(reg):
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_concurrent_save, args=(str(reg.root), s, barrier, queue)) for s in (11, 12)]
    for p in procs:
        p.start()
    results = dict(queue.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert sorted(results.values()) == ["v1.0.0", "v1.1.0"]
    assert reg.versions() == ["v1.0.0", "v1.1.0"]
    for seed, version in results.items():
        assert_same_weights(make_modules(seed), reg.load_model(version, build=build_dict).modules)


def test_fault_between_files_leaves_no_version_and_latest_intact(reg):
    v1 = save(reg, seed=1)
    reg.promote(v1)

    def fail_after_gnn(rel: str) -> None:
        if rel == "gnn.pt":
            raise OSError("disk full (injected)")

    reg._on_file_written = fail_after_gnn
    with pytest.raises(RegistryError, match=r"saving v1.1.0 to .* failed: disk full \(injected\); nothing"):
        save(reg, seed=2)
    reg._on_file_written = None
    assert reg.versions() == [v1]
    assert [p.name for p in reg.root.iterdir() if p.name.startswith(".tmp-")] == []
    assert reg.latest_version() == v1
    assert_same_weights(make_modules(1), reg.load_model("latest", build=build_dict).modules)
    assert save(reg, seed=3) == "v1.1.0"  # the lock was released


def test_save_killed_with_sigkill_leaves_no_version_and_latest_intact(reg, tmp_path):
    v1 = save(reg, seed=1)
    reg.promote(v1)
    marker = tmp_path / "midway"
    child = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import test_store as t
        from nba_pipeline.registry.store import ModelRegistry
        reg = ModelRegistry({str(reg.root)!r})
        def hook(rel):
            if rel == "gnn.pt":
                Path({str(marker)!r}).touch()
                time.sleep(120)
        reg._on_file_written = hook
        t.save(reg, seed=2)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", child], cwd=settings.REPO_ROOT)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the saving process ended before reaching the fault point"
            assert time.monotonic() < deadline, "the saving process never reached the fault point"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    leftovers = [p.name for p in reg.root.iterdir() if p.name.startswith(".tmp-")]
    assert len(leftovers) == 1  # it really was killed midway, with files written
    assert reg.versions() == [v1]
    assert [s.version for s in reg.list_versions()] == [v1]
    assert reg.latest_version() == v1
    assert_same_weights(make_modules(1), reg.load_model("latest", build=build_dict).modules)
    assert save(reg, seed=3) == "v1.1.0"  # the dead process's lock is gone
    assert [p.name for p in reg.root.iterdir() if p.name.startswith(".tmp-")] == []


# ----------------------------------------------------------------------------- integrity


@pytest.mark.parametrize(
    "rel",
    [
        "transformer.pt",
        "gnn.pt",
        "fusion.pt",
        "preprocessing.json",
        "artifacts/scaler.json",
        "artifacts/preds.parquet",
        "artifacts/grid.npz",
        "metadata.json",
    ],
)
def test_flipped_byte_makes_load_fail_naming_the_file(reg, rel):
    artifacts = {"scaler": {"mean": 1.5}, "preds": pd.DataFrame({"p": [0.5, 0.6]}), "grid": np.ones(3)}
    v = save(reg, artifacts=artifacts)
    path = reg.root / v / rel
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=rf"{v}: file {rel} is corrupted"):
        reg.load_model(v, build=build_dict)


def test_missing_file_makes_load_fail_naming_the_file(reg):
    v = save(reg)
    (reg.root / v / "fusion.pt").unlink()
    with pytest.raises(IntegrityError, match="file fusion.pt is missing"):
        reg.load_model(v, build=build_dict)


def test_promote_refuses_a_corrupted_version(reg):
    v1, v2 = save(reg, seed=1), save(reg, seed=2)
    reg.promote(v1)
    with open(reg.root / v2 / "gnn.pt", "ab") as f:
        f.write(b"\0")
    with pytest.raises(IntegrityError, match="gnn.pt"):
        reg.promote(v2)
    assert reg.latest_version() == v1


def test_unknown_version_error_lists_existing_versions(reg):
    save(reg)
    with pytest.raises(RegistryError, match=r"v3\.0\.0 not found.*v1\.0\.0"):
        reg.load_model("3.0.0", build=build_dict)


# ----------------------------------------------------------------------------- compare and CLI


def test_compare_versions_puts_metrics_side_by_side(reg):
    a = save(reg, metadata=metadata(accuracy=0.60, brier=0.245))
    b_md = metadata(accuracy=0.63, brier=0.236)
    b_md["hyperparameters"]["lr"] = 3e-4
    b = save(reg, metadata=b_md)
    cmp = reg.compare_versions(a, b)
    rows = {r["metric"]: r for r in cmp["metrics"]}
    assert rows["accuracy"]["a"] == 0.60 and rows["accuracy"]["b"] == 0.63
    assert rows["accuracy"]["delta"] == pytest.approx(0.03) and rows["accuracy"]["better"] == "b"
    assert rows["brier"]["better"] == "b" and rows["margin_mae"]["better"] == "="
    assert cmp["hyperparameters"] == [{"name": "lr", "a": 1e-4, "b": 3e-4}]
    md = render_comparison(cmp, fmt="markdown")
    assert "| accuracy | 0.6 | 0.63 | 0.03 | v1.1.0 |" in md


def test_cli_list_show_compare_promote_print_tables(reg, capsys):
    a = save(reg, metadata=metadata(accuracy=0.61))
    b = save(reg, metadata=metadata(accuracy=0.64))
    root = ["--root", str(reg.root)]

    assert cli_main([*root, "promote", b]) == 0
    assert reg.latest_version() == b
    capsys.readouterr()

    assert cli_main([*root, "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("version"))
    assert lines[header].split()[:3] == ["version", "latest", "promoted"]
    assert "accuracy" in lines[header].split()
    assert lines[header + 2].split()[:2] == [a, "no"] and "0.61" in lines[header + 2].split()
    assert lines[header + 3].split()[:3] == [b, "*", "yes"] and "0.64" in lines[header + 3].split()

    assert cli_main([*root, "compare", a, b]) == 0
    out = capsys.readouterr().out
    acc = next(line for line in out.splitlines() if line.startswith("accuracy "))
    assert acc.split() == ["accuracy", "0.61", "0.64", "0.03", b]

    assert cli_main([*root, "show", "latest"]) == 0
    out = capsys.readouterr().out
    assert f"{b}  (latest)" in out and "ok (every file matches its sha256)" in out

    assert cli_main([*root, "show", "v9.0.0"]) == 1
    assert "v9.0.0 not found" in capsys.readouterr().err


def test_registry_command_runs_through_python_dash_m_nba_pipeline(reg):
    save(reg, metadata=metadata(accuracy=0.61))
    out = subprocess.run(
        [sys.executable, "-m", "nba_pipeline", "registry", "--root", str(reg.root), "list"],
        cwd=settings.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "v1.0.0" in out and "0.61" in out
