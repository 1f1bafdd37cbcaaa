"""``effekt breakeven FILE --for investor|commissioner --vary KEY``: the value of one scenario
number (a price, a probability, a cohort size) at which a party just breaks even.

* **investor**: the mean IRR over replications reaches the target (0 by default), or the mean NPV
  with ``--metric npv``. A replication where the investor gets nothing back has an IRR of -100 %.
* **commissioner**: what the commissioners pay in outcome payments (NPV) equals the public
  savings they get (NPV of benefits saved and taxes gained): the net public gain is zero, read
  from the contracts layer's ``fiscal_npv_total`` KPI (the beregningsmodell, contract included).

Every value of KEY is run with the same replication seeds (common random numbers), so the curve
of the mean against the value is smooth and the break-even point is found by root finding on it.
Its uncertainty: bootstrap over replications (resample replications, recompute the curve on the
grid and its crossing). KEY is a dotted key in the one grammar of :mod:`effekt.dotted`
(``world.cohorts[0].size`` or ``world.cohorts.0.size``). The replications run on any executor of
``effekt batch`` (serial, processes, Dask), with the same answer on each.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from effekt.contracts import KpiRegistry, kpis_for, kpis_for_columns
from effekt.experiments.analysis.common import number_at, replicate_many, scenario_at, scenario_with
from effekt.experiments.design import auxiliary_rng
from effekt.experiments.executors import Executor
from effekt.experiments.scenario import Scenario
from effekt.specfile import SpecError

PARTIES = ("investor", "commissioner")


@dataclass
class BreakEven:
    party: str
    metric: str
    key: str
    target: float
    base_value: float
    value: float                 # NaN when the curve does not cross the target in [low, high]
    ci_low: float
    ci_high: float
    replications: int
    grid: pd.DataFrame           # value, mean, ci_low, ci_high of the metric at each grid point
    bootstrap_no_crossing: float  # share of bootstrap samples without a crossing
    notes: list[str] = field(default_factory=list)


def investor_values(runs: pd.DataFrame, metric: str, registry: KpiRegistry | None = None) -> np.ndarray:
    """Per replication: the investors' IRR (-1 when nothing came back) or NPV, from the KPIs
    ``registry`` (default: those every contract declares) declares as all investors' ``irr``,
    ``npv``, ``received`` and ``invested``."""
    reg = registry if registry is not None else kpis_for_columns(runs.columns)

    def col(measure: str) -> np.ndarray:
        return runs[reg.at(measure, party="investor").name].to_numpy(float)

    if metric == "npv":
        return col("npv")
    irr = col("irr").copy()
    total_loss = (col("received") <= 0) & (col("invested") > 0)
    irr[np.isnan(irr) & total_loss] = -1.0
    return irr


def commissioner_values(runs: pd.DataFrame, registry: KpiRegistry | None = None) -> tuple[np.ndarray, str]:
    """Per replication: net public gain (NPV) = savings - payments, from the contracts layer's
    KPI of all public budgets' NPV (``fiscal_npv_total``; NaN where there is no control arm to
    compare with), as ``registry`` (default: the KPIs every contract declares) declares it."""
    reg = registry if registry is not None else kpis_for_columns(runs.columns)
    total = reg.at("fiscal_npv", arm="difference", party=None).name
    return runs[total].to_numpy(float), f"fiscal KPI {total}"


def _nanmean(a: np.ndarray, axis=None):
    """``np.nanmean`` without the warning for all-NaN columns (values left out)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=axis)


def _first_crossing(x: np.ndarray, y: np.ndarray) -> tuple[float, int] | None:
    """Linear interpolation of the first sign change of ``y`` along ``x``; (root, left index)."""
    ok = np.isfinite(y)
    x, y, idx = x[ok], y[ok], np.nonzero(ok)[0]
    for i in range(len(y)):
        if y[i] == 0:
            return float(x[i]), int(idx[i])
    s = np.sign(y)
    ch = np.nonzero(s[:-1] * s[1:] < 0)[0]
    if len(ch) == 0:
        return None
    i = ch[0]
    return float(x[i] - y[i] * (x[i + 1] - x[i]) / (y[i + 1] - y[i])), int(idx[i])


def find_breakeven(evaluate: Callable[[float], np.ndarray], low: float, high: float,
                   target: float = 0.0, points: int = 7, bootstrap: int = 1000, *,
                   rng: np.random.Generator, refine: bool = True,
                   xtol: float | None = None,
                   grid_map: Callable[[Callable, list[float]], list] | None = None) -> dict:
    """Break-even of ``mean(evaluate(v)) = target`` for ``v`` in [low, high].

    ``evaluate(v)`` returns one value per replication, the same replications for every ``v``
    (common random numbers). ``grid_map(evaluate, values)`` evaluates the grid (default: one by
    one; :func:`breakeven` runs all its values' replications on an executor at once). ``rng``
    draws the bootstrap resamples (no default: a fixed seed here would ignore the scenario's;
    :func:`breakeven` passes the ``breakeven_bootstrap`` stream of the root seed). Returns the
    value, its bootstrap 95 % CI and the grid.
    """
    grid = np.linspace(low, high, points)
    cache: dict[float, np.ndarray] = {}
    mapped = (grid_map or (lambda fn, vs: [fn(v) for v in vs]))(evaluate, [float(v) for v in grid])
    for v, y in zip(grid, mapped, strict=True):
        cache[float(v)] = np.asarray(y, dtype=float)

    def values(v: float) -> np.ndarray:
        if v not in cache:
            cache[v] = np.asarray(evaluate(v), dtype=float)
        return cache[v]

    Y = np.column_stack([values(float(v)) for v in grid])  # replications x points
    curve = _nanmean(Y, axis=0) - target
    found = _first_crossing(grid, curve)
    value = math.nan
    if found is not None:
        value, i = found
        if refine and curve[i] != 0 and i + 1 < len(grid):
            def f(v: float) -> float:
                return float(_nanmean(values(v)) - target)
            value = brentq(f, grid[i], grid[i + 1], xtol=xtol or (high - low) * 1e-9)
    roots = []
    R = Y.shape[0]
    for _ in range(bootstrap):
        sample = Y[rng.integers(0, R, R)]
        with np.errstate(all="ignore"):
            c = _first_crossing(grid, _nanmean(sample, axis=0) - target)
        roots.append(c[0] if c is not None else math.nan)
    roots = np.asarray(roots)
    if found is not None and np.isfinite(value):
        # the resamples' crossings are interpolated on the grid; shift them by the full sample's
        # interpolation error so the interval is centred on the refined root
        roots = roots + (value - found[0])
    good = roots[np.isfinite(roots)]
    n = np.sum(np.isfinite(Y), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sd = np.nanstd(Y, axis=0, ddof=1) if R > 1 else np.zeros(points)
    half = 1.96 * sd / np.sqrt(np.maximum(n, 1))
    table = pd.DataFrame({"value": grid, "mean": curve + target, "ci_low": curve + target - half,
                          "ci_high": curve + target + half})
    return {
        "value": value,
        "ci_low": float(np.percentile(good, 2.5)) if len(good) else math.nan,
        "ci_high": float(np.percentile(good, 97.5)) if len(good) else math.nan,
        "no_crossing": float(1 - len(good) / max(1, len(roots))),
        "grid": table,
    }


class _Point:
    """Values of the varied key -> per-replication values and notes; the replications of all the
    values asked for at once run together on the executor."""

    def __init__(self, base: Scenario, party: str, vary: str, metric: str, replications: int,
                 seed: int, executor: Executor | None):
        self.base, self.party, self.vary, self.metric = base, party, vary, metric
        self.replications, self.seed, self.executor = replications, seed, executor

    def many(self, vs: list[float]) -> list[tuple[np.ndarray, list[str]]]:
        out: list[tuple[np.ndarray, list[str]] | None] = [None] * len(vs)
        scenarios, at = [], []
        for i, v in enumerate(vs):
            try:
                scenarios.append(scenario_at(self.base, {self.vary: v}))
                at.append(i)
            except SpecError as err:  # e.g. a price above a cap: leave this value out, say why
                out[i] = (np.full(self.replications, np.nan),
                          [f"{self.vary} = {v:g} left out: {'; '.join(err.problems)}"])
        done = replicate_many(scenarios, self.replications, self.seed, self.executor)
        for i, runs in zip(at, done, strict=True):
            out[i] = self._values(runs)
        return out  # type: ignore[return-value]

    def __call__(self, v: float) -> tuple[np.ndarray, list[str]]:
        return self.many([v])[0]

    def _values(self, runs: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        kpis = kpis_for(self.base.terms)  # the contract's declared KPIs say which column is whose
        if self.party == "investor":
            return investor_values(runs, self.metric, kpis), []
        vals, source = commissioner_values(runs, kpis)
        return vals, [f"public savings: {source}"]


def _note(result: tuple[np.ndarray, list[str]], notes: list[str]) -> np.ndarray:
    values, new = result
    notes.extend(n for n in new if n not in notes)
    return values


def breakeven(path, party: str, vary: str, target: float = 0.0, metric: str | None = None,
              low: float | None = None, high: float | None = None, points: int = 7,
              replications: int = 50, seed: int | None = None, bootstrap: int = 1000,
              assignments: list[str] | None = None, executor: Executor | None = None) -> BreakEven:
    """Break-even value of scenario key ``vary`` for ``party`` (see the module docstring); the
    replications run on ``executor`` (default: this process), the whole grid at once."""
    if party not in PARTIES:
        raise SpecError("--for", [f"'{party}': allowed: {', '.join(PARTIES)}"])
    metric = metric or ("irr" if party == "investor" else "npv")
    if metric not in ("irr", "npv"):
        raise SpecError("--metric", [f"'{metric}': allowed: irr, npv"])
    if party == "commissioner" and metric != "npv":
        raise SpecError("--metric", ["the commissioner's break-even is on NPV only"])
    assignments = list(assignments or [])
    base_sc = scenario_with(path, assignments=assignments)
    base = number_at(base_sc.resolved, vary, "--vary", base_sc.source)
    seed = base_sc.design.seed if seed is None else seed
    lo = 0.0 if low is None else low
    hi = (2.0 * base if base > 0 else 1.0) if high is None else high
    notes: list[str] = []
    point = _Point(base_sc, party, vary, metric, replications, seed, executor)

    def evaluate(v: float) -> np.ndarray:
        return _note(point(v), notes)

    def grid_map(_fn, vs: list[float]) -> list[np.ndarray]:
        return [_note(r, notes) for r in point.many(vs)]

    xtol = 0.5 if isinstance(base, int) else None
    res = find_breakeven(evaluate, lo, hi, target, points, bootstrap,
                         rng=auxiliary_rng(seed, "breakeven_bootstrap"), xtol=xtol, grid_map=grid_map)
    return BreakEven(party=party, metric=metric, key=vary, target=target, base_value=float(base),
                     value=res["value"], ci_low=res["ci_low"], ci_high=res["ci_high"],
                     replications=replications, grid=res["grid"],
                     bootstrap_no_crossing=res["no_crossing"],
                     notes=notes)


def render(b: BreakEven) -> str:
    def fmt(v: float) -> str:
        return f"{v:,.6g}".replace(",", " ") if np.isfinite(v) else "n/a"

    what = {("investor", "irr"): "the investor's mean IRR", ("investor", "npv"): "the investor's mean NPV",
            ("commissioner", "npv"): "mean public savings minus outcome payments (NPV)"}[(b.party, b.metric)]
    lines = []
    if np.isfinite(b.value):
        lines.append(f"Break-even for the {b.party}: {b.key} = {fmt(b.value)} "
                     f"(95 % CI {fmt(b.ci_low)} to {fmt(b.ci_high)}), where {what} = {b.target:g}")
    else:
        lo, hi = b.grid["value"].iloc[0], b.grid["value"].iloc[-1]
        lines.append(f"No break-even for the {b.party} with {b.key} between {fmt(lo)} and {fmt(hi)}: "
                     f"{what} stays on one side of {b.target:g} (try --low/--high)")
    lines.append(f"Scenario value: {fmt(b.base_value)}; {b.replications} replications per value, "
                 "common random numbers; CI: bootstrap over replications"
                 + (f" ({100 * b.bootstrap_no_crossing:.0f} % of resamples had no crossing)"
                    if b.bootstrap_no_crossing > 0 else ""))
    lines.extend(b.notes)
    g = b.grid.copy()
    lines.append("")
    lines.append(g.to_string(index=False, float_format=lambda v: f"{v:,.4g}"))
    return "\n".join(lines)
