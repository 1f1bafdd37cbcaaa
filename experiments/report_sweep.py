"""The report of a sweep (issue 13, item 9): which design point a report shows, with its parameter
values, and a view across all the points.

A sweep's results directory holds many design points; the report's figures and tables are of one
(``effekt report DIR --point K``). So the report says which one, by the readable name of each swept
scenario key (:func:`effekt.experiments.parameter_labels.parameter_label`) and its value, and adds
a section across the points: for each swept parameter, the probability that the investors lose
money and the mean net NPV of all public budgets at each of its values (a sampled, continuous
parameter in four ranges of equal numbers of points), pooled over every other parameter's values;
and when two parameters take a few values each (a grid, e.g. price x places), a figure of both
numbers on that grid.

Pooled means treat every design point alike: a lever's row is the average over the states of the
world sampled for it (each point has the same replications, with the same seeds). Because the
points share their replication seeds (common random numbers), the points x replications pooled in
a row are not independent draws: the 95 % interval of P(investor loss) is a bootstrap over the
replication seeds (:func:`seed_resamples`: each resample draws replication indices with
replacement and keeps every design point of a drawn seed together), not a binomial interval on
the pooled count, which would be too narrow.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from effekt.contracts import KpiRegistry
from effekt.experiments import formatting
from effekt.experiments.design import auxiliary_rng
from effekt.experiments.parameter_labels import parameter_label

GRID_MOST = 8
"""A parameter with at most this many distinct values is shown value by value (and can span the
grid of the figure); one with more (a sampled uncertainty) in :data:`RANGES` ranges."""
RANGES = 4
"""The number of ranges (of about equal numbers of design points) a continuous parameter is cut in."""
RESAMPLES = 400
"""Bootstrap resamples of the replication seeds for the intervals (enough for a 95 % percentile
interval of a probability to two digits; each is a matrix product, so cheap)."""

WORDS: dict[str, dict[str, str]] = {
    "nb": {
        "shows": "Denne rapporten viser designpunkt {k} av {n} i en parameterstudie: {values}.",
        "other": "Et annet punkt: effekt report {out} --point K (K fra 0 til {last}).",
        "across": "På tvers av designpunktene",
        "across_lead": ("Hvert punkt har {reps} replikasjoner med de samme frøene. Tabellene slår sammen "
                        "alle punkter med samme verdi av parameteren (gjennomsnitt over de andre "
                        "parametrene); et kontinuerlig trukket tall er delt i {ranges} intervaller med "
                        "like mange punkter. Siden punktene deler frø, er 95 %-intervallene en "
                        "bootstrap over replikasjonsfrøene (alle punkter for et frø trekkes sammen)."),
        "by": "Etter {p}",
        "value": "verdi", "points": "punkter", "loss": "sannsynlighet for tap for investorene",
        "npv": "nåverdi for offentlige budsjetter i alt, gjennomsnitt", "range": "{lo} til {hi}",
        "grid": "Sannsynlighet for tap for investorene og offentlig nåverdi etter {a} og {b}",
        "grid_note": ("Hver rute: gjennomsnittet over designpunktene med de to verdiene ({n} replikasjoner "
                      "per rute i snitt)."),
        "this": "dette punktet",
    },
    "en": {
        "shows": "This report shows design point {k} of {n} of a sweep: {values}.",
        "other": "Another point: effekt report {out} --point K (K from 0 to {last}).",
        "across": "Across the design points",
        "across_lead": ("Every point has {reps} replications with the same seeds. The tables pool the points "
                        "with the same value of the parameter (averaging over the other parameters); a "
                        "number sampled from a range is cut in {ranges} ranges of as many points each. "
                        "As the points share their seeds, the 95 % intervals are a bootstrap over the "
                        "replication seeds (every point of a seed drawn together)."),
        "by": "By {p}",
        "value": "value", "points": "points", "loss": "probability of an investor loss",
        "npv": "NPV of all public budgets, mean", "range": "{lo} to {hi}",
        "grid": "Probability of an investor loss and public NPV by {a} and {b}",
        "grid_note": ("Each cell: the mean over the design points with those two values ({n} replications "
                      "per cell on average)."),
        "this": "this point",
    },
}
"""The words of the sweep parts of the report, in bokmål and English."""


def _column(kpis: KpiRegistry, runs: pd.DataFrame, measure: str, **where: str | None) -> str | None:
    try:
        name = kpis.at(measure, **where).name
    except KeyError:
        return None
    return name if name in runs else None


def sweep_runs(runs: pd.DataFrame, params: list[str], kpis: KpiRegistry,
               seed: int = 0) -> pd.DataFrame | None:
    """Per replication of every design point: ``point``, ``replication`` (its seed's index, the
    same in every point), the swept parameters' values, the investors' ``loss`` (0/1) and the
    ``public_npv`` (all public budgets, against the counterfactual); None for a results directory
    of one point or without parameters. ``seed``: the experiment's root seed, kept in
    ``attrs["seed"]`` for the bootstrap's stream (:func:`seed_resamples`)."""
    params = [p for p in params if p in runs]
    if not params or runs["point"].nunique() < 2:
        return None
    out = runs[["point", *params]].copy()
    out.insert(1, "replication", runs["replication"].to_numpy(int) if "replication" in runs
               else runs.groupby("point").cumcount().to_numpy(int))
    out.attrs["seed"] = int(seed)
    loss = _column(kpis, runs, "loss", party="investor")
    npv = _column(kpis, runs, "fiscal_npv", arm="difference", party=None)
    out["loss"] = runs[loss].astype(float) if loss else np.nan
    out["public_npv"] = runs[npv].astype(float) if npv else np.nan
    return out


def root_seed(out: str | Path) -> int:
    """The root seed of results directory ``out`` (its manifest's ``root_seed``; 0 without one)."""
    try:
        return int(json.loads((Path(out) / "manifest.json").read_text(encoding="utf-8")).get("root_seed", 0))
    except (OSError, ValueError, TypeError):
        return 0


def point_values(runs: pd.DataFrame, params: list[str], point: int) -> dict[str, float]:
    """The swept parameters' values at design point ``point``."""
    row = runs[runs["point"] == point]
    return {p: row[p].iloc[0] for p in params if p in row and len(row)}


def _value(v: object, lang: str) -> str:
    if isinstance(v, float | int | np.floating | np.integer) and not isinstance(v, bool):
        x = float(v)
        if x.is_integer():  # a count or a price: whole, thousands grouped (8, 60 000)
            return formatting.number(x, lang, unicode_minus=True)
        return formatting.general(x, lang, unicode_minus=True)
    return str(v)


def point_sentence(values: dict[str, object], point: int, points: int, lang: str) -> str:
    """"This report shows design point 5 of 48 of a sweep: price ... = 60 000, ..." in ``lang``."""
    shown = ", ".join(f"{parameter_label(k, lang, code='')} = {_value(v, lang)}" for k, v in values.items())
    return WORDS[lang]["shows"].format(k=point, n=points, values=shown)


def seed_resamples(sw: pd.DataFrame, resamples: int = RESAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """The replication seeds of ``sw`` and a bootstrap over them: (seeds, counts), ``counts[b, r]``
    how often resample ``b`` draws seed ``seeds[r]`` (a draw takes that seed's replication in every
    design point: the points stay together). Drawn from the experiment's auxiliary stream
    ``sweep_report_bootstrap`` of ``sw.attrs["seed"]``, so a report is the same every time."""
    seeds = np.unique(sw["replication"].to_numpy(int))
    rng = auxiliary_rng(int(sw.attrs.get("seed", 0)), "sweep_report_bootstrap")
    draws = rng.integers(0, len(seeds), size=(resamples, len(seeds)))
    counts = np.zeros((resamples, len(seeds)))
    np.add.at(counts, (np.repeat(np.arange(resamples), len(seeds)), draws.ravel()), 1.0)
    return seeds, counts


def seed_interval(g: pd.DataFrame, seeds: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """The 95 % percentile interval of the mean ``loss`` of rows ``g`` over the resamples ``counts``
    of the replication seeds ``seeds`` (:func:`seed_resamples`); NaN without losses."""
    g = g[g["loss"].notna()]
    if g.empty:
        return math.nan, math.nan
    at = np.searchsorted(seeds, g["replication"].to_numpy(int))
    total = np.bincount(at, weights=g["loss"].to_numpy(float), minlength=len(seeds))
    rows = np.bincount(at, minlength=len(seeds)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (counts @ total) / (counts @ rows)
    means = means[np.isfinite(means)]
    if not len(means):
        return math.nan, math.nan
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def by_parameter(sw: pd.DataFrame, param: str, lang: str,
                 resamples: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """One row per value of ``param`` (or range, for a continuous one): ``label``, ``points``,
    ``replications``, ``loss`` with its 95 % interval by the bootstrap over replication seeds
    (``loss_low``, ``loss_high``; ``resamples`` from :func:`seed_resamples`, drawn here if not
    given) and the mean ``public_npv``, pooled over the other parameters."""
    seeds, counts = resamples if resamples is not None else seed_resamples(sw)
    per_point = sw.groupby("point")[param].first()
    distinct = np.sort(per_point.unique())
    if len(distinct) <= GRID_MOST:
        keys = sw[param]
        order = list(distinct)
        labels = {v: _value(v, lang) for v in order}
    else:
        cut = pd.qcut(per_point, RANGES, duplicates="drop")
        keys = sw["point"].map(cut)
        order = list(cut.cat.categories)
        labels = {c: WORDS[lang]["range"].format(lo=_value(per_point[cut == c].min(), lang),
                                                 hi=_value(per_point[cut == c].max(), lang)) for c in order}
    rows = []
    for key in order:
        g = sw[keys == key]
        losses = g["loss"].dropna()
        lo, hi = seed_interval(g, seeds, counts)
        rows.append({"label": labels[key], "points": g["point"].nunique(), "replications": len(g),
                     "loss": losses.mean() if len(losses) else math.nan, "loss_low": lo, "loss_high": hi,
                     "public_npv": g["public_npv"].mean()})
    return pd.DataFrame(rows)


def grid_parameters(sw: pd.DataFrame, params: list[str]) -> list[str]:
    """The swept parameters with between two and :data:`GRID_MOST` values (the grid's axes), those
    with the fewest first (a lever's few choices before a sampled uncertainty's values)."""
    per_point = sw.groupby("point").first()
    few = [p for p in params if p in per_point and 2 <= per_point[p].nunique() <= GRID_MOST]
    return sorted(few, key=lambda p: per_point[p].nunique())  # the fewest values first: the levers


def grid(sw: pd.DataFrame, a: str, b: str) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """P(investor loss) and the mean public NPV on the grid of ``a`` (rows) by ``b`` (columns), each
    cell pooled over the design points with those values; and the mean replications per cell."""
    loss = sw.pivot_table(index=a, columns=b, values="loss", aggfunc="mean").sort_index().sort_index(axis=1)
    npv = sw.pivot_table(index=a, columns=b, values="public_npv", aggfunc="mean").reindex_like(loss)
    per_cell = float(sw.groupby([a, b]).size().mean())
    return loss, npv, per_cell


def sweep_section(sw: pd.DataFrame, params: list[str], lang: str, currency: str = "NOK",
                  figure_uri: str | None = None) -> str:
    """The report's section across the design points: a table per swept parameter and, given, the
    grid figure (:func:`effekt.experiments.report_figures.sweep_grid`)."""
    from effekt.contracts import in_currency_text

    w = WORDS[lang]
    esc = html.escape
    reps = int(sw.groupby("point").size().max())
    parts = [f"<h2>{esc(w['across'])}</h2>",
             f'<p class="note">{esc(w["across_lead"].format(reps=reps, ranges=RANGES))}</p>']
    if figure_uri:
        a, b = grid_parameters(sw, params)[:2]
        _, _, per_cell = grid(sw, a, b)
        caption = w["grid"].format(a=parameter_label(a, lang, code=""), b=parameter_label(b, lang, code=""))
        parts.append(f'<figure><figcaption>{esc(caption)}</figcaption><img src="{figure_uri}" '
                     f'alt="{esc(caption)}"><p class="note">'
                     f'{esc(w["grid_note"].format(n=formatting.number(per_cell, lang)))}</p></figure>')
    npv_head = in_currency_text(f"{w['npv']} (kr)" if lang == "nb" else f"{w['npv']} (NOK)", currency, lang)
    resamples = seed_resamples(sw)  # one bootstrap for every table: the same resampled seeds
    for p in params:
        if p not in sw:
            continue
        t = by_parameter(sw, p, lang, resamples)
        like = float(np.nanmax(np.abs(t["public_npv"]))) if t["public_npv"].notna().any() else None
        rows = "".join(
            f"<tr><td>{esc(r.label)}</td><td>{r.points}</td>"
            f"<td>{formatting.probability(r.loss, lang)} ({formatting.probability(r.loss_low, lang)}"
            f"\u2013{formatting.probability(r.loss_high, lang)})</td>"
            f"<td>{formatting.money(r.public_npv, lang, unit=False, unicode_minus=True, like=like)}</td></tr>"
            for r in t.itertuples(index=False))
        parts.append(f"<h3>{esc(w['by'].format(p=parameter_label(p, lang, code='')))}</h3>"
                     f"<table><tr><th>{esc(w['value'])}</th><th>{esc(w['points'])}</th>"
                     f"<th>{esc(w['loss'])} (95 %)</th><th>{esc(npv_head)}</th></tr>{rows}</table>")
    return "\n".join(parts)
