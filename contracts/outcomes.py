"""Outcome metrics measured per person from the ``persons``, ``spells`` and ``events`` tables of ``sim``.

These functions read only the record schemas (see ``effekt.sim.records``), so they work the same on
simulated and on real observed data in that shape. Each metric returns one row per person who
reached it: the week it was reached and its quantity (1 for a yes/no outcome, days for benefit days
saved). The work is done on numpy arrays (:class:`Tables`), because contracts are evaluated once per
replication and pandas' per-call overhead would dominate on tables of a few hundred rows.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import sys
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from effekt import lazy
from effekt.contracts.frames import frame
from effekt.contracts.periods import WEEKS_PER_MONTH
from effekt.contracts.terms import (
    BenefitDaysSaved,
    InWorkAt,
    JobStart,
    Outcome,
    StageEvent,
    SustainedEmployment,
)
from effekt.lazy import pandas as pd

if TYPE_CHECKING:
    from effekt.contracts.block import RecordBlock

np = lazy.module("numpy", globals())  # on first use: `effekt validate` needs neither (issue 14)
pa = lazy.module("pyarrow", globals())

OUTCOME_COLUMNS = ["arm", "person_id", "cohort", "group", "outcome", "week", "quantity"]
EPS = 1e-9

ON_BENEFIT_STATES = ("not_employed", "programme", "waiting", "education")
"""The states paid the prior benefit when a spells table says nothing of benefits (no
``benefit_kind``/``benefit_g``): out of work, in a programme stage, queued, or in ordinary
education (on the prior benefit, not in work)."""


Frame = "pd.DataFrame | pa.Table"  # a string: naming pandas here would import it (issue 14)
"""A record table: pandas (hand-built, observed data) or Arrow (straight from ``sim``)."""


def has(df: Frame, col: str) -> bool:
    """Whether table ``df`` has column ``col``."""
    return df.schema.get_field_index(col) >= 0 if isinstance(df, pa.Table) else col in df


_READ: dict[int, tuple[weakref.ref, dict[tuple, np.ndarray]]] = {}
"""Columns of Arrow record tables already read as numpy (issue 14): an evaluation reads the same
column of one replication's tables a dozen times (the ledger, the outcomes, the provider's costs,
the displacement), and turning Arrow strings into Python objects is most of that cost. Keyed by
the table's identity, checked through a weak reference (a table freed and its id reused is not
mistaken for the old one); the arrays are read-only, so no caller can change another's copy."""


def _forget(key: int, ref: weakref.ref) -> None:
    """A table read before is gone: drop its columns (unless its id already names another)."""
    entry = _READ.get(key)
    if entry is not None and entry[0] is ref:
        del _READ[key]


_SHARED: dict[int, tuple[weakref.ref, pa.Table, int, int]] = {}
"""Arrow tables that are rows ``lo:hi`` of a larger table (a replication of a
:class:`effekt.contracts.block.RecordBlock`), by identity: their columns are read as views of the
larger table's, so a block's column is converted once, not once per replication."""


def share_columns(part: pa.Table, whole: pa.Table, lo: int, hi: int) -> None:
    """Let ``part`` (rows ``lo:hi`` of ``whole``, e.g. ``whole.slice(lo, hi - lo)``) read its
    columns as views of ``whole``'s (:func:`_cached`): the same values, each converted once. The
    link lasts as long as ``part`` does (a weak reference: a freed slice whose id is reused is not
    mistaken for it)."""
    if hi - lo != part.num_rows or not 0 <= lo <= hi <= whole.num_rows:
        raise ValueError(f"share_columns: rows {lo}:{hi} do not fit a slice of {part.num_rows} rows "
                         f"of a table of {whole.num_rows}")
    ident = id(part)
    _SHARED[ident] = (weakref.ref(part, lambda ref: _unshare(ident, ref)), whole, lo, hi)


def _unshare(key: int, ref: weakref.ref) -> None:
    entry = _SHARED.get(key)
    if entry is not None and entry[0] is ref:
        del _SHARED[key]


_READERS: dict[str, Callable[..., np.ndarray]] = {
    "s": lambda df, col, default: _read_strings(df, col, default),
    "f": lambda df, col, default: _read_floats(df, col, default),
    "b": lambda df, col: _arrow_bools(df.column(col)),
    "i": lambda df, col: np.array(df.column(col).to_numpy(zero_copy_only=False), dtype=np.int64),
}
"""How :func:`_cached` reads a column of each kind (the first element of its key) from a table."""


def _cached(df: pa.Table, key: tuple, read: Callable[[], np.ndarray]) -> np.ndarray:
    """``read()`` of Arrow table ``df`` under ``key``, read once per table (see :data:`_READ`);
    of a slice :func:`share_columns` links to a larger table, the rows of that table's column
    (every reader is elementwise, so the rows read alone would be the same values)."""
    shared = _SHARED.get(id(df))
    if shared is not None and shared[0]() is df:
        _, whole, lo, hi = shared
        reader = _READERS[key[0]]
        return _cached(whole, key, lambda: reader(whole, *key[1:]))[lo:hi]
    entry = _READ.get(id(df))
    if entry is None or entry[0]() is not df:
        ident = id(df)
        entry = _READ[ident] = (weakref.ref(df, lambda ref: _forget(ident, ref)), {})
    out = entry[1].get(key)
    if out is None:
        out = read()
        out.flags.writeable = False
        entry[1][key] = out
    return out


def _strings(df: Frame, col: str, default: str | None = None) -> np.ndarray:
    if isinstance(df, pa.Table):
        if default is not None and has(df, col) and not df.column(col).null_count:
            default = None  # nothing to fill: the same array as without a default
        return _cached(df, ("s", col, default), lambda: _read_strings(df, col, default))
    return _read_strings(df, col, default)


def _read_strings(df: Frame, col: str, default: str | None = None) -> np.ndarray:
    if not has(df, col):
        return np.full(len(df), default, dtype=object)
    if isinstance(df, pa.Table):
        c = df.column(col)
        if pa.types.is_string(c.type) or pa.types.is_large_string(c.type):
            return _interned_strings(c, default)
        df = pa.table({col: c}).to_pandas()
    s = df[col]
    return (s.where(s.notna(), default) if default is not None else s).to_numpy(dtype=object)


def _interned_strings(c: pa.ChunkedArray, default: str | None) -> np.ndarray:
    """An Arrow string column as a numpy array of Python strings, a null read as ``default``
    (None without one): one string object per distinct value, shared by its rows (through the
    column's dictionary), not one per row as ``to_numpy`` makes them (issue 14: a replication of
    400 000 persons has millions of spells, and a string per row was ~60 bytes, 8 shared); the
    same values, compared and hashed alike."""
    if not len(c):
        return np.array(c.to_numpy(zero_copy_only=False), dtype=object)
    encoded = dictionary_encoded(c)
    names = np.empty(len(encoded.dictionary) + 1, dtype=object)  # the last: a null's
    names[:-1] = encoded.dictionary.to_pylist()
    names[-1] = default
    at = np.asarray(encoded.indices.to_numpy(zero_copy_only=False))  # a null: NaN, of floats
    if encoded.indices.null_count:
        at = np.where(np.isnan(at), len(names) - 1, at)
    return names[np.asarray(at, dtype=np.intp)]


def _floats(df: Frame, col: str, default: float = 0.0) -> np.ndarray:
    if isinstance(df, pa.Table):
        return _cached(df, ("f", col, default), lambda: _read_floats(df, col, default))
    return _read_floats(df, col, default)


def _read_floats(df: Frame, col: str, default: float = 0.0) -> np.ndarray:
    if not has(df, col):
        return np.full(len(df), default)
    if isinstance(df, pa.Table):
        c = df.column(col)
        if pa.types.is_floating(c.type) or pa.types.is_integer(c.type):
            out = np.asarray(c.to_numpy(zero_copy_only=False), dtype=float)
            nan = np.isnan(out)
            return np.where(nan, default, out) if nan.any() else out
        df = pa.table({col: c}).to_pandas()
    return pd.to_numeric(df[col], errors="coerce").fillna(default).to_numpy(dtype=float)


def bools(df: Frame, col: str) -> np.ndarray:
    """Column ``col`` as booleans, null and a missing column read as False (a column added to
    the record schemas later, e.g. ``business_as_usual``, is absent from older tables)."""
    if not has(df, col):
        return np.zeros(len(df), dtype=bool)
    if isinstance(df, pa.Table):
        return _cached(df, ("b", col), lambda: _arrow_bools(df.column(col)))
    return df[col].fillna(False).to_numpy(dtype=bool)


def _arrow_bools(c: pa.ChunkedArray) -> np.ndarray:
    """A boolean column as numpy, a null as False: a column with nulls is read as objects (True,
    False, None), whose truth is the same (without pyarrow's fill_null, which imports
    pyarrow.compute)."""
    return np.asarray(c.to_numpy(zero_copy_only=False), dtype=bool)


def dictionary_encoded(c: pa.ChunkedArray) -> pa.DictionaryArray:
    """``c.combine_chunks().dictionary_encode()``: the same kernel, called through
    ``pyarrow._compute``, the compiled module ``pyarrow.compute`` wraps (that module's import
    builds a Python wrapper for each of its hundreds of functions: ~25 ms of a run's start-up
    for this one call, issue 14); through ``pyarrow.compute`` where that is not there."""
    try:
        from pyarrow._compute import DictionaryEncodeOptions, call_function
    except ImportError:  # pragma: no cover (a pyarrow without the compiled module's names)
        from pyarrow.compute import DictionaryEncodeOptions, call_function
    return call_function("dictionary_encode", [c.combine_chunks()], DictionaryEncodeOptions("mask"))


def _ints(df: Frame, col: str) -> np.ndarray:
    if isinstance(df, pa.Table):
        return _cached(df, ("i", col), lambda: np.array(df.column(col).to_numpy(zero_copy_only=False),
                                                        dtype=np.int64))
    return df[col].to_numpy(dtype=np.int64)


def programme_jobs(state: np.ndarray, stage: np.ndarray, contract: np.ndarray,
                   subsidy_share: np.ndarray, usual: np.ndarray | None = None) -> np.ndarray:
    """Which spells are **the programme's own jobs**: employed spells in a pathway stage
    (``stage`` not null) that are a project position (``contract == "project"``) or
    wage-subsidised (``subsidy_share > 0``: Enkla jobb's simple jobs, Lyngdal's job with
    lønnstilskudd). Every other employed spell is **ordinary work**: jobs found in the labour
    market, and pathway jobs that are ordinary posts (a permanent post a unit creates and pays
    from its ordinary budget, as Fjell's ``kept_by_unit``).

    Why: a programme that employs its participants itself, or pays most of their wage, puts them
    "in work" by construction; SSB's and DWP's employment measures count ordinary jobs, and a
    payer asks whether a person holds one without the programme's money. The one definition:
    ``ordinary_only`` of the ``in_work_at`` outcome and the ``in_ordinary_work_*`` KPIs use it.
    A job in a stage of a business-as-usual pathway (``usual``: the spells' ``business_as_usual``)
    is not the programme's: it is what the person would have had anyway.
    """
    in_stage = _present(stage) & (stage != "")
    if usual is not None:
        in_stage = in_stage & ~usual
    return (state == "employed") & in_stage & ((contract == "project") | (subsidy_share > 0))


def _present(values: np.ndarray) -> np.ndarray:
    """Which of ``values`` are not missing: ``pd.notna``'s answer. An object array read from Arrow
    (strings and None) is answered by numpy, without importing pandas for it (issue 14): neither
    None nor NaN (the one value unequal to itself); with pandas imported (its NA and NaT may be
    among them), and for other arrays, by ``pd.notna`` itself."""
    if values.dtype == object and "pandas" not in sys.modules:
        return np.not_equal(values, None) & np.equal(values, values)
    return pd.notna(values)


def factorized(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each of ``values`` (numbers or strings, no NaN) as a code into its distinct values in
    order of first appearance, and the row where each distinct value first appears: the codes
    ``pd.factorize`` gives (issue 14: without importing pandas), by numpy's sort of the values."""
    _, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(first), dtype=np.intp)
    rank[order] = np.arange(len(first), dtype=np.intp)
    return rank[inverse.reshape(-1)], first[order]


def among(values: np.ndarray, names) -> np.ndarray:
    """Which of ``values`` (an object array of strings or None) are one of ``names``: what
    ``np.isin`` says, by one comparison per name for a short list (``np.isin`` sorts both arrays
    first, which costs more than the comparisons on the few hundred rows of a replication)."""
    names = list(names)
    if len(names) > 8 or values.dtype != object:
        return np.isin(values, np.array(names, dtype=object))
    out = np.zeros(len(values), dtype=bool)
    for name in names:
        out |= values == name
    return out


def matching(names: np.ndarray, patterns: list[str]) -> np.ndarray:
    """Which of ``names`` (strings or None) match one of the shell ``patterns``."""
    uniq = {n for n in set(names.tolist()) if isinstance(n, str)}
    hits = [n for n in uniq if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    return among(names, hits) if hits else np.zeros(len(names), bool)


def _replication_of_rows(bounds: np.ndarray | None, n: int) -> np.ndarray:
    """Each row's replication (0 .. len(bounds) - 2) from a block's row ``bounds`` (None: all 0)."""
    if bounds is None:
        return np.zeros(n, np.int64)
    return np.repeat(np.arange(len(bounds) - 1, dtype=np.int64), np.diff(bounds))


def _person_rows(arm: np.ndarray, pid: np.ndarray, rep: np.ndarray | None = None):
    """A function giving, for each row of a table with ``arm`` and ``person_id``, the row of that
    person among (``arm``, ``pid``), or -1; the last row wins if a person appears twice.

    In a block of replications (``rep``: each person row's replication) a person is (replication,
    arm, ``person_id``): the function then takes the replication of each row of the table too
    (``rows(df, rep_of_df)``), so equal ids of two replications are two people."""
    arms = [a for a in dict.fromkeys(arm.tolist()) if isinstance(a, str)]  # in order of first appearance
    n_arms = max(len(arms), 1)

    def codes(a: np.ndarray, r: np.ndarray | None) -> np.ndarray:  # (replication, arm); -1: no arm
        code = np.full(len(a), -1, np.int64)
        for i, name in enumerate(arms):
            code[a == name] = i
        return with_rep(code, r)

    def with_rep(code: np.ndarray, r: np.ndarray | None) -> np.ndarray:
        return code if r is None else np.where(code >= 0, r * n_arms + code, -1)

    def table_codes(df: Frame, r: np.ndarray | None) -> np.ndarray:
        """:func:`codes` of a table's ``arm``; of an Arrow string column by its dictionary (each
        distinct arm's code looked up once: no Python string per row, as for a block's events)."""
        if not (isinstance(df, pa.Table) and has(df, "arm")
                and df.schema.field("arm").type in (pa.string(), pa.large_string())):
            return codes(_strings(df, "arm"), r)
        encoded = dictionary_encoded(df.column("arm"))
        place = np.array([arms.index(v) if v in arms else -1 for v in encoded.dictionary.to_pylist()] + [-1],
                         dtype=np.int64)  # the last: a null's
        at = np.asarray(encoded.indices.to_numpy(zero_copy_only=False))  # a null: NaN, of floats
        if encoded.indices.null_count:
            at = np.where(np.isnan(at), len(place) - 1, at)
        return with_rep(place[np.asarray(at, dtype=np.intp)], r)

    code = codes(arm, rep)
    span = int(pid.max()) - int(pid.min()) + 1 if len(pid) else 1
    low = int(pid.min()) if len(pid) else 0
    key = np.where(code >= 0, code * span + (pid - low), -1)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]

    def rows(df: Frame, df_rep: np.ndarray | None = None) -> np.ndarray:
        n = len(df)
        if n == 0 or len(arm) == 0:
            return np.full(n, -1, np.int64)
        s_pid = _ints(df, "person_id")
        s_code = table_codes(df, df_rep if rep is not None else None)
        ok = (s_code >= 0) & (s_pid >= low) & (s_pid - low < span)
        s_key = np.where(ok, s_code * span + (s_pid - low), -2)
        at = np.searchsorted(sorted_key, s_key, side="right") - 1
        found = ok & (at >= 0) & (sorted_key[np.clip(at, 0, None)] == s_key)
        return np.where(found, order[np.clip(at, 0, None)], -1).astype(np.int64)

    return rows


@dataclass(eq=False)
class Tables:
    """The record tables as numpy arrays, every spell and event tied to its person's row.

    Of one replication (:meth:`of`) or of a block of replications (:meth:`of_block`: the
    replications' rows one after another, ``person_bounds[i]:person_bounds[i + 1]`` replication
    ``i``'s persons, likewise ``spell_bounds`` and ``event_bounds``; a person is (replication,
    arm, ``person_id``)). Every per-person measure (the runs of work, the first job, the in-work
    shares) works on a block unchanged, since no spell or event is tied to a person of another
    replication; :meth:`replication` gives a replication's own tables, as :meth:`of` gives them."""

    arm: np.ndarray
    person_id: np.ndarray
    cohort: np.ndarray
    group: np.ndarray
    entry: np.ndarray
    benefit_kind: np.ndarray
    spells: Frame
    s_person: np.ndarray  # row of persons for each spell (-1: unknown person)
    s_state: np.ndarray
    s_start: np.ndarray
    s_end: np.ndarray
    s_fte: np.ndarray
    s_contract: np.ndarray
    s_stage: np.ndarray
    s_own: np.ndarray  # the programme's own jobs (see programme_jobs)
    s_usual: np.ndarray  # spells in a business-as-usual pathway's stages (not the programme's)
    events: Frame | None
    e_person: np.ndarray | None
    person_bounds: np.ndarray | None = None  # a block's rows of each replication (None: one replication)
    spell_bounds: np.ndarray | None = None
    event_bounds: np.ndarray | None = None

    @classmethod
    def of(cls, persons: Frame, spells: Frame | None, events: Frame | None = None) -> Tables:
        """The arrays of ``persons``, ``spells`` and ``events`` (pandas or Arrow tables) of one
        replication: a block of one (:meth:`of_block`)."""
        return cls._of(persons, spells, events, None)

    @classmethod
    def of_block(cls, block: RecordBlock) -> Tables:
        """The arrays of a block of replications (:class:`effekt.contracts.block.RecordBlock`),
        read once for the whole block; a block of one gives what :meth:`of` gives."""
        if block.n == 1:
            return cls._of(block.persons, block.spells, block.events, None)
        return cls._of(block.persons, block.spells, block.events,
                       (block.person_bounds, block.spell_bounds, block.event_bounds))

    @classmethod
    def _of(cls, persons: Frame, spells: Frame | None, events: Frame | None,
            bounds: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None) -> Tables:
        if spells is None:
            spells = pd.DataFrame({"arm": pd.Series(dtype=object), "person_id": pd.Series(dtype="int64")})
        arm = _strings(persons, "arm")
        pid = _ints(persons, "person_id")
        pb, sb, eb = bounds if bounds is not None else (None, None, None)
        if bounds is None:
            rows = _person_rows(arm, pid)
            s_person = rows(spells)
            e_person = rows(events) if events is not None else None
        else:
            rows = _person_rows(arm, pid, _replication_of_rows(pb, len(persons)))
            s_person = rows(spells, _replication_of_rows(sb, len(spells)))
            e_person = rows(events, _replication_of_rows(eb, len(events))) if events is not None else None
        state, stage, contract = _strings(spells, "state", ""), _strings(spells, "stage"), \
            _strings(spells, "contract")
        usual = bools(spells, "business_as_usual")
        return cls(
            arm=arm, person_id=pid, cohort=_strings(persons, "cohort", ""),
            group=_strings(persons, "group", ""), entry=_floats(persons, "entry_week"),
            benefit_kind=_strings(persons, "benefit_kind", "none"),
            spells=spells, s_person=s_person, s_state=state,
            s_start=_floats(spells, "start"), s_end=_floats(spells, "end"), s_fte=_floats(spells, "fte"),
            s_contract=contract, s_stage=stage,
            s_own=programme_jobs(state, stage, contract, _floats(spells, "subsidy_share"), usual),
            s_usual=usual, events=events, e_person=e_person,
            person_bounds=pb, spell_bounds=sb, event_bounds=eb if events is not None else None,
        )

    @cached_property
    def _employed(self) -> np.ndarray:
        """Which spells are ``employed`` (compared once: every work measure asks)."""
        return self.s_state == "employed"

    @cached_property
    def _in_education(self) -> np.ndarray:
        """Which spells are in ``education``."""
        return self.s_state == "education"

    @property
    def n(self) -> int:
        """The number of replications these tables hold (1 unless of a block)."""
        return 1 if self.person_bounds is None else len(self.person_bounds) - 1

    def person_replication(self) -> np.ndarray:
        """Each person row's replication (all 0 for one replication)."""
        return _replication_of_rows(self.person_bounds, len(self.entry))

    def replication(self, i: int, spells: Frame, events: Frame | None) -> Tables:
        """Replication ``i``'s own tables, as :meth:`of` of its records gives them: views of the
        block's arrays, its spells' and events' person rows counted from its first person.
        ``spells`` and ``events`` are the replication's record tables
        (:meth:`effekt.contracts.block.RecordBlock.replication`), kept as the tables' frames."""
        if not 0 <= i < self.n:
            raise IndexError(f"Tables.replication: {i} is not a replication of these tables "
                             f"(0 .. {self.n - 1})")
        if self.person_bounds is None:
            return self if spells is self.spells and events is self.events else \
                dataclasses.replace(self, spells=spells, events=events)
        p0, p1 = int(self.person_bounds[i]), int(self.person_bounds[i + 1])
        s0, s1 = int(self.spell_bounds[i]), int(self.spell_bounds[i + 1])

        def rebased(rows: np.ndarray) -> np.ndarray:
            return np.where(rows >= 0, rows - p0, -1)

        e_person = None
        if self.e_person is not None and self.event_bounds is not None:
            e_person = rebased(self.e_person[int(self.event_bounds[i]):int(self.event_bounds[i + 1])])
        return Tables(
            arm=self.arm[p0:p1], person_id=self.person_id[p0:p1], cohort=self.cohort[p0:p1],
            group=self.group[p0:p1], entry=self.entry[p0:p1], benefit_kind=self.benefit_kind[p0:p1],
            spells=spells, s_person=rebased(self.s_person[s0:s1]), s_state=self.s_state[s0:s1],
            s_start=self.s_start[s0:s1], s_end=self.s_end[s0:s1], s_fte=self.s_fte[s0:s1],
            s_contract=self.s_contract[s0:s1], s_stage=self.s_stage[s0:s1], s_own=self.s_own[s0:s1],
            s_usual=self.s_usual[s0:s1], events=events, e_person=e_person)

    def jobs(self, o: JobStart | SustainedEmployment | InWorkAt | None = None) -> np.ndarray:
        """Indices of the spells that count as work for ``o`` (every employed spell without
        ``o``), sorted by person and start: employed spells of at least ``min_fte`` not excluded
        by contract or stage; with ``ordinary_only`` (``in_work_at``) not the programme's own
        jobs (:func:`programme_jobs`); with ``or_education`` also the spells in education."""
        if o is None:
            return self.counted()
        return self.counted(min_fte=o.min_fte, exclude_contracts=o.exclude_contracts,
                            exclude_stages=o.exclude_stages,
                            ordinary_only=getattr(o, "ordinary_only", False),
                            or_education=getattr(o, "or_education", False))

    def counted(self, *, min_fte: float = 0.0, exclude_contracts: list[str] | tuple[str, ...] = (),
                exclude_stages: list[str] | tuple[str, ...] = (), ordinary_only: bool = False,
                or_education: bool = False) -> np.ndarray:
        """Indices of the spells a work measure counts, sorted by person and start: employed
        spells of at least ``min_fte`` whose contract is not in ``exclude_contracts`` (and, with
        ``ordinary_only``, that are not the programme's own jobs), and with ``or_education`` the
        spells in education (whatever their fte); none whose stage matches ``exclude_stages``."""
        ok = self._employed & (self.s_fte >= min_fte)
        if exclude_contracts:
            ok &= ~among(self.s_contract, exclude_contracts)
        if ordinary_only:
            ok &= ~self.s_own
        if or_education:
            ok |= self._in_education
        if exclude_stages:
            ok &= ~matching(self.s_stage, list(exclude_stages))
        ok &= self.s_person >= 0
        by_person = self._by_person_start
        return by_person[ok[by_person]]

    @cached_property
    def _by_person_start(self) -> np.ndarray:
        """Every spell's index sorted by person, then start, then index (a stable sort): sorted
        once, so a measure's spells are this order's ``ok`` ones, the order ``np.lexsort`` of
        those spells alone gives (it is stable too), without a sort per measure."""
        return np.lexsort((self.s_start, self.s_person))

    def runs(self, jobs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unbroken periods in work (consecutive job spells joined): person row, start, end."""
        if len(jobs) == 0:
            return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
        p, s, e = self.s_person[jobs], self.s_start[jobs], self.s_end[jobs]
        joined = (p[1:] == p[:-1]) & (s[1:] <= _latest_end_per_person(p, e)[:-1] + EPS)
        first = np.concatenate([[0], np.nonzero(~joined)[0] + 1])
        return p[first], s[first], np.maximum.reduceat(e, first)


def _latest_end_per_person(person: np.ndarray, end: np.ndarray) -> np.ndarray:
    """For rows sorted by person, the latest ``end`` so far within each person's own rows (a running
    maximum that starts again at each person: one person's long job must not join another person's
    spells). Exact: the running maximum is taken over integers, the person's group number times the
    row count plus the rank of the end among all ends, and mapped back to the ends."""
    n = len(end)
    order = np.argsort(end, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n, dtype=np.int64)
    group = np.concatenate([[0], np.cumsum(person[1:] != person[:-1])]).astype(np.int64)
    latest = np.maximum.accumulate(group * n + rank) - group * n
    return end[order][latest]


def _rows_by_replication(t: Tables, person: np.ndarray) -> np.ndarray:
    """The bounds of each replication's rows among rows sorted by ``person`` (rows of ``t``)."""
    if t.person_bounds is None:
        return np.array([0, len(person)], dtype=np.int64)
    return np.searchsorted(person, t.person_bounds).astype(np.int64)


def _accumulate(ufunc: np.ufunc, values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """``ufunc.accumulate`` of ``values`` started again at each of ``bounds`` (rows
    ``bounds[i]:bounds[i + 1]`` alone, in order): what each part accumulated alone gives, bit for
    bit (each part is a row of a zero-padded grid, accumulated along the row in order)."""
    sizes = np.diff(bounds)
    if len(sizes) <= 1 or len(values) == 0:
        return ufunc.accumulate(values)
    row = np.repeat(np.arange(len(sizes)), sizes)
    col = np.arange(len(values)) - np.repeat(bounds[:-1], sizes)
    grid = np.zeros((len(sizes), int(sizes.max())), dtype=values.dtype)
    grid[row, col] = values
    return ufunc.accumulate(grid, axis=1)[row, col]


def _first_per_person(person: np.ndarray, week: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The earliest week per person."""
    if len(person) == 0:
        return person, week
    order = np.lexsort((week, person))
    p, w = person[order], week[order]
    keep = np.concatenate([[True], p[1:] != p[:-1]])
    return p[keep], w[keep]


def _job_start(o: JobStart, t: Tables) -> tuple[np.ndarray, np.ndarray]:
    p, s, _ = t.runs(t.jobs(o))
    entry = t.entry[p]
    ok = (s >= entry - EPS) & (s <= entry + o.window_weeks + EPS)
    return _first_per_person(p[ok], s[ok])


def _sustained(o: SustainedEmployment, t: Tables) -> tuple[np.ndarray, np.ndarray]:
    if o.continuous:
        p, s, e = t.runs(t.jobs(o))
        entry = t.entry[p]
        reached = np.maximum(s, entry) + o.weeks
        ok = (reached <= e + EPS) & (reached <= entry + o.window_weeks + EPS)
        return _first_per_person(p[ok], reached[ok])
    jobs = t.jobs(o)
    p = t.s_person[jobs]
    start = np.maximum(t.s_start[jobs], t.entry[p])
    dur = np.clip(t.s_end[jobs] - start, 0, None)
    # weeks in work so far: a running sum over the replication's jobs (in person order), less
    # what the person's earlier rows of it held; each replication's sum starts at its own first
    # job, so a replication's weeks are the same in a block as alone (to the last bit)
    within = _rows_by_replication(t, p)
    cum = _accumulate(np.add, dur, within)
    new = np.concatenate([[True], p[1:] != p[:-1]]) if len(p) else np.zeros(0, bool)
    base = _accumulate(np.maximum, np.where(new, cum - dur, 0.0), within) if len(p) else cum
    cum = cum - base
    before = cum - dur
    week = start + (o.weeks - before)
    ok = (dur > 0) & (cum >= o.weeks - EPS) & (before < o.weeks) & (week <= t.entry[p] + o.window_weeks + EPS)
    return _first_per_person(p[ok], week[ok])


def _in_work_at(o: InWorkAt, t: Tables) -> tuple[np.ndarray, np.ndarray]:
    jobs = t.jobs(o)
    p = t.s_person[jobs]
    when = t.entry[p] + o.weeks_after_entry if o.at_week is None else np.full(len(p), o.at_week)
    ok = (t.s_start[jobs] <= when) & (when < t.s_end[jobs])
    return _first_per_person(p[ok], when[ok])


def _stage_event(o: StageEvent, t: Tables) -> tuple[np.ndarray, np.ndarray]:
    if t.events is None or t.e_person is None:
        raise ValueError(f"a '{o.metric}' outcome is measured from the events table; none was given")
    ev = t.events
    person, time = t.e_person, _floats(ev, "time")
    order = np.lexsort((time, person))  # stable: same-time events keep their recorded order
    person, time = person[order], time[order]
    stage = _strings(ev, "stage")[order]
    kind = _strings(ev, "event", "")[order]
    same = np.concatenate([person[1:] == person[:-1], [False]])
    nxt = np.where(same, np.concatenate([stage[1:], [None]]), None)
    hit = among(kind, o.events) & matching(stage, o.stages) & (person >= 0)
    if o.followed_by:
        hit &= matching(nxt, o.followed_by)
    if o.not_followed_by:
        hit &= ~matching(nxt, o.not_followed_by)
    p, w = person[hit], time[hit]
    if o.window_weeks is not None:
        ok = w <= t.entry[p] + o.window_weeks + EPS
        p, w = p[ok], w[ok]
    return _first_per_person(p, w)


def on_benefit(spells: Frame) -> np.ndarray:
    """Whether each spell is paid a benefit (from ``benefit_kind``/``benefit_g`` when present,
    else from the state: :data:`ON_BENEFIT_STATES`)."""
    if has(spells, "benefit_g") and has(spells, "benefit_kind"):
        return (_strings(spells, "benefit_kind", "none") != "none") & (_floats(spells, "benefit_g") > 0)
    return among(_strings(spells, "state", ""), ON_BENEFIT_STATES)


def _benefit_days(o: BenefitDaysSaved, t: Tables) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(t.entry)
    known = t.s_person >= 0
    data_end = np.full(n, -np.inf)
    np.maximum.at(data_end, t.s_person[known], t.s_end[known])
    expected = np.array([o.expected_weeks_by_group.get(g, o.expected_weeks) for g in t.group], dtype=float)
    lo, hi = t.entry, np.minimum(t.entry + expected, data_end)
    on = on_benefit(t.spells) & known
    sp = t.s_person[on]
    overlap = np.clip(np.minimum(t.s_end[on], hi[sp]) - np.maximum(t.s_start[on], lo[sp]), 0, None)
    weeks_on = np.zeros(n)
    np.add.at(weeks_on, sp, overlap)
    saved = 7.0 * np.clip(np.clip(hi - lo, 0, None) - weeks_on, 0, None)
    ok = (saved > EPS) & np.isfinite(hi)
    if o.only_on_benefit_at_entry:
        ok &= t.benefit_kind != "none"
    p = np.nonzero(ok)[0]
    return p, hi[p], saved[p]


def _measure(o: Outcome, t: Tables) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(o, BenefitDaysSaved):
        return _benefit_days(o, t)
    if isinstance(o, JobStart):
        p, w = _job_start(o, t)
    elif isinstance(o, SustainedEmployment):
        p, w = _sustained(o, t)
    elif isinstance(o, InWorkAt):
        p, w = _in_work_at(o, t)
    else:
        p, w = _stage_event(o, t)
    return p, w, np.ones(len(p))


def _arrays(t: Tables, parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    """The outcomes reached as columns (``OUTCOME_COLUMNS``), ordered by week, person and
    outcome, of one replication's tables."""
    if t.n != 1:
        raise ValueError(f"the outcomes of {t.n} replications' tables: take them by replication "
                         f"(outcomes_by_replication)")
    return _arrays_by_replication(t, parts)[0]


def _arrays_by_replication(t: Tables, parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]
                           ) -> list[dict[str, np.ndarray]]:
    """Each replication's outcomes reached (``parts``: outcome, person rows, weeks, quantities of
    the persons of ``t``) as columns, ordered by week, person and outcome within the replication:
    the rows, in the order, one replication's tables alone give (the sort is stable and its keys
    are the replication's, so ties keep the order of ``parts``)."""
    if parts:
        name = np.concatenate([np.full(len(p), n, dtype=object) for n, p, _, _ in parts])
        p = np.concatenate([p for _, p, _, _ in parts]).astype(np.int64)
        w = np.concatenate([w for _, _, w, _ in parts]).astype(float)
        q = np.concatenate([q for _, _, _, q in parts]).astype(float)
    else:
        name, p, w, q = np.zeros(0, object), np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    if t.n == 1:
        order = np.lexsort((name, t.person_id[p], w)) if len(p) else p
    else:
        rep = t.person_replication()[p]
        order = np.lexsort((name, t.person_id[p], w, rep)) if len(p) else p
    p, name, w, q = p[order], name[order], w[order], q[order]
    columns = {"arm": t.arm[p], "person_id": t.person_id[p], "cohort": t.cohort[p],
               "group": t.group[p], "outcome": name, "week": w, "quantity": q}
    if t.n == 1:
        return [columns]
    cut = np.searchsorted(rep[order], np.arange(t.n + 1))
    return [{k: v[cut[i]:cut[i + 1]] for k, v in columns.items()} for i in range(t.n)]


def _frame(t: Tables, parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]) -> pd.DataFrame:
    return frame(_arrays(t, parts))


def outcome_arrays(outcomes: dict[str, Outcome], t: Tables) -> dict[str, np.ndarray]:
    """What :func:`measure_outcomes` returns, as numpy columns (no DataFrame overhead), of one
    replication's tables."""
    return _arrays(t, [(name, *_measure(o, t)) for name, o in outcomes.items()])


def outcomes_by_replication(outcomes: dict[str, Outcome], t: Tables) -> list[dict[str, np.ndarray]]:
    """:func:`outcome_arrays` of each replication of ``t`` (:meth:`Tables.of_block`), measured
    over the whole block at once: the same rows, in the same order, as each replication's own
    tables give."""
    return _arrays_by_replication(t, [(name, *_measure(o, t)) for name, o in outcomes.items()])


def measure_one(o: Outcome, persons: pd.DataFrame, spells: pd.DataFrame,
                events: pd.DataFrame | None = None) -> pd.DataFrame:
    """Who reached outcome ``o``: ``arm``, ``person_id``, ``week`` and ``quantity`` (and cohort, group)."""
    t = Tables.of(persons, spells, events)
    p, w, q = _measure(o, t)
    return _frame(t, [("", p, w, q)]).drop(columns="outcome")


def measure_outcomes(
    outcomes: dict[str, Outcome], persons: pd.DataFrame, spells: pd.DataFrame,
    events: pd.DataFrame | None = None, tables: Tables | None = None,
) -> pd.DataFrame:
    """Every outcome reached, one row per (arm, person, outcome) with the week and quantity, and
    the person's cohort and target group, ordered by week."""
    t = tables if tables is not None else Tables.of(persons, spells, events)
    return _frame(t, [(name, *_measure(o, t)) for name, o in outcomes.items()])


WORK_MEASURES: dict[str, dict[str, bool]] = {
    "in_work": {},
    "in_ordinary_work": {"ordinary_only": True},
    "in_work_or_education": {"or_education": True},
}
"""The in-work measures and the options of :meth:`Tables.counted` each uses: any job; ordinary
work only (not the programme's own jobs, :func:`programme_jobs`); in work or in education (as
SSB's and DWP's "in work or education"). The KPIs ``<measure>_12m_*`` and ``<measure>_24m_*``."""


def _in_work(t: Tables, after: np.ndarray, horizon: float, *, ordinary_only: bool = False,
             or_education: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Who is in work, and who is still observed, ``after`` weeks after their own entry.

    The one in-work measure: a person is in work at ``entry_week + a`` if an ``employed`` spell
    covers that instant (start at or before it, end after it), and observed if that instant lies
    before the horizon. Times are compared relative to the entry with a tolerance of ``EPS``, so
    a job starting exactly then counts and one ending exactly then does not, however the clock's
    additions rounded. ``ordinary_only``: the programme's own jobs do not count
    (:func:`programme_jobs`); ``or_education``: a spell in education counts too. Returns two
    boolean arrays of shape (people, len(after)).
    """
    after = np.asarray(after, dtype=float)
    jobs = t.counted(ordinary_only=ordinary_only, or_education=or_education)
    p = t.s_person[jobs]
    e = t.entry[p]
    rel_start, rel_end = t.s_start[jobs] - e, t.s_end[jobs] - e
    covers = (rel_start[:, None] <= after[None, :] + EPS) & (after[None, :] < rel_end[:, None] - EPS)
    working = np.zeros((len(t.entry), len(after)), bool)
    rows, cols = np.nonzero(covers)
    working[p[rows], cols] = True
    observed = (t.entry[:, None] + after[None, :]) < horizon - EPS
    return working, observed


def work_shares(t: Tables, weeks_after_entry: list[float] | np.ndarray, horizon: float, *,
                ordinary_only: bool = False, or_education: bool = False) -> dict[str, np.ndarray]:
    """:func:`in_work_share` at several points at once: {arm: share at each point}, of one
    replication's tables."""
    if t.n != 1:
        raise ValueError(f"the work shares of {t.n} replications' tables: take them by replication "
                         f"(work_shares_by_replication)")
    return work_shares_by_replication(t, weeks_after_entry, horizon, ordinary_only=ordinary_only,
                                      or_education=or_education)[0]


def work_shares_by_replication(t: Tables, weeks_after_entry: list[float] | np.ndarray, horizon: float, *,
                               ordinary_only: bool = False, or_education: bool = False
                               ) -> list[dict[str, np.ndarray]]:
    """:func:`work_shares` of each replication of ``t`` (:meth:`Tables.of_block`), counted over
    the whole block at once: each replication's arms (those it has people in, in sorted order),
    each with its share in work at each point. The shares are whole counts by (replication,
    arm, point) divided by the arm's count of people measurable then, so exactly the
    replication's own shares."""
    after = np.asarray(weeks_after_entry, dtype=float)
    working, measurable = _in_work(t, after, horizon, ordinary_only=ordinary_only, or_education=or_education)
    arms = sorted(set(t.arm.tolist()))  # the same arms as pd.unique, without its hashing set-up
    arm_code = np.zeros(len(t.arm), np.int64)
    for i, arm in enumerate(arms[1:], start=1):
        arm_code[t.arm == arm] = i
    k, n_cells = len(after), t.n * len(arms)
    cell = t.person_replication() * len(arms) + arm_code  # (replication, arm) of each person
    people = np.bincount(cell, minlength=n_cells)
    point = cell[:, None] * k + np.arange(k)[None, :]  # (replication, arm, point)
    n = np.bincount(point[measurable], minlength=n_cells * k).reshape(n_cells, k)
    got = np.bincount(point[working & measurable], minlength=n_cells * k).reshape(n_cells, k)
    share = np.where(n > 0, got / np.maximum(n, 1), np.nan)
    return [{arm: share[r * len(arms) + a] for a, arm in enumerate(arms) if people[r * len(arms) + a]}
            for r in range(t.n)]


def in_work_share(
    persons: Frame | None, spells: Frame | None, weeks_after_entry: float, horizon: float,
    tables: Tables | None = None, *, ordinary_only: bool = False, or_education: bool = False,
) -> dict[str, float]:
    """Share of each arm's people in work ``weeks_after_entry`` weeks after their entry (the
    ``in_work_12m_*`` and ``in_work_24m_*`` KPIs; with ``ordinary_only`` in ordinary work, not
    the programme's own jobs, ``in_ordinary_work_*``; with ``or_education`` in work or
    education, ``in_work_or_education_*``).

    People whose measuring point lies at or beyond the horizon are not counted; an arm with no one
    measurable gets NaN. The measure is :func:`in_work_by_month`'s at one point in time.
    """
    t = tables if tables is not None else Tables.of(persons, spells)
    shares = work_shares(t, [weeks_after_entry], horizon, ordinary_only=ordinary_only,
                         or_education=or_education)
    return {arm: float(v[0]) for arm, v in shares.items()}


def in_work_by_month(persons: Frame, spells: Frame, horizon_weeks: float, *,
                     ordinary_only: bool = False, or_education: bool = False) -> pd.DataFrame:
    """Share of each arm in work ``month`` whole months (of 52/12 weeks) after each person's entry.

    A person counts at month m if an ``employed`` spell covers the instant
    ``entry_week + m * 52/12`` weeks (``ordinary_only``: not one of the programme's own jobs,
    :func:`programme_jobs`; ``or_education``: a spell in education counts too). Only people still
    observed then (before the horizon) count in the denominator ``n``. Months run from 0 to the
    last one at which the arm's earliest entrant is still observed. Returns columns ``arm``,
    ``month``, ``share``, ``n``.

    One series per arm of the tables, each a share of its own people: ``treatment``, ``control``
    (when simulated) and, under a matched comparison (``world.counterfactual.comparison =
    "matched"``), ``comparison`` (the matched twins of the participants admitted past screening).
    There is no ``difference`` arm; pick the arms you show (the report shows treatment and control).
    """
    t = Tables.of(persons, spells)
    arms = sorted(a for a in pd.unique(t.arm) if isinstance(a, str))
    if not arms:
        return pd.DataFrame(columns=["arm", "month", "share", "n"])

    def months(first_entry: float) -> int:  # months 0, 1, ... before the horizon
        return int(np.floor((horizon_weeks - first_entry) / WEEKS_PER_MONTH - EPS)) + 1

    working, observed = _in_work(t, np.arange(months(t.entry.min())) * WEEKS_PER_MONTH, horizon_weeks,
                                 ordinary_only=ordinary_only, or_education=or_education)
    rows = []
    for arm in arms:
        mine = t.arm == arm
        n_months = months(t.entry[mine].min())
        obs, work = observed[mine, :n_months], working[mine, :n_months]
        n = obs.sum(axis=0)
        share = np.where(n > 0, (work & obs).sum(axis=0) / np.maximum(n, 1), np.nan)
        rows.append(pd.DataFrame({"arm": arm, "month": np.arange(n_months), "share": share, "n": n}))
    return pd.concat(rows, ignore_index=True)
