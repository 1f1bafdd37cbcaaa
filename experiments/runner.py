"""Running replications: one replication is simulate -> evaluate; a task is a chunk of them.

Every replication is seeded by ``sim.replication_seed(root_seed, replication)``, which does not
depend on the design point, so its tables do not depend on which worker runs it, in which order,
with how many workers or on which executor, and design points share common random numbers.

The tables a task returns have explicit Arrow schemas (:func:`schemas`): the store writes them as
they come, and every file of a dataset has the same columns and types. Each KPI column of ``runs``
carries its declaration (:class:`effekt.contracts.Kpi`: unit, kind, arm, party, labels) as Arrow
field metadata, so the Parquet files say what their columns are without effekt.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from effekt import lazy
from effekt.contracts import (
    BUDGETS,
    CASHFLOWS,
    Evaluation,
    KpiRegistry,
    RecordBlock,
    Valuation,
    evaluate,
    evaluate_block,
)
from effekt.experiments.datasets import RECORD_TABLES  # noqa: F401 (its old home: still importable from here)
from effekt.experiments.scenario import Scenario
from effekt.lazy import pandas as pd  # only run_replication and --tables build frames
from effekt.sim import SCHEMAS, Tables, collector_paused, concat_records, replication_seed, simulate

KEYS = [("point", pa.int32()), ("replication", pa.int32())]
"""Run keys of every row. ``point`` is stored in the hive partition path (``point=K``), not in
the files."""


@dataclass(frozen=True)
class Task:
    """Replications ``start`` .. ``stop - 1`` of design point ``point``."""

    point: int
    start: int
    stop: int

    @property
    def name(self) -> str:
        return f"p{self.point:05d}-r{self.start:07d}-{self.stop:07d}"

    @property
    def size(self) -> int:
        return self.stop - self.start


def plan_tasks(replications: int, chunk: int, point: int = 0,
               done: Iterable[Task] = ()) -> list[Task]:
    """Replications ``0 .. replications - 1`` of one design point in chunks of ``chunk``, leaving
    out those that the ``done`` tasks of this point already cover (resuming or extending a batch):
    each run of missing replications is chunked from its own start, so no replication is planned
    twice and no file name repeats."""
    covered = np.zeros(replications, dtype=bool)
    for t in done:
        if t.point == point:
            covered[t.start:min(t.stop, replications)] = True
    tasks, r = [], 0
    while r < replications:
        if covered[r]:
            r += 1
            continue
        stop = r
        while stop < replications and not covered[stop] and stop - r < chunk:
            stop += 1
        tasks.append(Task(point, r, stop))
        r = stop
    return tasks


def tapered(tasks: Sequence[Task], chunk: int, workers: int) -> list[Task]:
    """``tasks`` (in the order they are handed out) with the last ones cut smaller, so that
    ``workers`` processes finish together: each task holds at most ``chunk`` replications and at
    most a ``2 x workers``-th of those still to hand out (guided self-scheduling, Polychronopoulos
    and Kuck 1987), but not fewer than ``chunk // 8`` (each task is a few files and some
    milliseconds of the writing process). With equal tasks the last one runs alone on average
    half a task long while the other workers wait: at 10 000 replications of the default on 2
    processes, half a second of a seven-second run (issue 14). One worker gets ``tasks`` as they
    are. A replication's numbers do not depend on its task, so the results are the same."""
    if workers <= 1 or not tasks:
        return list(tasks)
    least = max(1, chunk // 8)
    runs: list[list[int]] = []  # [point, start, stop] of each run of consecutive replications
    for t in tasks:
        if runs and runs[-1][0] == t.point and runs[-1][2] == t.start:
            runs[-1][2] = t.stop
        else:
            runs.append([t.point, t.start, t.stop])
    remaining = sum(t.size for t in tasks)
    out = []
    for point, start, stop in runs:
        while start < stop:
            size = min(stop - start, max(least, min(chunk, math.ceil(remaining / (2 * workers)))))
            out.append(Task(point, start, start + size))
            start += size
            remaining -= size
    return out


def parse_task(name: str) -> Task:
    """The task a file stem such as ``p00000-r0000000-0000037`` stands for."""
    m = re.fullmatch(r"p(\d+)-r(\d+)-(\d+)", name)
    if m is None:
        raise ValueError(f"not a task name: {name!r}")
    return Task(int(m[1]), int(m[2]), int(m[3]))


@dataclass(frozen=True)
class Job:
    """Everything a worker needs for one task: the task, the scenario at its design point, the
    point's parameter values, which tables to return and their parameter columns' types."""

    task: Task
    scenario: Scenario
    params: dict[str, Any] = field(default_factory=dict)
    param_fields: tuple[pa.Field, ...] = ()
    tables: tuple[str, ...] = ()
    experiment: str = ""

    @property
    def key(self) -> str:
        """A name unique to this task of this experiment (a Dask key, a file name)."""
        return f"effekt-{self.experiment}-{self.task.name}"


def param_fields(points: Sequence[dict[str, Any]]) -> tuple[pa.Field, ...]:
    """One Arrow field per design parameter, typed from all the values it takes."""
    out = []
    for key in (points[0] if points else {}):
        values = [p[key] for p in points]
        if all(isinstance(v, bool) for v in values):
            typ = pa.bool_()
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            typ = pa.int64()
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            typ = pa.float64()
        else:
            typ = pa.string()
        out.append(pa.field(key, typ))
    return tuple(out)


def kpi_field(name: str, registry: KpiRegistry | None = None) -> pa.Field:
    """The ``runs`` column of KPI ``name``: float64 (counts too, so a missing value is NaN and
    every file agrees), with the KPI's declaration as field metadata when ``registry`` has it."""
    metadata = registry[name].metadata() if registry is not None and name in registry else None
    return pa.field(name, pa.float64(), metadata=metadata)


def schemas(kpis: KpiRegistry | Sequence[str], params: Sequence[pa.Field] = (),
            tables: Sequence[str] = ()) -> dict[str, pa.Schema]:
    """The stored schema of each dataset (without ``point``, which is the partition key).

    ``runs``: replication, the design parameters, then every KPI of ``kpis`` (the contract's
    :func:`effekt.contracts.kpis_for`, in its order) as float64 with its declaration in the field
    metadata (``measure``, ``kind``, ``unit``, ``arm``, ``party``, ``party_kind``, ``outcome``,
    ``label_nb``, ``label_en``, ``higher_is_better``; plain names get no metadata);
    ``cashflows``: replication + party, month, item, amount; ``budgets``: replication + every
    party's flows by arm, party, year and item, nominal and discounted
    (:data:`effekt.contracts.BUDGETS`, with each column's unit and labels as field metadata);
    ``persons``/``events``/``spells``: replication + the simulation's record schema.
    """
    rep = pa.field("replication", pa.int32())
    registry = kpis if isinstance(kpis, KpiRegistry) else None
    out = {
        "runs": pa.schema([rep, *params, *(kpi_field(k, registry) for k in kpis)]),
        "cashflows": pa.schema([rep, *CASHFLOWS]),
        "budgets": pa.schema([rep, *BUDGETS]),
    }
    for name in tables:
        out[name] = pa.schema([rep, *SCHEMAS[name]])
    return out


def valuation_of(scenario: Scenario) -> Valuation:
    """How a scenario values its flows: by its country's fiscal rules (``[scenario] country``,
    :attr:`Scenario.fiscal`), in its currency, with its G (base amount), discount rate and price
    year, the fiscal rules' benefit payers (``contracts/data/fiscal.toml``) with any the scenario overrides
    (``world.benefits.<kind>.payer``, :attr:`Scenario.benefit_payers`), the shares of displacement
    and substitution (``world.labour_market.displacement_share`` and ``substitution_share``), where
    the kommune stands in inntektsutjevning (``scenario.kommune_tax_base``), and,
    in a randomised trial (counterfactual mode ``rct``), a comparison with an empty control arm
    counted as not met."""
    world, info = scenario.world, scenario.info
    missing = "not_met" if world.counterfactual.mode == "rct" else "raise"
    return Valuation.for_rules(  # the country's rules (scenario.country), in its currency
        scenario.fiscal, G=info.G, discount_rate=info.discount_rate, price_year=info.price_year,
        currency=info.currency, missing_control=missing, displacement_share=scenario.displacement_share,
        substitution_share=scenario.substitution_share,
        kommune_tax_base=info.kommune_tax_base).with_benefit_payers(scenario.benefit_payers)


def run_replication(scenario: Scenario, replication: int, point: int = 0,
                    tables: Sequence[str] = ()) -> dict[str, pd.DataFrame]:
    """Simulate and evaluate one replication: the ``runs`` row (keys and KPIs), ``cashflows``,
    ``budgets`` (every party's flows per year) and any of the record tables named in ``tables``.

    The flows are valued by :func:`valuation_of`: the world's benefits say who pays each benefit
    (so a payer overridden in the scenario counts in the public budgets). In a randomised trial
    (counterfactual mode ``rct``) a small cohort can, by chance, get no controls: a contract
    comparison with the control arm then counts as not met (KPI ``control_missing`` = 1) instead
    of stopping the batch. In mode ``none`` such a contract is refused when the scenario is loaded;
    should one get here, evaluate raises. The contract pays on what the scenario's evaluation
    design (``[evaluation]``, :attr:`Scenario.evaluation`) measures; the KPIs of the true effect
    stay against the control arm.

    With a long run (``world.long_run_years``, :attr:`Scenario.long_run_weeks`) the world is
    simulated on to it (:attr:`Scenario.simulated_world`); the contract and its KPIs are
    evaluated on the records as they stood at the contract's horizon, the public budgets over
    the long run too (the ``fiscal_npv_long_run_*`` KPIs, and ``budgets`` to the long run's end:
    :mod:`effekt.contracts.long_run`). Record tables stored (``tables``) are the whole simulation."""
    sim_tables, ev = simulate_and_evaluate(scenario, replication)
    keys = {"point": point, "replication": replication}
    out = {"runs": pd.DataFrame([{**keys, **ev.kpis}]), "cashflows": ev.cashflows.assign(**keys),
           "budgets": ev.budgets.assign(**keys)}
    for name in tables:
        out[name] = getattr(sim_tables, name).to_pandas().assign(**keys)
    return out


def simulate_and_evaluate(scenario: Scenario, replication: int,
                          valuation: Valuation | None = None) -> tuple[Tables, Evaluation]:
    """One replication's record tables (the whole simulation) and their evaluation; ``valuation``
    is :func:`valuation_of` the scenario (a task builds it once for all its replications)."""
    seed = replication_seed(scenario.design.seed, replication)
    sim_tables = simulate(scenario.simulated_world, seed)
    ev = evaluate(scenario.terms, sim_tables.persons, sim_tables.spells, scenario.world.horizon_weeks,
                  valuation or valuation_of(scenario), events=sim_tables.events, design=scenario.evaluation,
                  long_run_weeks=scenario.long_run_weeks)
    return sim_tables, ev


def _column(values: list[np.ndarray], typ: pa.DataType) -> pa.Array:
    """One column of a task's table from the replications' numpy columns, in its stored type;
    NaN is stored as null (as pandas' ``from_pandas`` conversion always did)."""
    if not values:
        return pa.array([], type=typ)
    joined = np.concatenate(values) if len(values) > 1 else values[0]
    return pa.array(joined, type=typ, from_pandas=True)


def _long_table(schema: pa.Schema, reps: list[int], columns: dict[str, np.ndarray]) -> pa.Table:
    """A task's ``cashflows`` or ``budgets`` from the columns of all its replications at once
    (:meth:`Evaluation.cashflow_columns_of`, :meth:`Evaluation.budget_columns_of`: the rows of each
    replication one after another, ``replication`` its position in the task), with the
    replication number in front of each row."""
    arrays = [pa.array(np.asarray(reps, dtype=np.int32)[columns["replication"]], type=pa.int32())]
    arrays += [_column([columns[f.name]], f.type) for f in schema if f.name != "replication"]
    return pa.Table.from_arrays(arrays, schema=schema)


def _runs_table(schema: pa.Schema, reps: list[int], kpis: list[dict[str, float]],
                params: dict[str, Any]) -> pa.Table:
    """A task's ``runs``: one row per replication, the design point's parameters and every KPI."""
    names = [f.name for f in schema if f.name != "replication" and f.name not in params]
    columns = dict(zip(names, _kpi_matrix(kpis, names).T, strict=True))
    arrays = []
    for f in schema:
        if f.name == "replication":
            arrays.append(pa.array(np.asarray(reps, dtype=np.int32), type=pa.int32()))
        elif f.name in params:
            arrays.append(pa.array([params[f.name]] * len(reps), type=f.type))
        else:
            arrays.append(pa.array(np.ascontiguousarray(columns[f.name]), type=f.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def _kpi_matrix(kpis: list[dict[str, float]], names: list[str]) -> np.ndarray:
    """The KPIs ``names`` of each replication as floats, replications x names, NaN where a
    replication lacks one: each row read by one ``operator.itemgetter`` (a C loop over the names;
    a replication that lacks some takes them one by one)."""
    if not names:
        return np.zeros((len(kpis), 0))
    get = operator.itemgetter(*names)
    one = len(names) == 1  # itemgetter of one name gives the value, not a tuple of it
    rows = []
    for k in kpis:
        try:
            row = (get(k),) if one else get(k)
        except KeyError:
            row = tuple(k.get(n, math.nan) for n in names)
        rows.append(row)
    return np.array(rows, dtype=float).reshape(len(kpis), len(names))


def _record_table(frames: list[pd.DataFrame], schema: pa.Schema) -> pa.Table:
    """A stored record table (``--tables``) from the replications' DataFrames (opt-in, large)."""
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    arrays = [pa.array(df[f.name].to_numpy() if f.name in df else [None] * len(df), type=f.type,
                       from_pandas=True) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


BLOCK_SPELLS = 20_000
"""At most about this many spells are evaluated as one block (a task of many or large
replications is cut into several): beyond a few dozen small replications a larger block gains
nothing, and the block's columns (Python strings among them) cost memory in proportion to it. A
replication's numbers are the same in any block (sums in spell order per replication), so where
a task is cut changes no result."""


def run_task(scenario: Scenario, task: Task, params: dict[str, Any] | None = None,
             fields: Sequence[pa.Field] = (), tables: Sequence[str] = ()) -> dict[str, pa.Table]:
    """Run a chunk of replications; returns one Arrow table per dataset, in its stored schema.

    The task simulates its replications, then evaluates them in blocks of about
    :data:`BLOCK_SPELLS` spells (:func:`effekt.contracts.evaluate_block`: each replication on its
    own tables, the columns read and the public ledger summed once for the block).

    The tables are built from the evaluations' numpy columns at the end of the task, one Arrow
    array per column for all the task's replications (no DataFrame per replication: the same
    values, in the same order and types, as :func:`run_replication`'s frames concatenated)."""
    lazy.arrow_without_pandas()  # a task converts to Arrow but reads no frame: no pandas (issue 14)
    kpis = scenario.kpis  # declared by the contract (and the long run): every file of a batch agrees
    known = set(kpis)
    reps = list(range(task.start, task.stop))
    values: list[dict[str, float]] = []
    records: dict[str, list[pd.DataFrame]] = {t: [] for t in tables}
    keys = {"point": task.point}
    valuation = valuation_of(scenario)  # the same for every replication of the task
    evaluations: list[Evaluation] = []

    def evaluate_pending(pending: list[tuple[int, Tables]]) -> None:
        """Evaluate simulated replications as one block (their record tables built once)."""
        joined = concat_records([t for _, t in pending])  # each record table built once (issue 14)
        sizes = [(t.num_rows("persons"), t.num_rows("spells"), t.num_rows("events")) for _, t in pending]
        block = RecordBlock.joined(joined.persons, joined.spells, joined.events, sizes)
        done = [rep for rep, _ in pending]
        pending.clear()  # the replications' rows live on only in the block's tables (memory)
        del joined
        got = evaluate_block(scenario.terms, block, scenario.world.horizon_weeks, valuation,
                             design=scenario.evaluation, long_run_weeks=scenario.long_run_weeks)
        for i, (rep, ev) in enumerate(zip(done, got, strict=True)):
            extra = [c for c in ev.kpis if c not in known]
            if extra:
                raise RuntimeError(f"replication {rep} has KPIs that contracts.kpis_for does not "
                                   f"declare: {extra}")
            values.append(ev.kpis)
            if tables:  # --tables: the replication's own rows of the block's tables
                own = dict(zip(("persons", "spells", "events"), block.replication(i), strict=True))
                for name in tables:
                    records[name].append(own[name].to_pandas().assign(**keys, replication=rep))
        evaluations.extend(got)

    pending: list[tuple[int, Tables]] = []
    n_spells = 0
    for rep in reps:
        sim_tables = simulate(scenario.simulated_world, replication_seed(scenario.design.seed, rep))
        pending.append((rep, sim_tables))
        n_spells += sim_tables.num_rows("spells")
        if n_spells >= BLOCK_SPELLS:  # a block's numbers do not depend on where it is cut
            evaluate_pending(pending)
            n_spells = 0
    if pending:
        evaluate_pending(pending)
    sch = schemas(kpis, fields, tables)
    out = {"runs": _runs_table(sch["runs"], reps, values, params or {}),
           "cashflows": _long_table(sch["cashflows"], reps, Evaluation.cashflow_columns_of(evaluations)),
           "budgets": _long_table(sch["budgets"], reps, Evaluation.budget_columns_of(evaluations))}
    for name in tables:
        out[name] = _record_table(records[name], sch[name])
    return out


def run_job(job: Job) -> dict[str, pa.Table]:
    """Run one :class:`Job` (the function executors call), Python's cyclic garbage collector off
    for the whole task (:func:`effekt.sim.collector_paused`, as the simulation has it for each
    replication): between replications and while a block is evaluated its passes would visit the
    task's record rows and tables, which all live to the block's end, and free nothing (about
    40-60 µs a replication of the default, issue 14). Reference counting still frees every object
    not in a cycle at once; a task's few cycles are freed by the first collection after it."""
    with collector_paused():
        return run_task(job.scenario, job.task, job.params, job.param_fields, job.tables)
