"""Executors: where tasks run. All share one seam, ``map_unordered(fn, items)``, which yields
``(item, result)`` as each finishes, so results stream to disk whatever runs them.

* :class:`SerialExecutor` runs in this process (debugging, tests, small jobs);
* :class:`ProcessExecutor` runs on local processes (the default, all cores).

Results never depend on the executor: every task carries its own seeds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Protocol


class Executor(Protocol):
    name: str

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]
                      ) -> Iterator[tuple[Any, Any]]: ...


class SerialExecutor:
    name = "serial"

    def map_unordered(self, fn, items):
        for item in items:
            yield item, fn(item)


class ProcessExecutor:
    """Local worker processes; at most ``2 x workers`` tasks in flight, so memory stays flat."""

    name = "processes"

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1

    def map_unordered(self, fn, items):
        items = iter(items)
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            pending = {}
            for item in items:
                pending[pool.submit(fn, item)] = item
                if len(pending) >= 2 * self.workers:
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    item = pending.pop(fut)
                    yield item, fut.result()
                    nxt = next(items, None)
                    if nxt is not None:
                        pending[pool.submit(fn, nxt)] = nxt


def make_executor(workers: int | None) -> Executor:
    """``workers`` = 1: serial; None or more than 1: local processes."""
    if workers == 1:
        return SerialExecutor()
    return ProcessExecutor(workers)
