"""The results directory: hive-partitioned Parquet readable without effekt, a manifest, resume
after a kill at any moment, refusal to mix experiments."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from test_experiments_scenario import write

from effekt.experiments.batch import run_batch
from effekt.experiments.cli import main
from effekt.experiments.executors import SerialExecutor
from effekt.experiments.scenario import load_experiment, load_scenario
from effekt.experiments.store import ResultsDirError
from effekt.experiments.store import read_table as sorted_table

EFFEKT = str(Path(sys.executable).with_name("effekt"))
SWEEP = '[design.sweep]\n"contract.prices.job_start" = [30000, 60000]\n"world.cohorts[0].size" = [4, 6]\n'




@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> tuple[Path, object]:
    tmp = tmp_path_factory.mktemp("sweep")
    exp = load_experiment(write(tmp, design=SWEEP))
    out = tmp / "out"
    run_batch(exp, out, executor=SerialExecutor(), chunk=3, progress=False,
              tables=("persons", "events", "spells"), command="pytest")
    return out, exp


def test_layout_is_hive_partitioned_with_one_file_per_task(sweep_dir):
    out, exp = sweep_dir
    for ds in ("runs", "cashflows", "budgets", "persons", "events", "spells"):
        parts = sorted(p.name for p in (out / ds).iterdir())
        assert parts == [f"point={k}" for k in range(4)]
        # 4 replications in chunks of 3: tasks 0-2 and 3 at every point
        for k in range(4):
            names = sorted(p.name for p in (out / ds / f"point={k}").iterdir())
            assert names == [f"p{k:05d}-r0000000-0000003.parquet", f"p{k:05d}-r0000003-0000004.parquet"]


def test_duckdb_reads_runs_and_parameters_without_effekt(sweep_dir):
    out, exp = sweep_dir
    con = duckdb.connect()
    rows = con.execute(
        f"""SELECT point, "contract.prices.job_start" AS price, "world.cohorts[0].size" AS size,
                   count(*) AS n, count(DISTINCT replication) AS reps, avg(participants) AS people
            FROM read_parquet('{out}/runs/*/*.parquet', hive_partitioning = true)
            GROUP BY ALL ORDER BY point"""
    ).fetchall()
    # the grid: price is the outer key, size the inner; parallel counterfactual keeps everyone
    assert rows == [(0, 30000, 4, 4, 4, 4.0), (1, 30000, 6, 4, 4, 6.0),
                    (2, 60000, 4, 4, 4, 4.0), (3, 60000, 6, 4, 4, 6.0)]
    persons = con.execute(
        f"""SELECT point, replication, arm, count(*) FROM
            read_parquet('{out}/persons/*/*.parquet', hive_partitioning = true)
            GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    assert len(persons) == 4 * 4 * 2
    assert all(n == (4 if p in (0, 2) else 6) for p, _, _, n in persons)


def test_pandas_reads_every_dataset_and_schemas_are_explicit(sweep_dir):
    out, exp = sweep_dir
    runs = pd.read_parquet(out / "runs")
    assert len(runs) == 16
    assert runs.groupby("point", observed=True).size().tolist() == [4, 4, 4, 4]
    schemas = {pq.read_schema(p) for p in (out / "runs").rglob("*.parquet")}
    assert len(schemas) == 1  # every file of a dataset has the same columns and types
    schema = schemas.pop()
    assert str(schema.field("replication").type) == "int32"
    assert str(schema.field("contract.prices.job_start").type) == "int64"
    assert str(schema.field("investor_irr").type) == "double"
    cash = pd.read_parquet(out / "cashflows")
    assert set(cash.columns) >= {"point", "replication", "party", "month", "item", "amount"}
    events = pd.read_parquet(out / "events")
    assert set(events["event"]) >= {"referred", "entered"}


def test_manifest_says_what_was_run(sweep_dir):
    out, exp = sweep_dir
    m = json.loads((out / "manifest.json").read_text())
    assert m["scenario"]["scenario"]["name"] == "small"
    assert m["scenario"]["pathway"]["pathway"]["name"] == "kongsberg_kull"  # templates resolved in
    assert m["experiment_hash"] == exp.hash and m["scenario_hash"] == exp.base.hash
    assert m["root_seed"] == 3 and m["replications"] == 4 and m["chunk"] == 3
    assert m["points"] == exp.points
    assert m["parameters"] == ["contract.prices.job_start", "world.cohorts[0].size"]
    assert m["tables"] == ["persons", "events", "spells"]
    assert m["command"] == "pytest" and m["effekt_version"]
    assert m["complete"] is True and m["tasks_total"] == 8 and len(m["tasks_done"]) == 8
    assert m["started"] <= m["finished"]


def test_another_scenario_in_the_same_directory_is_refused(tmp_path):
    sc = load_scenario(write(tmp_path))
    out = tmp_path / "out"
    run_batch(sc, out, chunk=2, progress=False)
    other = load_scenario(write(tmp_path), ["design.seed=4"])
    with pytest.raises(ResultsDirError, match="another experiment.*--overwrite"):
        run_batch(other, out, progress=False)
    with pytest.raises(ResultsDirError, match="other tables"):
        run_batch(sc, out, progress=False, tables=("persons",))
    run_batch(other, out, chunk=2, progress=False, overwrite=True)
    assert json.loads((out / "manifest.json").read_text())["root_seed"] == 4
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "thesis.docx").write_text("precious")
    with pytest.raises(ResultsDirError, match="not an effekt results directory"):
        run_batch(sc, stranger, progress=False)
    assert (stranger / "thesis.docx").exists()


def test_cli_refuses_another_experiment_with_a_clear_message(tmp_path):
    path = write(tmp_path)
    out = str(tmp_path / "out")
    r = CliRunner().invoke(main, ["batch", str(path), "--out", out, "--workers", "1", "-q"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["batch", str(path), "--out", out, "--workers", "1", "-q",
                                  "--set", "contract.prices.job_start=1000", "--lang", "en"])
    assert r.exit_code == 2
    assert "another experiment" in r.output and "--overwrite" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["batch", str(path), "--out", out, "--workers", "1", "-q",
                                  "--set", "contract.prices.job_start=1000"])  # bokmål, the default
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "et annet eksperiment" in r.output and "de er ulike i" in r.output, r.output
    assert "another experiment" not in r.output and "they differ" not in r.output


def test_the_whole_table_and_the_stores_prefixes_in_bokmal():
    from effekt.experiments.provenance import WHOLE_TABLE, differences, differences_nb

    assert differences(1, 2) == [WHOLE_TABLE]
    assert differences_nb([WHOLE_TABLE, "design points[0].x", "posteriors.a.b", "fiscal rules.income_tax",
                           "contract.prices"]) == [
        "(hele tabellen)", "designpunktene[0].x", "posteriorene.a.b", "skattereglene.income_tax",
        "contract.prices"]


def test_resume_after_a_crash_between_files_recomputes_only_the_missing_task(tmp_path):
    sc = load_scenario(write(tmp_path), ["design.replications=6"])
    full, part = tmp_path / "full", tmp_path / "part"
    run_batch(sc, full, chunk=2, progress=False)
    run_batch(sc, part, chunk=2, progress=False)
    # a kill after a task's cashflows were written but before its runs file was: the task is not
    # done; a kill during a write leaves a temporary file, which readers skip and resume removes
    (part / "runs" / "point=0" / "p00000-r0000002-0000004.parquet").unlink()
    (part / "runs" / "point=0" / ".p00000-r0000004-0000006.parquet.tmp").write_bytes(b"half")
    before = {p: p.stat().st_mtime_ns for p in (part / "runs").rglob("*.parquet")}
    run_batch(sc, part, progress=False)
    for p, t in before.items():
        assert p.stat().st_mtime_ns == t, f"{p} was recomputed"
    assert not list(part.rglob("*.tmp"))
    for ds in ("runs", "cashflows", "budgets"):
        pd.testing.assert_frame_equal(sorted_table(full, ds), sorted_table(part, ds))


@pytest.mark.integration
def test_a_batch_killed_with_sigkill_resumes_to_the_same_tables(tmp_path):
    path = write(tmp_path)
    args = ["run", str(path), "--runs", "10", "--chunk", "1", "--workers", "1", "--quiet",
            "--out", str(tmp_path / "killed"), "--tables", "spells"]
    cmd = [EFFEKT, *args]
    # the first run pauses 0.3 s after each task it writes, so that however loaded the machine,
    # the kill lands long before all 10 tasks are done (a task alone takes milliseconds)
    slow = ("import sys, time\n"
            "from effekt.experiments.store import ResultStore; write = ResultStore.write_task\n"
            "def paused(self, *a, **k):\n    write(self, *a, **k); time.sleep(0.3)\n"
            "ResultStore.write_task = paused\n"
            "from effekt.experiments.cli import main; main(sys.argv[1:])")
    proc = subprocess.Popen([sys.executable, "-c", slow, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    runs = tmp_path / "killed" / "runs" / "point=0"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(runs.glob("*.parquet"))) < 3:
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list(runs.glob("*.parquet")))
    assert 3 <= done_before < 10, "the batch was not killed mid-way"
    manifest = json.loads((tmp_path / "killed" / "manifest.json").read_text())
    assert manifest["finished"] is None
    # the output has stderr too
    r = CliRunner().invoke(main, ["summary", str(tmp_path / "killed"), "--lang", "en"])
    assert r.exit_code == 0 and "incomplete" in r.output and "of 10 replications" in r.output
    kept = {p: p.stat().st_mtime_ns for p in runs.glob("*.parquet")}
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items()), "finished tasks were recomputed"
    manifest = json.loads((tmp_path / "killed" / "manifest.json").read_text())
    assert manifest["complete"] is True and len(manifest["resumed"]) == 1
    ref = tmp_path / "ref"
    sc = load_scenario(path, ["design.replications=10"])
    run_batch(sc, ref, chunk=5, progress=False, tables=("spells",))
    for ds in ("runs", "cashflows", "budgets", "spells"):
        a, b = sorted_table(ref, ds), sorted_table(tmp_path / "killed", ds)
        assert len(b) == len(a)
        pd.testing.assert_frame_equal(a, b)


def test_overwrite_never_deletes_a_directory_that_holds_no_effekt_results(tmp_path):
    sc = load_scenario(write(tmp_path))
    keep = tmp_path / "d"
    keep.mkdir()
    (keep / "keep.txt").write_text("x")
    with pytest.raises(ResultsDirError, match="not an effekt results directory"):
        run_batch(sc, keep, progress=False, overwrite=True)
    assert (keep / "keep.txt").read_text() == "x"
    r = CliRunner().invoke(main, ["batch", str(write(tmp_path)), "--out", str(keep), "--workers", "1",
                                  "-q", "--overwrite", "--lang", "en"])
    assert r.exit_code == 2 and "no manifest.json" in r.output and "Traceback" not in r.output
    assert (keep / "keep.txt").read_text() == "x"


def test_out_dot_is_resolved_and_the_working_directory_is_never_deleted(tmp_path, monkeypatch):
    path = write(tmp_path)
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    batch = ["batch", str(path), "--workers", "1", "-q"]
    assert CliRunner().invoke(main, [*batch, "--out", "."]).exit_code == 0
    assert (here / "manifest.json").exists()
    r = CliRunner().invoke(main, [*batch, "--out", ".", "--overwrite", "--lang", "en"])
    assert r.exit_code == 2 and "working directory" in r.output and "Traceback" not in r.output
    assert (here / "manifest.json").exists() and Path.cwd() == here
    # a relative --out below the working directory is replaced as asked
    assert CliRunner().invoke(main, [*batch, "--out", "sub"]).exit_code == 0
    r = CliRunner().invoke(main, [*batch, "--out", "sub", "--overwrite", "--set", "design.seed=9"])
    assert r.exit_code == 0, r.output
    assert json.loads((here / "sub" / "manifest.json").read_text())["root_seed"] == 9


def test_a_corrupt_manifest_is_a_clear_error_naming_the_file(tmp_path):
    path = write(tmp_path)
    out = tmp_path / "out"
    run_batch(load_scenario(path), out, chunk=2, progress=False)
    (out / "manifest.json").write_text('{"scenario": ')
    with pytest.raises(ResultsDirError, match=r"manifest\.json is not valid JSON"):
        run_batch(load_scenario(path), out, progress=False)
    for args in (["summary", str(out)], ["batch", str(path), "--out", str(out), "--workers", "1", "-q"]):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 2, args
        assert str(out / "manifest.json") in r.output and "Traceback" not in r.output
    (out / "manifest.json").write_text("[1, 2]")
    with pytest.raises(ResultsDirError, match="not an effekt manifest"):
        run_batch(load_scenario(path), out, progress=False)


def test_read_table_gives_one_row_order_whatever_the_files_and_their_row_order(tmp_path):
    """Rows equal in every key column (two people's identical spells) and files written in another
    split still come back in one order: the stable sort ends with every other column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = {"replication": [1, 0, 1, 0], "arm": ["t", "t", "t", "t"], "month": [0, 0, 0, 0],
            "amount": [3.0, 2.0, 1.0, 2.5]}
    whole = pa.table(rows)
    for name, parts in (("a", [whole]), ("b", [whole.slice(2), whole.slice(0, 2)])):
        folder = tmp_path / name / "cashflows" / "point=0"
        folder.mkdir(parents=True)
        for i, part in enumerate(parts):
            pq.write_table(part, folder / f"t{i}.parquet")
    a, b = sorted_table(tmp_path / "a", "cashflows"), sorted_table(tmp_path / "b", "cashflows")
    pd.testing.assert_frame_equal(a, b)
    assert a["replication"].tolist() == [0, 0, 1, 1] and a["amount"].tolist() == [2.0, 2.5, 1.0, 3.0]
    assert a["point"].dtype.kind == "i"
