"""Parameter uncertainty in a results directory: predictive intervals over draws x replications,
and how much of each KPI's spread the uncertain numbers make and how much is luck.

A run with ``[design.parameters] draws = D`` (``effekt run --draws D``) is two-level Monte Carlo:
D outer draws of the priors (:mod:`effekt.priors`), each a design point, and in each the same R
replications with the same seeds (common random numbers). A row of ``runs`` is one (draw,
replication) pair, so the D x R values of a KPI are draws from its predictive distribution, with
both kinds of uncertainty: their 5th-95th percentiles are the **predictive interval**
(:func:`parameter_table`).

**Variance decomposition** (:func:`variance_components`). With common random numbers a
replication's luck is partly the same in every draw (the same people, the same dice), so the
values ``y[d, r]`` follow a two-way crossed random-effects model without replication,
``y = mu + a_d + b_r + c_dr`` (a: the parameters of draw d; b: the luck of seed r shared by all
draws; c: how that luck plays out under draw d's parameters), estimated by the usual ANOVA method
of moments (Searle, Casella & McCulloch 1992, *Variance Components*, ch. 4)::

    MS_draw = R sum_d (ybar_d. - ybar..)^2 / (D - 1)           E = s2_c + R s2_a
    MS_rep  = D sum_r (ybar_.r - ybar..)^2 / (R - 1)           E = s2_c + D s2_b
    MS_res  = sum (y - ybar_d. - ybar_.r + ybar..)^2 / ((D - 1)(R - 1))   E = s2_c

so ``s2_a = (MS_draw - MS_res) / R`` (the between-draw variance of the means, corrected for the
finite number R of inner replications), ``s2_b = (MS_rep - MS_res) / D`` and ``s2_c = MS_res``;
an estimate below 0 is set to 0. The **parameters' share** is ``s2_a / (s2_a + s2_b + s2_c)``, the
**share of luck** the rest (at fixed parameters, a new replication varies by ``s2_b + s2_c``); the
two add up to 1 and the three components to the total variance of a new (draw, replication).
The one-way estimator (between-draw variance of the means minus the within-draw variance over
R) is the same thing without common random numbers, but with them it subtracts the shared luck
``s2_b / R`` once too often; the two-way one is unbiased either way (with independent seeds,
``s2_b`` is estimated near 0). Only replications defined in every draw enter the decomposition
(a KPI undefined in some runs, such as the IRR of a total loss, uses the rest).

The 95 % interval of the mean uses the variance of the grand mean under the same model,
``(MS_draw + MS_rep - MS_res) / (D R)``, with the normal quantile.

When the scenario declares priors but was run without draws, every range a summary prints is
chance alone with the uncertain numbers held fixed: :func:`note_lines` says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri  # scipy.stats' norm.ppf, without importing scipy.stats (issue 14)

from effekt.contracts import KpiRegistry, kpis_for_columns
from effekt.dotted import canonical, parse_key
from effekt.priors import Prior, find_priors

COLUMNS = ["n", "mean", "ci_low", "ci_high", "p5", "p50", "p95", "sd", "parameters", "luck"]
"""The statistics of :func:`parameter_table`, per KPI."""


WORDS: dict[str, dict[str, str]] = {
    "en": {
        "held": ("Every range here is chance alone: {n} uncertain number{s} in the scenario's files "
                 "{were} held at {their}; run with --draws N (e.g. --draws 20) to "
                 "include their uncertainty."),
        "head": ("Parameter uncertainty: {d} draws of {k} uncertain number{s} x {r} replications; "
                 "the intervals over all {n} runs include both the numbers and chance."),
        "decomposition": ("Share of the variance from the uncertain numbers (the rest is chance, "
                          "two-way ANOVA under common random numbers): {parts}"),
        "group": "Design point group {g}",
        "kpi": "kpi", "label": "label", "parameters": "parameters", "luck": "luck",
    },
    "nb": {
        "held": ("Alle spenn her er bare tilfeldighet: {n} usikre tall i scenarioets filer ble holdt "
                 "fast på {their}; kjør med --draws N (f.eks. --draws 20) for å ta med "
                 "usikkerheten deres."),
        "head": ("Parameterusikkerhet: {d} trekninger av {k} usikre tall x {r} replikasjoner; "
                 "intervallene over alle {n} kjøringene tar med både tallene og tilfeldigheten."),
        "decomposition": ("Andel av variansen fra de usikre tallene (resten er tilfeldighet, toveis "
                          "variansanalyse med felles tilfeldige tall): {parts}"),
        "group": "Gruppe av designpunkter {g}",
        "kpi": "kpi", "label": "etikett", "parameters": "parametere", "luck": "tilfeldighet",
    },
}
"""The words of this module in English and bokmål."""


@dataclass(frozen=True)
class DrawInfo:
    """What a results directory says about its priors: ``declared`` (key -> prior, from the stored
    scenario), ``drawn`` (the keys drawn, columns of ``runs``) and ``draws`` per policy (0: every
    prior at its point value)."""

    declared: dict[str, Prior] = field(default_factory=dict)
    drawn: list[str] = field(default_factory=list)
    draws: int = 0
    replications: int = 0


def draw_info(manifest: dict[str, Any]) -> DrawInfo:
    """The priors of the scenario stored in ``manifest`` and which of them the run drew."""
    scenario = manifest.get("scenario") or {}
    if not isinstance(scenario, dict):
        return DrawInfo()
    found, _, _ = find_priors(scenario, skip=("design",))
    cohorts = (scenario.get("world") or {}).get("cohorts") or []
    groups = {g for c in cohorts if isinstance(c, dict) for g in (c.get("groups") or {})}
    declared = {k: p for k, p in found.items()  # as Scenario.priors: unused groups change nothing
                if not (parse_key(k)[:2] == ["world", "groups"] and parse_key(k)[2] not in groups)}
    design = scenario.get("design") or {}
    grid = {canonical(k) for t in ("sweep", "levers") for k in (design.get(t) or {})}
    params = [canonical(p) for p in manifest.get("parameters", [])]
    # uncertain: every design parameter that is not a policy (sweep, levers): the draws of priors
    # and the samples of [design.uncertainties] alike, as effekt decide reads them
    drawn = [k for k in params if k not in grid]
    points = manifest.get("points") or []
    policies = {tuple(sorted((canonical(k), repr(v)) for k, v in pt.items() if canonical(k) in grid))
                for pt in points if isinstance(pt, dict)}
    draws = len(points) // max(1, len(policies)) if drawn else 0
    return DrawInfo(declared=declared, drawn=drawn, draws=draws,
                    replications=int(manifest.get("replications", 0) or 0))


def read_draw_info(out: str | Path) -> DrawInfo:
    """:func:`draw_info` of a results directory's manifest (empty without one)."""
    m = Path(out) / "manifest.json"
    try:
        return draw_info(json.loads(m.read_text()))
    except (OSError, ValueError, TypeError):
        return DrawInfo()


def variance_components(y: np.ndarray) -> dict[str, float]:
    """The two-way crossed ANOVA of a D x R array (draws x replications, all finite): the mean
    squares, the components ``parameters`` (s2_a), ``luck_shared`` (s2_b), ``luck_interaction``
    (s2_c), ``luck`` (s2_b + s2_c), ``total`` and the two shares, and ``se_mean`` (the standard
    error of the grand mean). NaN where D < 2 or R < 2."""
    y = np.asarray(y, dtype=float)
    d, r = y.shape
    nan = {k: np.nan for k in ("ms_draw", "ms_rep", "ms_res", "parameters", "luck_shared",
                               "luck_interaction", "luck", "total", "share_parameters", "share_luck",
                               "se_mean")}
    if d < 2 or r < 2:
        return nan
    grand = y.mean()
    row, col = y.mean(axis=1), y.mean(axis=0)
    ms_draw = r * ((row - grand) ** 2).sum() / (d - 1)
    ms_rep = d * ((col - grand) ** 2).sum() / (r - 1)
    ms_res = ((y - row[:, None] - col[None, :] + grand) ** 2).sum() / ((d - 1) * (r - 1))
    a = max(0.0, (ms_draw - ms_res) / r)
    b = max(0.0, (ms_rep - ms_res) / d)
    c = max(0.0, ms_res)
    total = a + b + c
    var_mean = max(0.0, (ms_draw + ms_rep - ms_res) / (d * r))
    return {"ms_draw": ms_draw, "ms_rep": ms_rep, "ms_res": ms_res, "parameters": a, "luck_shared": b,
            "luck_interaction": c, "luck": b + c, "total": total,
            "share_parameters": a / total if total > 0 else np.nan,
            "share_luck": (b + c) / total if total > 0 else np.nan, "se_mean": float(np.sqrt(var_mean))}


def _matrix(df: pd.DataFrame, kpi: str) -> np.ndarray:
    """The D x R values of ``kpi`` (draws by ``point``, replications by ``replication``), keeping
    the replications defined in every draw."""
    wide = df.pivot_table(index="point", columns="replication", values=kpi, aggfunc="first", dropna=False)
    wide = wide.loc[:, wide.notna().all(axis=0)]
    return wide.to_numpy(dtype=float)


def kpi_columns(runs: pd.DataFrame, params: list[str]) -> list[str]:
    skip = {"point", "replication", *params}
    return [c for c in runs.columns if c not in skip and pd.api.types.is_numeric_dtype(runs[c])
            and not pd.api.types.is_bool_dtype(runs[c])]


def _groups(runs: pd.DataFrame, params: list[str],
            drawn: list[str]) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """The runs of each policy (the design parameters that are not drawn), with their values."""
    fixed = [p for p in params if p in runs.columns and p not in drawn]
    if not fixed:
        return [({}, runs)]
    return [(dict(zip(fixed, key if isinstance(key, tuple) else (key,), strict=True)), df)
            for key, df in runs.groupby(fixed, sort=False, dropna=False)]


def policy_runs(runs: pd.DataFrame, params: list[str], drawn: list[str]) -> list[tuple[int, pd.DataFrame]]:
    """The runs of each policy (sweep, levers and sampled uncertainties: the design parameters
    that are not drawn), numbered 0, 1, ... in the order of the design; one group without them."""
    return [(g, df) for g, (_, df) in enumerate(_groups(runs, params, drawn))]


def pool_draws(frame: pd.DataFrame, groups: list[tuple[int, pd.DataFrame]]) -> pd.DataFrame:
    """``frame`` (runs, budgets or cashflows with ``point`` and ``replication``) with each draw's
    rows renumbered into its policy (``point`` the group of :func:`policy_runs`) and replications
    numbered apart across the draws, so per-point means become means over draws x replications.
    The rows of the ``runs`` attributes ride along."""
    group_of = {int(p): g for g, df in groups for p in df["point"].unique()}
    stride = int(max(int(df["replication"].max()) for _, df in groups)) + 1
    point = frame["point"].astype(int)
    out = frame.assign(point=point.map(group_of),
                       replication=point * stride + frame["replication"].astype("int64"))
    out.attrs = dict(frame.attrs)
    return out


def parameter_table(runs: pd.DataFrame, drawn: list[str], params: list[str] | None = None,
                    registry: KpiRegistry | None = None, lang: str = "en") -> pd.DataFrame:
    """One row per KPI (per policy and KPI when the draws are crossed with a sweep): ``n`` values
    over draws x replications, their ``mean`` with its 95 % interval, the predictive ``p5``,
    ``p50`` and ``p95``, the standard deviation ``sd`` of a new (draw, replication) and the shares
    of its variance from the ``parameters`` and from ``luck`` (:func:`variance_components`)."""
    reg = registry if registry is not None else runs.attrs.get("kpis")
    if not isinstance(reg, KpiRegistry):
        reg = kpis_for_columns(runs.columns)
    params = list(params if params is not None else drawn)
    z = ndtri(0.975)
    rows = []
    groups = _groups(runs, params, drawn)
    for g, (values, df) in enumerate(groups):
        head = {"group": g, **values} if len(groups) > 1 else {}
        for col in kpi_columns(runs, [*params, *drawn]):
            x = df[col].to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            comp = variance_components(_matrix(df, col))
            mean = float(x.mean()) if len(x) else np.nan
            p5, p50, p95 = np.percentile(x, [5, 50, 95]) if len(x) else (np.nan,) * 3
            rows.append({**head, "kpi": col, "label": reg.label(col, lang), "n": len(x), "mean": mean,
                         "ci_low": mean - z * comp["se_mean"], "ci_high": mean + z * comp["se_mean"],
                         "p5": float(p5), "p50": float(p50), "p95": float(p95),
                         "sd": float(np.sqrt(comp["total"])), "parameters": comp["share_parameters"],
                         "luck": comp["share_luck"]})
    index = ["group", "kpi"] if len(groups) > 1 else ["kpi"]
    return pd.DataFrame(rows).set_index(index)


def render_table(table: pd.DataFrame, fmt: str = "text", lang: str = "en",
                 registry: KpiRegistry | None = None) -> str:
    """:func:`parameter_table` as ``csv``, ``json`` (full precision) or, for a person in ``lang``,
    ``markdown`` or aligned ``text`` (numbers as :func:`effekt.experiments.summary.render` writes
    them, the shares of the variance as percentages)."""
    from effekt.experiments.formatting import percent
    from effekt.experiments.summary import COLUMN_WORDS, NA_CELL, _layout, readable

    if fmt == "csv":
        return table.to_csv(float_format="%.6g")
    if fmt == "json":
        return table.reset_index().to_json(orient="records", indent=2)
    flat = table.reset_index()
    lead = [c for c in flat.columns if c not in ("label", *COLUMNS)]
    body = readable(flat, COLUMNS[:8], lead, lang, registry)
    for c in ("parameters", "luck"):
        body[c] = [percent(float(v), lang, na=NA_CELL) for v in flat[c]]
    if lang == "nb":
        lead = [c for c in lead if c != "kpi"]
    cols = [*lead, "label", *COLUMNS]
    head = {"en": "group {point}", "nb": COLUMN_WORDS["nb"]["group"] + " {point}"}[lang]
    return _layout(body, cols, fmt, lang, by="group", head=head)


def note_lines(info: DrawInfo, n_runs: int = 0, lang: str = "en") -> list[str]:
    """One line on the priors of a run, in ``lang``: with draws, how many draws of how many
    numbers the intervals include; without, that the ranges are chance alone with the declared
    priors held at their point values (nothing when the scenario declares none)."""
    if lang not in WORDS:
        raise ValueError(f"language '{lang}'; allowed: {', '.join(WORDS)}")
    w = WORDS[lang]
    if info.draws:
        k = len(info.drawn)
        return [w["head"].format(d=info.draws, k=k, s="" if k == 1 else "s", r=info.replications,
                                 n=n_runs)]
    n = len(info.declared)
    if not n:
        return []
    their = {"en": ("its point value", "their point values"),
             "nb": ("punktverdien sin", "punktverdiene sine")}[lang][n != 1]
    return [w["held"].format(n=n, s="" if n == 1 else "s", were="was" if n == 1 else "were", their=their)]


KEY_MEASURES: tuple[tuple[str, dict[str, str | None]], ...] = (
    ("additional_outcomes", {"arm": "difference"}),
    ("outcome_payments", {}),
    ("fiscal_npv", {"arm": "difference", "party": None}),
    ("npv", {"party": "investor"}),
    ("loss", {"party": "investor"}),
)
"""The key KPIs of :func:`key_kpis` after the in-work share: additional outcomes, outcome payments,
the public budgets' NPV in all, the investor's NPV and P(loss)."""


def key_kpis(registry: KpiRegistry | None, table: pd.DataFrame | None = None) -> list[str]:
    """The KPIs a one-line decomposition names: the programme arm's share in work at the longest
    horizon, then :data:`KEY_MEASURES`, those the registry declares (and ``table`` has)."""
    if not isinstance(registry, KpiRegistry):
        return []
    shares = [k.name for k in registry.select(kind="share", arm="treatment")
              if k.measure.startswith("in_work_") and not k.measure.startswith("in_work_or")]
    names = shares[-1:]
    for measure, where in KEY_MEASURES:
        try:
            names.append(registry.at(measure, **where).name)
        except KeyError:
            continue
    have = set(table.index.get_level_values("kpi")) if table is not None else None
    return [n for n in names if have is None or n in have]


def decomposition_line(table: pd.DataFrame, kpis: list[str], lang: str = "en") -> str:
    """One line: the parameters' share of the variance of each of ``kpis`` (labels in ``lang``),
    from :func:`parameter_table` (the first policy's rows when there are several)."""
    if "group" in table.index.names:
        table = table.xs(table.index.get_level_values("group")[0], level="group")
    from effekt.experiments.formatting import percent

    parts = [f"{table.loc[k, 'label']} {percent(table.loc[k, 'parameters'], lang)}" for k in kpis
             if k in table.index]
    return WORDS[lang]["decomposition"].format(parts="; ".join(parts)) if parts else ""


__all__ = ["COLUMNS", "KEY_MEASURES", "WORDS", "DrawInfo", "decomposition_line", "draw_info", "key_kpis",
           "note_lines", "parameter_table", "policy_runs", "pool_draws", "read_draw_info", "render_table",
           "variance_components"]
