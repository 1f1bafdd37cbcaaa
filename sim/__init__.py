"""effekt's simulation layer: people, cohorts, pathways as data, capacity, labour market,
counterfactual.

One replication is a function: :func:`simulate` (world spec + seed) -> record tables with fixed
Arrow schemas (:mod:`effekt.sim.records`). ``sim`` knows nothing of money contracts or files.
"""

from effekt.sim.engine import WEEKS_PER_YEAR, simulate
from effekt.sim.labour_market import LabourMarket
from effekt.sim.pathway import Pathway, builtin_names, load_pathway
from effekt.sim.people import Cohort
from effekt.sim.records import SCHEMAS, Tables
from effekt.sim.streams import Streams, replication_seed
from effekt.sim.world import Counterfactual, World
from effekt.specfile import SpecError

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
