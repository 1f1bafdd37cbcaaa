"""Duration distributions, declared in data files and sampled from a handed-in Generator.

A stage in a pathway file says how long it takes with a small table such as
``{ dist = "triangular", low = 12, mode = 26, high = 52 }``. Every duration is in **weeks**
(the simulation clock's unit). Each model validates its own parameters, so a bad file fails when
it is loaded, not in the middle of a run, and each one can ``sample`` with any
``numpy.random.Generator`` (never a global one) and report its ``mean`` for documentation and
verification tests.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from effekt.specfile import Strict


class _Dist(Strict):

    def sample(self, rng: np.random.Generator) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def upper(self) -> float:
        """The longest duration this distribution can give (``inf`` when unbounded): a stage
        already under way for that long cannot go on (see ``Cohort.elapsed_weeks``)."""
        return math.inf

    def sample_beyond(self, rng: np.random.Generator, elapsed: float) -> float:  # pragma: no cover
        """A duration drawn given that it is longer than ``elapsed`` (which must be below
        :attr:`upper`): the whole duration of a stage a person has already spent ``elapsed`` weeks
        in (an initial caseload). Exact, by the inverse of the survival function, so it works as
        well far in the tail as near the start."""
        raise NotImplementedError


class Fixed(_Dist):
    """Always the same duration: deterministic pathways and verification tests."""

    dist: Literal["fixed"]
    value: float = Field(ge=0)

    def sample(self, rng: np.random.Generator) -> float:
        return self.value

    @property
    def mean(self) -> float:
        return self.value

    @property
    def upper(self) -> float:
        return self.value

    def sample_beyond(self, rng: np.random.Generator, elapsed: float) -> float:
        return self.value


class Exponential(_Dist):
    """Memoryless duration with the given mean (weeks)."""

    dist: Literal["exponential"]
    mean_weeks: float = Field(gt=0, alias="mean")

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.exponential(self.mean_weeks))

    @property
    def mean(self) -> float:
        return self.mean_weeks

    def sample_beyond(self, rng: np.random.Generator, elapsed: float) -> float:
        return elapsed + float(rng.exponential(self.mean_weeks))  # memoryless


class Gamma(_Dist):
    """Gamma with shape ``k`` and scale ``theta`` (mean k·theta)."""

    dist: Literal["gamma"]
    shape: float = Field(gt=0)
    scale: float = Field(gt=0)

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.gamma(self.shape, self.scale))

    @property
    def mean(self) -> float:
        return self.shape * self.scale

    def sample_beyond(self, rng: np.random.Generator, elapsed: float) -> float:
        from scipy.special import gammaincc, gammainccinv  # only initial caseloads need it

        tail = float(gammaincc(self.shape, elapsed / self.scale))  # P(D > elapsed)
        if tail <= 0.0:  # beyond floating point: the hazard has reached its limit 1/scale
            return elapsed + float(rng.exponential(self.scale))
        x = self.scale * float(gammainccinv(self.shape, tail * (1.0 - rng.random())))
        return max(x, math.nextafter(elapsed, math.inf))


class LogNormal(_Dist):
    """Log-normal given by the ``median`` and the log-scale ``sigma``."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(ge=0)

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.lognormal(np.log(self.median), self.sigma))

    @property
    def mean(self) -> float:
        return float(self.median * np.exp(self.sigma**2 / 2))

    @property
    def upper(self) -> float:
        return self.median if self.sigma == 0 else math.inf  # sigma 0: always the median

    def sample_beyond(self, rng: np.random.Generator, elapsed: float) -> float:
        if self.sigma == 0 or elapsed <= 0:
            return self.median if self.sigma == 0 else self.sample(rng)
        from scipy.special import ndtr, ndtri  # only initial caseloads need it

        z0 = (math.log(elapsed) - math.log(self.median)) / self.sigma
        tail = float(ndtr(-z0))  # P(D > elapsed)
        if tail <= 0.0:  # beyond floating point: the normal tail beyond z0 is about z0 + Exp(1/z0)
            z = z0 + float(rng.exponential(1.0 / z0))
        else:
            z = -float(ndtri(tail * (1.0 - rng.random())))
        return max(self.median * math.exp(self.sigma * z), math.nextafter(elapsed, math.inf))


class Triangular(_Dist):
    """Triangular between ``low`` and ``high`` with its peak at ``mode``: a planner's best guess."""

    dist: Literal["triangular"]
    low: float = Field(ge=0)
    mode: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError("needs low <= mode <= high and low < high")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.triangular(self.low, self.mode, self.high))

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def upper(self) -> float:
        return self.high

    def sample_beyond(self, rng: np.random.Generator, elapsed: float) -> float:
        a, c, b = self.low, self.mode, self.high

        def survival(x: float) -> float:
            if x <= a:
                return 1.0
            if x <= c:
                return 1.0 - (x - a) ** 2 / ((b - a) * (c - a))
            return (b - x) ** 2 / ((b - a) * (b - c))

        s = survival(elapsed) * (1.0 - rng.random())  # in (0, S(elapsed)]
        if s <= (b - c) / (b - a):  # beyond the mode
            x = b - math.sqrt(s * (b - a) * (b - c))
        else:
            x = a + math.sqrt((1.0 - s) * (b - a) * (c - a))
        return max(x, math.nextafter(elapsed, math.inf))


class Uniform(_Dist):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError("needs low < high")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def upper(self) -> float:
        return self.high

    def sample_beyond(self, rng: np.random.Generator, elapsed: float) -> float:
        lo = max(self.low, elapsed)
        return max(float(rng.uniform(lo, self.high)), math.nextafter(elapsed, math.inf))


class Empirical(_Dist):
    """Resample observed durations, optionally with weights (e.g. from a programme's records)."""

    dist: Literal["empirical"]
    values: list[Annotated[float, Field(ge=0)]] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have as many entries as values")
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self

    def _p(self) -> np.ndarray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.choice(np.asarray(self.values), p=self._p()))

    @property
    def mean(self) -> float:
        p = self._p()
        v = np.asarray(self.values)
        return float(v.mean() if p is None else (v * p).sum())

    @property
    def upper(self) -> float:
        weights = self.weights or [1.0] * len(self.values)
        return max(v for v, w in zip(self.values, weights, strict=True) if w > 0)

    def sample_beyond(self, rng: np.random.Generator, elapsed: float) -> float:
        weights = self.weights or [1.0] * len(self.values)
        kept = [(v, w) for v, w in zip(self.values, weights, strict=True) if v > elapsed and w > 0]
        values = np.asarray([v for v, _ in kept])
        w = np.asarray([w for _, w in kept], dtype=float)
        return float(rng.choice(values, p=w / w.sum()))


Duration = Annotated[
    Fixed | Exponential | Gamma | LogNormal | Triangular | Uniform | Empirical,
    Field(discriminator="dist"),
]
"""Any of the supported duration distributions, chosen by the ``dist`` key."""

DIST_NAMES = ("fixed", "exponential", "gamma", "lognormal", "triangular", "uniform", "empirical")
