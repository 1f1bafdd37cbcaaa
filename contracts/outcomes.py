"""Outcome metrics measured per person from the ``persons``, ``spells`` and ``events`` tables of ``sim``.

These functions read only the record schemas (see ``sim.records``), so they work the same on
simulated and on real observed data in that shape. Each metric returns one row per person who
reached it: the week it was reached and its quantity (1 for a yes/no outcome, days for benefit days
saved).
"""

from __future__ import annotations

import fnmatch

import numpy as np
import pandas as pd

from contracts.terms import (
    BenefitDaysSaved,
    InWorkAt,
    JobStart,
    Outcome,
    StageEvent,
    SustainedEmployment,
)

OUTCOME_COLUMNS = ["arm", "person_id", "cohort", "group", "outcome", "week", "quantity"]
KEY = ["arm", "person_id"]


def employment_runs(spells: pd.DataFrame, min_fte: float = 0.0) -> pd.DataFrame:
    """Unbroken periods in work: consecutive employed spells (fte >= ``min_fte``) joined.

    Returns one row per run with ``arm``, ``person_id``, ``start``, ``end``.
    """
    e = spells[(spells["state"] == "employed") & (spells["fte"] >= min_fte)]
    e = e.sort_values(["arm", "person_id", "start"], kind="stable")
    if e.empty:
        return pd.DataFrame({"arm": pd.Series(dtype=object), "person_id": pd.Series(dtype="int64"),
                             "start": pd.Series(dtype=float), "end": pd.Series(dtype=float)})
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


def _jobs(spells: pd.DataFrame, o: JobStart | SustainedEmployment | InWorkAt) -> pd.DataFrame:
    """The spells that count as work for metric ``o`` (all, less excluded contracts and stages)."""
    if o.exclude_contracts and "contract" in spells:
        spells = spells[~spells["contract"].isin(o.exclude_contracts)]
    if o.exclude_stages and "stage" in spells:
        names = spells["stage"].dropna().unique()
        excluded = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in o.exclude_stages)]
        spells = spells[~spells["stage"].isin(excluded)]
    return spells


def _with_entry(df: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    return df.merge(persons[[*KEY, "entry_week"]], on=KEY)


def _job_start(o: JobStart, persons: pd.DataFrame, spells: pd.DataFrame) -> pd.DataFrame:
    runs = _with_entry(employment_runs(_jobs(spells, o), o.min_fte), persons)
    ok = runs[(runs["start"] >= runs["entry_week"] - 1e-9)
              & (runs["start"] <= runs["entry_week"] + o.window_weeks + 1e-9)]
    first = ok.groupby(KEY, as_index=False)["start"].min()
    return first.rename(columns={"start": "week"})


def _sustained(o: SustainedEmployment, persons: pd.DataFrame, spells: pd.DataFrame) -> pd.DataFrame:
    if o.continuous:
        runs = _with_entry(employment_runs(_jobs(spells, o), o.min_fte), persons)
        begin = np.maximum(runs["start"], runs["entry_week"])
        reached = begin + o.weeks
        ok = runs.assign(week=reached)[
            (reached <= runs["end"] + 1e-9) & (reached <= runs["entry_week"] + o.window_weeks + 1e-9)
        ]
        return ok.groupby(KEY, as_index=False)["week"].min()
    jobs = _jobs(spells, o)
    e = _with_entry(jobs[(jobs["state"] == "employed") & (jobs["fte"] >= o.min_fte)], persons)
    start = np.maximum(e["start"], e["entry_week"])
    e = e.assign(start=start, dur=np.clip(e["end"] - start, 0, None))
    e = e[e["dur"] > 0].sort_values([*KEY, "start"], kind="stable")
    cum = e.groupby(KEY)["dur"].cumsum()
    before = cum - e["dur"]
    crossing = e.assign(week=e["start"] + (o.weeks - before))[(cum >= o.weeks - 1e-9) & (before < o.weeks)]
    ok = crossing[crossing["week"] <= crossing["entry_week"] + o.window_weeks + 1e-9]
    return ok.groupby(KEY, as_index=False)["week"].min()


def _in_work_at(o: InWorkAt, persons: pd.DataFrame, spells: pd.DataFrame) -> pd.DataFrame:
    t = (persons["entry_week"] + o.weeks_after_entry) if o.at_week is None else o.at_week
    at = persons[KEY].assign(week=t)
    jobs = _jobs(spells, o)
    e = jobs[(jobs["state"] == "employed") & (jobs["fte"] >= o.min_fte)].merge(at, on=KEY)
    working = e[(e["start"] <= e["week"]) & (e["week"] < e["end"])]
    return working.drop_duplicates(KEY)[[*KEY, "week"]]


def _stage_event(o: StageEvent, persons: pd.DataFrame, events: pd.DataFrame | None) -> pd.DataFrame:
    if events is None:
        raise ValueError(f"a '{o.metric}' outcome is measured from the events table; none was given")
    ev = events.sort_values([*KEY, "time"], kind="stable").reset_index(drop=True)
    same = (ev["arm"].shift(-1) == ev["arm"]) & (ev["person_id"].shift(-1) == ev["person_id"])
    ev = ev.assign(next_stage=ev["stage"].shift(-1).where(same))
    def matching(col: str, patterns: list[str]) -> pd.Series:
        names = ev[col].dropna().unique()
        return ev[col].isin([s for s in names if o.matches(s, patterns)])

    hit = ev["event"].isin(o.events) & matching("stage", o.stages)
    if o.followed_by:
        hit &= matching("next_stage", o.followed_by)
    if o.not_followed_by:
        hit &= ~matching("next_stage", o.not_followed_by)
    got = _with_entry(ev[hit], persons)
    if o.window_weeks is not None:
        got = got[got["time"] <= got["entry_week"] + o.window_weeks + 1e-9]
    return got.groupby(KEY, as_index=False)["time"].min().rename(columns={"time": "week"})


def on_benefit(spells: pd.DataFrame) -> pd.Series:
    """Whether each spell is paid a benefit (from ``benefit_kind``/``benefit_g`` when present,
    else from the state: out of work, in programme or waiting)."""
    if "benefit_g" in spells and "benefit_kind" in spells:
        kind = spells["benefit_kind"].fillna("none")
        return (kind != "none") & (spells["benefit_g"].fillna(0) > 0)
    return spells["state"].isin(["not_employed", "programme", "waiting"])


def _benefit_days(o: BenefitDaysSaved, persons: pd.DataFrame, spells: pd.DataFrame) -> pd.DataFrame:
    p = persons
    if o.only_on_benefit_at_entry and "benefit_kind" in p:
        p = p[p["benefit_kind"].fillna("none") != "none"]
    expected = p["group"].map(o.expected_weeks_by_group).fillna(o.expected_weeks)
    data_end = spells.groupby(KEY)["end"].max().rename("data_end").reset_index()
    win = p[KEY].assign(lo=p["entry_week"], hi=p["entry_week"] + expected).merge(data_end, on=KEY)
    win["hi"] = np.minimum(win["hi"], win["data_end"])
    s = spells[on_benefit(spells)].merge(win, on=KEY)
    overlap = np.clip(np.minimum(s["end"], s["hi"]) - np.maximum(s["start"], s["lo"]), 0, None)
    weeks_on = s.assign(w=overlap).groupby(KEY)["w"].sum()
    win = win.set_index(KEY)
    saved_weeks = (win["hi"] - win["lo"]).clip(lower=0) - weeks_on.reindex(win.index, fill_value=0.0)
    out = pd.DataFrame({"week": win["hi"], "quantity": 7.0 * saved_weeks.clip(lower=0)}).reset_index()
    return out[out["quantity"] > 1e-9]


def measure_one(o: Outcome, persons: pd.DataFrame, spells: pd.DataFrame,
                events: pd.DataFrame | None = None) -> pd.DataFrame:
    """Who reached outcome ``o``: ``arm``, ``person_id``, ``week`` and ``quantity``."""
    if isinstance(o, JobStart):
        got = _job_start(o, persons, spells)
    elif isinstance(o, SustainedEmployment):
        got = _sustained(o, persons, spells)
    elif isinstance(o, InWorkAt):
        got = _in_work_at(o, persons, spells)
    elif isinstance(o, StageEvent):
        got = _stage_event(o, persons, events)
    else:
        return _benefit_days(o, persons, spells)
    return got.assign(quantity=1.0)


def measure_outcomes(
    outcomes: dict[str, Outcome], persons: pd.DataFrame, spells: pd.DataFrame,
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every outcome reached, one row per (arm, person, outcome) with the week and quantity, and
    the person's cohort and target group."""
    parts = [measure_one(o, persons, spells, events).assign(outcome=name)
             for name, o in outcomes.items()]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float if c in ("week", "quantity") else object)
                             for c in OUTCOME_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    info = persons[[*KEY, "cohort", "group"]]
    out = out.merge(info, on=KEY, how="left")[OUTCOME_COLUMNS]
    return out.sort_values(["week", "person_id", "outcome"], kind="stable").reset_index(drop=True)


def in_work_share(
    persons: pd.DataFrame, spells: pd.DataFrame, weeks_after_entry: float, horizon: float
) -> dict[str, float]:
    """Share of each arm's people in work ``weeks_after_entry`` weeks after their entry.

    People whose measuring point lies at or beyond the horizon are not counted; an arm with no one
    measurable gets NaN.
    """
    at = persons[KEY].assign(t=persons["entry_week"] + weeks_after_entry)
    at = at[at["t"] < horizon]
    emp = spells[spells["state"] == "employed"].merge(at, on=KEY)
    working = emp[(emp["start"] <= emp["t"]) & (emp["t"] < emp["end"])]
    n_work = working.drop_duplicates(KEY).groupby("arm").size()
    n_all = at.groupby("arm").size()
    return {
        arm: float(n_work.get(arm, 0) / n_all[arm]) if n_all.get(arm, 0) else float("nan")
        for arm in sorted(persons["arm"].unique())
    }
