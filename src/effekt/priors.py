"""Priors: a number in a data file given as a distribution of what it might be.

Most numbers in the pathway, target-group, benefit and contract files are assumptions, and a
calibrated number is only as good as the count it was fitted to. Any of them may be written as a
distribution table instead of a number (the key is the distribution's name, its value the
parameters)::

    p = { beta = [25.1, 15.4] }                       # a probability: beta(a, b)
    entry_rate_multiplier = { value = 1.4, lognormal = [1.4, 0.2] }
    rate = { gamma = [4, 0.05] }                      # shape and SCALE (mean = shape x scale)
    sd = { normal = [0.5, 0.1], low = 0 }             # mean and sd, optionally truncated to [low, high]
    price = { triangular = [40000, 60000, 90000] }    # low, mode, high
    share = { uniform = [0.1, 0.3] }                  # low, high
    slots = { point = 10 }                            # a point mass: the number itself
    slots = { gamma = [20, 0.5], integer = true }     # draws rounded to whole numbers

``lognormal = [median, sigma]``: the log of the number is normal with mean log(median) and
standard deviation sigma. ``gamma = [shape, scale]``: the scale, not the rate (scipy's and numpy's
convention), so the mean is shape x scale.

**The point value**, used wherever no draws are asked for (every ``effekt run`` without
``--draws``, ``effekt pathways show``, the base of ``effekt sensitivity``): ``value`` when the table
gives one (so a calibrated number is kept exactly: ``p = { value = 0.62, beta = [25.1, 15.4] }``),
else the distribution's mean (the point itself for ``point``). ``value`` must lie in the
distribution's support.

**One unknown behind several numbers**, ``shared = "name"``: priors with the same shared name are
drawn at the same quantile in every draw (perfectly rank-correlated; identical when their
distributions are), e.g. every target group's ``employability_sd``, which no figure distinguishes
by group. Drawn independently, five numbers standing for one unknown would average its effect away
in any KPI over several groups and split its value of information into five rows.

**Draws** (two-level Monte Carlo, ``[design.parameters] draws = N``): each prior is sampled by its
inverse CDF (:meth:`Prior.ppf`) at unit numbers from a Latin hypercube or plain random numbers
(:func:`draw`), squeezed into the central ``1 - 2 TAIL`` (99.8 %) of each distribution, so no draw
lies further out than the quantiles the model was checked at (:func:`tail_problems`): a prior is
refused when the model does not accept its 0.1 % or 99.9 % quantile (a uniform [0.2, 1.4] on a
probability), naming the file and the key.

**A calibrated number**, ``{ calibrated = "springbrett" }``: the posterior ``effekt calibrate``
wrote (:class:`CalibratedPrior`). The name is looked up as ``calibrations/<name>.posterior.toml`` in
the folder of the file that names it (:func:`find_posterior`; the current folder only when no file
does, e.g. ``--set``), then in the folders of built-in posteriors that upper layers register
(:func:`register_posterior_folder`: this base layer knows none of its own); a path (with a ``/``
or ending in ``.toml``) is read against the same folder. The number is the
posterior's parameter of the same dotted key (a pathway file's ``stages.x.exits[1].p`` matches the
posterior's ``pathway.stages.x.exits[1].p``); ``parameter = "KEY"`` names it explicitly. Without
draws the point value is the posterior mean (``value`` overrides it). **Draws are joint**: every
number drawn from one posterior file takes the same particle in one outer draw (:func:`draw` gives
them one unit number, which picks a particle by the weights' cumulative sum), so the posterior's
correlations are kept.

Each distribution owns its sampling, mean, quantiles and description in bokmål and English (after
Ciw's ``ciw/dists/distributions.py``), through scipy.stats. :func:`find_priors` finds the priors in
a table (a file, a scenario's tree), :func:`with_values` sets numbers in their place.
"""

from __future__ import annotations

import copy
import difflib
import functools
import importlib
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from effekt import lazy
from effekt import quantiles as _closed
from effekt.dotted import Part, format_key, set_value
from effekt.specfile import Said, joined, keyed, problem_text
from effekt.specfile import said as _said

np = lazy.module("numpy", globals())  # on first use: reading and checking priors needs none (issue 14)


class _Lazy:
    """A module imported on its first use: scipy.stats costs about 0.3 s of start-up, which a
    scenario without priors (``effekt validate``, ``effekt run`` of the default) never needs."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


stats = _Lazy("scipy.stats")
qmc = _Lazy("scipy.stats.qmc")

TAIL = 0.001
"""Draws stay inside each prior's central ``1 - 2 TAIL``; the model must accept both ends."""

SAMPLERS = ("lhs", "random")

LANGS = ("nb", "en")

_WORDS = {
    "en": {"mean": "mean", "between": "90 % between {lo} and {hi}", "value": "{v} without draws",
           "point": "point mass at {v}", "names": {
               "beta": "beta", "gamma": "gamma", "lognormal": "lognormal", "normal": "normal",
               "triangular": "triangular", "uniform": "uniform", "point": "point mass"},
           "truncated": "truncated to [{lo}, {hi}]", "integer": "whole numbers"},
    "nb": {"mean": "gjennomsnitt", "between": "90 % mellom {lo} og {hi}", "value": "{v} uten trekninger",
           "point": "punktmasse i {v}", "names": {
               "beta": "beta", "gamma": "gamma", "lognormal": "lognormal", "normal": "normal",
               "triangular": "trekant", "uniform": "uniform", "point": "punktmasse"},
           "truncated": "avkortet til [{lo}, {hi}]", "integer": "hele tall"},
}
"""The words of :meth:`Prior.describe` in bokmål and English."""


class PriorError(ValueError):
    """A distribution table that is not a valid prior (the message names no key: callers add it)."""


def _message(err: Exception) -> str:
    """An error's message, its bokmål wording kept when it was raised with one (a :class:`Said`)."""
    first = err.args[0] if err.args else None
    return first if isinstance(first, Said) else str(err)


def _num(x: float, lang: str = "en") -> str:
    """A number without noise (0.62, 1.4, 25.1, 40 000; a decimal comma in bokmål)."""
    if isinstance(x, int | np.integer) and not isinstance(x, bool):
        s = f"{int(x):,}".replace(",", " ")
    elif abs(x) >= 10000:
        s = f"{x:,.0f}".replace(",", " ")
    else:
        s = f"{x:.4g}"
    return s.replace(".", ",") if lang == "nb" else s


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


@dataclass(frozen=True)
class Prior:
    """A distribution over one number. ``params`` as written in the file (in the order of
    :attr:`param_names`); ``value``: the explicit point value, if given; ``integer``: draws are
    rounded to whole numbers; ``low``/``high``: a normal's truncation; ``shared``: the name of one
    unknown several numbers stand for (every prior of that name is drawn at the same quantile)."""

    params: tuple[float, ...]
    value: float | None = None
    integer: bool = False
    low: float | None = None
    high: float | None = None
    shared: str | None = None

    kind: ClassVar[str] = ""
    param_names: ClassVar[tuple[str, ...]] = ()

    # -- what each distribution defines ------------------------------------------------------

    def _problems(self) -> list[str]:
        """What is impossible about the parameters (empty when they are fine)."""
        return []

    def rv(self) -> Any:
        """The distribution as a frozen scipy.stats distribution."""
        raise NotImplementedError

    # -- derived -------------------------------------------------------------------------------

    @property
    def mean(self) -> float:
        """The distribution's mean (closed form, by scipy.stats)."""
        return float(self.rv().mean())

    @property
    def support(self) -> tuple[float, float]:
        if self.kind in _closed.FAMILIES:  # as scipy.stats computes it, without importing it
            return _closed.support(self.kind, self.params, self.low, self.high)
        lo, hi = self.rv().support()
        return float(lo), float(hi)

    def ppf(self, u: float | np.ndarray) -> np.ndarray:
        """The quantile function (inverse CDF) at ``u`` in [0, 1]; rounded for ``integer``."""
        x = np.asarray(self.rv().ppf(u), dtype=float)
        return np.rint(x) if self.integer else x

    def cdf(self, x: float | np.ndarray) -> np.ndarray:
        return np.asarray(self.rv().cdf(x), dtype=float)

    def quantile(self, q: float) -> float | int:
        """The ``q`` quantile as a plain number (an int for ``integer``)."""
        return self._scalar(float(self.ppf(q)))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent draws by inverse CDF of ``rng``'s uniform numbers."""
        return self.ppf(rng.random(n))

    def values_at(self, u: np.ndarray) -> list[float | int]:
        """The numbers at unit numbers ``u`` (plain Python numbers, as a scenario's tree holds)."""
        return [self._scalar(float(x)) for x in self.ppf(np.asarray(u, dtype=float))]

    def _scalar(self, x: float) -> float | int:
        return int(round(x)) if self.integer else float(x)

    @property
    def point_value(self) -> float | int:
        """The number used without draws: ``value`` when given, else the mean."""
        if self.value is not None:
            return self.value
        return self._scalar(self.mean)

    def label(self, lang: str = "en") -> str:
        """The distribution and its parameters as written, e.g. ``beta(25.1, 15.4)``; in bokmål,
        whose decimal comma would make ``beta(25,1, 15,4)`` ambiguous, ``beta(25,1; 15,4)``."""
        if lang not in _WORDS:
            raise ValueError(f"describe: unknown language {lang!r}; allowed: {', '.join(LANGS)}")
        sep = "; " if lang == "nb" else ", "
        return f"{_WORDS[lang]['names'][self.kind]}({sep.join(_num(p, lang) for p in self.params)})"

    def describe(self, lang: str = "en") -> str:
        """One line for people: the distribution, its mean and central 90 %, and the point value
        when it is given, in bokmål (``nb``) or English (``en``)."""
        head = self.label(lang)
        w = _WORDS[lang]
        extra = []
        if self.low is not None or self.high is not None:
            lo, hi = self.support
            extra.append(w["truncated"].format(lo=_num(lo, lang), hi=_num(hi, lang)))
        if self.integer:
            extra.append(w["integer"])
        if extra:
            head += f" {', '.join(extra)}"
        text = (f"{head}: {w['mean']} {_num(self.mean, lang)}, "
                + w["between"].format(lo=_num(self.quantile(0.05), lang), hi=_num(self.quantile(0.95), lang)))
        if self.value is not None:
            text += "; " + w["value"].format(v=_num(self.value, lang))
        return text


class Beta(Prior):
    """``{ beta = [a, b] }``: a probability or share in [0, 1] (mean a / (a + b))."""

    kind, param_names = "beta", ("a", "b")

    def _problems(self) -> list[str]:
        a, b = self.params
        return [] if a > 0 and b > 0 else [_said(f"beta needs a > 0 and b > 0, got [{_num(a)}, {_num(b)}]",
                                                 f"beta krever a > 0 og b > 0, fikk [{_num(a, 'nb')}; "
                                                 f"{_num(b, 'nb')}]")]

    def rv(self) -> Any:
        return stats.beta(*self.params)


class Gamma(Prior):
    """``{ gamma = [shape, scale] }``: a positive rate or duration; the SCALE, not the rate
    (mean shape x scale, variance shape x scale^2)."""

    kind, param_names = "gamma", ("shape", "scale")

    def _problems(self) -> list[str]:
        k, s = self.params
        return [] if k > 0 and s > 0 else [_said(
            f"gamma needs shape > 0 and scale > 0 (scale, not rate: mean = shape x scale), got "
            f"[{_num(k)}, {_num(s)}]",
            f"gamma krever shape > 0 og scale > 0 (skala, ikke rate: gjennomsnitt = shape x scale), fikk "
            f"[{_num(k, 'nb')}; {_num(s, 'nb')}]")]

    def rv(self) -> Any:
        shape, scale = self.params
        return stats.gamma(shape, scale=scale)


class LogNormal(Prior):
    """``{ lognormal = [median, sigma] }``: log of the number normal with mean log(median) and
    standard deviation sigma (mean median x exp(sigma^2 / 2))."""

    kind, param_names = "lognormal", ("median", "sigma")

    def _problems(self) -> list[str]:
        m, s = self.params
        return [] if m > 0 and s > 0 else [_said(
            f"lognormal needs median > 0 and sigma > 0 (for a fixed number write point), got "
            f"[{_num(m)}, {_num(s)}]",
            f"lognormal krever median > 0 og sigma > 0 (skriv point for et fast tall), fikk "
            f"[{_num(m, 'nb')}; {_num(s, 'nb')}]")]

    def rv(self) -> Any:
        median, sigma = self.params
        return stats.lognorm(sigma, scale=median)


class Normal(Prior):
    """``{ normal = [mean, sd] }``, optionally truncated to ``low``/``high`` (either or both)."""

    kind, param_names = "normal", ("mean", "sd")

    def _problems(self) -> list[str]:
        mean, sd = self.params
        out = [] if sd > 0 else [_said(f"normal needs sd > 0, got {_num(sd)} (for a fixed number write "
                                       "point)",
                                       f"normal krever sd > 0, fikk {_num(sd, 'nb')} (skriv point for et "
                                       "fast tall)")]
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        if not lo < hi:
            out.append(_said(f"normal: low ({_num(lo)}) must be below high ({_num(hi)})",
                             f"normal: low ({_num(lo, 'nb')}) må være lavere enn high ({_num(hi, 'nb')})"))
        elif sd > 0 and stats.norm.cdf((hi - mean) / sd) - stats.norm.cdf((lo - mean) / sd) < 1e-6:
            out.append(_said(f"normal: [{_num(lo)}, {_num(hi)}] holds almost none of normal({_num(mean)}, "
                             f"{_num(sd)}); truncate where the distribution is",
                             f"normal: [{_num(lo, 'nb')}; {_num(hi, 'nb')}] rommer nesten ingenting av "
                             f"normal({_num(mean, 'nb')}; {_num(sd, 'nb')}); avgrens der fordelingen er"))
        return out

    def rv(self) -> Any:
        mean, sd = self.params
        if self.low is None and self.high is None:
            return stats.norm(mean, sd)
        lo = -np.inf if self.low is None else (self.low - mean) / sd
        hi = np.inf if self.high is None else (self.high - mean) / sd
        return stats.truncnorm(lo, hi, loc=mean, scale=sd)


class Triangular(Prior):
    """``{ triangular = [low, mode, high] }`` (mean (low + mode + high) / 3)."""

    kind, param_names = "triangular", ("low", "mode", "high")

    def _problems(self) -> list[str]:
        lo, mode, hi = self.params
        return [] if lo <= mode <= hi and lo < hi else [_said(
            f"triangular needs low <= mode <= high and low < high, got "
            f"[{_num(lo)}, {_num(mode)}, {_num(hi)}]",
            f"triangular krever low <= mode <= high og low < high, fikk "
            f"[{_num(lo, 'nb')}; {_num(mode, 'nb')}; {_num(hi, 'nb')}]")]

    def rv(self) -> Any:
        lo, mode, hi = self.params
        return stats.triang((mode - lo) / (hi - lo), loc=lo, scale=hi - lo)


class Uniform(Prior):
    """``{ uniform = [low, high] }`` (mean (low + high) / 2)."""

    kind, param_names = "uniform", ("low", "high")

    def _problems(self) -> list[str]:
        lo, hi = self.params
        return [] if lo < hi else [_said(f"uniform needs low < high, got [{_num(lo)}, {_num(hi)}]",
                                         f"uniform krever low < high, fikk [{_num(lo, 'nb')}; "
                                         f"{_num(hi, 'nb')}]")]

    def rv(self) -> Any:
        lo, hi = self.params
        return stats.uniform(lo, hi - lo)


class Point(Prior):
    """``{ point = x }``: the number itself, with no uncertainty (every draw is ``x``, as written:
    an int stays an int, so a point mass reproduces the plain number exactly)."""

    kind, param_names = "point", ("x",)

    @property
    def mean(self) -> float:
        return float(self.params[0])

    @property
    def support(self) -> tuple[float, float]:
        return float(self.params[0]), float(self.params[0])

    def rv(self) -> Any:
        raise NotImplementedError("a point mass has no scipy distribution: its one value is params[0]")

    def ppf(self, u: float | np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), float(self.params[0]))

    def cdf(self, x: float | np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=float) >= self.params[0]).astype(float)

    def quantile(self, q: float) -> float | int:
        return self.params[0]

    def values_at(self, u: np.ndarray) -> list[float | int]:
        return [self.params[0]] * len(np.asarray(u))

    @property
    def point_value(self) -> float | int:
        return self.params[0]

    def describe(self, lang: str = "en") -> str:
        if lang not in _WORDS:
            raise ValueError(f"describe: unknown language {lang!r}; allowed: {', '.join(LANGS)}")
        return _WORDS[lang]["point"].format(v=_num(self.params[0], lang))


KINDS: dict[str, type[Prior]] = {c.kind: c for c in (Beta, Gamma, LogNormal, Normal, Triangular,
                                                     Uniform, Point)}
"""Distribution name (the key in a file) -> its class."""

RESERVED = ("calibrated",)
"""Keys of prior tables that are not distributions: ``calibrated`` names a posterior file."""

_OPTIONS = ("value", "integer", "shared")
_TRUNCATION = ("low", "high")


def is_prior(obj: Any) -> bool:
    """Whether ``obj`` is a prior table: a table with a distribution's name (or ``calibrated``)
    among its keys. Nothing else in effekt's files uses these names as keys."""
    return isinstance(obj, Mapping) and any(k in KINDS or k in RESERVED for k in obj)


_CLOSE = 0.75
"""How close a key must be to a distribution's name to be taken for a misspelling of it."""

_NAME_LETTERS = tuple((name, len(name), tuple(Counter(name).items())) for name in (*KINDS, *RESERVED))
"""Each distribution name (and ``calibrated``), its length and how often it has each letter."""


def _may_be_close(key: str, letters: Counter[str], name: str, size: int, counts: tuple) -> bool:
    """Whether ``key`` passes difflib's two quick bounds of its closeness to ``name`` (the ratio
    the lengths allow, then the one their letters in common allow: ``real_quick_ratio`` and
    ``quick_ratio``, the same numbers as difflib computes them), which
    :func:`difflib.get_close_matches` asks before it measures the closeness itself."""
    total = len(key) + size
    if (2.0 * min(len(key), size) / total if total else 1.0) < _CLOSE:
        return False
    common = sum(min(n, letters[c]) for c, n in counts)
    return (2.0 * common / total if total else 1.0) >= _CLOSE


@functools.lru_cache(maxsize=4096)
def _close_kind(key: str) -> tuple[str, ...]:
    """The distribution name (or ``calibrated``) ``key`` looks like a misspelling of, if any: the
    same few hundred keys of a scenario's files are asked about for each of its priors' tail
    checks, and ``difflib`` is slow (issue 14). The names the key cannot be close to by difflib's
    own quick bounds are left out first (:func:`_may_be_close`; difflib would leave them out by
    the same tests), so most keys never reach difflib: the same answer in a third of the time."""
    letters = Counter(key)
    near = [name for name, size, counts in _NAME_LETTERS if _may_be_close(key, letters, name, size, counts)]
    return tuple(difflib.get_close_matches(key, near, n=1, cutoff=_CLOSE)) if near else ()


def _misspelt(obj: Any) -> str | None:
    """Why ``obj`` looks like a prior with a misspelt distribution name (None if it does not): a
    key close to a distribution's name holding its parameters, or ``value`` beside one other key
    holding a list of numbers."""
    if not isinstance(obj, Mapping) or is_prior(obj):
        return None
    for k, v in obj.items():
        params = isinstance(v, list) and v and all(isinstance(x, int | float) for x in v)
        close = _close_kind(str(k))
        if close and (params or (close[0] == "point" and isinstance(v, int | float))):
            return _said(f"'{k}' is no distribution (did you mean '{close[0]}'?); a prior is one of "
                         f"{', '.join(KINDS)}",
                         f"'{k}' er ingen fordeling (mente du '{close[0]}'?); en fordeling er en av "
                         f"{', '.join(KINDS)}")
        if params and "value" in obj and len(obj) == 2:
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            hint_nb = f" (mente du '{close[0]}'?)" if close else ""
            return _said(f"'{k}' is no distribution{hint}; a prior is one of {', '.join(KINDS)}",
                         f"'{k}' er ingen fordeling{hint_nb}; en fordeling er en av {', '.join(KINDS)}")
    return None


def _numbers(raw: Any, what: str) -> list[float]:
    items = raw if isinstance(raw, list) else [raw]
    for x in items:
        if isinstance(x, bool) or not isinstance(x, int | float):
            raise PriorError(_said(f"{what}: {x!r} is not a number", f"{what}: {x!r} er ikke et tall"))
        if not math.isfinite(x):
            raise PriorError(_said(f"{what}: {x!r} is not a finite number",
                                   f"{what}: {x!r} er ikke et endelig tall"))
    return list(items)


def parse_prior(table: Mapping[str, Any], key: str | None = None, folder: str | Path | None = None) -> Prior:
    """The prior a distribution table describes; :class:`PriorError` says what is wrong (an
    unknown key, the wrong number of parameters, a boolean, a non-finite or impossible value).
    ``key``: the table's dotted key, which a ``calibrated`` prior looks up in its posterior;
    ``folder``: the folder of the file that holds the table, against which a ``calibrated``
    reference is read (:func:`find_posterior`)."""
    kinds = [k for k in table if k in KINDS]
    if "calibrated" in table:
        if kinds:
            raise PriorError(_said(f"calibrated and {kinds[0]}: a number is either drawn from a posterior or "
                                   "from a distribution; give one",
                                   f"calibrated og {kinds[0]}: et tall trekkes enten fra en posterior eller "
                                   "fra en fordeling; oppgi én"))
        return parse_calibrated(table, key, folder)
    if len(kinds) > 1:
        raise PriorError(_said(f"two distributions ({', '.join(kinds)}): give one",
                               f"to fordelinger ({', '.join(kinds)}): oppgi én"))
    kind = kinds[0]
    cls = KINDS[kind]
    allowed = [kind, *_OPTIONS, *(_TRUNCATION if cls is Normal else ())]
    for k in table:
        if k not in allowed:
            hint = difflib.get_close_matches(str(k), allowed, n=1, cutoff=0.6)
            said = f" (did you mean '{hint[0]}'?)" if hint else ""
            said_nb = f" (mente du '{hint[0]}'?)" if hint else ""
            truncated = not (cls is Normal or k not in _TRUNCATION)
            extra = " (only a normal is truncated)" if truncated else ""
            extra_nb = " (bare en normal kan avgrenses)" if truncated else ""
            others = ", ".join(a for a in allowed if a != kind)
            raise PriorError(_said(f"unknown key '{k}'{said}{extra}; allowed beside {kind}: {others}",
                                   f"ukjent nøkkel '{k}'{said_nb}{extra_nb}; tillatt ved siden av {kind}: "
                                   f"{others}"))
    raw = table[kind]
    n = len(cls.param_names)
    if cls is Point:
        if isinstance(raw, list):
            raise PriorError(_said(f"point takes one number, e.g. {{ point = 0.5 }}, got a list {raw!r}",
                                   f"point tar ett tall, f.eks. {{ point = 0.5 }}, fikk en liste {raw!r}"))
        params = _numbers(raw, "point")
    else:
        if not isinstance(raw, list) or len(raw) != n:
            got = f"{len(raw)} numbers" if isinstance(raw, list) else repr(raw)
            got_nb = f"{len(raw)} tall" if isinstance(raw, list) else repr(raw)
            raise PriorError(_said(f"{kind} takes {n} numbers [{', '.join(cls.param_names)}], got {got}",
                                   f"{kind} tar {n} tall [{', '.join(cls.param_names)}], fikk {got_nb}"))
        params = _numbers(raw, kind)
    integer = table.get("integer", False)
    if not isinstance(integer, bool):
        raise PriorError(_said(f"integer: true or false, got {integer!r}",
                               f"integer: true eller false, fikk {integer!r}"))
    value = table.get("value")
    if value is not None:
        value = _numbers(value, "value")[0] if not isinstance(value, list) else None
        if value is None:
            raise PriorError(_said("value: one number, the point value used without draws",
                                   "value: ett tall, punktverdien som brukes uten trekninger"))
    low = _numbers(table["low"], "low")[0] if "low" in table else None
    high = _numbers(table["high"], "high")[0] if "high" in table else None
    shared = table.get("shared")
    if shared is not None and not (isinstance(shared, str) and re.fullmatch(r"[A-Za-z]\w*", shared)):
        raise PriorError(_said(f"shared: a name (letters, digits and _, e.g. 'employability_sd'), got "
                               f"{shared!r}",
                               f"shared: et navn (bokstaver, sifre og _, f.eks. 'employability_sd'), fikk "
                               f"{shared!r}"))
    prior = cls(tuple(params), value=value, integer=integer, low=low, high=high, shared=shared)
    problems = prior._problems()
    if problems:
        raise PriorError(joined("; ", problems))
    if value is not None and cls is not Point:
        lo, hi = prior.support
        if not lo <= value <= hi:
            raise PriorError(_said(f"value {_num(value)} lies outside the distribution, which ranges from "
                                   f"{_num(lo)} to {_num(hi)}",
                                   f"value {_num(value, 'nb')} ligger utenfor fordelingen, som går fra "
                                   f"{_num(lo, 'nb')} til {_num(hi, 'nb')}"))
        if integer and value != int(value):
            raise PriorError(_said(f"value {_num(value)}: integer = true needs a whole number",
                                   f"value {_num(value, 'nb')}: integer = true krever et heltall"))
    return prior


def find_priors(tree: Any, skip: Sequence[str] = (),
                folder: str | Path | None = None) -> tuple[dict[str, Prior], dict[str, Any], list[str]]:
    """Every prior in a nested table (a data file, a scenario's tree): ``(priors, tables,
    problems)``, keyed by canonical dotted key (``pathway.stages.work_training.exits[1].p``);
    ``tables`` holds each prior's table as written, ``problems`` one line per invalid or misspelt
    prior, naming its key. Top-level keys in ``skip`` are not searched; ``folder``: the folder of
    the file the tree was read from (a ``calibrated`` reference is read against it)."""
    priors: dict[str, Prior] = {}
    tables: dict[str, Any] = {}
    problems: list[str] = []

    def walk(node: Any, parts: list[Part]) -> None:
        if isinstance(node, Mapping):
            if is_prior(node):
                key = format_key(parts)
                try:
                    priors[key] = parse_prior(node, key, folder)
                    tables[key] = copy.deepcopy(dict(node))
                except PriorError as err:
                    problems.append(keyed(key, _message(err)))
                return
            why = _misspelt(node)
            if why is not None:
                problems.append(keyed(format_key(parts), why))
                return
            for k, v in node.items():
                if not parts and k in skip:
                    continue
                walk(v, [*parts, str(k)])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, [*parts, i])

    walk(tree, [])
    return priors, tables, problems


def with_values(tree: Any, values: Mapping[str, Any]) -> Any:
    """A deep copy of ``tree`` with each dotted key set to its value (a prior table replaced
    whole by a number)."""
    out = _copied(tree)
    for key, value in values.items():
        set_value(out, key, value)
    return out


_ATOMS = (str, int, float, bool, type(None))


def _copied(node: Any) -> Any:
    """``copy.deepcopy`` of a table as TOML gives it (tables, lists, texts, numbers), made by
    hand for those and by ``copy.deepcopy`` for anything else: a scenario's tree is copied once
    for each tail check of each prior, and ``deepcopy``'s bookkeeping was a third of that (issue
    14). Two references to one table become two copies (``deepcopy`` would keep them one)."""
    kind = type(node)
    if kind is dict:
        return {k: _copied(v) for k, v in node.items()}
    if kind is list:
        return [_copied(v) for v in node]
    if kind in _ATOMS:
        return node
    return copy.deepcopy(node)


def point_values(priors: Mapping[str, Prior]) -> dict[str, float | int]:
    """Each prior's point value (:attr:`Prior.point_value`), by key."""
    return {key: p.point_value for key, p in priors.items()}


def tail_problems(priors: Mapping[str, Prior], check: Callable[[str, float | int], list[str]]) -> list[str]:
    """One line for each prior whose ``TAIL`` or ``1 - TAIL`` quantile the model refuses:
    ``check(key, number)`` gives the model's problems with ``number`` at ``key`` (the others at
    their point values), empty when it is accepted. A point mass needs no check (its one value is
    the point value, validated as any number)."""
    out = []
    for key, prior in priors.items():
        if isinstance(prior, Point):
            continue
        for q in (TAIL, 1 - TAIL):
            v = _tail_quantile(prior, q)
            problems = check(key, v)
            if problems:
                refused_nb = "; ".join(problem_text(p, "nb") for p in problems)
                out.append(_said(f"{key}: the prior {prior.label('en')} reaches {_num(v)} at its "
                                 f"{100 * q:g} % quantile, which is not allowed here "
                                 f"({'; '.join(problems)}); "
                                 "a prior may take only values the number itself may have",
                                 f"{key}: fordelingen {prior.label('nb')} når {_num(v, 'nb')} ved "
                                 f"{_num(100 * q, 'nb')} %-kvantilen, og det er ikke tillatt her "
                                 f"({refused_nb}); en fordeling kan bare ta verdier tallet selv kan ha"))
                break
    return out


def _tail_quantile(prior: Prior, q: float) -> float | int:
    """:meth:`Prior.quantile` for the tail checks, without scipy.stats for the families
    :mod:`effekt.quantiles` knows (a second of start-up otherwise: issue 14)."""
    if prior.kind not in _closed.FAMILIES:
        return prior.quantile(q)
    x = _closed_quantile(prior.kind, tuple(prior.params), q, prior.low, prior.high)
    return prior._scalar(float(np.rint(x)) if prior.integer else x)


_closed_quantile = functools.lru_cache(maxsize=4096)(_closed.quantile)
""":func:`effekt.quantiles.quantile`, remembered: every design point of a sweep checks the same
priors' tails again (a beta's quantile by bisection is some 0.3 ms; 5 % of loading a sweep)."""


def unit_sample(d: int, n: int, rng: np.random.Generator, sampler: str = "lhs") -> np.ndarray:
    """``n`` points in the unit cube ``[0, 1)^d``: a Latin hypercube (each dimension's ``n``
    strata hit once) or independent uniform numbers (``random``; the first ``n`` rows of a larger
    sample are the same, so more draws extend fewer)."""
    if sampler == "lhs":
        return qmc.LatinHypercube(d, rng=rng).random(n)
    if sampler == "random":
        return rng.random((n, d))
    raise ValueError(f"sampler '{sampler}'; allowed: {', '.join(SAMPLERS)}")


def draw(priors: Mapping[str, Prior], n: int, rng: np.random.Generator,
         sampler: str = "lhs") -> list[dict[str, float | int]]:
    """``n`` joint draws of ``priors`` (independent of each other), each ``{key: number}``, keys in
    sorted order: each prior's inverse CDF at unit numbers of :func:`unit_sample`, squeezed into
    ``[TAIL, 1 - TAIL]`` (a posterior's particles by their weights, unsqueezed)."""
    keys = sorted(priors)
    if not keys or n <= 0:
        return [{} for _ in range(max(n, 0))]
    # one unit number per independent prior, one for all the numbers of one posterior file (the
    # same particle for all of them: a joint draw) and one for all priors of one ``shared`` name
    # (the same quantile of each: one unknown); without either, one per key
    groups = list(dict.fromkeys(_joint(key, priors[key]) for key in keys))
    raw = unit_sample(len(groups), n, rng, sampler)
    # squeezed into each distribution's central 1 - 2 TAIL, but a posterior's particles are drawn
    # by their weights as they are (the squeeze would take weight from the first and last particle)
    unit = np.column_stack([raw[:, j] if g.startswith("posterior:") else TAIL + (1 - 2 * TAIL) * raw[:, j]
                            for j, g in enumerate(groups)]) if groups else raw
    cols = {key: priors[key].values_at(unit[:, groups.index(_joint(key, priors[key]))]) for key in keys}
    return [{key: cols[key][i] for key in keys} for i in range(n)]


def _joint(key: str, prior: Prior) -> str:
    """The draw group of a prior: its posterior file for a calibrated one, its ``shared`` name for
    numbers that stand for one unknown, else its own key."""
    if isinstance(prior, CalibratedPrior):
        return f"posterior:{prior.path}"
    return f"shared:{prior.shared}" if getattr(prior, "shared", None) else key


# -- calibrated numbers: a posterior written by `effekt calibrate` ------------------------------

POSTERIOR_SUFFIX = ".posterior.toml"
"""A posterior file's name: ``<calibration name>.posterior.toml``."""


@dataclass(frozen=True)
class Posterior:
    """The joint particles of a posterior file: ``values[key]`` one number per particle,
    ``weights`` summing to 1; ``name`` and ``path`` say which file."""

    name: str
    path: str
    keys: tuple[str, ...]
    values: dict[str, tuple[float, ...]]
    weights: tuple[float, ...]


CALIBRATIONS_FOLDER = "calibrations"
"""The folder beside a scenario or data file where ``{ calibrated = "name" }`` looks first:
``<the file's folder>/calibrations/<name>.posterior.toml`` (a user's own calibrations)."""

_BUILTIN_FOLDERS: list[Path] = []
"""The folders of built-in posteriors, searched after the file's own folder. The base layer knows
none of its own: the layer that ships posteriors registers its folder
(:func:`register_posterior_folder`; the experiment layer does when it is imported)."""


def register_posterior_folder(folder: str | Path) -> None:
    """Search ``folder`` for ``<name>.posterior.toml`` after the naming file's own folder (once,
    however often it is registered)."""
    folder = Path(folder)
    if folder not in _BUILTIN_FOLDERS:
        _BUILTIN_FOLDERS.append(folder)


def posterior_folders() -> tuple[Path, ...]:
    """The registered folders of built-in posteriors, in search order."""
    return tuple(_BUILTIN_FOLDERS)


def _is_path(ref: str) -> bool:
    """Whether ``{ calibrated = ref }`` names a file (a ``/`` in it, or ending in ``.toml``)."""
    return "/" in ref or "\\" in ref or ref.endswith(".toml")


def find_posterior(ref: str, folder: str | Path | None = None) -> Path:
    """The posterior file ``{ calibrated = ref }`` means, named in a file in ``folder`` (None: no
    file names it, e.g. ``--set`` on the command line: the current folder stands in).

    A path (a ``/`` in it, or ending in ``.toml``) is read as given when absolute, else against
    ``folder``; a name is looked up as ``<folder>/calibrations/<name>.posterior.toml``, then in
    each registered folder of built-in posteriors (:func:`register_posterior_folder`).
    :class:`PriorError` says every place it looked."""
    base = Path(folder) if folder is not None else Path()
    here = f"the folder of the file that names it, {base}" if folder is not None else "the current folder"
    here_nb = f"mappen til filen som nevner den, {base}" if folder is not None else "gjeldende mappe"
    if _is_path(ref):
        path = Path(ref) if Path(ref).is_absolute() else base / ref
        if not path.is_file():
            raise PriorError(_said(f"calibrated = {ref!r}: no such posterior file {path} (a relative path is "
                                   f"read against {here}; 'effekt calibrate FILE --out DIR' writes one)",
                                   f"calibrated = {ref!r}: ingen slik posterior-fil {path} (en relativ sti "
                                   f"leses fra {here_nb}; 'effekt calibrate FIL --out MAPPE' skriver en)"))
        return path
    if not ref or not all(c.isalnum() or c in "_-" for c in ref):
        raise PriorError(_said(f"calibrated = {ref!r}: a calibration's name (letters, digits, _ or -) or a "
                               "path to a .posterior.toml file",
                               f"calibrated = {ref!r}: navnet på en kalibrering (bokstaver, sifre, _ "
                               "eller -) eller stien til en .posterior.toml-fil"))
    file = f"{ref}{POSTERIOR_SUFFIX}"
    places = [base / CALIBRATIONS_FOLDER / file, *(f / file for f in _BUILTIN_FOLDERS)]
    for path in places:
        if path.is_file():
            return path
    known = sorted({p.name.removesuffix(POSTERIOR_SUFFIX)
                    for f in _BUILTIN_FOLDERS for p in f.glob(f"*{POSTERIOR_SUFFIX}")})
    folders = ", ".join(str(f) for f in _BUILTIN_FOLDERS)
    builtin = (f"the built-in ones in {folders}: {', '.join(known) or 'none'}" if _BUILTIN_FOLDERS
               else "no built-in ones (none registered)")
    builtin_nb = (f"de innebygde i {folders}: {', '.join(known) or 'ingen'}" if _BUILTIN_FOLDERS
                  else "ingen innebygde (ingen registrert)")
    raise PriorError(_said(f"calibrated = {ref!r}: no posterior of that name (looked for {places[0]}, in "
                           f"{here}, and {builtin}); run 'effekt calibrate' to write one",
                           f"calibrated = {ref!r}: ingen posterior med det navnet (så etter {places[0]}, i "
                           f"{here_nb}, og {builtin_nb}); kjør 'effekt calibrate' for å skrive en"))


def anchor_calibrated(tree: Any, folder: str | Path) -> tuple[Any, list[str]]:
    """``tree`` (a file's data) with each ``{ calibrated = ref }`` that the file's ``folder``
    resolves (a relative path, or ``calibrations/<name>.posterior.toml`` there) replaced by the
    absolute path, so that the file means the same posterior wherever it is merged into a
    scenario and whatever the current folder; a name found only among the built-in posteriors
    stays a name. Returns the copy and one line per reference found nowhere (naming its key and
    every place looked)."""
    problems: list[str] = []

    def walk(node: Any, parts: list[Part]) -> Any:
        if isinstance(node, Mapping):
            ref = node.get("calibrated")
            if isinstance(ref, str):
                try:
                    path = find_posterior(ref, folder)
                except PriorError as err:
                    problems.append(keyed(format_key(parts), _message(err)))
                    return dict(node)
                # the folder's own calibrations/, however either path is spelt (relative, .., links)
                beside = _is_path(ref) or path.resolve().parent.parent == Path(folder).resolve()
                return {**node, "calibrated": str(path.resolve())} if beside else dict(node)
            return {k: walk(v, [*parts, str(k)]) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, [*parts, i]) for i, v in enumerate(node)]
        return node

    return walk(tree, []), problems


def read_posterior(path: str | Path) -> Posterior:
    """Read and check a posterior file (``[particles]``: ``weights`` and one list per key, all of
    the same length, finite numbers, weights not negative with a positive sum)."""
    from effekt.specfile import SpecError, read_toml

    path = Path(path)
    try:
        data = read_toml(path)
    except SpecError as err:
        raise PriorError(keyed(f"posterior {path}", joined("; ", err.problems))) from None
    return _posterior_from(data, str(path), _mtime(path))


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


@functools.lru_cache(maxsize=32)
def _cached(path: str, mtime: float) -> Posterior:
    return read_posterior(path)


def _posterior_from(data: Mapping[str, Any], path: str, mtime: float) -> Posterior:
    where = f"posterior {path}"
    particles = data.get("particles")
    info = data.get("posterior")
    if not isinstance(particles, Mapping) or not isinstance(info, Mapping):
        raise PriorError(_said(f"{where}: not a posterior file (it needs [posterior] and [particles], as "
                               "'effekt calibrate' writes them)",
                               f"{where}: ikke en posterior-fil (den trenger [posterior] og [particles], "
                               "slik 'effekt calibrate' skriver dem)"))
    weights = particles.get("weights")
    keys = tuple(k for k in particles if k != "weights")
    if not isinstance(weights, list) or not weights or not keys:
        raise PriorError(_said(f"{where}: [particles] needs weights and at least one parameter",
                               f"{where}: [particles] trenger weights og minst én parameter"))
    values = {}
    for key in ("weights", *keys):
        col = particles[key]
        if not isinstance(col, list) or len(col) != len(weights):
            raise PriorError(_said(f"{where}: particles.{key} needs {len(weights)} numbers, one per "
                                   "particle",
                                   f"{where}: particles.{key} trenger {len(weights)} tall, ett per "
                                   "partikkel"))
        values[key] = tuple(float(x) for x in _numbers(col, f"{where}: particles.{key}"))
    w = np.asarray(values.pop("weights"))
    if (w < 0).any() or w.sum() <= 0:
        raise PriorError(_said(f"{where}: particles.weights must be non-negative with a positive sum",
                               f"{where}: particles.weights må være ikke-negative med en positiv sum"))
    return Posterior(name=str(info.get("name", Path(path).stem)), path=path, keys=keys, values=values,
                     weights=tuple(float(x) for x in w / w.sum()))


def _match(posterior: Posterior, key: str | None, parameter: str | None) -> str:
    """The posterior's key for a prior at ``key`` (or the ``parameter`` it names)."""
    from effekt.dotted import canonical

    if parameter is not None:
        want = canonical(parameter)
        if want not in posterior.keys:
            raise PriorError(_said(f"parameter {parameter!r} is not in the posterior {posterior.path}; it "
                                   f"has {', '.join(posterior.keys)}",
                                   f"parameter {parameter!r} finnes ikke i posterioren {posterior.path}; "
                                   f"den har {', '.join(posterior.keys)}"))
        return want
    if key is None:
        raise PriorError(_said("calibrated: name the posterior's parameter (parameter = \"KEY\")",
                               "calibrated: oppgi posteriorens parameter (parameter = \"NØKKEL\")"))
    hits = [k for k in posterior.keys if k == key or k.endswith("." + key) or key.endswith("." + k)]
    if len(hits) != 1:
        why = "none of its parameters is" if not hits else "several of its parameters are"
        why_nb = "ingen av parameterne er" if not hits else "flere av parameterne er"
        raise PriorError(_said(f"the posterior {posterior.path} has {', '.join(posterior.keys)}; {why} this "
                               f"number ({key}); name one with parameter = \"KEY\"",
                               f"posterioren {posterior.path} har {', '.join(posterior.keys)}; {why_nb} "
                               f"dette tallet ({key}); oppgi én med parameter = \"NØKKEL\""))
    return hits[0]


@dataclass(frozen=True)
class CalibratedPrior(Prior):
    """``{ calibrated = "name" }``: one parameter of a posterior (weighted joint particles).

    The marginal (mean, :meth:`ppf`, quantiles, CDF) is the weighted particles' empirical
    distribution, so a sensitivity analysis sees an ordinary inverse CDF. A **draw**
    (:meth:`values_at`, what :func:`draw` uses) at unit number ``u`` is the particle where the
    weights' cumulative sum (in the file's particle order) passes ``u``, so every key of one
    posterior drawn at the same ``u`` takes the same particle: the joint draw."""

    name: str = ""
    path: str = ""
    parameter: str = ""
    particles: tuple[float, ...] = ()
    weights: tuple[float, ...] = ()

    kind: ClassVar[str] = "calibrated"
    param_names: ClassVar[tuple[str, ...]] = ()

    def rv(self) -> Any:
        raise NotImplementedError("a posterior has no scipy distribution: it is its particles")

    def _index(self, u: float | np.ndarray) -> np.ndarray:
        cum = np.cumsum(self.weights)
        cum[-1] = 1.0
        return np.minimum(np.searchsorted(cum, np.asarray(u, dtype=float), side="right"), len(cum) - 1)

    @property
    def mean(self) -> float:
        return float(np.dot(self.particles, self.weights))

    @property
    def support(self) -> tuple[float, float]:
        return float(min(self.particles)), float(max(self.particles))

    def ppf(self, u: float | np.ndarray) -> np.ndarray:
        """The marginal inverse CDF: the weighted particles sorted by value."""
        order = np.argsort(self.particles, kind="stable")
        cum = np.cumsum(np.asarray(self.weights)[order])
        at = np.minimum(np.searchsorted(cum, np.asarray(u, dtype=float) - 1e-12), len(cum) - 1)
        return np.asarray(self.particles, dtype=float)[order][at]

    def values_at(self, u: np.ndarray) -> list[float | int]:
        """The particles at unit numbers ``u``, in the posterior's particle order (joint, see above)."""
        return [float(x) for x in np.asarray(self.particles, dtype=float)[self._index(u)]]

    def cdf(self, x: float | np.ndarray) -> np.ndarray:
        v, w = np.asarray(self.particles), np.asarray(self.weights)
        return np.array([w[v <= xi].sum() for xi in np.atleast_1d(x)], dtype=float).reshape(np.shape(x))

    def quantile(self, q: float) -> float:
        """The marginal ``q`` quantile (the weighted particles sorted by value)."""
        return float(self.ppf(q))

    def label(self, lang: str = "en") -> str:
        if lang not in _WORDS:
            raise ValueError(f"describe: unknown language {lang!r}; allowed: {', '.join(LANGS)}")
        word = {"nb": "kalibrert", "en": "calibrated"}[lang]
        return f"{word}({self.name}: {self.parameter})"

    def describe(self, lang: str = "en") -> str:
        text = Prior.describe(self, lang)
        n = {"nb": "partikler", "en": "particles"}[lang]
        return f"{text}; {len(self.particles)} {n}"


_CALIBRATED_KEYS = ("calibrated", "parameter", "value")


def parse_calibrated(table: Mapping[str, Any], key: str | None = None,
                     folder: str | Path | None = None) -> CalibratedPrior:
    """``{ calibrated = "name" | "path", parameter = "KEY" (optional), value = x (optional) }``,
    named in a file in ``folder`` (see :func:`find_posterior`)."""
    for k in table:
        if k not in _CALIBRATED_KEYS:
            hint = difflib.get_close_matches(str(k), _CALIBRATED_KEYS, n=1, cutoff=0.6)
            said = f" (did you mean '{hint[0]}'?)" if hint else ""
            said_nb = f" (mente du '{hint[0]}'?)" if hint else ""
            raise PriorError(_said(f"unknown key '{k}'{said}; allowed beside calibrated: parameter, value",
                                   f"ukjent nøkkel '{k}'{said_nb}; tillatt ved siden av calibrated: "
                                   "parameter, value"))
    ref = table["calibrated"]
    if not isinstance(ref, str):
        raise PriorError(_said(f"calibrated: a calibration's name or a posterior file's path, got {ref!r}",
                               f"calibrated: navnet på en kalibrering eller stien til en posterior-fil, fikk "
                               f"{ref!r}"))
    parameter = table.get("parameter")
    if parameter is not None and not isinstance(parameter, str):
        raise PriorError(_said(f"parameter: the posterior's dotted key, got {parameter!r}",
                               f"parameter: posteriorens punktnøkkel, fikk {parameter!r}"))
    path = find_posterior(ref, folder)
    posterior = _cached(str(path), _mtime(path))
    name = _match(posterior, key, parameter)
    value = table.get("value")
    if value is not None:
        value = _numbers(value, "value")[0] if not isinstance(value, list) else None
        if value is None:
            raise PriorError(_said("value: one number, the point value used without draws",
                                   "value: ett tall, punktverdien som brukes uten trekninger"))
    prior = CalibratedPrior((), value=value, name=posterior.name, path=str(path.resolve()), parameter=name,
                            particles=posterior.values[name], weights=posterior.weights)
    if value is not None:
        lo, hi = prior.support
        if not lo <= value <= hi:
            raise PriorError(_said(f"value {_num(value)} lies outside the posterior's particles, which range "
                                   f"from {_num(lo)} to {_num(hi)}",
                                   f"value {_num(value, 'nb')} ligger utenfor posteriorens partikler, som "
                                   f"går fra {_num(lo, 'nb')} til {_num(hi, 'nb')}"))
    return prior


__all__ = ["CALIBRATIONS_FOLDER", "KINDS", "LANGS", "RESERVED", "SAMPLERS", "TAIL", "Beta", "CalibratedPrior",
           "Gamma", "LogNormal", "Normal", "Point", "Posterior", "Prior", "PriorError", "Triangular",
           "Uniform", "anchor_calibrated", "draw", "find_priors", "find_posterior", "is_prior",
           "parse_calibrated", "parse_prior", "point_values", "posterior_folders", "read_posterior",
           "register_posterior_folder", "tail_problems", "unit_sample", "with_values"]
