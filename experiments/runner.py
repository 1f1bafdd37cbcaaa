"""Running replications: one replication is simulate -> evaluate; a task is a chunk of them.

Every replication is seeded by ``SeedSequence(root_seed, spawn_key=(replication,))`` (see
``sim.streams``), so its tables do not depend on which worker runs it, in which order, or with how
many workers, and design points share common random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from contracts import CASHFLOWS, evaluate
from experiments.scenario import Scenario
from sim import replication_seed, simulate

KEYS = [("point", pa.int32()), ("replication", pa.int32())]


@dataclass(frozen=True)
class Task:
    """Replications ``start`` .. ``stop - 1`` of design point ``point``."""

    point: int
    start: int
    stop: int

    @property
    def name(self) -> str:
        return f"p{self.point:05d}-r{self.start:07d}-{self.stop:07d}"


def plan_tasks(replications: int, chunk: int, point: int = 0) -> list[Task]:
    return [Task(point, s, min(s + chunk, replications)) for s in range(0, replications, chunk)]


def run_replication(scenario: Scenario, replication: int, point: int = 0) -> dict[str, pd.DataFrame]:
    """Simulate and evaluate one replication; returns the ``runs`` row and ``cashflows``."""
    seed = replication_seed(scenario.design.seed, replication)
    tables = simulate(scenario.world, seed)
    ev = evaluate(scenario.terms, tables.persons, tables.spells,
                  scenario.world.horizon_weeks, scenario.info.discount_rate)
    keys = {"point": point, "replication": replication}
    runs = pd.DataFrame([{**keys, **ev.kpis}])
    cash = ev.cashflows.assign(**keys)
    return {"runs": runs, "cashflows": cash}


def run_task(scenario: Scenario, task: Task) -> dict[str, pa.Table]:
    """Run a chunk of replications; returns Arrow tables ready to be written."""
    parts: dict[str, list[pd.DataFrame]] = {"runs": [], "cashflows": []}
    for rep in range(task.start, task.stop):
        for name, df in run_replication(scenario, rep, task.point).items():
            parts[name].append(df)
    runs = pd.concat(parts["runs"], ignore_index=True)
    cash = pd.concat(parts["cashflows"], ignore_index=True)
    cash_schema = pa.schema([*KEYS, *CASHFLOWS])
    return {
        "runs": pa.Table.from_pandas(runs.astype({"point": "int32", "replication": "int32"}),
                                     preserve_index=False),
        "cashflows": pa.Table.from_pandas(cash[cash_schema.names], schema=cash_schema,
                                          preserve_index=False),
    }
