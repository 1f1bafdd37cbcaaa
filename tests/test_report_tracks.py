"""Each track's share of the results and costs in the report of a kommune running several tracks
(issue 17, ``kommune_tracks_combined``; :mod:`effekt.experiments.report_tracks`).

* the track of a stage is its ``t<N>_`` prefix;
* one replication's sums on hand-made tables (people, jobs in their own track, outcome payments by
  person, public programme costs within the horizon), computed by hand;
* the composition at a few replications: the shares of each column sum to the whole, and the
  wholes are the evaluation's own (the treatment arm's people, its payments, the public budgets'
  programme costs), in nb and en; a pathway with one track has no such section.
"""

from __future__ import annotations

import html
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from effekt.contracts.records import person, persons_table, spell, spells_table
from effekt.experiments.batch import run_batch
from effekt.experiments.report import gather, render_html
from effekt.experiments.report_tracks import (
    MEASURES,
    OUTSIDE,
    WORDS,
    shares,
    track_label,
    track_of,
    track_section,
    track_sums,
    track_table,
    tracks_of,
)
from effekt.experiments.runner import simulate_and_evaluate
from effekt.experiments.scenario import load_scenario

NOT_PUBLIC = {"none", "employer", "private", "participants", "provider", "investor", ""}


def test_a_stages_track_is_its_prefix():
    assert track_of("t3_enterprise_work") == "t3"
    assert track_of("t12_x") == "t12"
    assert track_of("kommune_intake") is None and track_of(None) is None and track_of("t_x") is None
    assert tracks_of(["t10_a", "t3_b", "intake", "t1_c", "t3_d"]) == ["t1", "t3", "t10"]
    assert track_label("t4", "nb") == "Spor 4" and track_label("t4", "en") == "Track 4"
    assert track_label(OUTSIDE, "nb") == "Utenfor sporene"


def cost(**kw) -> dict:
    base = {"cost_payer": "none", "cost_once": 0.0, "cost_per_week": 0.0, "cost_cohort": 0.0,
            "cost_cohort_weeks": 0.0}
    return {**base, **kw}


def test_one_replications_sums_by_hand():
    persons = persons_table([person(0), person(1), person(2), person(3), person(0, "control")])
    spells = spells_table([
        # person 0: track 1, a job in it, 10 weeks x 600 to the kommune and 2 000 at the start
        spell(0, "in_programme", 0, 4, stage="intake", **cost()),
        spell(0, "employed", 4, 14, stage="t1_post", contract="temporary", annual_wage=400_000,
              **cost(cost_payer="kommune", cost_per_week=600.0, cost_once=2_000.0)),
        # person 1: track 3, no job, a cohort cost of 5 200 spread over 52 weeks, half within 30
        spell(1, "in_programme", 4, 30, stage="t3_intake",
              **cost(cost_payer="kommune", cost_cohort=5_200.0, cost_cohort_weeks=52.0)),
        # person 2: track 3 first, then a job in a track-1 stage: not a job of their own track;
        # an employer's cost is no public cost
        spell(2, "in_programme", 0, 4, stage="t3_intake", **cost(cost_payer="employer", cost_once=9e9)),
        spell(2, "employed", 4, 30, stage="t1_post", contract="temporary", annual_wage=400_000, **cost()),
        # person 3: in no track, 100 a week for 40 weeks of which 30 within the horizon
        spell(3, "in_programme", 0, 40, stage="no_track", **cost(cost_payer="nav", cost_per_week=100.0)),
        # the control arm is not counted
        spell(0, "employed", 0, 30, "control", stage="t1_post", **cost(cost_payer="kommune", cost_once=1e6)),
    ])
    payments = pd.DataFrame({"person_id": [0, 0, 2, -1], "amount": [10_000.0, 5_000.0, 7_000.0, 3_000.0]})
    got = track_sums(persons, spells, payments, horizon_weeks=30)
    expected = pd.DataFrame({"people": [1, 2, 1], "jobs": [1, 0, 0],
                             "outcome_payments": [15_000, 7_000, 3_000],
                             "programme_costs": [2_000 + 600 * 10, 5_200 * 26 / 52, 100 * 30]},
                            index=["t1", "t3", OUTSIDE], dtype=float)
    pd.testing.assert_frame_equal(got.loc[expected.index, list(MEASURES)], expected, check_names=False,
                                  check_index_type=False)
    s = shares(got)
    assert np.allclose(s.sum(), 1.0)
    assert s.loc["t3", "people"] == pytest.approx(0.5)


@pytest.fixture(scope="module")
def composition(tmp_path_factory):
    out = tmp_path_factory.mktemp("tracks") / "res"
    sc = load_scenario(None, ["design.replications=3", 'pathway.template="kommune_tracks_combined"',
                              'contract.template="municipal_jobs_outcomes"', "world.cohorts.0.size=60",
                              'world.cohorts.0.groups={ A = 0.4, B = 0.3, D = 0.3 }'])
    run_batch(sc, out, progress=False)
    return sc, out


def test_the_composition_shares_sum_to_the_whole_and_the_whole_is_the_evaluations(composition):
    sc, out = composition
    table = track_table(sc, [0, 1, 2])
    assert list(table.index[:3]) == ["t1", "t3", "t4"]
    assert np.allclose(shares(table).sum(), 1.0)
    assert (shares(table).loc[["t1", "t3", "t4"], ["people", "programme_costs"]] > 0).all().all()
    people = payments = programme = 0.0
    for r in range(3):
        tables, ev = simulate_and_evaluate(sc, r)
        p = tables.persons.to_pandas()
        people += float((p["arm"] == "treatment").sum())
        payments += float(ev.payments["amount"].sum())
        programme -= sum(float(a.sum()) for (arm, party, item), a in ev.ledger.items()
                         if arm == "treatment" and item == "programme_costs" and party not in NOT_PUBLIC)
    assert table["people"].sum() == people
    assert table["outcome_payments"].sum() == pytest.approx(payments)
    assert table["programme_costs"].sum() == pytest.approx(programme, rel=1e-9)
    # the jobs of a track are people of that track: never more than its people
    assert (table["jobs"] <= table["people"]).all()


@pytest.mark.slow
def test_the_report_shows_each_tracks_share_in_nb_and_en(composition):
    _, out = composition
    data = gather(out, ts_runs=1)
    for lang in ("nb", "en"):
        page = render_html(data, lang, str(out))
        w = WORDS[lang]
        for words in [w["heading"], *(track_label(t, lang) for t in ("t1", "t3", "t4")),
                      *(w[m] for m in MEASURES)]:
            assert html.escape(words) in page, (lang, words)
    table = data.__dict__["track_shares"]
    assert table.attrs["replications"] == 3
    assert np.allclose(shares(table).sum(), 1.0)


def test_a_pathway_with_one_track_has_no_track_section(composition):
    single = load_scenario(None, ["design.replications=2"])
    assert track_table(single, [0, 1]) is None
    runs = pd.DataFrame({"replication": [0, 1]})
    assert track_section(SimpleNamespace(scenario=single, runs=runs), "en") == ""
    assert track_section(SimpleNamespace(scenario=None, runs=runs), "en") == ""
    # the composition's section, without the rest of the report: the words of each language
    sc, _ = composition
    for lang in ("nb", "en"):
        page = track_section(SimpleNamespace(scenario=sc, runs=runs), lang)
        assert html.escape(WORDS[lang]["heading"]) in page and html.escape(track_label("t3", lang)) in page


def test_the_built_in_example_runs_three_tracks_and_its_report_shows_each(tmp_path):
    # experiments/scenarios/kommune_tracks.toml: the example of a kommune running several
    # tracks at once; a short run, its nb report has the tracks' section with tracks 1, 3 and 4
    from click.testing import CliRunner

    from effekt.experiments.cli import main

    scenario = str(Path(__file__).resolve().parents[1] / "experiments" / "scenarios" / "kommune_tracks.toml")
    out = str(tmp_path / "kt")
    ran = CliRunner().invoke(main, ["run", scenario, "--runs", "3", "--out", out, "--workers", "1", "-q"])
    assert ran.exit_code == 0, ran.output
    made = CliRunner().invoke(main, ["report", out, "--timeseries-runs", "3"])
    assert made.exit_code == 0 and "Rapporten er skrevet til" in made.output, made.output
    page = (tmp_path / "kt" / "report.html").read_text(encoding="utf-8")
    assert "Hvert spors andel av resultater og kostnader" in page
    assert all(f"Spor {n}" in page for n in (1, 3, 4))
