"""sim's built-in world data (target groups, benefits, labour market) as plain tables, by country.

The numbers live in ``sim/data/*.toml`` (Norway) and ``sim/data/<country>/*.toml`` (another
country's: ``fi``, Finland), and sim alone knows where and in what layout. A scenario chooses the
country (``[scenario] country``, default ``"no"``, or a folder of the user's own holding at least a
``benefits.toml``), starts from its tables and overrides single keys in them (``[world.groups.B]
bau_entry_rate = 0.3``), so the layers above need them as plain data they can merge into, not as
validated models: :func:`builtin_world_data` gives them, in the shape of a scenario's ``[world]``
table. The validated models of Norway's data are :func:`effekt.sim.people.default_target_groups`,
:func:`~effekt.sim.people.default_benefits` and
:func:`~effekt.sim.labour_market.default_labour_market`; a country's benefit kinds are the keys of
its benefits file (:func:`country_benefit_kinds`).
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

from effekt.dotted import suggest
from effekt.specfile import SpecError, read_toml, said

DATA_DIR = Path(__file__).resolve().parent / "data"
"""Where the built-in data files are (inside the installed package): Norway's."""

COUNTRIES: dict[str, str] = {"no": "", "fi": "fi"}
"""The built-in countries: code -> folder under :data:`DATA_DIR` (Norway's files are the folder
itself; Finland's, for Koto-SIB, are ``sim/data/fi``)."""
DEFAULT_COUNTRY = "no"
WORLD_FILES = ("benefits.toml", "target_groups.toml", "labour_market.toml")
"""The files of a country's folder: ``benefits.toml`` is required; without ``target_groups.toml`` the
country has no built-in groups (the scenario states its own), without ``labour_market.toml`` it
uses Norway's labour market (a note in :func:`country_files`)."""


def country_dir(country: str, base: str | Path | None = None) -> Path:
    """The folder of ``country``: a built-in code (:data:`COUNTRIES`) or a folder path (relative to
    ``base``, the scenario's folder) holding at least a ``benefits.toml``. Anything else is a
    :class:`effekt.specfile.SpecError` naming the key ``scenario.country`` and what is allowed."""
    if country in COUNTRIES:
        return DATA_DIR / COUNTRIES[country] if COUNTRIES[country] else DATA_DIR
    path = Path(country)
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    if not path.is_dir():
        raise SpecError("", [said(
            f"scenario.country: '{country}' is no built-in country"
            f"{suggest(country, list(COUNTRIES), 0.5)} and no folder ({path}); allowed: "
            f"{', '.join(COUNTRIES)} or the path of a folder holding benefits.toml and fiscal.toml "
            "(and target_groups.toml, labour_market.toml if it has its own)",
            f"scenario.country: '{country}' er ikke et innebygd land"
            f"{suggest(country, list(COUNTRIES), 0.5, lang='nb')} og ingen mappe ({path}); tillatt: "
            f"{', '.join(COUNTRIES)} eller stien til en mappe med benefits.toml og fiscal.toml "
            "(og target_groups.toml, labour_market.toml hvis landet har egne)")])
    if not (path / "benefits.toml").is_file():
        raise SpecError("", [said(f"scenario.country: the folder {path} has no benefits.toml; a country's "
                                  "folder holds its benefits.toml (benefit kinds and levels) and fiscal.toml "
                                  "(tax and who pays each benefit)",
                                  f"scenario.country: mappen {path} har ingen benefits.toml; et lands mappe "
                                  "har sin benefits.toml (ytelser og nivåer) og fiscal.toml (skatt og hvem "
                                  "som betaler hver ytelse)")])
    return path.resolve()


def country_files(country: str, base: str | Path | None = None) -> dict[str, Path | None]:
    """The world files ``country`` reads (:data:`WORLD_FILES`, by their stem: ``benefits``,
    ``target_groups``, ``labour_market``): its own, else None for its target groups (none built in)
    and Norway's labour market."""
    folder = country_dir(country, base)
    out: dict[str, Path | None] = {}
    for name in WORLD_FILES:
        own = folder / name
        stem = name.removesuffix(".toml")
        if own.is_file():
            out[stem] = own
        else:
            out[stem] = None if stem == "target_groups" else DATA_DIR / name
    return out


@cache
def _read(name: str) -> dict[str, Any]:
    return read_toml(DATA_DIR / name)


def builtin_benefit_kinds() -> tuple[str, ...]:
    """The benefit kinds of every built-in country's benefits file (Norway's first, in file
    order): what a target group or benefit validated without a country may name (a world then
    checks them against its own benefits, :class:`effekt.sim.World`)."""
    kinds: dict[str, None] = {}
    for code in COUNTRIES:
        kinds.update(dict.fromkeys(_read_path(country_dir(code) / "benefits.toml")))
    return tuple(kinds)


def country_benefit_kinds(country: str = DEFAULT_COUNTRY, base: str | Path | None = None) -> tuple[str, ...]:
    """The benefit kinds of ``country``'s benefits file, in file order."""
    return tuple(_read_path(country_dir(country, base) / "benefits.toml"))


def builtin_pathway_data(name: str) -> tuple[dict[str, Any], str]:
    """A built-in pathway's file as a plain TOML table (a fresh copy the caller may change, e.g.
    to merge a scenario's overrides into it before validating) and the file's path, for messages.
    Raises KeyError for a name that is not built in (see :func:`effekt.sim.builtin_names`)."""
    from effekt.sim.pathway import builtin_dir, builtin_names

    if name not in builtin_names():
        raise KeyError(name)
    path = builtin_dir() / f"{name}.toml"
    return copy.deepcopy(_read_path(path)), str(path)


def _read_path(path: Path) -> dict[str, Any]:
    """A data file's table, read once per version of the file: the cache is keyed by the file's
    modification time and size too, so a long-lived process (``effekt app``, a notebook) sees an
    edited file."""
    try:
        st = Path(path).stat()
    except OSError:
        return read_toml(path)  # its message says what is wrong with the path
    return _read_version(Path(path), st.st_mtime_ns, st.st_size)


@cache
def _read_version(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    return read_toml(path)


def builtin_world_data(country: str = DEFAULT_COUNTRY,
                       base: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """The world defaults of ``country`` (default Norway's built-in files; a code of
    :data:`COUNTRIES` or a folder, relative to ``base``) as plain TOML tables: ``groups`` (target
    group name -> its table), ``benefits`` (benefit kind -> its table) and ``labour_market`` (one
    table).

    Every call returns a fresh deep copy, so the caller may change it in place. The values are
    exactly what the data files say (not yet validated: :class:`effekt.sim.World` validates them
    once the scenario's overrides are merged in), except that a group's ``bau_pathway`` naming a
    file (``*.toml``) in another country's folder is made an absolute path to it, so it is read
    from that folder wherever the scenario is.
    """
    if country == DEFAULT_COUNTRY:
        return copy.deepcopy({
            "groups": _read("target_groups.toml").get("groups", {}),
            "benefits": _read("benefits.toml"),
            "labour_market": _read("labour_market.toml"),
        })
    files = country_files(country, base)
    folder = country_dir(country, base)
    own = files["target_groups"]
    groups = copy.deepcopy(_read_path(own).get("groups", {})) if own is not None else {}
    if not isinstance(groups, dict) or not all(isinstance(g, dict) for g in groups.values()):
        raise SpecError(str(own), [said(
            "groups: must be a table of target groups, one [groups.<name>] table "
            "each (e.g. [groups.A] with share_of_referrals, age, benefit ...)",
            "groups: skal være en tabell av målgrupper, én [groups.<navn>]-tabell "
            "for hver (f.eks. [groups.A] med share_of_referrals, age, benefit ...)")])
    for g in groups.values():
        ref = g.get("bau_pathway") if isinstance(g, dict) else None
        if isinstance(ref, dict):
            g["bau_pathway"] = {k: _in_folder(r, folder) for k, r in ref.items()}
        elif ref is not None:
            g["bau_pathway"] = _in_folder(ref, folder)
    return copy.deepcopy({
        "groups": groups,
        "benefits": _read_path(files["benefits"]),
        "labour_market": _read_path(files["labour_market"]),
    })


def _in_folder(ref: Any, folder: Path) -> Any:
    """A business-as-usual reference of a country's groups: a file name (``*.toml``, relative) is
    read in the country's ``folder``; a built-in name or an absolute path stays as it is."""
    if isinstance(ref, str) and ref.endswith(".toml") and not Path(ref).is_absolute():
        return str(folder / ref)
    return ref
