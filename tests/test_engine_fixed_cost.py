"""The engine's fixed cost per replication (issue 14, fifth part), without changing a number.

* Random streams are made on first use (:class:`effekt.sim.streams.Streams`): every stream gives
  exactly the draws of the eagerly spawned child ``SeedSequence(entropy, spawn_key=(*key, i))``,
  whatever order the streams are first read in, and a world that needs no referral stream or
  benefit change never makes those streams.
* A world's fixed part (compiled stages, business as usual, benefit roles ...) is built once per
  world object and shared by its replications (:func:`effekt.sim.engine._planned`); the
  replications' tables are the same as with a plan built afresh for every replication.
* ``choose_chunk`` times the design point of median size, after one untimed replication.
* The engine and SimPy stay off the import path of ``effekt.sim`` (and so of ``effekt validate``).

No timing here: see benchmarks/bench_engine.py and BENCHMARKS.md.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from effekt.sim import Cohort, World, load_pathway, replication_seed, simulate
from effekt.sim import engine as engine_module
from effekt.sim.streams import STREAM_NAMES, Streams
from effekt.sim.world import Counterfactual


def _eager(seed: np.random.SeedSequence) -> dict[str, np.random.Generator]:
    """The streams as they were spawned before: all ten at once, in name order."""
    return {name: np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, i))))
        for i, name in enumerate(STREAM_NAMES)}


@pytest.mark.parametrize("seed", [replication_seed(7, 0), replication_seed(7, 41),
                                  np.random.SeedSequence(12345)])
def test_a_stream_made_late_draws_what_the_eager_one_drew(seed):
    eager = _eager(seed)
    lazy = Streams.from_seed(seed)
    for name in reversed(STREAM_NAMES):  # first read in the opposite order of the spawn
        assert getattr(lazy, name).random(5).tolist() == eager[name].random(5).tolist(), name
    first = lazy.people
    assert lazy.people is first and vars(lazy)["people"] is first  # made once, then kept


def test_streams_differ_by_purpose_and_replace_keeps_the_others():
    s = Streams.from_seed(replication_seed(3, 2))
    first = {g.random() for g in s.generators()}
    assert len(first) == len(STREAM_NAMES)
    mine = np.random.default_rng(0)
    t = Streams.from_seed(replication_seed(3, 2)).replace(pathway=mine)
    assert t.pathway is mine
    assert t.people.random() == _eager(replication_seed(3, 2))["people"].random()
    with pytest.raises(ValueError, match="unknown random stream"):
        Streams.from_seed(1).replace(pathways=mine)


def _world(**counterfactual) -> World:
    return World(pathway=load_pathway("kongsberg_kull"), horizon_weeks=156,
                 counterfactual=Counterfactual(**counterfactual),
                 cohorts=[Cohort(name="kull", start_week=0, size=14, groups={"A": 0.5, "B": 0.5})])


def test_a_world_without_referral_streams_never_makes_the_arrivals_stream():
    s = Streams.from_seed(replication_seed(5, 0))
    simulate(_world(mode="none"), s)
    made = set(vars(s)) & set(STREAM_NAMES)
    assert {"people", "pathway", "employability"} <= made
    assert not made & {"arrivals", "counterfactual", "assignment", "comparison", "long_run"}
    # ... and the same world with a referral stream does (its arrival times come from it)
    s = Streams.from_seed(replication_seed(5, 0))
    w = _world(mode="none")
    simulate(w.model_copy(update={"cohorts": [w.cohorts[0].model_copy(
        update={"arrival": "poisson", "rate_per_week": 0.5})]}), s)
    assert "arrivals" in vars(s)


def _tables(world: World, reps: range) -> list[dict]:
    return [{n: t.to_pydict() for n, t in simulate(world, replication_seed(11, r)).items()} for r in reps]


@pytest.mark.parametrize("counterfactual", [{"mode": "parallel"}, {"mode": "rct", "treatment_share": 0.5},
                                            {"mode": "parallel", "comparison": "matched"}])
def test_a_shared_plan_gives_the_tables_of_a_fresh_one(monkeypatch, counterfactual):
    world = _world(**counterfactual)
    shared = _tables(world, range(6))
    assert engine_module._planned(world) is engine_module._planned(world)  # built once per world
    fresh_plans = []

    def fresh(w):
        plan = engine_module._world_plan(w)
        fresh_plans.append(plan)
        return plan

    monkeypatch.setattr(engine_module, "_planned", fresh)
    assert _tables(world, range(6)) == shared
    assert len(fresh_plans) == 6  # ... where the reference built it for every replication


def test_a_plan_is_not_changed_by_the_replications_that_share_it():
    world = _world(mode="parallel")
    plan = engine_module._planned(world)
    before = {k: repr(v) for k, v in plan.items()}
    _tables(world, range(4))
    assert {k: repr(v) for k, v in engine_module._planned(world).items()} == before


def test_a_long_run_scenario_simulates_one_world_object():
    from effekt.experiments.scenario import load_scenario

    sc = load_scenario(None, ["world.long_run_years=5"])
    assert sc.simulated_world is sc.simulated_world
    assert sc.simulated_world.horizon_weeks == 5 * 52 and sc.simulated_world.contract_horizon_weeks == 156


def test_choose_chunk_times_the_design_point_of_median_size(monkeypatch):
    from effekt.experiments import batch
    from effekt.experiments.scenario import load_experiment

    sizes = [40, 4, 400, 14, 140]
    values = ", ".join(str(s) for s in sizes)
    exp = load_experiment(None, ["design.replications=40", f"design.sweep={{\"world.cohorts[0].size\" = "
                                 f"[{values}]}}"])
    timed: list[tuple[int, int, int]] = []
    monkeypatch.setattr(batch, "_timed_task",
                        lambda sc, start, size: timed.append((sc.world.size, start, size)))
    chunk = batch.choose_chunk(exp, workers=1)
    assert {size for size, _, _ in timed} == {40}  # the median of 4, 14, 40, 140, 400
    runs = [(start, size) for _, start, size in timed]
    assert runs[0] == (0, 1) and len(runs) >= 2  # one untimed replication, then tasks timed
    sizes_timed = [size for _, size in runs[1:]]
    assert sizes_timed == [2 * 2 ** k for k in range(len(sizes_timed))]  # tasks of 2, 4, 8 ...
    starts = [start for start, _ in runs]
    assert starts == [sum(size for _, size in runs[:k]) for k in range(len(runs))]  # each another replication
    assert 1 <= chunk <= 40


@pytest.mark.parametrize(("fixed", "per", "most", "timed"), [
    (0.009, 0.0025, 10_000, [1, 2, 4, 8, 16]),  # the default's figures: timed for a tenth of a second
    (0.0, 0.03, 10_000, [1, 2, 4]),  # a larger world: the tenth of a second is spent sooner
])
def test_task_cost_recovers_a_tasks_fixed_cost_and_cost_per_replication(monkeypatch, fixed, per, most, timed):
    """On a clock that a task of k replications advances by ``fixed + per x k`` (the warm-up by
    one second's tenth more), :func:`task_cost` gives back both parts exactly, after the tasks
    its rule says: 2, 4, 8 ... until a tenth of a second or the bound is within the target."""
    from effekt.experiments import batch

    clock = [0.0]
    sizes: list[int] = []

    def task(sc, start, size):
        sizes.append(size)
        clock[0] += fixed + per * size + (0.1 if start == 0 else 0.0)

    monkeypatch.setattr(batch, "_timed_task", task)
    monkeypatch.setattr(batch.time, "process_time", lambda: clock[0])
    cost = batch.task_cost(None, most=most, target=1.0)
    assert cost.fixed == pytest.approx(fixed, abs=1e-12)
    assert cost.per_replication == pytest.approx(per, rel=1e-9)
    assert sizes == timed
    assert cost.replications_for(1.0, most) == min(most, math.ceil((1.0 - fixed) / per - 1e-9))


@pytest.mark.parametrize(("fixed", "per", "most", "target", "timed"), [
    (0.009, 0.0025, 100, 1.0, [1, 2]),  # after one task its mean says the bound (100) fits: done
    (0.0, 0.5, 3, 1.0, [1, 2]),  # the task of 2 alone spends the tenth of a second
    (0.0, 0.00002, 3, 0.00005, [1, 2, 3]),  # never within the target: timed up to the bound, no more
])
def test_task_cost_never_times_a_task_beyond_the_bound_nor_longer_than_needed(
        monkeypatch, fixed, per, most, target, timed):
    from effekt.experiments import batch

    clock = [0.0]
    sizes: list[int] = []

    def task(sc, start, size):
        sizes.append(size)
        clock[0] += fixed + per * size

    monkeypatch.setattr(batch, "_timed_task", task)
    monkeypatch.setattr(batch.time, "process_time", lambda: clock[0])
    cost = batch.task_cost(None, most=most, target=target)
    assert sizes == timed and max(sizes) <= most
    assert cost.replications_for(target, most) <= most


def test_task_cost_gives_the_replications_for_a_target():
    from effekt.experiments.batch import TaskCost

    cost = TaskCost(fixed=0.01, per_replication=0.002)
    assert cost.replications_for(1.0, most=10_000) == 495  # ceil(0.99 / 0.002)
    assert cost.replications_for(1.0, most=100) == 100  # the bound
    assert cost.replications_for(0.005, most=100) == 1  # never fewer than one


def test_choose_chunk_gives_one_replication_when_the_warm_up_alone_is_over_the_target(monkeypatch):
    from effekt.experiments import batch
    from effekt.experiments.scenario import load_experiment

    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(batch, "_timed_task", lambda sc, start, size: calls.append((start, size)))
    exp = load_experiment(None, ["design.replications=100"], sweep=False)
    assert batch.choose_chunk(exp, workers=1, target=0.0) == 1
    assert calls == [(0, 1)]  # a long replication is not simulated again to time it


def test_the_simulation_package_does_not_import_the_engine_or_simpy():
    code = ("import sys, json, effekt.sim, effekt.experiments.scenario\n"
            "print(json.dumps(['simpy' in sys.modules, 'effekt.sim.engine' in sys.modules]))\n"
            "from effekt.sim import simulate, WEEKS_PER_YEAR\n"
            "print(json.dumps(['simpy' in sys.modules, WEEKS_PER_YEAR]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = (json.loads(line) for line in out.stdout.strip().splitlines()[-2:])
    assert before == [False, False]
    assert after == [True, 52.0]
    import effekt.sim as sim

    with pytest.raises(AttributeError, match="no_such_name"):
        sim.no_such_name  # noqa: B018


@pytest.mark.parametrize("variant", ["parallel", "rct", "matched", "poisson", "long_run"])
def test_lazy_streams_give_the_tables_of_all_ten_made_up_front(variant):
    """The reference: every stream spawned eagerly, as before, handed to simulate."""
    counterfactuals = {"rct": {"mode": "rct", "treatment_share": 0.5},
                       "matched": {"mode": "parallel", "comparison": "matched"}}
    w = _world(**counterfactuals.get(variant, {"mode": "parallel"}))
    if variant == "poisson":
        w = w.model_copy(update={"cohorts": [w.cohorts[0].model_copy(
            update={"arrival": "poisson", "rate_per_week": 0.5})]})
    if variant == "long_run":
        w = w.model_copy(update={"horizon_weeks": 416, "contract_horizon_weeks": 156})
    for r in range(3):
        seed = replication_seed(23, r)
        lazy = {n: t.to_pydict() for n, t in simulate(w, seed).items()}
        eager = {n: t.to_pydict() for n, t in simulate(w, Streams(seed, **_eager(seed))).items()}
        assert lazy == eager
