"""The duration distributions own their sampling, mean, bounds and description.

Means and bounds are checked against closed forms worked out by hand, then against a large
sample; the engine's fast samplers must draw exactly what ``sample`` draws from the same stream
(so results stay the same for a seed); descriptions are written out in both languages.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from effekt.sim import Distribution
from effekt.sim.distributions import (
    Duration,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    Triangular,
    Uniform,
)

INF = math.inf

# (distribution, mean by hand, (lower, upper) by hand)
CASES = [
    (Fixed(dist="fixed", value=7), 7.0, (7.0, 7.0)),
    (Exponential(dist="exponential", mean=12), 12.0, (0.0, INF)),
    (Gamma(dist="gamma", shape=2.5, scale=8), 20.0, (0.0, INF)),  # 2.5 * 8
    (LogNormal(dist="lognormal", median=18, sigma=0.6), 18 * math.exp(0.18), (0.0, INF)),  # e^(0.6^2/2)
    (Triangular(dist="triangular", low=12, mode=26, high=52), 30.0, (12.0, 52.0)),  # (12+26+52)/3
    (Uniform(dist="uniform", low=2, high=8), 5.0, (2.0, 8.0)),
    # (4*1 + 10*2 + 26*3 + 52*0) / 6 = 102 / 6; 52 has weight 0, so it can never be drawn
    (Empirical(dist="empirical", values=[4, 10, 26, 52], weights=[1, 2, 3, 0]), 17.0, (4.0, 26.0)),
    (Empirical(dist="empirical", values=[4, 10, 26, 52]), 23.0, (4.0, 52.0)),  # 92 / 4
]
IDS = ["fixed", "exponential", "gamma", "lognormal", "triangular", "uniform", "empirical_weighted",
       "empirical"]


@pytest.mark.parametrize(("d", "mean", "bounds"), CASES, ids=IDS)
def test_mean_and_bounds_are_the_closed_forms(d: Distribution, mean: float, bounds: tuple[float, float]):
    assert d.mean == pytest.approx(mean, rel=1e-12)
    assert d.bounds == pytest.approx(bounds)


def test_lognormal_without_spread_is_always_its_median():
    d = LogNormal(dist="lognormal", median=5, sigma=0)
    assert d.bounds == (5.0, 5.0) and d.mean == 5.0


@pytest.mark.parametrize(("d", "mean", "bounds"), CASES, ids=IDS)
def test_a_large_sample_has_that_mean_and_stays_within_the_bounds(d: Distribution, mean: float,
                                                                  bounds: tuple[float, float]):
    x = d.sample_many(np.random.default_rng(2024), 200_000)
    assert x.shape == (200_000,)
    assert x.min() >= bounds[0] and x.max() <= bounds[1]
    se = x.std() / math.sqrt(len(x))
    assert abs(x.mean() - mean) <= 5 * se + 1e-12  # 5 standard errors: fails by chance ~1 in 10^6


@pytest.mark.parametrize(("d", "mean", "bounds"), CASES, ids=IDS)
def test_single_draws_agree_with_the_mean_too(d: Distribution, mean: float, bounds: tuple[float, float]):
    rng = np.random.default_rng(7)
    x = np.array([d.sample(rng) for _ in range(20_000)])
    assert x.min() >= bounds[0] and x.max() <= bounds[1]
    assert abs(x.mean() - mean) <= 5 * x.std() / math.sqrt(len(x)) + 1e-12


@pytest.mark.parametrize(("d", "mean", "bounds"), CASES, ids=IDS)
def test_the_engines_sampler_draws_exactly_what_sample_draws(d: Distribution, mean: float,
                                                             bounds: tuple[float, float]):
    # same numbers from the same stream, and the stream left in the same state
    a, b = np.random.default_rng(11), np.random.default_rng(11)
    fast = d.sampler()
    assert [d.sample(a) for _ in range(500)] == [fast(b) for _ in range(500)]
    assert a.random() == b.random()


@pytest.mark.parametrize(("d", "elapsed"), [
    (CASES[1][0], 30.0), (CASES[2][0], 40.0), (CASES[3][0], 35.0), (CASES[4][0], 40.0),
    (CASES[5][0], 6.5), (CASES[6][0], 10.0),
])
def test_the_tail_draw_lies_beyond_the_time_spent_and_within_the_bounds(d: Distribution, elapsed: float):
    rng = np.random.default_rng(3)
    x = np.array([d.sample_beyond(rng, elapsed) for _ in range(2000)])
    assert (x > elapsed).all() and (x <= d.bounds[1]).all()


EN = [
    "fixed 7 weeks",
    "exponential, mean 12 weeks",
    "gamma (shape 2.5, scale 8), mean 20 weeks",
    "lognormal (median 18, sigma 0.6), mean 21.5 weeks",
    "triangular 12-52 weeks, mode 26, mean 30 weeks",
    "uniform 2-8 weeks, mean 5 weeks",
    "empirical (4 observed values), mean 17 weeks",
    "empirical (4 observed values), mean 23 weeks",
]
NB = [
    "fast 7 uker",
    "eksponentiell, snitt 12 uker",
    "gamma (form 2,5, skala 8), snitt 20 uker",
    "lognormal (median 18, sigma 0,6), snitt 21,5 uker",
    "triangulær 12\u201352 uker, typisk 26, snitt 30 uker",
    "uniform 2\u20138 uker, snitt 5 uker",
    "empirisk (4 observerte verdier), snitt 17 uker",
    "empirisk (4 observerte verdier), snitt 23 uker",
]


@pytest.mark.parametrize(("case", "en", "nb"), list(zip(CASES, EN, NB, strict=True)), ids=IDS)
def test_describe_in_english_and_bokmal(case, en: str, nb: str):
    d = case[0]
    assert d.describe("en") == en
    assert d.describe("nb") == nb
    assert d.describe() == en  # English by default, as `effekt pathways show` prints


def test_describe_without_the_mean_and_in_the_singular():
    t = Triangular(dist="triangular", low=4, mode=8, high=12)
    assert t.describe("nb", mean=False) == "triangulær 4\u201312 uker, typisk 8"
    assert t.describe("en", mean=False) == "triangular 4-12 weeks, mode 8"
    assert Fixed(dist="fixed", value=1).describe("nb") == "fast 1 uke"
    assert Fixed(dist="fixed", value=1).describe("en") == "fixed 1 week"
    assert Empirical(dist="empirical", values=[3]).describe("nb") == "empirisk (1 observert verdi)"
    assert Fixed(dist="fixed", value=1500).describe("en") == "fixed 1 500 weeks"


def test_describe_refuses_an_unknown_language():
    with pytest.raises(ValueError, match="'de'.*nb, en"):
        Uniform(dist="uniform", low=2, high=8).describe("de")


def test_every_kind_a_pathway_file_can_name_is_a_distribution():
    adapter = TypeAdapter(Duration)
    for d, *_ in CASES:
        data = d.model_dump(by_alias=True, exclude_none=True)
        again = adapter.validate_python(data)
        assert isinstance(again, Distribution) and again == d
    with pytest.raises(ValidationError, match="weibull"):
        adapter.validate_python({"dist": "weibull", "shape": 1.5, "scale": 10})
