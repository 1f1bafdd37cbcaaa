"""Issue 14: the record arrays (Tables), the outcomes and the work KPIs of a block of replications.

A task's replications are measured over their block at once (``Tables.of_block``,
``outcomes_by_replication``, ``work_shares_by_replication``, ``work_years_by_replication``) and
each replication then takes its share. What a replication gets must be exactly what its own
records alone give (``Tables.of``: a block of one): the same arrays, the same outcome rows in the
same order, the same shares and years to the last bit. Checked on simulated blocks of several
scenarios, on hand-built blocks where person ids repeat across replications and a replication has
no control arm, no spells or no events, and against outcomes counted by hand.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pandas as pd
import pytest

from effekt.contracts import RecordBlock, evaluate, evaluate_block
from effekt.contracts import outcomes as oc
from effekt.contracts import work_years as wy
from effekt.contracts.kpis import kpi_key
from effekt.contracts.records import event, events_table, person, persons_table, spell, spells_table
from effekt.contracts.terms import BenefitDaysSaved, InWorkAt, JobStart, StageEvent, SustainedEmployment
from effekt.experiments import load_scenario
from effekt.experiments.runner import valuation_of
from effekt.sim import replication_seed, simulate

ev = importlib.import_module("effekt.contracts.evaluate")  # the module (the package exports the function)

SCENARIOS = {  # scenario file, assignments
    "default": ("experiments/scenarios/default.toml", []),
    "koto_sib": ("experiments/scenarios/koto_sib.toml", []),  # a randomised trial
    "kommune_tracks": ("experiments/scenarios/kommune_tracks.toml", []),
    "dwp_matched": ("experiments/scenarios/dwp_lesson.toml", ["evaluation.design=matched"]),  # a matched arm
}

KINDS = {  # every kind of outcome, several options each
    "js": JobStart(metric="job_start", window_weeks=104, min_fte=0.5),
    "js_ex": JobStart(metric="job_start", window_weeks=156, exclude_contracts=["project"],
                      exclude_stages=["*job*"]),
    "se_c": SustainedEmployment(metric="sustained_employment", weeks=26, window_weeks=130),
    "se_nc": SustainedEmployment(metric="sustained_employment", weeks=13, window_weeks=156, continuous=False),
    "iw": InWorkAt(metric="in_work_at", weeks_after_entry=52),
    "iw_at": InWorkAt(metric="in_work_at", at_week=100, ordinary_only=True),
    "iw_ed": InWorkAt(metric="in_work_at", weeks_after_entry=78, or_education=True),
    "q": StageEvent(metric="completion", stages=["*course*", "*training*", "*education*", "koto*"],
                    not_followed_by=["*drop*", "no_*"], window_weeks=156),
    "q_f": StageEvent(metric="qualification", stages=["*"], events=["completed", "exited"],
                      followed_by=["*job*"]),
    "bd": BenefitDaysSaved(metric="benefit_days_saved", expected_weeks=104),
    "bd_all": BenefitDaysSaved(metric="benefit_days_saved", expected_weeks=52, only_on_benefit_at_entry=False,
                               expected_weeks_by_group={"A": 80.0}),
}

FIELDS = ("arm", "person_id", "cohort", "group", "entry", "benefit_kind", "s_person", "s_state", "s_start",
          "s_end", "s_fte", "s_contract", "s_stage", "s_own", "s_usual", "e_person")
POINTS = [12 * 52 / 12, 24 * 52 / 12]


def _same(a, b, where: str) -> None:
    """Equal to the last bit: dtype, shape and values (NaN where NaN)."""
    if a is None or b is None:
        assert a is None and b is None, where
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, where
    if a.dtype == object:
        assert a.tolist() == b.tolist(), where
    else:
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where


def _same_columns(got: dict, want: dict, where: str) -> None:
    assert list(got) == list(want), where
    for name in want:
        _same(got[name], want[name], f"{where}: {name}")


def _measured(t: oc.Tables, outcomes: dict, horizon: float, rate: float) -> list[dict]:
    """Everything measured of the replications of ``t``, by replication."""
    found = oc.outcomes_by_replication(outcomes, t)
    shares = {m: oc.work_shares_by_replication(t, POINTS, horizon, **opt)
              for m, opt in oc.WORK_MEASURES.items()}
    years = wy.work_years_by_replication(t, rate, horizon)
    kpis = ev._work_kpis(t, horizon)
    return [{"found": found[i], "shares": {m: s[i] for m, s in shares.items()}, "years": years[i],
             "kpis": kpis[i]} for i in range(t.n)]


def _assert_block_is_each_alone(records: list[tuple], outcomes: dict, horizon: float, rate: float) -> None:
    block = RecordBlock.of(records)
    t = oc.Tables.of_block(block)
    assert t.n == len(records)
    measured = _measured(t, outcomes, horizon, rate)
    for i, own in enumerate(records):
        where = f"replication {i}"
        _, spells, events = block.replication(i)
        mine = t.replication(i, spells, events)
        alone = oc.Tables.of(*own)
        for f in FIELDS:
            _same(getattr(mine, f), getattr(alone, f), f"{where}: {f}")
        got, want = measured[i], _measured(alone, outcomes, horizon, rate)[0]
        _same_columns(got["found"], want["found"], f"{where}: outcomes")
        _same_columns(got["found"], oc.outcome_arrays(outcomes, alone), f"{where}: outcome_arrays")
        _same_columns(got["found"], oc.outcome_arrays(outcomes, mine), f"{where}: its own tables")
        for m in want["shares"]:
            _same_columns(got["shares"][m], want["shares"][m], f"{where}: {m}")
            _same_columns(got["shares"][m], oc.work_shares(alone, POINTS, horizon, **oc.WORK_MEASURES[m]),
                          f"{where}: work_shares {m}")
        assert got["years"] == want["years"] == wy.work_years_by_arm(alone, rate, horizon), where
        assert list(got["kpis"]) == list(want["kpis"]), where
        np.testing.assert_array_equal(list(got["kpis"].values()), list(want["kpis"].values()), err_msg=where)


@pytest.fixture(scope="module", params=list(SCENARIOS))
def scenario_block(request):
    path, assignments = SCENARIOS[request.param]
    sc = load_scenario(path, assignments)
    sims = [simulate(sc.simulated_world, replication_seed(23, r)) for r in range(3)]
    return sc, [(s.persons, s.spells, s.events) for s in sims]


def test_a_simulated_block_measures_each_replication_as_it_alone(scenario_block):
    sc, records = scenario_block
    outcomes = {**sc.terms.outcomes, **KINDS}
    _assert_block_is_each_alone(records, outcomes, sc.world.horizon_weeks, valuation_of(sc).discount_rate)


def test_evaluate_block_gives_each_replication_what_evaluate_gives_it_alone(scenario_block):
    sc, records = scenario_block
    kw = dict(design=sc.evaluation, long_run_weeks=sc.long_run_weeks)
    valuation = valuation_of(sc)
    together = evaluate_block(sc.terms, RecordBlock.of(records), sc.world.horizon_weeks, valuation, **kw)
    for i, (p, s, e) in enumerate(records):
        alone = evaluate(sc.terms, p, s, sc.world.horizon_weeks, valuation, events=e, **kw)
        _same_columns(together[i].found, alone.found, f"replication {i}: found")
        assert list(together[i].kpis) == list(alone.kpis)
        np.testing.assert_array_equal(list(together[i].kpis.values()), list(alone.kpis.values()),
                                      err_msg=f"replication {i}: kpis")


def test_accumulate_by_part_is_each_part_accumulated_alone():
    rng = np.random.default_rng(3)
    for _ in range(50):
        sizes = rng.integers(0, 40, size=rng.integers(1, 8))
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        values = rng.random(int(bounds[-1])) * rng.choice([1e-3, 1.0, 1e6])
        for ufunc in (np.add, np.maximum):
            got = oc._accumulate(ufunc, values, bounds)
            want = np.concatenate([ufunc.accumulate(values[a:b]) for a, b in zip(bounds[:-1], bounds[1:],
                                                                                 strict=True)])
            assert np.array_equal(got, want)


# -- by hand -----------------------------------------------------------------------------------------

def _hand_block():
    """Two replications, person ids 1 and 2 in both. Replication 0: treatment 1 (entry 0) out of
    work, then in work weeks 20-60; treatment 2 (entry 10) in work 30-40 and 50-100; control 1
    (entry 0) in work 20-30; treatment 1 completes a course at week 15. Replication 1: treatment 1
    and 2 (entry 0), no control arm; 1 in work 100-200, 2 never; a spell of a person 3 who is not
    in its persons table; no events."""
    p0 = persons_table([person(1), person(2, entry_week=10.0), person(1, "control")])
    s0 = spells_table([spell(1, "not_employed", 0, 20), spell(1, "employed", 20, 60),
                       spell(2, "employed", 30, 40), spell(2, "not_employed", 40, 50),
                       spell(2, "employed", 50, 100), spell(1, "employed", 20, 30, "control")])
    e0 = events_table([event(1, 15.0, "course", "completed"), event(1, 20.0, "permanent_job", "entered")])
    p1 = persons_table([person(1), person(2)])
    s1 = spells_table([spell(1, "employed", 100, 200), spell(3, "employed", 0, 50)])
    return [(p0, s0, e0), (p1, s1, events_table([]))]


OUTCOMES = {"job_start": JobStart(metric="job_start", window_weeks=104),
            "six_months": SustainedEmployment(metric="sustained_employment", weeks=26, window_weeks=156),
            "six_months_in_all": SustainedEmployment(metric="sustained_employment", weeks=26,
                                                     window_weeks=156, continuous=False),
            "course": StageEvent(metric="completion", stages=["course"])}


def test_two_hand_made_replications_give_the_outcomes_counted_by_hand():
    t = oc.Tables.of_block(RecordBlock.of(_hand_block()))
    found = oc.outcomes_by_replication(OUTCOMES, t)
    rows = [list(zip(f["arm"].tolist(), f["person_id"].tolist(), f["outcome"].tolist(), f["week"].tolist(),
                     strict=True)) for f in found]
    assert rows[0] == [  # by week, person id, outcome; a tie of two arms keeps the persons' order
        ("treatment", 1, "course", 15.0),
        ("treatment", 1, "job_start", 20.0), ("control", 1, "job_start", 20.0),
        ("treatment", 2, "job_start", 30.0),
        ("treatment", 1, "six_months", 46.0), ("treatment", 1, "six_months_in_all", 46.0),
        ("treatment", 2, "six_months_in_all", 66.0),  # 10 weeks in 30-40, 16 more from 50
        ("treatment", 2, "six_months", 76.0),  # 26 unbroken weeks from 50
    ]
    assert rows[1] == [("treatment", 1, "job_start", 100.0), ("treatment", 1, "six_months", 126.0),
                       ("treatment", 1, "six_months_in_all", 126.0)]  # person 3's spell is nobody's
    # in work a year and two years after entry (horizon 200): replication 0's treatment arm both
    # at 52 and 62, nobody at 104 and 114; its control not at 52; replication 1: nobody at 52,
    # person 1 at 104; no control arm there
    shares = oc.work_shares_by_replication(t, POINTS, 200.0)
    assert {a: v.tolist() for a, v in shares[0].items()} == {"control": [0.0, 0.0], "treatment": [1.0, 0.0]}
    assert {a: v.tolist() for a, v in shares[1].items()} == {"treatment": [0.0, 0.5]}
    kpis = ev._work_kpis(t, 200.0)
    key = kpi_key  # the in-work KPIs are those shares; an arm a replication lacks is NaN
    assert kpis[0][key("in_work_12m", arm="treatment")] == 1.0
    assert kpis[0][key("in_work_24m", arm="control")] == 0.0
    assert kpis[1][key("in_work_24m", arm="treatment")] == 0.5
    assert math.isnan(kpis[1][key("in_work_12m", arm="control")])
    assert len(kpis[1]) == 2 * 2 * len(oc.WORK_MEASURES)
    years = wy.work_years_by_replication(t, 0.0, 200.0)  # undiscounted: weeks / 52
    assert years[0] == {"treatment": (40 + 10 + 50) / 52, "control": 10 / 52}
    assert years[1] == {"treatment": 100 / 52, "control": 0.0}
    assert wy.additional_work_years(t.replication(0, *_hand_block()[0][1:]), 0.0, 200.0, 2, 1,
                                    by_arm=years[0]) == pytest.approx(100 / 52 - 10 / 52 * 2)
    assert math.isnan(wy.additional_work_years(t, 0.0, 200.0, 2, 0, by_arm=years[1]))


def test_hand_made_block_measures_each_replication_as_it_alone():
    _assert_block_is_each_alone(_hand_block(), {**OUTCOMES, **KINDS}, 200.0, 0.04)


def test_a_replication_without_spells_or_a_control_arm():
    p0, s0, e0 = _hand_block()[0]
    empty = spells_table([]).astype({"start": float, "end": float, "fte": float, "person_id": "int64"})
    only_treated = persons_table([person(1), person(5, entry_week=3.0)])
    records = [(only_treated, empty, events_table([])), (p0, s0, e0),
               (persons_table([person(1, "control")]), empty, events_table([]))]
    _assert_block_is_each_alone(records, {**OUTCOMES, **KINDS}, 200.0, 0.04)
    t = oc.Tables.of_block(RecordBlock.of(records))
    shares = oc.work_shares_by_replication(t, POINTS, 200.0)
    assert {a: v.tolist() for a, v in shares[0].items()} == {"treatment": [0.0, 0.0]}
    assert {a: v.tolist() for a, v in shares[2].items()} == {"control": [0.0, 0.0]}
    found = oc.outcomes_by_replication(OUTCOMES, t)
    assert len(found[0]["arm"]) == 0 and len(found[2]["arm"]) == 0 and len(found[1]["arm"]) == 8


def test_the_block_person_rows_tie_spells_to_their_own_replication():
    t = oc.Tables.of_block(RecordBlock.of(_hand_block()))
    # replication 0: persons rows 0-2, replication 1: rows 3-4; person 3 of replication 1 unknown
    assert t.s_person.tolist() == [0, 0, 1, 1, 1, 2, 3, -1]
    assert t.e_person.tolist() == [0, 0]
    assert t.replication(1, *RecordBlock.of(_hand_block()).replication(1)[1:]).s_person.tolist() == [0, -1]


def test_one_replications_functions_refuse_a_block():
    t = oc.Tables.of_block(RecordBlock.of(_hand_block()))
    with pytest.raises(ValueError, match="by replication"):
        oc.outcome_arrays(OUTCOMES, t)
    with pytest.raises(ValueError, match="by replication"):
        oc.work_shares(t, POINTS, 200.0)
    with pytest.raises(ValueError, match="by replication"):
        wy.work_years_by_arm(t, 0.04, 200.0)
    with pytest.raises(IndexError):
        t.replication(2, None, None)


def test_a_block_of_one_is_tables_of():
    p, s, e = _hand_block()[0]
    one, own = oc.Tables.of_block(RecordBlock.one(p, s, e)), oc.Tables.of(p, s, e)
    assert one.n == own.n == 1 and one.person_bounds is None
    for f in FIELDS:
        _same(getattr(one, f), getattr(own, f), f)
    assert isinstance(pd.DataFrame(oc.outcome_arrays(OUTCOMES, one)), pd.DataFrame)


def test_a_block_without_events_tables():
    records = [(p, s, None) for p, s, _ in _hand_block()]
    no_events = {k: o for k, o in {**OUTCOMES, **KINDS}.items() if not isinstance(o, StageEvent)}
    _assert_block_is_each_alone(records, no_events, 200.0, 0.04)
    t = oc.Tables.of_block(RecordBlock.of(records))
    assert t.e_person is None and t.event_bounds is None
    with pytest.raises(ValueError, match="events table"):
        oc.outcomes_by_replication(OUTCOMES, t)
