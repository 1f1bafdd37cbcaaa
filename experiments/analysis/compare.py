"""``effekt compare A.toml B.toml ...``: scenarios side by side under common random numbers.

Every scenario runs replications ``0 .. R-1`` from the *same* root seed, so replication r meets
the same random draws in each (the same people are drawn when the cohorts match). Differences
between scenarios are then paired per replication, which makes them much sharper than comparing
two independent batches.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from effekt.contracts import KpiRegistry, kpis_for_columns
from effekt.experiments.analysis.common import replicate_many
from effekt.experiments.executors import Executor
from effekt.experiments.scenario import Scenario, load_scenario
from effekt.experiments.summary import describe, share_bounds, with_work_variants
from effekt.specfile import SpecError, said

DEFAULT_KPIS = [
    "in_work_12m_treatment", "in_work_12m_control", "in_work_24m_treatment", "in_work_24m_control",
    "outcome_payments", "provider_costs", "commissioner_payments_npv", "investor_irr",
    "investor_npv", "investor_loss",
]


def names_for(scenarios: list[Scenario], paths: list) -> list[str]:
    """A short distinct name per scenario: its ``scenario.name``, or the file name if shared."""
    names = [sc.info.name for sc in scenarios]
    if len(set(names)) < len(names):
        names = [Path(p).stem if p else sc.info.name for sc, p in zip(scenarios, paths, strict=True)]
    if len(set(names)) < len(names):
        names = [f"{n}#{i + 1}" for i, n in enumerate(names)]
    return names


def compare_runs(runs: dict[str, pd.DataFrame], kpis: list[str] | None = None,
                 registry: KpiRegistry | None = None) -> pd.DataFrame:
    """Long table: scenario, kpi, mean, CI, and the paired difference from the first scenario;
    ``kpis`` (default :data:`DEFAULT_KPIS`, with in ordinary work and in work or education after
    in work where some scenario's differ from it) and every public budget's NPV.

    Statistics as in ``effekt summary`` (:func:`effekt.experiments.summary.describe`): a KPI that
    ``registry`` (the contracts' declared KPIs; default those every contract has) declares an
    indicator, such as ``investor_loss``, is a probability with Wilson's interval inside [0, 1],
    any other KPI a mean with Student's t interval; the paired differences always get a t interval.
    """
    reg = registry if registry is not None else kpis_for_columns(
        dict.fromkeys(c for r in runs.values() for c in r.columns))
    kpis = kpis or with_work_variants(DEFAULT_KPIS, reg, *runs.values())
    first_name = next(iter(runs))
    first = runs[first_name].set_index("replication")
    fiscal = [k.name for k in reg.select(measure="fiscal_npv", party_kind="public")
              if any(k.name in r.columns for r in runs.values())]
    rows = []
    for name, r in runs.items():
        r = r.set_index("replication")
        for k in [*kpis, *fiscal]:
            if k not in r:
                continue
            s = describe(r[k].to_numpy(float), reg.is_indicator(k), share_bounds(k, reg))
            # the paired differences of an indicator are -1, 0 or 1: a mean with a t interval
            d = describe((r[k] - first[k]).to_numpy(float) if k in first else np.array([]))
            rows.append({"scenario": name, "kpi": k, "mean": s["mean"], "ci_low": s["ci_low"],
                         "ci_high": s["ci_high"], "n": s["n"], "p5": s["p5"], "p95": s["p95"],
                         "diff": d["mean"], "diff_low": d["ci_low"], "diff_high": d["ci_high"]})
    return pd.DataFrame(rows)


def parse_variants(specs: list[str]) -> dict[str, list[str]]:
    """``NAME:KEY=VALUE`` options -> {NAME: [KEY=VALUE, ...]} in the order first named."""
    out: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, assignment = spec.partition(":")
        if not sep or not name.strip() or "=" not in assignment:
            raise SpecError("--variant", [said(f"'{spec}': expected NAME:KEY=VALUE, e.g. "
                                               "gloppen:pathway.template=gloppen",
                                               f"'{spec}': ventet NAVN:NØKKEL=VERDI, f.eks. "
                                               "gloppen:pathway.template=gloppen")])
        out.setdefault(name.strip(), []).append(assignment)
    return out


def compare(paths: list, replications: int | None = None, seed: int | None = None,
            assignments: list[str] | None = None,
            variants: dict[str, list[str]] | None = None,
            executor: Executor | None = None) -> pd.DataFrame:
    """Run each scenario file (None: the built-in default) under common random numbers, and
    each named variant of the first file (its own ``KEY=VALUE`` settings on top), all of them on
    ``executor`` (default: this process; the numbers are the same on every executor).

    ``seed`` defaults to the first scenario's root seed; ``replications`` to the smallest
    ``design.replications`` among them.
    """
    common = list(assignments or [])
    scenarios = [load_scenario(p, common) for p in paths]
    names = names_for(scenarios, paths)
    for name, extra in (variants or {}).items():
        if name in names:
            raise SpecError("--variant", [said(f"'{name}': already the name of a scenario",
                                               f"'{name}': er allerede navnet på et scenario")])
        # the common settings already loaded with the first scenario, so a problem here is the
        # variant's: messages name it as such
        scenarios.append(load_scenario(paths[0], [*common, *extra], option=f"--variant {name}:"))
        names.append(name)
    seed = scenarios[0].design.seed if seed is None else seed
    reps = replications or min(sc.design.replications for sc in scenarios)
    runs = dict(zip(names, replicate_many(scenarios, reps, seed, executor), strict=True))
    registry = scenarios[0].kpis.union(*(sc.kpis for sc in scenarios[1:]))
    table = compare_runs(runs, registry=registry)
    table.attrs["kpis"] = registry  # for labels (effekt.experiments.report.render_compare_html)
    return table


WORDS: dict[str, dict[str, str]] = {
    "en": {"head": ("mean [95 % CI]; for the others also Δ = paired difference from '{first}' [95 % CI], "
                    "common random numbers; differences of shares in percentage points (pp)"),
           "kpi": "kpi", "points": "\u00a0pp", "sep": ", "},
    "nb": {"head": ("gjennomsnitt [95 % KI]; for de andre også Δ = parvis forskjell fra «{first}» "
                    "[95 % KI], felles tilfeldige tall; forskjeller i andeler i prosentpoeng"),
           "kpi": "nøkkeltall", "points": "\u00a0%-poeng", "sep": "; "},
}
"""The words of :func:`render` in English and bokmål."""


ANALYSIS_KPIS: dict[str, tuple[str, str, str]] = {
    "commissioner_payments_npv": ("money", "Oppdragsgivernes betalinger, nåverdi (NOK)",
                                  "Commissioners' payments, NPV (NOK)"),
}
"""KPIs the analysis adds to a contract's (:func:`effekt.experiments.analysis.common.replicate`):
(kind, bokmål label, English label)."""


def render(table: pd.DataFrame, lang: str = "en", registry: KpiRegistry | None = None) -> str:
    """KPIs down, scenarios across: ``mean [95 % CI]``, and the paired difference from the first,
    in ``lang``: numbers by each KPI's declared kind (:func:`effekt.experiments.summary.cell`:
    percentages, money rounded to what the model can know, one scale per row), KPIs by their
    code names in English and by their labels (``registry``, default the table's) in bokmål."""
    from effekt.experiments.formatting import points
    from effekt.experiments.summary import NA_CELL, cell, kpi_kind, label

    if lang not in WORDS:
        raise ValueError(f"language '{lang}'; allowed: {', '.join(WORDS)}")
    attached = table.attrs.get("kpis")
    reg = registry if registry is not None else attached if isinstance(attached, KpiRegistry) else None
    scen = list(dict.fromkeys(table["scenario"]))
    first = scen[0]
    stats = ["mean", "ci_low", "ci_high", "diff", "diff_low", "diff_high"]
    largest: dict[str, float] = {}
    for k, df in table.groupby("kpi", sort=False):
        v = df[stats].to_numpy(float)
        largest[str(k)] = float(np.abs(v[np.isfinite(v)]).max()) if np.isfinite(v).any() else 0.0
    cells: dict[str, dict[str, str]] = {}
    for _, r in table.iterrows():
        k = str(r["kpi"])
        kind = ANALYSIS_KPIS[k][0] if k in ANALYSIS_KPIS else kpi_kind(k, reg)

        def fmt(v: float, kind: str | None = kind, k: str = k) -> str:
            return cell(float(v), kind, lang, largest[k])

        def change(v: float, kind: str | None = kind) -> str:
            """A difference: of shares in percentage points (the unit after the interval), else as
            the KPI itself."""
            return points(float(v), lang, 1, na=NA_CELL) if kind in ("share", "indicator", "rate") else fmt(v)

        sep = WORDS[lang]["sep"]  # "; " beside decimal commas
        unit = WORDS[lang]["points"] if kind in ("share", "indicator", "rate") else ""
        text = f"{fmt(r['mean'])} [{fmt(r['ci_low'])}{sep}{fmt(r['ci_high'])}]"
        if r["scenario"] != first:
            text += (f"  Δ {change(r['diff'])} [{change(r['diff_low'])}{sep}{change(r['diff_high'])}]"
                     f"{unit}")
        name = k if lang == "en" else ANALYSIS_KPIS[k][1] if k in ANALYSIS_KPIS else label(k, reg, lang)
        cells.setdefault(name, {})[r["scenario"]] = text
    wide = pd.DataFrame.from_dict(cells, orient="index").reindex(columns=scen).fillna("")
    wide.index.name = WORDS[lang]["kpi"]
    return WORDS[lang]["head"].format(first=first) + "\n" + wide.to_string()
