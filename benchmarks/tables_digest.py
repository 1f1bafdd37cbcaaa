"""A digest of the record tables of many worlds, to show that two effekt trees simulate the same.

Run it in each tree (``PYTHONPATH=/tmp/before_pkg`` for an unpacked older commit, as
``bench_run.py`` says) and compare the printed lines: one digest per world of the four record
tables (values and schemas) of its first replications of root seed 7. The worlds are the built-in
scenarios, each also as a long run, an RCT, with a matched comparison group and with a referral
stream, and two of ``bench_engine.py``'s worlds.

Usage::

    python benchmarks/tables_digest.py --reps 3 > now.txt
    PYTHONPATH=/tmp/before_pkg python benchmarks/tables_digest.py --reps 3 > before.txt
    diff before.txt now.txt
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_engine import make_world  # noqa: E402

from effekt.experiments.scenario import read_tree, resolve  # noqa: E402
from effekt.sim import replication_seed, simulate  # noqa: E402


def worlds() -> dict:
    """The worlds compared, by name."""
    out = {}
    for f in sorted((ROOT / "experiments" / "scenarios").glob("*.toml")):
        w = resolve(read_tree(f)).world
        cf, co = w.counterfactual, w.cohorts[0]
        out[f.name] = w
        out[f.name + ":long"] = w.model_copy(update={"horizon_weeks": w.horizon_weeks + 520,
                                                     "contract_horizon_weeks": w.horizon_weeks})
        out[f.name + ":rct"] = w.model_copy(update={"counterfactual": cf.model_copy(
            update={"mode": "rct", "treatment_share": 0.5})})
        out[f.name + ":matched"] = w.model_copy(update={"counterfactual": cf.model_copy(
            update={"comparison": "matched"})})
        out[f.name + ":poisson"] = w.model_copy(update={"cohorts": [co.model_copy(
            update={"arrival": "poisson", "rate_per_week": 0.5})]})
    out["bench14"] = make_world(14, 156, 156)
    out["bench_long"] = make_world(56, 26, 1040)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3, help="replications per world (default 3)")
    args = ap.parse_args()
    for name, w in worlds().items():
        h = hashlib.sha256()
        for r in range(args.reps):
            for table, t in simulate(w, replication_seed(7, r)).items():
                h.update(table.encode())
                h.update(repr(t.to_pydict()).encode())
                h.update(str(t.schema).encode())
        print(name, h.hexdigest()[:16], flush=True)


if __name__ == "__main__":
    main()
