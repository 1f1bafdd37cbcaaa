"""The batch's own process does per task only what grows with the task, not with the experiment
(issue 14): the experiment's hash, which serialises every design point, is worked out once per
batch, not once per task (a 9 600-point sweep spent 42 ms a task on it, 400 s in all); the median
design point, found by building every point's scenario, is found once; a dataset's folder is made
once, not once per file."""

from __future__ import annotations

from pathlib import Path

from test_experiments_scenario import write

from effekt.experiments import batch
from effekt.experiments.executors import SerialExecutor
from effekt.experiments.scenario import Experiment, load_experiment
from effekt.experiments.store import read_table

SWEEP = '[design.sweep]\n"contract.prices.job_start" = [30000, 45000, 60000]\n'


def _counted(monkeypatch, cls, name: str) -> list[int]:
    """Count the reads of property ``name`` of ``cls`` (its value unchanged)."""
    calls = [0]
    prop = getattr(cls, name)

    def counted(self):
        calls[0] += 1
        return prop.fget(self)

    monkeypatch.setattr(cls, name, property(counted))
    return calls


def test_the_experiments_hash_is_worked_out_once_per_batch_not_once_per_task(tmp_path, monkeypatch):
    exp = load_experiment(write(tmp_path, design=SWEEP), ["design.replications=4"])
    hashes = _counted(monkeypatch, Experiment, "hash")
    batch.run_batch(exp, tmp_path / "out", executor=SerialExecutor(), chunk=1, progress=False)
    runs = read_table(tmp_path / "out", "runs")
    assert len(runs) == 12  # 3 points x 4 replications, one task each: twelve tasks
    assert hashes[0] == 2  # the manifest's and the jobs', whatever the number of tasks


def test_the_median_point_is_found_once_when_the_first_tasks_are_timed(tmp_path, monkeypatch):
    exp = load_experiment(write(tmp_path, design=SWEEP), ["design.replications=6"])
    found = []
    real = batch._representative

    def representative(experiment):
        found.append(1)
        return real(experiment)

    monkeypatch.setattr(batch, "_representative", representative)
    batch.run_batch(exp, tmp_path / "out", executor=SerialExecutor(), progress=False)
    assert len(found) == 1 and len(read_table(tmp_path / "out", "runs")) == 18


def test_a_datasets_folder_is_made_once_and_a_cleared_one_again(tmp_path, monkeypatch):
    exp = load_experiment(write(tmp_path), ["design.replications=5"])
    made = []
    mkdir = Path.mkdir

    def counted(self, *args, **kwargs):
        if self.name.startswith("point=") and kwargs.get("parents"):  # the store's call, not pathlib's own
            made.append(self.parent.name)
        return mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", counted)
    out = tmp_path / "out"
    batch.run_batch(exp, out, executor=SerialExecutor(), chunk=1, progress=False)
    assert sorted(made) == ["budgets", "cashflows", "runs"]  # five tasks, one folder each
    made.clear()  # --overwrite deletes the folders: they are made again, not assumed
    batch.run_batch(exp, out, executor=SerialExecutor(), chunk=1, progress=False, overwrite=True)
    assert sorted(made) == ["budgets", "cashflows", "runs"]
    assert len(read_table(out, "runs")) == 5

