"""What the page shows of a results directory: the same summaries as ``effekt run`` and the report
(:func:`effekt.experiments.summary.headline`, :mod:`effekt.experiments.answers`,
:func:`effekt.experiments.budgets.budgets_per_year`), as plain JSON data for the page's plots, and
the side-by-side comparison of up to four variants under common random numbers."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from effekt.experiments import answers
from effekt.experiments.budgets import budgets_per_year, load_budgets, party_label
from effekt.experiments.summary import cell, headline, kpi_kind, label, load_kpis, load_runs
from effekt.experiments.timeseries import band, scenario_in_work
from effekt.titles import title as titled

KEY_KPIS: tuple[str, ...] = (
    "in_work_12m_treatment", "in_work_12m_control", "in_work_24m_treatment", "in_work_24m_control",
    "additional_outcomes", "outcome_payments", "commissioner_paid_kommune", "commissioner_paid_state",
    "investor_multiple", "investor_loss", "fiscal_npv_kommune", "fiscal_npv_state", "fiscal_npv_total",
)
"""The key numbers the page shows and compares (those a run's KPIs have, in this order)."""

SERIES_RUNS = 40
"""Replications re-simulated for the in-work series (the stored runs hold KPIs, not spells; the
seeds are deterministic, so these are the stored runs' first replications exactly)."""

MAX_VARIANTS = 4


def _finite(x: float) -> float | None:
    """JSON has no NaN: an undefined number is null (the page writes it as 'ikke definert')."""
    return float(x) if x is not None and math.isfinite(float(x)) else None


def key_numbers(runs: pd.DataFrame, reg, lang: str) -> list[dict[str, Any]]:
    """Each key KPI's label, mean and 90 % range over the replications (5th to 95th percentile)."""
    rows = []
    for kpi in KEY_KPIS:
        if kpi not in runs:
            continue
        x = runs[kpi].astype(float).to_numpy()
        x = x[np.isfinite(x)]
        row = {"kpi": kpi, "label": label(kpi, reg, lang), "kind": kpi_kind(kpi, reg),
               "mean": _finite(x.mean()) if x.size else None,
               "low": _finite(np.percentile(x, 5)) if x.size else None,
               "high": _finite(np.percentile(x, 95)) if x.size else None}
        like = max((abs(v) for v in (row["mean"], row["low"], row["high"]) if v is not None), default=None)
        for key in ("mean", "low", "high"):
            row[f"{key}_text"] = _text(row[key], row["kind"], lang, like)
        rows.append(row)
    return rows


def _text(value: float | None, kind: str | None, lang: str, like: float | None = None) -> str:
    """A number as the command line prints it (:func:`effekt.experiments.summary.cell`)."""
    return cell(math.nan if value is None else value, kind, lang, like)


def _runs(out: Path) -> pd.DataFrame:
    """The stored runs of design point 0, without ``attrs``: the registry is passed explicitly
    here, and pandas deep-copies ``attrs`` on every column access (the headline took 0.37 s of CPU
    with the registry riding along, 0.05 s without, for 300 replications)."""
    runs = load_runs(out)
    runs = runs[runs["point"] == 0].reset_index(drop=True)
    runs.attrs = {}
    return runs


def _series(scenario, runs: int) -> dict[str, Any]:
    """Share in work by month since the start, treatment and counterfactual: mean and 90 % band."""
    by_rep = scenario_in_work(scenario, runs)
    b = band(by_rep)
    out: dict[str, Any] = {}
    for arm, part in b.groupby("arm"):
        part = part.sort_values("month")
        out[str(arm)] = {"month": [int(m) for m in part["month"]],
                         "mean": [_finite(v) for v in part["mean"]],
                         "low": [_finite(v) for v in part["p_low"]],
                         "high": [_finite(v) for v in part["p_high"]]}
    return out


def _budgets(out: Path, runs: pd.DataFrame, reg, lang: str) -> dict[str, Any] | None:
    """Budgets per year (programme minus counterfactual, nominal) of the kommune and the state."""
    try:
        table = budgets_per_year(load_budgets(out, 0), runs, registry=reg)
    except FileNotFoundError:
        return None
    years = [c for c in table.columns if c != "total"]
    parties = [p for p in ("kommune", "state") if p in table.index]
    rows = []
    for p in parties:
        total = _finite(table.loc[p, "total"])
        rows.append({"party": p, "label": party_label(p, lang),
                     "values": [_finite(table.loc[p, y]) for y in years],
                     "total": total, "total_text": _text(total, "money", lang)})
    return {"years": [int(y) + 1 for y in years], "parties": rows}


def summarise(out: str | Path, scenario, lang: str = "nb", series_runs: int = SERIES_RUNS,
              total: int | None = None, title: str | None = None) -> dict[str, Any]:
    """Everything the page shows of results directory ``out`` (run from ``scenario``), in ``lang``.

    While a run is going, ``out`` holds the replications of the tasks finished so far (the store
    renames a task's ``runs`` file into place last, so a reader sees whole tasks only): the numbers
    are then over those ``k`` replications of ``total`` and marked ``provisional``; ``series_runs``
    0 leaves out the in-work series (a re-simulation: done once, at the end). ``title``: the
    variant's title (the page's changes named), else the scenario's own."""
    out = Path(out)
    runs = _runs(out)
    if runs.empty:
        raise FileNotFoundError(f"{out}: no finished replications yet")
    k = len(runs)
    n = max(k, total) if total is not None else k
    reg = load_kpis(out)
    windows = ((scenario.world.horizon_weeks / 52.0, scenario.long_run_weeks / 52.0)
               if scenario.long_run_weeks is not None else None)
    currency = scenario.info.currency or "NOK"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {
        "title": title or titled(scenario.info, lang),
        "replications": k,
        "of": n,
        "provisional": k < n,
        "seed": manifest.get("root_seed"),
        "lines": headline(runs, "", reg, lang=lang, windows=windows),
        "numbers": key_numbers(runs, reg, lang),
        "investor": answers.multiple_sentence(runs, reg, lang),
        "driver": answers.driver_sentence(runs, reg, lang, currency),
        "series": _series(scenario, min(series_runs, k)) if series_runs > 0 else None,
        "budgets": _budgets(out, runs, reg, lang),
        "currency": currency,
    }


def compare(variants: list[tuple[str, str | Path]], lang: str = "nb") -> dict[str, Any]:
    """Up to :data:`MAX_VARIANTS` results directories side by side: each key KPI's mean per variant
    and each variant's difference from the first with its 95 % confidence interval, paired by
    replication. Under common random numbers (the same root seed: replication r of each variant
    draws the same people and the same luck) the paired interval is much narrower than the two
    runs' spreads would suggest; ``crn`` says whether the seeds agree."""
    if not 1 <= len(variants) <= MAX_VARIANTS:
        raise ValueError(f"compare: 1 to {MAX_VARIANTS} variants, got {len(variants)}")
    frames, seeds, regs = [], [], []
    for _, out in variants:
        out = Path(out)
        frames.append(_runs(out).set_index("replication"))
        regs.append(load_kpis(out))
        seeds.append(json.loads((out / "manifest.json").read_text(encoding="utf-8")).get("root_seed"))
    rows = []
    first = frames[0]
    for kpi in KEY_KPIS:
        if not all(kpi in f for f in frames):
            continue
        cells = []
        for f in frames:
            common = first.index.intersection(f.index)
            d = (f.loc[common, kpi].astype(float) - first.loc[common, kpi].astype(float)).to_numpy()
            d = d[np.isfinite(d)]
            half = 1.96 * d.std(ddof=1) / math.sqrt(d.size) if d.size > 1 else math.nan
            c = {"mean": _finite(f[kpi].astype(float).mean()),
                 "diff": _finite(d.mean()) if d.size else None,
                 "diff_low": _finite(d.mean() - half) if d.size else None,
                 "diff_high": _finite(d.mean() + half) if d.size else None}
            kind = kpi_kind(kpi, regs[0])
            for key in list(c):
                c[f"{key}_text"] = _text(c[key], kind, lang)
            cells.append(c)
        rows.append({"kpi": kpi, "label": label(kpi, regs[0], lang), "cells": cells})
    return {"names": [n for n, _ in variants], "rows": rows, "crn": len(set(seeds)) == 1,
            "seeds": seeds}


__all__ = ["KEY_KPIS", "MAX_VARIANTS", "SERIES_RUNS", "compare", "key_numbers", "summarise"]
