"""A contract that silently pays nothing: the term rule and the warnings (issue 13, item 1).

The case, as a kommune adviser wrote it: a class of 12 refugees, the kommune pays 150 000 NOK per
person in permanent work 24 months after the start, ``term_months = 24``. docs/contracts.md calls
``term_months`` "the last month in which an outcome counts"; 24 months after a start in week 0 is
week 104 (24 x 52/12), the end of month 24, so the outcome is inside the term and must be paid:
150 000 per treated person in permanent work then, which the test counts from the spells itself.
A term one month shorter, an outcome measured at the horizon and a second kull entering too late
are warned about in both languages, before anything runs; a run that pays nothing says so after.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from effekt.contracts import load_terms, term_end_week, within_term
from effekt.experiments.cli import main
from effekt.experiments.contract_checks import payment_notices, term_notices
from effekt.experiments.runner import run_replication
from effekt.experiments.scenario import load_scenario
from effekt.sim import replication_seed, simulate

PRICE = 150_000.0
SCENARIO = """
[scenario]
name = "adviser"
title = "A class of 12 refugees, permanent work after 24 months"

[world]
horizon_weeks = 156
counterfactual = {{ mode = "parallel" }}

[[world.cohorts]]
name = "klasse"
start_week = 0
size = 12
groups = {{ R = 1.0 }}
{extra_cohort}
[pathway]
template = "kongsberg_kull"

[contract]
template = "fast_jobb.toml"

[design]
replications = 4
seed = 7
"""
CONTRACT = """
[contract]
name = "fast_jobb"
title = "Per person in permanent work after 24 months"
term_months = {term}
payment_lag_months = 1
payment_period = "monthly"
primary_outcome = "fast_jobb_24m"

[outcomes.fast_jobb_24m]
metric = "in_work_at"
weeks_after_entry = 104
exclude_contracts = ["temporary", "project"]

[prices]
fast_jobb_24m = {price}

[commissioners]
kommune = 1.0

[provider]
per_participant = 50000
"""


def files(tmp_path, term: int = 24, extra_cohort: str = "") -> str:
    (tmp_path / "fast_jobb.toml").write_text(CONTRACT.format(term=term, price=PRICE))
    path = tmp_path / "adviser.toml"
    path.write_text(SCENARIO.format(extra_cohort=extra_cohort))
    return str(path)


def test_the_term_counts_its_last_month_to_the_end():
    assert term_end_week(24) == pytest.approx(104.0)
    assert list(within_term(np.array([103.9, 104.0, 104.01]), 24)) == [True, True, False]


def test_the_advisers_contract_pays_per_person_in_permanent_work_at_24_months(tmp_path):
    sc = load_scenario(files(tmp_path))
    assert term_notices(sc.world, sc.terms) == []
    paid_runs = 0
    for r in range(4):
        t = simulate(sc.world, replication_seed(sc.design.seed, r))
        s = t.spells.to_pandas()
        # by hand: treated people in a permanent (not project) job that covers week 104
        working = s[(s["arm"] == "treatment") & (s["state"] == "employed")
                    & (s["contract"] == "permanent") & (s["start"] <= 104.0) & (s["end"] > 104.0)]
        n = working["person_id"].nunique()
        runs = run_replication(sc, r)["runs"].iloc[0]
        assert runs["outcomes_fast_jobb_24m"] == n
        assert runs["outcome_payments"] == pytest.approx(n * PRICE)
        paid_runs += n > 0
    assert paid_runs > 0  # the case is not vacuous


def test_an_outcome_after_the_term_is_warned_about_in_both_languages(tmp_path):
    sc = load_scenario(files(tmp_path, term=23))
    [notice] = term_notices(sc.world, sc.terms)
    assert "fast_jobb_24m" in notice.en and "term_months = 23" in notice.en
    assert "week 104" in notice.en and "at least 24" in notice.en
    assert "uke 104" in notice.nb and "99,7" in notice.nb and "minst 24" in notice.nb
    assert run_replication(sc, 0)["runs"].iloc[0]["outcome_payments"] == 0.0


def test_validate_prints_the_warning_and_run_says_nothing_was_paid(tmp_path):
    path = files(tmp_path, term=23)
    res = CliRunner().invoke(main, ["validate", path, "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "ok (" in res.output and "can never be paid" in res.output
    res = CliRunner().invoke(main, ["run", path, "--out", str(tmp_path / "out"), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "can never be paid" in res.output
    assert "the contract paid nothing in any of the 4 runs" in res.output


def test_an_outcome_measured_at_the_horizon_is_never_seen(tmp_path):
    sc = load_scenario(files(tmp_path), ["world.horizon_weeks=104"])
    [notice] = term_notices(sc.world, sc.terms)
    assert "world.horizon_weeks = 104" in notice.en and "above 104" in notice.en
    assert "simuleringens slutt" in notice.nb


def test_a_kull_that_enters_too_late_for_the_term_is_named(tmp_path):
    late = ('\n[[world.cohorts]]\nname = "klasse 2"\nstart_week = 20\nsize = 12\n'
            'groups = { R = 1.0 }\n')
    sc = load_scenario(files(tmp_path, term=26, extra_cohort=late))
    [notice] = term_notices(sc.world, sc.terms)
    # the second class reaches 24 months in week 124, after the term's end in week 112.7
    assert "'klasse 2'" in notice.en and "'klasse'" not in notice.en.replace("'klasse 2'", "")
    assert "112.7" in notice.en and "112,7" in notice.nb


def test_the_results_say_when_nothing_was_paid():
    terms = load_terms("kongsberg_outcomes")
    runs = pd.DataFrame({"outcome_payments": [0.0, 0.0], "outcomes_job_start": [2.0, 1.0],
                         "outcomes_job_sustained": [0.0, 0.0]})
    [reached] = payment_notices(runs, terms)
    assert "'job_start' (1.5 per run)" in reached.en and "2 runs" in reached.en
    assert "'job_start' (1,5 per kjøring)" in reached.nb
    none = runs.assign(outcomes_job_start=0.0)
    [nobody] = payment_notices(none, terms)
    assert "nobody reached a paid outcome" in nobody.en and "ingen nådde" in nobody.nb
    assert payment_notices(runs.assign(outcome_payments=[0.0, 40_000.0]), terms) == []
