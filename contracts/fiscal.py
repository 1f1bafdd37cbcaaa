"""The beregningsmodell: what the programme means for each public budget, month by month.

For each arm and each public party (kommune, state; the commissioners of a contract are parties
too) this integrates over the spells:

* **benefits** paid (negative), from each spell's benefit in multiples of G, paid by the party the
  fiscal rules name for that kind of benefit (``[benefit_payers]`` in ``contracts/data/fiscal.toml``:
  who pays a benefit is a rule of public finance, owned here; a valuation can override it);
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
:mod:`effekt.contracts.evaluate`. The **difference** arm is treatment minus control, the control scaled
to the treatment arm's size, so that it reads "what the programme changed"; when a valuation
states shares of displacement and substitution, :mod:`effekt.contracts.displacement` offsets its
items of employment (income tax, employer contributions, benefits, earnings). Participants' gross
earnings are reported as party ``participants`` (not a public budget). All amounts are NOK.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from effekt.contracts.frames import nonzero_months, taken
from effekt.contracts.outcomes import Frame, Tables, _floats, _strings, has
from effekt.contracts.periods import WEEKS_PER_MONTH, month_of, spread_over_months
from effekt.specfile import Strict, load_spec

FISCAL_COLUMNS = ["arm", "party", "month", "item", "amount"]
PUBLIC_DEFAULT = ("kommune", "state")
NOT_PUBLIC = {"none", "employer", "private", "participants", "provider", "investor", ""}
ALIASES = {"nav": "state"}
"""NAV is the state's: its payments and receipts are the state's."""
SUBSIDY_SHARE_COLUMNS = ("subsidy_share", "wage_subsidy_share", "wage_subsidy")
SUBSIDY_PAYER_COLUMNS = ("subsidy_payer", "wage_subsidy_payer")
WAGE_PAYER_COLUMNS = ("wage_payer", "employer")
FISCAL_ITEMS = ("benefits", "income_tax", "employer_contributions", "integration_grant",
                "wage_cost", "wage_subsidy", "programme_costs", "contract")
"""The items of the public budgets, each with a KPI ``fiscal_<item>`` (net over all public parties)."""

class IncomeTax(Strict):
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


class EmployerContributions(Strict):
    rate: float = Field(ge=0, le=1)
    to: str = "state"


class IntegrationGrant(Strict):
    per_year: list[float]
    year_at_entry: int = Field(default=1, ge=1)
    groups: list[str] = Field(default_factory=list)
    benefit_kinds: list[str] = Field(default_factory=list)


class Wages(Strict):
    public_cost_contracts: list[str] = Field(default_factory=list)
    subsidised_wages_are_costs: bool = False
    default_wage_payer: str = "kommune"
    default_subsidy_payer: str = "state"


BenefitPayer = Literal["state", "kommune", "none"]
"""Who pays a benefit: the state (NAV's folketrygd benefits), the kommune, or nobody."""


class FiscalParams(Strict):
    """The fiscal rules (``contracts/data/fiscal.toml``). ``benefit_payers``: which public party
    pays each kind of benefit (a spell's ``benefit_kind``); a kind it does not name is paid by
    nobody. Rules built by hand may leave it out: :class:`effekt.contracts.valuation.Valuation`
    brings its own table (the built-in one unless told otherwise)."""

    income_tax: IncomeTax
    employer_contributions: EmployerContributions
    integration_grant: IntegrationGrant
    wages: Wages = Wages()
    benefit_payers: dict[str, BenefitPayer] = Field(default_factory=dict)


def fiscal_path() -> Path:
    return Path(__file__).resolve().parent / "data" / "fiscal.toml"


@cache
def default_fiscal() -> FiscalParams:
    """The built-in fiscal rules, read once."""
    return load_spec(FiscalParams, fiscal_path())


def benefit_payers() -> dict[str, str]:
    """Which party pays each benefit kind, by the built-in fiscal rules (``[benefit_payers]`` in
    ``contracts/data/fiscal.toml``); a fresh dict each call."""
    return dict(default_fiscal().benefit_payers)


Ledger = dict[tuple[str, str, str], np.ndarray]
"""Monthly amounts by (arm, party, item)."""


def _accumulate(rows: Ledger, arm: str, party: str, item: str, monthly: np.ndarray) -> None:
    key = (arm, party, item)
    if key in rows:
        rows[key] = rows[key] + monthly
    else:
        rows[key] = np.asarray(monthly, dtype=float).copy()


def ledger_frame(ledger: Ledger, month_dtype: type = np.int64) -> pd.DataFrame:
    """A ledger as a long table (``FISCAL_COLUMNS``), zero months left out."""
    keys = list(ledger)
    which, month, amount = nonzero_months(list(ledger.values()))
    if len(which) == 0:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "amount" else object) for c in FISCAL_COLUMNS})
    return pd.DataFrame({
        "arm": taken([k[0] for k in keys], which), "party": taken([k[1] for k in keys], which),
        "month": month.astype(month_dtype, copy=False), "item": taken([k[2] for k in keys], which),
        "amount": amount,
    }, copy=False)


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


def _by_party(rows: Ledger, arm: str, item: str, parties: np.ndarray | str, annual: np.ndarray,
              weeks: np.ndarray, sign: float) -> None:
    """Add ``sign x annual x weeks / 52`` summed over spells, per party (aliases already applied)."""
    if isinstance(parties, str):
        if parties not in NOT_PUBLIC or item == "earnings":
            _accumulate(rows, arm, parties, item, sign * (annual @ weeks) / 52.0)
        return
    for party in dict.fromkeys(parties.tolist()):
        if party in NOT_PUBLIC and item != "earnings":
            continue
        mask = parties == party
        a, w = (annual, weeks) if mask.all() else (annual[mask], weeks[mask])
        _accumulate(rows, arm, str(party), item, sign * (a @ w) / 52.0)


def _parties(values: np.ndarray) -> np.ndarray:
    """Party names with aliases applied (NAV is the state); missing values are 'none'."""
    if len(values) > 256:  # hash once per distinct name
        codes, names = pd.factorize(values, use_na_sentinel=False)
        names = np.array([ALIASES.get(v, v) if isinstance(v, str) else "none" for v in names], dtype=object)
        return names[codes]
    return np.array([ALIASES.get(v, v) if isinstance(v, str) else "none" for v in values.tolist()],
                    dtype=object)


def _programme_costs(rows: Ledger, arm: str, payer: np.ndarray, per_week: np.ndarray, once: np.ndarray,
                     start: np.ndarray, weeks: np.ndarray) -> None:
    """Stage costs the pathway charges to a public party (spells' ``cost_once`` at the spell's
    start, ``cost_per_week`` while it lasts, paid by ``cost_payer``)."""
    n = weeks.shape[1]
    for party in dict.fromkeys(payer.tolist()):
        if party in NOT_PUBLIC:
            continue
        mask = payer == party
        monthly = per_week @ weeks if mask.all() else per_week[mask] @ weeks[mask]
        np.add.at(monthly, np.clip(month_of(start[mask]), 0, n - 1), once[mask])
        _accumulate(rows, arm, str(party), "programme_costs", -monthly)


def _rows_of(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``a[mask]``, as a view when the rows picked are one unbroken run (arms come in blocks)."""
    idx = np.flatnonzero(mask)
    if len(idx) and idx[-1] - idx[0] + 1 == len(idx):
        return a[idx[0]:idx[-1] + 1]
    return a[mask]


def public_flows(persons: pd.DataFrame, spells: pd.DataFrame, G: float, n_months: int,
                 params: FiscalParams | None = None,
                 payers: dict[str, str] | None = None) -> pd.DataFrame:
    """Each arm's public flows by party, month and item (levels, not differences)."""
    return ledger_frame(public_ledger(persons, spells, G, n_months, params, payers))


def public_ledger(persons: Frame, spells: Frame, G: float, n_months: int,
                  params: FiscalParams | None = None, payers: dict[str, str] | None = None,
                  tables: Tables | None = None) -> Ledger:
    """Each arm's public flows as monthly arrays by (arm, party, item); ``tables`` are
    ``Tables.of(persons, spells)`` when the caller has them already."""

    params = params or default_fiscal()
    payers = payers if payers is not None else (params.benefit_payers or benefit_payers())
    w = params.wages
    n = len(spells)
    arms = _strings(spells, "arm", "")
    start, end = _floats(spells, "start"), _floats(spells, "end")
    weeks_all = spread_over_months(start, end, n_months)
    employed = _strings(spells, "state", "") == "employed"
    income = np.where(employed, _floats(spells, "annual_wage") * _floats(spells, "fte"), 0.0)
    tax = params.income_tax.rate(income) * income
    k_share = params.income_tax.kommune_share(income)
    aga = params.employer_contributions.rate
    labour_cost = income * (1 + aga)
    has_benefit = has(spells, "benefit_kind")
    if has_benefit:
        kinds = _strings(spells, "benefit_kind", "none")
        benefit_payer = _parties(np.array([payers.get(k, "none") for k in kinds], dtype=object))
        benefit = _floats(spells, "benefit_g") * G
    payer_col = next((c for c in WAGE_PAYER_COLUMNS if has(spells, c)), None)
    wage_payer = _parties(_strings(spells, payer_col, w.default_wage_payer) if payer_col
                          else np.full(n, w.default_wage_payer, dtype=object))
    share_col = next((c for c in SUBSIDY_SHARE_COLUMNS if has(spells, c)), None)
    share = _floats(spells, share_col) if share_col else np.zeros(n)
    sub_col = next((c for c in SUBSIDY_PAYER_COLUMNS if has(spells, c)), None)
    sub_payer = _parties(_strings(spells, sub_col, w.default_subsidy_payer) if sub_col
                         else np.full(n, w.default_subsidy_payer, dtype=object))
    contract = _strings(spells, "contract", "")
    public_wage = employed & (np.isin(contract, np.array(w.public_cost_contracts, dtype=object))
                              | (w.subsidised_wages_are_costs & (share > 0)))
    wage_cost = np.where(public_wage, labour_cost, 0.0)
    subsidy = np.where(employed, share * labour_cost, 0.0)
    has_costs = has(spells, "cost_payer")
    if has_costs:
        cost_payer = _parties(_strings(spells, "cost_payer", "none"))
        per_week, once = _floats(spells, "cost_per_week"), _floats(spells, "cost_once")
    rows: Ledger = {}
    for arm in sorted(set(arms.tolist())):
        m = arms == arm
        weeks = _rows_of(weeks_all, m)
        if has_benefit:
            _by_party(rows, arm, "benefits", benefit_payer[m], benefit[m], weeks, -1.0)
        _by_party(rows, arm, "earnings", "participants", income[m], weeks, 1.0)
        _by_party(rows, arm, "income_tax", "kommune", tax[m] * k_share[m], weeks, 1.0)
        _by_party(rows, arm, "income_tax", "state", tax[m] * (1 - k_share[m]), weeks, 1.0)
        _by_party(rows, arm, "employer_contributions", ALIASES.get(params.employer_contributions.to,
                  params.employer_contributions.to), income[m] * aga, weeks, 1.0)
        if wage_cost[m].any():
            _by_party(rows, arm, "wage_cost", wage_payer[m], wage_cost[m], weeks, -1.0)
        if subsidy[m].any():
            _by_party(rows, arm, "wage_subsidy", sub_payer[m], subsidy[m], weeks, -1.0)
            _by_party(rows, arm, "wage_subsidy", wage_payer[m], subsidy[m], weeks, 1.0)
        if has_costs:
            _programme_costs(rows, arm, cost_payer[m], per_week[m], once[m], start[m], weeks)
    if params.integration_grant.per_year:
        t = tables if tables is not None else Tables.of(persons, spells)
        _integration_grant(rows, t, n_months, params.integration_grant)
    return rows


def _integration_grant(rows: Ledger, t: Tables, n_months: int, ig: IntegrationGrant) -> None:
    """The state's integration grant to the kommune for each eligible person, monthly, from entry
    until the person moves away or the data end, for ``len(ig.per_year)`` years."""
    if not ig.per_year:
        return
    eligible = np.isin(t.group, np.array(ig.groups, dtype=object))
    eligible |= np.isin(t.benefit_kind, np.array(ig.benefit_kinds, dtype=object))
    if not eligible.any():
        return
    n = len(t.entry)
    known = t.s_person >= 0
    moved_at = np.full(n, np.inf)
    is_moved = known & (t.s_state == "moved")
    np.minimum.at(moved_at, t.s_person[is_moved], t.s_start[is_moved])
    data_end = np.full(n, -np.inf)
    np.maximum.at(data_end, t.s_person[known], t.s_end[known])
    data_end[np.isneginf(data_end)] = 0.0
    stop = np.minimum(moved_at, data_end)[eligible]
    entry = t.entry[eligible]
    arm = t.arm[eligible]
    tm = (np.arange(n_months) + 0.5) * WEEKS_PER_MONTH
    year = ig.year_at_entry - 1 + np.floor((tm[None, :] - entry[:, None]) / 52.0).astype(int)
    active = (tm[None, :] >= entry[:, None]) & (tm[None, :] < stop[:, None]) & (year < len(ig.per_year))
    per_year = np.asarray(ig.per_year, float)
    monthly = np.where(active, per_year[np.clip(year, 0, len(per_year) - 1)] / 12.0, 0.0)
    for a in sorted(set(arm.tolist())):
        total = monthly[arm == a].sum(axis=0)
        _accumulate(rows, a, "kommune", "integration_grant", total)
        _accumulate(rows, a, "state", "integration_grant", -total)


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


def savings_gain(gains: Ledger | pd.DataFrame, window_months: int,
                 components: list[str] | tuple[str, ...]) -> float:
    """The public gain against control in ``components`` over the first ``window_months`` months:
    what a savings share (Koto-SIB) is paid a share of. ``gains`` is a difference ledger
    (:func:`difference_ledger`) or its table by component (:func:`gains_by_component`); from a
    ledger the sum is taken without building the table."""
    if isinstance(gains, pd.DataFrame):
        window = gains[(gains["month"] < window_months) & gains["component"].isin(list(components))]
        return float(window["amount"].sum())
    sums: dict[str, np.ndarray] = {}
    for (_, _, item), a in gains.items():
        if item in COMPONENTS:
            sums[item] = sums.get(item, 0) + a
    parts = [a[:max(window_months, 0)] for c, a in sums.items() if c in components]
    return float(np.concatenate(parts).sum()) if parts else 0.0


def series(table: pd.DataFrame, n_months: int, **where: object) -> np.ndarray:
    """The monthly amounts of the rows of ``table`` matching ``where`` (column=value)."""
    t = table
    for col, val in where.items():
        t = t[t[col].isin(val)] if isinstance(val, list | tuple | set) else t[t[col] == val]
    out = np.zeros(n_months)
    if len(t):
        np.add.at(out, np.clip(t["month"].to_numpy(int), 0, n_months - 1), t["amount"].to_numpy(float))
    return out
