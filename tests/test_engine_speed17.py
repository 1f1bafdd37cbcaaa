"""Issue 14, session 17: the engine's cost per replication cut without changing a number.

Each faster route is checked against the route it replaced, kept here as the reference:

* a stream's generator from the seed's pool mixed in Python (:func:`effekt.sim.streams._child_words`)
  against numpy's own ``SeedSequence`` child, for small, large and multi-word seeds and keys;
* the triangular and uniform samplers (numpy's formulas on one ``rng.random()``) against
  ``rng.triangular`` / ``rng.uniform``, draw for draw;
* :class:`effekt.sim.engine._Walk` (no ``simpy.Process``) against the same walks run as SimPy
  processes, and the tables of worlds with long queues and a long run;
* the people drawn with one uniform call per kull against the per-group calls of before.

No timing here: see benchmarks/bench_engine.py and BENCHMARKS.md.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np
import pytest

from effekt.sim import Cohort, World, engine, load_pathway, replication_seed, simulate
from effekt.sim.distributions import Triangular, Uniform
from effekt.sim.people import (
    Person,
    _cumulative,
    benefit_changes,
    default_benefits,
    default_target_groups,
    draw_people,
)
from effekt.sim.streams import STREAM_NAMES, Streams, _child_words, _key_pool
from effekt.sim.world import Counterfactual


def _numpy_child(seed: np.random.SeedSequence, i: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, i))))


def test_child_state_words_are_numpys_for_many_seeds():
    rng = np.random.default_rng(17)
    for trial in range(600):
        entropy = int(rng.integers(0, 2**63)) if trial % 3 else int(rng.integers(0, 1000))
        if trial % 7 == 0:
            entropy = entropy * 2**90 + 12345  # more than four words of run entropy
        if trial % 11 == 0:
            entropy = 0
        key = tuple(int(k) for k in rng.integers(0, 2**40 if trial % 5 == 0 else 1000, size=trial % 4))
        index = int(rng.integers(0, 12)) if trial % 13 else int(rng.integers(2**32 - 2, 2**34))
        seed = np.random.SeedSequence(entropy, spawn_key=key)
        want = np.random.SeedSequence(entropy, spawn_key=(*key, index)).generate_state(4, np.uint64)
        assert _child_words(_key_pool(seed), index) == want.tolist(), (entropy, key, index)


@pytest.mark.parametrize("seed", [replication_seed(7, 0), replication_seed(2**70 + 3, 12),
                                  np.random.SeedSequence(12345), np.random.SeedSequence(np.int64(5))])
def test_every_stream_draws_what_numpys_child_draws(seed):
    streams = Streams.from_seed(seed)
    for i, name in enumerate(STREAM_NAMES):
        gen = getattr(streams, name)
        want = _numpy_child(seed, i)
        assert gen.random(4).tolist() == want.random(4).tolist(), name
        assert gen.exponential(3.0, 3).tolist() == want.exponential(3.0, 3).tolist(), name
        # the seed sequence a generator reports behaves as the SeedSequence it stands for
        ours = gen.bit_generator.seed_seq
        assert ours.generate_state(3).tolist() == want.bit_generator.seed_seq.generate_state(3).tolist()
        assert [c.spawn_key for c in ours.spawn(2)] == [c.spawn_key for c in
                                                         want.bit_generator.seed_seq.spawn(2)]


@pytest.mark.parametrize("low,mode,high", [(12.0, 26.0, 52.0), (0.0, 0.0, 3.5), (2.0, 9.0, 9.0),
                                           (0.25, 1e-3 + 0.25, 4000.0)])
def test_the_triangular_sampler_draws_what_numpy_draws(low, mode, high):
    draw = Triangular(dist="triangular", low=low, mode=mode, high=high).sampler()
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    assert [draw(a) for _ in range(3000)] == [b.triangular(low, mode, high) for _ in range(3000)]


@pytest.mark.parametrize("low,high", [(12.0, 52.0), (0.0, 1e-6), (3.0, 4000.0)])
def test_the_uniform_sampler_draws_what_numpy_draws(low, high):
    draw = Uniform(dist="uniform", low=low, high=high).sampler()
    a, b = np.random.default_rng(4), np.random.default_rng(4)
    assert [draw(a) for _ in range(3000)] == [b.uniform(low, high) for _ in range(3000)]


def _queue_world(slots: int, mode: str = "parallel", long_run: bool = False) -> World:
    pathway = load_pathway("kongsberg_kull")
    capacity = {n: c.model_copy(update={"slots": slots}) for n, c in pathway.capacity.items()}
    horizon = 520 if long_run else 260
    return World(pathway=pathway.model_copy(update={"capacity": capacity}),
                 cohorts=[Cohort(name="kull", start_week=0, size=40, groups={"A": 0.5, "C": 0.5},
                                 repeats=8, repeat_every_weeks=26)],
                 horizon_weeks=horizon, contract_horizon_weeks=260 if long_run else None,
                 counterfactual=Counterfactual(mode=mode))


@pytest.mark.parametrize("slots,long_run", [(1, False), (4, False), (2, True)])
def test_walks_without_simpy_processes_give_the_tables_of_processes(monkeypatch, slots, long_run):
    world = _queue_world(slots, long_run=long_run)
    seed = replication_seed(11, 1)
    fast = {n: t.to_pydict() for n, t in simulate(world, seed).items()}
    with monkeypatch.context() as m:
        def run_clock(self, real=engine._Model._run_clock):
            for steps in self.walks:  # as simpy.Process: an Initialize at week 0 each
                self.env.process(steps)
            self.walks = []
            return real(self)
        m.setattr(engine._Model, "_run_clock", run_clock)
        plain = {n: t.to_pydict() for n, t in simulate(world, seed).items()}
    assert "queued" in fast["events"]["event"]  # the queue was really used
    for name in fast:
        assert repr(fast[name]) == repr(plain[name]), name


def _people_before(cohorts, groups, benefits, rng, employability, rules) -> list[Person]:
    """draw_people as it was: one uniform call for the groups, then one per group."""
    people, next_id = [], 0
    for cohort in cohorts:
        n = cohort.size
        for name, start in cohort.starts():
            keys, cum = _cumulative(tuple(cohort.groups.items()))
            u = rng.random(n).tolist()
            who = keys * n if len(keys) == 1 else [keys[min(bisect_right(cum, x), len(keys) - 1)] for x in u]
            zs = employability.standard_normal(n).tolist()
            batch = [None] * n
            for g in sorted(cohort.groups):
                idx = [i for i, x in enumerate(who) if x == g]
                if not idx:
                    continue
                tg = groups[g]
                lo, span = int(tg.age.low), int(tg.age.high) - int(tg.age.low) + 1
                wc_low, wc_span = tg.work_capacity.low, tg.work_capacity.high - tg.work_capacity.low
                kinds, kcum = _cumulative(tuple(tg.benefit.items()))
                levels, lcum = _cumulative(tuple(tg.norwegian.items()))
                edus, ecum = _cumulative(tuple(tg.education.items()))
                for i, (ua, ub, un, ue, uw) in zip(idx, rng.random((len(idx), 5)).tolist(), strict=True):
                    age = lo + min(int(ua * span), span - 1)
                    kind = kinds[min(bisect_right(kcum, ub), len(kinds) - 1)]
                    b = benefits[kind]
                    batch[i] = Person(next_id + i, name, g, age,
                                      levels[min(bisect_right(lcum, un), len(levels) - 1)],
                                      edus[min(bisect_right(ecum, ue), len(edus) - 1)],
                                      wc_low + uw * wc_span,
                                      kind, b.g * (b.under25 if age < 25 else 1.0), float(start),
                                      cohort.stage, cohort.elapsed_weeks, zs[i])
            for p in batch:
                p.changes = benefit_changes(p.benefit_kind, p.age, p.entry_week, benefits, rules)
            next_id += n
            people.extend(batch)
    return people


def test_people_drawn_with_one_uniform_call_per_kull_are_those_of_before():
    groups, benefits = default_target_groups(), default_benefits()
    cohorts = [Cohort(name="a", start_week=0, size=37, groups={"A": 0.2, "B": 0.3, "C": 0.3, "D": 0.2},
                      repeats=3, repeat_every_weeks=26),
               Cohort(name="b", start_week=4, size=5, groups={"R": 1.0})]
    for r in range(5):
        s, t = Streams.from_seed(replication_seed(5, r)), Streams.from_seed(replication_seed(5, r))
        got = draw_people(cohorts, groups, benefits, s.people, None, 1e9, s.employability, s.benefits)
        want = _people_before(cohorts, groups, benefits, t.people, t.employability, t.benefits)
        assert got == want
        assert any(p.changes for p in got)  # benefits that end by their rules were drawn
