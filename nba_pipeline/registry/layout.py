"""Where a version lives on disk and how versions are numbered: ``<root>/vX.Y.Z/{<module>.pt,
preprocessing.json, metadata.json, artifacts/<name>.{parquet,json,npz}}``, ``latest`` beside them.

The only files a version may list are matched by :data:`FILE_RE`: weights, preprocessing, and
artifacts of a data-only format, so that reading a version never runs code."""

from __future__ import annotations

import re
from pathlib import Path

from nba_pipeline.registry.errors import RegistryError

# 2: artifacts as parquet/JSON/npz and no builder name. Format 1 (pickled artifacts, a builder
# imported by name) is refused: loading it could run code from the folder.
# 3: the forecaster without settings for its parts: no fusion switches in ``model_config``, and the
# market's line as the line alone (``fusion.line_logit_scale``), not a learned blend.
FORMAT_VERSION = 3
# Older formats whose metadata and artifacts are still read (listing, comparison, the incumbent's
# stored predictions) but whose model is refused on load: what this code would misread in each.
UNLOADABLE_FORMATS = {
    2: "its model_config has the retired fusion switches (side_symmetric, context_skip, state_head, "
    "state_lead_flat, market_line) and its fusion.pt the market line's eight blend scalars "
    "(market_line.w.*), where this code's forecaster has fixed parts and the line alone "
    "(line_logit_scale)",
}
METADATA_FILE = "metadata.json"
PREPROCESSING_FILE = "preprocessing.json"
ARTIFACTS_DIR = "artifacts"
LATEST_LINK = "latest"
LATEST_FILE = "LATEST"
LOCK_FILE = ".lock"
TMP_PREFIX = ".tmp-"
# A half-made ``latest`` link of a killed promote: ``.latest.tmp-<hex>``.
LATEST_TMP_PREFIX = f".{LATEST_LINK}.{TMP_PREFIX[1:]}"

VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")  # module and artifact names
FILE_RE = re.compile(
    r"^(?:[A-Za-z_][A-Za-z0-9_\-]*\.pt|preprocessing\.json"
    r"|artifacts/[A-Za-z_][A-Za-z0-9_\-]*\.(?:parquet|json|npz))$"
)
BUMPS = ("major", "minor", "patch")

Version = tuple[int, int, int]


def parse_version(text: str) -> Version:
    """``"v1.10.0"`` or ``"1.10.0"`` -> ``(1, 10, 0)``; anything else is a clear error."""
    m = VERSION_RE.match(str(text).strip())
    if not m:
        raise RegistryError(f"not a semantic version (expected vMAJOR.MINOR.PATCH): {text!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def format_version(parts: Version) -> str:
    """``(1, 10, 0)`` -> ``"v1.10.0"``, the directory name of a version."""
    return f"v{parts[0]}.{parts[1]}.{parts[2]}"


def normalize_version(text: str) -> str:
    """Any accepted spelling (``"1.2.0"``, ``"v1.2.0"``) -> the directory name."""
    return format_version(parse_version(text))


def is_version_name(text: object) -> bool:
    """A directory name of a version, exactly as the registry writes it (``"v1.2.3"``)."""
    return isinstance(text, str) and text.startswith("v") and bool(VERSION_RE.match(text))


def bump_version(current: Version | None, bump: str) -> Version:
    """Next version after ``current`` (the highest existing one); the first version is 1.0.0."""
    if bump not in BUMPS:
        raise RegistryError(f"bump must be one of {BUMPS}, got {bump!r}")
    if current is None:
        return (1, 0, 0)
    major, minor, patch = current
    if bump == "major":
        return (major + 1, 0, 0)
    if bump == "minor":
        return (major, minor + 1, 0)
    return (major, minor, patch + 1)


def version_dirs(root: Path) -> dict[Version, Path]:
    """The complete versions under ``root`` (real directories named ``vX.Y.Z``; leftovers of killed
    saves start with :data:`TMP_PREFIX` and are not listed)."""
    if not root.is_dir():
        return {}
    return {
        parse_version(p.name): p
        for p in root.iterdir()
        if is_version_name(p.name) and p.is_dir() and not p.is_symlink()
    }


def artifact_file(name: str, suffix: str) -> str:
    """The relative path of artifact ``name`` stored as ``suffix`` (``"parquet"``, ``"json"``, ``"npz"``)."""
    return f"{ARTIFACTS_DIR}/{name}.{suffix}"


def is_artifact_file(rel: str) -> bool:
    return str(rel).startswith(f"{ARTIFACTS_DIR}/")
