"""``effekt sensitivity``: which uncertain numbers matter for an outcome?

* **one at a time** (tornado): each parameter at its low and its high value, the others at the
  scenario's values;
* **Morris** screening (elementary effects: mu*, sigma) and **Sobol** indices (first order S1 and
  total ST, with bootstrap confidence intervals), both sampled and analysed by SALib.

Parameters are dotted scenario keys with a range (``contract.prices.job_sustained=60000:120000``;
a bare key means +-20 % around the scenario's value). Without ``--param``, a scenario whose files
give numbers as priors (:mod:`effekt.priors`) is analysed over its priors: the tornado puts each at
its 5 % and 95 % quantiles, and Morris and Sobol sample each through its quantile function (a unit
sample, squeezed into the prior's central 99.8 % as the draws of two-level Monte Carlo are, mapped
by the inverse CDF; Morris's effects are then per unit of the prior's CDF), besides the design's
uncertainties and levers as boxes. The numbers of one posterior file (``{ calibrated = ... }``)
are one parameter sampled jointly, a particle at a time (:func:`prior_params`). At each sample
point the scenario runs the same replications (common random numbers) and the output is their
mean, so the indices measure the parameters and not the dice. Keys are dotted keys in the one
grammar of :mod:`effekt.dotted`. All sample points' replications run together on an executor of
``effekt batch`` (serial, processes, Dask), with the same numbers on each. The pipeline takes any
model callable ``values -> float``, which is how it is tested on the Ishigami function, whose
Sobol indices are known in closed form.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from effekt.dotted import parse_key
from effekt.experiments.analysis.breakeven import investor_values
from effekt.experiments.analysis.common import number_at, replicate_many, scenario_at, scenario_with
from effekt.experiments.executors import Executor, SerialExecutor
from effekt.priors import TAIL, CalibratedPrior, Prior, find_priors, read_posterior
from effekt.specfile import SpecError, said

Model = Callable[[Mapping[str, float]], float]


TORNADO_QUANTILES = (0.05, 0.95)
"""Where the tornado puts a prior: its 5 % and 95 % quantiles."""


@dataclass(frozen=True)
class Param:
    """An uncertain scenario number and the range it may take: a box ``[low, high]``, or a
    ``prior`` (``low`` and ``high`` its 5 % and 95 % quantiles, for the tornado)."""

    key: str
    low: float
    high: float
    prior: Prior | None = None
    followers: tuple[tuple[str, Prior], ...] = ()
    joint: tuple[tuple[str, CalibratedPrior], ...] = ()

    @property
    def label(self) -> str:
        """The key, and how many numbers of its ``shared`` name move with it, or how many of its
        posterior file are drawn jointly with it."""
        if self.joint and isinstance(self.prior, CalibratedPrior):
            return f"{self.key} (+{len(self.joint)} drawn with it from the posterior {self.prior.name})"
        return self.key + (f" (+{len(self.followers)} drawn with it)" if self.followers else "")

    def with_followers(self, x: float) -> dict[str, float]:
        """This parameter at ``x`` and every prior of its ``shared`` name at the same quantile; for
        a calibrated number, the other numbers of its posterior file at the particle whose value
        of this number is ``x`` (a joint draw: the posterior's correlations kept). An ``x`` that is
        no particle's value (the scenario's point value, the posterior mean) leaves them at their
        point values."""
        out = {self.key: float(x)}
        if self.followers and self.prior is not None:
            q = float(np.clip(self.prior.cdf(x), TAIL, 1 - TAIL))
            out.update({key: float(f.ppf(q)) for key, f in self.followers})
        if self.joint and isinstance(self.prior, CalibratedPrior):
            i = _particle(self.prior, float(x))
            if i is not None:
                out.update({key: float(f.particles[i]) for key, f in self.joint})
        return out

    @classmethod
    def of_prior(cls, key: str, prior: Prior) -> Param:
        lo, hi = (float(prior.quantile(q)) for q in TORNADO_QUANTILES)
        return cls(key, lo, hi, prior)

    def at_unit(self, u: np.ndarray) -> np.ndarray:
        """Values at unit numbers ``u`` of a sampler's [0, 1] axis: a prior's quantiles (squeezed
        into ``[TAIL, 1 - TAIL]``); a box's values are sampled on its own bounds, unchanged."""
        if self.prior is None:
            return np.asarray(u, dtype=float)
        return self.prior.ppf(TAIL + (1 - 2 * TAIL) * np.asarray(u, dtype=float))


def _particle(prior: CalibratedPrior, x: float) -> int | None:
    """The index of the (first) particle of ``prior`` whose value is ``x``; None when none is."""
    values = np.asarray(prior.particles, dtype=float)
    order = np.argsort(values, kind="stable")
    pos = int(np.searchsorted(values[order], x, side="left"))
    if pos < len(order) and values[order][pos] == x:
        return int(order[pos])
    return None


def prior_params(resolved: Mapping) -> list[Param]:
    """The scenario's priors (its files' numbers given as distributions) as parameters, but point
    masses (nothing to vary) and target groups no cohort draws people from (nothing changes).

    Priors of one ``shared`` name are one parameter (the first, the others at its quantile), and
    so are the numbers drawn from one posterior file (``{ calibrated = ... }``): the first is
    sampled through its marginal quantile function, which picks a particle, and the others take
    that particle's values, so a sample is a joint draw of the posterior, as in two-level runs
    (:func:`effekt.priors.draw`), not independent marginals that lose their correlation."""
    priors, _, _ = find_priors(resolved, skip=("design",))
    cohorts = (resolved.get("world") or {}).get("cohorts") or []
    groups = {g for c in cohorts if isinstance(c, Mapping) for g in (c.get("groups") or {})}
    out: list[Param] = []
    leaders: dict[str, int] = {}  # a shared name -> its first prior's place in out
    for key, prior in priors.items():
        parts = parse_key(key)
        if prior.kind == "point" or (parts[:2] == ["world", "groups"] and parts[2] not in groups):
            continue
        if isinstance(prior, CalibratedPrior):  # one posterior file: one particle for all its numbers
            group = f"posterior:{prior.path}"
            if group in leaders:
                lead = out[leaders[group]]
                out[leaders[group]] = Param(lead.key, lead.low, lead.high, lead.prior, lead.followers,
                                            (*lead.joint, (key, prior)))
                continue
            leaders[group] = len(out)
            out.append(Param.of_prior(key, prior))
            continue
        shared = getattr(prior, "shared", None)
        if shared and shared in leaders:  # one unknown: varied with the first of its name
            lead = out[leaders[shared]]
            out[leaders[shared]] = Param(lead.key, lead.low, lead.high, lead.prior,
                                         (*lead.followers, (key, prior)))
            continue
        if shared:
            leaders[shared] = len(out)
        out.append(Param.of_prior(key, prior))
    return [_led_by_first(p) for p in out]


def _led_by_first(p: Param) -> Param:
    """A posterior group led by the number its file lists first (the calibration's main number,
    e.g. the Springbrett exit before the drop-out share), whatever the scenario's order."""
    if not p.joint or not isinstance(p.prior, CalibratedPrior):
        return p
    order = read_posterior(p.prior.path).keys
    members = sorted([(p.key, p.prior), *p.joint], key=lambda m: order.index(m[1].parameter))
    (key, lead), rest = members[0], tuple(members[1:])
    q = Param.of_prior(key, lead)
    return Param(q.key, q.low, q.high, q.prior, p.followers, rest)


def design_params(resolved: Mapping) -> list[Param]:
    """The scenario's own uncertain numbers: ``[design.uncertainties]`` ranges, and numeric
    ``[design.levers]`` from their smallest to their largest value."""
    design = resolved.get("design", {}) or {}
    out = []
    for key, u in (design.get("uncertainties") or {}).items():
        out.append(Param(key, float(u["low"]), float(u["high"])))
    for key, values in (design.get("levers") or {}).items():
        nums = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(nums) >= 2 and min(nums) < max(nums):
            out.append(Param(key, float(min(nums)), float(max(nums))))
    return out


def parse_params(specs: list[str], resolved: Mapping, source: str = "") -> list[Param]:
    """``KEY=LOW:HIGH`` or ``KEY`` (+-20 % around the scenario's own value) -> parameters; with
    no specs, the scenario's priors (:func:`prior_params`) and its ``[design]`` uncertainties and
    levers. ``source`` (the scenario file) is named in the message of a key that is not there."""
    if not specs:
        priors = prior_params(resolved)
        taken = {p.key for p in priors}
        found = [*priors, *(p for p in design_params(resolved) if p.key not in taken)]
        if not found:
            raise SpecError("--param", [said("no parameters: give --param KEY[=LOW:HIGH], give numbers in "
                                             "the scenario's files as priors, or declare "
                                             "[design.uncertainties] in the scenario",
                                             "ingen parametere: gi --param NØKKEL[=LAV:HØY], gi tall i "
                                             "scenarioets filer som fordelinger, eller oppgi "
                                             "[design.uncertainties] i scenarioet")])
        return found
    out = []
    for spec in specs:
        key, _, rng = spec.partition("=")
        key = key.strip()
        base = number_at(resolved, key, "--param", source)
        if rng:
            try:
                lo, hi = (float(x) for x in rng.split(":"))
            except ValueError:
                raise SpecError("--param", [said(f"'{spec}': expected KEY=LOW:HIGH",
                                                 f"'{spec}': ventet NØKKEL=LAV:HØY")]) from None
        else:
            lo, hi = sorted((0.8 * base, 1.2 * base))
        if not lo < hi:
            raise SpecError("--param", [said(f"'{spec}': needs LOW < HIGH", f"'{spec}': trenger LAV < HØY")])
        out.append(Param(key, lo, hi))
    return out


def kpi_value(runs: pd.DataFrame, output: str) -> float:
    """The mean of ``output`` over replications (``investor_irr``: -100 % for a total loss)."""
    if output == "investor_irr":
        return float(np.nanmean(investor_values(runs, "irr")))
    if output not in runs:
        known = ", ".join(c for c in runs.columns if c not in ("point", "replication"))
        raise SpecError("--output", [said(f"'{output}': no such KPI; known: {known}",
                                          f"'{output}': ingen slik KPI; kjente: {known}")])
    return float(np.nanmean(runs[output].to_numpy(float)))


class ScenarioModel:
    """A scenario as a model: dotted-key values -> mean KPI over common-random-number replications.

    :meth:`many` resolves every point here and runs all their replications on an executor at once.
    """

    def __init__(self, path, output: str = "investor_npv", replications: int = 20,
                 seed: int | None = None, assignments: list[str] | None = None):
        self.path, self.output, self.replications = path, output, replications
        self.assignments = list(assignments or [])
        self.base = scenario_with(path, assignments=self.assignments)
        self.resolved = self.base.resolved
        self.seed = self.base.design.seed if seed is None else seed

    def base_value(self, key: str) -> float:
        return float(number_at(self.resolved, key, "--param", self.base.source))

    def many(self, points: list[Mapping[str, float]], executor: Executor | None = None) -> list[float]:
        """The mean output at each point; the replications of all points run on ``executor``."""
        scenarios = [scenario_at(self.base, values) for values in points]
        runs = replicate_many(scenarios, self.replications, self.seed, executor)
        return [kpi_value(r, self.output) for r in runs]

    def __call__(self, values: Mapping[str, float]) -> float:
        return self.many([values])[0]


def _call(args: tuple[int, Model, dict[str, float]]) -> float:
    _, model, values = args
    return model(values)


def evaluate_points(model: Model, params: list[Param], X: np.ndarray,
                    executor: Executor | None = None) -> np.ndarray:
    """The model at each row of ``X`` (columns in the order of ``params``), on ``executor``
    (default: this process). A :class:`ScenarioModel` runs all points' replications as tasks; any
    other model (a picklable callable) runs one task per point."""
    points = []
    for row in X:
        point: dict[str, float] = {}
        for p, x in zip(params, row, strict=True):
            point.update(p.with_followers(x))
        points.append(point)
    many = getattr(model, "many", None)
    if many is not None:
        return np.array(many(points, executor))
    executor = executor or SerialExecutor()
    out = np.empty(len(points))
    for (i, _, _), y in executor.map_unordered(_call, [(i, model, v) for i, v in enumerate(points)]):
        out[i] = y
    return out


def _problem(params: list[Param]) -> dict:
    """SALib's problem: a box's bounds, or [0, 1] for a prior (sampled on its CDF's axis)."""
    return {"num_vars": len(params), "names": [p.key for p in params],
            "bounds": [[0.0, 1.0] if p.prior is not None else [p.low, p.high] for p in params]}


def _natural(params: list[Param], X: np.ndarray) -> np.ndarray:
    """A sampler's points (columns in the order of ``params``) as the numbers the scenario
    takes: each prior's column through its quantile function (:meth:`Param.at_unit`)."""
    X = np.array(X, dtype=float)
    for j, p in enumerate(params):
        X[:, j] = p.at_unit(X[:, j])
    return X


def one_at_a_time(model: Model, params: list[Param], base: Mapping[str, float],
                  output: str = "", executor: Executor | None = None) -> pd.DataFrame:
    """Tornado table: output at each parameter's low and high, the others at ``base``."""
    rows = [dict(base)]
    for p in params:
        rows.append({**base, p.key: p.low})
        rows.append({**base, p.key: p.high})
    keys = list(rows[0])
    X = np.array([[r[k] for k in keys] for r in rows])
    lookup = {p.key: p for p in params}  # a shared prior's followers move with it
    Y = evaluate_points(model, [lookup.get(k, Param(k, 0, 1)) for k in keys], X, executor)
    out = pd.DataFrame({
        "parameter": [p.label for p in params], "low": [p.low for p in params],
        "high": [p.high for p in params], "y_low": Y[1::2], "y_high": Y[2::2],
        "y_base": Y[0], "output": output,
    })
    out["swing"] = (out["y_high"] - out["y_low"]).abs()
    return out.sort_values("swing", ascending=False).reset_index(drop=True)


def morris(model: Model, params: list[Param], trajectories: int = 10, levels: int = 4,
           seed: int = 0, executor: Executor | None = None) -> pd.DataFrame:
    """Morris screening: mu* (mean absolute elementary effect, with its 95 % CI) and sigma."""
    problem = _problem(params)
    X = morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    Y = evaluate_points(model, params, _natural(params, X), executor)
    res = morris_analyze.analyze(problem, X, Y, num_levels=levels, conf_level=0.95, seed=seed)
    return pd.DataFrame({"parameter": [p.label for p in params], "mu_star": res["mu_star"],
                         "mu_star_conf": res["mu_star_conf"], "mu": res["mu"], "sigma": res["sigma"],
                         }).sort_values("mu_star", ascending=False).reset_index(drop=True)


def sobol(model: Model, params: list[Param], n: int = 64, seed: int = 0,
          executor: Executor | None = None) -> pd.DataFrame:
    """Sobol first-order (S1) and total (ST) indices with 95 % bootstrap CIs (Saltelli sampling,
    ``n`` a power of two; ``n * (k + 2)`` model runs for ``k`` parameters)."""
    if n < 2 or n & (n - 1):
        raise SpecError("--samples", [said(f"{n}: Sobol sampling needs a power of two (e.g. 64, 128)",
                                           f"{n}: Sobol-trekking trenger en potens av to (f.eks. 64, 128)")])
    problem = _problem(params)
    X = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    Y = evaluate_points(model, params, _natural(params, X), executor)
    if np.ptp(Y) == 0:
        return pd.DataFrame({"parameter": [p.label for p in params], "S1": 0.0, "S1_conf": 0.0, "ST": 0.0,
                             "ST_conf": 0.0})
    res = sobol_analyze.analyze(problem, Y, calc_second_order=False, conf_level=0.95, seed=seed)
    return pd.DataFrame({"parameter": [p.label for p in params], "S1": res["S1"], "S1_conf": res["S1_conf"],
                         "ST": res["ST"], "ST_conf": res["ST_conf"]}
                        ).sort_values("ST", ascending=False).reset_index(drop=True)


def ishigami(values: Mapping[str, float], a: float = 7.0, b: float = 0.1) -> float:
    """The Ishigami test function on x1, x2, x3 in [-pi, pi]."""
    x1, x2, x3 = values["x1"], values["x2"], values["x3"]
    return math.sin(x1) + a * math.sin(x2) ** 2 + b * x3 ** 4 * math.sin(x1)


HEADERS_NB = {"parameter": "parameter", "low": "lav", "high": "høy", "y_low": "ved lav", "y_high": "ved høy",
              "y_base": "som nå", "swing": "utslag"}
"""The bokmål headers of :func:`render` (the indices keep their names: mu_star, sigma, S1, ST)."""


def render(table: pd.DataFrame, lang: str = "en") -> str:
    """The sensitivity table for a person in ``lang``: four significant digits in ``lang``'s
    number format, never e-notation (:func:`effekt.experiments.formatting.general`)."""
    from effekt.experiments.formatting import general

    body = table.copy()
    for c in body.columns:
        if pd.api.types.is_float_dtype(body[c]):
            body[c] = [general(float(v), lang, 4, na="\u2013") for v in body[c]]
    if lang == "nb":
        body = body.rename(columns=HEADERS_NB)
    return body.to_string(index=False)
