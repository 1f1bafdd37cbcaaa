"""Evaluate a contract on one replication's record tables: outcomes, payments, cashflows, KPIs.

Pure function of the tables and the terms: no SimPy, no files. The money flows modelled here:

* the **provider** delivers the programme; its costs (per kull, per participant, per
  participant-week in programme) fall due month by month;
* the **investors** fund those costs (and the intermediary's fees) as they fall due, through the
  vehicle of :mod:`effekt.contracts.waterfall`, and are repaid from the outcome payments; under bridge
  financing a commissioner takes over the funding after the investors' months;
* the **commissioners** (e.g. kommune and state) pay the outcome payments in agreed shares, plus
  any coupons and capital guarantees;
* the **beregningsmodell** (:mod:`effekt.contracts.fiscal`) adds what the programme changed in each public
  budget against the control arm: benefits, taxes, grants, and the contract's own payments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa

from effekt.contracts import fiscal as fis
from effekt.contracts.finance import irr_or_nan, money_multiple, npv, peak_capital
from effekt.contracts.frames import frame, nonzero_months, taken
from effekt.contracts.outcomes import Frame, Tables, _floats, _strings, has, in_work_share, outcome_arrays
from effekt.contracts.payments import MissingControl, People, payment_columns, payments_frame, savings_gain
from effekt.contracts.periods import PERIOD_MONTHS, month_of, months_in, spread_over_months
from effekt.contracts.terms import Terms
from effekt.contracts.waterfall import Waterfall, run_waterfall

CASHFLOWS = pa.schema(
    [
        ("party", pa.string()),
        ("month", pa.int32()),
        ("item", pa.string()),
        ("amount", pa.float64()),
    ]
)
"""Contract cashflows by party and month; ``amount`` is NOK, positive into the party, negative out.
They sum to minus the provider's delivery cost over all parties (money is only created by nobody)."""

FISCAL = pa.schema(
    [
        ("arm", pa.string()),
        ("party", pa.string()),
        ("month", pa.int32()),
        ("item", pa.string()),
        ("amount", pa.float64()),
    ]
)
"""Public budget flows by arm (treatment, control, difference = treatment - scaled control), party,
month and item (benefits, income_tax, employer_contributions, integration_grant, wage_cost,
wage_subsidy, programme_costs, contract; earnings to party ``participants``)."""

G_DEFAULT = 130160.0  # source: NAV, grunnbeløp from 1 May 2025


@dataclass
class Evaluation:
    """One replication's money: ``outcomes`` reached (both arms), ``payments`` made, contract
    ``cashflows`` (``CASHFLOWS``), the public budgets ``fiscal`` (``FISCAL``) and the ``kpis``."""

    outcomes: pd.DataFrame
    payments: pd.DataFrame
    cashflows: pd.DataFrame
    kpis: dict[str, float] = field(default_factory=dict)
    fiscal: pd.DataFrame | None = None


def by_period(table: pd.DataFrame, period: str = "annual") -> pd.DataFrame:
    """Monthly ``cashflows`` (or ``fiscal``) rows summed into quarters or years: ``month`` becomes
    the period's index (0 = months 0-2 or 0-11)."""
    n = PERIOD_MONTHS[period]
    keys = [c for c in table.columns if c not in ("month", "amount")]
    out = table.assign(month=table["month"].to_numpy() // n)
    name = {"monthly": "month", "quarterly": "quarter", "annual": "year"}[period]
    return out.groupby([*keys, "month"], as_index=False, sort=True)["amount"].sum().rename(
        columns={"month": name})


def provider_costs(terms: Terms, persons: Frame, spells: Frame, n_months: int,
                   tables: Tables | None = None) -> np.ndarray:
    """The provider's delivery cost in each month, for the treated arm, in NOK."""
    t = tables if tables is not None else Tables.of(persons, spells)
    p = terms.provider
    fx = terms.contract.nok_per_unit
    costs = np.zeros(n_months)
    treated = t.arm == "treatment"
    if not treated.any():
        return costs
    cohort_start: dict = {}
    for cohort, entry in zip(t.cohort[treated].tolist(), t.entry[treated].tolist(), strict=True):
        cohort_start[cohort] = min(cohort_start.get(cohort, entry), entry)
    starts = np.array([cohort_start[k] for k in sorted(cohort_start)], dtype=float)
    np.add.at(costs, np.minimum(month_of(starts), n_months - 1), p.per_cohort * fx)
    np.add.at(costs, np.minimum(month_of(t.entry[treated]), n_months - 1), p.per_participant * fx)
    s_treated = _strings(spells, "arm") == "treatment"
    prog = s_treated & (t.s_state == "programme")
    if p.per_week and prog.any():
        weeks = spread_over_months(t.s_start[prog], t.s_end[prog], n_months)
        costs += p.per_week * fx * weeks.sum(axis=0)
    if p.pathway_costs and has(spells, "cost_payer"):
        own = s_treated & (_strings(spells, "cost_payer") == "provider")
        if own.any():
            weeks = spread_over_months(t.s_start[own], t.s_end[own], n_months)
            per_week = _floats(spells, "cost_per_week")[own]
            costs += per_week @ weeks
            once = _floats(spells, "cost_once")[own]
            np.add.at(costs, np.minimum(month_of(t.s_start[own]), n_months - 1), once)
    return costs


def _intermediary_fees(terms: Terms, provider: np.ndarray) -> np.ndarray:
    i, fx = terms.intermediary, terms.contract.nok_per_unit
    fees = np.zeros(len(provider))
    active = np.nonzero(provider > 0)[0]
    if len(active) == 0:
        return fees
    fees[active[0]] += i.fixed * fx
    fees[active[0]:active[-1] + 1] += i.per_month * fx
    return fees


def _rows(party: str, item: str, amounts: np.ndarray) -> tuple[str, str, np.ndarray]:
    return party, item, np.asarray(amounts, dtype=float)


def _frame(rows: list[tuple[str, str, np.ndarray]]) -> pd.DataFrame:
    """Cashflow rows (party, item, monthly amounts) as the long ``CASHFLOWS`` table."""
    which, month, amount = nonzero_months([a for _, _, a in rows])
    return pd.DataFrame({"party": taken([r[0] for r in rows], which), "month": month.astype(np.int32),
                         "item": taken([r[1] for r in rows], which), "amount": amount.astype(float)},
                        copy=False)


def _party(name: str, n_tranches: int) -> str:
    return "investor" if n_tranches == 1 else f"investor.{name}"


def _investor_kpis(prefix: str, flows: np.ndarray, drawn: float, received: float,
                   rate: float) -> dict[str, float]:
    return {
        f"{prefix}_invested": drawn,
        f"{prefix}_received": received,
        f"{prefix}_net": received - drawn,
        f"{prefix}_irr": irr_or_nan(flows),
        f"{prefix}_multiple": money_multiple(drawn, received),
        f"{prefix}_npv": npv(flows, rate),
        f"{prefix}_peak_capital": peak_capital(flows),
        f"{prefix}_loss": float(received < drawn - 1e-6),
        f"{prefix}_loss_amount": max(0.0, drawn - received),
    }


def evaluate(
    terms: Terms,
    persons: pa.Table | pd.DataFrame,
    spells: pa.Table | pd.DataFrame,
    horizon_weeks: float,
    discount_rate: float = 0.04,
    *,
    events: pa.Table | pd.DataFrame | None = None,
    G: float = G_DEFAULT,
    fiscal_params: fis.FiscalParams | None = None,
    payers: dict[str, str] | None = None,
    missing_control: MissingControl = "raise",
) -> Evaluation:
    """Outcomes, payments, monthly cashflows by party, the public budgets and the KPIs.

    ``events`` is needed for qualification and completion outcomes; ``G`` (NOK) prices benefits
    given in multiples of G; ``discount_rate`` is real and annual (R-109: 4 %); ``payers`` says
    which party pays each benefit kind (default: ``sim/data/benefits.toml``; a scenario that
    overrides a benefit's payer passes its own).

    A contract that compares with the control arm (:func:`effekt.contracts.terms.needs_control`) and
    finds no controls to compare with raises :class:`effekt.contracts.payments.NeedsControl`, or, with
    ``missing_control="not_met"`` (a randomised trial that put nobody into control), counts the
    comparison as not met: the trigger pays nothing, the savings share pays nothing, and the KPI
    ``control_missing`` is 1. The KPIs have the same names whatever the tables hold
    (:func:`kpi_names`); what cannot be known without controls is NaN.
    """
    tables = Tables.of(persons, spells, events)
    n_treat = int((tables.arm == "treatment").sum())
    n_control = int((tables.arm == "control").sum())
    c = terms.contract

    found = outcome_arrays(terms.outcomes, tables)
    n_data = max(months_in(horizon_weeks), c.final_month + 1)
    levels = fis.public_ledger(persons, spells, G, n_data, fiscal_params,
                               payers if payers is not None else _benefit_payers(), tables)

    def gain() -> float | None:
        s = terms.savings_share
        if s is None:
            return None
        if not n_control:
            if missing_control == "not_met":
                return None
            return savings_gain(terms, None)  # raises NeedsControl
        diff = fis.difference_ledger(levels, n_treat, n_control)
        return fis.savings_gain(diff, s.window_months, s.components)

    people = People(arm=tables.arm, person_id=tables.person_id, cohort=tables.cohort, entry=tables.entry)
    pay = payment_columns(terms, found, people, gain, missing_control)

    month_paid = pay["month_paid"] if pay is not None else np.zeros(0, np.int64)
    amount_paid = pay["amount"] if pay is not None else np.zeros(0)
    last_paid = int(month_paid.max()) + 1 if len(month_paid) else 0
    n_months = max(n_data, last_paid)
    cost = provider_costs(terms, persons, spells, n_months, tables)
    paid = np.bincount(month_paid.astype(int), weights=amount_paid.astype(float), minlength=n_months)
    months = np.arange(n_months)
    bridge = terms.funding.investor_months
    investor_months = months < bridge if bridge is not None else np.ones(n_months, bool)
    cost_vehicle = np.where(investor_months, cost, 0.0)
    cost_taken_over = cost - cost_vehicle
    fees = _intermediary_fees(terms, cost)
    end_month = max(c.final_month, last_paid - 1, int(np.nonzero(cost)[0].max()) if cost.any() else 0)
    wf = run_waterfall(terms, cost_vehicle + fees, paid, end_month)

    rows = _cashflow_rows(terms, wf, cost, cost_taken_over, fees, paid)
    cashflows = _frame(rows)
    capped = bool(pay["capped"].any()) if pay is not None else False
    kpis = _kpis(terms, tables, found, capped, wf, cost, paid, rows, horizon_weeks, discount_rate,
                 n_treat, n_control)
    kpis["control_missing"] = float(_control_missing(terms, people))
    ledger = _with_contract(terms, levels, rows, n_months)
    diff = fis.difference_ledger(ledger, n_treat, n_control)
    kpis.update(_fiscal_kpis(diff, n_months, discount_rate, G, n_treat, n_control,
                             tuple(terms.commissioners)))
    fiscal = fis.ledger_frame({**ledger, **diff}, np.int32)
    if fiscal.empty:
        fiscal = fiscal.astype({"month": "int32", "amount": float})
    return Evaluation(outcomes=frame(found), payments=payments_frame(pay), cashflows=cashflows,
                      kpis=kpis, fiscal=fiscal)


def kpi_names(terms: Terms) -> list[str]:
    """The names of the KPIs :func:`evaluate` returns for ``terms`` on simulated tables, in order:
    the same for every replication (with or without a control arm), so a batch's ``runs`` table
    has one schema. Read off an evaluation of nobody, so it cannot drift from :func:`evaluate`."""
    from effekt.contracts.records import events_table, persons_table, spells_table

    ev = evaluate(terms, persons_table([]), spells_table([]), 0.0, events=events_table([]),
                  missing_control="not_met")
    return list(ev.kpis)


def _control_missing(terms: Terms, people: People) -> bool:
    """Whether a comparison the contract makes with the control arm found no controls: a savings
    share or pooled trigger without any control, or a cohort trigger in a cohort without one."""
    has_control = bool((people.arm == "control").any())
    if terms.savings_share is not None and not has_control:
        return True
    for t in terms.triggers:
        if not t.needs_control:
            continue
        if t.scope == "pooled" and not has_control:
            return True
        if t.scope == "cohort":
            controls = set(people.cohort[people.arm == "control"].tolist())
            if any(c not in controls for c in people.cohort[people.arm == "treatment"].tolist()
                   if c is not None and c == c):
                return True
    return False


@cache
def _benefit_payers() -> dict[str, str]:
    """Which party pays each benefit kind, read once (the built-in benefits do not change)."""
    return fis.benefit_payers()


def _cashflow_rows(terms: Terms, wf: Waterfall, cost: np.ndarray, taken_over: np.ndarray,
                   fees: np.ndarray, paid: np.ndarray) -> list[tuple[str, str, np.ndarray]]:
    n_tr = len(terms.investors.tranches)
    rows = []
    for t in terms.investors.tranches:
        party = _party(t.name, n_tr)
        rows += [_rows(party, "funding", -wf.drawn[t.name]),
                 _rows(party, "outcome_payment", wf.distributed[t.name]),
                 _rows(party, "coupon", wf.coupons[t.name]),
                 _rows(party, "capital_protection", wf.protection[t.name])]
    rows += [_rows("provider", "funding", cost), _rows("provider", "delivery_cost", -cost),
             _rows("provider", "performance_fee", wf.performance_fee),
             _rows("intermediary", "fee", fees + wf.intermediary_share)]
    coupons, protection = wf.total(wf.coupons), wf.total(wf.protection)
    for name, share in terms.commissioners.items():
        rows += [_rows(name, "outcome_payment", -share * paid),
                 _rows(name, "coupon", -share * coupons),
                 _rows(name, "capital_protection", -share * protection)]
        if terms.investors.residual_to == "commissioners":
            rows.append(_rows(name, "refund", share * wf.residual))
        if name == terms.funding.takeover_by:
            rows.append(_rows(name, "bridge_funding", -taken_over))
    if terms.investors.residual_to == "provider":
        rows.append(_rows("provider", "residual", wf.residual))
    return rows


def _kpis(terms: Terms, tables: Tables, found: dict[str, np.ndarray], capped: bool, wf: Waterfall,
          cost: np.ndarray, paid: np.ndarray, rows: list[tuple[str, str, np.ndarray]],
          horizon_weeks: float, rate: float, n_treat: int, n_control: int) -> dict[str, float]:
    kpis: dict[str, float] = {"participants": n_treat, "controls": n_control}
    for months_after in (12, 24):
        share = in_work_share(None, None, months_after * 52 / 12, horizon_weeks, tables=tables)
        for arm in ("treatment", "control"):
            kpis[f"in_work_{months_after}m_{arm}"] = share.get(arm, math.nan)
    arm_o, name_o, q_o = found["arm"], found["outcome"], found["quantity"]
    for name in terms.outcomes:
        for arm, suffix in (("treatment", ""), ("control", "_control")):
            kpis[f"outcomes_{name}{suffix}"] = float(q_o[(arm_o == arm) & (name_o == name)].sum())
    drawn = float(wf.total(wf.drawn).sum())
    received = float(wf.total(wf.distributed).sum() + wf.total(wf.coupons).sum()
                     + wf.total(wf.protection).sum())
    flows = wf.investor_flows
    total_paid = float(paid.sum())
    kpis.update(
        outcome_payments=total_paid,
        provider_costs=float(cost.sum()),
        cap_binding=float(capped),
        recycled_payments=float(wf.recycled.sum()),
    )
    kpis.update(_investor_kpis("investor", flows, drawn, received, rate))
    cap = terms.caps.contract
    kpis["investor_peak_capital_share_of_cap"] = (
        kpis["investor_peak_capital"] / (cap * terms.contract.nok_per_unit) if cap else math.nan)
    if terms.investors.commitment is not None:
        kpis["investor_commitment_exceeded"] = float(
            kpis["investor_peak_capital"] > terms.investors.commitment * terms.contract.nok_per_unit + 1e-6)
    if len(terms.investors.tranches) > 1:
        for t in terms.investors.tranches:
            got = float(wf.distributed[t.name].sum() + wf.coupons[t.name].sum() + wf.protection[t.name].sum())
            kpis.update(_investor_kpis(f"investor_{t.name}", wf.tranche_flows[t.name],
                                       float(wf.drawn[t.name].sum()), got, rate))
    # the commissioners' view
    paid_by = {name: -float(sum(a.sum() for p, _, a in rows if p == name)) for name in terms.commissioners}
    paid_total = sum(paid_by.values())
    kpis["commissioner_paid"] = paid_total
    for name, v in paid_by.items():
        kpis[f"commissioner_paid_{name}"] = v
    primary = terms.primary
    n_prim = kpis[f"outcomes_{primary}"]
    n_prim_c = kpis[f"outcomes_{primary}_control"]
    additional = n_prim - n_prim_c * n_treat / n_control if n_control else math.nan
    kpis["additional_outcomes"] = additional
    kpis["cost_per_outcome"] = paid_total / n_prim if n_prim > 0 else math.nan
    kpis["cost_per_additional_outcome"] = (
        paid_total / additional if np.isfinite(additional) and additional > 0 else math.nan)
    ffs = float(cost.sum()) * (1 + terms.contract.fee_for_service_margin)
    kpis["fee_for_service_cost"] = ffs
    kpis["premium_over_fee_for_service"] = paid_total - ffs
    return kpis


def _with_contract(terms: Terms, levels: fis.Ledger, rows: list[tuple[str, str, np.ndarray]],
                   n_months: int) -> fis.Ledger:
    """The public ledger with the commissioners' contract flows added to the treatment arm."""
    out: fis.Ledger = {}
    for key, a in levels.items():
        out[key] = np.pad(a, (0, n_months - len(a))) if len(a) < n_months else a
    for party, _, a in rows:
        if party in terms.commissioners:
            key = ("treatment", party, "contract")
            out[key] = out.get(key, np.zeros(n_months)) + a
    return out


FISCAL_ITEMS = ("benefits", "income_tax", "employer_contributions", "integration_grant",
                "wage_cost", "wage_subsidy", "programme_costs", "contract")
"""The items of the public budgets with a KPI ``fiscal_<item>`` (net over all public parties)."""


def _fiscal_kpis(diff: fis.Ledger, n_months: int, rate: float, G: float, n_treat: int,
                 n_control: int, commissioners: tuple[str, ...] = ()) -> dict[str, float]:
    """The public budgets' KPIs: NPV and net per public party (kommune, state, the commissioners
    and any other party the tables name), in total and per item. The same names with or without
    a control arm; without one they are NaN (a difference needs both arms)."""
    out: dict[str, float] = {}
    parties = {p for (_, p, _) in diff} - {"participants"}
    public = sorted(parties | set(fis.PUBLIC_DEFAULT) | set(commissioners))
    if n_control == 0:
        nan = math.nan
        for p in public:
            out[f"fiscal_npv_{p}"] = out[f"fiscal_net_{p}"] = nan
        out.update(fiscal_npv_total=nan, fiscal_net_total=nan)
        out.update({f"fiscal_{item}": nan for item in FISCAL_ITEMS})
        out.update(benefits_saved_g=nan, earnings_gain=nan, earnings_gain_per_person=nan)
        return out

    def total(party: str | None = None, item: str | None = None) -> np.ndarray:
        acc = np.zeros(n_months)
        for (_, p, i), a in diff.items():
            if (party is None and p != "participants" or p == party) and (item is None or i == item):
                acc[:len(a)] += a
        return acc

    for p in public:
        s = total(party=p)
        out[f"fiscal_npv_{p}"] = npv(s, rate)
        out[f"fiscal_net_{p}"] = float(s.sum())
    everyone = total()
    out["fiscal_npv_total"] = npv(everyone, rate)
    out["fiscal_net_total"] = float(everyone.sum())
    for item in FISCAL_ITEMS:
        out[f"fiscal_{item}"] = float(total(item=item).sum())
    out["benefits_saved_g"] = out["fiscal_benefits"] / G
    out["earnings_gain"] = float(total(party="participants", item="earnings").sum())
    out["earnings_gain_per_person"] = out["earnings_gain"] / n_treat if n_treat else math.nan
    return out
