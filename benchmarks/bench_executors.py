"""Executors: speed-up over serial, and peak memory of long batches.

Speed-up (``--speedup``): the same batch (the built-in default scenario, ``--runs`` replications,
one chunk size for all) run serially, on local processes and on a Dask LocalCluster, each into its
own results directory; wall time of ``run_batch``. The LocalCluster's start-up is timed apart: it is
paid once per session, not per batch. Results of all three are checked to be equal.

Peak memory: peak resident memory of the process that runs the batch (it receives every row and
writes the files) and of its largest worker, each batch in a fresh interpreter, on a tiny world
(one person, 8 weeks, no control arm): ``--memory-real N`` runs N/10 and N real replications;
``--memory`` runs 10 000 and 100 000 replications that replay one real replication's tables
through the real ``run_batch``, process executor and Parquet store (the flat-memory property
belongs to that machinery; this is quick even when the simulation is slow).

    python benchmarks/bench_executors.py --speedup --runs 1200
    python benchmarks/bench_executors.py --memory-real 100000
    python benchmarks/bench_executors.py --memory
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa

from effekt.experiments.batch import choose_chunk, run_batch
from effekt.experiments.executors import ProcessExecutor, SerialExecutor
from effekt.experiments.runner import Job, run_task
from effekt.experiments.scenario import Experiment, load_experiment
from effekt.experiments.store import read_table as load

TINY = ["world.cohorts[0].size=1", "world.horizon_weeks=8", "world.counterfactual.mode='none'"]

_REPLAY: dict[str, pa.Table] | None = None


def replay_job(job: Job) -> dict[str, pa.Table]:
    """One real replication's tables, relabelled for every replication of the job."""
    global _REPLAY
    if _REPLAY is None:
        _REPLAY = run_task(job.scenario, type(job.task)(0, 0, 1), job.params, job.param_fields, job.tables)
    out = {}
    for name, table in _REPLAY.items():
        parts = []
        for rep in range(job.task.start, job.task.stop):
            col = pa.array([rep] * table.num_rows, type=pa.int32())
            parts.append(table.set_column(table.schema.get_field_index("replication"), "replication", col))
        out[name] = pa.concat_tables(parts)
    return out




def _spin(seconds: float) -> float:
    end = time.perf_counter() + seconds
    start = time.process_time()
    while time.perf_counter() < end:
        pass
    return time.process_time() - start


def cores_available(workers: int, seconds: float = 2.0) -> float:
    """CPU seconds per wall second that ``workers`` busy processes actually get: 2.0 on an idle
    2-core machine, less when other work shares it (then no executor can reach 2x)."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers) as pool:
        return sum(pool.map(_spin, [seconds] * workers)) / seconds


def _warm_up(scenario) -> None:
    from effekt.experiments.runner import run_replication

    run_replication(scenario, 0)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def speedup(runs: int, workers: int) -> dict:
    """Wall time of the same batch on each executor, and the CPU seconds each spent in all its
    processes (this one, local workers, Dask workers). On a shared machine wall-clock speed-ups
    are capped by the cores other work leaves (``cores_available_*``); the CPU figures give the
    speed-up an idle machine would show if the tasks balance: ``workers x serial CPU / CPU``."""
    from effekt.experiments.dask_executor import DaskExecutor

    exp = load_experiment(None, [f"design.replications={runs}"], sweep=False)
    chunk = choose_chunk(exp, workers)
    res: dict = {"runs": runs, "workers": workers, "chunk": chunk, "cpus": os.cpu_count(),
                 "cores_available_before": cores_available(workers)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t, c = time.perf_counter(), time.process_time()
        run_batch(exp, tmp / "serial", SerialExecutor(), chunk=chunk, progress=False)
        res["serial_s"] = time.perf_counter() - t
        res["serial_cpu_s"] = time.process_time() - c
        t, c, k = time.perf_counter(), time.process_time(), _children_cpu()
        run_batch(exp, tmp / "procs", ProcessExecutor(workers), chunk=chunk, progress=False)
        res["processes_s"] = time.perf_counter() - t
        res["processes_parent_cpu_s"] = time.process_time() - c
        res["processes_cpu_s"] = res["processes_parent_cpu_s"] + _children_cpu() - k
        t = time.perf_counter()
        dask = DaskExecutor("local", workers)
        res["dask_startup_s"] = time.perf_counter() - t
        # a fresh worker imports effekt and fills its caches on its first task (~1 CPU-s); a
        # long-lived cluster pays that once, so it is timed apart, like the cluster's start-up
        t = time.perf_counter()
        dask.client.run(_warm_up, exp.base)
        res["dask_warm_up_s"] = time.perf_counter() - t
        try:
            w0 = dask.client.run(time.process_time)
            t, c = time.perf_counter(), time.process_time()
            run_batch(exp, tmp / "dask", dask, chunk=chunk, progress=False)
            res["dask_s"] = time.perf_counter() - t
            w1 = dask.client.run(time.process_time)
            res["dask_parent_cpu_s"] = time.process_time() - c  # includes the LocalCluster's scheduler
            res["dask_workers_cpu_s"] = sum(w1[w] - w0[w] for w in w1)
            res["dask_cpu_s"] = res["dask_parent_cpu_s"] + res["dask_workers_cpu_s"]
        finally:
            dask.close()
        for name in ("procs", "dask"):  # unequal only if the code changed while this ran
            res[f"{name}_equal_serial"] = load(tmp / "serial", "runs").equals(load(tmp / name, "runs"))
    res["speedup_processes"] = res["serial_s"] / res["processes_s"]
    res["speedup_dask"] = res["serial_s"] / res["dask_s"]
    res["idle_speedup_processes"] = workers * res["serial_cpu_s"] / res["processes_cpu_s"]
    res["idle_speedup_dask"] = workers * res["serial_cpu_s"] / res["dask_cpu_s"]
    res["cores_available_after"] = cores_available(workers)
    res["load_average_1_5_15min"] = os.getloadavg()
    return res


def _memory_child(runs: int, real: bool, workers: int) -> None:
    """Run one batch here and print peak RSS (MB) of this process and of the largest worker."""
    exp: Experiment = load_experiment(None, [*TINY, f"design.replications={runs}"], sweep=False)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        chunk = 50 if real else 500
        run_batch(exp, Path(tmp) / "out", ProcessExecutor(workers), chunk=chunk, progress=False,
                  task_fn=run_task_job if real else replay_job)
        batch_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before reading back
        rows = len(pd.read_parquet(Path(tmp) / "out" / "runs", columns=["replication"]))
        wall = time.perf_counter() - t
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"runs": runs, "rows": rows, "real": real, "wall_s": wall,
                      "parent_peak_batch_mb": batch_mb, "parent_peak_with_readback_mb": self_mb,
                      "worker_peak_mb": child_mb}))


def run_task_job(job: Job) -> dict[str, pa.Table]:
    return run_task(job.scenario, job.task, job.params, job.param_fields, job.tables)


def memory(sizes: list[int], real: bool, workers: int) -> list[dict]:
    out = []
    for n in sizes:
        cmd = [sys.executable, __file__, "--memory-child", str(n), "--workers", str(workers)]
        if real:
            cmd.append("--real")
        line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        out.append(json.loads(line))
        print(out[-1], flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--speedup", action="store_true")
    ap.add_argument("--memory", action="store_true")
    ap.add_argument("--memory-real", type=int, metavar="N", help="real replications, N and N/10")
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--real", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--runs", type=int, default=1200)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    if args.memory_child:
        _memory_child(args.memory_child, args.real, args.workers)
        return
    if args.speedup:
        print(json.dumps(speedup(args.runs, args.workers), indent=2), flush=True)
    if args.memory:
        memory([10_000, 100_000], real=False, workers=args.workers)
    if args.memory_real:
        memory([args.memory_real // 10, args.memory_real], real=True, workers=args.workers)


if __name__ == "__main__":
    main()
