"""Issue 14, session 18: the engine's cost per person kept flat as the world grows, without changing
a number.

Each faster route is checked against the route it replaced, kept here as the reference:

* :class:`effekt.sim.engine._Clock` (normal events in a list per week, the weeks in a heap of floats)
  against ``simpy.Environment`` (one heap of tuples): the same events in the same order on random
  programmes of timeouts, zero delays, urgent events, ``step``/``peek`` and runs to a time or an
  event; and the engine's tables with either clock;
* a person's business-as-usual hazards worked out on each call against the group's
  ``employability_factor`` (the cached value of before);
* the post-pass grouping spells by person through lists per arm against each person's spells put
  through the post-pass alone, in the order the persons first appear;
* a large record's tables built at once (:data:`effekt.sim.records.BUILT_AT_ONCE`) against the
  same record built lazily, and the collector: the model and its rows freed by reference counting
  once the run is over, even with people still queued at the horizon.

No timing here: see benchmarks/bench_engine.py and BENCHMARKS.md.
"""

from __future__ import annotations

import gc
import random
import weakref

import pytest
import simpy

from effekt.sim import Cohort, World, engine, load_pathway, records, replication_seed, simulate
from effekt.sim.streams import Streams
from effekt.sim.world import Counterfactual

# -- the clock ------------------------------------------------------------------------------------


def _programme(env: simpy.Environment, seed: int, log: list) -> None:
    """A random mix of what SimPy can be asked: processes (urgent Initialize events), timeouts with
    equal, zero and random delays, events succeeded at once from callbacks, nested timeouts."""
    rng = random.Random(seed)
    delays = [0, 0, 1, 1, 1.5, 2, 2, 3.25, rng.random(), rng.random() * 4]

    def walker(k: int):
        for step in range(rng.randint(1, 6)):
            log.append(("walk", k, step, env.now))
            yield env.timeout(rng.choice(delays))
            if rng.random() < 0.3:  # an event succeeded now, waited for: same time, normal priority
                ev = env.event()
                ev.callbacks.append(lambda e, k=k: log.append(("cb", k, env.now)))
                ev.succeed()
                yield ev

    for k in range(rng.randint(3, 25)):
        if rng.random() < 0.5:
            env.process(walker(k))
        else:  # a bare timeout with a callback that schedules another at the same time
            t = env.timeout(rng.choice(delays))

            def again(_e, k=k):
                log.append(("again", k, env.now))
                env.timeout(0).callbacks.append(lambda e: log.append(("zero", k, env.now)))
            t.callbacks.append(again)


@pytest.mark.parametrize("seed", range(120))
def test_the_clock_processes_simpys_events_in_simpys_order(seed):
    logs = []
    for cls in (simpy.Environment, engine._Clock):
        env, log = cls(), []
        _programme(env, seed, log)
        stop = [0.7, 1.0, 2.0, 3.25] if seed % 2 else [1.0]
        for at in stop:  # runs to a time, one after another (the engine runs to a cut, then on)
            if at > env.now:
                env.run(until=at)
                log.append(("until", at, env.now, env.peek()))
        for _ in range(3):  # single steps
            if env.peek() < float("inf"):
                env.step()
                log.append(("step", env.now))
        env.run()  # to the end
        log.append(("end", env.now, env.peek()))
        logs.append(log)
    assert logs[0] == logs[1]
    assert len(logs[0]) > 5


def _run_to_an_event(cls: type[simpy.Environment]) -> list:
    env, log = cls(), []
    for d in (1, 2, 2, 3):
        env.timeout(d).callbacks.append(lambda e, d=d: log.append((d, env.now)))
    target = env.timeout(2, value="two")
    target.callbacks.append(lambda e: log.append(("after stop", env.now)))
    got = env.run(until=target)  # a normal event with a callback after StopSimulation's
    log.append((got, env.now))
    env.run()
    log.append(("end", env.now))
    with pytest.raises(ValueError):
        env.run(until=env.now)
    with pytest.raises(RuntimeError):
        fresh = cls()
        fresh.run(until=fresh.event())  # nothing scheduled: never triggered
    return log


def test_the_clock_runs_to_an_event_and_stops_as_simpy_does():
    assert _run_to_an_event(engine._Clock) == _run_to_an_event(simpy.Environment)


class _PlainClock(simpy.Environment):
    """SimPy's own environment with the attributes :meth:`_Model._let_go` empties."""

    def __init__(self) -> None:
        super().__init__()
        self._due: dict = {}
        self._weeks: list = []
        self._current = None


def _queue_world(size: int, slots: int, mode: str, long_run: bool = False, poisson: bool = False) -> World:
    pathway = load_pathway("kongsberg_kull")
    capacity = {n: c.model_copy(update={"slots": slots}) for n, c in pathway.capacity.items()}
    cohort = (Cohort(name="s", start_week=0, size=size * 4, groups={"A": 0.4, "D": 0.6}, arrival="poisson",
                     rate_per_week=0.7) if poisson else
              Cohort(name="kull", start_week=0, size=size, groups={"A": 0.5, "C": 0.5}, repeats=8,
                     repeat_every_weeks=26))
    return World(pathway=pathway.model_copy(update={"capacity": capacity}), cohorts=[cohort],
                 horizon_weeks=520 if long_run else 260, contract_horizon_weeks=260 if long_run else None,
                 counterfactual=Counterfactual(mode=mode, treatment_share=0.5))


WORLDS = [(40, 1, "parallel", False, False), (40, 4, "none", False, False), (30, 2, "rct", True, False),
          (20, 3, "parallel", True, False), (10, 1, "parallel", False, True), (60, 30, "none", False, False)]


@pytest.mark.parametrize("size,slots,mode,long_run,poisson", WORLDS)
def test_the_engine_gives_the_tables_of_simpys_environment(monkeypatch, size, slots, mode, long_run, poisson):
    world = _queue_world(size, slots, mode, long_run, poisson)
    for r in range(3):
        seed = replication_seed(23, r)
        fast = {n: t.to_pydict() for n, t in simulate(world, seed).items()}
        with monkeypatch.context() as m:
            m.setattr(engine, "_Clock", _PlainClock)
            plain = {n: t.to_pydict() for n, t in simulate(world, seed).items()}
        assert repr(fast) == repr(plain)
    if slots < 5:
        assert "queued" in fast["events"]["event"]  # the queue was really used


# -- hazards, post-pass -----------------------------------------------------------------------------


def test_hazards_worked_out_per_call_are_the_groups_employability_factor():
    world = _queue_world(40, 2, "parallel")
    model = engine._Model(world, Streams.from_seed(replication_seed(3, 0)))
    rng = random.Random(5)
    for _ in range(3000):
        g = rng.choice(sorted(world.groups))
        tg = world.groups[g]
        z = rng.gauss(0.0, 1.5) if rng.random() < 0.9 else rng.choice([0.0, -0.0, 3.7, -8.0])
        p = engine.Person(1, "k", g, 30, "fluent", "primary", 1.0, "aap", 2.0, 0.0, employability=z)
        scale = world.counterfactual.entry_rate_multiplier
        want = (tg.bau_entry_rate * scale * tg.employability_factor(z), tg.bau_job_loss_rate)
        assert model.rates(p) == want


@pytest.mark.parametrize("size,slots,mode,long_run,poisson", WORLDS[:4])
def test_the_post_pass_groups_by_person_in_the_order_they_first_appear(size, slots, mode, long_run, poisson):
    world = _queue_world(size, slots, mode, long_run, poisson)
    seed = replication_seed(31, 2)
    captured = {}

    class Capture(engine._Model):
        def _apply_rules(self, people):
            captured["spells"], captured["people"] = list(self.rec.spells), people
            super()._apply_rules(people)
            captured["out"] = list(self.rec.spells)

    Capture(world, Streams.from_seed(seed)).run()
    spells, people, out = captured["spells"], captured["people"], captured["out"]
    order = list(dict.fromkeys(s[:2] for s in spells))  # (arm, person) in first-appearance order
    want = []
    for key in order:  # each person alone through the post-pass of a fresh model
        alone = engine._Model(world, Streams.from_seed(seed))
        alone.rec.spells[:] = [s for s in spells if s[:2] == key]
        alone._apply_rules(people)
        want.extend(alone.rec.spells)
    assert out == want
    assert len(order) > 20 and len(out) > len(spells)  # the rules cut spells


# -- tables at once, the collector -------------------------------------------------------------------


@pytest.mark.parametrize("size,slots,mode,long_run,poisson", WORLDS[:3])
def test_tables_built_at_once_are_the_lazy_ones(monkeypatch, size, slots, mode, long_run, poisson):
    world = _queue_world(size, slots, mode, long_run, poisson)
    seed = replication_seed(41, 0)
    monkeypatch.setattr(records, "BUILT_AT_ONCE", 10**12)
    lazy = simulate(world, seed)
    assert lazy._tables == {}  # nothing built yet
    lazy = {n: (t.schema, t.to_pydict()) for n, t in lazy.items()}
    monkeypatch.setattr(records, "BUILT_AT_ONCE", 1)
    eager = simulate(world, seed)
    assert eager._rows == {} and set(eager._tables) == set(records.SCHEMAS)  # built, rows let go
    eager = {n: (t.schema, t.to_pydict()) for n, t in eager.items()}
    assert repr(lazy) == repr(eager)


def test_a_recorder_building_at_once_lets_go_of_its_rows(monkeypatch):
    monkeypatch.setattr(records, "BUILT_AT_ONCE", 3)
    rec = records.Recorder()
    rec.persons.append(("treatment", 0, "k", "A", 30, "fluent", "primary", 1.0, "aap", 2.0, 0.0, 0.1))
    rec.events.extend([("treatment", 0, 0.0, None, "referred")] * 2)
    tables = rec.tables()
    assert rec.persons == [] and rec.events == [] and tables.events.num_rows == 2
    small = records.Recorder()
    small.events.append(("treatment", 0, 0.0, None, "referred"))
    assert small.tables()._rows["events"] is small.events  # below the bound: lazy, rows kept


@pytest.mark.parametrize("slots", [1, 3])
def test_the_model_and_its_rows_go_by_reference_counting(slots):
    """With people still queued at the horizon (walks waiting on a request: reference cycles until
    the clock lets go), the model goes with the last reference to it, without the collector."""
    world = _queue_world(40, slots, "parallel")
    was = gc.isenabled()
    gc.disable()
    try:
        model = engine._Model(world, Streams.from_seed(replication_seed(9, 1)))
        alive = weakref.ref(model)
        clock = weakref.ref(model.env)
        tables = model.run()
        assert model.walks == [] and model.waiting == {}
        assert tables.events.num_rows > 0
        queued = sum(1 for e in tables.events.column("event").to_pylist() if e == "queued")
        assert queued > 0
        del model
        assert alive() is None and clock() is None
    finally:
        if was:
            gc.enable()


def test_building_tables_leaves_the_collector_as_it_was():
    world = _queue_world(10, 2, "none")
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            t = simulate(world, replication_seed(1, 0))
            assert gc.isenabled() is enabled
            t.items()
            assert gc.isenabled() is enabled
            t = simulate(world, replication_seed(1, 1))
            _ = t.spells
            assert gc.isenabled() is enabled
        finally:
            gc.enable()
