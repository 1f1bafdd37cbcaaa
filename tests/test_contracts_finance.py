"""IRR and NPV against an independent implementation (numpy-financial) on random series."""

from __future__ import annotations

import numpy as np
import numpy_financial as npf
import pytest

from effekt.contracts.finance import UndefinedIRR, irr, money_multiple, npv, peak_capital


@pytest.mark.parametrize("seed", range(25))
def test_irr_and_npv_match_numpy_financial(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 60))
    invest = -rng.uniform(1e4, 1e6, size=int(rng.integers(1, 6)))
    scale = -invest.sum() / (n - len(invest))
    back = rng.uniform(0, 2.5 * scale, size=n - len(invest)) * (rng.random(n - len(invest)) < 0.6)
    back[-1] += rng.uniform(1e3, 1e5)
    flows = np.concatenate([invest, back])
    annual = (1 + npf.irr(flows)) ** 12 - 1
    if annual < 100:  # within the documented search range
        assert irr(flows) == pytest.approx(annual, rel=1e-6, abs=1e-9)
    else:
        with pytest.raises(UndefinedIRR):
            irr(flows)
    rate = float(rng.uniform(0, 0.1))
    assert npv(flows, rate) == pytest.approx(npf.npv((1 + rate) ** (1 / 12) - 1, flows), rel=1e-9)


def test_undefined_irr_says_so():
    with pytest.raises(UndefinedIRR):
        irr(np.array([-100.0, 0.0, 0.0]))
    with pytest.raises(UndefinedIRR):
        irr(np.array([0.0, 50.0]))


def test_simple_cases_by_hand():
    # 100 out, 110 back twelve months later: 10 % a year
    assert irr(np.array([-100.0] + [0.0] * 11 + [110.0])) == pytest.approx(0.10)
    assert npv(np.array([-100.0] + [0.0] * 11 + [104.0]), 0.04) == pytest.approx(0.0, abs=1e-9)
    assert peak_capital(np.array([-50.0, -30.0, 20.0, -10.0, 100.0])) == 80.0
    assert money_multiple(200.0, 300.0) == 1.5 and np.isnan(money_multiple(0.0, 10.0))
