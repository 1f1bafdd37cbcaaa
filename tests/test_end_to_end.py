"""The walking skeleton end to end: the default scenario through sim, contracts and experiments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from effekt.experiments.batch import run_batch
from effekt.experiments.budgets import load_budgets
from effekt.experiments.cli import main
from effekt.experiments.executors import ProcessExecutor, SerialExecutor
from effekt.experiments.runner import run_replication
from effekt.experiments.summary import load_runs
from effekt.sim import replication_seed, simulate


def test_people_are_conserved_and_spells_tile_the_horizon(small_scenario):
    world = small_scenario.world
    for rep in range(5):
        t = simulate(world, replication_seed(small_scenario.design.seed, rep))
        persons = t.persons.to_pandas()
        spells = t.spells.to_pandas()
        # every referred person appears once per arm, in both arms (parallel counterfactual)
        assert (persons.groupby("arm").size() == world.size).all()
        assert set(persons["arm"]) == {"treatment", "control"}
        # each person's spells cover [entry, horizon] without gap or overlap
        entries = persons.set_index(["arm", "person_id"])["entry_week"]
        # (by start, then end: a stage that takes no time, such as a business-as-usual pathway's
        # branch at referral, is a spell of length 0 before the one that starts when it ends)
        for key, s in spells.sort_values(["start", "end"], kind="stable").groupby(["arm", "person_id"]):
            entry = entries.loc[key]
            assert s["start"].iloc[0] == pytest.approx(entry)
            assert s["end"].iloc[-1] == pytest.approx(world.horizon_weeks)
            np.testing.assert_allclose(s["start"].to_numpy()[1:], s["end"].to_numpy()[:-1])
            assert (s["end"] >= s["start"]).all()


def test_capacity_is_never_exceeded(small_scenario):
    slots = small_scenario.world.pathway.capacity["placements"].slots
    t = simulate(small_scenario.world, replication_seed(1, 0))
    cap = t.capacity.to_pandas().dropna(subset=["granted"])
    times = np.sort(np.concatenate([cap["granted"], cap["released"]]))
    in_use = [((cap["granted"] <= x) & (cap["released"] > x)).sum() for x in times]
    assert max(in_use) <= slots
    assert (cap["granted"] >= cap["requested"]).all()


def test_payments_never_exceed_caps_and_never_pay_after_the_term(small_scenario):
    terms = small_scenario.terms
    for rep in range(10):
        out = run_replication(small_scenario, rep)
        cash = out["cashflows"]
        paid = cash[(cash.party == "investor") & (cash.item == "outcome_payment")]["amount"].sum()
        assert 0 <= paid <= terms.caps.contract + 1e-6
        # commissioners together pay exactly what the investor receives
        comm = cash[cash.party.isin(list(terms.commissioners))]["amount"].sum()
        assert comm == pytest.approx(-paid)


def test_same_seed_gives_identical_tables(small_scenario):
    a = simulate(small_scenario.world, replication_seed(7, 3))
    b = simulate(small_scenario.world, replication_seed(7, 3))
    c = simulate(small_scenario.world, replication_seed(7, 4))
    for (name, ta), (_, tb) in zip(a.items(), b.items(), strict=True):
        assert ta.equals(tb), name
    assert not a.spells.equals(c.spells)


def test_serial_and_processes_write_identical_results(small_scenario, tmp_path):
    run_batch(small_scenario, tmp_path / "serial", executor=SerialExecutor(), chunk=5,
              progress=False)
    run_batch(small_scenario, tmp_path / "procs", executor=ProcessExecutor(2), chunk=7,
              progress=False)
    a, b = load_runs(tmp_path / "serial"), load_runs(tmp_path / "procs")
    assert len(a) == small_scenario.design.replications
    pd.testing.assert_frame_equal(a, b)
    # the budgets per year too, whatever the executor and the chunking
    budgets = load_budgets(tmp_path / "serial")
    assert sorted(budgets["replication"].unique()) == list(range(small_scenario.design.replications))
    pd.testing.assert_frame_equal(budgets, load_budgets(tmp_path / "procs"))


def test_cli_run_prints_summary_and_writes_parquet(tmp_path):
    out = tmp_path / "res"
    result = CliRunner().invoke(main, ["run", "--runs", "12", "--workers", "1", "--out", str(out),
                                          "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "In work 12 months after start" in result.output
    assert "Investor IRR" in result.output
    assert str(out) in result.output
    runs = pd.read_parquet(out / "runs")
    assert len(runs) == 12
    assert runs["in_work_12m_treatment"].between(0, 1).all()
    assert (out / "manifest.json").exists()


def test_cli_version_and_help():
    r = CliRunner().invoke(main, ["--version"])
    assert r.exit_code == 0 and "effekt" in r.output
    r = CliRunner().invoke(main, ["--help"])
    assert r.exit_code == 0 and "run" in r.output


def test_cli_bad_override_is_a_clear_error(tmp_path):
    r = CliRunner().invoke(main, ["run", "--out", str(tmp_path / "x"), "--set",
                                  "contract.prices.job_strat=1"])
    assert r.exit_code == 2
    assert "prices" in r.output and "job_strat" in r.output
    assert "Traceback" not in r.output
