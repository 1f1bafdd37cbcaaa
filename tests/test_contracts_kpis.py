"""Which KPIs are indicators (0/1 per replication) and the fixed list of KPI names per contract."""

from __future__ import annotations

import math

import pytest

from effekt.contracts import (
    INDICATOR_KPIS,
    NeedsControl,
    Valuation,
    evaluate,
    is_indicator_kpi,
    kpi_names,
    kpis_for,
    load_terms,
    needs_control,
)
from effekt.contracts.records import events_table, person, persons_table, spell, spells_table
from effekt.experiments.scenario import load_scenario
from effekt.sim import replication_seed, simulate


def test_the_named_indicators():
    assert {"cap_binding", "investor_loss", "investor_commitment_exceeded"} <= INDICATOR_KPIS
    for name in ("cap_binding", "investor_loss", "investor_commitment_exceeded", "investor_senior_loss",
                 "investor_junior_loss"):
        assert is_indicator_kpi(name), name
    # counts and amounts are not indicators, whatever values they happen to take
    for name in ("participants", "controls", "outcomes_job", "investor_loss_amount",
                 "investor_senior_loss_amount", "investor_multiple", "in_work_12m_treatment",
                 "cost_per_outcome"):
        assert not is_indicator_kpi(name), name
    # the same through a contract with tranches and a commitment, whose registry declares them
    sc = load_scenario(None, ["pathway.template=kongsberg_kull", "contract.template=sticking_together",
                              "contract.investors.commitment=1000000", "world.horizon_weeks=208"])
    registry = kpis_for(sc.terms)
    for name in ("cap_binding", "investor_loss", "investor_commitment_exceeded", "investor_senior_loss",
                 "investor_junior_loss"):
        assert is_indicator_kpi(name, registry), name
    for name in ("participants", "controls", "outcomes_job_start", "investor_loss_amount",
                 "investor_senior_loss_amount", "investor_multiple", "in_work_12m_treatment",
                 "cost_per_outcome"):
        assert name in registry and not is_indicator_kpi(name, registry), name


def test_indicators_are_0_or_1_in_evaluated_kpis():
    sc = load_scenario(None, ["pathway.template=kongsberg_kull", "contract.template=sticking_together",
                              "contract.investors.commitment=1000000", "world.horizon_weeks=208"])
    seen = set()
    for rep in range(3):
        t = simulate(sc.world, replication_seed(5, rep))
        k = evaluate(sc.terms, t.persons, t.spells, sc.world.horizon_weeks, events=t.events).kpis
        for name, v in k.items():
            if is_indicator_kpi(name, kpis_for(sc.terms)):
                seen.add(name)
                assert v in (0.0, 1.0), (name, v)
    assert seen == {"cap_binding", "investor_loss", "investor_commitment_exceeded", "control_missing",
                    "investor_senior_loss", "investor_junior_loss"}


def test_kpi_names_are_the_same_with_and_without_a_control_arm():
    terms = load_terms("kongsberg_outcomes")
    treated = persons_table([person(0)])
    both = persons_table([person(0), person(0, arm="control")])
    life = [spell(0, "employed", 0, 52, annual_wage=400_000)]
    one = evaluate(terms, treated, spells_table(life), 52, events=events_table([]))
    two = evaluate(terms, both, spells_table([*life, spell(0, "not_employed", 0, 52, arm="control")]), 52,
                   events=events_table([]))
    assert list(one.kpis) == list(two.kpis) == kpi_names(terms)
    assert math.isnan(one.kpis["fiscal_net_total"]) and not math.isnan(two.kpis["fiscal_net_total"])


def test_benefit_payers_passed_in_decide_whose_budget_gains():
    # the treated person works all year; the control is on AAP of 2 G all year: 2 G saved
    terms = load_terms("kongsberg_outcomes")
    persons = persons_table([person(0), person(0, arm="control")])
    spells = spells_table([spell(0, "employed", 0, 52, annual_wage=400_000),
                           spell(0, "not_employed", 0, 52, arm="control", benefit_kind="aap", benefit_g=2.0)])
    G = 100_000.0
    default = evaluate(terms, persons, spells, 52, Valuation(G=G), events=events_table([])).kpis  # AAP: state
    moved = evaluate(terms, persons, spells, 52, Valuation(G=G).with_benefit_payers({"aap": "kommune"}),
                     events=events_table([])).kpis
    assert moved["fiscal_net_kommune"] - default["fiscal_net_kommune"] == pytest.approx(2 * G)
    assert default["fiscal_net_state"] - moved["fiscal_net_state"] == pytest.approx(2 * G)
    assert moved["fiscal_net_total"] == pytest.approx(default["fiscal_net_total"])


def test_needs_control_says_what_compares_with_the_control_arm():
    assert needs_control(load_terms("kongsberg_outcomes")) == []
    peterborough = needs_control(load_terms("peterborough"))
    assert len(peterborough) == 2 and all("relative_to_control" in p for p in peterborough)
    assert peterborough[0].startswith("triggers[0]") and peterborough[1].startswith("triggers[1]")
    assert needs_control(load_terms("koto_sib")) == [
        "savings_share: a share of the public gain against the control arm"]


def test_missing_control_not_met_pays_no_trigger():
    t = load_terms("peterborough")
    persons = persons_table([person(0)])
    spells = spells_table([spell(0, "employed", 0, 320, annual_wage=400_000)])
    with pytest.raises(NeedsControl):
        evaluate(t, persons, spells, 320, events=events_table([]))
    ev = evaluate(t, persons, spells, 320, Valuation(missing_control="not_met"), events=events_table([]))
    assert ev.kpis["outcome_payments"] == 0.0 and ev.kpis["control_missing"] == 1.0
    assert is_indicator_kpi("control_missing")
