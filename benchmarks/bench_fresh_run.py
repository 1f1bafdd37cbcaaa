"""Whole ``effekt run`` commands as a user's first run: each into a fresh results directory (so the
batch sizes its tasks, as a first run does), this tree against another (``--before``, an unpacked
older commit as ``bench_run.py`` makes it), alternating, on 1 and 2 local processes; wall and CPU
seconds (the children's user + system), best of ``--repeat``.

Usage::

    python benchmarks/bench_fresh_run.py --before /tmp/T_41f443b_pkg --runs 1000 --repeat 4
    python benchmarks/bench_fresh_run.py --before /tmp/T_41f443b_pkg --runs 10000 --repeat 1

Needs an idle machine (wall time); the load average at the end is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one(pkg: str | None, runs: int, workers: int) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``effekt run`` of the default, into a fresh directory."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "effekt_bench_pyc")
    if pkg:
        env["PYTHONPATH"] = pkg
    else:
        env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory() as d:
        cmd = [sys.executable, "-c", "from effekt.experiments.cli import main; main()", "run", "--runs",
               str(runs), "--seed", "7", "--workers", str(workers), "-q", "--out", str(Path(d) / "out")]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", help="another effekt tree (a link tree that imports as effekt)")
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    trees = {"now": None} | ({"before": args.before} if args.before else {})
    for pkg in trees.values():
        one(pkg, 2, 1)  # bytecode written, untimed
    got: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for _ in range(args.repeat):
        for workers in (1, 2):
            for name, pkg in trees.items():
                got.setdefault((name, workers), []).append(one(pkg, args.runs, workers))
    print(f"effekt run --runs {args.runs}, fresh directory; load {os.getloadavg()[0]:.2f}")
    for name in trees:
        best = {w: (min(x[0] for x in got[(name, w)]), min(x[1] for x in got[(name, w)])) for w in (1, 2)}
        print(f"  {name:6s} 1 process {best[1][0]:.2f} s (CPU {best[1][1]:.2f}), 2 processes "
              f"{best[2][0]:.2f} s (CPU {best[2][1]:.2f}), speed-up {best[1][0] / best[2][0]:.2f}")


if __name__ == "__main__":
    main()
