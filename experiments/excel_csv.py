"""CSV that Excel opens right in the reader's language (issue 13, item 6).

Norwegian Excel reads a CSV with ``;`` between fields and a decimal comma (``,`` is its decimal
separator, so it cannot also separate fields), and reads it as UTF-8, so that æ, ø and å come out
right, only when the file starts with a byte-order mark. ``--lang nb`` writes that; ``--lang en``
keeps the plain CSV every other tool expects (``,`` and ``.``, no BOM), as before.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

BOM = "\ufeff"
"""The byte-order mark that tells Excel the file is UTF-8."""

DIALECTS: dict[str, dict[str, str]] = {
    "nb": {"sep": ";", "decimal": ","},
    "en": {"sep": ",", "decimal": "."},
}
"""Field separator and decimal mark by language."""


def plain(x: float, decimal: str = ".", significant: int = 6) -> str:
    """``x`` with ``significant`` digits and never in e-notation (``1158610``, not ``1.15861e+06``);
    what rounding leaves of a zero (``4.337e-19``, ``-0``) is written ``0``; NaN and infinities
    empty (a missing value)."""
    if x is None or not math.isfinite(x):
        return ""
    if abs(x) < 1e-9:
        return "0"
    text = np.format_float_positional(x, precision=significant, unique=False, fractional=False, trim="-")
    return text.replace(".", decimal)


def fixed(x: float, decimal: str = ".", decimals: int = 2) -> str:
    """``x`` with ``decimals`` decimals (``150.00``), ``0`` for what rounds to zero with a sign
    (never ``-0.00``), empty for NaN."""
    if x is None or not math.isfinite(x):
        return ""
    return f"{round(x, decimals) + 0.0:.{decimals}f}".replace(".", decimal)


def csv_text(frame: pd.DataFrame, lang: str = "en", index: bool = False, significant: int = 6,
             decimals: int | None = None) -> str:
    """``frame`` as CSV text for a reader of ``lang``: ``nb`` with ``;``, decimal commas and a BOM
    in front, ``en`` with ``,`` and ``.`` (no BOM). Numbers stay numbers, never in e-notation:
    with ``significant`` digits (:func:`plain`), or with ``decimals`` decimals when given
    (:func:`fixed`)."""
    if lang not in DIALECTS:
        raise ValueError(f"language '{lang}'; allowed: {', '.join(DIALECTS)}")
    d = DIALECTS[lang]

    def number(v: float) -> str:
        return plain(v, d["decimal"], significant) if decimals is None else fixed(v, d["decimal"], decimals)

    out = frame.reset_index() if index else frame.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = [number(v) for v in out[c].to_numpy(float)]
        elif out[c].dtype == object:  # a column of mixed values: its floats as numbers all the same
            out[c] = [number(v) if isinstance(v, float) else v for v in out[c]]
    text = out.to_csv(index=False, sep=d["sep"], lineterminator="\n")
    return BOM + text if lang == "nb" else text


def write_csv(frame: pd.DataFrame, path: str | Path, lang: str = "en", index: bool = False,
              significant: int = 6, decimals: int | None = None) -> Path:
    """Write :func:`csv_text` of ``frame`` to ``path`` (UTF-8); returns the path."""
    path = Path(path)
    path.write_text(csv_text(frame, lang, index, significant, decimals), encoding="utf-8", newline="")
    return path


def read_csv(path_or_text: str | Path, lang: str = "en") -> pd.DataFrame:
    """Read back what :func:`write_csv` wrote (a path) in ``lang``'s dialect, BOM or not."""
    d = DIALECTS[lang]
    return pd.read_csv(path_or_text, sep=d["sep"], decimal=d["decimal"], encoding="utf-8-sig")


def summary_csv(table: pd.DataFrame, lang: str = "en") -> str:
    """The KPI table of ``effekt summary --format csv`` (indexed by ``kpi``, or point and ``kpi``)
    as :func:`csv_text`: in English with the column names scripts read (``kpi,label,n,mean,...``),
    in bokmål with the headers of the bokmål text table and Norwegian Excel's dialect."""
    flat = table.reset_index()
    if lang == "nb":
        from effekt.experiments.summary import headers

        flat.columns = headers([str(c) for c in flat.columns], lang)
    return csv_text(flat, lang)
