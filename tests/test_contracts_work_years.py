"""Discounted person-years in work (issue 12: what decide's willingness to pay is per), by hand.

Three people with the programme and two without, with known job spells, a 156-week contract and
a 520-week long run. Undiscounted, the programme arm works 1 + 1 + 0.5 years in the contract
period (two overlapping jobs count once) and the counterfactual arm 0.5 years, so the additional
person-years are 2.5 - 0.5 x 3 / 2 = 1.75. Discounted at 4 % real, each year's weight is
1.04 ** -t, integrated here numerically (scipy's quad), not by the module's closed form.
"""

from __future__ import annotations

import math

import pytest
from scipy.integrate import quad

from effekt.contracts import Valuation, declared_kpi, evaluate, kpis_for, load_terms
from effekt.contracts.records import person, persons_table, spell, spells_table
from effekt.contracts.work_years import discounted_years

TERMS = load_terms("kongsberg_outcomes")
H, LONG = 156.0, 520.0


def _tables(with_control: bool = True):
    people = [person(0), person(1), person(2)]
    spells = [
        spell(0, "not_employed", 0, 52), spell(0, "employed", 52, 104), spell(0, "not_employed", 104, LONG),
        spell(1, "employed", 0, 26), spell(1, "employed", 13, 52), spell(1, "not_employed", 52, LONG),
        spell(2, "not_employed", 0, 130), spell(2, "employed", 130, 200), spell(2, "not_employed", 200, LONG),
    ]
    if with_control:
        people += [person(10, "control"), person(11, "control")]
        spells += [spell(10, "employed", 0, 26, "control"), spell(10, "not_employed", 26, LONG, "control"),
                   spell(11, "not_employed", 0, LONG, "control")]
    return persons_table(people), spells_table(spells)


def _years(a_weeks: float, b_weeks: float, rate: float) -> float:
    """Discounted years of a job from week a to week b, by numerical integration over years."""
    return quad(lambda t: (1 + rate) ** -t, a_weeks / 52, b_weeks / 52)[0]


def test_undiscounted_person_years_by_hand():
    persons, spells = _tables()
    k = evaluate(TERMS, persons, spells, H, Valuation(discount_rate=0.0), long_run_weeks=LONG).kpis
    assert k["additional_work_years"] == pytest.approx(2.5 - 0.5 * 3 / 2, abs=1e-12)
    assert k["additional_work_years_long_run"] == pytest.approx(1 + 1 + 70 / 52 - 0.5 * 3 / 2, abs=1e-12)


def test_discounted_person_years_by_hand():
    r = 0.04
    persons, spells = _tables()
    k = evaluate(TERMS, persons, spells, H, Valuation(discount_rate=r), long_run_weeks=LONG).kpis
    control = _years(0, 26, r)
    contract = _years(52, 104, r) + _years(0, 52, r) + _years(130, 156, r) - control * 3 / 2
    long_run = _years(52, 104, r) + _years(0, 52, r) + _years(130, 200, r) - control * 3 / 2
    assert k["additional_work_years"] == pytest.approx(contract, rel=1e-10)
    assert k["additional_work_years_long_run"] == pytest.approx(long_run, rel=1e-10)
    assert k["additional_work_years"] < 1.75  # discounting only lowers later years


def test_the_contract_period_is_the_same_with_and_without_a_long_run():
    persons, spells = _tables()
    short = evaluate(TERMS, persons, spells, H, Valuation()).kpis
    both = evaluate(TERMS, persons, spells, H, Valuation(), long_run_weeks=LONG).kpis
    assert short["additional_work_years"] == pytest.approx(both["additional_work_years"], rel=1e-12)
    assert "additional_work_years_long_run" not in short


def test_no_counterfactual_arm_gives_nan():
    """Without controls (missing_control = "not_met": a comparison with controls is not met) the
    contract is evaluated and the additional person-years, which need the counterfactual, are NaN
    (review 14 item 10: one behaviour, asserted)."""
    persons, spells = _tables(with_control=False)
    k = evaluate(TERMS, persons, spells, H, Valuation(missing_control="not_met")).kpis
    assert math.isnan(k["additional_work_years"])


def _gap_tables():
    """Review 14 items 1 and 10: person 0 works weeks 0-200; person 1 works 10-20 and 50-60, a gap
    between that person 0's job outlasts (a running maximum of job ends across persons would join
    person 1's two jobs into 10-60); controls: person 10 works 0-26, person 11 never."""
    people = [person(0), person(1), person(10, "control"), person(11, "control")]
    spells = [
        spell(0, "employed", 0, 200), spell(0, "not_employed", 200, LONG),
        spell(1, "not_employed", 0, 10), spell(1, "employed", 10, 20), spell(1, "not_employed", 20, 50),
        spell(1, "employed", 50, 60), spell(1, "not_employed", 60, LONG),
        spell(10, "employed", 0, 26, "control"), spell(10, "not_employed", 26, LONG, "control"),
        spell(11, "not_employed", 0, LONG, "control"),
    ]
    return persons_table(people), spells_table(spells)


def test_two_jobs_with_a_gap_count_only_the_weeks_in_work():
    """By hand, undiscounted: the programme arm works 156 + 10 + 10 weeks in the contract period
    (200 + 20 in the long run), the counterfactual arm 26 weeks (2 people each arm: scale 1), so
    the additional person-years are (176 - 26) / 52 and (220 - 26) / 52, not (206 - 26) / 52 with
    the gap filled in; discounted at 4 %, each spell integrated numerically."""
    persons, spells = _gap_tables()
    k = evaluate(TERMS, persons, spells, H, Valuation(discount_rate=0.0), long_run_weeks=LONG).kpis
    assert k["additional_work_years"] == pytest.approx((176 - 26) / 52, abs=1e-12)
    assert k["additional_work_years_long_run"] == pytest.approx((220 - 26) / 52, abs=1e-12)
    r = 0.04
    k = evaluate(TERMS, persons, spells, H, Valuation(discount_rate=r), long_run_weeks=LONG).kpis
    jobs_1, control = _years(10, 20, r) + _years(50, 60, r), _years(0, 26, r)
    assert k["additional_work_years"] == pytest.approx(_years(0, 156, r) + jobs_1 - control, rel=1e-10)
    long_run = _years(0, 200, r) + jobs_1 - control
    assert k["additional_work_years_long_run"] == pytest.approx(long_run, rel=1e-10)


def test_the_kpi_is_declared_with_labels_in_both_languages():
    reg = kpis_for(TERMS, long_run=True)
    for name in ("additional_work_years", "additional_work_years_long_run"):
        k = reg[name]
        assert k.arm == "difference" and k.higher_is_better
        assert "person-years" in k.label("en") and "personår" in k.label("nb")
        assert declared_kpi(name) == k  # found by name in a table read without its contract
    assert "additional_work_years_long_run" not in kpis_for(TERMS)


def test_closed_form_of_one_spell():
    one = float(discounted_years([0.0], [52.0], 0.04, 1e9)[0])
    assert one == pytest.approx(_years(0, 52, 0.04), rel=1e-12)
    assert float(discounted_years([200.0], [300.0], 0.04, 156.0)[0]) == 0.0  # after the window
