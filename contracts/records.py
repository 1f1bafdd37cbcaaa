"""Building record tables by hand: for tests, worked examples and small observed data sets.

The record schemas are sim's (``effekt.sim.PERSONS``, ``SPELLS``, ``EVENTS``); these helpers fill in
the columns a hand-written row leaves out, so a case reads as what happened to whom::

    persons = persons_table([person(0), person(1, group="R", benefit_kind="introduksjonsstonad")])
    spells = spells_table([spell(0, "programme", 0, 13), spell(0, "employed", 13, 156, fte=0.8,
                                                              annual_wage=420_000)])
"""

from __future__ import annotations

from typing import Any

from effekt.lazy import pandas as pd
from effekt.sim import EVENTS, PERSONS, SPELLS


def person(person_id: int, arm: str = "treatment", *, cohort: str = "k1", group: str = "A",
           entry_week: float = 0.0, benefit_kind: str = "aap", benefit_g: float = 2.0,
           **other: Any) -> dict[str, Any]:
    """One row of ``persons`` (age 30, Norwegian native, upper secondary unless given)."""
    row = dict(arm=arm, person_id=person_id, cohort=cohort, group=group, age=30, norwegian="native",
               education="upper_secondary", work_capacity=1.0, benefit_kind=benefit_kind,
               benefit_g=benefit_g, entry_week=entry_week)
    row.update(other)
    return row


def spell(person_id: int, state: str, start: float, end: float, arm: str = "treatment", *,
          stage: str | None = None, contract: str | None = None, fte: float | None = None,
          annual_wage: float = 0.0, benefit_kind: str | None = None, benefit_g: float | None = None,
          **other: Any) -> dict[str, Any]:
    """One row of ``spells``. Out of work and in programme default to 2 G of AAP; employed to
    full time with no benefit."""
    employed = state == "employed"
    row = dict(arm=arm, person_id=person_id, state=state, stage=stage,
               contract=contract if contract is not None else ("ordinary" if employed else None),
               start=float(start), end=float(end), fte=fte if fte is not None else (1.0 if employed else 0.0),
               annual_wage=annual_wage,
               benefit_kind=benefit_kind if benefit_kind is not None else (
                   "none" if employed or state == "moved" else "aap"),
               benefit_g=benefit_g if benefit_g is not None else (
                   0.0 if employed or state == "moved" else 2.0))
    row.update(other)
    return row


def event(person_id: int, time: float, stage: str | None, kind: str,
          arm: str = "treatment") -> dict[str, Any]:
    """One row of ``events``."""
    return dict(arm=arm, person_id=person_id, time=float(time), stage=stage, event=kind)


def _table(rows: list[dict[str, Any]], names: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    extra = [c for c in df.columns if c not in names]
    for c in names:
        if c not in df:
            df[c] = None
    return df[[*names, *extra]]


def persons_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return _table(rows, PERSONS.names)


def spells_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return _table(rows, SPELLS.names)


def events_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({n: pd.Series(dtype=float if n == "time" else object) for n in EVENTS.names})
    return _table(rows, EVENTS.names)
