"""Setting dotted keys (with list indices, into templates) and common random numbers."""

from __future__ import annotations

import pytest

from effekt.experiments.analysis.common import get_value, replicate, scenario_at, scenario_with, to_toml
from effekt.specfile import SpecError


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

