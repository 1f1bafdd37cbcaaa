"""Every command reports an error the same way, in the reader's language (review 15: summary,
calibrate, export, app and init printed "error:" and the English of a message worded in bokmål).
One path per command that refuses before any heavy work."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from effekt.experiments.cli import main


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("r") / "out"
    r = CliRunner().invoke(main, ["run", "--runs", "3", "--out", str(out), "-q", "--lang", "en"])
    assert r.exit_code == 0, r.output
    return out


def _refused(args: list[str]) -> tuple[str, str]:
    nb = CliRunner().invoke(main, [*args, "--lang", "nb"])
    en = CliRunner().invoke(main, [*args, "--lang", "en"])
    for r in (nb, en):
        assert r.exit_code == 2, r.output
        assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
        assert "Traceback" not in r.output
    assert nb.output.startswith("feil: ") and en.output.startswith("error: ")
    return nb.output, en.output


def test_summary_refuses_an_unknown_kpi_in_bokmaal(results):
    nb, en = _refused(["summary", str(results), "--kpi", "nope"])
    assert "'nope'" in nb and "no such KPI" not in nb and "no such KPI" in en


def test_summary_of_a_folder_without_results_in_bokmaal(tmp_path):
    nb, en = _refused(["summary", str(tmp_path)])
    assert str(tmp_path) in nb and "is it an effekt results directory" not in nb


def test_export_to_a_missing_folder_in_bokmaal(results, tmp_path):
    nb, en = _refused(["export", str(results), "--xlsx", str(tmp_path / "nope" / "x.xlsx")])
    assert "finnes ikke" in nb


def test_calibrate_to_an_unwritable_folder_in_bokmaal(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    nb, en = _refused(["calibrate", "springbrett", "--out", str(blocker / "sub")])
    assert "kan ikke skrives" in nb and "velg en annen mappe" in nb
    assert "cannot be written" in en


def test_init_does_not_replace_a_file_in_bokmaal(tmp_path):
    sheet = tmp_path / "ark.xlsx"
    sheet.write_text("mine")
    nb, en = _refused(["init", "--xlsx-template", str(sheet)])
    assert str(sheet) in nb and sheet.read_text() == "mine"


def test_app_with_a_scenario_that_is_not_a_file_in_bokmaal(tmp_path):
    pytest.importorskip("uvicorn")
    nb, en = _refused(["app", str(tmp_path / "nope.toml"), "--no-browser"])
    assert str(tmp_path / "nope.toml") in nb
