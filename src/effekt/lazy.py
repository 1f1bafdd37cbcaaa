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
"""

from __future__ import annotations

import importlib
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
