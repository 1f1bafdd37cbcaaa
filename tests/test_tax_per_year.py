"""Income tax per person and contract year, not per spell.

The tax of a year is the rule's average rate at the year's whole taxable income (the sum over the
person's spells of annual income x weeks in the year / 52), as Norwegian (and Finnish) tax is
assessed on a calendar year's income; each spell's share of it falls in the months it was earned.

Every expected number is computed here by hand from the tables of ``contracts/data/fiscal.toml``
(2024 rules: 7.6 % at 100 000, 14 % at 260 000, 22 % at 450 000; kommune shares 0.205 and 0.283,
fylke 0.044 and 0.0607 at 260 000 and 450 000; the pension class 11.134 % and 19.396 %) and
``contracts/data/fi/fiscal.toml`` (2018 rules), the average rates read from the tables and
interpolated by hand, never by calling the code under test.
"""

from __future__ import annotations

import pytest

from effekt.contracts.fiscal import fiscal_rules, public_flows
from effekt.contracts.records import person, persons_table, spell, spells_table

G = 130_160.0  # source: NAV, grunnbeløp from 1 May 2025
AAP = 2.041 * G  # source: folketrygdloven § 11-20, minimum 2.041 G a year: 265 656.56
KEPT = 0.40  # source: KDD grønt hefte 2024, the kommune keeps 40 % of its skatteøre above 90 % (the default)


def between(x: float, x0: float, x1: float, y0: float, y1: float) -> float:
    """Linear interpolation by hand, as the rules read between their points."""
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def rate_260_450(x: float) -> float:
    """The 2024 wage rule's average rate between 260 000 (14 %) and 450 000 (22 %)."""
    return between(x, 260_000, 450_000, 0.14, 0.22)


def rate_100_260(x: float) -> float:
    """The 2024 wage rule's average rate between 100 000 (7.6 %) and 260 000 (14 %)."""
    return between(x, 100_000, 260_000, 0.076, 0.14)


def total(flows, **where) -> float:
    f = flows
    for k, v in where.items():
        f = f[f[k] == v]
    return float(f["amount"].sum())


def in_months(flows, lo: int, hi: int, **where) -> float:
    """The amount of months ``lo .. hi - 1``."""
    f = flows[(flows["month"] >= lo) & (flows["month"] < hi)]
    return total(f, **where)


def one_person(*rows) -> tuple:
    return persons_table([person(0)]), spells_table(list(rows))


def aap_then_job() -> tuple:
    """AAP weeks 0-26, then a 400 000 job (full time, an ordinary employer) weeks 26-52."""
    return one_person(spell(0, "not_employed", 0, 26, benefit_kind="aap", benefit_g=2.041),
                      spell(0, "employed", 26, 52, annual_wage=400_000, wage_payer="employer"))


def test_half_a_year_on_aap_and_half_in_work_is_taxed_on_the_years_total():
    persons, spells = aap_then_job()
    f = public_flows(persons, spells, G, 12)
    year = AAP / 2 + 200_000  # 132 828.28 of AAP and 200 000 of wages: 332 828.28
    assert year == pytest.approx(332_828.28, abs=0.01)
    rate = rate_260_450(year)  # 14 % + 8 points x 72 828.28 / 190 000 = 17.066 %
    assert rate == pytest.approx(0.170665, abs=1e-6)
    tax = rate * year
    assert tax == pytest.approx(56_802.0, abs=0.1)
    assert total(f, item="income_tax") == pytest.approx(tax)
    # per spell, as before: half a year of AAP at AAP's own rate (14.238 %) plus half a year of the
    # wage at 400 000's rate (19.895 %), 18 912.3 + 39 789.5: more, the wage was taxed as a year's
    per_spell = AAP / 2 * rate_260_450(AAP) + 200_000 * rate_260_450(400_000)
    assert per_spell == pytest.approx(58_701.8, abs=0.1)
    assert total(f, item="income_tax") != pytest.approx(per_spell)
    # the year's tax falls in the months as the income was earned: a month of AAP is 1/12 of a
    # year's AAP, a month of work 1/12 of 400 000, each at the year's rate
    assert in_months(f, 0, 1, item="income_tax") == pytest.approx(rate * AAP / 12)
    assert in_months(f, 11, 12, item="income_tax") == pytest.approx(rate * 400_000 / 12)
    assert in_months(f, 0, 6, item="income_tax") == pytest.approx(rate * AAP / 2)


def test_the_years_tax_is_split_by_the_skatteore_at_the_years_income():
    persons, spells = aap_then_job()
    f = public_flows(persons, spells, G, 12)
    year = AAP / 2 + 200_000
    tax = rate_260_450(year) * year
    kommune = between(year, 260_000, 450_000, 0.205, 0.283)  # 23.49 % of the tax
    fylke = between(year, 260_000, 450_000, 0.044, 0.0607)  # 5.04 %
    assert kommune == pytest.approx(0.234898, abs=1e-6)
    assert fylke == pytest.approx(0.050401, abs=1e-6)
    assert total(f, party="kommune", item="income_tax") == pytest.approx(KEPT * kommune * tax)
    assert total(f, party="other_kommuner", item="income_tax") == pytest.approx((1 - KEPT) * kommune * tax)
    assert total(f, party="fylke", item="income_tax") == pytest.approx(fylke * tax)
    assert total(f, party="state", item="income_tax") == pytest.approx((1 - kommune - fylke) * tax)


def test_a_job_across_a_year_boundary_is_taxed_in_each_year_on_that_years_income():
    # 400 000 a year from week 39 to week 91: 13 weeks (100 000) in year 0, 39 weeks (300 000) in year 1
    persons, spells = one_person(spell(0, "employed", 39, 91, annual_wage=400_000, wage_payer="employer"))
    f = public_flows(persons, spells, G, 24)
    year0, year1 = 100_000.0, 300_000.0
    tax0 = 0.076 * year0  # exactly the 100 000 point: 7 600
    tax1 = rate_260_450(year1) * year1  # 15.684 %: 47 052.6
    assert tax1 == pytest.approx(47_052.6, abs=0.1)
    assert in_months(f, 0, 12, item="income_tax") == pytest.approx(tax0)
    assert in_months(f, 12, 24, item="income_tax") == pytest.approx(tax1)
    # per spell it was a year's 400 000 at 19.895 %, for a year: 79 578.9
    assert total(f, item="income_tax") != pytest.approx(400_000 * rate_260_450(400_000))
    # the employer contributions and earnings do not depend on the year
    assert total(f, party="participants", item="earnings") == pytest.approx(400_000)


def test_a_year_cut_by_the_horizon_is_taxed_on_the_income_observed_in_it():
    persons, spells = one_person(spell(0, "employed", 39, 91, annual_wage=400_000, wage_payer="employer"))
    f = public_flows(persons, spells, G, 12)  # the data end at week 52
    assert total(f, item="income_tax") == pytest.approx(0.076 * 100_000)  # not annualised


def test_a_pension_class_benefit_and_a_later_job_share_the_years_income_each_by_its_class():
    # introduksjonsstønad 2 G weeks 0-26 (130 160) then a 400 000 job weeks 26-52 (200 000): 330 160
    persons, spells = one_person(
        spell(0, "in_programme", 0, 26, benefit_kind="introduksjonsstonad", benefit_g=2.0),
        spell(0, "employed", 26, 52, annual_wage=400_000, wage_payer="employer"))
    f = public_flows(persons, spells, G, 12)
    year = G + 200_000
    wage_rate = rate_260_450(year)  # 16.954 %
    pension_rate = between(year, 260_000, 450_000, 0.11134, 0.19396)  # 14.185 %
    assert wage_rate == pytest.approx(0.169541, abs=1e-6)
    assert pension_rate == pytest.approx(0.141849, abs=1e-6)
    assert total(f, item="income_tax") == pytest.approx(wage_rate * 200_000 + pension_rate * G)


def test_two_people_in_the_same_year_are_taxed_each_on_their_own_income():
    # person 0 half a year of AAP, person 1 half a year of a 400 000 job: two separate incomes
    persons = persons_table([person(0), person(1)])
    spells = spells_table([spell(0, "not_employed", 0, 26, benefit_kind="aap", benefit_g=2.041),
                           spell(1, "employed", 26, 52, annual_wage=400_000, wage_payer="employer")])
    f = public_flows(persons, spells, G, 12)
    aap_tax = rate_100_260(AAP / 2) * AAP / 2  # 132 828.28 at 8.913 %
    job_tax = rate_100_260(200_000) * 200_000  # 11.6 %: 23 200
    assert job_tax == pytest.approx(23_200)
    assert total(f, item="income_tax") == pytest.approx(aap_tax + job_tax)


def test_a_finnish_low_wage_beside_a_year_of_tyomarkkinatuki():
    # contracts/data/fi/fiscal.toml (2018): työmarkkinatuki 8 359.20 EUR a year all year; a job at
    # 19 200 a year for the second half (9 600): the year's earned income 17 959.20
    rules = fiscal_rules("fi")
    persons, spells = one_person(
        spell(0, "not_employed", 0, 52, benefit_kind="tyomarkkinatuki", benefit_g=8_359.2),
        spell(0, "employed", 26, 52, annual_wage=19_200, wage_payer="employer"))
    f = public_flows(persons, spells, 1.0, 12, params=rules)
    year = 8_359.2 + 9_600
    # the wage class between 15 000 (3.43 %) and 18 000 (7.1561 %); the benefit class between
    # 15 000 (20.1461 %) and 18 000 (21.6855 %); the kunta's shares 0 -> 48.6432 % and 92.8107 %
    # -> 89.8448 %
    wage_rate = between(year, 15_000, 18_000, 0.0343, 0.071561)
    benefit_rate = between(year, 15_000, 18_000, 0.201461, 0.216855)
    assert wage_rate == pytest.approx(0.071054, abs=1e-6)
    assert benefit_rate == pytest.approx(0.216646, abs=1e-6)
    tax = wage_rate * 9_600 + benefit_rate * 8_359.2
    assert tax == pytest.approx(2_493.1, abs=0.1)
    assert total(f, item="income_tax") == pytest.approx(tax)
    # per spell, as before: a year of työmarkkinatuki 1 335.65 (15.9783 %) plus the wage at 19 200's
    # own rate, 8.5227 % (between 18 000 and 21 000: 7.1561 % and 10.5726 %): 2 153.8
    per_spell = 0.159783 * 8_359.2 + between(19_200, 18_000, 21_000, 0.071561, 0.105726) * 9_600
    assert per_spell == pytest.approx(2_153.8, abs=0.1)
    # the wage adds 1 157.5 to the benefit year's tax, 12.1 % of it, not the 8.5 % it pays alone
    assert (tax - 0.159783 * 8_359.2) / 9_600 == pytest.approx(0.12057, abs=1e-4)
    # the kunta keeps its share gross (no inntektsutjevning in Finland); no fylke
    kunta = (wage_rate * 9_600 * between(year, 15_000, 18_000, 0.0, 0.486432)
             + benefit_rate * 8_359.2 * between(year, 15_000, 18_000, 0.928107, 0.898448))
    assert total(f, party="kommune", item="income_tax") == pytest.approx(kunta)
    assert total(f, party="state", item="income_tax") == pytest.approx(tax - kunta)
    assert total(f, party="fylke", item="income_tax") == 0
