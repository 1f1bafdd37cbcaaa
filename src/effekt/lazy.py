"""A module imported on its first use, for heavy libraries off the import path of a command.

``effekt validate`` must start in well under a second (issue 14: under 0.3 s), and pandas alone
costs about half a second of CPU to import. The money layer builds DataFrames only when someone
reads one (:class:`effekt.contracts.Evaluation`), so its modules hold pandas as
``pd = lazy.module("pandas")``: the first attribute read (``pd.DataFrame``) imports it, and
later reads go straight to the module. Type checkers see the real module (``TYPE_CHECKING``).

numpy and pyarrow are held the same way by the modules ``effekt validate`` imports (the specs'
models, the fiscal rules, the priors): ``np = lazy.module("numpy", globals())``. Given the
module's ``globals()``, the stand-in puts the real module in its place on the first read, so a
function's ``np.exp`` costs no more than with a plain ``import numpy as np`` afterwards (the
simulation's inner loops read ``np`` millions of times).

Why not the standard library's ``importlib.util.LazyLoader``: it puts a lazy module into
``sys.modules`` for every importer in the process (numpy and pyarrow are then half-imported for
any library that imports them, and a C extension's import runs from whichever attribute read comes
first); a stand-in per importing module leaves ``sys.modules`` and everyone else's numpy ordinary.

The other way round, :func:`prefetch` imports ahead, in a thread, what a command will need after
work that runs in other processes (the summary after a batch on worker processes).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for the module ``name`` and imports it on the first attribute read; given a
    module's ``namespace`` (its ``globals()``), it then replaces itself there by the module."""

    def __init__(self, name: str, namespace: dict[str, Any] | None = None) -> None:
        self.__dict__["_name"] = name
        self.__dict__["_module"] = None
        self.__dict__["_namespace"] = namespace

    def _load(self) -> ModuleType:
        mod = self.__dict__["_module"]
        if mod is None:
            mod = importlib.import_module(self.__dict__["_name"])
            self.__dict__["_module"] = mod
            namespace = self.__dict__["_namespace"]
            if namespace is not None:  # every name bound to this stand-in now names the module
                for key in [k for k, v in namespace.items() if v is self]:
                    namespace[key] = mod
        return mod

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self.__dict__['_name']!r}>"


def module(name: str, namespace: dict[str, Any] | None = None) -> Any:
    """The module ``name``, imported when first used (see :class:`LazyModule`); with the
    importing module's ``globals()`` as ``namespace``, its name is rebound to the real module
    then."""
    return LazyModule(name, namespace)


pandas = module("pandas")
"""pandas, imported on first use: ``from effekt.lazy import pandas as pd``."""


def arrow_without_pandas() -> None:
    """Let pyarrow convert lists and numpy arrays without importing pandas (issue 14: pandas is
    ~0.15 s of an ``effekt run``'s start-up, and a run converts, but never reads, a frame).

    pyarrow asks at its first conversion of a Python or numpy value (``pa.array``, ``pa.table``)
    whether pandas is there, by importing it; when that import fails it converts without pandas,
    and imports pandas again when pandas is asked for (``to_pandas``, ``Table.from_pandas``). So
    the first question is answered "no" here, once, while pandas is not imported, and pyarrow is
    told of pandas as soon as anyone imports it later (:class:`_TellArrowOfPandas`): a pandas
    Series handed to ``pa.array`` after that is converted as a Series, as always. Nothing is
    done when pandas is already imported, or when this pyarrow has no such shim."""
    global _ARROW_ASKED
    if _ARROW_ASKED or "pandas" in sys.modules:
        return
    _ARROW_ASKED = True
    import pyarrow as pa

    if getattr(pa.lib, "_pandas_api", None) is None:
        return
    refuse = _NoPandas()
    sys.meta_path.insert(0, refuse)  # pyarrow's `import pandas` fails: "no pandas"
    try:
        pa.array([])
    finally:
        sys.meta_path.remove(refuse)
    sys.meta_path.insert(0, _TellArrowOfPandas())


_ARROW_ASKED = False
"""Whether :func:`arrow_without_pandas` has answered pyarrow's question in this process."""


def _tell_arrow_of_pandas() -> None:
    """pyarrow's pandas shim imports pandas (already imported: this only looks it up) and converts
    pandas objects as such from now on."""
    api = getattr(sys.modules["pyarrow"].lib, "_pandas_api", None)
    try:
        api.pd  # noqa: B018  (the property imports pandas into the shim)
    except ImportError:  # a pandas pyarrow does not support: pyarrow goes on without it, as it would
        pass


class _NoPandas(importlib.abc.MetaPathFinder):
    """Refuses to import pandas (in place for pyarrow's first question only: a ``None`` in
    ``sys.modules`` would not do, pyarrow's compiled import takes it for the module)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name == "pandas":
            raise ModuleNotFoundError("pandas is not imported for pyarrow's first conversion", name=name)
        return None


class _TellArrowOfPandas(importlib.abc.MetaPathFinder):
    """On the first import of pandas, finds it as the other finders do and wraps its loader so
    that pyarrow is told once pandas is imported (:func:`arrow_without_pandas`); then gone."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "pandas":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenTellArrow(spec.loader)
        return spec


class _ThenTellArrow(importlib.abc.Loader):
    """pandas' own loader, which tells pyarrow when pandas is imported and puts itself back."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        _tell_arrow_of_pandas()


def prefetch(names: Sequence[str]) -> threading.Thread:
    """Import the modules ``names`` in a thread of their own, now, and return the thread (a daemon:
    it never holds up the interpreter's exit).

    For what a command imports after its long work, when that work runs in other processes: the
    summary ``effekt run`` prints after its batch needs pandas and ``scipy.special`` (about 0.3 s
    of a 1 000-replication run's 1.6 s on 2 cores, issue 14), and while the workers simulate, this
    process only waits for their results and writes them. Imported in the meantime, the summary's
    modules are ready when the batch ends. The command imports them as always afterwards; an
    import still under way is waited for (Python's import lock per module), and a module whose
    import failed here is simply imported again there, so its error is raised where it belongs.

    Never call it while this process may still fork: a process forked while another thread is in
    the middle of an import keeps that import's lock held for ever (its workers would wait for
    ever on their first import of pandas). The batch starts it only once its worker processes are
    forked (or on a Dask cluster, which forks nothing here) and waits for it before it returns, so
    no later fork in the process meets it (:func:`effekt.experiments.batch.run_batch`'s
    ``prefetch``); and never where the work runs in this process itself, since a thread of Python
    code there would take its time from the simulation (one interpreter lock)."""

    def run() -> None:
        for name in names:
            try:
                importlib.import_module(name)
            except BaseException:  # noqa: BLE001, S112 - imported again where it is used, and raised there
                continue

    thread = threading.Thread(target=run, name="effekt-prefetch", daemon=True)
    thread.start()
    return thread
