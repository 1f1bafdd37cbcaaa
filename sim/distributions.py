"""Duration distributions, declared in data files and sampled from a handed-in Generator.

A stage in a pathway file says how long it takes with a small table such as
``{ dist = "triangular", low = 12, mode = 26, high = 52 }``. Every duration is in **weeks**
(the simulation clock's unit). Each model validates its own parameters, so a bad file fails when
it is loaded, not in the middle of a run.

Each distribution owns what is known about it (after Ciw's ``ciw.dists``), so the engine and the
command line never switch on the ``dist`` name:

* :meth:`~Distribution.sample` draws one duration from any ``numpy.random.Generator`` (never a
  global one); :meth:`~Distribution.sampler` gives the engine a closure that draws exactly the
  same numbers with no attribute look-ups; :meth:`~Distribution.sample_many` draws ``n`` at once
  (for checks and plots; not the same stream as ``n`` calls of ``sample``);
* :meth:`~Distribution.sample_beyond` draws a whole duration given that it is longer than a time
  already spent (an initial caseload part-way through a stage);
* :attr:`~Distribution.mean` and :attr:`~Distribution.bounds` (shortest and longest possible
  duration, ``inf`` where unbounded) are closed forms, for documentation, validation and tests;
* :meth:`~Distribution.describe` is one line for people, in bokmål (``nb``) or English (``en``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import Field, model_validator

from effekt import lazy
from effekt.specfile import Strict, en_number, nb_number, said

np = lazy.module("numpy", globals())  # on first use: checking a pathway needs no numpy (issue 14)

Sampler = Callable[["np.random.Generator"], float]
"""A function drawing one duration (weeks) from a Generator."""

LANGS = ("nb", "en")
_WORDS = {
    "nb": {"week": "uke", "weeks": "uker", "mean": "snitt", "range": "\u2013"},
    "en": {"week": "week", "weeks": "weeks", "mean": "mean", "range": "-"},
}
"""Words of :meth:`Distribution.describe`. English ranges keep the plain hyphen that
``effekt pathways show`` has always printed ("8-20 weeks"); bokmål uses the en dash."""


def _words(lang: str) -> dict[str, str]:
    if lang not in _WORDS:
        raise ValueError(f"describe: unknown language {lang!r}; allowed: {', '.join(LANGS)}")
    return _WORDS[lang]


def _num(x: float, lang: str) -> str:
    """A number without noise (4, 0.5, 26.7; 26,7 in bokmål; 1 000 from a thousand on)."""
    s = f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}".replace(",", " ")
    return s.replace(".", ",") if lang == "nb" else s


def _weeks(x: float, lang: str) -> str:
    """``x`` weeks, singular for exactly one."""
    w = _words(lang)
    return f"{_num(x, lang)} {w['week'] if x == 1 else w['weeks']}"


MAX_WEEKS = 5200.0
"""The longest duration a stage may have, and the largest mean (100 years, in weeks): no stage
of a working life lasts longer, and a number beyond it is a typo (a triangular ``high`` of 1e154
once sampled -inf, so that time ran backwards)."""


class Distribution(Strict):
    """A duration in weeks: what every ``dist`` of a pathway file can do.

    Subclasses set ``dist`` (the name in the file) and implement :meth:`sample`, :attr:`mean`,
    :attr:`bounds`, :meth:`_what` and :meth:`sample_beyond`; :meth:`sampler` and
    :meth:`sample_many` have general versions that a subclass makes faster.
    """

    dist: str

    @model_validator(mode="after")
    def _bounded(self) -> Distribution:
        """Every duration ends within :data:`MAX_WEEKS`, on average and at its longest where the
        distribution is bounded (an unbounded one, e.g. exponential, by its mean)."""
        low, high = self.bounds
        mean = self.mean  # inf where it overflows (the means computed with numpy say so quietly)
        if not math.isfinite(mean) or mean > MAX_WEEKS or (math.isfinite(high) and high > MAX_WEEKS):
            raise ValueError(said(f"a duration must end within {MAX_WEEKS:.0f} weeks (100 years); this one "
                                  f"has mean {en_number(mean, 4)} and longest {en_number(high, 4)} weeks",
                                  f"en varighet må ta slutt innen {nb_number(MAX_WEEKS)} uker (100 år); "
                                  f"denne har gjennomsnitt {nb_number(mean, 4)} og lengste "
                                  f"{nb_number(high, 4)} uker"))
        return self

    def sample(self, rng: np.random.Generator) -> float:  # pragma: no cover - abstract
        """One duration drawn from ``rng``."""
        raise NotImplementedError

    def sampler(self) -> Sampler:
        """A closure drawing what :meth:`sample` draws, consuming ``rng`` the same way, with the
        parameters bound once: the engine calls it once per stage a person passes."""
        return self.sample

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` durations at once (one vectorised Generator call where numpy has one)."""
        return np.array([self.sample(rng) for _ in range(n)], dtype=float)

    @property
    def mean(self) -> float:  # pragma: no cover - abstract
        """The expected duration in weeks."""
        raise NotImplementedError

    @property
    def bounds(self) -> tuple[float, float]:  # pragma: no cover - abstract
        """(shortest, longest) duration this distribution can give; ``inf`` where unbounded. A
        stage already under way for the longest cannot go on (see ``Cohort.elapsed_weeks``)."""
        raise NotImplementedError

    def _what(self, lang: str) -> str:  # pragma: no cover - abstract
        """The distribution and its parameters, in ``lang``, without the mean."""
        raise NotImplementedError

    def describe(self, lang: str = "en", mean: bool = True) -> str:
        """One line for people: the distribution, its parameters and (with ``mean``) its mean,
        e.g. ``triangular 8-20 weeks, mode 12, mean 13.3 weeks`` or ``triangulær 8–20 uker,
        typisk 12, snitt 13,3 uker``. ``lang`` is ``"nb"`` or ``"en"``. A distribution with one
        possible value (``fixed 4 weeks``) gives no mean: it would only repeat the value."""
        words = _words(lang)
        text = self._what(lang)
        low, high = self.bounds
        if not mean or low == high:  # one possible value: its mean says nothing new
            return text
        return f"{text}, {words['mean']} {_weeks(self.mean, lang)}"

    def sample_beyond(self, rng: np.random.Generator, elapsed: float) -> float:  # pragma: no cover
        """A duration drawn given that it is longer than ``elapsed`` (which must be below the
        upper end of :attr:`bounds`): the whole duration of a stage a person has already spent
        ``elapsed`` weeks in (an initial caseload). Exact, by the inverse of the survival function,
        so it works as well far in the tail as near the start."""
        raise NotImplementedError


class Fixed(Distribution):
    """Always the same duration: deterministic pathways and verification tests."""

    dist: Literal["fixed"]
    value: float = Field(ge=0)

    def sample(self, rng: np.random.Generator) -> float:
        return self.value

    def sampler(self) -> Sampler:
        value = float(self.value)
        return lambda rng: value

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, float(self.value))

    @property
    def mean(self) -> float:
        return self.value

    @property
    def bounds(self) -> tuple[float, float]:
        return (self.value, self.value)

    def _what(self, lang: str) -> str:
        return f"{'fast' if lang == 'nb' else 'fixed'} {_weeks(self.value, lang)}"

    def sample_beyond(self, rng: np.random.Generator, elapsed: float) -> float:
        return self.value


class Exponential(Distribution):
    """Memoryless duration with the given mean (weeks)."""

    dist: Literal["exponential"]
    mean_weeks: float = Field(gt=0, alias="mean")

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.exponential(self.mean_weeks))

    def sampler(self) -> Sampler:
        mean = float(self.mean_weeks)
        return lambda rng: rng.exponential(mean)

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean_weeks, n)

    @property
    def mean(self) -> float:
        return self.mean_weeks

    @property
    def bounds(self) -> tuple[float, float]:
        return (0.0, math.inf)

    def _what(self, lang: str) -> str:
        return "eksponentiell" if lang == "nb" else "exponential"

    def sample_beyond(self, rng: np.random.Generator, elapsed: float) -> float:
        return elapsed + float(rng.exponential(self.mean_weeks))  # memoryless


class Gamma(Distribution):
    """Gamma with shape ``k`` and scale ``theta`` (mean k·theta)."""

    dist: Literal["gamma"]
    shape: float = Field(gt=0)
    scale: float = Field(gt=0)

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.gamma(self.shape, self.scale))

    def sampler(self) -> Sampler:
        shape, scale = float(self.shape), float(self.scale)
        return lambda rng: rng.gamma(shape, scale)

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.gamma(self.shape, self.scale, n)

    @property
    def mean(self) -> float:
        return self.shape * self.scale

    @property
    def bounds(self) -> tuple[float, float]:
        return (0.0, math.inf)

    def _what(self, lang: str) -> str:
        shape, scale = ("form", "skala") if lang == "nb" else ("shape", "scale")
        return f"gamma ({shape} {_num(self.shape, lang)}, {scale} {_num(self.scale, lang)})"

    def sample_beyond(self, rng: np.random.Generator, elapsed: float) -> float:
        from scipy.special import gammaincc, gammainccinv  # only initial caseloads need it

        tail = float(gammaincc(self.shape, elapsed / self.scale))  # P(D > elapsed)
        if tail <= 0.0:  # beyond floating point: the hazard has reached its limit 1/scale
            return elapsed + float(rng.exponential(self.scale))
        x = self.scale * float(gammainccinv(self.shape, tail * (1.0 - rng.random())))
        return max(x, math.nextafter(elapsed, math.inf))


class LogNormal(Distribution):
    """Log-normal given by the ``median`` and the log-scale ``sigma``."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(ge=0)

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.lognormal(np.log(self.median), self.sigma))

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.lognormal(np.log(self.median), self.sigma, n)

    @property
    def mean(self) -> float:
        with np.errstate(over="ignore"):  # a huge sigma overflows to inf, which _bounded refuses
            return float(self.median * np.exp(self.sigma**2 / 2))

    @property
    def bounds(self) -> tuple[float, float]:
        if self.sigma == 0:  # always the median
            return (self.median, self.median)
        return (0.0, math.inf)

    def _what(self, lang: str) -> str:
        return f"lognormal (median {_num(self.median, lang)}, sigma {_num(self.sigma, lang)})"

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


class Triangular(Distribution):
    """Triangular between ``low`` and ``high`` with its peak at ``mode``: a planner's best guess."""

    dist: Literal["triangular"]
    low: float = Field(ge=0)
    mode: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError(said("needs low <= mode <= high and low < high",
                                  "krever low <= mode <= high og low < high"))
        return self

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.triangular(self.low, self.mode, self.high))

    def sampler(self) -> Sampler:
        """numpy's own triangular draw (``random_triangular`` of its distributions library: one
        uniform, the inverse CDF), with what depends only on the parameters worked out once: the
        same numbers bit for bit, the same operations in the same order, at about half the cost
        of ``rng.triangular``'s argument checks per call (issue 14)."""
        left, mode, right = float(self.low), float(self.mode), float(self.high)
        base = right - left
        leftbase = mode - left
        ratio = leftbase / base
        leftprod = leftbase * base
        rightprod = (right - mode) * base
        sqrt = math.sqrt

        def draw(rng: np.random.Generator) -> float:
            u = rng.random()
            return left + sqrt(u * leftprod) if u <= ratio else right - sqrt((1.0 - u) * rightprod)

        return draw

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, n)

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def bounds(self) -> tuple[float, float]:
        return (self.low, self.high)

    def _what(self, lang: str) -> str:
        w = _words(lang)
        span = f"{_num(self.low, lang)}{w['range']}{_num(self.high, lang)} {w['weeks']}"
        if lang == "nb":
            return f"triangulær {span}, typisk {_num(self.mode, lang)}"
        return f"triangular {span}, mode {_num(self.mode, lang)}"

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


class Uniform(Distribution):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(said("needs low < high", "krever low < high"))
        return self

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    def sampler(self) -> Sampler:
        """numpy's own uniform draw (``low + (high - low) * u``, ``random_uniform`` of its
        distributions library) on one ``rng.random()``: the same numbers bit for bit, without
        ``rng.uniform``'s argument checks per call (issue 14)."""
        lo = float(self.low)
        span = float(self.high) - lo
        return lambda rng: lo + span * rng.random()

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def bounds(self) -> tuple[float, float]:
        return (self.low, self.high)

    def _what(self, lang: str) -> str:
        w = _words(lang)
        return f"uniform {_num(self.low, lang)}{w['range']}{_num(self.high, lang)} {w['weeks']}"

    def sample_beyond(self, rng: np.random.Generator, elapsed: float) -> float:
        lo = max(self.low, elapsed)
        return max(float(rng.uniform(lo, self.high)), math.nextafter(elapsed, math.inf))


class Empirical(Distribution):
    """Resample observed durations, optionally with weights (e.g. from a programme's records)."""

    dist: Literal["empirical"]
    values: list[Annotated[float, Field(ge=0)]] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(said("weights must have as many entries as values",
                                      "weights må ha like mange verdier som values"))
            if sum(self.weights) <= 0:
                raise ValueError(said("weights must not all be zero", "weights kan ikke alle være null"))
        return self

    def _p(self) -> np.ndarray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def _possible(self) -> list[float]:
        """The values that can be drawn (those with a positive weight)."""
        weights = self.weights or [1.0] * len(self.values)
        return [v for v, w in zip(self.values, weights, strict=True) if w > 0]

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.choice(np.asarray(self.values), p=self._p()))

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values, dtype=float), size=n, p=self._p())

    @property
    def mean(self) -> float:
        p = self._p()
        v = np.asarray(self.values)
        with np.errstate(over="ignore"):  # huge values overflow to inf, which _bounded refuses
            return float(v.mean() if p is None else (v * p).sum())

    @property
    def bounds(self) -> tuple[float, float]:
        possible = self._possible()
        return (min(possible), max(possible))

    def _what(self, lang: str) -> str:
        n = len(self.values)
        if lang == "nb":
            return f"empirisk ({n} {'observert verdi' if n == 1 else 'observerte verdier'})"
        return f"empirical ({n} observed value{'' if n == 1 else 's'})"

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
