"""Titles in Norwegian bokmål: every shipped data file gives them, one rule picks them, and an nb
report, ``effekt pathways show`` and the KPI labels use them instead of the English ones.

Expected titles are read from the TOML files themselves, never from the code that prints them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from effekt.contracts import kpis_for, load_terms
from effekt.experiments.batch import run_batch
from effekt.experiments.cli import main
from effekt.experiments.report import gather, render_html
from effekt.experiments.scenario import load_scenario
from effekt.sim import load_pathway
from effekt.specfile import SpecError
from effekt.titles import title

ROOT = Path(__file__).parents[1]
SHIPPED_DIRS = ["sim/pathways", "sim/business_as_usual", "sim/data", "contracts/templates",
                "contracts/data", "experiments/scenarios"]
SHIPPED = sorted(p for d in SHIPPED_DIRS for p in (ROOT / d).rglob("*.toml"))


def _titled_tables(data: object, where: str = "") -> list[tuple[str, dict]]:
    """Every table (at any depth) that has a ``title``, with its dotted key."""
    out = []
    if isinstance(data, dict):
        if "title" in data:
            out.append((where or "(top)", data))
        for k, v in data.items():
            out += _titled_tables(v, f"{where}.{k}" if where else str(k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _titled_tables(v, f"{where}.{i}")
    return out


def _load(path: Path) -> dict:
    with path.open("rb") as f:
        return tomllib.load(f)


# -- the data files --------------------------------------------------------------------------------

def test_the_shipped_files_are_all_found():
    names = {p.name for p in SHIPPED}
    assert {"gloppen.toml", "introduksjonsprogram.toml", "benefits.toml", "target_groups.toml",
            "gloppen_outcomes.toml", "default.toml", "koto_sib_pathway.toml"} <= names
    assert any(p.parent.name == "fi" for p in SHIPPED)  # the Finnish files too


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_titled_table_of_a_shipped_file_has_a_norwegian_title(path):
    # a new file, stage or outcome cannot forget its title_nb
    missing = [key for key, table in _titled_tables(_load(path))
               if not (isinstance(table.get("title_nb"), str) and table["title_nb"].strip())]
    assert not missing, f"{path.relative_to(ROOT)}: no title_nb in {', '.join(missing)}"


@pytest.mark.parametrize("path", sorted((ROOT / "contracts/templates").glob("*.toml")), ids=lambda p: p.stem)
def test_every_outcome_of_a_template_has_both_titles(path):
    for key, outcome in _load(path)["outcomes"].items():
        assert outcome.get("title", "").strip() and outcome.get("title_nb", "").strip(), f"{path.name}: {key}"


@pytest.mark.parametrize("path", sorted((ROOT / "sim/pathways").glob("*.toml")), ids=lambda p: p.stem)
def test_the_norwegian_stage_titles_differ_from_the_english_ones(path):
    # a title_nb copied from title would pass the test above and still show English
    for name, stage in _load(path)["stages"].items():
        assert stage["title_nb"] != stage["title"], f"{path.name}: stages.{name}"


# -- the rule ----------------------------------------------------------------------------------------

def test_title_picks_norwegian_in_nb_english_otherwise_and_the_key_last():
    both = {"title": "Ordinary job", "title_nb": "Ordinær jobb"}
    assert title(both, "nb") == "Ordinær jobb"
    assert title(both, "en") == "Ordinary job"
    assert title({"title": "Ordinary job", "title_nb": ""}, "nb") == "Ordinary job"
    assert title({"title": "", "title_nb": ""}, "nb", fallback="ordinary_job") == "ordinary_job"
    assert title(None, "en", fallback="x") == "x"
    both_in_one = {"title": {"nb": "Ordinær jobb", "en": "Ordinary job"}}  # the calibration files' form
    assert title(both_in_one, "nb") == "Ordinær jobb" and title(both_in_one, "en") == "Ordinary job"


def test_title_reads_the_validated_models():
    pw = load_pathway("gloppen")
    raw = _load(ROOT / "sim/pathways/gloppen.toml")
    assert title(pw.pathway, "nb") == raw["pathway"]["title_nb"]
    assert title(pw.stages["fagprove"], "nb") == raw["stages"]["fagprove"]["title_nb"]
    assert title(pw.stages["fagprove"], "en") == raw["stages"]["fagprove"]["title"]
    terms = load_terms("gloppen_outcomes")
    raw_terms = _load(ROOT / "contracts/templates/gloppen_outcomes.toml")
    assert title(terms.contract, "nb") == raw_terms["contract"]["title_nb"]
    assert title(terms.outcomes["fagbrev"], "nb") == raw_terms["outcomes"]["fagbrev"]["title_nb"]


def test_a_users_file_without_norwegian_titles_still_validates(tmp_path):
    text = (ROOT / "sim/pathways/kongsberg_kull.toml").read_text(encoding="utf-8")
    lines = [x for x in text.splitlines() if not x.startswith("title_nb")]
    path = tmp_path / "mine.toml"
    path.write_text("\n".join(lines).replace('name = "kongsberg_kull"', 'name = "mine"'), encoding="utf-8")
    pw = load_pathway(str(path))
    assert pw.stages["course"].title_nb == ""
    assert title(pw.stages["course"], "nb") == "4-week course"  # the English title, as the file has it


def test_a_title_nb_that_is_not_text_is_refused_naming_the_key(tmp_path):
    text = (ROOT / "sim/pathways/kongsberg_kull.toml").read_text(encoding="utf-8")
    path = tmp_path / "bad.toml"
    path.write_text(text.replace('title_nb = "Fire ukers kurs"', "title_nb = 4"), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_pathway(str(path))
    assert "bad.toml" in str(err.value) and "stages.course.title_nb" in str(err.value)


def test_the_kpi_labels_name_an_outcome_by_its_title():
    terms = load_terms("gloppen_outcomes")
    reg = kpis_for(terms)
    fagbrev = _load(ROOT / "contracts/templates/gloppen_outcomes.toml")["outcomes"]["fagbrev"]
    assert reg["outcomes_fagbrev"].label("nb").startswith(fagbrev["title_nb"])
    assert reg["outcomes_fagbrev"].label("en").startswith(fagbrev["title"])
    assert "'fagbrev'" not in reg["outcomes_fagbrev"].label("nb")


# -- where titles are printed ------------------------------------------------------------------------

def test_pathways_show_in_nb_prints_the_norwegian_titles_and_money():
    raw = _load(ROOT / "sim/pathways/kongsberg_kull.toml")
    r = CliRunner().invoke(main, ["pathways", "show", "kongsberg_kull", "--lang", "nb"])
    assert r.exit_code == 0, r.output
    graph = r.output.split("\nKapasitet\n", 1)[1]  # the stages (the description above is the file's own)
    for name, stage in raw["stages"].items():
        assert stage["title_nb"] in graph, name
        assert stage["title"] not in graph, name
    assert "448\u00a0000 kr/år" in r.output  # the permanent job's wage, in nb digits
    assert "jobbsjanse x1,4 (oppgitt)" in r.output  # after = { entry_rate_multiplier = 1.4 }
    r = CliRunner().invoke(main, ["pathways", "list", "--lang", "nb"])
    assert raw["pathway"]["title_nb"] in r.output and "TITTEL" in r.output


def _nb_report(tmp_path: Path, sets: list[str]) -> str:
    out = tmp_path / "res"
    run_batch(load_scenario(None, ["design.replications=2", *sets]), out, progress=False)
    return render_html(gather(out, ts_runs=2), "nb", str(out))


@pytest.mark.slow
@pytest.mark.parametrize("pathway, contract, sets", [
    ("kongsberg_kull", "kongsberg_outcomes", []),
    ("gloppen", "gloppen_outcomes", ["pathway.template=gloppen", "contract.template=gloppen_outcomes",
                                     "world.horizon_weeks=286"]),
])
def test_an_nb_report_shows_every_stage_by_its_norwegian_title_and_no_english_one(
        tmp_path, pathway, contract, sets):
    html = _nb_report(tmp_path, sets)
    raw = _load(ROOT / "sim/pathways" / f"{pathway}.toml")
    for name, stage in raw["stages"].items():
        assert stage["title_nb"] in html, name
        assert stage["title"] not in html, name
    assert raw["pathway"]["title_nb"] in html and raw["pathway"]["title"] not in html
    terms = _load(ROOT / "contracts/templates" / f"{contract}.toml")
    assert terms["contract"]["title_nb"] in html and terms["contract"]["title"] not in html
    primary = load_terms(contract).primary  # the design and per-extra lines name it
    assert f"«{terms['outcomes'][primary]['title_nb']}»" in html and f"«{primary}»" not in html


def test_the_contract_written_in_kom_i_gang_is_valid_and_names_its_outcome_in_bokmal(tmp_path):
    doc = (ROOT / "docs" / "kom-i-gang.md").read_text(encoding="utf-8")
    block = doc.split("## 4.", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    path = tmp_path / "fast_jobb.toml"
    path.write_text(block, encoding="utf-8")
    terms = load_terms(str(path))
    assert terms.outcomes["fast_jobb_24m"].metric == "in_work_at"
    assert kpis_for(terms)["outcomes_fast_jobb_24m"].label("nb").startswith(
        "I fast jobb 24 måneder etter oppstart")
