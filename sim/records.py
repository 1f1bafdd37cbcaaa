"""The record tables one replication produces, with fixed Arrow schemas.

These schemas are the contract between ``sim`` and everything above it: ``contracts`` reads them
(and can read real observed data in the same shape), ``experiments`` adds run keys and stores them.
Times are in weeks from the start of the simulation; money is NOK per year at the scenario's price
year; benefits are in multiples of G per year.

``persons``   one row per person and arm
``events``    one row per thing that happened to a person (entered a stage, completed, dropped out...)
``spells``    one row per interval a person spent in one state; a person's spells tile
              [entry_week, horizon] without gaps or overlaps
``capacity``  one row per use of a capacity slot: when it was asked for, granted and released
              (a stage that needs two resources, e.g. a placement and a mentor, gives two rows)

Row order: rows are appended person by person, each person's rows in time order, but not
globally in time order; sort (stably) by ``time`` or ``start`` when order matters.

The engine records rows as Python tuples; :class:`Tables` builds each Arrow table from them on its
first read, and :func:`concat_records` joins several replications' rows into one table each (what
``pyarrow.concat_tables`` of their own tables gives, built once): a batch task builds four tables,
not four per replication, and never the ``capacity`` table it does not read (issue 14).

Columns are only ever added, never renamed or removed (``contracts`` reads them). Added since the
walking skeleton: spells ``wage_payer``, ``subsidy_payer``, ``subsidy_share``,
``integration_grant``, ``cost_once``, ``cost_per_week``, ``cost_payer``; capacity ``stage``;
event kind ``made_permanent``; persons ``employability``; spells ``business_as_usual`` and
``cost_cohort``, ``cost_cohort_weeks``; arm ``comparison``; states ``education``, ``retired``.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain

import pyarrow as pa

ARMS = ("treatment", "control", "comparison")
"""``control`` is the counterfactual arm: the same people under business as usual (parallel mode),
or the people randomised out of the programme (RCT mode). ``comparison`` (only with
``counterfactual.comparison = "matched"``) is a matched comparison group as an evaluation would
build one: for every participant (a treated person admitted past the pathway's screening) a person
with the same observables (cohort, group, age, Norwegian, education, work capacity, benefit, entry
week) and the same ``person_id``, but their own latent ``employability``, under business as
usual. Selection on employability (cream-skimming) biases it, as it biases a real matched
comparison; the control arm stays the true counterfactual."""

STATES = ("programme", "waiting", "employed", "not_employed", "moved", "education", "retired")
"""``programme``: in a non-employment pathway stage; ``waiting``: queued for a capacity slot;
``employed``: in a job (pathway employment stage or the labour market); ``not_employed``: out of
work, on the prior benefit; ``moved``: out of sight (moved away), neither benefit nor wage;
``education``: in ordinary education (a stage of kind ``education``, in a pathway or in business
as usual), on the prior benefit, not in work; ``retired``: past the world's retirement age (67),
out of the labour market, neither wage nor benefit (the old-age pension is not modelled)."""

PERSONS = pa.schema(
    [
        ("arm", pa.string()),
        ("person_id", pa.int32()),
        ("cohort", pa.string()),
        ("group", pa.string()),
        ("age", pa.int16()),
        ("norwegian", pa.string()),
        ("education", pa.string()),
        ("work_capacity", pa.float64()),
        ("benefit_kind", pa.string()),
        ("benefit_g", pa.float64()),
        ("entry_week", pa.float64()),
        ("employability", pa.float64()),  # latent, standard normal; the same in both arms
    ]
)

EVENTS = pa.schema(
    [
        ("arm", pa.string()),
        ("person_id", pa.int32()),
        ("time", pa.float64()),
        ("stage", pa.string()),
        ("event", pa.string()),
    ]
)
EVENT_KINDS = ("referred", "queued", "entered", "completed", "exited", "hired", "left_job", "moved",
               "made_permanent", "retired")
"""``made_permanent``: a temporary job became permanent (the person stays employed; a new spell
with ``contract = "permanent"`` starts)."""

CONTRACTS = ("temporary", "permanent", "project")
"""Values of ``spells.contract`` for employed spells (null otherwise). Jobs found in the labour
market after (or without) the pathway are ``temporary`` or ``permanent``; ``spells.stage`` is null
for them and names the pathway stage for jobs that came from the pathway."""

PAYERS = ("kommune", "nav", "state", "employer", "provider", "investor")
"""Values of ``wage_payer``, ``subsidy_payer`` and ``cost_payer`` (null when nothing is paid)."""

SPELLS = pa.schema(
    [
        ("arm", pa.string()),
        ("person_id", pa.int32()),
        ("state", pa.string()),
        ("stage", pa.string()),
        ("contract", pa.string()),
        ("start", pa.float64()),
        ("end", pa.float64()),
        ("fte", pa.float64()),
        ("annual_wage", pa.float64()),
        ("benefit_kind", pa.string()),
        ("benefit_g", pa.float64()),
        # who pays during the spell (see effekt.sim.pathway.Funding); null when nothing is paid
        ("wage_payer", pa.string()),       # who pays the wage (employed spells)
        ("subsidy_payer", pa.string()),    # who reimburses part of the wage cost (lønnstilskudd: nav)
        ("subsidy_share", pa.float64()),   # share of the wage cost reimbursed by subsidy_payer
        ("integration_grant", pa.bool_()),  # financed from the kommune's integration grant
        # what the stage costs (see effekt.sim.pathway.Costs); per-cohort costs are declared in the pathway
        ("cost_once", pa.float64()),       # NOK charged once at the spell's start (per person)
        ("cost_per_week", pa.float64()),   # NOK per week while the spell lasts
        ("cost_payer", pa.string()),       # who pays cost_once and cost_per_week
        # the spell is in a stage of a business-as-usual pathway (the introduction programme ...),
        # not of the programme's pathway, though its stage is named (both arms)
        ("business_as_usual", pa.bool_()),
        # a stage's per-cohort cost (NOK), charged at the start of the spell of the cohort's first
        # person to enter the stage, paid by cost_payer (0 on every other spell)
        ("cost_cohort", pa.float64()),
        # weeks over which cost_cohort is spread evenly from the spell's start (0: all at once)
        ("cost_cohort_weeks", pa.float64()),
    ]
)
"""A spell's ``benefit_kind``/``benefit_g`` is the prior benefit the person draws during it
(``none``/0 when it stops, e.g. after moving away); in a job, what the benefit's rule for work
leaves of it beside the wage (AAP graded by hours, uføretrygd and sosialhjelp reduced by earnings;
``none`` where it stops in a job)."""

CAPACITY = pa.schema(
    [
        ("resource", pa.string()),
        ("person_id", pa.int32()),
        ("requested", pa.float64()),
        ("granted", pa.float64()),
        ("released", pa.float64()),
        ("stage", pa.string()),  # the stage the slot was used for
    ]
)
"""``granted`` is NaN for a request still waiting at the horizon and ``released`` is NaN for
every request of a person still waiting for one of a stage's resources at the horizon (a slot
already granted is held but the stage never started); otherwise ``released`` is the stage's
scheduled end, which may lie beyond the horizon."""

SCHEMAS = {"persons": PERSONS, "events": EVENTS, "spells": SPELLS, "capacity": CAPACITY}


class collector_paused:  # noqa: N801 (used as a function: ``with collector_paused():``)
    """Python's cyclic garbage collector off while a replication runs or its tables are built,
    back as it was after (nested uses keep it off to the outermost's end).

    A replication allocates millions of small objects (events, tuples, generators) that all live
    to its end; the collector's full passes over them grow with the world (39 % of a 100 000-person
    run, issue 14) and free nothing until the replication is over. Reference counting still frees
    everything that is not in a cycle at once; the cycles a run leaves are collected by the next
    collection after it. The record tables are built with it off as well (:class:`Tables`): a
    collection started while a table is built would visit every row still waiting for its table,
    and a row freed once its table is built takes itself off the collector's count, so none is
    left for it to visit; a large record is built before the replication's pause ends
    (:meth:`Recorder.tables`: a collection visiting a 140 000-person replication's rows took a
    seventh of it, issue 14). A class rather than ``contextlib.contextmanager``: a generator per
    replication costs more than the rest of entering and leaving."""

    __slots__ = ("enabled",)

    def __enter__(self) -> None:
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            gc.enable()


class _Built:
    """A record table of :class:`Tables`, read as an attribute: built from the recorder's rows
    on first read (then the rows are let go), or the Arrow table the bundle was made with."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Tables | None, owner: type | None = None) -> pa.Table:
        if obj is None:
            return self  # type: ignore[return-value]  # the descriptor itself, read from the class
        table = obj._tables.get(self.name)
        if table is None:  # the rows go only once the table is stored (two readers at once: no error)
            # the collector off (see collector_paused, done here without allocating an object
            # the collector tracks, whose allocation could itself start the collection)
            enabled = gc.isenabled()
            gc.disable()
            try:
                table = _table(self.name, obj._rows[self.name])
                obj._tables[self.name] = table
                obj._rows.pop(self.name, None)
            finally:
                if enabled:
                    gc.enable()
        return table

    def __set__(self, obj: Tables, table: pa.Table) -> None:
        obj._tables[self.name] = table
        obj._rows.pop(self.name, None)


class Tables:
    """The four record tables of one replication (or of several, :func:`concat_records`), Arrow.

    Made from Arrow tables (``Tables(persons=..., events=..., spells=..., capacity=...)``), or by
    the engine from the rows it recorded (:meth:`from_rows`): then each table is built on its
    first read, so a table nobody reads (often ``capacity``) is never built, and a task's
    replications can be built as one table each (:func:`concat_records`) instead of four small
    ones per replication, each of which costs pyarrow's fixed ~17 µs per conversion even when
    empty (issue 14). Either way the attributes are plain ``pyarrow.Table`` objects of
    :data:`SCHEMAS`' schemas."""

    persons = _Built()
    events = _Built()
    spells = _Built()
    capacity = _Built()

    def __init__(self, persons: pa.Table, events: pa.Table, spells: pa.Table, capacity: pa.Table) -> None:
        self._rows: dict[str, list[tuple]] = {}
        self._tables: dict[str, pa.Table] = {"persons": persons, "events": events, "spells": spells,
                                              "capacity": capacity}

    @classmethod
    def from_rows(cls, rows: Mapping[str, list[tuple]]) -> Tables:
        """The tables of rows recorded as tuples in their schema's column order (name -> rows, for
        every table of :data:`SCHEMAS`), each built on first read. The lists are kept, not
        copied: the caller must not change them afterwards."""
        missing = [n for n in SCHEMAS if n not in rows]
        if missing:
            raise ValueError(f"Tables.from_rows: no rows given for {missing} (every table of SCHEMAS: "
                             f"{list(SCHEMAS)})")
        out = cls.__new__(cls)
        out._rows = {n: rows[n] for n in SCHEMAS}
        out._tables = {}
        return out

    def num_rows(self, name: str) -> int:
        """The number of rows of table ``name``, without building it."""
        if name not in SCHEMAS:
            raise KeyError(f"Tables.num_rows: no record table {name!r} (one of {list(SCHEMAS)})")
        rows = self._rows.get(name)
        return len(rows) if rows is not None else self._tables[name].num_rows

    def items(self) -> list[tuple[str, pa.Table]]:
        """(name, table) of the four tables in :data:`SCHEMAS`' order (building those not yet
        built, with the collector off until the last is built and its rows freed, as
        :class:`collector_paused` says why)."""
        enabled = gc.isenabled()  # as in _Built.__get__
        gc.disable()
        try:
            return [(n, getattr(self, n)) for n in SCHEMAS]
        finally:
            if enabled:
                gc.enable()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tables):
            return NotImplemented
        # as the dataclass compared: the four tables as a tuple (pyarrow's ==, so NaN is not NaN)
        return tuple(t for _, t in self.items()) == tuple(t for _, t in other.items())

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value (as the dataclass was)

    def __repr__(self) -> str:
        counts = ", ".join(f"{n}={self.num_rows(n)} rows" for n in SCHEMAS)
        return f"Tables({counts})"


def concat_records(records: Sequence[Tables]) -> Tables:
    """The record tables of several replications one after another: the same schemas, values and
    row order as ``pyarrow.concat_tables`` of each replication's tables, but each of the four
    tables built ONCE from all the replications' rows (and, as for one replication, only when
    read). A replication whose table was already built (or made from Arrow tables) is joined as
    that table; consecutive ones still as rows are built together. Each replication's row
    counts come from :meth:`Tables.num_rows`, which builds nothing."""
    if not records:
        raise ValueError("concat_records: no replications (give at least one Tables)")
    if len(records) == 1:
        return records[0]
    rows: dict[str, list[tuple]] = {}
    tables: dict[str, pa.Table] = {}
    for name in SCHEMAS:
        if all(name in r._rows for r in records):
            rows[name] = list(chain.from_iterable(r._rows[name] for r in records))
            continue
        pieces: list[pa.Table] = []
        run: list[tuple] = []
        for r in records:
            if name in r._rows:
                run.extend(r._rows[name])
                continue
            if run:
                pieces.append(_table(name, run))
                run = []
            pieces.append(r._tables[name])
        if run:
            pieces.append(_table(name, run))
        tables[name] = pieces[0] if len(pieces) == 1 else pa.concat_tables(pieces)
    out = Tables.from_rows({**rows, **{n: [] for n in tables}})
    for name, table in tables.items():
        setattr(out, name, table)
    return out


@dataclass
class Recorder:
    """Collects rows as plain tuples (cheap in the simulation loop) and builds tables once."""

    persons: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    spells: list[tuple] = field(default_factory=list)
    capacity: list[tuple] = field(default_factory=list)

    def tables(self) -> Tables:
        """The record tables of these rows, each built on its first read (:class:`Tables`); a
        large record (:data:`BUILT_AT_ONCE` rows or more) is built here and now, and the recorder
        let go of its rows (it starts afresh).

        Why a large record is built at once: its rows are millions of tuples the cyclic
        collector tracks, and with the collector paused for the replication
        (:class:`collector_paused`) they are all still counted as new when it comes back on, so
        the first allocation after the replication starts a collection that visits every one of
        them (1.6 s of a 140 000-person replication's 10, issue 14). Built while the collector
        is still paused, each table's rows are freed as soon as it is built, and so are
        uncounted. A small record stays lazy: building a task's replications together
        (:func:`concat_records`) saves pyarrow's fixed cost per table, which is what counts
        there, and the collection after it visits a few hundred rows."""
        out = Tables.from_rows({name: getattr(self, name) for name in SCHEMAS})
        if sum(len(getattr(self, name)) for name in SCHEMAS) >= BUILT_AT_ONCE:
            self.persons, self.events, self.spells, self.capacity = [], [], [], []
            out.items()
        return out


BUILT_AT_ONCE = 20_000
"""Rows of a record (all four tables) from which :meth:`Recorder.tables` builds the tables at
once: about a thousand persons of a default world, where a replication's tables cost more than
a hundred times pyarrow's fixed cost per table, and a task of such replications has few."""


_STRUCTS = {name: pa.struct(list(schema)) for name, schema in SCHEMAS.items()}


def _table(name: str, rows: list[tuple]) -> pa.Table:
    """Record table ``name`` from its rows (tuples in the schema's column order), in one call as a
    struct array: much cheaper than one conversion per column, though pyarrow still costs about
    17 µs per call, which is why a task's replications are built together (:func:`concat_records`)."""
    return pa.Table.from_struct_array(pa.array(rows, type=_STRUCTS[name]))
