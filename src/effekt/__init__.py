"""effekt: simulate effektkontrakter (social impact bonds) in employment.

Three layers, the arrows pointing one way (experiments -> contracts -> record schemas of sim):

* :mod:`effekt.sim`: people, cohorts, pathways as data, capacity, the labour market and business
  as usual, simulated with SimPy; one replication is ``simulate(world, seed) -> Tables``.
* :mod:`effekt.contracts`: outcome metrics, payment rules, investor finance, the public budgets
  and the declared KPIs, as pure functions of sim's record tables.
* :mod:`effekt.experiments`: scenario files, designs, executors, the Parquet store, summaries,
  reports, analysis and the ``effekt`` command line.

Shared by all three: :mod:`effekt.specfile` (TOML data files through strict pydantic models with
located error messages), :mod:`effekt.dotted` (the one grammar of dotted keys such as
``world.cohorts.0.size`` used by ``--set``, ``--vary``, design levers and uncertainties) and
:mod:`effekt.priors` (a number in a data file given as a distribution, with its point value).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("effekt")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
