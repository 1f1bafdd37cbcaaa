"""Start-up (issue 14): ``effekt --help`` and ``effekt validate`` must not import what they do not
need. Asserted on the modules a fresh interpreter has loaded, never on time: ``--help`` loads none
of numpy, pandas, pyarrow, scipy or matplotlib; ``validate`` (which checks the contract against
the pathway, so it needs the simulation's and the contracts' modules) loads no matplotlib, no
scipy (the priors' tail quantiles are computed by :mod:`effekt.quantiles`, checked here against
scipy.stats) and no pandas (the money layer holds it lazily, :mod:`effekt.lazy`); a run needs no
scipy (the IRR's root finder is :mod:`effekt.contracts.brent`). The public names of
``effekt.experiments`` are imported on first use (PEP 562) and are still all there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numpy", "pandas", "pyarrow", "scipy", "matplotlib", "simpy")
DEFAULT = Path(__file__).resolve().parents[1] / "experiments" / "scenarios" / "default.toml"


def _loaded_after(code: str) -> set[str]:
    """The top-level packages of ``HEAVY`` a fresh interpreter has imported after ``code``."""
    probe = (f"import sys, json\n{code}\n"
             f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _cli(args: list[str]) -> str:
    return ("from effekt.experiments.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code")


def test_importing_the_command_line_loads_nothing_heavy():
    assert _loaded_after("import effekt.experiments.cli") == set()


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["summary", "--help"],
                                  ["pathways", "--help"], ["decide", "--help"]])
def test_help_loads_nothing_heavy(args):
    assert _loaded_after(_cli(args)) == set()


def test_validate_loads_no_plotting_and_no_root_finder_of_its_own():
    """validate resolves the scenario (numpy, the simulation's schemas) but neither plots nor runs:
    no matplotlib, and the IRR's root finder is not imported by loading the contracts (scipy and
    pandas: the test below)."""
    loaded = _loaded_after(_cli(["validate", str(DEFAULT)]) + "\nimport effekt.contracts.finance as f\n"
                           "assert 'brentq' not in vars(f)")
    assert "matplotlib" not in loaded
    assert "numpy" in loaded  # it did validate: the scenario was resolved against the pathway


def test_the_package_face_is_lazy_and_complete():
    assert _loaded_after("import effekt.experiments") == set()
    import effekt.experiments as ex

    assert set(ex.__all__) == set(ex._HOMES)
    for name in ex.__all__:
        assert getattr(ex, name) is not None, name
        assert name in dir(ex)
    with pytest.raises(AttributeError, match="no_such_name"):
        ex.no_such_name  # noqa: B018
    from effekt.experiments import report_figures  # a submodule still imports through the face

    assert report_figures.__name__ == "effekt.experiments.report_figures"


def test_validate_of_the_default_loads_neither_scipy_nor_pandas():
    """The priors' tail checks and supports are computed without scipy.stats
    (:mod:`effekt.quantiles`) and the money layer holds pandas lazily (issue 14, second part)."""
    loaded = _loaded_after(_cli(["validate", str(DEFAULT)]))
    assert "scipy" not in loaded
    assert "pandas" not in loaded
    assert "numpy" in loaded  # it did validate


def test_the_money_layer_imports_no_pandas_until_a_frame_is_read():
    assert "pandas" not in _loaded_after("import effekt.contracts, effekt.contracts.evaluate")
    assert "pandas" in _loaded_after("import effekt.contracts.frames as f\nf.STR")


def test_a_run_needs_no_scipy(tmp_path):
    """The IRR's root finder is :func:`effekt.contracts.brent.brentq`, not scipy.optimize; a run
    of the default (whose investors get money back, so IRRs are solved) loads no scipy at all."""
    args = ["run", str(DEFAULT), "--runs", "3", "--workers", "1", "-q", "--out", str(tmp_path / "r")]
    loaded = _loaded_after(_cli(args))
    assert "scipy" not in loaded
    assert "pyarrow" in loaded  # it did run and store


FAMILIES = [("beta", (25.1, 15.4), {}), ("beta", (0.5, 0.5), {}), ("beta", (2.0, 200.0), {}),
            ("gamma", (4.0, 0.05), {}), ("gamma", (0.3, 2.0), {}), ("gamma", (200.0, 1.5), {}),
            ("lognormal", (1.4, 0.2), {}), ("lognormal", (0.5, 0.3), {}),
            ("normal", (0.5, 0.1), {}), ("normal", (0.5, 0.1), {"low": 0.0}),
            ("normal", (0.5, 0.1), {"high": 0.6}), ("normal", (0.5, 0.1), {"low": 0.3, "high": 0.7}),
            ("triangular", (40000.0, 60000.0, 90000.0), {}), ("triangular", (0.0, 0.0, 1.0), {}),
            ("uniform", (0.1, 0.3), {})]


@pytest.mark.parametrize(("kind", "params", "trunc"), FAMILIES)
def test_scipy_free_quantiles_and_supports_agree_with_scipy_stats(kind, params, trunc):
    """The tail checks' quantiles (:mod:`effekt.quantiles`) against scipy.stats' ppf, the
    independent reference, to 1e-12 relative; supports bit for bit (a point value is checked
    against them)."""
    from effekt import quantiles as q
    from effekt.priors import KINDS

    table = {kind: list(params), **trunc}
    prior = KINDS[kind](tuple(params), low=trunc.get("low"), high=trunc.get("high"))
    rv = prior.rv()
    for p in (0.001, 0.05, 0.5, 0.95, 0.999):
        got, want = q.quantile(kind, params, p, trunc.get("low"), trunc.get("high")), float(rv.ppf(p))
        assert got == pytest.approx(want, rel=1e-12, abs=1e-300), (table, p)
    lo, hi = rv.support()
    assert q.support(kind, params, trunc.get("low"), trunc.get("high")) == (float(lo), float(hi))


def test_closed_form_quantiles_by_hand():
    """Independent of scipy: the uniform's and triangular's quantiles are elementary, a beta(1, 1)
    is the uniform, a beta(2, 1) has CDF x^2, a gamma(1, s) is the exponential."""
    import math

    from effekt import quantiles as q

    assert q.quantile("uniform", (2.0, 4.0), 0.25) == 2.5
    assert q.quantile("triangular", (0.0, 1.0, 2.0), 0.5) == pytest.approx(1.0)
    assert q.quantile("triangular", (0.0, 1.0, 2.0), 0.125) == pytest.approx(0.5)
    assert q.quantile("beta", (1.0, 1.0), 0.3) == pytest.approx(0.3, rel=1e-14)
    assert q.quantile("beta", (2.0, 1.0), 0.25) == pytest.approx(0.5, rel=1e-14)
    assert q.quantile("gamma", (1.0, 3.0), 0.5) == pytest.approx(3.0 * math.log(2), rel=1e-13)
    assert q.quantile("lognormal", (1.4, 0.2), 0.5) == pytest.approx(1.4, rel=1e-15)
    with pytest.raises(ValueError, match="calibrated"):
        q.quantile("calibrated", (), 0.5)
