"""Evaluation designs (randomised, matched, historical, gross): what the contract pays against,
beside the true effect against the control arm.

Hand-built tables with the amounts worked out by hand, the scenario section ``[evaluation]``
and its refusals, the DWP lesson scenario (gross payments while the true effect is negative), and
with the real engine: selection on latent employability (cream-skimming) makes a matched
comparison overstate the effect, a randomised one does not.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from effekt.contracts import DESIGNS, EvaluationDesign, Valuation, evaluate, kpis_for, load_terms
from effekt.contracts.records import person, persons_table, spell, spells_table
from effekt.contracts.terms import Terms
from effekt.experiments.runner import run_replication
from effekt.experiments.scenario import default_scenario_path, load_scenario
from effekt.sim import simulate
from effekt.specfile import SpecError

# -- hand-built tables -------------------------------------------------------------------------

HORIZON = 156.0


def trigger_terms(**over) -> Terms:
    """A pooled trigger paying 1 000 per additional job over the comparison, and a rate card
    paying 100 for every job start (the same measure under another name)."""
    base = {
        "contract": {"name": "d", "title": "d", "term_months": 24, "primary_outcome": "job"},
        "outcomes": {"job": {"metric": "job_start", "window_weeks": 104},
                     "start": {"metric": "job_start", "window_weeks": 104}},
        "prices": {"job": 1000.0, "start": 100.0},
        "triggers": [{"outcome": "job", "scope": "pooled", "compare": "difference_to_control",
                      "threshold": 0.0, "pay": "additional"}],
        "commissioners": {"kommune": 1.0},
    }
    base.update(over)
    return Terms.model_validate(base)


def arm_rows(arm: str, ids: range, working: set[int]) -> tuple[list[dict], list[dict]]:
    """People ``ids`` of ``arm``; those in ``working`` get a job from week 10 to 100, the others
    are out of work (on 2 G of AAP) throughout."""
    persons = [person(i, arm) for i in ids]
    spells = []
    for i in ids:
        if i in working:
            spells += [spell(i, "not_employed", 0, 10, arm), spell(i, "employed", 10, 100, arm),
                       spell(i, "not_employed", 100, HORIZON, arm)]
        else:
            spells.append(spell(i, "not_employed", 0, HORIZON, arm))
    return persons, spells


def tables(comparison: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Six people referred. Treatment: 0-5, jobs for 0-4; of them 0-3 took part (4 and 5 were
    screened out, so they have no matched twin). Control (the same people without the
    programme): jobs for 0-2. Comparison (a matched twin per participant 0-3): a job for 0 only:
    the participants' twins found work less often than they would have."""
    parts = [arm_rows("treatment", range(6), {0, 1, 2, 3, 4}), arm_rows("control", range(6), {0, 1, 2})]
    if comparison:
        parts.append(arm_rows("comparison", range(4), {0}))
    persons = persons_table([r for p, _ in parts for r in p])
    spells = spells_table([r for _, s in parts for r in s])
    return persons, spells


def run(terms: Terms, design: EvaluationDesign | None = None, comparison: bool = True, **kw):
    persons, spells = tables(comparison)
    return evaluate(terms, persons, spells, HORIZON, design=design, **kw)


# randomised: trigger 5 - 3/6*6 = 2 additional (2 000), rate card 5 starts (500); true 5 - 3 = 2
# matched: participants 4 of 4 against twins 1 of 4: 4 - 1 = 3 (3 000), rate card 4 starts (400)
# historical, 25 % expected: 5 - 0.25*6 = 3.5 (3 500), rate card 500
# gross: every job, 5 (5 000), rate card 500
EXPECTED = {
    "randomised": (EvaluationDesign(), 2000 + 500, 2.0),
    "matched": (EvaluationDesign(design="matched"), 3000 + 400, 3.0),
    "historical": (EvaluationDesign(design="historical", baseline={"job": 0.25}, source="assumption"),
                   3500 + 500, 3.5),
    "gross": (EvaluationDesign(design="gross"), 5000 + 500, 5.0),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_design_pays_what_it_measures_and_reports_the_truth_beside_it(name):
    design, paid, measured = EXPECTED[name]
    k = run(trigger_terms(), design).kpis
    assert k["outcome_payments"] == pytest.approx(paid)
    assert k["paid_primary_outcomes"] == pytest.approx(measured)  # the trigger paid for these
    assert k["measured_additional_outcomes"] == pytest.approx(measured)
    assert k["additional_outcomes"] == pytest.approx(2.0)  # the truth, whatever the design
    assert k["design_bias_outcomes"] == pytest.approx(measured - 2.0)
    assert k["paid_not_additional_share"] == pytest.approx(1 - 2.0 / measured)
    assert k["participants"] == 6 and k["controls"] == 6  # the arms as simulated, not as measured


def test_matched_pays_exactly_the_extra_of_the_weaker_twins():
    randomised = run(trigger_terms()).payments
    matched = run(trigger_terms(), EvaluationDesign(design="matched")).payments
    trig = matched[matched["kind"] == "trigger_pooled"]
    assert list(trig["quantity"]) == [3.0] and list(trig["amount"]) == [3000.0]
    # one job more than the control arm shows, at 1 000
    assert matched["amount"].sum() - randomised["amount"].sum() == pytest.approx(1000 - 100)
    # only participants are paid on the rate card: person 4 (screened out) is not
    cards = matched[matched["kind"] == "rate_card"]
    assert sorted(cards["person_id"]) == [0, 1, 2, 3]


def test_randomised_is_todays_evaluation_bit_for_bit():
    t = trigger_terms()
    today = run(t, comparison=False)
    explicit = run(t, EvaluationDesign(design="randomised"), comparison=False)
    with_twins = run(t, EvaluationDesign(), comparison=True)  # a comparison arm in the tables
    for ev in (explicit, with_twins):
        assert list(ev.kpis) == list(today.kpis)
        np.testing.assert_array_equal(np.array(list(ev.kpis.values())), np.array(list(today.kpis.values())))
        pd.testing.assert_frame_equal(ev.payments, today.payments)
        pd.testing.assert_frame_equal(ev.cashflows, today.cashflows)


def test_gross_pays_for_every_outcome_and_historical_for_those_above_the_baseline():
    card = trigger_terms(triggers=[], contract={"name": "d", "title": "d", "term_months": 24,
                                                "primary_outcome": "job"})
    gross = run(card, EvaluationDesign(design="gross")).kpis
    assert gross["outcome_payments"] == pytest.approx(5 * 1000 + 5 * 100)  # every job, both prices
    assert gross["measured_additional_outcomes"] == 5.0
    # a historical baseline of 50 %: 5 - 0.5 * 6 = 2 measured additional; the rate card pays all
    hist = run(card, EvaluationDesign(design="historical", baseline={"job": 0.5}, source="x")).kpis
    assert hist["measured_additional_outcomes"] == pytest.approx(2.0)
    assert hist["outcome_payments"] == pytest.approx(5500)
    # an absolute trigger compares with nothing, so the design changes only whom it counts: the
    # treated under randomised, historical and gross alike; under matched the participants only
    # (admitted past screening), as every payment under matched (it sees nobody else)
    absolute = trigger_terms(triggers=[{"outcome": "job", "scope": "pooled", "compare": "absolute",
                                        "threshold": 0.8, "pay": "all"}])
    paid = {n: run(absolute, d).kpis["outcome_payments"] for n, (d, _, _) in EXPECTED.items()}
    # 5 of 6 = 0.83 >= 0.8: 5 jobs; matched: 4 of 4 participants: 4 jobs and 4 starts
    assert paid == {"randomised": 5500, "matched": 4400, "historical": 5500, "gross": 5500}


def test_historical_trigger_relative_to_the_baseline():
    t = trigger_terms(triggers=[{"outcome": "job", "scope": "pooled", "compare": "relative_to_control",
                                 "threshold": 1.0, "pay": "all"}])
    # 5/6 against 0.4: (0.833 - 0.4) / 0.4 = 1.08 >= 1: met, all 5 paid
    met = run(t, EvaluationDesign(design="historical", baseline={"job": 0.4}, source="x")).kpis
    assert met["outcome_payments"] == pytest.approx(5000 + 500)
    # against 0.45: (0.833 - 0.45) / 0.45 = 0.85 < 1: not met, only the rate card
    not_met = run(t, EvaluationDesign(design="historical", baseline={"job": 0.45}, source="x")).kpis
    assert not_met["outcome_payments"] == pytest.approx(500)


def test_matched_savings_share_is_measured_on_participants_against_their_twins():
    terms = Terms.model_validate({
        "contract": {"name": "s", "title": "s", "term_months": 12},
        "outcomes": {"job": {"metric": "job_start", "window_weeks": 52}},
        "prices": {"job": 0.0},
        "savings_share": {"share": 0.5, "components": ["benefits"], "window_months": 12},
        "commissioners": {"state": 1.0},
    })

    def year(arm, ids, working):
        ps = [person(i, arm) for i in ids]
        ss = [spell(i, "employed" if i in working else "not_employed", 0, 52, arm) for i in ids]
        return ps, ss

    parts = [year("treatment", range(4), {0, 1}), year("control", range(4), {0}),
             year("comparison", range(2), set())]  # participants 0 and 1; their twins out of work
    persons = persons_table([r for p, _ in parts for r in p])
    spells = spells_table([r for _, s in parts for r in s])
    v = Valuation(G=100_000)
    randomised = evaluate(terms, persons, spells, 52, v).kpis
    matched = evaluate(terms, persons, spells, 52, v, design=EvaluationDesign(design="matched")).kpis
    # randomised: 2 in work against 1: one year of 2 G saved; half of it paid
    assert randomised["outcome_payments"] == pytest.approx(0.5 * 2 * 100_000)
    # matched: both participants in work against neither twin: two years of 2 G
    assert matched["outcome_payments"] == pytest.approx(0.5 * 2 * 2 * 100_000)
    assert matched["benefits_saved_g"] == randomised["benefits_saved_g"] == pytest.approx(2.0)  # the truth


def test_the_fiscal_table_has_no_comparison_arm_and_its_levels_sum_to_the_difference():
    # the tables hold a matched comparison arm; the budgets are treatment, control and their
    # difference only, so summing the levels (arm != "difference") counts each arm once
    from effekt.contracts import in_work_by_month

    for design in (EvaluationDesign(), EvaluationDesign(design="matched")):
        f = run(trigger_terms(), design).fiscal
        assert set(f["arm"]) == {"treatment", "control", "difference"}
        levels = f[f["arm"] != "difference"]
        benefits = levels[levels["item"] == "benefits"].groupby("arm")["amount"].sum()
        diff = f[(f["arm"] == "difference") & (f["item"] == "benefits")]["amount"].sum()
        assert diff == pytest.approx(benefits["treatment"] - benefits["control"])  # 6 against 6
        # two jobs more than in control, each 90 weeks off 2 G of AAP (G of 1 May 2025)
        assert diff == pytest.approx(2 * 2 * Valuation().G * 90 / 52)
    # the in-work series are per arm, the comparison arm's among them (no difference arm)
    persons, spells = tables()
    assert set(in_work_by_month(persons, spells, HORIZON)["arm"]) == {"treatment", "control", "comparison"}


def test_matched_without_participants_pays_nothing_and_measures_nothing():
    persons, spells = tables(comparison=False)
    ev = evaluate(trigger_terms(), persons, spells, HORIZON, design=EvaluationDesign(design="matched"))
    assert ev.kpis["outcome_payments"] == 0 and ev.kpis["measured_additional_outcomes"] == 0
    assert ev.kpis["additional_outcomes"] == 2.0 and math.isnan(ev.kpis["paid_not_additional_share"])


# -- what cannot work --------------------------------------------------------------------------


def test_the_design_refuses_keys_it_does_not_use():
    with pytest.raises(ValueError, match="baseline: only design 'historical'"):
        EvaluationDesign(design="matched", baseline={"job": 0.3})
    with pytest.raises(ValueError, match="source: design 'historical' needs the source"):
        EvaluationDesign(design="historical", baseline={"job": 0.3})
    with pytest.raises(ValueError, match="baseline.job: -0.1"):
        EvaluationDesign(design="historical", baseline={"job": -0.1}, source="x")
    with pytest.raises(ValueError, match="design"):
        EvaluationDesign(design="quasi")
    assert DESIGNS == ("randomised", "matched", "historical", "gross")


def test_evaluate_refuses_a_design_that_cannot_measure_the_contract():
    koto = load_terms("koto_sib")
    for d in ("historical", "gross"):
        design = (EvaluationDesign(design=d, baseline={"training_completed": 0.2}, source="x")
                  if d == "historical" else EvaluationDesign(design=d))
        problems = design.problems(koto)
        assert any(p.startswith("savings_share:") for p in problems), problems
    relative = load_terms("peterborough")
    assert any("triggers[0]: compare = 'relative_to_control'" in p
               for p in EvaluationDesign(design="gross").problems(relative))
    with pytest.raises(SpecError, match="savings_share"):
        run(trigger_terms(savings_share={"share": 0.5, "components": ["benefits"], "window_months": 12}),
            EvaluationDesign(design="gross"))
    with pytest.raises(TypeError, match="EvaluationDesign"):
        run(trigger_terms(), "matched")  # type: ignore[arg-type]


def test_historical_baseline_is_checked_against_the_contracts_outcomes():
    t = trigger_terms()
    d = EvaluationDesign(design="historical", baseline={"jbo": 0.3, "start": 1.5}, source="x")
    problems = d.problems(t)
    assert any(p.startswith("evaluation.baseline.jbo: not an outcome") and "did you mean 'job'" in p
               for p in problems), problems
    assert any(p.startswith("evaluation.baseline.job: missing") and "primary outcome" in p
               for p in problems), problems
    assert any(p.startswith("evaluation.baseline.start: 1.5") for p in problems), problems


# -- the scenario section ----------------------------------------------------------------------


def test_scenario_evaluation_section_defaults_to_randomised_and_matched_simulates_the_comparison():
    base = load_scenario(None, [])
    assert base.evaluation == EvaluationDesign() and base.world.counterfactual.comparison == "none"
    assert base.resolved["evaluation"]["design"] == "randomised"
    matched = load_scenario(None, ["evaluation.design=matched"])
    assert matched.world.counterfactual.comparison == "matched"
    assert matched.resolved["world"]["counterfactual"]["comparison"] == "none"  # as written
    assert matched.hash != base.hash
    # no control arm: the contract can still pay against the matched comparison
    none = load_scenario(None, ["evaluation.design=matched", "world.counterfactual.mode=none"])
    row = run_replication(none, 0)["runs"].iloc[0]
    assert row["controls"] == 0 and math.isnan(row["additional_outcomes"])
    assert np.isfinite(row["measured_additional_outcomes"]) and row["outcome_payments"] >= 0


@pytest.mark.parametrize(("assignments", "message"), [
    (["evaluation.design=historical"], "evaluation.baseline: design 'historical' needs"),
    (["evaluation.design=historical", "evaluation.baseline={job_starts=0.3}", "evaluation.source=x"],
     "evaluation.baseline.job_starts: not an outcome of the contract (did you mean 'job_start'?)"),
    (["evaluation.baseline={job_start=0.3}"], "evaluation.baseline: only design 'historical'"),
    (["evaluation.desing=gross"], "evaluation.desing: unknown key (did you mean 'design'?)"),
    (["evaluation.design=random"], "evaluation.design"),
    (["contract.template=koto_sib", "world.horizon_weeks=200", "evaluation.design=gross"],
     "contract.savings_share: a share of the public gain against a comparison group; "
     "evaluation.design = 'gross'"),
    (["contract.template=peterborough", "world.horizon_weeks=300", "evaluation.design=gross"],
     "contract.triggers[0]: compare = 'relative_to_control'"),
])
def test_scenario_refuses_designs_that_cannot_work(assignments, message):
    with pytest.raises(SpecError) as err:
        load_scenario(None, assignments)
    assert any(message in p for p in err.value.problems), err.value.problems


def test_a_design_needs_no_control_arm_unless_it_is_randomised():
    # peterborough compares relative to the control: refused without one under randomised ...
    sets = ["contract.template=peterborough", "world.horizon_weeks=300", "world.counterfactual.mode=none"]
    with pytest.raises(SpecError, match="simulates no control arm"):
        load_scenario(None, sets)
    # ... and fine against a historical baseline of its outcomes
    sc = load_scenario(None, [*sets, "evaluation.design=historical", "evaluation.source=assumption",
                              "evaluation.baseline={in_work_12m=0.3}"])
    assert sc.evaluation.baseline["in_work_12m"] == 0.3


def test_new_kpis_are_declared_with_labels_in_both_languages():
    reg = kpis_for(load_terms("kongsberg_outcomes"))
    for name, kind in (("paid_primary_outcomes", "count"), ("measured_additional_outcomes", "count"),
                       ("design_bias_outcomes", "count"), ("paid_not_additional_share", "share")):
        k = reg[name]
        assert k.kind == kind and k.outcome == "job_start" and k.label("nb") and k.label("en")
        assert k.label("nb") != k.label("en")
    assert reg["measured_additional_outcomes"].arm == "difference"


# -- with the engine ---------------------------------------------------------------------------


def _runs(sc, n: int) -> pd.DataFrame:
    return pd.concat([run_replication(sc, r)["runs"] for r in range(n)], ignore_index=True)


def test_dwp_lesson_pays_for_outcomes_while_the_true_effect_is_negative():
    sc = load_scenario(default_scenario_path().parent / "dwp_lesson.toml")
    assert sc.evaluation.design == "gross" and sc.terms.contract.name == "dwp_rate_card"
    assert sc.info.title and sc.info.title_nb and sc.info.title != sc.info.title_nb
    runs = _runs(sc, 60)
    assert (runs["outcome_payments"] > 0).all()
    true = runs["additional_outcomes"]
    se = true.std(ddof=1) / math.sqrt(len(true))
    assert true.mean() + 3 * se < 0, (true.mean(), se)  # fewer first jobs than without the programme
    # gross: every outcome counts as additional, so the design's bias is what the control arm reached
    np.testing.assert_allclose(runs["design_bias_outcomes"], runs["outcomes_first_job_control"] * 1.0)
    assert runs["paid_not_additional_share"].mean() > 0.9


CREAM = [
    "world.cohorts[0].size=120",
    "world.cohorts[0].groups={C=0.5, D=0.5}",
    "world.groups.C.employability_sd=1.0",
    "world.groups.D.employability_sd=1.0",
    "pathway.capacity.placements.slots=120",
]


def test_cream_skimming_makes_a_matched_comparison_overstate_the_effect():
    """The screening rejects those with poor business-as-usual chances (logistic in latent
    employability): participants are more employable than their matched twins (same observables,
    own employability), so the matched comparison credits the programme with jobs they would have
    got anyway. The randomised comparison (the same people without the programme) measures the
    true effect exactly; without selection the matched bias is within noise."""
    skim = '[{to="rejected", p=0.4, logistic={employability=-2.0}}]'
    selected = load_scenario(None, [*CREAM, "evaluation.design=matched",
                                    f"pathway.stages.referral_interview.exits={skim}"])
    runs = _runs(selected, 60)
    bias = runs["design_bias_outcomes"]
    se = bias.std(ddof=1) / math.sqrt(len(bias))
    assert bias.mean() > 4 * se and bias.mean() > 2, (bias.mean(), se)
    randomised = _runs(load_scenario(None, [*CREAM, f"pathway.stages.referral_interview.exits={skim}"]), 10)
    assert (randomised["design_bias_outcomes"] == 0).all()
    # the same screening at random (no employability term): participants are like their twins
    fair = '[{to="rejected", p=0.4}]'
    unselected = _runs(load_scenario(None, [*CREAM, "evaluation.design=matched",
                                            f"pathway.stages.referral_interview.exits={fair}"]), 60)
    b = unselected["design_bias_outcomes"]
    assert abs(b.mean()) < 3 * b.std(ddof=1) / math.sqrt(len(b)) + 0.5, b.mean()


def test_a_simulated_comparison_arm_changes_nothing_under_randomised():
    """The comparison arm's draws are its own: simulating it leaves the treatment and control
    arms, and so every KPI of the randomised design, as they were."""
    plain = load_scenario(None, [])
    twins = load_scenario(None, ["world.counterfactual.comparison=matched"])
    for seed in (1, 2):
        a, b = simulate(plain.world, seed), simulate(twins.world, seed)
        assert "comparison" in set(b.persons.column("arm").to_pylist())
        ka = evaluate(plain.terms, a.persons, a.spells, 156, events=a.events).kpis
        kb = evaluate(twins.terms, b.persons, b.spells, 156, events=b.events).kpis
        np.testing.assert_array_equal(np.array(list(ka.values())), np.array(list(kb.values())))


def test_report_and_summary_show_the_true_effect_beside_what_was_paid_for(tmp_path):
    from effekt.experiments.batch import run_batch
    from effekt.experiments.report import gather, render_html
    from effekt.experiments.summary import headline, load_runs

    out = tmp_path / "dwp"
    sc = load_scenario(default_scenario_path().parent / "dwp_lesson.toml", ["design.replications=8"])
    run_batch(sc, out, progress=False)
    data = gather(out, ts_runs=2)
    en, nb = render_html(data, "en"), render_html(data, "nb")
    assert "Evaluation design: no comparison (gross)" in en and "Truly additional" in en
    assert "were not additional" in en and "DWP Innovation Fund paid" in en
    assert "Evalueringsdesign: ingen sammenligning (brutto)" in nb and "Faktisk ekstra" in nb
    assert sc.info.title_nb in nb and sc.info.title in en
    lines = headline(load_runs(out))
    assert any(s.startswith("Primary outcomes paid for:") and "truly additional" in s for s in lines)


def test_a_matched_batch_is_the_same_on_any_executor(tmp_path):
    from effekt.experiments.batch import run_batch
    from effekt.experiments.executors import ProcessExecutor
    from effekt.experiments.summary import load_runs

    sc = load_scenario(default_scenario_path().parent / "dwp_lesson.toml",
                       ["design.replications=6", "evaluation.design=matched"])
    run_batch(sc, tmp_path / "serial", progress=False, chunk=2)
    with ProcessExecutor(2) as ex:
        run_batch(sc, tmp_path / "processes", executor=ex, progress=False, chunk=3)
    serial, processes = load_runs(tmp_path / "serial"), load_runs(tmp_path / "processes")
    pd.testing.assert_frame_equal(serial, processes)
    assert serial["measured_additional_outcomes"].notna().all()
