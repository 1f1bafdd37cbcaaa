"""Two windows on one simulation: the contract period and the long run.

A contract is judged over its own period (the scenario's horizon), but what a programme does to
the public budgets goes on after it: a job found in year three pays tax for years, a benefit
that ends stays ended. With a long run (``[world] long_run_years`` in a scenario) the simulation
carries every person on past the contract, to a long horizon, and the evaluation reads the same
record tables through two windows:

* the **contract period**: the tables as a simulation that ended at the contract's horizon would
  have recorded them (:func:`clip_records`). The contract (outcomes, payments, investors) and
  every existing KPI see only this, so their meaning does not change;
* the **long run**: the whole tables of the people the contract period saw (those referred
  before its horizon, :func:`people_of_contract`; a referral stream's later arrivals are no part
  of this contract), to the end of the simulation: the public budgets' long-run KPIs
  (``fiscal_npv_long_run_<party>``) and the ``budgets`` table, with the contract's own flows as
  they were paid.

Pure functions of the record tables (pandas or Arrow; each comes back as it went in).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from effekt.contracts.outcomes import Frame, _floats, has


def _kept(table: Frame, mask: np.ndarray) -> Frame:
    """The rows of ``table`` where ``mask`` holds, in the table's own kind."""
    if isinstance(table, pa.Table):
        return table.filter(pa.array(mask, type=pa.bool_()))
    return table.loc[mask].reset_index(drop=True)


def _with_end(table: Frame, end: np.ndarray) -> Frame:
    """``table`` with its ``end`` column replaced by ``end``."""
    if isinstance(table, pa.Table):
        i = table.schema.get_field_index("end")
        return table.set_column(i, table.schema.field(i), pa.array(end, type=table.schema.field(i).type))
    return table.assign(end=end)


def people_of_contract(persons: Frame, spells: Frame, events: Frame | None,
                       horizon_weeks: float) -> tuple[Frame, Frame, Frame | None]:
    """The rows of the people referred before ``horizon_weeks`` (in every arm), the rest left
    out: whom the contract period saw. Their rows after the horizon stay."""
    entry = _floats(persons, "entry_week")
    ids = np.asarray(_floats(persons, "person_id"), dtype=np.int64)
    late = ids[entry >= horizon_weeks]
    if not len(late):
        return persons, spells, events

    def mine(table: Frame) -> np.ndarray:
        return ~np.isin(np.asarray(_floats(table, "person_id"), dtype=np.int64), late)

    return (_kept(persons, entry < horizon_weeks), _kept(spells, mine(spells)),
            _kept(events, mine(events)) if events is not None else None)


def clip_records(persons: Frame, spells: Frame, events: Frame | None,
                 horizon_weeks: float) -> tuple[Frame, Frame, Frame | None]:
    """The record tables as a simulation ending at ``horizon_weeks`` records them: the people
    referred before it, their spells that start before it, ended at it at the latest, and their
    events before it (a simulation records nothing at or after its horizon)."""
    persons, spells, events = people_of_contract(persons, spells, events, horizon_weeks)
    start, end = _floats(spells, "start"), _floats(spells, "end")
    before = start < horizon_weeks
    if not before.all():
        spells = _kept(spells, before)
        end = end[before]
    if (end > horizon_weeks).any():
        spells = _with_end(spells, np.minimum(end, horizon_weeks))
    if events is not None and has(events, "time"):
        early = _floats(events, "time") < horizon_weeks
        if not early.all():
            events = _kept(events, early)
    return persons, spells, events

