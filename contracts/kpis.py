"""The names of the KPIs :func:`effekt.contracts.evaluate.evaluate` returns, and which of them are indicators.

An **indicator** KPI is 0 or 1 in every replication (did the investors lose money, did a cap bind):
its mean over replications is a probability, and summaries give it a binomial interval. Every other
KPI is a count or an amount, even when it happens to be 0 or 1 in a small batch (participants in a
cohort of one), so indicators are named here, next to where the KPIs are defined, not guessed from
the values.
"""

from __future__ import annotations

INDICATOR_KPIS: frozenset[str] = frozenset({
    "cap_binding",  # some payment was reduced by the per-person or contract cap
    "investor_loss",  # the investors (all tranches) got back less than they put in
    "investor_commitment_exceeded",  # peak capital went above the investors' commitment
    "control_missing",  # a comparison with the control arm found no controls (counted as not met)
})
"""The indicator KPIs with fixed names; per-tranche losses (``investor_<tranche>_loss``) are
indicators too (see :func:`is_indicator_kpi`)."""


def is_indicator_kpi(name: str) -> bool:
    """Whether KPI ``name`` is 0/1 in every replication: one of ``INDICATOR_KPIS`` or a tranche's
    ``investor_<tranche>_loss``."""
    return name in INDICATOR_KPIS or (name.startswith("investor_") and name.endswith("_loss"))
