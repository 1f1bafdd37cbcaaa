"""Pilot size (the Test step of the KS BLT method): could a pilot of N people show anything?

A pilot succeeds statistically if the share in work (or any yes/no outcome) among participants
differs significantly from the counterfactual. Three ways to get its power:

* **exact**: sum the binomial probabilities of every possible pilot result that the test would
  call significant (no approximation beyond the test itself);
* **normal**: the textbook normal-approximation formula for two proportions;
* **simulated**: run many pilots (binomial draws, or whole pilots through the simulation model,
  with the capacity queues and drop-outs that make people not independent).

Two designs: ``two-arm`` (N in the programme and N in a control group, two-sided test) and
``benchmark`` (N in the programme only, compared with a known counterfactual rate, one-sided exact
binomial test). Bærum's pilot of 5 had no control group: the benchmark design is its case.

**Direction.** A two-sided test also rejects when the programme is significantly *worse*, so its
"power" for a programme 40 points worse than business as usual is close to 1: the chance of the
wrong finding. What a commissioner wants is the chance of showing an *improvement*:
``alternative="better"`` counts only the results where the test rejects and the programme did
better (the upper tail of the two-sided test: a one-sided test for improvement at alpha/2), and
:func:`expected_worse` says when the programme is expected to be worse, so no pilot can be
expected to show an improvement. ``effekt pilot-size`` reports that power and says so plainly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from effekt.contracts import KpiRegistry, common_kpis, kpis_for
from effekt.specfile import said

ALTERNATIVES = ("two-sided", "better")
"""What counts as a pilot's success: any significant difference, or only a significant improvement."""


def _check_alternative(alternative: str) -> None:
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative: '{alternative}'; allowed: {', '.join(ALTERNATIVES)}")


def _z_reject(x_t: np.ndarray, x_c: np.ndarray, n_t: int, n_c: int, alpha: float,
              alternative: str = "two-sided") -> np.ndarray:
    """Two-sided pooled two-proportion z-test (no continuity correction) rejects at these counts;
    with ``alternative="better"`` only where the programme's share is also the higher."""
    pooled = (x_t + x_c) / (n_t + n_c)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    diff = x_t / n_t - x_c / n_c
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / se, 0.0)
    crit = stats.norm.ppf(1 - alpha / 2)
    return z > crit if alternative == "better" else np.abs(z) > crit


def expected_worse(p_t: float, p_c: float) -> bool:
    """Is the programme expected to do worse than business as usual (a lower success rate)?"""
    return p_t < p_c


def _fisher_reject(n_t: int, n_c: int, alpha: float) -> np.ndarray:
    """Rejection region of the two-sided Fisher exact test, as a (n_t+1) x (n_c+1) boolean table.

    Two-sided p-value: the probability, given the total successes, of a split no more likely than
    the observed one (the definition ``scipy.stats.fisher_exact`` uses).
    """
    reject = np.zeros((n_t + 1, n_c + 1), dtype=bool)
    for s in range(n_t + n_c + 1):
        lo, hi = max(0, s - n_c), min(n_t, s)
        x = np.arange(lo, hi + 1)
        pmf = stats.hypergeom.pmf(x, n_t + n_c, n_t, s)
        p = np.array([pmf[pmf <= v * (1 + 1e-7)].sum() for v in pmf])
        reject[x, s - x] = p <= alpha
    return reject


def power_exact(n_t: int, n_c: int, p_t: float, p_c: float, alpha: float = 0.05,
                test: str = "z", alternative: str = "two-sided") -> float:
    """Power of a two-arm pilot, summing binomial probabilities over the test's rejection region
    (``alternative="better"``: the part of it where the programme did better)."""
    _check_alternative(alternative)
    x_t, x_c = np.arange(n_t + 1), np.arange(n_c + 1)
    prob = np.outer(stats.binom.pmf(x_t, n_t, p_t), stats.binom.pmf(x_c, n_c, p_c))
    if test == "z":
        reject = _z_reject(x_t[:, None], x_c[None, :], n_t, n_c, alpha, alternative)
    elif test == "fisher":
        reject = _fisher_reject(n_t, n_c, alpha)
        if alternative == "better":
            reject &= x_t[:, None] * n_c > x_c[None, :] * n_t
    else:
        raise ValueError(f"test: '{test}'; allowed: z, fisher")
    return float(prob[reject].sum())


def power_normal(n_t: int, n_c: int, p_t: float, p_c: float, alpha: float = 0.05,
                 alternative: str = "two-sided") -> float:
    """Normal-approximation power of the two-sided pooled z-test (both tails; ``"better"``: the
    upper tail only, the chance of showing an improvement)."""
    _check_alternative(alternative)
    pbar = (n_t * p_t + n_c * p_c) / (n_t + n_c)
    s0 = math.sqrt(pbar * (1 - pbar) * (1 / n_t + 1 / n_c))
    s1 = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    if s1 == 0:
        return float(p_t > p_c) if alternative == "better" else float(p_t != p_c)
    z = stats.norm.ppf(1 - alpha / 2)
    d = p_t - p_c
    up = stats.norm.cdf((d - z * s0) / s1)
    return float(up if alternative == "better" else up + stats.norm.cdf((-d - z * s0) / s1))


def n_normal(p_t: float, p_c: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """People per arm for ``power`` (equal arms), by the normal formula (Fleiss, no correction)."""
    if p_t == p_c:
        return math.inf  # type: ignore[return-value]
    pbar = (p_t + p_c) / 2
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    n = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p_t * (1 - p_t) + p_c * (1 - p_c))) ** 2
    return math.ceil(n / (p_t - p_c) ** 2)


def n_exact(p_t: float, p_c: float, alpha: float = 0.05, power: float = 0.8, test: str = "z",
            n_max: int = 20000, alternative: str = "two-sided") -> int | None:
    """Smallest people per arm whose exact power reaches ``power`` (None if above ``n_max``, or,
    with ``alternative="better"``, when the programme is expected to be worse: no size shows an
    improvement).

    Exact power is not monotone in N (the discrete test's saw-tooth), so this searches upwards from
    a little below the normal formula's answer.
    """
    _check_alternative(alternative)
    if alternative == "better" and not p_t > p_c:
        return None
    guess = n_normal(p_t, p_c, alpha, power)
    if not math.isfinite(guess) or guess > n_max:
        return None
    n = max(1, int(guess * 0.8) - 2)
    while n <= n_max:
        if power_exact(n, n, p_t, p_c, alpha, test, alternative) >= power:
            # step back while still enough (the formula may overshoot)
            while n > 1 and power_exact(n - 1, n - 1, p_t, p_c, alpha, test, alternative) >= power:
                n -= 1
            return n
        n += max(1, n // 50)
    return None


def power_simulated(n_t: int, n_c: int, p_t: float, p_c: float, rng: np.random.Generator,
                    alpha: float = 0.05, pilots: int = 20000,
                    alternative: str = "two-sided") -> tuple[float, float]:
    """Monte Carlo power of the z-test from binomial draws: (power, its standard error)."""
    _check_alternative(alternative)
    x_t = rng.binomial(n_t, p_t, size=pilots)
    x_c = rng.binomial(n_c, p_c, size=pilots)
    hit = _z_reject(x_t, x_c, n_t, n_c, alpha, alternative)
    p = float(hit.mean())
    return p, math.sqrt(p * (1 - p) / pilots)


def pilot_rng(path, assignments: list[str] | None = None) -> np.random.Generator:
    """The generator for simulated binomial pilots: the ``pilot_power`` stream of the root seed of
    scenario ``path`` (None: the built-in default) with ``assignments``, so ``--set
    design.seed=...`` changes the draws and a run is reproducible from its scenario.

    Raises ``SpecError`` when the scenario does not load.
    """
    from effekt.experiments.analysis.common import scenario_with
    from effekt.experiments.design import auxiliary_rng

    return auxiliary_rng(scenario_with(path, assignments=list(assignments or [])).design.seed, "pilot_power")


@dataclass(frozen=True)
class Benchmark:
    """A pilot without control group, tested against a known counterfactual rate ``p0``."""

    n: int
    p0: float
    critical: int | None  # smallest successes out of n that are significant (None: none is)
    size: float           # the test's real false-positive rate (<= alpha)
    power: float


def power_benchmark(n: int, p_t: float, p0: float, alpha: float = 0.05) -> Benchmark:
    """One-sided exact binomial test of H0: rate <= p0 with ``n`` participants and no control."""
    k = np.arange(n + 1)
    tail = stats.binom.sf(k - 1, n, p0)  # P(X >= k | p0)
    ok = np.nonzero(tail <= alpha)[0]
    if len(ok) == 0:
        return Benchmark(n, p0, None, 0.0, 0.0)
    c = int(ok[0])
    return Benchmark(n, p0, c, float(tail[c]), float(stats.binom.sf(c - 1, n, p_t)))


def measure_columns(measure: str, registry: KpiRegistry | None = None) -> tuple[str, str]:
    """The KPI columns (programme, counterfactual) of the yes/no measure ``measure``: the share
    KPIs ``registry`` (default: those every contract declares) declares for both arms of it."""
    reg = registry if registry is not None else common_kpis()
    known = [k.measure for k in reg.select(kind="share", arm="treatment")
             if reg.select(measure=k.measure, kind="share", arm="control")]
    if measure not in known:
        raise ValueError(said(f"measure '{measure}': no share KPI of both arms measures it; measures: "
                              f"{', '.join(known)}",
                              f"målet '{measure}': ingen andels-KPI for begge armer måler det; mål: "
                              f"{', '.join(known)}"))
    return reg.at(measure, arm="treatment").name, reg.at(measure, arm="control").name


def measure_words(measure: str, lang: str, registry: KpiRegistry | None = None) -> str:
    """The yes/no measure ``measure`` as a person reads it, with the key the user types for
    ``--measure`` (``I arbeid 12 måneder etter oppstart (in_work_12m)``): the words its two arms'
    labels share (``..., med tiltaket`` / ``..., uten tiltaket``); the key alone for a measure no
    KPI declares."""
    import os

    reg = registry if registry is not None else common_kpis()
    try:
        tr, ct = measure_columns(measure, reg)
    except ValueError:
        return measure
    shared = os.path.commonprefix([reg.label(tr, lang), reg.label(ct, lang)]).rstrip(", ")
    return f"{shared} ({measure})" if shared else measure


def rates_from_runs(runs, measure: str = "in_work_12m",
                    registry: KpiRegistry | None = None) -> tuple[float, float]:
    """Success probabilities (programme, counterfactual) of ``measure`` from KPI rows (its
    columns as :func:`measure_columns` finds them in ``registry``)."""
    tr, ct = measure_columns(measure, registry)
    missing = [c for c in (tr, ct) if c not in runs]
    if missing:
        raise ValueError(said(f"measure '{measure}': no KPI columns {missing} in the runs",
                              f"målet '{measure}': ingen KPI-kolonner {missing} i kjøringene"))
    return float(runs[tr].mean()), float(runs[ct].mean())


def pilots_through_model(path, n: int, replications: int = 200, measure: str = "in_work_12m",
                         alpha: float = 0.05, seed: int | None = None,
                         assignments: list[str] | None = None,
                         executor=None) -> tuple[float, float, float]:
    """Power from whole pilots simulated by the model: a randomised pilot of about ``2n`` people.

    The scenario's cohorts are replaced by one cohort of ``2n`` people of the first cohort's group
    mix, half randomised to the programme (RCT counterfactual); everything else (capacity,
    durations) stays as in the scenario, so a pilot larger than the places available queues.
    Each replication is one pilot, run on ``executor`` (an executor of ``effekt batch``; default
    this process). Returns (share of pilots where the z-test finds the programme significantly
    *better*, its standard error, share where it finds it significantly *worse*).
    """
    from effekt.experiments.analysis.common import replicate, scenario_with

    assignments = list(assignments or [])
    base = scenario_with(path, assignments=assignments)
    cohort = base.resolved["world"]["cohorts"][0]
    values = {"world.cohorts": [{**cohort, "size": 2 * n, "start_week": 0}],
              # keep the scenario's counterfactual (e.g. its entry-rate multiplier), randomised
              "world.counterfactual": {**base.resolved["world"].get("counterfactual", {}),
                                       "mode": "rct", "treatment_share": 0.5}}
    sc = scenario_with(path, values, assignments)
    runs = replicate(sc, replications, seed=seed, executor=executor)
    kpis = kpis_for(sc.terms)
    tr, ct = measure_columns(measure, kpis)
    nt = runs[kpis.at("people", arm="treatment").name].to_numpy(int)
    nc = runs[kpis.at("people", arm="control").name].to_numpy(int)
    xt = np.rint(runs[tr].fillna(0).to_numpy() * nt).astype(int)
    xc = np.rint(runs[ct].fillna(0).to_numpy() * nc).astype(int)
    ok = (nt > 0) & (nc > 0)
    sig = np.zeros(len(runs), dtype=bool)
    sig[ok] = _z_reject(xt[ok], xc[ok], nt[ok], nc[ok], alpha)
    better = sig & (xt * np.maximum(nc, 1) > xc * np.maximum(nt, 1))
    worse = sig & ~better
    p = float(better.mean())
    return p, math.sqrt(p * (1 - p) / len(runs)), float(worse.mean())


def pilot_values(draws, sizes, wtp: float, seed: int, bootstrap: int = 200) -> list:
    """The value before signing of a pilot of each of ``sizes`` (two-arm and programme-only), at
    willingness to pay ``wtp``, from one policy's parameter draws (a
    :class:`effekt.experiments.analysis.decision.Draws` read with this command's ``--measure``):
    the EVSI of :func:`effekt.experiments.analysis.decision.pilot_value`, its ceiling and the
    EVPI. Pilot counts come from the ``pilot_value`` stream of root seed ``seed``, the same for
    every size. Raises ``decision.NoDraws`` or ``decision.TooFewDraws`` when there is nothing to
    value."""
    from effekt.experiments.analysis import decision as de

    return [de.pilot_value(draws, n, wtp, design, de.decision_rng(seed, "pilot_value"), bootstrap)
            for n in sizes for design in de.PILOT_DESIGNS]
