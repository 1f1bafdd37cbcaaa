"""Evaluate a contract on one replication's record tables: outcomes, payments, cashflows, KPIs.

Pure function of the tables and the terms: no SimPy, no files. The money flows modelled here:

* the **provider** delivers the programme; its costs (per kull, per participant, per
  participant-week in programme) fall due month by month;
* the **investor** funds those costs as they fall due and receives the outcome payments;
* the **commissioners** (e.g. kommune and state) pay the outcome payments in agreed shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from contracts.finance import irr_or_nan, money_multiple, npv, peak_capital
from contracts.outcomes import in_work_share, measure_outcomes
from contracts.payments import schedule_payments
from contracts.periods import WEEKS_PER_MONTH, month_of, spread_over_months
from contracts.terms import Terms

CASHFLOWS = pa.schema(
    [
        ("party", pa.string()),
        ("month", pa.int32()),
        ("item", pa.string()),
        ("amount", pa.float64()),
    ]
)
"""Cashflows by party and month; ``amount`` is NOK, positive into the party, negative out."""


@dataclass
class Evaluation:
    outcomes: pd.DataFrame
    payments: pd.DataFrame
    cashflows: pd.DataFrame
    kpis: dict[str, float] = field(default_factory=dict)


def _as_frame(t: pa.Table | pd.DataFrame) -> pd.DataFrame:
    return t.to_pandas() if isinstance(t, pa.Table) else t


def provider_costs(terms: Terms, persons: pd.DataFrame, spells: pd.DataFrame,
                   n_months: int) -> np.ndarray:
    """The provider's delivery cost in each month, for the treated arm."""
    p = terms.provider
    costs = np.zeros(n_months)
    treated = persons[persons["arm"] == "treatment"]
    cohort_start = treated.groupby("cohort")["entry_week"].min().to_numpy()
    np.add.at(costs, np.minimum(month_of(cohort_start), n_months - 1), p.per_cohort)
    np.add.at(costs, np.minimum(month_of(treated["entry_week"].to_numpy()), n_months - 1),
              p.per_participant)
    prog = spells[(spells["arm"] == "treatment") & (spells["state"] == "programme")]
    if p.per_week and len(prog):
        weeks = spread_over_months(prog["start"].to_numpy(), prog["end"].to_numpy(), n_months)
        costs += p.per_week * weeks.sum(axis=0)
    return costs


def evaluate(
    terms: Terms,
    persons: pa.Table | pd.DataFrame,
    spells: pa.Table | pd.DataFrame,
    horizon_weeks: float,
    discount_rate: float = 0.04,
) -> Evaluation:
    """Outcomes, payments, monthly cashflows by party and the replication's KPIs."""
    persons, spells = _as_frame(persons), _as_frame(spells)
    outcomes = measure_outcomes(terms.outcomes, persons, spells)
    treated = outcomes[outcomes["arm"] == "treatment"]
    payments = schedule_payments(terms, treated)

    last_paid = int(payments["month_paid"].max()) + 1 if len(payments) else 0
    n_months = max(int(np.ceil(horizon_weeks / WEEKS_PER_MONTH)), last_paid, 1)
    cost = provider_costs(terms, persons, spells, n_months)
    paid = np.bincount(payments["month_paid"].to_numpy(dtype=int),
                       weights=payments["amount"].to_numpy(dtype=float), minlength=n_months)

    rows = []
    months = np.arange(n_months)

    def add(party: str, item: str, amounts: np.ndarray) -> None:
        nz = amounts != 0
        rows.append(pd.DataFrame({"party": party, "month": months[nz], "item": item,
                                  "amount": amounts[nz]}))

    add("investor", "funding", -cost)
    add("investor", "outcome_payment", paid)
    add("provider", "funding", cost)
    add("provider", "delivery_cost", -cost)
    for name, share in terms.commissioners.items():
        add(name, "outcome_payment", -share * paid)
    cashflows = pd.concat(rows, ignore_index=True).astype({"month": "int32"})

    investor = paid - cost
    n_treat = int((persons["arm"] == "treatment").sum())
    n_control = int((persons["arm"] == "control").sum())
    kpis: dict[str, float] = {"participants": n_treat, "controls": n_control}
    for months_after in (12, 24):
        share = in_work_share(persons, spells, months_after * 52 / 12, horizon_weeks)
        for arm in ("treatment", "control"):
            kpis[f"in_work_{months_after}m_{arm}"] = share.get(arm, float("nan"))
    for name in terms.outcomes:
        kpis[f"outcomes_{name}"] = int((treated["outcome"] == name).sum())
        ctrl = outcomes[(outcomes["arm"] == "control") & (outcomes["outcome"] == name)]
        kpis[f"outcomes_{name}_control"] = len(ctrl)
    total_paid = float(paid.sum())
    invested = float(cost.sum())
    kpis.update(
        outcome_payments=total_paid,
        provider_costs=invested,
        cap_binding=float(bool(payments["capped"].any())) if len(payments) else 0.0,
        investor_invested=invested,
        investor_received=total_paid,
        investor_net=total_paid - invested,
        investor_irr=irr_or_nan(investor),
        investor_multiple=money_multiple(invested, total_paid),
        investor_npv=npv(investor, discount_rate),
        investor_peak_capital=peak_capital(investor),
        investor_loss=float(total_paid < invested),
    )
    return Evaluation(outcomes=outcomes, payments=payments, cashflows=cashflows, kpis=kpis)
