"""A batch's task files: encoded where the task ran, written on a few threads of the batch's own
process (issue 14).

Every result of a batch is written by the process that runs the batch, never by its workers: a
lost worker then loses nothing stored, and a cluster's workers need not see the results
directory. Writing one task is Parquet encoding and making the files durable (each file, then its
folder, synced to disk before the task counts as done); one after another, about 9 ms for a
national shard's three files, that is what a national run on many Dask workers waits for (357
shards, BENCHMARKS.md). So where the tasks run on worker processes or a cluster, each worker
encodes its task's files itself (:class:`EncodedTask`: the same bytes the batch's process would
make) and hands back the bytes, smaller than the tables; and the batch's process puts them on disk
on a few threads (:class:`TaskWriter`; the kernel syncs, and pyarrow encodes where it still
must, with the interpreter's lock released): the same files, each written as
:meth:`~effekt.experiments.store.ResultStore.write_task` writes it (temporary name, sync, rename,
``runs`` last), only finished in another order.

At most ``2 x threads`` tasks' tables wait in memory (a new task waits for a write to end). A
failed write (a full disk) is raised, with the store's message, at the next task given or at the
end; the writes already begun end first, each either stored whole or leaving no file, as before.
So a batch on workers learns of a full disk when its next result comes back, not at once: up to
a task's time later (about a second with the tasks sized by default; a minute for a task of one
replication of a very large world), the results of that time unstored and simulated again on
resume.

Not where the tasks run in the batch's own process (``--workers 1``): there the simulation holds
the interpreter's lock, and writing threads take turns with it for the lock (a national run of 30
replications on one worker, alternating: the same wall time on 2 cores, but 10-15 % more CPU,
which on a machine of one core is wall time); the batch writes there as before, one task after
another, in its own thread (``threads=0``).

Threads and forks: a process forked while another thread holds a lock keeps that lock held for
ever. The threads start with the first task written and end with the block (``with``); the batch
forks its local workers before (:meth:`effekt.experiments.executors.ProcessExecutor.start_workers`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, Self

from effekt.experiments.store import encoded_file

if TYPE_CHECKING:
    import pyarrow as pa

    from effekt.experiments.store import ResultStore

WRITE_THREADS = 4
"""Threads writing a batch's tasks. Measured on 2 cores, 359 national shards given as tables
(BENCHMARKS.md, sixteenth part): 8.6 ms a shard on one thread, 5.0 on two, 4.3 on four, 4.6 on
eight; given as the workers' bytes, 2.6 on one and 1.8 on four."""


class TaskWriter:
    """Writes tasks' tables into ``store`` on ``threads`` threads (default :data:`WRITE_THREADS`;
    0: in the calling thread, one after another); use as ``with TaskWriter(store) as writer:
    writer.write(point, task, tables)``. Leaving the block waits for every write given and raises
    the first that failed (unless the block itself is leaving on an exception, which then goes on,
    the writes given still ended)."""

    def __init__(self, store: ResultStore, threads: int | None = None) -> None:
        threads = WRITE_THREADS if threads is None else threads
        if threads < 0:
            raise ValueError(f"TaskWriter: threads must be 0 (write in the calling thread) or more, "
                             f"not {threads}")
        self.store = store
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._pending: set[Future] = set()
        self._failed: BaseException | None = None

    def __enter__(self) -> Self:
        return self

    def write(self, point: int, task: str, tables: dict[str, pa.Table | bytes]) -> None:
        """Give the tables of task ``task`` (design point ``point``) to be written; waits while
        ``2 x threads`` tasks are still being written, and raises a write that failed. With no
        threads, writes it here and now."""
        if self.threads == 0:
            self.store.write_task(point, task, tables)
            return
        self._collect(block=len(self._pending) >= 2 * self.threads)
        self._raise()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="effekt-writer")
        self._pending.add(self._pool.submit(self.store.write_task, point, task, tables))

    def close(self) -> None:
        """Wait for every write given; then raise the first that failed."""
        self._end()
        self._raise()

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is None:
            self.close()
        else:  # the block's own exception goes on; what was given is still written (or not, whole)
            self._end()

    def _end(self) -> None:
        try:
            while self._pending:
                self._collect(block=True)
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def _collect(self, block: bool) -> None:
        if not self._pending:
            return
        if block:
            done, _ = wait(self._pending, return_when=FIRST_COMPLETED)
        else:
            done = {f for f in self._pending if f.done()}
        for fut in done:
            self._pending.discard(fut)
            err = fut.exception()
            if err is not None and self._failed is None:
                self._failed = err

    def _raise(self) -> None:
        if self._failed is not None:
            err, self._failed = self._failed, None
            raise err


class EncodedTask:
    """A batch's task function (``fn``: a :class:`~effekt.experiments.runner.Job` to its tables)
    that hands back each table as the bytes of its Parquet file (:func:`encoded_file`, with the
    job's experiment hash, which is the store's), for tasks that run on worker processes or a
    Dask cluster: the encoding, most of what writing a task costs (8.5 ms of a national shard's
    tables against 2.6 ms for its bytes), is then done by the workers, side by side, and what
    travels back is the file (a national shard: about a quarter of its tables' size in memory),
    so the batch's own process only puts bytes on disk. The files are
    the same, byte for byte, as those the batch's process would encode (tests/test_writer.py)."""

    def __init__(self, fn: Callable[[Any], dict[str, pa.Table]]) -> None:
        self.fn = fn

    def __call__(self, job: Any) -> dict[str, bytes]:
        return {name: encoded_file(table, job.experiment) for name, table in self.fn(job).items()}


__all__ = ["WRITE_THREADS", "EncodedTask", "TaskWriter"]
