"""The artifact codec: what a model stores beside its weights (validation predictions, tables,
arrays), in formats that reading back cannot run code: pandas DataFrames as parquet, dicts and
lists as JSON, numpy arrays as npz read with ``allow_pickle=False``. Never pickles."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nba_pipeline.registry.errors import RegistryError
from nba_pipeline.registry.files import dumps
from nba_pipeline.registry.layout import NAME_RE, artifact_file, is_artifact_file


def check_names(artifacts: Mapping[str, Any]) -> None:
    for name in artifacts:
        if not NAME_RE.match(name):
            raise RegistryError(f"invalid artifact name {name!r}")


def stored_artifacts(files: Mapping[str, str]) -> dict[str, str]:
    """``{artifact name: relative path}`` of the artifacts among a version's listed ``files``."""
    return {Path(rel).stem: rel for rel in files if is_artifact_file(rel)}


def encode_artifact(name: str, obj: Any) -> tuple[str, bytes]:
    """``(relative path, bytes)`` of one artifact in a format that reading back cannot run code."""
    import numpy as np
    import pandas as pd

    buf = io.BytesIO()
    try:
        if isinstance(obj, pd.DataFrame):
            obj.to_parquet(buf)
            return artifact_file(name, "parquet"), buf.getvalue()
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                raise RegistryError(f"artifact {name!r} is an object array, which npz can only pickle")
            np.savez(buf, array=obj)
            return artifact_file(name, "npz"), buf.getvalue()
    except RegistryError:
        raise
    except Exception as exc:  # pyarrow / numpy conversion errors come in many types
        raise RegistryError(f"artifact {name!r} cannot be stored: {exc}") from exc
    if isinstance(obj, dict | list):
        return artifact_file(name, "json"), dumps(obj, f"artifact {name!r}").encode("utf-8")
    raise RegistryError(
        f"artifact {name!r} is a {type(obj).__name__}: the registry stores only pandas DataFrames "
        f"(parquet), dicts and lists (JSON) and numpy arrays (npz), so that loading never runs code"
    )


def decode_artifact(path: Path, what: str) -> Any:
    """Read an artifact written by :func:`encode_artifact`; its suffix was checked by the schema."""
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
