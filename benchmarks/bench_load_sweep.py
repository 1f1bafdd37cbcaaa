"""Loading a sweep: ``load_experiment`` of the built-in sweep (its six priors' tails checked again
at every design point) on one and on two local processes, each in a fresh process; and, with
``--before``, an older effekt tree in one process, alternating (issue 14; BENCHMARKS.md, twelfth
part). Prints a JSON line a run: wall and CPU seconds (the command's own process and its
children), peak resident size, and a digest of every point's scenario (equal digests: the same
experiment).

Make a ``before`` tree of an older commit as ``benchmarks/bench_run.py`` says, then::

    python benchmarks/bench_load_sweep.py --samples 200                       # 1 200 points
    python benchmarks/bench_load_sweep.py --samples 200 --before /tmp/before_pkg --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CODE = """
import hashlib, inspect, json, os, resource, time
from effekt.experiments.scenario import load_experiment
args = dict(workers={workers}) if "workers" in inspect.signature(load_experiment).parameters else {{}}
c0, t0 = os.times(), time.perf_counter()
exp = load_experiment("experiments/scenarios/kongsberg_sweep.toml", ["design.samples={samples}"], **args)
wall, c1 = time.perf_counter() - t0, os.times()
digest = hashlib.sha256("".join(s.hash for s in exp.scenarios).encode()).hexdigest()[:16]
print(json.dumps(dict(points=len(exp.points), workers={workers}, wall=round(wall, 2),
                      cpu=round(c1.user - c0.user + c1.system - c0.system, 2),
                      children_cpu=round(c1.children_user - c0.children_user
                                         + c1.children_system - c0.children_system, 2),
                      ms_a_point=round(1000 * wall / len(exp.points), 1),
                      peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                      digest=digest)))
"""


def run(samples: int, workers: int, tree: str | None) -> dict:
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = tree
    out = subprocess.run([sys.executable, "-c", CODE.format(samples=samples, workers=workers)],
                         check=True, capture_output=True, text=True, env=env).stdout
    row = json.loads(out.strip().splitlines()[-1])
    row["tree"] = tree or "now"
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=200,
                    help="samples a policy (6 policies: points = 6 x samples)")
    ap.add_argument("--before", help="an older effekt tree (imports as effekt) to time in one process")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    for _ in range(args.repeat):
        if args.before:
            print(json.dumps(run(args.samples, 1, args.before)), flush=True)
        for workers in (1, 2):
            print(json.dumps(run(args.samples, workers, None)), flush=True)


if __name__ == "__main__":
    main()
