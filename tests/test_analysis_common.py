"""Setting dotted keys (with list indices, into templates) and common random numbers."""

from __future__ import annotations

import math

import pytest

from experiments.analysis.common import get_value, replicate, scenario_at, scenario_with, to_toml
from sim.specfile import SpecError


def test_indexed_key_into_a_template_list_changes_only_that_entry():
    base = scenario_with(None)
    exits = base.world.pathway.stages["work_training"].exits
    sc = scenario_with(None, {"pathway.stages.work_training.exits[0].p": 0.01})
    new = sc.world.pathway.stages["work_training"].exits
    assert new[0].p == 0.01 and new[0].to == exits[0].to
    assert [e.p for e in new[1:]] == [e.p for e in exits[1:]]
    # the scenario file's own list too
    sc = scenario_with(None, {"world.cohorts[0].size": 9})
    assert sc.world.cohorts[0].size == 9 and sc.world.cohorts[0].groups == base.world.cohorts[0].groups


def test_bad_keys_name_the_key():
    with pytest.raises(SpecError, match=r"exits\[7\]"):
        scenario_with(None, {"pathway.stages.work_training.exits[7].p": 0.1})
    with pytest.raises(SpecError, match="job_strat"):
        get_value(scenario_with(None).resolved, "contract.prices.job_strat")


def test_integer_keys_are_rounded_only_when_the_scenario_insists():
    resolved = scenario_with(None).resolved
    assert scenario_at(None, {"world.cohorts[0].size": 11.6}, resolved).world.size == 12
    sc = scenario_at(None, {"contract.prices.job_start": 12345.5}, resolved)
    assert sc.terms.prices["job_start"].default == 12345.5


def test_replications_share_seeds_whatever_the_contract():
    a = replicate(scenario_with(None), 3)
    b = replicate(scenario_with(None, {"contract.prices.job_start": 0}), 3)
    assert (a["in_work_12m_treatment"] == b["in_work_12m_treatment"]).all()
    assert (b["outcome_payments"] <= a["outcome_payments"]).all()


def test_toml_writer_round_trips():
    import tomllib

    data = {"a": {"b": [1, 2.5, "x\ny"], "c": {"d": True}}, "e": "ø", "f": None}
    assert tomllib.loads(to_toml(data)) == {"a": {"b": [1, 2.5, "x\ny"], "c": {"d": True}}, "e": "ø"}


def test_rough_public_gain_on_hand_made_tables():
    import pandas as pd

    from experiments.analysis.fiscal import public_gain

    # one person, one year: with the programme in work at 520 000 a year, full time; without it on
    # sosialhjelp of 0.5 G (paid by the kommune). Undiscounted, the kommune saves 0.5 G and the
    # state gains 22 % income tax + 14.1 % employer contribution on 520 000 = 187 720.
    persons = pd.DataFrame({"arm": ["treatment", "control"], "person_id": [0, 0]})
    spells = pd.DataFrame({
        "arm": ["treatment", "control"], "start": [0.0, 0.0], "end": [52.0, 52.0],
        "benefit_g": [0.0, 0.5], "benefit_kind": ["none", "sosialhjelp"],
        "annual_wage": [520000.0, 0.0], "fte": [1.0, 0.0],
    })
    g = public_gain(persons, spells, G=130000, rate=0.0)
    assert g["kommune"] == pytest.approx(65000)
    assert g["state"] == pytest.approx(187720)
    # discounting at 4 % over the year: the mean discount factor is (1 - 1.04^-1) / ln 1.04
    d = public_gain(persons, spells, G=130000, rate=0.04)
    factor = (1 - 1.04**-1) / math.log(1.04)
    assert d["kommune"] == pytest.approx(65000 * factor)
