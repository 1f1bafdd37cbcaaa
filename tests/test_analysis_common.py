"""Setting dotted keys (with list indices, into templates) and common random numbers."""

from __future__ import annotations

import pytest

from effekt.dotted import get_value
from effekt.experiments.analysis.common import replicate, scenario_at, scenario_with
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
    base = scenario_with(None)
    assert scenario_at(base, {"world.cohorts[0].size": 11.6}).world.size == 12
    sc = scenario_at(base, {"contract.prices.job_start": 12345.5})
    assert sc.terms.prices["job_start"].default == 12345.5


def test_replications_share_seeds_whatever_the_contract():
    a = replicate(scenario_with(None), 3)
    b = replicate(scenario_with(None, {"contract.prices.job_start": 0}), 3)
    assert (a["in_work_12m_treatment"] == b["in_work_12m_treatment"]).all()
    assert (b["outcome_payments"] <= a["outcome_payments"]).all()


def test_a_scenario_round_trips_through_its_tree_without_toml_text():
    # (was: the TOML writer round-trips; the analysis no longer writes TOML, so the round trip
    # that matters is scenario -> tree -> resolve, which must give the same scenario back)
    from effekt.experiments.scenario import resolve

    base = scenario_with(None, {"world.cohorts[0].size": 7, "contract.prices.job_start": 12345.5})
    again = resolve(base.tree)
    assert again.world == base.world and again.terms == base.terms and again.info == base.info
    assert again.resolved == base.resolved and again.hash == base.hash
    # the tree is a copy: editing it leaves the scenario as it was
    base.tree.data["world"]["cohorts"][0]["size"] = 99
    assert base.resolved["world"]["cohorts"][0]["size"] == 7

