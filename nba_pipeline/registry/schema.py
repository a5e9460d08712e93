"""metadata.json: the fields a version must have, the fields a caller may set, and the self-digest
(``metadata_sha256``) that makes an edited or torn file fail loudly.

Metadata that names code to import (format 1 wrote ``builder``) or lists a file of a kind the
registry does not write is refused before any file of the version is opened."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nba_pipeline import settings
from nba_pipeline.registry.errors import RegistryError
from nba_pipeline.registry.files import dumps, json_default
from nba_pipeline.registry.layout import (
    FILE_RE,
    FORMAT_VERSION,
    METADATA_FILE,
    NAME_RE,
    UNLOADABLE_FORMATS,
    is_artifact_file,
    is_version_name,
)

SHA_RE = re.compile(r"^[0-9a-f]{64}$")
GIT_RE = re.compile(r"^[0-9a-f]{7,64}$")
# Metadata keys that would name code to import; format 1 wrote "builder".
CODE_KEYS = ("builder",)
# Fields the registry writes itself; a caller's metadata may not set them.
RESERVED = frozenset(
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
REQUIRED_FROM_CALLER = ("data_date_range", "hyperparameters", "validation_metrics")


def metadata_digest(metadata: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of every field but ``metadata_sha256`` itself."""
    body = {k: v for k, v in metadata.items() if k != "metadata_sha256"}
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"), default=json_default)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def signed(metadata: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``metadata`` with its digest set, validated: the only form the registry writes."""
    md = dict(metadata)
    md["metadata_sha256"] = metadata_digest(md)
    validate_metadata(md, where=where)
    return md


def git_commit() -> str | None:
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
    return commit if out.returncode == 0 and GIT_RE.match(commit) else None


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


def date_range(value: Any) -> dict[str, str]:
    """``{start, end}`` or ``(start, end)`` of dates, timestamps or ISO strings -> ISO dates."""
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


def caller_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The caller's part of a new version's metadata, checked and as JSON values, so a save fails
    before it touches the disk."""
    code_keys = sorted(set(CODE_KEYS) & set(metadata))
    if code_keys:
        raise RegistryError(
            f"metadata may not name code to import ({code_keys}): models are rebuilt in code "
            f"(load_model(build=...))"
        )
    clash = sorted(RESERVED & set(metadata))
    if clash:
        raise RegistryError(f"metadata may not set fields the registry writes: {clash}")
    missing = [k for k in REQUIRED_FROM_CALLER if k not in metadata]
    if missing:
        raise RegistryError(f"metadata is missing required fields: {missing}")
    for key in ("hyperparameters", "validation_metrics"):
        if not isinstance(metadata[key], Mapping):
            raise RegistryError(f"metadata[{key!r}] must be a dict")
    md = json.loads(dumps(dict(metadata), "metadata"))
    md["data_date_range"] = date_range(md["data_date_range"])
    return md


def new_metadata(
    caller: Mapping[str, Any],
    *,
    version: str,
    parent_version: str | None,
    files: Mapping[str, str],
    modules: Mapping[str, Any],
    model_config: Mapping[str, Any],
) -> dict[str, Any]:
    """A new version's metadata: the caller's fields, then those the registry writes, signed."""
    md: dict[str, Any] = dict(caller)
    md.update(
        format_version=FORMAT_VERSION,
        version=version,
        created_at=dt.datetime.now(dt.UTC).isoformat(),
        git_commit=git_commit(),
        parent_version=parent_version,
        promoted=False,
        files=dict(files),
        modules=dict(modules),
        model_config=dict(model_config),
    )
    return signed(md, where=f"{version}/{METADATA_FILE}")


def validate_metadata(md: Mapping[str, Any], where: str = METADATA_FILE) -> None:
    """Raise RegistryError naming every field of ``md`` that is missing or has an invalid value."""
    if md.get("format_version") == 1:
        raise RegistryError(
            f"{where}: registry format 1 (pickled artifacts, a model builder imported by name) is no "
            f"longer loaded, because loading it could run code from the folder; retrain the model"
        )
    problems = [
        f"field {key!r} names code to import ({md[key]!r:.80}); the registry never imports names "
        f"from metadata: the caller rebuilds the model (load_model(build=...))"
        for key in CODE_KEYS
        if key in md
    ]
    for key, (ok, expect) in _FIELDS.items():
        if key not in md:
            problems.append(f"missing field {key!r}")
        elif not ok(md[key]):
            problems.append(f"field {key!r} should be {expect}, got {md[key]!r:.120}")
    problems += _file_problems(md)
    if problems:
        raise RegistryError(f"{where}: invalid metadata: " + "; ".join(problems))


def check_loadable(md: Mapping[str, Any], where: str) -> None:
    """Refuse to load the model of a version saved in an older format (``layout.UNLOADABLE_FORMATS``):
    its weights would be misread by this code's modules, so it must be trained again."""
    found = md["format_version"]
    if found != FORMAT_VERSION:
        raise RegistryError(
            f"{where}: saved in registry format {found}, this code loads format {FORMAT_VERSION}: "
            f"{UNLOADABLE_FORMATS[found]}; retrain it (materialize trained_model) and promote the new "
            "version"
        )


def _is_utc_iso(v: Any) -> bool:
    try:
        t = dt.datetime.fromisoformat(v)
    except (TypeError, ValueError):
        return False
    return t.utcoffset() == dt.timedelta(0)


def _is_range(v: Any) -> bool:
    try:
        return isinstance(v, Mapping) and date_range(v) == dict(v)
    except RegistryError:
        return False


def _is_files(v: Any) -> bool:
    return (
        isinstance(v, Mapping)
        and len(v) > 0
        and all(isinstance(k, str) and isinstance(s, str) and SHA_RE.match(s) for k, s in v.items())
    )


# field -> (is the value valid, what it should be), in the order problems are reported
_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "format_version": (
        lambda v: v == FORMAT_VERSION or v in UNLOADABLE_FORMATS,
        f"{FORMAT_VERSION} (or an older format still listed: {sorted(UNLOADABLE_FORMATS)})",
    ),
    "version": (is_version_name, "a version string like 'v1.2.3'"),
    "created_at": (_is_utc_iso, "a UTC ISO-8601 timestamp"),
    "data_date_range": (_is_range, "{'start': ISO date, 'end': ISO date} with start <= end"),
    "hyperparameters": (lambda v: isinstance(v, Mapping), "a dict"),
    "validation_metrics": (lambda v: isinstance(v, Mapping), "a dict"),
    "git_commit": (lambda v: v is None or (isinstance(v, str) and bool(GIT_RE.match(v))), "a hash or null"),
    "parent_version": (lambda v: v is None or is_version_name(v), "a version string or null"),
    "promoted": (lambda v: isinstance(v, bool), "true or false"),
    "files": (_is_files, "a non-empty {file: sha256} dict"),
    "modules": (lambda v: isinstance(v, Mapping) and len(v) > 0, "a non-empty {name: info} dict"),
    "model_config": (lambda v: isinstance(v, Mapping), "a dict"),
    "metadata_sha256": (lambda v: isinstance(v, str) and bool(SHA_RE.match(v)), "a sha256 hex digest"),
}


def _file_problems(md: Mapping[str, Any]) -> list[str]:
    """Modules without weights, files of a kind the registry does not write, clashing artifacts."""
    files, modules = md.get("files"), md.get("modules")
    if not isinstance(files, Mapping):
        return []
    problems = []
    if isinstance(modules, Mapping):
        for name in modules:
            if not (isinstance(name, str) and NAME_RE.match(name)):
                problems.append(f"invalid module name {name!r:.80}")
            elif f"{name}.pt" not in files:
                problems.append(f"module {name!r} has no entry '{name}.pt' in 'files'")
    for rel in files:
        if not FILE_RE.match(str(rel)):
            problems.append(
                f"file {rel!r:.80} is not one the registry writes (<module>.pt, preprocessing.json, "
                f"artifacts/<name>.parquet|json|npz); other kinds could run code when read"
            )
    stems = [Path(rel).stem for rel in files if is_artifact_file(rel)]
    if len(stems) != len(set(stems)):
        problems.append(f"artifact names are not unique: {sorted(stems)}")
    return problems
