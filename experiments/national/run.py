"""Running a national scenario: a shard is one kommune x one chunk of replications.

The kommuner are the design points of one experiment (:meth:`National.experiment`), so the
ordinary batch machinery (:func:`effekt.experiments.batch.run_batch`) plans, runs and stores the
shards on any executor (this process, local processes, Dask), at most ``2 x workers`` in flight, each
written to Parquet as it finishes (``<dataset>/point=K/<task>.parquet``, ``K`` the kommune's index)
and dropped: memory does not grow with the number of kommuner. An interrupted run resumes with the
same command. Every stored table carries the kommune's number (``kommune``; ``runs`` also its name,
fylke, people, size, seed and variant), so the files say which kommune they are without the manifest.

The only seam used is ``run_batch(task_fn=...)``: :func:`national_job` runs the ordinary
:func:`~effekt.experiments.runner.run_job` and adds the kommune column.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from effekt.experiments.executors import Executor
from effekt.experiments.national.spec import National
from effekt.experiments.runner import Job, run_job


def national_job(job: Job) -> dict[str, pa.Table]:
    """One shard: the ordinary task of the kommune's scenario, with a ``kommune`` column in every
    table that has none (``runs`` has it already, from the design point)."""
    tables = run_job(job)
    number = str(job.params["kommune"])
    out = {}
    for name, table in tables.items():
        if "kommune" not in table.column_names:
            table = table.append_column(pa.field("kommune", pa.string()),
                                        pa.array([number] * table.num_rows, type=pa.string()))
        out[name] = table
    return out


def run_national(national: National, out: str | Path, executor: Executor | None = None,
                 replications: int | None = None, chunk: int | None = None, overwrite: bool = False,
                 progress: bool | None = None, command: str = ""):
    """Run every kommune of ``national`` into ``out`` (resuming what an earlier run left undone);
    ``replications`` overrides the file's (``--runs``); ``chunk`` (replications per shard) defaults
    to about a second of work, timed on the first shards of the kommune of median size (kommuner
    differ a hundredfold in people; the median one gives most shards about a second, Oslo's a few
    longer ones), which are stored as results (:func:`effekt.experiments.batch.run_batch`); a
    resumed run keeps its first run's. Returns the results' store."""
    from effekt.experiments.batch import run_batch

    experiment = national.experiment(replications)
    return run_batch(experiment, out, executor=executor, chunk=chunk, overwrite=overwrite,
                     progress=progress, command=command, task_fn=national_job)


__all__ = ["national_job", "run_national"]
