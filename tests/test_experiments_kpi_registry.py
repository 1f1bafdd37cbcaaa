"""The experiments layer reads the contracts' KPI declarations: the runs schema and the Parquet
column metadata carry them, and summary, compare, break-even and power look columns up there."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from effekt.contracts import Kpi, KpiRegistry, common_kpis, kpis_for
from effekt.experiments.analysis.breakeven import commissioner_values, investor_values
from effekt.experiments.analysis.compare import compare_runs
from effekt.experiments.analysis.power import measure_columns, rates_from_runs
from effekt.experiments.batch import run_batch
from effekt.experiments.runner import Task, run_task, schemas, valuation_of
from effekt.experiments.scenario import load_scenario
from effekt.experiments.store import read_kpis
from effekt.experiments.summary import headline, kpi_table, load_kpis, load_runs, wilson

TRANCHES = ["contract.template=sticking_together", "world.horizon_weeks=208", "design.replications=3"]


@pytest.fixture(scope="module")
def tranche_results(tmp_path_factory):
    sc = load_scenario(None, TRANCHES)
    out = tmp_path_factory.mktemp("kpis") / "out"
    run_batch(sc, out, progress=False)
    return sc, out


def test_parquet_field_metadata_is_each_kpis_declaration(tranche_results):
    sc, out = tranche_results
    registry = kpis_for(sc.terms)
    for f in sorted((out / "runs").rglob("*.parquet")):
        schema = pq.read_schema(f)
        assert schema.names == ["replication", *registry.names]
        assert schema.field("replication").metadata is None
        for k in registry.values():
            md = schema.field(k.name).metadata
            assert md == {a.encode(): b.encode() for a, b in k.metadata().items()}, k.name
    # the declarations as a user without effekt sees them
    irr = pq.read_schema(next((out / "runs").rglob("*.parquet"))).field("investor_senior_irr").metadata
    assert irr[b"unit"] == b"1/year" and irr[b"kind"] == b"rate" and irr[b"party"] == b"investor.senior"
    assert irr[b"label_nb"].decode() == "Tranchen 'senior': internrente (per år)"
    # ... and read back as the same registry
    assert read_kpis(out) == registry and read_kpis(out).names == registry.names


def test_runs_schema_is_the_registry(tranche_results):
    sc, _ = tranche_results
    registry = kpis_for(sc.terms)
    runs = schemas(registry)["runs"]
    assert runs.names == ["replication", *registry.names]
    assert all(runs.field(n).type == pa.float64() for n in registry.names)
    table = run_task(sc, Task(0, 0, 1))["runs"]
    assert table.schema.equals(runs, check_metadata=True)
    plain = schemas(registry.names)["runs"]  # names alone: the same columns, no declarations
    assert plain.names == runs.names and plain.field("investor_irr").metadata is None


def test_summary_reads_the_declarations_stored_with_the_results(tranche_results):
    sc, out = tranche_results
    runs = load_runs(out)
    assert runs.attrs["kpis"] == kpis_for(sc.terms)
    t = kpi_table(runs, lang="nb")
    assert t.loc["investor_junior_loss", "label"] == "Sannsynlighet for tap for tranchen 'junior'"
    # a tranche's loss is declared an indicator: Wilson's interval, not Student's t
    x = runs["investor_junior_loss"]
    assert (t.loc["investor_junior_loss", "ci_low"], t.loc["investor_junior_loss", "ci_high"]) == \
        pytest.approx(wilson(x.sum(), len(x)))
    assert kpi_table(runs).loc["fiscal_npv_state", "label"] == "State budget, NPV vs counterfactual (NOK)"


def test_summary_follows_whatever_the_metadata_declares(tmp_path):
    # a hand-made results directory: one column declared an indicator with its own labels
    k = Kpi(name="my_flag", measure="my_flag", kind="indicator", unit="0/1", label_nb="Mitt flagg",
            label_en="My flag")
    schema = pa.schema([pa.field("replication", pa.int32()),
                        pa.field("my_flag", pa.float64(), metadata=k.metadata())])
    (tmp_path / "runs" / "point=0").mkdir(parents=True)
    table = pa.Table.from_pydict({"replication": [0, 1, 2, 3], "my_flag": [1.0, 0, 0, 0]}, schema=schema)
    pq.write_table(table, tmp_path / "runs" / "point=0" / "p00000-r0000000-0000004.parquet")
    assert load_kpis(tmp_path) == KpiRegistry([k])
    t = kpi_table(load_runs(tmp_path), lang="nb")
    assert t.loc["my_flag", "label"] == "Mitt flagg"
    assert (t.loc["my_flag", "ci_low"], t.loc["my_flag", "ci_high"]) == pytest.approx(wilson(1, 4))


def test_results_without_metadata_rebuild_the_registry_from_the_manifest(tranche_results, tmp_path):
    sc, out = tranche_results
    old = tmp_path / "old"
    shutil.copytree(out, old)
    for f in (old / "runs").rglob("*.parquet"):  # as an older effekt wrote them: no field metadata
        t = pq.read_table(f)
        pq.write_table(t.replace_schema_metadata(None).cast(
            pa.schema([pa.field(x.name, x.type) for x in t.schema])), f)
    assert read_kpis(old) is None
    assert load_kpis(old) == kpis_for(sc.terms)
    (old / "manifest.json").write_text(json.dumps({"scenario": {}}))
    assert load_kpis(old) == common_kpis()  # nothing to rebuild from: what every contract has


def test_headline_names_each_declared_public_budget():
    # amounts as a memo writes them: 25 000 from 10 000 .. 40 000, thin spaces between thousands
    runs = pd.DataFrame({"replication": range(4), "fiscal_npv_fylke": [10_000.0, 20_000, 30_000, 40_000],
                         "fiscal_npv_total": [1000.0, 1000, 1000, 1000]})
    terms = load_scenario(None, ["contract.commissioners={fylke = 1.0}"]).terms
    line = next(x for x in headline(runs, registry=kpis_for(terms), lang="en")
                if x.startswith("Public budgets"))
    assert "fylke 25\u202f000" in line and line.index("fylke") < line.index("total 1\u202f000")
    plain = next(x for x in headline(runs, lang="en") if x.startswith("Public budgets"))
    # a plain table: its columns are declared by the naming rule any contract follows
    assert "fylke 25\u202f000" in plain and plain.index("fylke") < plain.index("total 1\u202f000")


def test_compare_reads_indicators_and_budgets_from_the_registry():
    terms = load_scenario(None, ["contract.template=sticking_together", "world.horizon_weeks=208",
                                 "contract.commissioners={fylke = 1.0}"]).terms
    registry = kpis_for(terms)
    a = pd.DataFrame({"replication": [0, 1, 2], "investor_senior_loss": [1.0, 1, 0],
                      "fiscal_npv_fylke": [5.0, 6, 7]})
    t = compare_runs({"a": a, "b": a}, kpis=["investor_senior_loss"], registry=registry)
    t = t.set_index(["scenario", "kpi"])
    # Wilson 95 % for 2 of 3 (hand-computed in test_analysis_compare): (0.2077, 0.9385)
    assert (t.loc[("a", "investor_senior_loss"), "ci_low"], t.loc[("a", "investor_senior_loss"), "ci_high"]) \
        == pytest.approx((0.2077, 0.9385), abs=1e-4)
    assert t.loc[("a", "fiscal_npv_fylke"), "mean"] == 6  # the commissioner's budget comes along
    # without the contract's registry (a plain pd.read_parquet table) the column's declaration
    # comes from the naming rule every contract follows: still an indicator, still Wilson
    plain = compare_runs({"a": a}, kpis=["investor_senior_loss"]).set_index(["scenario", "kpi"])
    assert plain.loc[("a", "investor_senior_loss"), "ci_high"] == pytest.approx(0.9385, abs=1e-4)
    assert plain.loc[("a", "fiscal_npv_fylke"), "mean"] == 6  # declared by the same rule


def _renamed(registry: KpiRegistry, names: dict[str, str]) -> KpiRegistry:
    """``registry`` with some KPIs under other column names (same declarations otherwise)."""
    from dataclasses import replace

    return KpiRegistry(replace(k, name=names.get(k.name, k.name)) for k in registry.values())


def test_breakeven_reads_whose_result_is_which_column_from_the_registry():
    reg = _renamed(common_kpis(), {"fiscal_npv_total": "public_total", "investor_npv": "inv_npv",
                                   "investor_irr": "inv_irr", "investor_received": "inv_got",
                                   "investor_invested": "inv_in"})
    runs = pd.DataFrame({"public_total": [1.0, -2.0], "inv_npv": [3.0, 4.0], "inv_irr": [np.nan, 0.1],
                         "inv_got": [0.0, 5.0], "inv_in": [9.0, 4.0]})
    values, source = commissioner_values(runs, reg)
    assert list(values) == [1.0, -2.0] and source == "fiscal KPI public_total"
    assert list(investor_values(runs, "npv", reg)) == [3.0, 4.0]
    assert list(investor_values(runs, "irr", reg)) == [-1.0, 0.1]  # nothing back: -100 %


def test_power_finds_the_measures_of_both_arms_in_the_registry():
    assert measure_columns("in_work_24m") == ("in_work_24m_treatment", "in_work_24m_control")
    with pytest.raises(ValueError, match="measures: in_work_12m, in_work_24m"):
        measure_columns("outcomes")  # counts, not shares
    runs = pd.DataFrame({"in_work_12m_treatment": [0.5, 0.7], "in_work_12m_control": [0.2, 0.4]})
    assert rates_from_runs(runs) == pytest.approx((0.6, 0.3))


def test_valuation_of_a_scenario():
    sc = load_scenario(None, ["scenario.G=120000", "scenario.discount_rate=0.03",
                              "world.benefits.aap.payer=kommune", "world.counterfactual.mode=rct"])
    v = valuation_of(sc)
    assert (v.G, v.discount_rate, v.price_year) == (120000, 0.03, sc.info.price_year)
    assert v.benefit_payers["aap"] == "kommune" and v.benefit_payers["uforetrygd"] == "state"
    assert v.missing_control == "not_met"
    assert valuation_of(load_scenario(None, [])).missing_control == "raise"


def test_the_registry_rides_along_a_frame_without_being_copied(tranche_results):
    """pandas deep-copies ``attrs`` on nearly every operation; the read-only registry is shared, so
    a summary does not spend its time copying KPI declarations (it did: 5x the CPU of 50 frame
    operations on the default's results)."""
    import copy

    _, out = tranche_results
    runs = load_runs(out)
    reg = runs.attrs["kpis"]
    assert copy.deepcopy(reg) is reg and copy.copy(reg) is reg
    assert runs.copy().attrs["kpis"] is reg
    assert runs[runs.columns[:3]].groupby(runs.columns[0]).mean().attrs["kpis"] is reg
