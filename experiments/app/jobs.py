"""Runs started from the page: each in its own results directory (so two browser tabs never mix
their results), on one pool of local worker processes kept for the server's life (a warm pool: the
answer to a changed input does not wait for workers to start), with progress and a cancel that
stops between tasks and keeps what is stored (the directory resumes like any stopped
``effekt run``)."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import tomllib
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from effekt.experiments.app import form as forms
from effekt.experiments.app.results import summarise
from effekt.experiments.batch import run_batch
from effekt.experiments.executors import Executor, ProcessExecutor, SerialExecutor, make_executor
from effekt.experiments.scenario import Experiment
from effekt.experiments.workload import check_workload, estimate
from effekt.specfile import Said, SpecError, problem_text, said

MAX_RUNS = 40
"""Runs the server remembers; older finished ones are forgotten and their directories kept (the
page lists them from the disk, :meth:`RunManager.history`, and deletes one when asked)."""

RUN_ID = re.compile(r"^[0-9a-f]{10}$")
"""A run's id (and its folder's name under the root): ten hex digits, nothing a path could hide in."""

PROVISIONAL_EVERY = 0.75
"""Seconds between two provisional summaries of a running run (each reads the finished tasks)."""

FORCE = re.compile(r",? or pass --force to run anyway")
"""The command line's way past the memory check; the page offers a confirm button instead."""
FORCE_NB = re.compile(r",? eller gi --force for å kjøre likevel")
"""The same words in the check's bokmål wording."""


def _without_force(problem: str) -> str:
    """``problem`` without the command line's ``--force`` advice, in both languages."""
    en = FORCE.sub("", problem)
    return said(en, FORCE_NB.sub("", problem.nb)) if isinstance(problem, Said) else en


class Cancelled(Exception):
    """The user pressed cancel: the tasks finished so far are stored, the rest never started."""


@dataclass
class Run:
    """One run of the page: its form, where it is written, how far it got and what it gave."""

    id: str
    form: dict[str, Any]
    lang: str
    folder: Path
    experiment: Experiment
    toml: str
    status: str = "running"  # running, done, cancelled, failed
    done: int = 0
    total: int = 0
    error: str = ""
    result: dict[str, Any] | None = None
    titles: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    summarised_at: float = 0.0
    summarised_k: int = 0
    summary_lock: threading.Lock = field(default_factory=threading.Lock)
    seconds: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def out(self) -> Path:
        """The results directory (``effekt summary`` / ``report`` / ``export`` read it)."""
        return self.folder / "results"

    @property
    def scenario_file(self) -> Path:
        return self.folder / "scenario.toml"

    def state(self) -> dict[str, Any]:
        """What the page polls: status, progress and, when done, the results."""
        return {"id": self.id, "status": self.status, "done": self.done, "total": self.total,
                "error": self.error, "seconds": self.seconds, "result": self.result,
                "out": str(self.out), "scenario": str(self.scenario_file)}


class _Watched:
    """An executor seen through a run: counts finished replications and, once cancel is pressed,
    submits no more tasks, lets those in flight finish (they are stored) and raises
    :class:`Cancelled` - so the shared pool is never torn down under another tab's run."""

    def __init__(self, inner: Executor, run: Run):
        self.inner, self.run = inner, run
        self.name, self.workers = inner.name, inner.workers

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        def gated() -> Iterator[Any]:
            for item in items:
                if self.run.cancel.is_set():
                    return
                yield item

        for item, result in self.inner.map_unordered(fn, gated()):
            self.run.done += item.task.size
            yield item, result
        if self.run.cancel.is_set():
            raise Cancelled

    def run_here(self, fn: Callable[[Any], Any], item: Any) -> Any:
        """A task run in the server's thread (a batch's first tasks, timed to size the rest):
        counted like the others, and not started once cancel is pressed."""
        if self.run.cancel.is_set():
            raise Cancelled
        result = fn(item)
        self.run.done += item.task.size
        return result

    def close(self) -> None:  # the pool is the manager's
        pass


class RunManager:
    """The server's runs, by id. ``root``: the folder each run's directory goes under."""

    def __init__(self, root: str | Path, workers: int | None = 2, series_runs: int | None = None,
                 dask: str | None = None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.series_runs = series_runs
        self.dask = dask
        self.executor: Executor
        if dask:  # a Dask cluster (an address, or "local"): the same tasks, the same results
            self.executor = make_executor(workers, dask)
        elif workers == 1:
            self.executor = SerialExecutor()
        else:
            self.executor = ProcessExecutor(workers).__enter__()
        self.runs: dict[str, Run] = {}
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Start the worker processes and import the model in them (the first answer is then as
        quick as the next)."""
        list(self.executor.map_unordered(_import_model, range(self.executor.workers)))

    def start(self, form: Mapping[str, Any], lang: str = "nb",
              force: bool = False) -> tuple[Run | None, forms.Checked]:
        """Validate ``form`` and, when valid, start its run in a thread of its own. A run that would
        not fit in memory is refused with ``checked.confirm`` set (the page asks, then sends
        ``force``: the command line's ``--force``)."""
        rid = uuid.uuid4().hex[:10]
        folder = self.root / rid
        checked = forms.check(form, folder, lang)
        if not checked.ok:
            shutil.rmtree(folder, ignore_errors=True)
            return None, checked
        exp = checked.experiment
        if not self.dask and not force:  # as effekt run: refused before anything runs when it would not fit
            try:
                check_workload(estimate(exp, cpu=False), self.executor.workers, exp.base.source)
            except SpecError as err:
                shutil.rmtree(folder, ignore_errors=True)
                checked.errors = {forms.GENERAL: [problem_text(_without_force(p), lang)
                                                  for p in err.problems]}
                checked.experiment = None
                checked.confirm = True
                return None, checked
        run = Run(id=rid, form=dict(form), lang=lang, folder=folder, experiment=exp, toml=checked.toml,
                  total=exp.replications * len(exp.points), titles=checked.titles)
        with self._lock:
            self.runs[rid] = run
            self._forget()
        run.thread = threading.Thread(target=self._work, args=(run,), name=f"effekt-app-{rid}", daemon=True)
        run.thread.start()
        return run, checked

    def _forget(self) -> None:
        finished = [r for r in self.runs.values() if r.status != "running"]
        for r in finished[: max(0, len(self.runs) - MAX_RUNS)]:
            self.runs.pop(r.id, None)

    def _work(self, run: Run) -> None:
        try:
            run_batch(run.experiment, run.out, executor=_Watched(self.executor, run), progress=False,
                      command=f"effekt app (run {run.id}); the same: effekt run {run.scenario_file}")
            kwargs = {} if self.series_runs is None else {"series_runs": self.series_runs}
            with run.summary_lock:
                run.result = summarise(run.out, run.experiment.base, run.lang, total=run.total,
                                       title=run.titles.get(run.lang), **kwargs)
                run.status = "done"
        except Cancelled:
            run.status = "cancelled"
        except Exception as err:  # the server stays up; the page shows what went wrong
            run.status = "failed"
            run.error = f"{type(err).__name__}: {err}"
            traceback.print_exc()
        finally:
            run.seconds = time.monotonic() - run.started

    def get(self, rid: str) -> Run | None:
        return self.runs.get(rid)

    def provisional(self, run: Run, every: float = PROVISIONAL_EVERY) -> dict[str, Any] | None:
        """The results of a running run so far: the key numbers, budgets, investor and driver over
        the replications of the tasks finished (``provisional``, ``k`` of ``n``; no in-work series:
        that re-simulation is done once, at the end). Recomputed at most every ``every`` seconds and
        only when more replications have finished; None before the first task is stored."""
        if run.status != "running" or not run.summary_lock.acquire(blocking=False):
            return run.result
        try:
            if run.status != "running" or run.done <= run.summarised_k or \
                    time.monotonic() - run.summarised_at < every:
                return run.result
            done = run.done
            try:
                result = summarise(run.out, run.experiment.base, run.lang, series_runs=0, total=run.total,
                                   title=run.titles.get(run.lang))
            except (FileNotFoundError, KeyError, ValueError, OSError):  # nothing stored yet, a file moving
                return run.result
            result["provisional"] = True  # until _work's final summary, whatever k is
            run.result, run.summarised_at = result, time.monotonic()
            run.summarised_k = min(done, result["replications"])  # stored may lag behind counted
            return result
        finally:
            run.summary_lock.release()

    def history(self, lang: str = "nb") -> list[dict[str, Any]]:
        """The run folders under the root, newest first, with their inputs (the variant's title,
        cohort sizes, replications, seed) and whether they finished: the page lists them so old
        runs can be found and deleted."""
        rows = []
        for folder in self.root.iterdir() if self.root.is_dir() else []:
            if not (folder.is_dir() and RUN_ID.match(folder.name) and (folder / "scenario.toml").is_file()):
                continue
            row: dict[str, Any] = {"id": folder.name, "folder": str(folder),
                                   "started": time.strftime("%Y-%m-%d %H:%M", time.localtime(
                                       (folder / "scenario.toml").stat().st_mtime)),
                                   "mtime": (folder / "scenario.toml").stat().st_mtime}
            try:
                data = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = {}
            info = data.get("scenario", {})
            row["title"] = (info.get("title_nb") if lang == "nb" else None) or info.get("title") \
                or folder.name
            cohorts = data.get("world", {}).get("cohorts", [])
            row["sizes"] = [c.get("size") for c in cohorts if isinstance(c, dict)]
            row["replications"] = data.get("design", {}).get("replications")
            row["seed"] = data.get("design", {}).get("seed")
            manifest = folder / "results" / "manifest.json"
            try:
                finished = json.loads(manifest.read_text(encoding="utf-8")).get("finished")
            except (OSError, ValueError):
                finished = None
            live = self.runs.get(folder.name)
            row["status"] = live.status if live is not None else ("done" if finished else "unfinished")
            rows.append(row)
        return sorted(rows, key=lambda r: -r["mtime"])

    def delete(self, rid: str) -> Path:
        """Delete run ``rid``'s folder (the page asked the user first). Only a run folder directly
        under the root (ten hex digits, holding the page's scenario.toml) and never a run still
        going: ValueError otherwise, and nothing is touched."""
        if not isinstance(rid, str) or not RUN_ID.match(rid):
            raise ValueError(said(f"'{rid}' is not a run id (ten hex digits)",
                                  f"'{rid}' er ikke en kjørings-id (ti heksadesimale sifre)"))
        folder = (self.root / rid).resolve()
        if folder.parent != self.root.resolve() or not (folder / "scenario.toml").is_file() \
                or folder.is_symlink():
            raise ValueError(said(f"no run folder {rid} under {self.root}",
                                  f"ingen kjøringsmappe {rid} under {self.root}"))
        live = self.runs.get(rid)
        if live is not None and live.status == "running":
            raise ValueError(said(f"run {rid} is still running: cancel it first",
                                  f"kjøringen {rid} går fortsatt: avbryt den først"))
        shutil.rmtree(folder)
        self.runs.pop(rid, None)
        return folder

    def close(self) -> None:
        for run in list(self.runs.values()):
            run.cancel.set()
        for run in list(self.runs.values()):
            if run.thread is not None:
                run.thread.join(timeout=30)
        self.executor.close()


def _import_model(_: int) -> int:
    """In a worker: import what a task needs."""
    import effekt.experiments.runner  # noqa: F401

    return 0


__all__ = ["Cancelled", "MAX_RUNS", "Run", "RunManager"]
