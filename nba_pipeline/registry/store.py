"""The model registry's store: :class:`ModelRegistry` saves, verifies, reads, loads, promotes,
lists and compares versions; the package docstring (``nba_pipeline.registry``) says why it is
built this way, and each job it delegates lives in a module of its own."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nba_pipeline import settings
from nba_pipeline.registry import artifacts as codec
from nba_pipeline.registry import schema, weights
from nba_pipeline.registry.comparison import compare_metadata, flatten_metrics
from nba_pipeline.registry.entities import LoadedModel, VersionSummary
from nba_pipeline.registry.errors import IntegrityError, RegistryError
from nba_pipeline.registry.files import (
    atomic_write_text,
    dumps,
    fsync_dir,
    locked,
    sha256_file,
    write_bytes_durable,
)
from nba_pipeline.registry.layout import (
    ARTIFACTS_DIR,
    LATEST_FILE,
    LATEST_LINK,
    LATEST_TMP_PREFIX,
    METADATA_FILE,
    PREPROCESSING_FILE,
    TMP_PREFIX,
    Version,
    bump_version,
    format_version,
    normalize_version,
    parse_version,
    version_dirs,
)


@dataclass(frozen=True)
class _Content:
    """A save's content, checked and serialized before the disk is touched: after this, only the
    registry (version taken, parent missing) or the disk can make the save fail."""

    modules: Mapping[str, Any]
    metadata: dict[str, Any]
    preprocessing: bytes
    model_config: dict[str, Any]
    artifacts: dict[str, bytes]  # relative path -> bytes


def _prepare(
    modules: Mapping[str, Any],
    metadata: Mapping[str, Any],
    preprocessing: Mapping[str, Any],
    model_config: Mapping[str, Any],
    artifacts: Mapping[str, Any],
) -> _Content:
    weights.check_modules(modules)
    codec.check_names(artifacts)
    caller = schema.caller_metadata(metadata)
    return _Content(
        modules=modules,
        metadata=caller,
        preprocessing=dumps(dict(preprocessing), "preprocessing").encode("utf-8"),
        model_config=json.loads(dumps(dict(model_config), "model_config")),
        artifacts=dict(codec.encode_artifact(name, obj) for name, obj in artifacts.items()),
    )


class ModelRegistry:
    """Versioned store of trained models under ``root`` (default ``settings.models_dir()``)."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else settings.models_dir()
        # Test hook: called with the file name after each file of a save is written (fault injection).
        self._on_file_written: Callable[[str], None] | None = None

    # ------------------------------------------------------------------ layout, latest

    def versions(self) -> list[str]:
        """All complete versions, oldest to newest by semantic version."""
        return [format_version(v) for v in sorted(version_dirs(self.root))]

    def _cleanup_stale(self) -> None:
        """Remove leftovers of killed saves. Only called with the lock held, so none is in progress."""
        if not self.root.is_dir():
            return
        for p in self.root.iterdir():
            if p.name.startswith((TMP_PREFIX, LATEST_TMP_PREFIX)):
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
        for vdir in version_dirs(self.root).values():  # half-written metadata of a killed promote
            for p in vdir.glob(f"{TMP_PREFIX}*"):
                p.unlink(missing_ok=True)

    def latest_version(self) -> str | None:
        """The promoted version ``latest`` points to (symlink first, then the LATEST file), or None."""
        link = self.root / LATEST_LINK
        if link.is_symlink():
            name = Path(os.readlink(link)).name
        elif (self.root / LATEST_FILE).is_file():
            name = (self.root / LATEST_FILE).read_text(encoding="utf-8").strip()
        else:
            return None
        name = normalize_version(name)
        if not (self.root / name).is_dir():
            raise RegistryError(f"'latest' in {self.root} points to {name}, which does not exist")
        return name

    def _set_latest(self, version: str) -> None:
        link = self.root / LATEST_LINK
        tmp = self.root / f"{LATEST_TMP_PREFIX}{uuid.uuid4().hex}"
        try:
            os.symlink(version, tmp)
        except (OSError, NotImplementedError, AttributeError):
            # No symlinks here (some filesystems / platforms): an atomically replaced pointer file.
            atomic_write_text(self.root / LATEST_FILE, version + "\n")
            if link.is_symlink():
                link.unlink()
        else:
            os.replace(tmp, link)
            (self.root / LATEST_FILE).unlink(missing_ok=True)
        fsync_dir(self.root)

    def resolve(self, version: str) -> str:
        """``"latest"``, ``"v1.2.0"`` or ``"1.2.0"`` -> the directory name of an existing version."""
        if version == LATEST_LINK:
            latest = self.latest_version()
            if latest is None:
                raise RegistryError(
                    f"no promoted model in {self.root}: 'latest' is not set "
                    f"(versions: {', '.join(self.versions()) or 'none'}); promote one first"
                )
            return latest
        name = normalize_version(version)
        if not (self.root / name).is_dir():
            raise RegistryError(
                f"version {name} not found in {self.root} (versions: {', '.join(self.versions()) or 'none'})"
            )
        return name

    # ------------------------------------------------------------------ save

    def save_model(
        self,
        modules: Mapping[str, Any],
        metadata: Mapping[str, Any],
        preprocessing: Mapping[str, Any],
        model_config: Mapping[str, Any],
        bump: str = "minor",
        parent: str | None = None,
        artifacts: Mapping[str, Any] | None = None,
        version: str | None = None,
    ) -> str:
        """Store a new version and return its name (``"v1.3.0"``). It is not promoted.

        ``modules``: ``{name: nn.Module}`` (the spec's set is transformer, gnn, fusion), stored as
        ``<name>.pt`` state dicts. ``metadata`` must hold ``data_date_range`` ({start, end}),
        ``hyperparameters`` and ``validation_metrics``; other keys are kept as given.
        ``preprocessing``: JSON-serializable (numpy arrays become lists). ``artifacts``: pandas
        DataFrames (stored as parquet), dicts and lists (JSON) or numpy arrays (npz); any other type
        is refused, since reading it back could run code. ``model_config`` is what the builder gets
        at load time. ``version`` forces a number instead of ``bump``.
        """
        content = _prepare(modules, metadata, preprocessing, model_config, artifacts or {})
        parent_name = normalize_version(parent) if parent is not None else None
        with locked(self.root):
            self._cleanup_stale()
            name = self._new_version(bump, version, parent_name)
            tmp = self.root / f"{TMP_PREFIX}{name}-{uuid.uuid4().hex}"
            tmp.mkdir()
            try:
                files, module_info = self._write_files(tmp, content)
                md = schema.new_metadata(
                    content.metadata,
                    version=name,
                    parent_version=parent_name,
                    files=files,
                    modules=module_info,
                    model_config=content.model_config,
                )
                self._write_metadata(tmp, md)
                self._publish(tmp, name)
            except OSError as exc:  # disk full, read-only, quota: say where, and that nothing was kept
                shutil.rmtree(tmp, ignore_errors=True)
                raise RegistryError(
                    f"saving {name} to {self.root} failed: {exc.strerror or exc}; nothing was stored "
                    f"and latest is unchanged ({self.latest_version() or 'none'})"
                ) from exc
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        return name

    def _new_version(self, bump: str, version: str | None, parent: str | None) -> str:
        """The number of the version being saved (lock held): ``version`` if free, else the bump of
        the highest existing one."""
        existing: dict[Version, Path] = version_dirs(self.root)
        if parent is not None and parse_version(parent) not in existing:
            raise RegistryError(f"parent version {parent} does not exist in {self.root}")
        if version is None:
            return format_version(bump_version(max(existing) if existing else None, bump))
        target = parse_version(version)
        if target in existing:
            raise RegistryError(f"version {format_version(target)} already exists in {self.root}")
        return format_version(target)

    def _written(self, tmp: Path, rel: str, files: dict[str, str]) -> None:
        files[rel] = sha256_file(tmp / rel)  # hash what is on disk, not what we meant to write
        if self._on_file_written is not None:
            self._on_file_written(rel)

    def _write_files(self, tmp: Path, content: _Content) -> tuple[dict[str, str], dict[str, Any]]:
        """Weights, preprocessing and artifacts into ``tmp``; ``({file: sha256}, module info)``."""
        files: dict[str, str] = {}
        module_info: dict[str, Any] = {}
        for mod_name, module in content.modules.items():
            rel = weights.weights_file(mod_name)
            module_info[mod_name] = weights.write_weights(tmp / rel, module)
            self._written(tmp, rel, files)
        write_bytes_durable(tmp / PREPROCESSING_FILE, content.preprocessing)
        self._written(tmp, PREPROCESSING_FILE, files)
        if content.artifacts:
            (tmp / ARTIFACTS_DIR).mkdir()
            for rel, data in content.artifacts.items():
                write_bytes_durable(tmp / rel, data)
                self._written(tmp, rel, files)
            fsync_dir(tmp / ARTIFACTS_DIR)
        return files, module_info

    def _write_metadata(self, tmp: Path, md: Mapping[str, Any]) -> None:
        write_bytes_durable(tmp / METADATA_FILE, dumps(md, "metadata").encode("utf-8"))
        if self._on_file_written is not None:
            self._on_file_written(METADATA_FILE)

    def _publish(self, tmp: Path, name: str) -> None:
        """Rename the finished ``tmp`` into place: the version now exists, whole."""
        fsync_dir(tmp)
        os.rename(tmp, self.root / name)
        fsync_dir(self.root)

    # ------------------------------------------------------------------ read, verify

    def read_metadata(self, version: str) -> dict[str, Any]:
        """metadata.json of a version, checked against its own digest and the schema."""
        name = self.resolve(version)
        path = self.root / name / METADATA_FILE
        if not path.is_file():
            raise IntegrityError(f"{name}: file {METADATA_FILE} is missing ({path})")
        try:
            md = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IntegrityError(
                f"{name}: file {METADATA_FILE} is corrupted (not valid JSON: {exc})"
            ) from exc
        if not isinstance(md, dict) or md.get("metadata_sha256") != schema.metadata_digest(md):
            raise IntegrityError(
                f"{name}: file {METADATA_FILE} is corrupted or was edited "
                f"(its content does not match its metadata_sha256)"
            )
        schema.validate_metadata(md, where=f"{name}/{METADATA_FILE}")
        if md["version"] != name:
            raise IntegrityError(f"{name}: file {METADATA_FILE} describes version {md['version']}")
        return md

    def _checked(self, md: Mapping[str, Any], rel: str) -> Path:
        """The path of stored file ``rel`` after checking it against its sha256 in ``md``."""
        path = self.root / md["version"] / rel
        if not path.is_file():
            raise IntegrityError(f"{md['version']}: file {rel} is missing ({path})")
        actual, expected = sha256_file(path), md["files"][rel]
        if actual != expected:
            raise IntegrityError(
                f"{md['version']}: file {rel} is corrupted: sha256 {actual} does not match "
                f"{expected} recorded in {METADATA_FILE}"
            )
        return path

    def verify(self, version: str) -> dict[str, Any]:
        """Check every stored file against its sha256; return the metadata. Raises IntegrityError."""
        md = self.read_metadata(version)
        for rel in md["files"]:
            self._checked(md, rel)
        return md

    def read_artifact(self, version: str, name: str) -> Any | None:
        """One stored artifact of ``version``, its file checked against its sha256, without loading
        or hashing the model; None when the version stores no artifact of that name."""
        md = self.read_metadata(version)
        rel = codec.stored_artifacts(md["files"]).get(name)
        if rel is None:
            return None
        return codec.decode_artifact(self._checked(md, rel), f"{md['version']}: file {rel}")

    def load_model(self, version: str = LATEST_LINK, build: weights.Builder | None = None) -> LoadedModel:
        """Verify every file of ``version`` (default the promoted ``latest``), rebuild the modules and
        load their weights exactly, on the CPU (callers move the model where they run it).

        ``build(model_config)`` returns ``{name: nn.Module}`` or one ``nn.Module`` whose attributes
        named like the stored modules are filled (e.g. NBAForecaster.transformer/.gnn/.fusion); the
        default is :func:`weights.build_nba_forecaster`. Nothing in the folder chooses code: a
        ``.pt`` file that holds more than tensors is refused by ``torch.load(weights_only=True)``.
        """
        md = self.verify(version)
        name = md["version"]
        schema.check_loadable(md, name)
        vdir = self.root / name
        preprocessing = json.loads((vdir / PREPROCESSING_FILE).read_text(encoding="utf-8"))
        artifacts = {
            art: codec.decode_artifact(vdir / rel, f"{name}: file {rel}")
            for art, rel in codec.stored_artifacts(md["files"]).items()
        }
        modules, top = weights.rebuild(build or weights.build_nba_forecaster, md)
        weights.fill(modules, top, vdir, name)
        return LoadedModel(
            version=name,
            path=vdir,
            modules=modules,
            metadata=md,
            preprocessing=preprocessing,
            artifacts=artifacts,
            model=top,
        )

    # ------------------------------------------------------------------ promotion

    def _update_metadata(self, name: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        md = schema.signed({**self.read_metadata(name), **changes}, where=f"{name}/{METADATA_FILE}")
        atomic_write_text(self.root / name / METADATA_FILE, dumps(md, "metadata"))
        return md

    def promote(self, version: str) -> str:
        """Mark ``version`` promoted and point ``latest`` at it (the only way ``latest`` moves).

        The version's files are verified first: a corrupted model, or one this code cannot load (an
        older format), is never promoted."""
        with locked(self.root):
            name = self.resolve(version)
            schema.check_loadable(self.verify(name), name)
            self._update_metadata(
                name,
                {
                    "promoted": True,
                    "promoted_at": dt.datetime.now(dt.UTC).isoformat(),
                    "not_promoted_reason": None,
                },
            )
            self._set_latest(name)
        return name

    def mark_not_promoted(self, version: str, reason: str) -> str:
        """Keep ``version`` but record that it failed its checks; ``latest`` does not move."""
        if not reason or not str(reason).strip():
            raise RegistryError("mark_not_promoted needs a reason")
        with locked(self.root):
            name = self.resolve(version)
            if self.latest_version() == name:
                raise RegistryError(
                    f"{name} is the current 'latest'; promote another version before marking it not promoted"
                )
            self._update_metadata(name, {"promoted": False, "not_promoted_reason": str(reason)})
        return name

    # ------------------------------------------------------------------ listing, comparison

    def list_versions(self) -> list[VersionSummary]:
        """Every complete version, oldest to newest by semantic version, with its flattened
        validation metrics. A version whose metadata cannot be read is listed with ``error`` set."""
        try:
            latest = self.latest_version()
        except RegistryError:
            latest = None
        rows = []
        for name in self.versions():
            try:
                md = self.read_metadata(name)
            except RegistryError as exc:
                rows.append(VersionSummary(name, None, None, name == latest, None, None, {}, error=str(exc)))
                continue
            rows.append(
                VersionSummary(
                    version=name,
                    created_at=md["created_at"],
                    promoted=md["promoted"],
                    is_latest=name == latest,
                    parent_version=md["parent_version"],
                    data_date_range=md["data_date_range"],
                    metrics=flatten_metrics(md["validation_metrics"]),
                )
            )
        return rows

    def compare_versions(self, a: str, b: str) -> dict[str, Any]:
        """Side-by-side validation metrics (and differing hyperparameters) of two versions
        (``comparison.compare_metadata``)."""
        return compare_metadata(self.read_metadata(a), self.read_metadata(b))
