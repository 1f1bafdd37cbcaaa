"""Runtime of ``effekt calibrate``: one pathway (Kongsberg kull) fitted to three targets.

The built-in calibration ``springbrett`` has two published counts (24 of 61, fitted; 12 of 48,
held out). For the benchmark's three targets a third, SYNTHETIC count is added and fitted: the
finishers employed 52 weeks after finishing, 61 of them, with the count the model gives at its
point values (it is for timing only, never shipped). The fit runs as ``effekt calibrate`` does
(the file's 400 particles and 400 predictive studies; final tolerance ``--tolerance``, default 1
person on each fitted count) on ``--workers`` local processes.

The machine is shared, so besides the wall time the benchmark reports the CPU seconds of this
process and its workers (``resource.getrusage``, children reaped when the pool closes) and the
wall time an idle machine with that many cores would need if the work balances (CPU / workers).

    .venv/bin/python benchmarks/bench_calibrate.py --workers 2 [--particles 400]
    .venv/bin/python benchmarks/bench_calibrate.py --dask tcp://127.0.0.1:8786   # workers started apart
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from effekt.experiments.calibrate import build_model, load_calibration_file
from effekt.experiments.calibrate.posterior import run_calibration
from effekt.experiments.calibrate.report import summary_lines
from effekt.experiments.calibrate.spec import builtin_calibrations_dir
from effekt.experiments.executors import open_executor

THIRD = "\n".join([
    "[targets.synthetic_52_weeks]",
    'title = { nb = "Syntetisk: i arbeid 52 uker etter arbeidstreningen", '
    'en = "Synthetic: in work 52 weeks after work training" }',
    "count = {count}   # assumption: SYNTHETIC, the model's count at its point values (benchmark only)",
    "of = 61           # assumption: SYNTHETIC",
    'measure = { kind = "employed_after_finishing", stage = "work_training", weeks = 52, '
    'except_to = ["dropped_out"] }',
    'source = "synthetic (benchmarks/bench_calibrate.py): not a published figure"',
    "held_out = false", ""])


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--particles", type=int, default=None)
    ap.add_argument("--dask", default=None, metavar="ADDRESS",
                    help="run on a Dask scheduler (tcp://host:port) instead of --workers local processes; "
                         "the CPU seconds then count this process only (the workers are not its children)")
    ap.add_argument("--tolerance", type=float, default=1.0,
                    help="final tolerance in counts (default 1: exact ABC on two counts at once needs "
                         "about ten times the simulations)")
    args = ap.parse_args()
    base = (builtin_calibrations_dir() / "springbrett.toml").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "springbrett3.toml"
        path.write_text(base + "\n" + THIRD.replace("{count}", "0"), encoding="utf-8")
        spec, source = load_calibration_file(path)
        model, priors = build_model(spec, source)
        point = {k: p.point_value for k, p in priors.items()}
        count = int(model.simulate(point, np.random.SeedSequence(2026))[2])
        path.write_text(base + "\n" + THIRD.replace("{count}", str(count)), encoding="utf-8")
        spec, source = load_calibration_file(path)
        cpu0, wall0 = _cpu(), time.perf_counter()
        with open_executor(args.workers, args.dask) as ex:
            cal = run_calibration(spec, source, executor=ex, particles=args.particles,
                                  tolerance=args.tolerance)
        wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
    print("\n".join(summary_lines(cal, "en")))
    print(f"\nthree targets (two fitted, one held out), {len(cal.result.population.weights)} particles, "
          f"{cal.result.simulations} + {cal.predictive.shape[0]} simulated studies")
    if args.dask:
        print(f"wall {wall:.0f} s on the Dask scheduler {args.dask}; CPU of this process {cpu:.0f} s")
    else:
        print(f"wall {wall:.0f} s on {args.workers} workers; CPU {cpu:.0f} s (this process and its workers); "
              f"idle-machine estimate {cpu / args.workers:.0f} s")


if __name__ == "__main__":
    main()
