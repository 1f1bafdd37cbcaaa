"""``effekt export DIR --xlsx FILE --csv DIR`` and the CSV for Norwegian Excel.

The workbook is opened with openpyxl and checked against the results directory itself, not
against the code that wrote it: each party's discounted yearly budgets add up to the mean of its
``fiscal_npv_<party>`` KPI in ``runs/``, every KPI's mean is the mean of its ``runs/`` column,
numbers are numbers with Excel number formats (no text, no NaN, no formula), the sheets are named
in bokmål (English with ``--lang en``), the header rows frozen. The assumptions sheet gives the
sources the files write beside the numbers. CSV in bokmål reads back with ``sep=";"`` and
``decimal=","`` to the same numbers, and starts with a BOM; in English it is plain CSV.
"""

from __future__ import annotations

import datetime
import io
import math
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from effekt.experiments import load_runs, load_scenario, run_batch
from effekt.experiments.assumptions import assumptions, comment_index, kind_of
from effekt.experiments.cli import main
from effekt.experiments.excel_csv import csv_text, plain, read_csv

SCENARIO = ["design.replications=6", "world.cohorts[0].size=8"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "out"
    run_batch(load_scenario(None, SCENARIO), out, chunk=3, progress=False)
    return out


@pytest.fixture(scope="module")
def workbook(results, tmp_path_factory):
    path = tmp_path_factory.mktemp("xlsx") / "resultater.xlsx"
    r = CliRunner().invoke(main, ["export", str(results), "--xlsx", str(path), "--lang", "nb"])
    assert r.exit_code == 0, r.output
    return openpyxl.load_workbook(path)


def _table(ws, header_row: int = 1) -> pd.DataFrame:
    rows = list(ws.iter_rows(min_row=header_row, values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_the_sheets_are_named_in_bokmal_and_in_english(workbook, results, tmp_path):
    assert workbook.sheetnames == ["Sammendrag", "Budsjett per år", "KPI-er", "Forutsetninger"]
    path = tmp_path / "results.xlsx"
    r = CliRunner().invoke(main, ["export", str(results), "--xlsx", str(path), "--lang", "en"])
    assert r.exit_code == 0, r.output
    en = openpyxl.load_workbook(path)
    assert en.sheetnames == ["Summary", "Budgets by year", "KPIs", "Assumptions"]
    assert [c.value for c in en["Budgets by year"][1]][:3] == ["party", "year", "item"]


def test_each_partys_yearly_budgets_add_up_to_its_npv_in_the_runs_table(workbook, results):
    runs = load_runs(results)
    sheet = _table(workbook["Budsjett per år"])
    assert list(sheet.columns[:6]) == ["part", "år", "post", "med tiltaket", "uten tiltaket", "forskjell"]
    discounted = sheet.columns[-1]
    net = sheet[sheet["post"] == "netto"]
    for party, name in (("kommunen", "fiscal_npv_kommune"), ("staten", "fiscal_npv_state"),
                        ("fylkeskommunen", "fiscal_npv_fylke")):
        mine = net[net["part"] == party]
        assert sorted(mine["år"]) == [0, 1, 2]  # three years, each once
        assert mine[discounted].sum() == pytest.approx(runs[name].mean(), abs=1.0), party
        items = sheet[(sheet["part"] == party) & (sheet["post"] != "netto")]
        assert items[discounted].sum() == pytest.approx(runs[name].mean(), abs=1.0), party
    # the difference of each row is the treatment minus the control here (the same people)
    both = sheet.dropna(subset=["uten tiltaket"])
    assert (both["med tiltaket"] - both["uten tiltaket"] - both["forskjell"]).abs().max() < 1e-6


def test_numbers_are_numbers_with_excel_formats_and_no_errors(workbook):
    for ws in workbook:
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                assert not (isinstance(v, float) and not math.isfinite(v)), (ws.title, cell.coordinate)
                if isinstance(v, str):
                    assert not v.startswith("=") and not v.startswith("#"), (ws.title, cell.coordinate)
                assert cell.data_type != "e", (ws.title, cell.coordinate)
    budgets = workbook["Budsjett per år"]
    assert budgets.freeze_panes == "A2"
    assert all(c.font.bold for c in budgets[1])
    money = [budgets.cell(row=r, column=4) for r in range(2, budgets.max_row + 1)]
    assert all(isinstance(c.value, int | float) and c.number_format == "#,##0" for c in money)
    kpis = _table(workbook["KPI-er"])
    ws = workbook["KPI-er"]
    row = 2 + kpis.index[kpis["KPI"] == "in_work_24m_treatment"][0]
    assert ws.cell(row=row, column=4).number_format == "0.0%"
    row = 2 + kpis.index[kpis["KPI"] == "outcome_payments"][0]
    assert ws.cell(row=row, column=4).number_format == "#,##0"
    assert ws.freeze_panes == "C2"
    assert ws.column_dimensions["B"].width >= 40


def test_the_kpi_sheet_has_every_kpi_with_its_mean(workbook, results):
    runs = load_runs(results)
    kpis = _table(workbook["KPI-er"]).set_index("KPI")
    assert {"beskrivelse", "gjennomsnitt", "95 % KI, nedre", "95 % KI, øvre", "5 %-persentil",
            "95 %-persentil"} <= set(kpis.columns)
    for name in ("in_work_24m_treatment", "outcome_payments", "investor_loss", "fiscal_npv_kommune"):
        assert kpis.loc[name, "gjennomsnitt"] == pytest.approx(runs[name].mean(), rel=1e-9, abs=1e-9)
        assert kpis.loc[name, "5 %-persentil"] == pytest.approx(runs[name].quantile(0.05), abs=1e-6)
    assert kpis.loc["investor_loss", "beskrivelse"].startswith("Sannsynlighet for tap")


def test_the_summary_sheet_names_the_scenario_the_dates_and_the_key_numbers(workbook, results):
    ws = workbook["Sammendrag"]
    facts = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value for r in range(2, 10)}
    assert facts["Scenario"] == "kongsberg_default"
    assert isinstance(facts["Kjørt"], datetime.datetime)
    assert isinstance(facts["Eksportert"], datetime.datetime)
    assert facts["Replikasjoner"] == 6
    head = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=2).value == "antall")
    assert ws.freeze_panes == f"A{head + 1}"
    labels = [ws.cell(row=r, column=1).value for r in range(head + 1, ws.max_row + 1)]
    runs = load_runs(results)
    kommune = labels.index(next(x for x in labels if x and "kommunen" in x and "nåverdi" in x.lower()))
    assert ws.cell(row=head + 1 + kommune, column=3).value == pytest.approx(runs["fiscal_npv_kommune"].mean())


def test_the_assumptions_sheet_gives_the_sources_beside_the_numbers(workbook):
    sheet = _table(workbook["Forutsetninger"]).set_index("nøkkel")
    assert list(sheet.columns) == ["verdi", "grunnlag", "kilde eller merknad", "fil"]
    price = sheet.loc["contract.prices.job_start"]
    assert price["verdi"] == 45000 and price["grunnlag"] == "antakelse"
    assert price["fil"] == "kongsberg_outcomes.toml"
    aap = sheet.loc["world.benefits.aap.g"]
    assert aap["verdi"] == pytest.approx(2.041) and aap["grunnlag"] == "kilde"
    assert "folketrygdloven" in aap["kilde eller merknad"]
    assert sheet.loc["scenario.G", "kilde eller merknad"].startswith("source: NAV")  # the scenario file's
    assert sheet.loc["pathway.stages.course.duration.value", "grunnlag"] == "kilde"  # an inline table's line


def test_comments_are_found_by_the_key_the_scenario_spells():
    text = "\n".join([
        "[a]", 'title = "no # comment here"', "x = 1  # source: law", "y = { p = 2 }  # assumption",
        "z = [", "  { to = 'q', p = 0.1 },  # assumption: first", "  { to = 'r', p = 0.2 },", "]",
        "[[c]]", "n = 3  # calibrated", "[[c]]", "n = 4  # derived: from n"])
    index = comment_index(text)
    assert index == {"a.x": "source: law", "a.y": "assumption", "a.z[0]": "assumption: first",
                     "c[0].n": "calibrated", "c[1].n": "derived: from n"}
    assert [kind_of(index[k]) for k in ("a.x", "a.y", "c[0].n", "c[1].n")] == [
        "source", "assumption", "calibrated", "derived"]


def test_csv_for_norwegian_excel_reads_back_to_the_same_numbers():
    frame = pd.DataFrame({"part": ["kommunen", "fylkeskommunen"], "beløp": [1158610.25, -0.5],
                          "andel": [0.123456, 4.337e-19], "n": [3, 4]})
    nb = csv_text(frame, "nb")
    assert nb.startswith("\ufeff") and nb.splitlines()[1] == "kommunen;1158610;0,123456;3"
    assert not re.search(r"\d[eE][-+]?\d", nb) and not re.search(r"(^|;)-0(;|$)", nb, re.M)
    back = pd.read_csv(io.StringIO(nb), sep=";", decimal=",", encoding="utf-8-sig")
    back.columns = [c.removeprefix("\ufeff") for c in back.columns]
    assert back["beløp"].tolist() == [1158610.0, -0.5] and back["andel"].tolist() == [0.123456, 0.0]
    en = csv_text(frame, "en")
    assert not en.startswith("\ufeff") and en.splitlines()[1] == "kommunen,1158610,0.123456,3"
    assert pd.read_csv(io.StringIO(en))["beløp"].tolist() == [1158610.0, -0.5]
    assert plain(float("nan")) == "" and plain(-0.0) == "0" and plain(2.5, ",") == "2,5"


def test_summary_csv_in_bokmal_and_english(results):
    runs = load_runs(results)
    nb = CliRunner().invoke(main, ["summary", str(results), "--format", "csv", "--lang", "nb"])
    assert nb.exit_code == 0, nb.output
    assert nb.output.startswith("\ufeff")
    table = pd.read_csv(io.StringIO(nb.output.removeprefix("\ufeff")), sep=";", decimal=",")
    mean = table.columns[3]
    row = table[table[table.columns[0]] == "outcome_payments"].iloc[0]
    assert row[mean] == pytest.approx(runs["outcome_payments"].mean(), rel=1e-5)
    en = CliRunner().invoke(main, ["summary", str(results), "--format", "csv", "--lang", "en"])
    assert en.output.splitlines()[0] == "kpi,label,n,mean,ci_low,ci_high,p5,p50,p95"
    table = pd.read_csv(io.StringIO(en.output)).set_index("kpi")
    assert table.loc["outcome_payments", "mean"] == pytest.approx(runs["outcome_payments"].mean(), rel=1e-5)


def test_export_csv_files_read_back(results, tmp_path):
    r = CliRunner().invoke(main, ["export", str(results), "--csv", str(tmp_path / "csv"), "--lang", "nb"])
    assert r.exit_code == 0, r.output
    files = sorted(p.name for p in (tmp_path / "csv").iterdir())
    assert files == ["budsjett_per_aar.csv", "forutsetninger.csv", "kpi.csv", "sammendrag.csv"]
    assert (tmp_path / "csv" / "kpi.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    budgets = read_csv(tmp_path / "csv" / "budsjett_per_aar.csv", "nb")
    runs = load_runs(results)
    net = budgets[(budgets["part"] == "kommunen") & (budgets["post"] == "netto")]
    assert net[budgets.columns[-1]].sum() == pytest.approx(runs["fiscal_npv_kommune"].mean(), abs=1.0)
    kpis = read_csv(tmp_path / "csv" / "kpi.csv", "nb").set_index("KPI")
    assert kpis.loc["investor_loss", "gjennomsnitt"] == pytest.approx(runs["investor_loss"].mean(), rel=1e-5)


def test_export_errors_are_messages_not_tracebacks(results, tmp_path):
    r = CliRunner().invoke(main, ["export", str(results), "--lang", "en"])
    assert r.exit_code == 2 and "--xlsx FILE" in r.output
    r = CliRunner().invoke(main, ["export", str(results), "--xlsx", str(tmp_path / "a.xlsx"), "--point", "4",
                                  "--lang", "en"])
    assert r.exit_code == 2 and "design point 4" in r.output and "Traceback" not in r.output
    empty = tmp_path / "empty"
    empty.mkdir()
    r = CliRunner().invoke(main, ["export", str(empty), "--xlsx", str(tmp_path / "b.xlsx"), "--lang", "nb"])
    assert r.exit_code == 2 and "manifest.json" in r.output and "Traceback" not in r.output


def test_a_design_point_shows_its_own_value_beside_the_files(tmp_path):
    contract = tmp_path / "mine.toml"
    contract.write_text("[prices]\njob_start = 45000  # assumption: x\n", encoding="utf-8")
    manifest = {"scenario": {"contract": {"prices": {"job_start": 45000}, "contract": {"name": "mine"}}},
                "points": [{}, {"contract.prices.job_start": 60000}]}
    base = assumptions(manifest, [("contract", contract)], point=0).set_index("key")
    assert base.loc["contract.prices.job_start", ["value", "kind", "source", "file"]].tolist() == [
        45000, "assumption", "assumption: x", "mine.toml"]
    swept = assumptions(manifest, [("contract", contract)], point=1).set_index("key")
    assert swept.loc["contract.prices.job_start", ["value", "kind", "source"]].tolist() == [
        60000, "design", "45000; assumption: x"]


def test_the_users_own_contract_file_gives_its_sources(tmp_path):
    from effekt.contracts import templates_dir
    from effekt.experiments.assumptions import read_assumptions

    own = (templates_dir() / "kongsberg_outcomes.toml").read_text(encoding="utf-8").replace(
        "job_start = 45000           # assumption", "job_start = 52000  # source: our tender 2026; was")
    (tmp_path / "our_contract.toml").write_text(own, encoding="utf-8")
    scenario = tmp_path / "s.toml"
    text = Path(load_scenario(None).source).read_text(encoding="utf-8")
    scenario.write_text(text.replace('template = "kongsberg_outcomes"', 'template = "our_contract.toml"'),
                        encoding="utf-8")
    run_batch(load_scenario(scenario, ["design.replications=1", "world.cohorts[0].size=3"]), tmp_path / "o",
              progress=False)
    table = read_assumptions(tmp_path / "o").set_index("key")
    row = table.loc["contract.prices.job_start"]
    assert row["value"] == 52000 and row["kind"] == "source" and row["file"] == "our_contract.toml"
    assert row["source"].startswith("source: our tender 2026")


def test_export_never_replaces_a_users_file_unasked_nor_makes_folders_anywhere(results, tmp_path):
    # review 13: --xlsx replaced a text file with a workbook and made missing parent folders
    notes = tmp_path / "notater.xlsx"
    notes.write_text("mine", encoding="utf-8")
    r = CliRunner().invoke(main, ["export", str(results), "--xlsx", str(notes), "--lang", "en"])
    assert r.exit_code == 2 and "exists already; pass --overwrite" in r.output
    assert notes.read_text(encoding="utf-8") == "mine"
    r = CliRunner().invoke(main, ["export", str(results), "--xlsx", str(notes), "--overwrite",
                                  "--lang", "en"])
    assert r.exit_code == 0 and openpyxl.load_workbook(notes).sheetnames[0] == "Summary"
    far = tmp_path / "no" / "such" / "place.xlsx"
    r = CliRunner().invoke(main, ["export", str(results), "--xlsx", str(far), "--lang", "en"])
    assert r.exit_code == 2 and "does not exist" in r.output and not (tmp_path / "no").exists()
    assert CliRunner().invoke(main, ["export", str(results), "--csv", str(tmp_path / "c")]).exit_code == 0
    again = CliRunner().invoke(main, ["export", str(results), "--csv", str(tmp_path / "c"), "--lang", "en"])
    assert again.exit_code == 2 and "--overwrite" in again.output
