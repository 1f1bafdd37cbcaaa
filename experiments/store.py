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
higher_is_better) as Parquet field metadata; :func:`read_kpis` reads it back.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from effekt.contracts import Kpi, KpiRegistry

DATASETS = ("runs", "cashflows", "budgets")
"""Always written; ``persons``, ``events`` and ``spells`` are added on request."""


class ResultsDirError(RuntimeError):
    """The output directory holds something we must not overwrite."""


def _remove(path: Path) -> None:
    """Delete a directory so that a kill midway leaves either all of it or nothing at ``path``:
    rename it out of the way first (atomic), then delete the renamed copy."""
    trash = path.with_name(f".{path.name}.deleting-{os.getpid()}")
    os.replace(path, trash)
    shutil.rmtree(trash)


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

    @property
    def manifest_path(self) -> Path:
        return self.out / "manifest.json"

    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest on disk, or None if there is none. One that is not a JSON object (edited
        by hand, or not effekt's) is a :class:`ResultsDirError` naming the file."""
        if not self.manifest_path.exists():
            return None
        try:
            manifest = json.loads(self.manifest_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ResultsDirError(
                f"{self.manifest_path} is not valid JSON ({err}); it is not an effekt manifest, or "
                "it was edited by hand: choose another --out, or delete the directory yourself"
            ) from None
        if not isinstance(manifest, dict):
            raise ResultsDirError(f"{self.manifest_path} is not an effekt manifest (a JSON "
                                  f"{type(manifest).__name__}, not an object); choose another --out")
        return manifest

    def _check_removable(self) -> None:
        """--overwrite deletes ``out``: refuse when that is the working directory or holds it."""
        cwd = Path.cwd().resolve()
        if self.out == cwd or self.out in cwd.parents:
            raise ResultsDirError(f"{self.out} is the working directory or holds it; --overwrite "
                                  "would delete it: choose another --out (e.g. a subdirectory)")

    def open(self, manifest: dict[str, Any], overwrite: bool = False) -> set[str]:
        """Prepare the directory for an experiment; returns the names of tasks already done.

        A directory holding another experiment (another scenario, design, seed or set of tables)
        is refused unless ``overwrite``; a non-empty directory without a ``manifest.json`` is
        always refused (``overwrite`` only ever deletes effekt results directories). When resuming, the
        earlier run's ``chunk`` is kept (in ``manifest``, updated in place) so that task names,
        and therefore files, line up.
        """
        old = self.read_manifest()
        if old is not None:
            problem = self.mismatch(old, manifest)
            if problem and not overwrite:
                raise ResultsDirError(
                    f"{self.out} holds results of {problem}; choose another --out, or pass "
                    "--overwrite to delete them and start again"
                )
            if problem or overwrite:  # --overwrite always starts again
                self._check_removable()
                _remove(self.out)
                old = None
        elif self.out.exists() and any(self.out.iterdir()):
            # never deleted, not even with --overwrite: it may be anything (a thesis, a home directory)
            raise ResultsDirError(
                f"{self.out} exists, is not empty and is not an effekt results directory (no "
                "manifest.json); choose another --out (--overwrite only replaces effekt results)"
            )
        self.out.mkdir(parents=True, exist_ok=True)
        self.datasets = (*DATASETS, *manifest.get("tables", ()))
        for stale in self.out.glob("*/point=*/.*.tmp"):
            stale.unlink()
        if old is not None:
            manifest["started"] = old.get("started", manifest.get("started"))
            manifest["resumed"] = [*old.get("resumed", []), now()]
        done = self.done_tasks()
        self._done = set(done)
        self._manifest = {**manifest, "tasks_done": sorted(done), "finished": None}
        self.write_manifest(self._manifest)
        return done

    @staticmethod
    def mismatch(old: dict[str, Any], new: dict[str, Any]) -> str:
        """What makes ``old`` (a manifest on disk) another experiment than ``new``; '' if none."""
        old_id = old.get("experiment_hash", old.get("scenario_hash"))
        if old_id != new["experiment_hash"]:
            name = old.get("scenario", {}).get("scenario", {}).get("name", "?")
            return (f"another experiment (scenario '{name}', hash {old_id}; this one is "
                    f"'{new['scenario']['scenario']['name']}', hash {new['experiment_hash']})")
        if list(old.get("tables", [])) != list(new.get("tables", [])):
            was = ", ".join(old.get("tables", [])) or "none"
            asked = ", ".join(new.get("tables", [])) or "none"
            return (f"the same experiment with other tables stored (--tables {was}; now asked for "
                    f"{asked})")
        return ""

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        tmp = self.manifest_path.with_name(".manifest.json.tmp")
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
        os.replace(tmp, self.manifest_path)
        self._last_save = time.monotonic()

    def _path(self, dataset: str, point: int, task: str) -> Path:
        return self.out / dataset / f"point={point}" / f"{task}.parquet"

    def done_tasks(self) -> set[str]:
        """Tasks whose files all exist (the ``runs`` file is written last)."""
        found = [{p.stem for p in (self.out / ds).glob("point=*/*.parquet")} for ds in self.datasets]
        return set.intersection(*found) if found else set()

    def write_task(self, point: int, task: str, tables: dict[str, pa.Table]) -> None:
        """Write one task's tables atomically (temp file, then rename), ``runs`` last."""
        missing = set(self.datasets) - set(tables)
        if missing:
            raise ValueError(f"task {task}: no table for {sorted(missing)}")
        for ds in sorted(self.datasets, key=lambda d: d == "runs"):
            path = self._path(ds, point, task)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            table = tables[ds]
            if "point" in table.column_names:  # it is in the partition path (hive style)
                table = table.drop_columns(["point"])
            pq.write_table(table, tmp)
            os.replace(tmp, path)
        self._done.add(task)
        if time.monotonic() - self._last_save > 5:  # progress in the manifest, not on every task
            self.write_manifest({**self._manifest, "tasks_done": sorted(self._done)})

    def set_tasks_total(self, total: int) -> None:
        """How many tasks the experiment has in all (those done plus those planned)."""
        self._manifest["tasks_total"] = total
        self.write_manifest(self._manifest)

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
