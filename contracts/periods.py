"""Turning simulation time (weeks) into contract periods (months)."""

from __future__ import annotations

import numpy as np

WEEKS_PER_MONTH = 52.0 / 12.0


def month_of(week: np.ndarray | float) -> np.ndarray:
    """The month (0-based) in which a time in weeks falls."""
    return np.floor(np.asarray(week, dtype=float) / WEEKS_PER_MONTH + 1e-9).astype(int)


def spread_over_months(start: np.ndarray, end: np.ndarray, n_months: int) -> np.ndarray:
    """Weeks of each interval [start, end) that fall in each month: an array (intervals x months)."""
    edges = np.arange(n_months + 1) * WEEKS_PER_MONTH
    lo = np.maximum(np.asarray(start, float)[:, None], edges[None, :-1])
    hi = np.minimum(np.asarray(end, float)[:, None], edges[None, 1:])
    return np.clip(hi - lo, 0.0, None)
