"""The discrete-event model: people walk a pathway's stage graph in SimPy, then the labour market.

Each person is one SimPy process. A stage samples its duration once and yields one timeout (no
polling); capacity is a ``simpy.Resource`` per declared capacity, so waiting for a placement slot
or a mentor is a real queue. After the pathway the labour market is a renewal process (out of
work / temporary job / permanent job) with group hazards, again one timeout per transition.
Anything that would end after the horizon is recorded up to the horizon and not scheduled at all.

The control arm runs in the same environment with its own random stream: the same people under
business as usual (``parallel``), or the people randomised out of the programme (``rct``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from sim.labour_market import LabourMarket
from sim.pathway import EMPLOYED_KINDS, Employment, Pathway, Stage
from sim.people import NORWEGIAN_LEVELS, Person, TargetGroup, draw_people
from sim.records import Recorder, Tables
from sim.streams import Streams
from sim.world import World

WEEKS_PER_YEAR = 52.0

_NO_PAY = (None, None, 0.0, False, 0.0, 0.0, None)
"""Spell tail (wage_payer, subsidy_payer, subsidy_share, integration_grant, cost_once,
cost_per_week, cost_payer) when nobody pays anything beyond the benefit."""
_EMPLOYER_PAYS = ("employer", None, 0.0, False, 0.0, 0.0, None)

Thresholds = tuple[tuple[float, str, int], ...]  # cumulative (threshold, target, exit index)


@dataclass(slots=True)
class _Stage:
    """A pathway stage compiled for the inner loop: no validation, no look-ups by key."""

    name: str
    kind: str
    state: str
    sample: Callable[[np.random.Generator], float] | None
    exits: dict[str, Thresholds]  # by group, for people without person-specific exits
    personal: tuple | None  # ((p by group, group multiplier, coefficients, target) per exit) if logistic
    limited: dict[int, tuple[int, str]]  # exit index -> (limit, otherwise)
    next: str | None
    resources: tuple[str, ...]
    job: Employment | None
    outcome: str | None
    terminal: bool
    on_benefit: bool
    tail: tuple


def _cumulate(ps: list[float], targets: list[str]) -> Thresholds:
    total = sum(ps)
    if total > 1:
        ps = [p / total for p in ps]
    cum, acc = [], 0.0
    for i, (p, to) in enumerate(zip(ps, targets, strict=True)):
        acc += p
        cum.append((acc, to, i))
    return tuple(cum)


def _tail(st: Stage) -> tuple:
    f, c = st.funding, st.costs
    wage_payer = f.wage_payer or ("employer" if st.employment is not None else None)
    costly = c.per_person > 0 or c.per_week > 0
    return (wage_payer, f.subsidy_payer, f.subsidy_share, f.integration_grant, c.per_person,
            c.per_week, c.payer if costly else None)


def _compile(pathway: Pathway, groups: list[str]) -> dict[str, _Stage]:
    out = {}
    order = {name: i for i, name in enumerate(pathway.capacity)}
    for name, st in pathway.stages.items():
        targets = [e.to for e in st.exits]
        exits = {
            g: _cumulate([min(1.0, e.p * e.group_multiplier.get(g, 1.0)) for e in st.exits], targets)
            for g in groups
        }
        personal = None
        if any(e.logistic for e in st.exits):
            personal = tuple((e.p, dict(e.group_multiplier), dict(e.logistic), e.to) for e in st.exits)
        employed = st.kind in EMPLOYED_KINDS
        benefit = st.funding.benefit
        out[name] = _Stage(
            name=name,
            kind=st.kind,
            state="employed" if employed else "programme",
            sample=st.duration.sample if st.duration is not None else None,
            exits=exits,
            personal=personal,
            limited={i: (e.limit, e.otherwise) for i, e in enumerate(st.exits) if e.limit is not None},
            next=st.next,
            resources=tuple(sorted(st.resources, key=order.__getitem__)),
            job=st.employment,
            outcome=st.outcome,
            terminal=st.terminal,
            on_benefit=(benefit == "continues") if benefit is not None else not employed,
            tail=_tail(st),
        )
    return out


def person_terms(p: Person) -> dict[str, float]:
    """The person attributes a logistic exit uses, measured from the reference person
    (see :data:`sim.pathway.LOGISTIC_TERMS`)."""
    return {
        "age": p.age - 30.0,
        "norwegian": NORWEGIAN_LEVELS.index(p.norwegian) - 2.0,
        "work_capacity": p.work_capacity - 1.0,
        "higher_education": 1.0 if p.education.startswith("higher") else 0.0,
    }


def _personal_thresholds(st: _Stage, p: Person) -> Thresholds:
    terms = person_terms(p)
    ps, targets = [], []
    for base, mult, coef, to in st.personal:
        q = min(1.0, base * mult.get(p.group, 1.0))
        if 0.0 < q < 1.0 and coef:
            eta = math.log(q / (1.0 - q)) + sum(b * terms[k] for k, b in coef.items())
            q = 1.0 / (1.0 + math.exp(-eta))
        ps.append(q)
        targets.append(to)
    return _cumulate(ps, targets)


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
        self.lm: LabourMarket = world.labour_market
        # people still waiting for capacity at the horizon: pid -> (stage, asked, [(res, req_t, granted)])
        self.waiting: dict[int, tuple[str, float, list]] = {}

    def _event(self, arm: str, p: Person, stage: str | None, event: str) -> None:
        self.rec.events.append((arm, p.person_id, self.env.now, stage, event))

    # -- processes ---------------------------------------------------------------------------
    def treatment(self, p: Person):
        """One person's walk through the pathway, then the labour market."""
        env, H, rng = self.env, self.horizon, self.streams.pathway
        spells, events, stages = self.rec.spells, self.rec.events, self.stages
        arm, pid = "treatment", p.person_id
        bkind, bg = p.benefit_kind, p.benefit_g
        if p.entry_week > 0:
            yield env.timeout(p.entry_week)
        events.append((arm, pid, env.now, None, "referred"))
        name = p.stage or self.entry
        taken: dict[tuple[str, int], int] | None = None  # how often a limited exit was taken
        while True:
            st = stages[name]
            if st.terminal:
                tg = self.world.groups[p.group]
                if st.kind == "exit":
                    events.append((arm, pid, env.now, name, "exited"))
                    if st.outcome == "moved":
                        events.append((arm, pid, env.now, name, "moved"))
                        spells.append((arm, pid, "moved", name, None, env.now, H, 0.0, 0.0, "none",
                                       0.0, *_NO_PAY))
                        return
                    yield from self.labour_market(arm, p, self.streams.labour_market, tg,
                                                  tg.post_entry_rate)
                    return
                # a terminal employment stage: keep this job in the labour market
                events.append((arm, pid, env.now, name, "hired"))
                yield from self.labour_market(arm, p, self.streams.labour_market, tg,
                                              tg.post_entry_rate, stage=st)
                return
            if st.resources:
                asked = env.now
                held = []
                for r in st.resources:
                    t = env.now
                    req = self.resources[r].request()
                    held.append([r, req, t, None])
                    if not req.triggered:
                        if pid not in self.waiting:
                            events.append((arm, pid, asked, name, "queued"))
                        self.waiting[pid] = (name, asked, held)
                        yield req
                    held[-1][3] = env.now
                if pid in self.waiting:
                    del self.waiting[pid]
                    spells.append((arm, pid, "waiting", name, None, asked, env.now, 0.0, 0.0, bkind,
                                   bg, *_NO_PAY))
            start = env.now
            d = st.sample(rng)
            u = rng.random()
            target = st.next
            for threshold, to, i in (st.exits[p.group] if st.personal is None
                                     else _personal_thresholds(st, p)):
                if u < threshold:
                    target = to
                    if st.limited and i in st.limited:
                        limit, otherwise = st.limited[i]
                        taken = taken if taken is not None else {}
                        n = taken.get((name, i), 0)
                        if n >= limit:
                            target = otherwise
                        else:
                            taken[(name, i)] = n + 1
                    break
            job = st.job
            events.append((arm, pid, start, name, "hired" if job is not None else "entered"))
            end = start + d
            on_b = st.on_benefit
            if job is None:
                spells.append((arm, pid, st.state, name, None, start, end if end < H else H, 0.0, 0.0,
                               bkind if on_b else "none", bg if on_b else 0.0, *st.tail))
            else:
                spells.append((arm, pid, "employed", name, job.contract, start, end if end < H else H,
                               job.fte, job.annual_wage, bkind if on_b else "none", bg if on_b else 0.0,
                               *st.tail))
            if st.resources:
                for r, _, t, granted in held:
                    self.rec.capacity.append((r, pid, t, granted, end, name))
            if end >= H:
                return
            yield env.timeout(d)
            if st.resources:
                for r, req, _, _ in held:
                    self.resources[r].release(req)
            left_job = job is not None and (target is None or stages[target].job is None)
            events.append((arm, pid, end, name, "left_job" if left_job else "completed"))
            name = target

    def control(self, p: Person):
        """The same person under business as usual: the group's hazard of entering work."""
        if p.entry_week > 0:
            yield self.env.timeout(p.entry_week)
        self._event("control", p, None, "referred")
        tg = self.world.groups[p.group]
        rate = tg.bau_entry_rate * self.world.counterfactual.entry_rate_multiplier
        yield from self.labour_market("control", p, self.streams.counterfactual, tg, rate)

    def labour_market(self, arm: str, p: Person, rng: np.random.Generator, tg: TargetGroup,
                      entry_rate: float, stage: _Stage | None = None):
        """Out of work, in a temporary job or in a permanent job until the horizon.

        Competing exponential hazards: out of work -> hired at ``entry_rate``; temporary ->
        permanent at the labour market's conversion rate; employed -> out of work at the group's
        job-loss rate (times the stage's ``job_loss_multiplier`` while in a pathway job and the
        temporary multiplier in a temporary job). One timeout per change of state.
        """
        env, H, lm = self.env, self.horizon, self.lm
        spells, events = self.rec.spells, self.rec.events
        pid, bkind, bg = p.person_id, p.benefit_kind, p.benefit_g
        if stage is not None:  # keep the pathway's job, with its funding (not its one-off cost)
            job = stage.job
            name, contract, fte, wage = stage.name, job.contract, job.fte, job.annual_wage
            loss_mult, tail, on_b = job.job_loss_multiplier, stage.tail, stage.on_benefit
            employed = True
        else:
            employed = False
        while True:
            now = env.now
            if employed:
                loss = tg.job_loss_rate * loss_mult
                conv = 0.0
                if contract == "temporary":
                    loss *= lm.temporary_loss_multiplier
                    conv = lm.conversion_rate
                rate = loss + conv
                d = rng.exponential(WEEKS_PER_YEAR / rate) if rate > 0 else math.inf
                spells.append((arm, pid, "employed", name, contract, now, now + d if now + d < H else H,
                               fte, wage, bkind if on_b else "none", bg if on_b else 0.0, *tail))
                tail = tail if tail[4] == 0 else (*tail[:4], 0.0, *tail[5:])
            else:
                d = rng.exponential(WEEKS_PER_YEAR / entry_rate) if entry_rate > 0 else math.inf
                spells.append((arm, pid, "not_employed", None, None, now, now + d if now + d < H else H,
                               0.0, 0.0, bkind, bg, *_NO_PAY))
            if now + d >= H:
                return
            yield env.timeout(d)
            if employed:
                if conv > 0 and rng.random() * rate < conv:
                    events.append((arm, pid, env.now, name, "made_permanent"))
                    contract = "permanent"
                    continue
                events.append((arm, pid, env.now, name, "left_job"))
                employed = False
            else:
                events.append((arm, pid, env.now, None, "hired"))
                employed, name, fte, wage, loss_mult = True, None, tg.fte, tg.wage, 1.0
                tail, on_b = _EMPLOYER_PAYS, False
                temporary = lm.temporary_share > 0 and rng.random() < lm.temporary_share
                contract = "temporary" if temporary else "permanent"

    # -- running -----------------------------------------------------------------------------
    def run(self) -> Tables:
        world, streams = self.world, self.streams
        people = draw_people(world.cohorts, world.groups, world.benefits, streams.people,
                             streams.arrivals, self.horizon)
        mode = world.counterfactual.mode
        if mode == "rct":
            treated = streams.assignment.random(len(people)) < world.counterfactual.treatment_share
        else:
            treated = np.ones(len(people), dtype=bool)
        persons = self.rec.persons
        for p, t in zip(people, treated, strict=True):
            arms = ("treatment", "control") if mode == "parallel" else (
                ("treatment",) if t else ("control",)
            )
            for arm in arms:
                persons.append(
                    (arm, p.person_id, p.cohort, p.group, p.age, p.norwegian, p.education,
                     p.work_capacity, p.benefit_kind, p.benefit_g, p.entry_week)
                )
                self.env.process(self.treatment(p) if arm == "treatment" else self.control(p))
        self.env.run(until=self.horizon)
        by_id = {p.person_id: p for p in people}
        for pid, (stage, asked, held) in sorted(self.waiting.items()):
            p = by_id[pid]
            self.rec.spells.append(("treatment", pid, "waiting", stage, None, asked, self.horizon,
                                    0.0, 0.0, p.benefit_kind, p.benefit_g, *_NO_PAY))
            for r, _, t, granted in held:
                self.rec.capacity.append((r, pid, t, math.nan if granted is None else granted,
                                          math.nan, stage))
        return self.rec.tables()


def simulate(world: World, seed: int | np.random.SeedSequence | Streams) -> Tables:
    """Simulate one replication of ``world``; all randomness comes from ``seed``.

    Returns the record tables (see :mod:`sim.records`). Nothing is printed or written.
    """
    streams = seed if isinstance(seed, Streams) else Streams.from_seed(seed)
    return _Model(world, streams).run()
