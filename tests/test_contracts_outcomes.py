"""Outcome metrics on hand-made tables: each expected week worked out from the rows by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from effekt.contracts.outcomes import measure_one, measure_outcomes
from effekt.contracts.records import event, events_table, person, persons_table, spell, spells_table
from effekt.contracts.terms import BenefitDaysSaved, InWorkAt, JobStart, StageEvent, SustainedEmployment


def weeks(df: pd.DataFrame) -> dict[int, float]:
    return {int(p): float(w) for p, w in zip(df["person_id"], df["week"], strict=True)}


@pytest.fixture
def tables():
    persons = persons_table([person(0), person(1, entry_week=10), person(2), person(3, benefit_kind="none")])
    spells = spells_table([
        # 0: two jobs with a gap: 10 weeks, then 20 weeks
        spell(0, "programme", 0, 5), spell(0, "employed", 5, 15, annual_wage=300_000),
        spell(0, "not_employed", 15, 30), spell(0, "employed", 30, 50, annual_wage=300_000),
        spell(0, "not_employed", 50, 156),
        # 1: enters week 10; a temporary job runs straight into a permanent one (one unbroken run)
        spell(1, "programme", 10, 20),
        spell(1, "employed", 20, 40, contract="temporary", annual_wage=300_000),
        spell(1, "employed", 40, 156, contract="permanent", annual_wage=300_000),
        # 2: a part-time job only (30 %), then a project position
        spell(2, "employed", 0, 60, fte=0.3, annual_wage=300_000),
        spell(2, "employed", 60, 156, contract="project", stage="project_position", annual_wage=300_000),
        # 3: no benefit at entry, never works
        spell(3, "not_employed", 0, 156, benefit_kind="none", benefit_g=0.0),
    ])
    return persons, spells


def test_job_start_respects_fte_window_and_exclusions(tables):
    persons, spells = tables
    o = JobStart(metric="job_start", min_fte=0.5, window_weeks=52)
    # person 2's 30 % job does not count; its project position (week 60) lies outside 52 weeks
    assert weeks(measure_one(o, persons, spells)) == {0: 5.0, 1: 20.0}
    o = JobStart(metric="job_start", window_weeks=104)
    assert weeks(measure_one(o, persons, spells)) == {0: 5.0, 1: 20.0, 2: 0.0}
    o = JobStart(metric="job_start", min_fte=0.5, window_weeks=104, exclude_contracts=["project"])
    assert weeks(measure_one(o, persons, spells)) == {0: 5.0, 1: 20.0}
    o = JobStart(metric="job_start", min_fte=0.5, window_weeks=104, exclude_stages=["project_*"])
    assert weeks(measure_one(o, persons, spells)) == {0: 5.0, 1: 20.0}


def test_sustained_continuous_and_cumulative(tables):
    persons, spells = tables
    cont = SustainedEmployment(metric="sustained_employment", weeks=26, min_fte=0.5, window_weeks=104)
    # person 0 never has 26 unbroken weeks (10, then 20); person 1's temp + permanent job join:
    # from week 20, 26 weeks -> 46; person 2's full-time project position from week 60 -> 86
    assert weeks(measure_one(cont, persons, spells)) == {1: 46.0, 2: 86.0}
    cum = SustainedEmployment(metric="sustained_employment", weeks=26, min_fte=0.5, window_weeks=104,
                              continuous=False)
    # person 0: 10 weeks (5-15) + 16 more from week 30 -> week 46
    assert weeks(measure_one(cum, persons, spells)) == {0: 46.0, 1: 46.0, 2: 86.0}
    short = SustainedEmployment(metric="sustained_employment", weeks=26, min_fte=0.5, window_weeks=40)
    # person 1 reaches it at week 46 = 36 weeks after entry: inside 40; a window of 35 excludes it
    assert weeks(measure_one(short, persons, spells)) == {1: 46.0}
    shorter = SustainedEmployment(metric="sustained_employment", weeks=26, min_fte=0.5, window_weeks=35)
    assert weeks(measure_one(shorter, persons, spells)) == {}


def test_one_persons_long_job_does_not_join_another_persons_gap():
    # person 0 works weeks 0-200; person 1 works 10-20 and 50-90 with a gap of 30 weeks between:
    # two runs of 10 and 40 weeks, so 26 unbroken weeks are reached at week 76 (50 + 26), never at
    # week 36 (10 + 26, as if the gap were filled by person 0's job); rows in either order
    persons = persons_table([person(0), person(1)])
    rows = [spell(0, "employed", 0, 200, annual_wage=300_000),
            spell(1, "employed", 10, 20, annual_wage=300_000),
            spell(1, "not_employed", 20, 50), spell(1, "employed", 50, 90, annual_wage=300_000),
            spell(1, "not_employed", 90, 200)]
    cont = SustainedEmployment(metric="sustained_employment", weeks=26, window_weeks=104)
    for order in (rows, rows[::-1]):
        assert weeks(measure_one(cont, persons, spells_table(order))) == {0: 26.0, 1: 76.0}


def test_in_work_at_relative_and_absolute(tables):
    persons, spells = tables
    rel = InWorkAt(metric="in_work_at", weeks_after_entry=35, min_fte=0.5)
    # person 0 at week 35 (in the second job); person 1 at week 45
    assert weeks(measure_one(rel, persons, spells)) == {0: 35.0, 1: 45.0}
    absolute = InWorkAt(metric="in_work_at", at_week=100)
    assert weeks(measure_one(absolute, persons, spells)) == {1: 100.0, 2: 100.0}


def test_qualification_needs_the_right_next_stage():
    persons = persons_table([person(0), person(1), person(2)])
    events = events_table([
        event(0, 100, "fagprove", "completed"), event(0, 100, "job", "hired"),
        event(1, 100, "fagprove", "completed"), event(1, 100, "retake", "entered"),
        event(1, 120, "retake", "completed"), event(1, 120, "fagprove_retake", "entered"),
        event(1, 124, "fagprove_retake", "completed"), event(1, 124, "job", "hired"),
        event(2, 90, "course", "completed"), event(2, 90, "dropped_out", "exited"),
    ])
    o = StageEvent(metric="qualification", stages=["fagprove*"], followed_by=["job"])
    assert weeks(measure_one(o, persons, None, events)) == {0: 100.0, 1: 124.0}
    o = StageEvent(metric="qualification", stages=["fagprove*"], followed_by=["job"], window_weeks=110)
    assert weeks(measure_one(o, persons, None, events)) == {0: 100.0}
    done = StageEvent(metric="completion", stages=["course", "fagprove"], not_followed_by=["dropped*"])
    # person 2 'completed' the course's time but then dropped out: not a completion
    assert weeks(measure_one(done, persons, None, events)) == {0: 100.0, 1: 100.0}
    with pytest.raises(ValueError, match="events"):
        measure_one(done, persons, None, None)


def test_benefit_days_saved(tables):
    persons, spells = tables
    o = BenefitDaysSaved(metric="benefit_days_saved", expected_weeks=52, expected_weeks_by_group={})
    got = measure_one(o, persons, spells).set_index("person_id")
    # person 0: in [0, 52) on benefit 5 + 15 + 2 = 22 weeks, so 30 weeks = 210 days saved, at week 52.
    # person 1: window [10, 62): on benefit 10 weeks (programme), 42 weeks saved = 294 days.
    # person 2: working all the time: 52 weeks = 364 days. Person 3 had no benefit: not counted.
    assert got["quantity"].to_dict() == pytest.approx({0: 210.0, 1: 294.0, 2: 364.0})
    assert got["week"].to_dict() == pytest.approx({0: 52.0, 1: 62.0, 2: 52.0})
    o = BenefitDaysSaved(metric="benefit_days_saved", expected_weeks=52, expected_weeks_by_group={"A": 26},
                         only_on_benefit_at_entry=False)
    got = measure_one(o, persons, spells).set_index("person_id")
    # 26-week windows: person 0 on benefit 5 + 11 = 16 weeks -> 10 saved; person 3 all 26 saved
    assert got.loc[0, "quantity"] == pytest.approx(70.0)
    assert got.loc[3, "quantity"] == pytest.approx(182.0)


def test_measure_outcomes_carries_cohort_and_group(tables):
    persons, spells = tables
    out = measure_outcomes({"js": JobStart(metric="job_start", window_weeks=10)}, persons, spells)
    # ordered by week: 0.0, 5.0, then person 1 at week 20 (10 weeks after entry at 10)
    assert list(out["person_id"]) == [2, 0, 1]
    assert set(out["cohort"]) == {"k1"} and set(out["group"]) == {"A"}
    assert (out["quantity"] == 1).all()
