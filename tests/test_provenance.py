"""Provenance (issue 13, item 10): the manifest records the tax-and-benefit rules' values, the
libraries' versions and the git commit; a refused resume names what differs; an interrupted run
says how to resume."""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner

from effekt.contracts import fiscal_path, fiscal_rules
from effekt.experiments.cli import main
from effekt.experiments.provenance import LIBRARIES, differences

ROOT = Path(__file__).resolve().parents[1]
KOTO = ROOT / "experiments" / "scenarios" / "koto_sib.toml"


def run(*args: str, lang: str = "en"):
    return CliRunner().invoke(main, ["batch", *args, "--workers", "1", "--runs", "2", "--lang", lang])


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def test_the_manifest_records_the_rules_the_libraries_and_the_commit(tmp_path):
    out = tmp_path / "r"
    assert run(str(ROOT / "experiments" / "scenarios" / "default.toml"), "--out", str(out)).exit_code == 0
    got = manifest(out)["provenance"]
    assert got["fiscal_rules"] == fiscal_rules("no").model_dump(mode="json")
    assert got["fiscal_rules"]["income_tax"]["average_rates"]  # the values themselves, not a path
    assert Path(got["fiscal_source"]) == fiscal_path("no")
    assert set(got["libraries"]) == set(LIBRARIES) and got["libraries"]["numpy"] == version("numpy")
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:
        assert got["git"]["commit"] == head.stdout.strip()
        assert isinstance(got["git"]["local_changes"], bool)
    else:
        assert got["git"] is None


def test_a_refused_resume_names_the_keys_that_differ(tmp_path):
    out, default = tmp_path / "r", str(ROOT / "experiments" / "scenarios" / "default.toml")
    assert run(default, "--out", str(out)).exit_code == 0
    again = run(default, "--out", str(out), "--set", "world.cohorts[0].size=15",
                "--set", "scenario.discount_rate=0.03")
    assert again.exit_code == 2
    assert "they differ at scenario.discount_rate, world.cohorts[0].size" in again.output
    again = run(default, "--out", str(out), "--set", "world.cohorts[0].size=15",
                "--set", "scenario.discount_rate=0.03", lang="nb")
    assert again.exit_code == 2
    assert "et annet eksperiment" in again.output, again.output
    assert "de er ulike i scenario.discount_rate, world.cohorts[0].size" in again.output


def test_edited_tax_rules_in_a_country_folder_are_another_experiment(tmp_path):
    folder = tmp_path / "land"
    folder.mkdir()
    for p in (ROOT / "sim" / "data" / "fi").glob("*.toml"):
        shutil.copy(p, folder / p.name)
    shutil.copy(fiscal_path("fi"), folder / "fiscal.toml")
    text = KOTO.read_text(encoding="utf-8").replace('country = "fi"', 'country = "land"')
    text = text.replace('template = "../../sim/data/fi/koto_sib_pathway.toml"',
                        f'template = "{ROOT / "sim" / "data" / "fi" / "koto_sib_pathway.toml"}"')
    scenario = tmp_path / "koto.toml"
    scenario.write_text(text, encoding="utf-8")
    out = tmp_path / "r"
    assert run(str(scenario), "--out", str(out), "--set", "world.cohorts[0].size=6").exit_code == 0
    fiscal = folder / "fiscal.toml"
    fiscal.write_text(fiscal.read_text(encoding="utf-8").replace(
        "average_rates  = [0.0, 0.019,", "average_rates  = [0.0, 0.021,"), encoding="utf-8")
    # the rules are read again, in this process too, because the file changed
    again = run(str(scenario), "--out", str(out), "--set", "world.cohorts[0].size=6")
    assert again.exit_code == 2, again.output
    assert "under other tax-and-benefit rules" in again.output
    assert "fiscal rules.income_tax.average_rates[1]" in again.output
    again = run(str(scenario), "--out", str(out), "--set", "world.cohorts[0].size=6", lang="nb")
    assert "under andre skatte- og trygderegler" in again.output, again.output
    assert "skattereglene.income_tax.average_rates[1]" in again.output


def test_differences_walks_tables_and_lists():
    assert differences({"a": {"b": [1, 2]}, "c": 1}, {"a": {"b": [1, 3]}, "c": 1}) == ["a.b[1]"]
    assert differences({"a": 1}, {"b": 1}) == ["a", "b"]
    assert differences([1], [1, 2], "x") == ["x"]
    assert differences({"a": 1}, {"a": 1}) == []


@pytest.mark.integration
def test_sigterm_stops_the_workers_and_says_how_to_resume(tmp_path):
    import os
    import signal
    import sys
    import time

    out = tmp_path / "r"
    effekt = Path(sys.executable).with_name("effekt")
    cmd = [str(effekt), "batch", str(ROOT / "experiments" / "scenarios" / "default.toml"), "--out", str(out),
           "--runs", "4000", "--workers", "2", "--chunk", "20", "--lang", "en"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(out.glob("runs/point=0/*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.2)
    children = [int(p) for p in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                               text=True).stdout.split()]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err and "Traceback" not in err
    time.sleep(2)
    alive = [c for c in children if Path(f"/proc/{c}").exists()
             and "zombie" not in Path(f"/proc/{c}/status").read_text().lower()]
    assert children and not alive
    stored = len(list(out.glob("runs/point=0/*.parquet")))
    resumed = subprocess.run(cmd[:-4] + ["--workers", "2", "--chunk", "20"], capture_output=True, text=True,
                             timeout=900, env={**os.environ})
    assert stored >= 1 and resumed.returncode == 0, resumed.stderr
    import pyarrow.parquet as pq

    # every replication once: the tasks of 20, the last ones cut smaller for the two workers
    reps = sorted(r for f in out.glob("runs/point=0/*.parquet")
                  for r in pq.read_table(f, columns=["replication"]).column(0).to_pylist())
    assert reps == list(range(4000))


def test_a_posterior_written_again_is_another_experiment(tmp_path):
    # review 13: the manifest named the posterior, not its contents, so a second effekt calibrate
    # changed the drawn numbers under the same experiment and a resume mixed two posteriors
    posterior = tmp_path / "springbrett.posterior.toml"
    shutil.copy(ROOT / "experiments" / "calibrations" / "springbrett.posterior.toml", posterior)
    key = "pathway.stages.work_training.exits[1].p"
    args = [str(ROOT / "experiments" / "scenarios" / "default.toml"), "--out", str(tmp_path / "r"),
            "--draws", "2", "--set", f'{key}={{ calibrated = "{posterior}" }}']
    first = run(*args)
    assert first.exit_code == 0, first.output
    recorded = manifest(tmp_path / "r")["provenance"]["posteriors"]
    assert list(recorded) == [str(posterior)] and len(recorded[str(posterior)]) == 64
    assert run(*args).exit_code == 0  # unchanged: resumes (nothing left to do)
    posterior.write_text(posterior.read_text(encoding="utf-8") + "\n# written again\n", encoding="utf-8")
    again = run(*args)
    assert again.exit_code == 2 and "drawing from another posterior" in again.output
