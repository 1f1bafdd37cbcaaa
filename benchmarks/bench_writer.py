"""How fast the batch's own process writes task files: one thread against several, tables
against the bytes the workers encode (issue 14).

A national run's every shard is written by the command's process (``effekt.experiments.writer``),
so on many Dask workers that process sets the pace. This reads the shards of a national results
directory (each task's runs, cashflows and budgets) and writes them all into a fresh results
directory through :class:`effekt.experiments.writer.TaskWriter`, once for each thread count:
given as tables (what the batch's process encodes itself, as with ``--workers 1`` and as every
batch did before) and given as the bytes of their files (what a worker hands back now,
:class:`~effekt.experiments.writer.EncodedTask`; encoded here beforehand, not timed), timing wall
and CPU seconds; the written files are checked byte for byte against those of the first count.

    .venv/bin/python benchmarks/bench_writer.py                       # makes its own: --runs 100
    .venv/bin/python benchmarks/bench_writer.py --from results/national --threads 1,2,4,8

Without ``--from`` it first runs the built-in national scenario (``effekt national --runs N -q``
on all cores) into a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from effekt.experiments.store import DATASETS, ResultStore, encoded_file
from effekt.experiments.writer import TaskWriter


def shards(src: Path) -> list[tuple[int, str, dict]]:
    """Every task of ``src``: (point, task name, {dataset: table})."""
    out = []
    for f in sorted((src / "runs").glob("point=*/*.parquet")):
        point = int(f.parent.name.split("=")[1])
        out.append((point, f.stem, {ds: pq.read_table(src / ds / f.parent.name / f.name) for ds in DATASETS}))
    return out


def write_all(tasks: list[tuple[int, str, dict]], manifest: dict, out: Path,
              threads: int) -> tuple[float, float]:
    shutil.rmtree(out, ignore_errors=True)
    store = ResultStore(out)
    store.open(manifest, overwrite=True)
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        with TaskWriter(store, threads=threads) as writer:
            for point, name, tables in tasks:
                writer.write(point, name, tables)
        return time.perf_counter() - t0, time.process_time() - c0
    finally:
        store.close()


def files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--from", dest="src", type=Path,
                    help="a national results directory to read the shards of")
    ap.add_argument("--runs", type=int, default=100,
                    help="replications a kommune when making one (default 100)")
    ap.add_argument("--threads", default="1,2,4,8", help="thread counts to time (default 1,2,4,8)")
    ap.add_argument("--rounds", type=int, default=2, help="timings of each count, best taken (default 2)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = args.src
        if src is None:
            src = Path(tmp) / "national"
            effekt = Path(sys.executable).with_name("effekt")
            subprocess.run([str(effekt), "national", "--runs", str(args.runs), "--out", str(src), "-q"],
                           check=True)
        manifest = json.loads((src / "manifest.json").read_text())
        manifest = {k: v for k, v in manifest.items() if k not in ("tasks_done", "complete", "finished")}
        tasks = shards(src)
        encoded = [(p, n, {ds: encoded_file(t, manifest.get("experiment_hash", "")) for ds, t in d.items()})
                   for p, n, d in tasks]
        size = sum(t.nbytes for _, _, d in tasks for t in d.values()) / 1e6
        files_size = sum(len(b) for _, _, d in encoded for b in d.values()) / 1e6
        print(f"{len(tasks)} tasks of {src} ({size:.0f} MB of tables in memory, {files_size:.0f} MB as "
              f"files), best of {args.rounds}")
        first = None
        for given, work in (("tables", tasks), ("bytes", encoded)):
            for threads in [int(x) for x in args.threads.split(",")]:
                out = Path(tmp) / f"written{threads}"
                best = min((write_all(work, manifest, out, threads) for _ in range(args.rounds)),
                           key=lambda r: r[0])
                written = files(out)
                first = first or written
                same = "the same files" if written == first else "DIFFERENT FILES"
                print(f"{given}, threads {threads}: {best[0]:.2f} s wall, {best[1]:.2f} s CPU, "
                      f"{best[0] / len(tasks) * 1e3:.1f} ms a task ({same})", flush=True)


if __name__ == "__main__":
    main()
