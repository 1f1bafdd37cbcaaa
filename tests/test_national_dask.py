"""The national run on a real Dask scheduler with two workers on loopback: the shards (kommune x
replication chunk) give the same stored tables as a serial run, whatever the number of workers."""

from __future__ import annotations

import pandas as pd
import pytest
from test_experiments_dask import cluster  # noqa: F401  (the loopback scheduler and two workers)
from test_national import national_file, table

from effekt.experiments.executors import SerialExecutor
from effekt.experiments.national.run import run_national
from effekt.experiments.national.spec import load_national

pytestmark = pytest.mark.integration  # real scheduler and worker processes on loopback
pytest.importorskip("distributed")


def test_a_national_run_on_dask_equals_the_serial_run(cluster, tmp_path):  # noqa: F811
    from effekt.experiments.dask_executor import DaskExecutor

    address, _ = cluster
    nat = load_national(national_file(tmp_path))
    run_national(nat, tmp_path / "serial", SerialExecutor(), progress=False)
    executor = DaskExecutor(address)
    try:
        assert executor.workers == 2
        run_national(nat, tmp_path / "dask", executor, chunk=1, progress=False)
    finally:
        executor.close()
    for ds in ("runs", "cashflows", "budgets"):
        pd.testing.assert_frame_equal(table(tmp_path / "serial", ds), table(tmp_path / "dask", ds))
    runs = table(tmp_path / "dask", "runs")
    assert sorted(runs["kommune"].unique()) == ["1151", "3303", "4601"]
