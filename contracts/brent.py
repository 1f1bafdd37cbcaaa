"""Brent's root finder (scipy's ``brentq``, step for step) without importing scipy.optimize.

The investors' IRR (:func:`effekt.contracts.finance.irr`) needs one bracketed root per
replication. ``scipy.optimize`` costs about half a second of CPU to import, paid again by every
``effekt run`` and every worker process (issue 14), for a loop of a few dozen steps. This is
the algorithm of scipy's C ``brentq`` (``scipy/optimize/Zeros/brentq.c``: Brent 1973, inverse
quadratic interpolation, secant and bisection), in the same order of floating-point operations,
so it returns the same bits; tests/test_speed_equivalence.py checks that against scipy.
"""

from __future__ import annotations

import math
from collections.abc import Callable

RTOL = 4 * 2.220446049250313e-16
"""scipy's default relative tolerance, four machine epsilons."""


def brentq(f: Callable[[float], float], a: float, b: float, xtol: float = 2e-12, rtol: float = RTOL,
           maxiter: int = 100) -> float:
    """A root of ``f`` in ``[a, b]``, where ``f(a)`` and ``f(b)`` have opposite signs, to within
    ``xtol + rtol * |root|`` (:func:`scipy.optimize.brentq` with the same arguments).
    ``ValueError`` when the signs do not differ, ``RuntimeError`` when ``maxiter`` steps do not
    converge (as scipy's)."""
    xpre, xcur = float(a), float(b)
    xblk = fblk = spre = scur = 0.0
    fpre, fcur = float(f(xpre)), float(f(xcur))
    if fpre == 0:
        return xpre
    if fcur == 0:
        return xcur
    if math.copysign(1.0, fpre) == math.copysign(1.0, fcur):
        raise ValueError("f(a) and f(b) must have different signs")
    for _ in range(maxiter):
        if fpre != 0 and fcur != 0 and math.copysign(1.0, fpre) != math.copysign(1.0, fcur):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:  # interpolate
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:  # extrapolate
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):  # a good short step
                spre, scur = scur, stry
            else:  # bisect
                spre = scur = sbis
        else:  # bisect
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = float(f(xcur))
    raise RuntimeError(f"brentq: no convergence in {maxiter} iterations")
