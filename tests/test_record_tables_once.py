"""Issue 14, sixth part: a task's record tables built once, not four small tables per replication.

:class:`effekt.sim.Tables` keeps the engine's rows and builds each Arrow table on its first read;
:func:`effekt.sim.concat_records` joins a task's replications and builds each of the four tables
once from all their rows. What a caller sees must not change:

* the joined tables are ``pyarrow.concat_tables`` of the replications' own tables: the same
  schema (types, nullability), the same values (nulls where they were null, NaN where NaN) in the
  same row order, whether the replications were read before, made from Arrow tables or neither;
* each replication's row counts are known without building anything, and a table nobody reads
  (``capacity`` in a batch) is never built;
* ``Tables(persons=..., events=..., spells=..., capacity=...)`` from Arrow tables, ``items()``,
  equality and pickling behave as the dataclass did;
* the runner's block (``RecordBlock.joined`` of the joined tables) is the block of the
  replications' own tables.

No timing here: see benchmarks/bench_engine.py and BENCHMARKS.md.
"""

from __future__ import annotations

import math
import pickle

import pyarrow as pa
import pytest

import effekt.sim.records as records
from effekt.contracts import RecordBlock
from effekt.sim import (
    SCHEMAS,
    Cohort,
    Counterfactual,
    Tables,
    World,
    concat_records,
    engine,
    load_pathway,
    replication_seed,
    simulate,
)
from effekt.sim.people import Person
from effekt.sim.streams import Streams

NAMES = tuple(SCHEMAS)


def _world(size: int = 14, horizon: float = 156, slots: int | None = 1, **counterfactual) -> World:
    """The Kongsberg kull with few placements, so people wait (``granted`` NaN at the horizon,
    nulls in ``stage`` and ``contract``): every kind of value a record column holds."""
    pathway = load_pathway("kongsberg_kull")
    if slots is not None:
        pathway = pathway.model_copy(update={"capacity": {
            n: c.model_copy(update={"slots": slots}) for n, c in pathway.capacity.items()}})
    return World(pathway=pathway, horizon_weeks=horizon,
                 counterfactual=Counterfactual(**(counterfactual or {"mode": "parallel"})),
                 cohorts=[Cohort(name="kull", start_week=0, size=size, groups={"A": 0.5, "B": 0.5})])


def _replications(world: World, n: int) -> list[Tables]:
    return [simulate(world, replication_seed(7, r)) for r in range(n)]


def _assert_same_table(got: pa.Table, want: pa.Table, where: str) -> None:
    """Column by column: type, nullability, null positions, and every value (NaN as NaN)."""
    assert got.schema.equals(want.schema, check_metadata=True), where
    assert got.num_rows == want.num_rows, where
    for field in want.schema:
        a, b = got.column(field.name), want.column(field.name)
        assert a.type == b.type == field.type, (where, field.name)
        assert a.null_count == b.null_count, (where, field.name)
        assert a.is_null().to_pylist() == b.is_null().to_pylist(), (where, field.name)
        va, vb = a.to_pylist(), b.to_pylist()
        if pa.types.is_floating(field.type):
            assert [("nan" if x is not None and math.isnan(x) else x) for x in va] == \
                   [("nan" if x is not None and math.isnan(x) else x) for x in vb], (where, field.name)
        else:
            assert va == vb, (where, field.name)


@pytest.mark.parametrize("counterfactual", [{"mode": "parallel"}, {"mode": "rct", "treatment_share": 0.5},
                                            {"mode": "parallel", "comparison": "matched"}])
def test_joined_tables_are_the_replications_tables_concatenated(counterfactual):
    world = _world(**counterfactual)
    joined = concat_records(_replications(world, 6))
    own = _replications(world, 6)  # the same replications, each table built on its own
    for name in NAMES:
        want = pa.concat_tables([getattr(t, name) for t in own])
        _assert_same_table(getattr(joined, name), want, name)
    # the kinds of values the check is about are really there
    assert joined.capacity.column("granted").to_pylist().count(None) == 0
    assert any(math.isnan(x) for x in joined.capacity.column("granted").to_pylist())
    assert joined.spells.column("stage").null_count > 0 and joined.spells.column("contract").null_count > 0


def test_replications_read_before_or_made_from_arrow_join_the_same():
    world = _world()
    fresh = _replications(world, 5)
    want = {name: pa.concat_tables([getattr(t, name) for t in _replications(world, 5)]) for name in NAMES}
    mixed = _replications(world, 5)
    mixed[1].spells, mixed[3].persons, mixed[4].capacity  # noqa: B018 (read: built, rows let go)
    arrow = mixed[2]
    mixed[2] = Tables(persons=arrow.persons, events=arrow.events, spells=arrow.spells,
                      capacity=arrow.capacity)
    for records_ in (fresh, mixed):
        joined = concat_records(records_)
        for name in NAMES:
            _assert_same_table(getattr(joined, name), want[name], name)


def test_row_counts_come_without_building_and_each_table_is_built_once(monkeypatch):
    world = _world()
    reps = _replications(world, 4)
    built: list[tuple[str, int]] = []
    real = records._table

    def counting(name: str, rows: list[tuple]) -> pa.Table:
        built.append((name, len(rows)))
        return real(name, rows)

    monkeypatch.setattr(records, "_table", counting)
    sizes = [(t.num_rows("persons"), t.num_rows("spells"), t.num_rows("events")) for t in reps]
    joined = concat_records(reps)
    assert built == []  # counting rows and joining build nothing
    block = RecordBlock.joined(joined.persons, joined.spells, joined.events, sizes)
    # one table each for persons, spells and events, from every replication's rows; no capacity
    assert sorted(built) == sorted((n, sum(s[j] for s in sizes))
                                   for j, n in enumerate(("persons", "spells", "events")))
    joined.persons  # noqa: B018 (read again: kept, not rebuilt)
    assert len(built) == 3
    monkeypatch.setattr(records, "_table", real)
    own = RecordBlock.of([(t.persons, t.spells, t.events) for t in reps])
    for i in range(len(reps)):
        for got, want in zip(block.replication(i), own.replication(i), strict=True):
            assert got.equals(want), i
    assert [t.num_rows(n) for t in reps for n in NAMES] == [len(getattr(t, n)) for t in reps for n in NAMES]


def test_a_world_with_no_rows_gives_empty_tables_of_the_schemas():
    world = _world(size=1, horizon=1, slots=None, mode="none")
    reps = _replications(world, 3)
    assert [t.num_rows("capacity") for t in reps] == [0, 0, 0]
    joined = concat_records(reps)
    for name in NAMES:
        table = getattr(joined, name)
        assert table.schema.equals(SCHEMAS[name]), name
    assert joined.capacity.num_rows == 0
    assert joined.persons.num_rows == 3  # one person per replication


def test_tables_from_arrow_items_equality_and_pickling_behave_as_before():
    world = _world(slots=None)  # nobody waits at the horizon: no NaN (pyarrow's == has NaN != NaN)
    t = simulate(world, replication_seed(7, 0))
    again = simulate(world, replication_seed(7, 0))
    assert [n for n, _ in t.items()] == list(NAMES)
    copy = Tables(**dict(t.items()))
    assert copy == again and again == t
    assert copy != simulate(world, replication_seed(7, 1))
    assert pickle.loads(pickle.dumps(again)) == t  # not yet built: its rows travel
    assert pickle.loads(pickle.dumps(copy)) == t
    assert all(isinstance(table, pa.Table) for _, table in copy.items())
    assert concat_records([t]) is t  # a task of one replication: its own tables
    assert "spells=" in repr(t)


def test_bad_use_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="no replications"):
        concat_records([])
    t = simulate(_world(size=2), replication_seed(7, 0))
    with pytest.raises(KeyError, match="no record table 'spell'"):
        t.num_rows("spell")
    with pytest.raises(ValueError, match=r"no rows given for \['capacity'\]"):
        Tables.from_rows({"persons": [], "events": [], "spells": []})


def _spell(pid: int, state: str, start: float, end: float, benefit: tuple[str, float], wage: float = 0.0,
           contract: str | None = None) -> tuple:
    tail = engine._EMPLOYER_PAYS if state == "employed" else engine._NO_PAY
    return ("treatment", pid, state, None, contract, start, end, 1.0 if wage else 0.0, wage) + benefit + tail


def test_the_post_pass_leaves_what_no_rule_touches_and_cuts_where_one_does():
    """Hand-made spells through the post-pass of a world where every rule is on (benefit changes,
    dagpenger, wage growth of 2 % a year worked, grading beside work): what no rule touches comes
    out as it went in (in time order), and the cuts are where the rules put them."""
    world = _world(size=2, horizon=300, slots=None, mode="none")
    model = engine._Model(world, Streams.from_seed(replication_seed(7, 0)))
    assert model.growth == (0.02, 10) and model.dagpenger is not None and model.grading
    aap = ("aap", 2.0)
    never = [_spell(1, "not_employed", 20.0, 300.0, aap), _spell(1, "programme", 0.0, 20.0, aap)]
    changing = [_spell(2, "not_employed", 0.0, 100.0, aap), _spell(2, "not_employed", 100.0, 156.0, aap),
                _spell(2, "not_employed", 156.0, 300.0, aap)]
    jobs = [_spell(3, "employed", 0.0, 30.0, ("none", 0.0), 400_000.0, "temporary"),
            _spell(3, "employed", 30.0, 300.0, ("none", 0.0), 400_000.0, "permanent")]
    model.rec.spells[:] = never + changing + jobs
    person = Person(person_id=2, cohort="kull", group="A", age=40, norwegian="fluent", education="primary",
                    work_capacity=1.0, benefit_kind="aap", benefit_g=2.0, entry_week=0.0,
                    changes=((156.0, "sosialhjelp", 1.0),))
    model._apply_rules([person])
    out = model.rec.spells
    assert out[:2] == [never[1], never[0]]  # never in work, no change: untouched, in time order
    # ending at (or before) the change: untouched; from the change on: the new benefit, not cut
    assert out[2:5] == changing[:2] + [changing[2][:9] + ("sosialhjelp", 1.0) + changing[2][11:]]
    # a job in which no year is completed keeps its wage; the next is cut at each year worked
    # (30 + 22 weeks = the first year, then every 52 weeks), the wage 2 % higher in each piece
    assert out[5] == jobs[0]
    pieces = out[6:]
    assert [(s[5], s[6]) for s in pieces] == [(30.0, 52.0), (52.0, 104.0), (104.0, 156.0), (156.0, 208.0),
                                              (208.0, 260.0), (260.0, 300.0)]
    assert [s[8] for s in pieces] == pytest.approx([400_000.0 * 1.02 ** k for k in range(6)], rel=1e-14)
    assert all(s[:5] == jobs[1][:5] and s[9:] == jobs[1][9:] for s in pieces)
