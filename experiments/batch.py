"""A batch: every task of an experiment (design points x replications) run on an executor and
streamed to a results directory, resuming whatever an earlier, interrupted run left undone."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from effekt import lazy
from effekt.experiments.executors import Executor, SerialExecutor, run_here
from effekt.experiments.provenance import provenance
from effekt.experiments.runner import (
    RECORD_TABLES,
    Job,
    Task,
    param_fields,
    parse_task,
    plan_tasks,
    run_job,
    run_task,
    tapered,
)
from effekt.experiments.scenario import Experiment, Scenario
from effekt.experiments.store import ResultsDirError, ResultStore, now
from effekt.experiments.writer import EncodedTask, TaskWriter
from effekt.sim import collector_paused
from effekt.specfile import said

TASK_SECONDS = 1.0
"""Target run time of one task: long enough that scheduling overhead (Dask's is a few ms per
task) is negligible, short enough to balance load and lose little when a worker dies."""


def _progress(enabled: bool, lang: str = "en"):
    """The progress bar on stderr, its words in ``lang`` (:data:`effekt.experiments.cli_lang.MESSAGES`).
    rich is imported only when the bar is shown (about 0.04 s of a run's start-up otherwise: ``-q``,
    a script, a worker)."""
    if not enabled:
        return nullcontext(None)
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    from effekt.experiments.cli_lang import say

    class Rate(ProgressColumn):
        """Replications per second (``unit``: its word in the reader's language)."""

        def __init__(self, unit: str = "rep/s") -> None:
            super().__init__()
            self.unit = unit

        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:,.1f} {self.unit}")

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(say("progress_replications", lang)),
        Rate(say("progress_rate", lang)),
        TimeElapsedColumn(),
        TextColumn(say("progress_eta", lang)),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def _representative(experiment: Experiment) -> int:
    """The design point to time: the one whose world has the median number of people (points of
    a sweep or of drawn priors can differ a hundredfold in size, as kommuner do; the median gives
    most tasks about the target), the first of equals."""
    sizes = [sc.world.size for sc in experiment.scenarios]
    return sorted(range(len(sizes)), key=lambda k: (sizes[k], k))[len(sizes) // 2]


def _bound(experiment: Experiment, workers: int) -> int:
    """The most replications a task may hold: every worker gets about four tasks (so the last
    ones do not leave workers idle for long), and a task never spans two design points."""
    reps = experiment.replications
    return min(reps, math.ceil(reps * len(experiment.points) / (4 * workers)))


def choose_chunk(experiment: Experiment, workers: int, target: float | None = None,
                 run: Callable[[int, int], float | None] | None = None, point: int | None = None) -> int:
    """Replications per task: enough for ``target`` seconds of work (default
    :data:`TASK_SECONDS`), but at most :func:`_bound`. When the bound already says one replication
    per task (``--runs 1``, or a few on many workers), nothing is timed: a replication of a large
    world can take a minute.

    Timed on the design point of median size (:func:`_representative`) by :func:`task_cost`:
    ``run(start, size)`` runs its replications (a batch's own first tasks, stored as results:
    :func:`_first_tasks_timed`); by default the tasks are thrown away. ``point``: the design point
    to time, when the caller has found it already (finding it builds every point's scenario, a
    fifth of a second for the 357 kommuner of a national run)."""
    target = TASK_SECONDS if target is None else target
    bound = _bound(experiment, workers)
    if bound <= 1:
        return 1
    k = _representative(experiment) if point is None else point
    cost = task_cost(experiment.scenarios[k], bound, target, run=run,
                     replications=experiment.replications if run is not None else None)
    return 1 if cost is None else cost.replications_for(target, bound)


@dataclass(frozen=True)
class TaskCost:
    """What a task of a scenario costs in CPU seconds: ``fixed`` once per task (tables built,
    the block's columns, the files' schemas) and ``per_replication`` for each of its replications."""

    fixed: float
    per_replication: float

    def replications_for(self, target: float, most: int) -> int:
        """Replications in a task of about ``target`` seconds: at least one, at most ``most``."""
        return max(1, min(math.ceil((target - self.fixed) / self.per_replication), most))

    @classmethod
    def through(cls, timed: Sequence[tuple[int, float]]) -> TaskCost:
        """The least-squares line through the (replications, seconds) of ``timed`` tasks: a line
        through all of them, not the last two, because the difference of two short timings is
        mostly their noise. The mean per replication of them all, fixed cost and all, when there is
        one task, all of one size, or a line that does not rise with the size (timing noise)."""
        n = len(timed)
        ks = [float(k) for k, _ in timed]
        ts = [t for _, t in timed]
        mean = max(sum(ts) / sum(ks), 1e-4)
        kbar, tbar = sum(ks) / n, sum(ts) / n
        spread = sum((k - kbar) ** 2 for k in ks)
        if spread > 0:
            per = sum((k - kbar) * (t - tbar) for k, t in zip(ks, ts, strict=True)) / spread
            if per > 0:
                return cls(max(tbar - per * kbar, 0.0), max(per, 1e-4))
        return cls(0.0, mean)


TIMING_SECONDS = 0.1
"""CPU seconds :func:`task_cost` spends timing, at most about (after its warm-up)."""


def task_cost(scenario: Scenario, most: int, target: float = TASK_SECONDS,
              run: Callable[[int, int], float | None] | None = None,
              replications: int | None = None) -> TaskCost | None:
    """The CPU time of a task of ``scenario`` as a task runs (:func:`effekt.experiments.runner.run_job`:
    replications simulated one by one, evaluated as a block, the collector paused), or None when
    the warm-up alone takes ``target`` or more (one replication per task then: a large world is
    not simulated again to time it).

    First one untimed replication (the first in a process pays for imports and caches; forked
    worker processes inherit them), then tasks of 2, 4, 8 ... replications, a straight line
    through their times (:meth:`TaskCost.through`: the fixed cost per task and the cost per
    replication), until about :data:`TIMING_SECONDS` of CPU time, or fewer once the line (or, after
    one task, the mean with its fixed cost, an overestimate) says a task of ``most`` replications
    (the bound on a task) is within ``target``: the answer then is the bound, which more timing
    would change only if the cost per replication rose. Timed by
    tasks, not by single replications: a replication evaluated alone costs several times its share
    of a task (issue 14: 11 against 2.5 ms for the default; a task's fixed cost is about 9 ms),
    which had made every task a fourth of the intended length. In CPU time: the machine may be
    shared, and wall time would count the other processes.

    ``run(start, size)`` runs replications ``start .. start + size - 1`` as a task (by default
    thrown away: :func:`_timed_task`) and may return the CPU seconds that took (what it does
    besides, such as storing the task, is then not counted); ``replications``: how many there are
    (the timing stops at the last; by default there is no last, since thrown-away replications are
    only timed). No timed task holds more than ``most`` replications."""
    run = run or (lambda start, size: _timed_task(scenario, start, size))
    last = math.inf if replications is None else replications

    def timed(start: int, size: int) -> float:
        began = time.process_time()
        seconds = run(start, size)
        return time.process_time() - began if seconds is None else seconds

    if timed(0, 1) >= target:
        return None
    first, size, spent, tasks = 1, 2, 0.0, []
    while first < last:
        size = int(min(size, most, last - first))
        seconds = timed(first, size)
        tasks.append((size, seconds))
        spent += seconds
        first += size
        cost = TaskCost.through(tasks)
        if cost.fixed + most * cost.per_replication <= target or spent >= TIMING_SECONDS or size >= most:
            return cost  # (the last: a task of the bound was timed, the next could be no larger)
        size *= 2
    return TaskCost.through(tasks) if tasks else None


def _timed_task(scenario: Scenario, start: int, size: int) -> None:
    """Replications ``start`` .. ``start + size - 1`` of ``scenario`` run as a task runs them; the
    results are thrown away (their replication numbers may lie beyond the batch's: they are only
    timed)."""
    with collector_paused():
        run_task(scenario, Task(point=0, start=start, stop=start + size))


def _check_not_fewer(store: ResultStore, old: dict, reps: int) -> None:
    """Asking for fewer replications than a directory holds would leave extra rows in every
    summary: refuse, and say how to go on."""
    files = (store.out / "runs").glob("point=*/*.parquet")
    had = max((parse_task(p.stem).stop for p in files), default=0)
    had = max(had, int(old.get("replications", 0) or 0))
    if reps < had:
        raise ResultsDirError(said(
            f"{store.out} holds (or was started with) {had} replications per design point of this "
            f"experiment; asked for {reps}. Rerun with --runs {had} or more (more extends the "
            "results), choose another --out, or pass --overwrite to start again",
            f"{store.out} inneholder (eller ble startet med) {had} replikasjoner per designpunkt av dette "
            f"eksperimentet; du ba om {reps}. Kjør på nytt med --runs {had} eller flere (flere utvider "
            "resultatene), velg en annen --out, eller gi --overwrite for å begynne på nytt"))


def as_experiment(scenario: Scenario | Experiment) -> Experiment:
    if isinstance(scenario, Experiment):
        return scenario
    return Experiment(base=scenario, points=[{}], scenarios=[scenario])


def run_batch(
    scenario: Scenario | Experiment,
    out: str | Path,
    executor: Executor | None = None,
    chunk: int | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    command: str = "",
    tables: Sequence[str] = (),
    task_fn: Callable[[Job], dict] = run_job,
    lang: str = "en",
    prefetch: Sequence[str] = (),
) -> ResultStore:
    """Run all replications of every design point of ``scenario`` into ``out``; resumes what an
    earlier run of the same experiment left undone (``chunk`` is then the earlier run's).

    ``chunk``: replications per task (default: about :data:`TASK_SECONDS` of work, timed on the
    first tasks of the design point of median size, which this process runs and stores as results
    before the others start: :func:`_first_tasks_timed`).
    ``tables``: record tables to store besides ``runs`` and ``cashflows`` (persons, events, spells).
    ``progress``: a progress bar on stderr (default: when stderr is a terminal).
    ``task_fn``: what runs one :class:`Job` (a seam for benchmarks of the machinery itself).
    ``lang``: the language of the progress bar's words (``nb`` or ``en``).
    ``prefetch``: modules the caller imports once the batch is done (``effekt run``: its
    summary's), imported in a thread of this process while the tasks run elsewhere: on local
    worker processes once they are all forked, or on a Dask cluster (:func:`effekt.lazy.prefetch`;
    not when the tasks run in this process, nor when none is left to run). The batch waits for the
    thread before it returns (or raises), so no later fork meets it.
    """
    exp = as_experiment(scenario)
    executor = executor or SerialExecutor()
    unknown = sorted(set(tables) - set(RECORD_TABLES))
    if unknown:
        raise ValueError(f"tables: unknown {unknown}; choose from {', '.join(RECORD_TABLES)}")
    tables = tuple(t for t in RECORD_TABLES if t in tables)
    reps = exp.replications
    store = ResultStore(out)
    base = exp.base
    manifest = {
        "scenario": base.resolved,
        "scenario_source": str(Path(base.source).resolve()),
        "scenario_hash": base.hash,
        "experiment_hash": exp.hash,
        "points": exp.points,
        "parameters": exp.parameters,
        "root_seed": base.design.seed,
        "replications": reps,
        "chunk": chunk,
        "tables": list(tables),
        "effekt_version": version("effekt"),
        "python": sys.version.split()[0],
        "provenance": provenance(base),
        "executor": executor.name,
        "command": command,
        "started": now(),
    }
    old = store.read_manifest()
    same = old is not None and not overwrite and not store.mismatch(old, manifest)
    if same and old.get("chunk"):
        chunk = int(old["chunk"])  # resuming: the same chunk (what is missing is planned afresh)
    manifest["chunk"] = chunk  # None until the first tasks are timed (_run_locked)
    if same:
        _check_not_fewer(store, old, reps)
    done = store.open(manifest, overwrite=overwrite)  # holds the directory's lock until close()
    try:
        _run_locked(store, exp, done, chunk, tables, executor, progress, task_fn, lang, prefetch)
    finally:
        store.close()
    return store


def _run_locked(store: ResultStore, exp: Experiment, done: set[str], chunk: int, tables: tuple[str, ...],
                executor: Executor, progress: bool | None, task_fn, lang: str = "en",
                prefetch: Sequence[str] = ()) -> None:
    """The tasks not done yet, run on ``executor`` and written to ``store`` (which holds the lock)."""
    reps, npoints, base = exp.replications, len(exp.points), exp.base
    fields = param_fields(exp.points)
    # once: the hash serialises every design point, and a job per task each doing so made the
    # batch's own process quadratic in the points (a 9 600-point sweep: 42 ms a task, 400 s)
    experiment_hash = exp.hash

    def job_of(t: Task) -> Job:
        return Job(task=t, scenario=exp.scenarios[t.point], params=exp.points[t.point],
                   param_fields=fields, tables=tables, experiment=experiment_hash)

    if progress is None:
        progress = sys.stderr.isatty()
    total = reps * npoints
    with _progress(progress, lang) as bar:
        handle = None
        if bar is not None:
            from effekt.experiments.cli_lang import say

            label = base.info.name + (f" ({say('progress_points', lang, n=npoints)})" if exp.is_sweep else "")
            covered = sum(parse_task(name).size for name in done)
            handle = bar.add_task(label, total=total, completed=covered)

        def first(t: Task) -> tuple[dict, float]:
            """A task run in this process (the first ones, timed to size the rest): its tables
            and its CPU seconds."""
            began = time.process_time()
            result = run_here(executor, task_fn, job_of(t))
            seconds = time.process_time() - began
            if bar is not None:
                bar.advance(handle, t.size)
            return result, seconds

        if chunk is None:
            chunk = _first_tasks_timed(store, exp, done, executor.workers, first)
        done_tasks = [parse_task(name) for name in done]
        todo = tapered([t for k in range(npoints) for t in plan_tasks(reps, chunk, k, done_tasks)], chunk,
                       executor.workers)
        store.set_tasks_total(len(done) + len(todo))

        def jobs() -> Iterator[Job]:
            for t in todo:
                yield job_of(t)

        # every local worker is forked here, before any thread of this batch but the bar's starts
        # (the prefetching thread, the writers): a process forked beside a thread holding a lock
        # keeps it held for ever (ProcessExecutor.start_workers)
        start_workers = getattr(executor, "start_workers", None)
        forked = False  # every worker of this batch forked: threads may start (or none will fork: Dask)
        if start_workers is not None and todo:
            if bar is None:
                start_workers()
            else:
                # its redrawing thread ended while the workers fork: stop() only asks it to end, so
                # it is waited for (rich keeps it in live._refresh_thread)
                redrawing = getattr(getattr(bar, "live", None), "_refresh_thread", None)
                bar.stop()
                if redrawing is not None:
                    redrawing.join()
                try:
                    start_workers()
                finally:
                    bar.start()
            forked = True
        # the prefetching thread only where no fork follows (see effekt.lazy.prefetch): ended with
        # the batch, so that no later fork in this process (another batch) meets it
        ahead = (lazy.prefetch(prefetch) if prefetch and todo and (forked or executor.name == "dask")
                 else None)
        # where the tasks run elsewhere, they encode their files and this process writes them on
        # threads; in this process, threads would take turns with the simulation for the
        # interpreter's lock (effekt.experiments.writer)
        here = executor.name == "serial"
        try:
            with TaskWriter(store, threads=0 if here else None) as writer:
                for job, result in executor.map_unordered(task_fn if here else EncodedTask(task_fn), jobs()):
                    writer.write(job.task.point, job.task.name, result)
                    if bar is not None:
                        bar.advance(handle, job.task.size)
        finally:
            if ahead is not None:
                ahead.join()
    store.finish()


def _first_tasks_timed(store: ResultStore, exp: Experiment, done: set[str], workers: int,
                       run: Callable[[Task], tuple[dict, float]]) -> int:
    """The chunk of a batch (replications per task, :func:`choose_chunk`'s rule), timed on the
    first tasks of the design point of median size, run here (``run``: what a worker would do,
    giving the tables and their CPU seconds, the writing not counted) and stored as results
    (added to ``done``): the replications timed are the batch's own, so none is simulated twice,
    and a large world's first replication, if it alone is over the target, is simply its first
    task. Local worker processes forked afterwards inherit the caches the first replication filled
    (Dask's workers and the app's warm pool fill their own). A batch stopped while its first tasks
    are timed has no chunk in its manifest; resumed, it times again by tasks thrown away
    (:func:`choose_chunk`), since some of the replications are stored already."""
    k = _representative(exp)
    if any(parse_task(name).point == k for name in done):
        chunk = choose_chunk(exp, workers, point=k)
    else:
        def timed(start: int, size: int) -> float:
            task = Task(point=k, start=start, stop=start + size)
            tables, seconds = run(task)
            store.write_task(k, task.name, tables)  # not timed: a worker's task does not write
            done.add(task.name)
            return seconds

        chunk = choose_chunk(exp, workers, run=timed, point=k)
    store.set_chunk(chunk)
    return chunk


__all__ = ["Task", "TaskCost", "as_experiment", "choose_chunk", "run_batch", "task_cost"]
