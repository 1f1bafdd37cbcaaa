"""Property tests (hypothesis): payments are never negative, never above a cap, monotone in
outcomes; with no outcomes investors lose exactly their unprotected capital; a trigger just below
its threshold pays nothing."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from effekt.contracts import evaluate
from effekt.contracts.payments import schedule_payments, trigger_result
from effekt.contracts.records import person, persons_table, spell, spells_table
from effekt.contracts.terms import Terms, Trigger

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def terms(per_person: float | None, contract: float | None, ladder: bool = False) -> Terms:
    rungs = [{"from": 0, "price": 60}, {"from": 3, "price": 30}]
    job = {"default": 40.0, "ladder": rungs} if ladder else 40.0
    return Terms.model_validate({
        "contract": {"name": "p", "title": "p", "term_months": 30, "payment_lag_months": 1},
        "outcomes": {"job": {"metric": "job_start", "window_weeks": 200},
                     "kept": {"metric": "sustained_employment", "weeks": 26, "window_weeks": 200}},
        "prices": {"job": job, "kept": 90.0},
        "caps": {"per_person": per_person, "contract": contract},
        "commissioners": {"kommune": 0.4, "state": 0.6},
    })


achieved = st.lists(
    st.tuples(st.integers(0, 7), st.sampled_from(["job", "kept"]), st.floats(0, 150, allow_nan=False)),
    max_size=20, unique_by=lambda r: (r[0], r[1]),
)
caps = st.tuples(st.one_of(st.none(), st.floats(90, 300)), st.one_of(st.none(), st.floats(90, 1000)))


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame([{"arm": "treatment", "person_id": p, "cohort": "k1", "group": "A", "outcome": o,
                          "week": w, "quantity": 1.0} for p, o, w in rows],
                        columns=["arm", "person_id", "cohort", "group", "outcome", "week", "quantity"])


PEOPLE = persons_table([person(i) for i in range(8)])


@SETTINGS
@given(rows=achieved, cap=caps, ladder=st.booleans())
def test_payments_never_negative_never_above_caps(rows, cap, ladder):
    t = terms(*cap, ladder=ladder)
    pay = schedule_payments(t, frame(rows), PEOPLE)
    assert (pay["amount"] >= 0).all()
    assert (pay["amount"] <= pay["price"] * pay["quantity"] + 1e-9).all()
    if cap[0] is not None:
        assert (pay.groupby("person_id")["amount"].sum() <= cap[0] + 1e-9).all()
    if cap[1] is not None:
        assert pay["amount"].sum() <= cap[1] + 1e-9


@SETTINGS
@given(rows=achieved, extra=st.tuples(st.integers(0, 7), st.sampled_from(["job", "kept"]),
                                      st.floats(0, 150, allow_nan=False)), cap=caps, ladder=st.booleans())
def test_one_more_outcome_never_pays_less(rows, extra, cap, ladder):
    if any((p, o) == extra[:2] for p, o, _ in rows):
        return
    t = terms(*cap, ladder=ladder)
    before = schedule_payments(t, frame(rows), PEOPLE)["amount"].sum()
    paid = schedule_payments(t, frame([*rows, extra]), PEOPLE)
    after = paid["amount"].sum()
    if ladder and extra[1] == "job" and paid.loc[paid["person_id"] == extra[0], "capped"].any():
        # the one exception (test_a_capped_outcome_still_takes_a_volume_rung): under a falling
        # count ladder, an outcome whose person the per-person cap cuts still moves later
        # outcomes down a rung
        return
    assert after >= before - 1e-9


def test_a_capped_outcome_still_takes_a_volume_rung():
    # job: 60 for the 1st-3rd job outcome of the contract, 30 from the 4th; kept: 90; 90 a person.
    # Jobs of persons 0, 1, 3 and person 2's kept, all in week 0: 60 + 60 + 60 + 90 = 270.
    rows = [(0, "job", 0.0), (1, "job", 0.0), (2, "kept", 0.0), (3, "job", 0.0)]
    t = terms(90.0, None, ladder=True)
    assert schedule_payments(t, frame(rows), PEOPLE)["amount"].sum() == pytest.approx(270)
    # person 2's job (before person 3's in the order reached) takes the 3rd rung: person 2 is paid
    # 60 + 30 (cap 90), and person 3's job becomes the 4th, at 30: 60 + 60 + 90 + 30 = 240
    more = schedule_payments(t, frame([*rows, (2, "job", 0.0)]), PEOPLE)
    assert more["amount"].sum() == pytest.approx(240)


tranche = st.tuples(st.floats(0.05, 1.0), st.floats(0, 1), st.floats(0, 0.3))


@SETTINGS
@given(tranches=st.lists(tranche, min_size=1, max_size=3), cost=st.floats(1_000, 1e6),
       weeks=st.floats(1, 100))
def test_no_outcomes_investors_lose_exactly_their_unprotected_capital(tranches, cost, weeks):
    total = sum(s for s, _, _ in tranches)
    spec = [{"name": f"t{i}", "share": s / total, "seniority": i + 1, "capital_protection": p,
             "max_return": r} for i, (s, p, r) in enumerate(tranches)]
    spec[-1]["share"] = 1 - sum(t["share"] for t in spec[:-1])
    t = Terms.model_validate({
        "contract": {"name": "p", "title": "p", "term_months": 24},
        "outcomes": {"job": {"metric": "job_start", "window_weeks": 52}},
        "prices": {"job": 100.0},
        "commissioners": {"state": 1.0},
        "provider": {"per_participant": cost, "per_week": 50},
        "investors": {"tranches": spec},
    })
    persons = persons_table([person(0)])
    spells = spells_table([spell(0, "programme", 0, weeks), spell(0, "not_employed", weeks, 156)])
    k = evaluate(t, persons, spells, 156).kpis
    invested = cost + 50 * weeks
    unprotected = sum((1 - tr["capital_protection"]) * tr["share"] for tr in spec) * invested
    assert k["investor_invested"] == pytest.approx(invested)
    assert k["investor_net"] == pytest.approx(-unprotected, abs=1e-6 * invested)


@SETTINGS
@given(n_c=st.integers(1, 40), size=st.integers(41, 80), compare=st.sampled_from(
    ["absolute", "relative_to_control", "difference_to_control"]), n_t=st.integers(1, 40))
def test_trigger_just_below_threshold_pays_nothing(n_c, size, compare, n_t):
    counts = {"treatment": (n_t, size), "control": (n_c, size)}
    rate_t, rate_c = n_t / size, n_c / size
    result = {"absolute": rate_t, "relative_to_control": (rate_t - rate_c) / rate_c,
              "difference_to_control": rate_t - rate_c}[compare]
    at = Trigger(outcome="job", scope="pooled", compare=compare, threshold=result)
    above = Trigger(outcome="job", scope="pooled", compare=compare, threshold=result + 1e-6)
    assert trigger_result(at, counts) == (True, float(n_t))
    assert trigger_result(above, counts) == (False, 0.0)


@SETTINGS
@given(due=st.lists(st.floats(0, 1e5), min_size=3, max_size=30), data=st.data(),
       tranches=st.lists(tranche, min_size=1, max_size=3), recycling=st.booleans(),
       fee=st.floats(0, 0.3), share=st.floats(0, 0.2))
def test_waterfall_conserves_money_and_pays_nothing_negative(due, data, tranches, recycling, fee, share):
    import numpy as np

    from effekt.contracts.waterfall import run_waterfall

    n = len(due)
    paid = np.array(data.draw(st.lists(st.floats(0, 2e5), min_size=n, max_size=n)))
    due = np.array(due)
    total = sum(s for s, _, _ in tranches)
    spec = [{"name": f"t{i}", "share": s / total, "seniority": i + 1, "capital_protection": p,
             "max_return": r} for i, (s, p, r) in enumerate(tranches)]
    spec[-1]["share"] = 1 - sum(t["share"] for t in spec[:-1])
    t = Terms.model_validate({
        "contract": {"name": "p", "title": "p", "term_months": n},
        "outcomes": {"job": {"metric": "job_start", "window_weeks": 52}}, "prices": {"job": 1.0},
        "commissioners": {"state": 1.0}, "investors": {"tranches": spec},
        "funding": {"recycling": recycling}, "provider": {"performance_fee": fee},
        "intermediary": {"share_of_payments": share},
    })
    wf = run_waterfall(t, due, paid, n - 1)
    for part in (wf.drawn, wf.distributed, wf.coupons, wf.protection):
        assert all((a >= -1e-9).all() for a in part.values())
    assert (wf.residual >= -1e-9).all() and (wf.recycled >= -1e-9).all()
    # every cost is funded, by new capital or by recycled payments
    assert wf.total(wf.drawn) + wf.recycled == pytest.approx(due, abs=1e-6)
    # every payment is accounted for, and nothing is left in the vehicle at the end
    out = wf.performance_fee + wf.intermediary_share + wf.recycled + wf.total(wf.distributed) + wf.residual
    assert out.sum() == pytest.approx(paid.sum(), rel=1e-9, abs=1e-6)
    # what a tranche receives from payments never exceeds its principal plus its maximum return
    for tr in spec:
        got = wf.distributed[tr["name"]].sum() + wf.coupons[tr["name"]].sum()
        drawn = wf.drawn[tr["name"]].sum()
        assert got <= drawn * (1 + tr["max_return"] * n / 12) + 1e-6
