"""Share in work by month since entry, on hand-made record tables and on a simulated scenario."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from effekt.experiments.runner import run_replication
from effekt.experiments.timeseries import WEEKS_PER_MONTH, band, in_work_by_month, scenario_in_work

M = WEEKS_PER_MONTH


def _tables():
    persons = pd.DataFrame({
        "arm": ["treatment", "treatment", "control", "control"],
        "person_id": [0, 1, 0, 1],
        "entry_week": [0.0, M, 0.0, M],
    })
    spells = pd.DataFrame({
        "arm": ["treatment"] * 4 + ["control"] * 2,
        "person_id": [0, 0, 1, 1, 0, 1],
        "state": ["programme", "employed", "programme", "employed", "not_employed", "employed"],
        #  person 0 works from month 2 on; person 1 (entering at month 1) from month 1 + 1.5
        "start": [0.0, 2 * M, M, 2.5 * M, 0.0, M],
        "end": [2 * M, 6 * M, 2.5 * M, 6 * M, 6 * M, 3 * M],
    })
    return persons, spells


def test_in_work_by_month_on_hand_made_tables():
    persons, spells = _tables()
    s = in_work_by_month(persons, spells, horizon_weeks=6 * M).set_index(["arm", "month"])
    # treatment: month 0: nobody; month 1: person 0 not yet (starts at 2), person 1 not yet
    # (1.5 months after entry); month 2: both (person 1 at 2 months after entry = week 3M)
    assert s.loc[("treatment", 0), "share"] == 0
    assert s.loc[("treatment", 1), "share"] == 0
    assert s.loc[("treatment", 2), "share"] == 1
    # month 5: person 1 would be measured at week 6M = the horizon: not observed, so n = 1
    assert s.loc[("treatment", 5), "n"] == 1 and s.loc[("treatment", 5), "share"] == 1
    # control: person 1 works months 0 and 1 after entry, person 0 never
    assert s.loc[("control", 0), "share"] == 0.5
    assert s.loc[("control", 2), "share"] == 0


def test_band_of_identical_replications_has_zero_width():
    persons, spells = _tables()
    one = in_work_by_month(persons, spells, 6 * M)
    reps = pd.concat([one.assign(replication=r) for r in range(3)])
    b = band(reps)
    assert np.allclose(b["p_low"], b["mean"]) and np.allclose(b["ci_high"], b["mean"])


def test_resimulated_series_match_the_stored_kpis(small_scenario):
    # the runs dataset stores in-work shares at 12 and 24 months; the re-simulated series at
    # months 12 and 24 must give exactly those numbers (same seeds, same replications)
    series = scenario_in_work(small_scenario, 4).set_index(["replication", "arm", "month"])
    for r in range(4):
        kpis = run_replication(small_scenario, r)["runs"].iloc[0]
        for m in (12, 24):
            for arm in ("treatment", "control"):
                assert series.loc[(r, arm, m), "share"] == pytest.approx(kpis[f"in_work_{m}m_{arm}"])
