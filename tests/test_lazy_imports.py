"""Start-up (issue 14): ``effekt --help`` and ``effekt validate`` must not import what they do not
need. Asserted on the modules a fresh interpreter has loaded, never on time: ``--help`` loads none
of numpy, pandas, pyarrow, scipy or matplotlib; ``validate`` (which checks the contract against
the pathway, so it needs the simulation's specs, the contract terms and the fiscal rules) loads
none of them either: no scipy (the priors' tail quantiles are computed by :mod:`effekt.quantiles`,
checked here against scipy.stats), and pandas, numpy and pyarrow are held by the modules it reads
as :mod:`effekt.lazy` stand-ins, imported when a function first uses them; a run needs no scipy
(the IRR's root finder is :mod:`effekt.contracts.brent`). The public names of
``effekt.experiments``, ``effekt.contracts`` and the record schemas and engine of ``effekt.sim``
are imported on first use (PEP 562) and are still all there, each the object of its home module.
"""

from __future__ import annotations

import json
import math
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


def _modules_after(code: str, names: tuple[str, ...]) -> set[str]:
    """Which of the modules ``names`` a fresh interpreter has imported after ``code``."""
    probe = (f"import sys, json\n{code}\n"
             f"print(json.dumps(sorted(m for m in {names!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _validated_the_default() -> bool:
    """Whether ``effekt validate`` of the default says it is ok, with its pathway and contract."""
    out = subprocess.run([sys.executable, "-c", "from effekt.experiments.cli import main; main()",
                          "validate", "--lang", "en", str(DEFAULT)], capture_output=True, text=True)
    return (out.returncode == 0 and ": ok (kongsberg_default, pathway kongsberg_kull, contract "
            "kongsberg_outcomes" in out.stdout)


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
    """validate resolves the scenario against the pathway but neither plots nor runs: no
    matplotlib, and the IRR's root finder is not imported by loading the contracts (scipy and
    pandas: the test below)."""
    loaded = _loaded_after(_cli(["validate", str(DEFAULT)]) + "\nimport effekt.contracts.finance as f\n"
                           "assert 'brentq' not in vars(f)")
    assert "matplotlib" not in loaded
    assert "numpy" in loaded  # finance, imported after validate, holds numpy eagerly


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
    assert _validated_the_default()  # it did validate (numpy is not needed for it any more: below)


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


def test_a_run_that_prints_its_summary_loads_no_scipy_stats(tmp_path):
    """The summary's t and normal quantiles come from scipy.special (``stdtrit``, ``ndtri``: what
    scipy.stats' ``t.ppf`` and ``norm.ppf`` compute), so the user's plain ``effekt run`` does not
    import scipy.stats, about half a second of its start-up (issue 14)."""
    args = ["run", str(DEFAULT), "--runs", "3", "--workers", "1", "--out", str(tmp_path / "r")]
    loaded = _modules_after(_cli(args), ("scipy.stats", "scipy.optimize", "scipy.special",
                                         "effekt.experiments.summary"))
    assert loaded == {"scipy.special", "effekt.experiments.summary"}


@pytest.mark.parametrize("n", [2, 3, 10, 1000])
def test_the_summary_intervals_are_scipy_stats_own(n):
    """describe's t interval is scipy.stats' t.ppf to the bit; wilson's interval is scipy.stats'
    own Wilson interval (``binomtest(...).proportion_ci(method="wilson")``, written apart from
    ours) to rounding."""
    import numpy as np
    from scipy import stats

    from effekt.experiments.summary import describe, wilson

    x = np.random.default_rng(n).normal(10.0, 3.0, n)
    half = stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n)
    got = describe(x)
    assert (got["ci_low"], got["ci_high"]) == (float(x.mean()) - float(half), float(x.mean()) + float(half))
    for k in (0, n // 2, n):  # none, some and all succeeded
        ci = stats.binomtest(k, n).proportion_ci(method="wilson")
        assert wilson(k, n) == pytest.approx((ci.low, ci.high), rel=1e-12, abs=1e-15)


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


# -- issue 14, sixth part: validate without numpy and pyarrow ------------------------------------

MONEY_NOT_NEEDED = ("effekt.contracts.evaluate", "effekt.contracts.budgets", "effekt.contracts.finance",
                    "effekt.contracts.displacement", "effekt.contracts.waterfall",
                    "effekt.contracts.long_run", "effekt.sim.engine", "effekt.sim.records",
                    "effekt.experiments.executors")
"""Modules ``effekt validate`` does not need: the cashflows' and budgets' Arrow schemas, investor
finance, the engine (SimPy), the record schemas (pyarrow) and the executors (multiprocessing)."""

READ_BY_VALIDATE = ("effekt.contracts.terms", "effekt.contracts.fiscal", "effekt.contracts.kpis",
                    "effekt.sim.pathway", "effekt.sim.people", "effekt.priors")


def test_validate_loads_neither_numpy_nor_pyarrow_nor_the_money_it_does_not_check():
    code = _cli(["validate", str(DEFAULT)])
    assert _loaded_after(code) == set()  # none of numpy, pandas, pyarrow, scipy, matplotlib, simpy
    assert _modules_after(code, MONEY_NOT_NEEDED) == set()
    assert _modules_after(code, READ_BY_VALIDATE) == set(READ_BY_VALIDATE)  # what it did read
    assert _validated_the_default()


def test_validate_of_a_sweep_with_priors_loads_no_numpy(tmp_path):
    """A scenario with a [design] sweep and priors (checked at their tails) validates without
    numpy too: the sweep's points are made and checked as specs."""
    scenario = tmp_path / "sweep.toml"
    scenario.write_text(DEFAULT.read_text(encoding="utf-8") + "\n[design.sweep]\n"
                        '"contract.prices.job_start" = [40000, 60000]\n', encoding="utf-8")
    code = _cli(["validate", str(scenario)])
    assert _loaded_after(code) == set()
    out = subprocess.run([sys.executable, "-c", "from effekt.experiments.cli import main; main()",
                          "validate", "--lang", "en", str(scenario)], capture_output=True, text=True)
    assert out.returncode == 0 and "2 design points" in out.stdout, out.stdout + out.stderr


HELP_NEEDS_NONE_OF = ("pydantic", "importlib.metadata", "effekt.specfile", "effekt.experiments.executors",
                     "multiprocessing")
"""``--help`` shows words: no spec models (pydantic, which also reads its plugins' entry points
through importlib.metadata), no executors (multiprocessing)."""


@pytest.mark.parametrize("args", [["--help"], ["validate", "--help"], ["run", "--help"],
                                  ["calibrate", "--help"], ["pathways", "--help"]])
def test_help_loads_no_spec_models_and_no_executors(args):
    assert _modules_after(_cli(args), HELP_NEEDS_NONE_OF) == set()


def test_the_version_is_read_when_asked():
    assert _modules_after("import effekt", ("importlib.metadata",)) == set()
    from importlib.metadata import version

    import effekt

    assert effekt.__version__ == version("effekt")
    with pytest.raises(AttributeError, match="no_such_name"):
        effekt.no_such_name  # noqa: B018


def test_a_run_still_loads_what_it_needs(tmp_path):
    """The lazily held modules are there when a run needs them: the stand-ins of the modules a run
    reads numpy and pyarrow through are the real modules after it (no stand-in left in a hot loop)."""
    args = ["run", str(DEFAULT), "--runs", "2", "--workers", "1", "-q", "--out", str(tmp_path / "r")]
    code = (_cli(args) + "\nimport numpy, pyarrow\n"
            "import effekt.sim.streams as s, effekt.contracts.periods as p\n"
            "import effekt.contracts.fiscal as f, effekt.contracts.outcomes as o\n"
            "assert s.np is numpy and p.np is numpy and f.np is numpy and o.np is numpy and o.pa is pyarrow")
    assert {"numpy", "pyarrow", "simpy"} <= _loaded_after(code)


HOMES = {
    "effekt.contracts": "{**{n: f'effekt.contracts.{m}' for n, m in face._HOMES.items()}, "
                        "'evaluate': 'effekt.contracts.evaluate'}",
    "effekt.experiments": "{n: f'effekt.experiments.{m}' for n, m in face._HOMES.items()}",
    "effekt.sim": "dict(face._LAZY)",
}
"""Per face, an expression for {public name: the module it lives in} of the names it resolves on
first use (``face`` is the face module)."""


@pytest.mark.parametrize("face", sorted(HOMES))
def test_every_name_of_a_lazy_face_resolves_to_its_home_object(face):
    """In a fresh interpreter, ``from <face> import X`` works for every X in ``__all__``, and each
    name resolved on first use is the very object its home module defines (a face re-exports, it
    does not wrap)."""
    code = (f"import importlib, {face} as face\n"
            f"homes = {HOMES[face]}\n"
            "renamed = getattr(face, '_RENAMED', {})\n"
            "bad = []\n"
            "for name in face.__all__:\n"
            "    exec(f'from {face.__name__} import {name} as got')\n"
            "    if got is not getattr(face, name):\n"
            "        bad.append(name)\n"
            "    elif name in homes and getattr(importlib.import_module(homes[name]),\n"
            "                                   renamed.get(name, name)) is not got:\n"
            "        bad.append(name)\n"
            "print(len(face.__all__), len(homes), bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    n_all, n_lazy, bad = out.stdout.strip().splitlines()[-1].split(" ", 2)
    assert bad == "[]"
    assert int(n_lazy) >= 2 and int(n_all) >= int(n_lazy)


@pytest.mark.parametrize("first", ["import effekt.contracts.evaluate",
                                   "from effekt.contracts.evaluate import CASHFLOWS",
                                   "from effekt.contracts import evaluate_block",
                                   "import effekt.contracts.block"])
def test_the_contracts_evaluate_is_the_function_whatever_was_imported_first(first):
    """``evaluate`` is both a function of the face and a submodule: importing the submodule (which
    binds the package's attribute of that name to the module) leaves the face's name the function."""
    code = (f"{first}\nimport types, effekt.contracts as c\nfrom effekt.contracts import evaluate\n"
            "import effekt.contracts.evaluate as m\n"
            "import sys\nev = sys.modules['effekt.contracts.evaluate']\n"
            "assert evaluate is ev.evaluate and c.evaluate is ev.evaluate, evaluate\n"
            "assert not isinstance(c.evaluate, types.ModuleType) and m is ev.evaluate\n"
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_the_contracts_face_takes_a_replacement_of_evaluate_and_gives_it_back(monkeypatch):
    import effekt.contracts as c
    from effekt.contracts.evaluate import evaluate as real

    def fake(*args, **kwargs):
        return "fake"

    monkeypatch.setattr(c, "evaluate", fake)
    assert c.evaluate is fake
    monkeypatch.undo()
    assert c.evaluate is real
    with pytest.raises(AttributeError, match="no_such_name"):
        c.no_such_name  # noqa: B018
    from effekt.contracts import fiscal  # a submodule still imports through the face

    assert fiscal.__name__ == "effekt.contracts.fiscal"


def test_a_lazy_module_puts_the_real_one_in_its_place_on_first_use():
    import types

    from effekt import lazy

    namespace: dict = {}
    namespace["m"] = namespace["also"] = lazy.module("json", namespace)
    assert isinstance(namespace["m"], lazy.LazyModule)
    assert namespace["m"].dumps([1]) == "[1]"
    import json

    assert namespace["m"] is json and namespace["also"] is json  # every name bound to it
    plain = lazy.module("json")  # without a namespace it stays a stand-in that forwards
    assert plain.loads("[2]") == [2] and not isinstance(plain, types.ModuleType)


def test_a_lognormal_whose_mean_overflows_is_refused_without_a_warning():
    """The overflow of a huge sigma's mean is quiet in the mean itself (it was quiet inside the
    check before numpy was held lazily) and the check refuses the infinite mean."""
    import warnings

    from pydantic import TypeAdapter, ValidationError

    from effekt.sim.distributions import Duration

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValidationError, match="within 5200 weeks"):
            TypeAdapter(Duration).validate_python({"dist": "lognormal", "median": 10, "sigma": 40})
        with pytest.raises(ValidationError, match="within 5200 weeks"):
            TypeAdapter(Duration).validate_python({"dist": "empirical", "values": [1e308, 1e308]})
        ok = TypeAdapter(Duration).validate_python({"dist": "lognormal", "median": 10, "sigma": 0.5})
    assert ok.mean == pytest.approx(10 * math.exp(0.125), rel=1e-15)


# -- the tail checks' cheaper parts (same results) ---------------------------------------------------

def test_booleans_are_refused_where_numbers_go_and_the_checks_are_made_once_per_model():
    """The boolean check reads each field's annotation once (:meth:`Strict._number_checks`): the
    fields that take numbers, alone, optional, in lists or tables, are checked, in field order;
    a text, a choice of types and a field with its own validator are not."""
    from typing import Annotated

    from pydantic import Field, ValidationError, field_validator

    from effekt.specfile import NOT_A_BOOLEAN, Strict

    class Spec(Strict):
        n: int = 0
        name: str = ""
        x: float | None = None
        either: int | str = 0
        xs: list[float] = []
        table: dict[str, float] = {}
        positive: Annotated[float, Field(gt=0)] = 1.0
        nested: list[dict[str, int]] = []
        own: float = 0.0

        @field_validator("own", mode="before")
        @classmethod
        def _own(cls, v: object) -> object:
            return 0.0 if v is True else v

    assert [key for key, _ in Spec._number_checks()] == ["n", "x", "xs", "table", "positive", "nested"]
    assert Spec._number_checks() is Spec._number_checks()  # made once
    for key, value in [("n", True), ("x", False), ("xs", [1.0, True]), ("table", {"a": False}),
                       ("positive", True), ("nested", [{"a": 1}, {"b": True}])]:
        with pytest.raises(ValidationError) as err:
            Spec.model_validate({key: value})
        assert f"{key}: {NOT_A_BOOLEAN}" in str(err.value), (key, str(err.value))
    assert Spec.model_validate({"own": True, "xs": [1, 2.5], "table": {"a": 3}}).own == 0.0
    assert NOT_A_BOOLEAN not in str(pytest.raises(ValidationError, Spec.model_validate, {"name": True}).value)


def test_a_tree_copied_for_a_tail_check_is_a_deep_copy():
    import copy

    from effekt.priors import _copied, with_values

    class Thing:
        def __init__(self) -> None:
            self.items = [1]

    tree = {"a": {"b": [1, 2.5, {"c": "x"}], "t": (1, 2)}, "d": True, "e": None, "thing": Thing()}
    out = _copied(tree)
    assert out == {**copy.deepcopy(tree), "thing": out["thing"]} and out["thing"] is not tree["thing"]
    assert out["thing"].items == [1] and out["thing"].items is not tree["thing"].items
    assert out["a"] is not tree["a"] and out["a"]["b"] is not tree["a"]["b"]
    assert out["a"]["b"][2] is not tree["a"]["b"][2]
    changed = with_values(tree, {"a.b[2].c": "y"})
    assert changed["a"]["b"][2]["c"] == "y" and tree["a"]["b"][2]["c"] == "x"
