"""Numbers for a person to read, in Norwegian bokmål (``nb``) and English (``en``): the one place
every text, table and figure of effekt formats a number (the machine-readable CSV and JSON keep
full precision and do not come here).

The digits follow CLDR through Babel: in ``nb`` a decimal comma and a no-break space (U+00A0)
between thousands (``1 234 567,8``); in ``en`` a decimal point, and between thousands, instead
of CLDR's comma, the narrow no-break space (U+202F) of SI and ISO 80000-1 (``1 234 567.8``):
effekt's English is read by Norwegians too, to whom a comma is the decimal mark, and it is the
style effekt's English texts have always had.

House rules on top of CLDR, and why:

* **Money is rounded to what the model can know** (:func:`money`). A simulated cohort of 10 to 50
  people carries a Monte Carlo and model uncertainty of several per cent, so kroner are noise:
  from 1 million on, millions with one decimal (``3,6 mill. kr``, ``NOK 3.6 million``); from
  1 milliard (10^9), milliards (``1,2 mrd. kr``, ``NOK 1.2 billion``); from 10 000, the nearest
  thousand (``358 000 kr``); below, the nearest hundred (``3 600 kr``; ``40 kr`` is ``0 kr``).
  Halves round away from zero (``250`` -> ``300``), as people round by hand. An interval
  (:func:`money_interval`) takes the step of its larger end for both ends, so they read alike
  (``-1,2 til 0,8 mill. kr``).
* **Percent** has a no-break space before the sign in both languages (``39 %``): CLDR's nb form,
  and effekt's house style in English too (ISO 80000-1), so the two languages' texts line up.
* **The minus**: plain text (the terminal, Markdown) uses the hyphen-minus, which copies into a
  spreadsheet, a calculator or a search as a number; the typeset outputs (the HTML report and the
  figures, ``unicode_minus=True``) use the real minus sign U+2212, which does not read as a hyphen
  and is as wide as the plus.
* **Never** e-notation (``4.337e-19``), never ``-0`` (a value that rounds to zero is ``0``, with
  no sign), never more digits than asked for. Not a number is said in words (``ikke definert`` /
  ``not defined``); infinities are ``∞`` and ``-∞``.

No pandas or matplotlib at import time: the command line imports this module when it starts
(matplotlib is imported by :func:`tick_formatter` and :func:`money_axis` only).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Literal

from babel.numbers import format_decimal

if TYPE_CHECKING:
    from matplotlib.axis import Axis
    from matplotlib.ticker import Formatter

Lang = Literal["nb", "en"]
LANGS: tuple[str, ...] = ("nb", "en")

MINUS = "\u2212"
"""The minus sign of the typeset outputs (HTML, figures)."""
NBSP = "\u00a0"
"""The no-break space: before ``%`` and the units, and CLDR nb's thousands separator."""
THIN = "\u202f"
"""The narrow no-break space: the thousands separator in English (SI, ISO 80000-1)."""

NOT_DEFINED = {"nb": "ikke definert", "en": "not defined"}
"""What a value that is not a number (NaN) is called in each language."""

_SCALES = {  # scale -> (nb word, en word)
    1: ("", ""),
    10**6: ("mill.", "million"),
    10**9: ("mrd.", "billion"),
}
_TO = {"nb": "til", "en": "to"}


def _check(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"language '{lang}'; allowed: {', '.join(LANGS)}")


def _special(x: float, lang: str, na: str | None, unicode_minus: bool) -> str | None:
    """The words for a value that is no finite number (None for a finite one)."""
    x = math.nan if x is None else float(x)
    if math.isnan(x):
        return NOT_DEFINED[lang] if na is None else na
    if math.isinf(x):
        return ("\u221e" if x > 0 else (MINUS if unicode_minus else "-") + "\u221e")
    return None


def _decimal(x: float | Decimal) -> Decimal:
    """``x`` as the decimal number it prints as (0.285 is 0.285, not 0.28499999...)."""
    return x if isinstance(x, Decimal) else Decimal(repr(float(x)))


def _round(x: float | Decimal, step: Decimal) -> Decimal:
    """``x`` rounded to a multiple of ``step``, halves away from zero; never a negative zero."""
    q = (_decimal(x) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    return q if q != 0 else Decimal(0)


def _digits(value: Decimal, lang: str, decimals: int, sign: bool, unicode_minus: bool) -> str:
    """``value`` (already rounded) with ``decimals`` decimals in ``lang``'s CLDR format."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    text = format_decimal(abs(value), format=pattern, locale=lang, decimal_quantization=True)
    if lang == "en":  # SI grouping: a comma would read as a decimal mark to a Norwegian
        text = text.replace(",", THIN)
    if value < 0:
        return (MINUS if unicode_minus else "-") + text
    return ("+" + text) if sign and value > 0 else text


def number(x: float | Decimal, lang: str, decimals: int = 0, *, sign: bool = False,
           unicode_minus: bool = False, na: str | None = None) -> str:
    """``x`` with ``decimals`` decimals and thousands grouped (``1 234,5`` nb, ``1,234.5`` en).

    ``sign``: a ``+`` before a positive value (a change); a value that rounds to zero has no sign.
    ``na``: the text for NaN (default :data:`NOT_DEFINED`)."""
    _check(lang)
    special = _special(x, lang, na, unicode_minus)
    if special is not None:
        return special
    return _digits(_round(x, Decimal(1).scaleb(-decimals)), lang, decimals, sign, unicode_minus)


def signed(x: float, lang: str, decimals: int = 0, *, unicode_minus: bool = False,
           na: str | None = None) -> str:
    """A change: ``+1,2``, ``-1,2`` or ``0`` (:func:`number` with ``sign=True``)."""
    return number(x, lang, decimals, sign=True, unicode_minus=unicode_minus, na=na)


def percent(x: float, lang: str, decimals: int = 0, *, sign: bool = False, unicode_minus: bool = False,
            na: str | None = None) -> str:
    """A share ``x`` (0.39) as a percentage: ``39 %`` (``39,5 %`` nb, ``39.5 %`` en)."""
    _check(lang)
    special = _special(x, lang, na, unicode_minus)
    if special is not None:
        return special
    return number(_decimal(x) * 100, lang, decimals, sign=sign, unicode_minus=unicode_minus) + NBSP + "%"


def probability(x: float, lang: str, *, na: str | None = None) -> str:
    """A chance as a whole percentage that never reads as certain or impossible when it is not:
    ``under 1 %`` for 0 < x < 0.5 %, ``over 99 %`` for 99.5 % < x < 1 (one loss in 500 runs is
    not "0 %"); else :func:`percent`."""
    _check(lang)
    special = _special(x, lang, na, False)
    if special is not None:
        return special
    x = float(x)
    if 0 < x < 0.005:
        return "under 1" + NBSP + "%"  # the same words in bokmål and English
    if 0.995 < x < 1:
        return "over 99" + NBSP + "%"
    return percent(x, lang)


def points(x: float, lang: str, decimals: int = 1, *, sign: bool = False, unicode_minus: bool = False,
           na: str | None = None) -> str:
    """A difference of two shares in percentage points, without the unit (``0.072`` -> ``7,2``)."""
    _check(lang)
    special = _special(x, lang, na, unicode_minus)
    if special is not None:
        return special
    return number(_decimal(x) * 100, lang, decimals, sign=sign, unicode_minus=unicode_minus)


def money_step(x: float) -> tuple[int, Decimal, int]:
    """How :func:`money` rounds ``x``: (scale, step in kroner, decimals shown at that scale).

    From 10^9 milliards and from 10^6 millions, each with one decimal; from 10 000 the nearest
    thousand; below, the nearest hundred. Decided on the value after rounding, so 999 700 is
    ``1,0 mill.``, not ``1 000 000``."""
    a = abs(float(x))
    for below, scale, step, decimals in ((10**4, 1, Decimal(100), 0), (10**6, 1, Decimal(1000), 0),
                                         (10**9, 10**6, Decimal(10**5), 1)):
        if _round(a, step) < below:
            return scale, step, decimals
    return 10**9, Decimal(10**8), 1


def _keep_sign(values: tuple[float, ...], scale: int, step: Decimal, decimals: int
               ) -> tuple[Decimal, int, bool]:
    """One finer step (one more decimal) when a borrowed step would round a value to 0 that its own
    step does not: a state NPV of -41 065 beside a range in millions reads ``-0,04 mill.``, not
    ``0,0 mill.``, and an interval from -40 000 keeps its minus (an interval's positive end may
    read 0 beside a larger one: ``0 til 35 000 kr`` for 450 to 35 000). At most one: the third
    value returned says a value is still lost at the finer step (-400 beside millions would read
    ``-0,0004 mill.``, a precision no range in millions has; -5 001 would read ``-0,01 mill.``,
    twice its value: a rounding more than a quarter off counts as lost too), and the caller then
    writes that value at its own step and unit (``-400 kr``, ``-5 000 kr``)."""
    def lost_at(s: Decimal) -> list[float]:
        return [v for v in values if math.isfinite(v) and _round(v, s) == 0
                and _round(v, money_step(v)[1]) != 0]

    lost = lost_at(step)
    if not lost:
        return step, decimals, False
    finer, more = step / 10, decimals + (1 if scale > 1 else 0)
    # still 0, or rounded to a multiple of the finer step far from it (-5 001 beside millions would
    # read -0,01 mill., twice its value): the value at its own step instead
    off = any(abs(float(_round(v, finer)) - v) > abs(v) / 4 for v in lost)
    return finer, more, bool(lost_at(finer)) or off


def _scaled(x: float, scale: int, step: Decimal, decimals: int, lang: str, sign: bool,
            unicode_minus: bool) -> str:
    return _digits(_round(x, step) / scale, lang, decimals, sign, unicode_minus)


def _with_unit(digits: str, scale: int, lang: str, currency: str, unit: bool) -> str:
    word = _SCALES[scale][0 if lang == "nb" else 1]
    if not unit:
        return f"{digits}{NBSP}{word}" if word else digits
    if lang == "nb":
        cur = "kr" if currency == "NOK" else currency
        return f"{digits}{NBSP}{word}{NBSP}{cur}" if word else f"{digits}{NBSP}{cur}"
    return f"{currency}{NBSP}{digits}{NBSP}{word}" if word else f"{currency}{NBSP}{digits}"


def money(x: float, lang: str, *, currency: str = "NOK", unit: bool = True, sign: bool = False,
          unicode_minus: bool = False, na: str | None = None, like: float | None = None) -> str:
    """An amount rounded to what the model can know (:func:`money_step`), with its unit:
    ``3,6 mill. kr`` / ``NOK 3.6 million``, ``358 000 kr`` / ``NOK 358,000``.

    ``currency``: an ISO code; NOK is ``kr`` in bokmål. ``unit=False``: the number and its scale
    word only (``3,6 mill.``), for a text that names the currency itself. ``like``: round at the
    step of this amount instead (a mean beside its range: ``0,5 mill.`` beside ``1,1 mill.``)."""
    _check(lang)
    special = _special(x, lang, na, unicode_minus)
    if special is not None:
        return special
    scale, step, decimals = money_step(x if like is None or not math.isfinite(like) else like)
    step, decimals, lost = _keep_sign((float(x),), scale, step, decimals)
    if lost:  # too small for the borrowed scale: at its own step and unit
        return money(x, lang, currency=currency, unit=unit, sign=sign, unicode_minus=unicode_minus)
    return _with_unit(_scaled(x, scale, step, decimals, lang, sign, unicode_minus), scale, lang,
                      currency, unit)


def money_interval(low: float, high: float, lang: str, *, currency: str = "NOK", unit: bool = True,
                   unicode_minus: bool = False, na: str | None = None, like: float | None = None) -> str:
    """``low`` to ``high`` as money, both ends at the step of the larger one (or of ``like``) and
    the unit once: ``-1,2 til 0,8 mill. kr`` / ``NOK -1.2 to 0.8 million``."""
    _check(lang)
    specials = [_special(v, lang, na, unicode_minus) for v in (low, high)]
    if any(s is not None for s in specials):
        ends = [s if s is not None else money(v, lang, currency=currency, unit=unit,
                                              unicode_minus=unicode_minus)
                for s, v in zip(specials, (low, high), strict=True)]
        return f"{ends[0]} {_TO[lang]} {ends[1]}"
    largest = max(abs(float(low)), abs(float(high)))
    scale, step, decimals = money_step(largest if like is None or not math.isfinite(like) else like)
    ends = (float(low), float(high))
    zeros = all(_round(v, step) == 0 for v in ends)  # the whole range would read 0: refine it all
    step, decimals, lost = _keep_sign(tuple(v for v in ends if v < 0 or zeros), scale, step, decimals)
    if lost:  # an end too small for the other's scale: each end at its own step, with its unit
        a, b = (money(v, lang, currency=currency, unit=unit, unicode_minus=unicode_minus) for v in ends)
        return f"{a} {_TO[lang]} {b}"
    a, b = (_scaled(v, scale, step, decimals, lang, False, unicode_minus) for v in ends)
    return _with_unit(f"{a} {_TO[lang]} {b}", scale, lang, currency, unit)


def interval(low: float, high: float, lang: str, decimals: int = 0, *, unicode_minus: bool = False,
             na: str | None = None) -> str:
    """``low`` to ``high`` as plain numbers: ``4,1 til 5,9`` / ``4.1 to 5.9``."""
    return (f"{number(low, lang, decimals, unicode_minus=unicode_minus, na=na)} {_TO[lang]} "
            f"{number(high, lang, decimals, unicode_minus=unicode_minus, na=na)}")


def percent_interval(low: float, high: float, lang: str, decimals: int = 0, *,
                     unicode_minus: bool = False, na: str | None = None) -> str:
    """``low`` to ``high`` as percentages, the sign once: ``12 til 40 %`` / ``12 to 40 %``."""
    if any(_special(v, lang, na, unicode_minus) is not None for v in (low, high)):
        return (f"{percent(low, lang, decimals, unicode_minus=unicode_minus, na=na)} {_TO[lang]} "
                f"{percent(high, lang, decimals, unicode_minus=unicode_minus, na=na)}")
    return (f"{points(low, lang, decimals, unicode_minus=unicode_minus)} {_TO[lang]} "
            f"{points(high, lang, decimals, unicode_minus=unicode_minus)}{NBSP}%")


def general(x: float, lang: str, significant: int = 3, *, unicode_minus: bool = False,
            na: str | None = None) -> str:
    """A number of unknown size with about ``significant`` significant digits, never in
    e-notation: ``1 158 610`` -> ``1 160 000``, ``0,0123``; at least whole units from 1 000 on
    (a table of statistics whose rows differ in kind and size)."""
    _check(lang)
    special = _special(x, lang, na, unicode_minus)
    if special is not None:
        return special
    x = float(x)
    if x == 0:
        return "0"
    exponent = math.floor(math.log10(abs(x)))
    decimals = max(0, significant - 1 - exponent)
    if decimals > 12:  # 4.337e-19 and the like: rounding residue, zero for a reader
        return "0"
    step = Decimal(1).scaleb(exponent - significant + 1) if decimals == 0 else Decimal(1).scaleb(-decimals)
    return _digits(_round(x, step), lang, decimals, False, unicode_minus)


# -- figures -------------------------------------------------------------------------------------


def _tick_decimals(values: list[float], divisor: float) -> int:
    """The fewest decimals (up to 3) that keep the ticks ``values / divisor`` apart."""
    scaled = [v / divisor for v in values if math.isfinite(v)]
    for decimals in range(4):
        texts = {round(v, decimals) for v in scaled}
        if len(texts) == len(scaled) and all(abs(v - round(v, decimals)) < 1e-9 * max(1.0, abs(v))
                                             for v in scaled):
            return decimals
    return 3


def tick_formatter(lang: str, divisor: float = 1.0, *, percent_axis: bool = False) -> Formatter:
    """A matplotlib tick formatter in ``lang``: a decimal comma in nb, thousands grouped, the
    minus sign U+2212, no offset and no e-notation; each tick divided by ``divisor`` (10^6 for an
    axis in millions, the unit said in the axis label: :func:`money_axis`). ``percent_axis``:
    shares (0.4) shown as ``40 %``. The decimals are the fewest that tell the ticks apart."""
    from matplotlib.ticker import Formatter

    _check(lang)

    class _Cldr(Formatter):
        decimals = 0

        def __call__(self, x: float, pos: int | None = None) -> str:
            value = x * 100 if percent_axis else x / divisor
            text = number(value, lang, self.decimals, unicode_minus=True, na="")
            return text + (NBSP + "%" if percent_axis and text else "")

        def format_ticks(self, values) -> list[str]:
            self.decimals = _tick_decimals([float(v) for v in values], 0.01 if percent_axis else divisor)
            return [self(v, i) for i, v in enumerate(values)]

    return _Cldr()


def money_scale(largest: float) -> int:
    """The scale of a money axis whose largest absolute value is ``largest``: 10^9, 10^6 or 1."""
    a = abs(float(largest)) if math.isfinite(largest) else 0.0
    return 10**9 if a >= 10**9 else 10**6 if a >= 10**6 else 1


def money_unit(scale: int, lang: str, currency: str = "NOK") -> str:
    """The unit of an axis at ``scale``: ``mill. kr`` / ``NOK million``, ``kr`` / ``NOK``."""
    _check(lang)
    word = _SCALES[scale][0 if lang == "nb" else 1]
    cur = "kr" if (lang == "nb" and currency == "NOK") else currency
    if lang == "nb":
        return f"{word} {cur}" if word else cur
    return f"{cur} {word}" if word else cur


def money_axis(axis: Axis, largest: float, lang: str, currency: str = "NOK") -> str:
    """Format ``axis`` (``ax.yaxis``) for amounts up to ``largest`` in absolute value: ticks in
    kroner, millions or milliards (:func:`money_scale`) by :func:`tick_formatter`; returns the
    unit for the axis label (:func:`money_unit`)."""
    scale = money_scale(largest)
    axis.set_major_formatter(tick_formatter(lang, float(scale)))
    return money_unit(scale, lang, currency)


def percent_axis(axis: Axis, lang: str) -> None:
    """Format ``axis`` for shares (0 to 1) as percentages in ``lang`` (``40 %``)."""
    axis.set_major_formatter(tick_formatter(lang, percent_axis=True))
