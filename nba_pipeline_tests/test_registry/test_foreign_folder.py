"""A version folder written by someone else is data: loading it never runs code from it.

Every forged folder here carries a payload that creates a marker file when it runs (a pickle whose
``__reduce__`` opens the marker for writing, or a builder importable by name that touches it), and
valid sha256 digests, since whoever writes the folder can compute them. Control tests prove each
payload really runs when loaded the unsafe way, so a test that sees no marker means something.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from nba_pipeline.registry.errors import RegistryError
from nba_pipeline.registry.layout import FORMAT_VERSION
from nba_pipeline_tests.test_registry.test_store import assert_same_weights, build_dict, make_modules

VERSION = "v1.0.0"


class Payload:
    """Unpickling this calls ``open(marker, "w")``: the file appears if the pickle is ever run."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple:
        return (open, (self.marker, "w"))


def touching_builder(model_config: dict) -> dict:
    """What a registry that imports ``metadata["builder"]`` would call."""
    Path(model_config["marker"]).touch()
    return build_dict(model_config)


def weights_bytes(seed: int = 0) -> dict[str, bytes]:
    out = {}
    for name, module in make_modules(seed).items():
        buf = io.BytesIO()
        torch.save(module.state_dict(), buf)
        out[f"{name}.pt"] = buf.getvalue()
    return out


def forge(root: Path, files: dict[str, bytes], listed: list[str] | None = None, **fields) -> str:
    """Write a version folder by hand, as an outsider would: files, digests and a self-consistent
    metadata.json (``listed``: the files metadata names, default all)."""
    vdir = root / VERSION
    for rel, data in files.items():
        (vdir / rel).parent.mkdir(parents=True, exist_ok=True)
        (vdir / rel).write_bytes(data)
    names = listed if listed is not None else list(files)
    md = {
        "format_version": FORMAT_VERSION,
        "version": VERSION,
        "created_at": "2024-01-01T00:00:00+00:00",
        "data_date_range": {"start": "2022-10-18", "end": "2023-04-09"},
        "hyperparameters": {},
        "validation_metrics": {},
        "git_commit": None,
        "parent_version": None,
        "promoted": False,
        "files": {rel: hashlib.sha256(files[rel]).hexdigest() for rel in names},
        "modules": {m: {"file": f"{m}.pt"} for m in ("transformer", "gnn", "fusion")},
        "model_config": {"d": 6, "marker": fields.pop("marker", "")},
        **fields,
    }
    write_signed(vdir / "metadata.json", md)
    return VERSION


def write_signed(path: Path, md: dict) -> None:
    """metadata.json with the self-digest the registry checks, computed as any writer can."""
    body = {k: v for k, v in md.items() if k != "metadata_sha256"}
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"))
    path.write_text(json.dumps({**body, "metadata_sha256": hashlib.sha256(canon.encode()).hexdigest()}))


def base_files() -> dict[str, bytes]:
    return {**weights_bytes(), "preprocessing.json": b"{}"}


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "code-ran"


# ----------------------------------------------------------------------------- controls


def test_control_the_pickle_payload_creates_the_marker_when_unpickled(marker):
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()


def test_control_the_pt_payload_creates_the_marker_when_loaded_without_weights_only(tmp_path, marker):
    path = tmp_path / "evil.pt"
    torch.save({"lin.weight": Payload(marker)}, path)
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_control_a_well_formed_forged_folder_loads(reg):
    v = forge(reg.root, base_files())
    assert_same_weights(make_modules(0), reg.load_model(v, build=build_dict).modules)


# ----------------------------------------------------------------------------- forged folders


@pytest.mark.parametrize("builder", ["os:system", f"{__name__}:touching_builder"])
@pytest.mark.parametrize("build", [None, build_dict], ids=["default-build", "explicit-build"])
def test_metadata_naming_a_builder_is_refused_and_never_imported(reg, marker, builder, build):
    v = forge(reg.root, base_files(), builder=builder, marker=str(marker))
    with pytest.raises(RegistryError, match="'builder' names code to import"):
        reg.load_model(v, build=build)
    assert not marker.exists()
    assert "names code" in reg.list_versions()[0].error


def test_format_1_folder_with_a_builder_and_pickled_artifact_is_refused_without_running_either(reg, marker):
    files = {**base_files(), "artifacts/validation_predictions.pkl": pickle.dumps(Payload(marker))}
    v = forge(reg.root, files, format_version=1, builder=f"{__name__}:touching_builder", marker=str(marker))
    with pytest.raises(RegistryError, match="format 1 .* no longer loaded"):
        reg.load_model(v)
    with pytest.raises(RegistryError, match="format 1"):
        reg.load_model(v, build=build_dict)
    assert not marker.exists()


def test_listed_pickle_artifact_is_refused_before_any_file_is_read(reg, marker):
    v = forge(reg.root, {**base_files(), "artifacts/scaler.pkl": pickle.dumps(Payload(marker))})
    with pytest.raises(RegistryError, match=r"file 'artifacts/scaler\.pkl' is not one the registry writes"):
        reg.load_model(v, build=build_dict)
    assert not marker.exists()


def test_unlisted_pickle_in_the_folder_is_ignored(reg, marker):
    files = {**base_files(), "artifacts/scaler.pkl": pickle.dumps(Payload(marker))}
    v = forge(reg.root, files, listed=[*base_files()])
    loaded = reg.load_model(v, build=build_dict)
    assert loaded.artifacts == {}
    assert not marker.exists()


@pytest.mark.parametrize("where", ["whole-file", "inside-state-dict"])
def test_weights_file_holding_a_pickled_object_is_refused_without_running_it(reg, marker, where):
    buf = io.BytesIO()
    torch.save(Payload(marker) if where == "whole-file" else {"lin.weight": Payload(marker)}, buf)
    v = forge(reg.root, {**base_files(), "gnn.pt": buf.getvalue()})
    with pytest.raises(RegistryError, match=r"file gnn\.pt is not a plain weights file"):
        reg.load_model(v, build=build_dict)
    assert not marker.exists()


def test_weights_file_holding_something_other_than_tensors_is_refused(reg):
    buf = io.BytesIO()
    torch.save({"lin.weight": [1.0, 2.0]}, buf)
    v = forge(reg.root, {**base_files(), "gnn.pt": buf.getvalue()})
    with pytest.raises(RegistryError, match=r"gnn\.pt does not hold a state dict of tensors"):
        reg.load_model(v, build=build_dict)


def test_npz_artifact_holding_an_object_array_is_refused_without_unpickling(reg, marker):
    buf = io.BytesIO()
    np.savez(buf, array=np.array([Payload(marker)], dtype=object))
    v = forge(reg.root, {**base_files(), "artifacts/grid.npz": buf.getvalue()})
    with pytest.raises(RegistryError, match=r"artifacts/grid\.npz is not a plain array file"):
        reg.load_model(v, build=build_dict)
    assert not marker.exists()


@pytest.mark.parametrize("rel", ["../outside.pt", "/tmp/evil.pt", "artifacts/../gnn.json", "sub/x.pt"])
def test_file_paths_outside_the_registry_layout_are_refused(reg, rel):
    files = base_files()
    v = forge(reg.root, files, listed=list(files))
    md = json.loads((reg.root / v / "metadata.json").read_text())
    md["files"][rel] = "0" * 64
    write_signed(reg.root / v / "metadata.json", md)
    with pytest.raises(RegistryError, match="is not one the registry writes"):
        reg.load_model(v, build=build_dict)
