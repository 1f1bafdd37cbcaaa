"""Investment arithmetic on monthly cashflow series: NPV, IRR, money multiple, peak capital.

Flows are from one party's point of view: negative out, positive in, one entry per month.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

IRR_UNDEFINED: dict[str, tuple[str, str]] = {
    "nothing_invested": ("ingenting investert", "nothing invested"),
    "nothing_back": ("ingen penger tilbake", "no money back"),
    "no_root": ("penger tilbake, men ingen rente gir nåverdi null",
                "money back, but no rate makes the NPV zero"),
    "several_roots": ("flere renter gir nåverdi null", "several rates make the NPV zero"),
    "out_of_range": ("renten er utenfor −99,99 % til +10 000 % per år",
                     "the rate is outside −99.99 % to +10 000 % a year"),
}
"""Why an IRR does not exist (:attr:`UndefinedIRR.reason`), with (nb, en) words for each:

* ``nothing_invested``: no flow out (nothing to earn a return on);
* ``nothing_back``: no flow in (a total loss; its IRR is -100 % only by convention);
* ``no_root``: money in both directions, but the NPV has no zero at any rate: typically money
  back while costs go on after the last payment (the flows change sign more than once and the NPV
  stays below zero everywhere);
* ``several_roots``: the NPV is zero at more than one rate, so no one rate is *the* return;
* ``out_of_range``: one rate exists (the flows change sign once) but lies outside the search range.
"""


class UndefinedIRR(ValueError):
    """The IRR does not exist; :attr:`reason` says why (a key of :data:`IRR_UNDEFINED`)."""

    def __init__(self, message: str, reason: str = "no_root") -> None:
        super().__init__(message)
        self.reason = reason


def npv(flows: np.ndarray, annual_rate: float) -> float:
    """Net present value at month 0 of monthly ``flows`` discounted at ``annual_rate`` (real)."""
    flows = np.asarray(flows, dtype=float)
    months = np.arange(len(flows))
    return float(np.sum(flows / (1.0 + annual_rate) ** (months / 12.0)))


_GRID = np.concatenate([np.linspace(-0.999, 0, 40, endpoint=False),
                        np.geomspace(1e-6, (1 + 100.0) ** (1 / 12) - 1, 60)])
"""Monthly rates at which :func:`irr` looks for a sign change of the NPV: -99.9 % .. +10 000 % a year."""


@functools.lru_cache(maxsize=16)
def _grid_factors(n_months: int) -> np.ndarray:
    """``(1 + rate) ** month`` for every monthly rate of ``_GRID`` (rows) and months ``0 ..
    n_months - 1`` (columns): what :func:`_npv_grid` divides by, computed once per length (a
    batch's replications share their few lengths), read-only."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # -99.9 % a month, long flows
        factors = (1.0 + _GRID[:, None]) ** np.arange(n_months)[None, :]
    factors.flags.writeable = False
    return factors


def _npv_grid(flows: np.ndarray) -> np.ndarray:
    """The NPV of ``flows`` at each monthly rate of ``_GRID``, all at once (the same terms, summed
    the same way per rate, as one rate at a time)."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # -99.9 % a month, long flows
        return (flows[None, :] / _grid_factors(len(flows))).sum(axis=1)


def _sign_changes(flows: np.ndarray) -> int:
    """How often the nonzero ``flows`` change sign: by Descartes' rule of signs an upper bound on
    the number of IRRs, and exactly one IRR when it is 1."""
    s = np.sign(flows[flows != 0])
    return int(np.sum(s[:-1] != s[1:]))


def irr(flows: np.ndarray) -> float:
    """Annual internal rate of return of monthly ``flows``.

    Raises :class:`UndefinedIRR` (its ``reason`` a key of :data:`IRR_UNDEFINED`) when nothing was
    invested, nothing came back, no rate between -99.99 % and +10 000 % a year makes the NPV zero,
    or more than one does (no one rate is the return); an undefined IRR is never reported as 0.
    """
    flows = np.asarray(flows, dtype=float)
    nonzero = np.flatnonzero(flows)  # the trailing zeros trimmed (as np.trim_zeros(flows, "b"))
    flows = flows[:nonzero[-1] + 1] if len(nonzero) else flows[:0]
    if len(flows) == 0 or not np.any(flows < 0):
        raise UndefinedIRR("nothing was invested (no flow out)", "nothing_invested")
    if not np.any(flows > 0):
        raise UndefinedIRR("nothing came back (no flow in)", "nothing_back")

    grid = _GRID
    values = _npv_grid(flows)
    sign = np.sign(values)
    change = np.nonzero(sign[:-1] * sign[1:] < 0)[0]
    zero = np.nonzero(values == 0)[0]
    if len(change) + len(zero) > 1:
        raise UndefinedIRR(f"{len(change) + len(zero)} rates make the NPV zero", "several_roots")
    if len(zero):
        return (1 + grid[zero[0]]) ** 12 - 1
    if len(change) == 0:
        if _sign_changes(flows) == 1:  # exactly one root, outside the grid
            raise UndefinedIRR("the one rate that makes the NPV zero is below -99.99 % or above "
                               "+10 000 % a year", "out_of_range")
        raise UndefinedIRR("no rate between -99.99 % and +10 000 % a year makes the NPV zero",
                           "no_root")
    return _root(flows, int(change[0]))


def irr_reason(flows: np.ndarray) -> str | None:
    """Why the IRR of ``flows`` is undefined (a key of :data:`IRR_UNDEFINED`), None when it is
    defined."""
    try:
        irr(flows)
    except UndefinedIRR as err:
        return err.reason
    return None


NO_SINGLE_RATE = "no_single_rate"
"""Why an IRR is undefined when only a run's totals are known: money in and back, but no single
rate (``no_root``, ``several_roots`` or ``out_of_range``; the cashflows say which)."""


def undefined_irr_reasons(irr_values: np.ndarray, invested: np.ndarray, received: np.ndarray) -> np.ndarray:
    """The one rule for an undefined IRR from a run's totals (the KPIs ``irr``, ``invested`` and
    ``received`` of one party, one entry per run): per run None where the IRR is defined, else
    ``nothing_invested`` (nothing put in), ``nothing_back`` (money in, none back: a total loss) or
    :data:`NO_SINGLE_RATE` (money in and back, but no one rate makes the NPV zero).

    The run summary, the report and ``effekt breakeven`` all read undefined IRRs through this
    function, so a run is never "no money back" in one place and "no single rate" in another."""
    irr_values = np.asarray(irr_values, dtype=float)
    inv = np.asarray(invested, dtype=float)
    got = np.asarray(received, dtype=float)
    with np.errstate(invalid="ignore"):
        reason = np.where(~(inv > 0), "nothing_invested",
                          np.where(~(got > 0), "nothing_back", NO_SINGLE_RATE))
    return np.where(np.isfinite(irr_values), None, reason.astype(object))


def irr_or_nan(flows: np.ndarray) -> float:
    """:func:`irr`, NaN where it is undefined."""
    try:
        return irr(flows)
    except UndefinedIRR:
        return math.nan


def _by_length(series: Sequence[np.ndarray]) -> dict[int, list[int]]:
    """The positions of ``series`` by their lengths (in order within each length): a block's
    series of one length are summed as the rows of one matrix, each row as numpy sums it alone
    (a row's pairwise sum does not depend on the rows beside it, but on its length)."""
    groups: dict[int, list[int]] = {}
    for i, a in enumerate(series):
        groups.setdefault(len(a), []).append(i)
    return groups


def _rows_of(series: Sequence[np.ndarray], members: list[int], width: int) -> np.ndarray:
    """The ``members`` of ``series`` (each ``width`` long) as the rows of one float matrix."""
    if not members or width == 0:
        return np.zeros((len(members), width))
    return np.array([series[i] for i in members], dtype=float).reshape(len(members), width)


def sums_many(series: Sequence[np.ndarray]) -> list[float]:
    """``float(np.sum(a))`` of each series ``a``, at once: the series of one length as the rows
    of one matrix, each row summed as numpy sums it alone (pairwise, in its own order)."""
    out = np.zeros(len(series))
    for n, members in _by_length(series).items():
        out[members] = _rows_of(series, members, n).sum(axis=1)
    return out.tolist()


def npv_many(series: Sequence[np.ndarray], annual_rate: float) -> np.ndarray:
    """:func:`npv` of each monthly series at once (a block's replications): the same terms, each
    series summed as :func:`npv` sums it alone (one matrix per length)."""
    out = np.zeros(len(series))
    for n, members in _by_length(series).items():
        m = _rows_of(series, members, n)
        out[members] = (m / (1.0 + annual_rate) ** (np.arange(n) / 12.0)).sum(axis=1)
    return out


def peak_capital_many(series: Sequence[np.ndarray]) -> np.ndarray:
    """:func:`peak_capital` of each series at once (one running sum per row of a matrix per
    length: the same additions, in the same order, as each series alone)."""
    out = np.zeros(len(series))
    for n, members in _by_length(series).items():
        if n == 0:
            continue
        lowest = np.cumsum(_rows_of(series, members, n), axis=1).min(axis=1)
        out[members] = [max(0.0, x) for x in (-lowest).tolist()]
    return out


def irr_many(series: Sequence[np.ndarray]) -> np.ndarray:
    """:func:`irr_or_nan` of each series at once (a block's replications): the trailing zeros
    trimmed, the NPV grid of all the series of one trimmed length as one array (each series'
    NPVs the sums :func:`_npv_grid` takes of it alone), the bracket read from the grid's signs
    for all at once, and Brent's root finder on each series that has one, as :func:`irr` runs
    it: the same bits."""
    out = np.full(len(series), math.nan)
    flows = [np.asarray(a, dtype=float) for a in series]
    width = max((len(a) for a in flows), default=0)
    if width == 0:
        return out
    m = np.zeros((len(flows), width))
    for i, a in enumerate(flows):
        m[i, :len(a)] = a
    nonzero = m != 0
    # the trimmed length: one past the last nonzero month (0 when there is none)
    length = np.where(nonzero.any(axis=1), width - np.argmax(nonzero[:, ::-1], axis=1), 0)
    defined = (m < 0).any(axis=1) & (m > 0).any(axis=1)  # money out and money back
    for n in np.unique(length[defined]).tolist():
        members = np.flatnonzero(defined & (length == n)).tolist()
        rows = np.ascontiguousarray(m[members, :n])
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # as _npv_grid
            values = (rows[:, None, :] / _grid_factors(n)[None, :, :]).sum(axis=2)
        sign = np.sign(values)
        change = sign[:, :-1] * sign[:, 1:] < 0
        zero = values == 0
        n_change, n_zero = change.sum(axis=1), zero.sum(axis=1)
        for j, i in enumerate(members):
            if n_change[j] + n_zero[j] > 1:  # several roots
                continue
            if n_zero[j]:
                out[i] = (1 + _GRID[np.nonzero(zero[j])[0][0]]) ** 12 - 1
            elif n_change[j]:
                out[i] = _root(rows[j], int(np.nonzero(change[j])[0][0]))
    return out


def _root(flows: np.ndarray, i: int) -> float:
    """The IRR of ``flows`` (trimmed) whose NPV changes sign between ``_GRID[i]`` and the next
    rate: Brent's root finder, as :func:`irr` runs it."""
    from effekt.contracts.brent import brentq  # scipy's, step for step, without scipy.optimize

    months = np.arange(len(flows))

    def f(monthly: float) -> float:
        return float((flows / (1.0 + monthly) ** months).sum())

    monthly = brentq(f, _GRID[i], _GRID[i + 1], xtol=1e-14)
    return (1.0 + monthly) ** 12 - 1.0


def money_multiple(invested: float, returned: float) -> float:
    """Money back per krone put in (NaN if nothing was put in)."""
    return float(returned / invested) if invested > 0 else math.nan


def peak_capital(flows: np.ndarray) -> float:
    """The largest cumulative net outflow: the capital at risk at the worst moment."""
    cum = np.cumsum(np.asarray(flows, dtype=float))
    return float(max(0.0, -cum.min())) if len(cum) else 0.0
