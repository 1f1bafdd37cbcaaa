"""Summaries of a results directory: KPI statistics over replications, in words and tables.

For each KPI: the number of defined values, the mean with its 95 % confidence interval, and the
5th, 50th and 95th percentiles over replications. An indicator KPI (0 or 1 in every replication
by definition, such as ``investor_loss`` or ``cap_binding``; the contracts layer names them in
:data:`contracts.INDICATOR_KPIS`) has a probability as its mean, and its interval is Wilson's score
interval, which stays inside [0, 1] and is honest near 0 and 1. Every other KPI gets Student's t
interval, even when its values happen to be 0 and 1 (participants in a cohort of one). For a sweep,
every design point gets its own rows, with the point's parameters beside them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from effekt.contracts import is_indicator_kpi

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
    "control_missing": "Probability the RCT put nobody in control",
    "investor_commitment_exceeded": "Probability costs exceed the investors' commitment",
    "participants": "People in the programme",
    "controls": "People in the counterfactual arm",
    "recycled_payments": "Outcome payments recycled into delivery (NOK)",
    "investor_invested": "Investor capital put in (NOK)",
    "investor_received": "Investor money back (NOK)",
    "investor_net": "Investor net gain (NOK)",
    "investor_loss_amount": "Investor loss when there is one (NOK)",
    "investor_peak_capital_share_of_cap": "Peak capital as a share of the contract cap",
    "commissioner_paid": "Commissioners paid in all (NOK)",
    "cost_per_outcome": "Commissioners' cost per primary outcome (NOK)",
    "additional_outcomes": "Additional primary outcomes over the counterfactual",
    "cost_per_additional_outcome": "Commissioners' cost per additional outcome (NOK)",
    "fee_for_service_cost": "Same service bought fee-for-service (NOK)",
    "premium_over_fee_for_service": "Paid above fee-for-service (NOK)",
    "fiscal_npv_kommune": "Kommune budget, NPV vs counterfactual (NOK)",
    "fiscal_npv_state": "State budget, NPV vs counterfactual (NOK)",
    "fiscal_npv_total": "Public budgets in all, NPV vs counterfactual (NOK)",
    "fiscal_net_total": "Public budgets in all, undiscounted (NOK)",
    "benefits_saved_g": "Benefits saved (multiples of G)",
    "earnings_gain": "Participants' extra gross earnings (NOK)",
    "earnings_gain_per_person": "Extra gross earnings per participant (NOK)",
}


def label(kpi: str) -> str:
    """A readable name for a KPI column (the column name itself when there is none)."""
    if kpi in LABELS:
        return LABELS[kpi]
    for prefix, text in (("commissioner_paid_", "Paid by {}"),
                         ("fiscal_net_", "Budget of the {}, undiscounted"),
                         ("fiscal_", "Public budgets: {}, undiscounted"),
                         ("outcomes_", "Outcomes: {}")):
        if kpi.startswith(prefix):
            return text.format(kpi.removeprefix(prefix).replace("_", " ")) + (
                " (NOK)" if prefix != "outcomes_" else "")
    return kpi
STATS = ["n", "mean", "ci_low", "ci_high", "p5", "p50", "p95"]


def load_runs(out: str | Path) -> pd.DataFrame:
    """All replication rows of a results directory (``point`` comes from the partition path)."""
    path = Path(out) / "runs"
    if not path.exists():
        raise FileNotFoundError(f"{out}: no runs/ dataset here (is it an effekt results directory?)")
    runs = pd.read_parquet(path)
    runs["point"] = runs["point"].astype(int)
    return runs.sort_values(["point", "replication"]).reset_index(drop=True)


def parameters(out: str | Path) -> list[str]:
    """The design parameters of a results directory (columns of ``runs``), from its manifest."""
    m = Path(out) / "manifest.json"
    return list(json.loads(m.read_text()).get("parameters", [])) if m.exists() else []


def wilson(successes: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion."""
    if n == 0:
        return np.nan, np.nan
    z = stats.norm.ppf(0.5 + level / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def is_indicator(kpi: str) -> bool:
    """KPIs that are 1 or 0 per replication by definition, so that their mean is a probability
    (named by the contracts layer, :func:`contracts.is_indicator_kpi`)."""
    return is_indicator_kpi(kpi)


def describe(x: np.ndarray, indicator: bool = False) -> dict[str, float]:
    """n, mean, 95 % CI of the mean, P5/P50/P95 of the finite values of ``x``.

    ``indicator``: the values are 0/1 outcomes, so the mean is a probability and its interval
    Wilson's; otherwise Student's t interval (none for a single value). Say so explicitly (see
    :func:`is_indicator`): values that merely happen to be 0 and 1 are no probability.
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
        half = float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n))
        lo, hi = mean - half, mean + half
    else:
        lo = hi = np.nan
    p5, p50, p95 = np.percentile(x, [5, 50, 95])
    return {"n": n, "mean": mean, "ci_low": lo, "ci_high": hi,
            "p5": float(p5), "p50": float(p50), "p95": float(p95)}


def kpi_table(runs: pd.DataFrame, params: list[str] | None = None) -> pd.DataFrame:
    """One row per KPI (per design point and KPI when there is more than one point), indexed by
    ``kpi`` (or ``point``, ``kpi``), with the point's parameters, a label and :data:`STATS`."""
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
            rows.append({**head, "kpi": col, "label": label(col),
                         **describe(df[col].to_numpy(), is_indicator(col))})
    index = ["point", "kpi"] if by_point else ["kpi"]
    return pd.DataFrame(rows).set_index(index)


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.0f} %"


def _nok(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:,.0f}".replace(",", " ")


def headline(runs: pd.DataFrame, title: str = "") -> list[str]:
    """A short plain-language summary, one line per key number (lines whose KPIs are missing are
    left out)."""
    t = kpi_table(runs.assign(point=0) if "point" in runs else runs)
    n = len(runs)
    has = set(t.index)

    def band(k: str, fmt) -> str:
        r = t.loc[k]
        return f"{fmt(r['mean'])} (90 % of runs {fmt(r['p5'])} to {fmt(r['p95'])})"

    lines = [title] if title else []
    lines.append(f"{n} replications")
    for m in (12, 24):
        tr, ct = f"in_work_{m}m_treatment", f"in_work_{m}m_control"
        if {tr, ct} <= has and t.loc[tr, "n"] > 0:
            lines.append(f"In work {m} months after start: {band(tr, _pct)} with the programme, "
                         f"{band(ct, _pct)} without it")
    if {"outcome_payments", "cap_binding"} <= has:
        lines.append(f"Outcome payments: {band('outcome_payments', _nok)} NOK; "
                     f"a cap binds in {_pct(t.loc['cap_binding', 'mean'])} of runs")
    if "investor_irr" in has:
        irr = t.loc["investor_irr"]
        undefined = n - int(irr["n"])
        lines.append(
            f"Investor IRR: median {_pct(irr['p50'])} a year (90 % of runs {_pct(irr['p5'])} to "
            f"{_pct(irr['p95'])})" + (f"; undefined in {undefined} runs" if undefined else "")
        )
    parties = [k for k in ("fiscal_npv_kommune", "fiscal_npv_state", "fiscal_npv_total") if k in has]
    if parties:
        names = {"fiscal_npv_kommune": "kommune", "fiscal_npv_state": "state", "fiscal_npv_total": "total"}
        lines.append("Public budgets, programme against the counterfactual, NPV with the contract: "
                     + "; ".join(f"{names[k]} {band(k, _nok)}" for k in parties) + " NOK")
    if {"investor_multiple", "investor_loss"} <= has:
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
    flat = table.reset_index()
    lead = [c for c in flat.columns if c not in ("label", *STATS)]
    cols = [*lead, "label", *STATS]
    body = flat[cols].copy()
    for c in STATS[1:]:
        body[c] = body[c].map(lambda v: f"{v:,.4g}" if np.isfinite(v) else "n/a")
    if fmt == "markdown":
        head = "| " + " | ".join(cols) + " |"
        sep = "|" + "---|" * len(cols)
        rows = ["| " + " | ".join(str(r[c]) for c in cols) + " |" for _, r in body.iterrows()]
        return "\n".join([head, sep, *rows])
    if "point" not in body:
        return body.to_string(index=False)
    blocks = []
    for point, df in body.groupby("point", sort=True):
        where = ", ".join(f"{c} = {df[c].iloc[0]}" for c in lead if c not in ("point", "kpi"))
        blocks.append(f"design point {point}" + (f": {where}" if where else ""))
        blocks.append(df[["kpi", "label", *STATS]].to_string(index=False))
        blocks.append("")
    return "\n".join(blocks)
