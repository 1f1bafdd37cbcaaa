"""What contracts make of spells in a business-as-usual pathway (``spells.business_as_usual``).

A person who leaves the pathway and rejoins the introduction programme is in a stage of kind
"programme" again, with a stage name, but it is not the provider's programme: the provider's
per-week delivery cost does not run in it, and a subsidised job in it is not the programme's own
job. Hand-built tables, hand-computed expectations.
"""

from __future__ import annotations

import math

import numpy as np

from effekt.contracts import load_terms, programme_jobs
from effekt.contracts.evaluate import provider_costs
from effekt.contracts.records import person, persons_table, spell, spells_table


def test_the_provider_is_not_paid_for_weeks_in_business_as_usual():
    terms = load_terms("kongsberg_outcomes")
    per_week = terms.provider.per_week * terms.contract.nok_per_unit
    persons = persons_table([person(0)])
    spells = spells_table([
        spell(0, "programme", 0, 10, stage="course", business_as_usual=False),
        spell(0, "programme", 10, 30, stage="intro", business_as_usual=True),
        spell(0, "not_employed", 30, 156, business_as_usual=False),
    ])
    costs = provider_costs(terms, persons, spells, 36)
    once = terms.provider.per_cohort + terms.provider.per_participant
    assert np.isclose(costs.sum(), once * terms.contract.nok_per_unit + 10 * per_week)


def test_a_subsidised_job_in_business_as_usual_is_not_the_programmes_own():
    state = np.array(["employed", "employed", "employed"], dtype=object)
    stage = np.array(["wage_subsidy", "wage_subsidy", None], dtype=object)
    contract = np.array(["temporary", "temporary", "permanent"], dtype=object)
    subsidy = np.array([0.4, 0.4, 0.0])
    usual = np.array([False, True, False])
    assert programme_jobs(state, stage, contract, subsidy, usual).tolist() == [True, False, False]
    assert programme_jobs(state, stage, contract, subsidy).tolist() == [True, True, False]


def _provider_only(per_week: float = 0.0, per_participant: float = 0.0, per_cohort: float = 0.0):
    """kongsberg_outcomes with the provider's costs set (contract currency = NOK) and the
    pathway's stage costs charged to the provider counted (``pathway_costs``)."""
    terms = load_terms("kongsberg_outcomes")
    provider = terms.provider.model_copy(update={"pathway_costs": True, "per_week": per_week,
                                                 "per_participant": per_participant,
                                                 "per_cohort": per_cohort})
    return terms.model_copy(update={"provider": provider})


def test_stage_costs_of_business_as_usual_never_reach_the_provider():
    # a hand-built table (no loader between it and the contract) charging the provider for a
    # business-as-usual stage: only the pathway's own stage costs are the provider's
    terms = _provider_only()
    persons = persons_table([person(0), person(0, "control")])
    spells = spells_table([
        spell(0, "programme", 0, 10, stage="course", business_as_usual=False, cost_payer="provider",
              cost_per_week=2_000.0, cost_once=3_000.0),
        spell(0, "programme", 10, 30, stage="intro", business_as_usual=True, cost_payer="provider",
              cost_per_week=1_000.0, cost_once=5_000.0),
        spell(0, "programme", 0, 20, "control", stage="intro", business_as_usual=True,
              cost_payer="provider", cost_per_week=1_000.0, cost_once=5_000.0),
    ])
    costs = provider_costs(terms, persons, spells, 12)
    assert np.isclose(costs.sum(), 10 * 2_000.0 + 3_000.0)


def test_the_per_week_cost_runs_in_the_pathways_own_education_stages_not_in_business_as_usual():
    terms = _provider_only(per_week=100.0)
    persons = persons_table([person(0)])
    spells = spells_table([
        spell(0, "programme", 0, 10, stage="course", business_as_usual=False),
        spell(0, "education", 10, 30, stage="vgs", business_as_usual=False),  # the pathway's own
        spell(0, "education", 30, 70, stage="fagbrev", business_as_usual=True),  # business as usual
        spell(0, "not_employed", 70, 156, business_as_usual=False),
    ])
    assert np.isclose(provider_costs(terms, persons, spells, 36).sum(), (10 + 20) * 100.0)


BAU_WITH_COSTS = """
[pathway]
name = "bau_with_costs"
title = "A business-as-usual programme the kommune pays for"
source = "test"
entry = "intro"

[stages.intro]
kind = "language"
duration = { dist = "uniform", low = 20, high = 80 }
exits = [{ to = "job", p = 0.3 }]
next = "left"
costs = { per_week = 1000, per_person = 5000, payer = "kommune" }

[stages.job]
kind = "employment"
employment = { contract = "permanent", fte = 1.0, annual_wage = 400000 }

[stages.left]
kind = "exit"
outcome = "not_employed"
"""


def test_a_programme_that_admits_nobody_costs_the_provider_only_its_fixed_costs(tmp_path):
    # both arms walk a business-as-usual programme with stage costs (the kommune's); the pathway
    # rejects everyone on the spot. The provider pays its per-cohort and per-participant costs and
    # nothing for the weeks people spend in business as usual, per week or per stage.
    from effekt.contracts import Valuation, evaluate
    from effekt.sim import Cohort, Pathway, World, default_target_groups, replication_seed, simulate

    bau = tmp_path / "bau.toml"
    bau.write_text(BAU_WITH_COSTS, encoding="utf-8")
    reject = Pathway.model_validate({
        "pathway": {"name": "reject_all", "title": "reject_all", "source": "test", "entry": "interview"},
        "stages": {"interview": {"kind": "screening", "duration": {"dist": "fixed", "value": 0},
                                 "exits": [{"to": "out", "p": 1.0}]},
                   "out": {"kind": "exit", "outcome": "not_employed"}}})
    groups = dict(default_target_groups())
    groups["C"] = groups["C"].model_copy(update={"bau_pathway": str(bau)})
    world = World(pathway=reject, horizon_weeks=156, groups=groups,
                  cohorts=[Cohort(name="k", start_week=0, size=200, groups={"C": 1.0})])
    t = simulate(world, replication_seed(7, 0))
    terms = _provider_only(per_week=800.0, per_participant=20_000.0, per_cohort=100_000.0)
    s = t.spells.to_pandas()
    in_bau = s[s["business_as_usual"]]
    for arm in ("treatment", "control"):  # the stage costs do run in business as usual, the kommune's
        mine = in_bau[(in_bau["arm"] == arm) & (in_bau["state"] == "programme")]
        assert len(mine) > 100 and set(mine["cost_payer"]) == {"kommune"}
    n = int((t.persons.column("arm").to_numpy(zero_copy_only=False) == "treatment").sum())
    fixed = 100_000.0 + 20_000.0 * n
    assert np.isclose(provider_costs(terms, t.persons, t.spells, 40).sum(), fixed)
    ev = evaluate(terms, t.persons, t.spells, 156, Valuation(), events=t.events)
    assert np.isclose(ev.kpis["provider_costs"], fixed)
    f = ev.fiscal
    kommune_costs = f[(f["party"] == "kommune") & (f["item"] == "programme_costs")]
    for arm in ("treatment", "control"):  # the kommune pays for business as usual in both arms
        assert kommune_costs[kommune_costs["arm"] == arm]["amount"].sum() < -n * 5_000.0


def test_a_per_cohort_cost_reaches_the_payers_budget_in_its_month():
    # Fjell's staff: 2.8 M NOK per kull, paid by the state (sim/pathways/fjell_project_jobs.toml);
    # charged on the spell of the kull's first entrant at week 30 (month 6)
    from effekt.contracts import evaluate

    persons = persons_table([person(0, entry_week=30.0), person(1, entry_week=30.0)])
    spells = spells_table([
        spell(0, "programme", 30, 40, stage="cv_matching", cost_payer="state", cost_cohort=2_800_000.0),
        spell(1, "programme", 30, 40, stage="cv_matching", cost_payer="state", cost_cohort=0.0),
        spell(0, "not_employed", 40, 156), spell(1, "not_employed", 40, 156),
    ])
    ev = evaluate(load_terms("kongsberg_outcomes"), persons, spells, 156)
    f = ev.fiscal
    cost = f[(f.arm == "treatment") & (f["item"] == "programme_costs")]
    assert cost.amount.sum() == -2_800_000
    assert set(cost.party) == {"state"} and set(cost.month) == {int(30 // (52 / 12))}


def test_a_per_cohort_cost_spread_over_its_weeks_falls_month_by_month():
    # Fjell's 2.8 M for two staff over two years: spread over 104 weeks from the first entry
    from effekt.contracts import evaluate
    from effekt.contracts.periods import WEEKS_PER_MONTH

    persons = persons_table([person(0)])
    spells = spells_table([
        spell(0, "programme", 0, 10, stage="cv_matching", cost_payer="state", cost_cohort=2_800_000.0,
              cost_cohort_weeks=104.0),
        spell(0, "not_employed", 10, 156),
    ])
    ev = evaluate(load_terms("kongsberg_outcomes"), persons, spells, 156)
    f = ev.fiscal
    cost = f[(f.arm == "treatment") & (f["item"] == "programme_costs")].set_index("month").amount
    per_week = 2_800_000 / 104
    assert np.isclose(cost.sum(), -2_800_000)
    assert np.isclose(cost.loc[0], -per_week * WEEKS_PER_MONTH)
    last = math.ceil(104 / WEEKS_PER_MONTH - 1e-9) - 1
    assert np.isclose(cost.loc[last], -per_week * (104 - last * WEEKS_PER_MONTH))
    assert cost.index.max() == last
