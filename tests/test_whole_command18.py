"""The batch machinery's own costs (issue 14, session 18): the collector off for a whole task, and
the task files' Parquet encoding, each checked against what it must keep."""

from __future__ import annotations

import gc

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from effekt.experiments import runner
from effekt.experiments.runner import Job, Task, collector_off, run_job
from effekt.experiments.scenario import load_experiment
from effekt.experiments.store import parquet_options


@pytest.fixture(scope="module")
def default_experiment():
    return load_experiment("experiments/scenarios/default.toml")


def test_a_task_runs_with_the_collector_off_and_leaves_it_as_it_was(default_experiment, monkeypatch):
    seen = []
    real = runner.run_task

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "run_task", spy)
    sc = default_experiment.scenarios[0]
    job = Job(task=Task(0, 0, 2), scenario=sc)
    assert gc.isenabled()
    out = run_job(job)
    assert seen == [False] and gc.isenabled()
    assert out["runs"].num_rows == 2
    gc.disable()
    try:  # a caller that had it off keeps it off
        run_job(job)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_comes_back_after_an_error():
    with pytest.raises(ZeroDivisionError), collector_off():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_the_same_task_gives_the_same_tables_with_and_without_the_collector(default_experiment):
    sc = default_experiment.scenarios[0]
    plain = runner.run_task(sc, Task(0, 3, 9))
    off = run_job(Job(task=Task(0, 3, 9), scenario=sc))
    assert set(plain) == set(off)
    for name in plain:
        assert plain[name].equals(off[name]), name


def _a_task_table() -> pa.Table:
    rng = np.random.default_rng(3)
    n = 5000
    return pa.table({
        "replication": pa.array(rng.integers(0, 40, n), type=pa.int32()),
        "party": pa.array(rng.choice(["kommune", "stat", "investor"], n)),
        "public": pa.array(rng.random(n) < 0.5),
        "amount": pa.array(np.where(rng.random(n) < 0.01, np.nan, rng.normal(0, 1e5, n))),
    })


def test_task_files_store_the_same_values_with_statistics_only_where_readers_filter(tmp_path):
    table = _a_task_table()
    opts = parquet_options(table.schema)
    assert opts == {"use_dictionary": ["party"], "write_statistics": ["replication", "party", "public"]}
    lean, plain = tmp_path / "lean.parquet", tmp_path / "plain.parquet"
    pq.write_table(table, lean, **opts)
    pq.write_table(table, plain)
    back = pq.read_table(lean)
    assert back.schema == table.schema
    for name in table.column_names:  # floats bit for bit, NaN included
        a, b = back[name].to_numpy(zero_copy_only=False), table[name].to_numpy(zero_copy_only=False)
        if a.dtype.kind == "f":
            a, b = a.view(np.int64), b.view(np.int64)
        assert np.array_equal(a, b), name
    group = pq.ParquetFile(lean).metadata.row_group(0)
    stats = {group.column(i).path_in_schema: group.column(i).statistics for i in range(group.num_columns)}
    assert stats["replication"].has_min_max and (stats["replication"].min, stats["replication"].max) == (
        table["replication"].to_numpy().min(), table["replication"].to_numpy().max())
    assert stats["party"].has_min_max and stats["party"].min == "investor"
    assert stats["amount"] is None or not stats["amount"].has_min_max
    assert any("DICTIONARY" in e for e in group.column(1).encodings)
    assert not any("DICTIONARY" in e for e in group.column(3).encodings)
    assert lean.stat().st_size <= plain.stat().st_size * 1.05
