"""Small result tables built fast: the evaluation's outputs are a few dozen to a few hundred rows,
built once per replication, where pandas' type inference costs more than the data.

String columns get the dtype pandas itself would infer for them (``str``, Arrow-backed under
pandas 3), built straight from an Arrow array; other columns are taken as they are.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pyarrow as pa

from effekt.lazy import pandas as pd


@functools.cache
def _string_dtype() -> tuple[Any, bool]:
    """The dtype pandas infers for a column of strings (object before pandas 3), and whether it
    is Arrow-backed; asked on first use, so importing the money layer does not import pandas."""
    dtype = pd.Series(["a"]).dtype
    return dtype, isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def __getattr__(name: str) -> Any:
    """``STR``: the dtype pandas infers for a column of strings (resolved on first use)."""
    if name == "STR":
        return _string_dtype()[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def strings(values: np.ndarray | pa.Array) -> object:
    """A string column (object array, or Arrow array) as pandas would infer it; an object array
    that is not all strings (missing values aside) is left for pandas to infer."""
    if isinstance(values, np.ndarray) and pd.api.types.infer_dtype(values, skipna=True) != "string":
        return values
    STR, arrow = _string_dtype()
    if arrow:
        if not isinstance(values, pa.Array | pa.ChunkedArray):
            values = pa.array(values, type=pa.large_string(), from_pandas=True)
        elif values.type != pa.large_string():
            values = values.cast(pa.large_string())
        return pd.arrays.ArrowStringArray(values, dtype=STR)
    if isinstance(values, pa.Array | pa.ChunkedArray):
        values = values.to_numpy(zero_copy_only=False)
    if pd.api.types.is_object_dtype(STR):
        return values
    return pd.array(np.asarray(values, dtype=object), dtype=STR)


def taken(names: list[str], idx: np.ndarray) -> object:
    """A string column holding ``names[idx[j]]`` in row j."""
    if len(idx) == 0:
        return np.zeros(0, dtype=object)
    if _string_dtype()[1]:
        return strings(pa.array(names, type=pa.large_string()).take(pa.array(idx)))
    return strings(np.asarray(names, dtype=object)[idx])


def nonzero_months(series: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The months where each monthly series is not zero (``|amount| > 1e-9``): series index,
    month and amount, ordered by series, then month."""
    if series and all(len(a) == len(series[0]) for a in series):
        m = np.vstack(series)
        which, month = np.nonzero(np.abs(m) > 1e-9)
        return which, month, m[which, month]
    nz = [np.nonzero(np.abs(a) > 1e-9)[0] for a in series]
    which = np.repeat(np.arange(len(series)), [len(x) for x in nz])
    if not series:
        return which, np.zeros(0, np.int64), np.zeros(0)
    amounts = [np.asarray(a, dtype=float)[x] for a, x in zip(series, nz, strict=True)]
    return which, np.concatenate(nz), np.concatenate(amounts)


def frame(columns: dict[str, object]) -> pd.DataFrame:
    """A DataFrame of the given columns; object (string) arrays become string columns."""
    return pd.DataFrame({k: strings(v) if isinstance(v, np.ndarray) and v.dtype == object else v
                         for k, v in columns.items()}, copy=False)
