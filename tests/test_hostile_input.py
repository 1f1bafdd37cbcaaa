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
    r = CliRunner().invoke(main, ["validate", scenario_with_template(tmp_path, "c.toml")])
    assert r.exit_code == 2 and "not UTF-8 text" in r.output and "Traceback" not in r.output
