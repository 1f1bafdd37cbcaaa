"""The public finances by hand: benefits taxed by their tax class (AAP and dagpenger as wages,
uføretrygd, introduksjonsstønad and kvalifiseringsstønad with the low-rate trygdeavgift,
tiltakspenger as alminnelig inntekt only), the kommune's tax after inntektsutjevning, the fylke's
skatteøre, and the one wage-cost rule for public jobs.

Every expected number is computed here from the rules as published, not from the model's own
functions: the 2024 average tax rates and skatteører of ``contracts/data/fiscal.toml`` (derived
from Skatteetaten's 2024 rules: minstefradrag 46 % max 104 450, personfradrag 88 250,
trygdeavgift 7.8 % (low rate 5.1 %) above 69 650, trinnskatt 1.7 / 4.0 / 13.6 % above 208 051 /
292 851 / 670 001; skatteøre kommune 10.95, fylke 2.35 of the 22 points), G from
1 May 2025 (NAV: 130 160), AAP's minimum 2.041 G (folketrygdloven § 11-20), the inntektsutjevning
of KDD's grønt hefte 2024 (60 % symmetric, 35 % more below 90 % of the national average),
arbeidsgiveravgift 14.1 % (Skatteetaten, zone I) and the stated productivity share 0.6.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from effekt.contracts import Valuation, evaluate, load_terms
from effekt.contracts.fiscal import FiscalParams, default_fiscal, public_flows
from effekt.contracts.records import person, persons_table, spell, spells_table
from effekt.specfile import SpecError, validate

G = 130_160.0  # source: NAV, grunnbeløp from 1 May 2025
AAP = 2.041 * G  # source: folketrygdloven § 11-20, minimum 2.041 G a year: 265 656.56
AGA = 0.141  # source: Skatteetaten, arbeidsgiveravgift zone I


def between(x: float, x0: float, x1: float, y0: float, y1: float) -> float:
    """Linear interpolation by hand, as the rules read between their points."""
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def rate_260_450(x: float) -> float:
    """The average tax rate between the 260 000 (14 %) and 450 000 (22 %) points of the 2024 rule."""
    return between(x, 260_000, 450_000, 0.14, 0.22)


def kommune_260_450(x: float) -> float:
    """The kommune's gross share of the tax there (skatteøre 10.95: 0.205 and 0.283)."""
    return between(x, 260_000, 450_000, 0.205, 0.283)


def fylke_260_450(x: float) -> float:
    """The fylke's share there (skatteøre 2.35: 0.044 and 0.0607)."""
    return between(x, 260_000, 450_000, 0.044, 0.0607)


def pension_260_450(x: float) -> float:
    """The pension class's average rate between its 260 000 (11.134 %) and 450 000 (19.396 %)
    points (the 2024 rules with trygdeavgift at 5.1 %: see :func:`rule_2024`)."""
    return between(x, 260_000, 450_000, 0.11134, 0.19396)


def pension_kommune_260_450(x: float) -> float:
    """The kommune's share of the pension class's tax there (0.25456 and 0.32279)."""
    return between(x, 260_000, 450_000, 0.25456, 0.32279)


def pension_fylke_260_450(x: float) -> float:
    """The fylke's share there (0.05463 and 0.06927)."""
    return between(x, 260_000, 450_000, 0.05463, 0.06927)


def rule_2024(income: float, trygdeavgift: float, minstefradrag: bool = True,
              personinntekt: bool = True) -> tuple[float, float]:
    """The 2024 income tax on an income all of one kind, by the published rules, and its
    alminnelig-inntekt base (income - minstefradrag - personfradrag): 22 % of the base, the
    trygdeavgift rate on the income but at most 25 % of what exceeds 69 650, and trinnskatt on
    personinntekt."""
    md = min(0.46 * income, 104_450) if minstefradrag else 0.0
    base = max(0.0, income - md - 88_250)
    if not personinntekt:
        return 0.22 * base, base
    ta = min(trygdeavgift * income, max(0.0, 0.25 * (income - 69_650)))
    trinn = (0.017 * max(0.0, min(income, 292_851) - 208_051)
             + 0.040 * max(0.0, min(income, 670_001) - 292_851) + 0.136 * max(0.0, income - 670_001))
    return 0.22 * base + ta + trinn, base


def total(flows, **where) -> float:
    f = flows
    for k, v in where.items():
        f = f[f[k] == v]
    return float(f["amount"].sum())


def one_year(*rows) -> tuple:
    return persons_table([person(0), person(0, "control")]), spells_table(list(rows))


def job_or_aap() -> tuple:
    """A Kongsberg job (420 000 at 80 %, an ordinary employer) against a year of AAP at 2.041 G."""
    return one_year(spell(0, "employed", 0, 52, fte=0.8, annual_wage=420_000, wage_payer="employer"),
                    spell(0, "not_employed", 0, 52, "control", benefit_kind="aap", benefit_g=2.041))


# -- benefits are taxed by their tax class -----------------------------------------------------

def test_a_year_of_aap_pays_tax_at_the_2024_average_rate_split_by_skatteore():
    persons, spells = one_year(spell(0, "not_employed", 0, 52, benefit_kind="aap", benefit_g=2.041))
    f = public_flows(persons, spells, G, 12)
    # 265 656.56 a year: 14 % + 8 points x 5 656.56 / 190 000 = 14.238 %, so 37 824.6 of tax
    tax = AAP * rate_260_450(AAP)
    assert tax == pytest.approx(37_824.6, abs=0.1)
    assert total(f, item="income_tax") == pytest.approx(tax)
    # the kommune's skatteøre is 20.73 % of it, of which it keeps 40 % (above 90 % of the national
    # average) and the other kommuner get 60 %; the fylke's skatteøre 4.45 %; the state the rest
    k, fy = kommune_260_450(AAP), fylke_260_450(AAP)
    assert total(f, party="kommune", item="income_tax") == pytest.approx(0.4 * k * tax)
    assert total(f, party="other_kommuner", item="income_tax") == pytest.approx(0.6 * k * tax)
    assert total(f, party="fylke", item="income_tax") == pytest.approx(fy * tax)
    assert total(f, party="state", item="income_tax") == pytest.approx((1 - k - fy) * tax)
    assert total(f, party="state", item="benefits") == pytest.approx(-AAP)  # NAV pays it


def test_sosialhjelp_is_not_taxed_but_introduksjonsstonad_is():
    # sosialtjenesteloven § 18 support is not taxable income; introduksjonsstønad (2 G) is, as
    # personinntekt with the low-rate trygdeavgift (folketrygdloven § 23-3 second ledd nr. 1 d)
    persons, spells = one_year(spell(0, "not_employed", 0, 52, benefit_kind="sosialhjelp", benefit_g=0.7237),
                               spell(0, "not_employed", 0, 52, "control", benefit_kind="introduksjonsstonad",
                                     benefit_g=2.0))
    f = public_flows(persons, spells, G, 12)
    assert total(f, arm="treatment", item="income_tax") == 0
    intro = 2.0 * G  # 260 320: just above the 260 000 point
    assert total(f, arm="control", item="income_tax") == pytest.approx(intro * pension_260_450(intro))
    assert total(f, arm="control", party="kommune", item="benefits") == pytest.approx(-intro)


def test_the_class_tables_are_the_2024_rules_at_their_points():
    rules = default_fiscal()
    classes = {"pension": dict(trygdeavgift=0.051),
               "ordinary_income": dict(trygdeavgift=0.0, minstefradrag=False, personinntekt=False)}
    for name, kind in classes.items():
        table = rules.benefit_tax_classes[name]
        for x, rate, k, fy in zip(table.wage_points, table.average_rates, table.kommune_shares,
                                  table.fylke_shares or [], strict=True):
            tax, base = rule_2024(x, **kind)
            assert rate == pytest.approx(tax / x if x else 0.0, abs=5e-6), (name, x)
            if tax:  # the skatteører: 10.95 and 2.35 of the 22 points on the base
                assert k == pytest.approx(0.1095 * base / tax, abs=5e-6), (name, x)
                assert fy == pytest.approx(0.0235 * base / tax, abs=5e-6), (name, x)
    # the wage table is the same rule (rounded: 13.83 % at 260 000 is written 0.14)
    wage = rules.income_tax
    for x, rate in zip(wage.wage_points[1:], wage.average_rates[1:], strict=True):
        assert rate == pytest.approx(rule_2024(x, 0.078)[0] / x, abs=0.002)
    assert {k: rules.tax_class(k) for k in ("aap", "dagpenger", "uforetrygd", "introduksjonsstonad",
                                            "kvalifiseringsstonad", "tiltakspenger", "sosialhjelp")} == {
        "aap": "wage", "dagpenger": "wage", "uforetrygd": "pension", "introduksjonsstonad": "pension",
        "kvalifiseringsstonad": "pension", "tiltakspenger": "ordinary_income", "sosialhjelp": None}


@pytest.mark.parametrize(("kind", "g", "expected_tax"), [
    # 2 G = 260 320: 11.134 % + 8.262 points x 320 / 190 000 = 11.1479 %, so 29 020.3 (by the wage
    # rule it was 14.0135 %, 36 480.0: the low-rate trygdeavgift takes 7 460 off)
    ("introduksjonsstonad", 2.0, 29_020.3),
    ("kvalifiseringsstonad", 2.0, 29_020.3),
    # 2.529 G = 329 174.64: 11.134 % + 8.262 points x 69 174.64 / 190 000 = 14.1420 %, so 46 551.9
    # (by the wage rule 16.9126 %, 55 672.0)
    ("uforetrygd", 2.529, 46_551.9),
    # 2.041 G = 265 656.56 stays on the wage rule: 14.2382 %, 37 824.6
    ("aap", 2.041, 37_824.6),
    ("dagpenger", 2.041, 37_824.6),
])
def test_a_year_of_a_benefit_is_taxed_by_its_class(kind, g, expected_tax):
    persons, spells = one_year(spell(0, "not_employed", 0, 52, benefit_kind=kind, benefit_g=g))
    f = public_flows(persons, spells, G, 12)
    b = g * G
    if kind in ("aap", "dagpenger"):
        tax, k, fy = b * rate_260_450(b), kommune_260_450(b), fylke_260_450(b)
    else:
        tax, k, fy = b * pension_260_450(b), pension_kommune_260_450(b), pension_fylke_260_450(b)
    assert tax == pytest.approx(expected_tax, abs=0.1)
    assert total(f, item="income_tax") == pytest.approx(tax)
    # the 22 % part by skatteører (the kommune keeps 40 %, above 90 % of the national average),
    # trygdeavgift and trinnskatt to the state, as for wages
    assert total(f, party="kommune", item="income_tax") == pytest.approx(0.4 * k * tax)
    assert total(f, party="other_kommuner", item="income_tax") == pytest.approx(0.6 * k * tax)
    assert total(f, party="fylke", item="income_tax") == pytest.approx(fy * tax)
    assert total(f, party="state", item="income_tax") == pytest.approx((1 - k - fy) * tax)


def test_tiltakspenger_are_alminnelig_inntekt_only():
    # 0.569 G = 74 061 a year is below the personfradrag (88 250): no tax at all (by the wage rule
    # it paid 5.6 %, 4 169)
    persons, spells = one_year(spell(0, "not_employed", 0, 52, benefit_kind="tiltakspenger", benefit_g=0.569))
    assert total(public_flows(persons, spells, G, 12), item="income_tax") == 0
    # 2.041 G = 265 656.56: 22 % of (income - 88 250) at the points, 14.533 % at 260 000 and
    # 17.686 % at 450 000: 14.6269 %, 38 857.2, all on alminnelig inntekt (kommune 10.95 / 22)
    persons, spells = one_year(spell(0, "not_employed", 0, 52, benefit_kind="tiltakspenger", benefit_g=2.041))
    f = public_flows(persons, spells, G, 12)
    tax = AAP * between(AAP, 260_000, 450_000, 0.14533, 0.17686)
    assert tax == pytest.approx(38_857.2, abs=0.1)
    assert total(f, item="income_tax") == pytest.approx(tax)
    assert total(f, party="kommune", item="income_tax") == pytest.approx(0.4 * 0.49773 * tax)
    assert total(f, party="fylke", item="income_tax") == pytest.approx(0.10682 * tax)


def test_a_wage_beside_uforetrygd_taxes_each_krone_by_its_class_at_the_whole_income():
    # half time at 400 000 beside 1 G of uføretrygd: 330 160 of taxable income; the wage at the
    # wage rule's 16.9541 % of it (33 908.2), the uføretrygd at the pension class's 14.1849 %
    # (18 463.0): 52 371.2; the difference of the two rates is the trygdeavgift's 7.8 - 5.1 points
    # (2.87 at the 260 000 point, where the wage table rounds 13.83 % up to 14 %)
    persons, spells = one_year(spell(0, "employed", 0, 52, fte=0.5, annual_wage=400_000,
                                     benefit_kind="uforetrygd", benefit_g=1.0))
    f = public_flows(persons, spells, G, 12)
    income = 200_000 + G
    tax = 200_000 * rate_260_450(income) + G * pension_260_450(income)
    assert tax == pytest.approx(52_371.2, abs=0.1)
    assert total(f, item="income_tax") == pytest.approx(tax)
    k = 200_000 * rate_260_450(income) * kommune_260_450(income) + G * pension_260_450(income) \
        * pension_kommune_260_450(income)
    skatteore = sum(total(f, party=p, item="income_tax") for p in ("kommune", "other_kommuner"))
    assert skatteore == pytest.approx(k)


def test_fjell_a_project_position_instead_of_introduksjonsstonad():
    # docs/public-finances.md example 3: 505 000 full time paid by the kommune against a year of
    # introduksjonsstønad at 2 G (paid by the kommune, taxed in the pension class)
    persons, spells = one_year(spell(0, "employed", 0, 52, contract="project", annual_wage=505_000,
                                     wage_payer="kommune"),
                               spell(0, "not_employed", 0, 52, "control", benefit_kind="introduksjonsstonad",
                                     benefit_g=2.0))
    f = public_flows(persons, spells, G, 12)
    d = {p: total(f[f["arm"] == "treatment"], party=p) - total(f[f["arm"] == "control"], party=p)
         for p in ("kommune", "other_kommuner", "fylke", "state")}
    # the job: 22 % + 4.7 points x 55 000 / 250 000 = 23.034 %, 116 321.7; kommune share 28.608 %
    # (33 277.3), fylke 6.136 % (7 137.5). The stønad: 29 020.3, kommune 25.4675 % (7 390.7),
    # fylke 5.4655 % (1 586.1)
    skatteore = 33_277.3 - 7_390.7
    net_job_cost = 0.4 * 505_000 * (1 + AGA)  # 230 482
    assert d["kommune"] == pytest.approx(2 * G - net_job_cost + 0.4 * skatteore, abs=0.5)  # 40 193
    assert d["other_kommuner"] == pytest.approx(0.6 * skatteore, abs=0.5)  # 15 532
    assert d["fylke"] == pytest.approx(7_137.5 - 1_586.1, abs=0.5)  # 5 551
    state_tax = (116_321.7 - 33_277.3 - 7_137.5) - (29_020.3 - 7_390.7 - 1_586.1)  # 55 863.4
    assert d["state"] == pytest.approx(AGA * 505_000 + state_tax, abs=0.5)  # 127 068


def test_a_tax_class_the_rules_do_not_have_is_refused_naming_it():
    data = {"income_tax": {"wage_points": [0, 1], "average_rates": [0, 0], "kommune_shares": [0, 0]},
            "employer_contributions": {"rate": 0.141}, "integration_grant": {"per_year": []}}
    with pytest.raises(SpecError, match="taxable_benefits") as err:
        validate(FiscalParams, {**data, "taxable_benefits": {"aap": "pensjon"}}, "my_fiscal.toml")
    assert "my_fiscal.toml" in str(err.value) and "'pensjon'" in str(err.value) and "'wage'" in str(err.value)
    table = {"wage_points": [0, 1], "average_rates": [0, 0], "kommune_shares": [0, 0]}
    with pytest.raises(SpecError, match="benefit_tax_classes.wage"):
        validate(FiscalParams, {**data, "benefit_tax_classes": {"wage": table}}, "my_fiscal.toml")
    # true still means the wage class (rules built by hand)
    rules = validate(FiscalParams, {**data, "taxable_benefits": {"aap": True, "kvp": "low"},
                                    "benefit_tax_classes": {"low": table}}, "my_fiscal.toml")
    assert rules.tax_class("aap") == "wage" and rules.tax_class("kvp") == "low"


def test_part_time_work_and_a_graded_benefit_are_taxed_on_their_sum():
    # half time at 400 000 beside 1 G of AAP: 200 000 + 130 160 = 330 160 of taxable income
    persons, spells = one_year(spell(0, "employed", 0, 52, fte=0.5, annual_wage=400_000,
                                     benefit_kind="aap", benefit_g=1.0))
    f = public_flows(persons, spells, G, 12)
    income = 200_000 + G
    assert total(f, item="income_tax") == pytest.approx(income * rate_260_450(income))
    assert total(f, party="participants", item="earnings") == pytest.approx(200_000)  # the wage only
    assert total(f, item="employer_contributions") == pytest.approx(AGA * 200_000)


def test_moving_from_aap_into_work_gains_the_tax_net_of_the_benefit_tax_lost():
    persons, spells = job_or_aap()
    ev = evaluate(load_terms("kongsberg_outcomes"), persons, spells, 52, Valuation(G=G))
    wage = 336_000.0
    job_tax = wage * rate_260_450(wage)  # 17.2 %: 57 792
    aap_tax = AAP * rate_260_450(AAP)  # 37 824.6
    assert job_tax == pytest.approx(57_792)
    assert ev.kpis["fiscal_income_tax"] == pytest.approx(job_tax - aap_tax)  # 19 967, not 57 792
    assert ev.kpis["fiscal_benefits"] == pytest.approx(AAP)
    assert ev.kpis["fiscal_employer_contributions"] == pytest.approx(AGA * wage)


@pytest.mark.parametrize(("base", "kept"), [("above_90", 1 - 0.60), ("below_90", 1 - 0.60 - 0.35),
                                            (0.25, 0.25)])
def test_the_kommunes_net_tax_gain_after_inntektsutjevning(base, kept):
    # grønt hefte 2024: above 90 % of the national average the kommune keeps 40 % of a marginal
    # krone of skatteøre, below it 5 %; the rest goes to the other kommuner, so public money is kept
    persons, spells = job_or_aap()
    ev = evaluate(load_terms("kongsberg_outcomes"), persons, spells, 52,
                  Valuation(G=G, kommune_tax_base=base))
    d = ev.fiscal[(ev.fiscal["arm"] == "difference") & (ev.fiscal["item"] == "income_tax")]
    wage = 336_000.0
    skatteore = (wage * rate_260_450(wage) * kommune_260_450(wage)
                 - AAP * rate_260_450(AAP) * kommune_260_450(AAP))
    assert skatteore == pytest.approx(13_650.47 - 7_841.7, abs=1.0)  # 23.62 % and 20.73 % of the two taxes
    assert total(d, party="kommune") == pytest.approx(kept * skatteore)
    assert total(d, party="other_kommuner") == pytest.approx((1 - kept) * skatteore)
    assert total(d) == pytest.approx(wage * rate_260_450(wage) - AAP * rate_260_450(AAP))


def test_the_default_position_is_above_90_and_a_scenario_can_choose():
    from effekt.experiments.runner import valuation_of
    from effekt.experiments.scenario import load_scenario

    assert Valuation().fiscal.kommune_kept_share() == pytest.approx(0.4)
    below = load_scenario(None, ["scenario.kommune_tax_base=below_90"])
    assert valuation_of(below).fiscal.kommune_kept_share() == pytest.approx(0.05)
    share = load_scenario(None, ["scenario.kommune_tax_base=0.3"])
    assert valuation_of(share).fiscal.kommune_kept_share() == 0.3
    with pytest.raises(SpecError, match="kommune_tax_base"):
        load_scenario(None, ["scenario.kommune_tax_base=1.5"])
    with pytest.raises(ValueError, match="kommune_tax_base"):
        Valuation(kommune_tax_base="middle")


# -- the one wage-cost rule ---------------------------------------------------------------------

def net_cost(f, party: str) -> float:
    """A party's net cost of a job: wage cost - value of the work - subsidy received."""
    return sum(total(f, party=party, item=i) for i in ("wage_cost", "value_of_work", "wage_subsidy"))


def test_a_kommune_engagement_costs_wage_cost_less_the_value_of_the_work():
    # Kongsberg's temporary engagement: 420 000 at 80 %, paid by the kommune, no subsidy
    persons, spells = one_year(spell(0, "employed", 0, 52, contract="temporary", fte=0.8, annual_wage=420_000,
                                     wage_payer="kommune"))
    f = public_flows(persons, spells, G, 12)
    cost = 336_000 * (1 + AGA)  # 383 376
    assert total(f, party="kommune", item="wage_cost") == pytest.approx(-cost)
    assert total(f, party="kommune", item="value_of_work") == pytest.approx(0.6 * cost)
    assert net_cost(f, "kommune") == pytest.approx(-0.4 * cost)  # -153 350.40


def test_a_project_position_is_costed_by_the_same_rule():
    # Fjell's project position: 505 000 full time, paid by the kommune
    persons, spells = one_year(spell(0, "employed", 0, 52, contract="project", annual_wage=505_000,
                                     wage_payer="kommune"))
    f = public_flows(persons, spells, G, 12)
    assert net_cost(f, "kommune") == pytest.approx(-0.4 * 505_000 * (1 + AGA))  # -230 482


@pytest.mark.parametrize(("fte", "share", "kommune_net"), [
    (0.6, 0.4, 0.0),                         # Lyngdal: midlertidig lønnstilskudd 40 % makes up the 40 %
    (1.0, 0.8, +0.4 * 420_000 * (1 + AGA)),  # Enkla jobb's 80 %: the state pays more than the work lacks
])
def test_a_subsidised_kommune_job_nets_the_subsidy_it_receives(fte, share, kommune_net):
    persons, spells = one_year(spell(0, "employed", 0, 52, contract="temporary", fte=fte, annual_wage=420_000,
                                     wage_payer="kommune", subsidy_payer="nav", subsidy_share=share))
    f = public_flows(persons, spells, G, 12)
    cost = fte * 420_000 * (1 + AGA)
    assert net_cost(f, "kommune") == pytest.approx(kommune_net, abs=1e-6)
    assert total(f, party="state", item="wage_subsidy") == pytest.approx(-share * cost)


def test_ordinary_employers_wages_and_permanent_posts_cost_nothing():
    persons, spells = one_year(spell(0, "employed", 0, 26, contract="temporary", annual_wage=420_000,
                                     wage_payer="employer"),
                               spell(0, "employed", 26, 52, contract="permanent", annual_wage=448_000,
                                     wage_payer="kommune"))
    f = public_flows(persons, spells, G, 12)
    # the employer's half year books nothing; the permanent post's work is worth its cost (share 1)
    assert total(f, party="kommune", item="wage_cost") == pytest.approx(-0.5 * 448_000 * (1 + AGA))
    assert net_cost(f, "kommune") == pytest.approx(0.0, abs=1e-6)
    # a job whose payer the data do not name is an ordinary employer's
    persons, spells = one_year(spell(0, "employed", 0, 52, contract="temporary", annual_wage=420_000))
    assert total(public_flows(persons, spells, G, 12), item="wage_cost") == 0


def test_the_old_wage_keys_are_refused_saying_what_to_write():
    data = {"income_tax": {"wage_points": [0, 1], "average_rates": [0, 0], "kommune_shares": [0, 0]},
            "employer_contributions": {"rate": 0.141}, "integration_grant": {"per_year": []}}
    for old in ({"public_cost_contracts": ["project"]}, {"subsidised_wages_are_costs": True}):
        with pytest.raises(SpecError, match="productivity_share") as err:
            validate(FiscalParams, {**data, "wages": old}, "my_fiscal.toml")
        assert "my_fiscal.toml" in str(err.value) and next(iter(old)) in str(err.value)


def test_a_benefit_kind_the_rules_do_not_know_is_refused_naming_it_and_the_file():
    persons, spells = one_year(spell(0, "not_employed", 0, 52, benefit_kind="bostotte", benefit_g=0.2))
    with pytest.raises(SpecError, match="bostotte") as err:
        public_flows(persons, spells, G, 12)
    assert "fiscal.toml" in str(err.value) and "[benefit_payers]" in str(err.value)
    assert "[taxable_benefits]" in str(err.value)
    # the kinds sim adds are known: dagpenger and tiltakspenger, paid by the state and taxed
    # (dagpenger as wages, tiltakspenger as alminnelig inntekt only: 22 % of income - 88 250 at the points)
    for kind, rate in (("dagpenger", rate_260_450(AAP)),
                       ("tiltakspenger", between(AAP, 260_000, 450_000, 0.14533, 0.17686))):
        persons, spells = one_year(spell(0, "not_employed", 0, 52, benefit_kind=kind, benefit_g=2.041))
        f = public_flows(persons, spells, G, 12)
        assert total(f, party="state", item="benefits") == pytest.approx(-AAP)
        assert total(f, item="income_tax") == pytest.approx(AAP * rate)


# -- the parties add up -------------------------------------------------------------------------

POINTS = [0, 100_000, 260_000, 450_000, 700_000]
CLASS_RATES = {  # the 2024 rules at the points (test_the_class_tables_are_the_2024_rules_at_their_points)
    "wage": (POINTS, [0.0, 0.076, 0.14, 0.22, 0.267]),
    "pension": (POINTS, [0.0, 0.051, 0.11134, 0.19396, 0.23988]),
    "ordinary_income": ([0, 88_250, *POINTS[1:]], [0.0, 0.0, 0.02585, 0.14533, 0.17686, 0.19226]),
}
KIND_CLASS = {"aap": "wage", "dagpenger": "wage", "uforetrygd": "pension", "introduksjonsstonad": "pension",
              "kvalifiseringsstonad": "pension", "tiltakspenger": "ordinary_income"}


def rule_tax(wage: float, benefit: float, kind: str) -> float:
    """The 2024 average-rate rule by hand (contracts/data/fiscal.toml [income_tax] and
    [benefit_tax_classes]): the wage at the wage rate, a taxed benefit at its class's rate, both
    for the whole taxable income."""
    cls = KIND_CLASS.get(kind)
    taxable = wage + (benefit if cls else 0.0)
    tax = wage * float(np.interp(taxable, *CLASS_RATES["wage"]))
    return tax + (benefit * float(np.interp(taxable, *CLASS_RATES[cls])) if cls else 0.0)


@settings(max_examples=60, deadline=None)
@given(wage=st.floats(0, 900_000), fte=st.floats(0.1, 1.0), benefit_g=st.floats(0, 3),
       kind=st.sampled_from(["aap", "sosialhjelp", "uforetrygd", "introduksjonsstonad",
                             "kvalifiseringsstonad", "tiltakspenger", "dagpenger", "none"]),
       employed=st.booleans(),
       base=st.one_of(st.sampled_from(["above_90", "below_90"]), st.floats(0, 1)))
def test_the_public_parties_income_tax_adds_up_to_the_rule(wage, fte, benefit_g, kind, employed, base):
    persons, spells = one_year(spell(0, "employed" if employed else "not_employed", 0, 52, fte=fte,
                                     annual_wage=wage, benefit_kind=kind, benefit_g=benefit_g))
    rules = default_fiscal().with_kommune_tax_base(base)
    f = public_flows(persons, spells, G, 12, rules)
    parts = [total(f, party=p, item="income_tax") for p in ("kommune", "other_kommuner", "fylke", "state")]
    expected = rule_tax(wage * fte if employed else 0.0, benefit_g * G, kind)
    assert sum(parts) == pytest.approx(expected, rel=1e-9, abs=1e-6)
    assert set(f.loc[f["item"] == "income_tax", "party"]) <= {"kommune", "other_kommuner", "fylke", "state"}
    assert min(parts) >= -1e-9
