"""Every replication of a batch stores the same KPI columns, whatever happened in it; a randomised
trial that put nobody into control does not stop the batch; a scenario's benefit payers count."""

from __future__ import annotations

import math

import pytest

from effekt.contracts import NeedsControl, Valuation, evaluate, kpi_names
from effekt.experiments.runner import Task, run_replication, run_task
from effekt.experiments.scenario import load_scenario
from effekt.sim import replication_seed, simulate


def _rct(size: int, share: float, *extra: str):
    return load_scenario(None, [f"world.cohorts[0].size={size}", "world.counterfactual.mode=rct",
                                f"world.counterfactual.treatment_share={share}", *extra])


def test_every_task_has_the_same_kpi_columns_with_or_without_controls():
    # the reviewer's case: one person, randomised 50/50, one replication per task
    sc = _rct(1, 0.5)
    names = [run_task(sc, Task(0, r, r + 1))["runs"].schema.names for r in range(12)]
    assert all(n == names[0] for n in names)
    runs = [run_task(sc, Task(0, r, r + 1))["runs"].to_pandas() for r in range(12)]
    controls = [float(df["controls"].iloc[0]) for df in runs]
    assert 0.0 in controls and 1.0 in controls  # both kinds of replication happened
    for df in runs:
        for col in ("fiscal_net_total", "fiscal_benefits", "earnings_gain", "fiscal_npv_total"):
            assert col in df
            assert math.isnan(df[col].iloc[0]) == (df["controls"].iloc[0] == 0), col
        assert "earnings_gain_per_person" in df
    assert names[0] == ["replication", *kpi_names(sc.terms)]


@pytest.mark.parametrize("template", ["peterborough", "koto_sib"])
def test_rct_without_controls_counts_the_comparison_as_not_met(template):
    # two people, 80 % treated: most replications have nobody in control (0.8^2 = 64 %)
    sc = _rct(2, 0.8, f"contract.template={template}", "world.horizon_weeks=320")
    runs = run_task(sc, Task(0, 0, 8))["runs"].to_pandas()
    none = runs["controls"] == 0
    assert none.any() and (~none).any()
    assert (runs["control_missing"] == none.astype(float)).all()
    if template == "peterborough":  # it pays only through triggers against control
        assert (runs.loc[none, "outcome_payments"] == 0).all()


def test_rct_without_controls_pays_no_savings_share():
    sc = _rct(2, 0.8, "contract.template=koto_sib", "world.horizon_weeks=320")
    for rep in range(8):
        t = simulate(sc.world, replication_seed(sc.design.seed, rep))
        if "control" in t.persons.column("arm").to_pylist():
            continue
        with pytest.raises(NeedsControl):
            evaluate(sc.terms, t.persons, t.spells, 320, events=t.events)
        ev = evaluate(sc.terms, t.persons, t.spells, 320, Valuation(missing_control="not_met"),
                      events=t.events)
        assert "savings_share" not in set(ev.payments["kind"])
        assert ev.kpis["control_missing"] == 1.0
        return
    pytest.fail("no replication without controls among the first 8")


def test_a_benefit_payer_override_moves_the_benefit_between_budgets():
    base = load_scenario(None, [])
    moved = load_scenario(None, ["world.benefits.aap.payer=kommune"])
    a = run_replication(base, 0)["runs"].iloc[0]
    b = run_replication(moved, 0)["runs"].iloc[0]
    # same people, same lives: only who pays AAP changes, so the total is unchanged and what the
    # state gained from AAP saved the kommune gains instead
    assert b["fiscal_net_total"] == pytest.approx(a["fiscal_net_total"], abs=1e-6)
    assert b["fiscal_net_kommune"] != pytest.approx(a["fiscal_net_kommune"], abs=1.0)
    shift = b["fiscal_net_kommune"] - a["fiscal_net_kommune"]
    assert a["fiscal_net_state"] - b["fiscal_net_state"] == pytest.approx(shift, abs=1e-3)


def test_who_pays_a_benefit_has_one_owner_the_fiscal_rules():
    """sim's benefit data holds levels only; the payers come from contracts' fiscal rules, and a
    scenario overrides single kinds (the rest keep the rule)."""
    from effekt.contracts.fiscal import benefit_payers
    from effekt.experiments.runner import valuation_of
    from effekt.sim import default_benefits

    assert all("payer" not in type(b).model_fields for b in default_benefits().values())
    plain = load_scenario(None)
    assert plain.benefit_payers == {}
    assert dict(valuation_of(plain).benefit_payers) == benefit_payers()
    moved = load_scenario(None, ["world.benefits.aap.payer=kommune"])
    assert moved.benefit_payers == {"aap": "kommune"}
    payers = dict(valuation_of(moved).benefit_payers)
    assert payers == {**benefit_payers(), "aap": "kommune"}
