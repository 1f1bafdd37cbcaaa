"""One grammar of dotted keys: the same key works, and fails with the same message, in --set,
--vary, sensitivity parameters, design levers and compare variants."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_analysis_breakeven import PATHWAY, SCENARIO
from test_experiments_scenario import write

from effekt.dotted import canonical, format_key, get_value, parse_assignment, parse_key, set_value
from effekt.experiments.analysis.breakeven import breakeven
from effekt.experiments.analysis.compare import compare, parse_variants
from effekt.experiments.analysis.sensitivity import ScenarioModel, parse_params
from effekt.experiments.cli import main
from effekt.experiments.scenario import load_experiment, load_scenario, read_tree, resolve
from effekt.specfile import SpecError


@pytest.fixture
def deterministic(tmp_path):
    """The break-even tests' scenario: ten people, every duration fixed, nobody loses the job."""
    (tmp_path / "det_pathway.toml").write_text(PATHWAY)
    path = tmp_path / "det.toml"
    path.write_text(SCENARIO)
    return path


# -- the grammar -------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "parts"), [
    ("world.cohorts[0].size", ["world", "cohorts", 0, "size"]),
    ("world.cohorts.0.size", ["world", "cohorts", 0, "size"]),
    ("pathway.stages.course.exits[1].p", ["pathway", "stages", "course", "exits", 1, "p"]),
    ("a[1][2].b", ["a", 1, 2, "b"]),
    ("a.1.2.b", ["a", 1, 2, "b"]),
    (' contract . prices . job_start ', ["contract", "prices", "job_start"]),
    ('contract.x."a.b".c', ["contract", "x", "a.b", "c"]),
    ("world.groups.B-2.x", ["world", "groups", "B-2", "x"]),
])
def test_keys_parse_into_names_and_indices(key, parts):
    assert parse_key(key) == parts


def test_both_index_forms_have_one_canonical_text():
    assert canonical("world.cohorts.0.size") == "world.cohorts[0].size"
    assert canonical("world.cohorts[0].size") == "world.cohorts[0].size"
    assert format_key(["contract", "x", "a.b", 0]) == 'contract.x."a.b"[0]'
    # a digit-string name is quoted, so it reads back as a name and not as an index
    assert parse_key(format_key(["t", "2025"])) == ["t", "2025"]


@pytest.mark.parametrize(("key", "says"), [
    ("a..b", "must follow the dot at position 2"),
    ("0.a", "must start with a name"),
    ("a[x]", "must hold a whole number"),
    ("a.b]", "unexpected ']' at position 4"),
    ("a.", "must follow the dot"),
    ("", "empty"),
])
def test_text_that_is_no_key_is_refused_saying_where(key, says):
    with pytest.raises(SpecError) as info:
        parse_key(key)
    assert says in str(info.value) and "world.cohorts[0].size" in str(info.value)


TREE = {"world": {"cohorts": [{"size": 6, "name": "k"}], "years": {"2025": 1.5}},
        "contract": {"prices": {"job_start": 20000, "job_sustained": 10000}}}


@pytest.mark.parametrize(("key", "says"), [
    ("contract.prices.job_strat", ["contract.prices.job_strat: no such key",
                                   "did you mean 'job_start'", "keys in contract.prices: job_start, "
                                   "job_sustained"]),
    ("world.cohorts[1].size", ["world.cohorts[1]: out of range", "world.cohorts has 1 entry"]),
    ("world.cohorts.size", ["world.cohorts is a list", "e.g. world.cohorts[0]"]),
    ("world.years[0]", ["world.years is a table, not a list", "keys here: 2025"]),
    ("world.cohorts.0.size.x", ["world.cohorts[0].size is a value (6)"]),
])
def test_get_names_the_key_and_what_is_allowed(key, says):
    with pytest.raises(SpecError) as info:
        get_value(TREE, key, "s.toml")
    msg = str(info.value)
    assert msg.startswith("s.toml")
    for part in says:
        assert part in msg, (part, msg)


def test_get_and_set_agree_on_both_forms_and_digit_names():
    tree = json.loads(json.dumps(TREE))
    assert get_value(tree, "world.cohorts.0.size") == get_value(tree, "world.cohorts[0].size") == 6
    assert get_value(tree, "world.years.2025") == 1.5  # a table keyed by digits
    set_value(tree, "world.cohorts.0.size", 9)
    assert tree["world"]["cohorts"][0] == {"size": 9, "name": "k"}
    set_value(tree, "contract.caps.per_person", 5)  # a table the template leaves out is created
    assert tree["contract"]["caps"] == {"per_person": 5}
    value = [1, 2]
    set_value(tree, "contract.list", value)
    value.append(3)
    assert tree["contract"]["list"] == [1, 2]  # a copy is set
    with pytest.raises(SpecError, match=r"contract.prices\[0\]|contract.prices is a table"):
        set_value(tree, "contract.prices[0]", 1)
    # a new table whose name is a near miss of one that is there is almost always a typo
    with pytest.raises(SpecError, match="did you mean 'prices'"):
        set_value(tree, "contract.prics.job_start", 1)
    with pytest.raises(SpecError, match=r"world.cohorts\[3\]: out of range"):
        set_value(tree, "world.cohorts[3].size", 1)


@pytest.mark.parametrize(("text", "value"), [
    ("a.b=3", 3), ("a.b=0.25", 0.25), ("a.b='rct'", "rct"), ("a.b=true", True),
    ("a.b=[1, 2]", [1, 2]), ("a.b={ x = 1 }", {"x": 1}), ("a.b=gloppen", "gloppen"),
    ("a.b = koto_sib ", "koto_sib"),
])
def test_assignment_values_are_toml_literals_else_text(text, value):
    assert parse_assignment(text) == ("a.b", value)


def test_bad_assignments_are_refused_before_anything_loads():
    with pytest.raises(SpecError, match="expected dotted.key=value"):
        parse_assignment("novalue")
    with pytest.raises(SpecError, match="empty key"):
        parse_assignment("=3")
    with pytest.raises(SpecError, match="not a dotted key"):
        parse_assignment("a..b=3")


# -- one key, every place ------------------------------------------------------------------------


def test_the_same_key_works_in_set_design_sensitivity_and_compare(tmp_path):
    path = write(tmp_path, design='[design.levers]\n"world.cohorts.0.size" = [4, 8]\n')
    for key in ("world.cohorts.0.size", "world.cohorts[0].size"):
        # --set
        assert load_scenario(path, [f"{key}=9"]).world.size == 9
        # sensitivity: the scenario's own value, and a range
        model = ScenarioModel(path, replications=1)
        assert model.base_value(key) == 6
        assert parse_params([f"{key}=3:12"], model.resolved)[0].low == 3
        # compare variant
        assert parse_variants([f"big:{key}=9"]) == {"big": [f"{key}=9"]}
    # a design lever (the runs table keeps the key as written)
    exp = load_experiment(path)
    assert [sc.world.size for sc in exp.scenarios] == [4, 8]
    assert exp.parameters == ["world.cohorts.0.size"]
    t = compare([path], replications=2, variants=parse_variants(["big:world.cohorts.0.size=9"]))
    assert set(t["scenario"]) == {"small", "big"}


def test_breakeven_varies_a_list_entry_in_either_form(deterministic):
    # the hand calculation of test_investor_breakeven_on_npv_target_and_integer_key: 100 000 per
    # kull is fixed, each person brings 30 000 and costs 18 000, so the NPV break-even is a whole
    # number of people in [8.33, 10]; today `world.cohorts.0.size` failed with --vary
    kw = dict(metric="npv", replications=1, points=5, low=2, high=18, bootstrap=0)
    dots = breakeven(deterministic, "investor", "world.cohorts.0.size", **kw)
    brackets = breakeven(deterministic, "investor", "world.cohorts[0].size", **kw)
    assert 100000 / 12000 <= dots.value <= 10
    assert dots.value == brackets.value and dots.base_value == 10
    r = CliRunner().invoke(main, ["breakeven", str(deterministic), "--for", "investor", "--vary",
                                  "world.cohorts.0.size", "--metric", "npv", "--low", "2", "--high",
                                  "18", "--points", "5", "--runs", "2", "--bootstrap", "0",
                                  "--workers", "1", "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "Break-even for the investor: world.cohorts.0.size = " in r.output


@pytest.mark.parametrize(("argv", "says"), [
    (["breakeven", "--for", "investor", "--vary", "world.cohorts.1.size"],
     ["world.cohorts[1]: out of range", "1 entry"]),
    (["breakeven", "--for", "investor", "--vary", "world.cohort.0.size", "--lang", "en"],
     ["world.cohort: no such key", "did you mean 'cohorts'"]),
    (["breakeven", "--for", "investor", "--vary", "world.cohorts..size"], ["not a dotted key"]),
    (["sensitivity", "--param", "world.cohorts.3.size=1:2"], ["world.cohorts[3]: out of range"]),
    (["sensitivity", "--param", "contract.prices.job_strat", "--lang", "en"], ["did you mean 'job_start'"]),
    (["run", "--set", "world.cohorts.3.size=1"], ["world.cohorts[3]: out of range"]),
    (["compare", "--variant", "x:world.cohorts.3.size=1"], ["world.cohorts[3]: out of range"]),
])
def test_a_bad_key_gets_the_same_message_from_every_command(tmp_path, argv, says):
    path = write(tmp_path)
    cmd, *rest = argv
    lang = [] if "--lang" in rest else ["--lang", "en"]  # the English (nb: tests/test_rule_messages_nb.py)
    r = CliRunner().invoke(main, [cmd, str(path), *rest, *lang, "--runs", "2", "--workers", "1"])
    assert r.exit_code == 2, r.output
    for part in says:
        assert part in r.output, (part, r.output)
    assert "Traceback" not in r.output


def test_a_design_cannot_name_one_parameter_twice_in_two_spellings(tmp_path):
    path = write(tmp_path, design='[design.levers]\n"world.cohorts.0.size" = [4, 8]\n'
                                  '[design.sweep]\n"world.cohorts[0].size" = [5, 6]\n')
    with pytest.raises(SpecError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert "in both design.sweep" in msg and "design.levers" in msg and str(path) in msg


def test_a_design_parameter_that_is_no_key_is_located(tmp_path):
    path = write(tmp_path, design='[design.levers]\n"world.cohorts..size" = [4, 8]\n')
    with pytest.raises(SpecError) as info:
        load_scenario(path)
    assert "design.levers.'world.cohorts..size'" in str(info.value)
    assert "not a dotted key" in str(info.value)


# -- resolve: one route from data to a scenario ----------------------------------------------------


def test_resolve_is_the_route_of_files_trees_and_values(tmp_path):
    path = write(tmp_path)
    tree = read_tree(path, ["world.cohorts.0.size=9"])
    sc = resolve(tree)
    assert sc == load_scenario(path, ["world.cohorts[0].size=9"])
    # the same scenario at other values, without any file or TOML text
    other = resolve(sc.tree.with_values({"pathway.capacity.placements.slots": 2}))
    assert other.world.pathway.capacity["placements"].slots == 2 and other.world.size == 9
    assert other == load_scenario(path, ["world.cohorts.0.size=9", "pathway.capacity.placements.slots=2"])
    # templates are chosen when a file is read, never on a resolved tree
    with pytest.raises(SpecError, match="chooses a file"):
        sc.tree.with_values({"pathway.template": "gloppen"})
    # whole-scenario checks run on every tree
    with pytest.raises(SpecError) as info:
        resolve(sc.tree.with_values({"world.horizon_weeks": 52}))
    assert str(path) in str(info.value) and "world.horizon_weeks (52)" in str(info.value)


def test_a_rebuilt_scenario_names_the_manifest_and_the_key(tmp_path):
    from effekt.experiments.analysis.common import scenario_from_results
    from effekt.experiments.batch import run_batch

    path = write(tmp_path)
    run_batch(load_scenario(path, ["design.replications=1"]), tmp_path / "res", progress=False)
    mpath = tmp_path / "res" / "manifest.json"
    manifest = json.loads(mpath.read_text())
    assert scenario_from_results(tmp_path / "res").world.size == 6
    manifest["points"] = [{"world.cohorts[4].size": 3}]
    mpath.write_text(json.dumps(manifest))
    with pytest.raises(SpecError) as info:
        scenario_from_results(tmp_path / "res")
    assert str(mpath) in str(info.value) and "points[0]: world.cohorts[4]: out of range" in str(info.value)
    manifest["points"] = [{}]
    manifest["scenario"]["contract"]["prices"]["job_strt"] = 1
    mpath.write_text(json.dumps(manifest))
    with pytest.raises(SpecError) as info:
        scenario_from_results(tmp_path / "res")
    assert str(mpath) in str(info.value) and "contract.prices" in str(info.value)
    assert "job_strt" in str(info.value)
