"""effekt's money layer: outcome metrics, payment rules, investor finance and the public budgets.

Pure functions of ``sim``'s record tables and contract terms; no SimPy, no I/O beyond reading
contract files. They can evaluate real observed data in the same schema
(``effekt.contracts.records`` builds such tables by hand). Of ``effekt.sim`` this layer uses only
the record schemas; ``effekt.experiments`` uses this layer only through this face
(``from effekt.contracts import ...``).

Contract terms
    Terms                   a validated contract: outcomes, prices, triggers, caps, parties, finance
    load_terms              a contract template by name, or a contract file by path, validated
    terms_data              the raw table of a template or contract file, and where it came from
    template_names          the names of the built-in contract templates
    templates_dir           the folder of the built-in contract templates (to show or copy them)
    needs_control           what in a contract compares with the control arm (empty if nothing)
    unmatched_stages        the contract's stage patterns that match no stage of a pathway
    earliest_reach          the least time after entry (or the week) at which an outcome can be reached
    term_end_week           the week a contract's term ends (term_months x 52/12)
    within_term             whether outcomes reached at given weeks count (at or before the term's end)

Evaluating one replication (or a block of them)
    evaluate                outcomes, payments, cashflows, public budgets and KPIs of one replication
    evaluate_block          evaluate of each replication of a RecordBlock (what a batch's task does:
                            columns read and the public ledger summed once for the block)
    RecordBlock             the record tables of several replications one after another, with each
                            one's row bounds (RecordBlock.of, .one, .replication)
    Valuation               how flows are valued: G, discount rate, price year, benefit payers,
                            shares of displacement and substitution ...
    Evaluation              what evaluate returns: outcomes, payments, cashflows, fiscal, kpis,
                            budgets (every party's flows per year)
    kpi_names               the names of the KPIs evaluate returns for a contract, in order
    by_period               monthly cashflow or fiscal rows summed into quarters or years
    CASHFLOWS               Arrow schema of the contract cashflows (party, month, item, amount)
    FISCAL                  Arrow schema of the public budget flows (arm, party, month, item, amount)
    BUDGETS                 Arrow schema of every party's flows per year (arm, party, public, year,
                            item, amount_nominal, amount_discounted), field metadata: unit, labels
    WEEKS_PER_MONTH         weeks in a contract month (52/12): sim's weeks -> contract months
    NeedsControl            raised when a contract compares with a control arm the data lack
    clip_records            record tables that run past the contract, as they stood at its horizon
                            (evaluate(..., long_run_weeks=...) reads them so; effekt.contracts.long_run)

Evaluation designs (what the contract pays against; the true effect stays the control arm's)
    EvaluationDesign        randomised (control arm), matched (arm 'comparison', participants
                            only), historical (a baseline share per outcome) or gross (none)
    DESIGNS                 the names of the designs

Outcome measures (of record tables, simulated or observed)
    in_work_share           share of each arm in work a given number of weeks after entry
    in_work_by_month        the same for every whole month after entry (arm, month, share, n)
                            (both: ordinary_only=True leaves out the programme's own project and
                            subsidised jobs; or_education=True counts education too)
    programme_jobs          which spells are the programme's own jobs (not ordinary work), and why

KPIs
    Kpi                     one declared KPI: name, unit, kind, arm, party, labels nb/en, direction
    KpiRegistry             a contract's KPIs in order, name -> Kpi (select, at, label, fill)
    kpis_for                the KpiRegistry of a contract's terms (refuses KPI names that collide)
    common_kpis             the KPIs every contract declares (for tables without their contract)
    declared_kpi            the declaration any contract gives a column of this name (or None)
    kpis_for_columns        the declarations of a table's KPI columns, read without its contract
    INDICATOR_KPIS          the 0/1 KPIs every contract has (cap_binding, investor_loss ...)
    ITEM_NAMES              (nb, en) names of the public-budget items (benefits, income_tax ...)
    LONG_RUN_MEASURE        the measure of the budgets' long-run NPV (fiscal_npv_long_run_<party>)
    WORK_YEARS_MEASURE      the KPI of additional discounted person-years in work (contract period)
    WORK_YEARS_LONG_RUN_MEASURE  the same over the long run
    is_indicator_kpi        whether a KPI is declared 0 or 1 in every replication
    work_variant_of         the in-work measure a variant (in_ordinary_work_12m ...) narrows or widens
    in_currency             a registry with its money KPIs in another currency (EUR for Finland)
    in_currency_text        a text's NOK/kr after amounts as another currency's word (EUR, €)
    in_currency_words       the same for every text of a table of words

Countries (whose fiscal rules value the flows)
    fiscal_rules            a country's fiscal rules: 'no' (Norway, default), 'fi' (Finland 2018) or
                            a folder holding fiscal.toml; [money] says the currency and base amount
    fiscal_path             the file of a country's fiscal rules (checked: a clear error otherwise)
    FiscalParams            a country's fiscal rules, validated (income tax, payers, [money] ...)
    FISCAL_COUNTRIES        the built-in countries' codes

Investor finance
    npv                     net present value of monthly flows at an annual rate
    irr                     internal rate of return (annual) of monthly flows
    UndefinedIRR            raised when the IRR does not exist; its reason a key of IRR_UNDEFINED
    irr_reason              why the IRR of flows is undefined (None: it is defined)
    undefined_irr_reasons   the one rule for an undefined IRR from runs' totals (irr, invested, received)
    NO_SINGLE_RATE          its reason for money in and back but no single rate
    IRR_UNDEFINED           the reasons an IRR is undefined, with (nb, en) words
    money_multiple          money back per krone put in (NaN if nothing was put in)
    peak_capital            the largest cumulative net outflow: the capital at risk at worst
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

_HOMES = {
    "RecordBlock": "block",
    "BUDGETS": "budgets",
    "CASHFLOWS": "evaluate",
    "Evaluation": "evaluate",
    "FISCAL": "evaluate",
    "by_period": "evaluate",
    "evaluate_block": "evaluate",
    "kpi_names": "evaluate",
    "DESIGNS": "evaluation_design",
    "EvaluationDesign": "evaluation_design",
    "IRR_UNDEFINED": "finance",
    "NO_SINGLE_RATE": "finance",
    "UndefinedIRR": "finance",
    "irr": "finance",
    "irr_reason": "finance",
    "money_multiple": "finance",
    "npv": "finance",
    "peak_capital": "finance",
    "undefined_irr_reasons": "finance",
    "FISCAL_COUNTRIES": "fiscal",
    "FiscalParams": "fiscal",
    "fiscal_path": "fiscal",
    "fiscal_rules": "fiscal",
    "INDICATOR_KPIS": "kpis",
    "ITEM_NAMES": "kpis",
    "Kpi": "kpis",
    "KpiRegistry": "kpis",
    "LONG_RUN_MEASURE": "kpis",
    "WORK_YEARS_LONG_RUN_MEASURE": "kpis",
    "WORK_YEARS_MEASURE": "kpis",
    "common_kpis": "kpis",
    "declared_kpi": "kpis",
    "in_currency": "kpis",
    "in_currency_text": "kpis",
    "in_currency_words": "kpis",
    "is_indicator_kpi": "kpis",
    "kpis_for": "kpis",
    "kpis_for_columns": "kpis",
    "work_variant_of": "kpis",
    "clip_records": "long_run",
    "in_work_by_month": "outcomes",
    "in_work_share": "outcomes",
    "programme_jobs": "outcomes",
    "NeedsControl": "payments",
    "WEEKS_PER_MONTH": "periods",
    "term_end_week": "periods",
    "within_term": "periods",
    "Terms": "terms",
    "earliest_reach": "terms",
    "load_terms": "terms",
    "needs_control": "terms",
    "template_names": "terms",
    "templates_dir": "terms",
    "terms_data": "terms",
    "unmatched_stages": "terms",
    "Valuation": "valuation",
}
"""The module of ``effekt.contracts`` each public name lives in (``evaluate`` apart: see
:class:`_Face`). The names are imported on first use (PEP 562), so that ``effekt validate``, which
needs only the terms, the fiscal rules and the KPI declarations, does not import the Arrow schemas
of the cashflows and budgets, the investor finance or the ledger's numpy and pyarrow (issue 14)."""

_RENAMED = {"FISCAL_COUNTRIES": "COUNTRIES"}
"""Public names that their module calls otherwise."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:  # AttributeError lets ``from effekt.contracts import <submodule>`` work
        raise AttributeError(f"module 'effekt.contracts' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"effekt.contracts.{home}"), _RENAMED.get(name, name))
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Face(ModuleType):
    """The class of this module, for its one name that is also a submodule's: ``evaluate`` is the
    function :func:`effekt.contracts.evaluate.evaluate`, looked up on first use. Importing a
    submodule sets the package's attribute of its name to the submodule (the import system does
    that after loading it); the property keeps the name the function's, as the eager face did by
    binding it after its imports."""

    @property
    def evaluate(self) -> Any:
        value = self.__dict__.get("_evaluate")
        if value is None:
            from effekt.contracts.evaluate import evaluate as value

            self.__dict__["_evaluate"] = value
        return value

    @evaluate.setter
    def evaluate(self, value: Any) -> None:
        if not (isinstance(value, ModuleType) and value.__name__ == "effekt.contracts.evaluate"):
            self.__dict__["_evaluate"] = value  # e.g. a test's monkeypatch (the submodule is not the name)


sys.modules[__name__].__class__ = _Face

if TYPE_CHECKING:  # what type checkers and editors see: the names as if imported eagerly
    from collections.abc import Callable

    from effekt.contracts.block import RecordBlock
    from effekt.contracts.budgets import BUDGETS
    from effekt.contracts.evaluate import (
        CASHFLOWS,
        FISCAL,
        Evaluation,
        by_period,
        evaluate_block,
        kpi_names,
    )
    from effekt.contracts.evaluation_design import DESIGNS, EvaluationDesign
    from effekt.contracts.finance import (
        IRR_UNDEFINED,
        NO_SINGLE_RATE,
        UndefinedIRR,
        irr,
        irr_reason,
        money_multiple,
        npv,
        peak_capital,
        undefined_irr_reasons,
    )
    from effekt.contracts.fiscal import COUNTRIES as FISCAL_COUNTRIES
    from effekt.contracts.fiscal import FiscalParams, fiscal_path, fiscal_rules
    from effekt.contracts.kpis import (
        INDICATOR_KPIS,
        ITEM_NAMES,
        LONG_RUN_MEASURE,
        WORK_YEARS_LONG_RUN_MEASURE,
        WORK_YEARS_MEASURE,
        Kpi,
        KpiRegistry,
        common_kpis,
        declared_kpi,
        in_currency,
        in_currency_text,
        in_currency_words,
        is_indicator_kpi,
        kpis_for,
        kpis_for_columns,
        work_variant_of,
    )
    from effekt.contracts.long_run import clip_records
    from effekt.contracts.outcomes import in_work_by_month, in_work_share, programme_jobs
    from effekt.contracts.payments import NeedsControl
    from effekt.contracts.periods import WEEKS_PER_MONTH, term_end_week, within_term
    from effekt.contracts.terms import (
        Terms,
        earliest_reach,
        load_terms,
        needs_control,
        template_names,
        templates_dir,
        terms_data,
        unmatched_stages,
    )
    from effekt.contracts.valuation import Valuation

evaluate: Callable[..., Evaluation]
"""The face's :func:`effekt.contracts.evaluate.evaluate` (declared here, bound by :class:`_Face`)."""


__all__ = [
    "BUDGETS",
    "CASHFLOWS",
    "DESIGNS",
    "FISCAL",
    "FISCAL_COUNTRIES",
    "FiscalParams",
    "INDICATOR_KPIS",
    "ITEM_NAMES",
    "LONG_RUN_MEASURE",
    "WORK_YEARS_LONG_RUN_MEASURE",
    "WORK_YEARS_MEASURE",
    "WEEKS_PER_MONTH",
    "Evaluation",
    "EvaluationDesign",
    "Kpi",
    "KpiRegistry",
    "NeedsControl",
    "RecordBlock",
    "Terms",
    "IRR_UNDEFINED",
    "NO_SINGLE_RATE",
    "UndefinedIRR",
    "Valuation",
    "by_period",
    "clip_records",
    "common_kpis",
    "declared_kpi",
    "earliest_reach",
    "evaluate",
    "evaluate_block",
    "fiscal_path",
    "fiscal_rules",
    "in_currency",
    "in_currency_text",
    "in_currency_words",
    "in_work_by_month",
    "in_work_share",
    "irr",
    "irr_reason",
    "is_indicator_kpi",
    "kpi_names",
    "kpis_for",
    "kpis_for_columns",
    "load_terms",
    "money_multiple",
    "needs_control",
    "npv",
    "peak_capital",
    "programme_jobs",
    "template_names",
    "templates_dir",
    "term_end_week",
    "terms_data",
    "undefined_irr_reasons",
    "unmatched_stages",
    "within_term",
    "work_variant_of",
]
