"""ABC-SMC: approximate Bayesian computation by sequential Monte Carlo (population Monte Carlo).

The method of Toni et al. (2009) with the weights of Beaumont et al. (2009): generation 0 draws
``particles`` parameter vectors from the prior and simulates each; generation ``t`` proposes by
picking a particle of generation ``t - 1`` by its weight and moving it with a Gaussian kernel of
twice the population's weighted covariance, simulates, and accepts when the distance to the
published counts is at most the tolerance ``eps_t``; an accepted particle's weight is
``prior(theta) / sum_j w_j K(theta | theta_j)``. The tolerance of each generation is the
``quantile`` of the previous generation's (weighted) distances, at least the final ``tolerance``,
and always below the previous one while it is above the final one; the run stops when a
generation at the final tolerance is complete or after ``generations``.

**Distance.** The targets are counts of the published size (:mod:`.model`), so the distance is
the largest absolute difference of a simulated and a published count (in people) over the fitted
targets. It is a whole number and can be 0: at ``tolerance = 0`` the last generation is exact ABC,
whose accepted particles are draws from the exact posterior given the counts (for one count and a
beta prior, Beta(a + k, b + n - k); ``tests/test_calibrate_abc.py``).

**Reproducible on any executor.** Every proposal ``i`` of generation ``t`` has its own seeds,
``SeedSequence(seed, spawn_key=(ABC_KEY, t, i, 0))`` for the proposal (which particle, which move)
and ``(ABC_KEY, t, i, 1)`` for its simulation; proposals are simulated in rounds of a fixed number
(``batch``) through the executor seam (:mod:`effekt.experiments.executors`: serial, local
processes or Dask), and the first ``particles`` accepted **in order of proposal** are kept. So
the same seed gives the same posterior whatever the number of workers or the executor (pyabc's
samplers cannot promise this; docs/analysis.md says why).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from scipy import stats

from effekt.priors import Prior

ABC_KEY = 0xABC5
"""First element of every spawn key of a calibration (keys of length 4; replications use keys of
length 1 and 2, the auxiliary streams length 3, so none can coincide)."""

PREDICTIVE = 1_000_000
"""The 'generation' number of the posterior predictive simulations' spawn keys."""


class Model(Protocol):
    """What ABC-SMC fits: ``simulate(theta, seed) -> counts`` (one per target, fitted or not)."""

    def simulate(self, theta: Mapping[str, float], seed: np.random.SeedSequence) -> np.ndarray: ...


@dataclass(frozen=True)
class Generation:
    """One finished generation: its tolerance, simulations run, acceptance rate and effective
    sample size (1 / sum of squared weights)."""

    t: int
    tolerance: float
    simulations: int
    acceptance: float
    ess: float


@dataclass
class Population:
    """The particles of a generation (``theta[i, j]``: particle i, key j), their normalised
    weights, distances and all the simulated counts (fitted and held-out targets)."""

    keys: list[str]
    theta: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    counts: np.ndarray

    def mean(self) -> np.ndarray:
        return self.weights @ self.theta

    def quantiles(self, qs: Sequence[float]) -> np.ndarray:
        """``out[k, j]``: the weighted ``qs[k]`` quantile of key j."""
        return np.array([[weighted_quantile(self.theta[:, j], self.weights, q)
                          for j in range(len(self.keys))] for q in qs])

    def resample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` particle indices drawn by weight."""
        return rng.choice(len(self.weights), size=n, p=self.weights)


@dataclass
class Result:
    """A finished fit: the final population and what each generation did."""

    population: Population
    generations: list[Generation] = field(default_factory=list)
    reached: bool = True
    """Whether the last generation ran at the final tolerance."""

    @property
    def simulations(self) -> int:
        return sum(g.simulations for g in self.generations)


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """The smallest ``x`` whose cumulative weight reaches ``q`` (an inverse of the weighted
    empirical CDF)."""
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    return float(x[order][min(int(np.searchsorted(cum, q * cum[-1] - 1e-12)), len(x) - 1)])


def distance(counts: np.ndarray, observed: np.ndarray, fitted: np.ndarray) -> float:
    """The largest |simulated - published| count over the fitted targets (infinite for no counts:
    a parameter combination the model refuses, which is never accepted)."""
    if len(counts) == 0:
        return math.inf
    return float(np.abs(np.asarray(counts)[fitted] - np.asarray(observed)[fitted]).max())


def seed_of(seed: int, t: int, i: int, what: int) -> np.random.SeedSequence:
    """The seed of proposal ``i`` of generation ``t``: ``what`` 0 proposes, 1 simulates."""
    return np.random.SeedSequence(seed, spawn_key=(ABC_KEY, t, i, what))


class _Priors:
    """Independent priors, frozen once: bounds, inverse CDFs and the log density of many points."""

    def __init__(self, priors: Sequence[Prior]):
        self.rvs = [p.rv() for p in priors]
        self.low = np.array([p.support[0] for p in priors])
        self.high = np.array([p.support[1] for p in priors])

    def inside(self, theta: np.ndarray) -> bool:
        return bool(np.all((theta >= self.low) & (theta <= self.high)))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """``u[i, j]`` -> the j-th prior's quantile."""
        return np.column_stack([rv.ppf(u[:, j]) for j, rv in enumerate(self.rvs)])

    def logpdf(self, theta: np.ndarray) -> np.ndarray:
        """The log density at each row of ``theta`` (-inf outside the support)."""
        out = np.sum([rv.logpdf(theta[:, j]) for j, rv in enumerate(self.rvs)], axis=0)
        inside = np.all((theta >= self.low) & (theta <= self.high), axis=1)
        return np.where(inside, out, -np.inf)


def log_prior(priors: Sequence[Prior], theta: np.ndarray) -> float:
    """The log density of independent priors at one point ``theta`` (-inf outside their support)."""
    return float(_Priors(priors).logpdf(np.atleast_2d(theta))[0])


def _run_chunk(item: tuple[Model, list[tuple[int, dict[str, float], np.random.SeedSequence]]]
               ) -> list[tuple[int, np.ndarray]]:
    """A worker's task: simulate a chunk of proposals (top level, so it pickles)."""
    model, chunk = item
    return [(i, np.asarray(model.simulate(theta, seed), dtype=int)) for i, theta, seed in chunk]


Proposal = tuple[int, np.ndarray, np.random.SeedSequence]


def simulate_all(model: Model, keys: Sequence[str], proposals: list[Proposal], executor: Any,
                 chunk: int) -> dict[int, np.ndarray]:
    """Simulate every proposal ``(index, theta, seed)`` on ``executor``; counts by index."""
    items = [(model, [(i, dict(zip(keys, map(float, th), strict=True)), s)
                      for i, th, s in proposals[k:k + chunk]])
             for k in range(0, len(proposals), chunk)]
    out: dict[int, np.ndarray] = {}
    for _, results in executor.map_unordered(_run_chunk, items):
        out.update(dict(results))
    return out


Progress = Callable[[int, int, int, float], None]
"""``progress(generation, accepted, particles, tolerance)`` after each round."""


def abc_smc(model: Model, priors: Mapping[str, Prior], observed: Sequence[int], fitted: Sequence[bool],
            *, seed: int, executor: Any, particles: int = 400, generations: int = 6, tolerance: float = 0,
            quantile: float = 0.5, batch: int | None = None, progress: Progress | None = None,
            max_simulations: int | None = None) -> Result:
    """Fit ``model``'s parameters (``priors``, in order) to the ``observed`` counts of the
    ``fitted`` targets. See the module's docstring for the method and its reproducibility."""
    keys = list(priors)
    frozen = _Priors([priors[k] for k in keys])
    obs = np.asarray(observed, dtype=int)
    mask = np.asarray(fitted, dtype=bool)
    batch = batch or particles
    workers = max(1, getattr(executor, "workers", 1))
    chunk = max(1, math.ceil(batch / (4 * workers)))
    cap = max_simulations or 500 * particles
    d = len(keys)
    result = Result(population=None)  # type: ignore[arg-type]
    prev: Population | None = None
    eps = math.inf
    for t in range(generations):
        if prev is not None:
            nxt = math.floor(weighted_quantile(prev.distances, prev.weights, quantile))
            if nxt >= eps:
                nxt = eps - 1
            eps = max(float(tolerance), float(nxt))
            cov = 2 * np.atleast_2d(np.cov(prev.theta.T, aweights=prev.weights))
            cov += np.eye(d) * 1e-12 * max(1.0, float(np.abs(cov).max()))
            chol = np.linalg.cholesky(cov)
            kernel = stats.multivariate_normal(mean=np.zeros(d), cov=cov, allow_singular=True)
            cum = np.cumsum(prev.weights)
            cum[-1] = 1.0
        accepted: list[tuple[int, np.ndarray, np.ndarray, float]] = []
        start = 0
        while len(accepted) < particles:
            if start >= cap:
                raise RuntimeError(f"generation {t}: {start} simulations gave {len(accepted)} of "
                                   f"{particles} particles within tolerance {eps:g}; raise the tolerance "
                                   "or check the targets")
            proposals = []
            rngs = [np.random.Generator(np.random.PCG64(seed_of(seed, t, i, 0)))
                    for i in range(start, start + batch)]
            if prev is None:
                thetas = frozen.ppf(np.array([rng.random(d) for rng in rngs]))
            else:
                thetas = np.array([_perturbed(prev.theta, cum, chol, frozen, rng) for rng in rngs])
            proposals = [(start + k, thetas[k], seed_of(seed, t, start + k, 1)) for k in range(batch)]
            sims = simulate_all(model, keys, proposals, executor, chunk)
            for i, th, _ in proposals:  # in order of proposal: independent of who finished first
                dist = distance(sims[i], obs, mask)
                if dist <= eps and math.isfinite(dist) and len(accepted) < particles:
                    accepted.append((i, th, sims[i], dist))
            start += batch
            if progress is not None:
                progress(t, len(accepted), particles, eps)
        theta = np.array([a[1] for a in accepted])
        if prev is None:
            w = np.ones(particles)
        else:
            lp = frozen.logpdf(theta)
            diffs = (theta[:, None, :] - prev.theta[None, :, :]).reshape(-1, d)
            dens = kernel.pdf(diffs).reshape(len(theta), len(prev.theta)) @ prev.weights
            w = np.exp(lp - lp.max()) / dens
        w = w / w.sum()
        prev = Population(keys=keys, theta=theta, weights=w, distances=np.array([a[3] for a in accepted]),
                          counts=np.array([a[2] for a in accepted]))
        result.generations.append(Generation(t=t, tolerance=eps, simulations=start,
                                             acceptance=particles / start, ess=float(1 / np.sum(w ** 2))))
        result.population = prev
        if eps <= tolerance:
            break
    result.reached = eps <= tolerance
    return result


def _perturbed(theta: np.ndarray, cum: np.ndarray, chol: np.ndarray, frozen: _Priors,
               rng: np.random.Generator) -> np.ndarray:
    """A particle picked by weight (``cum``: the weights' cumulative sum) and moved by the
    Gaussian kernel (``chol``: its covariance's Cholesky factor), again until it lies in the
    prior's support."""
    for _ in range(10_000):
        j = min(int(np.searchsorted(cum, rng.random(), side="right")), len(cum) - 1)
        th = theta[j] + chol @ rng.standard_normal(len(chol))
        if frozen.inside(th):
            return th
    raise RuntimeError("the perturbation kernel keeps leaving the prior's support")


def predictive(model: Model, population: Population, n: int, *, seed: int, executor: Any) -> np.ndarray:
    """``n`` studies simulated at particles resampled from the posterior with fresh seeds
    (the posterior predictive distribution of every target's count): ``out[s, target]``."""
    rng = np.random.Generator(np.random.PCG64(seed_of(seed, PREDICTIVE, 0, 0)))
    idx = population.resample(n, rng)
    proposals = [(s, population.theta[idx[s]], seed_of(seed, PREDICTIVE, s, 1)) for s in range(n)]
    workers = max(1, getattr(executor, "workers", 1))
    sims = simulate_all(model, population.keys, proposals, executor, max(1, math.ceil(n / (4 * workers))))
    return np.array([sims[s] for s in range(n)])


__all__ = ["ABC_KEY", "Generation", "Model", "Population", "Result", "abc_smc", "distance", "log_prior",
           "predictive", "seed_of", "weighted_quantile"]
