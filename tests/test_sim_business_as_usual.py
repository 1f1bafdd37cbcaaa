"""Business as usual as a pathway, latent employability and the matched comparison group (sim).

The engine's rules (sim/engine.py, module docstring) checked against what they must give:

* the control arm walks the group's business-as-usual pathway from referral; its share in work is
  then a closed form (a fixed 104-week programme, a share straight into a job that is never lost,
  the rest into the two-state labour market);
* a treated person who leaves the programme resumes business as usual on the clock since referral:
  leaving on the spot, or while business as usual is still in its programme, gives exactly the
  control arm's process; leaving after it ended puts the person out of work (no job handed over
  from time they spent in the programme);
* a person's latent employability multiplies the business-as-usual entry hazard by a lognormal of
  mean 1: the share in work is the closed form averaged over z (Gauss-Hermite quadrature);
* the matched comparison group has one person per participant, the same observables, its own
  employability, and changes no draw of the other arms.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from effekt.sim import (
    WEEKS_PER_YEAR,
    Cohort,
    Counterfactual,
    LabourMarket,
    Pathway,
    SpecError,
    World,
    default_target_groups,
    load_business_as_usual,
    replication_seed,
    simulate,
)

NO_TEMPS = LabourMarket()  # no temporary jobs: the labour market is a two-state chain
INTRO_WEEKS = 104.0
TO_JOB = 0.3


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


INTRO = """
[pathway]
name = "intro_test"
title = "A fixed two-year programme"
source = "test"
entry = "intro"

[stages.intro]
kind = "language"
duration = {{ dist = "fixed", value = {weeks} }}
exits = [{{ to = "job", p = {to_job} }}]
next = "left"
costs = {{ per_week = 1000, payer = "kommune" }}

[stages.job]
kind = "employment"
employment = {{ contract = "permanent", fte = 1.0, annual_wage = 400000, job_loss_multiplier = 0 }}

[stages.left]
kind = "exit"
outcome = "not_employed"
"""


@pytest.fixture
def intro(tmp_path: Path) -> str:
    return _write(tmp_path / "intro.toml", INTRO.format(weeks=INTRO_WEEKS, to_job=TO_JOB))


def _pathway(stages: dict, entry: str) -> Pathway:
    return Pathway.model_validate({
        "pathway": {"name": "p", "title": "p", "source": "test", "entry": entry}, "stages": stages})


def holding(weeks: float) -> Pathway:
    """A course of ``weeks`` everyone completes, then an exit with nothing stated."""
    if weeks == 0:
        return _pathway({"interview": {"kind": "screening", "duration": {"dist": "fixed", "value": 0},
                                       "exits": [{"to": "out", "p": 1.0}]},
                         "out": {"kind": "exit", "outcome": "not_employed"}}, "interview")
    return _pathway({"classes": {"kind": "course", "duration": {"dist": "fixed", "value": weeks},
                                 "next": "out"},
                     "out": {"kind": "exit", "outcome": "not_employed"}}, "classes")


def world(pathway: Pathway, bau: str | dict | None, *, people: int = 4000, sd: float = 0.0,
          horizon: float = 260.0, counterfactual: Counterfactual | None = None) -> World:
    groups = dict(default_target_groups())
    groups["C"] = groups["C"].model_copy(update={"bau_pathway": bau, "employability_sd": sd})
    return World(pathway=pathway, horizon_weeks=horizon, labour_market=NO_TEMPS, groups=groups,
                 cohorts=[Cohort(name="k", start_week=0, size=people, groups={"C": 1.0})],
                 counterfactual=counterfactual or Counterfactual())


def employed_at(tables, arm: str, week: float) -> float:
    """Share of the arm's people employed at ``week``."""
    s = tables.spells.to_pandas()
    n = int((tables.persons.column("arm").to_numpy(zero_copy_only=False) == arm).sum())
    on = s[(s.arm == arm) & (s.state == "employed") & (s.start <= week) & (s.end > week)]
    return on.person_id.nunique() / n


def two_state(lam: float, mu: float, weeks: float) -> float:
    """P(employed) ``weeks`` after starting out of work: lam/(lam+mu) (1 - exp(-(lam+mu) t))."""
    if weeks <= 0:
        return 0.0
    t = weeks / WEEKS_PER_YEAR
    return lam / (lam + mu) * (1 - math.exp(-(lam + mu) * t))


def se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 1e-4) / n)


def test_the_control_arm_walks_business_as_usual_from_referral(intro):
    g = default_target_groups()["C"]
    t = simulate(world(holding(0), intro), 11)
    n = 4000
    assert employed_at(t, "control", INTRO_WEEKS - 1) == 0.0  # everyone is still in the programme
    for after in (1.0, 26.0, 104.0):
        want = TO_JOB + (1 - TO_JOB) * two_state(g.bau_entry_rate, g.bau_job_loss_rate, after)
        got = employed_at(t, "control", INTRO_WEEKS + after)
        assert abs(got - want) < 4 * se(want, n), (after, got, want)
    s = t.spells.to_pandas()
    intro_spells = s[(s.arm == "control") & (s.stage == "intro")]
    assert len(intro_spells) == n and (intro_spells.cost_per_week == 1000).all()
    assert (intro_spells.end - intro_spells.start == INTRO_WEEKS).all()


@pytest.mark.parametrize("held", [0.0, 26.0, 90.0])
def test_leaving_while_business_as_usual_runs_is_the_control_arm_process(intro, held):
    # the programme holds people `held` weeks, then they rejoin the programme they would have been
    # in, for the rest of its 104 weeks, with the same chance of a job at its end: no effect at all
    # after it (not even a lock-in: the programme took the place of business as usual's own)
    t = simulate(world(holding(held), intro), 12)
    n = 4000
    for week in (INTRO_WEEKS + 1, INTRO_WEEKS + 30, 200.0):
        a, b = employed_at(t, "treatment", week), employed_at(t, "control", week)
        assert abs(a - b) < 4 * math.sqrt(2) * se(b, n), (held, week, a, b)
    s = t.spells.to_pandas()
    rejoined = s[(s.arm == "treatment") & (s.stage == "intro")]
    assert len(rejoined) == n
    assert np.allclose(rejoined.start, held) and np.allclose(rejoined.end, INTRO_WEEKS)


def test_leaving_after_business_as_usual_ended_starts_out_of_work(intro):
    # held 130 weeks, past the programme's end at 104: the job 30 % would have had at week 104 is
    # not handed over; everyone starts out of work at week 130
    g = default_target_groups()["C"]
    t = simulate(world(holding(130), intro), 13)
    n = 4000
    s = t.spells.to_pandas()
    assert not ((s.arm == "treatment") & (s.stage.isin(["intro", "job"]))).any()
    for after in (0.5, 26.0):
        want = two_state(g.bau_entry_rate, g.bau_job_loss_rate, after)
        got = employed_at(t, "treatment", 130 + after)
        assert abs(got - want) < 4 * se(want, n) + 1e-9, (after, got, want)


def test_a_business_as_usual_pathway_by_prior_benefit(intro):
    # only people on kvalifiseringsstønad walk it; the others go straight to the labour market
    t = simulate(world(holding(0), {"kvalifiseringsstonad": intro}, people=600), 14)
    p = t.persons.to_pandas()
    s = t.spells.to_pandas()
    walked = set(s[(s.arm == "control") & (s.stage == "intro")].person_id)
    on_kvp = set(p[(p.arm == "control") & (p.benefit_kind == "kvalifiseringsstonad")].person_id)
    assert walked == on_kvp and 0 < len(walked) < 600


def test_employability_spreads_business_as_usual_chances_with_the_same_mean_hazard():
    sd, n = 1.2, 6000
    g = default_target_groups()["C"]
    lam, mu = g.bau_entry_rate, g.bau_job_loss_rate
    t = simulate(world(holding(0), None, people=n, sd=sd), 15)
    z = t.persons.to_pandas().query("arm == 'control'").employability.to_numpy()
    assert abs(z.mean()) < 4 / math.sqrt(n) and abs(z.std() - 1) < 0.05
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)
    weights = weights / weights.sum()
    for week in (26.0, 104.0):
        want = float(sum(w * two_state(lam * math.exp(sd * x - sd * sd / 2), mu, week)
                         for x, w in zip(nodes, weights, strict=True)))
        got = employed_at(t, "control", week)
        assert abs(got - want) < 4 * se(want, n), (week, got, want)
    assert abs(want - two_state(lam, mu, week)) > 4 * se(want, n)  # the spread is visible
    # both arms are the same person: the same z
    p = t.persons.to_pandas()
    assert (p[p.arm == "treatment"].employability.to_numpy() == z).all()


CREAM = {
    "interview": {"kind": "screening", "duration": {"dist": "fixed", "value": 2},
                  "exits": [{"to": "turned_away", "p": 0.5, "logistic": {"employability": -2.0}}],
                  "next": "classes"},
    "classes": {"kind": "course", "duration": {"dist": "fixed", "value": 10}, "next": "done"},
    "turned_away": {"kind": "exit", "outcome": "not_employed"},
    "done": {"kind": "exit", "outcome": "not_employed"},
}


def test_the_matched_comparison_group_has_the_participants_observables_and_its_own_luck():
    w = world(_pathway(CREAM, "interview"), None, people=3000, sd=0.8,
              counterfactual=Counterfactual(comparison="matched"))
    t = simulate(w, 16)
    p = t.persons.to_pandas()
    treated, comparison = p[p.arm == "treatment"], p[p.arm == "comparison"]
    ev = t.events.to_pandas()
    admitted = set(ev[(ev.arm == "treatment") & (ev.stage == "classes") & (ev.event == "entered")].person_id)
    assert set(comparison.person_id) == admitted and 0 < len(admitted) < 3000
    observed = ["cohort", "group", "age", "norwegian", "education", "work_capacity", "benefit_kind",
                "benefit_g", "entry_week"]
    mine = treated.set_index("person_id").loc[comparison.person_id, observed].reset_index(drop=True)
    assert mine.equals(comparison[observed].reset_index(drop=True))
    # the screening kept the more employable (cream-skimming); the comparison group is not selected
    z_part = treated.set_index("person_id").loc[sorted(admitted)].employability
    assert z_part.mean() > 0.3
    assert abs(comparison.employability.mean()) < 4 / math.sqrt(len(comparison))
    # it walks business as usual only, and its people are employed less often than the
    # participants' own control-arm selves (the bias a matched comparison has)
    s = t.spells.to_pandas()
    assert set(s[s.arm == "comparison"].state) <= {"employed", "not_employed"}
    ctrl = t.spells.to_pandas()
    ctrl = ctrl[(ctrl.arm == "control") & ctrl.person_id.isin(admitted)]
    week = 52.0

    def share(sp, ids):
        on = sp[(sp.state == "employed") & (sp.start <= week) & (sp.end > week)]
        return on.person_id.nunique() / len(ids)

    assert share(ctrl, admitted) > share(s[s.arm == "comparison"], admitted) + 0.03


def test_a_comparison_group_changes_no_draw_of_the_other_arms():
    path = _pathway(CREAM, "interview")
    plain = simulate(world(path, None, people=300, sd=0.8), replication_seed(5, 2))
    matched = simulate(world(path, None, people=300, sd=0.8,
                             counterfactual=Counterfactual(comparison="matched")), replication_seed(5, 2))
    for name in ("persons", "spells", "events"):
        a = getattr(plain, name).to_pandas()
        b = getattr(matched, name).to_pandas()
        b = b[b.arm != "comparison"].reset_index(drop=True)
        assert a.equals(b), name


def test_a_business_as_usual_pathway_is_refused_with_a_message(tmp_path):
    text = INTRO.format(weeks=52, to_job=0.1)
    with_capacity = text + "\n[capacity.seats]\nslots = 3\n"
    with pytest.raises(SpecError, match="business as usual meets no capacity"):
        load_business_as_usual(_write(tmp_path / "cap.toml", with_capacity))
    moved = text.replace('outcome = "not_employed"', 'outcome = "moved"')
    with pytest.raises(SpecError, match="'moved' is not business as usual"):
        load_business_as_usual(_write(tmp_path / "moved.toml", moved))
    with pytest.raises(SpecError, match="no built-in business-as-usual pathway"):
        load_business_as_usual("no_such_programme")
    groups = dict(default_target_groups())
    with pytest.raises(ValueError, match="unknown benefit kind"):
        groups["C"].model_copy(update={}).model_validate(
            {**groups["C"].model_dump(), "bau_pathway": {"kvp": "x"}})
    with pytest.raises(ValueError, match=r"groups\.C\.bau_pathway = 'no_such_programme': no built-in"):
        world(holding(0), "no_such_programme")


def test_a_participant_who_moves_moves_in_the_comparison_group_too():
    stages = {k: dict(v) for k, v in CREAM.items()}
    stages["classes"] = {**CREAM["classes"], "exits": [{"to": "moved_away", "p": 0.3}]}
    stages["moved_away"] = {"kind": "exit", "outcome": "moved"}
    t = simulate(world(_pathway(stages, "interview"), None, people=800, sd=0.8,
                       counterfactual=Counterfactual(comparison="matched")), 17)
    ev, s = t.events.to_pandas(), t.spells.to_pandas()
    moved = ev[(ev.arm == "treatment") & (ev.event == "moved")].set_index("person_id").time
    assert len(moved) > 50
    for arm in ("control", "comparison"):
        twin = ev[(ev.arm == arm) & (ev.event == "moved")].set_index("person_id").time
        assert twin.sort_index().equals(moved.sort_index()), arm
        after = s[(s.arm == arm) & s.person_id.isin(moved.index)]
        last = after.sort_values("start").groupby("person_id").last()
        assert (last.state == "moved").all() and np.allclose(last.start, moved[last.index])


def test_business_as_usual_pays_nobody_in_the_contract(tmp_path):
    text = INTRO.format(weeks=52, to_job=0.1)
    provider = text.replace('payer = "kommune"', 'payer = "provider"')
    with pytest.raises(SpecError, match="costs.payer: 'provider' is a party to the programme's contract"):
        load_business_as_usual(_write(tmp_path / "prov.toml", provider))
    default = text.replace(', payer = "kommune"', '')
    with pytest.raises(SpecError, match="defaults to 'provider': name the payer"):
        load_business_as_usual(_write(tmp_path / "default.toml", default))


def test_a_treated_refugee_whose_usual_job_fell_inside_the_programme_does_not_keep_the_stonad():
    # the null test's lock-in found it: business as usual would have found the person a job while
    # they were held, which ends introduksjonsstønad (integreringsloven § 19); resuming out of work
    # after the programme, the person is on what the job's benefit_after says, never on the stønad
    from effekt.experiments.scenario import load_scenario
    from effekt.sim import replication_seed, simulate

    kull = 'world.cohorts=[{ name = "k", start_week = 0, size = 400, groups = { R = 1.0 } }]'
    sc = load_scenario(None, [kull, 'pathway.stages.course.duration={ dist = "fixed", value = 60 }'])
    t = simulate(sc.world, replication_seed(5, 0))
    s = t.spells.to_pandas()
    treated_out = s[(s.arm == "treatment") & (s.state == "not_employed")]
    assert not (treated_out.benefit_kind == "introduksjonsstonad").any()


def test_only_a_benefit_that_lasts_with_the_programme_ends_at_a_job_never_taken():
    # AAP and kvalifiseringsstønad end by their own limits (folketrygdloven § 11-12, sosialtjenesteloven
    # § 30) and sosialhjelp is a last resort: a business-as-usual job the person never took (it fell
    # inside the programme) does not end them; introduksjonsstønad lasts only as long as the
    # introduction programme (integreringsloven § 19), so it ends there
    from effekt.experiments.scenario import load_scenario
    from effekt.sim.engine import _Model

    sc = load_scenario(None)
    engine = _Model.__new__(_Model)
    engine.world = sc.world
    ends = {k: engine._ends_with_programme(k) for k in ("aap", "kvalifiseringsstonad", "sosialhjelp",
                                                        "none", "introduksjonsstonad")}
    assert ends == {"aap": False, "kvalifiseringsstonad": False, "sosialhjelp": False, "none": False,
                    "introduksjonsstonad": True}
