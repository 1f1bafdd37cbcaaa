"""Summaries of a results directory: KPI statistics over replications, in words and tables.

For each KPI: the number of defined values, the mean with its 95 % confidence interval, and the
5th, 50th and 95th percentiles over replications. What each KPI is (its label, unit, whether it
is an indicator) is read from its declaration (:class:`effekt.contracts.Kpi`), stored with the
results in the Parquet column metadata (:func:`load_kpis`), never guessed from its name. An
indicator KPI (0 or 1 in every replication by definition, such as ``investor_loss`` or
``cap_binding``) has a probability as its mean, and its interval is Wilson's score interval
(:func:`wilson`, the one implementation in effekt), which stays inside [0, 1] and is honest near 0
and 1. Every other KPI gets Student's t interval, even when its values happen to be 0 and 1
(participants in a cohort of one); for a KPI declared a share (kind ``share``, a fraction in [0, 1],
such as ``paid_not_additional_share``) the interval is cut to [0, 1] when every value lies there,
since a mean of such values cannot lie outside it. For a sweep, every design point gets its own rows, with the
point's parameters beside them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

# the normal and Student's t quantiles as scipy.stats computes them (norm.ppf is ndtri, t.ppf is
# stdtrit: the same numbers), from scipy.special: scipy.stats costs `effekt run` about half a
# second of imports it needs nothing else of (issue 14)
from scipy.special import ndtri, stdtrit

from effekt.contracts import (
    Kpi,
    KpiRegistry,
    Terms,
    common_kpis,
    declared_kpi,
    in_currency_text,
    is_indicator_kpi,
    kpis_for,
    kpis_for_columns,
    work_variant_of,
)
from effekt.experiments import answers
from effekt.experiments.formatting import (
    general,
    interval,
    money,
    money_interval,
    number,
    percent,
    percent_interval,
)
from effekt.experiments.store import read_kpis
from effekt.specfile import SpecError, said, validate


def load_kpis(out: str | Path) -> KpiRegistry:
    """The declared KPIs of a results directory: from the field metadata of its ``runs`` files;
    for results written before effekt stored them, rebuilt from the contract in the manifest;
    failing that, the KPIs every contract declares (:func:`effekt.contracts.common_kpis`)."""
    stored = read_kpis(out)
    if stored is not None and len(stored):
        return stored
    m = Path(out) / "manifest.json"
    try:
        contract = json.loads(m.read_text())["scenario"]["contract"]
        return kpis_for(validate(Terms, contract, str(m)))
    except (OSError, ValueError, KeyError, TypeError, SpecError):
        return common_kpis()


def _registry(runs: pd.DataFrame, registry: KpiRegistry | None) -> KpiRegistry:
    """``registry``, else the one :func:`load_runs` attached to ``runs``, else the declarations
    any contract gives its columns (a table read with plain ``pd.read_parquet``, which drops the
    field metadata: :func:`effekt.contracts.kpis_for_columns`)."""
    if registry is not None:
        return registry
    attached = runs.attrs.get("kpis")
    return attached if isinstance(attached, KpiRegistry) else kpis_for_columns(runs.columns)


def label(kpi: str, registry: KpiRegistry | None = None, lang: str = "en") -> str:
    """The declared label of a KPI column in ``lang`` (the column name itself for a column no
    contract declares)."""
    if registry is not None:
        return registry.label(kpi, lang)
    k = declared_kpi(kpi)
    return k.label(lang) if k is not None else kpi


STATS = ["n", "mean", "ci_low", "ci_high", "p5", "p50", "p95"]


def _same_column(runs: list[pd.DataFrame], a: str, b: str) -> bool:
    """Whether columns ``a`` and ``b`` hold the same values in every one of ``runs`` (NaN equal
    to NaN); a table without ``a`` says nothing."""
    for r in runs:
        if a not in r:
            continue
        if b not in r:
            return False
        x, y = r[a].to_numpy(float), r[b].to_numpy(float)
        if not np.all((np.abs(x - y) <= 1e-12) | (np.isnan(x) & np.isnan(y))):
            return False
    return True


def varies_from_in_work(kpi: Kpi, registry: KpiRegistry, *runs: pd.DataFrame) -> bool:
    """Whether the in-work variant ``kpi`` (in ordinary work, in work or education:
    :func:`effekt.contracts.work_variant_of`) differs from in work at the same horizon in some
    replication of ``runs``, in either arm. Without project, subsidised or education spells the
    variants equal in work, and readers leave them out; any other KPI: True."""
    base = work_variant_of(kpi.measure)
    if base is None:
        return True
    for arm in ("treatment", "control"):
        try:
            mine, theirs = registry.at(kpi.measure, arm=arm).name, registry.at(base, arm=arm).name
        except KeyError:
            continue
        if any(mine in r for r in runs) and not _same_column(list(runs), mine, theirs):
            return True
    return False


def work_share_kpis(registry: KpiRegistry, *runs: pd.DataFrame, arm: str = "treatment") -> list[Kpi]:
    """The share KPIs of ``arm`` a summary shows, in the registry's order, except that each
    in-work variant (in ordinary work, in work or education) follows the in-work KPI of its
    horizon, and is left out where it equals it in every replication of ``runs``
    (:func:`varies_from_in_work`)."""
    shares = registry.select(kind="share", arm=arm)
    out = [k for k in shares if work_variant_of(k.measure) is None]
    for k in shares:
        base = work_variant_of(k.measure)
        if base is None or not varies_from_in_work(k, registry, *runs):
            continue
        after = [i for i, o in enumerate(out) if o.measure == base or work_variant_of(o.measure) == base]
        out.insert(after[-1] + 1 if after else len(out), k)
    return out


def with_work_variants(kpis: list[str], registry: KpiRegistry, *runs: pd.DataFrame) -> list[str]:
    """``kpis`` with, after each in-work KPI (``in_work_12m_treatment`` ...), its variants of the
    same arm (``in_ordinary_work_12m_treatment``, ``in_work_or_education_12m_treatment``) where
    they differ from it in ``runs`` (:func:`varies_from_in_work`)."""
    out: list[str] = []
    for name in kpis:
        out.append(name)
        if name not in registry:
            continue
        k = registry[name]
        for v in registry.select(kind="share", arm=k.arm):
            if (work_variant_of(v.measure) == k.measure and v.name not in kpis
                    and varies_from_in_work(v, registry, *runs)):
                out.append(v.name)
    return out


def load_runs(out: str | Path) -> pd.DataFrame:
    """All replication rows of a results directory (``point`` comes from the partition path).
    The directory's declared KPIs (:func:`load_kpis`) ride along in ``runs.attrs["kpis"]``."""
    path = Path(out) / "runs"
    if not path.exists():
        raise FileNotFoundError(said(f"{out}: no runs/ dataset here (is it an effekt results directory?)",
                                     f"{out}: ingen runs/-data her (er det en resultatmappe fra effekt?)"))
    from effekt.experiments.national.results import refuse_national

    refuse_national(out)  # a national run: its kommuner are no design points of one scenario
    runs = pd.read_parquet(path)
    runs["point"] = runs["point"].astype(int)
    runs = runs.sort_values(["point", "replication"]).reset_index(drop=True)
    runs.attrs["kpis"] = load_kpis(out)
    return runs


def parameters(out: str | Path) -> list[str]:
    """The design parameters of a results directory (columns of ``runs``), from its manifest."""
    m = Path(out) / "manifest.json"
    return list(json.loads(m.read_text()).get("parameters", [])) if m.exists() else []


def wilson(successes: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion: ``successes`` of ``n`` at confidence
    ``level`` (Wilson 1927; Newcombe 1998, method 3). Clipped to [0, 1] against rounding; NaN for
    ``n = 0``. The one implementation: the report and the comparisons call this."""
    if n == 0:
        return np.nan, np.nan
    z = ndtri(0.5 + level / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # exactly 0 (1) when none (all) succeeded: the closed form gives that, rounding does not
    low = 0.0 if successes <= 0 else max(0.0, float(centre - half))
    high = 1.0 if successes >= n else min(1.0, float(centre + half))
    return low, high


def is_indicator(kpi: str, registry: KpiRegistry | None = None) -> bool:
    """Whether KPI ``kpi`` is declared 1 or 0 per replication, so that its mean is a probability
    (in ``registry``, default what any contract declares a column of that name:
    :func:`effekt.contracts.declared_kpi`)."""
    return is_indicator_kpi(kpi, registry)


def describe(x: np.ndarray, indicator: bool = False,
             bounds: tuple[float, float] | None = None) -> dict[str, float]:
    """n, mean, 95 % CI of the mean, P5/P50/P95 of the finite values of ``x``.

    ``indicator``: the values are 0/1 outcomes, so the mean is a probability and its interval
    Wilson's; otherwise Student's t interval (none for a single value). Say so explicitly (see
    :func:`is_indicator`): values that merely happen to be 0 and 1 are no probability.
    ``bounds``: the values cannot lie outside (low, high) (a share: (0, 1)), so neither can their
    mean, and the t interval is cut to them; ignored when a value lies outside after all.
    """
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return {"n": 0, **{k: np.nan for k in STATS[1:]}}
    mean = float(x.mean())
    if indicator:
        if not np.isin(x, (0.0, 1.0)).all():
            raise ValueError(f"an indicator must be 0 or 1 in every replication, got {sorted(set(x))[:5]}")
        lo, hi = wilson(x.sum(), n)
    elif n > 1:
        half = float(stdtrit(n - 1, 0.975) * x.std(ddof=1) / np.sqrt(n))
        lo, hi = mean - half, mean + half
    else:
        lo = hi = np.nan
    if bounds is not None and not indicator and n > 1 and bounds[0] <= x.min() and x.max() <= bounds[1]:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    p5, p50, p95 = np.percentile(x, [5, 50, 95])
    return {"n": n, "mean": mean, "ci_low": lo, "ci_high": hi,
            "p5": float(p5), "p50": float(p50), "p95": float(p95)}


def kpi_table(runs: pd.DataFrame, params: list[str] | None = None, registry: KpiRegistry | None = None,
              lang: str = "en") -> pd.DataFrame:
    """One row per KPI (per design point and KPI when there is more than one point), indexed by
    ``kpi`` (or ``point``, ``kpi``), with the point's parameters, the declared label in ``lang``
    and :data:`STATS`. ``registry``: the KPIs' declarations (default those
    :func:`load_runs` attached, else the KPIs every contract declares)."""
    reg = _registry(runs, registry)
    params = [p for p in (params or []) if p in runs.columns]
    skip = {"point", "replication", *params}
    kpis = [c for c in runs.columns if c not in skip and pd.api.types.is_numeric_dtype(runs[c])
            and not pd.api.types.is_bool_dtype(runs[c])]
    rows = []
    by_point = runs["point"].nunique() > 1 if "point" in runs else False
    groups = runs.groupby("point", sort=True) if by_point else [(None, runs)]
    for point, df in groups:
        head = {"point": int(point)} if by_point else {}
        head.update({p: df[p].iloc[0] for p in params} if by_point else {})
        for col in kpis:
            rows.append({**head, "kpi": col, "label": reg.label(col, lang),
                         **describe(df[col].to_numpy(), reg.is_indicator(col), share_bounds(col, reg))})
    index = ["point", "kpi"] if by_point else ["kpi"]
    return pd.DataFrame(rows).set_index(index)


def share_bounds(kpi: str, registry: KpiRegistry) -> tuple[float, float] | None:
    """(0, 1) for a KPI declared a share (kind ``share``), else None: the bounds of its interval."""
    return (0.0, 1.0) if kpi in registry and registry[kpi].kind == "share" else None


NORWEGIAN_ONLY_PARTIES = ("fylke", "other_kommuner")
"""Public budgets of Norwegian institutions (the fylkeskommune, inntektsutjevning's other kommuner):
the headline leaves one out when it is 0 in every run (another country's rules have no such party)."""


HEADLINE_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "replications": "{n} replications",
        "band": "{mean} (90 % of runs {range})",
        "share": "{label}: {treated}; without the programme {control}",
        "payments": "Outcome payments: {band} NOK; a cap binds in {cap} of runs",
        "paid": ("Primary outcomes paid for: {paid}; additional as the evaluation design measures "
                 "them {measured}"),
        "true": "; truly additional (against the control arm) {true}",
        "not_additional": "; not additional: {share} of those paid for",
        "irr": "Investor IRR: median {p50} a year (90 % of runs {p5} to {p95})",
        "irr_undefined": "; undefined in {n} runs",
        "budgets": ("Public budgets, programme against the counterfactual, NPV with the contract: "
                    "{parts} NOK"),
        "multiple": ("Investor money multiple: {mean} (90 % of runs {p5} to {p95}); probability of "
                     "loss {loss}"),
    },
    "nb": {
        "replications": "{n} replikasjoner",
        "band": "{mean} (90 % av kjøringene {range})",
        "share": "{label}: {treated}; uten tiltaket {control}",
        "payments": "Resultatbetalinger: {band} kr; et tak binder i {cap} av kjøringene",
        "paid": ("Primærresultater det ble betalt for: {paid}; ekstra slik evalueringsdesignet måler "
                 "dem {measured}"),
        "true": "; faktisk ekstra (mot kontrollgruppen) {true}",
        "not_additional": "; ikke ekstra: {share} av dem det ble betalt for",
        "irr": "Investors internrente: median {p50} per år (90 % av kjøringene {p5} til {p95})",
        "irr_undefined": "; udefinert i {n} kjøringer",
        "budgets": ("Offentlige budsjetter, tiltaket mot det kontrafaktiske, nåverdi med kontrakten: "
                    "{parts} kr"),
        "multiple": ("Investors pengemultippel: {mean} (90 % av kjøringene {p5} til {p95}); "
                     "sannsynlighet for tap {loss}"),
    },
}
"""The headline's sentences in bokmål and English (:func:`headline`)."""

_PARTY_WORDS = {"en": {"total": "total", "other_kommuner": "other kommuner"},
                "nb": {"state": "stat", "total": "totalt", "fylke": "fylkeskommune",
                       "other_kommuner": "andre kommuner"}}
"""Public parties named otherwise in a language (a commissioner keeps its own name)."""


def _decimal(x: float, digits: int, lang: str) -> str:
    """``x`` with ``digits`` decimals, a decimal comma in nb
    (:func:`effekt.experiments.formatting.number`)."""
    return number(x, lang, digits)


def _bands(lang: str) -> dict[str, tuple]:
    """How the headline writes a KPI of each kind: (the mean, the 90 % range), money rounded to
    what the model can know with the currency named once by the sentence
    (:mod:`effekt.experiments.formatting`)."""
    return {
        "share": (lambda x, _: percent(x, lang), lambda a, b, _: percent_interval(a, b, lang)),
        "money": (lambda x, m: money(x, lang, unit=False, like=m),
                  lambda a, b, m: money_interval(a, b, lang, unit=False, like=m)),
        "count": (lambda x, _: number(x, lang, 1), lambda a, b, _: interval(a, b, lang, 1)),
    }


def headline(runs: pd.DataFrame, title: str = "", registry: KpiRegistry | None = None,
             lang: str = "en", windows: tuple[float, float] | None = None) -> list[str]:
    """A short plain-language summary, one line per key number (lines whose KPIs are missing are
    left out), in ``lang`` (``en`` or ``nb``, as :func:`kpi_table`'s labels). Which columns are
    which is read from ``registry`` (see :func:`kpi_table`). With a long run, the public budgets
    over the contract period and the long run side by side, and a warning where their signs
    differ (:func:`horizon_lines`; ``windows``: the two windows' lengths in years, for the words)."""
    if lang not in HEADLINE_TEXT:
        raise ValueError(f"language '{lang}'; allowed: {', '.join(HEADLINE_TEXT)}")
    words = HEADLINE_TEXT[lang]
    reg = _registry(runs, registry)
    t = kpi_table(runs.assign(point=0) if "point" in runs else runs, registry=reg)
    n = len(runs)
    has = set(t.index)

    kinds = _bands(lang)

    def band(k: str, kind: str) -> str:
        r = t.loc[k]
        mean, span = kinds[kind]
        values = [abs(float(v)) for v in (r["mean"], r["p5"], r["p95"]) if np.isfinite(v)]
        largest = max(values) if values else None  # one step for the mean and its range
        return words["band"].format(mean=mean(r["mean"], largest), range=span(r["p5"], r["p95"], largest))

    def name(measure: str, **where: str | None) -> str | None:
        """The column of the KPI measuring ``measure`` (None when the runs do not have it)."""
        try:
            col = reg.at(measure, **where).name
        except KeyError:
            return None
        return col if col in has else None

    lines = [title] if title else []
    lines.append(words["replications"].format(n=n))
    for k in work_share_kpis(reg, runs):
        ct = name(k.measure, arm="control")
        if k.name in has and ct is not None and t.loc[k.name, "n"] > 0:
            lines.append(words["share"].format(label=k.label(lang), treated=band(k.name, "share"),
                                               control=band(ct, "share")))
    pay, cap = name("outcome_payments"), name("cap_binding")
    if pay and cap:
        lines.append(words["payments"].format(band=band(pay, "money"), cap=percent(t.loc[cap, "mean"], lang)))
    lines.extend(_paid_beside_true(t, reg, band, has, lang))
    budgets = [k for k in reg.select(measure="fiscal_npv", party_kind="public") if k.name in has
               and not (k.party in NORWEGIAN_ONLY_PARTIES and (runs[k.name] == 0).all())]
    if budgets:
        party = _PARTY_WORDS[lang]
        parts = "; ".join(f"{party.get(k.party or 'total', k.party)} {band(k.name, 'money')}"
                          for k in budgets)
        lines.append(words["budgets"].format(parts=parts))
    lines.extend(horizon_lines(runs, reg, lang, windows))
    mult, loss = name("multiple", party="investor"), name("loss", party="investor")
    if mult and loss:
        m = t.loc[mult]
        lines.append(words["multiple"].format(mean=_decimal(m["mean"], 2, lang),
                                              p5=_decimal(m["p5"], 2, lang), p95=_decimal(m["p95"], 2, lang),
                                              loss=percent(t.loc[loss, "mean"], lang)))
    irr_col = name("irr", party="investor")
    if irr_col:  # after the multiple and P(loss): the IRR where it is defined, and why not elsewhere
        lines.append(answers.irr_sentence(runs[irr_col], answers.irr_reasons_from_kpis(runs, reg), lang))
    driver = answers.driver_sentence(runs, reg, lang)  # in NOK words: converted below
    if driver:  # what drives the result, said once, under the count of replications
        lines.insert(lines.index(words["replications"].format(n=n)) + 1, driver)
    return [in_currency_text(line, reg.currency, lang) for line in lines]  # the scenario's money


def _paid_beside_true(t: pd.DataFrame, reg: KpiRegistry, band, has: set, lang: str = "en") -> list[str]:
    """What the contract paid for beside what was truly additional (the evaluation design's
    measure against the control arm's; see :class:`effekt.contracts.EvaluationDesign`): one line
    in ``lang``, left out when the runs lack these KPIs."""
    words = HEADLINE_TEXT[lang]
    cols = {}
    for measure, arm in (("paid_outcomes", None), ("measured_additional_outcomes", "difference"),
                         ("additional_outcomes", "difference"), ("paid_not_additional_share", None)):
        found = [k.name for k in reg.select(measure=measure, arm=arm) if k.name in has]
        cols[measure] = found[0] if found else None
    if not (cols["paid_outcomes"] and cols["measured_additional_outcomes"]):
        return []

    line = words["paid"].format(paid=band(cols["paid_outcomes"], "count"),
                                measured=band(cols["measured_additional_outcomes"], "count"))
    true = cols["additional_outcomes"]
    if true and t.loc[true, "n"] > 0:
        line += words["true"].format(true=band(true, "count"))
    share = cols["paid_not_additional_share"]
    if share and t.loc[share, "n"] > 0:
        line += words["not_additional"].format(share=percent(t.loc[share, "mean"], lang))
    return [line]


def markdown_table(body: pd.DataFrame, cols: list[str]) -> str:
    """``body``'s columns ``cols`` (already formatted) as a Markdown table."""
    head = "| " + " | ".join(cols) + " |"
    sep = "|" + "---|" * len(cols)
    rows = ["| " + " | ".join(str(r[c]) for c in cols) + " |" for _, r in body.iterrows()]
    return "\n".join([head, sep, *rows])


COLUMN_WORDS: dict[str, dict[str, str]] = {
    "en": {"point": "point", "kpi": "kpi", "label": "label", "design_point": "design point {point}"},
    "nb": {"point": "punkt", "kpi": "kode", "label": "nøkkeltall", "n": "n", "mean": "snitt",
           "ci_low": "KI lav", "ci_high": "KI høy", "sd": "sd", "parameters": "parametere",
           "luck": "tilfeldigheter", "group": "gruppe", "design_point": "designpunkt {point}"},
}
"""The headers of the text and Markdown tables (English keeps the column names of the CSV and
JSON; bokmål names them, and shows the label rather than the KPI's code name)."""

NA_CELL = "\u2013"
"""A table cell with no value (no defined value in any replication)."""


def kpi_kind(kpi: str, registry: KpiRegistry | None = None) -> str | None:
    """The declared kind of KPI column ``kpi`` (``money``, ``share`` ...), None when undeclared."""
    if registry is not None and kpi in registry:
        return registry[kpi].kind
    k = declared_kpi(kpi)
    return k.kind if k is not None else None


def cell(value: float, kind: str | None, lang: str, like: float | None = None) -> str:
    """A statistic of a KPI of ``kind`` for a person to read (:mod:`effekt.experiments.formatting`):
    shares, probabilities and rates as percentages with one decimal, money rounded to what the
    model can know (the label names the currency; ``like``: the amount whose step to round at, the
    largest of a row, so that a row reads in one scale), counts with one decimal, ratios with two;
    an undeclared column with three significant digits. Never e-notation or ``-0``."""
    if kind in ("share", "indicator", "rate"):
        return percent(value, lang, 1, na=NA_CELL)
    if kind == "money":
        return money(value, lang, unit=False, na=NA_CELL, like=like)
    if kind == "count":
        return number(value, lang, 1, na=NA_CELL)
    if kind == "ratio":
        return number(value, lang, 2, na=NA_CELL)
    return general(value, lang, na=NA_CELL)


def parameter_value(value: object, lang: str) -> str:
    """A design point's parameter value as text (numbers in ``lang``'s format)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer | np.floating):
        return str(value)
    x = float(value)
    if not np.isfinite(x):
        return number(x, lang)
    decimals = next((d for d in range(7) if abs(round(x, d) - x) <= 1e-9 * max(1.0, abs(x))), 6)
    return number(x, lang, decimals)  # as written in the scenario: 30 000, 0,25


def readable(flat: pd.DataFrame, stats: list[str], lead: list[str], lang: str,
             registry: KpiRegistry | None = None) -> pd.DataFrame:
    """``flat`` (a KPI table with ``kpi``, ``label``, ``stats`` and the parameters ``lead``) with
    every number formatted for a person in ``lang`` (:func:`cell`, :func:`parameter_value`)."""
    body = flat.copy()
    kinds = [kpi_kind(str(k), registry) for k in body["kpi"]]
    shown = [c for c in stats if c != "n"]
    values = flat[shown].to_numpy(dtype=float)
    finite = np.where(np.isfinite(values), np.abs(values), 0.0)
    largest = finite.max(axis=1) if len(shown) else np.zeros(len(flat))  # one scale per row
    for j, c in enumerate(shown):
        body[c] = [cell(float(v), kind, lang, float(m))
                   for v, kind, m in zip(values[:, j], kinds, largest, strict=True)]
    for c in lead:
        if c not in ("point", "kpi", "group"):
            body[c] = [parameter_value(v, lang) for v in body[c]]
    return body


def headers(cols: list[str], lang: str) -> list[str]:
    """The column headers of a text or Markdown table in ``lang`` (:data:`COLUMN_WORDS`); a
    design parameter by its readable name (:func:`effekt.experiments.parameter_labels.parameter_label`)."""
    from effekt.experiments.parameter_labels import known_parameter, parameter_label

    words = COLUMN_WORDS[lang]
    return [words.get(c, parameter_label(c, lang) if known_parameter(c) else c) for c in cols]


def select_kpis(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The rows of KPI table ``table`` (indexed by ``kpi``, or by point and ``kpi``) for KPIs
    ``names``, in the table's order; a name it does not have is a :class:`SpecError` naming the
    closest ones (``--kpi``)."""
    import difflib

    have = list(dict.fromkeys(table.index.get_level_values("kpi")))
    unknown = [n for n in names if n not in have]
    if unknown:
        problems = []
        for n in unknown:
            close = difflib.get_close_matches(n, have, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; KPIs here: {', '.join(have)}"
            hint_nb = f"; mente du {', '.join(close)}?" if close else f"; KPI-er her: {', '.join(have)}"
            problems.append(said(f"'{n}': no such KPI in these results{hint}",
                                 f"'{n}': ingen slik KPI i disse resultatene{hint_nb}"))
        raise SpecError("--kpi", problems)
    keep = table.index.get_level_values("kpi").isin(names)
    return table[keep]


def render(table: pd.DataFrame, fmt: str, lang: str = "en", registry: KpiRegistry | None = None) -> str:
    """The KPI table as ``csv``, ``json`` (full precision, machine-readable, English column names)
    or, for a person in ``lang``, ``markdown`` or aligned ``text``: numbers by each KPI's declared
    kind (:func:`cell`; ``registry``, default what any contract declares), headers in ``lang``
    (:func:`headers`), and in bokmål the KPIs by their labels only."""
    if fmt == "csv":
        return table.to_csv(float_format="%.6g")
    if fmt == "json":
        return table.reset_index().to_json(orient="records", indent=2)
    if lang not in COLUMN_WORDS:
        raise ValueError(f"language '{lang}'; allowed: {', '.join(COLUMN_WORDS)}")
    flat = table.reset_index()
    lead = [c for c in flat.columns if c not in ("label", *STATS)]
    body = readable(flat, STATS, lead, lang, registry)
    if lang == "nb":  # the label says what the KPI is; the code name is for --lang en, csv and json
        lead = [c for c in lead if c != "kpi"]
    cols = [*lead, "label", *STATS]
    return _layout(body, cols, fmt, lang)


def _layout(body: pd.DataFrame, cols: list[str], fmt: str, lang: str, by: str = "point",
            head: str | None = None) -> str:
    """``body``'s columns ``cols`` as a Markdown table, or as text: one aligned table, or with a
    column ``by`` (design points, policies) one block per value headed by its parameters."""
    if fmt == "markdown":
        return markdown_table(body[cols].set_axis(headers(cols, lang), axis=1), headers(cols, lang))
    body = body.copy()
    if "label" in body:  # left-aligned: labels are read, numbers compared
        width = int(body["label"].astype(str).str.len().max()) if len(body) else 0
        body["label"] = body["label"].astype(str).str.ljust(width)
    if by not in body:
        return body[cols].set_axis(headers(cols, lang), axis=1).to_string(index=False)
    lead = [c for c in cols if c not in (by, "kpi", "label", *STATS, "sd", "parameters", "luck")]
    inner = [c for c in cols if c != by and c not in lead]
    blocks = []
    for value, df in body.groupby(by, sort=True):
        names = headers(lead, lang)
        where = ", ".join(f"{n} = {df[c].iloc[0]}" for n, c in zip(names, lead, strict=True))
        title = (head or COLUMN_WORDS[lang]["design_point"]).format(point=value)
        blocks.append(title + (f": {where}" if where else ""))
        blocks.append(df[inner].set_axis(headers(inner, lang), axis=1).to_string(index=False))
        blocks.append("")
    return "\n".join(blocks)


# -- the two windows: the contract period and the long run ------------------------------------

HORIZON_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "windows": ("Public budgets, NPV with the contract, over the contract period{contract} and in "
                    "the long run{long}: {parts} NOK"),
        "years": " ({years} years)",
        "pair": "{party} {contract} / {long}",
        "warning": ("Warning: the answer depends on the horizon: {parts}. Judge the programme on both "
                    "windows, not on the contract period alone."),
        "loses_then_gains": "{who} {lose} over the contract period but {gain} in the long run",
        "gains_then_loses": "{who} {gain} over the contract period but {lose} in the long run",
        "and": " and ",
        "title": "Public budgets over two windows (NPV with the contract, NOK, mean over replications)",
        "party": "party", "contract": "contract period{years}", "long_run": "long run{years}",
        "note": ("The contract and every other number are the contract period's. The long run carries "
                 "the same people on (job loss and re-entry, benefits ending by their rules, retirement "
                 "at 67), without wage growth with experience."),
    },
    "nb": {
        "windows": ("Offentlige budsjetter, nåverdi med kontrakten, i kontraktsperioden{contract} og på "
                    "lang sikt{long}: {parts} kr"),
        "years": " ({years} år)",
        "pair": "{party} {contract} / {long}",
        "warning": ("Advarsel: svaret avhenger av tidshorisonten: {parts}. Vurder tiltaket over begge "
                    "periodene, ikke bare kontraktsperioden."),
        "loses_then_gains": "{who} taper i kontraktsperioden, men tjener på lang sikt",
        "gains_then_loses": "{who} tjener i kontraktsperioden, men taper på lang sikt",
        "and": " og ",
        "title": ("Offentlige budsjetter over to perioder (nåverdi med kontrakten, kr, gjennomsnitt over "
                  "replikasjonene)"),
        "party": "part", "contract": "kontraktsperioden{years}", "long_run": "lang sikt{years}",
        "note": ("Kontrakten og alle andre tall gjelder kontraktsperioden. På lang sikt følges de samme "
                 "personene videre (tap av jobb og ny jobb, ytelser som opphører etter reglene, "
                 "pensjonering ved 67), uten lønnsvekst med erfaring."),
    },
}
"""The words of :func:`horizon_lines` in bokmål and English."""

_HORIZON_PARTIES: dict[str, dict[str, tuple[str, bool]]] = {
    # how a sentence names a party, and whether the name is plural (for the English verb)
    "en": {"kommune": ("the kommune", False), "state": ("the state", False), "fylke": ("the fylke", False),
           "other_kommuner": ("the other kommuner", True), "total": ("the public budgets in all", True)},
    "nb": {"kommune": ("kommunen", False), "state": ("staten", False), "fylke": ("fylkeskommunen", False),
           "other_kommuner": ("andre kommuner", True), "total": ("offentlige budsjetter i alt", True)},
}
"""Parties as the sentences of :func:`horizon_lines` name them (a commissioner by its own name)."""


def horizon_table(runs: pd.DataFrame, registry: KpiRegistry | None = None) -> pd.DataFrame:
    """The public budgets' NPV (with the contract, against the counterfactual; mean over ``runs``)
    over the contract period (``fiscal_npv_<party>``) and the long run
    (``fiscal_npv_long_run_<party>``), one row per public party that has both (``total`` for all
    of them, last), in the order the KPIs are declared: columns ``contract``, ``long_run`` and
    ``signs_differ`` (one window gains and the other loses, each by at least a krone). Empty
    when the runs have no long run (or no control arm: the means are NaN)."""
    reg = _registry(runs, registry)
    rows: dict[str, dict[str, float | bool]] = {}
    for k in reg.select(measure="fiscal_npv_long_run", party_kind="public"):
        try:
            short = reg.at("fiscal_npv", arm="difference", party=k.party).name
        except KeyError:
            continue
        if k.name not in runs or short not in runs:
            continue
        a, b = float(runs[short].mean()), float(runs[k.name].mean())
        if not (np.isfinite(a) and np.isfinite(b)):
            continue
        differ = bool(round(a) * round(b) < 0)
        rows[k.party or "total"] = {"contract": a, "long_run": b, "signs_differ": differ}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["contract", "long_run", "signs_differ"])
    table.index.name = "party"
    return table


def _who(parties: list[str], lang: str) -> tuple[str, bool]:
    """The parties of a sentence joined ("the kommune and the state"), and whether they are plural."""
    names = [_HORIZON_PARTIES[lang].get(p, (p, False)) for p in parties]
    text = HORIZON_TEXT[lang]["and"].join(n for n, _ in names)
    return text, len(names) > 1 or names[0][1]


def window_years(years: float | None, lang: str) -> str:
    """`` (20 years)`` / `` (20 år)`` for a window's length, empty when it is not known."""
    if years is None or not np.isfinite(years):
        return ""
    return HORIZON_TEXT[lang]["years"].format(years=_decimal(years, 0 if float(years).is_integer() else 1,
                                                             lang))


def horizon_party(party: str, lang: str) -> str:
    """How the sentences and the table of the two windows name ``party`` (``total``: all)."""
    return _HORIZON_PARTIES[lang].get(party, (party, False))[0]


def horizon_lines(runs: pd.DataFrame, registry: KpiRegistry | None = None, lang: str = "en",
                  windows: tuple[float, float] | None = None) -> list[str]:
    """The public budgets over the contract period and the long run side by side, one line (each
    party "contract / long run"), and, when a party's two signs differ, a warning naming the
    parties ("the public budgets in all lose over the contract period but gain in the long run"),
    in ``lang`` (``en`` or ``nb``). ``windows``: the two windows' lengths in years, for the words.
    No lines without a long run (:func:`horizon_table` empty)."""
    if lang not in HORIZON_TEXT:
        raise ValueError(f"language '{lang}'; allowed: {', '.join(HORIZON_TEXT)}")
    words = HORIZON_TEXT[lang]
    table = horizon_table(runs, registry)
    shown = table[(table["contract"].round() != 0) | (table["long_run"].round() != 0)]
    if shown.empty:
        return []

    contract, long = windows if windows is not None else (None, None)
    names = {p: horizon_party(p, lang) for p in shown.index}
    pairs = "; ".join(words["pair"].format(party=names[p], contract=money(r["contract"], lang, unit=False),
                                           long=money(r["long_run"], lang, unit=False))
                      for p, r in shown.iterrows())
    lines = [words["windows"].format(contract=window_years(contract, lang),
                                     long=window_years(long, lang), parts=pairs)]
    differ = shown[shown["signs_differ"]]
    if len(differ):
        parts = []
        for key, losing_first in (("loses_then_gains", True), ("gains_then_loses", False)):
            mine = [p for p, r in differ.iterrows() if (r["contract"] < 0) == losing_first]
            if mine:
                who, plural = _who(mine, lang)
                parts.append(words[key].format(who=who, lose="lose" if plural else "loses",
                                               gain="gain" if plural else "gains"))
        lines.append(words["warning"].format(parts="; ".join(parts)))
    return [in_currency_text(line, _registry(runs, registry).currency, lang) for line in lines]


def windows_of(out: str | Path) -> tuple[float, float] | None:
    """The two windows of a results directory in years (the contract period, the long run), from
    its manifest; None without a long run (or a manifest)."""
    m = Path(out) / "manifest.json"
    try:
        world = json.loads(m.read_text())["scenario"]["world"]
        long = world.get("long_run_years")
        return (float(world["horizon_weeks"]) / 52.0, float(long)) if long is not None else None
    except (OSError, ValueError, KeyError, TypeError):
        return None
