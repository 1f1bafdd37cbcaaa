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


CHUNK_CELLS = 1 << 18
"""About how many (interval, month) cells a sum over a large replication's spells makes at once
(:func:`cell_pieces`): a replication of 400 000 persons has some 30 million, and holding them all
(or a spells x months matrix) was gigabytes (issue 14). Each sum adds its cells one after another
into one output (``np.add.at``, as ``np.bincount`` adds), so where the pieces are cut changes no bit."""


def month_span(start: np.ndarray, end: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each interval [start, end)'s first month and how many of the months ``edges`` bound
    (``edges``: ``np.arange(n_months + 1) * WEEKS_PER_MONTH``) it overlaps (0 for none)."""
    n_months = len(edges) - 1
    first = np.maximum(np.searchsorted(edges, start, side="right") - 1, 0)
    last = np.minimum(np.searchsorted(edges, end, side="left") - 1, n_months - 1)
    return first, np.maximum(last - first + 1, 0)


def month_cells(start: np.ndarray, end: np.ndarray, first: np.ndarray, count: np.ndarray, edges: np.ndarray,
                lo: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (interval, month) cells of the months each interval [start, end) overlaps
    (:func:`month_span`: ``first`` month, ``count``), in interval order, then month order: each
    cell's interval (numbered from ``lo``), month and the weeks of the interval in it, the nonzero
    entries of ``spread_over_months(start, end, n_months)`` by the same arithmetic (so the same
    bits), and a cell of zero weeks where an interval ends on a month's edge."""
    interval = np.repeat(np.arange(lo, lo + len(start)), count)
    # each interval's values repeated over its cells (np.repeat: the same values as indexed
    # gathers, cheaper); a cell's month is its place after the interval's first cell, from its first month
    month = np.arange(len(interval)) - np.repeat(np.cumsum(count) - count - first, count)
    weeks = np.minimum(np.repeat(end, count), edges[month + 1])
    np.subtract(weeks, np.maximum(np.repeat(start, count), edges[month]), out=weeks)
    return interval, month, np.clip(weeks, 0.0, None, out=weeks)


def cell_pieces(count: np.ndarray, chunk: int | None = None) -> list[tuple[int, int]]:
    """Consecutive pieces ``lo:hi`` of intervals with ``count`` cells each, covering every interval,
    each of about ``chunk`` cells (:data:`CHUNK_CELLS`; an interval is never cut)."""
    n = len(count)
    if not n:
        return []
    chunk = chunk or CHUNK_CELLS
    ends = np.cumsum(count, dtype=np.int64)  # the cells up to each interval's last
    cuts = np.searchsorted(ends, np.arange(chunk, int(ends[-1]), chunk), side="right")
    bounds = np.unique(np.concatenate([[0], cuts, [n]])).tolist()
    return list(zip(bounds[:-1], bounds[1:], strict=True))
