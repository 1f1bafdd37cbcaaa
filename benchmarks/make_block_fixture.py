"""Write the reference tables of ``tests/test_block_evaluation.py``: ``run_task`` of a few
replications of four scenarios, as Parquet, from the tree on ``PYTHONPATH`` (made once from the
commit before the block evaluation, 1a41e20, as ``bench_run.py --before`` trees are made)::

    PYTHONPATH=/tmp/E_head_pkg python benchmarks/make_block_fixture.py tests/data/block_evaluation
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.parquet as pq

from effekt.experiments.runner import Task, run_task
from effekt.experiments.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "experiments" / "scenarios"
CASES = {  # name: (scenario file or None for the default, assignments, replications)
    "default": (None, [], (0, 4)),
    "koto_sib": (SCENARIOS / "koto_sib.toml", [], (0, 3)),
    "dwp_lesson": (SCENARIOS / "dwp_lesson.toml", [], (0, 3)),
    "long_run": (None, ["world.long_run_years=5"], (0, 3)),
}


def main(out: Path) -> None:
    for name, (path, assignments, (start, stop)) in CASES.items():
        sc = load_scenario(path, assignments)
        for table, t in run_task(sc, Task(0, start, stop)).items():
            (out / name).mkdir(parents=True, exist_ok=True)
            pq.write_table(t, out / name / f"{table}.parquet")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
