"""The one grammar of dotted keys: how a user names one number (or table) inside a scenario.

Every place that takes a key uses this module: ``--set KEY=VALUE``, ``effekt breakeven --vary
KEY``, ``effekt sensitivity --param KEY``, ``effekt compare --variant NAME:KEY=VALUE`` and the
sweep, levers and uncertainties of a scenario's ``[design]``. So a key that works in one place
works in all of them, and a mistake gets the same message everywhere.

Grammar::

    key   = name { "." part | "[" digits "]" }
    part  = name | digits            (digits after a dot index a list, as TOML-ish paths do)
    name  = bare | '"' any text without '"' '"'
    bare  = letters, digits, "_" and "-"   (TOML's bare keys)

* ``world.cohorts[0].size`` and ``world.cohorts.0.size`` are the same key; the bracket form is
  the canonical one (:func:`format_key`), used in every message.
* ``pathway.stages.course.exits[1].p``: names and indices mix freely; ``a[1][2]`` indexes a list
  of lists.
* A name that is not a bare key goes in double quotes: ``contract.x."a.b"``.
* Indices count from 0. An index into a table whose keys are digit strings (``"2025"``) finds
  that key.

:func:`parse_key` reads a key into its parts (a :data:`Part` each), :func:`format_key` and
:func:`canonical` write them back in the canonical form, :func:`get_value` and :func:`set_value`
read and write a nested dict/list tree (a scenario's resolved tree), :func:`parse_assignment`
reads ``KEY=VALUE`` and :func:`parse_value` the value alone (a TOML literal, else a plain string),
and :func:`suggest` finds the name a misspelt one was meant to be. Errors are
:class:`~effekt.specfile.SpecError` naming the key, what was wrong and what is allowed there,
with a suggestion when a name looks misspelt.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

from effekt.specfile import SpecError, keyed, said
from effekt.toml_text import plain_number

Part = str | int
"""One step of a key: a table key (str) or a list index (int)."""

EXAMPLE = "e.g. contract.prices.job_start or world.cohorts[0].size"

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_NAME = re.compile(r'\s*(?:(?P<bare>[A-Za-z0-9_-]+)|"(?P<quoted>[^"]*)")\s*')
_INDEX = re.compile(r"\[\s*(?P<index>\d+)\s*\]\s*")


EXAMPLE_NB = "f.eks. contract.prices.job_start eller world.cohorts[0].size"


def _not_a_key(key: str, why: str, why_nb: str) -> SpecError:
    return SpecError("", [said(f"'{key}' is not a dotted key: {why} ({EXAMPLE}; a list entry is "
                               "[0] or .0)",
                               f"'{key}' er ikke en punktnøkkel: {why_nb} ({EXAMPLE_NB}; et element i en "
                               "liste er [0] eller .0)")])


def parse_key(key: str) -> list[Part]:
    """``"world.cohorts[0].size"`` or ``"world.cohorts.0.size"`` -> ``["world", "cohorts", 0,
    "size"]``. Raises :class:`SpecError` (a ``ValueError``) for text that is not a key."""
    if not isinstance(key, str) or not key.strip():
        raise _not_a_key(str(key), "it is empty", "den er tom")
    parts: list[Part] = []
    m = _NAME.match(key)
    if m is None or m["bare"] is not None and m["bare"].isdigit():
        raise _not_a_key(key, "it must start with a name", "den må begynne med et navn")
    parts.append(m["bare"] if m["bare"] is not None else m["quoted"])
    pos = m.end()
    while pos < len(key):
        if key[pos] == ".":
            m = _NAME.match(key, pos + 1)
            if m is None:
                raise _not_a_key(key, f"a name or number must follow the dot at position {pos + 1}",
                                 f"et navn eller tall må følge punktumet på plass {pos + 1}")
            bare = m["bare"]
            parts.append(int(bare) if bare is not None and bare.isdigit()
                         else bare if bare is not None else m["quoted"])
        elif key[pos] == "[":
            m = _INDEX.match(key, pos)
            if m is None:
                raise _not_a_key(key, f"'[' at position {pos + 1} must hold a whole number: [0]",
                                 f"'[' på plass {pos + 1} må inneholde et heltall: [0]")
            parts.append(int(m["index"]))
        else:
            raise _not_a_key(key, f"unexpected '{key[pos]}' at position {pos + 1}",
                             f"uventet '{key[pos]}' på plass {pos + 1}")
        pos = m.end()
    return parts


def format_key(parts: Sequence[Part]) -> str:
    """The canonical text of a key: names joined by dots, list indices in brackets, names that
    are not bare keys in double quotes (``("world", "cohorts", 0)`` -> ``world.cohorts[0]``)."""
    text = ""
    for p in parts:
        if isinstance(p, int):
            text += f"[{p}]"
        else:
            name = p if _BARE.fullmatch(p) and not p.isdigit() else json.dumps(p, ensure_ascii=False)
            text += ("." if text else "") + name
    return text


def canonical(key: str) -> str:
    """``key`` in its canonical form (``world.cohorts.0.size`` -> ``world.cohorts[0].size``)."""
    return format_key(parse_key(key))


def suggest(name: str, options: Sequence[str], cutoff: float = 0.6, lang: str = "en") -> str:
    """`` (did you mean 'x'?)`` for the closest of ``options``, or an empty string; ``lang = "nb"``:
    `` (mente du 'x'?)``, for the bokmål wording of a rule's message (:func:`effekt.specfile.said`)."""
    hint = difflib.get_close_matches(name, [str(o) for o in options], n=1, cutoff=cutoff)
    if not hint:
        return ""
    return f" (mente du '{hint[0]}'?)" if lang == "nb" else f" (did you mean '{hint[0]}'?)"


def _entries(n: int, lang: str = "en") -> str:
    if lang == "nb":
        return f"{n} element" + (f" ([0] til [{n - 1}])" if n > 1 else "")
    return f"{n} entr{'y' if n == 1 else 'ies'}" + (f" ([0] to [{n - 1}])" if n > 1 else "")


def _listing(node: Mapping[str, Any], lang: str = "en") -> str:
    keys = sorted(map(str, node))
    return ", ".join(keys) if keys else ("(ingen)" if lang == "nb" else "(none)")


def _step(node: Any, parts: Sequence[Part], i: int, *, reading: bool) -> Any:
    """The key under which ``parts[i]`` is found in ``node`` (an int for lists, the table's own key
    for tables), or a :class:`SpecError` saying why it is not there and what is allowed."""
    part = parts[i]
    parent, here = format_key(parts[:i]), format_key(parts[:i + 1])
    if isinstance(node, list):
        if not isinstance(part, int):
            raise SpecError("", [said(f"{parent} is a list: index it by number, e.g. {parent}[0] "
                                      f"({_entries(len(node))})",
                                      f"{parent} er en liste: velg element med tall, f.eks. {parent}[0] "
                                      f"({_entries(len(node), 'nb')})")])
        if part >= len(node):
            raise SpecError("", [said(f"{here}: out of range, {parent} has {_entries(len(node))}",
                                      f"{here}: utenfor listen, {parent} har {_entries(len(node), 'nb')}")])
        return part
    if isinstance(node, Mapping):
        if isinstance(part, int):
            if str(part) in node:
                return str(part)
            raise SpecError("", [said(f"{parent} is a table, not a list: '{part}' is no key; keys "
                                      f"here: {_listing(node)}",
                                      f"{parent} er en tabell, ikke en liste: '{part}' er ingen nøkkel; "
                                      f"nøkler her: {_listing(node, 'nb')}")])
        if part in node or not reading:
            return part
        raise SpecError("", [said(f"{here}: no such key{suggest(part, list(node))}; keys in "
                                  f"{parent}: {_listing(node)}",
                                  f"{here}: ingen slik nøkkel{suggest(part, list(node), lang='nb')}; "
                                  f"nøkler i {parent}: {_listing(node, 'nb')}")])
    raise SpecError("", [said(f"{parent} is a value ({node!r}), not a table or list: nothing is under it",
                              f"{parent} er en verdi ({node!r}), ikke en tabell eller liste: ingenting "
                              "ligger under den")])


def get_value(tree: Mapping[str, Any], key: str | Sequence[Part], source: str = "") -> Any:
    """The value at ``key`` in a nested dict/list tree (e.g. a scenario's resolved tree)."""
    parts = parse_key(key) if isinstance(key, str) else list(key)
    node: Any = tree
    try:
        for i in range(len(parts)):
            node = node[_step(node, parts, i, reading=True)]
    except SpecError as err:
        raise SpecError(source, err.problems) from None
    return node


def set_value(tree: dict[str, Any], key: str | Sequence[Part], value: Any, source: str = "") -> None:
    """Set ``key`` in ``tree`` in place (a deep copy of ``value``).

    A missing table on the way is created (a scenario may set a key its template leaves out),
    except when its name looks like a misspelling of a table that is there: that is almost always
    a typo. A key that is new at the end is set; the scenario's validation then says whether it
    is allowed there. List entries must exist: a key never appends to a list.
    """
    parts = parse_key(key) if isinstance(key, str) else list(key)
    node: Any = tree
    try:
        for i in range(len(parts)):
            at = _step(node, parts, i, reading=False)
            if i == len(parts) - 1:
                node[at] = copy.deepcopy(value)
                return
            if isinstance(node, Mapping) and at not in node:
                tables = [k for k in node if isinstance(node[k], dict | list)]
                hint = suggest(str(at), tables, cutoff=0.75)
                if hint:
                    raise SpecError("", [said(f"{format_key(parts[:i + 1])}: no such table{hint}; tables "
                                              f"here: {', '.join(sorted(tables))}",
                                              f"{format_key(parts[:i + 1])}: ingen slik tabell"
                                              f"{suggest(str(at), tables, cutoff=0.75, lang='nb')}; "
                                              f"tabeller her: {', '.join(sorted(tables))}")])
                node[at] = {}
            node = node[at]
    except SpecError as err:
        raise SpecError(source, err.problems) from None


def parse_value(raw: str) -> Any:
    """A value as a TOML literal (``3``, ``0.25``, ``true``, ``'rct'``, ``[1, 2]``, ``{ a = 1 }``);
    text that is no TOML literal is taken as a plain string (``pathway.template=gloppen``).

    A number as Norwegians write it (``150 000``, ``0,04``) is refused with the TOML spelling,
    rather than taken as a string the model then cannot read as a number; a string that looks
    like one is written quoted (``name='"150 000"'``)."""
    try:
        return tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        number = plain_number(raw)
        if number is not None:
            spelt = str(number) if isinstance(number, int) else repr(number)
            comma = "," in raw
            how = "a decimal point" if comma else "no spaces (an underscore may group the digits)"
            how_nb = ("desimalpunktum" if comma
                      else "uten mellomrom (understrek kan gruppere sifrene)")
            raise SpecError("", [said(f"'{raw.strip()}': a number is written with {how}: {spelt}",
                                      f"'{raw.strip()}': et tall skrives med {how_nb}: {spelt}"
                                      if comma else
                                      f"'{raw.strip()}': et tall skrives {how_nb}: {spelt}")]) from None
        return raw.strip()


def parse_assignment(text: str, source: str = "--set") -> tuple[str, Any]:
    """``KEY=VALUE`` -> (KEY as written, stripped; VALUE by :func:`parse_value`). The key is
    checked against the grammar here, so a malformed one is refused before anything loads."""
    if "=" not in text:
        raise SpecError(source, [said(f"'{text}': expected dotted.key=value, e.g. "
                                      "contract.prices.job_start=60000",
                                      f"'{text}': ventet punkt.nøkkel=verdi, f.eks. "
                                      "contract.prices.job_start=60000")])
    key, raw = text.split("=", 1)
    if not key.strip():
        raise SpecError(source, [said(f"'{text}': empty key", f"'{text}': tom nøkkel")])
    try:
        parse_key(key)
    except SpecError as err:
        raise SpecError(source, err.problems) from None
    try:
        value = parse_value(raw)
    except SpecError as err:
        raise SpecError(source, [keyed(key.strip(), p) for p in err.problems]) from None
    return key.strip(), value


__all__ = ["Part", "canonical", "format_key", "get_value", "parse_assignment", "parse_key",
           "parse_value", "set_value", "suggest"]
