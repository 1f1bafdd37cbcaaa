"""Issue 14: the public ledger of a block of replications, summed in one pass over its spells.

``public_ledgers(block, ...)`` sums every item in spell order per (replication, arm, party, item)
bin, so each replication's ledger must be the same, key for key, in the same key order and bit for
bit, whether it is summed alone, in a block of one, or among others (in any order). Checked here on
simulated tables of scenarios that exercise every item (benefits and benefit payers' shares, income
tax by party, public wage payers, wage subsidies, sales revenue, stage and per-cohort costs, the
integration grant), on hand-built tables whose replications differ in parties, arms and spells,
against a ledger worked out by hand, and against the implementation before (``_reference_ledger``:
the per-replication loop with BLAS products, as it was at e8f571b) to a relative 1e-12. No timing
here: see ``benchmarks/bench_vectorise.py --ledger`` and BENCHMARKS.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from effekt.contracts import RecordBlock
from effekt.contracts.fiscal import (
    ALIASES,
    NOT_PUBLIC,
    SUBSIDY_PAYER_COLUMNS,
    SUBSIDY_SHARE_COLUMNS,
    WAGE_CLASS,
    WAGE_PAYER_COLUMNS,
    FiscalParams,
    IntegrationGrant,
    Ledger,
    _accumulate,
    benefit_payers,
    default_fiscal,
    fiscal_path,
    payer_parts,
    public_ledger,
    public_ledgers,
)
from effekt.contracts.outcomes import Tables, _floats, _strings, among, has
from effekt.contracts.periods import (
    WEEKS_PER_MONTH,
    month_cells,
    month_of,
    month_span,
    months_in,
    spread_over_months,
)
from effekt.contracts.records import person, persons_table, spell, spells_table
from effekt.experiments import load_scenario
from effekt.experiments.runner import valuation_of
from effekt.sim import PERSONS, SPELLS, replication_seed, simulate
from effekt.specfile import SpecError, said

SCENARIOS = Path(__file__).resolve().parents[1] / "experiments" / "scenarios"
REFUGEES = "world.cohorts[0].groups={R = 0.6, A = 0.4}"  # the integration grant, introduksjonsstønad
CASES = {
    "default": (None, []),
    "koto_sib": (SCENARIOS / "koto_sib.toml", []),  # Finland: a benefit paid by state and kunta in shares
    "kommune_tracks": (SCENARIOS / "kommune_tracks.toml", []),  # sales revenue, public wage payers
    "dwp_lesson": (SCENARIOS / "dwp_lesson.toml", []),
    # a lønnstilskudd and a per-cohort cost spread over weeks; a flat subsidy from NAV
    "baerum": (None, ["pathway.template=baerum_pilot", "world.horizon_weeks=286"]),
    "enkla_jobb": (None, ["pathway.template=enkla_jobb", "world.horizon_weeks=286"]),
    "gloppen_refugees": (None, ["pathway.template=gloppen", "contract.template=gloppen_outcomes", REFUGEES,
                                "world.horizon_weeks=286"]),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    path, extra = CASES[request.param]
    sc = load_scenario(path, extra)
    val = valuation_of(sc)
    tables = [simulate(sc.simulated_world, replication_seed(11, r)) for r in range(4)]
    return request.param, val, months_in(sc.world.horizon_weeks) + 1, tables


def _same_bits(got: Ledger, want: Ledger, where: str) -> None:
    assert list(got) == list(want), where
    for key, a in want.items():
        assert got[key].dtype == a.dtype and got[key].shape == a.shape, (where, key)
        assert got[key].tobytes() == a.tobytes(), (where, key)


def _close(got: Ledger, want: Ledger, where: str, rtol: float = 1e-12) -> float:
    """Same keys in the same order, every amount to ``rtol`` (zeros exactly); the worst relative
    difference."""
    assert list(got) == list(want), where
    worst = 0.0
    for key, a in want.items():
        np.testing.assert_allclose(got[key], a, rtol=rtol, atol=0, err_msg=f"{where}: {key}")
        nonzero = a != 0
        if nonzero.any():
            worst = max(worst, float(np.max(np.abs(got[key][nonzero] - a[nonzero]) / np.abs(a[nonzero]))))
    return worst


def test_a_replication_s_ledger_is_the_same_bits_in_any_block(case):
    name, val, n_months, tables = case
    payers = dict(val.benefit_payers)
    records = [(t.persons, t.spells, t.events) for t in tables]
    alone = [public_ledger(t.persons, t.spells, val.G, n_months, val.fiscal, payers) for t in tables]
    together = public_ledgers(RecordBlock.of(records), val.G, n_months, val.fiscal, payers)
    backwards = public_ledgers(RecordBlock.of(records[::-1]), val.G, n_months, val.fiscal, payers)[::-1]
    assert len(together) == len(tables)
    for i, want in enumerate(alone):
        _same_bits(together[i], want, f"{name}: replication {i} in the block")
        _same_bits(backwards[i], want, f"{name}: replication {i} in the block backwards")
        one = public_ledgers(RecordBlock.one(tables[i].persons, tables[i].spells), val.G, n_months,
                             val.fiscal, payers)
        _same_bits(one[0], want, f"{name}: replication {i} as a block of one")


def test_the_ledger_agrees_with_the_per_replication_loop_before_to_1e_12(case):
    name, val, n_months, tables = case
    payers = dict(val.benefit_payers)
    block = RecordBlock.of([(t.persons, t.spells, t.events) for t in tables])
    for i, (got, t) in enumerate(zip(public_ledgers(block, val.G, n_months, val.fiscal, payers), tables,
                                     strict=True)):
        want = _reference_ledger(t.persons, t.spells, val.G, n_months, val.fiscal, payers)
        _close(got, want, f"{name}: replication {i}")
        tabled = public_ledger(t.persons, t.spells, val.G, n_months, val.fiscal, payers,
                               Tables.of(t.persons, t.spells))
        _same_bits(tabled, got, f"{name}: replication {i} with its Tables")


def test_the_cases_exercise_every_item_and_payer():
    seen: set[tuple[str, str]] = set()
    for path, extra in CASES.values():
        sc = load_scenario(path, extra)
        val = valuation_of(sc)
        t = simulate(sc.simulated_world, replication_seed(11, 0))
        ledger = public_ledger(t.persons, t.spells, val.G, months_in(sc.world.horizon_weeks) + 1,
                               val.fiscal, dict(val.benefit_payers))
        seen |= {(party, item) for _, party, item in ledger}
    for want in [("kommune", "benefits"), ("state", "benefits"), ("fylke", "income_tax"),
                 ("other_kommuner", "income_tax"), ("kommune", "wage_cost"), ("kommune", "value_of_work"),
                 ("kommune", "sales_revenue"), ("kommune", "wage_subsidy"), ("state", "wage_subsidy"),
                 ("kommune", "programme_costs"), ("state", "programme_costs"),
                 ("kommune", "integration_grant"), ("state", "integration_grant"),
                 ("participants", "earnings"), ("state", "employer_contributions")]:
        assert want in seen, want


def test_the_cells_summed_are_the_weeks_spread_over_months_bit_for_bit():
    """The (spell, month) cells the ledger sums over hold every nonzero entry of
    ``spread_over_months``, with the same bits, in spell then month order (the order of the sums)."""
    rng = np.random.default_rng(3)
    edges = np.arange(30) * WEEKS_PER_MONTH
    start = np.concatenate([rng.uniform(-20, 140, 400), edges[[0, 3, 12]], [-5.0, 130.0, 7.0, 50.0]])
    end = np.concatenate([start[:400] + rng.exponential(20, 400), edges[[3, 4, 29]],
                          [-1.0, 200.0, 7.0, np.inf]])  # edges, before the data, empty, open-ended
    for n_months in (1, 12, 29, 40):
        dense = spread_over_months(start, end, n_months)
        months = np.arange(n_months + 1) * WEEKS_PER_MONTH  # the ledger's cells of these spells
        spell, month, weeks = month_cells(start, end, *month_span(start, end, months), months)
        assert np.all(np.diff(spell * n_months + month) > 0)  # spell order, then month order
        back = np.zeros_like(dense)
        back[spell, month] = weeks
        assert back.tobytes() == dense.tobytes()  # no nonzero entry left out, each the same bits


# hand-built replications that differ in which parties come first, which arms and spells they have

G = 100_000.0


def _rules() -> FiscalParams:
    """Simple rules for hand computation: a flat 25 % tax, of which the kommune's skatteøre 40 %
    and the fylke's 10 %; employer contributions 14.1 %; AAP paid by the state and taxed as a
    wage; sosialhjelp paid by the kommune, not taxed; a benefit financed half and half."""
    return FiscalParams.model_validate({
        "income_tax": {"wage_points": [0.0, 1e7], "average_rates": [0.25, 0.25],
                       "kommune_shares": [0.4, 0.4], "fylke_shares": [0.1, 0.1]},
        "employer_contributions": {"rate": 0.141},
        "integration_grant": {"per_year": [120_000.0, 60_000.0], "groups": ["R"]},
        "benefit_payers": {"aap": "state", "sosialhjelp": "kommune",
                           "shared": {"state": 0.5, "kommune": 0.5}},
        "taxable_benefits": {"aap": True, "sosialhjelp": False, "shared": False},
    })


def _replications() -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Four replications: (0) the state's benefit first, then a job the kommune pays with a
    subsidy from NAV and a stage cost; (1) the kommune's benefit first, a refugee, a shared
    benefit, no control arm; (2) no spells at all; (3) control only, a job with an ordinary
    employer and a per-cohort cost spread over weeks; (4) an untaxed benefit only, a public wage
    payer named on a spell out of work."""
    r0 = (persons_table([person(0), person(1), person(0, "control")]),
          spells_table([spell(0, "not_employed", 0, 13, benefit_kind="aap", benefit_g=2.0),
                        spell(0, "employed", 13, 60, annual_wage=520_000, wage_payer="kommune",
                              subsidy_payer="nav", subsidy_share=0.5, cost_payer="kommune",
                              cost_per_week=1_000.0, cost_once=5_000.0, stage="job"),
                        spell(1, "not_employed", 0, 40, benefit_kind="sosialhjelp", benefit_g=1.0),
                        spell(0, "not_employed", 0, 60, "control", benefit_kind="aap", benefit_g=2.0)]))
    r1 = (persons_table([person(0, group="R", entry_week=2.0), person(1)]),
          spells_table([spell(0, "not_employed", 2, 30, benefit_kind="sosialhjelp", benefit_g=1.0),
                        spell(1, "not_employed", 0, 20, benefit_kind="aap", benefit_g=2.0),
                        spell(1, "not_employed", 20, 50, benefit_kind="shared", benefit_g=1.5),
                        spell(0, "moved", 30, 60)]))
    r2 = (persons_table([person(0)]), spells_table([]))
    r3 = (persons_table([person(0, "control")]),
          spells_table([spell(0, "employed", 0, 50, "control", annual_wage=400_000, fte=0.5,
                              wage_payer="employer", cost_payer="state", cost_cohort=26_000.0,
                              cost_cohort_weeks=26.0, stage="course")]))
    r4 = (persons_table([person(0)]),
          spells_table([spell(0, "not_employed", 0, 40, benefit_kind="sosialhjelp", benefit_g=1.0,
                              wage_payer="kommune")]))
    return [r0, r1, r2, r3, r4]


def _arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """``frame`` as Arrow, in the record schema ``schema`` (what ``sim`` writes)."""
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


@pytest.mark.parametrize("as_arrow", [False, True])
def test_hand_built_replications_keep_their_own_keys_and_bits_in_a_block(as_arrow):
    reps = _replications()
    if as_arrow:
        reps = [(_arrow(p, PERSONS), _arrow(s, SPELLS)) for p, s in reps]
    rules = _rules()
    alone = [public_ledger(p, s, G, 18, rules) for p, s in reps]
    together = public_ledgers(RecordBlock.of([(p, s, None) for p, s in reps]), G, 18, rules)
    for i, want in enumerate(alone):
        _same_bits(together[i], want, f"replication {i}")
        _close(want, _reference_ledger(*reps[i], G, 18, rules), f"replication {i} against the loop before")
    # the parties in order of first appearance among each replication's own spells
    assert [k for k in alone[0] if k[0] == "treatment" and k[2] == "benefits"] == [
        ("treatment", "state", "benefits"), ("treatment", "kommune", "benefits")]
    assert [k for k in alone[1] if k[2] == "benefits"] == [
        ("treatment", "kommune", "benefits"), ("treatment", "state", "benefits")]  # shared: merged in
    assert alone[2] == {}  # no spells, nobody eligible for the grant: nothing
    assert {k[0] for k in alone[3]} == {"control"}
    assert not any(k[2] in ("wage_cost", "wage_subsidy") for k in alone[3])  # an ordinary employer
    assert ("treatment", "kommune", "integration_grant") in alone[1]
    assert not any(k[2] == "integration_grant" for k in alone[0])
    # an item's condition is the replication's own: no skatteøre to the fylke, no wage paid
    assert list(alone[4]) == [("treatment", "kommune", "benefits"), ("treatment", "participants", "earnings"),
                              ("treatment", "kommune", "income_tax"), ("treatment", "state", "income_tax"),
                              ("treatment", "state", "employer_contributions")]
    assert list(alone[0])[-1] == ("treatment", "kommune", "programme_costs")  # control's keys come first
    assert list(alone[0])[0][0] == "control"


def test_a_worked_ledger_by_hand():
    """Replication 0 of the hand-built ones, each amount worked out from the rules."""
    (persons, spells), rules = _replications()[0], _rules()
    ledger = public_ledger(persons, spells, G, 18, rules)
    lo, hi = np.arange(18) * WEEKS_PER_MONTH, np.arange(1, 19) * WEEKS_PER_MONTH  # months of 52 / 12 weeks
    weeks = {(a, b): np.clip(np.minimum(b, hi) - np.maximum(a, lo), 0, None)  # weeks of [a, b) in each
             for a, b in [(0, 13), (13, 60), (0, 40), (0, 60)]}
    wage, aga = 520_000.0, 0.141
    earnings = wage * weeks[13, 60] / 52
    labour = earnings * (1 + aga)
    aap_t, aap_c = 2.0 * G * weeks[0, 13] / 52, 2.0 * G * weeks[0, 60] / 52
    want = {
        ("control", "state", "benefits"): -aap_c,
        ("control", "participants", "earnings"): 0 * aap_c,
        ("control", "kommune", "income_tax"): 0.25 * 0.4 * aap_c,  # AAP is taxed as a wage
        ("control", "fylke", "income_tax"): 0.25 * 0.1 * aap_c,
        ("control", "state", "income_tax"): 0.25 * 0.5 * aap_c,
        ("control", "state", "employer_contributions"): 0 * aap_c,
        ("treatment", "state", "benefits"): -aap_t,
        ("treatment", "kommune", "benefits"): -1.0 * G * weeks[0, 40] / 52,
        ("treatment", "participants", "earnings"): earnings,
        ("treatment", "kommune", "income_tax"): 0.25 * 0.4 * (earnings + aap_t),
        ("treatment", "fylke", "income_tax"): 0.25 * 0.1 * (earnings + aap_t),
        ("treatment", "state", "income_tax"): 0.25 * 0.5 * (earnings + aap_t),
        ("treatment", "state", "employer_contributions"): aga * earnings,
        ("treatment", "kommune", "wage_cost"): -labour,
        ("treatment", "kommune", "value_of_work"): labour,  # productivity share 1
        ("treatment", "state", "wage_subsidy"): -0.5 * labour,  # NAV is the state
        ("treatment", "kommune", "wage_subsidy"): 0.5 * labour,
        ("treatment", "kommune", "programme_costs"): -(1_000.0 * weeks[13, 60]
                                                      + 5_000.0 * (np.arange(18) == month_of(13.0))),
    }
    assert list(ledger) == list(want)
    for key, a in want.items():
        np.testing.assert_allclose(ledger[key], a, rtol=1e-12, atol=1e-9, err_msg=str(key))


def test_the_grant_and_a_spread_cohort_cost_by_hand():
    reps, rules = _replications(), _rules()
    grant = public_ledger(*reps[1], G, 18, rules)[("treatment", "kommune", "integration_grant")]
    mid = (np.arange(18) + 0.5) * WEEKS_PER_MONTH  # paid in the months whose middle is from entry to the move
    np.testing.assert_array_equal(grant, np.where((mid >= 2.0) & (mid < 30.0), 120_000.0 / 12, 0.0))
    cost = public_ledger(*reps[3], G, 18, rules)[("control", "state", "programme_costs")]
    np.testing.assert_allclose(cost, -1_000.0 * spread_over_months(np.array([0.0]), np.array([26.0]), 18)[0],
                               rtol=1e-12)  # 26 000 over 26 weeks


def test_an_unknown_benefit_kind_is_refused_as_the_first_replication_alone_refuses_it():
    reps, rules = _replications(), _rules()
    bad1 = (reps[1][0], reps[1][1].assign(benefit_kind=["sosialhjelp", "dagpenger", "aap", "none"]))
    bad3 = (reps[3][0], reps[3][1].assign(benefit_kind=["ufore"]))
    with pytest.raises(SpecError) as alone:
        public_ledger(*bad1, G, 18, rules)
    with pytest.raises(SpecError) as together:
        block = RecordBlock.of([(p, s, None) for p, s in [reps[0], bad1, reps[2], bad3]])
        public_ledgers(block, G, 18, rules)
    assert str(together.value) == str(alone.value)
    assert together.value.text("nb") == alone.value.text("nb")
    assert "dagpenger" in str(together.value) and "ufore" not in str(together.value)
    assert "ytelsen 'dagpenger' har ingen betaler" in together.value.text("nb")


# the implementation before (e8f571b): one replication at a time, sums by BLAS products


def _ref_by_party(rows: Ledger, arm: str, item: str, parties: np.ndarray | str, annual: np.ndarray,
                  weeks: np.ndarray, sign: float) -> None:
    if isinstance(parties, str):
        if parties not in NOT_PUBLIC or item == "earnings":
            _accumulate(rows, arm, parties, item, sign * (annual @ weeks) / 52.0)
        return
    for party in dict.fromkeys(parties.tolist()):
        if party in NOT_PUBLIC and item != "earnings":
            continue
        mask = parties == party
        a, w = (annual, weeks) if mask.all() else (annual[mask], weeks[mask])
        _accumulate(rows, arm, str(party), item, sign * (a @ w) / 52.0)


def _ref_parties(values: np.ndarray) -> np.ndarray:
    named = {v: ALIASES.get(v, v) if isinstance(v, str) else "none" for v in set(values.tolist())}
    return np.array([named[v] for v in values.tolist()], dtype=object)


def _ref_yearly(annual: np.ndarray, weeks: np.ndarray) -> np.ndarray:
    n_months = weeks.shape[1]
    out = np.empty(n_months)
    for y in range(annual.shape[1]):
        months = slice(12 * y, min(12 * y + 12, n_months))
        out[months] = annual[:, y] @ weeks[:, months]
    return out / 52.0


def _ref_income_tax(rows: Ledger, arm: str, tax: np.ndarray, kommune: np.ndarray, fylke: np.ndarray,
                    kept: float, weeks: np.ndarray) -> None:
    parts = [("kommune", kommune * kept)]
    if kept < 1:
        parts.append(("other_kommuner", kommune * (1 - kept)))
    if fylke.any():
        parts.append(("fylke", fylke))
    parts.append(("state", tax - kommune - fylke))
    for party, annual in parts:
        _accumulate(rows, arm, party, "income_tax", _ref_yearly(annual, weeks))


def _ref_kind_rules(kinds: np.ndarray, payers: dict, params: FiscalParams):
    taxable = params.taxable_benefits
    codes, names = pd.factorize(kinds, use_na_sentinel=False)
    names = [v if isinstance(v, str) else "none" for v in names]
    unknown = [k for k in names if k not in payers and k != "none"]
    untaxed = [k for k in names if taxable and k not in taxable and k != "none"]
    if unknown or untaxed:
        raise SpecError(params.source or str(fiscal_path()), [said(f"unknown {unknown} {untaxed}", "ukjent")])
    split = [payer_parts(payers.get(k, "none")) for k in names]
    parts = []
    for j in range(max((len(x) for x in split), default=1)):
        party = np.array([x[j][0] if j < len(x) else "none" for x in split], dtype=object)
        share = [x[j][1] if j < len(x) else 0.0 for x in split]
        parts.append((party[codes], None if all(v == 1.0 for v in share) else np.asarray(share)[codes]))
    tax_class = np.array([params.tax_class(k) or "" for k in names], dtype=object)
    return parts, tax_class[codes]


def _ref_person_codes(spells, arms: np.ndarray) -> np.ndarray:
    n = len(arms)
    if not has(spells, "person_id"):
        return np.arange(n)
    pid = _floats(spells, "person_id", np.nan)
    arm_code = pd.factorize(arms, use_na_sentinel=False)[0]
    known = np.isfinite(pid)
    lo = pid[known].min() if known.any() else 0.0
    span = (pid[known].max() - lo + 1) if known.any() else 1.0
    key = np.where(known, arm_code * span + (pid - lo), -1.0 - np.arange(n))
    return pd.factorize(key)[0]


def _ref_yearly_tax(params, income, benefit, tax_class, person, weeks):
    rule = params.income_tax
    n, n_months = weeks.shape
    n_years = -(-n_months // 12)
    if benefit is None or tax_class is None:
        taxable = at_wage_rate = income
    else:
        taxable = income + np.where(tax_class != "", benefit, 0.0)
        at_wage_rate = income + np.where(tax_class == WAGE_CLASS, benefit, 0.0)
    full = weeks if n_months == 12 * n_years else np.pad(weeks, ((0, 0), (0, 12 * n_years - n_months)))
    in_year = full.reshape(n, n_years, 12).sum(axis=2)
    n_persons = int(person.max()) + 1 if n else 0
    cell = (person[:, None] * n_years + np.arange(n_years)).ravel()
    year_income = np.bincount(cell, weights=(taxable[:, None] * in_year).ravel(),
                              minlength=n_persons * n_years).reshape(n_persons, n_years) / 52.0
    rate = rule.rate(year_income)
    tax = rate[person] * at_wage_rate[:, None]
    k_tax = tax * rule.kommune_share(year_income)[person]
    f_tax = tax * rule.fylke_share(year_income)[person]
    if benefit is not None and tax_class is not None:
        for name, table in params.benefit_tax_classes.items():
            m = tax_class == name
            if not m.any():
                continue
            y = year_income[person[m]]
            t = table.rate(y) * benefit[m][:, None]
            tax[m] += t
            k_tax[m] += t * table.kommune_share(y)
            f_tax[m] += t * table.fylke_share(y)
    return tax, k_tax, f_tax


def _ref_programme_costs(rows, arm, payer, per_week, once, start, weeks) -> None:
    n = weeks.shape[1]
    for party in dict.fromkeys(payer.tolist()):
        if party in NOT_PUBLIC:
            continue
        mask = payer == party
        monthly = per_week @ weeks if mask.all() else per_week[mask] @ weeks[mask]
        np.add.at(monthly, np.clip(month_of(start[mask]), 0, n - 1), once[mask])
        _accumulate(rows, arm, str(party), "programme_costs", -monthly)


def _ref_integration_grant(rows: Ledger, t: Tables, n_months: int, ig: IntegrationGrant) -> None:
    if not ig.per_year:
        return
    eligible = among(t.group, ig.groups)
    eligible |= among(t.benefit_kind, ig.benefit_kinds)
    if not eligible.any():
        return
    n = len(t.entry)
    known = t.s_person >= 0
    moved_at = np.full(n, np.inf)
    is_moved = known & (t.s_state == "moved")
    np.minimum.at(moved_at, t.s_person[is_moved], t.s_start[is_moved])
    data_end = np.full(n, -np.inf)
    np.maximum.at(data_end, t.s_person[known], t.s_end[known])
    data_end[np.isneginf(data_end)] = 0.0
    stop = np.minimum(moved_at, data_end)[eligible]
    entry = t.entry[eligible]
    arm = t.arm[eligible]
    tm = (np.arange(n_months) + 0.5) * WEEKS_PER_MONTH
    year = ig.year_at_entry - 1 + np.floor((tm[None, :] - entry[:, None]) / 52.0).astype(int)
    active = (tm[None, :] >= entry[:, None]) & (tm[None, :] < stop[:, None]) & (year < len(ig.per_year))
    per_year = np.asarray(ig.per_year, float)
    monthly = np.where(active, per_year[np.clip(year, 0, len(per_year) - 1)] / 12.0, 0.0)
    for a in sorted(set(arm.tolist())):
        total = monthly[arm == a].sum(axis=0)
        _accumulate(rows, a, "kommune", "integration_grant", total)
        _accumulate(rows, a, "state", "integration_grant", -total)


def _reference_ledger(persons, spells, G: float, n_months: int, params: FiscalParams | None = None,
                      payers: dict | None = None) -> Ledger:
    """``public_ledger`` as it was at e8f571b (its body and helpers copied; only the error message
    of an unknown kind is shortened): one replication, a BLAS product per (arm, party, item)."""
    params = params or default_fiscal()
    payers = payers if payers is not None else (params.benefit_payers or benefit_payers())
    w = params.wages
    n = len(spells)
    arms = _strings(spells, "arm", "")
    start, end = _floats(spells, "start"), _floats(spells, "end")
    weeks_all = spread_over_months(start, end, n_months)
    employed = _strings(spells, "state", "") == "employed"
    income = np.where(employed, _floats(spells, "annual_wage") * _floats(spells, "fte"), 0.0)
    has_benefit = has(spells, "benefit_kind")
    benefit = tax_class_of = None
    if has_benefit:
        kinds = _strings(spells, "benefit_kind", "none")
        payer_parts_of, tax_class_of = _ref_kind_rules(kinds, payers, params)
        benefit_payers_of = [(_ref_parties(party), share) for party, share in payer_parts_of]
        benefit = _floats(spells, "benefit_g") * G
    tax, k_tax, f_tax = _ref_yearly_tax(params, income, benefit, tax_class_of,
                                        _ref_person_codes(spells, arms), weeks_all)
    kept = params.kommune_kept_share()
    aga = params.employer_contributions.rate
    labour_cost = income * (1 + aga)
    payer_col = next((c for c in WAGE_PAYER_COLUMNS if has(spells, c)), None)
    wage_payer = _ref_parties(_strings(spells, payer_col, w.default_wage_payer) if payer_col
                              else np.full(n, w.default_wage_payer, dtype=object))
    share_col = next((c for c in SUBSIDY_SHARE_COLUMNS if has(spells, c)), None)
    share = _floats(spells, share_col) if share_col else np.zeros(n)
    sub_col = next((c for c in SUBSIDY_PAYER_COLUMNS if has(spells, c)), None)
    sub_payer = _ref_parties(_strings(spells, sub_col, w.default_subsidy_payer) if sub_col
                             else np.full(n, w.default_subsidy_payer, dtype=object))
    public_job = employed & ~among(wage_payer, sorted(NOT_PUBLIC))
    wage_cost = np.where(public_job, labour_cost, 0.0)
    work_value = (wage_cost * w.productivity(_strings(spells, "contract", "")) if public_job.any()
                  else wage_cost)
    sales = None
    if w.revenue_share_by_stage and public_job.any() and has(spells, "stage"):
        sold_share = w.revenue_share(_strings(spells, "stage", ""))
        sold = public_job & np.isfinite(sold_share)
        if sold.any():
            sales = np.where(sold, wage_cost * np.nan_to_num(sold_share), 0.0)
            work_value = np.where(sold, 0.0, work_value)
    subsidy = np.where(employed, share * labour_cost, 0.0)
    has_costs = has(spells, "cost_payer")
    if has_costs:
        cost_payer = _ref_parties(_strings(spells, "cost_payer", "none"))
        per_week = _floats(spells, "cost_per_week")
        cohort, cohort_weeks = _floats(spells, "cost_cohort"), _floats(spells, "cost_cohort_weeks")
        spread = (cohort > 0) & (cohort_weeks > 0)
        once = _floats(spells, "cost_once") + np.where(spread, 0.0, cohort)
    rows: Ledger = {}
    for arm in sorted(set(arms.tolist())):
        m = arms == arm
        weeks = weeks_all[m]
        if has_benefit:
            for party, part_share in benefit_payers_of:
                paid = benefit[m] if part_share is None else benefit[m] * part_share[m]
                _ref_by_party(rows, arm, "benefits", party[m], paid, weeks, -1.0)
        _ref_by_party(rows, arm, "earnings", "participants", income[m], weeks, 1.0)
        _ref_income_tax(rows, arm, tax[m], k_tax[m], f_tax[m], kept, weeks)
        _ref_by_party(rows, arm, "employer_contributions", ALIASES.get(params.employer_contributions.to,
                      params.employer_contributions.to), income[m] * aga, weeks, 1.0)
        if wage_cost[m].any():
            _ref_by_party(rows, arm, "wage_cost", wage_payer[m], wage_cost[m], weeks, -1.0)
            _ref_by_party(rows, arm, "value_of_work", wage_payer[m], work_value[m], weeks, 1.0)
            if sales is not None and sales[m].any():
                _ref_by_party(rows, arm, "sales_revenue", wage_payer[m], sales[m], weeks, 1.0)
        if subsidy[m].any():
            _ref_by_party(rows, arm, "wage_subsidy", sub_payer[m], subsidy[m], weeks, -1.0)
            _ref_by_party(rows, arm, "wage_subsidy", wage_payer[m], subsidy[m], weeks, 1.0)
        if has_costs:
            _ref_programme_costs(rows, arm, cost_payer[m], per_week[m], once[m], start[m], weeks)
            ms = m & spread
            if ms.any():
                over = spread_over_months(start[ms], start[ms] + cohort_weeks[ms], n_months)
                rate = cohort[ms] / cohort_weeks[ms]
                for party in dict.fromkeys(cost_payer[ms].tolist()):
                    if party not in NOT_PUBLIC:
                        pm = cost_payer[ms] == party
                        _accumulate(rows, arm, str(party), "programme_costs", -(rate[pm] @ over[pm]))
    if params.integration_grant.per_year:
        _ref_integration_grant(rows, Tables.of(persons, spells), n_months, params.integration_grant)
    return rows
