"""Pathway descriptions in Norwegian bokmål (issue 13 leftovers, item 3): every shipped pathway
and business-as-usual pathway gives ``description_nb`` beside its English ``description``, one
rule picks it (:func:`effekt.titles.description`), and ``effekt pathways show --lang nb`` prints
it instead of the English text.

Expected texts are read from the TOML files themselves, never from the code that prints them.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from effekt.experiments.cli import main
from effekt.sim import load_pathway
from effekt.titles import description

ROOT = Path(__file__).parents[1]
SHIPPED = sorted([*(ROOT / "sim/pathways").glob("*.toml"), *(ROOT / "sim/business_as_usual").glob("*.toml")])


def _words(text: str) -> list[str]:
    return re.findall(r"[\wæøåÆØÅ'-]+", text)


def _runs(text: str, n: int = 5) -> set[str]:
    """Every run of ``n`` consecutive words of ``text``, lower case."""
    w = [x.lower() for x in _words(text)]
    return {" ".join(w[i:i + n]) for i in range(len(w) - n + 1)}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_pathway_has_an_nb_title_and_description(path):
    info = tomllib.loads(path.read_text(encoding="utf-8"))["pathway"]
    assert info.get("title_nb", "").strip(), f"{path}: [pathway] title_nb missing"
    assert info.get("description", "").strip(), f"{path}: [pathway] description missing"
    nb = info.get("description_nb", "")
    assert nb.strip(), f"{path}: [pathway] description_nb missing"
    # a translation, not a copy: no run of five words of the English text in it
    assert not (_runs(info["description"]) & _runs(nb)), path
    for name, stage in tomllib.loads(path.read_text(encoding="utf-8")).get("stages", {}).items():
        assert stage.get("title_nb", "").strip(), f"{path}: stages.{name}.title_nb missing"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pathways_show_in_bokmal_prints_no_english_description(path):
    info = tomllib.loads(path.read_text(encoding="utf-8"))["pathway"]
    nb = CliRunner().invoke(main, ["pathways", "show", str(path), "--lang", "nb"])
    assert nb.exit_code == 0, nb.output
    assert not (_runs(info["description"]) & _runs(nb.output)), "English description in nb output"
    assert " ".join(info["description_nb"].split()) in " ".join(nb.output.split())
    en = CliRunner().invoke(main, ["pathways", "show", str(path), "--lang", "en"])
    assert " ".join(info["description"].split()) in " ".join(en.output.split())
    assert not (_runs(info["description_nb"]) & _runs(en.output))


def test_the_description_rule_falls_back_to_english():
    assert description({"description": "A class.", "description_nb": "En klasse."}, "nb") == "En klasse."
    assert description({"description": "A class.", "description_nb": "En klasse."}, "en") == "A class."
    assert description({"description": "A class.", "description_nb": "  "}, "nb") == "A class."
    pw = load_pathway("gloppen")
    assert description(pw.pathway, "nb").strip().startswith("Søkerne går gjennom søknad")
    assert description(None, "nb") == ""
