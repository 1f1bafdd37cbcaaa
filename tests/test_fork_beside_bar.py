"""The worker processes of a batch are never forked beside the progress bar's redrawing thread.

A process forked while another thread holds a lock (the bar's thread writing to stderr) keeps the
lock held for ever, and a worker that then writes there hangs. The batch pauses the bar while the
workers fork (:meth:`effekt.experiments.executors.ProcessExecutor.start_workers`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading

from effekt.experiments.batch import run_batch
from effekt.experiments.executors import ProcessExecutor
from effekt.experiments.scenario import load_experiment

_WATCHING: list[list[str]] = []  # while a test watches: the other threads alive at each fork


def _before_fork() -> None:
    if _WATCHING:
        _WATCHING[-1].extend(type(t).__name__ for t in threading.enumerate()
                             if t is not threading.current_thread())


os.register_at_fork(before=_before_fork)


def _threads_at_forks(run) -> list[str]:
    _WATCHING.append([])
    try:
        run()
    finally:
        seen = _WATCHING.pop()
    return seen


def test_a_batch_with_its_bar_forks_its_workers_with_no_redrawing_thread_beside(tmp_path):
    exp = load_experiment(None, ["design.replications=12"], sweep=False)
    ex = ProcessExecutor(2)
    seen = _threads_at_forks(lambda: run_batch(exp, tmp_path / "b", executor=ex, chunk=3, progress=True))
    assert "_RefreshThread" not in seen, seen
    # and the batch ran on the workers forked so: every replication stored, the pool ended
    from effekt.experiments.store import read_table

    assert len(read_table(tmp_path / "b", "runs")) == 12
    assert ex._started is None and ex._pool is None


def test_without_the_pause_the_bars_thread_is_there_at_the_fork():
    """The watch itself can fail: a pool forked while a rich bar redraws sees its thread."""
    from rich.console import Console
    from rich.progress import Progress

    ex = ProcessExecutor(2)
    with Progress(console=Console(stderr=True, force_terminal=True), transient=True) as bar:
        bar.add_task("x", total=1)
        seen = _threads_at_forks(lambda: list(ex.map_unordered(abs, [-1, -2])))
    assert "_RefreshThread" in seen, seen


def test_workers_started_ahead_serve_the_next_call_and_end_with_it():
    ex = ProcessExecutor(2)
    ex.start_workers()
    pool = ex._started
    forked = multiprocessing.get_start_method() == "fork"  # then the first task forks every worker
    assert pool is not None and (len(pool._processes) == 2 or not forked)
    processes = list(pool._processes.values())
    assert sorted(r for _, r in ex.map_unordered(abs, [-3, -1, -2])) == [1, 2, 3]
    assert ex._started is None and not any(p.is_alive() for p in processes)
    # kept pool: started ahead is the kept one itself, still serving after the call
    with ProcessExecutor(2) as kept:
        kept.start_workers()
        assert kept._started is None and (len(kept._pool._processes) == 2 or not forked)
        assert sorted(r for _, r in kept.map_unordered(abs, [-1, -2])) == [1, 2]
        assert kept._pool is not None
