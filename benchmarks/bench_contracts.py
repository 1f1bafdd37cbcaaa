"""Contract-evaluation speed: ``effekt.contracts.evaluate`` on pre-simulated replications.

For each case (a built-in pathway with its Norwegian default contract template, on the default
scenario: one kull of 14, both arms, three years) the replications are simulated first, outside the
timing; then ``evaluate`` runs over all of them, ``--repeats`` times. Reported per replication:
the median wall time and the median CPU time (``time.process_time``) of the repeats, and the
best CPU time (steadiest on a loaded machine).

Usage::

    python benchmarks/bench_contracts.py                        # the six Norwegian pathways
    python benchmarks/bench_contracts.py --cases kongsberg_kull --reps 200 --profile
    python benchmarks/bench_contracts.py --reps 10 --set world.horizon_weeks=1040 \
        --set world.cohorts[0].repeats=20 --set world.cohorts[0].repeat_every_weeks=52   # 20 kull
    python benchmarks/bench_contracts.py --save before.pkl      # keep every output to compare
    python benchmarks/bench_contracts.py --check before.pkl     # ... and compare with it later
    python benchmarks/bench_contracts.py --block 200            # a task's block of 200 replications
    PYTHONPATH=/tmp/T_base_pkg python benchmarks/bench_contracts.py --block 200   # ... in another tree

``--block N`` times what a batch's task does with N simulated replications of the default
scenario (``--set`` applies): ``evaluate_block`` of them as one block, then the block's cashflow and
budget columns, best CPU of ``--repeats`` passes per replication; ``money`` is the same with the
record tables' parts (public ledgers, ``Tables.of_block``, outcomes, in-work KPIs and work years)
computed once and reused, so what is left is the block's money: payments, provider costs,
waterfall, IRR, KPIs, budgets and cashflows.

``--save``/``--check`` cover the six Norwegian cases plus the other built-in templates on the
Kongsberg pathway (savings share, triggers, tranches, bridge financing), so that a faster
``evaluate`` can be shown to give identical KPIs, payments, cashflows, outcomes and fiscal tables.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pickle
import pstats
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from effekt.contracts import evaluate, load_terms
from effekt.experiments.examples import PATHWAY_TEMPLATES
from effekt.experiments.runner import valuation_of
from effekt.experiments.scenario import Scenario, horizon_needed, load_scenario
from effekt.sim import replication_seed, simulate

NORWEGIAN = PATHWAY_TEMPLATES
OTHER_TEMPLATES = ["peterborough", "koto_sib", "bridge_financing", "buzinezzclub", "dwp_rate_card",
                   "sticking_together"]


def scenario(pathway: str, template: str, extra: list[str] | None = None) -> Scenario:
    """The default scenario with another pathway and contract template, its horizon (156 weeks)
    lengthened where the contract runs longer (a scenario refuses a horizon that cuts it off)."""
    need = math.ceil(horizon_needed(load_terms(template))[0] * 52 / 12 - 1e-9)
    return load_scenario(None, [f"pathway.template={pathway}", f"contract.template={template}",
                                f"world.horizon_weeks={max(156, need)}", *(extra or [])])


def simulated(sc: Scenario, reps: int, seed: int = 20261129) -> list:
    """``reps`` replications' record tables (Arrow), simulated once."""
    return [simulate(sc.world, replication_seed(seed, r)) for r in range(reps)]


def evaluate_all(sc: Scenario, tables: list) -> list:
    valuation = valuation_of(sc)  # as effekt.experiments.runner does
    return [evaluate(sc.terms, t.persons, t.spells, sc.world.horizon_weeks, valuation, events=t.events)
            for t in tables]


def time_case(sc: Scenario, tables: list, repeats: int) -> dict[str, float]:
    """ms per replication: median wall, median CPU and best CPU over ``repeats`` passes."""
    evaluate_all(sc, tables[:2])  # warm caches and imports
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        evaluate_all(sc, tables)
        cpu.append((time.process_time() - c0) * 1e3 / len(tables))
        wall.append((time.perf_counter() - w0) * 1e3 / len(tables))
    return {"wall_median": statistics.median(wall), "cpu_median": statistics.median(cpu),
            "cpu_best": min(cpu)}


def snapshot_cases() -> list[tuple[str, str, list[str]]]:
    cases = [(p, t, []) for p, t in NORWEGIAN.items()]
    cases += [("kongsberg_kull", t, []) for t in OTHER_TEMPLATES]
    refugees = "world.cohorts[0].groups={R = 0.6, A = 0.4}"  # integration grant, introduksjonsstønad
    cases += [("kongsberg_kull", "kongsberg_outcomes", ["world.counterfactual.mode=rct"]),
              ("gloppen", "gloppen_outcomes", ["world.horizon_weeks=312"]),
              ("gloppen", "gloppen_outcomes", [refugees]),
              ("kongsberg_kull", "koto_sib", [refugees, "world.counterfactual.mode=rct"])]
    return cases


def outputs(reps: int, assignments: list[str] | None = None) -> dict[str, list[dict]]:
    """Every case's evaluations as plain frames and dicts (picklable, comparable)."""
    out = {}
    for pathway, template, extra in snapshot_cases():
        sc = scenario(pathway, template, [*extra, *(assignments or [])])
        key = " ".join([pathway, template, *extra])
        out[key] = [dict(kpis=ev.kpis, payments=ev.payments, cashflows=ev.cashflows, fiscal=ev.fiscal,
                         outcomes=ev.outcomes) for ev in evaluate_all(sc, simulated(sc, reps))]
    return out


def _same_kpis(a: dict, b: dict) -> list[str]:
    bad = [] if list(a) == list(b) else [f"KPI names/order differ: {set(a) ^ set(b)}"]
    for k in a:
        x, y = a[k], b.get(k)
        if y is None or not (x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))):
            if not (isinstance(x, float) and isinstance(y, float) and math.isclose(x, y, rel_tol=1e-12,
                                                                                   abs_tol=1e-9)):
                bad.append(f"{k}: {x!r} != {y!r}")
    return bad


def _same_frame(name: str, a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=1e-9)
    except AssertionError as e:
        return [f"{name}: {str(e).splitlines()[:6]}"]
    return []


def compare(old: dict, new: dict) -> list[str]:
    problems = []
    for case, runs in old.items():
        for r, (a, b) in enumerate(zip(runs, new[case], strict=True)):
            where = f"{case} rep {r}"
            problems += [f"{where} {p}" for p in _same_kpis(a["kpis"], b["kpis"])]
            for part in ("payments", "cashflows", "fiscal", "outcomes"):
                problems += [f"{where} {p}" for p in _same_frame(part, a[part], b[part])]
    return problems


def _block_of(sc: Scenario, reps: int, seed: int = 20261129):
    """``reps`` replications of ``sc`` simulated once and joined into one block, as a task joins them."""
    from effekt.contracts import RecordBlock
    from effekt.sim import concat_records

    sims = simulated(sc, reps, seed)
    joined = concat_records(sims)
    sizes = [(t.num_rows("persons"), t.num_rows("spells"), t.num_rows("events")) for t in sims]
    return RecordBlock.joined(joined.persons, joined.spells, joined.events, sizes)


def _memoised(module, name: str) -> None:
    """``module.name`` replaced by a function that computes once and returns that result again."""
    fn, done = getattr(module, name), []

    def again(*args, **kwargs):
        if not done:
            done.append(fn(*args, **kwargs))
        return done[0]

    setattr(module, name, again)


def time_block(sc: Scenario, reps: int, repeats: int) -> dict[str, float]:
    """ms of CPU per replication (best of ``repeats``) of one block of ``reps`` replications:
    ``full`` (evaluate_block, cashflow and budget columns) and ``money`` (the same with the record
    tables' parts computed once)."""
    import importlib

    from effekt.contracts import Evaluation, evaluate_block
    from effekt.contracts import fiscal as fis
    from effekt.contracts import work_years as wy

    ev = importlib.import_module("effekt.contracts.evaluate")
    block = _block_of(sc, reps)
    valuation = valuation_of(sc)

    def task() -> None:
        got = evaluate_block(sc.terms, block, sc.world.horizon_weeks, valuation, design=sc.evaluation,
                             long_run_weeks=sc.long_run_weeks)
        Evaluation.cashflow_columns_of(got)
        Evaluation.budget_columns_of(got)

    def best() -> float:
        task()  # warm caches
        cpu = []
        for _ in range(repeats):
            c0 = time.process_time()
            task()
            cpu.append((time.process_time() - c0) * 1e3 / reps)
        return min(cpu)

    full = best()
    for module, name in ((fis, "public_ledgers"), (ev.Tables, "of_block"), (ev, "outcomes_by_replication"),
                         (ev, "_work_kpis"), (wy, "work_years_by_replication")):
        _memoised(module, name)
    return {"full": full, "money": best()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=100, help="replications per case (default 100)")
    ap.add_argument("--repeats", type=int, default=5, help="timed passes per case (default 5)")
    ap.add_argument("--cases", nargs="*", default=list(NORWEGIAN), help="pathways to time")
    ap.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
                    help="scenario override for the timed cases, e.g. world.horizon_weeks=1040")
    ap.add_argument("--profile", action="store_true", help="cProfile the first case, top 30")
    ap.add_argument("--save", type=Path, help="save the outputs of every case (--set applies too)")
    ap.add_argument("--check", type=Path, help="compare with outputs saved by --save")
    ap.add_argument("--snapshot-reps", type=int, default=30, help="replications per case to --save/--check")
    ap.add_argument("--block", type=int, metavar="N",
                    help="time evaluate_block of one block of N replications of the default scenario")
    args = ap.parse_args(argv)
    if args.block:
        t = time_block(load_scenario(None, args.assignments), args.block, args.repeats)
        print(f"evaluate_block of {args.block} replications, best CPU ms per replication: "
              f"full {t['full']:.3f}, money {t['money']:.3f}")
        return 0
    if args.save or args.check:
        new = outputs(args.snapshot_reps, args.assignments)
        if args.save:
            args.save.write_bytes(pickle.dumps(new))
            print(f"saved {sum(map(len, new.values()))} evaluations of {len(new)} cases to {args.save}")
        if args.check:
            problems = compare(pickle.loads(args.check.read_bytes()), new)
            print("\n".join(problems[:40])
                  or f"identical: {len(new)} cases x {args.snapshot_reps} replications")
            return 1 if problems else 0
        return 0
    print(f"{'pathway / template':50} {'wall ms':>8} {'cpu ms':>8} {'best cpu':>8}   (per replication)")
    for pathway in args.cases:
        sc = scenario(pathway, NORWEGIAN[pathway], args.assignments)
        tables = simulated(sc, args.reps)
        if args.profile:
            prof = cProfile.Profile()
            prof.runcall(evaluate_all, sc, tables)
            pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(30)
            return 0
        t = time_case(sc, tables, args.repeats)
        n = np.mean([len(x.persons) for x in tables])
        print(f"{pathway + ' / ' + NORWEGIAN[pathway]:50} {t['wall_median']:8.2f} {t['cpu_median']:8.2f} "
              f"{t['cpu_best']:8.2f}   ({n:.0f} persons)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
