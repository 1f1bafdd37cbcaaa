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
    """Each arm's total discounted person-years in work up to week ``until``."""
    person, start, end = tables.runs(tables.counted())
    years = discounted_years(start, end, rate, until)
    arms = tables.arm[person] if len(person) else np.zeros(0, dtype=object)
    return {arm: float(years[arms == arm].sum()) for arm in ("treatment", "control")}


def additional_work_years(tables: Tables, rate: float, until: float, n_treat: int, n_control: int) -> float:
    """The programme arm's discounted person-years in work minus the counterfactual arm's scaled
    to the programme arm's size; NaN without a counterfactual arm."""
    if not n_control:
        return math.nan
    by_arm = work_years_by_arm(tables, rate, until)
    return by_arm["treatment"] - by_arm["control"] * n_treat / n_control


def work_years_kpis(tables: Tables, rate: float, until: float, n_treat: int, n_control: int,
                    long_run: bool = False) -> dict[Key, float]:
    """The KPI ``additional_work_years`` (``long_run``: ``additional_work_years_long_run``) by its
    key, for :func:`effekt.contracts.evaluate.evaluate`."""
    measure = WORK_YEARS_LONG_RUN_MEASURE if long_run else WORK_YEARS_MEASURE
    return {kpi_key(measure, arm="difference"): additional_work_years(tables, rate, until, n_treat,
                                                                      n_control)}
