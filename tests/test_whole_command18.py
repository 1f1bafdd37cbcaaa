"""The batch machinery's own costs (issue 14, session 18): the collector off for a whole task, and
the task files' Parquet encoding, each checked against what it must keep."""

from __future__ import annotations

import gc
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from effekt.experiments import runner
from effekt.experiments.runner import Job, Task, run_job
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
    from effekt.sim import collector_paused

    with pytest.raises(ZeroDivisionError), collector_paused():
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


def _makespan(tasks, workers: int) -> int:
    """Replications the busiest worker runs when each takes the next task as it gets free (the
    executors hand tasks out in order), every replication costing the same."""
    import heapq

    free = [0] * workers
    for t in tasks:
        heapq.heappush(free, heapq.heappop(free) + t.size)
    return max(free)


@pytest.mark.parametrize(("reps", "chunk", "workers"), [(10_000, 590, 2), (1000, 125, 2), (1000, 125, 4),
                                                         (997, 61, 3), (40, 5, 2)])
def test_tapered_tasks_cover_the_same_replications_and_the_workers_finish_together(reps, chunk, workers):
    from effekt.experiments.runner import plan_tasks, tapered

    plain = plan_tasks(reps, chunk, 0)
    tasks = tapered(plain, chunk, workers)
    covered = np.concatenate([np.arange(t.start, t.stop) for t in tasks])
    assert np.array_equal(covered, np.arange(reps))  # each once, in order
    assert all(1 <= t.size <= chunk for t in tasks)
    least = max(1, chunk // 8)
    assert all(t.size >= least for t in tasks[:-1])
    ideal = math.ceil(reps / workers)
    # equal tasks leave the workers up to a whole task apart; tapered ones, within the smallest size
    assert _makespan(tasks, workers) - ideal <= least
    if (reps, workers) == (10_000, 2):  # 17 equal tasks: one worker runs nine of them
        assert _makespan(plain, workers) - ideal > 3 * least
    assert len(tasks) <= len(plain) + 2 * workers * math.ceil(math.log2(8)) + 8


def test_tapering_keeps_design_points_apart_and_leaves_one_worker_alone():
    from effekt.experiments.runner import Task, plan_tasks, tapered

    done = [Task(0, 20, 30)]
    plain = plan_tasks(50, 10, 0, done) + plan_tasks(50, 10, 1)
    tasks = tapered(plain, 10, 2)
    assert all(t.point in (0, 1) for t in tasks)
    for point in (0, 1):
        got = sorted(r for t in tasks if t.point == point for r in range(t.start, t.stop))
        want = sorted(r for t in plain if t.point == point for r in range(t.start, t.stop))
        assert got == want
    assert not any(t.start < 30 and t.stop > 20 for t in tasks if t.point == 0)  # the done ones stay out
    assert tapered(plain, 10, 1) == plain


def test_a_quiet_run_does_not_import_rich(tmp_path):
    """rich draws the progress bar; ``effekt run -q`` (and a worker, a script) shows none."""
    import json
    import subprocess
    import sys

    code = ("import sys, json\nfrom effekt.experiments.cli import main\n"
            "sys.argv = ['effekt', 'run', '--runs', '2', '-q', '--workers', '1', '--out', "
            f"{str(tmp_path / 'r')!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'rich')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
    assert list((tmp_path / "r" / "runs").glob("point=0/*.parquet"))


def test_distinct_counts_what_pandas_unique_of_the_present_values_counted():
    import pandas as pd

    from effekt.contracts.payments import _distinct

    rng = np.random.default_rng(11)
    for _ in range(200):
        n = int(rng.integers(0, 40))
        ints = rng.integers(0, 15, n).astype(np.int32)
        floats = ints.astype(float)
        floats[rng.random(n) < 0.3] = np.nan
        objs = np.array([None if rng.random() < 0.2 else int(x) for x in ints], dtype=object)
        for v in (ints, floats, objs):
            assert _distinct(v) == len(pd.unique(v[pd.notna(v)])), v


@pytest.mark.parametrize("args", [
    ["--set", "contract.template=peterborough", "--set", "world.horizon_weeks=208"],  # a trigger
    ["experiments/scenarios/dwp_lesson.toml", "--set", "evaluation.design=matched"],
])
def test_a_trigger_contract_or_a_matched_design_runs_without_pandas(tmp_path, args):
    import json
    import subprocess
    import sys

    argv = ["effekt", "run", *args, "--runs", "3", "-q", "--workers", "1", "--out", str(tmp_path / "r")]
    code = ("import sys, json\nfrom effekt.experiments.cli import main\n"
            f"sys.argv = {argv!r}\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print(json.dumps('pandas' in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) is False
    assert list((tmp_path / "r" / "runs").glob("point=0/*.parquet"))


def test_a_task_stopped_between_its_files_counts_once_when_resumed_in_other_tasks(tmp_path):
    """A batch stopped between the renames of a task's files leaves its cashflows and budgets
    without its runs file. Resumed on two workers, the missing replications are cut into other
    tasks (tapered), so the old files would sit beside the new ones and count twice: they are set
    aside in .rejected, and every dataset equals an uninterrupted run's (review 18, item 1)."""
    from effekt.experiments.batch import run_batch
    from effekt.experiments.executors import SerialExecutor
    from effekt.experiments.store import REJECTED, read_table

    class TwoWorkers(SerialExecutor):  # plans as for two workers, runs here
        workers = 2

    exp = load_experiment(None, ["design.replications=40"], sweep=False)
    whole, stopped = tmp_path / "whole", tmp_path / "stopped"
    run_batch(exp, whole, executor=TwoWorkers(), chunk=10)
    run_batch(exp, stopped, executor=TwoWorkers(), chunk=10)
    first = sorted((stopped / "runs" / "point=0").glob("*.parquet"))[0]
    assert first.stem == "p00000-r0000000-0000010"
    first.unlink()  # stopped after the task's cashflows and budgets were renamed, before its runs
    run_batch(exp, stopped, executor=TwoWorkers())  # resumes: the chunk is the manifest's
    new = sorted(p.stem for p in (stopped / "runs" / "point=0").glob("*.parquet"))
    assert first.stem not in new and any(s.startswith("p00000-r0000000-") for s in new)  # cut anew
    for name in ("runs", "cashflows", "budgets"):
        a, b = read_table(whole, name), read_table(stopped, name)
        assert len(a) == len(b) and a.equals(b), name
    kept = sorted(p.name for p in (stopped / REJECTED).rglob("*.parquet"))
    assert [k.rsplit("-", 1)[0] for k in kept] == [first.stem] * 2  # cashflows, budgets: kept, not deleted
