"""Evaluate a contract on one replication's record tables: outcomes, payments, cashflows, KPIs.

Pure function of the tables and the terms: no SimPy, no files. The money flows modelled here:

* the **provider** delivers the programme; its costs (per kull, per participant, per
  participant-week in the pathway's programme and education stages, not in business as usual)
  fall due month by month;
* the **investors** fund those costs (and the intermediary's fees) as they fall due, through the
  vehicle of :mod:`effekt.contracts.waterfall`, and are repaid from the outcome payments; under bridge
  financing a commissioner takes over the funding after the investors' months;
* the **commissioners** (e.g. kommune and state) pay the outcome payments in agreed shares, plus
  any coupons and capital guarantees;
* the **beregningsmodell** (:mod:`effekt.contracts.fiscal`) adds what the programme changed in each public
  budget against the control arm: benefits, taxes, grants, and the contract's own payments.

How the flows are valued (G, the discount rate, who pays each benefit, what an empty control arm
does) is one :class:`effekt.contracts.valuation.Valuation`. Which KPIs come back, with their units
and labels, is declared before anything is computed (:func:`effekt.contracts.kpis.kpis_for`): the
values are filled in by what each KPI measures, and the names come from the registry only.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyarrow as pa

from effekt.contracts import budgets as bud
from effekt.contracts import displacement as dis
from effekt.contracts import fiscal as fis
from effekt.contracts import long_run as lr
from effekt.contracts import work_years as wy
from effekt.contracts.block import RecordBlock
from effekt.contracts.evaluation_design import RANDOMISED, EvaluationDesign
from effekt.contracts.finance import irr_or_nan, money_multiple, npv, peak_capital
from effekt.contracts.fiscal import FISCAL_ITEMS
from effekt.contracts.frames import frame, months_matrix, nonzero_months, taken
from effekt.contracts.kpis import LONG_RUN_MEASURE, Key, KpiRegistry, kpi_key, kpis_for
from effekt.contracts.outcomes import (
    WORK_MEASURES,
    Frame,
    Tables,
    _floats,
    _strings,
    among,
    has,
    outcome_arrays,
    outcomes_by_replication,
    work_shares_by_replication,
)
from effekt.contracts.payments import People, payment_columns, payments_frame, rate_cards, savings_base
from effekt.contracts.periods import PERIOD_MONTHS, month_of, months_in, spread_over_months
from effekt.contracts.terms import Terms
from effekt.contracts.valuation import G_DEFAULT, Valuation
from effekt.contracts.waterfall import Waterfall, run_waterfall
from effekt.lazy import pandas as pd

__all__ = ["CASHFLOWS", "FISCAL", "FISCAL_ITEMS", "G_DEFAULT", "Evaluation", "by_period", "evaluate",
           "evaluate_block", "kpi_names", "provider_costs"]

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
"""Public budget flows by arm, party, month and item (benefits, income_tax, employer_contributions,
integration_grant, wage_cost, value_of_work, sales_revenue, wage_subsidy, programme_costs, contract;
earnings to party ``participants``; the public parties kommune, fylke, other_kommuner, state and the
commissioners: :mod:`effekt.contracts.fiscal`). The arms are exactly ``treatment`` and
``control`` (levels; the contract's flows are in ``treatment``) and ``difference`` (treatment
minus the control scaled to the treatment arm's size). A matched ``comparison`` arm in the record
tables is left out: it is what a ``matched`` evaluation design pays against (its savings share
reads it from the record tables), not a budget the programme changes, and a level beside the
other two would be counted twice by anyone summing the levels. So summing ``arm != "difference"``
adds the two arms' levels, never more. The difference of the items of employment is net of the
valuation's displacement and substitution offsets (:mod:`effekt.contracts.displacement`; none by default)."""


FISCAL_ARMS = ("treatment", "control", "difference")
"""The arms of the ``FISCAL`` table (a matched ``comparison`` arm is not among them)."""


@dataclass(eq=False)
class Evaluation:
    """One replication's money: ``outcomes`` reached (both arms), ``payments`` made, contract
    ``cashflows`` (``CASHFLOWS``), the public budgets ``fiscal`` (``FISCAL``), the ``kpis``
    ({name: value}, in the order and with the names of the contract's
    :func:`effekt.contracts.kpis.kpis_for`) and the ``budgets`` per year: every party's flows by
    arm, year and item, nominal and discounted (:data:`effekt.contracts.budgets.BUDGETS`; the
    fiscal NPV KPIs are its discounted sums).

    The tables are DataFrames built on first access from the numpy columns :func:`evaluate`
    computed (and kept): a batch stores only the KPIs, the cashflows and the budgets, and takes
    those two as columns (:meth:`cashflow_columns`, :meth:`budget_columns`; a task's replications
    all at once, :meth:`cashflow_columns_of`, :meth:`budget_columns_of`), so it never pays for a
    DataFrame per replication (issue 14: frames were a third of ``effekt run``)."""

    kpis: dict[str, float]
    long_run_weeks: float | None
    """The end of the long run the ``budgets`` cover (weeks), None when evaluated over the
    contract period only: with a long run, ``budgets`` and the KPIs ``fiscal_npv_long_run_*``
    run to it, while ``fiscal`` and every other KPI are the contract period's."""
    found: dict[str, np.ndarray] = field(repr=False)
    """The outcomes reached, as columns (:func:`effekt.contracts.outcomes.outcome_arrays`)."""
    paid: dict[str, np.ndarray] | None = field(repr=False)
    """The payments, as columns (:func:`effekt.contracts.payments.payment_columns`), or None."""
    rows: list[tuple[str, str, np.ndarray]] = field(repr=False)
    """The contract's cashflow rows: party, item and the amount of every month."""
    ledger: fis.Ledger = field(repr=False)
    """The public budgets of the contract period by (arm, party, item): monthly amounts."""
    budget_ledger: fis.Ledger = field(repr=False)
    """The public budgets the ``budgets`` table covers (to the end of the long run, if any)."""
    commissioners: tuple[str, ...] = field(repr=False)
    rate: float = field(repr=False)

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        return frame(self.found)

    @cached_property
    def payments(self) -> pd.DataFrame:
        return payments_frame(self.paid)

    @cached_property
    def cashflows(self) -> pd.DataFrame:
        return _frame(self.rows)

    @cached_property
    def fiscal(self) -> pd.DataFrame:
        table = fis.ledger_frame(self.ledger, np.int32)
        return table.astype({"month": "int32", "amount": float}) if table.empty else table

    @cached_property
    def budgets(self) -> pd.DataFrame:
        return bud.budgets(self.budget_ledger, self.rows, self.commissioners, self.rate)

    def cashflow_columns(self) -> dict[str, np.ndarray]:
        """The ``cashflows`` table as numpy columns (party and item as object arrays of str):
        :meth:`cashflow_columns_of` this evaluation alone."""
        cols = Evaluation.cashflow_columns_of([self])
        del cols["replication"]
        return cols

    def budget_columns(self) -> dict[str, np.ndarray]:
        """The ``budgets`` table as numpy columns (:func:`effekt.contracts.budgets.budget_columns`):
        :meth:`budget_columns_of` this evaluation alone."""
        cols = Evaluation.budget_columns_of([self])
        del cols["replication"]
        return cols

    @staticmethod
    def cashflow_columns_of(evaluations: Sequence[Evaluation]) -> dict[str, np.ndarray]:
        """The ``cashflows`` columns of several evaluations (a task's replications) at once, their
        rows one evaluation after another (each evaluation's rows as :meth:`cashflow_columns`
        gives them), with ``replication`` in front: the position in ``evaluations`` of each row's
        evaluation. Every cashflow row of every evaluation is read in one matrix
        (:func:`effekt.contracts.frames.nonzero_months`), so a task pays once, not per replication."""
        rows = [r for ev in evaluations for r in ev.rows]
        which, month, amount = nonzero_months([a for _, _, a in rows])
        owner = np.repeat(np.arange(len(evaluations)), [len(ev.rows) for ev in evaluations])
        return {"replication": owner[which], "party": np.array([r[0] for r in rows], dtype=object)[which],
                "month": month.astype(np.int32), "item": np.array([r[1] for r in rows], dtype=object)[which],
                "amount": amount.astype(float)}

    @staticmethod
    def budget_columns_of(evaluations: Sequence[Evaluation]) -> dict[str, np.ndarray]:
        """The ``budgets`` columns of several evaluations at once, one evaluation after another
        (each as :meth:`budget_columns` gives them), with ``replication`` in front as in
        :meth:`cashflow_columns_of`: one matrix of every ledger row of the task, summed into years
        and discounted once (:func:`effekt.contracts.budgets.block_budget_columns`). The evaluations
        must share their discount rate (a task's replications do: one valuation)."""
        rates = {ev.rate for ev in evaluations}
        if len(rates) > 1:
            raise ValueError(f"Evaluation.budget_columns_of: the evaluations are discounted at different "
                             f"rates ({sorted(rates)}); give it the evaluations of one valuation")
        rate = rates.pop() if rates else 0.0
        return bud.block_budget_columns([(ev.budget_ledger, ev.rows, ev.commissioners)
                                         for ev in evaluations], rate)


def by_period(table: pd.DataFrame, period: str = "annual") -> pd.DataFrame:
    """Monthly ``cashflows`` (or ``fiscal``) rows summed into quarters or years: ``month`` becomes
    the period's index (0 = months 0-2 or 0-11)."""
    n = PERIOD_MONTHS[period]
    keys = [c for c in table.columns if c not in ("month", "amount")]
    out = table.assign(month=table["month"].to_numpy() // n)
    name = {"monthly": "month", "quarterly": "quarter", "annual": "year"}[period]
    return out.groupby([*keys, "month"], as_index=False, sort=True)["amount"].sum().rename(
        columns={"month": name})


PROVIDER_WEEK_STATES = np.array(["programme", "education"], dtype=object)
"""The states whose weeks the provider's ``per_week`` cost runs in (in the pathway's own stages)."""


def provider_costs(terms: Terms, persons: Frame, spells: Frame, n_months: int,
                   tables: Tables | None = None) -> np.ndarray:
    """The provider's delivery cost in each month, for the treated arm, in NOK: per cohort, per
    participant, and per week in the pathway's own programme and education stages (spells in
    state ``programme`` or ``education``: a pathway that sends people to ordinary education
    delivers that stage too); with ``pathway_costs``, the stage costs the pathway charges to the
    provider. Neither counts a spell of a business-as-usual pathway (``spells.business_as_usual``:
    the weeks a person spends in the introduction programme or a course it would have walked
    anyway, before the pathway or after leaving it): nobody is the provider there, so a programme
    that admits nobody costs the provider only its fixed per-cohort and per-participant costs."""
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
    mine = s_treated & ~t.s_usual  # the pathway's own spells, not business as usual
    prog = mine & among(t.s_state, PROVIDER_WEEK_STATES)
    if p.per_week and prog.any():
        weeks = spread_over_months(t.s_start[prog], t.s_end[prog], n_months)
        costs += p.per_week * fx * weeks.sum(axis=0)
    if p.pathway_costs and has(spells, "cost_payer"):
        own = mine & (_strings(spells, "cost_payer") == "provider")
        if own.any():
            weeks = spread_over_months(t.s_start[own], t.s_end[own], n_months)
            per_week = _floats(spells, "cost_per_week")[own]
            costs += per_week @ weeks
            cohort = _floats(spells, "cost_cohort")[own]
            cohort_weeks = _floats(spells, "cost_cohort_weeks")[own]
            spread = (cohort > 0) & (cohort_weeks > 0)
            once = _floats(spells, "cost_once")[own] + np.where(spread, 0.0, cohort)
            np.add.at(costs, np.minimum(month_of(t.s_start[own]), n_months - 1), once)
            if spread.any():  # a per-cohort cost spread over its weeks
                start = t.s_start[own][spread]
                over = spread_over_months(start, start + cohort_weeks[spread], n_months)
                costs += (cohort[spread] / cohort_weeks[spread]) @ over
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


def _investor_kpis(party: str, flows: np.ndarray, drawn: float, received: float,
                   rate: float) -> dict[Key, float]:
    """The investors' KPIs (see ``effekt.contracts.kpis._INVESTOR``) of ``party`` (``investor`` or
    a tranche's ``investor.<name>``)."""
    values = {
        "invested": drawn,
        "received": received,
        "net": received - drawn,
        "irr": irr_or_nan(flows),
        "multiple": money_multiple(drawn, received),
        "npv": npv(flows, rate),
        "peak_capital": peak_capital(flows),
        "loss": float(received < drawn - 1e-6),
        "loss_amount": max(0.0, drawn - received),
    }
    return {kpi_key(m, party=party): v for m, v in values.items()}


_DEFAULT_VALUATION: Valuation | None = None


def _default_valuation() -> Valuation:
    global _DEFAULT_VALUATION
    if _DEFAULT_VALUATION is None:
        _DEFAULT_VALUATION = Valuation()
    return _DEFAULT_VALUATION


def evaluate(
    terms: Terms,
    persons: pa.Table | pd.DataFrame,
    spells: pa.Table | pd.DataFrame,
    horizon_weeks: float,
    valuation: Valuation | None = None,
    *,
    events: pa.Table | pd.DataFrame | None = None,
    design: EvaluationDesign | None = None,
    long_run_weeks: float | None = None,
) -> Evaluation:
    """Outcomes, payments, monthly cashflows by party, the public budgets and the KPIs of one
    replication's record tables (``persons``, ``spells`` and, for qualification and completion
    outcomes, ``events``) observed for ``horizon_weeks``.

    ``valuation`` (default :class:`~effekt.contracts.valuation.Valuation()`: G of 1 May 2025, 4 %
    real, the built-in fiscal rules and benefit payers) says how the flows are valued.

    A contract that compares with the control arm (:func:`effekt.contracts.terms.needs_control`) and
    finds no controls to compare with raises :class:`effekt.contracts.payments.NeedsControl`, or, with
    ``Valuation(missing_control="not_met")`` (a randomised trial that put nobody into control),
    counts the comparison as not met: the trigger pays nothing, the savings share pays nothing, and
    the KPI ``control_missing`` is 1. The KPIs are those of :func:`effekt.contracts.kpis.kpis_for`
    whatever the tables hold (:func:`kpi_names`); what cannot be known without controls is NaN.

    ``design`` (default randomised: the control arm) is the contract's evaluation design
    (:class:`effekt.contracts.evaluation_design.EvaluationDesign`): what the contract *pays* is
    measured against its comparison (the matched arm ``comparison``, a historical baseline, or
    nothing), while the KPIs of the true effect (``additional_outcomes``, the public budgets,
    ``earnings_gain``) stay against the control arm. ``measured_additional_outcomes``,
    ``design_bias_outcomes`` and ``paid_not_additional_share`` set the two side by side. A design
    that cannot evaluate the contract (a savings share without a comparison group) raises
    :class:`effekt.specfile.SpecError`.

    ``long_run_weeks`` (default None: the tables end at ``horizon_weeks``): the tables run on to
    this week, past the contract (:mod:`effekt.contracts.long_run`). The contract and every KPI
    are then evaluated on the tables as they stood at ``horizon_weeks`` (the people referred
    before it, their records cut there), exactly as without a long run; the public budgets are
    evaluated over the long run too, for the same people: the KPIs ``fiscal_npv_long_run_<party>``
    (declared by ``kpis_for(terms, long_run=True)``) and the ``budgets`` table run to the end of
    the long run, with the contract's flows as they were paid.
    """
    return evaluate_block(terms, RecordBlock.one(persons, spells, events), horizon_weeks, valuation,
                          design=design, long_run_weeks=long_run_weeks)[0]


def evaluate_block(
    terms: Terms,
    block: RecordBlock,
    horizon_weeks: float,
    valuation: Valuation | None = None,
    *,
    design: EvaluationDesign | None = None,
    long_run_weeks: float | None = None,
) -> list[Evaluation]:
    """:func:`evaluate` of each replication of ``block`` (:class:`effekt.contracts.block.RecordBlock`),
    in order: what a batch's task does with its replications' record tables.

    Each replication is evaluated on its own tables, as :func:`evaluate` would evaluate it alone;
    what the block shares is the work: the terms priced, the design checked and the KPIs declared
    once, every record column converted from Arrow once for the block, and the public ledger
    (:func:`effekt.contracts.fiscal.public_ledgers`) summed over the block's spells at once, each
    (replication, arm, party, item) sum in spell order, so a replication's numbers do not depend
    on the block it is evaluated in (tests/test_block_evaluation.py)."""
    if long_run_weeks is not None and not long_run_weeks >= horizon_weeks:
        raise ValueError(f"evaluate: long_run_weeks ({long_run_weeks!r}) must reach at least the "
                         f"contract's horizon_weeks ({horizon_weeks!r})")
    if valuation is None:
        valuation = _default_valuation()
    elif not isinstance(valuation, Valuation):
        raise TypeError(f"evaluate: valuation must be an effekt.contracts.Valuation (e.g. "
                        f"Valuation(discount_rate=0.04)), not {type(valuation).__name__} {valuation!r}")
    if design is None:
        design = RANDOMISED
    elif not isinstance(design, EvaluationDesign):
        raise TypeError(f"evaluate: design must be an effekt.contracts.EvaluationDesign (e.g. "
                        f"EvaluationDesign(design='matched')), not {type(design).__name__} {design!r}")
    terms = valuation.priced(terms)  # the contract's money in the valuation's currency
    design.check(terms)
    registry = kpis_for(terms, long_run=long_run_weeks is not None)
    n_data = max(months_in(horizon_weeks), terms.contract.final_month + 1)
    if long_run_weeks is not None:  # each replication's records are cut at the horizon first
        return [_evaluate_one(terms, *block.replication(i), horizon_weeks, valuation, design, long_run_weeks,
                              registry, n_data, None) for i in range(block.n)]
    levels = list(fis.public_ledgers(block, valuation.G, n_data, valuation.fiscal,
                                     dict(valuation.benefit_payers)))
    # the record arrays, the outcomes and the work KPIs over the whole block at once, then each
    # replication's share of them (the same arrays, rows and numbers as its records alone give)
    tables = Tables.of_block(block)
    found = outcomes_by_replication(terms.outcomes, tables)
    work = _work_kpis(tables, horizon_weeks)
    years = wy.work_years_by_replication(tables, valuation.discount_rate, horizon_weeks)
    # the offsets' KPIs without displacement or substitution: zeros, the same for every replication
    no_offsets = dis.offset_kpis({}, {}, n_data, valuation.discount_rate, registry)
    records = [block.replication(i) for i in range(block.n)]
    shares = [tables.replication(i, spells, events) for i, (_, spells, events) in enumerate(records)]
    people = [_people(t) for t in shares]
    measured = [design.measured(f, who) for f, who in zip(found, people, strict=True)]
    cards = rate_cards(terms, [m[0] for m in measured], [m[1] for m in measured])  # priced at once
    out = []
    for i, (persons, spells, events) in enumerate(records):
        out.append(_evaluate_one(terms, persons, spells, events, horizon_weeks, valuation, design,
                                 long_run_weeks, registry, n_data, levels[i],
                                 tables=shares[i], found=found[i], work=work[i], work_years=years[i],
                                 no_offsets=no_offsets, measured=(people[i], *measured[i]), card=cards[i]))
    return out


def _people(tables: Tables) -> People:
    """The columns of a replication's persons that payments read."""
    return People(arm=tables.arm, person_id=tables.person_id, cohort=tables.cohort, entry=tables.entry)


def _evaluate_one(terms: Terms, persons: Frame, spells: Frame, events: Frame | None, horizon_weeks: float,
                  valuation: Valuation, design: EvaluationDesign, long_run_weeks: float | None,
                  registry: KpiRegistry, n_data: int, levels: fis.Ledger | None, *,
                  tables: Tables | None = None, found: dict[str, np.ndarray] | None = None,
                  work: dict[Key, float] | None = None,
                  work_years: dict[str, float] | None = None,
                  no_offsets: dict[Key, float] | None = None,
                  measured: tuple[People, dict[str, np.ndarray], People] | None = None,
                  card: dict[str, np.ndarray] | None = None) -> Evaluation:
    """One replication's evaluation (``terms`` priced and checked, ``registry`` declared by
    :func:`evaluate_block`); ``levels``: its public ledger over ``n_data`` months when the block
    summed it (None: summed here, on the records cut at the horizon with a long run). Likewise
    what the block measured of it (None: measured here): ``tables`` its record arrays
    (:meth:`Tables.replication`), ``found`` its outcomes, ``work`` its in-work share KPIs
    (:func:`_work_kpis`), ``work_years`` its discounted years in work by arm
    (:func:`effekt.contracts.work_years.work_years_by_replication`), ``no_offsets`` the offsets'
    KPIs of no offsets, ``measured`` its people and its outcomes and people as the design
    measures them (:meth:`EvaluationDesign.measured`) and ``card`` its rate card's payments
    (:func:`effekt.contracts.payments.rate_cards`)."""
    long_run = None
    if long_run_weeks is not None:
        long_run = lr.people_of_contract(persons, spells, events, horizon_weeks)
        persons, spells, events = lr.clip_records(persons, spells, events, horizon_weeks)
    G, rate, missing_control = valuation.G, valuation.discount_rate, valuation.missing_control
    if tables is None:
        tables = Tables.of(persons, spells, events)
    n_treat = int((tables.arm == "treatment").sum())
    n_control = int((tables.arm == "control").sum())
    c = terms.contract

    if found is None:
        found = outcome_arrays(terms.outcomes, tables)
    if levels is None:
        levels = fis.public_ledger(persons, spells, G, n_data, valuation.fiscal,
                                   dict(valuation.benefit_payers), tables)

    def gain() -> float | None:
        if terms.savings_share is None:
            return None
        if not n_control:
            if missing_control == "not_met":
                return None
            return savings_base(terms, None)  # raises NeedsControl
        return savings_base(terms, fis.difference_ledger(levels, n_treat, n_control))

    if measured is None:
        people = _people(tables)
        m_found, m_people = design.measured(found, people)  # what the design compares (randomised: as is)
    else:
        people, m_found, m_people = measured
    if design.design == "matched":
        def gain() -> float | None:  # participants against their matched comparison group
            if terms.savings_share is None:
                return None
            n_part = int((m_people.arm == "treatment").sum())
            n_comp = int((m_people.arm == "control").sum())
            if not n_comp:  # nobody took part: nothing measured, nothing paid
                return None
            m_persons, m_spells = design.measured_tables(persons, spells)
            m_levels = fis.public_ledger(m_persons, m_spells, G, n_data, valuation.fiscal,
                                         dict(valuation.benefit_payers))
            return savings_base(terms, fis.difference_ledger(m_levels, n_part, n_comp))
    elif not design.is_randomised:
        def gain() -> float | None:  # refused by design.check: no comparison group to measure it
            return None
    pay = payment_columns(terms, m_found, m_people, gain, missing_control, design.baseline_shares(),
                          card=card)

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
    capped = bool(pay["capped"].any()) if pay is not None else False
    values = _kpis(terms, tables, found, capped, wf, cost, paid, rows, horizon_weeks, rate,
                   n_treat, n_control, work)
    values[kpi_key("control_missing")] = float(design.is_randomised and _control_missing(terms, people))
    values.update(_design_kpis(terms, design, m_found, m_people, pay, values))
    ledger = _with_contract(terms, levels, rows, n_months)
    diff = fis.difference_ledger(ledger, n_treat, n_control)
    if n_control:  # displacement and substitution: the budgets net of what others lose
        diff, offsets = _net_of_displacement(diff, persons, spells, tables, valuation, n_data, n_months,
                                             n_treat, n_control, registry, no_offsets)
        values.update(offsets)
    values.update(_fiscal_kpis(diff, n_months, rate, G, n_treat, n_control, registry))
    values.update(wy.work_years_kpis(tables, rate, horizon_weeks, n_treat, n_control,  # issue 12
                                     by_arm=work_years))
    three_arms = {key: a for key, a in {**ledger, **diff}.items() if key[0] in FISCAL_ARMS}
    in_budgets = three_arms
    if long_run is not None:
        in_budgets, long_values = _long_run(terms, *long_run[:2], valuation, rows, n_months,
                                            long_run_weeks, n_treat, n_control, registry)
        values.update(long_values)
    return Evaluation(kpis=registry.fill(values), long_run_weeks=long_run_weeks, found=found, paid=pay,
                      rows=rows, ledger=three_arms, budget_ledger=in_budgets,
                      commissioners=tuple(terms.commissioners), rate=rate)


def _long_run(terms: Terms, persons: Frame, spells: Frame, valuation: Valuation,
              rows: list[tuple[str, str, np.ndarray]], n_months: int, long_run_weeks: float,
              n_treat: int, n_control: int, registry: KpiRegistry) -> tuple[fis.Ledger, dict[Key, float]]:
    """The public budgets over the long run: the ledger of the contract's people to
    ``long_run_weeks`` (by the same rules, with the contract's flows ``rows`` as paid and net of
    the same displacement and substitution), its three arms, and the long-run KPIs (an NPV per
    public party the registry declares and over all public parties; NaN without a control arm)."""
    tables = Tables.of(persons, spells)
    n_long = max(months_in(long_run_weeks), n_months)
    levels = fis.public_ledger(persons, spells, valuation.G, n_long, valuation.fiscal,
                               dict(valuation.benefit_payers), tables)
    ledger = _with_contract(terms, levels, rows, n_long)
    diff = fis.difference_ledger(ledger, n_treat, n_control)
    values: dict[Key, float] = {}
    if n_control:
        diff, _ = _net_of_displacement(diff, persons, spells, tables, valuation, n_long, n_long,
                                       n_treat, n_control, registry)
        for kpi in registry.select(measure=LONG_RUN_MEASURE, party_kind="public"):
            values[kpi.key] = npv(_public_total(diff, n_long, party=kpi.party), valuation.discount_rate)
    values.update(wy.work_years_kpis(tables, valuation.discount_rate, long_run_weeks, n_treat, n_control,
                                     long_run=True))  # issue 12: NaN without a control arm
    three_arms = {key: a for key, a in {**ledger, **diff}.items() if key[0] in FISCAL_ARMS}
    return three_arms, values


def _design_kpis(terms: Terms, design: EvaluationDesign, m_found: dict[str, np.ndarray], m_people: People,
                 pay: dict[str, np.ndarray] | None, v: dict[Key, float]) -> dict[Key, float]:
    """What the evaluation design measured beside the truth (the control arm): the primary
    outcomes paid for, the additional ones the design measures (its treated minus its comparison,
    scaled to the treated; a baseline share times the treated; under ``gross`` every outcome), the
    design's bias (measured minus true) and the share of the paid primary outcomes that were not
    truly additional (the true additional ones, clipped to [0, paid], are the additional part)."""
    k, primary = kpi_key, terms.primary
    prim = m_found["outcome"] == primary
    q, arm = m_found["quantity"], m_found["arm"]
    n_t = int((m_people.arm == "treatment").sum())
    got = float(q[prim & (arm == "treatment")].sum())
    if design.design in ("randomised", "matched"):
        n_c = int((m_people.arm == "control").sum())
        got_c = float(q[prim & (arm == "control")].sum())
        if n_c:
            measured = got - got_c * n_t / n_c
        else:  # randomised: no controls, no measure; matched: nobody took part, nothing measured
            measured = math.nan if design.is_randomised else 0.0
    else:
        shares = design.baseline_shares() or {}
        measured = got - shares.get(primary, 0.0) * n_t
    true = v[k("additional_outcomes", arm="difference", outcome=primary)]
    paid_for = 0.0
    if pay is not None:
        mine = (pay["outcome"] == primary) & (pay["amount"] > 0)
        paid_for = float(pay["quantity"][mine].sum())
    not_additional = (1.0 - min(max(true, 0.0), paid_for) / paid_for
                      if paid_for > 0 and math.isfinite(true) else math.nan)
    return {k("paid_outcomes", outcome=primary): paid_for,
            k("measured_additional_outcomes", arm="difference", outcome=primary): measured,
            k("design_bias", arm="difference", outcome=primary): measured - true,
            k("paid_not_additional_share", outcome=primary): not_additional}


def kpi_names(terms: Terms, *, long_run: bool = False) -> list[str]:
    """The names of the KPIs :func:`evaluate` returns for ``terms`` (``long_run``: with a long
    run), in order: the same for every replication (with or without a control arm), so a batch's
    ``runs`` table has one schema. The names of :func:`effekt.contracts.kpis.kpis_for`, which
    declares each KPI."""
    return kpis_for(terms, long_run=long_run).names


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


def _work_kpis(tables: Tables, horizon_weeks: float) -> list[dict[Key, float]]:
    """The in-work share KPIs (``<measure>_12m_*``, ``<measure>_24m_*`` of each of
    :data:`effekt.contracts.outcomes.WORK_MEASURES`, treatment and control) of each replication
    of ``tables`` (one, or a block's: :meth:`Tables.of_block`), counted over them at once; NaN
    for an arm a replication has nobody measurable in."""
    k = kpi_key
    horizons = (12, 24)
    out: list[dict[Key, float]] = [{} for _ in range(tables.n)]
    for measure, options in WORK_MEASURES.items():  # in work; in ordinary work; in work or education
        by_replication = work_shares_by_replication(tables, [m * 52 / 12 for m in horizons], horizon_weeks,
                                                    **options)
        for v, shares in zip(out, by_replication, strict=True):
            for arm in ("treatment", "control"):
                got = shares.get(arm)
                for i, months_after in enumerate(horizons):
                    v[k(f"{measure}_{months_after}m", arm=arm)] = (float(got[i]) if got is not None
                                                                   else math.nan)
    return out


def _kpis(terms: Terms, tables: Tables, found: dict[str, np.ndarray], capped: bool, wf: Waterfall,
          cost: np.ndarray, paid: np.ndarray, rows: list[tuple[str, str, np.ndarray]],
          horizon_weeks: float, rate: float, n_treat: int, n_control: int,
          work: dict[Key, float] | None = None) -> dict[Key, float]:
    """The contract's KPIs by what they measure (see :func:`effekt.contracts.kpis.kpis_for`);
    ``work``: the replication's in-work share KPIs when its block counted them (None: counted
    here, :func:`_work_kpis`)."""
    k = kpi_key
    v: dict[Key, float] = {k("people", arm="treatment"): n_treat, k("people", arm="control"): n_control}
    v.update(work if work is not None else _work_kpis(tables, horizon_weeks)[0])
    arm_o, name_o, q_o = found["arm"], found["outcome"], found["quantity"]
    arms = {arm: arm_o == arm for arm in ("treatment", "control")}
    for name in terms.outcomes:
        named = name_o == name
        for arm, in_arm in arms.items():
            v[k("outcomes", arm=arm, outcome=name)] = float(q_o[in_arm & named].sum())
    drawn = float(wf.total(wf.drawn).sum())
    received = float(wf.total(wf.distributed).sum() + wf.total(wf.coupons).sum()
                     + wf.total(wf.protection).sum())
    flows = wf.investor_flows
    total_paid = float(paid.sum())
    v[k("outcome_payments")] = total_paid
    v[k("provider_costs")] = float(cost.sum())
    v[k("cap_binding")] = float(capped)
    v[k("recycled_payments")] = float(wf.recycled.sum())
    v.update(_investor_kpis("investor", flows, drawn, received, rate))
    peak = v[k("peak_capital", party="investor")]
    cap = terms.caps.contract
    v[k("peak_capital_share_of_cap", party="investor")] = (
        peak / (cap * terms.contract.nok_per_unit) if cap else math.nan)
    if terms.investors.commitment is not None:
        v[k("commitment_exceeded", party="investor")] = float(
            peak > terms.investors.commitment * terms.contract.nok_per_unit + 1e-6)
    if len(terms.investors.tranches) > 1:
        for t in terms.investors.tranches:
            got = float(wf.distributed[t.name].sum() + wf.coupons[t.name].sum() + wf.protection[t.name].sum())
            v.update(_investor_kpis(_party(t.name, 2), wf.tranche_flows[t.name],
                                    float(wf.drawn[t.name].sum()), got, rate))
    # the commissioners' view
    paid_by = {name: -float(sum(a.sum() for p, _, a in rows if p == name)) for name in terms.commissioners}
    paid_total = sum(paid_by.values())
    v[k("commissioner_paid")] = paid_total
    for name, x in paid_by.items():
        v[k("commissioner_paid", party=name)] = x
    n_prim = v[k("outcomes", arm="treatment", outcome=terms.primary)]
    n_prim_c = v[k("outcomes", arm="control", outcome=terms.primary)]
    additional = n_prim - n_prim_c * n_treat / n_control if n_control else math.nan
    v[k("additional_outcomes", arm="difference", outcome=terms.primary)] = additional
    v[k("cost_per_outcome")] = paid_total / n_prim if n_prim > 0 else math.nan
    v[k("cost_per_additional_outcome")] = (
        paid_total / additional if np.isfinite(additional) and additional > 0 else math.nan)
    ffs = float(cost.sum()) * (1 + terms.contract.fee_for_service_margin)
    v[k("fee_for_service_cost")] = ffs
    v[k("premium_over_fee_for_service")] = paid_total - ffs
    return v


def _with_contract(terms: Terms, levels: fis.Ledger, rows: list[tuple[str, str, np.ndarray]],
                   n_months: int) -> fis.Ledger:
    """The public ledger with the commissioners' contract flows added to the treatment arm."""
    out: fis.Ledger = {}
    for key, a in levels.items():
        out[key] = np.pad(a, (0, n_months - len(a))) if len(a) < n_months else a
    for party, _, a in rows:
        if party in terms.commissioners:
            key = ("treatment", party, "contract")
            a = np.pad(a, (0, n_months - len(a))) if len(a) < n_months else a
            out[key] = out.get(key, np.zeros(n_months)) + a
    return out


def _net_of_displacement(diff: fis.Ledger, persons: Frame, spells: Frame, tables: Tables,
                         valuation: Valuation, n_data: int, n_months: int, n_treat: int, n_control: int,
                         registry: KpiRegistry,
                         no_offsets: dict[Key, float] | None = None) -> tuple[fis.Ledger, dict[Key, float]]:
    """The difference ledger net of the valuation's displacement and substitution offsets, and the
    offsets' KPIs (:mod:`effekt.contracts.displacement`: shares of the flows of the job spells,
    not of a benefit stopped without work). Both shares 0: the ledger as it is and offsets of 0.
    Only the budgets see the offsets: what the contract pays on is measured before. ``no_offsets``:
    the offsets' KPIs of no offsets when a block counted them once (zeros, whatever the months)."""
    d, s = valuation.displacement_share, valuation.substitution_share
    if not (d or s):
        if no_offsets is not None:
            return diff, dict(no_offsets)
        return diff, dis.offset_kpis({}, {}, n_months, valuation.discount_rate, registry)
    flows = (persons, spells, valuation.G, n_data, valuation.fiscal, dict(valuation.benefit_payers), tables)
    employed = dis.employment_flows(*flows) if d else {}
    subsidised = dis.subsidised_flows(*flows) if s else {}
    displaced, substituted = dis.offsets(employed, subsidised, n_treat, n_control, d, s)
    kpis = dis.offset_kpis(displaced, substituted, n_months, valuation.discount_rate, registry)
    return dis.net_of(diff, substituted, displaced), kpis


def _public_total(diff: fis.Ledger, n_months: int, *, party: str | None = None,
                  item: str | None = None) -> np.ndarray:
    """The monthly sum of the ledger's rows of ``party`` (None: every public party, and any
    party the tables name that is not :data:`effekt.contracts.fiscal.NOT_PUBLIC`) and ``item``
    (None: every item)."""
    acc = np.zeros(n_months)
    for (_, p, i), a in diff.items():
        if (party is None and p not in fis.NOT_PUBLIC or p == party) and (item is None or i == item):
            acc[:len(a)] += a
    return acc


@functools.lru_cache(maxsize=64)
def _fiscal_totals(keys: tuple[tuple[str, str, str], ...], parties: tuple[str | None, ...], n_months: int
                   ) -> tuple[dict[tuple[str | None, str | None], int], np.ndarray, np.ndarray]:
    """Which totals :func:`_fiscal_kpis` needs of a difference ledger with ``keys`` (in order) and
    the public ``parties`` its registry declares (None: all): each total's position (by (party,
    item), None for any); the ledger row of each (row, total) pair, in the ledger's order; and the
    cell (total x ``n_months`` + month) each of the pairs' months adds to, for ``np.bincount``
    (which adds a cell's amounts one after another from 0, as a loop over the rows would). The
    same for every replication whose ledger has the same rows: once."""
    wanted = [(p, None) for p in parties] + [(None, item) for item in FISCAL_ITEMS]
    wanted.append(("participants", "earnings"))
    code = {key: j for j, key in enumerate(dict.fromkeys(wanted))}
    rows, codes = [], []
    for j, (_, p, i) in enumerate(keys):
        public = p not in fis.NOT_PUBLIC
        for key in ((p, None), (None, i) if public else None, (p, i), (None, None) if public else None):
            c = code.get(key) if key is not None else None
            if c is not None:
                rows.append(j)
                codes.append(c)
    cells = (np.asarray(codes, dtype=np.intp)[:, None] * n_months + np.arange(n_months)).ravel()
    return code, np.asarray(rows, dtype=np.intp), cells


def _fiscal_kpis(diff: fis.Ledger, n_months: int, rate: float, G: float, n_treat: int,
                 n_control: int, registry: KpiRegistry) -> dict[Key, float]:
    """The public budgets' KPIs: NPV and net per public party the registry declares (kommune,
    state and the commissioners) and over all public parties (any party the tables name, too), in
    total and per item. Without a control arm they are left out, so NaN (a difference needs both
    arms).

    Every total at once: the ledger's rows in one matrix, each total the sum of its rows added in
    the ledger's order (``np.bincount``: one row after another, as :func:`_public_total` adds them),
    and the NPVs and nets of all the totals by row, each row summed as :func:`npv` sums one."""
    if n_control == 0:
        return {}
    k = kpi_key
    parties = registry.select(measure="fiscal_npv", party_kind="public")
    code, rows, cells = _fiscal_totals(tuple(diff), tuple(kpi.party for kpi in parties), n_months)
    m = months_matrix(list(diff.values()), n_months)
    sums = np.bincount(cells, weights=m[rows].ravel(), minlength=len(code) * n_months).reshape(len(code),
                                                                                              n_months)
    nets = sums.sum(axis=1)
    npvs = (sums / bud.discount_factors(n_months, rate)).sum(axis=1)
    out: dict[Key, float] = {}
    for kpi in parties:
        j = code[(kpi.party, None)]
        out[kpi.key] = float(npvs[j])
        out[k("fiscal_net", arm="difference", party=kpi.party)] = float(nets[j])
    for item in FISCAL_ITEMS:
        out[k(f"fiscal_{item}", arm="difference")] = float(nets[code[(None, item)]])
    out[k("benefits_saved_g", arm="difference")] = out[k("fiscal_benefits", arm="difference")] / G
    gain = float(nets[code[("participants", "earnings")]])
    out[k("earnings_gain", arm="difference")] = gain
    out[k("earnings_gain_per_person", arm="difference")] = gain / n_treat if n_treat else math.nan
    return out
