"""A sweep's design points built on several processes (issue 14: loading a sweep of priors costs
some 40 ms a point): the same experiment as one process builds, the same first error, the bar."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import effekt.experiments.scenario as scenario_module
from effekt.experiments.cli import _BuildingBar, main
from effekt.experiments.executors import ExecutorLost, SerialExecutor, map_in_order
from effekt.experiments.scenario import PARALLEL_POINTS, _chunk_size, load_experiment
from effekt.specfile import SpecError

SWEEP = Path(__file__).parent.parent / "experiments" / "scenarios" / "kongsberg_sweep.toml"


def _square(x: int) -> int:
    return x * x


class _Backwards(SerialExecutor):
    """Every task run, the results handed back last first: the order a pool may finish them in."""

    def map_unordered(self, fn, items):
        done = [(item, fn(item)) for item in items]
        yield from reversed(done)


def test_results_come_in_the_items_order_whatever_order_they_finish_in():
    assert list(map_in_order(_Backwards(), _square, range(7))) == [0, 1, 4, 9, 16, 25, 36]
    assert list(map_in_order(SerialExecutor(), _square, [])) == []


def test_a_sweep_with_priors_built_on_two_processes_is_the_one_built_in_one():
    # 6 policies x 3 samples = 18 points, each with the scenario's six priors' tails checked again
    one = load_experiment(SWEEP, ["design.samples=3"], workers=1)
    two = load_experiment(SWEEP, ["design.samples=3"], workers=2)
    assert len(one.points) == 18 >= PARALLEL_POINTS and _chunk_size(18, 2) == 2  # 9 chunks on 2 processes
    assert two.points == one.points
    assert two.scenarios == one.scenarios
    assert [s.hash for s in two.scenarios] == [s.hash for s in one.scenarios]
    assert two.hash == one.hash and two.base == one.base
    # the points really differ: the sweep's keys reach the built scenarios
    assert len({s.hash for s in one.scenarios}) == 18
    assert sorted({s.world.pathway.capacity["placements"].slots for s in two.scenarios}) == [8, 12]


def _bad_sweep(tmp_path: Path, bad: dict[int, int]) -> Path:
    prices = [30000 + 1000 * k for k in range(20)]
    for k, value in bad.items():
        prices[k] = value
    path = tmp_path / "bad_sweep.toml"
    head = SWEEP.read_text().split("[design.levers]")[0].replace("samples = 8", "")
    path.write_text(head + f'[design.sweep]\n"contract.prices.job_sustained" = {prices}\n')
    return path


def test_the_first_bad_point_in_the_designs_order_is_the_error_on_any_number_of_processes(tmp_path):
    path = _bad_sweep(tmp_path, {5: -5, 17: -7})
    errors = []
    for workers in (1, 2):
        with pytest.raises(SpecError) as info:
            load_experiment(path, workers=workers)
        errors.append(info.value)
    assert _chunk_size(20, 2) == 2  # point 5 in the third chunk, point 17 in the ninth
    assert errors[1].problems == errors[0].problems and errors[1].source == errors[0].source
    text = str(errors[1])
    assert "design point 5 (contract.prices.job_sustained=-5)" in text
    assert "design point 17" not in text and "=-7" not in text
    # the only bad point last: every earlier chunk is in before it is reported
    with pytest.raises(SpecError, match="design point 19 "):
        load_experiment(_bad_sweep(tmp_path, {19: -1}), workers=2)


def test_progress_is_told_every_point_built_in_order(tmp_path):
    path = _bad_sweep(tmp_path, {})
    for workers in (1, 2):
        calls: list[tuple[int, int]] = []
        exp = load_experiment(path, workers=workers,
                              progress=lambda done, total, seen=calls: seen.append((done, total)))
        assert len(exp.scenarios) == 20
        assert calls[0] == (0, 20) and calls[-1] == (20, 20)
        done = [d for d, _ in calls]
        assert done == sorted(done) and all(total == 20 for _, total in calls)
        # one call a point in one process; one a chunk of two on two
        assert len(calls) == (21 if workers == 1 else 1 + 10)


def test_a_scenario_without_a_sweep_tells_no_progress_and_starts_no_processes(tmp_path):
    calls: list[tuple[int, int]] = []
    exp = load_experiment(SWEEP, workers=2, sweep=False, progress=lambda d, t: calls.append((d, t)))
    assert exp.scenarios == [exp.base] and calls == []


def test_the_bar_appears_only_for_a_design_of_many_points_and_leaves_when_they_are_built():
    small = _BuildingBar(True, "nb")
    small(0, PARALLEL_POINTS - 1)
    assert small._bar is None
    bar = _BuildingBar(True, "nb")
    bar(0, 40)
    assert bar._bar is not None and bar._bar.tasks[0].total == 40
    assert bar._bar.tasks[0].description == "Bygger designpunktene"
    bar(21, 40)
    assert bar._bar.tasks[0].completed == 21
    bar(40, 40)
    assert bar._bar is None
    off = _BuildingBar(False, "en")
    off(0, 1000)
    assert off._bar is None


_real_chunk = scenario_module._chunk_scenarios


def _dies_at_point_5(job):
    if any(k == 5 for k, _ in job[2]):
        os._exit(1)  # a builder killed from outside, or by the system for want of memory
    return _real_chunk(job)


def test_a_builder_killed_is_a_message_saying_nothing_ran_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setattr(scenario_module, "_chunk_scenarios", _dies_at_point_5)  # the forked workers see it
    path = _bad_sweep(tmp_path, {})
    with pytest.raises(ExecutorLost, match="a process building the design points died"):
        load_experiment(path, workers=2)
    r = CliRunner().invoke(main, ["validate", str(path), "--lang", "nb"])
    assert r.exit_code == 2, r.output
    assert "en prosess som bygde designpunktene, døde" in r.output and "ingenting er lagret" in r.output
    assert "Traceback" not in r.output


class _BackwardsProcesses(_Backwards):
    """Stands in for ProcessExecutor: every chunk built, handed back last first."""

    def __init__(self, workers=None):
        self.workers = workers


def test_chunks_finishing_last_first_still_give_the_designs_order_and_its_first_error(tmp_path, monkeypatch):
    import effekt.experiments.executors as executors

    path = _bad_sweep(tmp_path, {})
    one = load_experiment(path, workers=1)
    monkeypatch.setattr(executors, "ProcessExecutor", _BackwardsProcesses)
    backwards = load_experiment(path, workers=2)
    assert [s.hash for s in backwards.scenarios] == [s.hash for s in one.scenarios]
    with pytest.raises(SpecError) as info:
        load_experiment(_bad_sweep(tmp_path, {5: -5, 17: -7}), workers=2)
    assert "design point 5 (contract.prices.job_sustained=-5)" in str(info.value)
    assert "design point 17" not in str(info.value)


def _breaks_at_point_7(job):
    if any(k == 7 for k, _ in job[2]):
        raise RuntimeError("a bug met at design point 7")
    return _real_chunk(job)


def test_another_error_is_raised_in_its_turn_too(tmp_path, monkeypatch):
    import effekt.experiments.executors as executors

    monkeypatch.setattr(scenario_module, "_chunk_scenarios", _breaks_at_point_7)
    monkeypatch.setattr(executors, "ProcessExecutor", _BackwardsProcesses)  # point 7's chunk is in first
    path = _bad_sweep(tmp_path, {5: -5})
    for workers in (1, 2):
        with pytest.raises(SpecError, match="design point 5 "):
            load_experiment(path, workers=workers)
    with pytest.raises(RuntimeError, match="a bug met at design point 7"):
        load_experiment(_bad_sweep(tmp_path, {}), workers=2)


def _bad_first_then_slow(job):
    if any(k == 0 for k, _ in job[2]):
        return [], SpecError("s.toml", ["design point 0: refused at once"])
    time.sleep(4)  # the chunks queued to the workers meanwhile
    return _real_chunk(job)


def test_after_a_bad_point_the_workers_are_ended_not_waited_for(tmp_path, monkeypatch):
    monkeypatch.setattr(scenario_module, "_chunk_scenarios", _bad_first_then_slow)  # the workers see it
    path = _bad_sweep(tmp_path, {})
    others = set(multiprocessing.active_children())  # another test's pool kept for its module
    with pytest.raises(SpecError, match="refused at once"):
        load_experiment(path, workers=2)
    # the chunks queued to the workers sleep for 4 s: a worker still alive is one waited for
    assert [p for p in multiprocessing.active_children() if p.is_alive() and p not in others] == []


def test_no_workers_means_every_core_as_the_executors_say(tmp_path):
    path = _bad_sweep(tmp_path, {})
    assert load_experiment(path, workers=None).scenarios == load_experiment(path, workers=1).scenarios
