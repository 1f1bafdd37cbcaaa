"""The measures of published counts, computed from one replication's record tables.

Each published figure is a count of people among a denominator its source defines: finishers of
work training in paid work half a year later (Spekter 2017), starters in work three years on
(IMDi 2020), admitted students who got the fagbrev job (NORCE 2021, KS). A measure returns, for one
replication, the people in its denominator (by ``person_id``, in order) and whether each is in the
numerator; :func:`effekt.experiments.calibrate.model.PathwayModel.simulate` pools replications
until a study has exactly the published denominator. The definitions follow
``tests/test_calibration.py`` (the same people are counted; ``tests/test_calibrate_measures.py``
checks it). Everything here reads the treatment arm only.

    employed_after_finishing   of those who completed ``stage`` (not going on to ``except_to``):
                               employed ``weeks`` after finishing
    employed_after_entry       of those with ``event`` at ``stage``: employed ``weeks`` after referral
    reached                    of those with ``event`` at ``stage``: had ``to_event`` at ``to_stage``
    employed_among_active      ``weeks`` after referral, of those employed or still in ``stage``: employed

A person is counted once (the first time they qualify); a time point at or after the horizon is
not observed, so that person is not in the denominator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from effekt.sim import Tables

Measured = tuple[np.ndarray, np.ndarray]
"""(person ids of the denominator in increasing order, whether each is in the numerator)."""


def _strings(col) -> np.ndarray:
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=object)


@dataclass
class Records:
    """One replication's treatment arm as numpy arrays (read once, shared by every measure):
    events sorted per person in time order (a stable sort keeps the recorded order of same-time
    events: 'completed' a stage, then 'entered' the next), spells, and each person's referral."""

    tables: Tables

    @cached_property
    def events(self) -> dict[str, np.ndarray]:
        ev = self.tables.events
        arm = _strings(ev.column("arm")) == "treatment"
        pid = ev.column("person_id").to_numpy()[arm]
        time = ev.column("time").to_numpy()[arm]
        order = np.lexsort((np.arange(len(pid)), time, pid))
        return {"pid": pid[order], "time": time[order],
                "stage": _strings(ev.column("stage"))[arm][order],
                "event": _strings(ev.column("event"))[arm][order]}

    @cached_property
    def spells(self) -> dict[str, np.ndarray]:
        sp = self.tables.spells
        arm = _strings(sp.column("arm")) == "treatment"
        return {"pid": sp.column("person_id").to_numpy()[arm], "start": sp.column("start").to_numpy()[arm],
                "end": sp.column("end").to_numpy()[arm], "state": _strings(sp.column("state"))[arm],
                "stage": _strings(sp.column("stage"))[arm]}

    @cached_property
    def entry_week(self) -> np.ndarray:
        """``entry_week[person_id]`` (NaN for ids without a treatment-arm person)."""
        pe = self.tables.persons
        arm = _strings(pe.column("arm")) == "treatment"
        pid = pe.column("person_id").to_numpy()[arm]
        out = np.full(int(pid.max()) + 1 if len(pid) else 0, np.nan)
        out[pid] = pe.column("entry_week").to_numpy()[arm]
        return out

    def first(self, stage: str, event: str) -> tuple[np.ndarray, np.ndarray]:
        """(person ids in increasing order, the first time each had ``event`` at ``stage``)."""
        ev = self.events
        hit = (ev["stage"] == stage) & (ev["event"] == event)
        pid, at = np.unique(ev["pid"][hit], return_index=True)
        return pid, ev["time"][hit][at]

    def covered(self, mask: np.ndarray, pid: np.ndarray, when: np.ndarray) -> np.ndarray:
        """For each person ``pid[i]``: whether one of the spells in ``mask`` covers week
        ``when[i]`` (start <= week < end)."""
        sp = self.spells
        size = max(int(sp["pid"].max()) + 1 if len(sp["pid"]) else 0, int(pid.max()) + 1 if len(pid) else 0)
        query = np.full(size, np.nan)
        query[pid] = when
        q = query[sp["pid"][mask]]
        hit = (sp["start"][mask] <= q) & (sp["end"][mask] > q)
        covered = np.zeros(size, dtype=bool)
        covered[sp["pid"][mask][hit]] = True
        return covered[pid]


def _observed(pid: np.ndarray, when: np.ndarray, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    keep = when < horizon
    return pid[keep], when[keep]


def employed_after_finishing(r: Records, horizon: float, stage: str, weeks: float,
                             except_to: list[str]) -> Measured:
    ev = r.events
    same = np.append(ev["pid"][1:] == ev["pid"][:-1], False)
    nxt = np.append(ev["stage"][1:], None)
    going_on = same & np.isin(nxt, list(except_to)) if except_to else np.zeros(len(same), dtype=bool)
    done = (ev["stage"] == stage) & (ev["event"] == "completed") & ~going_on
    pid, at = np.unique(ev["pid"][done], return_index=True)
    pid, when = _observed(pid, ev["time"][done][at] + weeks, horizon)
    return pid, r.covered(r.spells["state"] == "employed", pid, when)


def employed_after_entry(r: Records, horizon: float, stage: str, event: str, weeks: float) -> Measured:
    who, _ = r.first(stage, event)
    pid, when = _observed(who, r.entry_week[who] + weeks, horizon)
    return pid, r.covered(r.spells["state"] == "employed", pid, when)


def reached(r: Records, horizon: float, stage: str, event: str, to_stage: str, to_event: str) -> Measured:
    among, _ = r.first(stage, event)
    got, _ = r.first(to_stage, to_event)
    return among, np.isin(among, got)


def employed_among_active(r: Records, horizon: float, stage: str, weeks: float) -> Measured:
    everyone = np.flatnonzero(~np.isnan(r.entry_week))
    pid, when = _observed(everyone, r.entry_week[everyone] + weeks, horizon)
    employed = r.covered(r.spells["state"] == "employed", pid, when)
    active = r.covered(r.spells["stage"] == stage, pid, when)
    keep = employed | active
    return pid[keep], employed[keep]


MEASURES: dict[str, Callable[..., Measured]] = {
    "employed_after_finishing": employed_after_finishing,
    "employed_after_entry": employed_after_entry,
    "reached": reached,
    "employed_among_active": employed_among_active,
}
"""Measure kind -> its function ``(records, horizon, **fields) -> (ids, in numerator)``."""


def measure(t: Tables | Records, horizon: float, spec) -> Measured:
    """Apply a measure spec (:mod:`effekt.experiments.calibrate.spec`) to one replication (its
    tables, or their :class:`Records` to share the conversion between measures)."""
    fields = spec.model_dump(exclude={"kind"})
    return MEASURES[spec.kind](t if isinstance(t, Records) else Records(t), horizon, **fields)


__all__ = ["MEASURES", "Measured", "Records", "employed_after_entry", "employed_after_finishing",
           "employed_among_active", "measure", "reached"]
