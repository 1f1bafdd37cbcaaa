"""The one in-work measure (``effekt.contracts.in_work_share`` / ``in_work_by_month``) on hand-made
record tables: who counts at an instant, who is still observed, and the two views agreeing."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from effekt.contracts import WEEKS_PER_MONTH, in_work_by_month, in_work_share

M = WEEKS_PER_MONTH


def _tables():
    persons = pd.DataFrame({
        "arm": ["treatment"] * 3 + ["control"] * 2,
        "person_id": [0, 1, 2, 0, 1],
        "entry_week": [0.0, 10.0, 50.0, 0.0, 10.0],
    })
    spells = pd.DataFrame({
        "arm": ["treatment"] * 4 + ["control"] * 2,
        "person_id": [0, 0, 1, 2, 0, 1],
        "state": ["programme", "employed", "employed", "employed", "employed", "not_employed"],
        # treatment 0 works from week 26 on; treatment 1 from 10 to 36 (26 weeks after entry);
        # treatment 2 works from entry; control 0 from (a rounded) week 26
        "start": [0.0, 26.0, 10.0, 50.0, 26.0 + 1e-12, 10.0],
        "end": [26.0, 80.0, 36.0, 80.0, 40.0, 80.0],
    })
    return persons, spells


def test_in_work_at_an_instant_counts_jobs_starting_then_and_not_jobs_ending_then():
    persons, spells = _tables()
    at26 = in_work_share(persons, spells, 26.0, horizon=80.0)
    # treatment 0 starts at exactly 26: counts; treatment 1 ends at exactly 26 after entry: does
    # not; treatment 2 (entry 50) is measured at week 76 < 80 and works: 2 of 3
    assert at26["treatment"] == pytest.approx(2 / 3)
    # control 0 starts a rounding error after week 26: still counts; control 1 never works
    assert at26["control"] == pytest.approx(1 / 2)


def test_people_measured_at_or_after_the_horizon_are_left_out():
    persons, spells = _tables()
    at30 = in_work_share(persons, spells, 30.0, horizon=80.0)
    assert at30["treatment"] == pytest.approx(1 / 2)  # 2 (at week 80) left out; 0 works, 1 has left
    late = in_work_share(persons, spells, 100.0, horizon=80.0)
    assert math.isnan(late["treatment"]) and math.isnan(late["control"])


def test_by_month_is_the_same_measure_month_by_month():
    persons, spells = _tables()
    by_month = in_work_by_month(persons, spells, 80.0).set_index(["arm", "month"])
    # treatment's earliest entry is week 0, so months 0 .. 18 (18 * 52/12 = 78 < 80)
    assert list(by_month.loc["treatment"].index) == list(range(19))
    for m in range(19):
        at = in_work_share(persons, spells, m * M, horizon=80.0)
        for arm in ("treatment", "control"):
            got = by_month.loc[(arm, m), "share"]
            assert (math.isnan(got) and math.isnan(at[arm])) or got == at[arm], (arm, m)
    # month 6 (26 weeks): the instant of the test above
    assert by_month.loc[("treatment", 6), "share"] == pytest.approx(2 / 3)
    assert by_month.loc[("treatment", 6), "n"] == 3
