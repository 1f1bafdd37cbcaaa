"""The national run's speed-up with 2 workers against 1, and its cost per shard.

The machine is shared, so wall-clock speed-ups measure the other users as much as effekt. Like
bench_executors.py this also counts the CPU seconds of every process (this one and its worker
processes, via getrusage of self and of the reaped children) and reports the speed-up an idle
machine would give when the shards balance, ``workers x serial CPU / parallel CPU`` ("idle
estimate"), with the load average before and after. Both runs must store equal tables (checked).

    .venv/bin/python benchmarks/bench_national.py --kommuner 40 --runs 10 --take-up 0.0125

``--kommuner N`` takes N kommuner evenly spaced through the kommune file (so their sizes spread as
the nation's do: the kull is ``take-up x`` the kommune's people outside work, which the shipped file
sets by population share, at least 4); 0.0125 is the built-in's take-up (Oslo 647, Kongsberg 26,
the median kommune 5). The shards' own cost (simulate + evaluate, and the Parquet writes of this
process) is timed apart on the median-sized and the largest kommune of the sample, for the estimate
of a larger cluster in docs/experiments.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd

from effekt.experiments.executors import ProcessExecutor, SerialExecutor
from effekt.experiments.national.run import national_job, run_national
from effekt.experiments.national.spec import NATIONAL_FILE, load_national
from effekt.experiments.runner import Job, Task
from effekt.experiments.store import ResultStore
from effekt.experiments.store import read_table as table


def cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def national_file(folder: Path, take_up: float, kommuner: int) -> Path:
    from effekt.experiments.national.kommuner import read_kommuner

    every = [k.number for k in read_kommuner().kommuner]
    step = max(1, len(every) // max(1, kommuner))
    numbers = every[::step][:kommuner]
    text = NATIONAL_FILE.read_text(encoding="utf-8")
    default = (NATIONAL_FILE.parent / "../scenarios/default.toml").resolve().as_posix()
    text = text.replace('scenario = "../scenarios/default.toml"', f'scenario = "{default}"')
    text = text.replace("take_up = 0.0125", f"take_up = {take_up}")
    text = text.replace("include = []", f"include = {numbers!r}".replace("'", '"'))
    path = folder / "bench_national.toml"
    path.write_text(text, encoding="utf-8")
    return path




def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kommuner", type=int, default=40)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--take-up", type=float, default=0.0125)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        nat = load_national(national_file(tmp, args.take_up, args.kommuner))
        sizes = [p["size"] for p in nat.points]
        print(f"{len(nat.points)} kommuner x {args.runs} replications, {sum(sizes)} people "
              f"({min(sizes)} to {max(sizes)} a kommune); load {os.getloadavg()[0]:.2f}")
        # one shard timed apart (median-sized and largest kommune): the task itself, then its writing
        exp = nat.experiment(args.runs)
        order = sorted(range(len(sizes)), key=lambda k: (sizes[k], k))
        national_job(Job(task=Task(0, 0, 1), scenario=exp.scenarios[0], params=exp.points[0],
                         experiment=exp.hash))  # untimed: the first replication pays for imports
        for which, k in (("median", order[len(order) // 2]), ("largest", order[-1])):
            job = Job(task=Task(k, 0, args.runs), scenario=exp.scenarios[k], params=exp.points[k],
                      experiment=exp.hash)
            t0 = time.process_time()
            tables = national_job(job)
            t_task = time.process_time() - t0
            store = ResultStore(tmp / f"one_{which}")
            store.open({"experiment_hash": exp.hash, "scenario": exp.base.resolved, "tables": []})
            t0 = time.process_time()
            store.write_task(k, job.task.name, tables)
            t_write = time.process_time() - t0
            store.close()
            print(f"one shard of {args.runs} replications, {which} kommune ({sizes[k]} people): "
                  f"{t_task:.3f} s CPU to run, {t_write * 1000:.1f} ms to write "
                  f"({t_task / args.runs * 1000:.1f} ms per replication)")
        results = {}
        for name, ex in (("serial", SerialExecutor()), ("processes", ProcessExecutor(args.workers))):
            load0 = os.getloadavg()[0]
            c0, w0 = cpu(), time.perf_counter()
            run_national(nat, tmp / name, ex, replications=args.runs, chunk=args.runs, progress=False)
            ex.close()
            results[name] = (time.perf_counter() - w0, cpu() - c0, load0, os.getloadavg()[0])
            print(f"{name}: {results[name][0]:.1f} s wall, {results[name][1]:.1f} s CPU "
                  f"(load {load0:.2f} -> {results[name][3]:.2f})")
        for ds in ("runs", "budgets"):
            pd.testing.assert_frame_equal(table(tmp / "serial", ds), table(tmp / "processes", ds))
        (ws, cs, *_), (wp, cp, *_) = results["serial"], results["processes"]
        print(f"speed-up {args.workers} workers: wall {ws / wp:.2f}, idle estimate "
              f"{args.workers * cs / cp:.2f} (equal tables)")


if __name__ == "__main__":
    main()
