"""Displacement and substitution on hand-made tables: what they take from each public budget.

The rule (``effekt.contracts.displacement``): the displaced or substituted worker loses what the
participant gained, so income tax, employer contributions, benefits saved and earnings are offset
by the stated shares, each for the party that loses it; costs, subsidies and payments are not.
Every number below is worked out by hand from a flat 20 % tax (a quarter to the kommune), 14.1 %
employer contributions and G = 100 000, over one year (52 weeks = 12 contract months).
"""

from __future__ import annotations

import math
import pickle
import re

import numpy as np
import pytest

from effekt.contracts import Valuation, evaluate, load_terms
from effekt.contracts.fiscal import FiscalParams, difference, public_flows
from effekt.contracts.records import events_table, person, persons_table, spell, spells_table
from effekt.experiments.report import ReportData, _summary_lines
from effekt.experiments.runner import run_replication, valuation_of
from effekt.experiments.scenario import load_scenario
from effekt.sim import LabourMarket
from effekt.specfile import SpecError

G = 100_000.0
WEEKS = 52
FISCAL = FiscalParams.model_validate({
    "income_tax": {"wage_points": [0, 1e7], "average_rates": [0.2, 0.2], "kommune_shares": [0.25, 0.25]},
    "employer_contributions": {"rate": 0.141},
    "integration_grant": {"per_year": []},
})
TERMS = load_terms("kongsberg_outcomes")
OFFSET_KPIS = ("fiscal_offset_npv_kommune", "fiscal_offset_npv_state", "fiscal_offset_npv_total",
               "fiscal_displacement_offset", "fiscal_substitution_offset", "earnings_offset")
UNCHANGED = ("fiscal_programme_costs", "fiscal_wage_subsidy", "fiscal_wage_cost", "fiscal_contract",
             "outcome_payments", "commissioner_paid", "provider_costs", "investor_net")


def two_people(subsidy_share: float = 0.5, control_subsidised: bool = False):
    """Person 0 (2 G of AAP, the state's): a job at 300 000 all year in the programme arm, on AAP
    all year in the control arm. Person 1 (0.7 G of sosialhjelp, the kommune's): half a year in
    the programme on sosialhjelp (1 000 NOK a week, the kommune's cost), then half a year in a job
    at 400 000 with a wage subsidy (``subsidy_share``, NAV); on sosialhjelp all year in control.

    The additional employment, treatment minus control, by hand:
    income tax 0.2 x (300 000 + 200 000) = 100 000 (kommune 25 000, state 75 000); employer
    contributions 0.141 x 500 000 = 70 500 (state); benefits saved 200 000 (state, AAP) and
    0.7 G x half a year = 35 000 (kommune, sosialhjelp); earnings 500 000.
    """
    persons = persons_table([
        person(0), person(0, "control"),
        person(1, benefit_kind="sosialhjelp", benefit_g=0.7),
        person(1, "control", benefit_kind="sosialhjelp", benefit_g=0.7)])
    job = dict(annual_wage=400_000, contract="temporary", wage_payer="employer", subsidy_payer="nav",
               subsidy_share=subsidy_share)
    rows = [
        spell(0, "employed", 0, WEEKS, annual_wage=300_000),
        spell(0, "not_employed", 0, WEEKS, "control"),
        spell(1, "programme", 0, 26, benefit_kind="sosialhjelp", benefit_g=0.7, cost_per_week=1_000,
              cost_payer="kommune"),
        spell(1, "employed", 26, WEEKS, **job),
    ]
    if control_subsidised:  # the same subsidised job in business as usual: no difference
        rows += [spell(1, "programme", 0, 26, "control", benefit_kind="sosialhjelp", benefit_g=0.7),
                 spell(1, "employed", 26, WEEKS, "control", **job)]
    else:
        rows.append(spell(1, "not_employed", 0, WEEKS, "control", benefit_kind="sosialhjelp",
                          benefit_g=0.7))
    return persons, spells_table(rows)


def kpis(displacement: float = 0.0, substitution: float = 0.0, **table) -> dict[str, float]:
    persons, spells = two_people(**table)
    v = Valuation(G=G, fiscal=FISCAL, displacement_share=displacement, substitution_share=substitution)
    return evaluate(TERMS, persons, spells, WEEKS, v).kpis


def offset_of(k: dict[str, float], base: dict[str, float], name: str) -> float:
    return k[name] - base[name]


def test_the_table_gives_the_hand_computed_gross_effect():
    k = kpis()
    assert k["fiscal_income_tax"] == pytest.approx(100_000)
    assert k["fiscal_employer_contributions"] == pytest.approx(70_500)
    assert k["fiscal_benefits"] == pytest.approx(235_000)
    assert k["earnings_gain"] == pytest.approx(500_000)
    assert k["fiscal_programme_costs"] == pytest.approx(-26_000)
    # NAV pays the subsidy; the employer that gets it is private
    assert k["fiscal_wage_subsidy"] == pytest.approx(-0.5 * 200_000 * 1.141)
    for name in OFFSET_KPIS:
        assert k[name] == 0.0


def test_displacement_takes_exactly_its_share_of_tax_and_benefit_gains_and_nothing_else():
    base, k = kpis(), kpis(displacement=0.25)
    assert k["fiscal_income_tax"] == pytest.approx(0.75 * 100_000)
    assert k["fiscal_employer_contributions"] == pytest.approx(0.75 * 70_500)
    assert k["fiscal_benefits"] == pytest.approx(0.75 * 235_000)
    assert k["benefits_saved_g"] == pytest.approx(0.75 * 2.35)
    assert k["earnings_gain"] == pytest.approx(0.75 * 500_000)
    assert k["earnings_gain_per_person"] == pytest.approx(0.75 * 250_000)
    for name in UNCHANGED:
        assert k[name] == base[name], name
    # each party loses a quarter of its own gain: the kommune its tax share and sosialhjelp,
    # the state its tax share, the employer contributions and AAP
    kommune, state = -0.25 * (25_000 + 35_000), -0.25 * (75_000 + 70_500 + 200_000)
    assert offset_of(k, base, "fiscal_net_kommune") == pytest.approx(kommune)
    assert offset_of(k, base, "fiscal_net_state") == pytest.approx(state)
    assert offset_of(k, base, "fiscal_net_total") == pytest.approx(kommune + state)
    assert k["fiscal_displacement_offset"] == pytest.approx(kommune + state)
    assert k["fiscal_substitution_offset"] == 0.0
    assert k["earnings_offset"] == pytest.approx(-125_000)
    # the NPV offsets are what the NPVs lost (gross = net - offset)
    for party in ("kommune", "state", "total"):
        assert k[f"fiscal_offset_npv_{party}"] == pytest.approx(
            offset_of(k, base, f"fiscal_npv_{party}"), abs=1e-6)
    # discounted month by month at 4 %: the kommune's gain is 15 000 / 12 a month all year
    # (person 0's tax) and (10 000 + 35 000) / 6 a month in the second half (person 1)
    gain = np.full(12, 15_000 / 12) + np.r_[np.zeros(6), np.full(6, 45_000 / 6)]
    assert k["fiscal_offset_npv_kommune"] == pytest.approx(
        float(np.sum(-0.25 * gain / 1.04 ** (np.arange(12) / 12))))


def test_substitution_touches_only_the_subsidised_spells():
    base, k = kpis(), kpis(substitution=0.5)
    # person 1's subsidised half year: tax 40 000 (kommune 10 000, state 30 000), employer
    # contributions 28 200, sosialhjelp not drawn 35 000 (kommune), earnings 200 000; half of it
    kommune, state = -0.5 * (10_000 + 35_000), -0.5 * (30_000 + 28_200)
    assert offset_of(k, base, "fiscal_net_kommune") == pytest.approx(kommune)
    assert offset_of(k, base, "fiscal_net_state") == pytest.approx(state)
    assert k["fiscal_substitution_offset"] == pytest.approx(kommune + state)
    assert k["fiscal_displacement_offset"] == 0.0
    assert k["earnings_offset"] == pytest.approx(-100_000)
    assert k["fiscal_income_tax"] == pytest.approx(100_000 - 0.5 * 40_000)
    assert k["fiscal_benefits"] == pytest.approx(235_000 - 0.5 * 35_000)
    for name in UNCHANGED:
        assert k[name] == base[name], name
    # the same table without a subsidy: person 0's ordinary job and person 1's are not touched
    plain, k0 = kpis(subsidy_share=0.0), kpis(substitution=0.5, subsidy_share=0.0)
    for name in ("fiscal_net_kommune", "fiscal_net_state", "fiscal_income_tax", "earnings_gain"):
        assert k0[name] == plain[name], name
    assert k0["fiscal_substitution_offset"] == 0.0


def test_substitution_then_displacement_of_the_rest():
    base, k = kpis(), kpis(displacement=0.25, substitution=0.5)
    # kommune: gain D = 25 000 + 35 000, subsidised S = 10 000 + 35 000; net (D - 0.5 S) x 0.75
    d_k, s_k = 60_000, 45_000
    assert offset_of(k, base, "fiscal_net_kommune") == pytest.approx((d_k - 0.5 * s_k) * 0.75 - d_k)
    assert k["fiscal_substitution_offset"] == pytest.approx(-0.5 * (45_000 + 58_200))
    d_all, s_all = 25_000 + 35_000 + 75_000 + 70_500 + 200_000, 45_000 + 58_200
    assert k["fiscal_displacement_offset"] == pytest.approx(-0.25 * (d_all - 0.5 * s_all))
    assert k["earnings_gain"] == pytest.approx((500_000 - 0.5 * 200_000) * 0.75)


def test_nothing_to_offset_without_an_effect():
    # the same subsidised job in both arms: the programme added no work, so nothing is offset
    k = kpis(displacement=0.3, substitution=0.8, control_subsidised=True)
    assert k["fiscal_substitution_offset"] == pytest.approx(0.0, abs=1e-9)
    # person 0's job is still additional: only its flows are displaced
    assert k["fiscal_displacement_offset"] == pytest.approx(-0.3 * (15_000 + 45_000 + 42_300 + 200_000))
    # no effect at all (both arms the same): every offset is zero
    persons = persons_table([person(0), person(0, "control")])
    spells = spells_table([spell(0, "employed", 0, WEEKS, annual_wage=300_000),
                           spell(0, "employed", 0, WEEKS, "control", annual_wage=300_000)])
    v = Valuation(G=G, fiscal=FISCAL, displacement_share=0.5, substitution_share=0.5)
    none = evaluate(TERMS, persons, spells, WEEKS, v).kpis
    for name in OFFSET_KPIS:
        assert none[name] == pytest.approx(0.0, abs=1e-9), name


def test_with_both_shares_zero_every_kpi_is_as_without_them():
    persons, spells = two_people()
    plain = evaluate(TERMS, persons, spells, WEEKS, Valuation(G=G, fiscal=FISCAL))
    zero = evaluate(TERMS, persons, spells, WEEKS, Valuation(G=G, fiscal=FISCAL, displacement_share=0.0,
                                                             substitution_share=0))
    assert plain.kpis.keys() == zero.kpis.keys()
    for name, x in plain.kpis.items():
        assert x == zero.kpis[name] or (math.isnan(x) and math.isnan(zero.kpis[name])), name
    # and the fiscal table's difference is the plain comparison of the arms (an independent path)
    d = difference(public_flows(persons, spells, G, 12, FISCAL), 2, 2)
    for item in ("income_tax", "benefits", "employer_contributions"):
        got = plain.fiscal[(plain.fiscal["arm"] == "difference") & (plain.fiscal["item"] == item)]
        assert got["amount"].sum() == pytest.approx(d[d["item"] == item]["amount"].sum())
    # a simulated replication of the default scenario: the offsets are exactly zero by default
    sc = load_scenario(None)
    runs = run_replication(sc, 0)["runs"].iloc[0]
    for name in OFFSET_KPIS:
        assert runs[name] == 0.0


def test_without_a_control_arm_the_offsets_are_unknown():
    persons = persons_table([person(0)])
    spells = spells_table([spell(0, "employed", 0, WEEKS, annual_wage=300_000)])
    k = evaluate(TERMS, persons, spells, WEEKS, Valuation(G=G, displacement_share=0.5)).kpis
    assert all(math.isnan(k[name]) for name in OFFSET_KPIS)


@pytest.mark.parametrize("bad", [float("nan"), True, 1.5, -0.1, float("inf"), "0.2"])
@pytest.mark.parametrize("key", ["displacement_share", "substitution_share"])
def test_valuation_refuses_what_is_no_share(key, bad):
    with pytest.raises(ValueError, match=rf"{key} \(scenario key world.labour_market.{key}\): "
                                         rf"{re.escape(repr(bad))}; must be a number from 0 to 1"):
        Valuation(**{key: bad})


def test_valuation_keeps_the_shares_through_pickle():
    v = Valuation(displacement_share=0.25, substitution_share=1).with_benefit_payers({"aap": "kommune"})
    again = pickle.loads(pickle.dumps(v))
    assert again == v and again.substitution_share == 1.0 and isinstance(again.substitution_share, float)
    assert again.benefit_payers["aap"] == "kommune" and again.displacement_share == 0.25


@pytest.mark.parametrize("bad, shown", [("nan", "nan"), ("true", "true"), ("1.5", "1.5")])
def test_scenario_refuses_what_is_no_share_naming_the_key(bad, shown):
    with pytest.raises(SpecError) as err:
        load_scenario(None, [f"world.labour_market.displacement_share={bad}"])
    text = str(err.value)
    assert f"world.labour_market.displacement_share: {shown} is not allowed: a number from 0 to 1" in text


def test_the_scenario_carries_the_shares_to_the_valuation_not_to_sim():
    sc = load_scenario(None, ["world.labour_market.displacement_share=0.25",
                              "world.labour_market.substitution_share=1"])
    assert (sc.displacement_share, sc.substitution_share) == (0.25, 1.0)
    v = valuation_of(sc)
    assert (v.displacement_share, v.substitution_share) == (0.25, 1.0)
    assert type(sc.world.labour_market) is LabourMarket  # sim's, without the shares
    assert "displacement_share" not in LabourMarket.model_fields
    assert sc.resolved["world"]["labour_market"]["displacement_share"] == 0.25  # in the manifest
    assert sc.world.labour_market == load_scenario(None).world.labour_market


def test_the_report_shows_the_offset_when_a_share_is_stated():
    import pandas as pd

    from effekt.contracts import kpis_for

    sc = load_scenario(None, ["world.labour_market.displacement_share=0.25"])
    runs = pd.DataFrame([{**run_replication(sc, r)["runs"].iloc[0]} for r in range(2)])
    data = ReportData(runs=runs, cashflows=pd.DataFrame(columns=["replication", "party", "month", "item",
                                                                 "amount"]),
                      scenario=sc, fiscal_source="runs", kpis=kpis_for(sc.terms))
    lost = runs["fiscal_offset_npv_total"].mean()
    assert lost < 0
    gross = runs["fiscal_npv_total"].mean() - lost
    assert 10_000 <= -lost < 999_500 and 10_000 <= abs(gross) < 999_500  # shown to the nearest thousand

    def shown(x: float, sep: str) -> str:  # to the nearest thousand, as a memo writes amounts
        return f"{round(x, -3):,.0f}".replace(",", sep).replace("-", "\u2212")

    for lang, words, sep in (("en", "Displacement (25\u00a0%", "\u202f"),
                             ("nb", "Fortrengning (25\u00a0%", "\u00a0")):
        _, key, _ = _summary_lines(data, lang)
        line = next(x for x in key if x.startswith(words))
        assert shown(-lost, sep) in line
        assert shown(gross, sep) in line
    data.scenario = load_scenario(None)  # no share stated: no line
    for lang in ("en", "nb"):
        _, key, _ = _summary_lines(data, lang)
        assert not any(x.startswith(("Displacement", "Fortrengning")) for x in key)


def test_offsets_are_spread_like_the_flows_they_offset():
    # the kommune's displacement offset, month by month, is a quarter of its monthly gain
    persons, spells = two_people()
    v = Valuation(G=G, fiscal=FISCAL, displacement_share=0.25)
    f = evaluate(TERMS, persons, spells, WEEKS, v).fiscal
    f0 = evaluate(TERMS, persons, spells, WEEKS, Valuation(G=G, fiscal=FISCAL)).fiscal

    def monthly(table, item: str) -> np.ndarray:
        t = table[(table["arm"] == "difference") & (table["party"] == "kommune") & (table["item"] == item)]
        out = np.zeros(12)
        np.add.at(out, t["month"].to_numpy(int), t["amount"].to_numpy(float))
        return out

    for item in ("income_tax", "benefits"):
        assert monthly(f, item) == pytest.approx(0.75 * monthly(f0, item))
    assert monthly(f, "programme_costs") == pytest.approx(monthly(f0, "programme_costs"))


def test_a_programme_that_does_nothing_offsets_nothing():
    # everyone rejected on the spot: both arms walk business as usual, so whatever the shares the
    # offsets are zero within Monte Carlo noise (they are shares of differences of the arms)
    from effekt.sim import Cohort, Counterfactual, Pathway, World, replication_seed, simulate

    pathway = Pathway.model_validate({
        "pathway": {"name": "reject_all", "title": "reject_all", "entry": "interview",
                    "source": "test: a programme that does nothing"},
        "stages": {"interview": {"kind": "screening", "duration": {"dist": "fixed", "value": 0},
                                 "exits": [{"to": "turned_away", "p": 1.0}]},
                   "turned_away": {"kind": "exit", "outcome": "not_employed"}}})
    world = World(pathway=pathway, horizon_weeks=156.0, counterfactual=Counterfactual(mode="parallel"),
                  cohorts=[Cohort(name="kull", start_week=0, size=300, groups={"B": 0.5, "R": 0.5})])
    v = Valuation(displacement_share=0.5, substitution_share=0.5)
    rows = []
    for r in range(20):
        t = simulate(world, replication_seed(20261202, r))
        rows.append(evaluate(TERMS, t.persons, t.spells, 156.0, v, events=t.events).kpis)
    for name in (*OFFSET_KPIS, "fiscal_net_state", "earnings_gain"):
        x = np.array([k[name] for k in rows])
        se = x.std(ddof=1) / math.sqrt(len(x))
        assert abs(x.mean()) <= 4 * se + 1e-6, (name, x.mean(), se)


def test_a_savings_share_is_paid_on_what_its_trial_measures_not_net_of_displacement():
    # Koto-SIB pays a share of the measured public gain; the people displaced are outside the
    # trial, so the payment is the same, and only the budgets' net shows the offset
    terms = load_terms("koto_sib")
    persons, spells = two_people()
    events = events_table([])
    plain = evaluate(terms, persons, spells, WEEKS, Valuation(G=G, fiscal=FISCAL), events=events).kpis
    net = evaluate(terms, persons, spells, WEEKS, Valuation(G=G, fiscal=FISCAL, displacement_share=0.4),
                   events=events).kpis
    assert plain["outcome_payments"] > 0
    assert net["outcome_payments"] == plain["outcome_payments"]
    assert net["fiscal_contract"] == plain["fiscal_contract"]
    assert net["fiscal_net_total"] - plain["fiscal_net_total"] == pytest.approx(
        -0.4 * (100_000 + 70_500 + 235_000))


def _course_then(job: bool, stops: bool = True):
    """One person on 2 G of AAP (the state's). Programme arm: a 20-week course that stops the
    benefit (``stops``: benefit 0 in the course, as ``funding.benefit = "stops"``), then a job at
    300 000 for the other 32 weeks (``job``) or back on AAP. Control: on AAP all year."""
    persons = persons_table([person(0), person(0, "control")])
    course = dict(benefit_kind="none", benefit_g=0.0) if stops else {}
    after = (spell(0, "employed", 20, WEEKS, annual_wage=300_000) if job
             else spell(0, "not_employed", 20, WEEKS))
    return persons, spells_table([spell(0, "programme", 0, 20, stage="course", **course), after,
                                  spell(0, "not_employed", 0, WEEKS, "control")])


def _evaluated(persons, spells, displacement: float) -> dict[str, float]:
    v = Valuation(G=G, fiscal=FISCAL, displacement_share=displacement)
    return evaluate(TERMS, persons, spells, WEEKS, v).kpis


def test_a_benefit_a_course_stops_without_work_is_not_displaced():
    # no job in either arm: the 20 weeks of AAP the course stops (2 G x 20/52) are a saving of
    # the state's that no other worker pays for, so displacement takes nothing of it
    persons, spells = _course_then(job=False)
    plain, k = _evaluated(persons, spells, 0.0), _evaluated(persons, spells, 0.5)
    assert plain["fiscal_benefits"] == pytest.approx(200_000 * 20 / 52)
    assert k["fiscal_benefits"] == pytest.approx(plain["fiscal_benefits"])
    assert k["fiscal_net_state"] == pytest.approx(plain["fiscal_net_state"])
    for name in OFFSET_KPIS:
        assert k[name] == pytest.approx(0.0, abs=1e-9), name


def test_displacement_offsets_exactly_the_jobs_flows_beside_a_benefit_stopped_without_work():
    # the course stops AAP for 20 weeks (not offset), then a job for 32 weeks (8/13 of the year):
    # tax 0.2 x 300 000 x 8/13 (a quarter the kommune's), employer contributions 0.141 x 300 000
    # x 8/13, AAP not drawn in the job 2 G x 8/13, earnings 300 000 x 8/13; a quarter of each is
    # displaced
    persons, spells = _course_then(job=True)
    plain, k = _evaluated(persons, spells, 0.0), _evaluated(persons, spells, 0.25)
    share = 8 / 13
    tax, aga, aap, wage = 60_000 * share, 42_300 * share, 200_000 * share, 300_000 * share
    assert plain["fiscal_benefits"] == pytest.approx(200_000)  # the whole year of AAP saved
    assert k["fiscal_benefits"] == pytest.approx(200_000 - 0.25 * aap)
    assert k["fiscal_income_tax"] == pytest.approx(0.75 * tax)
    assert k["fiscal_employer_contributions"] == pytest.approx(0.75 * aga)
    assert k["earnings_gain"] == pytest.approx(0.75 * wage)
    assert k["earnings_offset"] == pytest.approx(-0.25 * wage)
    assert k["fiscal_displacement_offset"] == pytest.approx(-0.25 * (tax + aga + aap))
    assert offset_of(k, plain, "fiscal_net_kommune") == pytest.approx(-0.25 * 0.25 * tax)
    assert offset_of(k, plain, "fiscal_net_state") == pytest.approx(-0.25 * (0.75 * tax + aga + aap))


def test_a_negative_employment_effect_is_offset_symmetrically():
    # lock-in: the participant sits in a programme all year on AAP while in business as usual she
    # has a job at 300 000; the vacancy she left went, for a quarter, to someone who would have
    # been out of work: the budgets get a quarter of the lost job's flows back
    persons = persons_table([person(0), person(0, "control")])
    spells = spells_table([spell(0, "programme", 0, WEEKS, stage="course"),
                           spell(0, "employed", 0, WEEKS, "control", annual_wage=300_000)])
    plain, k = _evaluated(persons, spells, 0.0), _evaluated(persons, spells, 0.25)
    lost = 60_000 + 42_300 + 200_000  # tax, employer contributions, AAP the job stopped
    assert plain["fiscal_net_total"] == pytest.approx(-lost)
    assert k["fiscal_displacement_offset"] == pytest.approx(0.25 * lost)
    assert k["fiscal_net_total"] - plain["fiscal_net_total"] == pytest.approx(0.25 * lost)
    assert k["earnings_gain"] == pytest.approx(-0.75 * 300_000)
