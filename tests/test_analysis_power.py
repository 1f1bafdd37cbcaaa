"""Pilot power against closed-form binomial calculations done by hand."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from effekt.experiments.analysis.power import (
    n_exact,
    n_normal,
    power_benchmark,
    power_exact,
    power_normal,
    power_simulated,
)
from effekt.experiments.cli import main


def test_fisher_power_of_five_per_arm_matches_hand_enumeration():
    # With 5 per arm, Fisher's exact test (two-sided, 5 %) rejects only at 5/5 vs 0/5
    # (p = 2/252), 5/5 vs 1/5 and 4/5 vs 0/5 (p = 10/210 each), and their mirror images: every
    # other split has p > 0.05 (e.g. 4/5 vs 1/5: p = 52/252). So the power is a sum of binomial
    # terms, written out here.
    pt, pc = 0.8, 0.4
    qt, qc = 1 - pt, 1 - pc
    up = pt**5 * qc**5 + pt**5 * 5 * pc * qc**4 + 5 * pt**4 * qt * qc**5
    down = qt**5 * pc**5 + qt**5 * 5 * qc * pc**4 + 5 * qt**4 * pt * pc**5
    assert power_exact(5, 5, pt, pc, test="fisher") == pytest.approx(up + down, rel=1e-12)


def test_fisher_size_never_exceeds_alpha():
    for n in (3, 5, 12):
        for p in (0.1, 0.5, 0.9):
            assert power_exact(n, n, p, p, test="fisher") <= 0.05 + 1e-12


def test_baerum_five_without_control_group():
    # Five participants, no control group, benchmark rate 0.47 (introduction-programme leavers in
    # work a year later): P(X = 5 | 0.47) = 0.47^5 = 0.0229 <= 0.025 but P(X >= 4) = 0.0229 +
    # 5 * 0.47^4 * 0.53 = 0.155, so only 5 of 5 is significant; if the true rate were 0.8 the
    # pilot would show it with probability 0.8^5 = 0.328.
    b = power_benchmark(5, 0.8, 0.47, alpha=0.025)
    assert b.critical == 5
    assert b.size == pytest.approx(0.47**5)
    assert b.power == pytest.approx(0.8**5)
    # against a benchmark of 0.65 (in work or education), nothing out of 5 is significant
    assert power_benchmark(5, 0.95, 0.65, alpha=0.025).critical is None


def test_sample_size_matches_textbook_normal_formula():
    # 0.6 vs 0.4, alpha 5 % two-sided, 80 % power: (1.96 sqrt(2 * .5 * .5) + 0.8416 sqrt(.24 +
    # .24))^2 / 0.2^2 = (1.3859 + 0.5831)^2 / 0.04 = 96.9 -> 97 per arm (the usual table value)
    assert n_normal(0.6, 0.4) == 97
    assert power_normal(97, 97, 0.6, 0.4) == pytest.approx(0.80, abs=0.01)
    # the exact binomial answer for the z-test agrees within a few people
    assert abs(n_exact(0.6, 0.4) - 97) <= 5


def test_simulated_power_agrees_with_exact_enumeration():
    exact = power_exact(40, 40, 0.55, 0.3, test="z")
    sim, se = power_simulated(40, 40, 0.55, 0.3, np.random.default_rng(3), pilots=40000)
    assert abs(sim - exact) < 4 * se


def test_cli_pilot_size_with_given_rates():
    r = CliRunner().invoke(main, ["pilot-size", "--lang", "en", "--n", "5", "--p-treatment", "0.8",
                                  "--p-control", "0.4"])
    assert r.exit_code == 0, r.output
    assert "Pilot of 5" in r.output
    assert "People per arm for 80\u00a0% power" in r.output
    assert "5 or more of 5" in r.output


PERFECT_PATHWAY = """
[pathway]
name = "perfect"
title = "Everybody gets a job for good"
source = "test"
entry = "course"

[stages.course]
kind = "course"
title = "Course"
duration = { dist = "fixed", value = 4 }
next = "job"

[stages.job]
kind = "employment"
title = "Job"
employment = { contract = "permanent", fte = 1.0, annual_wage = 450000, job_loss_multiplier = 0 }
"""


def test_model_pilots_of_a_perfect_programme_are_always_significant(tmp_path):
    # Programme: everybody in a lasting job after 4 weeks; without it nobody ever works. A
    # randomised pilot of 10 then always separates perfectly, and for perfect separation the
    # pooled z statistic is sqrt(N) = sqrt(10) = 3.16 > 1.96 whatever the split, so every pilot
    # with both arms non-empty is significant: power 1 - 2 x 0.5^10 = 0.998. (Group D: it has no
    # business-as-usual pathway, whose own exits to work would let some work without it.)
    (tmp_path / "perfect.toml").write_text(PERFECT_PATHWAY)
    scen = tmp_path / "s.toml"
    scen.write_text(
        '[scenario]\nname = "perfect"\n[world]\nhorizon_weeks = 130\n'
        'counterfactual = { mode = "parallel", entry_rate_multiplier = 0 }\n'
        '[[world.cohorts]]\nname = "k"\nstart_week = 0\nsize = 3\ngroups = { D = 1.0 }\n'
        '[pathway]\ntemplate = "perfect.toml"\n[contract]\ntemplate = "kongsberg_outcomes"\n'
        '[design]\nreplications = 2\nseed = 3\n')
    from effekt.experiments.analysis.power import pilots_through_model

    better, _, worse = pilots_through_model(scen, 5, replications=12)
    assert better == 1.0 and worse == 0.0
    # the --set assignments reach the simulated pilots: with a horizon shorter than 12 months
    # nobody can be measured at 12 months, so no pilot can show anything
    better, _, worse = pilots_through_model(scen, 5, replications=6,
                                            assignments=["world.horizon_weeks=40",
                                                         "contract.contract.term_months=9"])
    assert better == 0.0 and worse == 0.0


def test_cli_effect_sets_the_programme_rate_and_equal_rates_are_refused():
    r = CliRunner().invoke(main, ["pilot-size", "--lang", "en", "--p-control", "0.4", "--effect", "0.2",
                                  "--n", "97"])
    assert r.exit_code == 0, r.output
    assert "probability with the programme 0.600" in r.output
    assert "People per arm for 80\u00a0% power: 97 (normal formula)" in r.output
    r = CliRunner().invoke(main, ["pilot-size", "--lang", "en", "--p-control", "0.4", "--p-treatment", "0.4"])
    assert r.exit_code == 2 and "no difference" in r.output


def test_simulated_pilots_follow_the_scenario_seed():
    # the binomial pilots are drawn from the scenario's root seed: the same seed gives the same
    # estimate, another seed (here by --set design.seed) another one; 20 000 pilots at power about
    # 0.5 have a standard error of 0.35 percentage points, so the printed 0.1 % differ
    def simulated(*extra: str) -> str:
        r = CliRunner().invoke(main, ["pilot-size", "--lang", "en", "--n", "30", "--p-treatment", "0.6",
                                      "--p-control", "0.35", *extra])
        assert r.exit_code == 0, r.output
        return next(line for line in r.output.splitlines() if "simulated binomial pilots" in line)

    first = simulated("--set", "design.seed=1")
    assert simulated("--set", "design.seed=1") == first
    assert simulated("--set", "design.seed=2") != first


def test_directional_power_matches_the_closed_form_normal_approximation():
    # Power to show an improvement with the two-sided 5 % pooled z-test (its upper tail):
    # Phi((d - z sqrt(pbar qbar 2/n)) / sqrt((pt qt + pc qc)/n)), z = 1.959964, written out here
    from scipy.stats import norm

    n, pt, pc = 50, 0.5, 0.3
    pbar = (pt + pc) / 2
    s0 = (pbar * (1 - pbar) * 2 / n) ** 0.5
    s1 = ((pt * (1 - pt) + pc * (1 - pc)) / n) ** 0.5
    expected = norm.cdf((0.2 - 1.959964 * s0) / s1)
    assert power_normal(n, n, pt, pc, alternative="better") == pytest.approx(expected, rel=1e-6)
    # the exact binomial sum over the same region agrees with it for a large pilot
    assert power_exact(400, 400, 0.55, 0.45, alternative="better") == pytest.approx(
        power_normal(400, 400, 0.55, 0.45, alternative="better"), abs=0.02)


def test_a_programme_forty_points_worse_has_no_power_to_show_an_improvement():
    # 0.2 against 0.6 with 20 per arm: the two-sided test "rejects" most of the time (the
    # finding that the programme is worse), but the chance of showing an improvement is below
    # the one-sided alpha of 2.5 % (closed form: Phi((-0.4 - 1.96 s0) / s1) = Phi(-5.3))
    from scipy.stats import norm

    n, pt, pc = 20, 0.2, 0.6
    s0 = (0.4 * 0.6 * 2 / n) ** 0.5
    s1 = ((0.16 + 0.24) / n) ** 0.5
    assert power_normal(n, n, pt, pc) > 0.7
    assert power_normal(n, n, pt, pc, alternative="better") == pytest.approx(
        norm.cdf((-0.4 - 1.959964 * s0) / s1), rel=1e-6)
    assert power_exact(n, n, pt, pc, alternative="better") < 0.025
    assert power_exact(n, n, pt, pc, test="fisher", alternative="better") < 0.025
    assert n_exact(pt, pc, alternative="better") is None


def test_directional_fisher_power_of_five_per_arm_is_the_upper_half_of_the_enumeration():
    # the splits of test_fisher_power_of_five_per_arm_matches_hand_enumeration where the
    # programme did better: 5/5 vs 0/5, 5/5 vs 1/5 and 4/5 vs 0/5
    pt, pc = 0.8, 0.4
    qt, qc = 1 - pt, 1 - pc
    up = pt**5 * qc**5 + pt**5 * 5 * pc * qc**4 + 5 * pt**4 * qt * qc**5
    assert power_exact(5, 5, pt, pc, test="fisher", alternative="better") == pytest.approx(up, rel=1e-12)
    with pytest.raises(ValueError, match="allowed: two-sided, better"):
        power_exact(5, 5, pt, pc, alternative="worse")


def test_cli_says_plainly_when_the_programme_is_expected_to_be_worse():
    r = CliRunner().invoke(main, ["pilot-size", "--lang", "en", "--n", "20", "--p-treatment", "0.2",
                                  "--p-control", "0.6"])
    assert r.exit_code == 0, r.output
    assert "expected to be WORSE than business as usual" in r.output
    assert "significantly BETTER" in r.output  # what the power is the chance of
    powers = [float(line.split()[1].rstrip("%")) for line in r.output.splitlines()
              if line.startswith("  power ")]
    assert powers and max(powers) < 2.5  # never "power 98 %"
    assert "People per arm for 80\u00a0% power: none" in r.output
    assert "chance the pilot shows the programme significantly WORSE" in r.output


def test_pilot_size_speaks_bokmal_by_default():
    r = CliRunner().invoke(main, ["pilot-size", "--n", "20", "--p-treatment", "0.5", "--p-control", "0.3"])
    assert r.exit_code == 0, r.output
    assert "Pilot med 20 i tiltaket og 20 i kontrollgruppen:" in r.output and "(oppgitt)" in r.output
    assert "Personer per arm for 80\u00a0% styrke: 93 (normalformelen)" in r.output  # n = 93 by the formula
    assert "Pilot of" not in r.output and "power" not in r.output


def test_pilot_size_names_the_measure_in_words_with_its_key():
    """No raw key where a person reads (issue 13): the measure's words in the reader's language,
    and the key the user types for --measure beside them."""
    from effekt.experiments.analysis.power import measure_words

    assert measure_words("in_work_12m", "nb") == "I arbeid 12 måneder etter oppstart (in_work_12m)"
    assert measure_words("in_work_or_education_24m", "en") == \
        "In work or education 24 months after start (in_work_or_education_24m)"
    assert measure_words("no_such_measure", "nb") == "no_such_measure"
    r = CliRunner().invoke(main, ["pilot-size", "--n", "5", "--p-treatment", "0.8", "--p-control", "0.4"])
    assert r.output.startswith("Resultat: I arbeid 12 måneder etter oppstart (in_work_12m); ")
