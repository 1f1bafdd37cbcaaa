"""The beregningsmodell: what the programme means for each public budget, month by month.

For each arm and each public party (kommune, state; the commissioners of a contract are parties
too) this integrates over the spells:

* **benefits** paid (negative), from each spell's benefit in multiples of G, paid by the party
  ``sim/data/benefits.toml`` names;
* **income tax** on wages (positive), at the average rate for the annual wage, split between the
  kommune (its skatteøre) and the state;
* **employer contributions** (arbeidsgiveravgift) on wages, to the state;
* the **integration grant** the state pays the kommune per settled refugee (state negative,
  kommune positive) while the person has not moved away;
* **wage costs** of positions created for the programme (project positions) and **wage subsidies**
  (lønnstilskudd), from the spells' ``wage_payer``, ``subsidy_payer`` and ``subsidy_share``;
* **programme costs** the pathway charges to a public party (spells' ``cost_once``,
  ``cost_per_week``, ``cost_payer``).

NAV counts as the state. Columns a table lacks are skipped (older tables, observed data).

The contract's own flows (outcome payments, coupons, guarantees, bridge funding) are added by
:mod:`contracts.evaluate`. The **difference** arm is treatment minus control, the control scaled
to the treatment arm's size, so that it reads "what the programme changed". Participants' gross
earnings are reported as party ``participants`` (not a public budget). All amounts are NOK.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.periods import WEEKS_PER_MONTH, month_of, spread_over_months
from sim.specfile import load_spec

FISCAL_COLUMNS = ["arm", "party", "month", "item", "amount"]
PUBLIC_DEFAULT = ("kommune", "state")
NOT_PUBLIC = {"none", "employer", "private", "participants", "provider", "investor", ""}
ALIASES = {"nav": "state"}
"""NAV is the state's: its payments and receipts are the state's."""
SUBSIDY_SHARE_COLUMNS = ("subsidy_share", "wage_subsidy_share", "wage_subsidy")
SUBSIDY_PAYER_COLUMNS = ("subsidy_payer", "wage_subsidy_payer")
WAGE_PAYER_COLUMNS = ("wage_payer", "employer")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IncomeTax(_Strict):
    wage_points: list[float] = Field(min_length=2)
    average_rates: list[float]
    kommune_shares: list[float]

    @model_validator(mode="after")
    def _same_length(self) -> IncomeTax:
        n = len(self.wage_points)
        if len(self.average_rates) != n or len(self.kommune_shares) != n:
            raise ValueError("wage_points, average_rates and kommune_shares need the same length")
        if self.wage_points != sorted(self.wage_points):
            raise ValueError("wage_points must increase")
        if not all(0 <= x <= 1 for x in [*self.average_rates, *self.kommune_shares]):
            raise ValueError("rates and shares must lie in [0, 1]")
        return self

    def rate(self, income: np.ndarray) -> np.ndarray:
        return np.interp(income, self.wage_points, self.average_rates)

    def kommune_share(self, income: np.ndarray) -> np.ndarray:
        return np.interp(income, self.wage_points, self.kommune_shares)


class EmployerContributions(_Strict):
    rate: float = Field(ge=0, le=1)
    to: str = "state"


class IntegrationGrant(_Strict):
    per_year: list[float]
    year_at_entry: int = Field(default=1, ge=1)
    groups: list[str] = Field(default_factory=list)
    benefit_kinds: list[str] = Field(default_factory=list)


class Wages(_Strict):
    public_cost_contracts: list[str] = Field(default_factory=list)
    subsidised_wages_are_costs: bool = False
    default_wage_payer: str = "kommune"
    default_subsidy_payer: str = "state"


class FiscalParams(_Strict):
    """The fiscal rules (``contracts/data/fiscal.toml``)."""

    income_tax: IncomeTax
    employer_contributions: EmployerContributions
    integration_grant: IntegrationGrant
    wages: Wages = Wages()


def fiscal_path() -> Path:
    return Path(__file__).parent / "data" / "fiscal.toml"


@cache
def default_fiscal() -> FiscalParams:
    """The built-in fiscal rules, read once."""
    return load_spec(FiscalParams, fiscal_path())


def benefit_payers() -> dict[str, str]:
    """Which party pays each benefit kind (from ``sim/data/benefits.toml``)."""
    from sim.people import default_benefits

    return {k: b.payer for k, b in default_benefits().items()}


def _column(df: pd.DataFrame, names: tuple[str, ...]) -> pd.Series | None:
    for n in names:
        if n in df:
            return df[n]
    return None


Ledger = dict[tuple[str, str, str], np.ndarray]
"""Monthly amounts by (arm, party, item)."""


def _accumulate(rows: Ledger, arm: str, party: str, item: str, monthly: np.ndarray) -> None:
    key = (arm, party, item)
    if key in rows:
        rows[key] = rows[key] + monthly
    else:
        rows[key] = np.asarray(monthly, dtype=float).copy()


def ledger_frame(ledger: Ledger) -> pd.DataFrame:
    """A ledger as a long table (``FISCAL_COLUMNS``), zero months left out."""
    parts = []
    for (arm, party, item), a in ledger.items():
        nz = np.nonzero(np.abs(a) > 1e-9)[0]
        if len(nz):
            parts.append((arm, party, item, nz, a[nz]))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "amount" else object) for c in FISCAL_COLUMNS})
    n = [len(nz) for *_, nz, _ in parts]
    return pd.DataFrame({
        "arm": np.repeat([p[0] for p in parts], n), "party": np.repeat([p[1] for p in parts], n),
        "month": np.concatenate([p[3] for p in parts]), "item": np.repeat([p[2] for p in parts], n),
        "amount": np.concatenate([p[4] for p in parts]),
    })


def difference_ledger(ledger: Ledger, n_treatment: int, n_control: int) -> Ledger:
    """Treatment minus control, scaled to the treatment arm's size (arm ``difference``)."""
    if n_control == 0:
        return {}
    scale = n_treatment / n_control
    out: Ledger = {}
    for (arm, party, item), a in ledger.items():
        if arm in ("treatment", "control"):
            _accumulate(out, "difference", party, item, a if arm == "treatment" else -scale * a)
    return out


def _by_party(rows: Ledger, arm: str, item: str, parties: np.ndarray, annual: np.ndarray,
              weeks: np.ndarray, sign: float) -> None:
    """Add ``sign x annual x weeks / 52`` summed over spells, per party."""
    parties = np.array([ALIASES.get(p, p) for p in parties], dtype=object)
    for party in pd.unique(parties):
        if party in NOT_PUBLIC and item != "earnings":
            continue
        mask = parties == party
        monthly = sign * (annual[mask] @ weeks[mask]) / 52.0
        _accumulate(rows, arm, str(party), item, monthly)


def _programme_costs(rows: Ledger, arm: str, s: pd.DataFrame, weeks: np.ndarray) -> None:
    """Stage costs the pathway charges to a public party (spells' ``cost_once`` at the spell's
    start, ``cost_per_week`` while it lasts, paid by ``cost_payer``)."""
    if "cost_payer" not in s:
        return
    payer = s["cost_payer"].fillna("none").astype(str).map(lambda p: ALIASES.get(p, p)).to_numpy()
    per_week = pd.to_numeric(s.get("cost_per_week"), errors="coerce")
    once = pd.to_numeric(s.get("cost_once"), errors="coerce")
    n = weeks.shape[1]
    for party in pd.unique(payer):
        if party in NOT_PUBLIC:
            continue
        mask = payer == party
        monthly = np.zeros(n)
        if per_week is not None:
            monthly += per_week.fillna(0).to_numpy(float)[mask] @ weeks[mask]
        if once is not None:
            m = np.clip(month_of(s["start"].to_numpy(float)[mask]), 0, n - 1)
            np.add.at(monthly, m, once.fillna(0).to_numpy(float)[mask])
        _accumulate(rows, arm, str(party), "programme_costs", -monthly)


def public_flows(persons: pd.DataFrame, spells: pd.DataFrame, G: float, n_months: int,
                 params: FiscalParams | None = None,
                 payers: dict[str, str] | None = None) -> pd.DataFrame:
    """Each arm's public flows by party, month and item (levels, not differences)."""
    return ledger_frame(public_ledger(persons, spells, G, n_months, params, payers))


def public_ledger(persons: pd.DataFrame, spells: pd.DataFrame, G: float, n_months: int,
                  params: FiscalParams | None = None, payers: dict[str, str] | None = None) -> Ledger:
    """Each arm's public flows as monthly arrays by (arm, party, item)."""
    params = params or default_fiscal()
    payers = payers if payers is not None else benefit_payers()
    rows: Ledger = {}
    for arm, s in spells.groupby("arm", sort=True):
        s = s.reset_index(drop=True)
        weeks = spread_over_months(s["start"].to_numpy(), s["end"].to_numpy(), n_months)
        # benefits
        kind = s["benefit_kind"].fillna("none").astype(str) if "benefit_kind" in s else None
        if kind is not None:
            g = s["benefit_g"].fillna(0.0).to_numpy(dtype=float)
            _by_party(rows, arm, "benefits", kind.map(payers).fillna("none").to_numpy(),
                      g * G, weeks, -1.0)
        # wages: earnings, tax, employer contributions
        employed = (s["state"] == "employed").to_numpy()
        income = np.where(employed, s["annual_wage"].fillna(0).to_numpy(float)
                          * s["fte"].fillna(0).to_numpy(float), 0.0)
        tax = params.income_tax.rate(income) * income
        k_share = params.income_tax.kommune_share(income)
        ones = np.full(len(s), "participants", dtype=object)
        _by_party(rows, arm, "earnings", ones, income, weeks, 1.0)
        _by_party(rows, arm, "income_tax", np.full(len(s), "kommune", dtype=object),
                  tax * k_share, weeks, 1.0)
        _by_party(rows, arm, "income_tax", np.full(len(s), "state", dtype=object),
                  tax * (1 - k_share), weeks, 1.0)
        aga = params.employer_contributions.rate
        _by_party(rows, arm, "employer_contributions",
                  np.full(len(s), params.employer_contributions.to, dtype=object),
                  income * aga, weeks, 1.0)
        # wage costs of programme positions and wage subsidies
        w = params.wages
        payer_col = _column(s, WAGE_PAYER_COLUMNS)
        wage_payer = (payer_col.fillna(w.default_wage_payer).astype(str).to_numpy() if payer_col is not None
                      else np.full(len(s), w.default_wage_payer, dtype=object))
        contract = s["contract"].fillna("").astype(str).to_numpy() if "contract" in s else np.full(len(s), "")
        share_col = _column(s, SUBSIDY_SHARE_COLUMNS)
        share = (pd.to_numeric(share_col, errors="coerce").fillna(0.0).to_numpy(float)
                 if share_col is not None else np.zeros(len(s)))
        public_wage = employed & (np.isin(contract, w.public_cost_contracts)
                                  | (w.subsidised_wages_are_costs & (share > 0)))
        labour_cost = income * (1 + aga)
        _by_party(rows, arm, "wage_cost", wage_payer, np.where(public_wage, labour_cost, 0.0), weeks, -1.0)
        if share_col is not None:
            sub_col = _column(s, SUBSIDY_PAYER_COLUMNS)
            sub_payer = (sub_col.fillna(w.default_subsidy_payer).astype(str).to_numpy() if sub_col is not None
                         else np.full(len(s), w.default_subsidy_payer, dtype=object))
            subsidy = np.where(employed, share * labour_cost, 0.0)
            _by_party(rows, arm, "wage_subsidy", sub_payer, subsidy, weeks, -1.0)
            _by_party(rows, arm, "wage_subsidy", wage_payer, subsidy, weeks, 1.0)
        _programme_costs(rows, arm, s, weeks)
    _integration_grant(rows, persons, spells, n_months, params.integration_grant)
    return rows


def _integration_grant(rows: Ledger, persons: pd.DataFrame, spells: pd.DataFrame, n_months: int,
                       ig: IntegrationGrant) -> None:
    if not ig.per_year:
        return
    eligible = persons["group"].isin(ig.groups)
    if "benefit_kind" in persons:
        eligible |= persons["benefit_kind"].isin(ig.benefit_kinds)
    p = persons[eligible]
    if p.empty:
        return
    key = ["arm", "person_id"]
    moved = spells[spells["state"] == "moved"].groupby(key)["start"].min()
    data_end = spells.groupby(key)["end"].max()
    t = (np.arange(n_months) + 0.5) * WEEKS_PER_MONTH
    idx = pd.MultiIndex.from_frame(p[key])
    stop = np.minimum(moved.reindex(idx).fillna(np.inf).to_numpy(),
                      data_end.reindex(idx).fillna(0).to_numpy())
    entry = p["entry_week"].to_numpy(float)
    year = ig.year_at_entry - 1 + np.floor((t[None, :] - entry[:, None]) / 52.0).astype(int)
    active = (t[None, :] >= entry[:, None]) & (t[None, :] < stop[:, None]) & (year < len(ig.per_year))
    per_year = np.asarray(ig.per_year, float)
    monthly = np.where(active, per_year[np.clip(year, 0, len(per_year) - 1)] / 12.0, 0.0)
    for arm in sorted(p["arm"].unique()):
        total = monthly[(p["arm"] == arm).to_numpy()].sum(axis=0)
        _accumulate(rows, arm, "kommune", "integration_grant", total)
        _accumulate(rows, arm, "state", "integration_grant", -total)


def difference(levels: pd.DataFrame, n_treatment: int, n_control: int) -> pd.DataFrame:
    """Treatment minus control (scaled to the treatment arm's size): arm ``difference``."""
    if n_control == 0 or levels.empty:
        return levels.iloc[0:0]
    scale = n_treatment / n_control
    t = levels[levels["arm"] == "treatment"]
    c = levels[levels["arm"] == "control"].assign(amount=lambda d: -scale * d["amount"])
    both = pd.concat([t, c], ignore_index=True).assign(arm="difference")
    return both.groupby(["arm", "party", "month", "item"], as_index=False)["amount"].sum()[FISCAL_COLUMNS]


COMPONENTS = ("income_tax", "employer_contributions", "benefits", "earnings")


def gains_by_component(diff: pd.DataFrame | Ledger) -> pd.DataFrame:
    """The public gain against control per month and component (income_tax, employer_contributions,
    benefits saved, earnings): what a savings-share contract (Koto-SIB) pays a share of."""
    if isinstance(diff, dict):
        sums: dict[str, np.ndarray] = {}
        for (_, _, item), a in diff.items():
            if item in COMPONENTS:
                sums[item] = sums.get(item, 0) + a
        if not sums:
            return pd.DataFrame({"month": pd.Series(dtype=int), "component": pd.Series(dtype=object),
                                 "amount": pd.Series(dtype=float)})
        return pd.concat([pd.DataFrame({"month": np.arange(len(a)), "component": c, "amount": a})
                          for c, a in sums.items()], ignore_index=True)
    d = diff[diff["item"].isin(list(COMPONENTS))]
    return (d.groupby(["month", "item"], as_index=False)["amount"].sum()
            .rename(columns={"item": "component"}))


def series(table: pd.DataFrame, n_months: int, **where: object) -> np.ndarray:
    """The monthly amounts of the rows of ``table`` matching ``where`` (column=value)."""
    t = table
    for col, val in where.items():
        t = t[t[col].isin(val)] if isinstance(val, list | tuple | set) else t[t[col] == val]
    out = np.zeros(n_months)
    if len(t):
        np.add.at(out, np.clip(t["month"].to_numpy(int), 0, n_months - 1), t["amount"].to_numpy(float))
    return out
