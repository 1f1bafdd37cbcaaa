"""A block of replications (effekt.contracts.RecordBlock): bounds, slices whose columns are views of
the block's, and evaluate_block giving each replication what evaluate gives it alone."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from effekt.contracts import RecordBlock, evaluate, evaluate_block
from effekt.contracts import outcomes as oc
from effekt.experiments import load_scenario
from effekt.experiments.runner import valuation_of
from effekt.sim import replication_seed, simulate

SCENARIO = "experiments/scenarios/default.toml"


@pytest.fixture(scope="module")
def simulated():
    sc = load_scenario(SCENARIO)
    return sc, [simulate(sc.simulated_world, replication_seed(11, r)) for r in range(6)]


def test_bounds_count_each_replications_rows(simulated):
    _, sims = simulated
    block = RecordBlock.of([(t.persons, t.spells, t.events) for t in sims])
    assert block.n == 6
    assert block.person_bounds.tolist() == np.cumsum([0] + [t.persons.num_rows for t in sims]).tolist()
    assert block.spell_bounds[-1] == sum(t.spells.num_rows for t in sims) == block.spells.num_rows
    spells = [i for i, t in enumerate(sims) for _ in range(t.spells.num_rows)]
    persons = [i for i, t in enumerate(sims) for _ in range(t.persons.num_rows)]
    assert block.spell_replication().tolist() == spells
    assert block.person_replication().tolist() == persons


def test_a_replications_slices_are_its_own_tables(simulated):
    _, sims = simulated
    block = RecordBlock.of([(t.persons, t.spells, t.events) for t in sims])
    for i, t in enumerate(sims):
        p, s, e = block.replication(i)
        assert p.equals(t.persons) and s.equals(t.spells) and e.equals(t.events)


def test_slice_columns_are_views_of_the_blocks_and_equal_their_own(simulated):
    _, sims = simulated
    block = RecordBlock.of([(t.persons, t.spells, t.events) for t in sims])
    _, s2, _ = block.replication(2)
    whole = oc._strings(block.spells, "state", "")
    got = oc._strings(s2, "state", "")
    lo, hi = int(block.spell_bounds[2]), int(block.spell_bounds[3])
    assert np.shares_memory(got, whole) and got.tolist() == whole[lo:hi].tolist()
    own = sims[2].spells
    for reader, col in ((oc._strings, "benefit_kind"), (oc._floats, "end"), (oc.bools, "business_as_usual"),
                        (oc._ints, "person_id"), (oc._floats, "subsidy_share")):
        a, b = reader(s2, col), reader(own, col)
        assert a.dtype == b.dtype and a.tolist() == b.tolist(), col
        assert not a.flags.writeable  # nobody can change another replication's columns
    # a column with nulls in another replication only: the slice reads as its own table reads
    assert oc._strings(s2, "wage_payer", "none").tolist() == oc._strings(own, "wage_payer", "none").tolist()


def test_a_freed_slice_forgets_its_block():
    whole = pa.table({"x": [1.0, 2.0, 3.0]})
    part = whole.slice(1, 2)
    oc.share_columns(part, whole, 1, 3)
    assert oc._floats(part, "x").tolist() == [2.0, 3.0]
    key = id(part)
    del part
    gc.collect()
    assert key not in oc._SHARED


def test_share_columns_refuses_rows_that_do_not_fit():
    whole = pa.table({"x": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="do not fit"):
        oc.share_columns(whole.slice(0, 2), whole, 1, 2)


def test_joined_checks_the_counts(simulated):
    _, sims = simulated
    t = sims[0]
    sizes = [(t.persons.num_rows, t.spells.num_rows, t.events.num_rows)]
    block = RecordBlock.joined(t.persons, t.spells, t.events, sizes)
    assert block.n == 1 and block.replication(0)[1] is t.spells
    with pytest.raises(ValueError, match="spells table has"):
        RecordBlock.joined(t.persons, t.spells, t.events, [(sizes[0][0], sizes[0][1] + 1, sizes[0][2])])
    with pytest.raises(ValueError, match="no replications"):
        RecordBlock.joined(t.persons, t.spells, t.events, [])


def test_of_refuses_mixed_events_and_no_replications(simulated):
    _, sims = simulated
    with pytest.raises(ValueError, match="some replications have an events table"):
        RecordBlock.of([(sims[0].persons, sims[0].spells, sims[0].events), (sims[1].persons, sims[1].spells,
                                                                            None)])
    with pytest.raises(ValueError, match="no replications"):
        RecordBlock.of([])
    with pytest.raises(IndexError, match="not a replication"):
        RecordBlock.one(sims[0].persons, sims[0].spells).replication(1)


def test_pandas_frames_make_a_block_too(simulated):
    _, sims = simulated
    frames = [(t.persons.to_pandas(), t.spells.to_pandas(), None) for t in sims[:3]]
    block = RecordBlock.of(frames)
    p, s, e = block.replication(1)
    assert e is None
    pd.testing.assert_frame_equal(s, frames[1][1])


def test_evaluate_block_gives_each_replication_what_evaluate_gives_it_alone(simulated):
    sc, sims = simulated
    val = valuation_of(sc)
    block = RecordBlock.of([(t.persons, t.spells, t.events) for t in sims])
    together = evaluate_block(sc.terms, block, sc.world.horizon_weeks, val, design=sc.evaluation,
                              long_run_weeks=sc.long_run_weeks)
    assert len(together) == len(sims)
    for t, ev in zip(sims, together, strict=True):
        alone = evaluate(sc.terms, t.persons, t.spells, sc.world.horizon_weeks, val, events=t.events,
                         design=sc.evaluation, long_run_weeks=sc.long_run_weeks)
        assert list(ev.kpis) == list(alone.kpis)
        np.testing.assert_array_equal(np.array(list(ev.kpis.values())), np.array(list(alone.kpis.values())))
        for name in ("cashflow_columns", "budget_columns"):
            a, b = getattr(ev, name)(), getattr(alone, name)()
            assert list(a) == list(b)
            for col in a:
                assert a[col].tolist() == b[col].tolist(), (name, col)


def test_a_task_cut_into_blocks_stores_what_one_block_stores(monkeypatch):
    """run_task evaluates at most about BLOCK_SPELLS spells as one block: where it cuts the task
    changes no number (a replication's sums are in its own spell order, whatever its block)."""
    from effekt.experiments import runner

    sc = load_scenario(SCENARIO)
    task = runner.Task(point=0, start=0, stop=9)
    whole = runner.run_task(sc, task, tables=("spells",))
    monkeypatch.setattr(runner, "BLOCK_SPELLS", 200)  # about two replications a block
    cut = runner.run_task(sc, task, tables=("spells",))
    assert whole.keys() == cut.keys()
    for name in whole:
        assert whole[name].equals(cut[name]), name
