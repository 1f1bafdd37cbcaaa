"""Summaries of a results directory: KPI statistics over replications, in words and tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

LABELS = {
    "in_work_12m_treatment": "In work 12 months after start, programme",
    "in_work_12m_control": "In work 12 months after start, counterfactual",
    "in_work_24m_treatment": "In work 24 months after start, programme",
    "in_work_24m_control": "In work 24 months after start, counterfactual",
    "outcome_payments": "Outcome payments (NOK)",
    "provider_costs": "Provider costs funded by investors (NOK)",
    "investor_irr": "Investor IRR (per year)",
    "investor_multiple": "Investor money multiple",
    "investor_npv": "Investor NPV at the discount rate (NOK)",
    "investor_peak_capital": "Investor peak capital at risk (NOK)",
    "investor_loss": "Probability of investor loss",
    "cap_binding": "Probability a payment cap binds",
}


def load_runs(out: str | Path) -> pd.DataFrame:
    """All replication rows of a results directory (``point`` comes from the partition path)."""
    path = Path(out) / "runs"
    if not path.exists():
        raise FileNotFoundError(f"{out}: no runs/ dataset here (is it an effekt results directory?)")
    runs = pd.read_parquet(path)
    runs["point"] = runs["point"].astype(int)
    return runs.sort_values(["point", "replication"]).reset_index(drop=True)


def kpi_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean, 95 % CI of the mean, P5/P50/P95 and the count of defined values for each KPI."""
    rows = []
    skip = {"point", "replication"}
    for col in runs.columns:
        if col in skip or not pd.api.types.is_numeric_dtype(runs[col]):
            continue
        x = runs[col].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        n = len(x)
        mean = float(x.mean()) if n else np.nan
        half = float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
        p5, p50, p95 = (np.percentile(x, [5, 50, 95]) if n else (np.nan,) * 3)
        rows.append({"kpi": col, "label": LABELS.get(col, col), "n": n, "mean": mean,
                     "ci_low": mean - half, "ci_high": mean + half,
                     "p5": p5, "p50": p50, "p95": p95})
    return pd.DataFrame(rows).set_index("kpi")


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.0f} %"


def _nok(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:,.0f}".replace(",", " ")


def headline(runs: pd.DataFrame, title: str = "") -> list[str]:
    """A short plain-language summary, one line per key number."""
    t = kpi_table(runs)
    n = len(runs)

    def band(k: str, fmt) -> str:
        r = t.loc[k]
        return f"{fmt(r['mean'])} (90 % of runs {fmt(r['p5'])} to {fmt(r['p95'])})"

    lines = [title] if title else []
    lines.append(f"{n} replications")
    for m in (12, 24):
        tr, ct = f"in_work_{m}m_treatment", f"in_work_{m}m_control"
        if tr in t.index and t.loc[tr, "n"] > 0:
            lines.append(f"In work {m} months after start: {band(tr, _pct)} with the programme, "
                         f"{band(ct, _pct)} without it")
    lines.append(f"Outcome payments: {band('outcome_payments', _nok)} NOK; "
                 f"a cap binds in {_pct(t.loc['cap_binding', 'mean'])} of runs")
    irr = t.loc["investor_irr"]
    undefined = n - int(irr["n"])
    lines.append(
        f"Investor IRR: median {_pct(irr['p50'])} a year (90 % of runs {_pct(irr['p5'])} to "
        f"{_pct(irr['p95'])})" + (f"; undefined in {undefined} runs" if undefined else "")
    )
    mult = t.loc["investor_multiple"]
    lines.append(
        f"Investor money multiple: {mult['mean']:.2f} (90 % of runs {mult['p5']:.2f} to "
        f"{mult['p95']:.2f}); probability of loss {_pct(t.loc['investor_loss', 'mean'])}"
    )
    return lines


def render(table: pd.DataFrame, fmt: str) -> str:
    """The KPI table as ``csv``, ``json`` or ``markdown`` (or aligned ``text``)."""
    if fmt == "csv":
        return table.to_csv(float_format="%.6g")
    if fmt == "json":
        return table.reset_index().to_json(orient="records", indent=2)
    cols = ["label", "n", "mean", "ci_low", "ci_high", "p5", "p50", "p95"]
    body = table[cols].copy()
    for c in cols[2:]:
        body[c] = body[c].map(lambda v: f"{v:,.4g}" if np.isfinite(v) else "n/a")
    if fmt == "markdown":
        head = "| kpi | " + " | ".join(cols) + " |"
        sep = "|" + "---|" * (len(cols) + 1)
        rows = [f"| {k} | " + " | ".join(str(r[c]) for c in cols) + " |"
                for k, r in body.iterrows()]
        return "\n".join([head, sep, *rows])
    return body.to_string()
