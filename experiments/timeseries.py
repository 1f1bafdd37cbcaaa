"""Paths over time, from the record tables: share of each arm in work by month since entry, and
how far through the pathway people got.

The in-work measure itself is the money layer's (:func:`effekt.contracts.in_work_by_month`, the
same measure as the stored ``in_work_*`` KPIs, and with ``ordinary_only`` / ``or_education`` as
the ``in_ordinary_work_*`` / ``in_work_or_education_*`` KPIs); this module runs it over
re-simulated replications and summarises it.

The stored results (``runs/``) hold one row of KPIs per replication, not the spells, so the time
series are computed by simulating the replications again: the seeds are deterministic
(``replication_seed(root, r)``), so the same replications come back exactly.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from effekt.contracts import WEEKS_PER_MONTH, clip_records, in_work_by_month
from effekt.sim import Tables, replication_seed, simulate

__all__ = ["WEEKS_PER_MONTH", "band", "in_work_by_month", "scenario_in_work", "simulate_replications",
           "stage_reach"]


def _frame(t: pa.Table | pd.DataFrame) -> pd.DataFrame:
    return t.to_pandas() if isinstance(t, pa.Table) else t


def stage_reach(events: pa.Table | pd.DataFrame, arm: str = "treatment") -> pd.Series:
    """How many people of ``arm`` reached each stage (entered, queued for or were hired into it)."""
    ev = _frame(events)
    ev = ev[(ev["arm"] == arm) & ev["stage"].notna()
            & ev["event"].isin(["queued", "entered", "hired", "exited"])]
    return ev.groupby("stage")["person_id"].nunique()


def simulate_replications(scenario, replications: int) -> Iterator[tuple[int, Tables]]:
    """The record tables of replications ``0 .. replications-1`` of ``scenario``, as stored runs
    had them (same root seed, same per-replication seeds). With a long run
    (``world.long_run_years``) the world is simulated on to it, as the stored runs were, and the
    tables come back as they stood at the contract's horizon: what the contract and the stored
    KPIs saw."""
    world = scenario.simulated_world
    for r in range(replications):
        tables = simulate(world, replication_seed(scenario.design.seed, r))
        yield r, tables if world is scenario.world else at_horizon(tables, scenario.world.horizon_weeks)


def at_horizon(tables: Tables, horizon_weeks: float) -> Tables:
    """Record tables that run past ``horizon_weeks`` as a simulation ending there records them
    (:func:`effekt.contracts.clip_records`; capacity requests made before it)."""
    persons, spells, events = clip_records(tables.persons, tables.spells, tables.events, horizon_weeks)
    asked = np.asarray(tables.capacity.column("requested").to_numpy(zero_copy_only=False), dtype=float)
    capacity = tables.capacity.filter(pa.array(asked < horizon_weeks))
    return Tables(persons=persons, events=events, spells=spells, capacity=capacity)


def scenario_in_work(scenario, replications: int, *, ordinary_only: bool = False,
                     or_education: bool = False) -> pd.DataFrame:
    """:func:`in_work_by_month` for each replication of ``scenario``, with a ``replication`` column.
    ``ordinary_only``: the series in ordinary work (the programme's own project and subsidised
    jobs left out, as the ``in_ordinary_work_*`` KPIs); ``or_education``: in work or education
    (``in_work_or_education_*``)."""
    parts = []
    for r, t in simulate_replications(scenario, replications):
        parts.append(in_work_by_month(t.persons, t.spells, scenario.world.horizon_weeks,
                                      ordinary_only=ordinary_only, or_education=or_education)
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
