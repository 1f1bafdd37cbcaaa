"""Scenario files: strict validation with located errors, ``--set`` overrides into templates, and
``effekt validate``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from effekt.dotted import parse_key as split_key
from effekt.experiments.cli import main
from effekt.experiments.scenario import load_scenario, resolve
from effekt.specfile import SpecError

SMALL = """
[scenario]
name = "small"
[world]
horizon_weeks = 130         # kongsberg_outcomes runs 30 months = 130 weeks
[[world.cohorts]]
name = "k"
start_week = 0
size = 6
groups = {{ A = 0.5, B = 0.5 }}
[pathway]
template = "kongsberg_kull"
{pathway}
[contract]
template = "kongsberg_outcomes"
{contract}
[design]
replications = 4
seed = 3
{design}
"""


def write(tmp_path: Path, pathway: str = "", contract: str = "", design: str = "",
          name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(SMALL.format(pathway=pathway, contract=contract, design=design))
    return path


def problems(path, assignments=()) -> str:
    with pytest.raises(SpecError) as info:
        load_scenario(path, list(assignments))
    return str(info.value)


def test_split_key_reads_dots_and_indices():
    assert split_key("world.cohorts[0].size") == ["world", "cohorts", 0, "size"]
    assert split_key("world.cohorts.0.size") == ["world", "cohorts", 0, "size"]
    assert split_key("a[1][2].b") == ["a", 1, 2, "b"]
    with pytest.raises(ValueError):
        split_key("a..b")


def test_overrides_reach_into_pathway_and_contract_templates(tmp_path):
    path = write(tmp_path)
    sc = load_scenario(path, [
        "pathway.capacity.placements.slots=3",
        "pathway.stages.course.exits[0].p=0.25",
        "contract.prices.job_start=60000",
        "contract.caps.per_person=200000",
        "world.cohorts[0].size=9",
        "world.counterfactual.mode='none'",
    ])
    assert sc.world.pathway.capacity["placements"].slots == 3
    assert sc.world.pathway.stages["course"].exits[0].p == 0.25
    price = sc.terms.prices["job_start"]
    assert getattr(price, "default", price) == 60000
    assert sc.terms.caps.per_person == 200000
    assert sc.world.size == 9
    assert sc.world.counterfactual.mode == "none"
    # the resolved tree (what the manifest stores) shows the overrides, and the hash changes
    assert sc.resolved["pathway"]["capacity"]["placements"]["slots"] == 3
    assert sc.hash != load_scenario(path).hash


def test_overrides_reach_into_the_built_in_world_data(tmp_path):
    path = write(tmp_path)
    base = load_scenario(path)
    sc = load_scenario(path, ["world.groups.B.bau_entry_rate=0.3",
                              "world.labour_market.temporary_share=0.5"])
    assert sc.world.groups["B"].bau_entry_rate == 0.3
    assert sc.world.groups["A"] == base.world.groups["A"]  # the rest of the data file is kept
    assert sc.world.labour_market.temporary_share == 0.5
    assert sc.resolved["world"]["groups"]["B"]["bau_entry_rate"] == 0.3
    path2 = tmp_path / "groups.toml"
    in_file = "[world.groups.B]\nbau_entry_rate = 0.3\n\n[pathway]"
    path2.write_text(path.read_text().replace("[pathway]", in_file))
    assert load_scenario(path2).world.groups["B"].bau_entry_rate == 0.3
    msg = problems(path, ["world.groups.B.bau_entry_rte=0.3"])
    assert "world.groups.B.bau_entry_rte" in msg and "did you mean 'bau_entry_rate'" in msg


def test_the_scenario_file_can_override_templates_in_place(tmp_path):
    path = write(tmp_path, pathway="capacity.placements.slots = 5",
                 contract="prices.job_sustained = 70000")
    sc = load_scenario(path)
    assert sc.world.pathway.capacity["placements"].slots == 5
    price = sc.terms.prices["job_sustained"]
    assert getattr(price, "default", price) == 70000


@pytest.mark.parametrize(("where", "text", "key", "hint"), [
    ("design", "replicatons = 3", "design.replicatons", "replications"),
    ("pathway", "capacity.placments.slots = 3", "pathway.capacity.placments", "placements"),
    ("pathway", "stages.course.duraton = { dist = 'fixed', value = 3 }",
     "pathway.stages.course.duraton", "duration"),
    ("contract", "caps.per_persn = 3", "contract.caps.per_persn", "per_person"),
])
def test_misspelt_keys_in_the_file_name_file_key_and_suggestion(tmp_path, where, text, key, hint):
    path = write(tmp_path, **{where: text})
    msg = problems(path)
    assert str(path) in msg
    assert key in msg
    assert f"did you mean '{hint}'" in msg


@pytest.mark.parametrize(("assignment", "expected"), [
    ("contrct.prices.job_start=1", ["'contrct' is no section", "did you mean 'contract'"]),
    ("world.counterfactual.mod='rct'", ["world.counterfactual.mod", "did you mean 'mode'",
                                        "allowed here"]),
    ("pathway.capacity.placments.slots=3", ["pathway.capacity.placments", "did you mean 'placements'"]),
    ("world.horizon_weks=3", ["world.horizon_weks", "did you mean 'horizon_weeks'"]),
    ("world.cohorts.size=3", ["world.cohorts is a list", "world.cohorts[0]"]),
    ("world.cohorts[2].size=3", ["world.cohorts[2]", "out of range", "1 entry"]),
    ("scenario.discount_rate=abc", ["scenario.discount_rate", "number"]),
    ("pathway.stages.course.exits[0].p=2", ["pathway.stages.course.exits[0].p", "less than or equal to 1"]),
    ("contract.prices.job_strat=1", ["contract.prices", "job_strat"]),
    ("design.replications=0", ["design.replications", "greater than or equal to 1"]),
    ("novalue", ["expected dotted.key=value"]),
    # inside tagged unions (a duration's dist, an outcome's metric) the key is shown as written
    ("pathway.stages.work_training.duration.mdoe=3", ["pathway.stages.work_training.duration.mdoe",
                                                      "did you mean 'mode'", "high, low, mode"]),
    ("contract.outcomes.job_start.min_ft=0.3", ["contract.outcomes.job_start.min_ft:",
                                                "did you mean 'min_fte'"]),
])
def test_bad_overrides_are_located(tmp_path, assignment, expected):
    msg = problems(write(tmp_path), [assignment])
    for part in expected:
        assert part in msg, (part, msg)
    assert "Traceback" not in msg


def test_unknown_pathway_template_names_the_choices(tmp_path):
    msg = problems(write(tmp_path), ["pathway.template='kongsberg_kul'"])
    assert "pathway.template" in msg and "kongsberg_kull" in msg


def test_cli_validate_ok_and_error(tmp_path):
    path = write(tmp_path)
    r = CliRunner().invoke(main, ["validate", str(path), "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "ok" in r.output and "6 people" in r.output
    r = CliRunner().invoke(main, ["validate", str(path), "--set", "world.cohorts[0].size=11", "--lang", "en"])
    assert r.exit_code == 0 and "11 people" in r.output
    bad = write(tmp_path, design="seeed = 3", name="bad.toml")
    r = CliRunner().invoke(main, ["validate", str(bad), "--lang", "en"])
    assert r.exit_code == 2
    assert "bad.toml" in r.output and "design.seeed" in r.output and "did you mean 'seed'" in r.output
    assert "Traceback" not in r.output


def test_cli_validate_checks_every_design_point(tmp_path):
    # price 1 is below nothing, but a price of -5 at one grid point must be caught before running
    path = write(tmp_path, design='[design.sweep]\n"contract.prices.job_start" = [30000, -5]\n')
    r = CliRunner().invoke(main, ["validate", str(path), "--lang", "en"])
    assert r.exit_code == 2
    assert "design point 1" in r.output and "contract.prices.job_start=-5" in r.output
    ok = write(tmp_path, design='[design.sweep]\n"contract.prices.job_start" = [30000, 60000]\n',
               name="ok.toml")
    r = CliRunner().invoke(main, ["validate", str(ok), "--lang", "en"])
    assert r.exit_code == 0 and "2 design points" in r.output


@pytest.mark.parametrize("name", ["../../escaped", "..", ".hidden", "a/b", "a\\\\b", "", "x..y"])
def test_a_scenario_name_can_not_point_outside_results(tmp_path, name):
    # the name becomes results/<name>: a path in it would write anywhere
    path = write(tmp_path)
    path.write_text(path.read_text().replace('name = "small"', f'name = "{name}"'))
    msg = problems(path)
    assert "scenario.name" in msg and "letters, digits" in msg


def test_ordinary_scenario_names_are_accepted(tmp_path):
    path = write(tmp_path)
    path.write_text(path.read_text().replace('name = "small"', 'name = "kongsberg-2025_v1.2"'))
    assert load_scenario(path).info.name == "kongsberg-2025_v1.2"


@pytest.mark.parametrize(("template", "key"), [
    ("peterborough", "contract.triggers[0]: compare = 'relative_to_control'"),
    ("koto_sib", "contract.savings_share"),
])
def test_a_contract_that_compares_with_controls_needs_a_control_arm(tmp_path, template, key):
    path = write(tmp_path)
    base = [f"contract.template={template}", "world.horizon_weeks=260"]
    msg = problems(path, [*base, "world.counterfactual.mode='none'"])
    assert str(path) in msg and "world.counterfactual.mode = 'none'" in msg and key in msg
    assert load_scenario(path, [*base, "world.counterfactual.mode='rct'"]).world.counterfactual.mode == "rct"
    # a contract paying outcomes as they come needs no controls
    assert load_scenario(path, ["world.counterfactual.mode='none'"]).world.counterfactual.mode == "none"


def test_a_horizon_shorter_than_the_contract_is_refused(tmp_path):
    # kongsberg_outcomes counts outcomes reached in its first 30 months: 30 x 52/12 = 130 weeks
    path = write(tmp_path)
    msg = problems(path, ["world.horizon_weeks=129"])
    assert str(path) in msg
    assert "world.horizon_weeks (129)" in msg and "contract.contract.term_months = 30" in msg
    assert "at least 130 weeks" in msg
    assert load_scenario(path, ["world.horizon_weeks=130"]).world.horizon_weeks == 130
    # a savings share summed over a longer window than the term needs that window simulated
    koto = ["contract.template=koto_sib", "world.counterfactual.mode='rct'"]
    assert load_scenario(path, [*koto, "world.horizon_weeks=156"]).terms.savings_share is not None
    msg = problems(path, [*koto, "world.horizon_weeks=156", "contract.savings_share.window_months=48"])
    assert "contract.savings_share.window_months = 48" in msg and "at least 208 weeks" in msg
    r = CliRunner().invoke(main, ["validate", str(path), "--set", "world.horizon_weeks=52",
                                  "--lang", "en"])
    assert r.exit_code == 2 and "world.horizon_weeks" in r.output and "term_months" in r.output
    assert "Traceback" not in r.output


BAU_FILE = """
[pathway]
name = "{name}"
title = "A business-as-usual programme beside the scenario"
source = "test"
entry = "intro"

[stages.intro]
kind = "language"
duration = {{ dist = "fixed", value = 30 }}
next = "left"

[stages.left]
kind = "exit"
outcome = "not_employed"
"""


def test_a_relative_bau_pathway_is_read_against_the_scenario_files_folder(tmp_path, monkeypatch):
    here, elsewhere = tmp_path / "scenarios", tmp_path / "elsewhere"
    here.mkdir()
    elsewhere.mkdir()
    for name in ("beside", "other"):
        (here / f"{name}.toml").write_text(BAU_FILE.format(name=name))
    groups = ('[world.groups.B]\nbau_pathway = { aap = "beside.toml" }\n'
              '[world.groups.A]\nbau_pathway = "beside.toml"\n\n[pathway]')
    path = here / "s.toml"
    path.write_text(SMALL.format(pathway="", contract="", design="").replace("[pathway]", groups))
    monkeypatch.chdir(elsewhere)  # a working directory without the file
    sc = load_scenario(path)
    beside = str(here.resolve() / "beside.toml")
    assert sc.world.groups["A"].bau_pathway == beside
    assert sc.world.groups["B"].bau_pathway == {"aap": beside}
    assert sc.world.business_as_usual("B", "aap").name == "beside"
    assert sc.resolved["world"]["groups"]["A"]["bau_pathway"] == beside  # the manifest: absolute
    # run from the scenario's own folder (by a relative path) it is the same scenario
    monkeypatch.chdir(here)
    again = load_scenario(Path("s.toml"))
    assert again.hash == sc.hash and again.world.groups == sc.world.groups
    # a --set, and a value set later on the resolved scenario, are read against the same folder
    monkeypatch.chdir(elsewhere)
    other = str(here.resolve() / "other.toml")
    by_set = load_scenario(path, ["world.groups.A.bau_pathway='other.toml'"])
    assert by_set.world.groups["A"].bau_pathway == other
    later = resolve(sc.tree.with_values({"world.groups.A.bau_pathway": "other.toml"}))
    assert later.world.business_as_usual("A", "aap").name == "other"
    # built-in names stay names; a missing file is looked for beside the scenario, and named so
    assert load_scenario(path, ["world.groups.A.bau_pathway='aap_oppfolging'"]).world.groups[
        "A"].bau_pathway == "aap_oppfolging"
    msg = problems(path, ["world.groups.A.bau_pathway='missing.toml'"])
    assert "world.groups.A.bau_pathway" in msg and str(here.resolve() / "missing.toml") in msg


def test_a_scenario_sets_the_retirement_age_and_bad_values_are_refused(tmp_path):
    default = load_scenario(None, [])
    assert default.world.retirement_age == 67
    assert "retirement_age" not in default.resolved["world"]  # the default leaves the tree as it was
    assert load_scenario(None, ["world.retirement_age=62"]).world.retirement_age == 62
    for bad, says in (("true", "valid number"), ("17", "greater than 18"), ("nan", "finite")):
        with pytest.raises(SpecError, match=f"world.retirement_age: .*{says}"):
            load_scenario(None, [f"world.retirement_age={bad}"])
