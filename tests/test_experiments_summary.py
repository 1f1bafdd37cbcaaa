"""Summaries against hand-computed statistics, and the CLI from a sweep to its summary."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_experiments_scenario import write

from effekt.experiments.batch import choose_chunk, run_batch
from effekt.experiments.cli import main
from effekt.experiments.scenario import load_experiment, load_scenario
from effekt.experiments.summary import describe, kpi_table, render, wilson


def test_describe_matches_hand_computed_t_interval_and_percentiles():
    d = describe(np.array([1.0, 2, 3, 4, 5, np.nan]))  # NaN (an undefined IRR) is left out
    assert d["n"] == 5 and d["mean"] == 3
    # t(0.975, 4) = 2.776445; sd = sqrt(2.5); half width = 2.776445 * 1.581139 / sqrt(5) = 1.963243
    assert d["ci_low"] == pytest.approx(3 - 1.963243, abs=1e-6)
    assert d["ci_high"] == pytest.approx(3 + 1.963243, abs=1e-6)
    # linear interpolation between order statistics: P5 = 1 + 0.05 * 4 = 1.2, P95 = 4.8
    assert (d["p5"], d["p50"], d["p95"]) == pytest.approx((1.2, 3.0, 4.8))


def test_indicators_get_wilson_intervals():
    # Wilson 95 % for 3 of 10: (0.1078, 0.6032) (Newcombe 1998, table I method 3 gives 0.1078-0.6032)
    lo, hi = wilson(3, 10)
    assert (lo, hi) == pytest.approx((0.10779, 0.60323), abs=1e-4)
    d = describe(np.array([1.0] * 3 + [0.0] * 7), indicator=True)
    assert d["mean"] == pytest.approx(0.3)
    assert (d["ci_low"], d["ci_high"]) == pytest.approx((lo, hi))
    zero = describe(np.zeros(20), indicator=True)  # never a loss in 20 runs: up to 16 % plausible
    assert zero["ci_low"] == pytest.approx(0, abs=1e-12)
    assert zero["ci_high"] == pytest.approx(3.8415 / (20 + 3.8415), abs=1e-4)


def test_a_kpi_that_is_zero_in_every_run_is_no_probability_unless_it_is_an_indicator():
    # zero money in every replication is known exactly; zero losses are not
    assert describe(np.zeros(20))["ci_high"] == 0
    runs = pd.DataFrame({"replication": range(20), "investor_loss": 0.0, "fiscal_wage_cost": 0.0})
    table = kpi_table(runs)
    assert table.loc["investor_loss", "ci_high"] == pytest.approx(3.8415 / 23.8415, abs=1e-4)
    assert table.loc["fiscal_wage_cost", "ci_high"] == 0


def test_counts_that_happen_to_be_0_or_1_are_no_probabilities():
    # cohort of one: 'participants' is 0 or 1 per replication, a count, not a probability. Its
    # interval is Student's t: mean 0.6, sd = sqrt(0.3), t(0.975, 4) = 2.776445, half width
    # 2.776445 * 0.547723 / sqrt(5) = 0.680087 (Wilson would give [0.231, 0.882])
    d = describe(np.array([1.0, 1, 0, 1, 0]))
    assert d["mean"] == pytest.approx(0.6)
    assert (d["ci_low"], d["ci_high"]) == pytest.approx((0.6 - 0.680087, 0.6 + 0.680087), abs=1e-6)
    runs = pd.DataFrame({"replication": range(5), "participants": [1.0, 1, 0, 1, 0],
                         "investor_commitment_exceeded": [1.0, 1, 0, 1, 0]})
    t = kpi_table(runs)
    assert t.loc["participants", "ci_high"] == pytest.approx(1.280087, abs=1e-6)
    # the commitment indicator is a probability: Wilson 95 % for 3 of 5 is (0.2307, 0.8824)
    row = t.loc["investor_commitment_exceeded"]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.2307, 0.8824), abs=1e-4)


def test_an_indicator_with_other_values_is_refused():
    with pytest.raises(ValueError, match="0 or 1"):
        describe(np.array([0.0, 0.5, 1.0]), indicator=True)


def test_kpi_table_per_design_point_with_parameters():
    runs = pd.DataFrame({"point": [0, 0, 1, 1], "replication": [0, 1, 0, 1],
                         "price": [10, 10, 20, 20], "investor_loss": [1.0, 0.0, 0.0, 0.0],
                         "outcome_payments": [100.0, 300.0, 200.0, 400.0]})
    t = kpi_table(runs, ["price"])
    assert t.loc[(0, "outcome_payments"), "mean"] == 200
    assert t.loc[(1, "outcome_payments"), "mean"] == 300
    assert t.loc[(1, "investor_loss"), "price"] == 20
    assert t.loc[(0, "investor_loss"), "mean"] == 0.5
    assert "price" not in t.index.get_level_values("kpi")
    md = render(t, "markdown").splitlines()
    assert md[0].startswith("| point | kpi | price | label |") and len(md) == 2 + 4
    text = render(t, "text")
    assert "design point 0: price = 10" in text and "design point 1: price = 20" in text


def test_choose_chunk_bounds(tmp_path):
    exp = load_experiment(None, ["design.replications=10"], sweep=False)
    assert choose_chunk(exp, workers=1, target=0.0) == 1
    # a huge target is capped so that every worker still gets about four tasks (10 replications,
    # 2 workers: ceil(10 / 8) = 2; 1 worker: ceil(10 / 4) = 3)
    assert choose_chunk(exp, workers=2, target=1e6) == 2
    assert choose_chunk(exp, workers=1, target=1e6) == 3
    # ... and a task never spans more than one design point's replications
    sweep = load_experiment(write(tmp_path, design='[design.sweep]\n"contract.prices.job_start" = '
                                                   '[1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000]\n'))
    assert choose_chunk(sweep, workers=1, target=1e6) == sweep.replications == 4


def test_cli_sweep_then_summary_in_every_format(tmp_path):
    path = write(tmp_path, design='[design.levers]\n"contract.prices.job_start" = [30000, 60000]\n')
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["sweep", str(path), "--out", str(out), "--runs", "3", "--workers", "1",
                                  "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "2 design points x 3 replications" in r.output
    assert "ETA" not in r.output  # no progress bar when not a terminal

    r = CliRunner().invoke(main, ["summary", str(out), "--format", "json", "--lang", "en"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    loss = {row["point"]: row for row in rows if row["kpi"] == "investor_loss"}
    assert set(loss) == {0, 1}
    assert {loss[k]["contract.prices.job_start"] for k in loss} == {30000, 60000}
    assert all(row["n"] == 3 for row in rows if row["kpi"] == "outcome_payments")

    r = CliRunner().invoke(main, ["summary", str(out), "--format", "csv", "--lang", "en"])
    csv = pd.read_csv(io.StringIO(r.output))
    assert {"point", "kpi", "mean", "ci_low", "ci_high", "p5", "p50", "p95"} <= set(csv.columns)
    r = CliRunner().invoke(main, ["summary", str(out), "--format", "markdown", "--lang", "en"])
    assert r.output.startswith("| point | kpi |")
    # the runs table holds the parameter; the payments at the higher price are never lower
    runs = pd.read_parquet(out / "runs").sort_values(["replication", "contract.prices.job_start"])
    pay = runs.pivot(index="replication", columns="contract.prices.job_start", values="outcome_payments")
    assert (pay[60000] >= pay[30000]).all()


def test_cli_sweep_without_a_design_is_refused(tmp_path):
    r = CliRunner().invoke(main, ["sweep", str(write(tmp_path)), "--out", str(tmp_path / "o"),
                                  "--lang", "en"])
    assert r.exit_code == 2 and "varies nothing" in r.output


def test_cli_batch_stores_opt_in_tables_and_rejects_unknown_ones(tmp_path):
    path = write(tmp_path)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["batch", str(path), "--out", str(out), "--runs", "2", "--workers", "1",
                                  "--tables", "persons,spells", "-q"])
    assert r.exit_code == 0, r.output
    assert (out / "persons").is_dir() and (out / "spells").is_dir() and not (out / "events").exists()
    persons = pd.read_parquet(out / "persons")
    assert len(persons) == 2 * 2 * load_scenario(path).world.size  # replications x arms x people
    r = CliRunner().invoke(main, ["batch", str(path), "--out", str(tmp_path / "x"), "--tables", "peeps"])
    assert r.exit_code == 2 and "peeps" in r.output


def test_progress_bar_runs_with_rate_and_eta(tmp_path, capsys):
    sc = load_scenario(write(tmp_path), ["design.replications=2"])
    run_batch(sc, tmp_path / "out", chunk=1, progress=True)  # must not fail when forced on
    assert len(pd.read_parquet(tmp_path / "out" / "runs")) == 2


def test_headline_shows_each_public_budget_when_the_fiscal_kpis_are_there():
    from effekt.experiments.summary import headline

    # amounts rounded to what the model can know: from 10 000 the nearest thousand (mean -250 000,
    # P5 -385 000, P95 -115 000 by hand), below the nearest hundred; thin spaces between thousands
    runs = pd.DataFrame({"replication": range(4),
                         "fiscal_npv_kommune": [-100_000.0, -200_000, -300_000, -400_000],
                         "fiscal_npv_state": [1000.0, 1000, 1000, 1000]})
    line = next(x for x in headline(runs, lang="en") if x.startswith("Public budgets"))
    assert "kommune -250\u202f000 (90 % of runs -385\u202f000 to -115\u202f000)" in line
    assert "state 1\u202f000" in line
    assert "total" not in line


def test_wilson_bounds_are_exact_at_none_and_all():
    from effekt.experiments.summary import wilson

    assert wilson(0, 40)[0] == 0.0 and wilson(40, 40)[1] == 1.0
    low, high = wilson(0, 40)
    assert 0 < high < 0.1  # 3.69/(40+3.84) for z = 1.96: hand-computed 0.0876
    assert high == pytest.approx(0.0876, abs=1e-3)


def test_a_rounded_negative_zero_is_printed_as_zero():
    from effekt.experiments.formatting import number, percent

    assert percent(-0.0023, "en") == "0\u00a0%" and percent(-0.006, "en") == "-1\u00a0%"
    assert number(-0.4, "en") == "0" and number(-1234.6, "en") == "-1\u202f235"


def test_a_share_has_its_interval_cut_to_zero_and_one():
    # values near 1: t(0.975, 3) = 3.182446, sd of (0.9, 1, 1, 1) = 0.05, half width 0.0795611;
    # mean 0.975, so the t interval runs to 1.0546, above what a mean of shares can be
    x = np.array([0.9, 1.0, 1.0, 1.0])
    plain, cut = describe(x), describe(x, bounds=(0.0, 1.0))
    assert plain["ci_high"] == pytest.approx(0.975 + 0.0795611, abs=1e-6)
    assert cut["ci_high"] == 1.0 and cut["ci_low"] == pytest.approx(plain["ci_low"])
    assert describe(np.array([0.9, 1.2, 1.0]), bounds=(0.0, 1.0))["ci_high"] > 1  # no share after all
    # kpi_table cuts a KPI declared a share (paid_not_additional_share), not a count
    runs = pd.DataFrame({"replication": range(4), "paid_not_additional_share": x,
                         "paid_primary_outcomes": x})
    t = kpi_table(runs)
    assert t.loc["paid_not_additional_share", "ci_high"] == 1.0
    assert t.loc["paid_primary_outcomes", "ci_high"] == pytest.approx(plain["ci_high"])


def test_the_headline_says_what_was_paid_for_beside_the_truth_in_nb_and_en():
    from effekt.experiments.summary import headline

    runs = pd.DataFrame({"replication": range(2), "paid_primary_outcomes": [4.0, 6.0],
                         "measured_additional_outcomes": [4.0, 6.0], "additional_outcomes": [1.0, 3.0],
                         "paid_not_additional_share": [0.8, 0.6]})
    en = next(x for x in headline(runs, lang="en") if x.startswith("Primary outcomes paid for"))
    assert en == ("Primary outcomes paid for: 5.0 (90 % of runs 4.1 to 5.9); additional as the evaluation "
                  "design measures them 5.0 (90 % of runs 4.1 to 5.9); truly additional (against the "
                  "control arm) 2.0 (90 % of runs 1.1 to 2.9); not additional: 70\u00a0% of those paid for")
    nb = headline(runs, lang="nb")
    assert nb[0] == "2 replikasjoner"
    line = next(x for x in nb if x.startswith("Primærresultater det ble betalt for"))
    assert line == ("Primærresultater det ble betalt for: 5,0 (90 % av kjøringene 4,1 til 5,9); ekstra slik "
                    "evalueringsdesignet måler dem 5,0 (90 % av kjøringene 4,1 til 5,9); faktisk ekstra "
                    "(mot kontrollgruppen) 2,0 (90 % av kjøringene 1,1 til 2,9); ikke ekstra: 70\u00a0% "
                    "av dem det ble betalt for")
    budgets = headline(runs.assign(fiscal_npv_state=1000.0), lang="nb")
    assert ("Offentlige budsjetter, tiltaket mot det kontrafaktiske, nåverdi med kontrakten: stat 1\u00a0000 "
            "(90 % av kjøringene 1\u00a0000 til 1\u00a0000) kr") in budgets
    with pytest.raises(ValueError, match="language 'de'; allowed: en, nb"):
        headline(runs, lang="de")
