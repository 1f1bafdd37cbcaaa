"""Issue 14, fourth part: a task's replications evaluated cheaply must store what they stored before.

Three guards:

* **Against the commit before** (1a41e20): ``tests/data/block_evaluation/<case>/<table>.parquet``
  are ``run_task`` of a few replications of the default, koto_sib (a randomised trial with a
  savings share), dwp_lesson (an evaluation design beside the control arm) and the default with a
  long run, written by ``benchmarks/make_block_fixture.py`` from a tree of that commit. Today's
  tables must agree: keys, strings and types exactly, every float to a relative 1e-12, and every
  number as the summary prints it (whole kroner, KPIs to four significant digits) exactly.
* **Whatever the chunk size, worker count or executor**: the same scenario and seed give the same
  Parquet contents (``runs``, ``cashflows``, ``budgets``) with chunks of 1, 7 and 50 and one or
  two worker processes (slow-marked: whole batches; a fast in-process check of chunks 1 and 7).
* **A ledger item by hand**: the earnings of two replications' people evaluated one after the
  other (the per-table column cache must not hand one replication's columns to another).

No timing here: see ``benchmarks/bench_run.py`` and BENCHMARKS.md.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from effekt.contracts import Valuation, evaluate
from effekt.contracts.fiscal import public_ledger
from effekt.experiments.batch import run_batch
from effekt.experiments.executors import ProcessExecutor, SerialExecutor
from effekt.experiments.runner import Task, run_task
from effekt.experiments.scenario import load_scenario
from effekt.experiments.store import read_table

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "data" / "block_evaluation"
SCENARIOS = ROOT / "experiments" / "scenarios"
CASES = {  # as benchmarks/make_block_fixture.py wrote them: (scenario, assignments, replications)
    "default": (None, [], (0, 4)),
    "koto_sib": (SCENARIOS / "koto_sib.toml", [], (0, 3)),
    "dwp_lesson": (SCENARIOS / "dwp_lesson.toml", [], (0, 3)),
    "long_run": (None, ["world.long_run_years=5"], (0, 3)),
}
TABLES = ("runs", "cashflows", "budgets")


def _displayed(x: np.ndarray, money: bool) -> list[str]:
    """The numbers as a person reads them: whole kroner for amounts, four significant digits for
    KPIs (finer than any summary or report line prints)."""
    return [("nan" if not math.isfinite(v) else f"{v:.0f}" if money else f"{v:.4g}") for v in x]


def _assert_close(new: pa.Table, old: pa.Table, where: str) -> None:
    assert new.schema.equals(old.schema, check_metadata=True), where
    assert new.num_rows == old.num_rows, where
    for name in old.column_names:
        a, b = new.column(name), old.column(name)
        if not pa.types.is_floating(a.type):
            assert a.equals(b), (where, name)
            continue
        x = a.to_numpy(zero_copy_only=False).astype(float)
        y = b.to_numpy(zero_copy_only=False).astype(float)
        np.testing.assert_array_equal(np.isnan(x), np.isnan(y), err_msg=f"{where}: {name}")
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=0, equal_nan=True, err_msg=f"{where}: {name}")
        money = not where.endswith("/runs")  # cashflows and budgets: amounts in kroner
        assert _displayed(x, money) == _displayed(y, money), (where, name)


@pytest.mark.parametrize("case", list(CASES))
def test_the_tables_are_those_of_the_commit_before_to_1e_12(case):
    path, assignments, (start, stop) = CASES[case]
    new = run_task(load_scenario(path, assignments), Task(0, start, stop))
    for table in TABLES:
        _assert_close(new[table], pq.read_table(FIXTURE / case / f"{table}.parquet"), f"{case}/{table}")


def _concatenated(scenario, n: int, chunk: int) -> dict[str, pa.Table]:
    parts = [run_task(scenario, Task(0, r, min(r + chunk, n))) for r in range(0, n, chunk)]
    return {t: pa.concat_tables([p[t] for p in parts]) for t in TABLES}


@pytest.mark.parametrize("case", ["default", "long_run"])
def test_chunks_of_one_and_seven_give_the_same_tables_bit_for_bit(case):
    path, assignments, _ = CASES[case]
    sc = load_scenario(path, assignments)
    one, seven = _concatenated(sc, 9, 1), _concatenated(sc, 9, 7)
    for t in TABLES:
        assert one[t].equals(seven[t], check_metadata=True), t


def _stored(out: Path) -> dict[str, pd.DataFrame]:
    return {t: read_table(out, t) for t in TABLES}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_the_stored_results_do_not_depend_on_chunk_or_workers(tmp_path, case):
    path, assignments, _ = CASES[case]
    sc = load_scenario(path, [*assignments, "design.replications=60"])
    runs = {}
    for chunk, workers in ((1, 1), (7, 1), (50, 1), (7, 2)):
        out = tmp_path / f"c{chunk}w{workers}"
        executor = ProcessExecutor(workers) if workers > 1 else SerialExecutor()
        with executor:
            run_batch(sc, out, executor=executor, chunk=chunk, progress=False)
        runs[chunk, workers] = _stored(out)
    first = runs[1, 1]
    for key, got in runs.items():
        for t in TABLES:
            pd.testing.assert_frame_equal(got[t], first[t], check_exact=True, obj=f"{key} {t}")


def _one_person(arm: str, pid: int, wage: float, fte: float, start: float, end: float):
    persons = pa.table({"arm": [arm], "person_id": [pid], "cohort": ["k"], "group": ["A"],
                        "entry_week": [0.0], "benefit_kind": ["none"]})
    spells = pa.table({"arm": [arm], "person_id": [pid], "state": ["employed"], "start": [start],
                       "end": [end], "fte": [fte], "annual_wage": [wage], "benefit_kind": ["none"],
                       "benefit_g": [0.0]})
    return persons, spells


def test_two_replications_one_after_the_other_keep_their_own_earnings():
    """Replication 1: one person earning 520 000 a year at full time from week 0 to 52/12 (the
    first month): earnings of month 0 = 520 000 x (52/12) / 52 = 43 333.33...; replication 2: at
    half time 10 weeks from week 0: months 0 and 1 = 260 000 x (52/12) / 52 = 21 666.67 each,
    month 2 = 260 000 x (10 - 2 x 52/12) / 52 = 6 666.67. Evaluated one after the other, each
    gets its own numbers (and again in the other order), whatever the tables read before."""
    G = 124_028.0
    p1, s1 = _one_person("treatment", 1, 520_000.0, 1.0, 0.0, 52 / 12)
    p2, s2 = _one_person("treatment", 1, 520_000.0, 0.5, 0.0, 10.0)
    want1 = np.array([520_000.0 * (52 / 12) / 52, 0.0, 0.0])
    want2 = np.array([260_000.0 * (52 / 12) / 52] * 2 + [260_000.0 * (10 - 2 * 52 / 12) / 52])
    for order in ((1, 2), (2, 1), (1, 2)):
        for r in order:
            persons, spells = (p1, s1) if r == 1 else (p2, s2)
            got = public_ledger(persons, spells, G, 3)[("treatment", "participants", "earnings")]
            np.testing.assert_allclose(got, want1 if r == 1 else want2, rtol=1e-15)


def test_a_column_read_from_a_table_cannot_be_changed_by_its_reader():
    """The cached columns are read-only: a caller that wrote into one would change what the next
    reader of the same table sees."""
    from effekt.contracts.outcomes import _floats, _strings

    _, spells = _one_person("treatment", 1, 520_000.0, 1.0, 0.0, 4.0)
    with pytest.raises(ValueError):
        _floats(spells, "start")[0] = 1.0
    with pytest.raises(ValueError):
        _strings(spells, "arm")[0] = "control"
    assert _floats(spells, "start")[0] == 0.0 and _strings(spells, "arm")[0] == "treatment"


def test_an_evaluation_is_the_same_after_other_replications_were_evaluated():
    sc = load_scenario(None)
    from effekt.experiments.runner import simulate_and_evaluate, valuation_of

    v = valuation_of(sc)
    assert isinstance(v, Valuation)
    _, first = simulate_and_evaluate(sc, 3, v)
    for r in (0, 1, 2):
        simulate_and_evaluate(sc, r, v)
    tables, again = simulate_and_evaluate(sc, 3)
    assert again.kpis.keys() == first.kpis.keys()
    for k, x in first.kpis.items():
        assert (x == again.kpis[k]) or (math.isnan(x) and math.isnan(again.kpis[k])), k
    fresh = evaluate(sc.terms, tables.persons, tables.spells, sc.world.horizon_weeks, v,
                     events=tables.events, design=sc.evaluation, long_run_weeks=sc.long_run_weeks)
    np.testing.assert_array_equal(fresh.cashflow_columns()["amount"], first.cashflow_columns()["amount"])
