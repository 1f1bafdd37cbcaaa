"""Benefits, subsidies and costs by their rules, as the spells record them (sim).

Each case is worked out from the rule it tests (sim/data/benefits.toml, sim/data/subsidies.toml):

* a benefit with a time limit ends ``max_weeks`` after referral and becomes one of its ``then``
  kinds, with those shares, on the same week in both arms (AAP: three years, folketrygdloven
  § 11-12);
* dagpenger after losing a job held long enough: 62.4 % of the job's annual wage at its fte, for
  104 weeks (folketrygdloven §§ 4-12, 4-15), then the benefit the person had;
* midlertidig lønnstilskudd: 40 % of the wage cost for 26 weeks, then 30 % for 26, then nothing
  (NAV), counted from the start of the subsidised job, also once it is kept after the pathway;
* a stage's per-cohort cost is charged once per kull, on the first of the kull to enter it;
* a stage with ``benefit = "tiltakspenger"`` pays tiltakspenger instead of the prior benefit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from effekt.sim import (
    Cohort,
    Counterfactual,
    LabourMarket,
    Pathway,
    TargetGroup,
    World,
    default_benefits,
    simulate,
)


def group(benefit: str, bau: float = 0.0, loss: float = 0.0, age: int = 30) -> TargetGroup:
    return TargetGroup(
        title="test", age={"low": age, "high": age}, norwegian={"B1": 1.0}, education={"primary": 1.0},
        work_capacity={"low": 1.0, "high": 1.0}, benefit={benefit: 1.0}, bau_entry_rate=bau,
        bau_job_loss_rate=loss, wage=400000, fte=0.8)


def pathway(stages: dict, entry: str) -> Pathway:
    return Pathway.model_validate({
        "pathway": {"name": "t", "title": "test", "source": "test", "entry": entry}, "stages": stages})


STRAIGHT_OUT = pathway({"out": {"kind": "exit", "outcome": "not_employed"}}, "out")


def world(pw: Pathway, tg: TargetGroup, n: int, horizon: float, mode: str = "parallel",
          cohorts: list[Cohort] | None = None) -> World:
    return World(pathway=pw, horizon_weeks=horizon, groups={"T": tg}, labour_market=LabourMarket(),
                 counterfactual=Counterfactual(mode=mode),
                 cohorts=cohorts or [Cohort(name="k", start_week=0, size=n, groups={"T": 1.0})])


def spells(t) -> pd.DataFrame:
    return t.spells.to_pandas()


def test_aap_ends_after_three_years_and_becomes_what_its_rules_say():
    aap = default_benefits()["aap"]
    n = 4000
    t = simulate(world(STRAIGHT_OUT, group("aap"), n, 260), 1)  # nobody ever finds work
    s = spells(t)
    for arm in ("treatment", "control"):
        mine = s[s.arm == arm].sort_values(["person_id", "start"])
        before = mine[mine.end <= aap.max_weeks]
        assert (before.benefit_kind == "aap").all()
        assert np.allclose(before.benefit_g, aap.g)
        after = mine[mine.start >= aap.max_weeks]
        assert after.person_id.nunique() == n and (after.start.groupby(after.person_id).min()
                                                  == aap.max_weeks).all()
        shares = after.groupby("person_id").benefit_kind.first().value_counts(normalize=True)
        for kind, share in aap.then.items():
            assert abs(shares.get(kind, 0.0) - share) < 4 * math.sqrt(share * (1 - share) / n), kind
            level = default_benefits()[kind].g
            assert np.allclose(after[after.benefit_kind == kind].benefit_g, level)
    # the same person gets the same benefit in both arms
    kinds = s[s.start >= aap.max_weeks].groupby(["arm", "person_id"]).benefit_kind.first().unstack(0)
    assert (kinds["treatment"] == kinds["control"]).all()


def test_dagpenger_follow_a_job_by_the_earnings_rules():
    # folketrygdloven kap. 4: qualify with >= 1.5 G earned in the last 52 weeks; basis = those
    # earnings (up to 6 G); 62.4 % of it a year; 104 weeks with >= 2 G earned, else 52
    dp = default_benefits()["dagpenger"]
    G = dp.nok_per_g
    wage, fte = 500000, 0.8  # 400 000 NOK a year at this fte
    job = {"kind": "employment", "employment": {"contract": "permanent", "fte": fte,
                                                "annual_wage": wage}}
    t = simulate(world(pathway({"job": job}, "job"), group("sosialhjelp", loss=1.0), 3000, 400,
                       mode="none"), 2)
    s = spells(t).sort_values(["person_id", "start"])
    ev = t.events.to_pandas()
    lost = ev[(ev.event == "left_job") & (ev.stage == "job")].set_index("person_id").time
    after = s[s.state == "not_employed"].groupby("person_id").first()
    after = after[after.index.isin(lost.index)]
    held = lost[after.index].to_numpy()  # the kept job started at week 0
    earned = wage * fte * np.minimum(held, 52) / 52  # earnings in the last 52 weeks
    qualified, short = after[earned >= 1.5 * G], after[earned < 1.5 * G]
    assert len(qualified) > 100 and len(short) > 100
    assert (qualified.benefit_kind == "dagpenger").all() and (short.benefit_kind == "sosialhjelp").all()
    q_earned = earned[earned >= 1.5 * G]
    assert np.allclose(qualified.benefit_g, 0.624 * np.minimum(q_earned, 6 * G) / G)
    weeks = np.where(q_earned >= 2 * G, 104, 52)
    stop = qualified.start.to_numpy() + weeks
    assert (qualified.end.to_numpy() <= stop + 1e-9).all()
    long_ = (q_earned >= 2 * G) & (q_earned < 6 * G)
    assert long_.any() and (~long_).any()
    # nobody finds work again (bau 0): after the period the prior benefit comes back, exactly then
    nxt = s[(s.state == "not_employed") & s.person_id.isin(qualified.index)].groupby("person_id").nth(1)
    nxt = nxt.set_index("person_id")
    stops = pd.Series(stop, index=qualified.index)
    inside = stops[stops < 400]
    assert np.allclose(nxt.loc[inside.index, "start"], inside)
    assert (nxt.loc[inside.index, "benefit_kind"] == "sosialhjelp").all()


def test_dagpenger_follow_a_project_position_too():
    # a two-year project position paid by the kommune (as Fjell's), then job search in the pathway
    dp = default_benefits()["dagpenger"]
    project = {"kind": "project_position", "duration": {"dist": "fixed", "value": 104},
               "funding": {"benefit": "stops", "wage_payer": "kommune"}, "next": "search",
               "employment": {"contract": "project", "fte": 1.0, "annual_wage": 505000}}
    search = {"kind": "job_search", "duration": {"dist": "fixed", "value": 20}, "next": "out"}
    pw = pathway({"project": project, "search": search,
                  "out": {"kind": "exit", "outcome": "not_employed"}}, "project")
    t = simulate(world(pw, group("introduksjonsstonad"), 20, 200, mode="none"), 8)
    s = spells(t)
    after = s[s.start >= 104]
    first = after.sort_values("start").groupby("person_id").first()
    assert (first.stage == "search").all() and (first.benefit_kind == "dagpenger").all()
    assert np.allclose(first.benefit_g, 0.624 * 505000 / dp.nok_per_g)
    assert (after[after.state == "not_employed"].benefit_kind == "dagpenger").all()  # 104 weeks: to 208


def test_a_subsidised_job_steps_down_and_ends_by_nav_rules():
    job = {"kind": "employment", "funding": {"wage_payer": "kommune", "subsidy": "midlertidig_lonnstilskudd"},
           "employment": {"contract": "temporary", "fte": 1.0, "annual_wage": 400000,
                          "job_loss_multiplier": 0}}
    pw = pathway({"course": {"kind": "course", "duration": {"dist": "fixed", "value": 10}, "next": "job"},
                  "job": job}, "course")
    t = simulate(world(pw, group("aap"), 50, 156, mode="none"), 3)
    s = spells(t)
    emp = s[s.state == "employed"].sort_values(["person_id", "start"])
    # the job starts at week 10: 40 % to week 36, 30 % to week 62, then nothing (payer gone)
    for _, one in emp.groupby("person_id"):
        rows = list(one.itertuples())
        assert rows[0].start == 10
        cuts = [(r.start, r.end, r.subsidy_share, r.subsidy_payer) for r in rows]
        shares = {round(a): (sh, payer) for a, _, sh, payer in cuts}
        assert shares[10] == (0.4, "nav")
        assert shares[36] == (0.3, "nav")
        assert shares[62][0] == 0.0 and pd.isna(shares[62][1])
        assert sum(b - a for a, b, _, _ in cuts) == pytest.approx(156 - 10)


def test_a_cohort_cost_is_charged_once_per_kull_on_its_first_entrant():
    pw = pathway({"course": {"kind": "course", "duration": {"dist": "fixed", "value": 4},
                             "costs": {"per_cohort": 300000, "payer": "kommune"}, "next": "out"},
                  "out": {"kind": "exit", "outcome": "not_employed"}}, "course")
    cohorts = [Cohort(name="k", start_week=0, size=12, groups={"T": 1.0}, repeats=3, repeat_every_weeks=26)]
    t = simulate(world(pw, group("aap"), 0, 156, cohorts=cohorts), 4)
    s = spells(t)
    charged = s[s.cost_cohort > 0]
    assert len(charged) == 3 and (charged.cost_cohort == 300000).all()
    assert (charged.arm == "treatment").all() and (charged.cost_payer == "kommune").all()
    assert sorted(charged.start) == [0, 26, 52]
    persons = t.persons.to_pandas().query("arm == 'treatment'").set_index("person_id")
    first_of_kull = persons.groupby("cohort").apply(lambda c: c.index.min())
    assert sorted(charged.person_id) == sorted(first_of_kull)


def test_a_measure_that_pays_tiltakspenger_replaces_the_prior_benefit():
    pw = pathway({"measure": {"kind": "practice", "duration": {"dist": "fixed", "value": 20},
                              "funding": {"benefit": "tiltakspenger"}, "next": "out"},
                  "out": {"kind": "exit", "outcome": "not_employed"}}, "measure")
    t = simulate(world(pw, group("sosialhjelp"), 20, 52, mode="none"), 5)
    s = spells(t)
    measure = s[s.stage == "measure"]
    assert (measure.benefit_kind == "tiltakspenger").all()
    assert np.allclose(measure.benefit_g, default_benefits()["tiltakspenger"].g)
    assert (s[s.state == "not_employed"].benefit_kind == "sosialhjelp").all()


def test_benefit_rules_refuse_what_they_cannot_mean():
    from effekt.sim.people import Benefit

    with pytest.raises(ValueError, match="max_weeks and then go together"):
        Benefit(title="x", g=1.0, under25=1.0, max_weeks=52)
    with pytest.raises(ValueError, match="sum to"):
        Benefit(title="x", g=1.0, under25=1.0, max_weeks=52, then={"sosialhjelp": 0.5})
    with pytest.raises(ValueError, match="unknown benefit kind"):
        Benefit(title="x", g=1.0, under25=1.0, max_weeks=52, then={"welfare": 1.0})
    with pytest.raises(ValueError, match="no wage-subsidy rule named 'lonnstilskudd'"):
        pathway({"job": {"kind": "employment", "funding": {"subsidy": "lonnstilskudd"},
                         "employment": {"contract": "temporary", "fte": 1.0, "annual_wage": 1}}}, "job")


def test_the_people_drawn_do_not_depend_on_the_order_shares_are_listed_in():
    # a results manifest stores its scenario with sorted keys; rebuilding it must give the same people
    a = TargetGroup(title="t", age={"low": 20, "high": 50}, norwegian={"native": 0.5, "B1": 0.5},
                    education={"upper_secondary": 0.3, "primary": 0.7}, work_capacity={"low": 0.5, "high": 1},
                    benefit={"sosialhjelp": 0.4, "aap": 0.6}, bau_entry_rate=0.3, bau_job_loss_rate=0.3,
                    wage=400000, fte=0.8)
    b = a.model_copy(update={"norwegian": {"B1": 0.5, "native": 0.5},
                             "education": {"primary": 0.7, "upper_secondary": 0.3},
                             "benefit": {"aap": 0.6, "sosialhjelp": 0.4}})
    c1 = [Cohort(name="k", start_week=0, size=200, groups={"T": 0.5, "U": 0.5})]
    c2 = [Cohort(name="k", start_week=0, size=200, groups={"U": 0.5, "T": 0.5})]
    u = a.model_copy(update={"bau_entry_rate": 0.9})
    u_listed_otherwise = b.model_copy(update={"bau_entry_rate": 0.9})

    def w(groups, cohorts):
        return World(pathway=STRAIGHT_OUT, horizon_weeks=52, groups=groups, cohorts=cohorts,
                     labour_market=LabourMarket())

    w1 = w({"T": a, "U": u}, c1)
    w2 = w({"U": u_listed_otherwise, "T": b}, c2)
    p1, p2 = simulate(w1, 6).persons.to_pandas(), simulate(w2, 6).persons.to_pandas()
    assert p1.equals(p2)


def test_everyone_leaves_the_labour_market_at_the_retirement_age():
    # a 60-year-old referred at week 0 retires 7 years later, in both arms; nothing is paid after
    tg = group("aap", bau=1.0, loss=0.5, age=60)
    t = simulate(world(STRAIGHT_OUT, tg, 200, 520), 7)
    s = spells(t)
    at = 7 * 52.0
    assert (s[s.state != "retired"].end <= at).all()
    retired = s[s.state == "retired"]
    assert len(retired) == 400 and np.allclose(retired.start, at) and (retired.benefit_g == 0).all()
    ev = t.events.to_pandas()
    assert (ev[ev.event != "retired"].time < at).all() and (ev.event == "retired").sum() == 400
