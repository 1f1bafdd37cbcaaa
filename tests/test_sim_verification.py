"""Verification of the simulation engine against answers known independently of it.

* a deterministic pathway (fixed durations, exit probabilities 0 or 1) gives exact counts and times;
* a pathway of constant-probability branches (with a loop) ends in each absorbing stage with the
  probabilities of the absorbing Markov chain, B = (I - Q)^-1 R, computed here with numpy;
* a capacity-limited stage fed by Poisson referrals with exponential service times has the mean
  waiting time of the M/M/c queue (Erlang C, written out below) and the mean number of busy slots
  equals the offered load lambda/mu;
* Little's law holds on the capacity table;
* the same seed gives identical tables, and people are conserved.

The pathways are written here as dicts, so nothing depends on the built-in data files.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pytest

from effekt.sim import Pathway, World, simulate
from effekt.sim.labour_market import LabourMarket
from effekt.sim.people import Cohort, TargetGroup
from effekt.sim.world import Counterfactual

Z = 3.5  # half-width of the acceptance band in standard errors (seeded, so not flaky; still strict)


def group(bau: float = 0.0, loss: float = 0.0) -> TargetGroup:
    """A target group with the given yearly business-as-usual hazards (finding work, losing it;
    both arms, the programme arm once a person has left the pathway) and otherwise fixed
    attributes."""
    return TargetGroup(
        title="test group", age={"low": 30, "high": 30}, norwegian={"B1": 1.0},
        education={"primary": 1.0}, work_capacity={"low": 1.0, "high": 1.0}, benefit={"aap": 1.0},
        bau_entry_rate=bau, bau_job_loss_rate=loss, wage=400000, fte=1.0,
    )


def pathway(stages: dict, entry: str, capacity: dict | None = None) -> Pathway:
    return Pathway.model_validate({
        "pathway": {"name": "t", "title": "test", "source": "test", "entry": entry},
        "stages": stages,
        "capacity": capacity or {},
    })


def world(pw: Pathway, cohorts: list[dict], horizon: float, mode: str = "none", **groups) -> World:
    return World(
        pathway=pw, cohorts=[Cohort(**c) for c in cohorts], horizon_weeks=horizon,
        counterfactual=Counterfactual(mode=mode), groups=groups or {"T": group()},
        labour_market=LabourMarket(),
    )


def fixed(w: float) -> dict:
    return {"dist": "fixed", "value": w}


JOB = {"kind": "employment", "employment": {"contract": "permanent", "fte": 1.0, "annual_wage": 400000}}
OUT = {"kind": "exit", "outcome": "not_employed"}


# -- deterministic pathways ---------------------------------------------------------------------


def deterministic_pathway(p_reject: float) -> Pathway:
    return pathway({
        "screen": {"kind": "screening", "duration": fixed(2), "exits": [{"to": "rejected", "p": p_reject}],
                   "next": "course"},
        "course": {"kind": "course", "duration": fixed(4), "exits": [{"to": "dropped", "p": 0.0}],
                   "next": "training"},
        "training": {"kind": "placement", "duration": fixed(10), "capacity": "slots", "next": "exam"},
        "exam": {"kind": "exam", "duration": fixed(1), "exits": [{"to": "job", "p": 1.0}]},
        "job": JOB, "rejected": OUT, "dropped": OUT,
    }, "screen", {"slots": {"slots": 2}})


def test_deterministic_pathway_gives_exact_times_and_counts():
    # 5 people, 2 training slots of 10 weeks: they start training at weeks 6, 6, 16, 16, 26
    w = world(deterministic_pathway(0.0), [{"name": "k", "start_week": 0, "size": 5, "groups": {"T": 1}}],
              horizon=100)
    t = simulate(w, 1)
    ev = t.events.to_pandas()
    hired = ev[ev.event == "hired"].sort_values("person_id")
    assert list(hired.stage) == ["job"] * 5
    assert sorted(hired.time) == [17, 17, 27, 27, 37]
    cap = t.capacity.to_pandas().sort_values(["granted", "person_id"])
    assert list(cap.requested) == [6] * 5
    assert list(cap.granted) == [6, 6, 16, 16, 26]
    assert list(cap.released) == [16, 16, 26, 26, 36]
    assert (ev.event == "queued").sum() == 3
    sp = t.spells.to_pandas()
    waits = sp[sp.state == "waiting"].sort_values("end")
    assert list(waits.end - waits.start) == [10, 10, 20]
    # everyone ends in the job (no job loss) until the horizon
    last = sp.sort_values("start").groupby("person_id").tail(1)
    assert (last.state == "employed").all() and (last.end == 100).all()
    assert not (ev.event == "exited").any()


def test_deterministic_rejection_sends_everyone_out_at_week_two():
    w = world(deterministic_pathway(1.0), [{"name": "k", "start_week": 3, "size": 7, "groups": {"T": 1}}],
              horizon=50)
    t = simulate(w, 2)
    ev = t.events.to_pandas()
    ex = ev[ev.event == "exited"]
    assert len(ex) == 7 and (ex.stage == "rejected").all() and (ex.time == 5).all()
    sp = t.spells.to_pandas()
    # programme [3, 5], then out of work on the benefit to the horizon (re-entry hazard 0)
    assert sorted(zip(sp.state, sp.start, sp.end, strict=True)) == (
        [("not_employed", 5.0, 50.0)] * 7 + [("programme", 3.0, 5.0)] * 7
    )
    assert (sp.benefit_kind == "aap").all()


# -- absorbing Markov chain ---------------------------------------------------------------------

# transient stages a, b, c; absorbing x1, x2 (exits) and j1, j2 (terminal jobs)
CHAIN = {
    "a": {"kind": "course", "duration": fixed(1),
          "exits": [{"to": "b", "p": 0.3}, {"to": "x1", "p": 0.2}], "next": "c"},
    "b": {"kind": "practice", "duration": fixed(1),
          "exits": [{"to": "a", "p": 0.25}, {"to": "x2", "p": 0.4}], "next": "j1"},
    "c": {"kind": "exam", "duration": fixed(1),
          "exits": [{"to": "c", "p": 0.35}, {"to": "x1", "p": 0.15}], "next": "j2"},
    "x1": OUT, "x2": OUT, "j1": JOB, "j2": JOB,
}


def absorption_probabilities() -> dict[str, float]:
    """From stage a: B = (I - Q)^-1 R with Q, R read off the chain above by hand."""
    #              a     b     c
    Q = np.array([[0.0, 0.3, 0.5],     # a: b 0.3, c the rest (1 - 0.3 - 0.2)
                  [0.25, 0.0, 0.0],    # b: back to a 0.25
                  [0.0, 0.0, 0.35]])   # c: retake 0.35
    #              x1    x2    j1    j2
    R = np.array([[0.2, 0.0, 0.0, 0.0],
                  [0.0, 0.4, 0.35, 0.0],
                  [0.15, 0.0, 0.0, 0.5]])
    N = np.linalg.inv(np.eye(3) - Q)
    B = N @ R
    assert np.allclose(B.sum(axis=1), 1)
    return dict(zip(["x1", "x2", "j1", "j2"], B[0], strict=True)) | {"visits": N[0].sum()}


def test_constant_branches_match_absorbing_markov_chain():
    n = 6000
    w = world(pathway(CHAIN, "a"), [{"name": "k", "start_week": 0, "size": n, "groups": {"T": 1}}],
              horizon=1000)
    ev = simulate(w, 3).events.to_pandas()
    ends = pd.concat([ev[ev.event == "exited"], ev[(ev.event == "hired") & ev.stage.isin(["j1", "j2"])]])
    assert ends.person_id.is_unique and len(ends) == n  # everyone absorbed exactly once
    expected = absorption_probabilities()
    for stage in ("x1", "x2", "j1", "j2"):
        p = expected[stage]
        got = (ends.stage == stage).mean()
        assert abs(got - p) < Z * math.sqrt(p * (1 - p) / n), (stage, got, p)
    # expected number of transient stage visits per person: row sum of the fundamental matrix
    visits = (ev.event == "entered").sum() / n
    assert visits == pytest.approx(expected["visits"], rel=0.03)


# -- M/M/c queue: Erlang C ----------------------------------------------------------------------


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean waiting time in queue of M/M/c (Erlang C formula)."""
    a = lam / mu
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


def mmc_world(lam: float, mean_service: float, c: int, n: int) -> World:
    pw = pathway({
        "placement": {"kind": "placement", "capacity": "slots", "next": "job",
                      "duration": {"dist": "exponential", "mean": mean_service}},
        "job": JOB,
    }, "placement", {"slots": {"slots": c}})
    return world(pw, [{"name": "referrals", "start_week": 0, "size": n, "groups": {"T": 1},
                       "arrival": "poisson", "rate_per_week": lam}], horizon=n / lam + 200)


def time_average_in(starts: np.ndarray, ends: np.ndarray, t0: float, t1: float) -> float:
    """Time-average number of intervals [start, end) covering a point of [t0, t1]: integrate the
    step function between consecutive change points."""
    times = np.concatenate([starts, ends, [t0, t1]])
    times = np.unique(times[(times >= t0) & (times <= t1)])
    mids = (times[:-1] + times[1:]) / 2
    counts = np.searchsorted(np.sort(starts), mids, "right") - np.searchsorted(np.sort(ends), mids, "right")
    return float((counts * np.diff(times)).sum() / (t1 - t0))


def test_capacity_limited_stage_matches_erlang_c_and_littles_law():
    lam, mean_service, c, n, warm = 1.75, 1.2, 3, 5000, 300
    expected_wait = erlang_c_wait(lam, 1 / mean_service, c)  # rho = 0.7, Wq = 0.656 weeks
    rep_waits, busy = [], []
    for rep in range(8):
        t = simulate(mmc_world(lam, mean_service, c, n), rep)
        cap = t.capacity.to_pandas().sort_values("requested")
        assert len(cap) == n and cap.granted.notna().all()
        assert (cap.granted >= cap.requested).all() and (cap.released >= cap.granted).all()
        # spells say the same waits as the capacity table
        sp = t.spells.to_pandas()
        waited = sp[sp.state == "waiting"]
        assert waited["end"].sub(waited["start"]).sum() == pytest.approx(
            (cap.granted - cap.requested).sum())
        rep_waits.append((cap.granted - cap.requested).iloc[warm:].mean())
        t0, t1 = cap.requested.iloc[warm], cap.requested.iloc[-1]
        busy.append(time_average_in(cap.granted.to_numpy(), cap.released.to_numpy(), t0, t1))
        # Little's law on the whole run: the system starts and ends empty, so the time-average
        # number waiting equals arrival rate x mean wait over [0, last release]
        end = cap.released.max()
        lq = time_average_in(cap.requested.to_numpy(), cap.granted.to_numpy(), 0.0, end)
        assert lq == pytest.approx(n / end * (cap.granted - cap.requested).mean(), rel=1e-9)
        ls = time_average_in(cap.requested.to_numpy(), cap.released.to_numpy(), 0.0, end)
        assert ls == pytest.approx(n / end * (cap.released - cap.requested).mean(), rel=1e-9)
    waits = np.array(rep_waits)
    se = waits.std(ddof=1) / math.sqrt(len(waits))
    assert abs(waits.mean() - expected_wait) < Z * se + 0.02 * expected_wait, (waits.mean(), expected_wait)
    # mean number of busy slots = offered load lambda / mu
    assert np.mean(busy) == pytest.approx(lam * mean_service, rel=0.04)
    assert max(busy) <= c


def test_referral_stream_is_poisson():
    lam, n = 1.5, 4000
    t = simulate(mmc_world(lam, 0.1, 50, n), 11)
    entry = np.sort(t.persons.to_pandas().entry_week.to_numpy())
    gaps = np.diff(np.concatenate([[0.0], entry]))
    assert gaps.mean() == pytest.approx(1 / lam, rel=Z / math.sqrt(n))
    # exponential gaps: coefficient of variation 1
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, rel=0.06)


# -- reproducibility and conservation -----------------------------------------------------------


def busy_world(mode: str) -> World:
    stages = dict(CHAIN)
    stages["a"] = {**CHAIN["a"], "capacity": "seats", "duration": {"dist": "gamma", "shape": 2, "scale": 3}}
    pw = pathway(stages, "a", {"seats": {"slots": 4}})
    cohorts = [
        {"name": "kull", "start_week": 0, "size": 12, "groups": {"T": 0.5, "U": 0.5}, "repeats": 3,
         "repeat_every_weeks": 26},
        {"name": "referrals", "start_week": 5, "size": 30, "groups": {"T": 1}, "arrival": "poisson",
         "rate_per_week": 0.5},
        {"name": "caseload", "start_week": 0, "size": 4, "groups": {"U": 1}, "stage": "c"},
    ]
    return world(pw, cohorts, horizon=120, mode=mode, T=group(0.4, 0.2), U=group(0.5, 0.3))


@pytest.mark.parametrize("mode", ["parallel", "rct", "none"])
def test_same_seed_gives_identical_tables(mode):
    w = busy_world(mode)
    a, b, c = simulate(w, 42), simulate(w, 42), simulate(w, 43)
    for (name, ta), (_, tb) in zip(a.items(), b.items(), strict=True):
        assert ta.equals(tb), name
    assert not a.spells.equals(c.spells)


@pytest.mark.parametrize("mode", ["parallel", "rct", "none"])
def test_people_are_conserved(mode):
    w = busy_world(mode)
    for seed in range(4):
        t = simulate(w, seed)
        persons, spells, ev = (t.persons.to_pandas(), t.spells.to_pandas(), t.events.to_pandas())
        n = persons.person_id.nunique()
        assert n <= w.size and (persons.entry_week < w.horizon_weeks).all()
        per_arm = persons.groupby("arm").size()
        if mode == "parallel":
            assert (per_arm == n).all() and len(per_arm) == 2
        else:
            assert per_arm.sum() == n
        assert (ev[ev.event == "referred"].groupby(["arm", "person_id"]).size() == 1).all()
        assert len(ev[ev.event == "referred"]) == len(persons)
        # each person's spells tile [entry, horizon] without gap or overlap
        entry = persons.set_index(["arm", "person_id"]).entry_week
        s = spells.sort_values(["arm", "person_id", "start", "end"])
        first = s.groupby(["arm", "person_id"]).head(1).set_index(["arm", "person_id"])
        last = s.groupby(["arm", "person_id"]).tail(1)
        assert len(first) == len(persons)
        np.testing.assert_allclose(first.start, entry.loc[first.index])
        np.testing.assert_allclose(last.end, w.horizon_weeks)
        same = s.person_id.to_numpy()[1:] == s.person_id.to_numpy()[:-1]
        same &= s.arm.to_numpy()[1:] == s.arm.to_numpy()[:-1]
        np.testing.assert_allclose(s.start.to_numpy()[1:][same], s.end.to_numpy()[:-1][same])
        # nobody is absorbed twice in the treatment arm
        absorbed = ev[(ev.arm == "treatment") & ((ev.event == "exited") |
                                                  ((ev.event == "hired") & ev.stage.isin(["j1", "j2"])))]
        assert absorbed.person_id.is_unique


def test_control_arm_and_people_do_not_depend_on_the_pathway():
    """Common random numbers: the same seed gives the same people and the same business-as-usual
    arm whatever the programme looks like, so differences between designs are not noise."""
    base = busy_world("parallel")
    tighter = base.pathway.model_copy(update={"capacity": {"seats": base.pathway.capacity["seats"]
                                                           .model_copy(update={"slots": 1})}})
    other = base.model_copy(update={"pathway": tighter})
    a, b = simulate(base, 5), simulate(other, 5)
    assert a.persons.equals(b.persons)
    control = [t.spells.filter(pc.equal(t.spells["arm"], "control")) for t in (a, b)]
    assert control[0].equals(control[1])
    assert not a.spells.equals(b.spells)  # the programme arm did change


def erlang_c_probability(lam: float, mu: float, c: int) -> float:
    """Probability that an arrival has to wait in M/M/c."""
    a = lam / mu
    top = a**c / math.factorial(c) / (1 - a / c)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


@pytest.mark.slow
@pytest.mark.parametrize("c, lam, mean_service", [(1, 0.6, 1.0), (2, 1.5, 1.0), (5, 4.0, 1.0)])
def test_mmc_waits_and_probability_of_waiting_for_several_c(c, lam, mean_service):
    n, warm = 8000, 500
    waits, p_wait = [], []
    for rep in range(10):
        cap = simulate(mmc_world(lam, mean_service, c, n), 100 + rep).capacity.to_pandas()
        w = (cap.sort_values("requested").granted - cap.sort_values("requested").requested).iloc[warm:]
        waits.append(w.mean())
        p_wait.append((w > 0).mean())
    se = np.std(waits, ddof=1) / math.sqrt(len(waits))
    expected = erlang_c_wait(lam, 1 / mean_service, c)
    assert abs(np.mean(waits) - expected) < Z * se + 0.02 * expected
    se_p = np.std(p_wait, ddof=1) / math.sqrt(len(p_wait))
    assert abs(np.mean(p_wait) - erlang_c_probability(lam, 1 / mean_service, c)) < Z * se_p + 0.01


def _load_benchmark():
    """The hand-written SimPy model of the Kongsberg flow lives in the engine benchmark."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "benchmarks" / "bench_engine.py"
    spec = importlib.util.spec_from_file_location("bench_engine", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_framework_agrees_with_an_independent_hand_written_simpy_model():
    """Kongsberg through the engine and through the benchmark's plain SimPy model (written
    independently, stage by stage): the same shares reach each end and wait for a slot."""
    bench = _load_benchmark()
    world = bench.make_world(14, 52, 156)
    # the hand-written model's business as usual is the labour market only: no business-as-usual
    # pathway (the qualification programme, AAP follow-up ...) and no spread of employability
    plain = {g: tg.model_copy(update={"bau_pathway": None, "employability_sd": 0.0})
             for g, tg in world.groups.items()}
    world = world.model_copy(update={"groups": plain})
    bench.check_flow(world)
    reps = 150
    fw = {"permanent": 0, "waited": 0, "exited": 0, "in_work_end": 0}
    hw = dict.fromkeys(fw, 0)
    for r in range(reps):
        t = simulate(world, r)
        ev, sp = t.events.to_pandas(), t.spells.to_pandas()
        fw["permanent"] += ((ev.event == "hired") & (ev.stage == "permanent_job")).sum()
        fw["waited"] += (sp.state == "waiting").sum()
        fw["exited"] += (ev.event == "exited").sum()
        fw["in_work_end"] += ((sp.state == "employed") & (sp.end == world.horizon_weeks)).sum()
        _, events, spells, _ = bench.handwritten(world, 10_000 + r)
        hw["permanent"] += sum(1 for e in events if e[2] == "permanent_job" and e[3] == "hired")
        hw["waited"] += sum(1 for s in spells if s[1] == "waiting")
        hw["exited"] += sum(1 for e in events if e[3] == "exited")
        hw["in_work_end"] += sum(1 for s in spells if s[1] == "employed" and s[5] == world.horizon_weeks)
    n = reps * world.size
    for key in fw:
        p1, p2 = fw[key] / n, hw[key] / n
        se = math.sqrt(p1 * (1 - p1) / n + p2 * (1 - p2) / n)
        assert abs(p1 - p2) < Z * se, (key, p1, p2)


# -- random pathways: conservation whatever the graph ------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

KINDS = ["course", "practice", "placement", "language", "exam", "job_search"]


@st.composite
def random_worlds(draw) -> World:
    """A random valid pathway: a chain of stages, each with random exits forward, to the end
    stages, or back (a loop with a limit), random durations, random capacity needs and random
    stated effects after leaving."""
    n = draw(st.integers(1, 5))
    names = [f"s{i}" for i in range(n)]
    ends = ["job", "temp", "out", "moved"]
    stages: dict = {"job": JOB, "out": OUT, "moved": {"kind": "exit", "outcome": "moved"},
                    "temp": {"kind": "employment", "duration": fixed(draw(st.integers(1, 30))),
                             "next": "job", "exits": [{"to": "out", "p": 0.3}],
                             "employment": {"contract": "temporary", "fte": 0.5, "annual_wage": 300000}}}
    for i, name in enumerate(names):
        dur = draw(st.sampled_from([
            fixed(draw(st.integers(0, 20))),
            {"dist": "exponential", "mean": draw(st.floats(0.5, 20))},
            {"dist": "uniform", "low": 0, "high": draw(st.floats(1, 20))},
            {"dist": "triangular", "low": 1, "mode": 2, "high": draw(st.floats(3, 30))},
        ]))
        targets = names[i + 1:] + ends
        k = draw(st.integers(0, 3))
        ps = draw(st.lists(st.integers(0, 10), min_size=k, max_size=k))
        total = sum(ps)
        scale = draw(st.integers(1, 10)) / 10 / total if total > 0 else 0
        exits = [{"to": draw(st.sampled_from(targets)), "p": min(1.0, p * scale)} for p in ps]
        if i > 0 and draw(st.booleans()):  # a loop back (a retake), limited
            exits.append({"to": names[draw(st.integers(0, i))], "p": 0.0, "limit": draw(st.integers(0, 2)),
                          "otherwise": "out"})
            exits[-1]["p"] = max(0.0, min(0.5, 1 - sum(e["p"] for e in exits[:-1])))
        stage = {"kind": draw(st.sampled_from(KINDS)), "duration": dur, "exits": exits,
                 "next": names[i + 1] if i + 1 < n else draw(st.sampled_from(["job", "temp", "out"]))}
        if draw(st.booleans()):
            stage["capacity"] = draw(st.sampled_from([["a"], ["b"], ["a", "b"]]))
        stages[name] = stage
    # what the pathway states after leaving through its ends (entry and job-loss multipliers)
    for end in ("job", "out"):
        if draw(st.booleans()):
            stages[end] = {**stages[end], "after": {
                "entry_rate_multiplier": draw(st.floats(0.1, 5)),
                "job_loss_multiplier": draw(st.floats(0.1, 5))}}
    capacity = {"a": {"slots": draw(st.integers(1, 4))}, "b": {"slots": draw(st.integers(1, 3))}}
    # make every end reachable by a zero-probability exit from the first stage (validation wants it)
    stages[names[0]]["exits"] += [{"to": e, "p": 0.0} for e in ends]
    pw = pathway(stages, names[0], capacity)
    cohorts = [{"name": "k", "start_week": draw(st.integers(0, 20)), "size": draw(st.integers(1, 15)),
                "groups": {"T": 0.5, "U": 0.5}},
               {"name": "r", "start_week": 0, "size": draw(st.integers(1, 15)), "groups": {"T": 1},
                "arrival": "poisson", "rate_per_week": draw(st.floats(0.1, 2))}]
    lm = LabourMarket(temporary_share=draw(st.floats(0, 1)), conversion_rate=draw(st.floats(0, 2)),
                      temporary_loss_multiplier=draw(st.floats(0.5, 3)))
    return World(pathway=pw, cohorts=[Cohort(**c) for c in cohorts], horizon_weeks=draw(st.integers(30, 150)),
                 counterfactual=Counterfactual(mode=draw(st.sampled_from(["parallel", "rct", "none"]))),
                 groups={"T": group(0.5, 0.4), "U": group(1.0, 0.0)}, labour_market=lm)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(w=random_worlds(), seed=st.integers(0, 2**32 - 1))
def test_random_pathways_conserve_people_time_and_capacity(w, seed):
    t = simulate(w, seed)
    persons, spells, ev, cap = (t.persons.to_pandas(), t.spells.to_pandas(), t.events.to_pandas(),
                                t.capacity.to_pandas())
    H = w.horizon_weeks
    # every person's spells tile [entry, horizon]
    s = spells.sort_values(["arm", "person_id", "start", "end"], kind="stable")
    g = s.groupby(["arm", "person_id"])
    first, last = g.start.min(), g.end.max()
    entry = persons.set_index(["arm", "person_id"]).entry_week
    assert len(first) == len(persons)
    np.testing.assert_allclose(first.loc[entry.index], entry)
    np.testing.assert_allclose(last, H)
    total = (s.end - s.start).groupby([s.arm, s.person_id]).sum()
    np.testing.assert_allclose(total, H - entry.loc[total.index])
    assert (s.end >= s.start).all() and (s.start >= 0).all()
    # capacity: never more in use than slots, granted after requested
    for r, slots in (("a", w.pathway.capacity["a"].slots), ("b", w.pathway.capacity["b"].slots)):
        c = cap[(cap.resource == r) & cap.granted.notna() & cap.released.notna()]
        assert (c.granted >= c.requested - 1e-9).all()
        starts, ends = c.granted.to_numpy(), c.released.to_numpy()
        for x in starts:
            assert ((starts <= x) & (ends > x)).sum() <= slots
    # the treatment arm never has more than one absorbing event per person
    done = ev[(ev.arm == "treatment") & (ev.event == "exited")]
    assert done.person_id.is_unique
