"""sim's built-in world data (target groups, benefits, labour market) as plain tables.

The numbers live in ``sim/data/*.toml`` and sim alone knows where and in what layout. A scenario
starts from these tables and overrides single keys in them (``[world.groups.B] bau_entry_rate =
0.3``), so the layers above need them as plain data they can merge into, not as validated models:
:func:`builtin_world_data` gives them, in the shape of a scenario's ``[world]`` table. The
validated models of the same data are :func:`effekt.sim.people.default_target_groups`,
:func:`~effekt.sim.people.default_benefits` and
:func:`~effekt.sim.labour_market.default_labour_market`.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

from effekt.specfile import read_toml

DATA_DIR = Path(__file__).resolve().parent / "data"
"""Where the built-in data files are (inside the installed package)."""

@cache
def _read(name: str) -> dict[str, Any]:
    return read_toml(DATA_DIR / name)


def builtin_pathway_data(name: str) -> tuple[dict[str, Any], str]:
    """A built-in pathway's file as a plain TOML table (a fresh copy the caller may change, e.g.
    to merge a scenario's overrides into it before validating) and the file's path, for messages.
    Raises KeyError for a name that is not built in (see :func:`effekt.sim.builtin_names`)."""
    from effekt.sim.pathway import builtin_dir, builtin_names

    if name not in builtin_names():
        raise KeyError(name)
    path = builtin_dir() / f"{name}.toml"
    return copy.deepcopy(_read_path(path)), str(path)


@cache
def _read_path(path: Path) -> dict[str, Any]:
    return read_toml(path)


def builtin_world_data() -> dict[str, dict[str, Any]]:
    """The built-in world defaults as plain TOML tables: ``groups`` (target group name -> its
    table), ``benefits`` (benefit kind -> its table) and ``labour_market`` (one table).

    Every call returns a fresh deep copy, so the caller may change it in place. The values are
    exactly what the data files say (not yet validated: :class:`effekt.sim.World` validates them
    once the scenario's overrides are merged in).
    """
    return copy.deepcopy({
        "groups": _read("target_groups.toml").get("groups", {}),
        "benefits": _read("benefits.toml"),
        "labour_market": _read("labour_market.toml"),
    })
