"""A rough public-budget estimate, used only when the results carry no fiscal KPIs of their own.

The contracts layer owns the full beregningsmodell (kommune and state, benefits, taxes, grants).
Until a results directory has its ``fiscal_*`` columns, the analysis commands need *some* measure
of what the public purse gains, so they estimate it here from the spells, per person and arm:

* benefits paid while out of work (``benefit_g`` x G per year), by who pays them;
* income tax and employer contributions on wages while in work.

Savings are (control per person - treatment per person) x treated people, so the estimate works
for parallel and randomised counterfactuals alike. Everything is discounted monthly at the
scenario's real rate. The rates below are the assumptions; each says where it comes from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WEEKS_PER_MONTH = 52.0 / 12.0

INCOME_TAX = 0.22          # source: DOMAIN.md §5, average income tax ~22 % at 450 000 (derived, 2024 rules)
EMPLOYER_CONTRIBUTION = 0.141  # source: Skatteetaten, arbeidsgiveravgift zone I
KOMMUNE_BENEFITS = ("sosialhjelp", "introduksjonsstonad", "kvalifiseringsstonad")
"""Paid by the kommune (source: sosialtjenesteloven, introduksjonsloven); the rest (AAP,
uføretrygd) by the state. Assumption: all tax and employer contributions count for the state."""


def _discount(start: np.ndarray, end: np.ndarray, rate: float) -> np.ndarray:
    """Weeks of [start, end) discounted to week 0 at ``rate`` a year (continuous, exact integral)."""
    k = np.log1p(rate) / 52.0
    if abs(k) < 1e-12:
        return end - start
    return (np.exp(-k * start) - np.exp(-k * end)) / k


def public_gain(persons: pd.DataFrame, spells: pd.DataFrame, G: float, rate: float) -> dict[str, float]:
    """Discounted public-budget gain from the programme (NOK), by party: ``kommune``, ``state``.

    Positive means the public party is better off with the programme than without it (before any
    outcome payments). NaN when there is no control arm to compare with.
    """
    counts = persons.groupby("arm").size()
    if counts.get("control", 0) == 0 or counts.get("treatment", 0) == 0:
        return {"kommune": float("nan"), "state": float("nan")}
    weeks = _discount(spells["start"].to_numpy(float), spells["end"].to_numpy(float), rate)
    benefit = spells["benefit_g"].to_numpy(float) * G / 52.0 * weeks
    tax = (spells["annual_wage"].to_numpy(float) * spells["fte"].to_numpy(float) / 52.0 * weeks
           * (INCOME_TAX + EMPLOYER_CONTRIBUTION))
    kommune_benefit = spells["benefit_kind"].isin(KOMMUNE_BENEFITS).to_numpy()
    df = pd.DataFrame({
        "arm": spells["arm"].to_numpy(),
        # cost to each party: benefits paid minus taxes received
        "kommune": np.where(kommune_benefit, benefit, 0.0),
        "state": np.where(kommune_benefit, 0.0, benefit) - tax,
    })
    per_person = df.groupby("arm")[["kommune", "state"]].sum().div(counts, axis=0)
    gain = (per_person.loc["control"] - per_person.loc["treatment"]) * counts["treatment"]
    return {"kommune": float(gain["kommune"]), "state": float(gain["state"])}


def fiscal_columns(runs: pd.DataFrame) -> list[str]:
    """The fiscal KPI columns a results directory carries (from the contracts layer), if any."""
    return [c for c in runs.columns if c.startswith("fiscal_")]
