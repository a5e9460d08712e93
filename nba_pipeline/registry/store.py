"""Versioned model storage: ``<root>/vX.Y.Z/{<module>.pt, preprocessing.json, metadata.json,
artifacts/<name>.{parquet,json,npz}}``.

Why it is built this way:

- A version is written into a temporary directory inside the root, every file fsynced, then the
  directory is renamed into place, so a version either exists whole or not at all. A save that is
  killed leaves only a ``.tmp-*`` directory, which listings ignore and the next save removes.
- Saves and promotions hold an exclusive ``fcntl.flock`` on ``<root>/.lock``: two processes saving
  at once never take the same version number.
- ``metadata.json`` holds a sha256 of every other file and a sha256 of its own content
  (``metadata_sha256``); loading verifies all of them first and names the file that does not match.
- ``latest`` is a relative symlink swapped atomically (temporary link + ``os.replace``); where
  symlinks are unavailable a ``LATEST`` pointer file is replaced atomically instead. Only
  :meth:`ModelRegistry.promote` moves it; a model that fails its checks is kept and marked not
  promoted.
- A version folder is data, never code, because anyone who can write to the folder could
  otherwise run code in every process that loads a model (and a sha256 in metadata the same
  writer controls proves nothing): weights are ``state_dict`` files read with
  ``torch.load(weights_only=True)``; artifacts are parquet (DataFrames), JSON (dicts, lists) or
  npz read with ``allow_pickle=False`` (arrays), never pickles; the modules are rebuilt by code
  the caller chooses (``load_model(build=...)``, default :func:`build_nba_forecaster`), never by
  a name read from the metadata. Metadata that names a builder, or lists a file of another kind,
  is refused before any file is opened.
- The preprocessing the model needs (vocabulary, normalization statistics, feature order) is
  stored with it, so a loaded model featurizes new games exactly as in training.

Command line: ``python -m nba_pipeline.registry list|show V|compare A B|promote V`` (see
``nba_pipeline.registry.cli``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import io
import json
import math
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from pickle import UnpicklingError
from typing import Any

from nba_pipeline import settings

# 2: artifacts as parquet/JSON/npz and no builder name. Format 1 (pickled artifacts, a builder
# imported by name) is refused: loading it could run code from the folder.
FORMAT_VERSION = 2
METADATA_FILE = "metadata.json"
PREPROCESSING_FILE = "preprocessing.json"
ARTIFACTS_DIR = "artifacts"
LATEST_LINK = "latest"
LATEST_FILE = "LATEST"
LOCK_FILE = ".lock"
TMP_PREFIX = ".tmp-"

_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_GIT_RE = re.compile(r"^[0-9a-f]{7,64}$")
_BUMPS = ("major", "minor", "patch")
# The only files a version may list: weights, preprocessing, and artifacts of a data-only format.
_FILE_RE = re.compile(
    r"^(?:[A-Za-z_][A-Za-z0-9_\-]*\.pt|preprocessing\.json"
    r"|artifacts/[A-Za-z_][A-Za-z0-9_\-]*\.(?:parquet|json|npz))$"
)
# Metadata keys that would name code to import; format 1 wrote "builder".
_CODE_KEYS = ("builder",)
# Fields the registry writes itself; a caller's metadata may not set them.
_RESERVED = frozenset(
    {
        "version",
        "created_at",
        "git_commit",
        "parent_version",
        "promoted",
        "promoted_at",
        "not_promoted_reason",
        "files",
        "modules",
        "model_config",
        "format_version",
        "metadata_sha256",
    }
)
_REQUIRED_FROM_CALLER = ("data_date_range", "hyperparameters", "validation_metrics")


class RegistryError(RuntimeError):
    """Any registry failure: unknown version, nothing promoted, bad input, failed save."""


class IntegrityError(RegistryError):
    """A stored file is missing or its content does not match the sha256 in metadata.json."""


# ----------------------------------------------------------------------------- versions


def parse_version(text: str) -> tuple[int, int, int]:
    """``"v1.10.0"`` or ``"1.10.0"`` -> ``(1, 10, 0)``; anything else is a clear error."""
    m = _VERSION_RE.match(str(text).strip())
    if not m:
        raise RegistryError(f"not a semantic version (expected vMAJOR.MINOR.PATCH): {text!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def format_version(parts: tuple[int, int, int]) -> str:
    """``(1, 10, 0)`` -> ``"v1.10.0"``, the directory name of a version."""
    return f"v{parts[0]}.{parts[1]}.{parts[2]}"


def normalize_version(text: str) -> str:
    """Any accepted spelling (``"1.2.0"``, ``"v1.2.0"``) -> the directory name."""
    return format_version(parse_version(text))


def bump_version(current: tuple[int, int, int] | None, bump: str) -> tuple[int, int, int]:
    """Next version after ``current`` (the highest existing one); the first version is 1.0.0."""
    if bump not in _BUMPS:
        raise RegistryError(f"bump must be one of {_BUMPS}, got {bump!r}")
    if current is None:
        return (1, 0, 0)
    major, minor, patch = current
    if bump == "major":
        return (major + 1, 0, 0)
    if bump == "minor":
        return (major, minor + 1, 0)
    return (major, minor, patch + 1)


# ----------------------------------------------------------------------------- file helpers


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (weights files can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _json_default(obj: Any) -> Any:
    """JSON for the values a trainer naturally has: numpy scalars/arrays, dates, paths, tensors."""
    if isinstance(obj, dt.datetime | dt.date):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, set | frozenset | tuple):
        return sorted(obj) if isinstance(obj, set | frozenset) else list(obj)
    for attr in ("tolist", "item"):  # numpy arrays/scalars, torch tensors, pandas Timestamps go above
        if hasattr(obj, attr):
            return getattr(obj, attr)()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise TypeError(f"value of type {type(obj).__name__} is not JSON-serializable: {obj!r:.80}")


def _dumps(obj: Any, what: str) -> str:
    try:
        return json.dumps(obj, indent=2, sort_keys=True, default=_json_default, allow_nan=False)
    except ValueError as exc:  # NaN / inf
        raise RegistryError(
            f"{what} contains NaN or infinity ({exc}); store None for a missing value"
        ) from exc
    except TypeError as exc:
        raise RegistryError(f"{what} is not JSON-serializable: {exc}") from exc


def _write_bytes_durable(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` so readers see the old or the new content, never a torn file."""
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}-{uuid.uuid4().hex}")
    try:
        _write_bytes_durable(tmp, text.encode("utf-8"))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(path.parent)


def _metadata_digest(metadata: Mapping[str, Any]) -> str:
    body = {k: v for k, v in metadata.items() if k != "metadata_sha256"}
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"), default=_json_default)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def _git_commit() -> str | None:
    """HEAD of the repository the code runs from; None when git or the repository is unavailable."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=settings.REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and _GIT_RE.match(commit) else None


def _iso_date(value: Any, what: str) -> str:
    if value is None:
        raise RegistryError(f"{what} is missing")
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError as exc:
        raise RegistryError(f"{what} is not a date: {value!r}") from exc


def _date_range(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        start, end = value.get("start"), value.get("end")
    elif isinstance(value, list | tuple) and len(value) == 2:
        start, end = value
    else:
        raise RegistryError(f"data_date_range must be {{'start', 'end'}} or (start, end), got {value!r}")
    out = {"start": _iso_date(start, "data_date_range.start"), "end": _iso_date(end, "data_date_range.end")}
    if out["start"] > out["end"]:
        raise RegistryError(f"data_date_range starts after it ends: {out}")
    return out


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> ``{"pregame.accuracy": 0.61, "train.lr": 1e-4, ...}`` (every leaf)."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def flatten_metrics(metrics: Mapping[str, Any]) -> dict[str, float | None]:
    """:func:`flatten` keeping only the numbers (as floats) and None: what tables can compare."""
    return {
        k: None if v is None else float(v)
        for k, v in flatten(metrics).items()
        if v is None or (isinstance(v, int | float) and not isinstance(v, bool))
    }


# ----------------------------------------------------------------------------- schema


def validate_metadata(md: Mapping[str, Any], where: str = METADATA_FILE) -> None:
    """Raise RegistryError naming every field of ``md`` that is missing or has an invalid value."""
    problems: list[str] = []

    def need(key: str, ok: Callable[[Any], bool], expect: str) -> None:
        if key not in md:
            problems.append(f"missing field {key!r}")
        elif not ok(md[key]):
            problems.append(f"field {key!r} should be {expect}, got {md[key]!r:.120}")

    def is_version(v: Any) -> bool:
        return isinstance(v, str) and bool(_VERSION_RE.match(v)) and v.startswith("v")

    def is_utc_iso(v: Any) -> bool:
        try:
            t = dt.datetime.fromisoformat(v)
        except (TypeError, ValueError):
            return False
        return t.utcoffset() == dt.timedelta(0)

    def is_range(v: Any) -> bool:
        try:
            return isinstance(v, Mapping) and _date_range(v) == dict(v)
        except RegistryError:
            return False

    def is_files(v: Any) -> bool:
        return (
            isinstance(v, Mapping)
            and len(v) > 0
            and all(isinstance(k, str) and isinstance(s, str) and _SHA_RE.match(s) for k, s in v.items())
        )

    if md.get("format_version") == 1:
        raise RegistryError(
            f"{where}: registry format 1 (pickled artifacts, a model builder imported by name) is no "
            f"longer loaded, because loading it could run code from the folder; retrain the model"
        )
    for key in _CODE_KEYS:
        if key in md:
            problems.append(
                f"field {key!r} names code to import ({md[key]!r:.80}); the registry never imports names "
                f"from metadata: the caller rebuilds the model (load_model(build=...))"
            )
    need("format_version", lambda v: v == FORMAT_VERSION, f"{FORMAT_VERSION}")
    need("version", is_version, "a version string like 'v1.2.3'")
    need("created_at", is_utc_iso, "a UTC ISO-8601 timestamp")
    need("data_date_range", is_range, "{'start': ISO date, 'end': ISO date} with start <= end")
    need("hyperparameters", lambda v: isinstance(v, Mapping), "a dict")
    need("validation_metrics", lambda v: isinstance(v, Mapping), "a dict")
    need(
        "git_commit", lambda v: v is None or (isinstance(v, str) and bool(_GIT_RE.match(v))), "a hash or null"
    )
    need("parent_version", lambda v: v is None or is_version(v), "a version string or null")
    need("promoted", lambda v: isinstance(v, bool), "true or false")
    need("files", is_files, "a non-empty {file: sha256} dict")
    need("modules", lambda v: isinstance(v, Mapping) and len(v) > 0, "a non-empty {name: info} dict")
    need("model_config", lambda v: isinstance(v, Mapping), "a dict")
    need("metadata_sha256", lambda v: isinstance(v, str) and bool(_SHA_RE.match(v)), "a sha256 hex digest")
    if (
        "files" in md
        and "modules" in md
        and isinstance(md["files"], Mapping)
        and isinstance(md["modules"], Mapping)
    ):
        for name in md["modules"]:
            if not (isinstance(name, str) and _NAME_RE.match(name)):
                problems.append(f"invalid module name {name!r:.80}")
            elif f"{name}.pt" not in md["files"]:
                problems.append(f"module {name!r} has no entry '{name}.pt' in 'files'")
    if isinstance(md.get("files"), Mapping):
        for rel in md["files"]:
            if not _FILE_RE.match(str(rel)):
                problems.append(
                    f"file {rel!r:.80} is not one the registry writes (<module>.pt, preprocessing.json, "
                    f"artifacts/<name>.parquet|json|npz); other kinds could run code when read"
                )
        stems = [Path(rel).stem for rel in md["files"] if str(rel).startswith(f"{ARTIFACTS_DIR}/")]
        if len(stems) != len(set(stems)):
            problems.append(f"artifact names are not unique: {sorted(stems)}")
    if problems:
        raise RegistryError(f"{where}: invalid metadata: " + "; ".join(problems))


# ----------------------------------------------------------------------------- results


@dataclass
class LoadedModel:
    """A model as stored: rebuilt modules (eval mode), the builder's top-level model if it returned
    one, the metadata, the preprocessing needed to featurize new games, and the artifacts
    (DataFrames, dicts/lists, numpy arrays)."""

    version: str
    path: Path
    modules: dict[str, Any]
    metadata: dict[str, Any]
    preprocessing: dict[str, Any]
    artifacts: dict[str, Any] = field(default_factory=dict)
    model: Any = None


@dataclass
class VersionSummary:
    """One row of ``list``: enough to choose a version without loading it."""

    version: str
    created_at: str | None
    promoted: bool | None
    is_latest: bool
    parent_version: str | None
    data_date_range: dict[str, str] | None
    metrics: dict[str, float | None]
    error: str | None = None  # set when metadata.json could not be read; the row is still listed


# ----------------------------------------------------------------------------- registry


class ModelRegistry:
    """Versioned store of trained models under ``root`` (default ``settings.models_dir()``)."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else settings.models_dir()
        # Test hook: called with the file name after each file of a save is written (fault injection).
        self._on_file_written: Callable[[str], None] | None = None

    # ------------------------------------------------------------------ locking and layout

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_FILE, "a+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _version_dirs(self) -> dict[tuple[int, int, int], Path]:
        if not self.root.is_dir():
            return {}
        found = {}
        for p in self.root.iterdir():
            m = _VERSION_RE.match(p.name)
            if m and p.name.startswith("v") and p.is_dir() and not p.is_symlink():
                found[parse_version(p.name)] = p
        return found

    def versions(self) -> list[str]:
        """All complete versions, oldest to newest by semantic version."""
        return [format_version(v) for v in sorted(self._version_dirs())]

    def _cleanup_stale(self) -> None:
        """Remove leftovers of killed saves. Only called with the lock held, so none is in progress."""
        if not self.root.is_dir():
            return
        for p in self.root.iterdir():
            if p.name.startswith(TMP_PREFIX) or p.name.startswith(f".{LATEST_LINK}.{TMP_PREFIX[1:]}"):
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
        for vdir in self._version_dirs().values():  # half-written metadata of a killed promote
            for p in vdir.glob(f"{TMP_PREFIX}*"):
                p.unlink(missing_ok=True)

    # ------------------------------------------------------------------ latest pointer

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
        tmp = self.root / f".{LATEST_LINK}.{TMP_PREFIX[1:]}{uuid.uuid4().hex}"
        try:
            os.symlink(version, tmp)
        except (OSError, NotImplementedError, AttributeError):
            # No symlinks here (some filesystems / platforms): an atomically replaced pointer file.
            _atomic_write_text(self.root / LATEST_FILE, version + "\n")
            if link.is_symlink():
                link.unlink()
        else:
            os.replace(tmp, link)
            (self.root / LATEST_FILE).unlink(missing_ok=True)
        _fsync_dir(self.root)

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
        import torch

        if not modules:
            raise RegistryError("save_model needs at least one module")
        for name, module in modules.items():
            if not _NAME_RE.match(name) or name in ("metadata", "preprocessing"):
                raise RegistryError(f"invalid module name {name!r}")
            if not isinstance(module, torch.nn.Module):
                raise RegistryError(f"module {name!r} is a {type(module).__name__}, not a torch.nn.Module")
        for name in artifacts or {}:
            if not _NAME_RE.match(name):
                raise RegistryError(f"invalid artifact name {name!r}")
        code_keys = sorted(set(_CODE_KEYS) & set(metadata))
        if code_keys:
            raise RegistryError(
                f"metadata may not name code to import ({code_keys}): models are rebuilt in code "
                f"(load_model(build=...))"
            )
        clash = sorted(_RESERVED & set(metadata))
        if clash:
            raise RegistryError(f"metadata may not set fields the registry writes: {clash}")
        missing = [k for k in _REQUIRED_FROM_CALLER if k not in metadata]
        if missing:
            raise RegistryError(f"metadata is missing required fields: {missing}")
        if not isinstance(metadata["hyperparameters"], Mapping):
            raise RegistryError("metadata['hyperparameters'] must be a dict")
        if not isinstance(metadata["validation_metrics"], Mapping):
            raise RegistryError("metadata['validation_metrics'] must be a dict")
        parent_name = normalize_version(parent) if parent is not None else None

        # Serialize everything that can fail before touching the disk.
        preprocessing_text = _dumps(dict(preprocessing), "preprocessing")
        caller_md = json.loads(_dumps(dict(metadata), "metadata"))
        caller_md["data_date_range"] = _date_range(caller_md["data_date_range"])
        model_config_json = json.loads(_dumps(dict(model_config), "model_config"))
        artifact_bytes = dict(_encode_artifact(name, obj) for name, obj in (artifacts or {}).items())

        with self._locked():
            self._cleanup_stale()
            existing = self._version_dirs()
            if parent_name is not None and parse_version(parent_name) not in existing:
                raise RegistryError(f"parent version {parent_name} does not exist in {self.root}")
            if version is not None:
                target = parse_version(version)
                if target in existing:
                    raise RegistryError(f"version {format_version(target)} already exists in {self.root}")
            else:
                target = bump_version(max(existing) if existing else None, bump)
            name = format_version(target)
            tmp = self.root / f"{TMP_PREFIX}{name}-{uuid.uuid4().hex}"
            tmp.mkdir()
            try:
                files: dict[str, str] = {}
                module_info: dict[str, Any] = {}

                def written(rel: str) -> None:
                    files[rel] = sha256_file(tmp / rel)  # hash what is on disk, not what we meant to write
                    if self._on_file_written is not None:
                        self._on_file_written(rel)

                for mod_name, module in modules.items():
                    state = {k: v.detach().to("cpu").clone() for k, v in module.state_dict().items()}
                    rel = f"{mod_name}.pt"
                    with open(tmp / rel, "wb") as f:
                        torch.save(state, f)
                        f.flush()
                        os.fsync(f.fileno())
                    module_info[mod_name] = {
                        "class": f"{type(module).__module__}.{type(module).__qualname__}",
                        "parameters": int(sum(p.numel() for p in module.parameters())),
                        "file": rel,
                    }
                    written(rel)
                _write_bytes_durable(tmp / PREPROCESSING_FILE, preprocessing_text.encode("utf-8"))
                written(PREPROCESSING_FILE)
                if artifact_bytes:
                    (tmp / ARTIFACTS_DIR).mkdir()
                    for rel, data in artifact_bytes.items():
                        _write_bytes_durable(tmp / rel, data)
                        written(rel)
                    _fsync_dir(tmp / ARTIFACTS_DIR)

                md: dict[str, Any] = dict(caller_md)
                md.update(
                    format_version=FORMAT_VERSION,
                    version=name,
                    created_at=dt.datetime.now(dt.UTC).isoformat(),
                    git_commit=_git_commit(),
                    parent_version=parent_name,
                    promoted=False,
                    files=files,
                    modules=module_info,
                    model_config=model_config_json,
                )
                md["metadata_sha256"] = _metadata_digest(md)
                validate_metadata(md, where=f"{name}/{METADATA_FILE}")
                _write_bytes_durable(tmp / METADATA_FILE, _dumps(md, "metadata").encode("utf-8"))
                if self._on_file_written is not None:
                    self._on_file_written(METADATA_FILE)
                _fsync_dir(tmp)
                os.rename(tmp, self.root / name)
                _fsync_dir(self.root)
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

    # ------------------------------------------------------------------ metadata, verify

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
        if not isinstance(md, dict) or md.get("metadata_sha256") != _metadata_digest(md):
            raise IntegrityError(
                f"{name}: file {METADATA_FILE} is corrupted or was edited "
                f"(its content does not match its metadata_sha256)"
            )
        validate_metadata(md, where=f"{name}/{METADATA_FILE}")
        if md["version"] != name:
            raise IntegrityError(f"{name}: file {METADATA_FILE} describes version {md['version']}")
        return md

    def verify(self, version: str) -> dict[str, Any]:
        """Check every stored file against its sha256; return the metadata. Raises IntegrityError."""
        md = self.read_metadata(version)
        vdir = self.root / md["version"]
        for rel, expected in md["files"].items():
            path = vdir / rel
            if not path.is_file():
                raise IntegrityError(f"{md['version']}: file {rel} is missing ({path})")
            actual = sha256_file(path)
            if actual != expected:
                raise IntegrityError(
                    f"{md['version']}: file {rel} is corrupted: sha256 {actual} does not match "
                    f"{expected} recorded in {METADATA_FILE}"
                )
        return md

    def _update_metadata(self, name: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        md = self.read_metadata(name)
        md.update(changes)
        md["metadata_sha256"] = _metadata_digest(md)
        validate_metadata(md, where=f"{name}/{METADATA_FILE}")
        _atomic_write_text(self.root / name / METADATA_FILE, _dumps(md, "metadata"))
        return md

    # ------------------------------------------------------------------ promotion

    def promote(self, version: str) -> str:
        """Mark ``version`` promoted and point ``latest`` at it (the only way ``latest`` moves).

        The version's files are verified first: a corrupted model is never promoted."""
        with self._locked():
            name = self.resolve(version)
            self.verify(name)
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
        with self._locked():
            name = self.resolve(version)
            if self.latest_version() == name:
                raise RegistryError(
                    f"{name} is the current 'latest'; promote another version before marking it not promoted"
                )
            self._update_metadata(name, {"promoted": False, "not_promoted_reason": str(reason)})
        return name

    # ------------------------------------------------------------------ load

    def load_model(
        self,
        version: str = LATEST_LINK,
        build: Callable[[dict[str, Any]], Any] | None = None,
    ) -> LoadedModel:
        """Verify every file of ``version`` (default the promoted ``latest``), rebuild the modules and
        load their weights exactly, on the CPU (callers move the model where they run it).

        ``build(model_config)`` returns ``{name: nn.Module}`` or one ``nn.Module`` whose attributes
        named like the stored modules are filled (e.g. NBAForecaster.transformer/.gnn/.fusion); the
        default is :func:`build_nba_forecaster`. Nothing in the folder chooses code: a ``.pt`` file
        that holds more than tensors is refused by ``torch.load(weights_only=True)``.
        """
        import torch

        name = self.resolve(version)
        md = self.verify(name)
        vdir = self.root / name
        preprocessing = json.loads((vdir / PREPROCESSING_FILE).read_text(encoding="utf-8"))
        artifacts: dict[str, Any] = {}
        for rel in md["files"]:
            if rel.startswith(f"{ARTIFACTS_DIR}/"):
                artifacts[Path(rel).stem] = _decode_artifact(vdir / rel, f"{name}: file {rel}")

        built = (build or build_nba_forecaster)(dict(md["model_config"]))
        top = None
        if isinstance(built, torch.nn.Module):
            top = built
            modules = {}
            for mod_name in md["modules"]:
                sub = getattr(top, mod_name, None)
                if not isinstance(sub, torch.nn.Module):
                    raise RegistryError(
                        f"{name}: the builder's {type(top).__name__} has no submodule {mod_name!r} "
                        f"to load {mod_name}.pt into"
                    )
                modules[mod_name] = sub
        elif isinstance(built, Mapping):
            modules = dict(built)
        else:
            raise RegistryError(
                f"{name}: builder returned {type(built).__name__}, expected nn.Module or dict"
            )
        if set(modules) != set(md["modules"]):
            raise RegistryError(
                f"{name}: builder made modules {sorted(modules)} "
                f"but the version stores {sorted(md['modules'])}"
            )
        for mod_name, module in modules.items():
            rel = f"{mod_name}.pt"  # never a path from the metadata
            state = _load_weights(vdir / rel, f"{name}: file {rel}")
            try:
                module.load_state_dict(state, strict=True)
            except RuntimeError as exc:
                raise RegistryError(f"{name}: weights in {rel} do not fit the rebuilt module: {exc}") from exc
            module.eval()
        if top is not None:
            covered = {f"{n}.{k}" for n, m in modules.items() for k in m.state_dict()}
            uncovered = sorted(set(top.state_dict()) - covered)
            if uncovered:
                raise RegistryError(
                    f"{name}: the rebuilt {type(top).__name__} has weights no stored file provides: "
                    f"{uncovered[:5]}{' ...' if len(uncovered) > 5 else ''}"
                )
            top.eval()
        return LoadedModel(
            version=name,
            path=vdir,
            modules=modules,
            metadata=md,
            preprocessing=preprocessing,
            artifacts=artifacts,
            model=top,
        )

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
        """Side-by-side validation metrics (and differing hyperparameters) of two versions."""
        ma, mb = self.read_metadata(a), self.read_metadata(b)
        fa, fb = flatten_metrics(ma["validation_metrics"]), flatten_metrics(mb["validation_metrics"])
        rows = []
        for key in sorted(set(fa) | set(fb)):
            va, vb = fa.get(key), fb.get(key)
            delta = vb - va if va is not None and vb is not None else None
            rows.append({"metric": key, "a": va, "b": vb, "delta": delta, "better": _better(key, va, vb)})
        ha, hb = flatten(ma["hyperparameters"]), flatten(mb["hyperparameters"])
        hyper = [
            {"name": k, "a": ha.get(k), "b": hb.get(k)}
            for k in sorted(set(ha) | set(hb))
            if ha.get(k) != hb.get(k)
        ]
        return {
            "a": ma["version"],
            "b": mb["version"],
            "data_date_range": {"a": ma["data_date_range"], "b": mb["data_date_range"]},
            "promoted": {"a": ma["promoted"], "b": mb["promoted"]},
            "metrics": rows,
            "hyperparameters": hyper,
        }


_LOWER_BETTER = ("loss", "brier", "mae", "rmse", "mse", "error", "ece")
_HIGHER_BETTER = ("accuracy", "acc", "auc", "r2", "skill")


def _better(metric: str, a: float | None, b: float | None) -> str:
    """Which side is better by the metric's name ('a', 'b', '=' or '' when unknown)."""
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return ""
    last = metric.rsplit(".", 1)[-1].lower()
    if any(t in last for t in _LOWER_BETTER):
        sign = -1
    elif any(t in last for t in _HIGHER_BETTER):
        sign = 1
    else:
        return ""
    if a == b:
        return "="
    return "b" if (b - a) * sign > 0 else "a"


def build_nba_forecaster(model_config: Mapping[str, Any]) -> Any:
    """Default builder: ``NBAForecaster(ForecasterConfig.from_dict(model_config))``.

    Save an NBAForecaster with ``modules={"transformer": m.transformer, "gnn": m.gnn, "fusion":
    m.fusion}`` and ``model_config=m.cfg.to_dict()``; ``load_model`` then returns it as ``.model``.
    Imported lazily so listing or promoting versions never imports torch."""
    from nba_pipeline.models.forecaster import ForecasterConfig, NBAForecaster

    return NBAForecaster(ForecasterConfig.from_dict(dict(model_config)))


# ----------------------------------------------------------------------------- data-only files


def _encode_artifact(name: str, obj: Any) -> tuple[str, bytes]:
    """``(relative path, bytes)`` of one artifact in a format that reading back cannot run code."""
    import numpy as np
    import pandas as pd

    buf = io.BytesIO()
    try:
        if isinstance(obj, pd.DataFrame):
            obj.to_parquet(buf)
            return f"{ARTIFACTS_DIR}/{name}.parquet", buf.getvalue()
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                raise RegistryError(f"artifact {name!r} is an object array, which npz can only pickle")
            np.savez(buf, array=obj)
            return f"{ARTIFACTS_DIR}/{name}.npz", buf.getvalue()
    except RegistryError:
        raise
    except Exception as exc:  # pyarrow / numpy conversion errors come in many types
        raise RegistryError(f"artifact {name!r} cannot be stored: {exc}") from exc
    if isinstance(obj, dict | list):
        return f"{ARTIFACTS_DIR}/{name}.json", _dumps(obj, f"artifact {name!r}").encode("utf-8")
    raise RegistryError(
        f"artifact {name!r} is a {type(obj).__name__}: the registry stores only pandas DataFrames "
        f"(parquet), dicts and lists (JSON) and numpy arrays (npz), so that loading never runs code"
    )


def _decode_artifact(path: Path, what: str) -> Any:
    """Read an artifact written by :func:`_encode_artifact`; its suffix was checked by the schema."""
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    if path.suffix == ".parquet":
        import pandas as pd

        return pd.read_parquet(path)
    if path.suffix == ".npz":
        import numpy as np

        try:
            with np.load(path, allow_pickle=False) as z:
                if list(z.files) != ["array"]:
                    raise RegistryError(f"{what} should hold one array named 'array', holds {z.files}")
                return z["array"]
        except ValueError as exc:  # an object array: numpy refuses to unpickle it
            raise RegistryError(f"{what} is not a plain array file: {exc}") from exc
    raise RegistryError(f"{what}: the registry does not read {path.suffix or 'suffix-less'} files")


def _load_weights(path: Path, what: str) -> dict[str, Any]:
    """A ``{name: tensor}`` state dict; anything else in the file is refused, never executed."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (UnpicklingError, RuntimeError, ValueError, EOFError) as exc:
        raise RegistryError(
            f"{what} is not a plain weights file (torch.load(weights_only=True) refused it): {exc}"
        ) from exc
    if not isinstance(state, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise RegistryError(f"{what} does not hold a state dict of tensors")
    return dict(state)
