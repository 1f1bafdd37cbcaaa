"""effekt's money layer: outcome metrics, payment rules, investor finance and the public budgets.

Pure functions of ``sim``'s record tables and contract terms; no SimPy, no I/O. They can evaluate
real observed data in the same schema (``effekt.contracts.records`` builds such tables by hand).
"""

from effekt.contracts.evaluate import CASHFLOWS, FISCAL, Evaluation, by_period, evaluate, kpi_names
from effekt.contracts.finance import UndefinedIRR, irr, money_multiple, npv, peak_capital
from effekt.contracts.kpis import INDICATOR_KPIS, is_indicator_kpi
from effekt.contracts.payments import NeedsControl
from effekt.contracts.terms import Terms, load_terms, needs_control, template_names, unmatched_stages

__all__ = [
    "CASHFLOWS",
    "FISCAL",
    "INDICATOR_KPIS",
    "Evaluation",
    "NeedsControl",
    "Terms",
    "UndefinedIRR",
    "by_period",
    "evaluate",
    "irr",
    "is_indicator_kpi",
    "kpi_names",
    "load_terms",
    "money_multiple",
    "needs_control",
    "npv",
    "peak_capital",
    "template_names",
    "unmatched_stages",
]
