"""From outcomes reached to outcome payments: rate card, price ladders, triggers, savings share,
caps and payment timing.

Three ways a contract pays, and they can be combined:

* the **rate card** prices each outcome a treated person reaches (per target group, or on a ladder),
  paid after the lag at the end of the payment period; the per-person cap applies to it;
* **triggered** outcomes are not paid person by person but per cohort, and only if the cohort's
  result clears a threshold (absolute, or relative to the control arm), or pooled over all cohorts
  at the final evaluation (Peterborough);
* a **savings share** pays a share of the public gain against the control arm (Koto-SIB).

The contract cap then applies to all of them in the order they fall due. Amounts are NOK.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.periods import WEEKS_PER_MONTH, month_of, pay_month
from contracts.terms import Price, Terms, Trigger

PAYMENT_COLUMNS = [
    "kind", "person_id", "cohort", "outcome", "week", "month_achieved", "month_paid",
    "price", "quantity", "amount", "capped",
]


class NeedsControl(ValueError):
    """A contract compares with the control arm, and the tables have no control arm."""


def unit_prices(price: Price, rows: pd.DataFrame) -> np.ndarray:
    """The price of each outcome in ``rows`` (in the order given: the order they were reached).

    ``rows`` needs ``group`` and, for a ladder by time, ``weeks_since_entry``.
    """
    if price.ladder:
        starts = np.array([s.start for s in price.ladder])
        rung_prices = np.array([s.price for s in price.ladder])
        x = np.arange(len(rows), dtype=float) if price.ladder_by == "count" else (
            rows["weeks_since_entry"].to_numpy(dtype=float))
        rung = np.searchsorted(starts, x, side="right") - 1
        return np.where(rung >= 0, rung_prices[np.clip(rung, 0, None)], price.default)
    return rows["group"].map(price.by_group).fillna(price.default).to_numpy(dtype=float)


def _rate_card(terms: Terms, treated: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    triggered = {t.outcome for t in terms.triggers}
    a = treated[~treated["outcome"].isin(triggered)].copy()
    a["month_achieved"] = month_of(a["week"].to_numpy())
    a = a[a["month_achieved"] < terms.contract.term_months]
    entry = persons[persons["arm"] == "treatment"].set_index("person_id")["entry_week"]
    a["weeks_since_entry"] = a["week"].to_numpy() - a["person_id"].map(entry).to_numpy(dtype=float)
    a = a.sort_values(["week", "person_id", "outcome"], kind="stable")
    price = np.zeros(len(a))
    for name, p in terms.prices.items():
        mask = (a["outcome"] == name).to_numpy()
        if mask.any():
            price[mask] = unit_prices(p, a[mask])
    price *= terms.contract.nok_per_unit
    amount = price * a["quantity"].to_numpy(dtype=float)
    due = amount.copy()
    cap = terms.caps.per_person
    if cap is not None and len(a):
        cap *= terms.contract.nok_per_unit
        before = pd.Series(due).groupby(a["person_id"].to_numpy()).cumsum().to_numpy() - due
        amount = np.clip(np.minimum(amount, cap - before), 0.0, None)
    c = terms.contract
    return a.assign(
        kind="rate_card",
        month_paid=pay_month(a["month_achieved"].to_numpy(), c.payment_lag_months, c.payment_period),
        price=price, amount=amount, capped=amount < due - 1e-9,
    )


def _rates(outcomes: pd.DataFrame, persons: pd.DataFrame, name: str, cohort: str | None,
           until_week: float, term_months: int) -> dict[str, tuple[int, int]]:
    """(people with the outcome by ``until_week``, people) per arm, for one cohort or all."""
    out = {}
    for arm in ("treatment", "control"):
        people = persons[persons["arm"] == arm]
        got = outcomes[(outcomes["arm"] == arm) & (outcomes["outcome"] == name)
                       & (outcomes["week"] <= until_week + 1e-9)
                       & (month_of(outcomes["week"].to_numpy()) < term_months)]
        if cohort is not None:
            people = people[people["cohort"] == cohort]
            got = got[got["cohort"] == cohort]
        out[arm] = (got["person_id"].nunique(), len(people))
    return out


def trigger_result(t: Trigger, counts: dict[str, tuple[int, int]]) -> tuple[bool, float]:
    """Whether trigger ``t`` is met by ``counts`` and the number of outcomes it pays for."""
    n_t, size_t = counts["treatment"]
    n_c, size_c = counts["control"]
    if size_t == 0:
        return False, 0.0
    rate_t = n_t / size_t
    if t.needs_control and size_c == 0:
        raise NeedsControl(f"trigger on '{t.outcome}' compares with the control arm, "
                           "and there is no control arm (counterfactual mode 'none'?)")
    rate_c = n_c / size_c if size_c else 0.0
    if t.compare == "absolute":
        result = rate_t
    elif t.compare == "difference_to_control":
        result = rate_t - rate_c
    else:
        result = (rate_t - rate_c) / rate_c if rate_c > 0 else (np.inf if rate_t > 0 else 0.0)
    met = bool(result >= t.threshold - 1e-12 * max(1.0, abs(t.threshold)))
    paid_for = n_t if t.pay == "all" else max(0.0, n_t - rate_c * size_t)
    return met, float(paid_for) if met else 0.0


def _triggered(terms: Terms, outcomes: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    c = terms.contract
    rows = []
    treated = persons[persons["arm"] == "treatment"]
    starts = treated.groupby("cohort")["entry_week"].min()
    for name in dict.fromkeys(t.outcome for t in terms.triggers):
        price = terms.prices[name].default * c.nok_per_unit
        paid_so_far = 0.0
        for t in (t for t in terms.triggers if t.outcome == name and t.scope == "cohort"):
            for cohort, start in starts.items():
                month = int(month_of(start)) + int(t.evaluate_after_months)
                counts = _rates(outcomes, persons, name, cohort, month * WEEKS_PER_MONTH, c.term_months)
                met, n = trigger_result(t, counts)
                if met and n > 0:
                    rows.append(dict(kind="trigger_cohort", person_id=-1, cohort=cohort, outcome=name,
                                     week=month * WEEKS_PER_MONTH, month_achieved=month,
                                     month_paid=int(pay_month(month, c.payment_lag_months,
                                                              c.payment_period)),
                                     price=price, quantity=n, amount=price * n, capped=False))
                    paid_so_far += price * n
        for t in (t for t in terms.triggers if t.outcome == name and t.scope == "pooled"):
            final = c.final_month
            counts = _rates(outcomes, persons, name, None, final * WEEKS_PER_MONTH, c.term_months)
            met, n = trigger_result(t, counts)
            amount = max(0.0, price * n - paid_so_far)
            if met and amount > 0:
                rows.append(dict(kind="trigger_pooled", person_id=-1, cohort="(pooled)", outcome=name,
                                 week=final * WEEKS_PER_MONTH, month_achieved=final, month_paid=final,
                                 price=price, quantity=n, amount=amount, capped=False))
                paid_so_far += amount
    return pd.DataFrame(rows)


def _savings(terms: Terms, gains: pd.DataFrame | None) -> pd.DataFrame:
    s = terms.savings_share
    if s is None:
        return pd.DataFrame()
    if gains is None:
        raise NeedsControl("the savings share is measured against the control arm, "
                           "and there is no control arm (counterfactual mode 'none'?)")
    window = gains[(gains["month"] < s.window_months) & gains["component"].isin(s.components)]
    gain = float(window["amount"].sum())
    final = terms.contract.final_month
    amount = s.share * max(0.0, gain)
    if amount <= 0:
        return pd.DataFrame()
    return pd.DataFrame([dict(kind="savings_share", person_id=-1, cohort="(pooled)",
                              outcome="savings_share", week=final * WEEKS_PER_MONTH,
                              month_achieved=final, month_paid=final, price=s.share,
                              quantity=gain, amount=amount, capped=False)])


def schedule_payments(terms: Terms, outcomes: pd.DataFrame, persons: pd.DataFrame | None = None,
                      gains: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every outcome payment the commissioners make, in NOK, in the order they fall due.

    ``outcomes`` are all arms' outcomes (see :func:`contracts.outcomes.measure_outcomes`; only
    the treated are paid, the control arm is the comparison); ``gains`` the treatment-minus-control
    public gains by month and component (see :mod:`contracts.fiscal`), needed for a savings share.
    Outcomes reached in or after month ``term_months`` are not paid. ``capped`` marks payments
    reduced by a cap.
    """
    if persons is None:  # the treated outcomes alone (older call style): people from the outcomes
        persons = outcomes.drop_duplicates(["person_id"]).assign(arm="treatment", entry_week=0.0)
    if "arm" not in outcomes:
        outcomes = outcomes.assign(arm="treatment")
    for col in ("cohort", "group"):
        if col not in outcomes:
            outcomes = outcomes.assign(**{col: ""})
    if "quantity" not in outcomes:
        outcomes = outcomes.assign(quantity=1.0)
    treated = outcomes[outcomes["arm"] == "treatment"]
    parts = [_rate_card(terms, treated, persons), _triggered(terms, outcomes, persons),
             _savings(terms, gains)]
    parts = [p[PAYMENT_COLUMNS] for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in PAYMENT_COLUMNS})
    out = pd.concat(parts, ignore_index=True).sort_values(["month_paid", "week"], kind="stable")
    cap = terms.caps.contract
    if cap is not None:
        cap *= terms.contract.nok_per_unit
        amount = out["amount"].to_numpy(dtype=float)
        before = np.cumsum(amount) - amount
        capped = np.clip(np.minimum(amount, cap - before), 0.0, None)
        out["capped"] = out["capped"].to_numpy(dtype=bool) | (capped < amount - 1e-9)
        out["amount"] = capped
    out = out.astype({"month_paid": int, "month_achieved": int, "capped": bool})
    return out.reset_index(drop=True)
