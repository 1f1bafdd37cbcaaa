"""The beregningsmodell's parts on hand-made spells: subsidies, grants, programme costs, payers."""

from __future__ import annotations

import numpy as np
import pytest

from effekt.contracts import Valuation, evaluate, load_terms
from effekt.contracts.fiscal import FiscalParams, benefit_payers, default_fiscal, public_flows
from effekt.contracts.records import person, persons_table, spell, spells_table

G = 100_000.0


def params(**over) -> FiscalParams:
    base = {
        "income_tax": {"wage_points": [0, 1e7], "average_rates": [0.2, 0.2], "kommune_shares": [0.25, 0.25]},
        "employer_contributions": {"rate": 0.141},
        "integration_grant": {"per_year": []},
    }
    base.update(over)
    return FiscalParams.model_validate(base)


def total(flows, **where) -> float:
    f = flows
    for k, v in where.items():
        f = f[f[k] == v]
    return float(f["amount"].sum())


def test_wage_subsidy_is_the_states_cost_and_the_employers_income():
    persons = persons_table([person(0)])
    spells = spells_table([spell(0, "employed", 0, 52, contract="temporary", annual_wage=350_000,
                                 wage_payer="kommune", subsidy_payer="nav", subsidy_share=0.8)])
    f = public_flows(persons, spells, G, 12, params())
    # 0.8 x 350 000 x 1.141 for one year = 319 480; NAV is the state
    assert total(f, party="state", item="wage_subsidy") == pytest.approx(-319_480)
    assert total(f, party="kommune", item="wage_subsidy") == pytest.approx(319_480)
    # the one wage-cost rule: the kommune pays the wage cost, 350 000 x 1.141 = 399 350, and gets
    # the value of the work, here (rules built by hand: productivity share 1) all of it
    assert total(f, party="kommune", item="wage_cost") == pytest.approx(-399_350)
    assert total(f, party="kommune", item="value_of_work") == pytest.approx(399_350)
    # with the work worth nothing (productivity share 0) the kommune carries the wage cost less
    # the subsidy, 0.2 x 350 000 x 1.141 = 79 870, and gets its quarter of the 20 % tax
    f = public_flows(persons, spells, G, 12, params(wages={"productivity_share": 0.0}))
    assert total(f, party="kommune") == pytest.approx(-79_870 + 0.25 * 0.2 * 350_000)
    assert default_fiscal().wages.productivity_share == 0.6
    spells = spells_table([spell(0, "employed", 0, 52, contract="project", annual_wage=350_000,
                                 wage_payer="kommune")])
    f = public_flows(persons, spells, G, 12,
                     params(wages={"productivity_share_by_contract": {"project": 0.0}}))
    assert total(f, party="kommune", item="wage_cost") == pytest.approx(-350_000 * 1.141)
    assert total(f, item="value_of_work") == 0


def test_integration_grant_stops_when_the_person_moves():
    persons = persons_table([person(0, group="R"), person(0, "control", group="R")])
    spells = spells_table([spell(0, "not_employed", 0, 78), spell(0, "moved", 78, 156),
                           spell(0, "not_employed", 0, 156, "control")])
    f = public_flows(persons, spells, G, 36, params(integration_grant={"per_year": [120_000, 60_000],
                                                                       "groups": ["R"]}))
    # treatment: 12 months of 10 000 (year 1), then 5 000 a month until the move at week 78
    # (month 17's middle is week 75.8, month 18's is 80.2): 120 000 + 6 x 5 000
    assert total(f, arm="treatment", party="kommune", item="integration_grant") == pytest.approx(150_000)
    assert total(f, arm="treatment", party="state", item="integration_grant") == pytest.approx(-150_000)
    # control stays: two full years, and nothing after the schedule ends
    assert total(f, arm="control", party="kommune", item="integration_grant") == pytest.approx(180_000)


def test_programme_costs_by_payer_and_provider_pathway_costs():
    persons = persons_table([person(0)])
    spells = spells_table([
        spell(0, "programme", 0, 52, cost_once=5_000, cost_per_week=1_000, cost_payer="state"),
        spell(0, "programme", 52, 78, cost_once=0, cost_per_week=500, cost_payer="provider"),
        spell(0, "not_employed", 78, 156),
    ])
    f = public_flows(persons, spells, G, 36, params())
    assert total(f, party="state", item="programme_costs") == pytest.approx(-57_000)
    assert total(f, item="programme_costs") == pytest.approx(-57_000)  # the provider's is not public
    # benefits: 2 G of AAP all three years, paid by the state
    assert total(f, party="state", item="benefits") == pytest.approx(-600_000)
    t = load_terms("kongsberg_outcomes").model_copy(deep=True)
    base = evaluate(t, persons, spells, 156).kpis["provider_costs"]
    withp = t.model_copy(update={"provider": t.provider.model_copy(update={"pathway_costs": True})})
    assert evaluate(withp, persons, spells, 156).kpis["provider_costs"] == pytest.approx(base + 26 * 500)


def test_default_fiscal_rules_from_the_data_file():
    p = default_fiscal()
    # between the 260 000 (14 %) and 450 000 (22 %) points: 14 % + 8 points x 76/190 = 17.2 %
    assert p.income_tax.rate(np.array([336_000.0]))[0] == pytest.approx(0.172)
    assert p.income_tax.kommune_share(np.array([450_000.0]))[0] == pytest.approx(0.283)
    assert p.employer_contributions.rate == 0.141
    payers = benefit_payers()
    assert payers["aap"] == "state" and payers["uforetrygd"] == "state"
    assert payers["sosialhjelp"] == "kommune" and payers["introduksjonsstonad"] == "kommune"


def test_sosialhjelp_saved_is_the_kommunes_gain():
    persons = persons_table([person(0, benefit_kind="sosialhjelp"),
                             person(0, "control", benefit_kind="sosialhjelp")])
    spells = spells_table([spell(0, "employed", 0, 52, annual_wage=0.0),
                           spell(0, "not_employed", 0, 52, "control", benefit_kind="sosialhjelp",
                                 benefit_g=0.7)])
    ev = evaluate(load_terms("kongsberg_outcomes"), persons, spells, 52, Valuation(G=G))
    assert ev.kpis["fiscal_benefits"] == pytest.approx(70_000)
    d = ev.fiscal[(ev.fiscal["arm"] == "difference") & (ev.fiscal["item"] == "benefits")]
    assert set(d["party"]) == {"kommune"}
