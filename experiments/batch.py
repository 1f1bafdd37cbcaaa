"""A batch: every task of a scenario run on an executor, streamed to a results directory."""

from __future__ import annotations

import functools
import sys
from contextlib import nullcontext
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from experiments.executors import Executor, SerialExecutor
from experiments.runner import Task, plan_tasks, run_task
from experiments.scenario import Scenario
from experiments.store import ResultStore


def _progress(enabled: bool):
    if not enabled:
        return nullcontext(None)
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("replications"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        transient=True,
    )


def _run(scenario: Scenario, task: Task):
    return run_task(scenario, task)


def run_batch(
    scenario: Scenario,
    out: str | Path,
    executor: Executor | None = None,
    chunk: int | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    command: str = "",
) -> ResultStore:
    """Run all replications of ``scenario`` into ``out``; resumes what an earlier run left.

    ``chunk``: replications per task (default: enough for ~1 s of work, at most 50).
    """
    executor = executor or SerialExecutor()
    reps = scenario.design.replications
    chunk = chunk or max(1, min(50, reps // 8 or 1))
    tasks = plan_tasks(reps, chunk)
    store = ResultStore(out)
    manifest = {
        "scenario": scenario.resolved,
        "scenario_source": scenario.source,
        "scenario_hash": scenario.hash,
        "root_seed": scenario.design.seed,
        "replications": reps,
        "chunk": chunk,
        "tasks": [t.name for t in tasks],
        "effekt_version": version("effekt"),
        "python": sys.version.split()[0],
        "executor": executor.name,
        "command": command,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    done = store.open(manifest, overwrite=overwrite)
    todo = [t for t in tasks if t.name not in done]
    if progress is None:
        progress = sys.stderr.isatty()
    with _progress(progress) as bar:
        handle = None
        if bar is not None:
            handle = bar.add_task(scenario.info.name, total=reps,
                                  completed=reps - sum(t.stop - t.start for t in todo))
        for task, tables in executor.map_unordered(functools.partial(_run, scenario), todo):
            store.write_task(task.point, task.name, tables)
            if bar is not None:
                bar.advance(handle, task.stop - task.start)
    store.finish(manifest)
    return store
