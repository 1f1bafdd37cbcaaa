"""Engine speed: the Kongsberg pathway through ``sim.simulate`` vs a plain hand-written SimPy model.

Both run the same flow in one process: the same stages, the same duration distributions, the same
branch probabilities (read from the built-in ``kongsberg_kull`` pathway, so a recalibration changes
both), the same capacity (placement slots), and afterwards the same labour market (job loss,
re-entry, temporary -> permanent): business as usual, the group's hazards, times what the pathway
states ``after`` the stage a person leaves through. Both record the same persons, events, spells
and capacity use as Python tuples; the framework also turns them into its four Arrow tables, which
is part of what a user pays for. ``sim.simulate`` builds a table only when it is read, so the
framework is timed with its tables built: once per replication (``simulate(...).items()``), and
once per task of ``--task`` replications as ``effekt run`` builds them
(:func:`effekt.sim.concat_records`, all four tables, amortised over the task's replications),
the cyclic collector paused for the whole task as ``effekt run``'s tasks run
(:func:`effekt.experiments.runner.run_task`; without it, the collector's passes over the rows of
the task's earlier replications cost 5-10 % of a small world's task). The hand-written model
runs with the collector paused for each replication, as ``simulate`` pauses it for each of the
framework's. Only the treatment arm is simulated (counterfactual mode "none"), because the
hand-written model has no control arm.

Usage::

    python benchmarks/bench_engine.py      # 300 replications: a kull of 14 a year for 3 years
    python benchmarks/bench_engine.py --reps 30 --horizon 1040      # 20 kull over 20 years

Prints persons/s for both (the framework's with its tables built per replication and per task)
and the ratios framework / hand-written (issue 14's target: >= 1.0). A third line times the
framework's record as rows, its rules pass included but no table built (what the hand-written
model gives, while doing more); a fourth like for like (:class:`without_rules`): the clock, the
walks and their rows, without the rules pass after the clock (wage growth, dagpenger, benefits
graded beside work and ended by their limits, which the hand-written model does not have) and
without the typed tables, and says what share of a task those two take.

Cost per person as the world grows (issue 14: flat within 1.5x from 140 to 400 000 persons)::

    python benchmarks/bench_engine.py --scale 140,14000,140000

runs one kull of N at week 0 with the placements scaled with it (10 slots per 14 people, as in
the default scenario), so the queue per slot stays the same and only the size of the world grows,
and prints µs per person for the framework and the hand-written model (one replication of the
largest world; more of the small ones, for about as many persons in all).
"""

from __future__ import annotations

import argparse
import math
import time

import simpy

from effekt.sim import Cohort, World, load_pathway, simulate
from effekt.sim.people import default_benefits, default_target_groups, draw_people
from effekt.sim.streams import Streams
from effekt.sim.world import Counterfactual

GROUPS = {"A": 0.2, "B": 0.3, "C": 0.3, "D": 0.2}  # the default scenario's mix


def make_world(size: int, every: float, horizon: float, slots: int | None = None) -> World:
    """A kull of ``size`` every ``every`` weeks until the horizon, treatment arm only; ``slots``
    placements (default: the pathway's)."""
    repeats = int(math.ceil(horizon / every))
    cohort = Cohort(name="kull", start_week=0, size=size, groups=GROUPS, repeats=repeats,
                    repeat_every_weeks=every if repeats > 1 else None)
    pathway = load_pathway("kongsberg_kull")
    if slots is not None:
        capacity = {name: c.model_copy(update={"slots": slots}) for name, c in pathway.capacity.items()}
        pathway = pathway.model_copy(update={"capacity": capacity})
    return World(pathway=pathway, cohorts=[cohort], horizon_weeks=horizon,
                 counterfactual=Counterfactual(mode="none"))


# -- the hand-written model ---------------------------------------------------------------------


EXPECTED_FLOW = {
    "referral_interview": ("fixed", ["rejected"], "course", ()),
    "course": ("fixed", ["dropped_out"], "work_training", ()),
    "work_training": ("triangular", ["dropped_out", "job_search"], "temporary_job", ("placements",)),
    "job_search": ("exponential", ["no_job"], "temporary_job", ()),
    "temporary_job": ("triangular", ["no_job"], "permanent_job", ()),
}


def check_flow(world: World) -> None:
    """The hand-written model encodes the Kongsberg graph; fail loudly if the file's graph moved."""
    for name, (dist, exits, nxt, res) in EXPECTED_FLOW.items():
        st = world.pathway.stages.get(name)
        got = None if st is None else (st.duration.dist, [e.to for e in st.exits], st.next, st.resources)
        if got != (dist, exits, nxt, res) or any(e.logistic or e.group_multiplier or e.limit is not None
                                                 for e in (st.exits if st else [])):
            raise SystemExit(f"kongsberg_kull.toml changed shape at stage '{name}' ({got}); update "
                             "the hand-written model in benchmarks/bench_engine.py to match")


def handwritten(world: World, seed: int) -> tuple[list, list, list, list]:
    """The Kongsberg flow as one would write it by hand in SimPy, numbers from the pathway file.

    Returns persons, events, spells and capacity rows as lists of tuples."""
    pw = world.pathway
    s = pw.stages
    p_reject = s["referral_interview"].exits[0].p
    interview_weeks = s["referral_interview"].duration.value
    p_drop_course = s["course"].exits[0].p
    course_weeks = s["course"].duration.value
    wt = s["work_training"].duration
    p_drop_wt, p_search = s["work_training"].exits[0].p, s["work_training"].exits[1].p
    search_mean = s["job_search"].duration.mean
    p_no_job_search = s["job_search"].exits[0].p
    tj = s["temporary_job"].duration
    p_no_job_temp = s["temporary_job"].exits[0].p
    temp_job, perm_job = s["temporary_job"].employment, s["permanent_job"].employment
    lm, groups, H = world.labour_market, world.groups, world.horizon_weeks
    market = world.counterfactual.entry_rate_multiplier  # business as usual, in both arms

    def after(stage: str) -> tuple[float, float]:
        """(entry, job-loss) multipliers the file states after leaving through ``stage``."""
        a = s[stage].after
        return (1.0, 1.0) if a is None else (a.entry_rate_multiplier, a.job_loss_multiplier)

    streams = Streams.from_seed(seed)
    rng, lm_rng = streams.pathway, streams.labour_market
    people = draw_people(world.cohorts, groups, world.benefits, streams.people, streams.arrivals, H)
    env = simpy.Environment()
    slots = simpy.Resource(env, capacity=pw.capacity["placements"].slots)
    persons: list[tuple] = []
    events: list[tuple] = []
    spells: list[tuple] = []
    capacity: list[tuple] = []

    def labour_market(p, left_through, employed, contract, fte, wage, loss_mult):
        """Business as usual after leaving through stage ``left_through``; a kept job is lost at
        the group's rate times ``loss_mult``, later jobs at the group's rate times the stage's
        stated job-loss multiplier, and work is found at the group's rate times its stated entry
        multiplier."""
        g = groups[p.group]
        more_entry, less_loss = after(left_through)
        entry = g.bau_entry_rate * market * more_entry
        if not employed:  # leaving without a job: the next job is one found afterwards
            loss_mult = less_loss
        while True:
            now = env.now
            if employed:
                conv = lm.conversion_rate if contract == "temporary" else 0.0
                loss = g.bau_job_loss_rate * loss_mult * (lm.temporary_loss_multiplier if conv else 1.0)
                rate = loss + conv
                d = lm_rng.exponential(52.0 / rate) if rate > 0 else math.inf
                spells.append((p.person_id, "employed", None, contract, now, min(now + d, H), fte, wage))
            else:
                d = lm_rng.exponential(52.0 / entry) if entry > 0 else math.inf
                spells.append((p.person_id, "not_employed", None, None, now, min(now + d, H), 0.0, 0.0))
            if now + d >= H:
                return
            yield env.timeout(d)
            if employed and conv and lm_rng.random() * rate < conv:
                contract = "permanent"
                events.append((p.person_id, env.now, None, "made_permanent"))
            elif employed:
                employed, loss_mult = False, less_loss
                events.append((p.person_id, env.now, None, "left_job"))
            else:
                employed, fte, wage = True, g.fte, g.wage
                contract = "temporary" if rng.random() < lm.temporary_share else "permanent"
                events.append((p.person_id, env.now, None, "hired"))

    def stage(p, name, d):
        """Record a programme stage; False if it ends after the horizon."""
        now = env.now
        events.append((p.person_id, now, name, "entered"))
        spells.append((p.person_id, "programme", name, None, now, min(now + d, H), 0.0, 0.0))
        return now + d < H

    def done(p, name):
        events.append((p.person_id, env.now, name, "completed"))

    def exited(p, name):
        events.append((p.person_id, env.now, name, "exited"))

    def person(p):
        if p.entry_week > 0:
            yield env.timeout(p.entry_week)
        events.append((p.person_id, env.now, None, "referred"))
        d, u = interview_weeks, rng.random()
        if not stage(p, "referral_interview", d):
            return
        yield env.timeout(d)
        done(p, "referral_interview")
        if u < p_reject:
            exited(p, "rejected")
            yield from labour_market(p, "rejected", False, None, 0.0, 0.0, 1.0)
            return
        d, u = course_weeks, rng.random()
        if not stage(p, "course", d):
            return
        yield env.timeout(d)
        done(p, "course")
        if u < p_drop_course:
            exited(p, "dropped_out")
            yield from labour_market(p, "dropped_out", False, None, 0.0, 0.0, 1.0)
            return
        asked = env.now
        with slots.request() as req:
            if not req.triggered:
                events.append((p.person_id, asked, "work_training", "queued"))
            yield req
            if env.now > asked:
                spells.append((p.person_id, "waiting", "work_training", None, asked, env.now, 0.0, 0.0))
            d, u = rng.triangular(wt.low, wt.mode, wt.high), rng.random()
            capacity.append((p.person_id, asked, env.now, env.now + d))
            if not stage(p, "work_training", d):
                return
            yield env.timeout(d)
        done(p, "work_training")
        if u < p_drop_wt:
            exited(p, "dropped_out")
            yield from labour_market(p, "dropped_out", False, None, 0.0, 0.0, 1.0)
            return
        if u < p_drop_wt + p_search:
            d, u = rng.exponential(search_mean), rng.random()
            if not stage(p, "job_search", d):
                return
            yield env.timeout(d)
            done(p, "job_search")
            if u < p_no_job_search:
                exited(p, "no_job")
                yield from labour_market(p, "no_job", False, None, 0.0, 0.0, 1.0)
                return
        d, u = rng.triangular(tj.low, tj.mode, tj.high), rng.random()
        now = env.now
        events.append((p.person_id, now, "temporary_job", "hired"))
        spells.append((p.person_id, "employed", "temporary_job", "temporary", now, min(now + d, H),
                       temp_job.fte, temp_job.annual_wage))
        if now + d >= H:
            return
        yield env.timeout(d)
        if u < p_no_job_temp:
            events.append((p.person_id, env.now, "temporary_job", "left_job"))
            exited(p, "no_job")
            yield from labour_market(p, "no_job", False, None, 0.0, 0.0, 1.0)
            return
        events.append((p.person_id, env.now, "temporary_job", "completed"))
        events.append((p.person_id, env.now, "permanent_job", "hired"))
        yield from labour_market(p, "permanent_job", True, perm_job.contract, perm_job.fte,
                                 perm_job.annual_wage, perm_job.job_loss_multiplier)

    for p in people:
        persons.append((p.person_id, p.cohort, p.group, p.age, p.norwegian, p.education,
                        p.work_capacity, p.benefit_kind, p.benefit_g, p.entry_week))
        env.process(person(p))
    env.run(until=H)
    return persons, events, spells, capacity


# -- timing -------------------------------------------------------------------------------------


def time_runs(fn, world: World, reps: int) -> float:
    """CPU seconds for ``reps`` replications (CPU time, so other processes on the machine matter
    less than with wall time)."""
    t0 = time.process_time()
    for r in range(reps):
        fn(world, r)
    return time.process_time() - t0


def framework(world: World, seed: int) -> None:
    """One replication of the framework with its four record tables built (they are built on
    first read, so ``simulate`` alone would not count them)."""
    simulate(world, seed).items()


class without_rules:  # noqa: N801 (used as a function: ``with without_rules():``)
    """The framework doing what the hand-written model does, for the like-for-like line: the
    clock, the walks and their rows as tuples, without the rules pass after the clock
    (``_Model._apply_rules``: wage growth, dagpenger after a job loss, benefits graded beside work
    and ended by their limits, none of which the hand-written model has) and without the typed
    tables. Its rows are not a replication's true record (a job's wage never grows, nobody draws
    dagpenger): a timing only, never a result."""

    def __enter__(self) -> None:
        from effekt.sim import engine

        self.engine, self.rules = engine, engine._Model._apply_rules
        engine._Model._apply_rules = lambda model, people: None

    def __exit__(self, *exc: object) -> None:
        self.engine._Model._apply_rules = self.rules


def handwritten_paused(world: World, seed: int) -> tuple[list, list, list, list]:
    """The hand-written model with the cyclic collector paused for the replication, as
    ``simulate`` pauses it for each of the framework's (without, the collector's passes cost the
    hand-written model about 8 % at 1 400 persons)."""
    from effekt.sim import collector_paused

    with collector_paused():
        return handwritten(world, seed)


def rows_only(world: World, seed: int) -> None:
    """One replication of the framework as rows (no table built); see :class:`without_rules`."""
    simulate(world, seed)


def time_tasks(world: World, reps: int, task: int) -> float:
    """CPU seconds for ``reps`` replications of the framework run as ``effekt run`` runs them:
    tasks of ``task`` replications, each task's four record tables built once from all its
    replications' rows (:func:`effekt.sim.concat_records`; imported here, so that this module,
    and benchmarks/tables_digest.py which imports it, still run in an older tree without it), the
    collector paused for each task as :func:`effekt.experiments.runner.run_task` pauses it."""
    from effekt.sim import collector_paused, concat_records

    t0 = time.process_time()
    for first in range(0, reps, task):
        with collector_paused():
            concat_records([simulate(world, r) for r in range(first, min(first + task, reps))]).items()
    return time.process_time() - t0


def scale(sizes: list[int], rounds: int, horizon: float, hand_max: int) -> None:
    """µs per person of one kull of each size, placements scaled with it (see the module doc); the
    hand-written model only up to ``hand_max`` persons (its ``simpy.Resource`` scans its holders
    on every release, so at 140 000 persons and 100 000 slots it runs for hours)."""
    print(f"one kull of N at week 0, {horizon:g} weeks, placements 10 per 14 people, CPU time, best of "
          f"{rounds} (1 for the largest)")
    print(f"{'persons':>9} {'reps':>5} {'framework µs/person':>20} {'hand-written µs/person':>23} "
          f"{'ratio':>6}   {'':24}{'like for like':>13} {'ratio':>6}")
    print("(like for like: the framework with its rules pass disabled and no tables, a timing only, "
          "not its speed)")
    base = None
    for n in sizes:
        world = make_world(n, horizon, horizon, slots=max(1, round(10 * n / 14)))
        check_flow(world)
        reps = max(1, 20_000 // n)
        k = rounds if n < 50_000 else 1
        fw = min(time_runs(framework, world, reps) for _ in range(k)) / (reps * n) * 1e6
        hw = (min(time_runs(handwritten_paused, world, reps) for _ in range(k)) / (reps * n) * 1e6
              if n <= hand_max else math.nan)
        if n <= hand_max:
            with without_rules():
                like = min(time_runs(rows_only, world, reps) for _ in range(k)) / (reps * n) * 1e6
        else:
            like = math.nan
        base = base or fw
        extra = f"   {like:>13.1f} {hw / like:>6.2f}" if n <= hand_max else ""
        print(f"{n:>9} {reps:>5} {fw:>20.1f} {hw:>23.1f} {hw / fw:>6.2f}   "
              f"(x{fw / base:.2f} of the smallest){extra}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=300, help="replications per timing (default 300)")
    ap.add_argument("--size", type=int, default=14, help="people per kull (default 14)")
    ap.add_argument("--every", type=float, default=52, help="weeks between kull starts (default 52)")
    ap.add_argument("--horizon", type=float, default=156, help="weeks (default 156)")
    ap.add_argument("--rounds", type=int, default=5, help="timings of each, best taken (default 5)")
    ap.add_argument("--task", type=int, default=100,
                    help="replications per task whose tables are built together (default 100)")
    ap.add_argument("--scale", help="comma-separated world sizes: µs per person as the world grows")
    ap.add_argument("--hand-max", type=int, default=20_000,
                    help="with --scale: largest world the hand-written model runs (default 20 000)")
    args = ap.parse_args()
    if args.scale:
        scale([int(x) for x in args.scale.split(",")], args.rounds, args.horizon, args.hand_max)
        return
    default_target_groups(), default_benefits()
    world = make_world(args.size, args.every, args.horizon)
    check_flow(world)
    persons = sum(len(simulate(world, r).persons) for r in range(args.reps))
    hand_persons = sum(len(handwritten(world, r)[0]) for r in range(args.reps))
    best_fw, best_task, best_hw, best_like = math.inf, math.inf, math.inf, math.inf
    best_rows = math.inf
    for _ in range(args.rounds):  # alternate, so all see the same machine state
        best_fw = min(best_fw, time_runs(framework, world, args.reps))
        best_task = min(best_task, time_tasks(world, args.reps, args.task))
        best_hw = min(best_hw, time_runs(handwritten_paused, world, args.reps))
        best_rows = min(best_rows, time_runs(rows_only, world, args.reps))
        with without_rules():
            best_like = min(best_like, time_runs(rows_only, world, args.reps))
    fw, task, hw = persons / best_fw, persons / best_task, hand_persons / best_hw
    like = persons / best_like
    print(f"world: {world.size} people per replication (a kull of {args.size} every {args.every:g} "
          f"weeks), horizon {args.horizon:g} weeks, {args.reps} replications, best of {args.rounds} "
          "(CPU time)")
    print(f"framework, tables per replication:    {fw:10.0f} persons/s  ({best_fw:.2f} s)")
    print(f"framework, tables once per task of {args.task:<3}: {task:8.0f} persons/s  ({best_task:.2f} s)")
    print(f"hand-written (plain SimPy):            {hw:10.0f} persons/s  ({best_hw:.2f} s)")
    print(f"ratio framework / hand-written: {fw / hw:.2f} per replication, {task / hw:.2f} per task "
          "(target >= 1.0)")
    print(f"the framework's rows, its rules pass included, no tables built: {persons / best_rows:.0f} "
          f"persons/s ({best_rows:.2f} s), {persons / best_rows / hw:.2f} the hand-written model")
    print(f"like for like, the framework with its rules pass disabled and no tables (a timing only, "
          f"not its speed): {like:.0f} persons/s ({best_like:.2f} s), {like / hw:.2f} the hand-written model")
    print(f"of the framework's task: the rules pass and the tables "
          f"{(best_task - best_like) / best_task:.0%}, the clock, walks and rows {best_like / best_task:.0%}")


if __name__ == "__main__":
    main()
