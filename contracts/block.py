"""A block of replications: the record tables of several replications one after another.

A task of a batch evaluates tens or hundreds of small replications (a Kongsberg kull is about 30
people and 125 spells). Evaluated one at a time, every numpy call and every conversion of an Arrow
column costs its fixed overhead per replication, and that overhead, not the arithmetic, was most
of ``effekt run`` (issue 14). A :class:`RecordBlock` holds the replications' ``persons``,
``spells`` and ``events`` concatenated, with the row bounds of each replication, so that:

* each column is read from Arrow into numpy **once per block** (:mod:`effekt.contracts.outcomes`'
  column cache): a replication's tables (:meth:`RecordBlock.replication`) are zero-copy slices
  whose columns read as views of the block's arrays, the same values the replication's own
  tables give;
* sums over spells can be taken over the whole block at once with a replication code beside
  their other keys (:func:`effekt.contracts.fiscal.public_ledgers`), each (replication, key) sum
  added in spell order, so a replication's sums do not depend on which block it is in.

One replication is a block of one (:meth:`RecordBlock.one`): there is one implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from effekt import lazy
from effekt.contracts.outcomes import Frame, _replication_of_rows, share_columns

np = lazy.module("numpy", globals())  # on first use: `effekt validate` needs neither (issue 14)
pa = lazy.module("pyarrow", globals())

__all__ = ["RecordBlock"]


def _bounds(sizes: Sequence[int]) -> np.ndarray:
    """Row bounds from row counts: replication ``i`` is rows ``bounds[i]:bounds[i + 1]``."""
    return np.concatenate([[0], np.cumsum(np.asarray(sizes, dtype=np.int64))]).astype(np.int64)


def _concat(tables: Sequence[Frame]) -> Frame:
    """Tables of one schema one after another (Arrow: one chunk per column; pandas: a new frame)."""
    if all(isinstance(t, pa.Table) for t in tables):
        # one chunk per column: slicing a table of many chunks costs per chunk and column
        return tables[0] if len(tables) == 1 else pa.concat_tables(list(tables)).combine_chunks()
    from effekt.lazy import pandas as pd

    frames = [t.to_pandas() if isinstance(t, pa.Table) else t for t in tables]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _slice(table: Frame, lo: int, hi: int) -> Frame:
    """Rows ``lo:hi`` of ``table``; an Arrow slice reads its columns from the block's arrays."""
    if isinstance(table, pa.Table):
        part = table.slice(lo, hi - lo)
        share_columns(part, table, lo, hi)
        return part
    return table.iloc[lo:hi].reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class RecordBlock:
    """The record tables of ``n`` replications, concatenated, with each one's row bounds.

    ``persons``, ``spells`` and ``events`` (None: no events table) are the replications' tables
    one after another; ``person_bounds[i]:person_bounds[i + 1]`` are replication ``i``'s rows of
    ``persons`` (likewise ``spell_bounds``, ``event_bounds``). Person ids repeat across
    replications: a person is (replication, arm, ``person_id``)."""

    persons: Frame
    spells: Frame
    events: Frame | None
    person_bounds: np.ndarray
    spell_bounds: np.ndarray
    event_bounds: np.ndarray | None

    @classmethod
    def of(cls, records: Sequence[tuple[Frame, Frame, Frame | None]]) -> RecordBlock:
        """The block of replications given as (persons, spells, events) tables, in order; either
        every replication has an events table or none has."""
        if not records:
            raise ValueError("RecordBlock.of: no replications (give at least one (persons, spells, "
                             "events) triple)")
        with_events = [r[2] is not None for r in records]
        if any(with_events) and not all(with_events):
            raise ValueError("RecordBlock.of: some replications have an events table and some do not")
        persons = [r[0] for r in records]
        spells = [r[1] for r in records]
        events = [r[2] for r in records] if all(with_events) else None
        return cls(persons=_concat(persons), spells=_concat(spells),
                   events=_concat(events) if events is not None else None,
                   person_bounds=_bounds([len(t) for t in persons]),
                   spell_bounds=_bounds([len(t) for t in spells]),
                   event_bounds=_bounds([len(t) for t in events]) if events is not None else None)

    @classmethod
    def joined(cls, persons: Frame, spells: Frame, events: Frame | None,
               sizes: Sequence[tuple[int, int, int]]) -> RecordBlock:
        """The block of tables already concatenated (e.g. built once for a task from every
        replication's rows): ``sizes`` are each replication's (persons, spells, events) row
        counts, in order; they must add up to the tables' lengths."""
        if not sizes:
            raise ValueError("RecordBlock.joined: no replications (give each one's row counts)")
        counts = np.asarray(sizes, dtype=np.int64).reshape(len(sizes), 3)
        tables = (persons, spells, events)
        for j, (name, table) in enumerate(zip(("persons", "spells", "events"), tables, strict=True)):
            total = int(counts[:, j].sum())
            if table is None and total:
                raise ValueError(f"RecordBlock.joined: {total} {name} rows counted but no {name} table")
            if table is not None and len(table) != total:
                raise ValueError(f"RecordBlock.joined: the {name} table has {len(table)} rows, the "
                                 f"replications' counts add up to {total}")
        return cls(persons=persons, spells=spells, events=events, person_bounds=_bounds(counts[:, 0]),
                   spell_bounds=_bounds(counts[:, 1]),
                   event_bounds=_bounds(counts[:, 2]) if events is not None else None)

    @classmethod
    def one(cls, persons: Frame, spells: Frame, events: Frame | None = None) -> RecordBlock:
        """One replication as a block of one (its tables as they are, no copy)."""
        return cls(persons=persons, spells=spells, events=events,
                   person_bounds=np.array([0, len(persons)], dtype=np.int64),
                   spell_bounds=np.array([0, len(spells)], dtype=np.int64),
                   event_bounds=np.array([0, len(events)], dtype=np.int64) if events is not None else None)

    @property
    def n(self) -> int:
        """The number of replications in the block."""
        return len(self.person_bounds) - 1

    def spell_replication(self) -> np.ndarray:
        """Each spell's replication (0 .. n - 1), in the block's row order."""
        return _replication_of_rows(self.spell_bounds, len(self.spells))

    def person_replication(self) -> np.ndarray:
        """Each person row's replication (0 .. n - 1), in the block's row order."""
        return _replication_of_rows(self.person_bounds, len(self.persons))

    def replication(self, i: int) -> tuple[Frame, Frame, Frame | None]:
        """Replication ``i``'s (persons, spells, events): the tables of a block of one as they
        are, otherwise slices of the block's tables (Arrow: zero-copy, their columns read as
        views of the block's columns, :func:`effekt.contracts.outcomes.share_columns`)."""
        if not 0 <= i < self.n:
            raise IndexError(f"RecordBlock.replication: {i} is not a replication of this block "
                             f"(0 .. {self.n - 1})")
        if self.n == 1:
            return self.persons, self.spells, self.events
        pb, sb, eb = self.person_bounds, self.spell_bounds, self.event_bounds
        events = (_slice(self.events, int(eb[i]), int(eb[i + 1]))
                  if self.events is not None and eb is not None else None)
        return (_slice(self.persons, int(pb[i]), int(pb[i + 1])),
                _slice(self.spells, int(sb[i]), int(sb[i + 1])), events)
