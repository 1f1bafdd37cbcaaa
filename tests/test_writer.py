"""A batch's tasks are written on several threads (effekt.experiments.writer): the same files as
one after another, at most 2 x threads tasks waiting, a failed write raised with its message, and
the manifest's saves one at a time."""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from effekt.experiments import store as store_module
from effekt.experiments import writer as writer_module
from effekt.experiments.batch import run_batch
from effekt.experiments.executors import ProcessExecutor, SerialExecutor
from effekt.experiments.scenario import load_experiment
from effekt.experiments.store import ResultsDirError, ResultStore
from effekt.experiments.writer import TaskWriter


def files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


def test_the_files_written_on_threads_are_those_written_one_after_another(tmp_path, monkeypatch):
    exp = load_experiment(None, ["design.replications=24"], sweep=False)
    monkeypatch.setattr(writer_module, "WRITE_THREADS", 1)
    run_batch(exp, tmp_path / "one", executor=ProcessExecutor(2), chunk=2, progress=False)
    monkeypatch.setattr(writer_module, "WRITE_THREADS", 4)
    run_batch(exp, tmp_path / "four", executor=ProcessExecutor(2), chunk=2, progress=False)
    one, four = files(tmp_path / "one"), files(tmp_path / "four")
    tasks = json.loads((tmp_path / "one" / "manifest.json").read_text())["tasks_done"]
    assert len(tasks) >= 12 and len(one) == 3 * len(tasks)  # runs, cashflows, budgets of each task
    assert one == four  # byte for byte
    manifest = json.loads((tmp_path / "four" / "manifest.json").read_text())
    assert manifest["complete"] and manifest["tasks_done"] == tasks


def test_a_burst_of_tasks_written_on_threads_gives_the_files_written_in_the_calling_thread(tmp_path):
    """Twelve tasks' results given at once (as when many workers finish together), as tables and
    as the workers' bytes, on four threads and in the calling thread: the same files."""
    from effekt.experiments.runner import Job, Task, run_job
    from effekt.experiments.writer import EncodedTask

    exp = load_experiment(None, ["design.replications=12"], sweep=False)
    jobs = [Job(task=Task(0, r, r + 1), scenario=exp.scenarios[0], params=exp.points[0], experiment=exp.hash)
            for r in range(12)]
    results = [run_job(j) for j in jobs]
    encoded = [EncodedTask(run_job)(j) for j in jobs]
    written = {}
    for label, threads, given in (("inline", 0, results), ("tables", 4, results), ("bytes", 4, encoded)):
        store = ResultStore(tmp_path / label)
        store.open({"experiment_hash": exp.hash, "command": "test"})
        try:
            with TaskWriter(store, threads=threads) as writer:
                for job, tables in zip(jobs, given, strict=True):
                    writer.write(0, job.task.name, tables)
        finally:
            store.close()
        written[label] = files(tmp_path / label)
    assert len(written["inline"]) == 3 * 12
    assert written["inline"] == written["tables"] == written["bytes"]


class _Store:
    """A stand-in store whose writes wait for what the test says."""

    def __init__(self, wait=None, fail: str | None = None):
        self.wait, self.fail, self.written = wait, fail, []
        self.lock = threading.Lock()

    def write_task(self, point, task, tables):
        if self.wait is not None:
            self.wait()
        if task == self.fail:
            raise ResultsDirError(f"{task} cannot be written (the disk is full)")
        with self.lock:
            self.written.append(task)


def test_writes_run_at_the_same_time():
    together = threading.Barrier(4, timeout=10)  # broken (an error) unless four writes wait at once
    store = _Store(wait=together.wait)
    with TaskWriter(store, threads=4) as writer:
        for i in range(8):
            writer.write(0, f"t{i}", {})
    assert sorted(store.written) == [f"t{i}" for i in range(8)]


def test_at_most_twice_the_threads_wait_and_the_next_task_waits_for_one_to_end():
    go = threading.Event()
    store = _Store(wait=lambda: go.wait(10))
    writer = TaskWriter(store, threads=1)
    writer.write(0, "a", {})
    writer.write(0, "b", {})  # two given to one thread: the most that wait
    third = threading.Thread(target=writer.write, args=(0, "c", {}))
    third.start()
    third.join(timeout=0.3)
    assert third.is_alive()  # held until a write ends
    go.set()
    third.join(timeout=10)
    assert not third.is_alive()
    writer.close()
    assert store.written == ["a", "b", "c"]


def test_a_failed_write_is_raised_after_the_others_end():
    store = _Store(fail="t3")
    writer = TaskWriter(store, threads=2)
    given = []
    with pytest.raises(ResultsDirError, match="t3 cannot be written"):
        with writer:
            for i in range(6):
                writer.write(0, f"t{i}", {})
                given.append(f"t{i}")
    # every task given before the failure was seen is written (all but t3), then the threads end
    assert "t3" in given and sorted(store.written) == sorted(t for t in given if t != "t3")
    assert writer._pool is None


def test_the_block_s_own_exception_goes_on_and_what_was_given_is_written():
    store = _Store(fail="t1")
    with pytest.raises(KeyboardInterrupt):
        with TaskWriter(store, threads=2) as writer:
            writer.write(0, "t0", {})
            writer.write(0, "t1", {})
            raise KeyboardInterrupt
    assert store.written == ["t0"]


def test_no_threads_writes_in_the_calling_thread_and_fewer_is_refused():
    seen = []
    store = _Store(wait=lambda: seen.append(threading.current_thread()))
    with TaskWriter(store, threads=0) as writer:
        writer.write(0, "t0", {})
        assert store.written == ["t0"] and seen == [threading.current_thread()]
    assert writer._pool is None
    with pytest.raises(ValueError, match="0 .write in the calling thread. or more, not -1"):
        TaskWriter(_Store(), threads=-1)


def test_a_batch_in_its_own_process_writes_in_its_own_thread(tmp_path, monkeypatch):
    threads = []
    real = ResultStore.write_task

    def watched(self, *args):
        threads.append(threading.current_thread().name)
        return real(self, *args)

    monkeypatch.setattr(ResultStore, "write_task", watched)
    exp = load_experiment(None, ["design.replications=6"], sweep=False)
    run_batch(exp, tmp_path / "s", executor=SerialExecutor(), chunk=2, progress=False)
    assert threads and set(threads) == {"MainThread"}
    threads.clear()
    run_batch(exp, tmp_path / "p", executor=ProcessExecutor(2), chunk=2, progress=False)
    assert threads and all(name.startswith("effekt-writer") for name in threads)


def test_the_manifest_is_saved_one_at_a_time_from_many_writing_threads(tmp_path, monkeypatch):
    store = ResultStore(tmp_path / "m")
    store.open({"experiment_hash": "x", "command": "test"})
    saves = []
    real = store._write_manifest

    def counted(manifest):
        saves.append(manifest)
        real(manifest)

    monkeypatch.setattr(store, "_write_manifest", counted)
    clock = itertools.count(start=1e12, step=10.0)  # the store's clock, 10 s on a reading: a save a task
    monkeypatch.setattr(store_module, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    table = pa.table({"x": [1.0]})
    try:
        with TaskWriter(store, threads=8) as writer:
            for i in range(40):
                writer.write(0, f"p00000-r{i:07d}-{i + 1:07d}", dict.fromkeys(store.datasets, table))
    finally:
        store.close()
    assert len(saves) >= 40
    manifest = json.loads(store.manifest_path.read_text())
    assert len(manifest["tasks_done"]) == 40
    assert not list((tmp_path / "m").glob(".manifest.json.tmp"))


def test_files_encoded_by_the_workers_are_those_the_batch_s_process_encodes(tmp_path):
    """A worker process hands back each task's files as bytes (EncodedTask); a batch in one
    process writes its tables itself: the same files, byte for byte (one worker process, so that
    both plan the same tasks: on two, the last tasks are cut smaller)."""
    exp = load_experiment(None, ["design.replications=12"], sweep=False)
    run_batch(exp, tmp_path / "here", executor=SerialExecutor(), chunk=3, progress=False,
              tables=("persons", "spells"))
    run_batch(exp, tmp_path / "there", executor=ProcessExecutor(1), chunk=3, progress=False,
              tables=("persons", "spells"))
    here, there = files(tmp_path / "here"), files(tmp_path / "there")
    assert len(here) == 5 * 4 and here == there  # runs, cashflows, budgets, persons, spells of 4 tasks


def test_encoded_task_gives_the_bytes_of_the_store_s_own_file(tmp_path):
    from effekt.experiments.runner import Job, Task, run_job
    from effekt.experiments.writer import EncodedTask

    exp = load_experiment(None, ["design.replications=2"], sweep=False)
    job = Job(task=Task(0, 0, 2), scenario=exp.scenarios[0], params=exp.points[0], experiment=exp.hash)
    encoded = EncodedTask(run_job)(job)
    assert set(encoded) == {"runs", "cashflows", "budgets"}
    assert all(isinstance(b, bytes) for b in encoded.values())
    store = ResultStore(tmp_path / "s")
    store.open({"experiment_hash": exp.hash, "command": "test"})
    try:
        store.write_task(0, job.task.name, run_job(job))
    finally:
        store.close()
    for name, data in encoded.items():
        assert (tmp_path / "s" / name / "point=0" / f"{job.task.name}.parquet").read_bytes() == data


def test_a_full_disk_while_writing_the_workers_bytes_stops_with_the_message_and_no_half_file(tmp_path,
                                                                                             monkeypatch):
    real = store_module._write_bytes

    def full_disk(path, data):
        if "-r0000000-" not in path.name:  # the first task's files are written, then the disk is full
            path.write_bytes(data[:10])
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(store_module, "_write_bytes", full_disk)
    exp = load_experiment(None, ["design.replications=6"], sweep=False)
    with pytest.raises(ResultsDirError, match="the disk is full"):
        run_batch(exp, tmp_path / "r", executor=ProcessExecutor(2), chunk=2, progress=False)
    assert not list((tmp_path / "r").rglob("*.tmp"))
    # the first task's files, if its result came back before the batch stopped (the workers' tasks
    # end in any order), and nothing else; what is stored is whole
    stored = {p.relative_to(tmp_path / "r").as_posix() for p in (tmp_path / "r").rglob("*.parquet")}
    first = {f"{ds}/point=0/p00000-r0000000-0000002.parquet" for ds in store_module.DATASETS}
    assert stored in (set(), first)
    for name in stored:
        assert pq.read_table(tmp_path / "r" / name).num_rows > 0
    monkeypatch.setattr(store_module, "_write_bytes", real)
    run_batch(exp, tmp_path / "r", executor=ProcessExecutor(2), chunk=2, progress=False)  # resumes
    run_batch(exp, tmp_path / "clean", executor=ProcessExecutor(2), chunk=2, progress=False)
    assert files(tmp_path / "r") == files(tmp_path / "clean")
