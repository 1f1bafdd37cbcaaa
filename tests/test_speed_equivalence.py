"""Guards for the fast batch path (issue 14): a task's Arrow tables, built from the evaluations'
numpy columns, must be exactly what the old per-replication route stored: one DataFrame per
replication from :func:`run_replication` (a one-row KPI frame, ``cashflows.assign``,
``budgets.assign``), concatenated by pandas and converted column by column with
``pa.array(..., from_pandas=True)``. That old route is kept here, as the reference, and compared
table by table (values, types, nulls, order and field metadata) on the same simulations.

Also: ``choose_chunk`` does not simulate a replication just to size chunks when the bounds leave
one replication per task (``--runs 1``). No timing here: see ``benchmarks/``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from effekt.experiments import batch
from effekt.experiments.batch import choose_chunk
from effekt.experiments.runner import Task, param_fields, run_replication, run_task, schemas
from effekt.experiments.scenario import load_experiment, load_scenario

REFUGEES = "world.cohorts[0].groups={R = 0.6, A = 0.4}"
CASES = {
    "default": [],
    "long-run": ["world.long_run_years=5"],
    "rct-savings-share": [REFUGEES, "contract.template=koto_sib", "world.counterfactual.mode=rct",
                          "world.cohorts[0].size=6"],
    "tranches": ["contract.template=sticking_together", "world.horizon_weeks=208"],
    "displacement": ["world.labour_market.displacement_share=0.3",
                     "world.labour_market.substitution_share=0.2"],
}


def _old_table(frames: list[pd.DataFrame], schema: pa.Schema) -> pa.Table:
    """The old ``runner._table``: concatenate the frames, then one ``pa.array`` per column."""
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    arrays = [pa.array(df[f.name].to_numpy() if f.name in df else [None] * len(df), type=f.type,
                       from_pandas=True) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _old_task(scenario, task: Task, params=None, fields=(), tables=()) -> dict[str, pa.Table]:
    """The old ``run_task``: a dict of DataFrames per replication, concatenated at the end."""
    parts: dict[str, list[pd.DataFrame]] = {"runs": [], "cashflows": [], "budgets": [],
                                            **{t: [] for t in tables}}
    for rep in range(task.start, task.stop):
        for name, df in run_replication(scenario, rep, task.point, tables).items():
            parts[name].append(df)
    parts["runs"] = [df.assign(**(params or {})) for df in parts["runs"]]
    sch = schemas(scenario.kpis, fields, tables)
    return {name: _old_table(frames, sch[name]) for name, frames in parts.items()}


def _assert_same(new: dict[str, pa.Table], old: dict[str, pa.Table]) -> None:
    assert list(new) == list(old)
    for name in old:
        assert new[name].schema.equals(old[name].schema, check_metadata=True), name
        assert new[name].num_rows == old[name].num_rows, name
        for col in old[name].column_names:  # column by column, so a failure names the column
            assert new[name].column(col).equals(old[name].column(col)), (name, col)
        assert new[name].equals(old[name], check_metadata=True), name


@pytest.mark.parametrize("case", list(CASES))
def test_a_task_stores_exactly_what_the_per_replication_frames_stored(case):
    sc = load_scenario(None, CASES[case])
    task = Task(0, 3, 7)
    new, old = run_task(sc, task), _old_task(sc, task)
    _assert_same(new, old)
    assert new["runs"].column("replication").to_pylist() == [3, 4, 5, 6]
    assert new["cashflows"].num_rows > 0 and new["budgets"].num_rows > 0


def test_nan_kpis_are_stored_as_null_as_before():
    """A KPI that cannot be known (a randomised trial with no controls: the fiscal KPIs) is NaN in
    ``Evaluation.kpis`` and null in the stored table, as pandas' conversion made it."""
    sc = load_scenario(None, CASES["rct-savings-share"])
    new = run_task(sc, Task(0, 0, 12))
    runs = new["runs"]
    nan_anywhere = [c for c in runs.column_names if runs.column(c).null_count]
    assert nan_anywhere, "expected some KPI without a value (IRR, or the fiscal KPIs without controls)"
    for c in nan_anywhere:
        values = runs.column(c).to_numpy(zero_copy_only=False)
        assert not np.isnan(values[~np.isnan(values)]).any()
    _assert_same(new, _old_task(sc, Task(0, 0, 12)))


def test_sweep_parameters_and_record_tables_are_stored_as_before(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text("\n".join([
        '[scenario]', 'name = "s"', 'title = "s"',
        '[world]', 'horizon_weeks = 156',
        '[[world.cohorts]]', 'name = "k"', 'start_week = 0', 'size = 5', 'groups = { A = 0.5, B = 0.5 }',
        '[pathway]', 'template = "kongsberg_kull"', '[contract]', 'template = "kongsberg_outcomes"',
        '[design]', 'replications = 3', 'seed = 11', '[design.sweep]',
        '"contract.prices.job_start" = [30000, 45000.5]', '"pathway.capacity.placements.slots" = [2, 4]',
    ]) + "\n", encoding="utf-8")
    exp = load_experiment(path)
    fields = param_fields(exp.points)
    assert [f.type for f in fields] == [pa.float64(), pa.int64()]
    tables = ("persons", "events", "spells")
    for point, sc in enumerate(exp.scenarios):
        task = Task(point, 0, 3)
        new = run_task(sc, task, exp.points[point], fields, tables)
        old = _old_task(sc, task, exp.points[point], fields, tables)
        _assert_same(new, old)
        assert new["runs"].column(fields[0].name).to_pylist() == [exp.points[point][fields[0].name]] * 3


def test_the_lazy_evaluation_tables_match_its_columns():
    """``Evaluation.cashflows`` / ``.budgets`` (DataFrames, built on first access) hold the same
    rows as ``cashflow_columns()`` / ``budget_columns()`` (what a batch stores)."""
    from effekt.experiments.runner import simulate_and_evaluate

    sc = load_scenario(None)
    _, ev = simulate_and_evaluate(sc, 2)
    for frame, cols in ((ev.cashflows, ev.cashflow_columns()), (ev.budgets, ev.budget_columns())):
        assert list(frame.columns) == list(cols)
        for name, values in cols.items():
            got = frame[name].to_numpy()
            if values.dtype == object:
                assert got.astype(object).tolist() == values.tolist(), name
            else:
                assert np.array_equal(got, values), name
                assert got.dtype == values.dtype, name
    # the money adds up as documented: the cashflows sum to minus the provider's delivery cost
    flows = ev.cashflow_columns()
    delivery = flows["amount"][flows["item"] == "delivery_cost"].sum()
    assert math.isclose(flows["amount"].sum(), delivery, rel_tol=1e-12, abs_tol=1e-6)


def test_one_replication_is_not_simulated_again_to_size_chunks(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("choose_chunk simulated a replication")

    monkeypatch.setattr(batch, "_timed_task", boom)
    exp = load_experiment(None, ["design.replications=1"], sweep=False)
    assert choose_chunk(exp, workers=1) == 1
    exp = load_experiment(None, ["design.replications=7"], sweep=False)
    assert choose_chunk(exp, workers=2) == 1  # ceil(7 / 8) = 1: one replication per task anyway
    exp = load_experiment(None, ["design.replications=9"], sweep=False)
    with pytest.raises(AssertionError, match="simulated a replication"):
        choose_chunk(exp, workers=2)  # ceil(9 / 8) = 2: worth timing


def _frames(tables) -> dict[str, pd.DataFrame]:
    return {name: getattr(tables, name).to_pandas() for name in ("persons", "events", "spells", "capacity")}


@pytest.mark.parametrize("slots", [1, 3, 10])
def test_the_engines_slots_queue_exactly_as_simpy_resource_does(monkeypatch, slots):
    """:class:`effekt.sim.engine.Slots` (a release that does not scan) against ``simpy.Resource``
    itself, on worlds with long queues (a kull of 60 every half year for 5 years on 1-10
    placements): every record table the same, row for row (waiting spells, queue order, the
    capacity rows of those still waiting at the horizon)."""
    import simpy

    from effekt.sim import Cohort, World, engine, load_pathway, replication_seed, simulate
    from effekt.sim.world import Counterfactual

    pathway = load_pathway("kongsberg_kull")
    capacity = {n: c.model_copy(update={"slots": slots}) for n, c in pathway.capacity.items()}
    world = World(pathway=pathway.model_copy(update={"capacity": capacity}),
                  cohorts=[Cohort(name="kull", start_week=0, size=60, groups={"A": 0.5, "C": 0.5},
                                  repeats=10, repeat_every_weeks=26)],
                  horizon_weeks=260, counterfactual=Counterfactual(mode="parallel"))
    for r in range(2):
        seed = replication_seed(9, r)
        fast = _frames(simulate(world, seed))
        with monkeypatch.context() as m:
            m.setattr(engine, "Slots", lambda env, n: simpy.Resource(env, capacity=n))
            plain = _frames(simulate(world, seed))
        assert (fast["events"]["event"] == "queued").any()  # the queue was really used
        for name in fast:
            pd.testing.assert_frame_equal(fast[name], plain[name], check_exact=True, obj=name)


def test_the_collector_is_paused_only_while_a_replication_runs():
    import gc

    from effekt.sim.engine import collector_paused

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError
    assert gc.isenabled()


def test_the_root_finder_is_scipys_brentq_bit_for_bit():
    """:func:`effekt.contracts.brent.brentq` replaces scipy.optimize.brentq in the IRR (half a second
    of start-up per process): on the IRR's own brackets of 2 000 random investor flows it returns
    exactly scipy's float, so stored ``investor_irr`` values do not move."""
    from scipy.optimize import brentq as scipy_brentq

    from effekt.contracts import finance as fin
    from effekt.contracts.brent import brentq

    rng = np.random.default_rng(14)
    solved = 0
    for _ in range(2000):
        k = int(rng.integers(3, 60))
        flows = np.where(rng.random(k) < 0.5, -rng.exponential(1e5, k), rng.exponential(1.2e5, k))
        flows[0] = -abs(flows[0])

        def f(r: float, flows: np.ndarray = flows) -> float:
            return float(np.sum(flows / (1.0 + r) ** np.arange(len(flows))))

        sign = np.sign(fin._npv_grid(flows))
        for i in np.nonzero(sign[:-1] * sign[1:] < 0)[0][:1]:
            a, b = fin._GRID[i], fin._GRID[i + 1]
            assert brentq(f, a, b, xtol=1e-14) == scipy_brentq(f, a, b, xtol=1e-14)
            solved += 1
    assert solved > 1000
    assert brentq(lambda x: x * x - 2.0, 0.0, 2.0) == pytest.approx(math.sqrt(2.0), abs=1e-11)
    with pytest.raises(ValueError, match="different signs"):
        brentq(lambda x: x * x + 1.0, 0.0, 2.0)


def test_chunks_are_sized_after_the_lazy_imports_not_with_them():
    """pandas is imported lazily (issue 14), but pyarrow imports it at its first conversion of
    Python rows, inside the first replication: sized with that import, a task got one replication
    (1 000 Parquet files for ``effekt run --runs 1000``). choose_chunk now tells pyarrow before
    timing that a run converts without pandas (``effekt.lazy.arrow_without_pandas``), so no timed
    replication imports it, and tasks hold many replications: checked in a fresh interpreter,
    where nothing has imported pandas yet (each timed task, :func:`effekt.experiments.runner.run_task`,
    says so itself)."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from effekt.experiments import batch\n"
        "from effekt.experiments.scenario import load_experiment\n"
        "seen = []\n"
        "real = batch._timed_task\n"
        "def spy(sc, start, size):\n"
        "    seen.append('pandas' in sys.modules)\n"
        "    return real(sc, start, size)\n"
        "batch._timed_task = spy\n"
        "exp = load_experiment('experiments/scenarios/default.toml')\n"
        "assert 'pandas' not in sys.modules\n"
        "chunk = batch.choose_chunk(exp, 1)\n"
        "print(any(seen), 'pandas' in sys.modules, chunk)\n")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=root)
    saw, loaded, chunk = out.stdout.strip().splitlines()[-1].split()
    assert (saw, loaded) == ("False", "False")
    assert int(chunk) > 10  # the default's 1 000 replications: about a second of work per task
