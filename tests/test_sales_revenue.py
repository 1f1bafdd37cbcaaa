"""A municipal enterprise's sales revenue (issue 17, innovation track 3): ``[wages]
revenue_share_by_stage`` books item ``sales_revenue`` to a public employer's job in a matching
stage, instead of ``value_of_work``.

* one person's year, half on AAP and half in the enterprise, computed by hand (wage cost, sales
  revenue, tax, benefit, programme cost);
* the rule's reach: only public jobs in matching stages, the first pattern written counts, an
  ordinary employer's job in such a stage books nothing;
* bad tables are refused naming the file and the key;
* the built-in rules' patterns each match a stage of a built-in pathway, and in a run of
  track 3 the sales revenue is booked only for people in the enterprise's stages (none in the
  control arm, none in the counterpart without the programme's effects).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from test_pathways_municipal import ROOT_SEED, TYPICAL, without_effects

from effekt.contracts.fiscal import FiscalParams, default_fiscal, public_flows
from effekt.contracts.records import person, persons_table, spell, spells_table
from effekt.sim import Cohort, Counterfactual, World, builtin_names, load_pathway, replication_seed, simulate
from effekt.specfile import SpecError, load_spec

G = 100_000.0


def params(**wages) -> FiscalParams:
    """Rules built by hand: a flat 20 % tax of which the kommune gets a quarter, 14.1 % employer
    contributions, AAP paid by the state and taxed as a wage."""
    return FiscalParams.model_validate({
        "income_tax": {"wage_points": [0, 1e7], "average_rates": [0.2, 0.2], "kommune_shares": [0.25, 0.25]},
        "employer_contributions": {"rate": 0.141},
        "benefit_payers": {"aap": "state", "none": "none"},
        "taxable_benefits": {"aap": "wage", "none": False},
        "wages": wages,
    })


def total(flows, **where) -> float:
    f = flows
    for k, v in where.items():
        f = f[f[k] == v]
    return float(f["amount"].sum())


def enterprise_year(stage: str = "enterprise_work", wage_payer: str = "kommune"):
    """One person's year: 26 weeks on AAP (2 G), then 26 weeks in ``stage`` at 60 % of a 400 000
    wage paid by ``wage_payer``, with 700 a week of follow-up charged to the kommune."""
    persons = persons_table([person(0)])
    spells = spells_table([
        spell(0, "not_employed", 0, 26, stage="intake"),
        spell(0, "employed", 26, 52, stage=stage, contract="temporary", fte=0.6, annual_wage=400_000,
              wage_payer=wage_payer, cost_payer="kommune", cost_per_week=700.0, cost_once=0.0,
              cost_cohort=0.0, cost_cohort_weeks=0.0),
    ])
    return persons, spells


def test_one_year_in_the_enterprise_by_hand():
    rules = params(productivity_share=0.6, revenue_share_by_stage={"*enterprise_work": 0.5})
    f = public_flows(*enterprise_year(), G, 12, rules)
    # wage 400 000 x 0.6 x 26/52 = 120 000; wage cost 120 000 x 1.141 = 136 920, the kommune's
    assert total(f, party="participants", item="earnings") == pytest.approx(120_000)
    assert total(f, party="kommune", item="wage_cost") == pytest.approx(-136_920)
    # the enterprise sells the work for half its wage cost: 68 460, the kommune's income, and no
    # value of the work beside it
    assert total(f, party="kommune", item="sales_revenue") == pytest.approx(68_460)
    assert total(f, item="value_of_work") == 0
    # AAP 2 G = 200 000 a year for 26 weeks: 100 000, the state's
    assert total(f, party="state", item="benefits") == pytest.approx(-100_000)
    # the year's income 100 000 + 120 000 = 220 000 at 20 %: 44 000, the kommune's quarter 11 000
    assert total(f, party="kommune", item="income_tax") == pytest.approx(11_000)
    assert total(f, party="state", item="income_tax") == pytest.approx(33_000)
    assert total(f, party="state", item="employer_contributions") == pytest.approx(0.141 * 120_000)
    assert total(f, party="kommune", item="programme_costs") == pytest.approx(-700 * 26)
    # the kommune's net: -136 920 + 68 460 + 11 000 - 18 200; the state's: -100 000 + 33 000 + 16 920
    assert total(f, party="kommune") == pytest.approx(-75_660)
    assert total(f, party="state") == pytest.approx(-50_080)


def test_a_stage_without_a_pattern_keeps_the_value_of_the_work():
    rules = params(productivity_share=0.6, revenue_share_by_stage={"*enterprise_work": 0.5})
    f = public_flows(*enterprise_year(stage="kommune_post"), G, 12, rules)
    assert total(f, item="sales_revenue") == 0
    assert total(f, party="kommune", item="value_of_work") == pytest.approx(0.6 * 136_920)
    # without the table the enterprise's stage is valued as any public job
    f = public_flows(*enterprise_year(), G, 12, params(productivity_share=0.6))
    assert total(f, item="sales_revenue") == 0
    assert total(f, party="kommune", item="value_of_work") == pytest.approx(0.6 * 136_920)


def test_an_ordinary_employers_job_in_such_a_stage_books_no_sales_revenue():
    rules = params(revenue_share_by_stage={"*enterprise_work": 0.5})
    f = public_flows(*enterprise_year(wage_payer="employer"), G, 12, rules)
    assert total(f, item="sales_revenue") == 0
    assert total(f, item="wage_cost") == 0


def test_the_first_pattern_written_counts():
    rules = params(revenue_share_by_stage={"t3_*": 0.2, "*enterprise_work": 0.5})
    f = public_flows(*enterprise_year(stage="t3_enterprise_work"), G, 12, rules)
    assert total(f, party="kommune", item="sales_revenue") == pytest.approx(0.2 * 136_920)
    assert rules.wages.revenue_share(np.array(["t3_x", "enterprise_work", "other", None], dtype=object)
                                     ).tolist()[:3] == [0.2, 0.5, pytest.approx(math.nan, nan_ok=True)]


@pytest.mark.parametrize(("table", "words"), [
    ("{ \"enterprise_work\" = 1.5 }", ["revenue_share_by_stage", "enterprise_work", "[0, 1]"]),
    ("{ \"enterprise_work\" = -0.1 }", ["revenue_share_by_stage", "[0, 1]"]),
    ("{ \"enterprise_work\" = nan }", ["revenue_share_by_stage"]),
    ("{ \"enterprise_work\" = true }", ["revenue_share_by_stage"]),
    ("{ \"enterprise work\" = 0.5 }", ["revenue_share_by_stage", "no stage-name pattern"]),
    ("{ \"enterprise_[work\" = 0.5 }", ["revenue_share_by_stage", "no stage-name pattern"]),
    ("{ \"\" = 0.5 }", ["revenue_share_by_stage", "no stage-name pattern"]),
])
def test_a_bad_table_is_refused_naming_the_file_and_the_key(tmp_path, table, words):
    text = open(default_fiscal().source, encoding="utf-8").read()
    path = tmp_path / "fiscal.toml"
    line = f"revenue_share_by_stage = {table}"
    path.write_text(re.sub(r"^revenue_share_by_stage = \{[^}]*\}", lambda _: line, text, count=1, flags=re.M),
                    encoding="utf-8")
    assert table in path.read_text(encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_spec(FiscalParams, path, priors_drawn=False)
    message = str(err.value)
    assert str(path) in message
    for w in words:
        assert w in message, message


def built_in_stage_names() -> list[str]:
    return sorted({s for name in builtin_names() for s in load_pathway(name).stages})


def test_the_built_in_patterns_each_match_a_built_in_stage():
    wages = default_fiscal().wages
    assert wages.revenue_share_by_stage, "the built-in rules book the municipal enterprise's sales"
    assert wages.unmatched_revenue_stages(built_in_stage_names()) == []
    unmatched = [f"wages.revenue_share_by_stage: '{p}' matches no stage (intake)"
                 for p in wages.revenue_share_by_stage]
    assert wages.unmatched_revenue_stages(["intake"]) == unmatched
    for name in ("track3_municipal_enterprise", "kommune_tracks_combined"):
        stages = list(load_pathway(name).stages)
        sold = [s for s in stages if np.isfinite(wages.revenue_share(np.array([s], dtype=object))[0])]
        in_enterprise = [s for s in stages if s.endswith(("enterprise_work", "enterprise_permanent"))]
        assert sorted(sold) == sorted(in_enterprise) and sold


def run(name: str, pathway=None, people: int = 60, reps: int = 2):
    pw = pathway or load_pathway(name)
    world = World(pathway=pw, horizon_weeks=104, counterfactual=Counterfactual(mode="parallel"),
                  cohorts=[Cohort(name="kull", start_week=0, size=people, groups=TYPICAL[name])])
    return [simulate(world, replication_seed(ROOT_SEED, r)) for r in range(reps)]


@pytest.mark.parametrize("name", ["track3_municipal_enterprise", "kommune_tracks_combined"])
def test_sales_revenue_only_for_people_in_the_enterprise(name):
    rules = default_fiscal()
    aga = rules.employer_contributions.rate
    booked = 0.0
    for t in run(name):
        persons, spells = t.persons.to_pandas(), t.spells.to_pandas()
        f = public_flows(persons, spells, 130_160.0, 24, rules)
        sales = f[f["item"] == "sales_revenue"]
        assert set(sales["arm"]) <= {"treatment"} and set(sales["party"]) <= {"kommune"}
        # the same amount from the spells, independently: each enterprise spell's wage cost within
        # the horizon times its stage's share
        sp = spells[(spells["arm"] == "treatment") & (spells["state"] == "employed")
                    & (spells["wage_payer"] == "kommune")]
        share = sp["stage"].map(lambda s: 0.5 if s.endswith("enterprise_work")
                                else 0.7 if s.endswith("enterprise_permanent") else 0.0)
        weeks = (np.minimum(sp["end"], 24 * 52 / 12) - np.minimum(sp["start"], 24 * 52 / 12)).clip(lower=0)
        expected = float((share * sp["annual_wage"] * sp["fte"] * (1 + aga) * weeks / 52).sum())
        assert total(sales) == pytest.approx(expected, rel=1e-9)
        booked += expected
    assert booked > 0
    # the counterpart without the programme's effects has no enterprise work, so no sales
    for t in run(name, without_effects(load_pathway(name)), reps=1):
        f = public_flows(t.persons.to_pandas(), t.spells.to_pandas(), 130_160.0, 24, rules)
        assert total(f, item="sales_revenue") == 0
