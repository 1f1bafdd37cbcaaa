"""A module imported on its first use, for heavy libraries off the import path of a command.

``effekt validate`` must start in well under a second (issue 14: under 0.3 s), and pandas alone
costs about half a second of CPU to import. The money layer builds DataFrames only when someone
reads one (:class:`effekt.contracts.Evaluation`), so its modules hold pandas as
``pd = lazy.module("pandas")``: the first attribute read (``pd.DataFrame``) imports it, and
later reads go straight to the module. Type checkers see the real module (``TYPE_CHECKING``).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for the module ``name`` and imports it on the first attribute read."""

    def __init__(self, name: str) -> None:
        self.__dict__["_name"] = name
        self.__dict__["_module"] = None

    def _load(self) -> ModuleType:
        mod = self.__dict__["_module"]
        if mod is None:
            mod = importlib.import_module(self.__dict__["_name"])
            self.__dict__["_module"] = mod
        return mod

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self.__dict__['_name']!r}>"


def module(name: str) -> Any:
    """The module ``name``, imported when first used (see :class:`LazyModule`)."""
    return LazyModule(name)


pandas = module("pandas")
"""pandas, imported on first use: ``from effekt.lazy import pandas as pd``."""
