"""Business as usual is a pathway too: the built-in business-as-usual pathways reproduce what was
published about them, each measured on its source's clock.

The figures (each source is cited in the pathway file, sim/business_as_usual/*.toml):

* Refugees, the introduction programme (group R): SSB 2024, 47 % of the 2021 leavers employed one
  year after leaving; SSB (ssb.no/introinnv), 65 % of the 2022 leavers employed and/or in
  education one year after leaving. Clock: each person's own week of leaving the programme (the
  end of their last stage financed by the integration grant) + 52 weeks. SSB counts status in
  November of the year after leaving, 11-23 months after; + 52 weeks is the brief's reading of
  "a year after".
* Refugees, the long run: SSB, 43 % of everyone who left 2005-2019 employed in 2020; each leaving
  cohort's share rises with the years since leaving and levels off after 8-10 years (60 % for the
  2009 leavers). The 43 % is an average over cohorts 1-15 years after leaving, not one cohort's
  share five years on, and a two-state labour market cannot fall back below its one-year share:
  the test asks that the share five years after leaving lies between 43 % and SSB's levelled-off
  60 % (plus two points for the model's and the cohort's noise) and above the one-year share.
* People on kvalifiseringsstønad, the qualification programme: NAV 2014, 4 of 10 leavers went to
  work or education. Clock: at leaving (the stage after the programme is a job or education).
* People on AAP, NAV's follow-up: NAV 2019, 38 % of the 2018 leavers in work six months later.
  Clock: each person's week of leaving AAP + 26 weeks; measured for group B (the group the
  pathway mostly serves), at its business-as-usual rates.

"Inside the simulated 95 % interval" means: the published share lies inside the 2.5-97.5 % range
of the share in one simulated cohort of ``PEOPLE`` people (the size of SSB's leaving cohorts), so
the published figure is a value the model gives a real cohort; the Monte Carlo interval of the
model's mean is reported beside it (docs/pathways.md, "Business as usual: published vs
simulated"). The fast suite checks each figure on a few cohorts against the binomial range of one
cohort; the ``calibration`` marker runs ``REPS`` cohorts and uses their empirical range.

Also here: qualifications reach the control arm. Group C's ordinary adult education to a fagbrev
(sim/business_as_usual/voksenopplaering_fagbrev.toml) names its exam so that the Gloppen
contract's fagbrev outcome (stages ``fagprove*`` followed by ``helsefagarbeider``) counts it: the
control arm reaches the outcome too (its deadweight), at the share the file's numbers give.

``python tests/test_bau_calibration.py [--reps N]`` prints the table of docs/pathways.md.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from effekt.contracts import evaluate, load_terms
from effekt.sim import (
    Cohort,
    Counterfactual,
    Pathway,
    Tables,
    World,
    business_as_usual_names,
    default_target_groups,
    load_business_as_usual,
    load_pathway,
    replication_seed,
    simulate,
)

ROOT_SEED = 20261210
PEOPLE = 4000  # one cohort: about the size of SSB's leaving cohorts (3 300 in 2021, 3 170 in 2022)
REPS = 40  # cohorts in the calibration run
FAST_REPS = 3  # cohorts in the fast suite
LONG_RUN_WEEKS = 260.0  # five years after leaving
SSB_LONG_RUN = (0.43, 0.60)  # SSB: the all-cohort average and the highest cohort's levelled-off share
NOISE = 0.02  # two points for the model's and one cohort's noise around SSB's range

REJECT_ON_THE_SPOT = Pathway.model_validate({
    "pathway": {"name": "business_as_usual_only", "title": "everyone back to business as usual at once",
                "source": "test", "entry": "interview"},
    "stages": {
        "interview": {"kind": "screening", "duration": {"dist": "fixed", "value": 0},
                      "exits": [{"to": "turned_away", "p": 1.0}]},
        "turned_away": {"kind": "exit", "outcome": "not_employed"},
    },
})
"""A programme arm that is business as usual from referral (the control arm is measured)."""


# --------------------------------------------------------------------------------------------
# Worlds: one cohort of the population the source describes, under business as usual
# --------------------------------------------------------------------------------------------


def bau_world(group: str, benefit: str, horizon_weeks: float, people: int = PEOPLE) -> World:
    """``people`` of ``group``, all on ``benefit`` (the population the source counts), with the
    built-in groups otherwise as in sim/data/target_groups.toml."""
    groups = dict(default_target_groups())
    groups[group] = groups[group].model_copy(update={"benefit": {benefit: 1.0}})
    return World(pathway=REJECT_ON_THE_SPOT, groups=groups, horizon_weeks=horizon_weeks,
                 cohorts=[Cohort(name="bau", start_week=0, size=people, groups={group: 1.0})],
                 counterfactual=Counterfactual(mode="parallel"))


# --------------------------------------------------------------------------------------------
# Measurements on the source's clock: (numerator, denominator) of one cohort
# --------------------------------------------------------------------------------------------


def left_at(spells: pd.DataFrame, programme: frozenset[str]) -> pd.Series:
    """Each person's week of leaving the programme: the end of their last spell in one of its
    stages (index person_id)."""
    return spells[spells["stage"].isin(programme)].groupby("person_id")["end"].max()


def in_states_at(spells: pd.DataFrame, when: pd.Series, states: tuple[str, ...]) -> int:
    """How many of the people in ``when`` (index person_id, value week) are in one of ``states``
    at that week (a spell starting at or before it and ending after it)."""
    m = spells[spells["state"].isin(states)].merge(when.rename("t"), left_on="person_id", right_index=True)
    return int(m.loc[(m["start"] <= m["t"]) & (m["end"] > m["t"]), "person_id"].nunique())


def status_after_leaving(weeks: float, states: tuple[str, ...]) -> Callable[..., tuple[int, int]]:
    """The share of leavers in ``states`` ``weeks`` after their own week of leaving."""
    def measure(spells: pd.DataFrame, events: pd.DataFrame, programme: frozenset[str],
                horizon: float) -> tuple[int, int]:
        when = left_at(spells, programme) + weeks
        when = when[when < horizon]
        return in_states_at(spells, when, states), len(when)
    return measure


def went_to(stages: tuple[str, ...]) -> Callable[..., tuple[int, int]]:
    """The share of leavers whose next stage is one of ``stages`` (a job or education) at leaving."""
    def measure(spells: pd.DataFrame, events: pd.DataFrame, programme: frozenset[str],
                horizon: float) -> tuple[int, int]:
        leave = left_at(spells, programme)
        left = leave[leave < horizon].index
        onward = events[events["stage"].isin(stages) & events["event"].isin(("hired", "entered"))]
        return int(pd.Index(onward["person_id"].unique()).isin(left).sum()), len(left)
    return measure


@dataclass(frozen=True)
class Figure:
    """One published business-as-usual figure and how the model measures it."""

    key: str
    group: str
    benefit: str
    pathway: str
    published: float
    text: str
    source: str
    clock: str
    measure: Callable[..., tuple[int, int]]
    horizon_weeks: float
    programme: Callable[[Pathway], frozenset[str]]

    def stages(self) -> frozenset[str]:
        return self.programme(load_business_as_usual(self.pathway))


def grant_financed(p: Pathway) -> frozenset[str]:
    """The introduction programme's own stages: those financed by the integration grant."""
    return frozenset(n for n, st in p.stages.items() if st.funding.integration_grant)


def named(*names: str) -> Callable[[Pathway], frozenset[str]]:
    return lambda p: frozenset(names)


INTRO_HORIZON = 208 + LONG_RUN_WEEKS + 2  # the longest programme (four years), then five years
FIGURES = (
    Figure("intro_employed_1y", "R", "introduksjonsstonad", "introduksjonsprogram", 0.47,
           "47 % employed one year after leaving (2021 leavers)", "SSB 2024",
           "own week of leaving + 52 weeks", status_after_leaving(52, ("employed",)), INTRO_HORIZON,
           grant_financed),
    Figure("intro_work_or_education_1y", "R", "introduksjonsstonad", "introduksjonsprogram", 0.65,
           "65 % employed and/or in education one year after leaving (2022 leavers)",
           "SSB (ssb.no/introinnv)", "own week of leaving + 52 weeks",
           status_after_leaving(52, ("employed", "education")), INTRO_HORIZON, grant_financed),
    Figure("kvp_work_or_education", "A", "kvalifiseringsstonad", "kvalifiseringsprogram", 0.40,
           "4 of 10 leavers to work or education", "NAV 2014", "at leaving (the next stage)",
           went_to(("kvp_job", "kvp_education")), 110, named("kvp_first_year", "kvp_extension")),
    Figure("aap_in_work_6m", "B", "aap", "aap_oppfolging", 0.38,
           "38 % of leavers in work six months later (2018 leavers)", "NAV 2019",
           "own week of leaving AAP + 26 weeks", status_after_leaving(26, ("employed",)), 190,
           named("aap_follow_up")),
)
LONG_RUN = Figure("intro_employed_5y", "R", "introduksjonsstonad", "introduksjonsprogram", 0.43,
                  "43 % of all 2005-2019 leavers employed in 2020; each cohort levels off at up to 60 %",
                  "SSB (Tidligere deltakere i introduksjonsordningen 2005-2019)",
                  "own week of leaving + 260 weeks", status_after_leaving(LONG_RUN_WEEKS, ("employed",)),
                  INTRO_HORIZON, grant_financed)
BY_KEY = {f.key: f for f in (*FIGURES, LONG_RUN)}


@lru_cache(maxsize=8)
def cohorts(group: str, benefit: str, horizon_weeks: float, reps: int) -> tuple[tuple, ...]:
    """The control arm's spells and events of ``reps`` cohorts (shared by the figures of one
    population)."""
    world = bau_world(group, benefit, horizon_weeks)
    out = []
    for r in range(reps):
        t: Tables = simulate(world, replication_seed(ROOT_SEED, r))
        sp, ev = t.spells.to_pandas(), t.events.to_pandas()
        out.append((sp[sp["arm"] == "control"], ev[ev["arm"] == "control"]))
    return tuple(out)


@dataclass(frozen=True)
class Simulated:
    """A figure as simulated: the pooled share with the Monte Carlo 95 % interval of the mean, and
    the 95 % range of one cohort's share."""

    mean: float
    low: float
    high: float
    cohort_low: float
    cohort_high: float
    leavers: float  # per cohort

    def binomial_range(self) -> tuple[float, float]:
        """The 95 % range of one cohort's share by the binomial approximation (few cohorts)."""
        half = 1.96 * math.sqrt(self.mean * (1 - self.mean) / self.leavers)
        return self.mean - half, self.mean + half


def simulated(fig: Figure, reps: int) -> Simulated:
    horizon = fig.horizon_weeks
    pairs = np.array([fig.measure(sp, ev, fig.stages(), horizon)
                      for sp, ev in cohorts(fig.group, fig.benefit, horizon, reps)], dtype=float)
    num, den = pairs[:, 0], pairs[:, 1]
    r = num.sum() / den.sum()
    n = len(pairs)
    se = (math.sqrt(((num - r * den) ** 2).sum() / (n * (n - 1))) / den.mean()) if n > 1 else math.nan
    shares = num / den
    lo, hi = (np.quantile(shares, [0.025, 0.975]) if n >= 20 else (math.nan, math.nan))
    return Simulated(r, r - 1.96 * se, r + 1.96 * se, float(lo), float(hi), float(den.mean()))


# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fig", FIGURES, ids=lambda f: f.key)
def test_each_published_business_as_usual_figure_is_a_value_one_simulated_cohort_gives(fig):
    s = simulated(fig, FAST_REPS)
    low, high = s.binomial_range()
    assert low <= fig.published <= high, (
        f"{fig.source}: {fig.text}; simulated {s.mean:.3f}, one cohort's 95 % range [{low:.3f}, {high:.3f}]")


def test_refugees_long_run_lies_between_ssb_average_and_levelled_off_share():
    # a two-state labour market rises from the one-year share; it cannot fall back to 43 %
    five = simulated(LONG_RUN, FAST_REPS)
    one = simulated(BY_KEY["intro_employed_1y"], FAST_REPS)
    low, high = SSB_LONG_RUN
    assert low <= five.mean <= high + NOISE, f"simulated {five.mean:.3f} five years after leaving"
    assert five.mean > one.mean


@pytest.mark.calibration
@pytest.mark.parametrize("fig", FIGURES, ids=lambda f: f.key)
def test_each_published_figure_is_inside_the_simulated_95_percent_range(fig):
    s = simulated(fig, REPS)
    assert s.high - s.low < 0.01, "too few cohorts for a tight mean"
    assert s.cohort_low <= fig.published <= s.cohort_high, (
        f"{fig.source}: {fig.text}; simulated {s.mean:.3f} ({s.low:.3f}-{s.high:.3f}), "
        f"one cohort [{s.cohort_low:.3f}, {s.cohort_high:.3f}]")


@pytest.mark.calibration
def test_refugees_long_run_with_many_cohorts():
    five, one = simulated(LONG_RUN, REPS), simulated(BY_KEY["intro_employed_1y"], REPS)
    assert SSB_LONG_RUN[0] <= five.low and five.high <= SSB_LONG_RUN[1] + NOISE
    assert five.low > one.high


def gloppen_for_group_c(people: int = 2000) -> World:
    """Gloppen's class for group C only, with the control arm beside it, long enough for the
    contract's five-year window."""
    return World(pathway=load_pathway("gloppen"), horizon_weeks=330,
                 cohorts=[Cohort(name="class", start_week=0, size=people, groups={"C": 1.0})],
                 counterfactual=Counterfactual(mode="parallel"))


def expected_ordinary_fagbrev_share() -> float:
    """The share of group C who get a fagbrev through ordinary adult education, by hand from the
    data files: on a benefit that walks it, apply, stay through school and apprenticeship, then
    pass the fagprøve at the first attempt or (not giving up) at the one retake."""
    c = default_target_groups()["C"]
    bau = load_business_as_usual("voksenopplaering_fagbrev").stages
    walks = sum(share for kind, share in c.benefit.items()
                if c.bau_pathway_for(kind) == "voksenopplaering_fagbrev")
    apply_ = bau["adult_ed_assessment"].exits[0].p
    stay = (1 - bau["adult_upper_secondary"].exits[0].p) * (1 - bau["adult_apprenticeship"].exits[0].p)
    fail = bau["fagprove_ordinary"].exits[0].p
    retake = 1 - bau["retake_preparation_ordinary"].exits[0].p
    return walks * apply_ * stay * ((1 - fail) + fail * retake * (1 - fail))


def test_qualifications_reach_the_control_arm():
    # deadweight: Gloppen's contract pays for a fagbrev, and some of group C get one through
    # ordinary adult education without the programme
    people = 2000
    world = gloppen_for_group_c(people)
    t = simulate(world, replication_seed(ROOT_SEED, 7))
    ev = evaluate(load_terms("gloppen_outcomes"), t.persons, t.spells, world.horizon_weeks, events=t.events)
    fagbrev = ev.outcomes[ev.outcomes["outcome"] == "fagbrev"].groupby("arm")["person_id"].nunique()
    control = int(fagbrev.get("control", 0))
    assert control > 0, "no fagbrev in the control arm: qualifications have no deadweight"
    # ... at the share the business-as-usual file's numbers give (a cohort of 2 000 mostly waits
    # for Gloppen's 12 seats: the control arm is the point here)
    expected = expected_ordinary_fagbrev_share()
    se = math.sqrt(expected * (1 - expected) / people)
    assert abs(control / people - expected) < 4 * se, (control / people, expected)




def test_every_built_in_business_as_usual_pathway_is_some_groups():
    used = set()
    for tg in default_target_groups().values():
        b = tg.bau_pathway
        used |= set(b.values()) if isinstance(b, dict) else ({b} if b else set())
    assert used == set(business_as_usual_names())


# --------------------------------------------------------------------------------------------
# The table of docs/pathways.md
# --------------------------------------------------------------------------------------------


def table(reps: int = REPS) -> str:
    """'Business as usual: published vs simulated', as docs/pathways.md shows it."""
    rows = ["| group, business-as-usual pathway | published | source | clock | simulated mean (95 % CI) "
            "| one cohort of 4 000, 95 % range |", "|---|---|---|---|---|---|"]
    for fig in (*FIGURES, LONG_RUN):
        s = simulated(fig, reps)
        rows.append(f"| {fig.group}, `{fig.pathway}` | {fig.text} | {fig.source} | {fig.clock} | "
                    f"{s.mean:.3f} ({s.low:.3f}-{s.high:.3f}) | {s.cohort_low:.3f}-{s.cohort_high:.3f} |")
    return "\n".join(rows)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="print the business-as-usual calibration table")
    ap.add_argument("--reps", type=int, default=REPS)
    args = ap.parse_args()
    t0 = time.perf_counter()
    print(table(args.reps))
    print(f"\n{args.reps} cohorts of {PEOPLE} people per population, seed {ROOT_SEED}, "
          f"{time.perf_counter() - t0:.0f} s")
