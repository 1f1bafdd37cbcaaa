"""The results directory: Parquet datasets hive-partitioned by design point, a manifest, and resume.

Layout::

    OUT/manifest.json                          scenario as resolved, hashes, seed, version, command,
                                               start/end, tasks done
    OUT/runs/point=K/<task>.parquet            one row per replication: parameters and KPIs
    OUT/cashflows/point=K/<task>.parquet       party x month cashflows per replication
    OUT/budgets/point=K/<task>.parquet         every party's flows by arm x year x item per
                                               replication, nominal and discounted
    OUT/persons|events|spells/point=K/...      opt-in record tables of the simulation

Each task's files are written under a temporary name (``.<name>.tmp``, which readers skip) and
renamed, ``runs`` last, so a killed batch never leaves a half-written file and a task counts as
done exactly when its ``runs`` file and all its other files exist. The datasets are readable by
pandas, pyarrow, DuckDB and polars without effekt. Every KPI column of ``runs`` carries its
declaration (unit, kind, arm, party, party_kind, measure, outcome, label_nb, label_en,
higher_is_better) as Parquet field metadata; :func:`read_kpis` reads it back. :func:`read_table`
reads one dataset in a row order that does not depend on how the work was split into tasks, so two
results directories of the same scenario and seed compare equal frame for frame.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from effekt.contracts import Kpi, KpiRegistry
from effekt.experiments.provenance import differences, differences_nb
from effekt.specfile import said

DATASETS = ("runs", "cashflows", "budgets")
"""Always written; ``persons``, ``events`` and ``spells`` are added on request."""

RECORD_DATASETS = ("persons", "events", "spells")
"""The opt-in record tables (``--tables``)."""

FORMAT = "effekt-results/1"
"""The manifest's ``format`` marker: only a directory whose manifest says it is effekt's is ever
replaced (manifests of effekt before the marker are known by their own keys: see
:func:`is_effekt_manifest`)."""

LOCK_NAME = ".effekt.lock"
"""The lock file inside a results directory: an OS lock (``flock``) on it is held while a batch
writes there, so a second batch into the same directory is refused instead of mixing its rows in."""

REJECTED = ".rejected"
"""Where a resume moves task files that do not belong to the experiment (empty, unreadable, or
written by another experiment): kept, never deleted, and skipped by Parquet readers (a leading dot)."""

OURS = {"manifest.json", LOCK_NAME, REJECTED, ".manifest.json.tmp", "report.html",
        *DATASETS, *RECORD_DATASETS}
"""What effekt itself writes at the top of a results directory (``report.html`` is ``effekt
report``'s default output). ``--overwrite`` deletes these, and refuses a directory holding
anything else."""

_LEGACY_KEYS = ("experiment_hash", "effekt_version", "root_seed", "scenario", "replications")


def is_effekt_manifest(manifest: dict[str, Any]) -> bool:
    """Whether a manifest is effekt's: it carries the :data:`FORMAT` marker, or (written by an
    effekt before the marker) every key such a manifest always had."""
    if manifest.get("format") == FORMAT:
        return True
    return all(k in manifest for k in _LEGACY_KEYS) and isinstance(manifest.get("scenario"), dict)


class ResultsDirError(RuntimeError):
    """The output directory holds something we must not overwrite."""


def _remove(path: Path) -> None:
    """Delete a file or directory so that a kill midway leaves either all of it or nothing at
    ``path``: rename it out of the way first (atomic), then delete the renamed copy."""
    trash = path.with_name(f".{path.name}.deleting-{os.getpid()}")
    os.replace(path, trash)
    if trash.is_dir() and not trash.is_symlink():
        shutil.rmtree(trash)
    else:
        trash.unlink()


def parquet_options(schema: pa.Schema) -> dict[str, list[str]]:
    """How a task's Parquet files are encoded: dictionary pages for the text columns (party, item,
    arm, stage: a handful of values each), plain pages for numbers; min/max statistics for the
    whole-number, yes/no and text columns (replication, month, year, party: what a reader filters
    on), none for the money and KPI columns, whose ranges prune nothing. The values stored are
    the same as with pyarrow's defaults (dictionary pages and statistics everywhere), and the
    files are about as large (most a little smaller); the writing process, which writes every
    worker's tasks, spends about half as long on a task (24 -> 13 ms for 600 replications of the
    default, issue 14)."""
    text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    filtered = [f.name for f in schema if f.name in text or pa.types.is_integer(f.type)
                or pa.types.is_boolean(f.type)]
    return {"use_dictionary": text, "write_statistics": filtered}


def encoded_file(table: pa.Table, experiment: str) -> bytes:
    """The bytes of the Parquet file :meth:`ResultStore.write_task` writes for ``table`` in an
    experiment of hash ``experiment``: the ``point`` column left out (it is in the folder's
    name), the experiment named in the schema's metadata (so a resume tells its own files from
    anything else), encoded as :func:`parquet_options` says. Made where a task ran (a worker), the
    file's bytes travel instead of its table, and the batch's own process only puts them on disk
    (:class:`effekt.experiments.writer.EncodedTask`)."""
    if "point" in table.column_names:  # it is in the partition path (hive style)
        table = table.drop_columns(["point"])
    meta = {**(table.schema.metadata or {}), b"effekt.experiment": str(experiment).encode()}
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(meta), sink, **parquet_options(table.schema))
    return sink.getvalue().to_pybytes()


def _write_bytes(path: Path, data: bytes) -> None:
    """``data`` as the file ``path``, synced to disk."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_failed(path: Path, err: OSError) -> str:
    """What to say when a results file cannot be written: a full disk (ENOSPC, EDQUOT) or another
    system error, and that what was stored is kept (a rerun resumes)."""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        why = "the disk is full: free space there or choose another --out"
        why_nb = "disken er full: frigjør plass der eller velg en annen --out"
    else:
        why = why_nb = f"{err.strerror or err}"
    return said(f"{path}: cannot be written ({why}); the replications stored so far are kept: run the same "
                "command again to resume",
                f"{path}: kan ikke skrives ({why_nb}); replikasjonene som er lagret så langt, beholdes: kjør "
                "den samme kommandoen på nytt for å fortsette")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ResultStore:
    """One results directory. ``open`` it for an experiment, ``write_task`` as tasks finish,
    ``finish`` at the end."""

    def __init__(self, out: str | Path):
        self.out = Path(out).resolve()
        self.datasets: tuple[str, ...] = DATASETS
        self._manifest: dict[str, Any] = {}
        self._done: set[str] = set()
        self._last_save = 0.0
        self._made: set[Path] = set()  # the dataset folders made so far (one mkdir each, not one a file)
        self._lock: int | None = None  # the lock file's descriptor while this store holds it
        # tasks are written from several threads at once (effekt.experiments.writer): the set of
        # tasks done and the manifest's saves are changed under this lock
        self._saving = threading.RLock()

    @property
    def manifest_path(self) -> Path:
        return self.out / "manifest.json"

    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest on disk, or None if there is none. One that is not a JSON object (edited
        by hand, or not effekt's) is a :class:`ResultsDirError` naming the file."""
        if not self.manifest_path.exists():
            return None
        if not self.manifest_path.is_file():
            raise ResultsDirError(said(f"{self.manifest_path} is not a file (a directory or a special file); "
                                       "it is not an effekt manifest: choose another --out",
                                       f"{self.manifest_path} er ikke en fil (en mappe eller en spesialfil); "
                                       "det er ikke et effekt-manifest: velg en annen --out"))
        try:
            manifest = json.loads(self.manifest_path.read_text())
        except OSError as err:
            raise ResultsDirError(said(f"{self.manifest_path} cannot be read ({err.strerror or err}); choose "
                                       "another --out",
                                       f"{self.manifest_path} kan ikke leses ({err.strerror or err}); velg "
                                       "en annen --out")) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ResultsDirError(said(
                f"{self.manifest_path} is not valid JSON ({err}); it is not an effekt manifest, or "
                "it was edited by hand: choose another --out, or delete the directory yourself",
                f"{self.manifest_path} er ikke gyldig JSON ({err}); det er ikke et effekt-manifest, eller "
                "det er endret for hånd: velg en annen --out, eller slett mappen selv")) from None
        if not isinstance(manifest, dict):
            raise ResultsDirError(said(f"{self.manifest_path} is not an effekt manifest (a JSON "
                                       f"{type(manifest).__name__}, not an object); choose another --out",
                                       f"{self.manifest_path} er ikke et effekt-manifest (en JSON-"
                                       f"{type(manifest).__name__}, ikke et objekt); velg en annen --out"))
        return manifest

    def lock(self, command: str = "") -> None:
        """Hold the directory's OS lock (:data:`LOCK_NAME`) until :meth:`close`: a second batch
        into the same directory, at the same time, is refused with a message naming the process
        that holds it. The kernel releases the lock when the holder dies (kill -9 included), so a
        crashed batch never leaves the directory locked. The lock file itself stays (deleting it
        would let two processes lock two different files)."""
        if self._lock is not None:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise ResultsDirError(said(
                f"{self.out} is in use by another effekt batch ({holder}): two batches writing into "
                "one results directory would mix their rows. Wait until it has finished (then run "
                "the same command again to resume), or choose another --out",
                f"{self.out} brukes av en annen effekt-kjøring ({holder}): to kjøringer som skriver til "
                "én resultatmappe, ville blande radene sine. Vent til den er ferdig (kjør så den samme "
                "kommandoen på nytt for å fortsette), eller velg en annen --out")) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {now()}, {command or 'effekt'}\n".encode(), 0)
        self._lock = fd

    def close(self) -> None:
        """Release the lock (see :meth:`lock`); the results stay as they are."""
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            os.close(self._lock)
            self._lock = None

    def _foreign_entries(self, manifest: dict[str, Any]) -> list[str]:
        """What in the directory effekt did not write: entries at the top other than
        :data:`OURS` (and effekt's own temporary names), and inside the datasets anything other
        than ``point=K`` folders of Parquet files."""
        foreign = []
        for entry in sorted(self.out.iterdir()):
            name = entry.name
            if name.startswith(".") and (".deleting-" in name or name.endswith(".tmp")):
                continue
            if name not in OURS:
                foreign.append(name + ("/" if entry.is_dir() else ""))
                continue
            if name in (*DATASETS, *RECORD_DATASETS) and entry.is_dir():
                for part in entry.iterdir():
                    if not (part.is_dir() and part.name.startswith("point=")):
                        foreign.append(f"{name}/{part.name}")
                        continue
                    foreign += [f"{name}/{part.name}/{f.name}" for f in part.iterdir()
                                if f.is_dir() or not (f.suffix == ".parquet" or f.name.endswith(".tmp"))]
        return foreign

    def _clear(self, old: dict[str, Any]) -> None:
        """``--overwrite``: delete what effekt wrote here, nothing else. Refused (naming what is
        in the way) when the manifest is not effekt's or the directory holds anything effekt did
        not write; the directory itself and its lock stay."""
        self._check_removable()
        if not is_effekt_manifest(old):
            raise ResultsDirError(said(
                f"{self.manifest_path} is not an effekt manifest (no format marker '{FORMAT}' and not "
                "the keys an earlier effekt wrote): --overwrite only replaces effekt results; choose "
                "another --out, or delete the directory yourself",
                f"{self.manifest_path} er ikke et effekt-manifest (ingen formatmerke '{FORMAT}' og ikke "
                "nøklene en tidligere effekt skrev): --overwrite erstatter bare effekt-resultater; velg "
                "en annen --out, eller slett mappen selv"))
        foreign = self._foreign_entries(old)
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            shown_nb = ", ".join(foreign[:5]) + (f" og {len(foreign) - 5} til" if len(foreign) > 5 else "")
            raise ResultsDirError(said(
                f"{self.out} holds files effekt did not write ({shown}); replacing the results would "
                "delete them. Move them out of the directory, or choose another --out",
                f"{self.out} inneholder filer effekt ikke skrev ({shown_nb}); å erstatte resultatene ville "
                "slette dem. Flytt dem ut av mappen, eller velg en annen --out"))
        for entry in sorted(self.out.iterdir()):
            if entry.name in OURS and entry.name != LOCK_NAME:
                _remove(entry)

    def _check_removable(self) -> None:
        """--overwrite deletes ``out``: refuse when that is the working directory or holds it."""
        cwd = Path.cwd().resolve()
        if self.out == cwd or self.out in cwd.parents:
            raise ResultsDirError(said(f"{self.out} is the working directory or holds it; --overwrite "
                                       "would delete it: choose another --out (e.g. a subdirectory)",
                                       f"{self.out} er arbeidsmappen eller inneholder den; --overwrite "
                                       "ville slette den: velg en annen --out (f.eks. en undermappe)"))

    def open(self, manifest: dict[str, Any], overwrite: bool = False) -> set[str]:
        """Prepare the directory for an experiment; returns the names of tasks already done.

        A directory holding another experiment (another scenario, design, seed or set of tables)
        is refused unless ``overwrite``; a non-empty directory without a ``manifest.json`` is
        always refused (``overwrite`` only ever deletes effekt results directories). When resuming,
        the tasks done are kept and the files of any task not done are set aside
        (:meth:`_set_aside_unfinished`): the rest is planned afresh from what is missing.
        """
        if self.out.is_file():
            raise ResultsDirError(said(f"{self.out} is a file, not a directory; choose another --out",
                                       f"{self.out} er en fil, ikke en mappe; velg en annen --out"))
        if (self.out.exists() and not self.manifest_path.exists()
                and any(p.name != LOCK_NAME for p in self.out.iterdir())):
            # never deleted, not even with --overwrite: it may be anything (a thesis, a home directory)
            raise ResultsDirError(said(
                f"{self.out} exists, is not empty and is not an effekt results directory (no "
                "manifest.json); choose another --out (--overwrite only replaces effekt results)",
                f"{self.out} finnes, er ikke tom og er ikke en resultatmappe fra effekt (ingen "
                "manifest.json); velg en annen --out (--overwrite erstatter bare effekt-resultater)"))
        self.lock(str(manifest.get("command", "")))
        try:
            return self._open_locked(manifest, overwrite)
        except BaseException:
            self.close()
            raise

    def _open_locked(self, manifest: dict[str, Any], overwrite: bool) -> set[str]:
        self._made.clear()  # what an earlier open made may be cleared below
        old = self.read_manifest()
        if old is not None:
            problem = self.mismatch(old, manifest)
            if problem and not overwrite:
                raise ResultsDirError(said(
                    f"{self.out} holds results of {problem}; choose another --out, or pass "
                    "--overwrite to delete them and start again",
                    f"{self.out} inneholder resultater av {getattr(problem, 'nb', problem)}; velg en "
                    "annen --out, eller gi "
                    "--overwrite for å slette dem og begynne på nytt"))
            if problem or overwrite:  # --overwrite always starts again
                self._clear(old)
                old = None
        self.datasets = (*DATASETS, *manifest.get("tables", ()))
        for stale in self.out.glob("*/point=*/.*.tmp"):
            stale.unlink()
        if old is not None:
            manifest["started"] = old.get("started", manifest.get("started"))
            manifest["resumed"] = [*old.get("resumed", []), now()]
        self._manifest = {**manifest, "format": FORMAT}
        done = self._verified(self.done_tasks()) if old is not None else self.done_tasks()
        if old is not None:
            self._set_aside_unfinished(done)
        self._done = set(done)
        self._manifest = {**self._manifest, "tasks_done": sorted(done), "finished": None}
        self.write_manifest(self._manifest)
        return done

    def _verified(self, tasks: set[str]) -> set[str]:
        """The tasks on disk that belong to this experiment: every one of a task's files is a
        readable Parquet file with rows whose metadata names this experiment (files written by an
        effekt before the name was stored are taken by their rows alone). A task that fails is not
        done: its files are moved to :data:`REJECTED` (kept, not deleted) and it runs again."""
        want = self._manifest.get("experiment_hash", "")
        good = set()
        for task in sorted(tasks):
            paths = list(self.out.glob(f"*/point=*/{task}.parquet"))
            ok = True
            for path in paths:
                try:
                    meta = pq.read_metadata(path)
                except (OSError, pa.ArrowException):
                    ok = False
                    break
                mine = (meta.metadata or {}).get(b"effekt.experiment")
                if path.parent.parent.name == "runs" and meta.num_rows == 0:
                    ok = False
                if mine is not None and mine.decode() != want:
                    ok = False
                if not ok:
                    break
            if ok:
                good.add(task)
                continue
            for path in paths:
                target = self.out / REJECTED / path.relative_to(self.out)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target.with_name(f"{target.stem}-{int(time.time())}.parquet"))
        return good

    def _set_aside_unfinished(self, done: set[str]) -> None:
        """Move the files of tasks that are not done to :data:`REJECTED` (kept, not deleted). A
        batch stopped between the renames of a task's files (Ctrl-C, SIGTERM, ``kill -9``, a full
        disk) leaves its ``cashflows`` or ``budgets`` file without its ``runs`` file; the task runs
        again, perhaps cut into other tasks (:func:`effekt.experiments.runner.tapered` sizes the
        last tasks by what is left and by the workers), and its old rows must not count twice."""
        for ds in self.datasets:
            for path in sorted((self.out / ds).glob("point=*/*.parquet")):
                if path.stem in done:
                    continue
                target = self.out / REJECTED / path.relative_to(self.out)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target.with_name(f"{target.stem}-{int(time.time())}.parquet"))

    @staticmethod
    def mismatch(old: dict[str, Any], new: dict[str, Any]) -> str:
        """What makes ``old`` (a manifest on disk) another experiment than ``new``; '' if none
        (a :func:`effekt.specfile.said` message: English, with its bokmål as ``.nb``)."""
        old_id = old.get("experiment_hash", old.get("scenario_hash"))
        if old_id != new["experiment_hash"]:
            name = old.get("scenario", {}).get("scenario", {}).get("name", "?")
            keys = differences(old.get("scenario", {}), new.get("scenario", {}))
            if not keys and old.get("points") is not None and "points" in new:
                keys = differences(old.get("points"), new.get("points"), "design points")
            keys_nb = differences_nb(keys)
            differ = f"; they differ at {', '.join(keys)}" if keys else ""
            differ_nb = f"; de er ulike i {', '.join(keys_nb)}" if keys else ""
            this = f"'{new['scenario']['scenario']['name']}', hash {new['experiment_hash']}"
            was = f"scenario '{name}', hash {old_id}"
            return said(f"another experiment ({was}; this one is {this}{differ})",
                        f"et annet eksperiment ({was}; dette er {this}{differ_nb})")
        drawn = [old.get("provenance", {}).get("posteriors"), new.get("provenance", {}).get("posteriors")]
        if None not in drawn and drawn[0] != drawn[1]:
            found = differences(drawn[0], drawn[1], "posteriors")
            keys, keys_nb = ", ".join(found), ", ".join(differences_nb(found))
            return said(f"the same scenario drawing from another posterior (effekt calibrate wrote it again: "
                        f"{keys})",
                        f"det samme scenarioet, men det trekker fra en annen posterior (effekt calibrate "
                        f"skrev den på nytt: {keys_nb})")
        rules = [old.get("provenance", {}).get("fiscal_rules"), new.get("provenance", {}).get("fiscal_rules")]
        if None not in rules and rules[0] != rules[1]:
            found = differences(rules[0], rules[1], "fiscal rules")
            keys, keys_nb = ", ".join(found), ", ".join(differences_nb(found))
            source = new["provenance"].get("fiscal_source")
            return said(f"the same scenario under other tax-and-benefit rules (they differ at {keys}; "
                        f"read from {source or 'the fiscal file'})",
                        f"det samme scenarioet under andre skatte- og trygderegler (de er ulike i {keys_nb}; "
                        f"lest fra {source or 'fiscal-filen'})")
        if list(old.get("tables", [])) != list(new.get("tables", [])):
            was, asked = ", ".join(old.get("tables", [])), ", ".join(new.get("tables", []))
            return said(f"the same experiment with other tables stored (--tables {was or 'none'}; now asked "
                        f"for {asked or 'none'})",
                        f"det samme eksperimentet med andre tabeller lagret (--tables {was or 'ingen'}; nå "
                        f"bedt om {asked or 'ingen'})")
        return ""

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        with self._saving:  # one temporary file: one save at a time
            self._write_manifest(manifest)

    def _write_manifest(self, manifest: dict[str, Any]) -> None:
        tmp = self.manifest_path.with_name(".manifest.json.tmp")
        try:
            with open(tmp, "w") as f:
                f.write(json.dumps(manifest, indent=2, sort_keys=True, default=str))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.manifest_path)
        except OSError as err:
            tmp.unlink(missing_ok=True)  # the manifest before stays as it was
            raise ResultsDirError(_write_failed(self.manifest_path, err)) from None
        _fsync_dir(self.out)
        self._last_save = time.monotonic()

    def _path(self, dataset: str, point: int, task: str) -> Path:
        return self.out / dataset / f"point={point}" / f"{task}.parquet"

    def done_tasks(self) -> set[str]:
        """Tasks whose files all exist (the ``runs`` file is written last)."""
        found = [{p.stem for p in (self.out / ds).glob("point=*/*.parquet")} for ds in self.datasets]
        return set.intersection(*found) if found else set()

    def write_task(self, point: int, task: str, tables: dict[str, pa.Table | bytes]) -> None:
        """Write one task's tables atomically (temp file, then rename), ``runs`` last. A table may
        come as the bytes of its file already (:func:`encoded_file`, made with this store's
        experiment hash). Safe to call from several threads at once for different tasks
        (:mod:`effekt.experiments.writer`)."""
        missing = set(self.datasets) - set(tables)
        if missing:
            raise ValueError(f"task {task}: no table for {sorted(missing)}")
        for ds in sorted(self.datasets, key=lambda d: d == "runs"):
            path = self._path(ds, point, task)
            if path.parent not in self._made:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._made.add(path.parent)
            tmp = path.with_name(f".{path.name}.tmp")
            table = tables[ds]
            # bytes: the file encoded where the task ran, as it is encoded here
            data = (table if isinstance(table, bytes)
                    else encoded_file(table, self._manifest.get("experiment_hash", "")))
            try:
                _write_bytes(tmp, data)
                os.replace(tmp, path)
                _fsync_dir(path.parent)
            except OSError as err:
                tmp.unlink(missing_ok=True)  # the task is not done: no half file counts or stays
                raise ResultsDirError(_write_failed(path, err)) from None
        with self._saving:
            self._done.add(task)
            if time.monotonic() - self._last_save > 5:  # progress in the manifest, not on every task
                self.write_manifest({**self._manifest, "tasks_done": sorted(self._done)})

    def set_chunk(self, chunk: int) -> None:
        """The batch's replications per task, once chosen (a resumed batch keeps it)."""
        with self._saving:
            self._manifest["chunk"] = chunk
            self.write_manifest({**self._manifest, "tasks_done": sorted(self._done)})

    def set_tasks_total(self, total: int) -> None:
        """How many tasks the experiment has in all (those done plus those planned)."""
        with self._saving:
            self._manifest["tasks_total"] = total
            self.write_manifest({**self._manifest, "tasks_done": sorted(self._done)})

    def finish(self) -> dict[str, Any]:
        """Record the end: tasks done and the finishing time. Returns the final manifest."""
        done = self.done_tasks()
        total = self._manifest.get("tasks_total", 0)
        self._manifest = {**self._manifest, "tasks_done": sorted(done),
                          "complete": len(done) >= total, "finished": now()}
        self.write_manifest(self._manifest)
        return self._manifest


def read_kpis(out: str | Path) -> KpiRegistry | None:
    """The KPI declarations stored in the field metadata of a results directory's ``runs`` files
    (see :func:`effekt.experiments.runner.schemas`), in column order; None when there is no runs
    file or its columns carry none (results written by an older effekt)."""
    files = sorted((Path(out) / "runs").glob("point=*/*.parquet"))
    if not files:
        return None
    schema = pq.read_schema(files[0])
    kpis = []
    for f in schema:
        if f.metadata and b"kind" in f.metadata:
            kpis.append(Kpi.from_metadata(f.name, f.metadata))
    return KpiRegistry(kpis) if kpis else None


ROW_ORDER: tuple[str, ...] = ("point", "replication", "arm", "person_id", "party", "month", "item", "year",
                              "start", "time", "event")
"""The key columns :func:`read_table` sorts by first, where a dataset has them."""


def read_table(out: str | Path, dataset: str) -> Any:
    """One dataset of a results directory (``runs``, ``cashflows``, ``budgets``, a record table) as
    a pandas DataFrame in a canonical row order: by the key columns of :data:`ROW_ORDER` it has,
    then by every other column (a stable sort), so the order depends only on the rows, never on
    the chunk size, the worker count or the executor that wrote them. ``point`` (a hive partition
    on disk) is read back as an integer. For comparing results and for reading them in a fixed
    order; pandas is imported when this is called."""
    import pandas as pd

    df = pd.read_parquet(Path(out) / dataset)
    df["point"] = df["point"].astype(int)
    keys = [c for c in ROW_ORDER if c in df.columns]
    keys += [c for c in df.columns if c not in keys]
    return df.sort_values(keys, kind="stable").reset_index(drop=True)
