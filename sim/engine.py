"""The discrete-event model: people walk a pathway's stage graph in SimPy, then the labour market.

Each person is one SimPy process. A stage samples its duration once and yields one timeout (no
polling); capacity is a ``simpy.Resource`` per declared capacity, so waiting for a placement slot
is a real queue. After the pathway the labour market is an alternating renewal process (in work /
out of work) with group hazards, again one timeout per transition. Anything that would end after
the horizon is recorded up to the horizon and not scheduled at all.

The control arm runs in the same environment with its own random stream: the same people under
business as usual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import simpy

from sim.pathway import EMPLOYED_KINDS, Employment, Pathway
from sim.people import Person, draw_people
from sim.records import Recorder, Tables
from sim.streams import Streams
from sim.world import World

WEEKS_PER_YEAR = 52.0


@dataclass(slots=True)
class _Stage:
    """A pathway stage compiled for the inner loop: no validation, no dict look-ups by key."""

    name: str
    kind: str
    state: str
    sample: object  # callable(rng) -> float
    exits: dict[str, tuple[tuple[float, str], ...]]  # group -> cumulative (threshold, target)
    next: str | None
    capacity: str | None
    job: Employment | None
    outcome: str | None
    terminal: bool


def _compile(pathway: Pathway, groups: list[str]) -> dict[str, _Stage]:
    out = {}
    for name, st in pathway.stages.items():
        exits = {}
        for g in groups:
            ps = [min(1.0, e.p * e.group_multiplier.get(g, 1.0)) for e in st.exits]
            total = sum(ps)
            if total > 1:
                ps = [p / total for p in ps]
            cum, acc = [], 0.0
            for p, e in zip(ps, st.exits, strict=True):
                acc += p
                cum.append((acc, e.to))
            exits[g] = tuple(cum)
        out[name] = _Stage(
            name=name,
            kind=st.kind,
            state="employed" if st.kind in EMPLOYED_KINDS else "programme",
            sample=st.duration.sample if st.duration is not None else None,
            exits=exits,
            next=st.next,
            capacity=st.capacity,
            job=st.employment,
            outcome=st.outcome,
            terminal=st.terminal,
        )
    return out


class _Model:
    def __init__(self, world: World, streams: Streams):
        self.world = world
        self.streams = streams
        self.env = simpy.Environment()
        self.horizon = world.horizon_weeks
        self.rec = Recorder()
        self.stages = _compile(world.pathway, list(world.groups))
        self.entry = world.pathway.pathway.entry
        self.resources = {
            name: simpy.Resource(self.env, capacity=c.slots)
            for name, c in world.pathway.capacity.items()
        }
        self.queued: dict[tuple[str, int], tuple[float, str]] = {}  # still waiting at the horizon

    # -- recording helpers -------------------------------------------------------------------
    def _spell(self, arm, p: Person, state, stage, contract, start, end, fte, wage, on_benefit):
        self.rec.spells.append(
            (
                arm,
                p.person_id,
                state,
                stage,
                contract,
                start,
                end,
                fte,
                wage,
                p.benefit_kind if on_benefit else "none",
                p.benefit_g if on_benefit else 0.0,
            )
        )

    def _event(self, arm, p: Person, stage, event):
        self.rec.events.append((arm, p.person_id, self.env.now, stage, event))

    # -- processes ---------------------------------------------------------------------------
    def treatment(self, p: Person):
        env, H, rng = self.env, self.horizon, self.streams.pathway
        arm = "treatment"
        if p.entry_week > 0:
            yield env.timeout(p.entry_week)
        self._event(arm, p, None, "referred")
        name = self.entry
        while True:
            st = self.stages[name]
            if st.kind == "exit":
                self._event(arm, p, name, "exited")
                if st.outcome == "moved":
                    self._event(arm, p, name, "moved")
                    self._spell(arm, p, "moved", name, None, env.now, H, 0.0, 0.0, False)
                    return
                yield from self.labour_market(arm, p, self.streams.labour_market, None, 1.0,
                                              self.world.groups[p.group].post_entry_rate)
                return
            if st.terminal:  # a terminal employment stage: keep this job in the labour market
                self._event(arm, p, name, "hired")
                yield from self.labour_market(arm, p, self.streams.labour_market, st.job,
                                              st.job.job_loss_multiplier,
                                              self.world.groups[p.group].post_entry_rate,
                                              stage=name)
                return
            req = None
            if st.capacity is not None:
                res = self.resources[st.capacity]
                asked = env.now
                req = res.request()
                if not req.triggered:
                    self._event(arm, p, name, "queued")
                    self.queued[(st.capacity, p.person_id)] = (asked, name)
                    yield req
                    del self.queued[(st.capacity, p.person_id)]
                    self._spell(arm, p, "waiting", name, None, asked, env.now, 0.0, 0.0, True)
            start = env.now
            d = st.sample(rng)
            target = st.next
            u = rng.random()
            for threshold, to in st.exits[p.group]:
                if u < threshold:
                    target = to
                    break
            self._event(arm, p, name, "hired" if st.job is not None else "entered")
            end = start + d
            job = st.job
            self._spell(arm, p, st.state, name, job.contract if job else None, start, min(end, H),
                        job.fte if job else 0.0, job.annual_wage if job else 0.0, job is None)
            if req is not None:
                self.rec.capacity.append((st.capacity, p.person_id, asked, start, end))
            if end >= H:
                return
            yield env.timeout(d)
            if req is not None:
                self.resources[st.capacity].release(req)
            left_job = job is not None and (
                target is None or self.stages[target].kind not in EMPLOYED_KINDS
            )
            self._event(arm, p, name, "left_job" if left_job else "completed")
            name = target

    def control(self, p: Person):
        if p.entry_week > 0:
            yield self.env.timeout(p.entry_week)
        self._event("control", p, None, "referred")
        rate = self.world.groups[p.group].bau_entry_rate
        rate *= self.world.counterfactual.entry_rate_multiplier
        yield from self.labour_market("control", p, self.streams.counterfactual, None, 1.0, rate)

    def labour_market(self, arm, p: Person, rng, job: Employment | None, loss_mult: float,
                      entry_rate: float, stage: str | None = None):
        """Alternate between work and no work until the horizon, one timeout per change."""
        env, H = self.env, self.horizon
        tg = self.world.groups[p.group]
        contract = job.contract if job else "ordinary"
        fte = job.fte if job else tg.fte
        wage = job.annual_wage if job else tg.wage
        employed = job is not None
        while True:
            now = env.now
            if employed:
                rate = tg.job_loss_rate * loss_mult
                d = rng.exponential(WEEKS_PER_YEAR / rate) if rate > 0 else math.inf
                self._spell(arm, p, "employed", stage, contract, now, min(now + d, H), fte, wage,
                            False)
            else:
                d = rng.exponential(WEEKS_PER_YEAR / entry_rate) if entry_rate > 0 else math.inf
                self._spell(arm, p, "not_employed", None, None, now, min(now + d, H), 0.0, 0.0,
                            True)
            if now + d >= H:
                return
            yield env.timeout(d)
            if employed:
                self._event(arm, p, stage, "left_job")
                employed, stage = False, None
                loss_mult = 1.0
            else:
                self._event(arm, p, None, "hired")
                employed, contract, fte, wage = True, "ordinary", tg.fte, tg.wage

    # -- running -----------------------------------------------------------------------------
    def run(self) -> Tables:
        world, streams = self.world, self.streams
        people = draw_people(world.cohorts, world.groups, world.benefits, streams.people)
        mode = world.counterfactual.mode
        if mode == "rct":
            treated = streams.assignment.random(len(people)) < world.counterfactual.treatment_share
        else:
            treated = np.ones(len(people), dtype=bool)
        for p, t in zip(people, treated, strict=True):
            arms = ("treatment", "control") if mode == "parallel" else (
                ("treatment",) if t else ("control",)
            )
            for arm in arms:
                self.rec.persons.append(
                    (arm, p.person_id, p.cohort, p.group, p.age, p.norwegian, p.education,
                     p.work_capacity, p.benefit_kind, p.benefit_g, p.entry_week)
                )
                self.env.process(self.treatment(p) if arm == "treatment" else self.control(p))
        self.env.run(until=self.horizon)
        by_id = {p.person_id: p for p in people}
        for (resource, pid), (asked, stage) in sorted(self.queued.items()):
            self._spell("treatment", by_id[pid], "waiting", stage, None, asked, self.horizon,
                        0.0, 0.0, True)
            self.rec.capacity.append((resource, pid, asked, math.nan, math.nan))
        return self.rec.tables()


def simulate(world: World, seed: int | np.random.SeedSequence | Streams) -> Tables:
    """Simulate one replication of ``world``; all randomness comes from ``seed``.

    Returns the record tables (see :mod:`sim.records`). Nothing is printed or written.
    """
    streams = seed if isinstance(seed, Streams) else Streams.from_seed(seed)
    return _Model(world, streams).run()
