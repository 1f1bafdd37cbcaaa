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
        return np.sum(list(self.tranche_flows.values()), axis=0)

    def total(self, part: dict[str, np.ndarray]) -> np.ndarray:
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
    drawn, dist, coup, prot = ({k: np.zeros(n) for k in names} for _ in range(4))
    perf, inter, resid, recycled = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    outstanding = dict.fromkeys(names, 0.0)
    principal_in = dict.fromkeys(names, 0.0)
    received = dict.fromkeys(names, 0.0)  # coupons + returns + protection + principal back
    returned = dict.fromkeys(names, 0.0)  # coupons + returns (counts towards the max return)
    allowance = dict.fromkeys(names, 0.0)
    last_due = int(np.nonzero(due > 0)[0].max()) if np.any(due > 0) else -1
    cash = 0.0
    pf, ish = terms.provider.performance_fee, terms.intermediary.share_of_payments
    for m in range(n):
        inflow = paid[m]
        perf[m], inter[m] = pf * inflow, ish * inflow
        cash += inflow - perf[m] - inter[m]
        draw = due[m]
        if terms.funding.recycling and draw > 0:
            use = min(cash, draw)
            cash -= use
            recycled[m] = use
            draw -= use
        for t in tranches:
            # a month's coupon and return allowance are earned on the capital carried into it
            if t.coupon and m <= t.coupon_months:
                c = outstanding[t.name] * t.coupon / 12.0
                coup[t.name][m] = c
                returned[t.name] += c
                received[t.name] += c
            if t.max_return is not None:
                allowance[t.name] += outstanding[t.name] * t.max_return / 12.0
            d = t.share * draw
            drawn[t.name][m] = d
            outstanding[t.name] += d
            principal_in[t.name] += d
        if (not terms.funding.recycling or m >= last_due or m >= end_month) and cash > 0:
            left = cash
            cash = 0.0
            for t in tranches:
                back = min(left, outstanding[t.name])
                outstanding[t.name] -= back
                left -= back
                room = np.inf if t.max_return is None else max(0.0, allowance[t.name] - returned[t.name])
                ret = min(left, room)
                left -= ret
                returned[t.name] += ret
                dist[t.name][m] += back + ret
                received[t.name] += back + ret
            resid[m] += left
        if m == end_month:
            for t in tranches:
                floor = t.capital_protection * principal_in[t.name]
                top_up = max(0.0, floor - received[t.name])
                prot[t.name][m] = top_up
                received[t.name] += top_up
    flows = {k: dist[k] + coup[k] + prot[k] - drawn[k] for k in names}
    return Waterfall(tranche_flows=flows, drawn=drawn, distributed=dist, coupons=coup, protection=prot,
                     performance_fee=perf, intermediary_share=inter, residual=resid, recycled=recycled)
