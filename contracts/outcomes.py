"""Outcome metrics measured per person from the ``spells`` and ``persons`` tables of ``sim``.

These functions read only the record schemas (see ``sim.records``), so they work the same on
simulated and on real observed data in that shape.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.terms import JobStart, Outcome, SustainedEmployment

OUTCOME_COLUMNS = ["arm", "person_id", "outcome", "week"]


def employment_runs(spells: pd.DataFrame, min_fte: float = 0.0) -> pd.DataFrame:
    """Unbroken periods in work: consecutive employed spells (fte >= ``min_fte``) joined.

    Returns one row per run with ``arm``, ``person_id``, ``start``, ``end``.
    """
    e = spells[(spells["state"] == "employed") & (spells["fte"] >= min_fte)]
    e = e.sort_values(["arm", "person_id", "start"], kind="stable")
    if e.empty:
        return pd.DataFrame(columns=["arm", "person_id", "start", "end"])
    same_person = (e["arm"].values[1:] == e["arm"].values[:-1]) & (
        e["person_id"].values[1:] == e["person_id"].values[:-1]
    )
    joined = same_person & (e["start"].values[1:] <= e["end"].values[:-1] + 1e-9)
    run = np.concatenate([[0], np.cumsum(~joined)])
    return (
        e.assign(run=run)
        .groupby("run", sort=False)
        .agg(arm=("arm", "first"), person_id=("person_id", "first"),
             start=("start", "min"), end=("end", "max"))
        .reset_index(drop=True)
    )


def _with_entry(df: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    return df.merge(persons[["arm", "person_id", "entry_week"]], on=["arm", "person_id"])


def _job_start(o: JobStart, persons: pd.DataFrame, spells: pd.DataFrame) -> pd.DataFrame:
    runs = _with_entry(employment_runs(spells, o.min_fte), persons)
    ok = runs[(runs["start"] >= runs["entry_week"])
              & (runs["start"] <= runs["entry_week"] + o.window_weeks)]
    first = ok.groupby(["arm", "person_id"], as_index=False)["start"].min()
    return first.rename(columns={"start": "week"})


def _sustained(o: SustainedEmployment, persons: pd.DataFrame, spells: pd.DataFrame) -> pd.DataFrame:
    runs = _with_entry(employment_runs(spells, o.min_fte), persons)
    begin = np.maximum(runs["start"], runs["entry_week"])
    reached = begin + o.weeks
    ok = runs.assign(week=reached)[
        (reached <= runs["end"] + 1e-9) & (reached <= runs["entry_week"] + o.window_weeks)
    ]
    return ok.groupby(["arm", "person_id"], as_index=False)["week"].min()


def measure_outcomes(
    outcomes: dict[str, Outcome], persons: pd.DataFrame, spells: pd.DataFrame
) -> pd.DataFrame:
    """Every outcome achieved, one row per (arm, person, outcome) with the week it was reached."""
    parts = []
    for name, o in outcomes.items():
        if isinstance(o, JobStart):
            got = _job_start(o, persons, spells)
        else:
            got = _sustained(o, persons, spells)
        parts.append(got.assign(outcome=name))
    if not parts:
        return pd.DataFrame(columns=OUTCOME_COLUMNS)
    out = pd.concat(parts, ignore_index=True)[OUTCOME_COLUMNS]
    return out.sort_values(["week", "person_id", "outcome"], kind="stable").reset_index(drop=True)


def in_work_share(
    persons: pd.DataFrame, spells: pd.DataFrame, weeks_after_entry: float, horizon: float
) -> dict[str, float]:
    """Share of each arm's people in work ``weeks_after_entry`` weeks after their entry.

    People whose measuring point lies at or beyond the horizon are not counted; an arm with no one
    measurable gets NaN.
    """
    at = persons[["arm", "person_id"]].assign(t=persons["entry_week"] + weeks_after_entry)
    at = at[at["t"] < horizon]
    emp = spells[spells["state"] == "employed"].merge(at, on=["arm", "person_id"])
    working = emp[(emp["start"] <= emp["t"]) & (emp["t"] < emp["end"])]
    n_work = working.drop_duplicates(["arm", "person_id"]).groupby("arm").size()
    n_all = at.groupby("arm").size()
    return {
        arm: float(n_work.get(arm, 0) / n_all[arm]) if n_all.get(arm, 0) else float("nan")
        for arm in sorted(persons["arm"].unique())
    }
