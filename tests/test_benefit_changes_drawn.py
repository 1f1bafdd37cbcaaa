"""Issue 14: the benefit limits of everyone a kull draws, worked out from a table of the country's
benefits made once (:func:`effekt.sim.people._benefit_rules`) and, where no benefit that follows
one ending ends by its rules too, from one call for all the kull's uniforms.

Checked against :func:`effekt.sim.people.benefit_changes` called person by person in id order
on the same stream (the route it replaced), with and without chains of limits, and against the
rules themselves: a benefit that ends does so ``max_weeks`` after referral, into one of its
``then`` kinds. No timing here: see benchmarks/bench_engine.py.
"""

from __future__ import annotations

import pytest

from effekt.sim import Cohort, replication_seed
from effekt.sim.people import (
    benefit_changes,
    default_benefits,
    default_target_groups,
    draw_people,
    ends_by_rule,
)
from effekt.sim.streams import Streams

MIX = {"A": 0.2, "B": 0.3, "C": 0.3, "D": 0.2, "R": 0.0}


def _cohorts() -> list[Cohort]:
    return [Cohort(name="a", start_week=0, size=40, groups={"A": 0.2, "B": 0.3, "C": 0.3, "D": 0.2},
                   repeats=3, repeat_every_weeks=26),
            Cohort(name="b", start_week=4, size=9, groups={"R": 1.0})]


def _chained(benefits: dict) -> dict:
    """The default benefits with kvalifiseringsstønad going on to AAP half the time: AAP ends by
    its own rules, so a person can draw twice (a chain of limits)."""
    kvp = benefits["kvalifiseringsstonad"]
    return {**benefits, "kvalifiseringsstonad": kvp.model_copy(
        update={"then": {"aap": 0.5, "sosialhjelp": 0.5}})}


def _one_by_one(people, benefits, rng) -> list[tuple]:
    """Each person's changes by benefit_changes, in id order, from ``rng``."""
    return [benefit_changes(p.benefit_kind, p.age, p.entry_week, benefits, rng)
            if ends_by_rule(benefits[p.benefit_kind]) else () for p in people]


@pytest.mark.parametrize("chained", [False, True])
def test_changes_are_those_of_benefit_changes_person_by_person(chained):
    groups, benefits = default_target_groups(), default_benefits()
    if chained:
        benefits = _chained(benefits)
    for r in range(6):
        s, t = Streams.from_seed(replication_seed(3, r)), Streams.from_seed(replication_seed(3, r))
        got = draw_people(_cohorts(), groups, benefits, s.people, None, 1e9, s.employability, s.benefits)
        # the same people (their attributes come from other streams), then the reference's changes
        # drawn kull by kull in id order from the benefits stream, as draw_people draws them
        same = draw_people(_cohorts(), groups, benefits, t.people, None, 1e9, t.employability, None)
        assert [p.person_id for p in got] == [p.person_id for p in same]
        ref = Streams.from_seed(replication_seed(3, r)).benefits
        want = _one_by_one(same, benefits, ref)
        assert [p.changes for p in got] == want
        assert any(c for c in want)
        if chained:  # a chain was drawn: kvalifiseringsstønad, then AAP, then what follows AAP
            assert any(len(c) == 2 for c in want)


@pytest.mark.parametrize("chained", [False, True])
def test_changes_follow_the_limits_in_the_benefits_file(chained):
    groups, benefits = default_target_groups(), default_benefits()
    if chained:
        benefits = _chained(benefits)
    s = Streams.from_seed(replication_seed(9, 0))
    people = draw_people(_cohorts(), groups, benefits, s.people, None, 1e9, s.employability, s.benefits)
    seen = 0
    for p in people:
        kind, t = p.benefit_kind, p.entry_week
        for week, then, g in p.changes:
            b = benefits[kind]
            assert ends_by_rule(b)
            assert week == t + b.max_weeks
            assert then in b.then
            nb = benefits[then]
            assert g == nb.g * (nb.under25 if p.age < 25 else 1.0)
            kind, t = then, week
            seen += 1
        assert not ends_by_rule(benefits[kind]) or len(p.changes) == 8  # the chain ran to its end
    assert seen > 0


def test_without_a_benefits_stream_every_change_takes_the_first_kind():
    groups, benefits = default_target_groups(), _chained(default_benefits())
    s = Streams.from_seed(replication_seed(4, 2))
    people = draw_people(_cohorts(), groups, benefits, s.people, None, 1e9, s.employability, None)
    assert [p.changes for p in people] == _one_by_one(people, benefits, None)


def test_benefits_changed_since_are_not_read_from_the_last_table():
    groups, benefits = default_target_groups(), default_benefits()
    s = Streams.from_seed(replication_seed(2, 0))
    before = draw_people(_cohorts(), groups, benefits, s.people, None, 1e9, s.employability, s.benefits)
    longer = dict(benefits)
    longer["aap"] = benefits["aap"].model_copy(update={"max_weeks": 200.0})
    t = Streams.from_seed(replication_seed(2, 0))
    after = draw_people(_cohorts(), groups, longer, t.people, None, 1e9, t.employability, t.benefits)
    on_aap = [(a, b) for a, b in zip(before, after, strict=True) if a.benefit_kind == "aap"]
    assert on_aap
    for a, b in on_aap:
        assert b.changes[0][0] == a.changes[0][0] - 156.0 + 200.0
