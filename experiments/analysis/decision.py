"""Is it worth it? The commissioner's decision under parameter uncertainty, and what information is worth.

A kommune (or the state, or the public purse as a whole) decides one thing: sign the outcome
contract or not. Not signing has net benefit 0. Signing has, per replication,

    NB(lambda) = fiscal NPV to the commissioner + lambda * additional person-years in work

where the fiscal NPV is the contracts layer's ``fiscal_npv_<party>`` (``fiscal_npv_total`` for
``public``): what the programme changed in that budget against the counterfactual, discounted,
*with the contract's outcome payments already in it* (the ``contract`` item of the public ledger,
:func:`effekt.contracts.evaluate.evaluate`), so they are not subtracted again. ``lambda`` is a
willingness to pay per unit of the ``per`` measure, the value the commissioner puts on work beyond
its budget (the NICE reference case's threshold, here per person-year in work rather than per
QALY). By default (``per = "work_years"``) it is per **additional discounted person-year in work**
(the KPI ``additional_work_years``, :mod:`effekt.contracts.work_years`: every week each person
works, programme arm minus the counterfactual arm scaled to its size, discounted at the budgets'
rate from the contract's start, so that lambda times it is on the same footing as the NPV it is
added to). ``horizon`` says over which window both parts are counted: ``contract`` (the contract
period: ``fiscal_npv_<party>`` and ``additional_work_years``) or ``long_run`` (a scenario with
``[world] long_run_years``: ``fiscal_npv_long_run_<party>`` and
``additional_work_years_long_run``; a job found in year three counts for the years it lasts). A
yes/no measure with both arms (``in_work_24m``, the default before person-years were recorded;
``in_ordinary_work_24m`` leaves out the programme's own project and subsidised jobs) makes lambda
per additional person in work at that month: ``(share in work, programme - counterfactual) x
participants``; ``additional_outcomes`` (the contract's primary outcome over the counterfactual,
what it pays for) per additional outcome.

Two levels of uncertainty come in a results directory whose design points are parameter draws
(``[design.uncertainties]`` today, draws from priors likewise: one design point per draw, the drawn
values as columns named by their dotted key). Each draw ``d`` has ``R`` inner replications (the
luck of who is referred and who finds work). The decision is made on the expected net benefit, so
the per-draw mean over the replications is what the value of information is computed on:

* **acceptability curve**: ``P_d(mean NB_d(lambda) > 0)`` over lambda, the share of parameter
  draws in which the contract pays off on average (Fenwick, Claxton & Sculpher 2001; the luck
  left in the per-draw means taken out, see below); with the
  luck of one kull included, the share of all draws x replications, i.e. the probability that one
  kull, run once, ends in the black;
* **EVPI** ``= E_d[max(NB_d, 0)] - max(E_d[NB_d], 0)``: what resolving all parameter uncertainty
  before signing would be worth (per contract and per participant);
* **EVPPI** of a parameter or a group: ``E[max(E[NB | phi], 0)] - max(E[NB], 0)``, with
  ``E[NB | phi]`` estimated by regressing the per-draw net benefit on the parameter(s) with a
  flexible smoother and using its fitted values (Strong, Oakley & Brennan 2014, Med Decis Making
  34(3):311-326): here cubic regression B-splines (``scipy.interpolate.BSpline``) fitted by least
  squares, the number of basis functions chosen by generalised cross-validation, tensor products
  for groups;
* **EVSI of a pilot** of ``n`` people: for each draw, simulate the pilot's count in work from that
  draw's probabilities (a smooth regression of the shares in work on the parameters), regress the
  net benefit on the count(s) and proceed as for EVPPI (Strong, Brennan & Oakley 2015, Med Decis
  Making 35(5):570-583). It can never exceed the EVPPI of the shares it measures, which is its
  limit for a very large pilot, nor the EVPI.

**Luck in the per-draw mean.** A mean over ``R`` replications still carries luck, and
because ``max(., 0)`` is convex that luck biases EVPI, EVPPI and EVSI upward. Every draw runs the
same replication seeds (common random numbers), so replication ``r``'s luck is one function of
the parameters, shared by all draws and smooth in them: more draws do not average it away, and a
regression on a parameter keeps the part of it that varies with that parameter. Replications are
independent of each other, though, so the luck's energy in any fit is estimated without bias
from the spread of each replication about its draw's mean (the draw x replication interaction of
an ANOVA, projected on the fit's basis) and taken out by variance matching: the fitted values'
deviations from their mean are scaled by ``sqrt(1 - excess / variance)`` (exact when they are
normal), the excess adding, for a regression with ``p`` coefficients, the ``(p - 1) sigma^2`` it
adopts from the other parameters' part of the residual. The table says how much of the variance
is luck and how many replications would bring it below 5 %; with one replication per draw it
cannot be estimated and is not removed. Uncertainty of the estimates: a two-way bootstrap over
draws and replications (:func:`resample`; the ``decision_bootstrap`` stream of the results' root
seed); pilot counts come from the ``pilot_value`` stream.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from effekt.contracts import (
    LONG_RUN_MEASURE,
    WORK_YEARS_LONG_RUN_MEASURE,
    WORK_YEARS_MEASURE,
    KpiRegistry,
    kpis_for_columns,
)
from effekt.experiments.analysis.power import measure_columns
from effekt.experiments.analysis.smoother import (
    Smoother,
    TooFewDraws,
    as_2d,
    choose_smoothers,
    conditional_mean,
)
from effekt.experiments.design import auxiliary_rng
from effekt.experiments.summary import describe, load_runs
from effekt.specfile import SpecError, said

COMMISSIONERS = ("kommune", "state", "public")
"""Who decides: a budget of its own (``fiscal_npv_kommune``, ``fiscal_npv_state``) or every public
budget together (``fiscal_npv_total``). Any other public party with a ``fiscal_npv_<party>``
column (``fylke``, a commissioner of the contract) may be named too."""

WORK_YEARS_PER = "work_years"
"""``per`` for additional discounted person-years in work (the KPI ``additional_work_years``, or
``additional_work_years_long_run`` with ``horizon = "long_run"``)."""

PER_DEFAULT = WORK_YEARS_PER
"""The default unit of the willingness to pay (see the module docstring)."""

HORIZONS = ("contract", "long_run")
"""Over which window the net benefit is counted: the contract period, or the long run."""

OUTCOMES_PER = "additional_outcomes"
"""The other kind of ``per``: the contract's primary outcome over the counterfactual."""

LONG_RUN_PERS = (WORK_YEARS_PER, OUTCOMES_PER)
"""The ``per`` allowed with ``horizon = "long_run"``: a yes/no measure counts persons in work at
one month of the contract period, and adding λ times that to a long-run budget NPV would mix two
windows."""

PILOT_DESIGNS = ("two-arm", "programme-only")
"""A pilot of ``n`` in the programme and ``n`` controls, or of ``n`` in the programme alone (its
counterfactual not measured)."""

NOISE_SHARE_TARGET = 0.05
"""The share of the per-draw means' variance that luck may have before the table warns."""


# -- the per-draw table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Draws:
    """One policy's parameter draws (design points) and their inner replications.

    ``money_reps`` and ``effect_reps`` (draws x replications) are the two parts of the net
    benefit, NB = money + lambda * effect, in the replications every draw has (all of them in a
    complete results directory: every draw runs the same replication seeds); ``rows`` are all
    replications (``point``, ``money``, ``effect``) for the luck of one kull; ``share_reps``
    (draws x replications x 2) the shares in work with and without the programme of the pilot's
    measure (NaN without it); ``dropped`` the replications left out because some draw lacks them.
    """

    policy: dict[str, Any]
    params: pd.DataFrame
    money_reps: np.ndarray
    effect_reps: np.ndarray
    participants: np.ndarray
    rows: pd.DataFrame
    share_reps: np.ndarray
    points: np.ndarray
    dropped: int = 0

    @property
    def n(self) -> int:
        """Number of parameter draws."""
        return self.money_reps.shape[0]

    @property
    def replications(self) -> int:
        """Inner replications per draw."""
        return self.money_reps.shape[1]

    @property
    def money(self) -> np.ndarray:
        """Per draw: the mean fiscal NPV to the commissioner."""
        return self.money_reps.mean(axis=1)

    @property
    def effect(self) -> np.ndarray:
        """Per draw: the mean additional persons in work."""
        return self.effect_reps.mean(axis=1)

    @property
    def shares(self) -> pd.DataFrame:
        """Per draw: the mean shares in work with (``p_treatment``) and without (``p_control``)
        the programme of the pilot's measure."""
        return pd.DataFrame(self.share_reps.mean(axis=1), columns=["p_treatment", "p_control"])

    @property
    def has_draws(self) -> bool:
        """Whether there is parameter uncertainty to value: two draws or more of uncertain keys."""
        return self.n >= 2 and self.params.shape[1] > 0

    def net_benefit(self, lams: Sequence[float] | np.ndarray) -> np.ndarray:
        """Per-draw mean net benefit at each willingness to pay: (draws, lambdas)."""
        lam = np.atleast_1d(np.asarray(lams, dtype=float))
        return self.money[:, None] + self.effect[:, None] * lam[None, :]

    def parts(self) -> np.ndarray:
        """(money, effect) of every replication of every draw: (draws, replications, 2)."""
        return np.stack([self.money_reps, self.effect_reps], axis=-1)


def check_per_horizon(per: str, horizon: str) -> None:
    """A SpecError unless ``per`` can be counted over ``horizon``: with the long run only
    :data:`LONG_RUN_PERS` (a yes/no measure is persons in work at one month of the contract
    period, a window other than the long-run budget NPV it would be added to)."""
    if horizon == "long_run" and per not in LONG_RUN_PERS:
        raise SpecError("--per", [said(f"'{per}' with --horizon long_run: it counts persons in work at one "
                                       f"month of the contract period; allowed with the long run: "
                                       f"{', '.join(LONG_RUN_PERS)}",
                                       f"'{per}' med --horizon long_run: det teller personer i arbeid i én "
                                       f"måned av kontraktsperioden; tillatt med det lange løpet: "
                                       f"{', '.join(LONG_RUN_PERS)}")])


def _check_horizon(horizon: str, registry: KpiRegistry, columns: Iterable[str]) -> None:
    """A SpecError unless ``horizon`` is one of :data:`HORIZONS` and, for ``long_run``, the
    results were run with a long run."""
    if horizon not in HORIZONS:
        raise SpecError("--horizon", [said(f"'{horizon}'; allowed: {', '.join(HORIZONS)}",
                                           f"'{horizon}'; tillatt: {', '.join(HORIZONS)}")])
    if horizon == "long_run" and not any(k.measure == LONG_RUN_MEASURE and k.name in set(columns)
                                         for k in registry.values()):
        raise SpecError("--horizon", [said("'long_run': these results have no long run; run a scenario with "
                                           "[world] long_run_years (or use --horizon contract)",
                                           "'long_run': disse resultatene har ikke noe langt løp; kjør et "
                                           "scenario med [world] long_run_years (eller bruk --horizon "
                                           "contract)")])


def fiscal_column(commissioner: str, registry: KpiRegistry, columns: Iterable[str],
                  horizon: str = "contract") -> str:
    """The runs column of ``commissioner``'s budget NPV (outcome payments included) over the
    contract period or (``horizon = "long_run"``) the long run; a SpecError naming the parties
    there are when the runs have none for it."""
    columns = set(columns)
    _check_horizon(horizon, registry, columns)
    measure = LONG_RUN_MEASURE if horizon == "long_run" else "fiscal_npv"
    parties = sorted(k.party for k in registry.select(measure=measure, party_kind="public")
                     if k.party and k.name in columns)
    if commissioner == "public":
        try:
            name = registry.at(measure, arm="difference", party=None).name
        except KeyError:
            name = ""
    else:
        found = [k.name for k in registry.select(measure=measure, party=commissioner)]
        name = found[0] if found else ""
    if name not in columns:
        raise SpecError("--for", [said(f"'{commissioner}': the results have no budget NPV for it; allowed: "
                                       f"{', '.join(['public', *parties])}",
                                       f"'{commissioner}': resultatene har ingen budsjett-NNV for den; "
                                       f"tillatt: {', '.join(['public', *parties])}")])
    return name


def per_measures(registry: KpiRegistry) -> list[str]:
    """The choices of ``per``: every yes/no measure with both arms' share, and the contract's
    additional primary outcomes."""
    known = [k.measure for k in registry.select(kind="share", arm="treatment")
             if registry.select(measure=k.measure, kind="share", arm="control")]
    return [WORK_YEARS_PER, *dict.fromkeys(known), OUTCOMES_PER]


def work_years_column(horizon: str = "contract") -> str:
    """The runs column of the additional discounted person-years in work over ``horizon``."""
    return WORK_YEARS_LONG_RUN_MEASURE if horizon == "long_run" else WORK_YEARS_MEASURE


def additional_in_work(runs: pd.DataFrame, per: str, registry: KpiRegistry,
                       horizon: str = "contract") -> np.ndarray:
    """Per replication: additional discounted person-years in work over ``horizon`` (``per =
    "work_years"``), additional persons in work by a yes/no measure ``per`` (share with the
    programme minus share without it, times the participants), or the additional primary
    outcomes."""
    if per == WORK_YEARS_PER:
        column = work_years_column(horizon)
        if column not in runs:
            raise SpecError("--per", [said(f"'{per}': the results have no column {column} (run before "
                                           "person-years in work were recorded: run them again, or give "
                                           "--per in_work_24m)",
                                           f"'{per}': resultatene har ingen kolonne {column} (kjørt før "
                                           "personår i arbeid ble registrert: kjør dem på nytt, eller gi "
                                           "--per in_work_24m)")])
        return runs[column].to_numpy(float)
    if per == OUTCOMES_PER:
        if OUTCOMES_PER not in runs:
            raise SpecError("--per", [said(f"'{per}': not in the results",
                                           f"'{per}': finnes ikke i resultatene")])
        return runs[OUTCOMES_PER].to_numpy(float)
    try:
        tr, ct = measure_columns(per, registry)
    except ValueError:
        allowed = ", ".join(per_measures(registry))
        raise SpecError("--per", [said(f"'{per}': allowed: {allowed}",
                                       f"'{per}': tillatt: {allowed}")]) from None
    people = registry.at("people", arm="treatment").name
    missing = [c for c in (tr, ct, people) if c not in runs]
    if missing:
        raise SpecError("--per", [said(f"'{per}': the results have no columns {missing}",
                                       f"'{per}': resultatene har ikke kolonnene {missing}")])
    return ((runs[tr] - runs[ct]) * runs[people]).to_numpy(float)


def draws_from_runs(runs: pd.DataFrame, uncertain: Sequence[str], policy: Sequence[str] = (),
                    commissioner: str = "kommune", per: str = PER_DEFAULT,
                    registry: KpiRegistry | None = None,
                    pilot_measure: str | None = "in_work_12m", horizon: str = "contract") -> list[Draws]:
    """One :class:`Draws` per policy (combination of ``policy`` columns, levers and sweeps) of a
    runs table: design points are draws of the ``uncertain`` columns, replications within a
    point its inner replications. ``pilot_measure``: the yes/no measure whose shares a pilot would
    count (None: none); ``horizon``: the window of the budget NPV and the person-years."""
    reg = registry if registry is not None else (runs.attrs.get("kpis") or kpis_for_columns(runs.columns))
    check_per_horizon(per, horizon)
    money_col = fiscal_column(commissioner, reg, runs.columns, horizon)
    people = reg.at("people", arm="treatment").name
    frame = pd.DataFrame({"point": runs["point"].to_numpy(int),
                          "replication": (runs["replication"].to_numpy(int) if "replication" in runs
                                          else np.arange(len(runs))),
                          "money": runs[money_col].to_numpy(float),
                          "effect": additional_in_work(runs, per, reg, horizon),
                          "participants": runs[people].to_numpy(float)})
    if pilot_measure is not None:
        try:
            tr, ct = measure_columns(pilot_measure, reg)
        except ValueError as err:
            raise SpecError("--measure", [err.args[0] if err.args else str(err)]) from None  # keeps a Said
        frame["p_treatment"] = runs[tr].to_numpy(float) if tr in runs else np.nan
        frame["p_control"] = runs[ct].to_numpy(float) if ct in runs else np.nan
    else:
        frame["p_treatment"] = frame["p_control"] = np.nan
    for key in [*uncertain, *policy]:
        if key not in runs:
            raise SpecError("results", [said(f"parameter '{key}' is not a column of runs/",
                                             f"parameteren '{key}' er ikke en kolonne i runs/")])
        frame[key] = runs[key].to_numpy()
    frame = frame[np.isfinite(frame["money"]) & np.isfinite(frame["effect"])]
    out = []
    groups = frame.groupby(list(policy), sort=True) if policy else [((), frame)]
    for values, df in groups:
        values = values if isinstance(values, tuple) else (values,)
        out.append(_draws(dict(zip(policy, values, strict=True)), df, list(uncertain)))
    return out


def _draws(policy: dict[str, Any], df: pd.DataFrame, uncertain: list[str]) -> Draws:
    """The draws of one policy: the replications every draw has, as draws x replications."""
    n_points = df["point"].nunique()
    shared = df.groupby("replication")["point"].nunique()
    keep = df[df["replication"].isin(shared.index[shared == n_points])]
    if keep.empty:  # no replication in every draw (a half-run sweep): one mean per draw, luck unknown
        keep = df.groupby("point", as_index=False).mean(numeric_only=True).assign(replication=0)
    g = keep.groupby("point", sort=True)
    def matrix(column: str) -> np.ndarray:
        return keep.pivot(index="point", columns="replication", values=column).sort_index().to_numpy(float)

    means = g[["participants"]].mean()
    params = (g[uncertain].first().reset_index(drop=True) if uncertain
              else pd.DataFrame(index=range(len(means))))
    return Draws(policy=policy, params=params, money_reps=matrix("money"), effect_reps=matrix("effect"),
                 participants=means["participants"].to_numpy(),
                 rows=df[["point", "money", "effect"]].reset_index(drop=True),
                 share_reps=np.stack([matrix("p_treatment"), matrix("p_control")], axis=-1),
                 points=means.index.to_numpy(int), dropped=len(df) - len(keep))


@dataclass(frozen=True)
class Results:
    """A results directory read for a decision: its policies' draws and what the words need."""

    out: str
    draws: list[Draws]
    uncertain: list[str]
    policy: list[str]
    currency: str
    seed: int
    runs: pd.DataFrame
    commissioner: str
    per: str
    horizon: str = "contract"


def load_decision(out: str | Path, commissioner: str = "kommune", per: str = PER_DEFAULT,
                  pilot_measure: str | None = "in_work_12m", horizon: str = "contract") -> Results:
    """The draws of results directory ``out``: its manifest says which parameters are policies
    (``design.sweep`` and ``design.levers``) and which are uncertain (every other design
    parameter: ``design.uncertainties`` and draws from priors)."""
    runs = load_runs(out)
    mpath = Path(out) / "manifest.json"
    manifest = json.loads(mpath.read_text()) if mpath.exists() else {}
    scenario = manifest.get("scenario") or {}
    design = scenario.get("design") or {}
    params = [p for p in manifest.get("parameters", []) if p in runs]
    policy = [p for p in params if p in (design.get("sweep") or {}) or p in (design.get("levers") or {})]
    uncertain = [p for p in params if p not in policy]
    draws = draws_from_runs(runs, uncertain, policy, commissioner, per, pilot_measure=pilot_measure,
                            horizon=horizon)
    currency = str((scenario.get("scenario") or {}).get("currency", "NOK"))
    return Results(out=str(out), draws=draws, uncertain=uncertain, policy=policy, currency=currency,
                   seed=int(manifest.get("root_seed", 0)), runs=runs, commissioner=commissioner, per=per,
                   horizon=horizon)


def decision_rng(seed: int, purpose: str = "decision_bootstrap") -> np.random.Generator:
    """The generator of the bootstrap (``decision_bootstrap``) or of simulated pilot counts
    (``pilot_value``) of root seed ``seed`` (streams of :func:`effekt.experiments.design.auxiliary_rng`)."""
    return auxiliary_rng(seed, purpose)


# -- acceptability and EVPI ------------------------------------------------------------------


def evpi(nb: np.ndarray) -> np.ndarray:
    """Expected value of perfect information of net benefits ``nb`` (draws x lambdas) against the
    option of not signing (0): ``E[max(NB, 0)] - max(E[NB], 0)`` per column. For several options
    give a 3-d array (draws x lambdas x options) including the zero option yourself."""
    nb = np.asarray(nb, dtype=float)
    if nb.ndim == 1:
        nb = nb[:, None]
    if nb.ndim == 2:
        nb = np.stack([nb, np.zeros_like(nb)], axis=-1)
    return nb.max(axis=-1).mean(axis=0) - nb.mean(axis=0).max(axis=-1)


def _projected(Q: np.ndarray | None, y: np.ndarray) -> np.ndarray:
    """``y`` (draws x ...) projected on the column space of ``Q`` (None: itself)."""
    if Q is None:
        return y
    return np.tensordot(Q, np.tensordot(Q.T, y, axes=1), axes=1)


def _psd(S: np.ndarray) -> np.ndarray:
    """The nearest positive semi-definite matrix to symmetric ``S`` (negative eigenvalues to 0)."""
    w, V = np.linalg.eigh((S + S.T) / 2)
    return (V * np.clip(w, 0, None)) @ V.T


def _value(parts: np.ndarray, lams: Sequence[float] | np.ndarray,
           Q: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The value of information at each lambda of net benefits ``money + lambda * effect``, from
    ``parts`` (draws x replications x (money, effect)): of knowing the draw (``Q`` None: EVPI)
    or of knowing what the regression basis ``Q`` (orthonormal, spanning the constant) sees
    (EVPPI, EVSI).

    The fitted deviations from the mean carry two excesses, removed by variance matching: the
    luck of the replications (its energy in the fit, estimated without bias from the spread of
    each replication about its draw's mean, because replications are independent of each other
    while each is shared by every draw) and, for a regression, the ``(p - 1) sigma^2`` that ``p``
    coefficients adopt from the other parameters' part of the residual. Both are 2 x 2 matrices
    over (money, effect); the signal left, the fitted covariance minus them, is made positive
    semi-definite before it is evaluated at each lambda (an estimate of the effect's signal a
    little below 0, times lambda squared, would otherwise wipe out the money's). Returns
    ``value`` (corrected), ``raw``, ``luck`` (the luck's share of the fitted variance, luck over
    luck plus signal; NaN with fewer than two replications, when it is not removed), ``signal``
    (the fitted variance without the excesses), ``luck_one`` (one replication's luck variance)
    and ``worth`` (P(net benefit > 0) over the corrected values)."""
    D, R, _ = parts.shape
    a = np.vstack([np.ones(len(np.atleast_1d(lams))), np.atleast_1d(np.asarray(lams, dtype=float))])

    def at(S: np.ndarray) -> np.ndarray:
        return np.einsum("kL,kl,lL->L", a, S, a)

    means = parts.mean(axis=1)
    level = means.mean(axis=0)
    centred = means - level
    fit = _projected(Q, centred)
    energy = fit.T @ fit
    if R >= 2:
        dev = parts - parts.mean(axis=1, keepdims=True)
        dev = dev - dev.mean(axis=0, keepdims=True)
        seen = _projected(Q, dev)
        luck = np.einsum("drk,drl->kl", seen, seen) / (R * (R - 1))
        rest = dev - seen
        luck_rest = np.einsum("drk,drl->kl", rest, rest) / (R * (R - 1))
    else:
        luck, luck_rest = np.zeros((2, 2)), np.zeros((2, 2))
    excess = luck
    if Q is not None:
        p = Q.shape[1]
        resid = centred - fit
        excess = excess + (p - 1) * _psd(resid.T @ resid - luck_rest) / max(D - p, 1)
    signal = at(_psd(energy - excess))
    total = at(energy)
    nb_fit, nb_level = fit @ a, level @ a
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(total > 0, np.sqrt(np.clip(signal / total, 0, 1)), 0.0)
        both = signal + at(luck)
        share = np.where(both > 0, at(luck) / both, np.nan) if R >= 2 else np.full(a.shape[1], np.nan)
    matched = nb_level + scale * nb_fit
    return {"value": np.maximum(evpi(matched), 0.0), "raw": np.maximum(evpi(nb_level + nb_fit), 0.0),
            "luck": share, "signal": signal / max(D - 1, 1), "luck_one": at(luck) * R / max(D - 1, 1),
            "worth": (matched > 0).mean(axis=0)}


def acceptability(d: Draws, lams: Sequence[float], luck: bool = False, corrected: bool = True) -> np.ndarray:
    """P(net benefit > 0) at each lambda: over the draws' expected net benefit (``luck`` False: is
    the contract worth it on average, given what we do not know; ``corrected``: with the luck left
    in the per-draw means taken out, see :func:`_value`), or over every replication of every draw
    (``luck`` True: will this one kull end in the black)."""
    lam = np.asarray(lams, dtype=float)
    if luck:
        rows = d.rows["money"].to_numpy()[:, None] + d.rows["effect"].to_numpy()[:, None] * lam[None, :]
        return (rows > 0).mean(axis=0)
    if corrected:
        return _value(d.parts(), lam)["worth"]
    return (d.net_benefit(lam) > 0).mean(axis=0)


def resample(shape: Sequence[int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One two-way bootstrap resample of a draws x replications table: draws with replacement
    and, independently, replications with replacement (the same replications for every draw, as
    every draw ran the same seeds). Resampling the draws alone would keep the replications' shared
    luck fixed, and with it the level of the expected net benefit: near the decision's boundary
    (E[NB] close to 0) that level is what decides the EVPI, so an interval over draws alone is too
    narrow. With one replication the replications are kept as they are."""
    D, R = int(shape[0]), int(shape[1])
    i = rng.integers(0, D, D)
    j = rng.integers(0, R, R) if R >= 2 else np.arange(R)
    return i, j


def value_curve(d: Draws, lams: Sequence[float], bootstrap: int = 0,
                rng: np.random.Generator | None = None) -> pd.DataFrame:
    """One row per lambda: the expected net benefit; P(worth it) over the draws (corrected for
    the luck in the per-draw means, and as computed) and with the luck of one kull; EVPI
    (corrected, and as computed) in total and per participant; the luck's share of the per-draw
    means' variance and the replications per draw that would bring it to
    :data:`NOISE_SHARE_TARGET`; with ``bootstrap`` resamples of the draws and replications (from
    ``rng``, :func:`resample`), a 95 % interval of the corrected EVPI."""
    lam = np.asarray(lams, dtype=float)
    means, parts = d.net_benefit(lam), d.parts()
    v = _value(parts, lam)
    goal = NOISE_SHARE_TARGET / (1 - NOISE_SHARE_TARGET)
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = np.where(v["signal"] > 0, np.ceil(v["luck_one"] / (goal * v["signal"])), np.nan)
    table = pd.DataFrame({
        "wtp": lam, "mean_nb": means.mean(axis=0), "p_worth": v["worth"],
        "p_worth_raw": (means > 0).mean(axis=0), "p_worth_luck": acceptability(d, lam, luck=True),
        "evpi": v["value"], "evpi_raw": v["raw"],
        "evpi_per_participant": v["value"] / float(np.mean(d.participants)),
        "noise_share": v["luck"], "replications_needed": needed,
    })
    if bootstrap and rng is not None and d.n > 1:
        boot = np.empty((bootstrap, len(lam)))
        for b in range(bootstrap):
            i, j = resample(parts.shape, rng)
            boot[b] = _value(parts[i][:, j], lam)["value"]
        table["evpi_low"], table["evpi_high"] = np.percentile(boot, [2.5, 97.5], axis=0)
    return table


# -- EVPPI by regression (Strong, Oakley & Brennan 2014) ---------------------------------------


def _regression_value(X: np.ndarray, parts: np.ndarray, lams: np.ndarray,
                      chosen: Sequence[Smoother]) -> dict[str, np.ndarray]:
    """:func:`_value` of the fits on ``X`` with the smoother ``chosen`` for each lambda."""
    out = {k: np.full(len(lams), np.nan) for k in ("value", "raw", "luck")}
    for s in dict.fromkeys(chosen):
        cols = [j for j, c in enumerate(chosen) if c == s]
        v = _value(parts, lams[cols], s.projector(X))
        for k in out:
            out[k][cols] = v[k]
    return out


def evppi(X: np.ndarray, parts: np.ndarray, lams: Sequence[float], bootstrap: int = 0,
          rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """EVPPI of the number(s) ``X`` (draws x k) at each of ``lams`` for the net benefit of
    ``parts`` (draws x replications x (money, effect), see :meth:`Draws.parts`) by the regression
    method: ``evppi`` (corrected, see :func:`_value`), ``raw``, ``luck`` and, with ``bootstrap``
    resamples of the draws and replications (:func:`resample`), ``low`` and ``high`` (95 %),
    refitting the smoothers chosen (by
    cross-validation at each lambda) on all draws."""
    X, parts = as_2d(X), np.asarray(parts, dtype=float)
    lam = np.atleast_1d(np.asarray(lams, dtype=float))
    means = parts.mean(axis=1)
    chosen = choose_smoothers(X, means[:, :1] + means[:, 1:] * lam[None, :])
    v = _regression_value(X, parts, lam, chosen)
    out = {"evppi": v["value"], "raw": v["raw"], "luck": v["luck"]}
    if bootstrap and rng is not None:
        boot = np.empty((bootstrap, len(lam)))
        for b in range(bootstrap):
            i, j = resample(parts.shape, rng)
            boot[b] = _regression_value(X[i], parts[i][:, j], lam, chosen)["value"]
        out["low"], out["high"] = np.percentile(boot, [2.5, 97.5], axis=0)
    return out


def parse_groups(specs: Iterable[str], keys: Sequence[str]) -> dict[str, list[str]]:
    """``NAME=KEY1,KEY2`` groups of uncertain parameters (``--group``), checked against ``keys``."""
    groups: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, rest = spec.partition("=")
        members = [k.strip() for k in rest.split(",") if k.strip()]
        if not sep or not name.strip() or not members:
            raise SpecError("--group", [said(f"'{spec}': write NAME=KEY1,KEY2",
                                             f"'{spec}': skriv NAVN=NØKKEL1,NØKKEL2")])
        unknown = [k for k in members if k not in keys]
        if unknown:
            raise SpecError("--group", [said(f"'{spec}': {', '.join(unknown)} not an uncertain parameter of "
                                             f"the results; allowed: {', '.join(keys) or '(none)'}",
                                             f"'{spec}': {', '.join(unknown)} er ikke en usikker parameter i "
                                             f"resultatene; tillatt: {', '.join(keys) or '(ingen)'}")])
        groups[name.strip()] = members
    return groups


def drawn_together(params: pd.DataFrame) -> dict[str, list[str]]:
    """The uncertain parameters as the decision sees them: columns drawn at the same quantile in
    every draw (priors of one ``shared`` name, :mod:`effekt.priors`; their ranks are identical) are
    one unknown, named by the first key and how many were drawn with it, and regressed on the first
    alone (each of the others is a monotone function of it: the same information); the others one
    each."""
    out: dict[str, list[str]] = {}
    seen: dict[tuple[int, ...], tuple[str, int]] = {}
    for key in params.columns:
        ranks = tuple(params[key].rank(method="first").astype(int))
        if ranks in seen and params[key].nunique() > 1:
            name, others = seen[ranks]
            first = out.pop(name)
            name = f"{first[0]} (+{others + 1} drawn with it)"
            out[name] = first
            seen[ranks] = (name, others + 1)
            continue
        seen[ranks] = (key, 0)
        out[key] = [key]
    return out


def evppi_table(d: Draws, lams: Sequence[float], groups: Mapping[str, Sequence[str]] | None = None,
                bootstrap: int = 0, rng: np.random.Generator | None = None) -> pd.DataFrame:
    """One row per uncertain parameter (and per named group) and lambda: EVPPI (corrected, raw,
    95 % bootstrap interval) and its share of the corrected EVPI at that lambda (NaN where there
    are too few draws for the regression: no estimate, not a zero). No partial information is
    worth more than perfect information: an estimate above the EVPI (the fit's error) is shown as
    the EVPI."""
    lam = np.asarray(lams, dtype=float)
    parts = d.parts()
    total = _value(parts, lam)["value"]
    sets = drawn_together(d.params)
    sets.update({k: list(v) for k, v in (groups or {}).items()})
    nan = np.full(len(lam), np.nan)
    rows = []
    for name, keys in sets.items():
        try:
            r = evppi(d.params[list(keys)].to_numpy(float), parts, lam, bootstrap, rng)
        except TooFewDraws:
            r = {"evppi": nan, "raw": nan}
        value = np.minimum(r["evppi"], total)
        for j, v in enumerate(lam):
            rows.append({"parameter": name, "wtp": v, "evppi": value[j], "raw": r["raw"][j],
                         "low": r.get("low", nan)[j], "high": r.get("high", nan)[j],
                         "share_of_evpi": value[j] / total[j] if total[j] > 0 else np.nan,
                         "draws": d.n})
    return pd.DataFrame(rows)


# -- the value of a pilot ------------------------------------------------------------------------


def pilot_counts(shares: pd.DataFrame, n: int, design: str, rng: np.random.Generator) -> np.ndarray:
    """Per draw, a pilot's simulated counts in work: ``n`` in the programme (and ``n`` controls in
    a ``two-arm`` pilot), binomial with that draw's probabilities (draws x 1 or 2)."""
    if design not in PILOT_DESIGNS:
        raise ValueError(f"pilot design '{design}'; allowed: {', '.join(PILOT_DESIGNS)}")
    pt = np.clip(shares["p_treatment"].to_numpy(float), 0, 1)
    x = rng.binomial(n, pt)
    if design == "programme-only":
        return x[:, None].astype(float)
    pc = np.clip(shares["p_control"].to_numpy(float), 0, 1)
    return np.column_stack([x, rng.binomial(n, pc)]).astype(float)


@dataclass(frozen=True)
class PilotValue:
    """What a pilot of ``n`` is worth before signing at willingness to pay ``wtp``: its EVSI
    (corrected, and a 95 % bootstrap interval), beside the EVPPI of the shares it measures (its
    ceiling as the pilot grows) and the EVPI (all parameter uncertainty)."""

    n: int
    design: str
    wtp: float
    evsi: float
    low: float
    high: float
    ceiling: float
    evpi: float


class NoDraws(ValueError):
    """The results have no parameter draws (or lack what a pilot would measure)."""


def pilot_value(d: Draws, n: int, wtp: float, design: str = "two-arm", rng: np.random.Generator | None = None,
                bootstrap: int = 0) -> PilotValue:
    """EVSI of a pilot of ``n`` people counting the pilot measure's successes (the regression on
    simulated counts, see the module docstring), its ceiling and the EVPI.

    The pilot's probabilities given the parameters, ``p(theta)``, are a model output: they are
    estimated by a smooth regression of the draws' shares on all uncertain parameters, and the
    pilot's counts are binomial with them. Pooling the draws matters twice: one draw's few kulls
    would make the pilot look noisier than it is (a share from ``R`` kulls of ``N`` has luck of
    variance ``p (1 - p) / (N R)``), and the same kulls' luck is in the draw's net benefit, which
    the regression would take for information. What pooling cannot remove is the luck common
    random numbers give every draw alike (smooth in the parameters); it shrinks with ``R``."""
    if not d.has_draws:
        raise NoDraws("the value of a pilot needs parameter draws")
    k = [0] if design == "programme-only" else [0, 1]
    if not np.isfinite(d.share_reps[:, :, k]).all():
        raise NoDraws("the results lack the pilot measure's shares in some draw")
    rng = rng if rng is not None else np.random.default_rng(0)
    probs = d.share_reps.mean(axis=1)
    parts = d.parts()
    fitted = np.full_like(probs, np.nan)
    fitted[:, k] = np.clip(conditional_mean(d.params.to_numpy(float), probs[:, k]), 0, 1)
    shares = pd.DataFrame(fitted, columns=["p_treatment", "p_control"])
    counts = pilot_counts(shares, n, design, rng)
    r = evppi(counts, parts, [wtp], bootstrap, rng)
    total = float(_value(parts, [wtp])["value"][0])
    # no information is worth more than perfect information: an estimate above the EVPI is error
    ceiling = min(float(evppi(shares.iloc[:, k].to_numpy(float), parts, [wtp])["evppi"][0]), total)
    return PilotValue(n=n, design=design, wtp=float(wtp), evsi=min(float(r["evppi"][0]), ceiling),
                      low=float(r.get("low", [math.nan])[0]), high=float(r.get("high", [math.nan])[0]),
                      ceiling=ceiling, evpi=total)


# -- the investor ---------------------------------------------------------------------------------


def investor_risk(runs: pd.DataFrame, registry: KpiRegistry | None = None) -> dict[str, float]:
    """The investors' risk over draws and replications together (both kinds of uncertainty):
    P(loss) (the ``loss`` indicator's mean, with Wilson's interval) and the money multiple's mean
    and P5/P50/P95 (:func:`effekt.experiments.summary.describe`), and the spread of the per-draw
    P(loss) and mean multiple across draws (P5, P95). Empty when the runs have neither KPI."""
    reg = registry if registry is not None else (runs.attrs.get("kpis") or kpis_for_columns(runs.columns))
    out: dict[str, float] = {}
    for measure, indicator in (("loss", True), ("multiple", False)):
        try:
            col = reg.at(measure, party="investor").name
        except KeyError:
            continue
        if col not in runs:
            continue
        stats = describe(runs[col].to_numpy(float), indicator=indicator)
        out.update({f"{measure}_{k}": v for k, v in stats.items()})
        per_draw = runs.groupby("point")[col].mean().to_numpy(float)
        per_draw = per_draw[np.isfinite(per_draw)]
        if len(per_draw) > 1:
            out[f"{measure}_draws_p5"], out[f"{measure}_draws_p95"] = np.percentile(per_draw, [5, 95])
    return out


def wtp_grid(text: str) -> list[float]:
    """``START:STOP:STEP`` (inclusive), ``A,B,C`` or one value: the willingness-to-pay grid."""
    try:
        if ":" in text:
            a, b, s = (float(v) for v in text.split(":"))
            if s <= 0 or b < a:
                raise ValueError
            return [float(v) for v in np.arange(a, b + s / 2, s)]
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SpecError("--wtp", [said(f"'{text}': write START:STOP:STEP (STOP >= START, STEP > 0), "
                                       "A,B,C or one number",
                                       f"'{text}': skriv START:STOPP:STEG (STOPP >= START, STEG > 0), "
                                       "A,B,C eller ett tall")]) from None
