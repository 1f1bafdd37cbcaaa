"""The truncated normal's quantiles far in a tail (review 14 item 13), against scipy.stats.truncnorm
(which works in log space): a truncation 8 to 12 sd from the mean, above or below it, one-sided or
two-sided. ``Phi(a) + q (Phi(b) - Phi(a))`` computed in the upper tail is 1 - 1e-16 or 1 there and
would give every quantile at the bound or an infinity."""

from __future__ import annotations

import math

import pytest
from scipy.stats import truncnorm

from effekt import quantiles

TAILS = [(0.0, 1.0, 8.0, 12.0), (0.0, 1.0, 10.0, None), (0.0, 1.0, 12.0, None), (0.5, 0.1, 1.3, 1.7),
         (0.0, 1.0, -12.0, -8.0), (0.0, 1.0, None, -10.0), (0.5, 0.1, -0.7, -0.3), (0.0, 1.0, 9.0, 9.5)]


@pytest.mark.parametrize(("mean", "sd", "low", "high"), TAILS)
def test_a_truncation_far_in_a_tail_agrees_with_scipy(mean, sd, low, high):
    a = -float("inf") if low is None else (low - mean) / sd
    b = float("inf") if high is None else (high - mean) / sd
    rv = truncnorm(a, b, loc=mean, scale=sd)
    for p in (0.001, 0.05, 0.5, 0.95, 0.999):
        got = quantiles.quantile("normal", (mean, sd), p, low, high)
        assert got == pytest.approx(float(rv.ppf(p)), rel=1e-9), (mean, sd, low, high, p)
        assert (low is None or got >= low) and (high is None or got <= high)


def test_the_median_of_a_narrow_far_truncation_lies_inside_it():
    """By hand: on [9, 9 + 1e-6] the density is nearly exp(-z^2/2) falling by a factor
    exp(-9e-6), so the median is 9 + 0.5e-6 to within 1e-11."""
    got = quantiles.quantile("normal", (0.0, 1.0), 0.5, 9.0, 9.0 + 1e-6)
    assert got == pytest.approx(9.0 + 0.5e-6, abs=1e-11)


def test_a_lognormal_too_wide_for_a_double_has_an_infinite_upper_quantile_not_an_error():
    # found by the fuzzing campaign: a huge sigma made math.exp overflow (a traceback in validate)
    from effekt.quantiles import quantile

    assert quantile("lognormal", (1.0, 1e300), 0.999) == math.inf
    assert quantile("lognormal", (1.0, 1e300), 0.001) == 0.0
    assert quantile("lognormal", (2.0, 0.5), 0.5) == 2.0
