"""The simulation layer's features, each checked against an answer worked out by hand.

Person-dependent exits (logistic), retakes with a limit, a stage needing two resources (placement
and mentor), who pays during a stage and what it costs, cohorts on a schedule, initial caseloads,
temporary -> permanent jobs in the labour market, and the RCT mode.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from effekt.sim import Pathway, World, simulate
from effekt.sim.labour_market import LabourMarket
from effekt.sim.people import Cohort, TargetGroup, default_benefits
from effekt.sim.world import Counterfactual

Z = 3.5


def group(age: int = 30, norwegian: str = "B1", bau: float = 0.0, loss: float = 0.0) -> TargetGroup:
    """A target group with business-as-usual hazards ``bau`` (finding work) and ``loss`` (losing
    it), per year: the control arm's, and the programme arm's once a person has left the pathway."""
    return TargetGroup(
        title="test", age={"low": age, "high": age}, norwegian={norwegian: 1.0},
        education={"primary": 1.0}, work_capacity={"low": 1.0, "high": 1.0},
        benefit={"introduksjonsstonad": 1.0}, bau_entry_rate=bau, bau_job_loss_rate=loss,
        wage=400000, fte=0.9,
    )


def pathway(stages: dict, entry: str, capacity: dict | None = None) -> Pathway:
    return Pathway.model_validate({
        "pathway": {"name": "t", "title": "test", "source": "test", "entry": entry},
        "stages": stages, "capacity": capacity or {},
    })


def steady_benefits() -> dict:
    """The built-in benefit levels without their time limits and without dagpenger: the features
    tested here are about stages and jobs, one spell per stay (benefit rules split spells where
    the benefit changes; tests/test_sim_benefit_rules.py tests those)."""
    return {k: b.model_copy(update={"max_weeks": None, "then": None})
            for k, b in default_benefits().items() if b.share_of_wage is None}


def world(pw: Pathway, cohorts: list[dict], horizon: float, mode: str = "none",
          lm: LabourMarket | None = None, share: float = 0.5, **groups) -> World:
    return World(pathway=pw, cohorts=[Cohort(**c) for c in cohorts], horizon_weeks=horizon,
                 counterfactual=Counterfactual(mode=mode, treatment_share=share),
                 groups=groups or {"T": group()}, labour_market=lm or LabourMarket(),
                 benefits=steady_benefits())


def fixed(w: float) -> dict:
    return {"dist": "fixed", "value": w}


def kull(n: int, groups: dict | None = None, **extra) -> dict:
    return {"name": "k", "start_week": 0, "size": n, "groups": groups or {"T": 1.0}, **extra}


JOB = {"kind": "employment", "employment": {"contract": "permanent", "fte": 1.0, "annual_wage": 400000}}
OUT = {"kind": "exit", "outcome": "not_employed"}


def within(got: float, p: float, n: int) -> bool:
    return abs(got - p) < Z * math.sqrt(p * (1 - p) / n)


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# -- exits that depend on the person ------------------------------------------------------------


def test_logistic_exit_probability_depends_on_age_and_norwegian():
    pw = pathway({
        "course": {"kind": "course", "duration": fixed(1), "next": "job", "exits": [
            {"to": "out", "p": 0.2, "logistic": {"age": 0.05, "norwegian": -0.5}}]},
        "job": JOB, "out": OUT,
    }, "course")
    n = 4000
    w = world(pw, [kull(n, {"ref": 0.5, "old": 0.5})], horizon=10,
              ref=group(age=30, norwegian="B1"), old=group(age=50, norwegian="A1"))
    t = simulate(w, 5)
    persons = t.persons.to_pandas().set_index("person_id")
    ev = t.events.to_pandas()
    out = set(ev[ev.event == "exited"].person_id)
    for g, expected in [("ref", 0.2),  # the reference person: p as written
                        # 20 years older (+1.0 log-odds), two CEFR steps below B1 (+1.0 log-odds)
                        ("old", sigmoid(math.log(0.2 / 0.8) + 0.05 * 20 - 0.5 * -2))]:
        ids = persons.index[persons.group == g]
        got = np.isin(ids, list(out)).mean()
        assert within(got, expected, len(ids)), (g, got, expected)


def test_group_multiplier_and_proportional_scaling():
    pw = pathway({
        "course": {"kind": "course", "duration": fixed(1), "next": "job", "exits": [
            {"to": "out", "p": 0.4, "group_multiplier": {"H": 2.0}},
            {"to": "moved", "p": 0.4}]},
        "job": JOB, "out": OUT, "moved": {"kind": "exit", "outcome": "moved"},
    }, "course")
    n = 4000
    t = simulate(world(pw, [kull(n, {"H": 1.0})], horizon=10, H=group()), 6)
    ev = t.events.to_pandas()
    ex = ev[ev.event == "exited"]
    # for group H the exits are 0.8 and 0.4: over 1, scaled to 2/3 and 1/3; nobody reaches 'next'
    assert len(ex) == n and not (ev.stage == "job").any()
    assert within((ex.stage == "out").mean(), 2 / 3, n)


# -- retakes ------------------------------------------------------------------------------------


def test_exam_retakes_with_a_limit():
    q, limit, n = 0.4, 2, 5000
    pw = pathway({
        "exam": {"kind": "exam", "duration": fixed(1), "next": "job", "exits": [
            {"to": "exam", "p": q, "limit": limit, "otherwise": "failed"}]},
        "job": JOB, "failed": OUT,
    }, "exam")
    ev = simulate(world(pw, [kull(n)], horizon=20), 7).events.to_pandas()
    failed = ev[(ev.event == "exited") & (ev.stage == "failed")]
    assert within(len(failed) / n, q ** (limit + 1), n)  # failed three attempts in a row
    attempts = ev[(ev.event == "entered") & (ev.stage == "exam")].groupby("person_id").size()
    assert attempts.max() == limit + 1
    assert attempts.mean() == pytest.approx(1 + q + q**2, rel=0.03)
    # the passes happen at week 1, 2 or 3
    hired = ev[(ev.event == "hired") & (ev.stage == "job")]
    assert set(hired.time) == {1.0, 2.0, 3.0}
    assert len(hired) + len(failed) == n


# -- capacity: placement and mentor -------------------------------------------------------------


def test_stage_needing_placement_and_mentor_waits_for_both():
    pw = pathway({
        "training": {"kind": "placement", "duration": fixed(5), "next": "job",
                     "capacity": ["mentors", "placements"]},  # acquired in declared order
        "job": JOB,
    }, "training", {"placements": {"slots": 3}, "mentors": {"slots": 1}})
    t = simulate(world(pw, [kull(3)], horizon=40), 8)
    cap = t.capacity.to_pandas()
    assert len(cap) == 6 and (cap.stage == "training").all()
    ment = cap[cap.resource == "mentors"].sort_values("granted")
    place = cap[cap.resource == "placements"].sort_values("granted")
    # one mentor: the three start at 0, 5 and 10, whatever the placements
    assert list(ment.granted) == [0, 5, 10] and list(ment.released) == [5, 10, 15]
    assert list(place.granted) == [0, 0, 0]  # placements held while waiting for the mentor
    hired = t.events.to_pandas().query("event == 'hired'")
    assert sorted(hired.time) == [5, 10, 15]
    waits = t.spells.to_pandas().query("state == 'waiting'")
    assert sorted(waits.end - waits.start) == [5, 10]


# -- who pays and what it costs -----------------------------------------------------------------


def test_funding_and_costs_are_recorded_on_spells():
    pw = pathway({
        "course": {"kind": "course", "duration": fixed(4), "next": "trial",
                   "costs": {"per_person": 2000, "per_week": 1500, "per_cohort": 50000, "payer": "kommune"}},
        "trial": {"kind": "employment", "duration": fixed(26), "next": "job",
                  "employment": {"contract": "temporary", "fte": 0.8, "annual_wage": 420000},
                  "funding": {"wage_payer": "kommune", "subsidy_payer": "nav", "subsidy_share": 0.4}},
        "job": {**JOB, "funding": {"wage_payer": "kommune", "integration_grant": True}},
    }, "course")
    assert pw.stages["course"].costs.per_cohort == 50000  # declared for contracts to read
    rows = simulate(world(pw, [kull(2)], horizon=60), 9).spells.to_pylist()
    course, trial, job = ({r["stage"]: r for r in rows if r["person_id"] == 0}[k]
                          for k in ("course", "trial", "job"))

    def cols(row: dict, *names: str) -> tuple:
        return tuple(row[n] for n in names)

    assert cols(course, "state", "benefit_kind", "wage_payer") == ("programme", "introduksjonsstonad", None)
    assert cols(course, "cost_once", "cost_per_week", "cost_payer") == (2000, 1500, "kommune")
    assert cols(trial, "state", "contract", "benefit_kind") == ("employed", "temporary", "none")
    assert trial["benefit_g"] == 0
    assert cols(trial, "wage_payer", "subsidy_payer", "subsidy_share") == ("kommune", "nav", 0.4)
    assert trial["cost_payer"] is None and trial["integration_grant"] is False
    assert cols(job, "wage_payer", "integration_grant", "end") == ("kommune", True, 60)
    assert (course["start"], trial["start"], job["start"]) == (0, 4, 30)


def test_benefit_can_continue_during_a_paid_stage_and_labour_market_jobs_are_paid_by_employers():
    pw = pathway({
        "small_job": {"kind": "employment", "duration": fixed(10), "next": "out",
                      "employment": {"contract": "project", "fte": 0.2, "annual_wage": 400000},
                      "funding": {"benefit": "continues", "wage_payer": "kommune"}},
        "out": OUT,
    }, "small_job")
    sp = simulate(world(pw, [kull(50)], horizon=300, T=group(bau=2.0)), 10).spells.to_pandas()
    small = sp[sp.stage == "small_job"]
    assert (small.benefit_kind == "introduksjonsstonad").all() and (small.benefit_g > 0).all()
    assert (small.wage_payer == "kommune").all()
    later = sp[(sp.state == "employed") & sp.stage.isna()]
    assert len(later) > 0 and (later.wage_payer == "employer").all() and (later.benefit_kind == "none").all()
    idle = sp[sp.state == "not_employed"]
    assert idle.wage_payer.isna().all() and (idle.cost_once == 0).all()


# -- arrivals -----------------------------------------------------------------------------------


def test_cohorts_on_a_schedule_and_an_initial_caseload():
    pw = pathway({
        "course": {"kind": "course", "duration": fixed(4), "next": "training"},
        "training": {"kind": "placement", "duration": fixed(20), "next": "job"},
        "job": JOB,
    }, "course")
    w = world(pw, [kull(12, name="kull", repeats=4, repeat_every_weeks=26),
                   {"name": "caseload", "start_week": 0, "size": 5, "groups": {"T": 1}, "stage": "training"}],
              horizon=104)
    assert w.size == 53
    t = simulate(w, 11)
    persons = t.persons.to_pandas()
    sizes = persons.groupby("cohort").size().to_dict()
    assert sizes == {"kull 1": 12, "kull 2": 12, "kull 3": 12, "kull 4": 12, "caseload": 5}
    starts = persons.groupby("cohort").entry_week.agg(["min", "max"])
    assert starts.loc["kull 3"].tolist() == [52, 52] and starts.loc["caseload"].tolist() == [0, 0]
    ev = t.events.to_pandas().merge(persons[["person_id", "cohort"]], on="person_id")
    first = ev[ev.event.isin(["entered"])].sort_values("time").groupby("person_id").head(1)
    assert (first[first.cohort == "caseload"].stage == "training").all()
    assert (first[first.cohort != "caseload"].stage == "course").all()
    hired = ev[ev.event == "hired"].groupby("cohort").time.unique()
    assert list(hired["caseload"]) == [20] and list(hired["kull 2"]) == [26 + 24]


# -- labour market ------------------------------------------------------------------------------


def test_temporary_jobs_become_permanent_as_competing_risks():
    conv, loss, mult, share, n = 0.8, 0.4, 1.5, 0.35, 5000
    pw = pathway({"out": OUT}, "out")  # straight to the labour market
    lm = LabourMarket(temporary_share=share, conversion_rate=conv, temporary_loss_multiplier=mult)
    t = simulate(world(pw, [kull(n)], horizon=400, lm=lm, T=group(bau=50.0, loss=loss)), 12)
    sp = t.spells.to_pandas()
    first_jobs = sp[sp.state == "employed"].sort_values("start").groupby("person_id").head(1)
    assert within((first_jobs.contract == "temporary").mean(), share, len(first_jobs))
    ev = t.events.to_pandas()
    temp = first_jobs[first_jobs.contract == "temporary"]
    # from a temporary job: permanent first with probability conv / (conv + loss * mult)
    nxt = ev[ev.event.isin(["made_permanent", "left_job"])].merge(
        temp[["person_id", "end"]], left_on=["person_id", "time"], right_on=["person_id", "end"])
    assert len(nxt) == len(temp)
    assert within((nxt.event == "made_permanent").mean(), conv / (conv + loss * mult), len(temp))
    # and the temporary spell lasts Exp(conv + loss * mult) years
    assert (temp.end - temp.start).mean() == pytest.approx(52 / (conv + loss * mult), rel=0.06)


def test_a_kept_job_and_what_follows_are_business_as_usual_times_what_the_pathway_states():
    # a terminal job kept at loss x job_loss_multiplier; once lost, work is found at bau x the
    # stated entry multiplier and later jobs are lost at loss x the stated job-loss multiplier:
    # each spell is exponential with that rate (no temporary jobs here), so its mean is 52 / rate
    bau, loss, kept, more_entry, less_loss, n = 2.0, 1.0, 0.5, 1.5, 0.25, 4000
    pw = pathway({"job": {**JOB, "employment": {**JOB["employment"], "job_loss_multiplier": kept},
                          "after": {"entry_rate_multiplier": more_entry, "job_loss_multiplier": less_loss}}},
                 "job")
    sp = simulate(world(pw, [kull(n)], horizon=2000, T=group(bau=bau, loss=loss)), 15).spells.to_pandas()
    sp = sp[sp.end < 2000].sort_values(["person_id", "start"])  # completed spells only
    sp["k"] = sp.groupby("person_id").cumcount()
    length = sp.end - sp.start
    for k, rate in ((0, loss * kept), (1, bau * more_entry), (2, loss * less_loss)):
        got = length[sp.k == k]
        assert len(got) > 0.9 * n
        assert got.mean() == pytest.approx(52 / rate, rel=Z / math.sqrt(len(got))), (k, rate)
    assert (sp[sp.k == 0].stage == "job").all() and sp[sp.k == 2].stage.isna().all()


# -- counterfactual and RCT ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["rct", "parallel"])
def test_control_arm_is_business_as_usual(mode):
    rate, n = 0.7, 4000
    pw = pathway({"course": {"kind": "course", "duration": fixed(10), "next": "job"}, "job": JOB}, "course")
    t = simulate(world(pw, [kull(n)], horizon=104, mode=mode, share=0.3, T=group(bau=rate)), 13)
    persons = t.persons.to_pandas()
    arms = persons.groupby("arm").size()
    if mode == "rct":
        assert persons.person_id.is_unique  # each referred person is in exactly one arm
        assert within(arms["treatment"] / n, 0.3, n)
    else:
        assert (arms == n).all()
    sp = t.spells.to_pandas()
    ctrl = sp[sp.arm == "control"]
    assert ctrl.stage.isna().all() and not (ctrl.state == "programme").any()
    # with no job loss, in work by week 52 with probability 1 - exp(-rate)
    employed = ctrl[(ctrl.state == "employed") & (ctrl.start <= 52)].person_id.nunique()
    assert within(employed / arms["control"], 1 - math.exp(-rate), int(arms["control"]))
    # the treatment arm follows the pathway: everyone hired at week 10
    hired = t.events.to_pandas().query("arm == 'treatment' and event == 'hired'")
    assert len(hired) == arms["treatment"] and (hired.time == 10).all()


def test_rct_assignment_does_not_change_who_is_referred():
    pw = pathway({"course": {"kind": "course", "duration": fixed(10), "next": "job"}, "job": JOB}, "course")
    a = simulate(world(pw, [kull(200, {"T": 0.5, "U": 0.5})], horizon=50, mode="rct", T=group(),
                       U=group(age=40)), 14).persons.to_pandas()
    b = simulate(world(pw, [kull(200, {"T": 0.5, "U": 0.5})], horizon=50, mode="parallel", T=group(),
                       U=group(age=40)), 14).persons.to_pandas()
    cols = ["person_id", "group", "age"]
    assert a[cols].sort_values("person_id").reset_index(drop=True).equals(
        b[b.arm == "control"][cols].sort_values("person_id").reset_index(drop=True))


def test_logistic_exit_on_a_continuous_attribute_averages_over_the_group():
    # work capacity ~ U(0.4, 0.9); p = sigmoid(b (w - 1)) for the reference p = 0.5;
    # its mean over the group is [ln(1 + e^{b(w-1)}) / b] from 0.4 to 0.9, divided by 0.5
    b, lo, hi, n = 3.0, 0.4, 0.9, 6000
    tg = group().model_copy(update={"work_capacity": group().work_capacity.model_copy(
        update={"low": lo, "high": hi})})
    pw = pathway({
        "practice": {"kind": "practice", "duration": fixed(1), "next": "out", "exits": [
            {"to": "job", "p": 0.5, "logistic": {"work_capacity": b}}]},
        "job": JOB, "out": OUT,
    }, "practice")
    ev = simulate(world(pw, [kull(n)], horizon=5, T=tg), 15).events.to_pandas()
    got = ((ev.event == "hired") & (ev.stage == "job")).sum() / n

    def antiderivative(w: float) -> float:
        return math.log1p(math.exp(b * (w - 1))) / b

    expected = (antiderivative(hi) - antiderivative(lo)) / (hi - lo)
    assert within(got, expected, n), (got, expected)


def test_initial_caseload_part_way_through_its_stage():
    pw = pathway({
        "fixed_training": {"kind": "placement", "duration": fixed(26), "next": "job"},
        "open_training": {"kind": "placement", "duration": {"dist": "exponential", "mean": 20},
                          "next": "job"},
        "start": {"kind": "screening", "duration": fixed(1), "next": "fixed_training",
                  "exits": [{"to": "open_training", "p": 0.5}]},
        "job": JOB,
    }, "start")
    n = 4000
    w = world(pw, [{"name": "a", "start_week": 0, "size": 10, "groups": {"T": 1}, "stage": "fixed_training",
                    "elapsed_weeks": 10},
                   {"name": "b", "start_week": 0, "size": n, "groups": {"T": 1}, "stage": "open_training",
                    "elapsed_weeks": 30}], horizon=400)
    t = simulate(w, 16)
    hired = t.events.to_pandas().query("event == 'hired'").merge(
        t.persons.to_pandas()[["person_id", "cohort"]], on="person_id")
    assert (hired[hired.cohort == "a"].time == 16).all()  # 26 - 10 weeks left
    # exponential durations are memoryless: 30 weeks in, the time left is still Exp(mean 20)
    left = hired[hired.cohort == "b"].time
    assert len(left) == n and left.mean() == pytest.approx(20, rel=Z / math.sqrt(n))


def _time_left(duration: dict, elapsed: float, n: int, seed: int) -> np.ndarray:
    """Weeks an initial caseload of ``n`` spends in a stage it has been in for ``elapsed`` weeks."""
    pw = pathway({"training": {"kind": "placement", "duration": duration, "next": "job"}, "job": JOB},
                 "training")
    w = world(pw, [{"name": "c", "start_week": 0, "size": n, "groups": {"T": 1}, "stage": "training",
                    "elapsed_weeks": elapsed}], horizon=1000)
    sp = simulate(w, seed).spells.to_pandas()
    stay = sp[sp.stage == "training"]
    assert len(stay) == n and (stay.start == 0).all()
    return (stay.end - stay.start).to_numpy()


def test_caseload_near_the_end_of_a_triangular_stage_finishes_the_rest():
    # triangular(2, 4, 8), 7.9 weeks in: the density beyond is proportional to 8 - x, so the time
    # left is triangular on [0, 0.1] with its peak at 0: mean 0.1/3, sd 0.1/sqrt(18). Only 1 in 2400
    # durations last that long, so drawing until one does often failed and left 0 weeks.
    n = 4000
    left = _time_left({"dist": "triangular", "low": 2, "mode": 4, "high": 8}, 7.9, n, 17)
    assert (left > 0).all() and (left <= 0.1 + 1e-12).all()
    assert abs(left.mean() - 0.1 / 3) < Z * (0.1 / math.sqrt(18)) / math.sqrt(n)


def test_caseload_far_in_the_tail_of_a_gamma_stage():
    # gamma(shape 2, scale 5), 200 weeks in (x = 200/5 = 40 scales; P(longer) = e^-40 * 41 ~ 2e-16).
    # E[D | D > e] = k*scale * S_{k+1}(e) / S_k(e) = 10 * (1 + 40 + 40^2/2) / (1 + 40) = 8410/41,
    # so the mean time left is 8410/41 - 200 = 210/41 = 5.122 weeks (sd about the scale, 5).
    n = 4000
    left = _time_left({"dist": "gamma", "shape": 2, "scale": 5}, 200, n, 18)
    assert (left > 0).all()
    assert abs(left.mean() - 210 / 41) < Z * 5.2 / math.sqrt(n)


def test_caseload_far_in_the_tail_of_a_lognormal_stage():
    # lognormal(median 10, sigma 0.5), 100 weeks in: z0 = ln(100/10)/0.5 = 4.61, P(longer) = 2e-6.
    # The truncated lognormal's moments: E[D^j | D > e] = median^j e^(j^2 s^2/2) Phi(j s - z0) / Phi(-z0).
    from scipy.stats import norm

    n, m, s, e = 4000, 10.0, 0.5, 100.0
    z0 = math.log(e / m) / s
    mean = m * math.exp(s**2 / 2) * norm.sf(z0 - s) / norm.sf(z0)
    second = m**2 * math.exp(2 * s**2) * norm.sf(z0 - 2 * s) / norm.sf(z0)
    left = _time_left({"dist": "lognormal", "median": m, "sigma": s}, e, n, 19)
    assert (left > 0).all()
    assert abs(left.mean() - (mean - e)) < Z * math.sqrt(second - mean**2) / math.sqrt(n)


@pytest.mark.parametrize("duration, elapsed, expected", [
    ({"dist": "uniform", "low": 2, "high": 6}, 5, 0.5),  # uniform on (5, 6): half a week left
    ({"dist": "empirical", "values": [3, 5, 9], "weights": [1, 1, 2]}, 4, 23 / 3 - 4),
])
def test_caseload_in_bounded_stages_left_time_has_the_conditional_mean(duration, elapsed, expected):
    # empirical: beyond 4 weeks only 5 (weight 1) and 9 (weight 2): mean (5 + 18)/3 = 7.667, 3.667 left
    n = 4000
    left = _time_left(duration, elapsed, n, 20)
    assert (left > 0).all()
    assert abs(left.mean() - expected) < Z * 2.5 / math.sqrt(n)
