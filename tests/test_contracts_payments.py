"""Pricing rules on hand-made outcome tables: ladders, target-group prices, caps, term, periods,
triggers, and the provider's and intermediary's fees. Expected amounts are worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from effekt.contracts import evaluate
from effekt.contracts.payments import NeedsControl, schedule_payments, trigger_result
from effekt.contracts.records import person, persons_table, spell, spells_table
from effekt.contracts.terms import Terms, Trigger


def terms(**over) -> Terms:
    base = {
        "contract": {"name": "t", "title": "t", "term_months": 24},
        "outcomes": {"job": {"metric": "job_start", "window_weeks": 104},
                     "kept": {"metric": "sustained_employment", "weeks": 26, "window_weeks": 104}},
        "prices": {"job": 100.0, "kept": 200.0},
        "commissioners": {"kommune": 1.0},
    }
    for k, v in over.items():
        base[k] = v
    return Terms.model_validate(base)


def outcomes(rows: list[tuple[int, str, float]], group: str = "A") -> pd.DataFrame:
    return pd.DataFrame([{"arm": "treatment", "person_id": p, "cohort": "k1", "group": group,
                          "outcome": o, "week": w, "quantity": 1.0} for p, o, w in rows])


def people(n: int, entry: float = 0.0) -> pd.DataFrame:
    return persons_table([person(i, entry_week=entry) for i in range(n)])


def test_count_ladder_prices_by_order_reached():
    ladder = [{"from": 0, "price": 100}, {"from": 2, "price": 40}]
    t = terms(prices={"job": {"default": 100, "ladder": ladder}, "kept": 200})
    pay = schedule_payments(t, outcomes([(0, "job", 1), (1, "job", 2), (2, "job", 3)]), people(3))
    assert list(pay["amount"]) == [100, 100, 40]


def test_time_ladder_pays_faster_outcomes_more():
    t = terms(prices={"job": {"default": 0, "ladder_by": "weeks_since_entry",
                              "ladder": [{"from": 0, "price": 100}, {"from": 26, "price": 60}]},
                      "kept": 200})
    pay = schedule_payments(t, outcomes([(0, "job", 20), (1, "job", 40)]), people(2, entry=10))
    # 10 and 30 weeks after entry
    assert list(pay["amount"]) == [100, 60]


def test_price_per_target_group():
    t = terms(prices={"job": {"default": 100, "by_group": {"B": 150}}, "kept": 200})
    a = outcomes([(0, "job", 1)], group="A")
    b = outcomes([(1, "job", 1)], group="B")
    pay = schedule_payments(t, pd.concat([a, b]), people(2))
    assert list(pay["amount"]) == [100, 150]


def test_caps_per_person_and_contract_in_order_reached():
    t = terms(caps={"per_person": 250, "contract": 420})
    rows = [(0, "job", 1), (0, "kept", 27), (1, "job", 2), (1, "kept", 28), (2, "job", 3)]
    pay = schedule_payments(t, outcomes(rows), people(3)).set_index(["person_id", "outcome"])
    # order: p0 job 100, p1 job 100, p2 job 100 (300 so far), p0 kept 150 (person cap 250 - 100)
    # -> 420 reached by the contract cap after 120 of it; p1 kept gets nothing
    assert pay.loc[(0, "kept"), "amount"] == pytest.approx(120)
    assert pay.loc[(1, "kept"), "amount"] == 0
    assert pay["amount"].sum() == pytest.approx(420)
    assert pay.loc[(0, "kept"), "capped"] and pay.loc[(1, "kept"), "capped"]
    assert not pay.loc[(2, "job"), "capped"]


def test_outcomes_after_the_term_are_not_paid_and_periods_round_up():
    t = terms(contract={"name": "t", "title": "t", "term_months": 12, "payment_lag_months": 1,
                        "payment_period": "annual"})
    # week 51 = month 11 (paid month 11 + 1 = 12, end of year 2 = month 23); week 52 is the end of
    # month 12, the term's last month (counted from 1: docs/contracts.md), so it is paid (month 12
    # + 1 = 13, also at the end of year 2); week 52.5 is past the term
    pay = schedule_payments(t, outcomes([(0, "job", 51), (1, "job", 52), (2, "job", 52.5)]), people(3))
    assert list(pay["person_id"]) == [0, 1]
    assert list(pay["month_paid"]) == [23, 23]


@pytest.mark.parametrize(("counts", "trigger", "met", "paid_for"), [
    # 11 of 20 vs 10 of 20: relative +10 %, difference +5 points; additional 11 - 0.5 x 20 = 1
    ({"treatment": (11, 20), "control": (10, 20)},
     dict(compare="relative_to_control", threshold=0.10, pay="additional"), True, 1.0),
    ({"treatment": (11, 20), "control": (10, 20)},
     dict(compare="relative_to_control", threshold=0.11), False, 0.0),
    ({"treatment": (11, 20), "control": (10, 20)},
     dict(compare="difference_to_control", threshold=0.05), True, 11.0),
    ({"treatment": (6, 20), "control": (0, 0)}, dict(compare="absolute", threshold=0.3), True, 6.0),
    ({"treatment": (5, 20), "control": (0, 0)}, dict(compare="absolute", threshold=0.3), False, 0.0),
    # control rate 0: any treatment outcome is an infinite relative improvement
    ({"treatment": (1, 20), "control": (0, 20)},
     dict(compare="relative_to_control", threshold=5.0), True, 1.0),
])
def test_trigger_result(counts, trigger, met, paid_for):
    t = Trigger(outcome="job", scope="pooled", **trigger)
    assert trigger_result(t, counts) == (met, paid_for)


def test_trigger_against_control_without_control_is_an_error():
    t = Trigger(outcome="job", scope="pooled", compare="relative_to_control", threshold=0.1)
    with pytest.raises(NeedsControl, match="control arm"):
        trigger_result(t, {"treatment": (5, 10), "control": (0, 0)})


def test_fees_come_off_the_top_and_costs_are_funded():
    t = terms(provider={"per_participant": 1000, "performance_fee": 0.1},
              intermediary={"fixed": 500, "per_month": 0, "share_of_payments": 0.05})
    persons = persons_table([person(0)])
    spells = spells_table([spell(0, "employed", 0, 156, annual_wage=300_000)])
    ev = evaluate(t, persons, spells, 156)
    c = ev.cashflows.groupby(["party", "item"])["amount"].sum()
    # payments 100 (job, month 0) + 200 (kept, week 26 = month 6) = 300; provider gets 10 %,
    # intermediary 5 % and 500 up front; the investor funds 1 000 + 500 and receives 255
    assert c[("provider", "performance_fee")] == pytest.approx(30)
    assert c[("intermediary", "fee")] == pytest.approx(500 + 15)
    assert c[("investor", "funding")] == pytest.approx(-1500)
    assert c[("investor", "outcome_payment")] == pytest.approx(255)
    assert ev.cashflows["amount"].sum() == pytest.approx(-1000)


def test_no_control_arm_leaves_fiscal_kpis_undefined():
    t = terms()
    ev = evaluate(t, persons_table([person(0)]), spells_table([spell(0, "not_employed", 0, 52)]), 52)
    assert math.isnan(ev.kpis["fiscal_npv_kommune"]) and math.isnan(ev.kpis["cost_per_additional_outcome"])
    trig = terms(triggers=[{"outcome": "job", "scope": "pooled", "compare": "relative_to_control",
                            "threshold": 0.1}])
    with pytest.raises(NeedsControl):
        evaluate(trig, persons_table([person(0)]), spells_table([spell(0, "not_employed", 0, 52)]), 52)
