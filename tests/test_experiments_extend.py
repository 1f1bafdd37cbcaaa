"""Extending a results directory with more replications of the same experiment."""

from __future__ import annotations

import pandas as pd
import pytest

from effekt.experiments.batch import run_batch
from effekt.experiments.budgets import load_budgets
from effekt.experiments.runner import Task, plan_tasks
from effekt.experiments.scenario import load_scenario
from effekt.experiments.store import ResultsDirError
from effekt.experiments.summary import load_runs


def _scenario(reps: int):
    return load_scenario(None, [f"design.replications={reps}"])


def test_plan_skips_covered_replications_and_never_repeats_one():
    done = [Task(0, 0, 7), Task(0, 7, 14), Task(0, 20, 27), Task(1, 0, 7)]
    tasks = plan_tasks(40, 7, 0, done)
    planned = [r for t in tasks for r in range(t.start, t.stop)]
    assert planned == list(range(14, 20)) + list(range(27, 40))
    assert all(t.size <= 7 for t in tasks)
    # other design points' tasks do not count
    assert plan_tasks(10, 7, 1, done) == [Task(1, 7, 10)]


def test_more_replications_extend_to_the_same_tables_as_one_run(tmp_path):
    ext = tmp_path / "extended"
    run_batch(_scenario(12), ext, chunk=5, progress=False)
    first = {p: p.stat().st_mtime_ns for p in (ext / "runs").rglob("*.parquet")}
    run_batch(_scenario(30), ext, chunk=5, progress=False)
    # the first files were not rewritten, and no replication is there twice
    assert all(p.stat().st_mtime_ns == t for p, t in first.items())
    a = load_runs(ext)
    assert sorted(a["replication"]) == list(range(30))

    once = tmp_path / "once"
    run_batch(_scenario(30), once, chunk=8, progress=False)
    pd.testing.assert_frame_equal(a, load_runs(once))
    pd.testing.assert_frame_equal(load_budgets(ext), load_budgets(once))


def test_fewer_replications_than_the_directory_holds_are_refused(tmp_path):
    out = tmp_path / "r"
    run_batch(_scenario(10), out, chunk=5, progress=False)
    with pytest.raises(ResultsDirError, match="--runs 10"):
        run_batch(_scenario(6), out, chunk=5, progress=False)
    # ... unless the user starts again
    run_batch(_scenario(6), out, chunk=5, progress=False, overwrite=True)
    assert len(load_runs(out)) == 6


def test_a_changed_scenario_is_still_another_experiment(tmp_path):
    out = tmp_path / "r"
    run_batch(_scenario(4), out, progress=False)
    other = load_scenario(None, ["design.replications=4", "contract.prices.job_start=1000"])
    with pytest.raises(ResultsDirError, match="another experiment"):
        run_batch(other, out, progress=False)
