"""Which KPIs are indicators (0/1 per replication) and the fixed list of KPI names per contract."""

from __future__ import annotations

from contracts import INDICATOR_KPIS, evaluate, is_indicator_kpi
from experiments.scenario import load_scenario
from sim import replication_seed, simulate


def test_the_named_indicators():
    assert {"cap_binding", "investor_loss", "investor_commitment_exceeded"} <= INDICATOR_KPIS
    for name in ("cap_binding", "investor_loss", "investor_commitment_exceeded", "investor_senior_loss",
                 "investor_junior_loss"):
        assert is_indicator_kpi(name), name
    # counts and amounts are not indicators, whatever values they happen to take
    for name in ("participants", "controls", "outcomes_job", "investor_loss_amount",
                 "investor_senior_loss_amount", "investor_multiple", "in_work_12m_treatment",
                 "cost_per_outcome"):
        assert not is_indicator_kpi(name), name


def test_indicators_are_0_or_1_in_evaluated_kpis():
    sc = load_scenario(None, ["pathway.template=kongsberg_kull", "contract.template=sticking_together",
                              "contract.investors.commitment=1000000"])
    seen = set()
    for rep in range(3):
        t = simulate(sc.world, replication_seed(5, rep))
        k = evaluate(sc.terms, t.persons, t.spells, sc.world.horizon_weeks, events=t.events).kpis
        for name, v in k.items():
            if is_indicator_kpi(name):
                seen.add(name)
                assert v in (0.0, 1.0), (name, v)
    assert seen == {"cap_binding", "investor_loss", "investor_commitment_exceeded",
                    "investor_senior_loss", "investor_junior_loss"}
