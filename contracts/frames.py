"""Small result tables built fast: the evaluation's outputs are a few dozen to a few hundred rows,
built once per replication, where pandas' type inference costs more than the data.

String columns get the dtype pandas itself would infer for them (``str``, Arrow-backed under
pandas 3), built straight from an Arrow array; other columns are taken as they are.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from effekt import lazy
from effekt.lazy import pandas as pd

np = lazy.module("numpy", globals())  # on first use: `effekt validate` needs neither (issue 14)
pa = lazy.module("pyarrow", globals())


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
    month and amount, ordered by series, then month. The series go into one matrix, the shorter
    ones padded with zero months (never read: a zero is not kept), so a block's series of
    several replications are read at once, each as it would be alone."""
    if not series:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    m = months_matrix(series, max(len(a) for a in series))
    which, month = np.nonzero(np.abs(m) > 1e-9)
    return which, month, m[which, month]


def months_matrix(series: Sequence[np.ndarray], width: int) -> np.ndarray:
    """The monthly ``series`` as the rows of one matrix ``width`` months wide, each padded with
    zero months after its own (at most ``width``): one concatenation and one scatter, not a
    Python assignment per row (a task's ledgers are thousands of rows)."""
    lengths = np.fromiter(map(len, series), dtype=np.intp, count=len(series))
    if len(series) == 0:
        return np.zeros((0, width))
    if lengths.max() > width:
        raise ValueError(f"months_matrix: a series of {lengths.max()} months does not fit in {width}")
    flat = np.concatenate(series).astype(float, copy=False)
    if (lengths == width).all():
        return flat.reshape(len(series), width)
    m = np.zeros((len(series), width))
    starts = np.cumsum(lengths) - lengths
    within = np.arange(len(flat)) - np.repeat(starts, lengths)
    m.reshape(-1)[np.repeat(np.arange(len(series)) * width, lengths) + within] = flat
    return m


def frame(columns: dict[str, object]) -> pd.DataFrame:
    """A DataFrame of the given columns; object (string) arrays become string columns."""
    return pd.DataFrame({k: strings(v) if isinstance(v, np.ndarray) and v.dtype == object else v
                         for k, v in columns.items()}, copy=False)
