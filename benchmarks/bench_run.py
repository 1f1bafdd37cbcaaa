"""The user's whole job, side by side: ``effekt`` commands as a user types them, in fresh processes,
measured in CPU seconds (user + system of the child, start-up included), this tree against another
effekt tree (``--before``, e.g. an unpacked older commit), alternating, best of ``--repeat``.

Measured in CPU time because the development machine is shared: wall-clock time there mostly
measures the other processes. The ratio before / now is what BENCHMARKS.md reports.

Make a ``before`` tree of an older commit (a link tree that imports as ``effekt``)::

    mkdir -p /tmp/before /tmp/before_pkg/effekt
    git archive b2b2a69 | tar -x -C /tmp/before
    cd /tmp/before_pkg/effekt && ln -s /tmp/before/src/effekt/* . && \\
        ln -s /tmp/before/sim sim && ln -s /tmp/before/contracts contracts && \\
        ln -s /tmp/before/experiments experiments

then::

    python benchmarks/bench_run.py --before /tmp/before_pkg                 # run 1000, --help, validate
    python benchmarks/bench_run.py --before /tmp/before_pkg --only run --runs 200
    python benchmarks/bench_run.py --executors --runs 1000 --repeat 3   # --workers 1 / 2, --dask local

``--executors`` times ``effekt run`` of this tree as whole commands in wall-clock seconds (start-up
included) on one process, on two local processes and on a Dask LocalCluster of two workers, and
gives each one's speed-up over the one process (with ``--before``, of both trees, alternating); it
needs an idle machine (wall time), so the load average before and after is printed with it.

Without ``--before`` only this tree is measured. The children run with bytecode (written once,
untimed, under a scratch ``PYTHONPYCACHEPREFIX``), as an installed effekt starts;
``--no-bytecode`` measures the environment as it is.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "experiments" / "scenarios" / "default.toml"


def commands(runs: int, out: Path, default: Path = DEFAULT) -> dict[str, list[str]]:
    """The commands measured, by name (``out``: a scratch results directory; ``default``: the
    tree's own default scenario, which an older tree may not read in a newer version)."""
    cli = [sys.executable, "-c", "from effekt.experiments.cli import main; main()"]
    return {
        "help": [*cli, "--help"],
        "validate": [*cli, "validate", str(default)],
        "run": [*cli, "run", "--runs", str(runs), "--seed", "7", "--workers", "1", "-q",
                "--overwrite", "--out", str(out)],
    }


BYTECODE: Path | None = None
"""Where the children write and read their bytecode (``PYTHONPYCACHEPREFIX``), so that a start-up
is measured as a user's is (pip writes ``.pyc`` files at install, an editable tree on its first
run); None: the environment as it is (a shell with ``PYTHONDONTWRITEBYTECODE=1`` then compiles
every module at every start, ~0.1 s that no user pays)."""


def _env(pythonpath: str | None) -> dict[str, str]:
    """The children's environment: bytecode as :data:`BYTECODE` says, ``pythonpath`` or none."""
    env = dict(os.environ)
    if BYTECODE is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(BYTECODE / ("before" if pythonpath else "now"))
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    else:
        env.pop("PYTHONPATH", None)
    return env


def cpu_seconds(cmd: list[str], pythonpath: str | None) -> float:
    """CPU seconds (user + system) of one run of ``cmd`` in a fresh process."""
    env = _env(pythonpath)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def wall_and_cpu(cmd: list[str], pythonpath: str | None = None) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system of the child and the processes it waited for) of
    one run of ``cmd`` in a fresh process (of this tree, or the one on ``pythonpath``)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=_env(pythonpath), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def executors(runs: int, repeat: int, out: Path, before: str | None = None) -> None:
    """``effekt run --runs runs`` on one process, two local processes and (if Dask is installed) a
    two-worker Dask LocalCluster, as whole commands, best of ``repeat`` wall times, alternating
    (and alternating with the tree on ``before``, when given)."""
    run = commands(runs, out)["run"]
    base = [a for a in run if a not in ("--workers", "1")]
    setups = {"--workers 1": run, "--workers 2": [*base, "--workers", "2"]}
    if importlib.util.find_spec("distributed") is not None:
        setups["--dask local"] = [*base, "--workers", "2", "--dask", "local"]
    trees = {"now": None, **({"before": before} if before else {})}
    best = {(tree, name): (float("inf"), 0.0) for tree in trees for name in setups}
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for _ in range(repeat):
        for name, cmd in setups.items():
            for tree, path in trees.items():
                shutil.rmtree(out, ignore_errors=True)
                best[tree, name] = min(best[tree, name], wall_and_cpu(cmd, path))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    for tree in trees:
        serial = best[tree, "--workers 1"][0]
        head = f"{tree}: effekt run --runs {runs}"
        print(f"{head:<34} {'wall (s)':>9} {'CPU (s)':>8} {'speed-up':>9}")
        for name in setups:
            wall, cpu = best[tree, name]
            print(f"  {name:<32} {wall:9.2f} {cpu:8.2f} {serial / wall:9.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", help="PYTHONPATH of the other effekt tree (a link tree named effekt)")
    ap.add_argument("--runs", type=int, default=1000, help="replications of `effekt run`")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many, alternating")
    ap.add_argument("--only", choices=["help", "validate", "run"], action="append")
    ap.add_argument("--executors", action="store_true",
                    help="wall time of this tree's run on 1 and 2 processes and a Dask LocalCluster")
    ap.add_argument("--no-bytecode", action="store_true",
                    help="measure the environment as it is (default: with bytecode, as a user starts)")
    args = ap.parse_args()
    global BYTECODE
    scratch = Path(tempfile.mkdtemp(prefix="effekt-bench-run-"))
    if not args.no_bytecode:
        BYTECODE = scratch / "pycache"
    try:
        cmds = commands(args.runs, scratch / "out")
        if args.executors:
            if BYTECODE is not None:  # each tree's bytecode, written once, untimed
                cpu_seconds(cmds["validate"], None)
                if args.before:
                    cpu_seconds(cmds["validate"], args.before)
            executors(args.runs, args.repeat, scratch / "out", args.before)
            return
        theirs = Path(args.before or ".") / "effekt" / "experiments" / "scenarios" / "default.toml"
        their_cmds = commands(args.runs, scratch / "out", theirs if theirs.exists() else DEFAULT)
        names = args.only or list(cmds)
        if BYTECODE is not None:  # write each tree's bytecode once, untimed
            for label, path in (("before", args.before), ("now", None)):
                if path or label == "now":
                    cpu_seconds((their_cmds if path else cmds)["validate"], path)
        print(f"{'command':<10} {'before (CPU s)':>15} {'now (CPU s)':>12} {'ratio':>7}")
        for name in names:
            best = {"before": float("inf"), "now": float("inf")}
            for _ in range(args.repeat):
                for label, path in (("before", args.before), ("now", None)):
                    if label == "before" and not path:
                        continue
                    shutil.rmtree(scratch / "out", ignore_errors=True)
                    cmd = their_cmds[name] if label == "before" else cmds[name]
                    best[label] = min(best[label], cpu_seconds(cmd, path))
            b, n = best["before"], best["now"]
            ratio = f"{b / n:7.2f}" if args.before else "      -"
            shown = f"{b:15.2f}" if args.before else f"{'-':>15}"
            extra = f"   ({args.runs / n:,.0f} replications per CPU-second now)" if name == "run" else ""
            print(f"{name:<10} {shown} {n:12.2f} {ratio}{extra}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
