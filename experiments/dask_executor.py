"""Run tasks on a Dask distributed cluster (optional: ``pip install effekt[dask]``).

``DaskExecutor("tcp://scheduler:8786")`` connects to a running scheduler (started with
``dask scheduler``, workers with ``dask worker tcp://scheduler:8786``, each in an environment where
effekt is installed); ``DaskExecutor("local", n)`` starts a LocalCluster of ``n`` single-threaded
worker processes on this machine.

Why results are neither lost nor duplicated when a worker dies: a task is a pure function of its
arguments (the seeds are in them) and returns its rows to this process, which alone writes files.
If a worker dies mid-task, the scheduler runs the task again elsewhere (up to its
``allowed-failures``) and the future completes once; each finished future is written once and
then released. Each task has an explicit key (experiment hash + task name), so Dask never merges
two different tasks and never runs the same one twice at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any


def _require_distributed():
    try:
        import dask  # noqa: F401
        import distributed
    except ImportError:  # pragma: no cover - depends on the environment
        from effekt.specfile import said

        raise RuntimeError(said("--dask needs Dask distributed: pip install 'effekt[dask]'",
                                "--dask trenger Dask distributed: pip install 'effekt[dask]'")) from None
    return distributed


class DaskExecutor:
    """Tasks on a Dask cluster, at most ``2 x workers`` in flight, consumed with ``as_completed``."""

    name = "dask"

    def __init__(self, address: str, workers: int | None = None, timeout: float = 30):
        distributed = _require_distributed()
        import dask

        self._cluster = None
        if address == "local":
            # the workers' statistical profiler samples task stacks every 10 ms; for a pure-Python
            # simulation that costs ~20 % of the CPU (measured: benchmarks/bench_executors.py)
            with dask.config.set({"distributed.worker.profile.enabled": False}):
                self._cluster = distributed.LocalCluster(
                    n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                    dashboard_address=None,
                )
            self.client = distributed.Client(self._cluster)
        else:
            # this process is a client: the connection's own INFO lines (with tracebacks when a
            # scheduler goes away) are not for the person at the terminal; effekt says what happened
            import logging

            for name in ("distributed.batched", "distributed.client", "distributed.core", "distributed.comm"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
            try:
                self.client = distributed.Client(address, timeout=timeout)
            except OSError as err:
                from effekt.specfile import said

                raise RuntimeError(said(f"--dask {address}: cannot reach a Dask scheduler there ({err})",
                                        f"--dask {address}: når ingen Dask-scheduler der ({err})")) from None
        self.address = address

    @property
    def workers(self) -> int:
        """Worker threads in the cluster now (at least 1)."""
        return max(1, sum(self.client.nthreads().values()))

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]
                      ) -> Iterator[tuple[Any, Any]]:
        distributed = _require_distributed()
        items = iter(items)
        limit = 2 * self.workers
        owner: dict[str, Any] = {}
        queue = distributed.as_completed()

        def submit(item: Any) -> None:
            key = getattr(item, "key", None)
            fut = self.client.submit(fn, item, key=key, pure=key is not None)
            owner[fut.key] = item
            queue.add(fut)

        for item in items:
            submit(item)
            if len(owner) >= limit:
                break
        for fut in queue:
            item = owner.pop(fut.key)
            try:
                result = fut.result()
            except (distributed.client.FutureCancelledError, distributed.comm.CommClosedError) as err:
                # a task of ours does no networking: a closed connection is the cluster's, not a bug
                lost = isinstance(err, distributed.comm.CommClosedError) or "connection-lost" in str(err)
                if not lost and self.client.status == "running":
                    raise
                from effekt.experiments.executors import RESUME, RESUME_NB, ExecutorLost
                from effekt.specfile import said

                self._lost = True
                raise ExecutorLost(said(f"lost the connection to the Dask scheduler at {self.address}; "
                                        f"{RESUME} once the scheduler and its workers run again",
                                        f"mistet forbindelsen til Dask-scheduleren på {self.address}; "
                                        f"{RESUME_NB} når scheduleren og arbeiderne kjører igjen")) from None
            fut.release()
            yield item, result
            nxt = next(items, None)
            if nxt is not None:
                submit(nxt)

    def close(self) -> None:
        if getattr(self, "_lost", False):
            # the client would try to reconnect for half a minute and log tracebacks of its own
            # after our message: nothing is to be said or waited for
            import logging

            for name in ("distributed", "asyncio", "tornado"):
                logging.getLogger(name).setLevel(logging.CRITICAL + 1)
            try:
                self.client.close(timeout=2)
            except Exception:  # noqa: BLE001 - the connection is gone; the message was given
                pass
            return
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
