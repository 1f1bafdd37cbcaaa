"""A results directory is locked while a batch writes, a resume takes only its own task files, and
--overwrite deletes nothing effekt did not write (issue 15, items 1 and 2).

Each case was a failure found by trying: two identical batches at once stored every replication
twice; a second batch with --overwrite mixed its rows with the first's; a 0-byte task file counted
as done and crashed `summary`; a fake `manifest.json` ({}) made a home directory with `.ssh/`
deletable; a user's notes inside `results/<name>/` were deleted when the scenario changed. The
expectations are the results of a clean batch of the same experiment, row for row.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from test_experiments_scenario import write
from test_experiments_store import EFFEKT, sorted_table

from effekt.experiments.batch import run_batch
from effekt.experiments.cli import main
from effekt.experiments.scenario import load_scenario
from effekt.experiments.store import FORMAT, LOCK_NAME, REJECTED, ResultsDirError, ResultStore


def same_tables(a, b) -> None:
    for ds in ("runs", "cashflows", "budgets"):
        x, y = sorted_table(a, ds), sorted_table(b, ds)
        assert len(x) == len(y), ds
        pd.testing.assert_frame_equal(x, y)


def test_a_second_batch_into_a_locked_directory_is_refused_naming_the_holder(tmp_path):
    sc = load_scenario(write(tmp_path))
    out = tmp_path / "out"
    holder = ResultStore(out)
    holder.lock("effekt batch first.toml")
    with pytest.raises(ResultsDirError, match=r"in use by another effekt batch \(pid \d+.*first\.toml"):
        run_batch(sc, out, progress=False)
    with pytest.raises(ResultsDirError, match="in use"):
        run_batch(sc, out, progress=False, overwrite=True)
    holder.close()
    store = run_batch(sc, out, progress=False, chunk=2)
    assert (out / LOCK_NAME).exists() and store._lock is None  # released at the end, file kept
    ref = tmp_path / "ref"
    run_batch(sc, ref, progress=False, chunk=3)
    same_tables(ref, out)


@pytest.mark.integration
def test_the_lock_of_another_process_is_refused_and_released_when_it_dies(tmp_path):
    path = write(tmp_path)
    out = tmp_path / "out"
    hold = ("import sys, time\nfrom effekt.experiments.store import ResultStore\n"
            f"s = ResultStore({str(out)!r}); s.lock('effekt batch other.toml'); print('locked', flush=True)\n"
            "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        r = CliRunner().invoke(main, ["batch", str(path), "--out", str(out), "--workers", "1", "-q"])
        assert r.exit_code == 2 and f"pid {proc.pid}" in r.output and "Traceback" not in r.output
    finally:
        proc.kill()
        proc.wait()
    time.sleep(0.05)
    r = CliRunner().invoke(main, ["batch", str(path), "--out", str(out), "--workers", "1", "-q"])
    assert r.exit_code == 0, r.output  # the kernel released the dead process's lock


def test_a_resume_rejects_empty_and_foreign_task_files_and_redoes_them(tmp_path):
    path = write(tmp_path)
    sc = load_scenario(path)
    out, other, ref = tmp_path / "out", tmp_path / "other", tmp_path / "ref"
    run_batch(sc, out, progress=False, chunk=2)
    run_batch(load_scenario(path, ["design.seed=99"]), other, progress=False, chunk=2)
    run_batch(sc, ref, progress=False, chunk=2)
    runs = sorted((out / "runs" / "point=0").glob("*.parquet"))
    empty, foreign = runs[0], runs[1]
    empty.write_bytes(b"")  # a task file cut to nothing (a full disk, a crash before fsync)
    shutil.copy(other / "runs" / "point=0" / foreign.name, foreign)  # another experiment's file
    run_batch(sc, out, progress=False)
    same_tables(ref, out)
    rejected = sorted(p.parent.parent.name + "/" + p.name.split("-")[0]
                      for p in (out / REJECTED).rglob("*.parquet"))
    assert len(rejected) == 2 * 3  # both tasks, each with its runs, cashflows and budgets files
    assert CliRunner().invoke(main, ["summary", str(out)]).exit_code == 0


def test_overwrite_refuses_a_fake_manifest_and_keeps_everything(tmp_path):
    sc = load_scenario(write(tmp_path))
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("secret")
    (home / "manifest.json").write_text("{}")
    with pytest.raises(ResultsDirError, match="not an effekt manifest"):
        run_batch(sc, home, progress=False, overwrite=True)
    assert (home / ".ssh" / "id_ed25519").read_text() == "secret"
    assert (home / "manifest.json").read_text() == "{}"


def test_overwrite_refuses_a_results_directory_holding_a_users_files(tmp_path):
    path = write(tmp_path)
    out = tmp_path / "out"
    run_batch(load_scenario(path), out, progress=False)
    assert json.loads((out / "manifest.json").read_text())["format"] == FORMAT
    (out / "notes.txt").write_text("what I found")
    (out / "runs" / "point=0" / "my_plot.png").write_bytes(b"png")
    with pytest.raises(ResultsDirError, match=r"did not write \(notes\.txt, runs/point=0/my_plot\.png\)"):
        run_batch(load_scenario(path, ["design.seed=5"]), out, progress=False, overwrite=True)
    assert (out / "notes.txt").read_text() == "what I found"
    (out / "notes.txt").unlink()
    (out / "runs" / "point=0" / "my_plot.png").unlink()
    run_batch(load_scenario(path, ["design.seed=5"]), out, progress=False, overwrite=True)
    assert json.loads((out / "manifest.json").read_text())["root_seed"] == 5


def test_results_of_a_changed_scenario_do_not_take_a_users_notes_with_them(tmp_path, monkeypatch):
    path = write(tmp_path)
    monkeypatch.chdir(tmp_path)
    batch = ["run", str(path), "--workers", "1", "-q", "--lang", "en"]
    assert CliRunner().invoke(main, batch).exit_code == 0
    [name] = [p.name for p in (tmp_path / "results").iterdir()]
    notes = tmp_path / "results" / name / "notes.md"
    notes.write_text("keep me")
    r = CliRunner().invoke(main, [*batch, "--set", "design.seed=4"])
    assert r.exit_code == 2 and "notes.md" in r.output and "Traceback" not in r.output
    assert notes.read_text() == "keep me"
    notes.unlink()  # without the user's file, results/<name> is effekt's scratch place: replaced
    r = CliRunner().invoke(main, [*batch, "--set", "design.seed=4"])
    assert r.exit_code == 0 and "replacing earlier results" in r.output


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc: no psutil needed)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.integration
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_exit_when_their_batch_is_killed(tmp_path):
    path = write(tmp_path)
    # big replications, so the workers are busy when the batch is killed
    args = ["batch", str(path), "--runs", "40", "--chunk", "1", "--workers", "2", "-q",
            "--set", "world.cohorts[0].size=3000", "--out", str(tmp_path / "out")]
    proc = subprocess.Popen([EFFEKT, *args], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        assert proc.poll() is None, proc.stderr.read().decode()
        workers = {p for p in children(proc.pid) if alive(p)}
        time.sleep(0.05)
    assert len(workers) >= 2, "the batch started no workers"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(alive(p) for p in workers):
        time.sleep(0.1)
    assert not [p for p in workers if alive(p)], "workers outlived their batch"


def test_a_manifest_that_is_a_directory_is_a_message_not_a_traceback(tmp_path):
    path = write(tmp_path)
    out = tmp_path / "out"
    (out / "manifest.json").mkdir(parents=True)
    r = CliRunner().invoke(main, ["batch", str(path), "--out", str(out), "--workers", "1", "-q",
                                  "--lang", "en"])
    assert r.exit_code == 2 and "is not a file" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["summary", str(out)])
    assert r.exit_code == 2 and "Traceback" not in r.output
