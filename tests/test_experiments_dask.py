"""Dask distributed: a real scheduler and real workers on loopback give the same tables as a serial
run, also when a worker is killed in the middle of the batch."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from test_experiments_scenario import write

from effekt.experiments.batch import run_batch
from effekt.experiments.executors import SerialExecutor
from effekt.experiments.scenario import load_experiment
from effekt.experiments.store import read_table as table

pytestmark = pytest.mark.integration  # real scheduler and worker processes on loopback
distributed = pytest.importorskip("distributed")

DASK = str(Path(sys.executable).with_name("dask"))
SWEEP = '[design.sweep]\n"contract.prices.job_start" = [30000, 60000]\n'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    """``dask scheduler`` and two single-threaded ``dask worker`` processes (no nanny, so a killed
    worker stays dead) on 127.0.0.1."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=env)]
    for _ in range(2):
        procs.append(subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--no-nanny",
                                       "--no-dashboard", "--host", "127.0.0.1"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
    client = None
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                client = distributed.Client(address, timeout=5)
                client.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        client.close()
        yield address, procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()




def test_cli_runs_a_sweep_on_the_cluster(cluster, tmp_path):
    # runs first, while both workers are alive
    from click.testing import CliRunner

    from effekt.experiments.cli import main

    address, _ = cluster
    path = write(tmp_path, design=SWEEP)
    r = CliRunner().invoke(main, ["sweep", str(path), "--dask", address, "--runs", "3", "--chunk", "2",
                                  "--out", str(tmp_path / "out"), "-q"])
    assert r.exit_code == 0, r.output
    runs = table(tmp_path / "out", "runs")
    assert len(runs) == 6 and not runs.duplicated(["point", "replication"]).any()
    manifest = (tmp_path / "out" / "manifest.json").read_text()
    assert '"executor": "dask"' in manifest


def test_a_cluster_started_once_is_reused_by_the_next_command(cluster, tmp_path):
    # the --dask help: a cluster started once is reused by every command given its address, which
    # is what makes Dask pay at 1 000 replications on one machine (docs/experiments.md); a command
    # must leave a cluster it did not start as it found it: the same workers, none restarted
    from click.testing import CliRunner

    from effekt.experiments.cli import main

    address, _ = cluster
    with distributed.Client(address, timeout=10) as client:
        before = sorted(client.scheduler_info()["workers"])
    path = write(tmp_path)
    for out in ("first", "second"):
        r = CliRunner().invoke(main, ["run", str(path), "--dask", address, "--runs", "4", "--chunk", "2",
                                      "--seed", "11", "--out", str(tmp_path / out), "-q"])
        assert r.exit_code == 0, r.output
    with distributed.Client(address, timeout=10) as client:
        assert sorted(client.scheduler_info()["workers"]) == before and len(before) == 2
    first, second = (table(tmp_path / out, "runs").sort_values("replication").reset_index(drop=True)
                     for out in ("first", "second"))
    assert len(first) == 4
    pd.testing.assert_frame_equal(first, second)


def test_dask_results_equal_serial_even_when_a_worker_dies(cluster, tmp_path):
    from effekt.experiments.dask_executor import DaskExecutor

    address, procs = cluster
    exp = load_experiment(write(tmp_path, design=SWEEP), ["design.replications=8"])
    run_batch(exp, tmp_path / "serial", executor=SerialExecutor(), chunk=5, progress=False)

    executor = DaskExecutor(address)
    assert executor.workers == 2
    victim = procs[1]
    original = executor.map_unordered

    def killing_map(fn, items):
        # kill one worker as soon as the first result is in: the other tasks it held are lost
        # with it, and the scheduler must run them again on the survivor
        for n, pair in enumerate(original(fn, items)):
            if n == 0:
                os.kill(victim.pid, signal.SIGKILL)
                victim.wait()
            yield pair

    executor.map_unordered = killing_map
    try:
        run_batch(exp, tmp_path / "dask", executor=executor, chunk=2, progress=False)
    finally:
        executor.close()
    assert victim.poll() is not None
    for ds in ("runs", "cashflows", "budgets"):
        a, b = table(tmp_path / "serial", ds), table(tmp_path / "dask", ds)
        assert len(b) == len(a)
        pd.testing.assert_frame_equal(a, b)
    runs = table(tmp_path / "dask", "runs")
    assert not runs.duplicated(["point", "replication"]).any()
    assert len(runs) == 2 * 8
