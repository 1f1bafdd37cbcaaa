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
from collections.abc import Callable, Sequence
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
from effekt.contracts.finance import irr_many, money_multiple, npv, npv_many, peak_capital_many, sums_many
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
from effekt.contracts.periods import (
    PERIOD_MONTHS,
    WEEKS_PER_MONTH,
    cell_pieces,
    month_cells,
    month_of,
    month_span,
    months_in,
    spread_over_months,
)
from effekt.contracts.terms import Terms
from effekt.contracts.valuation import G_DEFAULT, Valuation
from effekt.contracts.waterfall import Waterfall, run_waterfall, run_waterfalls
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
    that admits nobody costs the provider only its fixed per-cohort and per-participant costs.
    One replication: :func:`_provider_cost_matrix` of a block of one."""
    t = tables if tables is not None else Tables.of(persons, spells)
    return _provider_cost_matrix(terms, t, spells, [n_months])[0]


def _bounds_of(bounds: np.ndarray | None, n_rows: int) -> np.ndarray:
    """A block's row bounds (None: one replication, all the rows)."""
    return np.array([0, n_rows], dtype=np.int64) if bounds is None else np.asarray(bounds, dtype=np.int64)


def _provider_cost_matrix(terms: Terms, t: Tables, spells: Frame, n_months: Sequence[int]) -> np.ndarray:
    """:func:`provider_costs` of each replication of ``t`` (a block's tables, or one
    replication's) and ``spells`` (its spells table), replication ``r`` over ``n_months[r]``
    months, as the rows of one matrix (zeros past a replication's months).

    Over the block at once, each cell's amounts added in a replication's own order: the
    per-cohort costs (cohorts by name) before the per-participant costs (persons in order),
    both by ``np.add.at`` (one addition after another), then the per-week costs, each
    replication's spells' weeks added one spell after another from 0 (``np.bincount``, as numpy
    sums the rows of one replication's matrix, ``axis=0``; a replication of one month sums them
    pairwise: alone),
    then the pathway's stage costs, replication by replication (a matrix product)."""
    p = terms.provider
    fx = terms.contract.nok_per_unit
    n_reps = len(n_months)
    lengths = np.asarray(n_months, dtype=np.int64)
    width = int(lengths.max())
    costs = np.zeros((n_reps, width))
    pb, sb = _bounds_of(t.person_bounds, len(t.arm)), _bounds_of(t.spell_bounds, len(t.s_state))
    person_rep = np.repeat(np.arange(n_reps), np.diff(pb))
    treated = t.arm == "treatment"
    if not treated.any():
        return costs
    active = np.bincount(person_rep[treated], minlength=n_reps) > 0  # replications with treated people
    cohort = t.cohort[treated].tolist()
    names = sorted(set(cohort))
    code = {c: j for j, c in enumerate(names)}
    rep = person_rep[treated]
    key = rep * len(names) + np.fromiter(map(code.__getitem__, cohort), dtype=np.int64, count=len(cohort))
    first = np.full(n_reps * len(names), np.inf)
    np.minimum.at(first, key, t.entry[treated])  # each (replication, cohort)'s first entry week
    present = np.unique(key)  # by replication, then cohort name
    of = present // len(names)
    flat = costs.reshape(-1)  # the matrix's cells, replication by replication
    np.add.at(flat, of * width + np.minimum(month_of(first[present]), lengths[of] - 1), p.per_cohort * fx)
    np.add.at(flat, rep * width + np.minimum(month_of(t.entry[treated]), lengths[rep] - 1),
              p.per_participant * fx)
    spell_rep = np.repeat(np.arange(n_reps), np.diff(sb))
    s_treated = _strings(spells, "arm") == "treatment"
    mine = s_treated & ~t.s_usual & active[spell_rep]  # the pathway's own spells, not business as usual
    prog = mine & among(t.s_state, PROVIDER_WEEK_STATES)
    if p.per_week and prog.any():
        rows = np.flatnonzero(prog)
        whose = spell_rep[rows]
        summed = _weeks_by_month(t.s_start[rows], t.s_end[rows], whose, n_reps, width)
        for r in np.flatnonzero(lengths == 1).tolist():  # one month: numpy sums its column pairwise
            own = rows[whose == r]
            summed[r, :1] = spread_over_months(t.s_start[own], t.s_end[own], width)[:, :1].sum(axis=0)
        worked = np.bincount(whose, minlength=n_reps) > 0
        costs[worked] += p.per_week * fx * summed[worked]
        costs[np.arange(width) >= lengths[:, None]] = 0.0  # past a replication's own months
    if p.pathway_costs and has(spells, "cost_payer"):
        payer = _strings(spells, "cost_payer") == "provider"
        for r in np.flatnonzero(active).tolist():
            lo, hi = int(sb[r]), int(sb[r + 1])
            _pathway_costs(costs[r, :lengths[r]], t, spells, mine[lo:hi] & payer[lo:hi], lo)
    return costs


def _weeks_by_month(start: np.ndarray, end: np.ndarray, whose: np.ndarray, n_reps: int,
                    width: int) -> np.ndarray:
    """The weeks of the intervals [start, end) in each month of their replication (``whose``),
    replications x ``width`` months: each (replication, month)'s weeks added one interval after
    another from 0, as ``np.bincount`` over the rows of ``spread_over_months(start, end, width)``
    adds them (a month an interval does not overlap adds nothing), over the months each interval
    overlaps only, a piece of intervals at a time (:func:`effekt.contracts.periods.cell_pieces`):
    no intervals x months matrix (issue 14: a replication of 400 000 persons has millions). An
    interval whose start is NaN adds nothing (the matrix route made its replication's every month
    NaN; a NaN end still does); the simulation never records a NaN start."""
    edges = np.arange(width + 1) * WEEKS_PER_MONTH
    first, count = month_span(start, end, edges)
    summed = np.zeros(n_reps * width)
    for lo, hi in cell_pieces(count):
        interval, month, weeks = month_cells(start[lo:hi], end[lo:hi], first[lo:hi], count[lo:hi], edges, lo)
        np.add.at(summed, whose[interval] * width + month, weeks)
    return summed.reshape(n_reps, width)


def _pathway_costs(costs: np.ndarray, t: Tables, spells: Frame, own: np.ndarray, lo: int) -> None:
    """Add to one replication's monthly ``costs`` (in place) the stage costs the pathway charges
    to the provider on its spells ``own`` (rows ``lo ..`` of the tables): per week, once, and a
    per-cohort cost spread over its weeks."""
    if not own.any():
        return
    n_months = len(costs)
    rows = np.flatnonzero(own) + lo
    start, end = t.s_start[rows], t.s_end[rows]
    weeks = spread_over_months(start, end, n_months)
    per_week = _floats(spells, "cost_per_week")[rows]
    costs += per_week @ weeks
    cohort = _floats(spells, "cost_cohort")[rows]
    cohort_weeks = _floats(spells, "cost_cohort_weeks")[rows]
    spread = (cohort > 0) & (cohort_weeks > 0)
    once = _floats(spells, "cost_once")[rows] + np.where(spread, 0.0, cohort)
    np.add.at(costs, np.minimum(month_of(start), n_months - 1), once)
    if spread.any():  # a per-cohort cost spread over its weeks
        first = start[spread]
        over = spread_over_months(first, first + cohort_weeks[spread], n_months)
        costs += (cohort[spread] / cohort_weeks[spread]) @ over


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


def _investor_kpis(party: str, drawn: float, received: float,
                   measures: tuple[np.ndarray, float, float, float]) -> dict[Key, float]:
    """The investors' KPIs (see ``effekt.contracts.kpis._INVESTOR``) of ``party`` (``investor`` or
    a tranche's ``investor.<name>``); ``measures``: its flows with their IRR, NPV and peak capital
    (:func:`_investor_measures`)."""
    _, irr, npv_at_rate, peak = measures
    values = {
        "invested": drawn,
        "received": received,
        "net": received - drawn,
        "irr": irr,
        "multiple": money_multiple(drawn, received),
        "npv": npv_at_rate,
        "peak_capital": peak,
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
        reps = [_prepared(terms, *block.replication(i), horizon_weeks, valuation, design, long_run_weeks,
                          n_data) for i in range(block.n)]
        return _evaluated(terms, reps, horizon_weeks, valuation, design, long_run_weeks, registry, n_data,
                          lambda n_months: _cost_matrix_one_by_one(terms, reps, n_months))
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
    # each replication's people as views of the block's arrays (as Tables.replication gives them);
    # its record tables and Tables are sliced only if something asks (a matched design, offsets)
    pb = _bounds_of(tables.person_bounds, len(tables.arm))
    people = [People(arm=tables.arm[lo:hi], person_id=tables.person_id[lo:hi], cohort=tables.cohort[lo:hi],
                     entry=tables.entry[lo:hi])
              for lo, hi in zip(pb[:-1].tolist(), pb[1:].tolist(), strict=True)]
    person_rep = np.repeat(np.arange(block.n), np.diff(pb))
    n_treat = np.bincount(person_rep[tables.arm == "treatment"], minlength=block.n).tolist()
    n_control = np.bincount(person_rep[tables.arm == "control"], minlength=block.n).tolist()
    measured = [design.measured(f, who) for f, who in zip(found, people, strict=True)]
    cards = rate_cards(terms, [m[0] for m in measured], [m[1] for m in measured])  # priced at once
    reps = [_Replication(found=found[i], levels=levels[i], work=work[i], work_years=years[i],
                         people=people[i], m_found=measured[i][0], m_people=measured[i][1], card=cards[i],
                         long_run=None,
                         n_treat=n_treat[i], n_control=n_control[i],
                         source=functools.partial(_replication_of, block, tables, i))
            for i in range(block.n)]
    return _evaluated(terms, reps, horizon_weeks, valuation, design, None, registry, n_data,
                      lambda n_months: _provider_cost_matrix(terms, tables, block.spells, n_months),
                      no_offsets)


def _replication_of(block: RecordBlock, tables: Tables, i: int) -> tuple[Frame, Frame, Frame | None, Tables]:
    """Replication ``i``'s record tables (slices of the block's) and its :class:`Tables` (views of
    the block's arrays)."""
    persons, spells, events = block.replication(i)
    return persons, spells, events, tables.replication(i, spells, events)


def _cost_matrix_one_by_one(terms: Terms, reps: Sequence[_Replication],
                            n_months: Sequence[int]) -> np.ndarray:
    """:func:`_provider_cost_matrix` of replications each with its own tables (records cut at the
    horizon for a long run), one at a time, as the rows of one matrix."""
    out = np.zeros((len(reps), max(n_months)))
    for r, (rep, n) in enumerate(zip(reps, n_months, strict=True)):
        out[r, :n] = _provider_cost_matrix(terms, rep.tables, rep.spells, [n])[0]
    return out


def _people(tables: Tables) -> People:
    """The columns of a replication's persons that payments read."""
    return People(arm=tables.arm, person_id=tables.person_id, cohort=tables.cohort, entry=tables.entry)


@dataclass(eq=False)
class _Replication:
    """What one replication brings to its money: its outcomes, its public ledger over the
    contract's months, its in-work KPIs and years (None: counted when needed), its people and
    its outcomes and people as the design measures them, its rate card's payments (None: priced
    with its other payments), with a long run the records of the contract's people to its end,
    its arms' sizes, and ``source``: its record tables (cut at the horizon with a long run) and
    their :class:`Tables`, asked for only when needed (:attr:`records`)."""

    found: dict[str, np.ndarray]
    levels: fis.Ledger
    work: dict[Key, float] | None
    work_years: dict[str, float] | None
    people: People
    m_found: dict[str, np.ndarray]
    m_people: People
    card: dict[str, np.ndarray] | None
    long_run: tuple | None
    n_treat: int
    n_control: int
    source: Callable[[], tuple[Frame, Frame, Frame | None, Tables]]

    @cached_property
    def records(self) -> tuple[Frame, Frame, Frame | None, Tables]:
        """(persons, spells, events, tables) of the replication, made on first use."""
        return self.source()

    @property
    def persons(self) -> Frame:
        return self.records[0]

    @property
    def spells(self) -> Frame:
        return self.records[1]

    @property
    def tables(self) -> Tables:
        return self.records[3]


def _prepared(terms: Terms, persons: Frame, spells: Frame, events: Frame | None, horizon_weeks: float,
              valuation: Valuation, design: EvaluationDesign, long_run_weeks: float | None,
              n_data: int) -> _Replication:
    """One replication's :class:`_Replication` measured on its own records (``terms`` priced and
    checked by :func:`evaluate_block`), with a long run cut at the horizon first: its arrays,
    outcomes, public ledger over ``n_data`` months and its people as the design measures them."""
    long_run = None
    if long_run_weeks is not None:
        long_run = lr.people_of_contract(persons, spells, events, horizon_weeks)
        persons, spells, events = lr.clip_records(persons, spells, events, horizon_weeks)
    tables = Tables.of(persons, spells, events)
    found = outcome_arrays(terms.outcomes, tables)
    levels = fis.public_ledger(persons, spells, valuation.G, n_data, valuation.fiscal,
                               dict(valuation.benefit_payers), tables)
    people = _people(tables)
    m_found, m_people = design.measured(found, people)  # what the design compares (randomised: as is)
    records = (persons, spells, events, tables)
    return _Replication(found=found, levels=levels, work=None, work_years=None, people=people,
                        m_found=m_found, m_people=m_people, card=None, long_run=long_run,
                        n_treat=int((tables.arm == "treatment").sum()),
                        n_control=int((tables.arm == "control").sum()), source=lambda: records)


def _payments(terms: Terms, rep: _Replication, valuation: Valuation, design: EvaluationDesign,
              n_data: int) -> dict[str, np.ndarray] | None:
    """One replication's outcome payments (:func:`effekt.contracts.payments.payment_columns`): the
    savings share measured as the design measures it."""
    G, missing_control = valuation.G, valuation.missing_control
    n_treat, n_control, levels, m_people = rep.n_treat, rep.n_control, rep.levels, rep.m_people

    def gain() -> float | None:
        if terms.savings_share is None:
            return None
        if not n_control:
            if missing_control == "not_met":
                return None
            return savings_base(terms, None)  # raises NeedsControl
        return savings_base(terms, fis.difference_ledger(levels, n_treat, n_control))

    if design.design == "matched":
        def gain() -> float | None:  # participants against their matched comparison group
            if terms.savings_share is None:
                return None
            n_part = int((m_people.arm == "treatment").sum())
            n_comp = int((m_people.arm == "control").sum())
            if not n_comp:  # nobody took part: nothing measured, nothing paid
                return None
            m_persons, m_spells = design.measured_tables(rep.persons, rep.spells)
            m_levels = fis.public_ledger(m_persons, m_spells, G, n_data, valuation.fiscal,
                                         dict(valuation.benefit_payers))
            return savings_base(terms, fis.difference_ledger(m_levels, n_part, n_comp))
    elif not design.is_randomised:
        def gain() -> float | None:  # refused by design.check: no comparison group to measure it
            return None
    return payment_columns(terms, rep.m_found, m_people, gain, missing_control, design.baseline_shares(),
                           card=rep.card)


WATERFALL_BLOCK = 8
"""From how many replications the waterfall runs as one month loop over the block
(:func:`effekt.contracts.waterfall.run_waterfalls`); fewer run one at a time in Python floats
(:func:`effekt.contracts.waterfall.run_waterfall`, cheaper for one). The same bits either way."""


@dataclass(eq=False)
class _Funding:
    """One replication's money month by month: the provider's ``cost``, the commissioners'
    outcome payments ``paid``, what a commissioner took over of the cost (``taken_over``), the
    intermediary's ``fees`` and the vehicle's waterfall ``wf``."""

    cost: np.ndarray
    paid: np.ndarray
    taken_over: np.ndarray
    fees: np.ndarray
    wf: Waterfall


def _last_month(mask: np.ndarray, default: int) -> np.ndarray:
    """The last column of each row of ``mask`` that is True (``default`` for a row of none)."""
    width = mask.shape[1]
    return np.where(mask.any(axis=1), width - 1 - np.argmax(mask[:, ::-1], axis=1), default)


def _funded(terms: Terms, pays: Sequence[dict[str, np.ndarray] | None], n_data: int,
            cost_matrix: Callable[[list[int]], np.ndarray]) -> list[_Funding]:
    """The replications' money month by month, from their payments ``pays``: each one's months
    (``n_data`` or up to its last payment), its provider costs (``cost_matrix`` of the months:
    one row each), the vehicle's share of them and the commissioner's (bridge financing), the
    intermediary's fees, and the waterfall. The costs' arithmetic is over the block's matrix,
    element by element as for each replication alone; the waterfall over the block at once for
    a block of :data:`WATERFALL_BLOCK` or more."""
    c = terms.contract
    paid, n_months, last_paid = [], [], []
    for pay in pays:
        month_paid = pay["month_paid"] if pay is not None else np.zeros(0, np.int64)
        amount_paid = pay["amount"] if pay is not None else np.zeros(0)
        last = int(month_paid.max()) + 1 if len(month_paid) else 0
        n = max(n_data, last)
        last_paid.append(last)
        n_months.append(n)
        paid.append(np.bincount(month_paid.astype(int), weights=amount_paid.astype(float), minlength=n))
    cost = cost_matrix(n_months)
    width = cost.shape[1]
    months = np.arange(width)
    bridge = terms.funding.investor_months
    vehicle = np.where(months < bridge, cost, 0.0) if bridge is not None else np.where(True, cost, 0.0)
    taken_over = cost - vehicle
    fees = _intermediary_fee_matrix(terms, cost)
    due = vehicle + fees
    last_cost = _last_month(cost != 0, 0).tolist()
    end_months = [max(c.final_month, last - 1, lc) for last, lc in zip(last_paid, last_cost, strict=True)]
    dues = [due[r, :n] for r, n in enumerate(n_months)]
    if len(pays) >= WATERFALL_BLOCK:
        wfs = run_waterfalls(terms, dues, paid, end_months)
    else:
        wfs = [run_waterfall(terms, d, p, e) for d, p, e in zip(dues, paid, end_months, strict=True)]
    return [_Funding(cost=cost[r, :n], paid=paid[r], taken_over=taken_over[r, :n], fees=fees[r, :n], wf=wf)
            for r, (n, wf) in enumerate(zip(n_months, wfs, strict=True))]


def _intermediary_fee_matrix(terms: Terms, provider: np.ndarray) -> np.ndarray:
    """The intermediary's fees of each row of ``provider`` (a replication's monthly costs), at
    once: the fixed fee in a row's first month of cost (added to 0), then the monthly fee added
    in every month from its first to its last month of cost; none for a row without cost."""
    i, fx = terms.intermediary, terms.contract.nok_per_unit
    fees = np.zeros(provider.shape)
    active = provider > 0
    some = active.any(axis=1)
    if not some.any():
        return fees
    first = np.argmax(active, axis=1)
    last = _last_month(active, -1)
    rows = np.flatnonzero(some)
    fees[rows, first[rows]] += i.fixed * fx
    months = np.arange(provider.shape[1])
    running = some[:, None] & (months >= first[:, None]) & (months <= last[:, None])
    return np.where(running, fees + i.per_month * fx, fees)


def _evaluated(terms: Terms, reps: list[_Replication], horizon_weeks: float, valuation: Valuation,
               design: EvaluationDesign, long_run_weeks: float | None, registry: KpiRegistry, n_data: int,
               cost_matrix: Callable[[list[int]], np.ndarray],
               no_offsets: dict[Key, float] | None = None) -> list[Evaluation]:
    """The evaluations of the replications ``reps``, in phases over all of them: their payments,
    then their money month by month (:func:`_funded`), then the investors' IRR, NPV and peak
    capital of every replication at once (:func:`effekt.contracts.finance.irr_many`: each the
    bits it has alone), then each replication's cashflows, KPIs and budgets."""
    pays = [_payments(terms, rep, valuation, design, n_data) for rep in reps]
    funded = _funded(terms, pays, n_data, cost_matrix)
    investors = _investor_measures(terms, [f.wf for f in funded], valuation.discount_rate)
    rows = [_cashflow_rows(terms, f.wf, f.cost, f.taken_over, f.fees, f.paid) for f in funded]
    sums = _money_sums(terms, funded, rows)
    budgets = [_public_budgets(terms, rep, rows_of, len(money.cost), valuation, n_data, registry, no_offsets)
               for rep, rows_of, money in zip(reps, rows, funded, strict=True)]
    fiscal = _fiscal_kpis_of([b[1] for b in budgets], [len(f.cost) for f in funded], valuation.discount_rate,
                             valuation.G, [r.n_treat for r in reps], [r.n_control for r in reps], registry)
    outcomes = _outcome_totals([r.found for r in reps], list(terms.outcomes))
    measured = (outcomes if design.design == "randomised"  # the design measures the outcomes as they are
                else _outcome_totals([r.m_found for r in reps], [terms.primary]))
    return [_evaluation(terms, rep, pay, money, measures, rows_of, sums_of, budget, fiscal_of, totals,
                        m_totals, horizon_weeks, valuation, design, long_run_weeks, registry)
            for rep, pay, money, measures, rows_of, sums_of, budget, fiscal_of, totals, m_totals in zip(
                reps, pays, funded, investors, rows, sums, budgets, fiscal, outcomes, measured, strict=True)]


def _public_budgets(terms: Terms, rep: _Replication, rows: list[tuple[str, str, np.ndarray]], n_months: int,
                    valuation: Valuation, n_data: int, registry: KpiRegistry,
                    no_offsets: dict[Key, float] | None) -> tuple[fis.Ledger, fis.Ledger, dict[Key, float]]:
    """One replication's public budgets over its ``n_months``: the ledger with the contract's
    flows (:func:`_with_contract`), its difference (net of displacement and substitution) and
    the offsets' KPIs (none without a control arm)."""
    ledger = _with_contract(terms, rep.levels, rows, n_months)
    diff = fis.difference_ledger(ledger, rep.n_treat, rep.n_control)
    offsets: dict[Key, float] = {}
    if not rep.n_control:
        return ledger, diff, offsets
    if not (valuation.displacement_share or valuation.substitution_share) and no_offsets is not None:
        return ledger, diff, dict(no_offsets)  # nothing to offset: the records are not read
    # displacement and substitution: the budgets net of what others lose
    diff, offsets = _net_of_displacement(diff, rep.persons, rep.spells, rep.tables, valuation, n_data,
                                         n_months, rep.n_treat, rep.n_control, registry, no_offsets)
    return ledger, diff, offsets


MONEY_TOTALS = ("drawn", "distributed", "coupons", "protection", "paid", "cost", "recycled")
"""The monthly series of a replication's money whose sums its KPIs read (the waterfall's over
all tranches), besides its cashflow rows and, with several tranches, each tranche's
``drawn``, ``distributed``, ``coupons`` and ``protection``."""


def _money_sums(terms: Terms, funded: Sequence[_Funding], rows: Sequence[list[tuple[str, str, np.ndarray]]]
                ) -> list[tuple[list[float], dict[str, float]]]:
    """The sums the KPIs read of each replication: of each of its cashflow rows, in order, and of
    its :data:`MONEY_TOTALS` (``tranche:<part>:<name>`` each tranche's, with several), all the
    replications' series summed at once (:func:`effekt.contracts.finance.sums_many`: each as
    numpy sums it alone)."""
    names = list(MONEY_TOTALS)
    several = len(terms.investors.tranches) > 1
    if several:
        names += [f"tranche:{part}:{t.name}" for t in terms.investors.tranches
                  for part in ("drawn", "distributed", "coupons", "protection")]
    series: list[np.ndarray] = []
    for money, rows_of in zip(funded, rows, strict=True):
        wf = money.wf
        series += [a for _, _, a in rows_of]
        series += [wf.total(wf.drawn), wf.total(wf.distributed), wf.total(wf.coupons),
                   wf.total(wf.protection), money.paid, money.cost, wf.recycled]
        if several:
            series += [getattr(wf, part)[t.name] for t in terms.investors.tranches
                       for part in ("drawn", "distributed", "coupons", "protection")]
    flat = sums_many(series)
    out, at = [], 0
    for rows_of in rows:
        n = len(rows_of)
        out.append((flat[at:at + n], dict(zip(names, flat[at + n:at + n + len(names)], strict=True))))
        at += n + len(names)
    return out


def _investor_measures(terms: Terms, wfs: Sequence[Waterfall], rate: float
                       ) -> list[dict[str, tuple[np.ndarray, float, float, float]]]:
    """Each replication's investor flows (all the investors, and each tranche when there are
    several) with their IRR, NPV and peak capital, by party, all replications at once."""
    tranches = terms.investors.tranches
    parties: list[tuple[str, Callable[[Waterfall], np.ndarray]]] = [
        ("investor", lambda wf: wf.investor_flows)]
    if len(tranches) > 1:
        parties += [(_party(t.name, 2), lambda wf, name=t.name: wf.tranche_flows[name]) for t in tranches]
    out: list[dict[str, tuple[np.ndarray, float, float, float]]] = [{} for _ in wfs]
    for party, flows_of in parties:
        flows = [flows_of(wf) for wf in wfs]
        irrs, npvs, peaks = (irr_many(flows).tolist(), npv_many(flows, rate).tolist(),
                             peak_capital_many(flows).tolist())
        for r, f in enumerate(flows):
            out[r][party] = (f, irrs[r], npvs[r], peaks[r])
    return out


def _evaluation(terms: Terms, rep: _Replication, pay: dict[str, np.ndarray] | None, money: _Funding,
                investors: dict[str, tuple[np.ndarray, float, float, float]],
                rows: list[tuple[str, str, np.ndarray]], sums: tuple[list[float], dict[str, float]],
                budgets: tuple[fis.Ledger, fis.Ledger, dict[Key, float]], fiscal: dict[Key, float],
                outcomes: OutcomeTotals, m_outcomes: OutcomeTotals, horizon_weeks: float,
                valuation: Valuation, design: EvaluationDesign, long_run_weeks: float | None,
                registry: KpiRegistry) -> Evaluation:
    """One replication's evaluation from its payments, money, cashflow ``rows`` and their
    ``sums`` (:func:`_money_sums`), its public ``budgets`` (:func:`_public_budgets`) and their
    ``fiscal`` KPIs, its ``outcomes`` summed and those the design measures (``m_outcomes``,
    :func:`_outcome_totals`): its KPIs, the budgets' three arms and (with a long run) the budgets to the
    end of the long run."""
    rate = valuation.discount_rate
    n_treat, n_control = rep.n_treat, rep.n_control
    n_months = len(money.cost)
    capped = bool(pay["capped"].any()) if pay is not None else False
    work = rep.work if rep.work is not None else _work_kpis(rep.tables, horizon_weeks)[0]
    values = _kpis(terms, outcomes, capped, rows, sums, n_treat, n_control, work, investors)
    values[kpi_key("control_missing")] = float(design.is_randomised and _control_missing(terms, rep.people))
    values.update(_design_kpis(terms, design, rep.m_found, rep.m_people, pay, values, m_outcomes))
    ledger, diff, offsets = budgets
    values.update(offsets)
    values.update(fiscal)
    by_arm = rep.work_years if rep.work_years is not None or not n_control else \
        wy.work_years_by_arm(rep.tables, rate, horizon_weeks)  # its records read only if not counted
    values.update(wy.work_years_kpis(None, rate, horizon_weeks, n_treat, n_control,  # issue 12
                                     by_arm=by_arm))
    three_arms = {key: a for key, a in {**ledger, **diff}.items() if key[0] in FISCAL_ARMS}
    in_budgets = three_arms
    if rep.long_run is not None:
        in_budgets, long_values = _long_run(terms, *rep.long_run[:2], valuation, rows, n_months,
                                            long_run_weeks, n_treat, n_control, registry)
        values.update(long_values)
    return Evaluation(kpis=registry.fill(values), long_run_weeks=long_run_weeks, found=rep.found, paid=pay,
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


OutcomeTotals = dict[tuple[str, str], float]
"""A replication's outcomes summed by (arm, outcome), for the arms ``treatment`` and ``control``."""


def _outcome_totals(found: Sequence[dict[str, np.ndarray]], names: Sequence[str]) -> list[OutcomeTotals]:
    """``float(quantity[(arm == a) & (outcome == name)].sum())`` of each replication's outcome
    columns ``found``, for the arms treatment and control and each of ``names``.

    When every quantity is a whole number at or above +0 and their total stays below 2 ** 52,
    every partial sum is a whole number a double holds exactly, so any order of adding gives the
    same bits: then one ``np.bincount`` over the block. Otherwise (fractions, days) numpy's sum
    of each replication's quantities, as alone."""
    arms = ("treatment", "control")
    q = np.concatenate([f["quantity"] for f in found]) if found else np.zeros(0)
    whole = q.dtype.kind in "iu" or (q.dtype.kind == "f" and not np.signbit(q).any()
                                      and bool(np.all(q == np.floor(q))))
    if not (whole and len(q) and float(np.abs(q).sum()) < 2.0 ** 52):
        out = []
        for f in found:
            in_arm = {arm: f["arm"] == arm for arm in arms}
            out.append({(arm, name): float(f["quantity"][in_arm[arm] & (f["outcome"] == name)].sum())
                        for name in names for arm in arms})
        return out
    arm, outcome = (np.concatenate([f[c] for f in found]) for c in ("arm", "outcome"))
    width = len(names) + 1  # the last: another outcome
    arm_code = np.where(arm == "treatment", 0, np.where(arm == "control", 1, 2))
    name_code = np.full(len(q), len(names))
    for j, name in enumerate(names):
        name_code[outcome == name] = j
    rep = np.repeat(np.arange(len(found)), [len(f["quantity"]) for f in found])
    sums = np.bincount((rep * 3 + arm_code) * width + name_code, weights=q.astype(float),
                       minlength=len(found) * 3 * width).reshape(len(found), 3, width).tolist()
    return [{(a, name): by_arm[i][j] for j, name in enumerate(names) for i, a in enumerate(arms)}
            for by_arm in sums]


def _design_kpis(terms: Terms, design: EvaluationDesign, m_found: dict[str, np.ndarray], m_people: People,
                 pay: dict[str, np.ndarray] | None, v: dict[Key, float],
                 totals: OutcomeTotals | None = None) -> dict[Key, float]:
    """What the evaluation design measured beside the truth (the control arm): the primary
    outcomes paid for, the additional ones the design measures (its treated minus its comparison,
    scaled to the treated; a baseline share times the treated; under ``gross`` every outcome), the
    design's bias (measured minus true) and the share of the paid primary outcomes that were not
    truly additional (the true additional ones, clipped to [0, paid], are the additional part).
    ``totals``: the design's outcomes summed (:func:`_outcome_totals` of ``m_found``; None: here)."""
    k, primary = kpi_key, terms.primary
    if totals is None:
        totals = _outcome_totals([m_found], [primary])[0]
    n_t = int((m_people.arm == "treatment").sum())
    got = totals[("treatment", primary)]
    if design.design in ("randomised", "matched"):
        n_c = int((m_people.arm == "control").sum())
        got_c = totals[("control", primary)]
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


def _kpis(terms: Terms, outcomes: OutcomeTotals, capped: bool,
          rows: list[tuple[str, str, np.ndarray]], sums: tuple[list[float], dict[str, float]],
          n_treat: int, n_control: int, work: dict[Key, float],
          investors: dict[str, tuple[np.ndarray, float, float, float]]) -> dict[Key, float]:
    """The contract's KPIs by what they measure (see :func:`effekt.contracts.kpis.kpis_for`);
    ``outcomes``: the replication's outcomes summed by arm (:func:`_outcome_totals`); ``sums``:
    the sums of the cashflow ``rows`` and of the money's series (:func:`_money_sums`);
    ``work``: the replication's in-work share KPIs (:func:`_work_kpis`); ``investors``: the
    investors' flows, IRR, NPV and peak capital by party (:func:`_investor_measures`)."""
    k = kpi_key
    row_sums, total = sums
    v: dict[Key, float] = {k("people", arm="treatment"): n_treat, k("people", arm="control"): n_control}
    v.update(work)
    for name in terms.outcomes:
        for arm in ("treatment", "control"):
            v[k("outcomes", arm=arm, outcome=name)] = outcomes[(arm, name)]
    drawn = total["drawn"]
    received = total["distributed"] + total["coupons"] + total["protection"]
    total_paid = total["paid"]
    v[k("outcome_payments")] = total_paid
    v[k("provider_costs")] = total["cost"]
    v[k("cap_binding")] = float(capped)
    v[k("recycled_payments")] = total["recycled"]
    v.update(_investor_kpis("investor", drawn, received, investors["investor"]))
    peak = v[k("peak_capital", party="investor")]
    cap = terms.caps.contract
    v[k("peak_capital_share_of_cap", party="investor")] = (
        peak / (cap * terms.contract.nok_per_unit) if cap else math.nan)
    if terms.investors.commitment is not None:
        v[k("commitment_exceeded", party="investor")] = float(
            peak > terms.investors.commitment * terms.contract.nok_per_unit + 1e-6)
    if len(terms.investors.tranches) > 1:
        for t in terms.investors.tranches:
            got = (total[f"tranche:distributed:{t.name}"] + total[f"tranche:coupons:{t.name}"]
                   + total[f"tranche:protection:{t.name}"])
            party = _party(t.name, 2)
            v.update(_investor_kpis(party, total[f"tranche:drawn:{t.name}"], got, investors[party]))
    # the commissioners' view: each one's rows' sums added one after another, from 0
    paid_by = {name: -float(sum(x for (p, _, _), x in zip(rows, row_sums, strict=True) if p == name))
               for name in terms.commissioners}
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
    ffs = total["cost"] * (1 + terms.contract.fee_for_service_margin)
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
    arms). One replication: :func:`_fiscal_kpis_of` of one."""
    return _fiscal_kpis_of([diff], [n_months], rate, G, [n_treat], [n_control], registry)[0]


def _fiscal_kpis_of(diffs: Sequence[fis.Ledger], n_months: Sequence[int], rate: float, G: float,
                    n_treat: Sequence[int], n_control: Sequence[int],
                    registry: KpiRegistry) -> list[dict[Key, float]]:
    """:func:`_fiscal_kpis` of each replication's difference ledger (over its ``n_months``), the
    replications whose ledgers have the same rows and months at once.

    Every total of them at once: their ledgers' rows in one matrix, each total the sum of its
    replication's rows added in the ledger's order (``np.bincount``: one row after another, as
    :func:`_public_total` adds them; a replication's cells apart from the others'), and the NPVs
    and nets of all the totals by row, each row summed as :func:`npv` sums one."""
    parties = registry.select(measure="fiscal_npv", party_kind="public")
    wanted = tuple(kpi.party for kpi in parties)
    out: list[dict[Key, float]] = [{} for _ in diffs]
    groups: dict[tuple, list[int]] = {}
    for r, diff in enumerate(diffs):
        if n_control[r]:
            groups.setdefault((tuple(diff), n_months[r]), []).append(r)
    for (keys, n), members in groups.items():
        code, rows, cells = _fiscal_totals(keys, wanted, n)
        size = len(code) * n
        m = months_matrix([a for r in members for a in diffs[r].values()], n)
        m = m.reshape(len(members), len(keys), n)
        all_cells = (np.arange(len(members))[:, None] * size + cells[None, :]).ravel()
        sums = np.bincount(all_cells, weights=m[:, rows].ravel(), minlength=len(members) * size).reshape(
            len(members), len(code), n)
        nets = sums.sum(axis=2).tolist()
        npvs = (sums / bud.discount_factors(n, rate)).sum(axis=2).tolist()
        for j, r in enumerate(members):
            out[r] = _fiscal_values(parties, code, nets[j], npvs[j], G, n_treat[r])
    return out


def _fiscal_values(parties: Sequence, code: dict[tuple[str | None, str | None], int], nets: list[float],
                   npvs: list[float], G: float, n_treat: int) -> dict[Key, float]:
    """The fiscal KPIs of one replication from its totals' nets and NPVs (by ``code``)."""
    k = kpi_key
    out: dict[Key, float] = {}
    for kpi in parties:
        j = code[(kpi.party, None)]
        out[kpi.key] = npvs[j]
        out[k("fiscal_net", arm="difference", party=kpi.party)] = nets[j]
    for item in FISCAL_ITEMS:
        out[k(f"fiscal_{item}", arm="difference")] = nets[code[(None, item)]]
    out[k("benefits_saved_g", arm="difference")] = out[k("fiscal_benefits", arm="difference")] / G
    gain = nets[code[("participants", "earnings")]]
    out[k("earnings_gain", arm="difference")] = gain
    out[k("earnings_gain_per_person", arm="difference")] = gain / n_treat if n_treat else math.nan
    return out
