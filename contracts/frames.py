"""Small result tables built fast: the evaluation's outputs are a few dozen to a few hundred rows,
built once per replication, where pandas' type inference costs more than the data.

String columns get the dtype pandas itself would infer for them (``str``, Arrow-backed under
pandas 3), built straight from an Arrow array; other columns are taken as they are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

STR = pd.Series(["a"]).dtype
"""The dtype pandas infers for a column of strings (object before pandas 3)."""
_ARROW = isinstance(STR, pd.StringDtype) and STR.storage == "pyarrow"


def strings(values: np.ndarray | pa.Array) -> object:
    """A string column (object array, or Arrow array) as pandas would infer it; an object array
    that is not all strings (missing values aside) is left for pandas to infer."""
    if isinstance(values, np.ndarray) and pd.api.types.infer_dtype(values, skipna=True) != "string":
        return values
    if _ARROW:
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


def repeated(names: list[str], counts: list[int] | np.ndarray) -> object:
    """A string column holding ``names[i]`` ``counts[i]`` times, in order."""
    idx = np.repeat(np.arange(len(names)), counts)
    if len(idx) == 0:
        return np.zeros(0, dtype=object)  # what pandas makes of an empty column
    if _ARROW:
        return strings(pa.array(names, type=pa.large_string()).take(pa.array(idx)))
    return strings(np.asarray(names, dtype=object)[idx])


def frame(columns: dict[str, object]) -> pd.DataFrame:
    """A DataFrame of the given columns; object (string) arrays become string columns."""
    return pd.DataFrame({k: strings(v) if isinstance(v, np.ndarray) and v.dtype == object else v
                         for k, v in columns.items()}, copy=False)
