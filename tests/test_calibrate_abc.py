"""The ABC-SMC machinery of ``effekt calibrate`` on models with a closed-form posterior.

A count k of n with a beta(a, b) prior on the probability: exact ABC (final tolerance 0) accepts
a particle only when the simulated count equals k, so its accepted particles are draws from the
exact posterior Beta(a + k, b + n - k) (conjugacy). The checks compare the weighted particles'
mean and 5 % / 95 % quantiles with that posterior within their Monte Carlo error (from the
effective sample size). Coverage across repeated fits is under the ``calibration`` marker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

from effekt.experiments.calibrate.abc_smc import abc_smc, predictive, seed_of, weighted_quantile
from effekt.experiments.executors import ProcessExecutor, SerialExecutor
from effekt.priors import parse_prior


@dataclass(frozen=True)
class Binomials:
    """Counts of ``sizes[j]`` people, each in the count with probability ``theta[keys[j]]``."""

    sizes: tuple[int, ...]
    keys: tuple[str, ...] = ("p",)

    def simulate(self, theta, seed):
        rng = np.random.Generator(np.random.PCG64(seed))
        return np.array([rng.binomial(n, theta[k]) for n, k in zip(self.sizes, self.keys, strict=True)])


def _fit(model, priors, observed, seed=7, particles=400, executor=None, tolerance=0, **kw):
    return abc_smc(model, priors, observed, [True] * len(observed), seed=seed,
                   executor=executor or SerialExecutor(), particles=particles, generations=10,
                   tolerance=tolerance, **kw)


def test_exact_abc_recovers_the_conjugate_beta_posterior():
    a, b, k, n = 2, 3, 24, 61
    res = _fit(Binomials((n,)), {"p": parse_prior({"beta": [a, b]})}, [k])
    assert res.reached and res.generations[-1].tolerance == 0
    pop = res.population
    assert (pop.counts[:, 0] == k).all()  # exact: every accepted study has the published count
    exact = stats.beta(a + k, b + n - k)
    ess = res.generations[-1].ess
    assert ess > 250
    se_mean = exact.std() / math.sqrt(ess)
    assert abs(pop.mean()[0] - exact.mean()) < 4 * se_mean, (pop.mean(), exact.mean())
    for q in (0.05, 0.95):
        xq = exact.ppf(q)
        se_q = math.sqrt(q * (1 - q) / ess) / exact.pdf(xq)  # asymptotic sd of a sample quantile
        got = weighted_quantile(pop.theta[:, 0], pop.weights, q)
        assert abs(got - xq) < 4 * se_q, (q, got, xq)


def test_a_held_out_count_does_not_change_the_fit():
    prior = {"p": parse_prior({"beta": [1, 1]})}
    fitted = abc_smc(Binomials((40,)), prior, [10], [True], seed=3, executor=SerialExecutor(), particles=150,
                     generations=10)
    both = abc_smc(Binomials((40, 40), ("p", "p")), prior, [10, 39], [True, False], seed=3,
                   executor=SerialExecutor(), particles=150, generations=10)
    # the held-out count (39 of 40, far from the fitted 10) is simulated but never weighs in
    assert both.population.theta.mean() == pytest.approx(fitted.population.theta.mean(), abs=0.03)
    assert abs(both.population.mean()[0] - 11 / 42) < 0.03


def test_the_same_seed_gives_the_same_posterior_on_one_and_two_workers():
    model, prior = Binomials((30, 20), ("p", "q")), {"p": parse_prior({"beta": [1, 1]}),
                                                     "q": parse_prior({"uniform": [0, 1]})}
    one = _fit(model, prior, [12, 5], particles=100, tolerance=1)
    with ProcessExecutor(2) as ex:
        two = _fit(model, prior, [12, 5], particles=100, tolerance=1, executor=ex)
        pred2 = predictive(model, two.population, 50, seed=7, executor=ex)
    assert np.array_equal(one.population.theta, two.population.theta)
    assert np.array_equal(one.population.weights, two.population.weights)
    assert [g.simulations for g in one.generations] == [g.simulations for g in two.generations]
    assert np.array_equal(predictive(model, one.population, 50, seed=7, executor=SerialExecutor()), pred2)
    other = _fit(model, prior, [12, 5], seed=8, particles=100, tolerance=1)
    assert not np.array_equal(one.population.theta, other.population.theta)


def test_the_round_size_is_part_of_the_method_not_of_the_executor():
    # a different fixed batch is a different (equally valid) run; the same batch is the same run
    model, prior = Binomials((30,)), {"p": parse_prior({"beta": [1, 1]})}
    a = _fit(model, prior, [12], particles=100, batch=100)
    b = _fit(model, prior, [12], particles=100, batch=100)
    assert np.array_equal(a.population.theta, b.population.theta)


def test_seeds_are_distinct_per_generation_proposal_and_use():
    keys = {seed_of(1, t, i, w).spawn_key for t in range(3) for i in range(5) for w in (0, 1)}
    assert len(keys) == 30
    # and never those of a replication (length 1 or 2) or an auxiliary stream (length 3)
    assert all(len(k) == 4 for k in keys)


def test_weighted_quantile_is_the_inverse_of_the_weighted_cdf():
    x = np.array([3.0, 1.0, 2.0])
    w = np.array([0.5, 0.25, 0.25])
    assert weighted_quantile(x, w, 0.2) == 1.0
    assert weighted_quantile(x, w, 0.25) == 1.0
    assert weighted_quantile(x, w, 0.3) == 2.0
    assert weighted_quantile(x, w, 0.9) == 3.0


def test_a_model_that_refuses_a_combination_is_never_accepted_there():
    @dataclass(frozen=True)
    class Refusing:
        def simulate(self, theta, seed):
            if theta["p"] > 0.5:
                return np.zeros(0, dtype=int)  # the model refuses: prior probability 0
            return Binomials((20,)).simulate(theta, seed)

    res = abc_smc(Refusing(), {"p": parse_prior({"uniform": [0, 1]})}, [9], [True], seed=1,
                  executor=SerialExecutor(), particles=100, generations=6)
    assert (res.population.theta <= 0.5).all()


@pytest.mark.calibration
def test_coverage_of_the_90_percent_credible_interval_across_repeated_fits():
    """120 fits, each to counts simulated at parameters drawn from the prior: a Bayesian 90 %
    credible interval covers the true value with probability 0.9 exactly when the truth is drawn
    from the prior, so the share of fits covering it is binomial(120, 0.9) per parameter (sd 0.027):
    both parameters' coverage must lie within 3 sd of 0.9. (About 2 minutes on an idle core.)"""
    fits = 120
    rng = np.random.default_rng(20261201)
    priors = {"p": parse_prior({"beta": [2, 2]}), "q": parse_prior({"uniform": [0.1, 0.9]})}
    model = Binomials((12, 8), ("p", "q"))  # small counts: exact ABC stays cheap, coverage stays exact
    hits = np.zeros(2)
    for f in range(fits):
        truth = {"p": float(priors["p"].sample(rng, 1)[0]), "q": float(priors["q"].sample(rng, 1)[0])}
        observed = model.simulate(truth, np.random.SeedSequence(99, spawn_key=(f,)))
        res = _fit(model, priors, list(observed), seed=f, particles=200)
        q = res.population.quantiles([0.05, 0.95])
        hits += [(q[0, j] <= truth[k] <= q[1, j]) for j, k in enumerate(("p", "q"))]
    cover = hits / fits
    sd = math.sqrt(0.9 * 0.1 / fits)
    assert (np.abs(cover - 0.9) < 3 * sd).all(), cover
