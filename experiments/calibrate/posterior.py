"""A calibration's run, its checks and the posterior file it writes.

:func:`run_calibration` fits the file's numbers (:mod:`.abc_smc` on the model of :mod:`.model`)
and then simulates ``predictive`` studies at particles drawn from the posterior, with fresh seeds:
the posterior predictive distribution of every target's count. :func:`predictive_check` compares
each published count with it (its central 90 % interval and the tail probabilities
P(simulated <= published) and P(simulated >= published)), separately for the fitted targets and
the held-out ones (which the fit never saw, so their check is a test of the model).

:func:`write_posterior` writes ``<name>.posterior.toml``: the weighted joint particles under
``[particles]`` (one list per key, ``weights`` beside them), what was fitted to what, the seed, the
method, the date and the effekt version. ``{ calibrated = "<name>" }`` (:class:`effekt.priors.
CalibratedPrior`) draws from it, jointly.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from effekt import __version__
from effekt.experiments.calibrate.abc_smc import Progress, Result, abc_smc, predictive
from effekt.experiments.calibrate.model import PathwayModel, build_model
from effekt.experiments.calibrate.spec import CalibrationFile, builtin_calibrations_dir
from effekt.priors import POSTERIOR_SUFFIX, Prior

METHOD = ("ABC-SMC (population Monte Carlo: Toni et al. 2009, weights of Beaumont et al. 2009), "
          "Gaussian kernel of twice the weighted covariance, tolerance by quantile of the previous "
          "distances; distance = largest |simulated - published| count over the fitted targets")


@dataclass
class Calibration:
    """A finished calibration: the file, the fit and the posterior predictive counts
    (``predictive[s, j]``: study s, target j in the file's order)."""

    spec: CalibrationFile
    source: str
    priors: dict[str, Prior]
    result: Result
    predictive: np.ndarray
    seed: int
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(self.spec.targets)


def run_calibration(spec: CalibrationFile, source: str, *, executor: Any, particles: int | None = None,
                    generations: int | None = None, seed: int | None = None, tolerance: float | None = None,
                    progress: Progress | None = None, model: PathwayModel | None = None) -> Calibration:
    """Fit ``spec`` (command-line settings override the file's ``[calibration.fit]``)."""
    fit = spec.calibration.fit
    settings = {"particles": particles or fit.particles, "generations": generations or fit.generations,
                "tolerance": fit.tolerance if tolerance is None else tolerance, "quantile": fit.quantile,
                "batch": fit.batch or (particles or fit.particles), "predictive": fit.predictive}
    seed = spec.calibration.seed if seed is None else seed
    if model is None:
        model, priors = build_model(spec, source)
    else:
        priors = build_model(spec, source)[1]
    targets = list(spec.targets.values())
    result = abc_smc(model, priors, [t.count for t in targets], [not t.held_out for t in targets],
                     seed=seed, executor=executor, particles=settings["particles"],
                     generations=settings["generations"], tolerance=settings["tolerance"],
                     quantile=settings["quantile"], batch=settings["batch"], progress=progress)
    sims = predictive(model, result.population, settings["predictive"], seed=seed, executor=executor)
    return Calibration(spec=spec, source=source, priors=priors, result=result, predictive=sims, seed=seed,
                       settings=settings)


@dataclass(frozen=True)
class Check:
    """A published count against its posterior predictive distribution."""

    name: str
    count: int
    of: int
    held_out: bool
    mean: float
    low: int
    high: int
    p_at_most: float
    p_at_least: float

    @property
    def p_value(self) -> float:
        """Two-sided tail probability: 2 x the smaller tail, at most 1."""
        return min(1.0, 2 * min(self.p_at_most, self.p_at_least))


def predictive_check(cal: Calibration) -> list[Check]:
    """One :class:`Check` per target, fitted first, in the file's order."""
    out = []
    for j, (name, t) in enumerate(cal.spec.targets.items()):
        sim = cal.predictive[:, j]
        lo, hi = np.quantile(sim, [0.05, 0.95], method="inverted_cdf")
        out.append(Check(name=name, count=t.count, of=t.of, held_out=t.held_out, mean=float(sim.mean()),
                         low=int(lo), high=int(hi), p_at_most=float((sim <= t.count).mean()),
                         p_at_least=float((sim >= t.count).mean())))
    return sorted(out, key=lambda c: c.held_out)


def posterior_summary(cal: Calibration) -> list[dict[str, Any]]:
    """Per calibrated key: prior, posterior mean, median and central 90 % credible interval."""
    pop = cal.result.population
    q = pop.quantiles([0.05, 0.5, 0.95])
    mean = pop.mean()
    return [{"key": key, "prior": cal.priors[key], "mean": float(mean[j]), "median": float(q[1, j]),
             "low": float(q[0, j]), "high": float(q[2, j])} for j, key in enumerate(pop.keys)]


# -- the file --------------------------------------------------------------------------------

def _toml(v: Any) -> str:
    """One TOML value (strings as JSON strings, which are TOML basic strings)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        x = float(v)
        return "inf" if x == math.inf else repr(x)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list | tuple | np.ndarray):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    raise TypeError(f"no TOML for {type(v).__name__}")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def _shown(source: str) -> str:
    """The calibration file as a reader can find it: a built-in one by its place in the sources,
    else as given."""
    path = Path(source)
    if path.parent.resolve() == builtin_calibrations_dir().resolve():
        return f"experiments/calibrations/{path.name}"
    return source


def posterior_text(cal: Calibration, date: dt.datetime | None = None) -> str:
    """The posterior file's text (see the module's docstring)."""
    info = cal.spec.calibration
    res = cal.result
    date = date or dt.datetime.now(dt.UTC).replace(microsecond=0)
    checks = {c.name: c for c in predictive_check(cal)}
    lines = [f"# The posterior of the calibration '{info.name}', written by 'effekt calibrate'.",
             f"# Drawn from by {{ calibrated = \"{info.name}\" }} (joint: one particle for all its keys",
             "# in each draw).",
             "# Do not edit by hand: run the calibration again.", "", "[posterior]"]
    head = {"name": info.name, "title": info.title.model_dump(), "calibration": _shown(cal.source),
            "pathway": info.pathway, "method": METHOD, "seed": cal.seed,
            "particles": len(res.population.weights), "generations": len(res.generations),
            "tolerances": [g.tolerance for g in res.generations], "reached_tolerance": res.reached,
            "simulations": res.simulations, "predictive_studies": int(cal.predictive.shape[0]),
            "date": date.isoformat().replace("+00:00", "Z"), "effekt_version": __version__}
    lines += [f"{_key(k)} = {_toml(v)}" for k, v in head.items()]
    lines += ["", "[priors]"]
    lines += [f"{_key(k)} = {_toml(p.label('en'))}" for k, p in cal.priors.items()]
    for row in posterior_summary(cal):
        lines += ["", f"[summary.{_key(row['key'])}]"]
        lines += [f"{k} = {_toml(row[k])}" for k in ("mean", "median", "low", "high")]
    for name, t in cal.spec.targets.items():
        c = checks[name]
        lines += ["", f"[targets.{_key(name)}]"]
        row = {"count": t.count, "of": t.of, "held_out": t.held_out, "source": t.source,
               "measure": t.measure.model_dump(), "predictive_mean": c.mean, "predictive_low": c.low,
               "predictive_high": c.high, "p_at_most": c.p_at_most, "p_at_least": c.p_at_least}
        lines += [f"{k} = {_toml(v)}" for k, v in row.items()]
    lines += ["", "[particles]", f"weights = {_toml([float(w) for w in res.population.weights])}"]
    for j, key in enumerate(res.population.keys):
        lines.append(f"{_key(key)} = {_toml([float(x) for x in res.population.theta[:, j]])}")
    return "\n".join(lines) + "\n"


def write_posterior(cal: Calibration, out: str | Path) -> Path:
    """Write ``<out>/<name>.posterior.toml``; its path."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{cal.spec.calibration.name}{POSTERIOR_SUFFIX}"
    path.write_text(posterior_text(cal), encoding="utf-8")
    return path


__all__ = ["METHOD", "Calibration", "Check", "posterior_summary", "posterior_text", "predictive_check",
           "run_calibration", "write_posterior"]
