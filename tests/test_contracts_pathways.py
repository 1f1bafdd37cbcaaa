"""Each Norwegian default contract on its built-in pathway, simulated: the stage names it relies on
exist, money is conserved, payments stay within the caps, and the fiscal difference is treatment
minus control. Small and fast: a few replications of one kull."""

from __future__ import annotations

import numpy as np
import pytest

from effekt.contracts import Valuation, evaluate
from effekt.contracts.terms import template_names, unmatched_stages
from effekt.experiments.examples import PATHWAY_TEMPLATES
from effekt.experiments.scenario import load_scenario
from effekt.sim import replication_seed, simulate
from effekt.sim.pathway import builtin_names

PAIRS = PATHWAY_TEMPLATES


def test_every_builtin_pathway_has_its_template():
    assert sorted(PAIRS) == builtin_names()
    assert set(PAIRS.values()) <= set(template_names())
    assert {t for t in template_names() if t.endswith("_outcomes")} == set(PAIRS.values())


@pytest.mark.parametrize(("pathway", "template"), PAIRS.items())
@pytest.mark.parametrize("mode", ["parallel", "rct"])
def test_default_contract_on_its_pathway(pathway, template, mode):
    sc = load_scenario(None, [f"pathway.template={pathway}", f"contract.template={template}",
                              "world.horizon_weeks=312", f"world.counterfactual.mode={mode}"])
    assert unmatched_stages(sc.terms, list(sc.world.pathway.stages)) == []
    t = sc.terms
    for rep in range(3):
        tables = simulate(sc.world, replication_seed(11, rep))
        ev = evaluate(t, tables.persons, tables.spells, sc.world.horizon_weeks,
                      Valuation(G=sc.info.G, discount_rate=0.04), events=tables.events)
        k = ev.kpis
        assert ev.cashflows["amount"].sum() == pytest.approx(-k["provider_costs"], abs=1e-3)
        assert 0 <= k["outcome_payments"] <= t.caps.per_person * k["participants"] + 1e-6
        per_person = ev.payments[ev.payments["person_id"] >= 0].groupby("person_id")["amount"].sum()
        assert (per_person <= t.caps.per_person + 1e-6).all()
        f = ev.fiscal
        scale = k["participants"] / k["controls"]
        for party in ("kommune", "state"):
            arm = {a: f[(f["arm"] == a) & (f["party"] == party)]["amount"].sum()
                   for a in ("treatment", "control", "difference")}
            assert arm["difference"] == pytest.approx(arm["treatment"] - scale * arm["control"], abs=1e-3)
        assert np.isfinite(k["fiscal_npv_total"])


def test_a_misspelt_stage_is_reported():
    sc = load_scenario(None, ["pathway.template=gloppen", "contract.template=gloppen_outcomes",
                              "contract.outcomes.fagbrev.stages=['fagprve*']", "world.horizon_weeks=286"])
    problems = unmatched_stages(sc.terms, list(sc.world.pathway.stages))
    assert len(problems) == 1 and "outcomes.fagbrev.stages: 'fagprve*'" in problems[0]
