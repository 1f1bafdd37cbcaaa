"""Issue 14, session 17: a block's money in phases over all its replications, the same bits.

Each block route is checked against the per-replication route it replaced (kept here, or still in
the library, as the reference): the investors' IRR, NPV and peak capital; the waterfall's month
loop over the block; the provider's costs; the rate card's entry weeks and per-person caps; the
outcome totals; the fiscal KPIs; the budgets' merging plan; the KPI registry's fill; and a whole
block of more replications than :data:`WATERFALL_BLOCK` against each replication alone. Floats
are compared by their bytes (the sign of a zero and NaN too). No timing here: see
``benchmarks/bench_contracts.py --block``.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from effekt.contracts import RecordBlock, evaluate, evaluate_block
from effekt.contracts import budgets as bud
from effekt.contracts.evaluate import (
    PROVIDER_WEEK_STATES,
    WATERFALL_BLOCK,
    _fiscal_kpis,
    _fiscal_kpis_of,
    _outcome_totals,
    _provider_cost_matrix,
)
from effekt.contracts.finance import (
    irr_many,
    irr_or_nan,
    npv,
    npv_many,
    peak_capital,
    peak_capital_many,
    sums_many,
)
from effekt.contracts.kpis import KpiRegistry, kpis_for
from effekt.contracts.outcomes import Tables, _floats, _strings, among, has
from effekt.contracts.payments import People, _cumsum_by, _entry_weeks, _running_sums
from effekt.contracts.periods import month_of, spread_over_months
from effekt.contracts.terms import Tranche
from effekt.contracts.waterfall import run_waterfall, run_waterfalls
from effekt.experiments import load_scenario
from effekt.experiments.runner import valuation_of
from effekt.sim import replication_seed, simulate


def _same(a, b, what: str = "") -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, what
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        assert a.astype(float).tobytes() == b.astype(float).tobytes(), what
    else:
        assert a.tolist() == b.tolist(), what


def _cashflow_series(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Monthly investor flows of many shapes: money out then back, trailing zeros, nothing back,
    nothing out, empty, all zeros, sign changes back and forth."""
    out = []
    for _ in range(n):
        m = int(rng.integers(0, 60))
        a = np.zeros(m)
        if m:
            k = int(rng.integers(1, m + 1))
            a[:k] = -rng.random(k) * 1e5 * (rng.random(k) < 0.7)
            a[k:] = rng.random(m - k) * 2e5 * (rng.random(m - k) < 0.5)
            if rng.random() < 0.2:
                a[-int(rng.integers(1, m + 1)):] = 0.0
            if rng.random() < 0.1:
                a = -a
            if rng.random() < 0.05:
                a[rng.integers(0, m)] = rng.normal() * 1e6  # more sign changes
        out.append(a)
    return out + [np.zeros(0), np.zeros(5), np.array([-1.0, 0.0, 0.0]), np.array([1.0, 2.0]),
                  np.array([-100.0, 50.0, 60.0]), np.array([-1.0, 3.0, -2.0])]  # two roots or none


def test_irr_npv_peak_and_sums_of_many_series_are_those_of_each_alone():
    series = _cashflow_series(np.random.default_rng(3), 1500)
    _same(irr_many(series), [irr_or_nan(a) for a in series], "irr")
    assert np.isfinite(irr_many(series)).sum() > 500  # most have an IRR: the root finder ran
    for rate in (0.04, 0.0, -0.5):
        _same(npv_many(series, rate), [npv(a, rate) for a in series], f"npv {rate}")
    _same(peak_capital_many(series), [peak_capital(a) for a in series], "peak")
    _same(sums_many(series), [float(np.sum(a)) for a in series], "sums")
    assert irr_many([]).tolist() == [] and sums_many([]) == []


def _waterfall_terms(recycling: bool, tranches: bool):
    terms = load_scenario(None).terms
    update = {"funding": terms.funding.model_copy(update={"recycling": recycling}),
              "provider": terms.provider.model_copy(update={"performance_fee": 0.1}),
              "intermediary": terms.intermediary.model_copy(update={"share_of_payments": 0.05})}
    several = [Tranche(name="senior", share=0.7, seniority=1, capital_protection=0.5, coupon=0.03,
                       coupon_months=24, max_return=0.125),
               Tranche(name="junior", share=0.3, seniority=2, capital_protection=0.5, max_return=0.125)]
    one = [Tranche(name="investor", share=1.0, seniority=1, capital_protection=0.4, coupon=0.02,
                   coupon_months=12)]
    update["investors"] = terms.investors.model_copy(update={"tranches": several if tranches else one})
    return terms.model_copy(update=update)


@pytest.mark.parametrize("recycling", [False, True])
@pytest.mark.parametrize("tranches", [False, True])
def test_the_waterfall_of_a_block_is_each_replications_waterfall(recycling, tranches):
    terms = _waterfall_terms(recycling, tranches)
    rng = np.random.default_rng(5)
    dues, paids, ends = [], [], []
    for _ in range(120):  # lengths 1 .. 49, end months before, at and past the last month
        n = int(rng.integers(1, 50))
        due = rng.random(n) * 1e5 * (rng.random(n) < 0.5)
        if rng.random() < 0.1:
            due[:] = 0.0
        dues.append(due)
        paids.append(rng.random(n) * 3e5 * (rng.random(n) < 0.3))
        ends.append(int(rng.integers(0, n + 3)))
    together = run_waterfalls(terms, dues, paids, ends)
    protected = 0.0
    for wf, due, paid, end in zip(together, dues, paids, ends, strict=True):
        alone = run_waterfall(terms, due, paid, end)
        for part in ("tranche_flows", "drawn", "distributed", "coupons", "protection"):
            got, want = getattr(wf, part), getattr(alone, part)
            assert list(got) == list(want)
            for name in want:
                _same(got[name], want[name], f"{part} {name}")
        for part in ("performance_fee", "intermediary_share", "residual", "recycled"):
            _same(getattr(wf, part), getattr(alone, part), part)
        protected += float(wf.total(wf.protection).sum())
    assert protected > 0  # the final settlement was reached


def _provider_costs_before(terms, persons, spells, n_months, t):
    """The provider's monthly costs of one replication as evaluate computed them before session
    17 (one replication at a time): the reference for the block's matrix."""
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
    mine = (_strings(spells, "arm") == "treatment") & ~t.s_usual
    prog = mine & among(t.s_state, PROVIDER_WEEK_STATES)
    if p.per_week and prog.any():
        costs += p.per_week * fx * spread_over_months(t.s_start[prog], t.s_end[prog], n_months).sum(axis=0)
    if p.pathway_costs and has(spells, "cost_payer"):
        own = mine & (_strings(spells, "cost_payer") == "provider")
        if own.any():
            weeks = spread_over_months(t.s_start[own], t.s_end[own], n_months)
            costs += _floats(spells, "cost_per_week")[own] @ weeks
            cohort = _floats(spells, "cost_cohort")[own]
            cohort_weeks = _floats(spells, "cost_cohort_weeks")[own]
            spread = (cohort > 0) & (cohort_weeks > 0)
            once = _floats(spells, "cost_once")[own] + np.where(spread, 0.0, cohort)
            np.add.at(costs, np.minimum(month_of(t.s_start[own]), n_months - 1), once)
            if spread.any():
                start = t.s_start[own][spread]
                over = spread_over_months(start, start + cohort_weeks[spread], n_months)
                costs += (cohort[spread] / cohort_weeks[spread]) @ over
    return costs


def _charged_to_the_provider(spells: pa.Table, rng: np.random.Generator) -> pa.Table:
    """``spells`` with a third of them charged to the provider, some with a per-cohort cost."""
    n = spells.num_rows
    payer = np.where(rng.random(n) < 0.35, "provider", "kommune").astype(object)
    cohort = np.where(rng.random(n) < 0.3, rng.random(n) * 5e4, 0.0)
    for name, values in (("cost_payer", pa.array(payer, pa.string())),
                         ("cost_per_week", pa.array(rng.random(n) * 900.0)),
                         ("cost_cohort", pa.array(cohort)),
                         ("cost_cohort_weeks", pa.array(rng.integers(0, 30, n) * 1.0))):
        if name in spells.column_names:
            spells = spells.set_column(spells.column_names.index(name), name, values)
        else:
            spells = spells.append_column(name, values)
    return spells


@pytest.mark.parametrize("pathway_costs", [False, True])
def test_the_provider_costs_of_a_block_are_each_replications(pathway_costs):
    sc = load_scenario(None)
    terms = sc.terms
    if pathway_costs:
        provider = terms.provider.model_copy(update={"pathway_costs": True})
        terms = terms.model_copy(update={"provider": provider})
    rng = np.random.default_rng(11)
    records = []
    for r in range(9):
        t = simulate(sc.simulated_world, replication_seed(3, r))
        spells = _charged_to_the_provider(t.spells, rng) if pathway_costs else t.spells
        persons = t.persons
        if r == 4:  # nobody treated: no cost at all
            persons = persons.filter(pa.compute.equal(persons["arm"], "control"))
            spells = spells.filter(pa.compute.equal(spells["arm"], "control"))
        records.append((persons, spells, t.events))
    block = RecordBlock.of(records)
    n_months = [36, 1, 40, 36, 36, 2, 37, 36, 50]  # one month: summed pairwise, as alone
    got = _provider_cost_matrix(terms, Tables.of_block(block), block.spells, n_months)
    assert got.shape == (9, 50)
    for r, ((persons, spells, events), n) in enumerate(zip(records, n_months, strict=True)):
        want = _provider_costs_before(terms, persons, spells, n, Tables.of(persons, spells, events))
        _same(got[r, :n], want, f"replication {r}")
        assert not got[r, n:].any()
    assert got[0].sum() > 0 and not got[4].any()


def test_entry_weeks_and_running_sums_are_the_loops_they_replaced():
    rng = np.random.default_rng(2)
    people = [People(arm=np.array(["treatment", "control", "treatment", "treatment"], dtype=object),
                     person_id=np.array([1, 1, 2, 2]), cohort=np.array(["k"] * 4, dtype=object),
                     entry=np.array([3.0, 9.0, 4.0, 5.0])),  # person 2 twice: the last row counts
                People(arm=np.array(["treatment"], dtype=object), person_id=np.array([1]),
                       cohort=np.array(["k"], dtype=object), entry=np.array([7.0]))]
    rep, pid = np.array([0, 0, 0, 1, 1]), np.array([1, 2, 5, 1, 2])
    assert _entry_weeks(people, rep, pid).tolist() == [3.0, 5.0, 0.0, 7.0, 0.0]
    as_objects = [People(arm=p.arm, person_id=p.person_id.astype(object), cohort=p.cohort, entry=p.entry)
                  for p in people]
    assert _entry_weeks(as_objects, rep, pid.astype(object)).tolist() == [3.0, 5.0, 0.0, 7.0, 0.0]
    for _ in range(200):
        n = int(rng.integers(1, 300))
        rep = np.sort(rng.integers(0, 20, n))
        pid = rng.integers(0, 15, n)
        values = rng.random(n) * 10.0 ** rng.integers(0, 6, n)
        keys = list(zip(rep.tolist(), pid.tolist(), strict=True))
        _same(_running_sums(rep, pid, values), _cumsum_by(keys, values))


def _found(rng: np.random.Generator, n: int, whole: bool) -> dict[str, np.ndarray]:
    return {"arm": rng.choice(np.array(["treatment", "control", "comparison"], dtype=object), n),
            "outcome": rng.choice(np.array(["job_start", "job_sustained", "other"], dtype=object), n),
            "quantity": (rng.integers(0, 4, n) * 1.0 if whole else rng.random(n) * 30.0)}


@pytest.mark.parametrize("whole", [True, False])
def test_outcome_totals_of_a_block_are_each_replications_masked_sums(whole):
    rng = np.random.default_rng(7)
    found = [_found(rng, int(rng.integers(0, 80)), whole) for _ in range(30)]
    names = ["job_start", "job_sustained"]
    for f, got in zip(found, _outcome_totals(found, names), strict=True):
        for name in names:
            for arm in ("treatment", "control"):
                want = float(f["quantity"][(f["arm"] == arm) & (f["outcome"] == name)].sum())
                assert np.float64(got[(arm, name)]).tobytes() == np.float64(want).tobytes()


def test_the_fiscal_kpis_of_several_replications_are_each_ones_alone():
    sc = load_scenario("experiments/scenarios/koto_sib.toml")
    registry = kpis_for(sc.terms)
    rng = np.random.default_rng(8)
    parties = ("kommune", "state", "fylke", "participants", *sc.terms.commissioners)
    keys = [("difference", p, i) for p in parties for i in ("benefits", "income_tax", "earnings", "contract")]
    diffs, months = [], []
    for r in range(25):
        mine = keys if r % 3 else keys[:-3]  # two kinds of ledgers: grouped apart
        n = 36 if r % 4 else 40
        diffs.append({k: rng.normal(size=int(rng.integers(1, n + 1))) * 10.0 ** rng.integers(0, 7)
                      for k in mine})
        months.append(n)
    n_treat, n_control = [5] * 25, [3 if r != 7 else 0 for r in range(25)]
    together = _fiscal_kpis_of(diffs, months, 0.04, 1.0, n_treat, n_control, registry)
    assert together[7] == {}
    for r, got in enumerate(together):
        want = _fiscal_kpis(diffs[r], months[r], 0.04, 1.0, n_treat[r], n_control[r], registry)
        assert list(got) == list(want)
        _same(list(got.values()), list(want.values()), f"replication {r}")


def _budget_columns_before(parts, rate):
    """The budgets columns as block_budget_columns built them before session 17: each
    replication's budget ledger merged as a dict, then summed into years at once."""
    merged = [bud.budget_ledger(*part) for part in parts]
    cols = bud.by_year_block([m[0] for m in merged], rate, [m[1] for m in merged])
    names, which = cols.pop("names"), cols.pop("which")
    arm, party, item = (n[which] for n in names)
    return {"replication": cols["replication"], "arm": arm, "party": party, "public": cols["public"],
            "year": cols["year"], "item": item, "amount_nominal": cols["amount_nominal"],
            "amount_discounted": cols["amount_discounted"]}


def test_the_budgets_plan_merges_as_the_budget_ledger_does():
    rng = np.random.default_rng(4)
    parts = []
    for r in range(12):
        n = 30 if r % 2 else 26
        fiscal = {("treatment", "kommune", "benefits"): rng.normal(size=n) * 1e4,
                  ("control", "kommune", "benefits"): rng.normal(size=n) * 1e4,
                  ("treatment", "participants", "earnings"): rng.normal(size=n) * 1e5,
                  ("treatment", "kommune", "contract"): rng.normal(size=n),
                  ("difference", "kommune", "contract"): rng.normal(size=n),
                  ("difference", "state", "income_tax"): rng.normal(size=n) * 1e3}
        rows = [("investor", "funding", -rng.random(n + 4) * 1e5),
                ("kommune", "outcome_payment", -rng.random(n) * 1e4),
                ("participants", "earnings", rng.random(n + 2 * (r % 3)))]  # merged with the ledger's
        parts.append((fiscal, rows, ("kommune",)))
    got = bud.block_budget_columns(parts, 0.04)
    want = _budget_columns_before(parts, 0.04)
    assert list(got) == list(want)
    for name in want:
        _same(got[name], want[name], name)
    assert ("participants", "earnings") in set(zip(got["party"].tolist(), got["item"].tolist(), strict=True))


def test_the_registry_fills_in_its_order_nan_for_a_missing_value_and_refuses_a_stray_one():
    registry = kpis_for(load_scenario(None).terms)
    first, second = list(registry.values())[:2]
    filled = registry.fill({second.key: 2, first.key: 1.5})
    assert list(filled) == registry.names
    assert filled[first.name] == 1.5 and filled[second.name] == 2.0 and type(filled[second.name]) is float
    assert all(math.isnan(v) for name, v in filled.items() if name not in (first.name, second.name))
    with pytest.raises(ValueError, match="undeclared"):
        registry.fill({("no_such_measure", None, None, None): 1.0})
    assert KpiRegistry().fill({}) == {}


def _intermediary_fees_before(terms, provider):
    i, fx = terms.intermediary, terms.contract.nok_per_unit
    fees = np.zeros(len(provider))
    active = np.nonzero(provider > 0)[0]
    if len(active) == 0:
        return fees
    fees[active[0]] += i.fixed * fx
    fees[active[0]:active[-1] + 1] += i.per_month * fx
    return fees


def _funded_before(terms, pay, n_data, cost_of):
    """One replication's money month by month as evaluate computed it before session 17."""
    c = terms.contract
    month_paid, amount_paid = pay["month_paid"], pay["amount"]
    last_paid = int(month_paid.max()) + 1 if len(month_paid) else 0
    n_months = max(n_data, last_paid)
    cost = cost_of(n_months)
    paid = np.bincount(month_paid.astype(int), weights=amount_paid.astype(float), minlength=n_months)
    bridge = terms.funding.investor_months
    investor_months = np.arange(n_months) < bridge if bridge is not None else np.ones(n_months, bool)
    cost_vehicle = np.where(investor_months, cost, 0.0)
    fees = _intermediary_fees_before(terms, cost)
    end_month = max(c.final_month, last_paid - 1, int(np.nonzero(cost)[0].max()) if cost.any() else 0)
    return cost, paid, cost - cost_vehicle, fees, run_waterfall(terms, cost_vehicle + fees, paid, end_month)


@pytest.mark.parametrize("template", ["kongsberg_outcomes", "bridge_financing"])
def test_the_money_of_replications_of_different_lengths_is_each_ones_alone(template):
    from effekt.contracts import load_terms
    from effekt.contracts.evaluate import _funded

    terms = load_terms(template)
    terms = terms.model_copy(update={"intermediary": terms.intermediary.model_copy(
        update={"fixed": 50_000.0, "per_month": 4_000.0})})
    rng = np.random.default_rng(12)
    n_data, pays, costs = 36, [], []
    for r in range(WATERFALL_BLOCK + 7):
        k = int(rng.integers(0, 12))
        late = 10 if r % 3 == 0 else 0  # some paid past the others' months
        pays.append({"month_paid": np.sort(rng.integers(0, n_data + late, k)),
                     "amount": rng.random(k) * 1e5})
        costs.append(rng.random(n_data + 12) * 2e4 * (rng.random(n_data + 12) < 0.6) * (r != 5))

    def matrix(n_months):
        m = np.zeros((len(n_months), max(n_months)))
        for r, n in enumerate(n_months):
            m[r, :n] = costs[r][:n]
        return m

    together = _funded(terms, pays, n_data, matrix)
    assert len({len(f.cost) for f in together}) > 1
    for r, (got, pay) in enumerate(zip(together, pays, strict=True)):
        cost, paid, taken_over, fees, wf = _funded_before(terms, pay, n_data, lambda n, r=r: costs[r][:n])
        for name, a, b in (("cost", got.cost, cost), ("paid", got.paid, paid), ("fees", got.fees, fees),
                           ("taken over", got.taken_over, taken_over)):
            _same(a, b, f"{r} {name}")
        for part in ("drawn", "distributed", "coupons", "protection", "tranche_flows"):
            for name, a in getattr(wf, part).items():
                _same(getattr(got.wf, part)[name], a, f"{r} {part}")
        _same(got.wf.residual, wf.residual, f"{r} residual")


@pytest.mark.parametrize("name", ["default", "sticking_together"])
def test_a_block_of_more_than_waterfall_block_replications_is_each_replication_alone(name):
    assignments = {"default": [], "sticking_together": [f"contract.template={name}",
                                                        "world.horizon_weeks=260"]}[name]
    sc = load_scenario(None, assignments)
    if name == "sticking_together":  # several tranches, each with its own IRR
        assert len(sc.terms.investors.tranches) > 1
    val = valuation_of(sc)
    sims = [simulate(sc.simulated_world, replication_seed(9, r)) for r in range(WATERFALL_BLOCK + 2)]
    block = RecordBlock.of([(t.persons, t.spells, t.events) for t in sims])
    together = evaluate_block(sc.terms, block, sc.world.horizon_weeks, val, design=sc.evaluation)
    for ev, t in zip(together, sims, strict=True):
        one = evaluate(sc.terms, t.persons, t.spells, sc.world.horizon_weeks, val, events=t.events,
                       design=sc.evaluation)
        assert list(ev.kpis) == list(one.kpis)
        _same(list(ev.kpis.values()), list(one.kpis.values()), "kpis")
        assert [(p, i) for p, i, _ in ev.rows] == [(p, i) for p, i, _ in one.rows]
        for (_, _, a), (_, _, b) in zip(ev.rows, one.rows, strict=True):
            _same(a, b, "cashflow row")
