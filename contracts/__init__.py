"""effekt's money layer: outcome metrics, payment rules, investor finance.

Pure functions of ``sim``'s record tables and contract terms; no SimPy, no I/O. They can evaluate
real observed data in the same schema.
"""

from contracts.evaluate import CASHFLOWS, Evaluation, evaluate
from contracts.finance import UndefinedIRR, irr, money_multiple, npv, peak_capital
from contracts.terms import Terms, load_terms, template_names

__all__ = [
    "CASHFLOWS",
    "Evaluation",
    "Terms",
    "UndefinedIRR",
    "evaluate",
    "irr",
    "load_terms",
    "money_multiple",
    "npv",
    "peak_capital",
    "template_names",
]
