"""Designs: full grids, Latin hypercube and Sobol samples of uncertainties crossed with levers,
reproducible from the root seed, with common random numbers across design points."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from test_experiments_scenario import write

from effekt.experiments.design import Design, design_points
from effekt.experiments.runner import run_replication
from effekt.experiments.scenario import load_experiment
from effekt.specfile import SpecError, validate


def strata_hit(values: list[float], low: float, high: float) -> list[int]:
    """How many values fall in each of len(values) equal strata of [low, high)."""
    n = len(values)
    idx = np.floor((np.asarray(values) - low) / (high - low) * n).astype(int)
    return np.bincount(idx, minlength=n).tolist()


def test_grid_is_the_full_cartesian_product():
    d = Design(sweep={"contract.prices.job_start": [1, 2, 3]},
               levers={"pathway.capacity.placements.slots": [4, 8]})
    pts = design_points(d)
    assert len(pts) == 6
    combos = {(p["contract.prices.job_start"], p["pathway.capacity.placements.slots"]) for p in pts}
    assert combos == set(itertools.product([1, 2, 3], [4, 8]))


def test_no_design_is_one_empty_point():
    assert design_points(Design()) == [{}]


@pytest.mark.parametrize("sampler", ["lhs", "sobol"])
def test_samples_put_one_point_in_each_stratum_of_every_uncertainty(sampler):
    # Latin hypercubes by construction, and scrambled Sobol nets of 2^m points (every elementary
    # interval of volume 1/n holds one point) both stratify each margin into n equal parts.
    d = Design(seed=11, sampler=sampler, samples=16,
               uncertainties={"world.counterfactual.entry_rate_multiplier": {"low": 0.5, "high": 1.5},
                              "contract.prices.job_start": {"low": 10000, "high": 90000}})
    pts = design_points(d)
    assert len(pts) == 16
    assert strata_hit([p["world.counterfactual.entry_rate_multiplier"] for p in pts], 0.5, 1.5) == [1] * 16
    assert strata_hit([p["contract.prices.job_start"] for p in pts], 10000, 90000) == [1] * 16


def test_levers_are_crossed_with_every_sample_and_samples_repeat_per_policy():
    d = Design(seed=2, samples=4, levers={"contract.prices.job_start": [1, 2, 3]},
               uncertainties={"world.counterfactual.entry_rate_multiplier": {"low": 0, "high": 2}})
    pts = design_points(d)
    assert len(pts) == 12
    by_policy = {}
    for p in pts:
        by_policy.setdefault(p["contract.prices.job_start"], []).append(
            p["world.counterfactual.entry_rate_multiplier"])
    assert list(by_policy) == [1, 2, 3]
    assert by_policy[1] == by_policy[2] == by_policy[3]  # the same scenarios for every policy


def test_integer_uncertainties_cover_their_whole_numbers_evenly():
    d = Design(samples=20, uncertainties={"world.cohorts[0].size": {"low": 6, "high": 10, "integer": True}})
    values = [p["world.cohorts[0].size"] for p in design_points(d)]
    assert all(isinstance(v, int) for v in values)
    # 20 Latin-hypercube strata over 5 whole numbers: exactly 4 each
    assert sorted(np.bincount(values)[6:].tolist()) == [4, 4, 4, 4, 4]


def test_samples_are_reproducible_from_the_seed():
    kw = {"samples": 8, "uncertainties": {"world.horizon_weeks": {"low": 50, "high": 100}}}
    assert design_points(Design(seed=5, **kw)) == design_points(Design(seed=5, **kw))
    assert design_points(Design(seed=5, **kw)) != design_points(Design(seed=6, **kw))


@pytest.mark.parametrize(("data", "message"), [
    ({"sampler": "sobol", "samples": 12, "uncertainties": {"world.horizon_weeks": {"low": 1, "high": 2}}},
     "try 8 or 16"),
    ({"uncertainties": {"world.horizon_weeks": {"low": 1, "high": 2}}}, "need a number of samples"),
    ({"uncertainties": {"world.horizon_weeks": {"low": 2, "high": 1}}, "samples": 4}, "must be below"),
    ({"sweep": {"design.seed": [1, 2]}}, "cannot vary the design"),
    ({"sweep": {"wrld.horizon_weeks": [1, 2]}}, "dotted key starting with"),
    ({"sweep": {"world.horizon_weeks": []}}, "at least one value"),
    ({"sweep": {"world.horizon_weeks": [1]}, "levers": {"world.horizon_weeks": [2]}}, "in both"),
    ({"samples": 4}, "no uncertainties"),
])
def test_bad_designs_are_refused(data, message):
    with pytest.raises(SpecError) as info:
        validate(Design, data, "x.toml")
    assert message in str(info.value)


def test_a_misspelt_design_parameter_is_located(tmp_path):
    path = write(tmp_path, design='[design.sweep]\n"pathway.capacity.placments.slots" = [3, 4]\n')
    with pytest.raises(SpecError) as info:
        load_experiment(path)
    msg = str(info.value)
    assert "design.sweep.'pathway.capacity.placments.slots'" in msg and "did you mean 'placements'" in msg


def test_design_points_share_common_random_numbers(tmp_path):
    # The price of a job start changes what is paid, never what happens to people: with common
    # random numbers every replication has the same outcomes at both prices, and payments for job
    # starts differ by exactly (60000 - 30000) per job start (caps lifted so none can bind: six
    # people earn at most 6 x 150000 < 1.5 M).
    path = write(tmp_path, contract="caps.per_person = 500000",
                 design='[design.sweep]\n"contract.prices.job_start" = [30000, 60000]\n')
    exp = load_experiment(path)
    assert [p["contract.prices.job_start"] for p in exp.points] == [30000, 60000]
    for rep in range(3):
        a = run_replication(exp.scenarios[0], rep)["runs"].iloc[0]
        b = run_replication(exp.scenarios[1], rep)["runs"].iloc[0]
        assert a["in_work_12m_treatment"] == b["in_work_12m_treatment"]
        assert a["outcomes_job_start"] == b["outcomes_job_start"]
        assert b["outcome_payments"] - a["outcome_payments"] == pytest.approx(
            30000 * a["outcomes_job_start"])


def test_the_design_sample_shares_no_random_numbers_with_any_replication():
    # A Latin hypercube drawn from replication 0x5A3D1E's first stream (people): the design
    # sampler's own stream must give another sample, or the design would be correlated with that
    # replication's people.
    from scipy.stats import qmc

    from effekt.sim.streams import Streams, replication_seed

    d = Design(seed=9, samples=8, uncertainties={"world.horizon_weeks": {"low": 0, "high": 1}})
    ours = [p["world.horizon_weeks"] for p in design_points(d)]
    for r in (0, 1, 0x5A3D1E):
        for stream in Streams.from_seed(replication_seed(9, r)).generators():
            theirs = qmc.LatinHypercube(1, rng=stream).random(8)[:, 0].tolist()
            assert theirs != pytest.approx(ours)


def test_auxiliary_streams_differ_by_purpose_and_follow_the_seed():
    from effekt.experiments.design import AUXILIARY_PURPOSES, auxiliary_rng

    draws = {(s, p): tuple(auxiliary_rng(s, p).random(4)) for s in (0, 1) for p in AUXILIARY_PURPOSES}
    assert len(set(draws.values())) == len(draws)
    assert tuple(auxiliary_rng(1, "pilot_power").random(4)) == draws[(1, "pilot_power")]
    with pytest.raises(ValueError, match="pilot_power"):
        auxiliary_rng(0, "pilot")
