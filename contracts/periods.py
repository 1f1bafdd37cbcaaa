"""Turning simulation time (weeks) into contract periods (months), and months into payment dates."""

from __future__ import annotations

from effekt import lazy

np = lazy.module("numpy", globals())  # on first use: `effekt validate` needs only WEEKS_PER_MONTH (issue 14)

WEEKS_PER_MONTH = 52.0 / 12.0
PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}


def month_of(week: np.ndarray | float) -> np.ndarray:
    """The month (0-based) in which a time in weeks falls."""
    return np.floor(np.asarray(week, dtype=float) / WEEKS_PER_MONTH + 1e-9).astype(int)


def term_end_week(term_months: int) -> float:
    """The week a contract's term ends: the end of month ``term_months`` (``term_months`` x 52/12)."""
    return term_months * WEEKS_PER_MONTH


def within_term(week: np.ndarray | float, term_months: int) -> np.ndarray:
    """Whether an outcome reached at ``week`` counts: at or before the end of month
    ``term_months`` (counted from 1), so ``term_months = 24`` counts an outcome at week 104,
    "in work 24 months after entry" for a kull that starts in week 0."""
    return np.asarray(week, dtype=float) <= term_end_week(term_months) + 1e-9


def months_in(weeks: float) -> int:
    """How many months it takes to cover ``weeks`` weeks (at least one)."""
    return max(int(np.ceil(weeks / WEEKS_PER_MONTH - 1e-9)), 1)


def pay_month(month: np.ndarray | int, lag: int, period: str) -> np.ndarray:
    """The month a payment due in ``month`` is paid: ``lag`` months later, at the end of the
    payment period (monthly, quarterly: months 2, 5, 8, ...; annual: months 11, 23, ...)."""
    n = PERIOD_MONTHS[period]
    m = np.asarray(month, dtype=int) + lag
    return (m // n) * n + (n - 1)


def spread_over_months(start: np.ndarray, end: np.ndarray, n_months: int) -> np.ndarray:
    """Weeks of each interval [start, end) that fall in each month: an array (intervals x months)."""
    edges = np.arange(n_months + 1) * WEEKS_PER_MONTH
    lo = np.maximum(np.asarray(start, float)[:, None], edges[None, :-1])
    hi = np.minimum(np.asarray(end, float)[:, None], edges[None, 1:])
    np.subtract(hi, lo, out=hi)
    return np.clip(hi, 0.0, None, out=hi)
