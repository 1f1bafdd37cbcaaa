"""``effekt app``: from one changed input to the updated answer (issue 16: a kull of 14 at 300
replications in under 3 s on 2 cores). The app runs in this process on loopback with its warm pool
of 2 workers, as ``effekt app`` does; each change is a new form posted to ``/api/run`` and polled
until the results are there (validation, the batch into a new results directory, the summaries,
the in-work series), as the page does. The first answer (the page's first load) is reported apart.

    python benchmarks/bench_app.py                 # 6 changes of one input each
    python benchmarks/bench_app.py --changes 10 --runs 300 --workers 2

Also printed: the parts of one answer measured without the server (check, batch, summaries), and
the load average, since wall time on a shared machine measures the other processes too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import urllib.request

from effekt.experiments.app import form as forms
from effekt.experiments.app.server import serving


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "X-Effekt-App": "1"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.load(r)


def _cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by processes ``pids`` (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def workers(app) -> list[int]:
    pool = app.state.effekt.manager.executor._pool
    return list(pool._processes) if pool is not None else []


def answer(url: str, form: dict, app=None) -> tuple[float, dict]:
    """Seconds from posting ``form`` to the finished results, as the page polls (every 0.1 s; each
    poll of a running run may build the provisional numbers, so their cost is counted too);
    with ``app``, ``state["cpu"]`` = (this process's, the workers') CPU seconds for the answer and
    ``state["provisional"]`` how many polls showed provisional numbers."""
    pids = workers(app) if app is not None else []
    main0, work0 = time.process_time(), _cpu(pids)
    t0 = time.perf_counter()
    rid = _post(f"{url}/api/run", {"form": form, "lang": "nb"})["id"]
    shown = 0
    while True:
        with urllib.request.urlopen(f"{url}/api/run/{rid}", timeout=600) as r:
            state = json.load(r)
        if state["status"] != "running":
            break
        shown += bool(state.get("result"))
        time.sleep(0.1)
    assert state["status"] == "done", state
    seconds = time.perf_counter() - t0
    state["cpu"] = (time.process_time() - main0, _cpu(pids) - work0)
    state["provisional"] = shown
    return seconds, state


def parts(app, form: dict) -> dict[str, float]:
    """One answer's parts, timed in this process on the app's own pool."""
    from effekt.experiments.app.results import summarise
    from effekt.experiments.batch import run_batch

    manager = app.state.effekt.manager
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        checked = forms.check(form, tmp)
        out["check"] = time.perf_counter() - t
        t = time.perf_counter()
        run_batch(checked.experiment, f"{tmp}/results", executor=manager.executor, progress=False)
        out["batch"] = time.perf_counter() - t
        t = time.perf_counter()
        summarise(f"{tmp}/results", checked.experiment.base, "nb")
        out["summaries"] = time.perf_counter() - t
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=6)
    ap.add_argument("--runs", type=int, default=300, help="replications per answer")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.1f} (cores: {os.cpu_count()})")
    with tempfile.TemporaryDirectory() as root, serving(root, workers=args.workers) as (url, app):
        base = {**forms.defaults(), "replications": args.runs}
        base.pop("choices")
        first, state = answer(url, base)
        print(f"first answer (kull of {base['cohort_size']}, {args.runs} replications): {first:.2f} s")
        times, idle = [], []
        for k in range(args.changes):
            # one input changed each time: the cohort size or a price, alternately
            form = ({**base, "cohort_size": 14 + (k % 3)} if k % 2 == 0 else
                    {**base, "prices": {**base["prices"], "job_start": 45000 + 5000 * (k + 1)}})
            seconds, state = answer(url, form, app)
            main_cpu, work_cpu = state["cpu"]
            # on an idle machine: the server's own work (check, summaries; serial) plus the
            # workers' CPU spread over the workers, plus the page's polling interval
            estimate = main_cpu + work_cpu / args.workers + 0.1
            times.append(seconds)
            idle.append(estimate)
            print(f"change {k + 1}: {seconds:.2f} s wall ({state['done']} replications); CPU: server "
                  f"{main_cpu:.2f} s, workers {work_cpu:.2f} s; idle-machine estimate {estimate:.2f} s; "
                  f"{state['provisional']} polls showed provisional numbers")
        print(f"one change to the answer: median {statistics.median(times):.2f} s wall, "
              f"best {min(times):.2f} s, worst {max(times):.2f} s ({args.workers} workers); "
              f"idle-machine estimate median {statistics.median(idle):.2f} s")
        p = parts(app, base)
        print("parts of one answer: " + ", ".join(f"{k} {v:.2f} s" for k, v in p.items()))
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (cores: {os.cpu_count()})")


if __name__ == "__main__":
    main()
