"""effekt's simulation layer: people, cohorts, pathways as data, capacity, labour market,
counterfactual.

One replication is a function: :func:`simulate` (world spec + seed) -> record tables with fixed
Arrow schemas. ``sim`` knows nothing of money contracts, scenario files or results; the layers
above use it only through this face (``from effekt.sim import ...``), and ``effekt.contracts``
only through its record schemas.

Simulating
    simulate                one replication: a World and a seed -> its record Tables
    replication_seed        the seed of replication r of an experiment (independent of the total)
    Streams                 the named random streams of one replication (one per kind of draw)
    WEEKS_PER_YEAR          weeks in a simulated year; the model's clock runs in weeks

The world
    World                   everything one replication simulates: cohorts, pathway, groups, horizon
    Cohort                  one intake of people (a kull): size, start, mix of target groups
    Counterfactual          how the control arm is formed: parallel business as usual or an RCT,
                            and whether a matched comparison group is added
    TargetGroup             a target group: who its people are and their hazards of work
    Benefit                 a prior benefit (AAP, introduksjonsstønad ...): its level per year in the
                            country's base amount (multiples of G in Norway), its rules and role
    LabourMarket            temporary and permanent jobs after the pathway, shared by all groups
    default_target_groups   the built-in target groups, validated (name -> TargetGroup)
    default_benefits        the built-in benefits, validated (kind -> Benefit)
    default_labour_market   the built-in labour-market parameters, validated (a LabourMarket)
    builtin_world_data      the same built-in defaults as plain tables (groups, benefits,
                            labour_market) for a scenario to merge its overrides into
    builtin_pathway_data    a built-in pathway file as a plain table and its path, for a
                            scenario to merge its overrides into

Countries (whose benefits, target groups and labour market the world has)
    WORLD_COUNTRIES         the built-in countries: 'no' (Norway, sim/data), 'fi' (Finland, sim/data/fi)
    country_dir             a country's folder (a built-in code or a user's folder), checked
    country_files           the world files a country reads (its own, or Norway's labour market)
    country_benefit_kinds   the benefit kinds of a country's benefits file
    KINDS_CONTEXT           the validation context key of the benefit kinds groups may name
    load_benefits           a benefits file, validated (its keys are the country's kinds)
    load_target_groups      a target-groups file, validated against a country's benefit kinds

Pathways
    Pathway                 a qualification pathway as data: stages, durations, exits, capacity
    load_pathway            a built-in pathway by name, or a pathway file by path, validated
    builtin_names           the names of the built-in pathways
    builtin_dir             the folder of the built-in pathway files (to show or copy them)
    load_business_as_usual  a business-as-usual pathway (a group's bau_pathway) by name or file,
                            validated (no capacity, no moves)
    business_as_usual_names the names of the built-in business-as-usual pathways
    business_as_usual_dir   the folder of the built-in business-as-usual pathway files
    Distribution            a stage's duration (fixed, exponential, gamma, lognormal, triangular,
                            uniform, empirical): sample, sampler, mean, bounds, describe(lang)

Record tables (the schemas ``effekt.contracts`` reads; columns are only ever added)
    Tables                  the four record tables of one replication (Arrow), each built on
                            its first read
    concat_records          several replications' Tables as one, each table built once from all
                            their rows (as ``pyarrow.concat_tables`` of theirs)
    SCHEMAS                 table name -> Arrow schema, for persons, events, spells, capacity
    PERSONS                 schema of ``persons``: one row per person and arm
    EVENTS                  schema of ``events``: one row per thing that happened to a person
    SPELLS                  schema of ``spells``: one row per interval a person spent in one state
    CAPACITY                schema of ``capacity``: one row per use of a capacity slot
    ARMS                    the values of ``arm``: treatment, control and (matched) comparison
    STATES                  the values of ``spells.state`` (programme, waiting, employed,
                            education ...)
    EVENT_KINDS             the values of ``events.event`` (referred, entered, hired ...)
    CONTRACTS               the values of ``spells.contract`` for jobs (temporary, permanent, project)
    PAYERS                  the values of ``wage_payer``, ``subsidy_payer`` and ``cost_payer``
    collector_paused        ``with collector_paused():`` Python's cyclic garbage collector off, as
                            a replication runs (a batch's task uses it too), back as it was after

Errors
    SpecError               a world or pathway file (or table) that does not validate, with located
                            messages
"""

import importlib
from typing import TYPE_CHECKING, Any

from effekt.sim.distributions import Distribution
from effekt.sim.labour_market import LabourMarket, default_labour_market
from effekt.sim.pathway import (
    Pathway,
    builtin_dir,
    builtin_names,
    business_as_usual_dir,
    business_as_usual_names,
    load_business_as_usual,
    load_pathway,
)
from effekt.sim.people import (
    KINDS_CONTEXT,
    Benefit,
    Cohort,
    TargetGroup,
    default_benefits,
    default_target_groups,
    load_benefits,
    load_target_groups,
)
from effekt.sim.streams import Streams, replication_seed
from effekt.sim.world import Counterfactual, World
from effekt.sim.world_data import COUNTRIES as WORLD_COUNTRIES
from effekt.sim.world_data import (
    builtin_pathway_data,
    builtin_world_data,
    country_benefit_kinds,
    country_dir,
    country_files,
)
from effekt.specfile import SpecError

if TYPE_CHECKING:
    from effekt.sim.engine import WEEKS_PER_YEAR, simulate
    from effekt.sim.records import (
        ARMS,
        CAPACITY,
        CONTRACTS,
        EVENT_KINDS,
        EVENTS,
        PAYERS,
        PERSONS,
        SCHEMAS,
        SPELLS,
        STATES,
        Tables,
        collector_paused,
        concat_records,
    )

_RECORDS = ("ARMS", "CAPACITY", "CONTRACTS", "EVENT_KINDS", "EVENTS", "PAYERS", "PERSONS", "SCHEMAS",
            "SPELLS", "STATES", "Tables", "collector_paused", "concat_records")
"""The record schemas and tables (``effekt.sim.records``, which builds its Arrow schemas at import)."""

_LAZY = {"simulate": "effekt.sim.engine", "WEEKS_PER_YEAR": "effekt.sim.engine",
         **dict.fromkeys(_RECORDS, "effekt.sim.records")}
"""Names imported on first use (PEP 562): the engine, and SimPy with it, and the record schemas,
and pyarrow with them, stay off the import path of what only reads and checks specs (``effekt
validate``, issue 14)."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'effekt.sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ARMS",
    "CAPACITY",
    "CONTRACTS",
    "EVENTS",
    "EVENT_KINDS",
    "KINDS_CONTEXT",
    "PAYERS",
    "PERSONS",
    "SCHEMAS",
    "SPELLS",
    "STATES",
    "WEEKS_PER_YEAR",
    "WORLD_COUNTRIES",
    "Benefit",
    "Cohort",
    "Counterfactual",
    "Distribution",
    "LabourMarket",
    "Pathway",
    "SpecError",
    "Streams",
    "Tables",
    "TargetGroup",
    "World",
    "builtin_dir",
    "builtin_names",
    "builtin_pathway_data",
    "builtin_world_data",
    "business_as_usual_dir",
    "business_as_usual_names",
    "collector_paused",
    "concat_records",
    "country_benefit_kinds",
    "country_dir",
    "country_files",
    "default_benefits",
    "default_labour_market",
    "default_target_groups",
    "load_benefits",
    "load_business_as_usual",
    "load_pathway",
    "load_target_groups",
    "replication_seed",
    "simulate",
]
