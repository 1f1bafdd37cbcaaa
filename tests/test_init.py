"""``effekt init``: a scenario file from the answers to a few questions, or from a filled-in Excel
input sheet, that validates and runs with what was answered; bad cells named by sheet and cell
with what is allowed, never a traceback.
"""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner

from effekt.experiments import load_runs, load_scenario, run_batch
from effekt.experiments.cli import main
from effekt.experiments.init_scenario import (
    FIRST_ROW,
    LISTS,
    SHEET,
    Answers,
    contracts,
    parse_groups,
    problems,
    scenario_toml,
)

# the answers in the order effekt init asks: name, title, pathway, groups, size, contract, the
# contract's prices one by one (gloppen_outcomes: fagbrev, job_sustained), kommune's share, replications
GLOPPEN = ["gloppen_12", "Gloppen-klasse for 12 flyktninger", "gloppen", "R=1", "12", "gloppen_outcomes",
           "120000", "90000", "1", "3"]


def _ask(tmp_path, answers: list[str], *extra: str):
    return CliRunner().invoke(main, ["init", "--out", str(tmp_path / "s.toml"), *extra],
                              input="\n".join(answers) + "\n")


def test_init_from_questions_writes_a_scenario_that_validates_and_runs(tmp_path):
    r = _ask(tmp_path, GLOPPEN, "--lang", "nb")
    assert r.exit_code == 0, r.output
    assert "gyldig (12 personer, forløp gloppen, kontrakt gloppen_outcomes)" in r.output
    sc = load_scenario(tmp_path / "s.toml")
    assert sc.info.name == "gloppen_12" and sc.info.title == "Gloppen-klasse for 12 flyktninger"
    assert sc.world.size == 12 and sc.world.pathway.name == "gloppen"
    assert sc.terms.contract.name == "gloppen_outcomes"
    assert dict(sc.terms.commissioners) == {"kommune": 1.0, "state": 0.0}
    # the contract's term (66 months) needs a horizon of 286 weeks (66 x 52 / 12, rounded up)
    assert sc.world.horizon_weeks == 286
    text = (tmp_path / "s.toml").read_text(encoding="utf-8")
    assert "prices.fagbrev = 120000    # assumption" in text and "groups = { R = 1 }" in text
    r = CliRunner().invoke(main, ["validate", str(tmp_path / "s.toml")])
    assert r.exit_code == 0, r.output
    run_batch(load_scenario(tmp_path / "s.toml"), tmp_path / "out", progress=False)
    runs = load_runs(tmp_path / "out")
    assert len(runs) == 3 and (runs["participants"] == 12).all()


def test_init_asks_again_for_an_answer_it_cannot_take_and_speaks_english(tmp_path):
    # a bad name, an unknown pathway and a group mix without '=' are asked again
    answers = ["Bad Name", "kongsberg", "Kongsberg kull", "nope", "kongsberg_kull", "A", "A=0,5;B=0,5",
               "10", "kongsberg_outcomes", "45000", "90000", "0.5", "2"]
    r = _ask(tmp_path, answers, "--lang", "en")
    assert r.exit_code == 0, r.output
    assert "lower-case letters" in r.output and "Target groups and shares" in r.output
    sc = load_scenario(tmp_path / "s.toml")
    assert sc.info.name == "kongsberg" and sc.world.size == 10 and sc.world.horizon_weeks == 156
    assert sc.world.cohorts[0].groups == {"A": 0.5, "B": 0.5}


def test_init_refuses_to_overwrite_without_force(tmp_path):
    (tmp_path / "s.toml").write_text("# mine\n", encoding="utf-8")
    r = _ask(tmp_path, GLOPPEN, "--lang", "en")
    assert r.exit_code == 2 and "exists" in r.output and "--force" in r.output
    assert (tmp_path / "s.toml").read_text(encoding="utf-8") == "# mine\n"


def test_the_answers_are_checked_before_a_file_is_written():
    bad = Answers(name="x", pathway="nowhere", groups={"A": 0.6, "Q": 0.2}, size=0,
                  contract="gloppen_outcomes", prices={"job_start": 1.0}, kommune_share=1.5)
    found = problems(bad, "en")
    assert any("Pathway (built-in): 'nowhere'" in p and "kongsberg_kull" in p for p in found)
    assert any("'Q'" in p for p in found)
    assert any("sum to 0.8, not 1" in p for p in found)
    assert any("'job_start'" in p and "fagbrev, job_sustained" in p for p in found)
    assert any("'1.5'" in p and "from 0 to 1" in p for p in found)
    assert any("'0'" in p and "whole number" in p for p in found)
    assert any("andelene fra målgruppene summerer til 0,8" in p for p in problems(bad, "nb"))
    assert parse_groups("A=0.25, B=0.75") == {"A": 0.25, "B": 0.75}
    with pytest.raises(ValueError):
        parse_groups("A")
    assert "commissioners = { kommune = 0.5, state = 0.5 }" in scenario_toml(Answers())


def test_the_input_sheet_has_nb_questions_and_lists_of_what_is_allowed(tmp_path):
    path = tmp_path / "mal.xlsx"
    r = CliRunner().invoke(main, ["init", "--xlsx-template", str(path), "--lang", "nb"])
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [SHEET, LISTS] and wb[LISTS].sheet_state == "hidden"
    ws = wb[SHEET]
    assert [c.value for c in ws[2]] == ["Spørsmål", "Svar", "Tillatt", "Nøkkel"]
    keys = {ws.cell(row=r, column=4).value: r for r in range(FIRST_ROW, ws.max_row + 1)}
    assert {"pathway", "contract", "size", "groups.R", "price", "kommune_share", "replications"} <= set(keys)
    assert ws.cell(row=keys["size"], column=1).value == "Antall deltakere i kullet"
    checks = {str(c.sqref): c for c in ws.data_validations.dataValidation}
    pathway = checks[f"B{keys['pathway']}"]
    assert pathway.type == "list" and pathway.formula1.startswith(f"={LISTS}!$A$2")
    listed = [c.value for c in wb[LISTS]["A"][1:] if c.value]
    assert "gloppen" in listed and "kongsberg_kull" in listed
    contract_list = [c.value for c in wb[LISTS]["B"][1:] if c.value]
    assert contract_list == list(contracts()) and "dwp_rate_card" not in contract_list  # kroner only
    assert checks[f"B{keys['size']}"].type == "whole"
    share = checks[f"B{keys['kommune_share']}"]
    assert share.type == "decimal" and (share.formula1, share.formula2) == ("0", "1")


def _filled(tmp_path, **cells) -> tuple:
    path = tmp_path / "mal.xlsx"
    CliRunner().invoke(main, ["init", "--xlsx-template", str(path), "--lang", "nb", "--force"])
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    keys = {ws.cell(row=r, column=4).value: r for r in range(FIRST_ROW, ws.max_row + 1)}
    for key, value in cells.items():
        ws.cell(row=keys[key.replace("__", ".")], column=2).value = value  # None empties the cell
    filled = tmp_path / "utfylt.xlsx"
    wb.save(filled)
    return filled, keys


def test_init_from_a_filled_in_sheet_validates_and_runs(tmp_path):
    filled, _ = _filled(tmp_path, name="lyngdal_test", pathway="lyngdal_en_av_mange", size=9,
                        groups__A=0.5, groups__B=0.5, groups__C=None, groups__D=None,
                        contract="lyngdal_en_av_mange_outcomes", outcome="job_start", price="50 000",
                        kommune_share="0,25", replications=2)
    r = CliRunner().invoke(main, ["init", "--from-xlsx", str(filled), "--out", str(tmp_path / "l.toml"),
                                  "--lang", "nb"])
    assert r.exit_code == 0, r.output
    sc = load_scenario(tmp_path / "l.toml")
    assert sc.world.size == 9 and sc.world.pathway.name == "lyngdal_en_av_mange"
    assert sc.world.cohorts[0].groups == {"A": 0.5, "B": 0.5}
    assert dict(sc.terms.commissioners) == {"kommune": 0.25, "state": 0.75}
    assert "prices.job_start = 50000" in (tmp_path / "l.toml").read_text(encoding="utf-8")
    run_batch(sc, tmp_path / "out", progress=False)
    assert len(load_runs(tmp_path / "out")) == 2


def test_bad_cells_are_named_by_sheet_and_cell_with_what_is_allowed(tmp_path):
    filled, keys = _filled(tmp_path, size="tolv", contract="ingen_mal", replications=0, groups__R=0.5)
    r = CliRunner().invoke(main, ["init", "--from-xlsx", str(filled), "--out", str(tmp_path / "x.toml"),
                                  "--lang", "nb"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    size = f"Scenario!B{keys['size']} (Antall deltakere i kullet)"
    assert f"{size}: 'tolv' går ikke; tillatt: et heltall fra 1" in r.output
    assert f"Scenario!B{keys['contract']}" in r.output and "kongsberg_outcomes" in r.output
    assert f"Scenario!B{keys['replications']}" in r.output
    assert "summerer til 1,5, ikke 1" in r.output  # 0.2 + 0.3 + 0.3 + 0.2 + 0.5
    assert not (tmp_path / "x.toml").exists()
    wrong, keys = _filled(tmp_path, contract="gloppen_outcomes", outcome="job_start")
    r = CliRunner().invoke(main, ["init", "--from-xlsx", str(wrong), "--out", str(tmp_path / "y.toml"),
                                  "--lang", "en"])
    assert r.exit_code == 2 and f"Scenario!B{keys['outcome']}" in r.output
    assert "an outcome of the contract template: fagbrev, job_sustained" in r.output
    other = tmp_path / "not.xlsx"
    other.write_text("name,value\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["init", "--from-xlsx", str(other), "--lang", "en"])
    assert r.exit_code == 2 and "not an Excel file" in r.output and "Traceback" not in r.output


def test_init_reads_numbers_as_people_type_them_and_asks_again_in_their_language(tmp_path):
    # review 13: "150 000" and "0,5" were refused with click's English message
    answers = ["gloppen_12", "Gloppen", "gloppen", "R=1", "tolv", "12", "gloppen_outcomes",
               "120 000", "90\u00a0000", "1,5", "0,5", "3"]
    r = _ask(tmp_path, answers, "--lang", "nb")
    assert r.exit_code == 0, r.output
    assert "'tolv' går ikke: skriv et heltall, 1 eller mer" in r.output
    assert "'1,5' går ikke: skriv et tall, 0-1" in r.output
    sc = load_scenario(tmp_path / "s.toml")
    assert sc.world.size == 12 and dict(sc.terms.commissioners) == {"kommune": 0.5, "state": 0.5}
    text = (tmp_path / "s.toml").read_text(encoding="utf-8")
    assert "prices.fagbrev = 120000 " in text and "prices.job_sustained = 90000 " in text


def test_init_says_when_it_cannot_write_its_file(tmp_path):
    r = _ask(tmp_path / "no_such_folder", GLOPPEN, "--lang", "en")
    assert r.exit_code == 2 and "cannot be written" in r.output and "Traceback" not in r.output
