"""Scenario comparison under common random numbers."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from effekt.experiments.analysis.compare import compare, compare_runs
from effekt.experiments.cli import main
from effekt.experiments.scenario import default_scenario_path


@pytest.fixture
def cheaper(tmp_path):
    """The default scenario with a lower price for a sustained job."""
    text = default_scenario_path().read_text()
    text = text.replace('template = "kongsberg_outcomes"',
                        'template = "kongsberg_outcomes"\nprices.job_sustained = 60000')
    path = tmp_path / "cheaper.toml"
    path.write_text(text.replace('name = "kongsberg_default"', 'name = "cheaper"'))
    return path


def test_common_random_numbers_make_pathway_outcomes_identical(cheaper):
    t = compare([None, cheaper], replications=6).set_index(["scenario", "kpi"])
    # only the price differs, so with the same seeds the people and their paths are identical:
    # employment outcomes differ by exactly zero, in every replication
    for k in ("in_work_12m_treatment", "in_work_24m_control"):
        assert t.loc[("cheaper", k), "diff"] == 0
        assert t.loc[("cheaper", k), "diff_low"] == 0 == t.loc[("cheaper", k), "diff_high"]
    # ... and payments fall by 30 000 per sustained job actually paid (no cap binds below 135 000)
    paid = t.loc[("cheaper", "outcome_payments"), "diff"]
    assert paid < 0
    assert t.loc[("kongsberg_default", "outcome_payments"), "diff"] == 0


def test_cli_compare_prints_table_and_saves(cheaper, tmp_path):
    out = tmp_path / "cmp.csv"
    page = tmp_path / "cmp.html"
    r = CliRunner().invoke(main, ["compare", str(default_scenario_path()), str(cheaper), "--runs", "3",
                                  "--out", str(out), "--html", str(page), "--lang", "en"])
    assert r.exit_code == 0, r.output
    text = page.read_text(encoding="utf-8")
    assert text.count("data:image/png;base64,") == 1
    assert "<th>cheaper</th>" in text and "Scenarios side by side" in text
    assert "cheaper" in r.output and "kongsberg_default" in r.output
    assert "Δ" in r.output
    assert out.exists()


def test_variants_of_one_scenario_share_its_people():
    from effekt.experiments.analysis.compare import parse_variants

    variants = parse_variants(["cheap:contract.prices.job_sustained=60000",
                               "few_places:pathway.capacity.placements.slots=4"])
    t = compare([default_scenario_path()], replications=4, variants=variants).set_index(
        ["scenario", "kpi"])
    assert set(t.index.get_level_values(0)) == {"kongsberg_default", "cheap", "few_places"}
    # a price changes no one's path; fewer work-training places do (people queue)
    assert t.loc[("cheap", "in_work_24m_treatment"), "diff"] == 0
    assert t.loc[("few_places", "in_work_12m_treatment"), "diff"] < 0
    # the counterfactual arm never sees the programme's places: identical people, identical luck
    assert t.loc[("few_places", "in_work_24m_control"), "diff"] == 0


def test_bad_variant_is_a_clear_error():
    from effekt.experiments.analysis.compare import parse_variants
    from effekt.specfile import SpecError

    with pytest.raises(SpecError, match="NAME:KEY=VALUE"):
        parse_variants(["pathway.template=gloppen"])


def test_a_probability_keeps_its_interval_inside_0_and_1():
    # investor_loss in 2 of 3 replications: Wilson 95 % is (0.2077, 0.9385) by hand (centre
    # (2/3 + 1.9207/3) / (1 + 3.8415/3) = 0.5731, half 1.96 sqrt(2/27 + 3.8415/36) / 2.2805 =
    # 0.3654); a t interval would be 0.667 +- 4.303 * 0.577 / sqrt(3) = [-0.77, 2.10]
    a = pd.DataFrame({"replication": [0, 1, 2], "investor_loss": [1.0, 1, 0],
                      "outcome_payments": [1.0, 2, 3]})
    b = a.assign(investor_loss=[0.0, 1, 0], outcome_payments=[2.0, 4, 3])
    t = compare_runs({"a": a, "b": b}).set_index(["scenario", "kpi"])
    assert (t.loc[("a", "investor_loss"), "ci_low"], t.loc[("a", "investor_loss"), "ci_high"]) == \
        pytest.approx((0.2077, 0.9385), abs=1e-4)
    # other KPIs keep Student's t: mean 2, sd 1, half width 4.302653 / sqrt(3) = 2.484138
    assert t.loc[("a", "outcome_payments"), "ci_high"] == pytest.approx(2 + 2.484138, abs=1e-5)
    # paired differences b - a: loss (-1, 0, 0), mean -1/3; payments (1, 2, 0), mean 1
    assert t.loc[("b", "investor_loss"), "diff"] == pytest.approx(-1 / 3)
    assert t.loc[("b", "outcome_payments"), "diff"] == pytest.approx(1)
    assert t.loc[("b", "outcome_payments"), "diff_high"] == pytest.approx(1 + 2.484138, abs=1e-5)
