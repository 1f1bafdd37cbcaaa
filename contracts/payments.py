"""From outcomes achieved to outcome payments: rate card, caps and payment timing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.periods import month_of
from contracts.terms import Terms

PAYMENT_COLUMNS = [
    "person_id", "outcome", "week", "month_achieved", "month_paid", "price", "amount", "capped",
]


def _paid_month(month_achieved: np.ndarray, terms: Terms) -> np.ndarray:
    m = month_achieved + terms.contract.payment_lag_months
    if terms.contract.payment_period == "quarterly":
        m = (m // 3) * 3 + 2  # paid at the end of the quarter
    return m


def schedule_payments(terms: Terms, achieved: pd.DataFrame) -> pd.DataFrame:
    """Price each achieved outcome and apply the caps in the order outcomes were reached.

    ``achieved`` has ``person_id``, ``outcome`` and ``week`` (one arm: the treated). Outcomes
    reached after the contract term are not paid. The per-person cap and then the contract cap
    reduce the amount of the outcome that crosses them (and zero those after it); ``capped`` marks
    outcomes paid less than their price.
    """
    a = achieved.sort_values(["week", "person_id", "outcome"], kind="stable")
    month = month_of(a["week"].to_numpy())
    a = a.assign(month_achieved=month)[month < terms.contract.term_months]
    price = a["outcome"].map(terms.prices).to_numpy(dtype=float)
    amount = price.copy()
    per_person = terms.caps.per_person
    if per_person is not None and len(a):
        paid_before = (
            pd.Series(price).groupby(a["person_id"].to_numpy()).cumsum().to_numpy() - price
        )
        amount = np.clip(np.minimum(amount, per_person - paid_before), 0.0, None)
    if terms.caps.contract is not None and len(a):
        before = np.cumsum(amount) - amount
        amount = np.clip(np.minimum(amount, terms.caps.contract - before), 0.0, None)
    out = a.assign(
        month_paid=_paid_month(a["month_achieved"].to_numpy(), terms),
        price=price,
        amount=amount,
        capped=amount < price - 1e-9,
    )
    return out[PAYMENT_COLUMNS].reset_index(drop=True)
