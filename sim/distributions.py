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
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

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


class Exponential(_Dist):
    """Memoryless duration with the given mean (weeks)."""

    dist: Literal["exponential"]
    mean_weeks: float = Field(gt=0, alias="mean")

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.exponential(self.mean_weeks))

    @property
    def mean(self) -> float:
        return self.mean_weeks


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


Duration = Annotated[
    Fixed | Exponential | Gamma | LogNormal | Triangular | Uniform | Empirical,
    Field(discriminator="dist"),
]
"""Any of the supported duration distributions, chosen by the ``dist`` key."""

DIST_NAMES = ("fixed", "exponential", "gamma", "lognormal", "triangular", "uniform", "empirical")
