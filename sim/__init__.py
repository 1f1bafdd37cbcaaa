"""effekt's simulation layer: people, cohorts, pathways as data, capacity, labour market,
counterfactual.

One replication is a function: :func:`simulate` (world spec + seed) -> record tables with fixed
Arrow schemas (:mod:`sim.records`). ``sim`` knows nothing of money contracts or files.
"""

from sim.engine import WEEKS_PER_YEAR, simulate
from sim.labour_market import LabourMarket
from sim.pathway import Pathway, builtin_names, load_pathway
from sim.people import Cohort
from sim.records import SCHEMAS, Tables
from sim.specfile import SpecError
from sim.streams import Streams, replication_seed
from sim.world import Counterfactual, World

__all__ = [
    "WEEKS_PER_YEAR",
    "SCHEMAS",
    "Cohort",
    "Counterfactual",
    "LabourMarket",
    "Pathway",
    "SpecError",
    "Streams",
    "Tables",
    "World",
    "builtin_names",
    "load_pathway",
    "replication_seed",
    "simulate",
]
