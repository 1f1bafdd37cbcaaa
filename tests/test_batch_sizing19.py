"""A batch sizes its tasks on its own first tasks (issue 14): the replications timed are stored as
results, so none is simulated twice, and the results are those of any other chunking.

:func:`effekt.experiments.batch._first_tasks_timed` runs tasks of 1, 2, 4, 8 ... replications of
the design point of median size in the command's process, stores each, and chooses the chunk from
their CPU times (:func:`effekt.experiments.batch.task_cost`); the rest of the batch is planned
around them (:func:`effekt.experiments.runner.plan_tasks`).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from effekt.experiments import batch
from effekt.experiments.executors import ProcessExecutor, SerialExecutor
from effekt.experiments.runner import parse_task, run_job
from effekt.experiments.scenario import load_experiment
from effekt.experiments.store import read_table


def _counting(seen: list[tuple[int, int, int]]):
    """A task function that runs the ordinary task and notes which replications it ran."""
    def fn(job):
        seen.append((job.task.point, job.task.start, job.task.stop))
        return run_job(job)
    return fn


def _replications(seen):
    return sorted((p, r) for p, start, stop in seen for r in range(start, stop))


def test_a_batch_without_a_chunk_stores_its_timed_tasks_and_simulates_nothing_twice(tmp_path):
    exp = load_experiment(None, ["design.replications=60"], sweep=False)
    seen: list[tuple[int, int, int]] = []
    store = batch.run_batch(exp, tmp_path / "a", progress=False, task_fn=_counting(seen))
    assert _replications(seen) == [(0, r) for r in range(60)]  # each replication once, in all
    # the first tasks are the timed ones: 1, 2, 4 ... replications from replication 0
    assert seen[0] == (0, 0, 1) and seen[1] == (0, 1, 3)
    names = {p.stem for p in (store.out / "runs" / "point=0").glob("*.parquet")}
    assert {"p00000-r0000000-0000001", "p00000-r0000001-0000003"} <= names
    manifest = json.loads((store.out / "manifest.json").read_text())
    assert isinstance(manifest["chunk"], int) and manifest["chunk"] >= 1
    assert manifest["complete"] and sorted(manifest["tasks_done"]) == sorted(names)
    # the same numbers as a batch of one fixed chunk (a replication's numbers do not depend on
    # which task holds it)
    batch.run_batch(exp, tmp_path / "b", chunk=7, progress=False)
    for ds in ("runs", "cashflows", "budgets"):
        pd.testing.assert_frame_equal(read_table(tmp_path / "a", ds), read_table(tmp_path / "b", ds))


def test_a_sweep_times_its_median_design_point_and_plans_the_rest_around_it(tmp_path):
    exp = load_experiment(None, ["design.replications=12",
                                 'design.sweep={"world.cohorts[0].size" = [40, 4, 14]}'])
    seen: list[tuple[int, int, int]] = []
    batch.run_batch(exp, tmp_path / "s", progress=False, task_fn=_counting(seen))
    assert seen[0] == (2, 0, 1)  # the median world (14 people) is point 2
    assert _replications(seen) == [(p, r) for p in range(3) for r in range(12)]


def test_timing_stops_at_the_design_points_last_replication(tmp_path, monkeypatch):
    """On a clock where every replication takes 0.1 s and with no limit on the time spent timing,
    a bound of 20 replications a task (2 s) is never within the target (1 s), so the timing goes
    on (1, 2, 4, 8, 16 ... replications) until the design point's 20 replications end it: tasks of
    1, 2, 4, 8 and the 5 left, nothing more to plan, and the chunk ten (1 s at 0.1 s each)."""
    clock = [0.0]

    def task_fn(job):
        clock[0] += 0.1 * job.task.size
        return run_job(job)

    monkeypatch.setattr(batch.time, "process_time", lambda: clock[0])
    monkeypatch.setattr(batch, "_bound", lambda exp, workers: 20)
    monkeypatch.setattr(batch, "TIMING_SECONDS", 1e9)
    exp = load_experiment(None, ["design.replications=20"], sweep=False)
    seen: list[tuple[int, int, int]] = []

    def counting(job):
        seen.append((job.task.point, job.task.start, job.task.stop))
        return task_fn(job)

    store = batch.run_batch(exp, tmp_path / "t", progress=False, task_fn=counting)
    assert [stop - start for _, start, stop in seen] == [1, 2, 4, 8, 5]
    assert json.loads((store.out / "manifest.json").read_text())["chunk"] == 10


def test_a_world_whose_first_replication_is_over_the_target_gets_one_per_task(tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "TASK_SECONDS", 0.0)
    exp = load_experiment(None, ["design.replications=9"], sweep=False)
    seen: list[tuple[int, int, int]] = []
    store = batch.run_batch(exp, tmp_path / "w", progress=False, task_fn=_counting(seen))
    assert seen == [(0, r, r + 1) for r in range(9)]  # the warm-up was the first task, not run again
    assert json.loads((store.out / "manifest.json").read_text())["chunk"] == 1


def test_a_batch_stopped_while_timing_resumes_without_running_a_replication_twice(tmp_path, monkeypatch):
    """Stopped after its first timed task: the manifest has no chunk; resumed, the batch times by
    tasks thrown away (its own first replications are stored already), and what it stores holds
    every replication once."""
    exp = load_experiment(None, ["design.replications=30"], sweep=False)
    calls = []

    def stop_on_second(job):
        calls.append(job.task)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return run_job(job)

    with pytest.raises(KeyboardInterrupt):
        batch.run_batch(exp, tmp_path / "r", progress=False, task_fn=stop_on_second)
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["chunk"] is None
    thrown = []
    monkeypatch.setattr(batch, "_timed_task", lambda sc, start, size: thrown.append((start, size)))
    seen: list[tuple[int, int, int]] = []
    batch.run_batch(exp, tmp_path / "r", progress=False, task_fn=_counting(seen))
    assert thrown  # timed again, thrown away
    stored = [parse_task(p.stem) for p in (tmp_path / "r" / "runs" / "point=0").glob("*.parquet")]
    covered = sorted(r for t in stored for r in range(t.start, t.stop))
    assert covered == list(range(30))
    assert (0, 0, 1) not in seen  # the stored first task was not run again


@pytest.mark.parametrize("workers", [1, 2])
def test_the_chunk_never_breaks_the_bound_of_four_tasks_a_worker(tmp_path, workers):
    exp = load_experiment(None, ["design.replications=80"], sweep=False)
    ex = SerialExecutor() if workers == 1 else ProcessExecutor(workers)
    with ex:
        store = batch.run_batch(exp, tmp_path / f"b{workers}", executor=ex, progress=False)
    chunk = json.loads((store.out / "manifest.json").read_text())["chunk"]
    assert 1 <= chunk <= -(-80 // (4 * workers))
    stored = [parse_task(p.stem) for p in (store.out / "runs" / "point=0").glob("*.parquet")]
    assert sorted(r for t in stored for r in range(t.start, t.stop)) == list(range(80))


def test_the_progress_bar_counts_the_timed_first_tasks(tmp_path, monkeypatch):
    """The bar is up while the first tasks are timed (a large world's first replication can take
    a minute) and ends at every replication: what it started with plus each advance."""
    from contextlib import contextmanager

    counts = {"start": None, "advanced": 0}

    class Bar:
        def add_task(self, label, total, completed):
            counts["start"], counts["total"] = completed, total
            return 0

        def advance(self, handle, n):
            counts["advanced"] += n

    @contextmanager
    def fake(enabled, lang="en"):
        yield Bar()

    monkeypatch.setattr(batch, "_progress", fake)
    exp = load_experiment(None, ["design.replications=30"], sweep=False)
    seen: list[tuple[int, int, int]] = []
    batch.run_batch(exp, tmp_path / "p", progress=True, task_fn=_counting(seen))
    assert counts["start"] == 0 and counts["total"] == 30
    assert counts["advanced"] == 30  # the timed tasks (1, 2, 4 ...) and the rest
    assert seen[0] == (0, 0, 1)
    # resumed with more replications: the bar starts at the 30 stored
    exp = load_experiment(None, ["design.replications=40"], sweep=False)
    counts.update(start=None, advanced=0)
    batch.run_batch(exp, tmp_path / "p", progress=True)
    assert counts["start"] == 30 and counts["advanced"] == 10 and counts["total"] == 40


def test_a_tasks_cost_is_the_least_squares_line_through_every_timed_task():
    from effekt.experiments.batch import TaskCost

    # on a line: both parts exactly
    line = TaskCost.through([(2, 0.009 + 2 * 0.0025), (4, 0.009 + 4 * 0.0025), (8, 0.009 + 8 * 0.0025)])
    assert line.fixed == pytest.approx(0.009) and line.per_replication == pytest.approx(0.0025)
    # by hand: (1, 3), (2, 4), (3, 8): mean k 2, mean t 5, slope (-1 x -2 + 0 + 1 x 3) / 2 = 2.5,
    # intercept 5 - 2.5 x 2 = 0; the last two alone would say 4 a replication and -4 fixed
    fitted = TaskCost.through([(1, 3.0), (2, 4.0), (3, 8.0)])
    assert fitted.per_replication == pytest.approx(2.5) and fitted.fixed == pytest.approx(0.0)
    # falling with the size (noise), or one task: the mean per replication
    assert TaskCost.through([(2, 0.02), (4, 0.01)]) == TaskCost(0.0, 0.03 / 6)
    assert TaskCost.through([(5, 0.05)]) == TaskCost(0.0, 0.01)


def test_validate_times_a_small_worlds_replications_as_tasks_run_them(monkeypatch):
    """For a small world of many replications (piloted because of the replications), the CPU per
    replication is a task's share (:func:`effekt.experiments.workload._in_tasks`), not a lone
    replication's: here a task costs 10 ms plus 2 ms a replication, so a second's task holds
    495 and a replication costs 2 + 10/495 ms."""
    from effekt.experiments import workload as wl
    from effekt.experiments.batch import TaskCost

    monkeypatch.setattr(batch, "task_cost", lambda sc, most, target: TaskCost(0.010, 0.002))
    monkeypatch.setattr(wl, "_pilot", lambda sc: (0.011, 10e6))
    exp = load_experiment(None, ["design.replications=20000"], sweep=False)
    work = wl.estimate(exp)
    assert work.measured
    assert work.seconds == pytest.approx(0.002 + 0.010 / 495)
    # the memory check of a run (cpu=False) keeps the pilot's figure, and so does a world too large
    # for its replications to share blocks (piloted at a scaled-down size)
    assert wl.estimate(exp, cpu=False).seconds == 0.011
    big = load_experiment(None, ["world.cohorts[0].size=3000"], sweep=False)
    monkeypatch.setattr(wl, "_pilot", lambda sc: (0.5, 10e6))
    assert wl.estimate(big).seconds == 0.5


@pytest.mark.parametrize(("seconds", "en", "nb"), [
    (0.0027, "2.7 ms", "2,7 ms"), (0.0004, "under 1 ms", "under 1 ms"), (0.25, "0.2 s", "0,2 s"),
    (95.0, "2 min", "2 min"), (7200.0, "2.0 h", "2,0 t"), (3 * 86400.0, "3.0 days", "3,0 døgn"),
])
def test_a_duration_is_written_as_a_person_reads_it(seconds, en, nb):
    from effekt.experiments import workload as wl

    assert wl._duration(seconds) == en and wl._duration_nb(seconds) == nb
