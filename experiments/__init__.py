"""effekt's experiment layer: scenario files, designs (sweeps), batches of replications on
executors (serial, local processes, Dask), Parquet results with a manifest, summaries and the
``effekt`` command line.

This layer knows both lower ones and uses each only through its face (``effekt.contracts``,
``effekt.sim``); nothing below imports it.

Scenarios
    load_scenario           read, resolve and validate a scenario file (the built-in default if none)
    load_experiment         a scenario at every design point of its [design]
    read_tree               a scenario file with its templates merged and --set applied, as data
    ScenarioTree            a scenario as plain data: what overrides and design points edit
    resolve                 the one way from a ScenarioTree to a validated Scenario
    Scenario                a validated, fully resolved scenario at one design point
    Experiment              a scenario and its design points, one Scenario per point
    PATHWAY_TEMPLATES       each built-in pathway with the contract template written for its stages

Designs
    Design                  replications, root seed and the design points (sweep, levers, sample,
                            and [design.parameters] draws of the priors: two-level Monte Carlo)
    design_points           every design point of a Design as {dotted key: value}

Running
    run_batch               every replication of every design point into a results directory
    make_executor           an executor: serial, local processes or a Dask cluster
    open_executor           make_executor for a block of work (one pool, closed at the end)
    SerialExecutor          every task in this process, one after another
    ProcessExecutor         local worker processes, a bounded number of tasks in flight

Results
    load_runs               all replication rows of a results directory (one per replication)
    load_budgets            every party's flows by arm, year and item (nominal and discounted) of a
                            results directory's budgets/ table, one set per replication
    kpi_table               one row per KPI (and design point): mean, interval and spread
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOMES = {
    "run_batch": "batch",
    "load_budgets": "budgets",
    "Design": "design",
    "design_points": "design",
    "PATHWAY_TEMPLATES": "examples",
    "ProcessExecutor": "executors",
    "SerialExecutor": "executors",
    "make_executor": "executors",
    "open_executor": "executors",
    "Experiment": "scenario",
    "Scenario": "scenario",
    "ScenarioTree": "scenario",
    "load_experiment": "scenario",
    "load_scenario": "scenario",
    "read_tree": "scenario",
    "resolve": "scenario",
    "kpi_table": "summary",
    "load_runs": "summary",
}
"""The module of ``effekt.experiments`` each public name lives in. The names are imported on first
use (PEP 562), so that ``effekt --help``, ``effekt validate`` and any submodule (``import
effekt.experiments.cli``) do not pay for pandas, pyarrow and scipy until something needs them."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:  # AttributeError lets ``from effekt.experiments import <submodule>`` work
        raise AttributeError(f"module 'effekt.experiments' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"effekt.experiments.{home}"), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # what type checkers and editors see: the names as if imported eagerly
    from effekt.experiments.batch import run_batch
    from effekt.experiments.budgets import load_budgets
    from effekt.experiments.design import Design, design_points
    from effekt.experiments.examples import PATHWAY_TEMPLATES
    from effekt.experiments.executors import ProcessExecutor, SerialExecutor, make_executor, open_executor
    from effekt.experiments.scenario import (
        Experiment,
        Scenario,
        ScenarioTree,
        load_experiment,
        load_scenario,
        read_tree,
        resolve,
    )
    from effekt.experiments.summary import kpi_table, load_runs

__all__ = [
    "PATHWAY_TEMPLATES",
    "Design",
    "Experiment",
    "ProcessExecutor",
    "Scenario",
    "ScenarioTree",
    "SerialExecutor",
    "design_points",
    "kpi_table",
    "load_budgets",
    "load_experiment",
    "load_runs",
    "load_scenario",
    "make_executor",
    "open_executor",
    "read_tree",
    "resolve",
    "run_batch",
]
