"""Investment arithmetic on monthly cashflow series: NPV, IRR, money multiple, peak capital.

Flows are from one party's point of view: negative out, positive in, one entry per month.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq


class UndefinedIRR(ValueError):
    """The IRR does not exist (no sign change, or no root in a sensible range)."""


def npv(flows: np.ndarray, annual_rate: float) -> float:
    """Net present value at month 0 of monthly ``flows`` discounted at ``annual_rate`` (real)."""
    flows = np.asarray(flows, dtype=float)
    months = np.arange(len(flows))
    return float(np.sum(flows / (1.0 + annual_rate) ** (months / 12.0)))


_GRID = np.concatenate([np.linspace(-0.999, 0, 40, endpoint=False),
                        np.geomspace(1e-6, (1 + 100.0) ** (1 / 12) - 1, 60)])
"""Monthly rates at which :func:`irr` looks for a sign change of the NPV: -99.9 % .. +10 000 % a year."""


def _npv_grid(flows: np.ndarray) -> np.ndarray:
    """The NPV of ``flows`` at each monthly rate of ``_GRID``, all at once (the same terms, summed
    the same way per rate, as one rate at a time)."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # -99.9 % a month, long flows
        return (flows[None, :] / (1.0 + _GRID[:, None]) ** np.arange(len(flows))[None, :]).sum(axis=1)


def irr(flows: np.ndarray) -> float:
    """Annual internal rate of return of monthly ``flows``.

    Raises :class:`UndefinedIRR` when the flows never change sign (nothing was invested, or
    nothing came back) or when no root exists between -99.99 % and +10 000 % a year; an undefined
    IRR is never reported as 0.
    """
    flows = np.trim_zeros(np.asarray(flows, dtype=float), "b")
    if len(flows) == 0 or not (np.any(flows > 0) and np.any(flows < 0)):
        raise UndefinedIRR("the cashflows never change sign")

    def f(monthly: float) -> float:
        return float(np.sum(flows / (1.0 + monthly) ** np.arange(len(flows))))

    grid = _GRID
    values = _npv_grid(flows)
    sign = np.sign(values)
    change = np.nonzero(sign[:-1] * sign[1:] < 0)[0]
    if len(change) == 0:
        zero = np.nonzero(values == 0)[0]
        if len(zero):
            return (1 + grid[zero[0]]) ** 12 - 1
        raise UndefinedIRR("no rate between -99.99 % and +10 000 % a year makes the NPV zero")
    i = change[0]
    monthly = brentq(f, grid[i], grid[i + 1], xtol=1e-14)
    return (1.0 + monthly) ** 12 - 1.0


def irr_or_nan(flows: np.ndarray) -> float:
    try:
        return irr(flows)
    except UndefinedIRR:
        return math.nan


def money_multiple(invested: float, returned: float) -> float:
    """Money back per krone put in (NaN if nothing was put in)."""
    return float(returned / invested) if invested > 0 else math.nan


def peak_capital(flows: np.ndarray) -> float:
    """The largest cumulative net outflow: the capital at risk at the worst moment."""
    cum = np.cumsum(np.asarray(flows, dtype=float))
    return float(max(0.0, -cum.min())) if len(cum) else 0.0
