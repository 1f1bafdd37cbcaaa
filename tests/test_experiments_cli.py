"""The ``effekt`` command line: help texts and the script commands."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from test_experiments_scenario import write

from effekt.experiments.cli import main

SWEEP = '[design.sweep]\n"contract.prices.job_start" = [30000, 60000]\n'


@pytest.mark.parametrize("command", ["breakeven", "sensitivity", "run", "batch", "sweep"])
def test_help_shows_single_percent_signs(command):
    # click does not %-format help texts: a '%%' there is printed as it is
    r = CliRunner().invoke(main, [command, "--help"])
    assert r.exit_code == 0, r.output
    assert "%%" not in r.output


def test_batch_and_sweep_share_their_options_and_report_what_they_ran(tmp_path):
    path = write(tmp_path, design=SWEEP)
    opts = ["--workers", "1", "--runs", "2", "--lang", "en"]
    r = CliRunner().invoke(main, ["batch", str(path), "--out", str(tmp_path / "b"), *opts])
    assert r.exit_code == 0, r.output
    assert f"2 replications of small in {tmp_path / 'b'}/" in r.output
    r = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "s"), *opts])
    assert r.exit_code == 0, r.output
    assert "2 design points x 2 replications of small" in r.output
    assert "(parameters: contract.prices.job_start)" in r.output
    assert "5 % IRR" in CliRunner().invoke(main, ["breakeven", "--help", "--lang", "en"]).output
