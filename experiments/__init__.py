"""effekt's experiment layer: scenario files, designs (sweeps), batches of replications on
executors (serial, local processes, Dask), Parquet results with a manifest, summaries and the
``effekt`` command line."""

from effekt.experiments.batch import run_batch
from effekt.experiments.design import Design, design_points
from effekt.experiments.executors import ProcessExecutor, SerialExecutor, make_executor
from effekt.experiments.scenario import Experiment, Scenario, load_experiment, load_scenario
from effekt.experiments.summary import kpi_table, load_runs

__all__ = [
    "Design",
    "Experiment",
    "ProcessExecutor",
    "Scenario",
    "SerialExecutor",
    "design_points",
    "kpi_table",
    "load_experiment",
    "load_runs",
    "load_scenario",
    "make_executor",
    "run_batch",
]
