"""The analysis commands run their replications on the executors of `effekt batch`, and the
numbers do not depend on which one runs them."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from test_experiments_scenario import write

from effekt.experiments.analysis.common import replicate, replicate_many, scenario_with
from effekt.experiments.analysis.compare import compare, parse_variants
from effekt.experiments.cli import main
from effekt.experiments.executors import ProcessExecutor, SerialExecutor, open_executor


class Counting(SerialExecutor):
    """A serial executor that says how many tasks it ran (and pretends to have 3 workers, so
    replications are split into several tasks as on a real pool)."""

    workers = 3

    def __init__(self):
        self.tasks = 0

    def map_unordered(self, fn, items):
        for item, result in super().map_unordered(fn, items):
            self.tasks += 1
            yield item, result


def test_replications_split_into_tasks_give_the_rows_of_one_run(tmp_path):
    a = scenario_with(write(tmp_path))
    b = scenario_with(write(tmp_path), {"contract.prices.job_start": 0})
    one = replicate_many([a, b], 5)  # this process, one task per scenario
    counting = Counting()
    split = replicate_many([a, b], 5, executor=counting)
    assert counting.tasks == 10  # about 4 tasks per worker: ceil(10 / (4 x 3)) = 1 replication each
    for x, y in zip(one, split, strict=True):
        pd.testing.assert_frame_equal(x, y)
    assert list(one[0]["replication"]) == [0, 1, 2, 3, 4]


def test_serial_and_processes_give_the_same_rows(tmp_path):
    sc = scenario_with(write(tmp_path))
    serial = replicate(sc, 6, seed=11)
    with ProcessExecutor(2) as executor:
        procs = replicate(sc, 6, seed=11, executor=executor)
        again = replicate(sc, 6, seed=11, executor=executor)  # the kept pool serves a second call
    pd.testing.assert_frame_equal(serial, procs)
    pd.testing.assert_frame_equal(serial, again)
    assert not serial.equals(replicate(sc, 6, seed=12))  # and the seed does matter


def test_compare_on_processes_equals_compare_in_this_process(tmp_path):
    path = write(tmp_path)
    variants = parse_variants(["cheap:contract.prices.job_start=1000"])
    serial = compare([path], replications=4, variants=variants)
    with open_executor(2) as executor:
        procs = compare([path], replications=4, variants=variants, executor=executor)
    pd.testing.assert_frame_equal(serial, procs)


@pytest.mark.parametrize("method", ["oat", "morris"])
def test_cli_sensitivity_prints_the_same_numbers_whatever_the_workers(tmp_path, method):
    path = write(tmp_path)
    tables = []
    for workers in ("1", "2"):
        out = tmp_path / f"{method}_{workers}.csv"
        r = CliRunner().invoke(main, ["sensitivity", str(path), "--method", method,
                                      "--param", "contract.prices.job_start=10000:60000",
                                      "--param", "world.cohorts.0.size=4:8", "--samples", "2",
                                      "--runs", "2", "--workers", workers, "--out", str(out)])
        assert r.exit_code == 0, r.output
        tables.append(pd.read_csv(out))
    pd.testing.assert_frame_equal(tables[0], tables[1])


def test_cli_pilot_size_simulates_on_the_executor(tmp_path):
    path = write(tmp_path)
    outputs = []
    for workers in ("1", "2"):
        r = CliRunner().invoke(main, ["pilot-size", "--lang", "en", str(path), "--n", "3", "--runs", "4",
                                      "--workers", workers])
        assert r.exit_code == 0, r.output
        outputs.append(r.output)
    assert outputs[0] == outputs[1]
    assert "randomised pilots" in outputs[0]
