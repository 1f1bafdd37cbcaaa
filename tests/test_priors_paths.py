"""Where ``{ calibrated = ... }`` looks (issue 12, item c) and who knows the built-in posteriors.

A relative path or a name is read against the folder of the scenario or data file that names it,
never the current folder, then among the built-in posteriors; a reference found nowhere is refused
naming the file, the key and every place looked. The base layer (effekt.priors) hard-codes no
folder of an upper layer: the experiment layer registers its calibrations folder.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from effekt.experiments.scenario import read_tree, resolve
from effekt.priors import (
    CalibratedPrior,
    PriorError,
    anchor_calibrated,
    find_posterior,
    parse_prior,
    posterior_folders,
)
from effekt.specfile import SpecError

ROOT = Path(__file__).resolve().parents[1]
KEY = "pathway.stages.work_training.exits[1].p"
SCENARIO = """
[scenario]
name = "paths"
[world]
horizon_weeks = 156
counterfactual = {{ mode = "parallel" }}
[[world.cohorts]]
name = "k"
start_week = 0
size = 14
groups = {{ A = 1.0 }}
[pathway]
template = "{pathway}"
{override}
[contract]
template = "kongsberg_outcomes"
[design]
replications = 2
"""


def _posterior(path: Path, values: list[float]) -> Path:
    """A posterior file of one parameter with equal weights."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[posterior]\nname = "{path.name.split(".")[0]}"\n[particles]\n'
                    f"weights = {[1.0] * len(values)}\n{json.dumps(KEY)} = {values}\n", encoding="utf-8")
    return path


def _scenario(folder: Path, ref: str | None, pathway: str = "kongsberg_kull") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    override = "" if ref is None else f'stages.work_training.exits = [{{ to = "dropped_out", p = 0.15 }}, ' \
                                      f'{{ to = "job_search", p = {{ calibrated = "{ref}" }} }}]'
    path = folder / "s.toml"
    path.write_text(SCENARIO.format(pathway=pathway, override=override), encoding="utf-8")
    return path


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """The current folder: one with neither the scenario nor any calibrations/ folder."""
    cwd = tmp_path / "elsewhere"
    (cwd / "calibrations").mkdir(parents=True)
    _posterior(cwd / "calibrations" / "mine.posterior.toml", [0.9, 0.9])  # a decoy: never read
    monkeypatch.chdir(cwd)
    return cwd


def _exits(scenario_path: Path) -> dict:
    return read_tree(scenario_path).data["pathway"]["stages"]["work_training"]["exits"]


def test_a_name_is_looked_up_beside_the_scenario_not_in_the_current_folder(tmp_path, elsewhere):
    folder = tmp_path / "project"
    post = _posterior(folder / "calibrations" / "mine.posterior.toml", [0.5, 0.7])
    scenario = resolve(read_tree(_scenario(folder, "mine")))
    prior = scenario.priors[KEY]
    assert isinstance(prior, CalibratedPrior)
    assert Path(prior.path) == post.resolve()
    assert prior.point_value == pytest.approx(0.6)  # not the decoy's 0.9 in the current folder


def test_a_relative_path_is_read_against_the_scenarios_folder(tmp_path, elsewhere):
    folder = tmp_path / "project"
    post = _posterior(tmp_path / "fits" / "x.posterior.toml", [0.4, 0.6])
    exits = _exits(_scenario(folder, "../fits/x.posterior.toml"))
    assert exits[1]["p"]["calibrated"] == str(post.resolve())  # anchored: the same file from anywhere
    assert resolve(read_tree(folder / "s.toml")).priors[KEY].point_value == pytest.approx(0.5)


def test_a_pathway_file_reads_its_references_against_its_own_folder(tmp_path, elsewhere):
    pathways = tmp_path / "pathways"
    _posterior(pathways / "calibrations" / "p.posterior.toml", [0.3, 0.5])
    builtin = (ROOT / "sim" / "pathways" / "kongsberg_kull.toml").read_text(encoding="utf-8")
    (pathways / "kull.toml").write_text(builtin, encoding="utf-8")
    from effekt.specfile import read_toml

    data = read_toml(pathways / "kull.toml")
    data["stages"]["work_training"]["exits"][1]["p"] = {"calibrated": "p"}
    anchored, problems = anchor_calibrated(data, pathways)
    assert not problems
    assert anchored["stages"]["work_training"]["exits"][1]["p"]["calibrated"] == str(
        (pathways / "calibrations" / "p.posterior.toml").resolve())


def test_a_relative_folder_anchors_its_own_calibrations_absolutely(tmp_path, monkeypatch):
    """Review 14 item 12: a file given as ``pathways/kull.toml`` (a relative folder) anchors a name
    found in its own calibrations/ to the absolute file, which then means the same from anywhere;
    a folder spelt with ``..`` too."""
    _posterior(tmp_path / "pathways" / "calibrations" / "p.posterior.toml", [0.3, 0.5])
    (tmp_path / "other").mkdir()
    monkeypatch.chdir(tmp_path)
    want = str((tmp_path / "pathways" / "calibrations" / "p.posterior.toml").resolve())
    for folder in ("pathways", Path("other") / ".." / "pathways"):
        anchored, problems = anchor_calibrated({"p": {"calibrated": "p"}}, folder)
        assert not problems and anchored["p"]["calibrated"] == want and Path(want).is_absolute()
    monkeypatch.chdir(tmp_path / "other")
    assert find_posterior(want, "pathways").resolve() == Path(want)


def test_a_builtin_name_stays_a_name_and_is_found_from_any_folder(tmp_path, elsewhere):
    exits = _exits(_scenario(tmp_path / "project", "springbrett"))
    assert exits[1]["p"]["calibrated"] == "springbrett"  # the stored scenario stays portable
    prior = resolve(read_tree(tmp_path / "project" / "s.toml")).priors[KEY]
    assert Path(prior.path).parent == (ROOT / "experiments" / "calibrations").resolve()


def test_a_reference_found_nowhere_names_the_file_the_key_and_where_it_looked(tmp_path, elsewhere):
    folder = tmp_path / "project"
    with pytest.raises(SpecError) as err:
        read_tree(_scenario(folder, "nothing_here"))
    text = str(err.value)
    assert str(folder / "s.toml") in text and "pathway.stages.work_training.exits[1].p" in text
    assert str(folder / "calibrations" / "nothing_here.posterior.toml") in text
    assert "the folder of the file that names it" in text and "springbrett" in text  # the built-in ones
    with pytest.raises(SpecError, match=r"no such posterior file .*project/nope\.posterior\.toml"):
        read_tree(_scenario(folder, "nope.posterior.toml"))


def test_without_a_naming_file_the_current_folder_stands_in(elsewhere):
    assert find_posterior("mine") == Path("calibrations") / "mine.posterior.toml"
    with pytest.raises(PriorError, match="against the current folder"):
        parse_prior({"calibrated": "missing/x.posterior.toml"}, KEY)


def test_the_builtin_folder_is_registered_by_the_experiment_layer():
    assert (ROOT / "experiments" / "calibrations").resolve() in posterior_folders()
    probe = ("import effekt.priors as p\nprint(len(p.posterior_folders()))\n"
             "import effekt.experiments.scenario\nprint([str(f) for f in p.posterior_folders()])")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    before, after = out.stdout.strip().splitlines()
    assert before == "0"  # the base layer alone knows no folder of an upper layer
    assert str((ROOT / "experiments" / "calibrations").resolve()) in after


def test_the_base_layer_names_no_folder_of_an_upper_layer():
    """A regression guard beside tests/test_layers.py (which checks imports): no string in
    effekt's base modules names a layer's folder, as a path into it would."""
    layers = {"sim", "contracts", "experiments"}
    found = []
    for path in sorted((ROOT / "src" / "effekt").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = {id(n.body[0].value) for n in ast.walk(tree)
                if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef) and n.body
                and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                parts = set(node.value.replace("\\", "/").split("/"))
                if parts & layers and ("/" in node.value or node.value in layers):
                    found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert not found, found
