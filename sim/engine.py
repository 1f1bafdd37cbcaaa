"""The discrete-event model: people walk a pathway's stage graph in SimPy, then the labour market.

Each person is one SimPy process. A stage samples its duration once (no polling); capacity is a
pool of slots per declared capacity (:class:`Slots`: ``simpy.Resource``'s first-come-first-served
queue, event for event, with a release that does not scan), so waiting for a placement slot or a
mentor is a real queue. People interact only through capacity, so a person's process keeps its own clock and
touches the SimPy clock only around capacity stages (catch up, request, hold, release); every
other stage, and the labour market after the pathway (a renewal process out of work / temporary
job / permanent job with group hazards), is a sampled duration added to that clock. Anything that
would end after the horizon is recorded up to the horizon and not scheduled at all.

Leaving the pathway returns a person to business as usual, exactly the process of the control
arm, times only what the pathway states on the stage the person leaves through (``after``; the
kept job's ``job_loss_multiplier``). Business as usual is the group's business-as-usual pathway
if it has one (``bau_pathway``, e.g. the introduction programme), walked on the clock since
referral, then the labour market at the group's ``bau_entry_rate`` (times the world's
``counterfactual.entry_rate_multiplier`` and the person's employability factor) and
``bau_job_loss_rate``. So a pathway that does nothing shows no effect beyond Monte Carlo noise and
the time it holds people (tests/test_null_programme.py).

Resuming business as usual at week ``t`` of a person referred at ``t0``: their business-as-usual
pathway is walked from ``t0`` with fresh draws; stages that would have ended by ``t`` passed while
the person was in the programme instead, so they are skipped (their exits are followed, but a
job or the end of the business-as-usual pathway in that time means the person is in the labour
market at ``t``, out of work: the programme took the place of that part of business as usual);
the stage under way at ``t`` is joined for the rest of its drawn duration. Leaving on the spot
(``t = t0``) is then exactly the control arm's process.

The clock is SimPy's environment with a schedule whose cost per event does not grow with the
number of events pending (:class:`_Clock`: SimPy's order of events, kept in a list per week), and
once it has run nothing of the model is left in a reference cycle, so a replication's rows go
with its tables without the cyclic collector (:meth:`_Model._let_go`; issue 14, the flat cost per
person).

Rows are appended per person in time order, not globally in time order: sort by time if needed.

After the clock has run, a post-pass (``_Model._apply_rules``) makes every spell's columns true
for its whole interval: benefit limits, wage-subsidy steps, dagpenger after a lost job, wage growth
with experience in labour-market jobs, and benefits beside work (a job the employer pays carries
the person's benefit graded by its rule for work, ``Benefit.with_work``). All are the same in
every arm. What cannot apply is skipped, not worked through: a world with none of the rules skips
the pass; a person never in work keeps their spells as they are, unless their benefit ends by its
rules; a spell ending before the person's first benefit change is not cut for it; a job in which no
year of experience is completed is not cut for wage growth.

A long run (``World.contract_horizon_weeks`` before ``horizon_weeks``): everything drawn at or
after the contract's horizon comes from the ``long_run`` stream (:mod:`effekt.sim.streams`), so
the records cut at the contract's horizon are, row for row, those of a simulation ending there.

The control arm (the same people under business as usual in ``parallel`` mode, or the people
randomised out of the programme in ``rct`` mode) meets no capacity, so it is drawn person by person
from its own random stream before the clock starts: it is the same whatever the pathway (common
random numbers).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from heapq import heappop, heappush
from operator import itemgetter
from typing import Any

import numpy as np
import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import NORMAL, URGENT

from effekt.sim.distributions import Duration, Sampler
from effekt.sim.labour_market import LabourMarket
from effekt.sim.pathway import EMPLOYED_KINDS, NO_EFFECT, Employment, Pathway, Stage
from effekt.sim.people import (
    NORWEGIAN_LEVELS,
    Benefit,
    Person,
    TargetGroup,
    _cumulative,
    draw_people,
    ends_by_rule,
)
from effekt.sim.records import Recorder, Tables, collector_paused
from effekt.sim.streams import Streams
from effekt.sim.world import World

WEEKS_PER_YEAR = 52.0

_NO_PAY = (None, None, 0.0, False, 0.0, 0.0, None, False, 0.0, 0.0)
"""Spell tail (wage_payer, subsidy_payer, subsidy_share, integration_grant, cost_once,
cost_per_week, cost_payer, business_as_usual, cost_cohort, cost_cohort_weeks) when nobody pays
anything beyond the benefit."""
_EMPLOYER_PAYS = ("employer", None, 0.0, False, 0.0, 0.0, None, False, 0.0, 0.0)
# positions in a spell tuple
_BENEFIT_KIND, _BENEFIT_G, _SUBSIDY_PAYER, _SUBSIDY_SHARE, _COST_ONCE, _USUAL, _COST_COHORT = \
    9, 10, 12, 13, 15, 18, 19

_START_END = itemgetter(5, 6)
"""A spell's (start, end): the post-pass puts each person's spells in this order."""
_STATE = itemgetter(2)
_PID = itemgetter(1)

Thresholds = tuple[tuple[float, str, int], ...]  # cumulative (threshold, target, exit index)


@dataclass(slots=True)
class _Stage:
    """A pathway stage compiled for the inner loop: no validation, no look-ups by key."""

    name: str
    kind: str
    state: str
    sample: Sampler | None  # the duration's fast draw (Distribution.sampler)
    dist: Duration | None  # for initial caseloads part-way through the stage
    exits: dict[str, Thresholds]  # by group, for people without person-specific exits
    personal: tuple | None  # per exit (p, group multipliers, logistic coefficients, target), if any logistic
    limited: dict[int, tuple[int, str]]  # exit index -> (limit, otherwise)
    next: str | None
    resources: tuple[str, ...]
    job: Employment | None
    outcome: str | None
    terminal: bool
    on_benefit: bool
    tail: tuple
    head: tuple  # spell columns (state, stage, contract) of a stay in this stage
    pay: tuple  # spell columns (fte, annual_wage)
    enter_event: str  # "hired" for employment stages, else "entered"
    after: tuple[float, float]  # (entry, job-loss) multipliers on business as usual after leaving
    pays: bool  # the stage pays the benefit on measures (tiltakspenger) instead of the prior benefit
    graded: bool  # a job the employer pays (the benefit stops): the benefit's rule for work grades it
    per_cohort: tuple[float, float]  # NOK once per cohort (on its first entrant), over how many weeks
    steps: tuple[tuple[float, float], ...] | None  # a wage subsidy's (end week from job start, share)
    benefit_after: tuple[list[str], list[float]] | None  # kinds and cumulative shares, or None
    simple: bool  # exits by group only (no person-specific or limited exit): _choose's plain case


def _cumulate(ps: list[float], targets: list[str], complete: bool = False) -> Thresholds:
    """Cumulative thresholds of competing exits: a uniform draw below the first goes to the first
    exit, and so on; a draw above the last goes to ``next``.

    Exits summing over 1 are scaled down proportionally. ``complete`` (a stage without ``next``):
    the exits must take everyone, so the last threshold is exactly 1. :class:`effekt.sim.pathway.Pathway`
    only accepts such a stage when every person's exits sum to 1 (up to rounding), so this only
    removes rounding gaps such as 0.1 + 0.2 + 0.7 = 0.9999999999999999.
    """
    total = sum(ps)
    if total > 1 or (complete and total > 0):
        ps = [p / total for p in ps]
    cum, acc = [], 0.0
    for i, (p, to) in enumerate(zip(ps, targets, strict=True)):
        acc += p
        cum.append((acc, to, i))
    if complete and cum:
        cum[-1] = (1.0, cum[-1][1], cum[-1][2])
    return tuple(cum)


def _tail(st: Stage, usual: bool) -> tuple:
    f, c = st.funding, st.costs
    wage_payer = f.wage_payer or ("employer" if st.employment is not None else None)
    costly = c.per_person > 0 or c.per_week > 0 or c.per_cohort > 0
    rule = f.subsidy_rule
    subsidy_payer = (f.subsidy_payer or rule.payer) if rule is not None else f.subsidy_payer
    share = rule.steps[0].share if rule is not None else f.subsidy_share
    return (wage_payer, subsidy_payer, share, f.integration_grant, c.per_person,
            c.per_week, c.payer if costly else None, usual, 0.0, 0.0)


def _steps(st: Stage) -> tuple[tuple[float, float], ...] | None:
    """A stage's wage-subsidy steps as (end week counted from the job's start, share)."""
    rule = st.funding.subsidy_rule
    if rule is None:
        return None
    out, acc = [], 0.0
    for step in rule.steps:
        acc += step.weeks
        out.append((acc, step.share))
    return tuple(out)



def _compile(pathway: Pathway, groups: list[str], usual: bool = False) -> dict[str, _Stage]:
    """The pathway's stages compiled for the inner loop; ``usual``: it is a business-as-usual
    pathway (its spells say so in ``business_as_usual``)."""
    out = {}
    order = {name: i for i, name in enumerate(pathway.capacity)}
    for name, st in pathway.stages.items():
        targets = [e.to for e in st.exits]
        exits = {
            g: _cumulate([min(1.0, e.p * e.group_multiplier.get(g, 1.0)) for e in st.exits], targets,
                         complete=st.next is None)
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
            state="employed" if employed else ("education" if st.kind == "education" else "programme"),
            sample=st.duration.sampler() if st.duration is not None else None,
            dist=st.duration,
            exits=exits,
            personal=personal,
            limited={i: (e.limit, e.otherwise) for i, e in enumerate(st.exits) if e.limit is not None},
            next=st.next,
            resources=tuple(sorted(st.resources, key=order.__getitem__)),
            job=st.employment,
            outcome=st.outcome,
            terminal=st.terminal,
            on_benefit=(benefit != "stops") if benefit is not None else not employed,
            tail=_tail(st, usual),
            head=("employed" if employed else ("education" if st.kind == "education" else "programme"), name,
                  st.employment.contract if st.employment else None),
            pay=(st.employment.fte, st.employment.annual_wage) if st.employment else (0.0, 0.0),
            enter_event="hired" if st.employment is not None else "entered",
            after=(st.after or NO_EFFECT).multipliers,
            pays=st.funding.pays_on_measures,
            graded=employed and benefit in (None, "stops"),
            per_cohort=(st.costs.per_cohort, st.costs.per_cohort_weeks),
            steps=_steps(st),
            benefit_after=_cumulative(tuple(st.benefit_after.items())) if st.benefit_after else None,
            simple=personal is None and not any(e.limit is not None for e in st.exits),
        )
    return out


def _remembered(cache: dict[Any, tuple[Any, Any]], key: tuple[Any, ...], obj: Any,
                build: Callable[[], Any]) -> Any:
    """``build()``, remembered in ``cache`` for the last 16 keys: a Monte Carlo batch runs the same
    world many times. ``key`` starts with ``id(obj)`` of a frozen spec (a pathway, a world); the
    cache holds a reference to ``obj`` beside its value, so an id is never reused while its entry
    lives, and a hit is checked to be that very object."""
    hit = cache.get(key)
    if hit is not None and hit[0] is obj:
        return hit[1]
    if len(cache) >= 16:
        cache.pop(next(iter(cache)))
    value = build()
    cache[key] = (obj, value)
    return value


_COMPILED: dict[tuple[int, tuple[str, ...], bool], tuple[Pathway, dict[str, _Stage]]] = {}


def _compiled(pathway: Pathway, groups: tuple[str, ...], usual: bool = False) -> dict[str, _Stage]:
    """:func:`_compile`, remembered for the last few pathways (:func:`_remembered`)."""
    return _remembered(_COMPILED, (id(pathway), groups, usual), pathway,
                       lambda: _compile(pathway, list(groups), usual))


def _remaining(st: _Stage, elapsed: float, rng: np.random.Generator) -> float:
    """Time left in a stage already ``elapsed`` weeks under way: a duration drawn given that it is
    longer than ``elapsed``, minus ``elapsed``. :class:`World` refuses an ``elapsed`` at or beyond
    the longest the stage can last.

    A few ordinary draws first (cheap; the first one longer than ``elapsed`` is a draw from the
    conditional distribution), then, if the stage rarely lasts that long, an exact draw from the
    tail (:meth:`effekt.sim.distributions.Distribution.sample_beyond`): either way the result
    has the conditional distribution, however far in the tail ``elapsed`` is."""
    for _ in range(32):
        d = st.sample(rng)
        if d > elapsed:
            return d - elapsed
    return st.dist.sample_beyond(rng, elapsed) - elapsed


def person_terms(p: Person) -> dict[str, float]:
    """The person attributes a logistic exit uses, measured from the reference person
    (see :data:`effekt.sim.pathway.LOGISTIC_TERMS`)."""
    return {
        "age": p.age - 30.0,
        "norwegian": NORWEGIAN_LEVELS.index(p.norwegian) - 2.0,
        "work_capacity": p.work_capacity - 1.0,
        "higher_education": 1.0 if p.education.startswith("higher") else 0.0,
        "employability": p.employability,
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
    return _cumulate(ps, targets, complete=st.next is None)


def _choose(st: _Stage, p: Person, u: float, taken: dict | None, name: str) -> tuple[str | None, dict | None]:
    """Where a person goes after stage ``st`` for the uniform draw ``u``: the first exit whose
    cumulative threshold ``u`` is below, else ``next``; a limited exit used up sends the person to
    its ``otherwise``. ``taken`` counts the limited exits a person has taken (created when needed)."""
    target = st.next
    for threshold, to, i in (st.exits[p.group] if st.personal is None else _personal_thresholds(st, p)):
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
    return target, taken


def _earned(spells: list[tuple], since: float, until: float) -> float:
    """NOK earned in employed ``spells`` between weeks ``since`` and ``until`` (wage x fte)."""
    total = 0.0
    for s in spells:
        if s[2] == "employed":
            overlap = min(s[6], until) - max(s[5], since)
            if overlap > 0:
                total += s[8] * s[7] * overlap / WEEKS_PER_YEAR
    return total


def _first_job_loss(spells: list[tuple]) -> int | None:
    """The index of the first spell out of a job (a spell not employed right after an employed
    one ending when it starts) in one person's spells in time order; None if no job is lost."""
    prev = None
    for i, s in enumerate(spells):
        if prev is not None and prev[2] == "employed" and s[2] != "employed" and prev[6] == s[5]:
            return i
        prev = s
    return None


def _earned_before(spells: list[tuple], i: int, t: float) -> tuple[float, float]:
    """:func:`_earned` in the 52 and in the 156 weeks before week ``t`` by ``spells[:i]``, in one
    pass (each sum in the same order as its own call would add it)."""
    year = three = 0.0
    since_year, since_three = t - WEEKS_PER_YEAR, t - 3 * WEEKS_PER_YEAR
    for j in range(i):
        s = spells[j]
        if s[2] == "employed":
            end = t if t < s[6] else s[6]  # min(s[6], t), as _earned takes it
            overlap = end - max(s[5], since_year)
            if overlap > 0:
                year += s[8] * s[7] * overlap / WEEKS_PER_YEAR
            overlap = end - max(s[5], since_three)
            if overlap > 0:
                three += s[8] * s[7] * overlap / WEEKS_PER_YEAR
    return year, three


def _subsidised(spell: tuple, share: float | None) -> tuple:
    """``spell`` with the subsidy share of the step it is in (None: after the last step)."""
    if share is None:
        return spell[:_SUBSIDY_PAYER] + (None, 0.0) + spell[_SUBSIDY_SHARE + 1:]
    return spell[:_SUBSIDY_SHARE] + (share,) + spell[_SUBSIDY_SHARE + 1:]


def _benefit(spell: tuple, paid: tuple[str, float] | None) -> tuple:
    """``spell`` with the benefit in force (None: the one it was recorded with)."""
    if paid is None:
        return spell
    return spell[:_BENEFIT_KIND] + paid + spell[_BENEFIT_G + 1:]


_AT_WORK = "@work:"
"""Marks, while the engine runs, a job spell's benefit columns as the person's entitlement out of
work (kind, level), to be graded by the kind's rule for work (:meth:`effekt.sim.people.Benefit.in_work`)
once the benefit limits have cut the spell (:meth:`_Model._apply_rules`); never in a table."""


def _entitled(spell: tuple, paid: tuple[str, float] | None) -> tuple:
    """:func:`_benefit` for a job spell carrying an entitlement (:data:`_AT_WORK`): it stays marked."""
    if paid is None:
        return spell
    return spell[:_BENEFIT_KIND] + (_AT_WORK + paid[0], paid[1]) + spell[_BENEFIT_G + 1:]


def _merged(pieces: list[tuple]) -> list[tuple]:
    """Consecutive pieces of one spell that ended up paying the same joined again (a benefit
    limit inside a job whose benefit stops either way leaves the spell whole, as it was)."""
    out = [pieces[0]]
    for q in pieces[1:]:
        a = out[-1]
        if (a[:5] == q[:5] and a[7:_COST_ONCE] == q[7:_COST_ONCE]
                and a[_COST_ONCE + 1:_COST_COHORT] == q[_COST_ONCE + 1:_COST_COHORT]):
            out[-1] = a[:6] + (q[6],) + a[7:]
        else:
            out.append(q)
    return out


def _cut(spell: tuple, bounds: list[tuple[float, object]], apply, from_start: bool = False) -> list[tuple]:
    """Cut ``spell`` at the weeks in ``bounds`` and ``apply`` to each piece what holds in it.

    ``bounds`` are (week, value) in time order. Subsidy steps (``from_start=False``): a value
    holds until its week, nothing (None) after the last. Benefit changes (``from_start=True``): a
    value holds from its week on, the recorded one (None) before the first. One-off costs stay on
    the first piece."""
    start, end = spell[5], spell[6]
    cuts = [w for w, _ in bounds if start < w < end]
    if from_start:
        def value(t):
            v = None
            for w, x in bounds:
                if w <= t:
                    v = x
            return v
    else:
        def value(t):
            for w, x in bounds:
                if t < w:
                    return x
            return None
    if not cuts:  # one piece: the spell as it is, with what holds at its start
        return [apply(spell, value(start))]
    out, a = [], start
    for b in [*cuts, end]:
        piece = spell[:5] + (a, b) + spell[7:]
        if a > start:
            piece = piece[:_COST_ONCE] + (0.0,) + piece[_COST_ONCE + 1:_COST_COHORT] + (0.0, 0.0)
        out.append(apply(piece, value(a)))
        a = b
    return out


def _grown_pieces(spell: tuple, bounds: list[tuple[float, int]], base: float, g: float,
                  k0: int) -> list[tuple]:
    """What ``_cut(spell, bounds, apply, from_start=True)`` gives for wage growth, where
    ``apply`` sets the wage of a piece to ``base x (1 + g) ** k`` for the ``k`` years completed
    at its start (``k0`` before the first bound): the same pieces, built without the general
    cut's function per piece (the post-pass cuts a job at every year worked)."""
    start, end = spell[5], spell[6]
    cuts = [w for w, _ in bounds if start < w < end]

    def wage(t: float) -> float:
        k = k0
        for w, x in bounds:  # the last bound at or before t (bounds in time order)
            if w <= t:
                k = x
        return base * (1.0 + g) ** k

    if not cuts:
        return [spell[:8] + (wage(start),) + spell[9:]]
    head, mid, tail = spell[:5], spell[7:8], spell[9:]
    later = spell[9:_COST_ONCE] + (0.0,) + spell[_COST_ONCE + 1:_COST_COHORT] + (0.0, 0.0)
    out, a = [], start
    for b in [*cuts, end]:  # one-off costs stay on the first piece
        out.append(head + (a, b) + mid + (wage(a),) + (later if a > start else tail))
        a = b
    return out


class _Clock(simpy.Environment):
    """SimPy's environment with the same order of events at a cost per event that does not grow
    with the number of events pending (issue 14: the flat cost per person).

    ``simpy.Environment`` keeps every pending event in one heap of ``(time, priority, event id,
    event)`` tuples: each event is a push and a pop of O(log n) tuple comparisons, and a world of
    100 000 people waiting for a week keeps 100 000 of them (a tenth of such a replication went to
    comparing them). Here the events of normal priority, all this engine schedules but the end of
    a run, are kept in a list per week they are due (in the order they were scheduled, which is
    their event-id order) and only the distinct weeks are in a heap, of plain floats; the others
    (urgent ones, such as ``run``'s end) stay in SimPy's heap. The next event is the heap's if it
    is due at or before the first week with normal events (a smaller priority comes first at the
    same time), else the next of that week's list, so events come in exactly SimPy's order: by
    time, then priority, then the order they were scheduled in. An event scheduled for the week
    being processed joins the end of its list, as its larger event id would place it.
    :meth:`run` processes the events in one loop instead of a call of :meth:`step` per event;
    :meth:`step` and :meth:`peek` keep their meaning.

    Times are keyed by value: a week computed twice as the same float is one list, as two heap
    entries of equal times are ordered by their ids alone."""

    def __init__(self, initial_time: float = 0):
        super().__init__(initial_time)
        self._due: dict[float, list[simpy.Event | None]] = {}  # week -> its normal events
        self._weeks: list[float] = []  # heap of the weeks in _due
        self._current: list[simpy.Event | None] | None = None  # the list of _weeks[0] under way
        self._next = 0  # ... and the index of its next event

    # SimPy's factories as plain methods: its own are bound to each environment as attributes
    # (``BoundClass.bind_early``, which skips a subclass), a reference cycle per environment that
    # only the cyclic collector frees
    def process(self, generator: Generator[simpy.Event, Any, Any]) -> simpy.Process:
        """A new ``simpy.Process`` of ``generator``."""
        return simpy.Process(self, generator)

    def timeout(self, delay: float = 0, value: Any = None) -> simpy.Timeout:
        """A new ``simpy.Timeout`` after ``delay``, with ``value``."""
        return simpy.Timeout(self, delay, value)

    def event(self) -> simpy.Event:
        """A new ``simpy.Event``."""
        return simpy.Event(self)

    def all_of(self, events: Any) -> simpy.AllOf:
        """A ``simpy.AllOf`` condition of ``events``."""
        return simpy.AllOf(self, events)

    def any_of(self, events: Any) -> simpy.AnyOf:
        """A ``simpy.AnyOf`` condition of ``events``."""
        return simpy.AnyOf(self, events)

    def schedule(self, event: simpy.Event, priority: int = NORMAL, delay: float = 0) -> None:
        """Schedule ``event`` with ``priority`` after ``delay`` (SimPy's meaning)."""
        if priority == NORMAL:
            t = self._now + delay
            due = self._due.get(t)
            if due is None:
                self._due[t] = [event]
                heappush(self._weeks, t)
            else:
                due.append(event)
        else:
            heappush(self._queue, (self._now + delay, priority, next(self._eid), event))

    def peek(self) -> float:
        """The time of the next scheduled event (infinity if none)."""
        a = self._queue[0][0] if self._queue else math.inf
        b = self._weeks[0] if self._weeks else math.inf
        return a if a <= b else b

    def _pop(self) -> simpy.Event:
        """The next event in SimPy's order, taken off the schedule, with the clock set to its time."""
        queue, weeks = self._queue, self._weeks
        while weeks:
            t = weeks[0]
            if queue and queue[0][0] <= t:
                break
            due = self._due[t]
            if self._current is not due:
                self._current, self._next = due, 0
            i = self._next
            if i < len(due):
                event, due[i] = due[i], None
                self._next = i + 1
                self._now = t
                return event  # type: ignore[return-value]
            del self._due[t]
            heappop(weeks)
            self._current = None
        if not queue:
            raise EmptySchedule
        self._now, _, _, event = heappop(queue)
        return event

    def step(self) -> None:
        """Process the next event (SimPy's ``step``)."""
        _process(self, self._pop())

    def run(self, until: float | simpy.Event | None = None) -> Any:
        """SimPy's ``run``: to ``until`` (a time or an event), or until no event is left; the
        events of normal priority processed in one loop (the same as :meth:`step` for each)."""
        if until is not None:
            if not isinstance(until, simpy.Event):
                at = until if isinstance(until, int) else float(until)
                if at <= self.now:
                    raise ValueError(f"until ({at}) must be greater than the current simulation time")
                until = simpy.Event(self)
                until._ok, until._value = True, None
                self.schedule(until, URGENT, at - self.now)
            elif until.callbacks is None:
                return until.value
            until.callbacks.append(StopSimulation.callback)
        queue, weeks, due_at = self._queue, self._weeks, self._due
        try:
            while True:
                if not weeks or (queue and queue[0][0] <= weeks[0]):
                    _process(self, self._pop())  # an urgent event, or none left (EmptySchedule)
                    continue
                t = weeks[0]
                due = due_at[t]
                i = self._next if self._current is due else 0
                self._current, self._now = due, t
                try:
                    while i < len(due):
                        event, due[i] = due[i], None
                        i += 1
                        self._next = i
                        callbacks, event.callbacks = event.callbacks, None
                        for callback in callbacks:
                            callback(event)
                        if not event._ok:
                            _failed(event)
                        if queue and queue[0][0] <= t:  # an urgent event for this week goes first
                            break
                    else:
                        del due_at[t]
                        heappop(weeks)
                        self._current = None
                except StopSimulation:  # as _process: the event's other callbacks wait, urgently
                    event.callbacks = callbacks[callbacks.index(callback) + 1:]
                    self.schedule(event, -1)
                    raise
        except StopSimulation as exc:
            return exc.args[0]
        except EmptySchedule:
            if until is not None:
                raise RuntimeError(f'No scheduled events left but "until" event was not triggered: '
                                   f"{until}") from None
        return None


def _process(env: simpy.Environment, event: simpy.Event) -> None:
    """Run ``event``'s callbacks as ``simpy.Environment.step`` does (a callback stopping the
    simulation leaves the rest of them scheduled, urgently, for the next run)."""
    callbacks, event.callbacks = event.callbacks, None
    for k, callback in enumerate(callbacks):
        try:
            callback(event)
        except StopSimulation:
            event.callbacks = callbacks[k + 1:]
            env.schedule(event, -1)
            raise
    if not event._ok:
        _failed(event)


def _failed(event: simpy.Event) -> None:
    """SimPy's crash of the environment on a failed event nobody defused."""
    if not hasattr(event, "_defused"):
        exc = type(event._value)(*event._value.args)
        exc.__cause__ = event._value
        raise exc


class Slots:
    """A capacity's slots on the SimPy clock: what ``simpy.Resource`` does for this engine, with
    the same events in the same order (so the same tables), at a cost that does not grow with the
    number of slots or the length of the queue.

    ``simpy.Resource`` keeps its holders in a list that ``release`` scans (``list.remove``) and
    its queue in a list it pops from the front: both O(slots or queue) per release, which made the
    cost per person grow with the world (issue 14). Here the holders are a count and the queue a
    deque. The event protocol is SimPy's own: :meth:`request` queues an event and grants the
    first in the queue if a slot is free (``succeed`` now, so ``triggered`` is true at once);
    :meth:`release` frees the slot and schedules a release event whose callback grants the next
    in the queue when the clock processes it, as SimPy's ``Release`` does, so a freed slot and a
    new request at the same week meet in the same order as before."""

    __slots__ = ("env", "capacity", "users", "queue")

    def __init__(self, env: simpy.Environment, capacity: int):
        self.env, self.capacity, self.users = env, capacity, 0
        self.queue: deque[simpy.Event] = deque()

    def request(self) -> simpy.Event:
        """An event that fires when this request holds a slot (first come, first served).

        A request granted at once (a free slot, nobody queued) is triggered but not scheduled:
        the walk that asked goes on without waiting for it (:meth:`_Model.treatment`), so nothing
        ever waits for it and its processing by the clock, with no callback, changed nothing."""
        req = simpy.Event(self.env)
        if not self.queue and self.users < self.capacity:
            self.users += 1
            req._ok, req._value = True, None  # what succeed() sets, without the schedule
            return req
        self.queue.append(req)
        self._grant()
        return req

    def release(self, req: simpy.Event) -> None:
        """Hand back the slot ``req`` holds; the next in the queue gets it when the release is
        processed."""
        self.users -= 1
        done = simpy.Event(self.env)
        done.callbacks.append(self._grant)
        done.succeed()

    def _grant(self, _event: simpy.Event | None = None) -> None:
        if self.queue and self.users < self.capacity:
            self.users += 1
            self.queue.popleft().succeed()


class _Walk:
    """One person's walk (a :meth:`_Model.treatment` generator) run on the SimPy clock: to the
    first event it waits for, then on from each such event when the clock processes it.

    What ``simpy.Process`` does for this engine, without the two events of its own a process
    costs (an ``Initialize`` to start it, a ``Process`` event when it ends) and its general
    resumption (values, failures, interrupts), which the walk never uses: it waits only for a
    timeout or a capacity request, both still pending when yielded, and ignores their values.
    :meth:`_Model._run_clock` starts the walks in the order ``simpy.Process`` would have started
    them (each ``Initialize`` is urgent at week 0, so every walk's first step came before any other
    event), and the events the walks schedule keep their order, so the clock runs as it did. A
    class rather than a closure: a closure that hands itself on is a reference cycle, which only
    the cyclic collector frees."""

    __slots__ = ("send",)

    def __init__(self, steps: Generator[simpy.Event, None, None]):
        self.send = steps.send
        self.resume()

    def resume(self, _event: simpy.Event | None = None) -> None:
        """The walk's next step, up to the next event it waits for (or its end)."""
        try:
            event = self.send(None)
        except StopIteration:
            return
        event.callbacks.append(self.resume)


def _world_plan(world: World) -> dict[str, object]:
    """What a replication of ``world`` needs that does not depend on its random numbers: the
    compiled stages, business as usual per group and benefit, the benefit rules' roles, the
    wage-subsidy steps and the like, as :class:`_Model` attributes (name -> value).

    Built once per world (:func:`_planned`) and shared, read-only, by its replications: a Monte
    Carlo batch simulates the same world hundreds of times, and building this took about a
    quarter of a small world's replication (issue 14). The world is frozen (pydantic), and its
    business-as-usual pathways are looked up here, once, as its own pathway was read once when
    the world was built."""
    horizon = world.horizon_weeks
    # a long run: draws at or after the contract's horizon come from the long_run stream
    contract = world.contract_horizon_weeks
    stages = _compiled(world.pathway, tuple(world.groups))
    # business as usual per group: (entry hazard, job-loss hazard) per year, both arms, and the
    # group's employability factor (:meth:`_Model.rates`)
    scale = world.counterfactual.entry_rate_multiplier
    groups = tuple(world.groups)
    # business-as-usual pathway per (group, prior benefit): (entry stage, compiled stages) or None
    usual: dict[tuple[str, str], tuple[str, dict[str, _Stage]] | None] = {}
    for g, tg in world.groups.items():
        for kind in tg.benefit:
            bau = world.business_as_usual(g, kind)
            usual[(g, kind)] = (bau.pathway.entry, _compiled(bau, groups, usual=True)) if bau else None
    # the benefits of the engine's two named rules, by their role in the country's benefits
    # file (Norway: tiltakspenger on measures, dagpenger after a lost job)
    measure_kind, tiltak = world.benefit_with_role("on_measures")
    dagpenger_kind, dagpenger = world.benefit_with_role("after_job_loss")
    # wage-subsidy steps by (stage, business as usual): (end week from the job's start, share)
    steps = {(n, False): s.steps for n, s in stages.items() if s.steps}
    for u in usual.values():
        if u is not None:
            steps.update({(n, True): s.steps for n, s in u[1].items() if s.steps})
    # wage growth with experience: labour-market jobs are those of no stage (found in the labour
    # market) or of a terminal employment stage (a job kept after a pathway), by (stage, usual)
    lm = world.labour_market
    kept = {(n, False) for n, s in stages.items() if s.terminal and s.job is not None}
    for u in usual.values():
        if u is not None:
            kept.update((n, True) for n, s in u[1].items() if s.terminal and s.job is not None)
    return {
        "horizon": horizon,
        "cut": contract if contract is not None and contract < horizon else math.inf,
        "stages": stages,
        "entry": world.pathway.pathway.entry,
        "slots": tuple((name, c.slots) for name, c in world.pathway.capacity.items()),
        "lm": lm,
        "bau": {g: (tg.bau_entry_rate * scale, tg.bau_job_loss_rate, tg.employability_factor)
                for g, tg in world.groups.items()},
        "usual": usual,
        "tiltak": (measure_kind or "none", tiltak.g if tiltak is not None else 0.0),
        "dagpenger_kind": dagpenger_kind,
        "dagpenger": dagpenger,
        "subsidiary": {k: b.subsidiary for k, b in world.benefits.items()},
        "steps": steps,
        # benefits combined with work: graded in the post-pass, unless every benefit stops in a job
        "grading": any(b.with_work != "stops" for b in world.benefits.values()),
        "growth": ((lm.wage_growth_per_year_worked, lm.wage_growth_max_years)
                   if lm.wage_growth_per_year_worked > 0 else None),
        "kept": kept,
        "matching": world.counterfactual.comparison == "matched",
        # referral streams draw arrival times; without one the arrivals stream is never made
        "poisson": any(c.arrival == "poisson" for c in world.cohorts),
        # a benefit ending by its rules into another drawn from shares (people.benefit_changes);
        # without one the benefits stream is never made
        "changing": any(ends_by_rule(b) for b in world.benefits.values()),
        # someone can reach the retirement age before the horizon: the oldest a group's people are
        # at referral (from week 0 at the earliest), else the record is never cut for it
        "retiring": (world.retirement_age - max(int(tg.age.high) for tg in world.groups.values()))
        * WEEKS_PER_YEAR < horizon,
    }


_PLANS: dict[tuple[int], tuple[World, dict[str, object]]] = {}


def _planned(world: World) -> dict[str, object]:
    """:func:`_world_plan`, remembered for the last few worlds (:func:`_remembered`)."""
    return _remembered(_PLANS, (id(world),), world, lambda: _world_plan(world))


class _Model:
    """One replication of a world: its clock, its record and what happened so far. The world's
    fixed part (:func:`_world_plan`) is shared by its replications and never changed here."""

    # the world's fixed part, set from :func:`_planned` (see :func:`_world_plan` for each)
    horizon: float
    cut: float
    stages: dict[str, _Stage]
    entry: str
    slots: tuple[tuple[str, int], ...]
    lm: LabourMarket
    bau: dict[str, tuple[float, float, Callable[[float], float]]]
    usual: dict[tuple[str, str], tuple[str, dict[str, _Stage]] | None]
    tiltak: tuple[str, float]
    dagpenger_kind: str | None
    dagpenger: Benefit | None
    subsidiary: dict[str, bool]
    steps: dict[tuple[str, bool], tuple[tuple[float, float], ...]]
    grading: bool
    growth: tuple[float, int] | None
    kept: set[tuple[str, bool]]
    matching: bool
    poisson: bool
    changing: bool
    retiring: bool

    def __init__(self, world: World, streams: Streams):
        self.world = world
        self.streams = streams
        self.__dict__.update(_planned(world))
        self.env = _Clock()
        self.rec = Recorder()
        self.resources = {name: Slots(self.env, slots) for name, slots in self.slots}
        # cohort costs already charged: (cohort, stage)
        self.charged: set[tuple[str, str]] = set()
        # participants (admitted past screening), for a matched comparison group: pid -> person
        self.participants: dict[int, Person] = {}
        self.joined: dict[int, float] = {}  # pid -> the week they became a participant
        # treated people who moved away: pid -> week (mirrored in the control arm, parallel mode)
        self.moved: dict[int, float] = {}
        # people still waiting for capacity at the horizon: pid -> (stage, asked, [(res, req_t, granted)])
        self.waiting: dict[int, tuple[str, float, list]] = {}
        # a job spell's benefit beside work by (fte, annual_wage, marked kind, level) (:meth:`_graded`)
        self.grades: dict[tuple, tuple[str, float]] = {}
        # the treated people's walks, to start on the clock (:class:`_Walk`)
        self.walks: list[Generator[simpy.Event, None, None]] = []

    # -- processes ---------------------------------------------------------------------------
    def treatment(self, p: Person):
        """One person's walk through the pathway, then the labour market.

        The person keeps a local clock ``t`` and only synchronises with the SimPy clock around
        stages that need capacity, the one place where people interact: a stage without capacity
        is one sampled duration added to ``t``, with no event at all. So the events per person are
        few (one per capacity request, one per capacity stage) and nobody ever polls.
        """
        env, H, rng, cut = self.env, self.horizon, self.streams.pathway, self.cut
        spells, events, stages = self.rec.spells, self.rec.events, self.stages
        arm, pid = "treatment", p.person_id
        bkind, bg, group = p.benefit_kind, p.benefit_g, p.group
        on, off = (bkind, bg), ("none", 0.0)  # spell benefit columns on / off the benefit
        work = self.at_work(on)  # in a job the employer pays: graded by the benefit's rule for work
        resources, waiting, capacity = self.resources, self.waiting, self.rec.capacity
        matching, tiltak = self.matching, self.tiltak
        t = p.entry_week
        events.append((arm, pid, t, None, "referred"))
        name = p.stage or self.entry
        taken: dict[tuple[str, int], int] | None = None  # how often a limited exit was taken
        elapsed = p.elapsed
        while True:
            st = stages[name]
            if st.terminal:  # leaving the pathway: back to business as usual, times `after`
                more_entry, less_loss = st.after
                if st.kind == "exit":
                    events.append((arm, pid, t, name, "exited"))
                    if st.outcome == "moved":
                        events.append((arm, pid, t, name, "moved"))
                        self.moved[pid] = t
                        spells.append((arm, pid, "moved", name, None, t, H, 0.0, 0.0, "none",
                                       0.0) + _NO_PAY)
                        return
                    self.back_to_usual(arm, p, self.streams.labour_market, t, more_entry, less_loss)
                    return
                # a terminal employment stage: keep this job in the labour market (a person who
                # leaves with a job has left business as usual's programmes too)
                events.append((arm, pid, t, name, "hired"))
                entry, loss = self.rates(p)
                self.labour_market(arm, p, self.streams.labour_market, self.world.groups[group], t,
                                   entry * more_entry, loss * less_loss, stage=st)
                return
            res = st.resources
            if res:
                if t > env.now:  # catch up with the shared clock before asking for a slot
                    yield env.timeout(t - env.now)
                held = []
                for r in res:
                    req = resources[r].request()
                    held.append([r, req, env.now, env.now])
                    if not req.triggered:
                        if pid not in waiting:
                            events.append((arm, pid, t, name, "queued"))
                        waiting[pid] = (name, t, held)
                        yield req
                        held[-1][3] = env.now
                if pid in waiting:
                    del waiting[pid]
                    spells.append((arm, pid, "waiting", name, None, t, env.now, 0.0, 0.0, bkind,
                                   bg) + _NO_PAY)
                    t = env.now
            r = rng if t < cut else self.streams.long_run
            if elapsed:  # an initial caseload part-way through its first stage
                d, elapsed = _remaining(st, elapsed, r), 0.0
            else:
                d = st.sample(r)
            u = r.random()
            if st.simple:  # _choose without the call: the first exit whose threshold u is below
                target = st.next
                for threshold, to, _ in st.exits[group]:
                    if u < threshold:
                        target = to
                        break
            else:
                target, taken = _choose(st, p, u, taken, name)
            if matching and st.kind != "screening" and pid not in self.participants:
                self.participants[pid] = p
                self.joined[pid] = t
            events.append((arm, pid, t, name, st.enter_event))
            end = t + d
            spell = (arm, pid, *st.head, t, end if end < H else H, *st.pay,
                     *(tiltak if st.pays else on if st.on_benefit else work if st.graded else off),
                     *st.tail)
            if st.per_cohort[0] and (p.cohort, name) not in self.charged:
                self.charged.add((p.cohort, name))  # the cohort's cost starts when its first arrives
                spell = spell[:_COST_COHORT] + st.per_cohort
            spells.append(spell)
            if res:
                for r, _, asked, granted in held:
                    capacity.append((r, pid, asked, granted, end, name))
            if end >= H:
                return
            if res:  # hold the slots on the shared clock, then hand them on
                yield env.timeout(d)
                for r, req, _, _ in held:
                    resources[r].release(req)
            t = end
            left_job = st.job is not None and (target is None or stages[target].job is None)
            events.append((arm, pid, t, name, "left_job" if left_job else "completed"))
            name = target

    def _mirror_moves(self, arm: str = "control") -> None:
        """In parallel mode the control arm is the same person under business as usual, and moving
        away from the kommune is not something a pathway causes (unless its file says so): a
        person who moves out during the pathway moves at the same week in the control arm too, so
        neither the benefits nor the integration grant of a mover count as the programme's effect.
        The control arm's spells are cut at that week and end in a ``moved`` spell; its events
        after it are dropped. (Its random draws are unchanged: this only trims the record.)

        ``arm = "comparison"``: the same for the matched comparison group, whose person for a
        participant who moved moves at the same week (an evaluation loses the movers on both
        sides; otherwise a move would show as the programme's effect in what it measures)."""
        moved = self.moved
        if arm == "comparison":
            moved = {pid: t for pid, t in moved.items() if pid in self.participants}
        self._end_records({(arm, pid): t for pid, t in moved.items()}, "moved")

    def _end_records(self, at: dict[tuple[str, int], float], state: str) -> None:
        """End the record of each (arm, person) in ``at`` at its week: later events are dropped
        and an event ``state`` added, spells are cut there and a ``state`` spell (neither wage nor
        benefit) runs to the horizon. Moving away (mirrored) and retiring both end a record so."""
        if not at:
            return
        H, events, spells = self.horizon, self.rec.events, self.rec.spells
        kept_events = [e for e in events if not ((e[0], e[1]) in at and e[2] >= at[(e[0], e[1])])]
        kept_events += [(arm, pid, t, None, state) for (arm, pid), t in sorted(at.items())]
        events[:] = kept_events
        kept = []
        for s in spells:
            t = at.get((s[0], s[1]))
            if t is not None:
                if s[5] >= t:
                    continue
                if s[6] > t:
                    s = s[:6] + (t,) + s[7:]
            kept.append(s)
        kept += [(arm, pid, state, None, None, t, H, 0.0, 0.0, "none", 0.0) + _NO_PAY
                 for (arm, pid), t in sorted(at.items()) if t < H]
        spells[:] = kept

    def rates(self, p: Person) -> tuple[float, float]:
        """The person's business-as-usual hazards (entry, job loss) per year in the labour market:
        the group's, the entry hazard times the person's employability factor
        (:meth:`effekt.sim.people.TargetGroup.employability_factor`, the group's method held in
        the plan). Worked out on each call: it is a few float operations, where the replication's
        table of them (one entry per person, both arms asking) grew with the world and missed the
        cache in a large one (issue 14)."""
        entry, loss, factor = self.bau[p.group]
        return entry * factor(p.employability), loss

    def control(self, p: Person, arm: str = "control", rng: np.random.Generator | None = None) -> None:
        """The same person under business as usual from referral (the same process as after
        leaving a pathway on the spot with nothing stated). ``arm = "comparison"``: a matched
        comparison person, from the comparison stream."""
        self.rec.events.append((arm, p.person_id, p.entry_week, None, "referred"))
        self.back_to_usual(arm, p, rng if rng is not None else self.streams.counterfactual, p.entry_week)

    def back_to_usual(self, arm: str, p: Person, rng: np.random.Generator, t: float,
                      more_entry: float = 1.0, less_loss: float = 1.0) -> None:
        """Business as usual from week ``t``: the group's business-as-usual pathway on the clock
        since referral (if it has one), then the labour market; ``more_entry``/``less_loss`` are
        the multipliers the pathway stated ``after`` the stage the person left through."""
        usual = self.usual.get((p.group, p.benefit_kind))
        if usual is None:
            entry, loss = self.rates(p)
            self.labour_market(arm, p, rng, self.world.groups[p.group], t, entry * more_entry,
                               loss * less_loss)
        else:
            self.walk_usual(arm, p, rng, usual, t, more_entry, less_loss)

    def walk_usual(self, arm: str, p: Person, rng: np.random.Generator,
                   usual: tuple[str, dict[str, _Stage]], resume: float, more_entry: float,
                   less_loss: float) -> None:
        """Walk the business-as-usual pathway from the person's referral, joining it at week
        ``resume`` (the module docstring says how stages before it are skipped). It has no
        capacity (checked at load), so this needs no simulation clock either. Its draws are made
        at week ``max(t, resume)`` (skipped stages are drawn when the person resumes): from the
        long_run stream from the contract's horizon on (:mod:`effekt.sim.streams`)."""
        name, stages = usual
        H, spells, events, cut = self.horizon, self.rec.spells, self.rec.events, self.cut
        pid, group = p.person_id, p.group
        tg = self.world.groups[group]
        on, off = (p.benefit_kind, p.benefit_g), ("none", 0.0)
        work = self.at_work(on)
        t = p.entry_week
        skipping = resume > t
        taken: dict | None = None
        while True:
            st = stages[name]
            r = rng if (resume if skipping else t) < cut else self.streams.long_run
            if skipping and (st.terminal or st.job is not None):
                # business as usual would have ended, or found a job, while the person was in the
                # programme: they are in the labour market now, out of work, on what the end of
                # business as usual's programme would have left them on, if it says. At a job the
                # person never took, a benefit with a life of its own goes on (AAP and
                # kvalifiseringsstønad end by their own limits, sosialhjelp is a last resort); one
                # that lasts only as long as business as usual's programme (introduksjonsstønad: no
                # limit of its own) ends there as the job's benefit_after says, else it would be
                # paid for ever in the labour market
                entry, loss = self.rates(p)
                benefit = (self.benefit_after(st, p, r)
                           if st.kind == "exit" or (st.terminal and self._ends_with_programme(on[0]))
                           else None)
                self.labour_market(arm, p, rng, tg, resume, entry * more_entry, loss * less_loss,
                                   benefit=benefit)
                return
            if st.terminal:
                entry, loss = self.rates(p)
                entry, loss = entry * more_entry * st.after[0], loss * less_loss * st.after[1]
                benefit = self.benefit_after(st, p, r)
                if st.kind == "exit":
                    events.append((arm, pid, t, name, "exited"))
                    self.labour_market(arm, p, rng, tg, t, entry, loss, benefit=benefit)
                else:
                    events.append((arm, pid, t, name, "hired"))
                    self.labour_market(arm, p, rng, tg, t, entry, loss, stage=st, benefit=benefit)
                return
            d = st.sample(r)
            u = r.random()
            if st.simple:  # as in treatment: _choose's plain case without the call
                target = st.next
                for threshold, to, _ in st.exits[group]:
                    if u < threshold:
                        target = to
                        break
            else:
                target, taken = _choose(st, p, u, taken, name)
            end = t + d
            if skipping:
                if end <= resume:
                    t, name = end, target
                    continue
                t, skipping = resume, False
            events.append((arm, pid, t, name, st.enter_event))
            if end > t or st.tail[4]:  # a stage taking no time leaves no spell, unless it costs
                spells.append((arm, pid, *st.head, t, end if end < H else H, *st.pay,
                               *(self.tiltak if st.pays else on if st.on_benefit else work if st.graded
                                 else off), *st.tail))
            if end >= H:
                return
            t = end
            left_job = st.job is not None and (target is None or stages[target].job is None)
            events.append((arm, pid, t, name, "left_job" if left_job else "completed"))
            name = target

    def _apply_rules(self, people: list[Person]) -> None:
        """Split the recorded spells where a rule changes what is paid, so every spell's columns
        stay true for its whole interval:

        * a person's benefit ends by its rules (:func:`effekt.sim.people.benefit_changes`): a
          spell on the prior benefit is cut at each change and the rest carries the new benefit
          (the same weeks in both arms: the change is the person's, not the programme's);
        * a wage subsidy with steps (``funding.subsidy``) is counted from the start of the
          subsidised job (consecutive employed spells in stages with the same rule, as a job kept
          after the pathway): the spell is cut where the share steps down, and after the last step
          nothing is reimbursed.

        * dagpenger after losing a job (any job: in the pathway, kept after it or found in the
          labour market; :meth:`_dagpenger`);
        * wages grow with experience in labour-market jobs (:meth:`_grown`), before dagpenger
          count the earnings;
        * a benefit combined with work: a job spell whose wage the employer pays carries the
          person's entitlement out of work (:data:`_AT_WORK`), cut where a limit changes it like
          any spell on the prior benefit, then each piece graded by its kind's rule for work
          (:meth:`effekt.sim.people.Benefit.in_work`); pieces paying the same are joined again.

        A spell's one-off costs stay on its first piece. Spells come out person by person, each
        person's in time order."""
        changes = {p.person_id: (p.benefit_kind, p.benefit_g, p.changes)
                   for p in people if p.changes and p.changes[0][0] < self.horizon}
        steps, dp, grading, growth = self.steps, self.dagpenger, self.grading, self.growth
        if not changes and not steps and dp is None and not grading and growth is None:
            return
        # each (arm, person)'s spells, in the order the pairs first appear: by arm, a list indexed
        # by person id (no key tuple made and hashed per spell, no table of every person)
        spells = self.rec.spells
        size = max(map(_PID, spells), default=-1) + 1
        by_arm: dict[str, list[list[tuple] | None]] = {}
        by_person: list[tuple[int, list[tuple]]] = []  # (person_id, the person's spells)
        for s in spells:
            of_arm = by_arm.get(s[0])
            if of_arm is None:
                of_arm = by_arm[s[0]] = [None] * size
            pid = s[1]
            mine = of_arm[pid]
            if mine is None:
                of_arm[pid] = mine = [s]
                by_person.append((pid, mine))
            else:
                mine.append(s)
        del by_arm
        out: list[tuple] = []
        extend, append = out.extend, out.append
        graded = self._graded
        for pid, mine in by_person:
            if len(mine) > 1:
                mine.sort(key=_START_END)
            changed = changes.get(pid)
            if changed is not None:
                kind0, g0, steps_b = changed
                bounds = [(w, (k, g)) for w, k, g in steps_b]
                first = steps_b[0][0]  # a spell ending before the first change keeps its benefit
            in_work = "employed" in map(_STATE, mine)
            if in_work:
                if growth is not None:
                    mine = self._grown(mine)
                if dp is not None:
                    mine = self._dagpenger(mine)
            elif changed is None:
                # never in work: no wage to grow, no job to lose, no subsidy, nothing to grade (only
                # job spells are marked, :data:`_AT_WORK`); and no benefit of theirs changes
                extend(mine)
                continue
            chain: tuple[tuple, float, float] | None = None  # the subsidised job so far: (key, start, end)
            for s in mine:
                if s[2] != "employed":  # a spell out of work: only a benefit ending by its rules applies
                    if (changed is not None and s[6] >= first and s[_BENEFIT_KIND] == kind0
                            and s[_BENEFIT_G] == g0):
                        extend(_cut(s, bounds, _benefit, from_start=True))
                    else:
                        append(s)
                    continue
                pieces = [s]
                if steps:
                    key = (s[3], s[_USUAL])
                    rule = steps.get(key)
                    if rule is not None:
                        start = (chain[1] if chain is not None and chain[0] == key and chain[2] == s[5]
                                 else s[5])
                        chain = (key, start, s[6])
                        pieces = _cut(s, [(start + w, share) for w, share in rule], _subsidised)
                    else:
                        chain = None
                marked = grading and s[_BENEFIT_KIND].startswith(_AT_WORK)
                if changed is not None and s[6] >= first:
                    kind = s[_BENEFIT_KIND][len(_AT_WORK):] if marked else s[_BENEFIT_KIND]
                    if kind == kind0 and s[_BENEFIT_G] == g0:
                        apply = _entitled if marked else _benefit
                        subs = [_cut(piece, bounds, apply, from_start=True) for piece in pieces]
                        pieces = [q for sub in subs
                                  for q in (_merged([graded(x) for x in sub]) if marked else sub)]
                        marked = False
                if marked:
                    if len(pieces) == 1:
                        append(graded(pieces[0]))
                        continue
                    pieces = [graded(q) for q in pieces]
                extend(pieces)
        self.rec.spells[:] = out

    def at_work(self, entitled: tuple[str, float]) -> tuple[str, float]:
        """The benefit columns of a job spell whose wage the employer pays, for a person who would
        draw ``entitled`` (kind, level) out of work: marked to be graded by the post-pass
        (:data:`_AT_WORK`), or none at once when nothing is owed or every benefit stops in a job."""
        kind, g = entitled
        if not self.grading or g <= 0:
            return ("none", 0.0)
        return (_AT_WORK + kind, g)

    def _graded(self, spell: tuple) -> tuple:
        """A marked job spell (:data:`_AT_WORK`) with the benefit its kind's rule for work pays
        beside the spell's job (``fte``, ``annual_wage``); none when it pays nothing. The rule is
        a function of (kind, level, fte, wage), worked out once per replication for each of them
        (:attr:`grades`): a replication's jobs have few."""
        key = spell[7:_BENEFIT_G + 1]
        paid = self.grades.get(key)
        if paid is None:
            kind = spell[_BENEFIT_KIND][len(_AT_WORK):]
            b = self.world.benefits.get(kind)
            level = b.in_work(spell[_BENEFIT_G], spell[7], spell[8]) if b is not None else 0.0
            paid = self.grades[key] = (kind, level) if level > 0 else ("none", 0.0)
        return spell[:_BENEFIT_KIND] + paid + spell[_BENEFIT_G + 1:]

    def _grown(self, mine: list[tuple]) -> list[tuple]:
        """One person's spells (in time order) with the wage of every labour-market job (found
        in the labour market, or a pathway's job kept after it) grown with the years the person
        has worked since referral (any job, in the pathway too): ``annual_wage x (1 + g) ** k``
        for ``k`` completed years, counted up to ``wage_growth_max_years``. A job spell is cut at
        each year of experience completed during it, so the record stays true week by week at
        the cost of a row per year worked (a wage fixed at the job's start would understate long
        jobs, the ones a long run is about). Years before referral are not known and not counted."""
        g, most = self.growth
        kept, out, worked = self.kept, [], 0.0
        for s in mine:
            if s[2] != "employed":
                out.append(s)
                continue
            a, b = s[5], s[6]
            if s[8] > 0 and (s[3] is None or (s[3], s[_USUAL]) in kept):
                base, k0 = s[8], min(int(worked // WEEKS_PER_YEAR), most)
                bounds = []  # the years of experience completed during the job (in time order)
                for k in range(k0, most):
                    w = a + (k + 1) * WEEKS_PER_YEAR - worked
                    if w >= b:
                        break
                    bounds.append((w, k + 1))
                if not bounds:  # no year completed in it: one piece, at k0 years' growth
                    out.append(s if k0 == 0 else s[:8] + (base * (1.0 + g) ** k0,) + s[9:])
                else:
                    out.extend(_grown_pieces(s, bounds, base, g, k0))
            else:
                out.append(s)
            worked += b - a
        return out

    def _dagpenger(self, mine: list[tuple]) -> list[tuple]:
        """One person's spells (in time order) with dagpenger after each job loss that qualifies.

        The rules (folketrygdloven kap. 4, levels in ``benefits.toml``): a job is lost where an
        employed spell is followed by one out of work; the person qualifies with earnings of at
        least ``qualifying_g`` G in the last 52 weeks or ``qualifying_g_36`` G in the last 156
        (§ 4-4); the basis is the larger of the last 52 weeks' earnings and the yearly average of
        the last 156, at most ``cap_g`` G (§ 4-11); dagpenger are ``share_of_wage`` of it a year
        (§ 4-12), for ``max_weeks`` with earnings of at least ``long_period_g`` G in the last 52
        weeks, else ``short_weeks`` (§ 4-15), while the person is out of work and looking (out of
        work, in a programme stage or waiting; not in education), until a new job. A person whose
        other benefit is at least as large keeps it instead (the two are not paid together), unless
        it is a last resort (``subsidiary``: sosialhjelp)."""
        first = _first_job_loss(mine)
        if first is None:  # no job lost: no dagpenger, every spell as it is
            return mine
        dp = self.dagpenger
        G = dp.nok_per_g
        out: list[tuple] = mine[:first]  # before the first job loss nothing changes
        until, level = -math.inf, 0.0
        for i in range(first, len(mine)):
            s = mine[i]
            state = s[2]
            if state == "employed":
                until = -math.inf
                out.append(s)
                continue
            prev = mine[i - 1] if i else None
            if prev is not None and prev[2] == "employed" and prev[6] == s[5]:
                t = s[5]
                year, three = _earned_before(mine, i, t)
                if year >= dp.qualifying_g * G or three >= dp.qualifying_g_36 * G:
                    basis = min(max(year, three / 3.0), dp.cap_g * G)
                    level = dp.share_of_wage * basis / G
                    until = t + (dp.max_weeks if year >= dp.long_period_g * G else dp.short_weeks)
            # dagpenger are not paid beside another benefit (a person on AAP who loses a part-time
            # job goes on with AAP): the person keeps a benefit at least as large (assumption:
            # NAV pays the better entitlement), except a last resort such as sosialhjelp
            # (``subsidiary``), which dagpenger come before
            if s[5] < until and state in ("not_employed", "programme", "waiting") and not (
                    (kind := s[_BENEFIT_KIND]) not in ("none", self.dagpenger_kind)
                    and s[_BENEFIT_G] >= level and not self.subsidiary.get(kind, False)):
                if s[6] <= until:
                    out.append(_benefit(s, (self.dagpenger_kind, level)))
                else:
                    head = s[:6] + (until,) + s[7:]
                    tail = s[:5] + (until,) + s[6:]
                    tail = tail[:_COST_ONCE] + (0.0,) + tail[_COST_ONCE + 1:_COST_COHORT] + (0.0, 0.0)
                    out.extend([_benefit(head, (self.dagpenger_kind, level)), tail])
            else:
                out.append(s)
        return out

    def _retire(self, people: list[Person]) -> None:
        """Cut everyone's record at the week they reach the retirement age (their age at referral
        counted from the referral week), in every arm alike: later spells and events are dropped
        and a ``retired`` spell runs to the horizon. Only long horizons reach it."""
        H, age = self.horizon, self.world.retirement_age
        at = {p.person_id: p.entry_week + (age - p.age) * WEEKS_PER_YEAR for p in people}
        self._end_records({(row[0], row[1]): at[row[1]] for row in self.rec.persons
                           if at[row[1]] < H}, "retired")

    def _ends_with_programme(self, kind: str) -> bool:
        """Whether benefit ``kind`` lasts only as long as the programme that pays it: no limit of its
        own (``max_weeks``), not a last resort (``subsidiary``), and not nothing."""
        b = self.world.benefits.get(kind)
        return b is not None and b.g > 0 and b.max_weeks is None and not b.subsidiary

    def benefit_after(self, st: _Stage, p: Person, rng: np.random.Generator) -> tuple[str, float] | None:
        """What the person's benefit becomes on leaving business as usual through ``st`` (its
        ``benefit_after``, one uniform from ``rng``), as (kind, G per year); None: unchanged."""
        if st.benefit_after is None:
            return None
        kinds, cum = st.benefit_after
        kind = kinds[min(bisect_right(cum, rng.random()), len(kinds) - 1)]
        b = self.world.benefits[kind]
        return kind, b.g * (b.under25 if p.age < 25 else 1.0)

    def compare(self) -> None:
        """The matched comparison group: for every participant, in id order, a person with the
        same observables and their own latent employability, under business as usual (all draws
        from the comparison stream; for someone who became a participant at or after the
        contract's horizon of a long run, all from the long_run stream)."""
        persons, cut = self.rec.persons, self.cut
        for pid in sorted(self.participants):
            p = self.participants[pid]
            rng = self.streams.comparison if self.joined[pid] < cut else self.streams.long_run
            twin = replace(p, employability=float(rng.standard_normal()))
            persons.append(("comparison", pid, p.cohort, p.group, p.age, p.norwegian, p.education,
                            p.work_capacity, p.benefit_kind, p.benefit_g, p.entry_week,
                            twin.employability))
            self.control(twin, "comparison", rng)

    def labour_market(self, arm: str, p: Person, rng: np.random.Generator, tg: TargetGroup,
                      t: float, entry_rate: float, loss_rate: float,
                      stage: _Stage | None = None, benefit: tuple[str, float] | None = None) -> None:
        """Out of work, in a temporary job or in a permanent job from week ``t`` to the horizon.

        Competing exponential hazards: out of work -> hired at ``entry_rate``; temporary ->
        permanent at the labour market's conversion rate; employed -> out of work at
        ``loss_rate`` (times the temporary multiplier in a temporary job). Both rates are business
        as usual, already scaled by what the pathway states ``after`` the stage the person left
        through. With ``stage`` (a terminal employment stage) the person starts in that stage's
        job, lost at the group's business-as-usual rate times the job's ``job_loss_multiplier``.
        Nobody else is involved, so this needs no simulation clock: it is a loop over sampled
        spell lengths, recorded as spells.
        """
        H, lm = self.horizon, self.lm
        spells, events = self.rec.spells, self.rec.events
        pid, (bkind, bg) = p.person_id, benefit or (p.benefit_kind, p.benefit_g)
        work = self.at_work((bkind, bg))  # a job's benefit columns when the benefit does not continue
        if stage is not None:  # keep the pathway's job, with its funding (not its one-off cost)
            job = stage.job
            name, contract, fte, wage = stage.name, job.contract, job.fte, job.annual_wage
            job_loss = tg.bau_job_loss_rate * job.job_loss_multiplier
            tail, on_b = stage.tail, stage.on_benefit
            employed = True
        else:
            employed = False
        cut = self.cut
        if t >= cut:  # a long run: what starts at or after the contract's horizon
            rng = self.streams.long_run
        while True:
            if employed:
                loss = job_loss
                conv = 0.0
                if contract == "temporary":
                    loss *= lm.temporary_loss_multiplier
                    conv = lm.conversion_rate
                rate = loss + conv
                end = t + rng.exponential(WEEKS_PER_YEAR / rate) if rate > 0 else math.inf
                spells.append((arm, pid, "employed", name, contract, t, end if end < H else H,
                               fte, wage, *((bkind, bg) if on_b else work), *tail))
                if tail[4]:
                    tail = (*tail[:4], 0.0, *tail[5:])
            else:
                end = t + rng.exponential(WEEKS_PER_YEAR / entry_rate) if entry_rate > 0 else math.inf
                spells.append((arm, pid, "not_employed", None, None, t, end if end < H else H,
                               0.0, 0.0, bkind, bg, *_NO_PAY))
            if end >= H:
                return
            t = end
            if t >= cut:
                rng = self.streams.long_run
            if employed:
                if conv > 0 and rng.random() * rate < conv:
                    events.append((arm, pid, t, name, "made_permanent"))
                    contract = "permanent"
                    continue
                events.append((arm, pid, t, name, "left_job"))
                employed = False
            else:
                events.append((arm, pid, t, None, "hired"))
                employed, name, fte, wage, job_loss = True, None, tg.fte, tg.wage, loss_rate
                tail, on_b = _EMPLOYER_PAYS, False
                temporary = lm.temporary_share > 0 and rng.random() < lm.temporary_share
                contract = "temporary" if temporary else "permanent"

    def _assignment(self, people: list[Person]) -> list[float]:
        """One uniform per person (in id order) for randomisation: from the assignment stream,
        but for people referred at or after the contract's horizon of a long run from the
        long_run stream, so the contract's people are randomised as without a long run."""
        cut, streams = self.cut, self.streams
        if cut == math.inf:
            return streams.assignment.random(len(people)).tolist()
        early = [p.entry_week < cut for p in people]
        a = iter(streams.assignment.random(sum(early)).tolist())
        b = iter(streams.long_run.random(len(people) - sum(early)).tolist())
        return [next(a) if e else next(b) for e in early]

    def _run_clock(self) -> dict[int, list[tuple]]:
        """Run the SimPy clock to the horizon. In a long run, first to the contract's horizon:
        the spells of the people still waiting for capacity then (recorded when they are served,
        after it) are taken out of the record and returned by person, for :meth:`run` to put
        where a simulation ending at the contract's horizon records its waiting spells, so the
        record's rows come in the same order as without a long run (:mod:`effekt.sim.streams`)."""
        env, cut, spells = self.env, self.cut, self.rec.spells
        for steps in self.walks:  # each walk's first step, at week 0 in person order (:class:`_Walk`)
            _Walk(steps)
        # emptied, not rebound: :meth:`run` holds the list too, and a walk kept by it outlives its
        # end (650 bytes a person, all of them, until the run returned)
        self.walks.clear()
        if cut == math.inf:
            env.run(until=self.horizon)
            return {}
        env.run(until=cut)
        held, mark = set(self.waiting), len(spells)
        env.run(until=self.horizon)
        late: dict[int, list[tuple]] = {}
        if held:
            rest = []
            for s in spells[mark:]:
                if s[0] == "treatment" and s[1] in held:
                    late.setdefault(s[1], []).append(s)
                else:
                    rest.append(s)
            spells[mark:] = rest
        return late

    def _let_go(self) -> None:
        """Drop the clock's pending events and the slots' queues once the clock has run and the
        people still waiting are recorded: a walk waiting at the horizon is a reference cycle (its
        event's callback resumes the walk, whose frame holds the event), and the clock's queue
        holds the model through such walks, so without this the model, and with it every row it
        recorded, lived until the cyclic collector's next pass (a full one in a large world)
        instead of going with the last reference to its tables (issue 14)."""
        for slots in self.resources.values():
            for req in slots.queue:
                req.callbacks = None
            slots.queue.clear()
        env = self.env
        for entry in env._queue:
            entry[-1].callbacks = None
        env._queue.clear()
        for due in env._due.values():
            for event in due:
                if event is not None:
                    event.callbacks = None
        env._due.clear()
        env._weeks.clear()
        env._current = None
        self.waiting = {}

    # -- running -----------------------------------------------------------------------------
    def run(self) -> Tables:
        world, streams = self.world, self.streams
        people = draw_people(world.cohorts, world.groups, world.benefits, streams.people,
                             streams.arrivals if self.poisson else None, self.horizon,
                             streams.employability, streams.benefits if self.changing else None)
        mode = world.counterfactual.mode
        if mode == "rct":
            share = world.counterfactual.treatment_share
            arms_of = [("treatment",) if u < share else ("control",) for u in self._assignment(people)]
        else:
            arms_of = [("treatment", "control") if mode == "parallel" else ("treatment",)] * len(people)
        persons, walks = self.rec.persons, self.walks
        for p, arms in zip(people, arms_of, strict=True):
            for arm in arms:
                persons.append(
                    (arm, p.person_id, p.cohort, p.group, p.age, p.norwegian, p.education,
                     p.work_capacity, p.benefit_kind, p.benefit_g, p.entry_week, p.employability)
                )
                if arm == "treatment":
                    walks.append(self.treatment(p))
                else:
                    self.control(p)
        late = self._run_clock()
        if mode == "parallel":
            self._mirror_moves()
        if self.matching:
            self.compare()
            self._mirror_moves("comparison")
        by_id = {p.person_id: p for p in people} if self.waiting else {}
        for pid in sorted(self.waiting.keys() | late.keys()):
            self.rec.spells.extend(late.get(pid, ()))
            if pid not in self.waiting:
                continue
            stage, asked, held = self.waiting[pid]
            p = by_id[pid]
            self.rec.spells.append(("treatment", pid, "waiting", stage, None, asked, self.horizon,
                                    0.0, 0.0, p.benefit_kind, p.benefit_g) + _NO_PAY)
            for r, req, t, granted in held:
                self.rec.capacity.append((r, pid, t, granted if req.triggered else math.nan,
                                          math.nan, stage))
        self._let_go()
        self._apply_rules(people)
        if self.retiring:
            self._retire(people)
        return self.rec.tables()


def simulate(world: World, seed: int | np.random.SeedSequence | Streams) -> Tables:
    """Simulate one replication of ``world``; all randomness comes from ``seed``.

    Returns the record tables (see :mod:`effekt.sim.records`). Nothing is printed or written.
    """
    streams = seed if isinstance(seed, Streams) else Streams.from_seed(seed)
    with collector_paused():
        return _Model(world, streams).run()
