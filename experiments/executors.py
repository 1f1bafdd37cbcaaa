"""Executors: where tasks run. All share one seam (EMA Workbench's evaluators), ``map_unordered(fn,
items)``, which yields ``(item, result)`` as each task finishes, so results stream to disk whatever
runs them, with a bounded number of tasks in flight so memory stays flat.

* :class:`SerialExecutor` runs in this process (debugging, tests, small jobs);
* :class:`ProcessExecutor` runs on local processes (the default, all cores);
* :class:`~effekt.experiments.dask_executor.DaskExecutor` runs on a Dask cluster
  (``pip install effekt[dask]``).

Results never depend on the executor: every task carries its own seeds. The analysis commands
(break-even, sensitivity, pilot size, compare) run their replications on the same executors
(:func:`effekt.experiments.analysis.common.replicate_many`): one evaluator for every experiment.

``with open_executor(workers, dask) as ex:`` gives an executor that keeps one pool of worker
processes for every ``map_unordered`` inside the block (a root finder's many small rounds pay the
start-up once) and is closed at the end; outside such a block each call has its own pool.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, contextmanager
from typing import Any, Protocol, Self


def _watch_parent(parent: int, every: float = 0.5) -> None:
    """In a worker process: exit as soon as the process that started it is gone (its parent id
    changes when it dies, ``kill -9`` included), so a killed ``effekt run`` leaves no workers
    behind, and repeated kill-and-resume never piles them up. A daemon thread polls, because a
    worker busy in a task cannot be asked.

    SIGTERM ends a worker, whatever handler it inherited: the command line's (which turns it into
    Ctrl-C so the parent unwinds) would make a worker told to stop abandon its task and take the
    next one (:func:`_stop`)."""
    import signal
    import threading
    import time

    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    if os.getppid() != parent:  # the parent died before the worker got here
        os._exit(1)
    threading.Thread(target=watch, name="effekt-parent-watch", daemon=True).start()


def _pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes that die with this one (:func:`_watch_parent`)."""
    return ProcessPoolExecutor(max_workers=workers, initializer=_watch_parent, initargs=(os.getpid(),))


class ExecutorLost(RuntimeError):
    """The machinery that runs the tasks is gone (a worker process killed, a Dask scheduler lost):
    no task result is wrong, the tasks stored so far are kept, and rerunning the command resumes."""


RESUME = "the replications stored so far are kept: run the same command again to resume"
RESUME_NB = ("replikasjonene som er lagret så langt, beholdes: kjør den samme kommandoen på nytt for å "
             "fortsette")
"""What a lost executor's message ends with, in English and bokmål."""


class Executor(Protocol):
    name: str
    workers: int

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]
                      ) -> Iterator[tuple[Any, Any]]: ...

    def close(self) -> None: ...


def run_here(executor: Executor, fn: Callable[[Any], Any], item: Any) -> Any:
    """Run one task in the calling process, seen by ``executor`` (a batch's first tasks, timed
    to size the rest: :func:`effekt.experiments.batch.run_batch`): an executor with a ``run_here``
    method (the app's, which counts replications and honours Cancel) runs it through that."""
    own = getattr(executor, "run_here", None)
    return own(fn, item) if own is not None else fn(item)


class _Closing:
    """``with executor:`` closes the executor at the end of the block."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        pass


class SerialExecutor(_Closing):
    """Every task in this process, one after another."""

    name = "serial"
    workers = 1

    def map_unordered(self, fn, items):
        for item in items:
            yield item, fn(item)


class ProcessExecutor(_Closing):
    """Local worker processes; at most ``2 x workers`` tasks in flight, so memory stays flat."""

    name = "processes"

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None
        self._started: ProcessPoolExecutor | None = None  # forked ahead for the next call alone

    def __enter__(self) -> Self:
        """Keep one pool of workers for every call until :meth:`close`."""
        if self._pool is None:
            self._pool = _pool(self.workers)
        return self

    def close(self) -> None:
        for pool in (self._pool, self._started):
            if pool is not None:
                pool.shutdown()
        self._pool = self._started = None

    def start_workers(self) -> None:
        """Fork the worker processes now, not at the next :meth:`map_unordered`'s first task.

        Why: a process forked while another thread of this one holds a lock gets the lock held
        for ever, and a worker that then writes to that stream (a warning on stderr) hangs. A
        batch's progress bar redraws itself from a thread of its own, ten times a second, on
        stderr; the batch pauses the bar, calls this, and starts the bar again
        (:func:`effekt.experiments.batch.run_batch`), so no worker is forked beside that thread.
        The workers are forked after the batch's first tasks ran in this process, as before, so
        they still inherit what those filled (the world's plan, the imports). The processes serve
        the next :meth:`map_unordered` call (ended with it, unless the pool is kept: ``with``)."""
        pool = self._pool
        if pool is None:
            pool = self._started = self._started or _pool(self.workers)
        try:
            pool.submit(int).result()  # the first task forks every worker (fork start method)
        except BaseException as err:  # a worker died, or Ctrl-C between two forks: none left behind
            if pool is self._started:
                self._started = None
                _stop(pool)
            if isinstance(err, BrokenProcessPool):
                raise _worker_died() from None
            raise

    def abort(self) -> None:
        """End a kept pool at once (:func:`_stop`): its tasks not started are cancelled and its
        processes ended (Ctrl-C in a block of :func:`open_executor`)."""
        for pool in (self._pool, self._started):
            if pool is not None:
                _stop(pool)
        self._pool = self._started = None

    def map_unordered(self, fn, items):
        items = iter(items)
        kept = self._pool is not None
        pool = self._pool if kept else self._started or _pool(self.workers)
        self._started = None
        finished = False
        try:
            pending = {}
            for item in items:
                pending[_submit(pool, fn, item)] = item
                if len(pending) >= 2 * self.workers:
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    item = pending.pop(fut)
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        raise _worker_died() from None
                    yield item, result
                    nxt = next(items, None)
                    if nxt is not None:  # the pool may have broken since: a worker died
                        pending[_submit(pool, fn, nxt)] = nxt
            finished = True
        finally:
            # on Ctrl-C or an error, do not wait for tasks nobody will write; a kept pool may serve
            # other calls (the app's runs share one): only this call's tasks are cancelled there
            if kept:
                if not finished:
                    for fut in pending:
                        fut.cancel()
            elif finished:
                pool.shutdown()
            else:
                _stop(pool)


def _submit(pool: ProcessPoolExecutor, fn: Callable[[Any], Any], item: Any) -> Future:
    """``pool.submit(fn, item)``; a pool broken by a worker's death (found here when it broke
    after the last result was collected) raises :func:`_worker_died`'s message, as a result does."""
    try:
        return pool.submit(fn, item)
    except BrokenProcessPool:
        raise _worker_died() from None


def _worker_died() -> ExecutorLost:
    """What a pool whose worker process died raises (bokmål or English, :func:`effekt.specfile.said`)."""
    from effekt.specfile import said

    return ExecutorLost(said(
        "a worker process died (killed from outside, or by the system for want of "
        f"memory: see effekt validate's estimate); {RESUME}",
        "en arbeidsprosess døde (stoppet utenfra, eller av systemet for lite minne: se "
        f"anslaget fra effekt validate); {RESUME_NB}"))


def _stop(pool: ProcessPoolExecutor) -> None:
    """Shut ``pool`` down at once: the tasks not started are cancelled and its processes ended.
    ``shutdown(cancel_futures=True)`` cancels only what the pool has not yet queued to its
    processes; the tasks queued (a worker's next one or two) would run to their end, and the
    interpreter waits for them at exit (seconds after a design point's error, or Ctrl-C). The
    pool has no public way to end its processes (Python 3.11-3.13), hence ``_processes``."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    results = getattr(pool, "_result_queue", None)  # shutdown() forgets it
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
    # a worker ended while it was sending a result leaves the pool's manager thread reading the
    # rest for ever (this process holds the pipe's other end, so no end of file comes), and the
    # interpreter's exit waits for that thread without a timeout: Ctrl-C during a batch then hung
    # at exit, after its message, about once in ten (a review, 4-8 of 40). Closing this process's
    # end gives the read its end of file.
    writer = getattr(results, "_writer", None)
    if writer is not None and manager is not None and manager.is_alive():
        writer.close()
    if manager is not None:  # done before the interpreter's exit closes what it waits on
        manager.join(timeout=5)


class _Raised:
    """An exception a task of :func:`map_in_order` raised, carried back as its result so that it
    is raised in its turn in the items' order, not in the order the tasks finished."""

    def __init__(self, error: Exception, trace: str) -> None:
        self.error, self.trace = error, trace

    def __reduce__(self) -> tuple[Any, ...]:
        """Sent to the parent process as it is, or, when the exception cannot make the journey
        (it holds a lock, or cannot be rebuilt from its arguments, which would break the pool),
        as a RuntimeError naming it: either way it is raised in its turn."""
        import pickle

        try:
            pickle.loads(pickle.dumps(self.error))
            error: Exception = self.error
        except Exception:
            error = RuntimeError(f"{type(self.error).__qualname__}: {self.error}")
        return (_Raised, (error, self.trace))

    def raised(self) -> Exception:
        """The exception, with the task's traceback as a note when it came from another process
        (a pickled exception keeps none of its own)."""
        if self.error.__traceback__ is None:
            self.error.add_note(f"raised in a task:\n{self.trace}")
        return self.error


class _Indexed:
    """``fn`` of the second of a pair ``(index, item)``: a task that carries its place in the
    order (picklable when ``fn`` is, as a worker process needs); an exception it raises is its
    result (:class:`_Raised`)."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, pair: tuple[int, Any]) -> Any:
        try:
            return self.fn(pair[1])
        except Exception as err:  # raised in its turn by map_in_order
            import traceback

            return _Raised(err, traceback.format_exc())


def map_in_order(executor: Executor, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
    """``fn`` of every item on ``executor``'s seam (:meth:`Executor.map_unordered`), the results
    yielded in the items' order: each as soon as it and every result before it are in, so a
    caller that stops at the first bad result (a design point that does not validate) sees the
    same one whatever ran the items and in whatever order they finished. An exception ``fn``
    raises is raised in its turn too. Stopping early (closing the generator, an error) cancels
    the items not started and, on local processes, ends the processes (:func:`_stop`)."""
    waiting: dict[int, Any] = {}
    nxt = 0
    with closing(executor.map_unordered(_Indexed(fn), enumerate(items))) as results:
        for (index, _item), result in results:
            waiting[index] = result
            while nxt in waiting:
                out = waiting.pop(nxt)
                if isinstance(out, _Raised):
                    raise out.raised()
                yield out
                nxt += 1


def make_executor(workers: int | None = None, dask: str | None = None) -> Executor:
    """``dask``: a scheduler address (``tcp://host:8786``) or ``local`` for a LocalCluster of
    ``workers`` processes. Otherwise ``workers`` = 1: serial; None or more: local processes."""
    if dask:
        from effekt.experiments.dask_executor import DaskExecutor

        return DaskExecutor(dask, workers)
    if workers == 1:
        return SerialExecutor()
    return ProcessExecutor(workers)


@contextmanager
def open_executor(workers: int | None = None, dask: str | None = None) -> Iterator[Executor]:
    """:func:`make_executor` for a block of work: local processes keep one pool for the whole
    block, and the executor is closed at its end (also on an error or Ctrl-C)."""
    executor = make_executor(workers, dask)
    try:
        if isinstance(executor, ProcessExecutor):
            executor.__enter__()
        yield executor
    except BaseException:  # Ctrl-C, an error: the workers' tasks are of no more use
        if isinstance(executor, ProcessExecutor):
            executor.abort()
        raise
    finally:
        executor.close()
