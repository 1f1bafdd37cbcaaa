"""``effekt breakeven FILE --for investor|kommune|state|public --vary KEY``: the value of one
scenario number (a price, a probability, a cohort size) at which a party just breaks even, with the
metric named.

* **kommune**, **state**, **public**: that party's fiscal NPV against the counterfactual, outcome
  payments included, is zero (the contracts layer's ``fiscal_npv_<party>`` KPI; ``public``: all
  public budgets together, ``fiscal_npv_total``, the beregningsmodell). ``commissioner`` is an
  older name of ``public``.
* **investor**, ``--metric``: ``multiple`` (default): the mean money multiple is 1 (money back =
  money in, on average); ``loss``: the probability of a loss is 50 %; ``npv``: the mean NPV at the
  discount rate is 0; ``irr``: the mean IRR is 0. The first three are defined in every replication
  where money was put in. The IRR is not always (:func:`effekt.contracts.undefined_irr_reasons`,
  the one rule the run summary and the report use too): a replication with no money back counts as
  -100 % (the usual convention, said in the output). One with money back but no single rate has no
  value to average: leaving it out would bias the mean upward (such runs are mostly poor ones, with
  costs after the last payment), and -100 % would bias it downward. So the metric is decided before
  the search, from the grid: when more than :data:`IRR_UNDEFINED_SHARE` (5 %) of its replications
  have money back but no single rate, the break-even is found on the **probability that the
  IRR reaches the target** instead (where it is 50 %: the median IRR is the target), such a
  replication counted as *not* reaching it (no rate can be said to be earned; the conservative
  reading a lender's credit committee takes), and the output says so and how many, value by value
  (metric ``irr_reached``); at or below it they are left out of the mean IRR (said, with the share).

``--target`` moves the level (e.g. ``--metric irr --target 0.05`` for a 5 % IRR).
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

from effekt.contracts import NO_SINGLE_RATE, KpiRegistry, kpis_for, kpis_for_columns, undefined_irr_reasons
from effekt.dotted import suggest
from effekt.experiments.analysis.common import number_at, replicate_many, scenario_at, scenario_with
from effekt.experiments.design import auxiliary_rng
from effekt.experiments.executors import Executor
from effekt.experiments.messages import nb_hint
from effekt.experiments.scenario import Scenario
from effekt.specfile import SpecError, said

PARTIES = ("investor", "kommune", "state", "public")
"""Who can break even: the investors, or a public party's budget (``public``: all of them)."""
ALIASES = {"commissioner": "public"}
"""Older names of a party."""
METRICS: dict[str, tuple[str, ...]] = {"investor": ("multiple", "loss", "npv", "irr"),
                                       "kommune": ("npv",), "state": ("npv",), "public": ("npv",)}
"""Each party's metrics, its default first."""
TARGETS = {"multiple": 1.0, "loss": 0.5, "npv": 0.0, "irr": 0.0}
"""The level of each metric at which a party breaks even, unless ``--target`` says otherwise."""
REACHED_LEVEL = 0.5
"""The break-even level of the probability that the IRR reaches its target (metric ``irr_reached``,
used where some IRRs are undefined with money back): the median IRR is the target."""
IRR_UNDEFINED_SHARE = 0.05
"""Above this share of the grid's replications with money back but no single rate, ``--metric
irr`` is found on the probability of reaching the target (``irr_reached``) instead of the mean IRR;
at or below it they are left out of the mean (a small bias; said in the output). An assumption:
one odd replication must not change what the answer means, a twentieth of them may."""


@dataclass
class BreakEven:
    party: str
    metric: str                  # one of METRICS, or irr_reached (see the module docstring)
    key: str
    target: float                # the metric's target; for irr_reached the IRR's (the level is 50 %)
    base_value: float
    value: float                 # NaN when the curve does not cross the target in [low, high]
    ci_low: float
    ci_high: float
    replications: int
    grid: pd.DataFrame           # value, mean, ci_low, ci_high of the metric at each grid point
    bootstrap_no_crossing: float  # share of bootstrap samples without a crossing
    notes: list[tuple[str, dict]] = field(default_factory=list)  # (key of NOTES, its values)


def investor_values(runs: pd.DataFrame, metric: str, registry: KpiRegistry | None = None) -> np.ndarray:
    """Per replication: the investors' money multiple, loss (0/1), NPV or IRR, from the KPIs
    ``registry`` (default: those every contract declares) declares as all investors' ``multiple``,
    ``loss``, ``npv``, ``irr``, ``received`` and ``invested``. An IRR where nothing came back is
    -1 (-100 %, the convention); one undefined with money back stays NaN (:func:`irr_left_out`)."""
    reg = registry if registry is not None else kpis_for_columns(runs.columns)

    def col(measure: str) -> np.ndarray:
        return runs[reg.at(measure, party="investor").name].to_numpy(float)

    if metric in ("npv", "multiple", "loss"):
        return col(metric)
    irr = col("irr").copy()
    irr[_reasons(runs, reg) == "nothing_back"] = -1.0
    return irr


def _reasons(runs: pd.DataFrame, reg: KpiRegistry) -> np.ndarray:
    """Per replication why the investors' IRR is undefined (None: defined), by the one rule of
    :func:`effekt.contracts.undefined_irr_reasons`."""
    def col(measure: str) -> np.ndarray:
        return runs[reg.at(measure, party="investor").name].to_numpy(float)

    return undefined_irr_reasons(col("irr"), col("invested"), col("received"))


def irr_left_out(runs: pd.DataFrame, registry: KpiRegistry | None = None) -> tuple[int, int]:
    """(replications whose IRR is undefined although money came back, replications with no money
    back at all): the first have no rate (:func:`irr_reached` counts them as not reaching the
    target), the second count as -100 %."""
    reasons = _reasons(runs, registry if registry is not None else kpis_for_columns(runs.columns))
    return int(np.sum(reasons == NO_SINGLE_RATE)), int(np.sum(reasons == "nothing_back"))


def irr_reached(runs: pd.DataFrame, target: float, registry: KpiRegistry | None = None) -> np.ndarray:
    """Per replication 1 where the investors' IRR reaches ``target`` (a year), 0 where it does not:
    a total loss is -100 % and a replication with money back but no single rate counts as not
    reaching it (no rate can be said to be earned); NaN where nothing was invested."""
    reg = registry if registry is not None else kpis_for_columns(runs.columns)
    reasons = _reasons(runs, reg)
    irr = investor_values(runs, "irr", reg)
    with np.errstate(invalid="ignore"):
        out = (irr >= target).astype(float)
    out[reasons == NO_SINGLE_RATE] = 0.0
    out[reasons == "nothing_invested"] = np.nan
    return out


def public_values(runs: pd.DataFrame, party: str,
                  registry: KpiRegistry | None = None) -> tuple[np.ndarray, str]:
    """Per replication: the fiscal NPV of public ``party`` (``kommune``, ``state``, ...; ``public``
    or None: all public budgets) against the counterfactual, outcome payments included, from the
    contracts layer's ``fiscal_npv`` KPI ``registry`` declares for it; and that KPI's name."""
    reg = registry if registry is not None else kpis_for_columns(runs.columns)
    who = None if party in (None, "public") else party
    try:
        name = reg.at("fiscal_npv", arm="difference", party=who).name
    except KeyError:
        parties = sorted(k.party for k in reg.select(measure="fiscal_npv", arm="difference") if k.party)
        raise SpecError("--for", [said(f"'{party}': no budget of that party in this scenario; public "
                                       f"parties: {', '.join(parties)}, public",
                                       f"'{party}': ingen budsjett for den parten i dette scenarioet; "
                                       f"offentlige parter: {', '.join(parties)}, public")]) from None
    if name not in runs:
        raise SpecError("--for", [said(f"'{party}': the runs have no column {name}",
                                       f"'{party}': kjøringene har ingen kolonne {name}")])
    return runs[name].to_numpy(float), name


def commissioner_values(runs: pd.DataFrame, registry: KpiRegistry | None = None) -> tuple[np.ndarray, str]:
    """Per replication: net public gain (NPV) = savings - payments, from the contracts layer's
    KPI of all public budgets' NPV (``fiscal_npv_total``; NaN where there is no control arm to
    compare with), as ``registry`` (default: the KPIs every contract declares) declares it."""
    values, name = public_values(runs, "public", registry)
    return values, f"fiscal KPI {name}"


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
                 seed: int, executor: Executor | None, target: float = 0.0):
        self.base, self.party, self.vary, self.metric = base, party, vary, metric
        self.replications, self.seed, self.executor = replications, seed, executor
        self.target = target
        self.reached: dict[float, np.ndarray] = {}  # irr: value -> irr_reached per replication

    def many(self, vs: list[float]) -> list[tuple[np.ndarray, list[tuple[str, dict]]]]:
        out: list[tuple[np.ndarray, list[tuple[str, dict]]] | None] = [None] * len(vs)
        scenarios, at = [], []
        for i, v in enumerate(vs):
            try:
                scenarios.append(scenario_at(self.base, {self.vary: v}))
                at.append(i)
            except SpecError as err:  # e.g. a price above a cap: leave this value out, say why
                out[i] = (np.full(self.replications, np.nan),
                          [("left_out", {"vary": self.vary, "v": v, "why": "; ".join(err.problems)})])
                self.reached[float(v)] = np.full(self.replications, np.nan)
        done = replicate_many(scenarios, self.replications, self.seed, self.executor)
        for i, runs in zip(at, done, strict=True):
            runs.attrs["breakeven_value"] = vs[i]
            out[i] = self._values(runs)
        return out  # type: ignore[return-value]

    def __call__(self, v: float) -> tuple[np.ndarray, list[tuple[str, dict]]]:
        return self.many([v])[0]

    def _values(self, runs: pd.DataFrame) -> tuple[np.ndarray, list[tuple[str, dict]]]:
        kpis = kpis_for(self.base.terms)  # the contract's declared KPIs say which column is whose
        if self.party == "investor":
            notes = []
            if self.metric == "irr":
                money_back, nothing = irr_left_out(runs, kpis)
                if money_back:
                    notes.append(("irr_undefined", {"vary": self.vary, "v": self.value_of(runs),
                                                    "k": money_back, "n": len(runs)}))
                if nothing:
                    notes.append(("total_loss", {}))
                self.reached[self.value_of(runs)] = irr_reached(runs, self.target, kpis)
            return investor_values(runs, self.metric, kpis), notes
        vals, source = public_values(runs, self.party, kpis)
        return vals, [("kpi", {"party": self.party, "name": source})]

    def value_of(self, runs: pd.DataFrame) -> float:
        """The varied key's value of these runs (set by :meth:`many`)."""
        return float(runs.attrs.get("breakeven_value", math.nan))


def _note(result: tuple[np.ndarray, list[tuple[str, dict]]], notes: list[tuple[str, dict]]) -> np.ndarray:
    values, new = result
    notes.extend(n for n in new if n not in notes)
    return values


def _no_single_rate_share(results: list[tuple[np.ndarray, list[tuple[str, dict]]]],
                          replications: int) -> float:
    """The share of the replications at these values (those not left out) whose IRR is undefined
    although money came back (their ``irr_undefined`` notes)."""
    evaluated = [notes for _, notes in results if not any(key == "left_out" for key, _ in notes)]
    k = sum(values["k"] for notes in evaluated for key, values in notes if key == "irr_undefined")
    return k / (replications * len(evaluated)) if evaluated and replications else 0.0


def breakeven(path, party: str, vary: str, target: float | None = None, metric: str | None = None,
              low: float | None = None, high: float | None = None, points: int = 7,
              replications: int = 50, seed: int | None = None, bootstrap: int = 1000,
              assignments: list[str] | None = None, executor: Executor | None = None) -> BreakEven:
    """Break-even value of scenario key ``vary`` for ``party`` (see the module docstring: one of
    :data:`PARTIES`, or an alias of :data:`ALIASES`) on ``metric`` (default: the party's first of
    :data:`METRICS`) at ``target`` (default: :data:`TARGETS`); the replications run on
    ``executor`` (default: this process), the whole grid at once."""
    party = ALIASES.get(party, party)
    if party not in PARTIES:
        hint = suggest(party, [*PARTIES, *ALIASES])
        raise SpecError("--for", [said(f"'{party}': allowed: {', '.join(PARTIES)}{hint}",
                                       f"'{party}': tillatt: {', '.join(PARTIES)}{nb_hint(hint)}")])
    metric = metric or METRICS[party][0]
    if metric not in METRICS[party]:
        hint = suggest(metric, METRICS[party])
        raise SpecError("--metric", [said(f"'{metric}' for the {party}: allowed: {', '.join(METRICS[party])}"
                                          f"{hint}",
                                          f"'{metric}' for {party}: tillatt: {', '.join(METRICS[party])}"
                                          f"{nb_hint(hint)}")])
    target = TARGETS[metric] if target is None else float(target)
    assignments = list(assignments or [])
    base_sc = scenario_with(path, assignments=assignments)
    base = number_at(base_sc.resolved, vary, "--vary", base_sc.source)
    seed = base_sc.design.seed if seed is None else seed
    lo = 0.0 if low is None else low
    hi = (2.0 * base if base > 0 else 1.0) if high is None else high
    notes: list[tuple[str, dict]] = []
    point = _Point(base_sc, party, vary, metric, replications, seed, executor, target)
    seen: dict[float, tuple[np.ndarray, list[tuple[str, dict]]]] = {}

    def run(vs: list[float]) -> list[np.ndarray]:
        """The values at ``vs``: each value simulated once (the new ones together on the executor,
        the grid's and the refinement's alike) and its notes noted once."""
        new = [float(v) for v in dict.fromkeys(vs) if float(v) not in seen]
        if new:
            for v, result in zip(new, point.many(new), strict=True):
                seen[v] = result
                _note(result, notes)
        return [seen[float(v)][0] for v in vs]

    def evaluate(v: float) -> np.ndarray:
        return run([v])[0]

    def grid_map(_fn, vs: list[float]) -> list[np.ndarray]:
        return run(vs)

    xtol = 0.5 if isinstance(base, int) else None
    rng = auxiliary_rng(seed, "breakeven_bootstrap")
    if metric == "irr":
        # the metric is decided before the search, from the whole grid: the mean IRR unless more
        # than IRR_UNDEFINED_SHARE of its replications have money back but no single rate
        grid = [float(v) for v in np.linspace(lo, hi, points)]
        run(grid)
        share = _no_single_rate_share([seen[v] for v in grid], replications)
        if share > 0:
            notes.append(("irr_share_switch" if share > IRR_UNDEFINED_SHARE else "irr_share_mean",
                          {"share": f"{100 * share:.1f} %", "limit": f"{100 * IRR_UNDEFINED_SHARE:g} %"}))
        if share > IRR_UNDEFINED_SHARE:
            # no mean of a rate some runs do not have: the probability of reaching the target instead
            metric = "irr_reached"

            def reached_at(_fn, vs: list[float]) -> list[np.ndarray]:
                run(vs)
                return [point.reached[float(v)] for v in vs]

            def reached(v: float) -> np.ndarray:
                return reached_at(None, [v])[0]

            res = find_breakeven(reached, lo, hi, REACHED_LEVEL, points, bootstrap, rng=rng, xtol=xtol,
                                 grid_map=reached_at)
        else:
            notes[:] = [("irr_left_out" if key == "irr_undefined" else key, values) for key, values in notes]
            res = find_breakeven(evaluate, lo, hi, target, points, bootstrap, rng=rng, xtol=xtol,
                                 grid_map=grid_map)
    else:
        res = find_breakeven(evaluate, lo, hi, target, points, bootstrap, rng=rng, xtol=xtol,
                             grid_map=grid_map)
    return BreakEven(party=party, metric=metric, key=vary, target=target, base_value=float(base),
                     value=res["value"], ci_low=res["ci_low"], ci_high=res["ci_high"],
                     replications=replications, grid=res["grid"],
                     bootstrap_no_crossing=res["no_crossing"],
                     notes=notes)


WORDS: dict[str, dict[str, str]] = {
    "en": {
        "found": "Break-even for {who}: {key} = {v} (95 % CI {lo} to {hi}), where {what}",
        "none": ("No break-even for {who} with {key} between {lo} and {hi}: {what} is reached "
                 "nowhere between them (try --low/--high)"),
        "how": ("Scenario value: {v}; {n} replications per value, common random numbers; CI: "
                "bootstrap over replications"),
        "no_crossing": " ({p} % of resamples had no crossing)",
        "left_out": "{vary} = {v} left out: {why}",
        "irr_undefined": ("{vary} = {v}: IRR undefined in {k} of {n} replications that got money back "
                          "(no single rate makes the NPV zero): counted as not reaching the target"),
        "irr_switch": ("The IRR is undefined in some replications, so the break-even is on the probability "
                       "of reaching the target, not on the mean IRR (leaving them out would bias it upward)"),
        "irr_left_out": ("{vary} = {v}: IRR undefined in {k} of {n} replications that got money back "
                         "(no single rate makes the NPV zero): left out of the mean"),
        "irr_share_switch": ("{share} of the grid's replications have money back but no single rate, "
                             "above the threshold of {limit}: the metric is the probability of reaching "
                             "the target"),
        "irr_share_mean": ("{share} of the grid's replications have money back but no single rate, not above "
                           "the threshold of {limit}: the metric stays the mean IRR, those left out of it"),
        "total_loss": "a replication with no money back counts as an IRR of -100 %",
        "kpi": "{who}: fiscal KPI {name}",
        "multiple": "the investor's mean money multiple (money back per krone put in)",
        "loss": "the probability that the investor loses money",
        "npv": "the investor's mean NPV at the discount rate",
        "irr": "the investor's mean IRR (per year)",
        "irr_reached": ("the probability that the investor's IRR reaches {t} a year (a replication with "
                        "money back but no single rate counts as not reaching it)"),
        "fiscal": "the mean fiscal NPV of {who} against the counterfactual, outcome payments included",
        "investor": "the investor", "kommune": "the kommune", "state": "the state",
        "public": "the public budgets",
    },
    "nb": {
        "found": "Balansepunkt for {who}: {key} = {v} (95 % KI {lo} til {hi}), der {what}",
        "none": ("Ikke noe balansepunkt for {who} med {key} mellom {lo} og {hi}: {what} nås ingen "
                 "steder mellom dem (prøv --low/--high)"),
        "how": ("Verdien i scenarioet: {v}; {n} replikasjoner per verdi, felles tilfeldige tall; KI: "
                "bootstrap over replikasjonene"),
        "no_crossing": " ({p} % av trekkene krysset ikke)",
        "left_out": "{vary} = {v} utelatt: {why}",
        "irr_undefined": ("{vary} = {v}: internrenten er udefinert i {k} av {n} replikasjoner som fikk "
                          "penger tilbake (ingen enkelt rente gir nåverdi null): regnet som at de ikke "
                          "når målet"),
        "irr_switch": ("Internrenten er udefinert i noen replikasjoner, så balansepunktet gjelder "
                       "sannsynligheten for å nå målet, ikke gjennomsnittlig internrente (å utelate dem "
                       "ville trekke gjennomsnittet opp)"),
        "irr_left_out": ("{vary} = {v}: internrenten er udefinert i {k} av {n} replikasjoner som "
                         "fikk penger tilbake (ingen enkelt rente gir nåverdi null): holdt utenfor "
                         "gjennomsnittet"),
        "irr_share_switch": ("{share} av replikasjonene i rutenettet fikk penger tilbake, men har ingen "
                             "enkelt rente, over terskelen på {limit}: målet er sannsynligheten for å nå "
                             "målrenten"),
        "irr_share_mean": ("{share} av replikasjonene i rutenettet fikk penger tilbake, men har ingen enkelt "
                           "rente, ikke over terskelen på {limit}: målet er fortsatt gjennomsnittlig "
                           "internrente, de holdes utenfor"),
        "total_loss": "en replikasjon uten penger tilbake teller som en internrente på -100 %",
        "kpi": "{who}: budsjett-KPI {name}",
        "multiple": "investorens gjennomsnittlige pengemultippel (penger tilbake per innskutt krone)",
        "loss": "sannsynligheten for at investoren taper penger",
        "npv": "investorens gjennomsnittlige nåverdi med diskonteringsrenten",
        "irr": "investorens gjennomsnittlige internrente (per år)",
        "irr_reached": ("sannsynligheten for at investorens internrente når {t} per år (en replikasjon "
                        "med penger tilbake, men ingen enkelt rente, regnes som at den ikke når det)"),
        "fiscal": ("gjennomsnittlig nåverdi for {who} mot det kontrafaktiske, med utbetalingene for "
                   "resultater"),
        "investor": "investoren", "kommune": "kommunen", "state": "staten",
        "public": "offentlige budsjetter",
    },
}
"""The words of :func:`render` in English and bokmål."""


def metric_words(party: str, metric: str, target: float, lang: str = "en") -> str:
    """The metric of a break-even and its level in words (\"the investor's mean money multiple
    (money back per krone put in) = 1\")."""
    w = WORDS[lang]
    if metric == "irr_reached":  # target: the IRR's; the level is REACHED_LEVEL
        what = w[metric].format(t=_fmt(100 * target, lang) + " %")
        return f"{what} = {_fmt(100 * REACHED_LEVEL, lang)} %"
    what = w[metric] if party == "investor" else w["fiscal"].format(who=w[party])
    level = _fmt(100 * target, lang) + " %" if metric in ("loss", "irr") else _fmt(target, lang)
    return f"{what} = {level}"


def _fmt(v: float, lang: str = "en", significant: int = 6) -> str:
    """A plain number with about ``significant`` significant digits and never in e-notation
    (``559 897``, ``2 000 000``, ``0.09026``): thousands by a space, trailing zeros dropped, a
    decimal comma in nb."""
    if not np.isfinite(v):
        return "n/a" if lang == "en" else "i.a."
    if v == 0:
        return "0"
    exponent = math.floor(math.log10(abs(v)))
    decimals = max(0, significant - 1 - exponent)
    if decimals > 12:  # rounding residue, zero for a reader
        return "0"
    if decimals == 0:  # no false precision: 2 674 273 to four digits is 2 674 000
        v = round(v, significant - 1 - exponent)
    text = f"{v:,.{decimals}f}".replace(",", " ")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    text = "0" if text in ("-0", "") else text
    return text.replace(".", ",") if lang == "nb" else text


def render(b: BreakEven, lang: str = "en") -> str:
    """The break-even of ``b`` in words, its notes and its grid, in ``lang`` (``en`` or ``nb``)."""
    w = WORDS[lang]

    def fmt(v: float) -> str:
        return _fmt(v, lang)

    def estimate(v: float) -> str:  # a break-even is an estimate: three significant digits, no more
        return _fmt(v, lang, 3)

    what = metric_words(b.party, b.metric, b.target, lang)
    lines = []
    if np.isfinite(b.value):
        lines.append(w["found"].format(who=w[b.party], key=b.key, v=estimate(b.value), lo=estimate(b.ci_low),
                                       hi=estimate(b.ci_high), what=what))
    else:
        lo, hi = b.grid["value"].iloc[0], b.grid["value"].iloc[-1]
        lines.append(w["none"].format(who=w[b.party], key=b.key, lo=fmt(lo), hi=fmt(hi), what=what))
    lines.append(w["how"].format(v=fmt(b.base_value), n=b.replications)
                 + (w["no_crossing"].format(p=f"{100 * b.bootstrap_no_crossing:.0f}")
                    if b.bootstrap_no_crossing > 0 else ""))
    if b.metric == "irr_reached":
        lines.append(w["irr_switch"])
    for key, values in b.notes:
        values = {**values, **({"v": fmt(values["v"])} if "v" in values else {}),
                  **({"who": w[values["party"]]} if "party" in values else {})}
        lines.append(w[key].format(**values))
    g = b.grid.copy()
    lines.append("")
    if lang == "nb":  # the columns in bokmål
        g = g.rename(columns={"value": "verdi", "mean": "gjennomsnitt", "ci_low": "KI lav",
                              "ci_high": "KI høy"})
    lines.append(g.to_string(index=False, na_rep=_fmt(math.nan, lang),
                             formatters={c: (lambda v: _fmt(v, lang, 4)) for c in g.columns}))
    return "\n".join(lines)
