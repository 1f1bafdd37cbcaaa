"""Issue 14: a task's money read over the block of its replications at once, bit for bit what each
replication gives alone.

* **Block against alone**, on the default, koto_sib (a savings share; and with a senior and a
  junior tranche), dwp_lesson (an evaluation design beside the control arm), kommune_tracks and the
  default with a long run (its budgets run past the contract's months): every KPI, and the
  ``cashflows`` and ``budgets`` columns of the whole block (``Evaluation.cashflow_columns_of``,
  ``Evaluation.budget_columns_of``) equal each replication's own columns one after another.
* **By hand**: the budgets of two replications of different lengths (years summed, discounted,
  zero years left out), the cashflows of two evaluations, a matrix of unequal series, the fiscal
  KPIs of a small difference ledger (and of random ones, against the row-by-row loop bit for
  bit) and the rate cards of a block (a count ladder, group prices, a per-person cap, each
  replication its own count and cap).

No timing here: see benchmarks/bench_run.py and BENCHMARKS.md.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from effekt.contracts import Evaluation, RecordBlock, evaluate, evaluate_block
from effekt.contracts import budgets as bud
from effekt.contracts.evaluate import _fiscal_kpis
from effekt.contracts.frames import months_matrix, nonzero_months
from effekt.contracts.kpis import kpi_key
from effekt.experiments import load_scenario
from effekt.experiments.runner import valuation_of
from effekt.sim import replication_seed, simulate

SCENARIOS = ("default", "koto_sib", "koto_sib+tranches", "dwp_lesson", "kommune_tracks", "default+long_run")


def _with_tranches(terms):
    """``terms`` with a senior and a junior tranche (coupon, capital protection, maximum return),
    as sticking_together's investors are."""
    from effekt.contracts.terms import Tranche

    tranches = [Tranche(name="senior", share=0.7, seniority=1, capital_protection=0.5, coupon=0.03,
                        coupon_months=24, max_return=0.125),
                Tranche(name="junior", share=0.3, seniority=2, capital_protection=0.5, max_return=0.125)]
    return terms.model_copy(update={"investors": terms.investors.model_copy(update={"tranches": tranches})})


@pytest.fixture(scope="module", params=SCENARIOS)
def evaluated(request):
    name, _, variant = request.param.partition("+")
    sc = load_scenario(f"experiments/scenarios/{name}.toml",
                       ["world.long_run_years=3"] if variant == "long_run" else [])
    terms = _with_tranches(sc.terms) if variant == "tranches" else sc.terms
    val = valuation_of(sc)
    sims = [simulate(sc.simulated_world, replication_seed(5, r)) for r in range(4)]
    block = RecordBlock.of([(t.persons, t.spells, t.events) for t in sims])
    together = evaluate_block(terms, block, sc.world.horizon_weeks, val, design=sc.evaluation,
                              long_run_weeks=sc.long_run_weeks)
    alone = [evaluate(terms, t.persons, t.spells, sc.world.horizon_weeks, val, events=t.events,
                      design=sc.evaluation, long_run_weeks=sc.long_run_weeks) for t in sims]
    if variant == "tranches":  # the tranches are there, and paid
        assert {"investor.senior", "investor.junior"} <= {p for ev in together for p, _, _ in ev.rows}
    return together, alone


def _same(a: np.ndarray, b: np.ndarray, what: str) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, what
    if a.dtype.kind == "f":
        assert a.tobytes() == b.tobytes(), what  # bit for bit, the sign of a zero and NaN too
    else:
        assert a.tolist() == b.tolist(), what


def test_the_kpis_of_a_block_are_those_of_each_replication_alone(evaluated):
    together, alone = evaluated
    for ev, one in zip(together, alone, strict=True):
        assert list(ev.kpis) == list(one.kpis)
        _same(np.array(list(ev.kpis.values())), np.array(list(one.kpis.values())), "kpis")


@pytest.mark.parametrize("table", ["cashflow", "budget"])
def test_a_blocks_columns_are_its_replications_columns_one_after_another(evaluated, table):
    together, alone = evaluated
    got = getattr(Evaluation, f"{table}_columns_of")(together)
    parts = [getattr(one, f"{table}_columns")() for one in alone]
    assert list(got) == ["replication", *parts[0]]
    _same(got["replication"], np.repeat(np.arange(len(parts)), [len(p["amount" if table == "cashflow"
                                                                     else "year"]) for p in parts]),
          "replication")
    for name in parts[0]:
        _same(got[name], np.concatenate([p[name] for p in parts]), f"{table}/{name}")
    assert len(got["replication"]) > 0


def _evaluation(rows, ledger, rate=0.04, commissioners=("kommune",)) -> Evaluation:
    return Evaluation(kpis={}, long_run_weeks=None, found={}, paid=None, rows=rows, ledger=ledger,
                      budget_ledger=ledger, commissioners=commissioners, rate=rate)


def test_the_budgets_of_two_replications_of_different_lengths_by_hand():
    r = 0.05
    first = {("treatment", "kommune", "benefits"): np.full(14, 100.0),  # 14 months: years 0 and 1
             ("difference", "kommune", "benefits"): np.zeros(14)}  # zero: no row
    second = {("control", "state", "income_tax"): np.r_[np.zeros(24), [12.0]],  # year 2 only
              ("treatment", "participants", "earnings"): np.r_[[7.0], np.zeros(29)]}
    one = _evaluation([], first, rate=r)
    two = _evaluation([("investor", "funding", np.r_[-50.0, np.zeros(35)])], second, rate=r)
    got = Evaluation.budget_columns_of([one, two])
    d = (1 + r) ** (np.arange(36) / 12)  # what a month's amount is divided by
    want = [  # (replication, arm, party, public, year, nominal, discounted), in the table's order
        (0, "treatment", "kommune", True, 0, 1200.0, sum(100.0 / d[m] for m in range(12))),
        (0, "treatment", "kommune", True, 1, 200.0, 100.0 / d[12] + 100.0 / d[13]),
        (1, "treatment", "investor", False, 0, -50.0, -50.0),
        (1, "treatment", "participants", False, 0, 7.0, 7.0),
        (1, "control", "state", True, 2, 12.0, 12.0 / (1 + r) ** 2),
    ]
    assert got["replication"].tolist() == [w[0] for w in want]
    assert got["arm"].tolist() == [w[1] for w in want]
    assert got["party"].tolist() == [w[2] for w in want]
    assert got["public"].tolist() == [w[3] for w in want]
    assert got["year"].tolist() == [w[4] for w in want]
    assert got["item"].tolist() == ["benefits", "benefits", "funding", "earnings", "income_tax"]
    np.testing.assert_allclose(got["amount_nominal"], [w[5] for w in want], rtol=1e-15)
    np.testing.assert_allclose(got["amount_discounted"], [w[6] for w in want], rtol=1e-13)
    # the second alone: its rows, not shifted by the first one's
    alone = two.budget_columns()
    assert alone["year"].tolist() == [0, 0, 2]
    assert alone["party"].tolist() == ["investor", "participants", "state"]


def test_the_cashflows_of_two_evaluations_by_hand():
    one = _evaluation([("provider", "delivery_cost", np.array([0.0, -3.0, 0.0])),
                       ("kommune", "outcome_payment", np.zeros(3))], {})
    two = _evaluation([("investor", "funding", np.array([-1.0, 0.0, 0.0, 0.0, -2.0]))], {})
    got = Evaluation.cashflow_columns_of([one, two])
    assert got["replication"].tolist() == [0, 1, 1]
    assert got["party"].tolist() == ["provider", "investor", "investor"]
    assert got["item"].tolist() == ["delivery_cost", "funding", "funding"]
    assert got["month"].tolist() == [1, 0, 4] and got["month"].dtype == np.int32
    assert got["amount"].tolist() == [-3.0, -1.0, -2.0]
    empty = Evaluation.cashflow_columns_of([])
    assert all(len(v) == 0 for v in empty.values())


def test_budgets_of_evaluations_at_different_rates_are_refused():
    with pytest.raises(ValueError, match="different rates"):
        Evaluation.budget_columns_of([_evaluation([], {}, rate=0.04), _evaluation([], {}, rate=0.03)])


def test_months_matrix_pads_each_series_with_zero_months():
    m = months_matrix([np.array([1.0, 2.0]), np.array([]), np.array([3.0, 4.0, 5.0])], 4)
    assert m.tolist() == [[1.0, 2.0, 0.0, 0.0], [0.0] * 4, [3.0, 4.0, 5.0, 0.0]]
    assert months_matrix([np.ones(2), np.ones(2)], 2).tolist() == [[1.0, 1.0], [1.0, 1.0]]
    with pytest.raises(ValueError, match="does not fit"):
        months_matrix([np.ones(5)], 4)
    which, month, amount = nonzero_months([np.array([0.0, 2.0]), np.array([0.0, 0.0, 0.0, -1.0])])
    assert which.tolist() == [0, 1] and month.tolist() == [1, 3] and amount.tolist() == [2.0, -1.0]


def test_a_block_of_more_rows_than_one_slice_is_summed_as_each_ledger_alone(monkeypatch):
    rng = np.random.default_rng(4)
    ledgers = [{("treatment", p, "benefits"): rng.normal(size=n) * 1e4 for p in ("kommune", "state")}
               for n in (13, 40, 25)]
    alone = [bud.by_year_block([led], 0.04, [{"kommune"}]) for led in ledgers]
    monkeypatch.setattr(bud, "BLOCK_CELLS", 48)  # one row of 48 months at a time
    got = bud.by_year_block(ledgers, 0.04, [{"kommune"}] * 3)
    for name in ("year", "public", "amount_nominal", "amount_discounted"):
        _same(got[name], np.concatenate([a[name] for a in alone]), name)
    assert got["replication"].tolist() == [i for i, a in enumerate(alone) for _ in a["year"]]


def test_the_fiscal_kpis_of_a_small_difference_ledger_by_hand():
    sc = load_scenario("experiments/scenarios/default.toml")
    from effekt.contracts import kpis_for

    registry = kpis_for(sc.terms)
    r = 0.04
    diff = {("difference", "kommune", "benefits"): np.array([1.0, 2.0]),
            ("difference", "state", "income_tax"): np.array([0.0, 0.0, 3.0]),
            ("difference", "state", "benefits"): np.array([4.0]),
            ("difference", "participants", "earnings"): np.array([10.0, 0.0, 5.0])}
    got = _fiscal_kpis(diff, 3, r, 100.0, 5, 4, registry)
    k = kpi_key
    d = (1 + r) ** (np.arange(3) / 12)
    assert got[k("fiscal_net", arm="difference", party="kommune")] == 3.0
    assert got[k("fiscal_net", arm="difference", party="state")] == 7.0
    assert got[k("fiscal_net", arm="difference", party=None)] == 10.0  # participants are not public
    assert got[k("fiscal_npv", arm="difference", party="kommune")] == pytest.approx(1.0 + 2.0 / d[1],
                                                                                     rel=1e-15)
    assert got[k("fiscal_npv", arm="difference", party=None)] == pytest.approx(
        5.0 + 2.0 / d[1] + 3.0 / d[2], rel=1e-15)
    assert got[k("fiscal_benefits", arm="difference")] == 7.0
    assert got[k("fiscal_income_tax", arm="difference")] == 3.0
    assert got[k("benefits_saved_g", arm="difference")] == 0.07
    assert got[k("earnings_gain", arm="difference")] == 15.0
    assert got[k("earnings_gain_per_person", arm="difference")] == 3.0
    assert _fiscal_kpis(diff, 3, r, 100.0, 5, 0, registry) == {}
    assert math.isnan(_fiscal_kpis(diff, 3, r, 100.0, 0, 4, registry)[k("earnings_gain_per_person",
                                                                          arm="difference")])


def _fiscal_kpis_one_row_at_a_time(diff, n_months, rate, registry):
    """The fiscal NPVs and nets as the loop before issue 14 summed them: every total from zeros,
    the ledger's rows added one after another, each total discounted as ``npv`` discounts it."""
    from effekt.contracts import fiscal as fis
    from effekt.contracts.finance import npv

    def total(party=None, item=None):
        acc = np.zeros(n_months)
        for (_, p, i), a in diff.items():
            if (party is None and p not in fis.NOT_PUBLIC or p == party) and (item is None or i == item):
                acc[:len(a)] += a
        return acc

    out = {}
    for kpi in registry.select(measure="fiscal_npv", party_kind="public"):
        out[kpi.key] = npv(total(party=kpi.party), rate)
        out[kpi_key("fiscal_net", arm="difference", party=kpi.party)] = float(total(party=kpi.party).sum())
    out[kpi_key("earnings_gain", arm="difference")] = float(total("participants", "earnings").sum())
    return out


def test_the_fiscal_kpis_are_the_row_by_row_sums_bit_for_bit():
    sc = load_scenario("experiments/scenarios/koto_sib.toml")
    from effekt.contracts import kpis_for

    registry = kpis_for(sc.terms)
    rng = np.random.default_rng(8)
    parties = ("kommune", "state", "fylke", "participants", *sc.terms.commissioners)
    items = ("benefits", "income_tax", "earnings", "contract", "wage_cost")
    for _ in range(20):
        diff = {("difference", p, i): rng.normal(size=int(rng.integers(1, 40))) * 10.0 ** rng.integers(0, 7)
                for p in parties for i in items if rng.random() < 0.7}
        got = _fiscal_kpis(diff, 40, 0.04, 1.0, 3, 2, registry)
        for key, want in _fiscal_kpis_one_row_at_a_time(diff, 40, 0.04, registry).items():
            assert np.float64(got[key]).tobytes() == np.float64(want).tobytes(), key


def _card_terms():
    """The default contract with a count ladder on job_start (10 000, then 4 000 from the third),
    group prices on job_sustained and a per-person cap of 15 000 (all in units of nok_per_unit)."""
    from effekt.contracts.terms import Caps, Price, Step

    terms = load_scenario("experiments/scenarios/default.toml").terms
    prices = {"job_start": Price(default=10_000.0, ladder=[Step(start=0, price=10_000.0),
                                                           Step(start=2, price=4_000.0)]),
              "job_sustained": Price(default=8_000.0, by_group={"youth": 9_000.0})}
    return terms.model_copy(update={"prices": prices, "caps": Caps(per_person=15_000.0),
                                    "triggers": []})


def _found(rows):
    """Outcome columns from (arm, outcome, week, person_id, group) rows."""
    cols = list(zip(*rows, strict=True)) if rows else [[]] * 5
    return {"arm": np.array(cols[0], dtype=object), "outcome": np.array(cols[1], dtype=object),
            "week": np.array(cols[2], dtype=float), "person_id": np.array(cols[3], dtype=np.int64),
            "group": np.array(cols[4], dtype=object), "cohort": np.array(["k1"] * len(rows), dtype=object),
            "quantity": np.ones(len(rows))}


def _people(ids, entries):
    from effekt.contracts.payments import People

    n = len(ids)
    return People(arm=np.array(["treatment"] * n, dtype=object), person_id=np.array(ids, dtype=np.int64),
                  cohort=np.array(["k1"] * n, dtype=object), entry=np.array(entries, dtype=float))


def test_rate_cards_of_a_block_by_hand_count_ladder_groups_and_caps_per_replication():
    from effekt.contracts.payments import _rate_card, rate_cards

    terms = _card_terms()
    fx = terms.contract.nok_per_unit
    first = _found([("treatment", "job_start", 10.0, 1, "adult"), ("treatment", "job_start", 5.0, 2, "adult"),
                    ("treatment", "job_sustained", 30.0, 1, "youth"),
                    ("control", "job_start", 1.0, 9, "adult"), ("treatment", "job_start", 20.0, 3, "adult")])
    second = _found([("treatment", "job_start", 3.0, 1, "adult"),  # person 1 of another replication
                     ("treatment", "job_sustained", 40.0, 1, "adult")])
    empty = _found([])
    cards = rate_cards(terms, [first, empty, second], [_people([1, 2, 3], [0.0, 0.0, 0.0]), _people([], []),
                                                         _people([1], [2.0])])
    one, none, two = cards
    # the first: reached in the order person 2 (week 5), 1 (10), 3 (20), 1 (30); the ladder counts
    # job starts in this replication only: 10 000, 10 000, then 4 000 for the third
    assert one["person_id"].tolist() == [2, 1, 3, 1]
    assert one["price"].tolist() == [10_000 * fx, 10_000 * fx, 4_000 * fx, 9_000 * fx]
    # person 1 is capped at 15 000: 10 000, then 5 000 of the 9 000
    assert one["amount"].tolist() == [10_000 * fx, 10_000 * fx, 4_000 * fx, 5_000 * fx]
    assert one["capped"].tolist() == [False, False, False, True]
    assert len(none["amount"]) == 0
    # the second: its own ladder count and its own cap (person 1 there is someone else)
    assert two["price"].tolist() == [10_000 * fx, 8_000 * fx]
    assert two["amount"].tolist() == [10_000 * fx, 5_000 * fx]
    assert two["week"].tolist() == [3.0, 40.0]
    for card, (o, who) in zip(cards, [(first, _people([1, 2, 3], [0.0] * 3)), (empty, _people([], [])),
                                       (second, _people([1], [2.0]))], strict=True):
        alone = _rate_card(terms, o, who)
        assert list(card) == list(alone)
        for name in card:
            _same(card[name], alone[name], name)
