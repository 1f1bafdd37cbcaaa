"""A large replication's contract evaluation in bounded memory (issue 14, session 18): the public
ledger's sums and the provider's weekly costs are taken over the spells' months a piece of spells
at a time (``effekt.contracts.periods.CHUNK_CELLS``), each added into its one output in the order
one ``np.bincount`` over all the cells adds them, and a string column is read with one Python
string per distinct value. None of it may change a bit: each is checked here against the route
it replaced, kept below as it was at e136869 (the reference), on blocks of simulated
replications cut at different places, with pieces so small that their edges fall between two
spells of one person."""

from __future__ import annotations

import importlib
import os

import numpy as np
import pyarrow as pa
import pytest

from effekt.contracts import RecordBlock, evaluate_block, periods
from effekt.contracts import fiscal as fis
from effekt.contracts import outcomes as oc
from effekt.contracts.fiscal import (
    ALIASES,
    NO_SPELL,
    NOT_PUBLIC,
    SUBSIDY_PAYER_COLUMNS,
    SUBSIDY_SHARE_COLUMNS,
    WAGE_CLASS,
    WAGE_PAYER_COLUMNS,
    _block_kind_rules,
    _Book,
    _codes,
    _Parties,
    _party_codes,
    _payer_codes,
    _person_codes,
    _spell_persons,
    benefit_payers,
    default_fiscal,
)
from effekt.contracts.outcomes import Tables, _floats, _ints, _strings, among, has
from effekt.contracts.periods import WEEKS_PER_MONTH, month_of, months_in, spread_over_months
from effekt.experiments import load_scenario
from effekt.experiments.runner import valuation_of
from effekt.sim import replication_seed, simulate

ev = importlib.import_module("effekt.contracts.evaluate")  # the package's name `evaluate` is the function

# --- the reference: the route of e136869, copied (docstrings shortened) -------------------------


def _old_cells(start, end, n_months):
    edges = np.arange(n_months + 1) * WEEKS_PER_MONTH
    first = np.maximum(np.searchsorted(edges, start, side="right") - 1, 0)
    last = np.minimum(np.searchsorted(edges, end, side="left") - 1, n_months - 1)
    count = np.maximum(last - first + 1, 0)
    spell = np.repeat(np.arange(len(start)), count)
    month = np.arange(len(spell)) - np.repeat(np.cumsum(count) - count - first, count)
    weeks = np.minimum(np.repeat(end, count), edges[month + 1])
    np.subtract(weeks, np.maximum(np.repeat(start, count), edges[month]), out=weeks)
    return spell, month, np.clip(weeks, 0.0, None, out=weeks)


class _OldSpells:
    """``fiscal._Spells`` of e136869: every cell of the block at once, summed by ``np.bincount``."""

    def __init__(self, block, start, end, n_months):
        codes, uniques = _codes(block.spells, "arm", "")
        self.arm_names = sorted(uniques)
        place = {a: i for i, a in enumerate(self.arm_names)}
        rank = np.array([place[a] for a in uniques], dtype=np.intp)
        self.n_reps, self.n_months = block.n, n_months
        self.group = block.spell_replication() * len(self.arm_names) + rank[codes]
        self.cell_spell, self.cell_month, self.cell_weeks = _old_cells(start, end, n_months)
        self.n_groups = self.n_reps * len(self.arm_names)
        self._first = np.full(self.n_groups, NO_SPELL, dtype=np.intp)
        np.minimum.at(self._first, self.group, np.arange(len(self.group)))
        self._cell_year = self.cell_month // 12

    def one(self, party):
        return _Parties([party], np.zeros(len(self.group), dtype=np.intp),
                        np.array([party not in NOT_PUBLIC]), self.group, self._first)

    def parties(self, code, names, of=None):
        bins = self.group * len(names) + code
        index = np.arange(len(bins)) if of is None else np.flatnonzero(of)
        first = np.full(self.n_groups * len(names), NO_SPELL, dtype=np.intp)
        np.minimum.at(first, bins[index], index)
        return _Parties(names, code, np.array([p not in NOT_PUBLIC for p in names], dtype=bool), bins, first)

    def _binned(self, bins, n_bins, spell, month, values):
        at = (bins[self.cell_spell] * self.n_months + self.cell_month if spell is None
              else bins[spell] * self.n_months + month)
        out = np.bincount(at, weights=values, minlength=n_bins * self.n_months)
        return out.astype(float, copy=False).reshape(n_bins, self.n_months)

    def summed(self, annual, payer=None, of=None, weeks=None):
        bins, n_bins = ((self.group, self.n_groups) if payer is None
                        else (payer.bin, self.n_groups * len(payer.names)))
        if of is None:
            return self._binned(bins, n_bins, None, None, annual[self.cell_spell] * self.cell_weeks)
        rows, month = np.nonzero(weeks)
        spell = np.flatnonzero(of)[rows]
        return self._binned(bins, n_bins, spell, month, annual[spell] * weeks[rows, month])

    def yearly(self, annual):
        at = self.cell_spell * annual.shape[1] + self._cell_year
        return self._binned(self.group, self.n_groups, None, None, annual.ravel()[at] * self.cell_weeks)

    def in_year(self):
        n, n_years = len(self.group), -(-self.n_months // 12)
        out = np.bincount(self.cell_spell * n_years + self._cell_year, weights=self.cell_weeks,
                          minlength=n * n_years)
        return out.astype(float, copy=False).reshape(n, n_years)

    def any_of(self, flag):
        out = np.zeros(self.n_groups, dtype=bool)
        out[self.group[flag]] = True
        return out


def _old_yearly_tax(params, income, benefit, tax_class, person, in_year):
    rule = params.income_tax
    n, n_years = in_year.shape
    if benefit is None or tax_class is None:
        taxable = at_wage_rate = income
    else:
        taxable = income + np.where(tax_class != "", benefit, 0.0)
        at_wage_rate = income + np.where(tax_class == WAGE_CLASS, benefit, 0.0)
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


def _old_programme_costs(book, s, spells, start, n_months):
    cost_payer = _party_codes(*_codes(spells, "cost_payer", "none"))
    per_week = _floats(spells, "cost_per_week")
    cohort, cohort_weeks = _floats(spells, "cost_cohort"), _floats(spells, "cost_cohort_weeks")
    spread = (cohort > 0) & (cohort_weeks > 0)
    once = _floats(spells, "cost_once") + np.where(spread, 0.0, cohort)
    payer = s.parties(*cost_payer)
    monthly = s.summed(per_week, payer)
    np.add.at(monthly, (payer.bin, np.clip(month_of(start), 0, n_months - 1)), once)
    book.add("programme_costs", s.arm_names, payer, monthly, -1.0, weekly=True)
    if spread.any():
        over = spread_over_months(start[spread], start[spread] + cohort_weeks[spread], n_months)
        rate = np.zeros(len(spread))
        rate[spread] = cohort[spread] / cohort_weeks[spread]
        cohort_payer = s.parties(*cost_payer, of=spread)
        book.add("programme_costs", s.arm_names, cohort_payer, s.summed(rate, cohort_payer, spread, over),
                 -1.0, weekly=True)


def _old_integration_grant(book, block, n_months, ig):
    """``fiscal._integration_grant`` of e136869 (eligible persons x months matrices)."""
    if not ig.per_year:
        return
    persons, spells = block.persons, block.spells
    eligible = among(_strings(persons, "group", ""), ig.groups)
    eligible |= among(_strings(persons, "benefit_kind", "none"), ig.benefit_kinds)
    if not eligible.any():
        return
    arm_all = _strings(persons, "arm")
    person = _spell_persons(block, arm_all, _ints(persons, "person_id"))
    n = len(persons)
    known = person >= 0
    s_start = _floats(spells, "start")
    moved_at = np.full(n, np.inf)
    is_moved = known & (_strings(spells, "state", "") == "moved")
    np.minimum.at(moved_at, person[is_moved], s_start[is_moved])
    data_end = np.full(n, -np.inf)
    np.maximum.at(data_end, person[known], _floats(spells, "end")[known])
    data_end[np.isneginf(data_end)] = 0.0
    stop = np.minimum(moved_at, data_end)[eligible]
    entry = _floats(persons, "entry_week")[eligible]
    arm = arm_all[eligible]
    tm = (np.arange(n_months) + 0.5) * WEEKS_PER_MONTH
    year = ig.year_at_entry - 1 + np.floor((tm[None, :] - entry[:, None]) / 52.0).astype(int)
    active = (tm[None, :] >= entry[:, None]) & (tm[None, :] < stop[:, None]) & (year < len(ig.per_year))
    per_year = np.asarray(ig.per_year, float)
    monthly = np.where(active, per_year[np.clip(year, 0, len(per_year) - 1)] / 12.0, 0.0)
    arm_names = sorted(set(arm.tolist()))
    place = {a: i for i, a in enumerate(arm_names)}
    group = block.person_replication()[eligible] * len(arm_names) + np.array([place[a] for a in arm.tolist()],
                                                                             dtype=np.int64)
    n_groups = block.n * len(arm_names)
    cells = (group[:, None] * n_months + np.arange(n_months)).ravel()
    total = np.bincount(cells, weights=monthly.ravel(),
                        minlength=n_groups * n_months).reshape(n_groups, n_months)
    present = np.full(n_groups, NO_SPELL, dtype=np.intp)
    present[group] = 0
    for party, sign in (("kommune", 1.0), ("state", -1.0)):
        book.add("integration_grant", arm_names, _Parties([party], np.zeros(len(group), dtype=np.intp),
                 np.array([True]), group, present), total, sign, public_only=False, weekly=True, phase=1)


def _old_public_ledgers(block, G, n_months, params=None, payers=None):
    """``fiscal.public_ledgers`` of e136869."""
    params = params or default_fiscal()
    payers = payers if payers is not None else (params.benefit_payers or benefit_payers())
    w = params.wages
    spells = block.spells
    n = len(spells)
    start, end = _floats(spells, "start"), _floats(spells, "end")
    employed = _strings(spells, "state", "") == "employed"
    income = np.where(employed, _floats(spells, "annual_wage") * _floats(spells, "fte"), 0.0)
    has_benefit = has(spells, "benefit_kind")
    benefit = tax_class_of = None
    if has_benefit:
        payer_parts_of, tax_class_of = _block_kind_rules(spells, payers, params, block.spell_bounds)
        benefit = _floats(spells, "benefit_g") * G
    s = _OldSpells(block, start, end, n_months)
    tax, k_tax, f_tax = _old_yearly_tax(params, income, benefit, tax_class_of, _person_codes(spells, s.group),
                                        s.in_year())
    kept = params.kommune_kept_share()
    aga = params.employer_contributions.rate
    labour_cost = income * (1 + aga)
    wage_payer = s.parties(*_payer_codes(spells, WAGE_PAYER_COLUMNS, w.default_wage_payer))
    share_col = next((c for c in SUBSIDY_SHARE_COLUMNS if has(spells, c)), None)
    share = _floats(spells, share_col) if share_col else np.zeros(n)
    sub_payer = s.parties(*_payer_codes(spells, SUBSIDY_PAYER_COLUMNS, w.default_subsidy_payer))
    public_job = employed & wage_payer.public[wage_payer.code]
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
    book = _Book(block.n)
    if has_benefit:
        for code, names, part_share in payer_parts_of:
            payer = s.parties(code, names)
            paid = benefit if part_share is None else benefit * part_share
            book.add("benefits", s.arm_names, payer, s.summed(paid, payer), -1.0)
    book.add("earnings", s.arm_names, s.one("participants"), s.summed(income), 1.0, public_only=False)
    parts = [("kommune", k_tax * kept)]
    if kept < 1:
        parts.append(("other_kommuner", k_tax * (1 - kept)))
    parts += [("fylke", f_tax), ("state", tax - k_tax - f_tax)]
    fylke = s.any_of((f_tax != 0).any(axis=1))
    for party, annual in parts:
        if party != "fylke" or fylke.any():
            book.add("income_tax", s.arm_names, s.one(party), s.yearly(annual), 1.0,
                     where=fylke if party == "fylke" else None)
    to = ALIASES.get(params.employer_contributions.to, params.employer_contributions.to)
    book.add("employer_contributions", s.arm_names, s.one(to), s.summed(income * aga), 1.0)
    costed = s.any_of(wage_cost != 0)
    arms = s.arm_names
    if costed.any():
        book.add("wage_cost", arms, wage_payer, s.summed(wage_cost, wage_payer), -1.0, where=costed)
        book.add("value_of_work", arms, wage_payer, s.summed(work_value, wage_payer), 1.0, where=costed)
        if sales is not None:
            book.add("sales_revenue", arms, wage_payer, s.summed(sales, wage_payer), 1.0,
                     where=costed & s.any_of(sales != 0))
    subsidised = s.any_of(subsidy != 0)
    if subsidised.any():
        book.add("wage_subsidy", arms, sub_payer, s.summed(subsidy, sub_payer), -1.0, where=subsidised)
        book.add("wage_subsidy", arms, wage_payer, s.summed(subsidy, wage_payer), 1.0, where=subsidised)
    if has(spells, "cost_payer"):
        _old_programme_costs(book, s, spells, start, n_months)
    if params.integration_grant.per_year:
        _old_integration_grant(book, block, n_months, params.integration_grant)
    return book.ledgers()


def _old_provider_cost_matrix(terms, t, spells, n_months):
    """``evaluate._provider_cost_matrix`` of e136869 (a spells x months matrix of weeks)."""
    p = terms.provider
    fx = terms.contract.nok_per_unit
    n_reps = len(n_months)
    lengths = np.asarray(n_months, dtype=np.int64)
    width = int(lengths.max())
    costs = np.zeros((n_reps, width))
    pb, sb = ev._bounds_of(t.person_bounds, len(t.arm)), ev._bounds_of(t.spell_bounds, len(t.s_state))
    person_rep = np.repeat(np.arange(n_reps), np.diff(pb))
    treated = t.arm == "treatment"
    if not treated.any():
        return costs
    active = np.bincount(person_rep[treated], minlength=n_reps) > 0
    cohort = t.cohort[treated].tolist()
    names = sorted(set(cohort))
    code = {c: j for j, c in enumerate(names)}
    rep = person_rep[treated]
    key = rep * len(names) + np.fromiter(map(code.__getitem__, cohort), dtype=np.int64, count=len(cohort))
    first = np.full(n_reps * len(names), np.inf)
    np.minimum.at(first, key, t.entry[treated])
    present = np.unique(key)
    of = present // len(names)
    flat = costs.reshape(-1)
    np.add.at(flat, of * width + np.minimum(month_of(first[present]), lengths[of] - 1), p.per_cohort * fx)
    np.add.at(flat, rep * width + np.minimum(month_of(t.entry[treated]), lengths[rep] - 1),
              p.per_participant * fx)
    spell_rep = np.repeat(np.arange(n_reps), np.diff(sb))
    s_treated = _strings(spells, "arm") == "treatment"
    mine = s_treated & ~t.s_usual & active[spell_rep]
    prog = mine & among(t.s_state, ev.PROVIDER_WEEK_STATES)
    if p.per_week and prog.any():
        weeks = spread_over_months(t.s_start[prog], t.s_end[prog], width)
        whose = spell_rep[prog]
        cells = (whose[:, None] * width + np.arange(width)).ravel()
        summed = np.bincount(cells, weights=weeks.ravel(), minlength=n_reps * width).reshape(n_reps, width)
        for r in np.flatnonzero(lengths == 1).tolist():
            summed[r, :1] = weeks[whose == r][:, :1].sum(axis=0)
        worked = np.bincount(whose, minlength=n_reps) > 0
        costs[worked] += p.per_week * fx * summed[worked]
        costs[np.arange(width) >= lengths[:, None]] = 0.0
    if p.pathway_costs and has(spells, "cost_payer"):
        payer = _strings(spells, "cost_payer") == "provider"
        for r in np.flatnonzero(active).tolist():
            lo, hi = int(sb[r]), int(sb[r + 1])
            ev._pathway_costs(costs[r, :lengths[r]], t, spells, mine[lo:hi] & payer[lo:hi], lo)
    return costs


def _old_read_strings(c: pa.ChunkedArray, default):
    """``outcomes._read_strings`` of e136869 for an Arrow string column (a string per row)."""
    out = c.to_numpy(zero_copy_only=False)
    if default is not None and c.null_count:
        out = np.array(out, dtype=object)
        out[np.equal(out, None)] = default
    return out


# --- the cases ----------------------------------------------------------------------------------

SCENARIOS = {"default": (None, ()), "koto_sib": ("experiments/scenarios/koto_sib.toml", ()),
             "kommune_tracks": ("experiments/scenarios/kommune_tracks.toml", ()),
             "dwp_lesson": ("experiments/scenarios/dwp_lesson.toml", ()),
             # the integration grant (refugees, introduksjonsstønad)
             "refugees": (None, ("world.cohorts[0].groups={R = 0.6, A = 0.4}",))}
N_REPS = 3


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def world(request):
    """A scenario, its valuation and the record tables of its first replications."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path, assignments = SCENARIOS[request.param]
    scenario = load_scenario(os.path.join(here, path) if path else None, list(assignments))
    records = []
    for rep in range(N_REPS):
        t = simulate(scenario.simulated_world, replication_seed(scenario.design.seed, rep))
        records.append((t.persons, t.spells, t.events))
    return request.param, scenario, valuation_of(scenario), records


def _same_ledgers(new: list, old: list, where: str) -> None:
    """The same keys in the same order, each month the same bits."""
    assert len(new) == len(old), where
    for r, (a, b) in enumerate(zip(new, old, strict=True)):
        assert list(a) == list(b), f"{where}, replication {r}: keys differ"
        for k in a:
            x, y = np.asarray(a[k], dtype=float), np.asarray(b[k], dtype=float)
            assert x.shape == y.shape and np.array_equal(x.view(np.int64), y.view(np.int64)), \
                f"{where}, replication {r}, {k}: {x} != {y}"


def _n_months(scenario) -> int:
    return max(months_in(scenario.world.horizon_weeks), scenario.terms.contract.final_month + 1)


@pytest.mark.parametrize("chunk", [1, 7, 64, None])
def test_the_ledgers_in_pieces_are_the_old_route_bit_for_bit(world, chunk, monkeypatch):
    """Every (replication, arm, party, item)'s months, in pieces of 1, 7, 64 cells and the
    default, are the old route's bits (every cell at once, ``np.bincount``), keys in its order;
    also over 13 and 1 months (a contract year cut short; one month)."""
    name, scenario, valuation, records = world
    if chunk is not None:
        monkeypatch.setattr(periods, "CHUNK_CELLS", chunk)
    block = RecordBlock.of(records)
    for n_months in (_n_months(scenario), 13, 1):
        args = (valuation.G, n_months, valuation.fiscal, dict(valuation.benefit_payers))
        new, old = fis.public_ledgers(block, *args), _old_public_ledgers(block, *args)
        if name == "refugees":  # the case is there to sum the grant in pieces of persons
            assert any(k[2] == "integration_grant" for ledger in new for k in ledger)
        _same_ledgers(new, old, f"{name}, {n_months} months, pieces of {chunk}")


def test_pieces_of_seven_cells_cut_between_two_spells_of_one_person(world, monkeypatch):
    """The pieces the test above sums in do cut a person's spells apart (so the sums carried from
    one piece to the next are tested), and cover every spell once, in order."""
    name, scenario, _, records = world
    monkeypatch.setattr(periods, "CHUNK_CELLS", 7)
    block = RecordBlock.of(records)
    spells = block.spells
    start, end = _floats(spells, "start"), _floats(spells, "end")
    s = fis._Spells.of(block, start, end, _n_months(scenario))
    pieces = s._pieces()
    assert pieces[0][0] == 0 and pieces[-1][1] == len(spells)
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))
    person = _person_codes(spells, s.group)
    cut_inside = [lo for lo, _ in pieces[1:] if person[lo] == person[lo - 1]]
    assert cut_inside, f"{name}: no piece begins inside a person's spells"
    assert max(int(s.count[lo:hi].sum()) for lo, hi in pieces) <= 7 + _n_months(scenario)


def test_blocks_cut_at_different_places_give_each_replication_the_old_bits(world, monkeypatch):
    """A replication's ledger is the old route's of the whole block, whether it is summed alone,
    in the block's first part or in its last (pieces of 5 cells)."""
    name, scenario, valuation, records = world
    monkeypatch.setattr(periods, "CHUNK_CELLS", 5)
    n_months = _n_months(scenario)
    args = (valuation.G, n_months, valuation.fiscal, dict(valuation.benefit_payers))
    whole = _old_public_ledgers(RecordBlock.of(records), *args)
    for cuts in ([0, 1, N_REPS], [0, N_REPS - 1, N_REPS], [0, 1, 2, N_REPS]):
        got = []
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
            got += fis.public_ledgers(RecordBlock.of(records[lo:hi]), *args)
        _same_ledgers(got, whole, f"{name}, blocks cut at {cuts}")


@pytest.mark.parametrize("chunk", [1, 7, None])
def test_the_provider_costs_in_pieces_are_the_old_matrix_bit_for_bit(world, chunk, monkeypatch):
    """The provider's cost matrix of a block, its per-week costs summed in pieces (no spells x
    months matrix), is the old route's bits, with replications of different lengths (one of a
    single month: its column summed as numpy sums it)."""
    name, scenario, _, records = world
    if chunk is not None:
        monkeypatch.setattr(periods, "CHUNK_CELLS", chunk)
    block = RecordBlock.of(records)
    tables = Tables.of_block(block)
    terms = valuation_of(scenario).priced(scenario.terms)
    n = _n_months(scenario)
    for n_months in ([n] * N_REPS, [n, 1, n + 5][:N_REPS], [1] * N_REPS):
        new = ev._provider_cost_matrix(terms, tables, block.spells, n_months)
        old = _old_provider_cost_matrix(terms, tables, block.spells, n_months)
        assert new.shape == old.shape
        assert np.array_equal(new.view(np.int64), old.view(np.int64)), f"{name}, {n_months}"


@pytest.mark.parametrize("values", [
    ["employed", "programme", "employed", None, "moved", None],
    ["a"] * 5,
    [None, None],
    [],
])
def test_a_string_column_is_read_as_the_old_strings(values):
    """A string column read with one Python string per distinct value (shared by its rows) holds
    the values the old reading gave (a string per row), a null as the default or None, in
    several chunks too; equal strings are one object."""
    for chunks in ([values], [values[:1], values[1:]]):
        c = pa.chunked_array(chunks, type=pa.string())
        for default in (None, "none"):
            new, old = oc._interned_strings(c, default), _old_read_strings(c, default)
            assert new.dtype == object and old.dtype == object
            assert new.tolist() == old.tolist()
        got = oc._interned_strings(c, None)
        first = {}
        for v in got.tolist():
            if v is not None:
                assert first.setdefault(v, v) is v


def test_a_whole_evaluation_does_not_depend_on_the_pieces(world, monkeypatch):
    """``evaluate_block``'s KPIs, cashflows and budgets are the same bits in pieces of 3 cells and
    of the default size."""
    name, scenario, valuation, records = world

    def evaluated():
        got = evaluate_block(scenario.terms, RecordBlock.of(records), scenario.world.horizon_weeks, valuation,
                             design=scenario.evaluation, long_run_weeks=scenario.long_run_weeks)
        return ([e.kpis for e in got], ev.Evaluation.cashflow_columns_of(got),
                ev.Evaluation.budget_columns_of(got))

    default = evaluated()
    monkeypatch.setattr(periods, "CHUNK_CELLS", 3)
    small = evaluated()
    for a, b in zip(default[0], small[0], strict=True):
        assert list(a) == list(b)
        x, y = np.array(list(a.values())), np.array(list(b.values()))
        assert np.array_equal(x.view(np.int64), y.view(np.int64))
    for a, b in zip(default[1:], small[1:], strict=True):
        assert list(a) == list(b)
        for k in a:
            x, y = np.asarray(a[k]), np.asarray(b[k])
            same = (np.array_equal(x.view(np.int64), y.view(np.int64)) if x.dtype.kind == "f"
                    else x.tolist() == y.tolist())
            assert x.dtype == y.dtype and same, f"{name}: {k}"
