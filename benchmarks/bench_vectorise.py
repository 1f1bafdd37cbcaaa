"""Can a task's replications be evaluated together with bit-identical results? (issue 14)

The public ledger's items are sums over spells, ``annual @ weeks / 52`` per (arm, party, item):
a BLAS product per replication (``numpy.matmul``), whose order of additions depends on the
number of rows and on the BLAS kernel's blocking. Evaluating the replications of a task together
computes the same sums over a block of replications; this script measures, on the record tables
of a scenario, how many of the monthly amounts come out different in the last bits from the
per-replication reference, for three ways of summing the block:

* ``block matmul``: one product of a replication-by-spell matrix (zeros outside a replication's
  own spells) with the stacked weeks: one BLAS call for the task;
* ``reduceat``: the spells' products summed per replication in spell order
  (``np.add.reduceat``: one sequential sum per replication);
* ``add.at``: the products added row by row into each replication's months
  (``np.add.at``, unbuffered, in spell order);
* ``... vs sequential``: a block against a per-replication *sequential* reference (the spells'
  products added in spell order: what the reference would have to become for a vectorised path
  to be bit-identical).

It also times the earnings item (treatment and control) both ways, and the whole per-replication
``public_ledger``, so the speed a vectorised ledger could give is known before it is built.

``--evaluate`` times instead what a task does after simulating, per replication: ``evaluate``
and the ``cashflows``/``budgets`` columns, on tables simulated beforehand (best of ``--repeat``,
CPU). Each round reads every table afresh (the column cache of ``effekt.contracts.outcomes`` is
emptied first: in a batch each replication's tables are evaluated once). It runs in an older
tree too (``PYTHONPATH=<before tree>``), so the two can be measured side by side.

``--ledger`` times the public ledger per replication (best of ``--repeat``, CPU, every column
read afresh each round): ``public_ledgers`` of one block of all ``--reps`` replications (one pass
over the block's spells, where the tree has :class:`effekt.contracts.RecordBlock`), and
``public_ledger`` called once per replication (what an older tree does, and the long-run and
matched designs still do).

Usage::

    python benchmarks/bench_vectorise.py --reps 300
    python benchmarks/bench_vectorise.py --scenario experiments/scenarios/koto_sib.toml --reps 100
    python benchmarks/bench_vectorise.py --evaluate --reps 300
    python benchmarks/bench_vectorise.py --ledger --reps 200
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from effekt.contracts import outcomes
from effekt.contracts.fiscal import public_ledger
from effekt.contracts.outcomes import _floats, _strings
from effekt.contracts.periods import months_in, spread_over_months
from effekt.experiments import load_scenario
from effekt.experiments.runner import valuation_of
from effekt.sim import replication_seed, simulate


def _best(f, repeat: int) -> float:
    """The best CPU time of ``repeat`` calls of ``f`` (steadiest on a loaded machine)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        f()
        best = min(best, time.process_time() - t)
    return best


def _evaluate_all(sc, val, tables) -> None:
    """What a task does with each replication's tables after simulating them."""
    from effekt.contracts import evaluate, outcomes

    getattr(outcomes, "_READ", {}).clear()  # every table read afresh, as in a batch
    for t in tables:
        ev = evaluate(sc.terms, t.persons, t.spells, sc.world.horizon_weeks, val, events=t.events,
                      design=sc.evaluation, long_run_weeks=sc.long_run_weeks)
        ev.cashflow_columns()
        ev.budget_columns()


def _time_ledgers(val, tables, n_months: int, args: argparse.Namespace) -> None:
    """The public ledger per replication: of one block of every replication, and one call each."""
    from effekt.contracts import fiscal

    payers = dict(val.benefit_payers)
    cache = getattr(outcomes, "_READ", {})

    def one_by_one() -> None:
        cache.clear()  # every table read afresh, as in a batch
        for t in tables:
            public_ledger(t.persons, t.spells, val.G, n_months, val.fiscal, payers)

    n = len(tables)
    print(f"{args.scenario}: {n} replications, {sum(len(t.spells) for t in tables) / n:.0f} spells each, "
          f"{n_months} months")
    try:
        from effekt.contracts import RecordBlock
    except ImportError:  # an older tree: one replication at a time only
        RecordBlock = None
    if RecordBlock is not None and hasattr(fiscal, "public_ledgers"):
        block = RecordBlock.of([(t.persons, t.spells, t.events) for t in tables])

        def together() -> None:
            cache.clear()
            fiscal.public_ledgers(block, val.G, n_months, val.fiscal, payers)

        best = _best(together, args.repeat)
        print(f"public_ledgers of one block, per replication (ms): {1e3 * best / n:.3f}")
    print(f"public_ledger once per replication (ms): {1e3 * _best(one_by_one, args.repeat) / n:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="experiments/scenarios/default.toml")
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--evaluate", action="store_true",
                    help="time evaluate and the cashflow/budget columns per replication")
    ap.add_argument("--ledger", action="store_true",
                    help="time the public ledger per replication: one block, and one call per replication")
    args = ap.parse_args()
    sc = load_scenario(args.scenario)
    val = valuation_of(sc)
    n_months = months_in(sc.world.horizon_weeks) + 1
    tables = [simulate(sc.simulated_world, replication_seed(sc.design.seed, r)) for r in range(args.reps)]
    if args.evaluate:
        print(f"{args.scenario}: evaluate + columns per replication (ms): "
              f"{1e3 * _best(lambda: _evaluate_all(sc, val, tables), args.repeat) / args.reps:.3f}")
        return
    if args.ledger:
        _time_ledgers(val, tables, n_months, args)
        return
    incomes, weeks = [], []
    for t in tables:  # the earnings item of the treatment arm, as fiscal._by_party computes it
        sp = t.spells
        arm = _strings(sp, "arm", "") == "treatment"
        employed = _strings(sp, "state", "") == "employed"
        income = np.where(employed, _floats(sp, "annual_wage") * _floats(sp, "fte"), 0.0)
        incomes.append(np.ascontiguousarray(income[arm]))
        weeks.append(spread_over_months(_floats(sp, "start")[arm], _floats(sp, "end")[arm], n_months))
    sizes = np.array([len(a) for a in incomes])
    ref = np.array([a @ w / 52.0 for a, w in zip(incomes, weeks, strict=True)])
    seq = np.array([np.add.reduce(a[:, None] * w, axis=0) / 52.0 if len(a) else np.zeros(n_months)
                    for a, w in zip(incomes, weeks, strict=True)])
    A, W = np.concatenate(incomes), np.concatenate(weeks)
    rep = np.repeat(np.arange(len(tables)), sizes)

    def block() -> np.ndarray:
        M = np.zeros((len(tables), len(A)))
        M[rep, np.arange(len(A))] = A
        return (M @ W) / 52.0

    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    def segments() -> np.ndarray:
        prod = A[:, None] * W
        out = np.add.reduceat(prod, starts, axis=0) if len(prod) else np.zeros((len(tables), n_months))
        out[sizes == 0] = 0.0
        return out / 52.0

    def add_at() -> np.ndarray:
        out = np.zeros((len(tables), n_months))
        np.add.at(out, rep, A[:, None] * W)  # unbuffered: row by row in spell order
        return out / 52.0

    def per_rep() -> None:
        for a, w in zip(incomes, weeks, strict=True):
            _ = a @ w / 52.0

    def ledgers() -> None:
        getattr(outcomes, "_READ", {}).clear()  # every table read afresh, as in a batch
        for t in tables:
            public_ledger(t.persons, t.spells, val.G, n_months, val.fiscal, dict(val.benefit_payers))

    b, s, u = block(), segments(), add_at()
    ulp = np.spacing(np.abs(ref))

    def report(name: str, got: np.ndarray, want: np.ndarray) -> None:
        differ = got != want
        worst = float(np.max(np.abs(got - want) / ulp)) if differ.any() else 0.0
        print(f"{name:32s} {int(differ.sum()):6d} of {want.size} monthly amounts differ "
              f"({differ.mean():.1%}), worst {worst:.0f} ulp")

    print(f"{args.scenario}: {args.reps} replications, {sizes.mean():.0f} treated spells each, "
          f"{n_months} months")
    report("block matmul vs reference", b, ref)
    report("reduceat vs reference", s, ref)
    report("reduceat vs sequential", s, seq)
    report("add.at vs reference", u, ref)
    report("add.at vs sequential", u, seq)
    n = args.reps
    print(f"earnings item, per replication (ms): reference {1e3 * _best(per_rep, args.repeat) / n:.4f}, "
          f"block matmul {1e3 * _best(block, args.repeat) / n:.4f}, "
          f"reduceat {1e3 * _best(segments, args.repeat) / n:.4f}, "
          f"add.at {1e3 * _best(add_at, args.repeat) / n:.4f}")
    print(f"whole public_ledger per replication (ms): {1e3 * _best(ledgers, 3) / n:.3f}")


if __name__ == "__main__":
    main()
