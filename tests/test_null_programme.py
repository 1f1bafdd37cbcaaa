"""The invariant: a programme that does nothing shows no effect.

Leaving a pathway returns a person to business as usual, the same process the control arm is in
(sim/engine.py), unless the pathway file states an effect (``after`` on the stage a person leaves
through). So a pathway that does nothing must show no effect on any KPI beyond Monte Carlo noise,
for every target group and every built-in contract template. Two such pathways:

* ``reject_all``: everyone is rejected at the first interview, on the spot (in week 1, taking no
  time). Its effect is zero within noise, and within 1.5 points for every in-work share.
* ``lock_in``: a course of ``LOCK_IN_WEEKS`` that everyone completes, then an exit with nothing
  stated. It holds people out of the labour market for that long (a real lock-in cost), so its
  effect is never positive: in work, earnings, benefits and the public budgets are at best equal.
  Where business as usual is only the labour market, any time a programme holds people costs
  something: on that plain chain a one-week interview that rejects everyone costs refugees (who
  find work fastest there) about 4 points in work a month later, as the closed form says (tested
  below); with their introduction programme it costs them nothing (they rejoin it).

For both, the in-work difference of every month is also compared with its closed form where
business as usual is only the labour market (a group without a business-as-usual pathway and
without a spread of employability; every group is also run so, "plain"): the business-as-usual
process is then a three-state Markov chain (out of work, temporary job, permanent job) with the
group's hazards and the labour market's conversion and temporary-job multiplier, and the programme
arm is that chain started ``L`` weeks later, so the expected effect ``m`` months after entry is
``P(m - L) - P(m)`` (``P`` = probability of being employed, 0 before the start). With the built-in
business-as-usual pathways (the introduction programme for refugees ...) a programme that holds
people for less than that pathway lasts costs them nothing: they rejoin it on its clock
(tests/test_sim_business_as_usual.py has the closed forms of that). On the default groups, where
both apply, a one-week interview that rejects everyone costs each person exactly the part of that
week their business as usual would have spent in the labour market, checked per benefit kind and
month against the control arm shifted by that much (``calibration`` marker).

Effects checked, each as programme arm minus control arm per replication: the share in work at 12
and 24 months (the share KPIs of both arms) and at every month; each outcome of the contract
(treatment count minus control count) and the additional primary outcomes; earnings; benefits and
every public-budget item except the programme's own costs and the contract's payments (a contract
pays for outcomes that would have happened anyway, so those two are not effects of the
programme), as KPIs and per public party. The KPIs are picked from the contract's KPI registry by
what they measure, not by their names.

Tolerances come from the replications themselves: |mean| < Z standard errors of the mean over
replications, and for in-work shares also |mean| < 1.5 points with Z standard errors below 1.5
points (so the test could see an effect of 1.5 points). The full grid (every group x every
template x both pathways) is under the ``calibration`` marker; one representative case runs in the
fast suite. ``python tests/test_null_programme.py`` prints the measured effects.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import expm

from effekt.contracts import Kpi, Terms, evaluate, in_work_by_month, kpis_for, load_terms, template_names
from effekt.sim import (
    WEEKS_PER_YEAR,
    Cohort,
    Counterfactual,
    LabourMarket,
    Pathway,
    TargetGroup,
    World,
    default_labour_market,
    default_target_groups,
    replication_seed,
    simulate,
)

Z = 4.0  # standard errors of the mean over replications
BOUND = 0.015  # 1.5 points: the largest in-work effect a null programme may show
ROOT_SEED = 20261201
GROUPS = ("A", "B", "C", "D", "R")
HORIZON_WEEKS = 156.0  # three years: 12 and 24 months, and most contract terms
PEOPLE = 1000  # per group and replication (at least 200 asked; more people per run is cheaper than more runs)
REPS = 50  # replications: 4 SE of an in-work difference is then about 1.3 points at most
FEWER_REPS = 25  # where only the sign and the closed form are checked (lock-ins)
GRID_REPS = {"reject_all": 70, "lock_in": 35}
"""Replications in the full grid: 70 x 1000 people put 4 SE of every month's in-work difference
near 1.1 points (the SE estimated from the replications varies by some 10 % itself); the lock-in
checks only the sign and the closed form."""
LOCK_IN_WEEKS = 26
WEEKS_PER_MONTH = WEEKS_PER_YEAR / 12
NOT_EFFECTS = {"fiscal_npv", "fiscal_net", "fiscal_programme_costs", "fiscal_contract"}
"""Difference KPIs that are not effects of the programme on people: the budgets' totals (which
include the contract's payments and the programme's costs) and those two items themselves."""
NOT_EFFECT_ITEMS = {"programme_costs", "contract"}


def _pathway(name: str, stages: dict, entry: str) -> Pathway:
    return Pathway.model_validate({
        "pathway": {"name": name, "title": name, "source": "test: a programme that does nothing",
                    "entry": entry},
        "stages": stages})


# the stages are named so that no template's stage patterns (completion, qualification) match
# them: a template that pays for completing a course pays for something this programme does by
# definition; the invariant is about what it changes for people afterwards
def rejecting(weeks: float) -> Pathway:
    """An interview of ``weeks`` that rejects everyone, with nothing stated after."""
    return _pathway("reject_all", {
        "interview": {"kind": "screening", "duration": {"dist": "fixed", "value": weeks},
                      "exits": [{"to": "turned_away", "p": 1.0}]},
        "turned_away": {"kind": "exit", "outcome": "not_employed"},
    }, "interview")


REJECT_ALL = rejecting(0)
LOCK_IN = _pathway("lock_in", {
    "classes": {"kind": "course", "duration": {"dist": "fixed", "value": LOCK_IN_WEEKS},
                "next": "finished"},
    "finished": {"kind": "exit", "outcome": "not_employed"},
}, "classes")
SOME_MOVE = _pathway("some_move", {
    "interview": {"kind": "screening", "duration": {"dist": "fixed", "value": 0},
                  "exits": [{"to": "moved_away", "p": 0.1}, {"to": "turned_away", "p": 0.9}]},
    "moved_away": {"kind": "exit", "outcome": "moved"},
    "turned_away": {"kind": "exit", "outcome": "not_employed"},
}, "interview")
"""Everyone rejected on the spot, and one in ten moves away from the kommune: moving is not
something the programme causes, so it must not show as benefits saved or a grant lost."""
CREAM_SKIM = _pathway("cream_skim", {
    "interview": {"kind": "screening", "duration": {"dist": "fixed", "value": 0},
                  "exits": [{"to": "turned_away", "p": 0.5, "logistic": {"employability": -2.0}}],
                  "next": "welcome"},
    "welcome": {"kind": "course", "duration": {"dist": "fixed", "value": 0}, "next": "finished"},
    "turned_away": {"kind": "exit", "outcome": "not_employed"},
    "finished": {"kind": "exit", "outcome": "not_employed"},
}, "interview")
"""A screening that keeps the more employable (cream-skimming) and then does nothing: whom a
programme selects is no effect on anyone, however much better its participants do."""
NULL_PATHWAYS = {"reject_all": (REJECT_ALL, 0.0), "lock_in": (LOCK_IN, float(LOCK_IN_WEEKS)),
                 "one_week": (rejecting(1), 1.0), "some_move": (SOME_MOVE, 0.0),
                 "cream_skim": (CREAM_SKIM, 0.0)}
"""name -> (pathway, weeks it holds everyone before business as usual)."""


# --------------------------------------------------------------------------------------------
# Closed form: business as usual as a continuous-time Markov chain
# --------------------------------------------------------------------------------------------


def employed_probability(group: TargetGroup, lm: LabourMarket, weeks: np.ndarray,
                         entry_multiplier: float = 1.0, loss_multiplier: float = 1.0) -> np.ndarray:
    """P(employed) ``weeks`` after starting out of work in business as usual (0 for weeks < 0).

    States: out of work, temporary job, permanent job. Out of work -> hired at the entry hazard,
    into a temporary job with probability ``temporary_share``; temporary -> permanent at the
    conversion rate, -> out at the job-loss hazard times the temporary multiplier; permanent ->
    out at the job-loss hazard. Rates per year; ``P(t) = e_out expm(Q t)``.
    """
    lam = group.bau_entry_rate * entry_multiplier
    mu = group.bau_job_loss_rate * loss_multiplier
    s, c, m = lm.temporary_share, lm.conversion_rate, lm.temporary_loss_multiplier
    q = np.array([[-lam, lam * s, lam * (1 - s)],
                  [mu * m, -(mu * m + c), c],
                  [mu, 0.0, -mu]])
    out = []
    for w in np.atleast_1d(weeks):
        if w < 0:
            out.append(0.0)
            continue
        p = np.array([1.0, 0.0, 0.0]) @ expm(q * w / WEEKS_PER_YEAR)
        out.append(float(p[1] + p[2]))
    return np.array(out)


def expected_monthly_effect(group: TargetGroup, lm: LabourMarket, held_weeks: float,
                            months: np.ndarray) -> np.ndarray:
    """Programme minus control in work ``months`` after entry for a programme that holds everyone
    ``held_weeks`` and then returns them to business as usual: ``P(t - L) - P(t)``."""
    t = months * WEEKS_PER_MONTH
    # a person in the programme stage at t is not employed: P(t - L) is 0 for t < L
    return employed_probability(group, lm, t - held_weeks) - employed_probability(group, lm, t)


def test_the_closed_form_is_the_two_state_formula_without_temporary_jobs():
    # an independent check of the helper: with no temporary jobs the chain has two states and
    # P(t) = lam / (lam + mu) (1 - exp(-(lam + mu) t))
    g = default_target_groups()["C"]
    lam, mu, t = g.bau_entry_rate, g.bau_job_loss_rate, 1.7
    got = employed_probability(g, LabourMarket(), np.array([t * WEEKS_PER_YEAR]))[0]
    assert got == pytest.approx(lam / (lam + mu) * (1 - math.exp(-(lam + mu) * t)), rel=1e-9)


# --------------------------------------------------------------------------------------------
# Measuring the effects of one programme on one group under one contract
# --------------------------------------------------------------------------------------------


def plain_groups() -> dict[str, TargetGroup]:
    """The built-in groups with business as usual reduced to the labour market (no
    business-as-usual pathway, no spread of employability): the chain the closed forms describe."""
    return {g: tg.model_copy(update={"bau_pathway": None, "employability_sd": 0.0})
            for g, tg in default_target_groups().items()}


def is_chain(group: str) -> bool:
    """Whether the built-in group's business as usual is only the labour-market chain."""
    tg = default_target_groups()[group]
    return tg.bau_pathway is None and tg.employability_sd == 0


def null_world(pathway: Pathway, group: str, people: int = PEOPLE,
               counterfactual: Counterfactual | None = None, plain: bool = False) -> World:
    return World(pathway=pathway, horizon_weeks=HORIZON_WEEKS,
                 cohorts=[Cohort(name="kull", start_week=0, size=people, groups={group: 1.0})],
                 counterfactual=counterfactual or Counterfactual(mode="parallel"),
                 **({"groups": plain_groups()} if plain else {}))


@lru_cache(maxsize=2)
def runs(pathway_name: str, group: str, reps: int, plain: bool = False) -> tuple:
    """The record tables of ``reps`` replications, shared by every contract evaluated on them (the
    grid runs the templates of one pathway and group one after another; two are kept, to bound
    memory)."""
    pathway = NULL_PATHWAYS[pathway_name][0]
    world = null_world(pathway, group, plain=plain)
    return tuple(simulate(world, replication_seed(ROOT_SEED, r)) for r in range(reps))


@dataclass(frozen=True)
class Effect:
    """One effect over replications: programme minus control, per replication."""

    name: str
    values: np.ndarray
    kind: str  # "share" (a share of people), "count" or "money"
    higher_is_better: bool = True

    @property
    def mean(self) -> float:
        return float(self.values.mean())

    @property
    def se(self) -> float:
        return float(self.values.std(ddof=1) / math.sqrt(len(self.values)))

    def z(self, expected: float = 0.0) -> float:
        """How many standard errors the mean is from ``expected`` (0 when exactly equal)."""
        gap = self.mean - expected
        return 0.0 if abs(gap) <= 1e-9 * (1 + abs(expected)) else abs(gap) / max(self.se, 1e-300)


def _pairs(registry, measure_kind: dict) -> Iterable[tuple[Kpi, Kpi]]:
    """(treatment KPI, control KPI) pairs measuring the same thing in the two arms."""
    for kpi in registry.select(arm="treatment", **measure_kind):
        yield kpi, registry.at(kpi.measure, arm="control", party=kpi.party, outcome=kpi.outcome)


def effects(terms: Terms, tables: Iterable, horizon: float = HORIZON_WEEKS) -> dict[str, Effect]:
    """Every effect of the programme this module checks, over the replications in ``tables``."""
    registry = kpis_for(terms)
    rows: dict[str, list[float]] = {}
    kinds: dict[str, tuple[str, bool]] = {}

    def add(name: str, value: float, kind: str, higher_is_better: bool | None = True) -> None:
        rows.setdefault(name, []).append(value)
        kinds[name] = (kind, higher_is_better is not False)

    for t in tables:
        ev = evaluate(terms, t.persons, t.spells, horizon, events=t.events)
        k = ev.kpis
        for tr, co in _pairs(registry, {"kind": "share"}):  # in work at 12 and 24 months
            add(tr.measure, k[tr.name] - k[co.name], "share", tr.higher_is_better)
        for tr, co in _pairs(registry, {"measure": "outcomes"}):  # each outcome of the contract
            add(f"outcomes[{tr.outcome}]", k[tr.name] - k[co.name], "count", tr.higher_is_better)
        for kpi in registry.select(arm="difference"):
            if kpi.measure not in NOT_EFFECTS:
                add(kpi.name, k[kpi.name], kpi.kind, kpi.higher_is_better)
        by_month = in_work_by_month(t.persons, t.spells, horizon).pivot(
            index="month", columns="arm", values="share")
        for m, d in (by_month["treatment"] - by_month["control"]).items():
            add(f"in_work_month_{m:02d}", float(d), "share")
        diff = ev.fiscal[(ev.fiscal["arm"] == "difference") & ~ev.fiscal["item"].isin(NOT_EFFECT_ITEMS)]
        for (party, item), amount in diff.groupby(["party", "item"])["amount"].sum().items():
            add(f"fiscal[{party}].{item}", float(amount), "money")
    return {n: Effect(n, np.array(v, dtype=float), *kinds[n]) for n, v in rows.items()}


def monthly(found: dict[str, Effect]) -> tuple[np.ndarray, list[Effect]]:
    months = sorted(n for n in found if n.startswith("in_work_month_"))
    return np.array([int(n.rsplit("_", 1)[1]) for n in months]), [found[n] for n in months]


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------


def check_no_effect(found: dict[str, Effect]) -> None:
    """``reject_all``: every effect is zero within Z standard errors, and in-work shares are within
    1.5 points with a bound tight against the noise."""
    bad = [f"{e.name}: {e.mean:+.4g} (se {e.se:.3g}, {e.z():.1f} SE)" for e in found.values()
           if not np.isfinite(e.values).all() or e.z() >= Z]
    assert not bad, "a programme that rejects everyone shows an effect:\n" + "\n".join(bad)
    for e in found.values():
        if e.kind == "share":
            assert abs(e.mean) < BOUND, f"{e.name}: {100 * e.mean:+.2f} points"
            assert Z * e.se < BOUND, f"{e.name}: too few replications for a 1.5-point bound ({e.se:.4f})"


def check_never_positive(found: dict[str, Effect]) -> None:
    """``lock_in``: no effect is better for people or the public budgets than nothing, beyond Z
    standard errors (an effect that is worse is the lock-in).

    One party's benefit item is the exception, checked for finiteness only: fewer jobs also mean
    fewer jobs lost, so a lock-in pays less dagpenger (the state's) while it pays more of the
    benefits people had before (introduksjonsstønad, sosialhjelp: the kommune's); every total,
    every party's net and every other item must still be no better than nothing."""
    bad = []
    for e in found.values():
        if not np.isfinite(e.values).all():
            bad.append(f"{e.name}: not finite")
            continue
        if e.name.startswith("fiscal[") and e.name.endswith("].benefits"):
            continue
        better = e.mean if e.higher_is_better else -e.mean
        if better > 0 and e.z() >= Z:
            bad.append(f"{e.name}: {e.mean:+.4g} (se {e.se:.3g}, {e.z():.1f} SE)")
    assert not bad, "a programme that changes no hazard shows a positive effect:\n" + "\n".join(bad)


def check_monthly_closed_form(found: dict[str, Effect], group: str, held_weeks: float) -> None:
    """Every month's in-work effect equals the closed form ``P(t - L) - P(t)`` within Z SE."""
    months, series = monthly(found)
    expected = expected_monthly_effect(default_target_groups()[group], default_labour_market(),
                                       held_weeks, months)
    bad = [f"month {m}: {100 * e.mean:+.2f} points, closed form {100 * x:+.2f} (se {100 * e.se:.2f})"
           for m, e, x in zip(months, series, expected, strict=True) if e.z(x) >= Z]
    assert not bad, f"group {group}, programme holding {held_weeks:g} weeks:\n" + "\n".join(bad)


def check(pathway_name: str, group: str, template: str, reps: int, plain: bool = False) -> dict[str, Effect]:
    found = effects(load_terms(template), runs(pathway_name, group, reps, plain))
    held = NULL_PATHWAYS[pathway_name][1]
    if pathway_name in ("reject_all", "some_move", "cream_skim"):
        check_no_effect(found)
    else:
        check_never_positive(found)
    if plain or is_chain(group):
        if held >= 13:  # the lock-in is really there: while everyone is held, nobody is in work
            _, series = monthly(found)
            assert series[3].mean < -Z * series[3].se
        check_monthly_closed_form(found, group, held)
    return found


@pytest.mark.parametrize(("pathway_name", "reps", "plain"),
                         [("lock_in", FEWER_REPS, False), ("reject_all", REPS, False),
                          ("lock_in", FEWER_REPS, True)])
def test_a_programme_that_does_nothing_shows_no_effect_representative_case(pathway_name, reps, plain):
    check(pathway_name, "R", "kongsberg_outcomes", reps, plain)


@pytest.mark.parametrize("template", ["kongsberg_outcomes", "koto_sib"])
def test_people_who_move_away_during_a_pathway_move_in_the_control_arm_too(template):
    # refugees: the integration grant stops when a person moves, and koto_sib pays a share of
    # the public savings, so a one-sided move would show as savings and be paid for
    found = check("some_move", "R", template, REPS)
    grant = found.get("fiscal[kommune].integration_grant")  # absent: no difference at all
    assert grant is None or grant.z() < Z


def test_selecting_the_most_employable_is_no_effect():
    # with a spread of employability the participants do better than those turned away, but the
    # programme arm as a whole is business as usual: no effect on any KPI
    groups = dict(default_target_groups())
    groups["C"] = groups["C"].model_copy(update={"employability_sd": 0.8})
    world = null_world(CREAM_SKIM, "C").model_copy(update={"groups": groups})
    tables = [simulate(world, replication_seed(ROOT_SEED, r)) for r in range(REPS)]
    check_no_effect(effects(load_terms("kongsberg_outcomes"), tables))
    # and the selection is real: those admitted are more employable than those turned away
    t = tables[0]
    ev, p = t.events.to_pandas(), t.persons.to_pandas().query("arm == 'treatment'")
    admitted = set(ev[(ev.stage == "welcome") & (ev.event == "entered")].person_id)
    z = p.set_index("person_id").employability
    assert z[z.index.isin(admitted)].mean() > z[~z.index.isin(admitted)].mean() + 0.5


def test_one_week_of_screening_costs_what_the_closed_form_says():
    # the test can see an effect of 2 points: a one-week interview that rejects everyone holds
    # refugees (business-as-usual entry 2.7 a year on the plain chain) out of work for a week,
    # which shows a month after entry as P(t - 1 week) - P(t), about -4 points; never positive
    # (business as usual as the labour market only: with the introduction programme refugees
    # would rejoin it, and the week would cost nothing)
    found = check("one_week", "R", "kongsberg_outcomes", FEWER_REPS, plain=True)
    month_1 = found["in_work_month_01"]
    assert month_1.mean < -0.01 and month_1.z() >= Z


def in_work_shares(t, arm: str, months: np.ndarray, earlier: pd.Series | float = 0.0) -> pd.DataFrame:
    """Share of an arm's people in work ``months`` after entry minus ``earlier`` weeks (one number,
    or one per person id), per benefit kind (rows) and month (columns): straight from the spells,
    not through contracts."""
    p = t.persons.to_pandas()
    p = p[p.arm == arm].set_index("person_id")
    s = t.spells.to_pandas()
    s = s[(s.arm == arm) & (s.state == "employed")]
    back = earlier.reindex(s.person_id).to_numpy() if isinstance(earlier, pd.Series) else earlier
    entry = p.entry_week.reindex(s.person_id).to_numpy()
    when = (entry - back)[:, None] + months[None, :] * WEEKS_PER_MONTH  # spell x month
    covers = (s.start.to_numpy()[:, None] <= when) & (when < s.end.to_numpy()[:, None])
    working = pd.DataFrame(covers, index=s.person_id.to_numpy()).groupby(level=0).any()
    working = working.reindex(p.index, fill_value=False)
    return working.groupby(p.benefit_kind).mean().set_axis(months, axis=1)


def weeks_of_labour_market_lost(t, held: float) -> pd.Series:
    """Per control person, the weeks of the labour market a programme holding everyone ``held``
    weeks takes from them, by the rule of returning to business as usual (sim/engine.py): a
    business-as-usual pathway is rejoined on its clock, so the hold costs nothing while it would
    still have held them; from the moment it would have handed them to the labour market (at
    referral on the plain chain, or where its own exit lies) the hold costs the rest of the held
    weeks. That moment is the start of their first labour-market spell (one with no stage)."""
    p = t.persons.to_pandas()
    p = p[p.arm == "control"].set_index("person_id")
    s = t.spells.to_pandas()
    s = s[(s.arm == "control") & s.stage.isna()]
    start = s.groupby("person_id").start.min().reindex(p.index)
    since_entry = (start - p.entry_week).fillna(np.inf)
    return (held - since_entry).clip(lower=0.0)


@pytest.mark.calibration
@pytest.mark.parametrize("group", GROUPS)
def test_one_week_of_screening_costs_only_a_week_of_the_labour_market(group):
    # the default groups (employability spread, business-as-usual pathways): a one-week interview
    # that rejects everyone costs a person exactly the part of that week their business as usual
    # would have spent in the labour market (the programme arm is then the control arm that much
    # later), and nothing where business as usual is a pathway that still holds them (they rejoin
    # it on its clock). Per benefit kind, at months 1 to 30, within Z SE over 300 replications;
    # and, the check that matters, the group's effect at 24 months is within 0.5 points of that
    # expectation (4 SE is about 0.4)
    months, reps, weeks = np.array([1, 3, 6, 12, 18, 24, 30]), 300, 1.0
    world = null_world(rejecting(weeks), group)
    gaps, totals, lost = [], [], []
    for r in range(reps):
        t = simulate(world, replication_seed(ROOT_SEED + 1, r))
        treated = in_work_shares(t, "treatment", months)
        control = in_work_shares(t, "control", months)
        held = weeks_of_labour_market_lost(t, weeks)
        gap = treated - in_work_shares(t, "control", months, earlier=held)
        gaps.append(gap)
        share = t.persons.to_pandas().query("arm == 'control'").benefit_kind.value_counts(normalize=True)
        totals.append(float((gap[24] * share.reindex(gap.index)).sum()))
        lost.append(float(((treated - control)[1] * share.reindex(gap.index)).sum()))
    stack = pd.concat(gaps, keys=range(reps))
    mean = stack.groupby(level=1).mean()
    se = stack.groupby(level=1).std(ddof=1) / math.sqrt(reps)
    z = (mean.abs() / se.where(se > 0)).fillna(0.0)
    assert (z < Z).all().all(), f"group {group}: one week costs other than its rule:\n{100 * mean.round(4)}"
    assert abs(np.mean(totals)) < 0.005, f"group {group}: {100 * np.mean(totals):+.2f} points at 24 months"
    assert np.mean(lost) <= 0.0  # and the week is never a gain


@pytest.mark.calibration
@pytest.mark.parametrize("template", template_names())
@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("pathway_name", ["lock_in", "reject_all"])
def test_a_programme_that_does_nothing_shows_no_effect_for_every_group_and_template(
        pathway_name, group, template):
    check(pathway_name, group, template, GRID_REPS[pathway_name])


@pytest.mark.calibration
@pytest.mark.parametrize("group", ["A", "R"])
def test_a_programme_that_does_nothing_shows_no_effect_over_twelve_years(group):
    # long enough for every benefit rule to act: AAP's three-year limit, KVP's two, the
    # introduction programme's end, dagpenger after lost jobs, and retirement (A is 18-29, R up
    # to 50: R's oldest reach 62 in twelve years, so the retirement age is set to 60 to reach it)
    horizon = 12 * 52.0
    world = null_world(REJECT_ALL, group).model_copy(
        update={"horizon_weeks": horizon, "retirement_age": 60.0})
    tables = [simulate(world, replication_seed(ROOT_SEED, r)) for r in range(REPS)]
    s = pd.concat([t.spells.to_pandas() for t in tables[:3]])
    kinds = set(s.benefit_kind) | set(s.state)
    assert {"dagpenger"} | ({"retired"} if group == "R" else set()) <= kinds  # the rules did act
    check_no_effect(effects(load_terms("kongsberg_outcomes"), tables, horizon))


@pytest.mark.calibration
@pytest.mark.parametrize("group", GROUPS)
def test_the_lock_in_follows_the_closed_form_for_every_group_on_the_plain_chain(group):
    check("lock_in", group, "kongsberg_outcomes", GRID_REPS["lock_in"], plain=True)


# --------------------------------------------------------------------------------------------
# Stated effects show, and business as usual is the same in both arms
# --------------------------------------------------------------------------------------------


def straight_out(after: dict | None = None) -> Pathway:
    """A pathway whose entry is its exit: everyone leaves at once, with ``after`` stated."""
    out = {"kind": "exit", "outcome": "not_employed"} | ({"after": after} if after else {})
    return _pathway("straight_out", {"out": out}, "out")


def in_work_at(t, arm: str, months: Iterable[int]) -> pd.Series:
    by_month = in_work_by_month(t.persons, t.spells, HORIZON_WEEKS)
    return by_month[by_month["arm"] == arm].set_index("month").loc[list(months), "share"]


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("after", [{"entry_rate_multiplier": 2.0},
                                   {"entry_rate_multiplier": 2.0, "job_loss_multiplier": 0.5}])
def test_a_stated_effect_after_leaving_shows_as_the_two_state_chain_predicts(group, after):
    # without temporary jobs business as usual is a two-state chain: out of work -> employed at
    # lam, employed -> out at mu, so P(employed at t) = lam / (lam + mu) (1 - exp(-(lam + mu) t));
    # the programme arm leaves at once with lam and mu scaled by what the exit states
    n, months = 6000, (6, 12, 24)
    world = null_world(straight_out(after), group, people=n, plain=True).model_copy(
        update={"labour_market": LabourMarket()})
    t = simulate(world, replication_seed(ROOT_SEED, 99))
    g = default_target_groups()[group]

    def p(lam: float, mu: float, m: int) -> float:
        years = m * WEEKS_PER_MONTH / WEEKS_PER_YEAR
        return lam / (lam + mu) * (1 - math.exp(-(lam + mu) * years))

    lam, mu = g.bau_entry_rate, g.bau_job_loss_rate
    lam_t = lam * after["entry_rate_multiplier"]
    mu_t = mu * after.get("job_loss_multiplier", 1.0)
    treated, control = in_work_at(t, "treatment", months), in_work_at(t, "control", months)
    for m in months:
        for got, expected in ((treated[m], p(lam_t, mu_t, m)), (control[m], p(lam, mu, m))):
            se = math.sqrt(expected * (1 - expected) / n)
            assert abs(got - expected) < Z * se, (group, m, got, expected)
        assert treated[m] > control[m]  # the stated effect is an effect


def test_the_market_multiplier_scales_business_as_usual_in_both_arms():
    # counterfactual.entry_rate_multiplier describes the labour market both arms face: a
    # programme that returns everyone at once has no effect under it, and both arms follow the
    # chain with the scaled entry hazard
    n, months, scale = 6000, (6, 12, 24), 0.5
    world = null_world(straight_out(), "C", people=n, plain=True,
                       counterfactual=Counterfactual(mode="parallel", entry_rate_multiplier=scale))
    t = simulate(world, replication_seed(ROOT_SEED, 98))
    g, lm = default_target_groups()["C"], default_labour_market()
    expected = employed_probability(g, lm, np.array(months) * WEEKS_PER_MONTH, entry_multiplier=scale)
    for arm in ("treatment", "control"):
        got = in_work_at(t, arm, months).to_numpy()
        se = np.sqrt(expected * (1 - expected) / n)
        assert (np.abs(got - expected) < Z * se).all(), (arm, got, expected)


# --------------------------------------------------------------------------------------------
# The measured effects, as a table (python tests/test_null_programme.py)
# --------------------------------------------------------------------------------------------


def main() -> None:
    """Print the null programmes' main effects for every group (one template: what changes with
    the template is only which outcomes it counts). Money per person; benefits as the public
    budgets see them (negative: more paid)."""
    import time

    t0 = time.perf_counter()
    print("| programme | group | in work 12 m, points (se) | in work 24 m, points (se) "
          "| largest monthly effect, points | earnings per person, NOK (se) "
          "| benefits per person, NOK (se) | additional outcomes per person (se) |")
    print("|---|---|---|---|---|---|---|---|")
    for name in ("reject_all", "lock_in"):
        for group in GROUPS:
            found = effects(load_terms("kongsberg_outcomes"), runs(name, group, GRID_REPS[name]))
            _, series = monthly(found)
            worst = max(series, key=lambda e: abs(e.mean))

            def pts(e: Effect) -> str:
                return f"{100 * e.mean:+.2f} ({100 * e.se:.2f})"

            def per(e: Effect, digits: int = 0) -> str:
                return f"{e.mean / PEOPLE:+,.{digits}f} ({e.se / PEOPLE:,.{digits}f})"

            print(f"| {name} | {group} | {pts(found['in_work_12m'])} | {pts(found['in_work_24m'])} "
                  f"| {100 * worst.mean:+.2f} | {per(found['earnings_gain'])} "
                  f"| {per(found['fiscal_benefits'])} | {per(found['additional_outcomes'], 3)} |")
    reps = ", ".join(f"{n} {r}" for n, r in GRID_REPS.items())
    print(f"\nreplications: {reps}; {PEOPLE} people per group and arm; horizon {HORIZON_WEEKS:g} "
          f"weeks; seed {ROOT_SEED}; kongsberg_outcomes; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
