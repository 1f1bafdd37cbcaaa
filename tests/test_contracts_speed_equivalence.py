"""Guards for the fast evaluation path: it must give exactly what the slower, plainer ways give.

``evaluate`` reads Arrow tables column by column and keeps outcomes and payments as numpy columns;
these tests compare it, bit for bit, with the pandas route (the same tables as DataFrames), with the
public step-by-step functions (``measure_outcomes``, ``schedule_payments``, ``gains_by_component``),
and with slow references kept here: the integration grant by pandas groupby, the IRR grid one rate
at a time, the person lookup by a dict. No timing here: see ``benchmarks/bench_contracts.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from effekt.contracts import Valuation, evaluate
from effekt.contracts import fiscal as fis
from effekt.contracts.finance import _GRID, _npv_grid
from effekt.contracts.frames import frame, nonzero_months, taken
from effekt.contracts.outcomes import Tables, measure_outcomes
from effekt.contracts.payments import schedule_payments
from effekt.contracts.periods import WEEKS_PER_MONTH, months_in
from effekt.experiments.scenario import load_scenario
from effekt.sim import replication_seed, simulate

REFUGEES = "world.cohorts[0].groups={R = 0.6, A = 0.4}"  # integration grant, introduksjonsstønad
CASES = {
    "kongsberg": ("kongsberg_kull", "kongsberg_outcomes", []),
    "gloppen-refugees": ("gloppen", "gloppen_outcomes", [REFUGEES, "world.horizon_weeks=286"]),
    "koto-savings-share": ("kongsberg_kull", "koto_sib", [REFUGEES, "world.counterfactual.mode=rct"]),
    "peterborough-triggers": ("kongsberg_kull", "peterborough", ["world.horizon_weeks=208"]),
    "fjell-project-jobs": ("fjell_project_jobs", "fjell_project_jobs_outcomes", ["world.horizon_weeks=182"]),
    "tranches": ("kongsberg_kull", "sticking_together", ["world.horizon_weeks=208"]),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    pathway, template, extra = CASES[request.param]
    sc = load_scenario(None, [f"pathway.template={pathway}", f"contract.template={template}", *extra])
    return sc, [simulate(sc.world, replication_seed(5, r)) for r in range(3)]


def _run(sc, persons, spells, events):
    return evaluate(sc.terms, persons, spells, sc.world.horizon_weeks,
                    Valuation(G=sc.info.G, discount_rate=sc.info.discount_rate), events=events)


def _same_kpis(a: dict[str, float], b: dict[str, float]) -> None:
    assert list(a) == list(b)
    for k in a:
        assert a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])), k


def test_arrow_and_pandas_tables_give_identical_evaluations(case):
    sc, reps = case
    for t in reps:
        fast = _run(sc, t.persons, t.spells, t.events)
        slow = _run(sc, t.persons.to_pandas(), t.spells.to_pandas(), t.events.to_pandas())
        _same_kpis(fast.kpis, slow.kpis)
        for part in ("outcomes", "payments", "cashflows", "fiscal", "budgets"):
            pd.testing.assert_frame_equal(getattr(fast, part), getattr(slow, part), check_exact=True)


def test_evaluate_pays_what_the_public_steps_pay(case):
    sc, reps = case
    terms = sc.terms
    for t in reps:
        persons, spells, events = t.persons.to_pandas(), t.spells.to_pandas(), t.events.to_pandas()
        ev = _run(sc, t.persons, t.spells, t.events)
        outcomes = measure_outcomes(terms.outcomes, persons, spells, events)
        pd.testing.assert_frame_equal(ev.outcomes, outcomes, check_exact=True)
        n_treat, n_control = int(ev.kpis["participants"]), int(ev.kpis["controls"])
        gains = None
        if terms.savings_share is not None:
            n_data = max(months_in(sc.world.horizon_weeks), terms.contract.final_month + 1)
            levels = fis.public_ledger(persons, spells, sc.info.G, n_data)
            gains = fis.gains_by_component(fis.difference_ledger(levels, n_treat, n_control))
        pd.testing.assert_frame_equal(ev.payments, schedule_payments(terms, outcomes, persons, gains),
                                      check_exact=True)


def _integration_grant_by_groupby(persons: pd.DataFrame, spells: pd.DataFrame, n_months: int,
                                  ig: fis.IntegrationGrant) -> dict[str, np.ndarray]:
    """The grant per arm (kommune's side) as first written, with pandas groupby and reindex."""
    eligible = persons["group"].isin(ig.groups) | persons["benefit_kind"].isin(ig.benefit_kinds)
    p = persons[eligible.to_numpy()]
    key = ["arm", "person_id"]
    moved = spells[spells["state"] == "moved"].groupby(key)["start"].min()
    data_end = spells.groupby(key)["end"].max()
    idx = pd.MultiIndex.from_frame(p[key])
    stop = np.minimum(moved.reindex(idx).fillna(np.inf).to_numpy(),
                      data_end.reindex(idx).fillna(0).to_numpy())
    t = (np.arange(n_months) + 0.5) * WEEKS_PER_MONTH
    entry = p["entry_week"].to_numpy(float)
    year = ig.year_at_entry - 1 + np.floor((t[None, :] - entry[:, None]) / 52.0).astype(int)
    active = (t[None, :] >= entry[:, None]) & (t[None, :] < stop[:, None]) & (year < len(ig.per_year))
    per_year = np.asarray(ig.per_year, float)
    monthly = np.where(active, per_year[np.clip(year, 0, len(per_year) - 1)] / 12.0, 0.0)
    return {arm: monthly[(p["arm"] == arm).to_numpy()].sum(axis=0) for arm in sorted(p["arm"].unique())}


def test_integration_grant_matches_the_groupby_reference(case):
    sc, reps = case
    ig = fis.default_fiscal().integration_grant
    for t in reps:
        persons, spells = t.persons.to_pandas(), t.spells.to_pandas()
        ledger = fis.public_ledger(t.persons, t.spells, sc.info.G, 40)
        want = _integration_grant_by_groupby(persons, spells, 40, ig)
        got = {arm: a for (arm, party, item), a in ledger.items()
               if item == "integration_grant" and party == "kommune"}
        assert list(got) == list(want)
        for arm, a in want.items():
            np.testing.assert_array_equal(got[arm], a)
            np.testing.assert_array_equal(ledger[(arm, "state", "integration_grant")], -a)


def test_a_refugee_case_does_exercise_the_grant():
    sc = load_scenario(None, [REFUGEES])
    t = simulate(sc.world, replication_seed(5, 0))
    ledger = fis.public_ledger(t.persons, t.spells, sc.info.G, 40)
    assert ledger[("treatment", "kommune", "integration_grant")].sum() > 0


def test_irr_grid_equals_one_rate_at_a_time():
    rng = np.random.default_rng(7)
    for n in (1, 2, 7, 8, 9, 16, 37, 120, 300):
        for _ in range(20):
            flows = rng.normal(size=n) * 10 ** rng.uniform(0, 7)
            with np.errstate(all="ignore"):  # -99.9 % a month over 300 months overflows, both ways
                one_by_one = np.array([np.sum(flows / (1.0 + r) ** np.arange(n)) for r in _GRID])
                grid = _npv_grid(flows)
            np.testing.assert_array_equal(grid, one_by_one)


def test_person_lookup_matches_a_dict():
    rng = np.random.default_rng(3)
    for _ in range(30):
        n = int(rng.integers(0, 12))
        ids = rng.choice(np.arange(-3, 40), size=n, replace=False)
        arms = rng.choice(["treatment", "control"], size=n)
        persons = pd.DataFrame({"arm": arms, "person_id": ids, "entry_week": 0.0})
        m = int(rng.integers(0, 25))
        spells = pd.DataFrame({"arm": rng.choice(["treatment", "control", "other"], size=m),
                               "person_id": rng.integers(-5, 45, size=m),
                               "start": 0.0, "end": 1.0, "state": "employed"})
        t = Tables.of(persons, spells)
        index = {(a, int(p)): i for i, (a, p) in enumerate(zip(arms, ids, strict=True))}
        want = [index.get((a, int(p)), -1) for a, p in zip(spells["arm"], spells["person_id"], strict=True)]
        assert t.s_person.tolist() == want


@pytest.mark.parametrize("values", [
    ["a", "b", "a"], [], [None, None], ["x", None], ["x", np.nan], [1, 2], [1, "a"],
])
def test_result_tables_have_the_dtypes_pandas_would_infer(values):
    v = np.array(values, dtype=object)
    got = frame({"s": v, "n": np.arange(len(v))})
    pd.testing.assert_frame_equal(got, pd.DataFrame({"s": v, "n": np.arange(len(v))}), check_exact=True)


def test_taken_names_read_like_numpy_take():
    names, idx = ["kommune", "state", "participants"], np.array([0, 0, 2, 2, 2, 1])
    got = pd.DataFrame({"party": taken(names, idx)})
    pd.testing.assert_frame_equal(got, pd.DataFrame({"party": np.array(names)[idx]}), check_exact=True)
    assert pd.DataFrame({"party": taken(names, idx[:0])})["party"].dtype == object  # as pandas: empty


def test_nonzero_months_of_unequal_series_read_like_one_by_one():
    series = [np.array([0.0, 2.0, 0.0, -1.0]), np.zeros(2), np.array([5e-10, 3.0])]
    which, month, amount = nonzero_months(series)
    assert which.tolist() == [0, 0, 2] and month.tolist() == [1, 3, 1] and amount.tolist() == [2.0, -1.0, 3.0]
    which, month, amount = nonzero_months([np.array([1.0, 0.0]), np.array([0.0, -2.0])])
    assert which.tolist() == [0, 1] and month.tolist() == [0, 1] and amount.tolist() == [1.0, -2.0]


def test_savings_gain_matches_the_gains_table():
    rng = np.random.default_rng(11)
    diff = {("difference", party, item): rng.normal(size=30) * 1e4
            for party in ("kommune", "state", "participants")
            for item in ("income_tax", "benefits", "earnings", "wage_cost", "employer_contributions")}
    gains = fis.gains_by_component(diff)
    for window, components in ((12, ["income_tax", "benefits"]), (36, ["earnings"]), (0, ["benefits"]),
                               (24, ["income_tax", "benefits", "employer_contributions", "earnings"])):
        d = gains[(gains["month"] < window) & gains["component"].isin(components)]
        assert fis.savings_gain(diff, window, components) == float(d["amount"].sum())
