"""The results directory: Parquet datasets plus a manifest, safe to kill and resume.

Layout::

    OUT/manifest.json                     scenario as resolved, hash, seed, version, command, tasks done
    OUT/runs/point=0/<task>.parquet       one row per replication: design point, KPIs
    OUT/cashflows/point=0/<task>.parquet  party x month cashflows per replication

Each task's file is written under a temporary name and renamed, so a killed batch never leaves a
half-written file; a task counts as done when its files exist. The datasets are hive-partitioned
by design point and readable by pandas, pyarrow, DuckDB and polars without effekt.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

DATASETS = ("runs", "cashflows")


class ResultsDirError(RuntimeError):
    """The output directory holds something we must not overwrite."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ResultStore:
    def __init__(self, out: str | Path):
        self.out = Path(out)

    @property
    def manifest_path(self) -> Path:
        return self.out / "manifest.json"

    def read_manifest(self) -> dict[str, Any] | None:
        if not self.manifest_path.exists():
            return None
        return json.loads(self.manifest_path.read_text())

    def open(self, manifest: dict[str, Any], overwrite: bool = False) -> set[str]:
        """Prepare the directory for a scenario; returns the names of tasks already done."""
        old = self.read_manifest()
        if old is not None and old.get("scenario_hash") != manifest["scenario_hash"]:
            if not overwrite:
                raise ResultsDirError(
                    f"{self.out} holds results of another scenario "
                    f"('{old.get('scenario', {}).get('scenario', {}).get('name', '?')}', hash "
                    f"{old.get('scenario_hash')}); choose another --out or pass --overwrite"
                )
            shutil.rmtree(self.out)
            old = None
        elif old is None and self.out.exists() and any(self.out.iterdir()):
            if not overwrite:
                raise ResultsDirError(
                    f"{self.out} exists and is not an effekt results directory; "
                    "choose another --out or pass --overwrite"
                )
            shutil.rmtree(self.out)
        self.out.mkdir(parents=True, exist_ok=True)
        done = self.done_tasks()
        manifest = {**manifest, "tasks_done": sorted(done), "finished": None}
        if old is not None:
            manifest["started"] = old.get("started", manifest["started"])
            manifest["resumed"] = [*old.get("resumed", []), _now()]
        self.write_manifest(manifest)
        return done

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        tmp = self.manifest_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
        os.replace(tmp, self.manifest_path)

    def _path(self, dataset: str, point: int, task: str) -> Path:
        return self.out / dataset / f"point={point}" / f"{task}.parquet"

    def done_tasks(self) -> set[str]:
        found = [
            {p.stem for p in (self.out / ds).glob("point=*/*.parquet")} for ds in DATASETS
        ]
        return set.intersection(*found) if found else set()

    def write_task(self, point: int, task: str, tables: dict[str, pa.Table]) -> None:
        """Write one task's tables atomically (temp file, then rename); ``runs`` last."""
        for ds in sorted(tables, key=lambda d: d == "runs"):
            path = self._path(ds, point, task)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            table = tables[ds]
            if "point" in table.column_names:  # it is in the partition path (hive style)
                table = table.drop_columns(["point"])
            pq.write_table(table, tmp)
            os.replace(tmp, path)

    def finish(self, manifest: dict[str, Any]) -> None:
        self.write_manifest({**manifest, "tasks_done": sorted(self.done_tasks()),
                             "finished": _now()})
