"""Paths over time, from the record tables: share of each arm in work by month since entry, and
how far through the pathway people got.

The stored results (``runs/``) hold one row of KPIs per replication, not the spells, so the time
series are computed by simulating the replications again: the seeds are deterministic
(``replication_seed(root, r)``), so the same replications come back exactly.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from effekt.sim import Tables, replication_seed, simulate

WEEKS_PER_MONTH = 52.0 / 12.0


def _frame(t: pa.Table | pd.DataFrame) -> pd.DataFrame:
    return t.to_pandas() if isinstance(t, pa.Table) else t


def in_work_by_month(persons: pa.Table | pd.DataFrame, spells: pa.Table | pd.DataFrame,
                     horizon_weeks: float) -> pd.DataFrame:
    """Share of each arm in work ``month`` whole months after each person's entry.

    A person counts at month m if an ``employed`` spell covers the instant
    ``entry_week + m * 52/12`` weeks. Only people still observed then (before the horizon) count
    in the denominator ``n``. Returns columns ``arm``, ``month``, ``share``, ``n``.
    """
    persons, spells = _frame(persons), _frame(spells)
    rows = []
    for arm, people in persons.groupby("arm", sort=True):
        entry = people.set_index("person_id")["entry_week"]
        n_months = int(np.floor((horizon_weeks - entry.min()) / WEEKS_PER_MONTH - 1e-9)) + 1
        t = np.arange(n_months) * WEEKS_PER_MONTH  # time since entry at each month
        observed = (entry.to_numpy()[:, None] + t[None, :]) < horizon_weeks - 1e-9
        work = spells[(spells["arm"] == arm) & (spells["state"] == "employed")]
        e = entry.reindex(work["person_id"]).to_numpy()
        rel_start = work["start"].to_numpy() - e
        rel_end = work["end"].to_numpy() - e
        covers = (rel_start[:, None] <= t[None, :] + 1e-9) & (t[None, :] < rel_end[:, None] - 1e-9)
        # a person's employed spells never overlap, so the count per person is 0 or 1
        per_person = pd.DataFrame(covers, index=work["person_id"].to_numpy()).groupby(level=0).sum()
        in_work = per_person.reindex(entry.index, fill_value=0).to_numpy() > 0
        n = observed.sum(axis=0)
        share = np.where(n > 0, (in_work & observed).sum(axis=0) / np.maximum(n, 1), np.nan)
        rows.append(pd.DataFrame({"arm": arm, "month": np.arange(n_months), "share": share, "n": n}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["arm", "month", "share", "n"])


def stage_reach(events: pa.Table | pd.DataFrame, arm: str = "treatment") -> pd.Series:
    """How many people of ``arm`` reached each stage (entered, queued for or were hired into it)."""
    ev = _frame(events)
    ev = ev[(ev["arm"] == arm) & ev["stage"].notna()
            & ev["event"].isin(["queued", "entered", "hired", "exited"])]
    return ev.groupby("stage")["person_id"].nunique()


def simulate_replications(scenario, replications: int) -> Iterator[tuple[int, Tables]]:
    """The record tables of replications ``0 .. replications-1`` of ``scenario``, as stored runs
    had them (same root seed, same per-replication seeds)."""
    for r in range(replications):
        yield r, simulate(scenario.world, replication_seed(scenario.design.seed, r))


def scenario_in_work(scenario, replications: int) -> pd.DataFrame:
    """:func:`in_work_by_month` for each replication of ``scenario``, with a ``replication`` column."""
    parts = []
    for r, t in simulate_replications(scenario, replications):
        parts.append(in_work_by_month(t.persons, t.spells, scenario.world.horizon_weeks)
                     .assign(replication=r))
    return pd.concat(parts, ignore_index=True)


def band(by_rep: pd.DataFrame, value: str = "share", keys: tuple[str, ...] = ("arm", "month"),
         low: float = 5, high: float = 95) -> pd.DataFrame:
    """Mean, 95 % CI of the mean and the P``low``-P``high`` band over replications."""
    g = by_rep.groupby(list(keys))[value]
    out = g.agg(mean="mean", sd="std", count="count")
    out["p_low"] = g.quantile(low / 100)
    out["p_high"] = g.quantile(high / 100)
    half = 1.96 * out["sd"].fillna(0) / np.sqrt(out["count"].clip(lower=1))
    out["ci_low"], out["ci_high"] = out["mean"] - half, out["mean"] + half
    return out.reset_index()
