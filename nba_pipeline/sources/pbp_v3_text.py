"""Text operations of the V3 conversion, fast on a whole season of actions.

Why: a season has ~500k actions but only a few hundred distinct names and sub-types, and Python's
``re`` row by row is the slow part of a conversion; each distinct value is therefore handled once,
and regex groups come from Arrow.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import numpy as np
import pandas as pd


def on_uniques(s: pd.Series, f: Callable[[str], str]) -> pd.Series:
    """``f`` applied to each distinct value once (NA and missing become ``""``)."""
    u = pd.unique(s.dropna().astype(str))
    return s.map({x: f(x) for x in u}).fillna("").astype(object)


def norm_name(s: pd.Series) -> pd.Series:
    """Accent-folded, lower-case, single-spaced names: ``Vučević`` and ``Vucevic`` agree."""

    def fold(x: str) -> str:
        return unicodedata.normalize("NFKD", x).encode("ascii", "ignore").decode("ascii")

    return on_uniques(s, lambda x: " ".join(fold(x).lower().split()))


def extract(s: pd.Series, pattern: str, rows: pd.Series) -> pd.DataFrame:
    """Regex groups of ``s`` on ``rows`` only (NaN elsewhere), through Arrow: fast on a season.
    ``pattern`` names its groups ``g0, g1, ...`` (Arrow's ``extract_regex`` needs names)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = re.compile(pattern).groups
    out = pd.DataFrame({i: pd.Series(np.nan, index=s.index, dtype=object) for i in range(n)})
    sub = s[rows]
    if not len(sub):
        return out
    arr = pc.extract_regex(pa.array(sub.astype(str).to_numpy(dtype=object), type=pa.large_string()), pattern)
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    for i in range(n):
        vals = arr.field(f"g{i}").to_numpy(zero_copy_only=False).astype(object)
        vals[~valid] = np.nan
        out.loc[sub.index, i] = vals
    return out
