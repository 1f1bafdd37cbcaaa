"""The memory and CPU estimate of `effekt validate` against one replication measured in a fresh
process, on shapes other than the default's (issue 14; BENCHMARKS.md, eleventh part).

Usage::

    python benchmarks/bench_estimate_shapes.py                 # all five shapes, a JSON line each
    python benchmarks/bench_estimate_shapes.py koto_sib
"""

import json
import subprocess
import sys

PY = sys.executable
CASES = {
    "default-10y": ("experiments/scenarios/default.toml",
                    ["world.horizon_weeks=520", "world.cohorts[0].size=100000"]),
    "default-3kull": ("experiments/scenarios/default.toml",
                      ["world.cohorts[0].size=70000", "world.cohorts[0].repeats=3",
                       "world.cohorts[0].repeat_every_weeks=52"]),
    "koto_sib": ("experiments/scenarios/koto_sib.toml", ["world.cohorts[0].size=400000"]),
    "dwp_lesson": ("experiments/scenarios/dwp_lesson.toml", ["world.cohorts[0].size=200000"]),
    "kommune_tracks": ("experiments/scenarios/kommune_tracks.toml", ["world.cohorts[0].size=200000"]),
}

def run(code):
    tail = "\nprint('HWM', [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"
    out = subprocess.run([PY, "-c", code + tail], check=True, capture_output=True, text=True).stdout
    return out

for name in sys.argv[1:] or CASES:
    path, sets = CASES[name]
    est = run(f"""
import time
from effekt.experiments.scenario import load_experiment
from effekt.experiments import workload as wl
t = time.perf_counter()
w = wl.estimate(load_experiment({path!r}, {sets!r}))
print('EST', w.persons, w.seconds, w.peak_bytes, time.perf_counter() - t)
""")
    persons, secs, peak, took = [float(x) for x in est.split("EST")[1].split()[:4]]
    setup = f"""
import time
from effekt.experiments.scenario import load_experiment
from effekt.experiments.runner import simulate_and_evaluate
simulate_and_evaluate(load_experiment({path!r}).base, 0)
exp = load_experiment({path!r}, {sets!r})
"""
    a = run(setup + "t = time.process_time(); simulate_and_evaluate(exp.base, 0); "
                    "print('CPU', time.process_time() - t)")
    b = run(setup + "pass")
    hwm_a = int(a.split("HWM")[1].split()[0]) * 1024
    hwm_b = int(b.split("HWM")[1].split()[0]) * 1024
    cpu = float(a.split("CPU")[1].split()[0])
    m = hwm_a - hwm_b
    print(json.dumps(dict(case=name, persons=persons, est_gib=peak / 2**30, meas_gib=m / 2**30,
                          ratio=peak / m, est_cpu=secs, meas_cpu=cpu, cpu_ratio=secs / cpu,
                          validate_s=took)), flush=True)
