"""National, fylke and kommune totals of a national run: budgets and KPIs summed over kommuner.

Each kommune's replication r is an independent draw (its own seed), so the national value of an
additive KPI in replication r is the sum of the kommuner's values in their replication r, and its
spread over replications is the spread of the nation's total (not the sum of the kommuner's
spreads). Only additive KPIs are summed: counts and money totals (kind ``count`` or ``money`` and no
"per" in the unit); shares, rates, ratios and per-person amounts are not totals and are left out.

The files are read one shard at a time and only the columns needed, so the summary's memory is
that of the per-kommune sums, not of the stored tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from effekt.contracts import KpiRegistry
from effekt.experiments.store import read_kpis
from effekt.specfile import said

HEADLINE = ("participants", "additional_outcomes", "outcome_payments", "commissioner_paid",
            "fiscal_npv_kommune", "fiscal_npv_state", "fiscal_npv_total")
"""The KPIs of the printed summary (those the contract declares)."""

KEYS = ("kommune", "kommune_name", "fylke", "size", "replication")

LEVELS = {"nb": {"national": "Hele landet", "fylke": "Fylke", "kommune": "Kommune"},
          "en": {"national": "Norway", "fylke": "Fylke", "kommune": "Kommune"}}


NOT_ADDITIVE = frozenset({"peak_capital", "loss_amount"})
"""Money KPIs that are no totals over kommuner: each contract's peak capital falls in its own month
(the sum of peaks is not the peak of the sum), and a loss amount leaves out the other contracts'
gains (the sum of losses is not the investors' loss over all contracts)."""


def additive(registry: KpiRegistry) -> list[str]:
    """The KPIs that add up over kommuner: counts and money totals (not per person, per outcome,
    nor peaks and losses: :data:`NOT_ADDITIVE`)."""
    return [name for name in registry
            if registry[name].kind in ("count", "money") and "per " not in registry[name].unit
            and registry[name].measure not in NOT_ADDITIVE]


def read_runs(out: str | Path, kpis: Sequence[str] | None = None) -> pd.DataFrame:
    """The ``runs`` rows of a national results directory: the kommune keys and ``kpis`` (default:
    every additive KPI), one shard file at a time. The KPIs' declarations are
    :func:`effekt.experiments.store.read_kpis` (not kept in the frame's ``attrs``, which pandas
    copies deeply on every operation)."""
    out = Path(out)
    registry = read_kpis(out)
    if registry is None:
        raise FileNotFoundError(said(f"{out}: no runs files with KPI declarations (is it a national results "
                                     "directory?)",
                                     f"{out}: ingen runs-filer med KPI-deklarasjoner (er det en nasjonal "
                                     "resultatmappe?)"))
    wanted = list(kpis) if kpis is not None else additive(registry)
    frames = []
    for path in sorted((out / "runs").glob("point=*/*.parquet")):
        names = pq.read_schema(path).names
        missing = [c for c in KEYS if c not in names]
        if missing:
            raise ValueError(said(f"{path}: no {', '.join(missing)} column: not a national run's file",
                                  f"{path}: ingen kolonne {', '.join(missing)}: ikke en fil fra en nasjonal "
                                  "kjøring"))
        frames.append(pq.read_table(path, columns=[*KEYS, *(k for k in wanted if k in names)]).to_pandas())
    if not frames:
        raise FileNotFoundError(said(f"{out}: no runs files yet", f"{out}: ingen runs-filer ennå"))
    return pd.concat(frames, ignore_index=True).sort_values(["kommune", "replication"], ignore_index=True)


def per_replication(runs: pd.DataFrame, level: str, kpis: Sequence[str]) -> pd.DataFrame:
    """Each unit's total of ``kpis`` in each replication: ``level`` is ``national`` (one unit),
    ``fylke`` or ``kommune``; columns ``code``, ``replication`` and the KPIs."""
    df = runs.assign(code="NO") if level == "national" else runs.assign(
        code=runs["fylke" if level == "fylke" else "kommune"])
    return df.groupby(["code", "replication"], sort=True)[list(kpis)].sum(min_count=1).reset_index()


def kpi_summary(runs: pd.DataFrame, level: str, kpis: Sequence[str],
                fylke_names: dict[str, str] | None = None) -> pd.DataFrame:
    """Per unit of ``level``: kommuner, replications, and for each KPI the mean of its total over
    replications with the 5th and 95th percentiles (``<kpi>``, ``<kpi>_p5``, ``<kpi>_p95``)."""
    kpis = [k for k in kpis if k in runs.columns]
    totals = per_replication(runs, level, kpis)
    units = runs.assign(code="NO" if level == "national" else runs[
        "fylke" if level == "fylke" else "kommune"])
    rows = []
    for code, group in totals.groupby("code", sort=True):
        members = units[units["code"] == code]
        row = {"level": level, "code": code, "kommuner": members["kommune"].nunique(),
               "replications": int(group["replication"].nunique())}
        if level == "kommune":
            row["name"] = members["kommune_name"].iloc[0]
        elif level == "fylke":
            row["name"] = (fylke_names or {}).get(code, code)
        for k in kpis:
            x = group[k].to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            row[k] = float(x.mean()) if x.size else np.nan
            row[f"{k}_p5"], row[f"{k}_p95"] = ((float(np.percentile(x, 5)), float(np.percentile(x, 95)))
                                               if x.size else (np.nan, np.nan))
        rows.append(row)
    return pd.DataFrame(rows)


def budget_summary(out: str | Path, level: str, arm: str = "difference") -> pd.DataFrame:
    """Every party's discounted budget (``amount_discounted`` summed over years), mean per
    replication, per unit of ``level`` (``national``, ``fylke`` or ``kommune``): columns ``code``,
    ``party``, ``amount_discounted``, ``amount_nominal``. Read one shard file at a time."""
    out = Path(out)
    sums: dict[tuple[str, str], np.ndarray] = {}
    reps: dict[str, set[int]] = {}
    for path in sorted((out / "budgets").glob("point=*/*.parquet")):
        t = pq.read_table(path, columns=["kommune", "replication", "arm", "party", "amount_nominal",
                                         "amount_discounted"])
        t = t.filter(pc.equal(t["arm"], arm))
        if t.num_rows == 0:
            continue
        df = t.to_pandas()
        kommune = str(df["kommune"].iloc[0])
        reps.setdefault(kommune, set()).update(int(r) for r in df["replication"].unique())
        g = df.groupby("party")[["amount_discounted", "amount_nominal"]].sum()
        for party, row in g.iterrows():
            key = (kommune, str(party))
            sums[key] = sums.get(key, np.zeros(2)) + row.to_numpy(dtype=float)
    if not sums:
        return pd.DataFrame(columns=["code", "party", "amount_discounted", "amount_nominal"])
    rows = [{"kommune": k, "party": p, "amount_discounted": v[0] / len(reps[k]),
             "amount_nominal": v[1] / len(reps[k])} for (k, p), v in sums.items()]
    per_kommune = pd.DataFrame(rows)
    if level == "kommune":
        per_kommune["code"] = per_kommune["kommune"]
    elif level == "fylke":
        per_kommune["code"] = per_kommune["kommune"].str[:2]
    else:
        per_kommune["code"] = "NO"
    return (per_kommune.groupby(["code", "party"], sort=True)[["amount_discounted", "amount_nominal"]]
            .sum().reset_index())


__all__ = ["HEADLINE", "additive", "budget_summary", "kpi_summary", "per_replication", "read_runs"]
