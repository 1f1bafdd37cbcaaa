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

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    """``effekt.__version__``, read from the installed package's metadata on first use (PEP 562):
    ``importlib.metadata`` costs about 0.04 s of CPU to import, more than ``effekt --help`` may
    spend on anything it does not show (issue 14)."""
    if name != "__version__":
        raise AttributeError(f"module 'effekt' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("effekt")
    except PackageNotFoundError:  # running from a source tree that was never installed
        value = "0+unknown"
    globals()["__version__"] = value  # read once
    return value
