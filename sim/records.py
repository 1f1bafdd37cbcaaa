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

Columns are only ever added, never renamed or removed (``contracts`` reads them). Added since the
walking skeleton: spells ``wage_payer``, ``subsidy_payer``, ``subsidy_share``,
``integration_grant``, ``cost_once``, ``cost_per_week``, ``cost_payer``; capacity ``stage``;
event kind ``made_permanent``; persons ``employability``; spells ``business_as_usual`` and
``cost_cohort``, ``cost_cohort_weeks``; arm ``comparison``; states ``education``, ``retired``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass
class Tables:
    """The four record tables of one replication."""

    persons: pa.Table
    events: pa.Table
    spells: pa.Table
    capacity: pa.Table

    def items(self) -> list[tuple[str, pa.Table]]:
        return [(n, getattr(self, n)) for n in SCHEMAS]


@dataclass
class Recorder:
    """Collects rows as plain tuples (cheap in the simulation loop) and builds tables once."""

    persons: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    spells: list[tuple] = field(default_factory=list)
    capacity: list[tuple] = field(default_factory=list)

    def tables(self) -> Tables:
        """Build the Arrow tables: each list of row tuples is converted in one call, as a struct
        array (much cheaper than one conversion per column for the small tables of one run)."""
        return Tables(**{
            name: pa.Table.from_struct_array(pa.array(getattr(self, name), type=_STRUCTS[name]))
            for name in SCHEMAS
        })


_STRUCTS = {name: pa.struct(list(schema)) for name, schema in SCHEMAS.items()}
