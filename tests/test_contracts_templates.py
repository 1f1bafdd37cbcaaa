"""Every contract template on small hand-made tables, against cashflows worked out by hand.

The expected numbers below were computed on paper from the template's terms (prices, lags,
periods, caps, costs) and the tables; they are written out, never recomputed with the code's
functions. Months: week w falls in month floor(w * 12 / 52); a quarterly payment is made at the
end of its quarter (months 2, 5, 8, ...), an annual one in months 11, 23, 35, ...
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from effekt.contracts import Valuation, evaluate, load_terms
from effekt.contracts.fiscal import FiscalParams
from effekt.contracts.records import event, events_table, person, persons_table, spell, spells_table

H = 156.0
G = 100_000.0
FLAT = FiscalParams.model_validate({
    "income_tax": {"wage_points": [0, 10_000_000], "average_rates": [0.2, 0.2],
                   "kommune_shares": [0.25, 0.25]},
    "employer_contributions": {"rate": 0.141, "to": "state"},
    "integration_grant": {"per_year": []},
    # the one wage-cost rule with the work of a project position worth nothing and any other job's
    # worth its cost: only project positions are a net cost (wage + employer contributions)
    "wages": {"productivity_share": 1.0, "productivity_share_by_contract": {"project": 0.0},
              "default_wage_payer": "kommune"},
})


def run(template, persons, spells, events=(), horizon=H):
    return evaluate(load_terms(template), persons_table(persons), spells_table(spells), horizon,
                    Valuation(G=G, discount_rate=0.04, fiscal=FLAT), events=events_table(list(events)))


def by_month(ev, party, item=None) -> dict[int, float]:
    c = ev.cashflows
    c = c[c["party"] == party]
    if item is not None:
        c = c[c["item"] == item]
    s = c.groupby("month")["amount"].sum()
    return {int(m): float(a) for m, a in s.items() if abs(a) > 1e-9}


def approx_dict(d: dict[int, float]):
    return pytest.approx(d, rel=1e-9, abs=1e-6)


def conserved(ev) -> None:
    """Over all parties the contract's flows sum to minus the provider's delivery cost."""
    assert ev.cashflows["amount"].sum() == pytest.approx(-ev.kpis["provider_costs"], abs=1e-6)


# -- kongsberg_outcomes ---------------------------------------------------------------------------

def kongsberg_tables():
    persons = [person(0), person(1), person(0, "control"), person(1, "control")]
    spells = [
        spell(0, "programme", 0, 13), spell(0, "employed", 13, 156, fte=0.8, annual_wage=420_000),
        spell(1, "programme", 0, 26), spell(1, "not_employed", 26, 156),
        spell(0, "not_employed", 0, 52, "control"),
        spell(0, "employed", 52, 156, "control", fte=0.8, annual_wage=420_000),
        spell(1, "not_employed", 0, 156, "control"),
    ]
    return persons, spells


def test_kongsberg_outcomes_by_hand():
    ev = run("kongsberg_outcomes", *kongsberg_tables())
    # job start week 13 = month 3, +3 lag = 6, end of quarter 8; sustained at week 39 = month 9 -> 14
    assert by_month(ev, "investor", "outcome_payment") == approx_dict({8: 45_000, 14: 90_000})
    assert by_month(ev, "kommune") == approx_dict({8: -22_500, 14: -45_000})
    assert by_month(ev, "state") == approx_dict({8: -22_500, 14: -45_000})
    # costs: 200 000 per kull + 2 x 20 000 at month 0; 39 programme weeks x 800 = 31 200,
    # month 0 holds 2 people x 52/12 weeks x 800 = 6 933.33
    funding = by_month(ev, "investor", "funding")
    assert funding[0] == pytest.approx(-246_933.333333, rel=1e-9)
    assert sum(funding.values()) == pytest.approx(-271_200)
    k = ev.kpis
    assert k["investor_received"] == pytest.approx(135_000)
    assert k["investor_multiple"] == pytest.approx(135_000 / 271_200)
    assert k["investor_loss"] == 1.0
    assert k["investor_peak_capital"] == pytest.approx(271_200)  # all spent before the first payment
    # one job start in each arm: nothing additional, so no cost per additional outcome
    assert k["outcomes_job_start"] == 1 and k["outcomes_job_start_control"] == 1
    assert k["additional_outcomes"] == 0 and math.isnan(k["cost_per_additional_outcome"])
    assert k["cost_per_outcome"] == pytest.approx(135_000)
    conserved(ev)


def test_kongsberg_beregningsmodell_kommune_pays_state_saves():
    ev = run("kongsberg_outcomes", *kongsberg_tables())
    k = ev.kpis
    # treatment: 13 + 156 weeks on 2 G (G = 100 000): 50 000 + 600 000; control: 200 000 + 600 000
    assert k["fiscal_benefits"] == pytest.approx(150_000)
    assert k["benefits_saved_g"] == pytest.approx(1.5)
    # 39 more weeks at 420 000 x 0.8 = 336 000 a year: 252 000 more earnings
    assert k["earnings_gain"] == pytest.approx(252_000)
    # flat 20 % tax, a quarter to the kommune: 12 600 kommune, 37 800 state; AGA 14.1 %: 35 532
    # contract: each commissioner pays 67 500
    assert k["fiscal_net_kommune"] == pytest.approx(12_600 - 67_500)
    assert k["fiscal_net_state"] == pytest.approx(150_000 + 37_800 + 35_532 - 67_500)
    assert k["fiscal_npv_kommune"] < 0 < k["fiscal_npv_state"]


# -- dwp_rate_card ---------------------------------------------------------------------------------

def test_dwp_rate_card_by_hand_with_recycling():
    persons = [person(0), person(1)]
    spells = [spell(0, "programme", 0, 13), spell(0, "employed", 13, 156, fte=0.5, annual_wage=400_000),
              spell(1, "programme", 0, 52), spell(1, "not_employed", 52, 156)]
    ev = run("dwp_rate_card", persons, spells)
    # first job (13 weeks at >= 16 h) reached week 26 = month 6, paid month 7: 2 600 GBP x 13.7;
    # sustained job (26 weeks) at week 39 = month 9, paid month 10: 1 000 GBP x 13.7
    assert by_month(ev, "state") == approx_dict({7: -35_620, 10: -13_700})
    # costs: 2 x 1 500 GBP at entry = 41 100 NOK; 25 GBP = 342.5 NOK per programme week:
    # months 0-2 two people (2 968.33 each), months 3-11 one person (1 484.17 each)
    w = 52 / 12 * 342.5
    assert ev.kpis["provider_costs"] == pytest.approx(41_100 + 65 * 342.5)
    # recycling: the costs of months 7-11 are paid from the payments received; nothing drawn after 6
    expected_draws = {0: -(41_100 + 2 * w), 1: -2 * w, 2: -2 * w, 3: -w, 4: -w, 5: -w, 6: -w}
    assert by_month(ev, "investor", "funding") == approx_dict(expected_draws)
    assert ev.kpis["recycled_payments"] == pytest.approx(5 * w)
    # what is left is distributed when delivery ends (month 11)
    assert by_month(ev, "investor", "outcome_payment") == approx_dict({11: 35_620 + 13_700 - 5 * w})
    assert ev.kpis["investor_peak_capital"] == pytest.approx(41_100 + 6 * w + 4 * w)
    conserved(ev)


# -- koto_sib ----------------------------------------------------------------------------------------

def test_koto_sib_by_hand():
    persons = [person(0), person(0, "control")]
    spells = [spell(0, "employed", 0, 156, annual_wage=300_000),
              spell(0, "not_employed", 0, 156, "control")]
    events = [event(0, 4, "intro_course", "completed"), event(0, 4, "job", "hired")]
    ev = run("koto_sib", persons, spells, events)
    # training completed week 4 = month 0, +3 = 3, end of quarter 5: EUR 1 500 x 11.6 = 17 400.
    # Savings over 36 months: 3 years of 2 G benefit (600 000) + 20 % tax on 300 000 x 3 (180 000);
    # 50 % of 780 000 = 390 000 at the final evaluation (month 39)
    assert by_month(ev, "state") == approx_dict({5: -17_400, 39: -390_000})
    k = ev.kpis
    assert k["investor_invested"] == pytest.approx(5_700 * 11.6)
    assert k["investor_received"] == pytest.approx(407_400)
    conserved(ev)


def test_koto_sib_pays_no_share_of_a_loss():
    persons = [person(0), person(0, "control")]
    spells = [spell(0, "not_employed", 0, 156), spell(0, "employed", 0, 156, "control", annual_wage=300_000)]
    ev = run("koto_sib", persons, spells)
    assert ev.kpis["outcome_payments"] == 0


# -- buzinezzclub -----------------------------------------------------------------------------------

def test_buzinezzclub_by_hand():
    spells = [spell(0, "programme", 0, 30), spell(0, "employed", 30, 156, annual_wage=300_000)]
    ev = run("buzinezzclub", [person(0)], spells)
    # expected 104 weeks on benefit, 30 on it: 74 weeks = 518 days x EUR 30 x 11.6 = 180 264 NOK,
    # above the per-person cap of EUR 8 000 = 92 800 NOK; reached week 104 = month 24, annual: 35
    assert by_month(ev, "kommune", "outcome_payment") == approx_dict({35: -92_800})
    assert ev.payments["capped"].all()
    # investor put in EUR 4 250 = 49 300 NOK at month 0; return capped at 12 % a year simple over
    # 35 months: 49 300 x 0.35 = 17 255; the rest goes back to the kommune
    assert by_month(ev, "investor", "outcome_payment") == approx_dict({35: 66_555})
    assert by_month(ev, "kommune", "refund") == approx_dict({35: 92_800 - 66_555})
    assert ev.kpis["investor_irr"] == pytest.approx((66_555 / 49_300) ** (12 / 35) - 1, rel=1e-6)
    conserved(ev)


# -- peterborough -------------------------------------------------------------------------------------

def peterborough_tables(in_work: dict[tuple[str, str], int]):
    persons, spells = [], []
    pid = 0
    for cohort, entry in (("c1", 0.0), ("c2", 26.0)):
        for arm in ("treatment", "control"):
            for i in range(50):
                persons.append(person(pid, arm, cohort=cohort, entry_week=entry))
                if i < in_work[(cohort, arm)]:
                    spells += [spell(pid, "not_employed", entry, entry + 40, arm),
                               spell(pid, "employed", entry + 40, 156, arm, annual_wage=300_000)]
                else:
                    spells.append(spell(pid, "not_employed", entry, 156, arm))
                pid += 1
    return persons, spells


def test_peterborough_cohort_and_pooled_triggers_by_hand():
    persons, spells = peterborough_tables({("c1", "treatment"): 21, ("c1", "control"): 20,
                                           ("c2", "treatment"): 23, ("c2", "control"): 20})
    ev = run("peterborough", persons, spells)
    # c1: 42 % vs 40 % = +5 % < 10 %: nothing. c2 (starts week 26 = month 6, tested month 19):
    # 46 % vs 40 % = +15 %: pays 23 - 0.4 x 50 = 3 additional x GBP 8 000 x 13.7 at 19 + 3 -> 23.
    # Pooled at month 48: 44 % vs 40 % = +10 % >= 7.5 %: 4 additional, less the 3 paid: 1.
    assert by_month(ev, "state") == approx_dict({23: -3 * 109_600, 48: -109_600})
    conserved(ev)


def test_peterborough_pooled_below_threshold_pays_only_the_cohort():
    persons, spells = peterborough_tables({("c1", "treatment"): 20, ("c1", "control"): 20,
                                           ("c2", "treatment"): 22, ("c2", "control"): 20})
    ev = run("peterborough", persons, spells)
    # c2: +10 % exactly meets the cohort threshold: 2 additional; pooled +5 % < 7.5 %: nothing more
    assert by_month(ev, "state") == approx_dict({23: -2 * 109_600})


# -- bridge_financing ------------------------------------------------------------------------------

def test_bridge_financing_by_hand():
    spells = [spell(0, "programme", 0, 104), spell(0, "employed", 104, 156, annual_wage=400_000)]
    ev = run("bridge_financing", [person(0)], spells)
    week = 800 * 52 / 12  # 3 466.67 a month for the one participant
    # the investor funds months 0-11: 150 000 + 20 000 + 12 months of follow-up
    assert sum(by_month(ev, "investor", "funding").values()) == pytest.approx(-(170_000 + 12 * week))
    # then the kommune pays the provider directly for months 12-23
    assert by_month(ev, "kommune", "bridge_funding") == approx_dict({m: -week for m in range(12, 24)})
    # job start week 104 = month 24, +3 -> 27, quarter end 29; the six-month outcome is reached in
    # week 130, the end of month 30, the term's last month (counted from 1), so it is paid too:
    # month 30 (0-based), +3 -> 33, quarter end 35
    assert by_month(ev, "kommune", "outcome_payment") == approx_dict({29: -40_000, 35: -80_000})
    assert ev.kpis["investor_multiple"] == pytest.approx(120_000 / (170_000 + 12 * week))
    conserved(ev)


# -- sticking_together ------------------------------------------------------------------------------

def test_sticking_together_zero_outcomes_loses_half():
    ev = run("sticking_together", [person(0)], [spell(0, "not_employed", 0, 156)])
    # AUD 6 000 x 7.1 = 42 600 drawn: senior 70 % = 29 820, junior 12 780
    assert by_month(ev, "investor.senior", "funding") == approx_dict({0: -29_820})
    assert by_month(ev, "investor.junior", "funding") == approx_dict({0: -12_780})
    # senior coupon 3 %/yr on 29 820 in months 1-24: 74.55 a month
    assert by_month(ev, "investor.senior", "coupon") == approx_dict({m: 74.55 for m in range(1, 25)})
    # at the final evaluation (month 48 + 3) the state tops both up to half their principal
    assert by_month(ev, "investor.senior", "capital_protection") == approx_dict({51: 14_910 - 24 * 74.55})
    assert by_month(ev, "investor.junior", "capital_protection") == approx_dict({51: 6_390})
    assert ev.kpis["investor_received"] == pytest.approx(21_300)
    assert sum(by_month(ev, "state").values()) == pytest.approx(-21_300)
    conserved(ev)


def test_sticking_together_waterfall_by_hand():
    ev = run("sticking_together", [person(0)], [spell(0, "employed", 0, 156, annual_wage=400_000)])
    # job start week 0 -> paid month 5: AUD 3 000 = 21 300; 26 weeks at week 26 = month 6 -> 11: 63 900
    assert by_month(ev, "state", "outcome_payment") == approx_dict({5: -21_300, 11: -63_900})
    # month 5: all to senior principal (29 820 outstanding). Month 11: senior principal 8 520, then
    # senior return up to 12.5 %/yr: months 1-5 on 29 820 (1 553.125) + months 6-11 on 8 520 (532.5)
    # less coupons already paid (5 x 74.55 + 6 x 21.30 = 500.55) = 1 585.075; junior principal
    # 12 780 and return 11 months on 12 780 at 12.5 % = 1 464.375; the rest back to the state
    senior = by_month(ev, "investor.senior", "outcome_payment")
    assert senior == approx_dict({5: 21_300, 11: 8_520 + 1_585.075})
    assert by_month(ev, "investor.junior", "outcome_payment") == approx_dict({11: 12_780 + 1_464.375})
    assert by_month(ev, "state", "refund") == approx_dict({11: 39_550.55})
    coupons = {m: 74.55 for m in range(1, 6)} | {m: 21.3 for m in range(6, 12)}
    assert by_month(ev, "investor.senior", "coupon") == approx_dict(coupons)
    assert by_month(ev, "investor.senior", "capital_protection") == {}
    conserved(ev)


# -- Norwegian defaults per pathway ----------------------------------------------------------------

def test_gloppen_outcomes_by_hand():
    persons = [person(0, group="R", benefit_kind="introduksjonsstonad"),
               person(1, group="R", benefit_kind="introduksjonsstonad")]
    spells = [spell(0, "programme", 0, 230, benefit_kind="introduksjonsstonad"),
              spell(0, "employed", 230, 300, stage="helsefagarbeider", contract="permanent", fte=0.8,
                    annual_wage=448_000),
              spell(1, "programme", 0, 230, benefit_kind="introduksjonsstonad"),
              spell(1, "not_employed", 230, 300, benefit_kind="introduksjonsstonad")]
    events = [event(0, 200, "fagprove", "completed"), event(0, 200, "retake_preparation", "entered"),
              event(0, 215, "retake_preparation", "completed"), event(0, 215, "fagprove_retake", "entered"),
              event(0, 230, "fagprove_retake", "completed"), event(0, 230, "helsefagarbeider", "hired"),
              event(1, 200, "fagprove", "completed"), event(1, 200, "retake_preparation", "entered"),
              event(1, 215, "retake_preparation", "completed"), event(1, 215, "fagprove_retake", "entered"),
              event(1, 230, "fagprove_retake", "completed"), event(1, 230, "no_fagbrev", "exited")]
    ev = run("gloppen_outcomes", persons, spells, events, horizon=300)
    # fagbrev (passed retake, then the job) week 230 = month 53 -> 56 (a quarter end); person 1 failed.
    # Six months in work at week 256 = month 59 -> 62.
    assert by_month(ev, "investor", "outcome_payment") == approx_dict({56: 100_000, 62: 90_000})
    assert ev.kpis["outcomes_fagbrev"] == 1


def test_fjell_outcomes_by_hand_kommune_pays_state_saves():
    persons = [person(0, group="R", benefit_kind="introduksjonsstonad"),
               person(0, "control", group="R", benefit_kind="introduksjonsstonad")]
    spells = [spell(0, "employed", 0, 104, contract="project", annual_wage=420_000),
              spell(0, "employed", 104, 156, contract="permanent", annual_wage=420_000),
              spell(0, "not_employed", 0, 156, "control", benefit_kind="introduksjonsstonad")]
    ev = run("fjell_project_jobs_outcomes", persons, spells)
    # the project position does not count: job start week 104 = month 24 -> 27 -> 29; sustained
    # at week 130 = month 30 -> 33 -> 35
    assert by_month(ev, "investor", "outcome_payment") == approx_dict({29: 45_000, 35: 90_000})
    k = ev.kpis
    # kommune: project wage 2 years x 420 000 x 1.141 = 958 440; saves 3 years of 2 G
    # introduksjonsstønad = 600 000; gets a quarter of 20 % tax on 1 260 000 = 63 000; pays 67 500
    assert k["fiscal_net_kommune"] == pytest.approx(-958_440 + 600_000 + 63_000 - 67_500)
    # state: 15 % of 1 260 000 = 189 000 tax, 14.1 % AGA = 177 660, pays 67 500
    assert k["fiscal_net_state"] == pytest.approx(189_000 + 177_660 - 67_500)
    assert k["fiscal_npv_kommune"] < 0 < k["fiscal_npv_state"]


def test_baerum_outcomes_by_hand():
    spells = [spell(0, "employed", 0, 26, stage="temporary_employment", contract="temporary",
                    annual_wage=460_000, wage_payer="kommune", subsidy_payer="nav", subsidy_share=0.4),
              spell(0, "not_employed", 26, 40),
              spell(0, "employed", 40, 156, annual_wage=400_000)]
    ev = run("baerum_pilot_outcomes", [person(0)], spells)
    # in work at week 52 = month 12 -> 15 -> 17 (60 000); the pilot job does not count towards six
    # months in work: from week 40, reached week 66 = month 15 -> 18 -> 20 (40 000)
    assert by_month(ev, "investor", "outcome_payment") == approx_dict({17: 60_000, 20: 40_000})


def test_lyngdal_outcomes_by_hand():
    spells = [spell(0, "programme", 0, 18), spell(0, "employed", 18, 156, fte=0.5, annual_wage=400_000)]
    ev = run("lyngdal_en_av_mange_outcomes", [person(0)], spells)
    # job start week 18 = month 4 -> 7 -> 8; 26 weeks later, week 44 = month 10 -> 13 -> 14
    assert by_month(ev, "investor", "outcome_payment") == approx_dict({8: 40_000, 14: 80_000})


def test_enkla_jobb_outcomes_by_hand():
    spells = [spell(0, "employed", 0, 52, stage="simple_job_year1", contract="temporary",
                    annual_wage=350_000, wage_payer="kommune", subsidy_payer="nav", subsidy_share=0.8),
              spell(0, "employed", 52, 156, annual_wage=400_000)]
    ev = run("enkla_jobb_outcomes", [person(0)], spells)
    # the simple job does not count: job start week 52 = month 12 -> 15 -> 17; week 78 = 18 -> 23
    assert by_month(ev, "investor", "outcome_payment") == approx_dict({17: 45_000, 23: 90_000})


def test_every_template_is_covered_here():
    from effekt.contracts import template_names

    tested = {"kongsberg_outcomes", "dwp_rate_card", "koto_sib", "buzinezzclub", "peterborough",
              "bridge_financing", "sticking_together", "gloppen_outcomes", "fjell_project_jobs_outcomes",
              "baerum_pilot_outcomes", "lyngdal_en_av_mange_outcomes", "enkla_jobb_outcomes",
              "municipal_jobs_outcomes"}  # by hand in tests/test_pathways_municipal.py
    assert set(template_names()) == tested


def test_kpis_keep_their_names():
    ev = run("kongsberg_outcomes", *kongsberg_tables())
    for k in ("in_work_12m_treatment", "in_work_12m_control", "in_work_24m_treatment", "in_work_24m_control",
              "outcome_payments", "provider_costs", "cap_binding", "investor_irr", "investor_multiple",
              "investor_npv", "investor_peak_capital", "investor_loss"):
        assert k in ev.kpis
    assert isinstance(ev.fiscal, pd.DataFrame)


def test_cashflows_by_year_by_hand():
    from effekt.contracts import by_period

    ev = run("kongsberg_outcomes", *kongsberg_tables())
    yearly = by_period(ev.cashflows, "annual")
    kommune = yearly[yearly["party"] == "kommune"].set_index("year")["amount"].to_dict()
    # month 8 falls in year 0, month 14 in year 1
    assert kommune == pytest.approx({0: -22_500, 1: -45_000})
    assert ev.kpis["investor_loss_amount"] == pytest.approx(271_200 - 135_000)
