"""Hostile input that used to pass silently (issue 15, item 4): names that must come from a
declared list are refused with a did-you-mean, never taken as something new."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from effekt.experiments.cli import main
from effekt.experiments.scenario import default_scenario_path, load_scenario
from effekt.specfile import SpecError


def refused(assignments: list[str]) -> str:
    with pytest.raises(SpecError) as err:
        load_scenario(None, assignments)
    return str(err.value)


def test_an_unknown_group_in_expected_weeks_by_group_is_refused():
    # the bug: the group was ignored, so its people silently got the default expected weeks
    text = refused(["contract.template=buzinezzclub",
                    "contract.outcomes.benefit_days_saved.expected_weeks_by_group.Bb=40"])
    assert "contract.outcomes.benefit_days_saved.expected_weeks_by_group.Bb: no target group 'Bb'" in text
    assert "did you mean 'B'?" in text and "the world's groups: A, B, C, D, R" in text


def test_an_unknown_group_in_a_price_by_group_is_refused():
    text = refused(["contract.prices.job_start={ default = 40000, by_group = { Q = 50000 } }"])
    assert "contract.prices.job_start.by_group.Q: no target group 'Q'" in text


def test_a_misspelt_commissioner_in_a_scenario_is_refused():
    text = refused(["contract.commissioners={ kommnue = 0.5, state = 0.5 }"])
    assert "commissioners.kommnue" in text and "did you mean 'kommune'?" in text


# -- files that are not TOML files (issue 15, items 7 and 8) --------------------------------------

def scenario_with_template(tmp_path, template: str) -> str:
    """The built-in default scenario with its contract read from ``template``."""
    text = default_scenario_path().read_text(encoding="utf-8")
    path = tmp_path / "s.toml"
    path.write_text(text.replace('template = "kongsberg_outcomes"', f'template = "{template}"'))
    return str(path)


@pytest.mark.parametrize("make, says", [
    (lambda p: p.mkdir(), "is a directory, not a TOML file"),
    (lambda p: os.mkfifo(p), "is a FIFO (named pipe), not a TOML file"),  # used to hang for ever
    (lambda p: p.symlink_to("/dev/zero"), "is a device or socket, not a TOML file"),
    (lambda p: p.write_bytes(b'[contract]\nname = "caf\xe9"\n'), "is not UTF-8 text (byte 0xe9 at line 2)"),
    (lambda p: p.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n"), "nested too deeply"),
    (lambda p: p.write_bytes(b"# x\n" * (2 * 2**20)), "too large for a data file"),
])
def test_a_template_that_is_no_toml_file_is_refused_naming_it(tmp_path, make, says):
    bad = tmp_path / "c.toml"
    make(bad)
    with pytest.raises(SpecError) as err:
        load_scenario(scenario_with_template(tmp_path, "c.toml"))
    text = str(err.value)
    assert str(bad) in text and says in text
    assert "caf" not in text  # the file's contents are not echoed


def test_the_cli_says_it_without_a_traceback(tmp_path):
    (tmp_path / "c.toml").write_bytes(b"\xff\xfe binary")
    r = CliRunner().invoke(main, ["validate", scenario_with_template(tmp_path, "c.toml"), "--lang", "en"])
    assert r.exit_code == 2 and "not UTF-8 text" in r.output and "Traceback" not in r.output


# -- NaN, infinities and booleans are not numbers (issue 15, item 3) ------------------------------

@pytest.mark.parametrize("assignment, key, says", [
    # each of these used to pass: the cohort went to another group, the kommune dropped out of the
    # cashflows, a 100 % investor loss, 1 person, a 100 % discount rate, infinite KPIs
    ("world.cohorts[0].groups={A = nan, B = 0.3, C = 0.3, D = 0.2}", "world.cohorts[0].groups.A",
     "finite number"),
    ("contract.commissioners={kommune = nan, state = 0.5}", "contract.commissioners.kommune",
     "finite number"),
    ("contract.prices.job_start=nan", "contract.prices.job_start", "finite number"),
    ("world.cohorts[0].size=true", "world.cohorts[0].size", "must be a valid number, not true or false"),
    ("scenario.discount_rate=true", "scenario.discount_rate", "must be a valid number, not true or false"),
    ("scenario.discount_rate=inf", "scenario.discount_rate", "finite number"),
    ("contract.provider.per_cohort=inf", "contract.provider.per_cohort", "finite number"),
    ("contract.provider.per_week=-inf", "contract.provider.per_week", "finite number"),
])
def test_nan_infinities_and_booleans_are_refused_naming_the_key(assignment, key, says):
    text = refused([assignment])
    assert key in text and says in text


def test_a_boolean_benefit_level_is_refused_in_the_world_data_too():
    text = refused(["world.benefits.aap.g=false"])
    assert "world.benefits.aap.g: must be a valid number, not true or false" in text


# -- durations are bounded (issue 15, item 5) ------------------------------------------------------

@pytest.mark.parametrize("duration", [
    "{ dist = 'triangular', low = 1, mode = 2, high = 1e154 }",  # sampled -inf: time ran backwards
    "{ dist = 'gamma', shape = 1, scale = 1e6 }",
    "{ dist = 'lognormal', median = 10, sigma = 40 }",
    "{ dist = 'fixed', value = 5201 }",
])
def test_a_duration_beyond_a_hundred_years_is_refused(duration):
    text = refused([f"pathway.stages.course.duration={duration}"])
    assert "pathway.stages.course.duration" in text and "within 5200 weeks (100 years)" in text


def test_a_loop_in_which_no_time_passes_is_refused():
    # the bug: a zero-duration stage that returns to itself with a tiny chance to leave spun in place
    text = refused(['pathway.stages.course.duration={ dist = "fixed", value = 0 }',
                    'pathway.stages.course.exits=[{ to = "course", p = 0.999999 }]'])
    assert "pathway.stages.course: the loop course takes no time" in text


def test_a_loop_with_time_in_it_is_allowed():
    sc = load_scenario(None, ['pathway.stages.course.exits=[{ to = "course", p = 0.5 }]'])
    assert sc.world.pathway.stages["course"].exits[0].to == "course"


# -- a country folder's files (found by tests/test_fuzz_input.py) -----------------------------------

def _norway_folder(tmp_path):
    import shutil

    from effekt.contracts import fiscal_path

    folder = tmp_path / "land"
    folder.mkdir()
    root = default_scenario_path().parents[2]
    for name in ("benefits.toml", "target_groups.toml", "labour_market.toml"):
        shutil.copy(root / "sim" / "data" / name, folder / name)
    shutil.copy(fiscal_path("no"), folder / "fiscal.toml")
    scenario = tmp_path / "s.toml"
    scenario.write_text(default_scenario_path().read_text(encoding="utf-8").replace(
        "[scenario]\n", f'[scenario]\ncountry = "{folder}"\n', 1), encoding="utf-8")
    return folder, scenario


def test_target_groups_that_are_no_table_are_refused_naming_the_file(tmp_path):
    folder, scenario = _norway_folder(tmp_path)
    (folder / "target_groups.toml").write_text("groups = nan\n", encoding="utf-8")  # was an AttributeError
    result = CliRunner().invoke(main, ["validate", str(scenario), "--lang", "en"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)  # a message, no traceback
    assert f"[world data {folder / 'target_groups.toml'}]" in result.output
    assert "groups: must be a table of target groups" in result.output


def test_an_edited_country_file_is_read_again_in_the_same_process(tmp_path):
    # a long-lived process (effekt app, a notebook) must see the edit, not a cached copy
    folder, scenario = _norway_folder(tmp_path)
    assert load_scenario(scenario).world.labour_market.temporary_share != 0.55
    path = folder / "labour_market.toml"
    text = path.read_text(encoding="utf-8")
    assert "temporary_share" in text
    import re

    edited = re.sub(r"temporary_share\s*=\s*[0-9.]+", "temporary_share = 0.55", text)
    path.write_text(edited, encoding="utf-8")
    assert load_scenario(scenario).world.labour_market.temporary_share == 0.55


def test_an_unknown_contract_template_names_the_scenario_and_the_key():
    # found by the fuzzing campaign: the message named the template ('x y') as if it were a file
    text = refused(["contract.template=x y"])
    assert str(default_scenario_path()) in text
    assert "contract.template: no contract template 'x y' and no file" in text
    assert "kongsberg_outcomes" in text
    assert "did you mean 'kongsberg_outcomes'?" in refused(["contract.template=kongsberg_outcome"])
