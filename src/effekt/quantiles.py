"""Quantiles and supports of the prior families without scipy: what checking a scenario needs.

Loading a scenario checks each prior's 0.1 % and 99.9 % quantiles against the model
(:func:`effekt.priors.tail_problems`) and a point value against the support. Importing
``scipy.stats`` for that costs about a second of CPU (``scipy.special`` alone a quarter), more
than ``effekt validate`` may take in all (issue 14: under 0.3 s). The families' quantiles are
closed forms of the normal quantile (``statistics.NormalDist``: lognormal, normal, truncated
normal) or elementary (uniform, triangular); the beta and gamma quantiles invert the regularised
incomplete beta and gamma functions (continued fraction and series, as in Numerical Recipes
ch. 6.2 and 6.4) by bisection to full double precision. Sampling and means stay with scipy
(:meth:`effekt.priors.Prior.ppf`); tests/test_lazy_imports.py compares these with scipy.stats.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist

_STD = NormalDist()
_EPS = 1e-16
_TINY = 1e-300
_LOG_MAX = math.log(1.7976931348623157e308)  # the largest double's log


def _beta_cf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > _TINY else _TINY
        step = d * c
        h *= step
        if abs(step - 1.0) < _EPS:
            break
    return h


def beta_cdf(x: float, a: float, b: float) -> float:
    """The regularised incomplete beta function I_x(a, b): the beta(a, b) CDF at ``x``."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_cf(a, b, x) / a
    return 1.0 - front * _beta_cf(b, a, 1.0 - x) / b


def gamma_cdf(x: float, shape: float) -> float:
    """The regularised lower incomplete gamma function P(shape, x): the gamma(shape, 1) CDF."""
    if x <= 0.0:
        return 0.0
    log_front = shape * math.log(x) - x - math.lgamma(shape)
    if x < shape + 1.0:  # the series
        term = total = 1.0 / shape
        n = shape
        for _ in range(10_000):
            n += 1.0
            term *= x / n
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return total * math.exp(log_front)
    b = x + 1.0 - shape  # the continued fraction of the upper function (modified Lentz)
    c, d = 1.0 / _TINY, 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - shape)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = b + an / c if abs(b + an / c) > _TINY else _TINY
        step = d * c
        h *= step
        if abs(step - 1.0) < _EPS:
            break
    return 1.0 - math.exp(log_front) * h


def _phi(z: float) -> float:
    """The standard normal cdf by ``erfc``: full relative precision in the lower tail (down to
    about -37 sd), where ``NormalDist.cdf`` (``1 + erf``) cancels to 0 beyond about -8 sd."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def _truncated_standard_quantile(a: float, b: float, q: float) -> float:
    """The ``q`` quantile of the standard normal truncated to [a, b]. A truncation in the upper
    half (a > 0) is reflected into the lower tail (the ``q`` quantile on [a, b] is minus the
    ``1 - q`` quantile on [-b, -a]), where the cdf's tiny values keep their relative precision:
    ``Phi(a) + q (Phi(b) - Phi(a))`` in the upper tail is 1 - 1e-16 or 1 and loses every digit
    (a truncation 8 sd or more above the mean), as scipy.stats.truncnorm avoids in log space."""
    if a > 0:
        return -_truncated_standard_quantile(-b, -a, 1.0 - q)
    lo, hi = _phi(a), _phi(b)
    p = lo + q * (hi - lo)
    return _STD.inv_cdf(min(max(p, _TINY), 1.0 - _EPS))


def _invert(cdf: Callable[[float], float], q: float, lo: float, hi: float) -> float:
    """The x in [lo, hi] where the increasing ``cdf`` reaches ``q``, by bisection until the
    interval cannot shrink (about 60 steps in double precision)."""
    for _ in range(2_000):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if cdf(mid) < q:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def quantile(kind: str, params: tuple[float, ...], q: float, low: float | None = None,
             high: float | None = None) -> float:
    """The ``q`` quantile (0 < q < 1) of the prior family ``kind`` (the names of
    :data:`effekt.priors.KINDS`) with the parameters as written in a file; ``low``/``high``:
    a normal's truncation. ``ValueError`` for a family not known here."""
    if kind == "beta":
        a, b = params
        return _invert(lambda x: beta_cdf(x, a, b), q, 0.0, 1.0)
    if kind == "gamma":
        shape, scale = params
        hi = max(1.0, shape)
        while gamma_cdf(hi, shape) < q:
            hi *= 2.0
        return scale * _invert(lambda x: gamma_cdf(x, shape), q, 0.0, hi)
    if kind == "lognormal":
        median, sigma = params
        power = sigma * _STD.inv_cdf(q)
        # beyond the largest double the quantile is infinite, as scipy.stats.lognorm.ppf says
        return median * (math.exp(power) if power < _LOG_MAX else math.inf)
    if kind == "normal":
        mean, sd = params
        if low is None and high is None:
            return mean + sd * _STD.inv_cdf(q)
        a = -math.inf if low is None else (low - mean) / sd
        b = math.inf if high is None else (high - mean) / sd
        z = _truncated_standard_quantile(a, b, q)
        x = mean + sd * z
        return min(max(x, -math.inf if low is None else low), math.inf if high is None else high)
    if kind == "triangular":
        lo, mode, hi = params
        cut = (mode - lo) / (hi - lo)
        if q <= cut:
            return lo + math.sqrt(q * (hi - lo) * (mode - lo))
        return hi - math.sqrt((1.0 - q) * (hi - lo) * (hi - mode))
    if kind == "uniform":
        lo, hi = params
        return lo + q * (hi - lo)
    raise ValueError(f"no scipy-free quantile for the prior family {kind!r}")


def support(kind: str, params: tuple[float, ...], low: float | None = None,
            high: float | None = None) -> tuple[float, float]:
    """The range of the prior family ``kind``, computed as scipy.stats computes it (the
    standard support times the scale plus the location, so the same floating-point numbers);
    ``ValueError`` for a family not known here."""
    if kind in ("gamma", "lognormal"):
        return 0.0, math.inf
    if kind == "beta":
        return 0.0, 1.0
    if kind == "normal":
        mean, sd = params
        lo = -math.inf if low is None else ((low - mean) / sd) * sd + mean
        hi = math.inf if high is None else ((high - mean) / sd) * sd + mean
        return lo, hi
    if kind in ("triangular", "uniform"):
        lo, hi = params[0], params[-1]
        return lo, (hi - lo) + lo
    raise ValueError(f"no scipy-free support for the prior family {kind!r}")


FAMILIES = frozenset({"beta", "gamma", "lognormal", "normal", "triangular", "uniform"})
"""The prior families :func:`quantile` and :func:`support` know."""
