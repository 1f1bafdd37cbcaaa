"""Discounted person-years in work: what a programme changed in time spent working, valued as the
public budgets are.

A share in work at month 24 counts a person who found work in month 23 and one who has worked
since month 2 alike, and says nothing of the years after it. Person-years in work count every
week each person spends in a job (any ``employed`` spell, the ``in_work`` measure's jobs; two
overlapping jobs are one person in work), from the contract's start (week 0, month 0 of the
public budgets' NPV) to the end of the window, discounted at the valuation's real rate so that
the willingness to pay of ``effekt decide`` stands beside the budget NPVs it is added to::

    discounted years of a spell [a, b) = integral_a^b (1 + r)^(-t / 52) dt / 52
                                       = ((1 + r)^(-a / 52) - (1 + r)^(-b / 52)) / ln(1 + r)

(``(b - a) / 52`` at ``r = 0``; weeks of the simulation clock, 52 to a year as the contract
months are). The KPI is the **difference**, the programme arm's total minus the counterfactual
arm's scaled to the programme arm's size (as ``additional_outcomes``): additional discounted
person-years in work, ``additional_work_years`` over the contract period and
``additional_work_years_long_run`` over the long run (:mod:`effekt.contracts.long_run`), NaN
without a counterfactual arm. Pure functions of the record tables.
"""

from __future__ import annotations

import math

import numpy as np

from effekt.contracts.kpis import WORK_YEARS_LONG_RUN_MEASURE, WORK_YEARS_MEASURE, Key, kpi_key
from effekt.contracts.outcomes import Tables

WEEKS_PER_YEAR = 52.0
"""Weeks of the simulation clock in a year (a contract month is 52 / 12 weeks)."""


def discounted_years(start: np.ndarray, end: np.ndarray, rate: float, until: float) -> np.ndarray:
    """Discounted years of each period ``[start, end)`` (weeks) cut at week ``until``, at the
    real annual ``rate`` from week 0 (see the module docstring); 0 for a period after ``until``."""
    a = np.clip(np.asarray(start, dtype=float), 0.0, until)
    b = np.clip(np.asarray(end, dtype=float), 0.0, until)
    b = np.maximum(a, b)
    if rate == 0:
        return (b - a) / WEEKS_PER_YEAR
    log = math.log1p(rate)
    return (np.exp(-log * a / WEEKS_PER_YEAR) - np.exp(-log * b / WEEKS_PER_YEAR)) / log


def work_years_by_arm(tables: Tables, rate: float, until: float) -> dict[str, float]:
    """Each arm's total discounted person-years in work up to week ``until`` (one replication)."""
    if tables.n != 1:
        raise ValueError(f"the work years of {tables.n} replications' tables: take them by "
                         f"replication (work_years_by_replication)")
    return work_years_by_replication(tables, rate, until)[0]


def work_years_by_replication(tables: Tables, rate: float, until: float) -> list[dict[str, float]]:
    """:func:`work_years_by_arm` of each replication of ``tables`` (:meth:`Tables.of_block`): the
    runs of work and their discounted years found over the whole block at once, then each
    (replication, arm)'s years added as that replication alone adds them (numpy's sum of the
    same values in the same order), so the totals are the same to the last bit."""
    person, start, end = tables.runs(tables.counted())
    years = discounted_years(start, end, rate, until)
    arms = tables.arm[person] if len(person) else np.zeros(0, dtype=object)
    if tables.n == 1:
        return [{arm: float(years[arms == arm].sum()) for arm in ("treatment", "control")}]
    # runs come sorted by person row, so each replication's runs are one stretch of them
    cut = np.searchsorted(person, tables.person_bounds)
    out = []
    for r in range(tables.n):
        mine, its_arms = years[cut[r]:cut[r + 1]], arms[cut[r]:cut[r + 1]]
        out.append({arm: float(mine[its_arms == arm].sum()) for arm in ("treatment", "control")})
    return out


def additional_work_years(tables: Tables | None, rate: float, until: float, n_treat: int, n_control: int,
                          by_arm: dict[str, float] | None = None) -> float:
    """The programme arm's discounted person-years in work minus the counterfactual arm's scaled
    to the programme arm's size; NaN without a counterfactual arm. ``by_arm``: the tables'
    :func:`work_years_by_arm` when the caller has it (a block's, by replication; ``tables`` may
    then be None, as without a counterfactual arm)."""
    if not n_control:
        return math.nan
    if by_arm is None:
        by_arm = work_years_by_arm(tables, rate, until)
    return by_arm["treatment"] - by_arm["control"] * n_treat / n_control


def work_years_kpis(tables: Tables | None, rate: float, until: float, n_treat: int, n_control: int,
                    long_run: bool = False, by_arm: dict[str, float] | None = None) -> dict[Key, float]:
    """The KPI ``additional_work_years`` (``long_run``: ``additional_work_years_long_run``) by its
    key, for :func:`effekt.contracts.evaluate.evaluate`; ``by_arm`` as for
    :func:`additional_work_years`."""
    measure = WORK_YEARS_LONG_RUN_MEASURE if long_run else WORK_YEARS_MEASURE
    return {kpi_key(measure, arm="difference"): additional_work_years(tables, rate, until, n_treat,
                                                                      n_control, by_arm)}
