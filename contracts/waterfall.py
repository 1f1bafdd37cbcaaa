"""Working capital and the investors' waterfall, month by month.

A delivery vehicle (the SIB's special-purpose vehicle) pays the provider's costs and the
intermediary's fees as they fall due. With ``recycling`` it first uses the outcome payments it has
received and draws new capital from investors only for the rest, which is why investors need less
than the payment cap; without it, every cost is drawn and every payment passed on at once.

Outcome payments arrive from the commissioners; the provider's performance fee and the
intermediary's share come off the top. What is left is distributed once delivery is over (with
recycling) or as it arrives (without), tranche by tranche in order of seniority: each tranche first
gets its outstanding principal back, then a return up to its ``max_return`` (simple annual rate on
the principal outstanding at the end of each earlier month, coupons included); a tranche without
a maximum takes the rest. What no tranche may take goes to the residual party (commissioners as a
refund, or the provider).

Commissioners pay fixed coupons in months 1 .. ``coupon_months`` (a month's coupon on the principal
carried into it) and, at the final month, top up each
tranche whose receipts fall short of its ``capital_protection`` share of the principal drawn: with no
outcomes at all, investors lose exactly their unprotected capital.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from effekt.contracts.terms import Terms


@dataclass
class Waterfall:
    """Monthly flows, from each party's point of view (positive = received)."""

    tranche_flows: dict[str, np.ndarray]  # net flow to each tranche
    drawn: dict[str, np.ndarray]  # capital drawn (positive numbers)
    distributed: dict[str, np.ndarray]  # principal and return distributions
    coupons: dict[str, np.ndarray]
    protection: dict[str, np.ndarray]
    performance_fee: np.ndarray
    intermediary_share: np.ndarray
    residual: np.ndarray  # paid to terms.investors.residual_to
    recycled: np.ndarray  # outcome payments used to pay costs

    @property
    def investor_flows(self) -> np.ndarray:
        return self.total(self.tranche_flows)

    def total(self, part: dict[str, np.ndarray]) -> np.ndarray:
        """The tranches' flows of ``part`` summed month by month (``np.sum`` over the tranches,
        which adds them to 0: with one tranche, its flows plus 0, without building a matrix)."""
        if len(part) == 1:
            return next(iter(part.values())) + 0.0
        return np.sum(list(part.values()), axis=0)


def run_waterfall(terms: Terms, due: np.ndarray, paid: np.ndarray, end_month: int) -> Waterfall:
    """Fund the costs ``due`` each month and distribute the outcome ``paid`` each month.

    ``due`` are the costs the vehicle must fund (provider costs in the investors' months plus the
    intermediary's fixed and monthly fees); ``paid`` the commissioners' outcome payments;
    ``end_month`` the month of the final settlement (capital protection, last distribution).
    """
    n = len(due)
    inv = terms.investors
    tranches = sorted(inv.tranches, key=lambda t: t.seniority)
    names = [t.name for t in tranches]
    # month by month in Python floats (the same IEEE doubles as numpy's scalars, without their
    # per-operation overhead: a replication is a few dozen months), tranche j's state at index j,
    # as arrays at the end
    terms_of = [(t.coupon, t.coupon_months, t.max_return, t.share, t.capital_protection) for t in tranches]
    k = len(tranches)
    drawn, dist, coup, prot = ([[0.0] * n for _ in range(k)] for _ in range(4))
    perf, inter, resid, recycled = [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n
    outstanding, principal_in = [0.0] * k, [0.0] * k
    received = [0.0] * k  # coupons + returns + protection + principal back
    returned = [0.0] * k  # coupons + returns (counts towards the max return)
    allowance = [0.0] * k
    last_due = int(np.nonzero(due > 0)[0].max()) if np.any(due > 0) else -1
    cash = 0.0
    pf, ish = terms.provider.performance_fee, terms.intermediary.share_of_payments
    recycling = terms.funding.recycling
    due_m, paid_m = np.asarray(due, dtype=float).tolist(), np.asarray(paid, dtype=float).tolist()
    for m in range(n):
        inflow = paid_m[m]
        fee, share_of = pf * inflow, ish * inflow
        perf[m], inter[m] = fee, share_of
        cash += inflow - fee - share_of
        draw = due_m[m]
        if recycling and draw > 0:
            use = min(cash, draw)
            cash -= use
            recycled[m] = use
            draw -= use
        for j, (coupon, coupon_months, max_return, share, _) in enumerate(terms_of):
            # a month's coupon and return allowance are earned on the capital carried into it
            if coupon and m <= coupon_months:
                c = outstanding[j] * coupon / 12.0
                coup[j][m] = c
                returned[j] += c
                received[j] += c
            if max_return is not None:
                allowance[j] += outstanding[j] * max_return / 12.0
            d = share * draw
            drawn[j][m] = d
            outstanding[j] += d
            principal_in[j] += d
        if (not recycling or m >= last_due or m >= end_month) and cash > 0:
            left = cash
            cash = 0.0
            for j, (_, _, max_return, _, _) in enumerate(terms_of):
                back = min(left, outstanding[j])
                outstanding[j] -= back
                left -= back
                room = math.inf if max_return is None else max(0.0, allowance[j] - returned[j])
                ret = min(left, room)
                left -= ret
                returned[j] += ret
                dist[j][m] += back + ret
                received[j] += back + ret
            resid[m] += left
        if m == end_month:
            for j, (_, _, _, _, protection) in enumerate(terms_of):
                floor = protection * principal_in[j]
                top_up = max(0.0, floor - received[j])
                prot[j][m] = top_up
                received[j] += top_up
    drawn, dist, coup, prot = ({name: np.array(v) for name, v in zip(names, part, strict=True)}
                               for part in (drawn, dist, coup, prot))
    perf, inter, resid, recycled = (np.array(v) for v in (perf, inter, resid, recycled))
    flows = {k: dist[k] + coup[k] + prot[k] - drawn[k] for k in names}
    return Waterfall(tranche_flows=flows, drawn=drawn, distributed=dist, coupons=coup, protection=prot,
                     performance_fee=perf, intermediary_share=inter, residual=resid, recycled=recycled)


def _smaller(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Python's ``min(a, b)`` element by element: ``b`` where it is less than ``a``, else ``a``
    (the same element :func:`run_waterfall` takes, a signed zero or a NaN too)."""
    return np.where(b < a, b, a)


def _positive(x: np.ndarray) -> np.ndarray:
    """Python's ``max(0.0, x)`` element by element: ``x`` where it is above 0, else 0.0."""
    return np.where(x > 0.0, x, 0.0)


def run_waterfalls(terms: Terms, dues: Sequence[np.ndarray], paids: Sequence[np.ndarray],
                   end_months: Sequence[int]) -> list[Waterfall]:
    """:func:`run_waterfall` of each replication of a block (its ``due``, ``paid`` and
    ``end_month``), at once: the month loop runs once for the block, every replication's state
    a column of arrays (the replications' months padded with zeros to the longest, their flows
    cut back to their own months at the end). Each replication's operations are those of
    :func:`run_waterfall`, in its order (Python's ``min`` and ``max`` as :func:`_smaller` and
    :func:`_positive`), so its flows are the same bits; a month past a replication's own end
    changes nothing it returns. For a block of many replications: a month's dozens of numpy
    calls are paid once for the block instead of a Python loop per replication."""
    n_reps = len(dues)
    lengths = [len(d) for d in dues]
    width = max(lengths, default=0)
    due, paid = np.zeros((n_reps, width)), np.zeros((n_reps, width))
    for r, (d, p, n) in enumerate(zip(dues, paids, lengths, strict=True)):
        due[r, :n] = d
        paid[r, :n] = np.asarray(p, dtype=float)[:n]
    end = np.asarray(end_months, dtype=np.int64)
    tranches = sorted(terms.investors.tranches, key=lambda t: t.seniority)
    names = [t.name for t in tranches]
    k = len(tranches)
    drawn, dist, coup, prot = ([np.zeros((n_reps, width)) for _ in range(k)] for _ in range(4))
    perf, inter, resid, recycled = (np.zeros((n_reps, width)) for _ in range(4))
    outstanding, principal_in, received, returned, allowance = (
        [np.zeros(n_reps) for _ in range(k)] for _ in range(5))
    positive = due > 0
    last_due = np.where(positive.any(axis=1), width - 1 - np.argmax(positive[:, ::-1], axis=1), -1)
    cash = np.zeros(n_reps)
    pf, ish = terms.provider.performance_fee, terms.intermediary.share_of_payments
    recycling = terms.funding.recycling
    for m in range(width):
        inflow = paid[:, m]
        fee, share_of = pf * inflow, ish * inflow
        perf[:, m], inter[:, m] = fee, share_of
        cash = cash + (inflow - fee - share_of)
        draw = due[:, m]
        if recycling:
            pos = draw > 0
            use = _smaller(cash, draw)
            cash = np.where(pos, cash - use, cash)
            recycled[:, m] = np.where(pos, use, 0.0)
            draw = np.where(pos, draw - use, draw)
        for j, t in enumerate(tranches):
            if t.coupon and m <= t.coupon_months:
                c = outstanding[j] * t.coupon / 12.0
                coup[j][:, m] = c
                returned[j] = returned[j] + c
                received[j] = received[j] + c
            if t.max_return is not None:
                allowance[j] = allowance[j] + outstanding[j] * t.max_return / 12.0
            d = t.share * draw
            drawn[j][:, m] = d
            outstanding[j] = outstanding[j] + d
            principal_in[j] = principal_in[j] + d
        go = cash > 0
        if recycling:
            go &= (m >= last_due) | (m >= end)
        if go.any():
            left = np.where(go, cash, 0.0)
            cash = np.where(go, 0.0, cash)
            for j, t in enumerate(tranches):
                back = _smaller(left, outstanding[j])
                outstanding[j] = np.where(go, outstanding[j] - back, outstanding[j])
                left = left - back
                ret = left if t.max_return is None else _smaller(left, _positive(allowance[j] - returned[j]))
                left = left - ret
                returned[j] = np.where(go, returned[j] + ret, returned[j])
                dist[j][:, m] = np.where(go, 0.0 + (back + ret), 0.0)
                received[j] = np.where(go, received[j] + (back + ret), received[j])
            resid[:, m] = np.where(go, 0.0 + left, 0.0)
        at_end = end == m
        if at_end.any():
            for j, t in enumerate(tranches):
                top_up = _positive(t.capital_protection * principal_in[j] - received[j])
                prot[j][:, m] = np.where(at_end, top_up, 0.0)
                received[j] = np.where(at_end, received[j] + top_up, received[j])
    flows = [dist[j] + coup[j] + prot[j] - drawn[j] for j in range(k)]
    out = []
    for r, n in enumerate(lengths):
        def mine(part: list[np.ndarray], r: int = r, n: int = n) -> dict[str, np.ndarray]:
            return {name: a[r, :n] for name, a in zip(names, part, strict=True)}

        out.append(Waterfall(tranche_flows=mine(flows), drawn=mine(drawn), distributed=mine(dist),
                             coupons=mine(coup), protection=mine(prot), performance_fee=perf[r, :n],
                             intermediary_share=inter[r, :n], residual=resid[r, :n],
                             recycled=recycled[r, :n]))
    return out
