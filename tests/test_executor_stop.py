"""Local processes stopped early: a pool of one call's own has its processes ended at once (not
its queued tasks run to their end first), also under the command line's SIGTERM handler; a pool
kept for a block is left to the block's other calls; an error a task raises comes in its turn, even
one that cannot be pickled (issue 14: building a sweep's design points, Ctrl-C in a batch)."""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time

import pytest

from effekt.experiments.cli import _terminated
from effekt.experiments.executors import ProcessExecutor, map_in_order, open_executor


def _first_quick(x: int) -> int:
    if x:
        time.sleep(6)  # the tasks queued to the workers
    return x


def _ended_by_sigterm(processes) -> bool:
    for p in processes:
        p.join(timeout=10)
    return all(p.exitcode == -signal.SIGTERM for p in processes)


def test_a_pool_stopped_early_ends_its_workers_under_the_command_lines_sigterm_handler():
    previous = signal.signal(signal.SIGTERM, _terminated)  # as effekt run installs before forking
    try:
        results = ProcessExecutor(2).map_unordered(_first_quick, range(6))
        assert next(results) == (0, 0)
        workers = [p for p in multiprocessing.active_children() if p.is_alive()]
        results.close()  # the caller stops: a bad point, Ctrl-C
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert len(workers) == 2
    # ended by the signal: a worker that took it as Ctrl-C would go on to its next task and exit 0
    assert _ended_by_sigterm(workers)


def test_a_kept_pool_stopped_early_by_one_call_serves_the_next():
    with ProcessExecutor(2) as ex:
        first = ex.map_unordered(_first_quick, [0, 1, 2, 3])
        assert next(first) == (0, 0)
        first.close()
        assert ex._pool is not None  # the app's runs share one pool: one run's stop is not all's
        assert sorted(r for _, r in ex.map_unordered(abs, [-4, 5])) == [4, 5]


def test_an_error_in_a_block_of_open_executor_ends_its_workers():
    with pytest.raises(RuntimeError, match="stopped"), open_executor(2) as ex:
        results = ex.map_unordered(_first_quick, range(6))
        assert next(results) == (0, 0)
        workers = [p for p in multiprocessing.active_children() if p.is_alive()]
        raise RuntimeError("stopped")
    assert len(workers) == 2 and _ended_by_sigterm(workers)


class _Unpicklable(Exception):
    def __init__(self) -> None:
        super().__init__("holds a lock")
        self.lock = threading.Lock()


def _second_fails(x: int) -> int:
    if x == 1:
        raise _Unpicklable()
    if x == 0:
        time.sleep(1)  # finishes after the failure
    return x


def test_an_error_that_cannot_be_pickled_still_comes_in_its_turn_and_names_itself():
    results = map_in_order(ProcessExecutor(2), _second_fails, range(4))
    assert next(results) == 0
    with pytest.raises(RuntimeError, match="_Unpicklable: holds a lock"):
        next(results)


class _BreaksAfterFirst:
    """A pool whose first tasks finish and whose next submit finds it broken (a worker died after
    the last result was collected): the race a killed worker can win."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn, item):
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool

        self.submitted += 1
        if self.submitted > 2:
            raise BrokenProcessPool("A child process terminated abruptly")
        fut: Future = Future()
        fut.set_result(fn(item))
        return fut

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


def test_a_pool_found_broken_at_a_submit_is_the_worker_died_message(monkeypatch):
    from effekt.experiments import executors
    from effekt.experiments.executors import ExecutorLost

    monkeypatch.setattr(executors, "_pool", lambda workers: _BreaksAfterFirst())
    got = []
    with pytest.raises(ExecutorLost, match="a worker process died"):
        for _, result in ProcessExecutor(1).map_unordered(abs, [-1, -2, -3, -4]):
            got.append(result)
    # one of the two first results came (finished together: in either order), then the next
    # submit found the pool broken
    assert len(got) == 1 and got[0] in (1, 2)
