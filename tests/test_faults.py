"""Faults while a batch runs (issue 15, item 7): a full disk, a worker process killed from outside,
a lost Dask scheduler. Each ends in a message saying what is kept and how to resume, never a
traceback, and a rerun gives the tables of an uninterrupted run."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from effekt.experiments import store as store_module
from effekt.experiments.batch import run_batch
from effekt.experiments.cli import main
from effekt.experiments.executors import ExecutorLost, ProcessExecutor
from effekt.experiments.runner import run_job
from effekt.experiments.scenario import default_scenario_path, load_experiment

DEFAULT = str(default_scenario_path())


def runs(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "runs").sort_values("replication").reset_index(drop=True)


def test_a_full_disk_stops_with_a_message_keeps_what_was_stored_and_a_rerun_resumes(tmp_path, monkeypatch):
    real = store_module._write_bytes

    def full_disk(where, data):
        # the first task's three files are written, then the disk is full (told by the file's name:
        # tasks are written on several threads, so not in the order they were given)
        if "-r0000000-" not in Path(where).name:
            Path(where).write_bytes(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(where, data)

    args = ["batch", DEFAULT, "--runs", "6", "--chunk", "2", "--workers", "1", "-q"]
    monkeypatch.setattr(store_module, "_write_bytes", full_disk)
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "r"), "--lang", "en"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert "cannot be written (the disk is full: free space there or choose another --out)" in result.output
    assert "run the same command again to resume" in result.output
    assert not list((tmp_path / "r").rglob("*.tmp"))  # no half-written file left behind
    assert len(list((tmp_path / "r" / "runs").rglob("*.parquet"))) == 1
    monkeypatch.setattr(store_module, "_write_bytes", real)
    assert CliRunner().invoke(main, [*args, "--out", str(tmp_path / "r")]).exit_code == 0
    assert CliRunner().invoke(main, [*args, "--out", str(tmp_path / "clean")]).exit_code == 0
    pd.testing.assert_frame_equal(runs(tmp_path / "r"), runs(tmp_path / "clean"))


def dying_task(job):
    """A task whose worker process is killed from outside (as the system's OOM killer does)."""
    if job.task.start >= 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return run_job(job)


def test_a_killed_worker_process_is_reported_not_a_traceback(tmp_path):
    exp = load_experiment(None, ["design.replications=6"])
    with pytest.raises(ExecutorLost) as err:
        run_batch(exp, tmp_path / "r", executor=ProcessExecutor(2), chunk=2, progress=False,
                  task_fn=dying_task)
    assert "a worker process died" in str(err.value) and "run the same command again" in str(err.value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cluster(port: int) -> list[subprocess.Popen]:
    dask = str(Path(sys.executable).with_name("dask"))
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], **quiet)]
    time.sleep(3)
    procs.append(subprocess.Popen([dask, "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1",
                                   "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"], **quiet))
    return procs


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=20)


@pytest.mark.integration
def test_a_lost_dask_scheduler_is_reported_and_a_rerun_on_a_new_one_resumes(tmp_path):
    pytest.importorskip("distributed")
    port = _free_port()
    out = tmp_path / "r"
    effekt = str(Path(sys.executable).with_name("effekt"))
    cmd = [effekt, "batch", DEFAULT, "--lang", "en", "--dask", f"tcp://127.0.0.1:{port}", "--runs", "300",
           "--chunk", "5",
           "--out", str(out), "-q"]
    procs = _cluster(port)
    try:
        batch = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not list(out.glob("runs/point=0/*.parquet")) and time.monotonic() < deadline:
            time.sleep(0.2)
        procs[0].kill()  # the scheduler is gone
        _, err = batch.communicate(timeout=180)
        assert batch.returncode == 2, err
        assert "lost the connection to the Dask scheduler" in err and "Traceback" not in err
        assert "run the same command again to resume" in err
    finally:
        _stop(procs)
    procs = _cluster(port)
    try:
        again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert again.returncode == 0, again.stderr
    finally:
        _stop(procs)
    got = runs(out)
    assert len(got) == 300 and not got.duplicated("replication").any()
