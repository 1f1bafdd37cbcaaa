"""effekt's experiment layer: scenario files, batches of replications on executors, Parquet
results with a manifest, summaries and the ``effekt`` command line."""

from experiments.batch import run_batch
from experiments.scenario import Scenario, load_scenario
from experiments.summary import kpi_table, load_runs

__all__ = ["Scenario", "kpi_table", "load_runs", "load_scenario", "run_batch"]
