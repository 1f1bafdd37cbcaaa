"""What ``effekt run`` imports for its summary is imported while the batch's tasks run elsewhere.

:func:`effekt.lazy.prefetch` imports modules in a thread; the batch starts it only once every
worker process is forked (a process forked beside a thread in the middle of an import keeps that
import's lock held for ever), never when the tasks run in this process (the thread would take its
time from the simulation), and a module whose import fails there is imported again, with its error,
where it is used.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import uuid

import pytest

from effekt import lazy
from effekt.experiments.batch import run_batch
from effekt.experiments.executors import ProcessExecutor, SerialExecutor
from effekt.experiments.scenario import load_experiment
from effekt.experiments.store import read_table

_WATCHING: list[list[list[str]]] = []  # while a test watches: at each fork, the other threads alive


def _before_fork() -> None:
    if _WATCHING:
        _WATCHING[-1].append([t.name for t in threading.enumerate() if t is not threading.current_thread()])


os.register_at_fork(before=_before_fork)


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """A module nobody has imported, which records the thread that imports it and takes half a
    second to import (so a prefetching thread started before the workers fork is alive at it)."""
    name = f"effekt_prefetch_probe_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(
        "import threading, time\nIMPORTED_BY = threading.current_thread().name\n"
        "time.sleep(0.5)  # a slow import: a thread begun before a fork would be seen at it\n",
        encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def _ours(threads: list[str]) -> list[str]:
    """The batch's own threads among those alive at a fork (other tests may leave theirs)."""
    return [t for t in threads if t.startswith(("effekt-prefetch", "effekt-writer"))]


def test_prefetch_imports_in_a_thread_of_its_own_and_a_failure_is_left_for_the_real_import(probe):
    thread = lazy.prefetch(["effekt_no_such_module_at_all", probe])
    thread.join(timeout=30)
    assert not thread.is_alive() and thread.daemon
    # the failing name did not stop the next one, which the thread imported
    assert sys.modules[probe].IMPORTED_BY == thread.name != threading.current_thread().name
    with pytest.raises(ModuleNotFoundError, match="effekt_no_such_module_at_all"):
        importlib.import_module("effekt_no_such_module_at_all")


@pytest.mark.parametrize("bar", [False, True])
def test_a_batch_on_worker_processes_prefetches_only_after_every_fork(tmp_path, probe, bar):
    exp = load_experiment(None, ["design.replications=12"], sweep=False)
    ex = ProcessExecutor(2)
    _WATCHING.append([])
    try:
        run_batch(exp, tmp_path / "b", executor=ex, chunk=3, progress=bar, prefetch=[probe])
    finally:
        seen = _WATCHING.pop()
    assert len(seen) == 2, seen  # both workers forked while the test watched
    assert [_ours(threads) for threads in seen] == [[], []], seen  # neither the prefetch nor a writer
    assert sys.modules[probe].IMPORTED_BY == "effekt-prefetch"  # imported whole: the batch waited
    assert not any(t.name == "effekt-prefetch" for t in threading.enumerate())
    assert len(read_table(tmp_path / "b", "runs")) == 12


def test_a_second_batch_forks_its_workers_with_the_first_one_s_prefetch_ended(tmp_path, probe):
    """The thread is waited for before the batch returns: another batch in the same process (a
    script, a test) forks its workers with none of it left (at the fork, a thread in the middle
    of an import leaves the workers waiting for ever on that import's lock)."""
    exp = load_experiment(None, ["design.replications=6"], sweep=False)
    _WATCHING.append([])
    try:
        run_batch(exp, tmp_path / "one", executor=ProcessExecutor(2), chunk=3, progress=False,
                  prefetch=[probe])
        run_batch(exp, tmp_path / "two", executor=ProcessExecutor(2), chunk=3, progress=False,
                  prefetch=[probe])
    finally:
        seen = _WATCHING.pop()
    assert len(seen) == 4 and [_ours(threads) for threads in seen] == [[]] * 4, seen


def test_a_batch_in_this_process_or_with_nothing_left_to_run_prefetches_nothing(tmp_path, probe):
    exp = load_experiment(None, ["design.replications=6"], sweep=False)
    run_batch(exp, tmp_path / "s", executor=SerialExecutor(), chunk=3, progress=False, prefetch=[probe])
    assert probe not in sys.modules
    # resumed with every task stored: no task to run elsewhere, no thread
    run_batch(exp, tmp_path / "s", executor=ProcessExecutor(2), chunk=3, progress=False, prefetch=[probe])
    assert probe not in sys.modules
    assert len(read_table(tmp_path / "s", "runs")) == 6
