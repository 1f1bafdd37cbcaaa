"""Wages grow with experience (sim/data/labour_market.toml ``wage_growth_per_year_worked``), by hand.

In a labour-market job (found in the labour market, or a pathway's job kept after it) the wage is
the group's (or the job's) times 1.02 ** k for k completed years worked since referral, any job
counted (a pathway's too, whose own wage the pathway sets and which does not grow), at most
``wage_growth_max_years``; the spell is cut where a year is completed. Dagpenger count the grown
wage (folketrygdloven § 4-11: the last 52 weeks' earnings, or the average of the last 156).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from effekt.sim import (
    Cohort,
    Counterfactual,
    LabourMarket,
    Pathway,
    TargetGroup,
    World,
    default_labour_market,
    simulate,
)

G = 130_160.0  # source: NAV, grunnbeløp from 1 May 2025
GROWTH = 0.02
WAGE = 400_000.0


def group(bau: float = 0.0, loss: float = 0.0) -> TargetGroup:
    return TargetGroup(
        title="test", age={"low": 30, "high": 30}, norwegian={"B1": 1.0}, education={"primary": 1.0},
        work_capacity={"low": 1.0, "high": 1.0}, benefit={"sosialhjelp": 1.0}, bau_entry_rate=bau,
        bau_job_loss_rate=loss, wage=WAGE, fte=0.8)


def kept(wage: float = WAGE, fte: float = 1.0, loss: float = 0.0) -> dict:
    """A job the person keeps in the labour market (a terminal employment stage)."""
    return {"kind": "employment", "employment": {"contract": "permanent", "fte": fte, "annual_wage": wage,
                                                 "job_loss_multiplier": loss}}


def pathway(stages: dict, entry: str) -> Pathway:
    return Pathway.model_validate({
        "pathway": {"name": "t", "title": "test", "source": "test", "entry": entry}, "stages": stages})


def run(pw: Pathway, horizon: float, n: int = 2, mode: str = "none", tg: TargetGroup | None = None,
        growth: float = GROWTH, most: int = 10, seed: int = 1):
    lm = LabourMarket(wage_growth_per_year_worked=growth, wage_growth_max_years=most)
    w = World(pathway=pw, horizon_weeks=horizon, groups={"T": tg or group()}, labour_market=lm,
              counterfactual=Counterfactual(mode=mode),
              cohorts=[Cohort(name="k", start_week=0, size=n, groups={"T": 1.0})])
    return simulate(w, seed).spells.to_pandas().sort_values(["arm", "person_id", "start"])


def rows(s, pid: int = 0) -> list[tuple]:
    one = s[(s.person_id == pid) & (s.state == "employed")]
    return [(r.start, r.end, round(r.annual_wage, 6)) for r in one.itertuples()]


def test_a_kept_job_is_cut_at_each_year_worked_and_its_wage_grows_two_percent_a_year():
    s = run(pathway({"job": kept()}, "job"), 170)
    assert rows(s) == [(0.0, 52.0, 400_000.0), (52.0, 104.0, 408_000.0), (104.0, 156.0, 416_160.0),
                       (156.0, 170.0, 424_483.2)]
    # one job, cut: the stage, contract and benefit columns are those of the job throughout
    j = s[(s.person_id == 0) & (s.state == "employed")]
    assert (j.stage == "job").all() and (j.contract == "permanent").all() and (j.fte == 1.0).all()


def test_without_growth_the_job_is_one_spell():
    assert rows(run(pathway({"job": kept()}, "job"), 170, growth=0.0)) == [(0.0, 170.0, 400_000.0)]


def test_a_pathways_own_job_counts_as_experience_but_keeps_its_wage():
    # 78 weeks in the pathway's job at 300 000, then a kept job at 400 000: a year and a half worked,
    # so the kept job starts at 2 % more and steps up when the second year is completed, at week 104
    first = {"kind": "employment", "duration": {"dist": "fixed", "value": 78}, "next": "kept",
             "employment": {"contract": "temporary", "fte": 1.0, "annual_wage": 300_000}}
    s = run(pathway({"first": first, "kept": kept()}, "first"), 170)
    assert rows(s) == [(0.0, 78.0, 300_000.0), (78.0, 104.0, 408_000.0), (104.0, 156.0, 416_160.0),
                       (156.0, 170.0, 424_483.2)]


def test_only_weeks_in_work_count():
    # 30 weeks of work, 20 weeks of job search, then the kept job from week 50: its first year is
    # completed 22 weeks in, at week 72
    first = {"kind": "employment", "duration": {"dist": "fixed", "value": 30}, "next": "search",
             "employment": {"contract": "temporary", "fte": 1.0, "annual_wage": 300_000}}
    search = {"kind": "job_search", "duration": {"dist": "fixed", "value": 20}, "next": "kept"}
    s = run(pathway({"first": first, "search": search, "kept": kept()}, "first"), 130)
    assert rows(s) == [(0.0, 30.0, 300_000.0), (50.0, 72.0, 400_000.0), (72.0, 124.0, 408_000.0),
                       (124.0, 130.0, 416_160.0)]


def test_growth_stops_after_the_years_that_count():
    s = run(pathway({"job": kept()}, "job"), 260, most=2)
    assert rows(s) == [(0.0, 52.0, 400_000.0), (52.0, 104.0, 408_000.0), (104.0, 260.0, 416_160.0)]


def test_labour_market_jobs_grow_alike_in_both_arms():
    out = {"out": {"kind": "exit", "outcome": "not_employed"}}
    s = run(pathway(out, "out"), 520, n=60, mode="parallel", tg=group(bau=1.0, loss=0.3))
    for arm in ("treatment", "control"):
        j = s[(s.arm == arm) & (s.state == "employed")]
        assert j.stage.isna().all()
        k = np.log(j.annual_wage / WAGE) / math.log(1 + GROWTH)
        np.testing.assert_allclose(k, np.round(k), atol=1e-9)  # the group's wage x 1.02 ** k
        assert (np.round(k) >= 3).any()  # some have worked three years and more


def earned_by_hand(a: float, b: float, wage: float, fte: float) -> float:
    """NOK earned between weeks a and b in a job held from week 0, its wage stepping up 2 % at
    each completed year (at most ten)."""
    total = 0.0
    for k in range(int(b // 52) + 1):
        lo, hi = max(a, 52.0 * k), min(b, 52.0 * (k + 1))
        if hi > lo:
            total += wage * fte * (1 + GROWTH) ** min(k, 10) * (hi - lo) / 52
    return total


def test_dagpenger_count_the_grown_wage():
    # folketrygdloven §§ 4-4, 4-11, 4-12: qualify with 1.5 G in the last 52 weeks (or 3 G in 156);
    # 62.4 % a year of the larger of the last 52 weeks' earnings and the yearly average of the
    # last 156 (up to 6 G)
    s = run(pathway({"job": kept(fte=0.8, loss=1.0)}, "job"), 520, n=300, tg=group(loss=0.25), seed=5)
    checked = 0
    for _, one in s.groupby("person_id"):
        jobs = one[one.state == "employed"]
        after = one[one.state == "not_employed"]
        if after.empty:
            continue
        lost = jobs.end.max()
        year = earned_by_hand(lost - 52, lost, WAGE, 0.8)
        three = earned_by_hand(lost - 156, lost, WAGE, 0.8)
        if year < 1.5 * G and three < 3 * G:
            continue
        basis = min(max(year, three / 3), 6 * G)
        first = after.iloc[0]
        assert first.benefit_kind == "dagpenger"
        assert first.benefit_g == pytest.approx(0.624 * basis / G, rel=1e-12)
        checked += 1
    assert checked > 100
    long_held = s[(s.state == "employed") & (s.start >= 104)]
    assert len(long_held) > 30  # many had their wage grown before they lost the job


def test_the_built_in_rate_says_where_it_comes_from():
    lm = default_labour_market()
    assert (lm.wage_growth_per_year_worked, lm.wage_growth_max_years) == (0.02, 10)
    assert LabourMarket().wage_growth_per_year_worked == 0.0  # a world built by hand: no growth
