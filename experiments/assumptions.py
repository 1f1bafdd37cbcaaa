"""Every number a results directory's scenario used, with the source its files give beside it.

The manifest stores the resolved scenario (the templates merged in, every default filled), but not
the comments of the files it came from, where the project writes each number's source or the word
``assumption`` (``g = 2.041  # source: folketrygdloven § 11-20``). This module reads the comments of
the files back (the scenario file when it is still there, its pathway and contract, the country's
world files) and lays them beside the stored values: the Forutsetninger/Assumptions sheet of
``effekt export --xlsx``, and the same table as CSV.

A value takes the comment of the most specific key that has one, in the file that sets it last
(the scenario file over the templates over the world data); a key set inside an inline table or
an array (``duration = { dist = "fixed", value = 2 }  # assumption``) takes the comment of that line.
Without a comment, the nearest ``source`` the stored tables give (a pathway's, a benefit's) is
shown, marked as the table's.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from effekt.specfile import SpecError

KINDS = ("source", "calibrated", "derived", "assumption")
"""How a comment marks a number, in the order a comment is read for them."""

WORDS: dict[str, dict[str, str]] = {
    "nb": {"key": "nøkkel", "value": "verdi", "kind": "grunnlag", "source": "kilde eller merknad",
           "file": "fil", "kinds": {"source": "kilde", "calibrated": "kalibrert", "derived": "avledet",
                                    "assumption": "antakelse", "table": "tabellens kilde",
                                    "design": "designpunktets verdi", "": "ikke merket"}},
    "en": {"key": "key", "value": "value", "kind": "basis", "source": "source or note", "file": "file",
           "kinds": {"source": "source", "calibrated": "calibrated", "derived": "derived",
                     "assumption": "assumption", "table": "the table's source",
                     "design": "the design point's value", "": "not marked"}},
}
"""The column names and the kinds of the assumptions table in bokmål and English."""

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=\s*(.*)$")


def _split_comment(line: str) -> tuple[str, str]:
    """``line`` as (code, comment), a ``#`` inside a string not counting."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i], line[i + 1:].strip()
    return line, ""


def _dotted(key: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in key.split("."))


def comment_index(text: str) -> dict[str, str]:
    """The comments beside the keys of a TOML ``text``, by dotted key as the resolved scenario
    spells it (``stages.course.duration``, ``world.cohorts[0].size``, ``stages.x.exits[1]``).
    Only comments on the line of a key (or of an element of a multi-line array) count."""
    index: dict[str, str] = {}
    table, arrays = "", {}
    array_key, element = None, -1
    for line in text.splitlines():
        code, comment = _split_comment(line)
        if array_key is not None:  # inside a multi-line array: each element line may have its own
            if code.strip().startswith("{") or re.match(r"^\s*[-+\d\"']", code):
                element += 1
                if comment:
                    index[f"{array_key}[{element}]"] = comment
            if code.strip().startswith("]") or code.rstrip().endswith("]") and "[" not in code:
                array_key = None
            continue
        header = _HEADER.match(code)
        if header and "=" not in code:
            name = _dotted(header.group(2))
            if header.group(1) == "[[":
                arrays[name] = arrays.get(name, -1) + 1
                table = f"{name}[{arrays[name]}]"
            else:
                table = name
            continue
        match = _KEY.match(code)
        if not match:
            continue
        key = _dotted(match.group(1))
        full = f"{table}.{key}" if table else key
        value = match.group(2).strip()
        if comment:
            index[full] = comment
        if value.startswith("[") and value.count("[") > value.count("]"):
            array_key, element = full, -1
    return index


def kind_of(comment: str) -> str:
    """How ``comment`` marks its number: the first of :data:`KINDS` it names, else ``""``."""
    low = comment.lower()
    for kind in KINDS:
        if kind in low or (kind == "derived" and "prior derived" in low):
            return kind
    return ""


def leaves(tree: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """The leaves of a resolved scenario tree by dotted key (tables of an array indexed:
    ``world.cohorts[0].size``); a list of plain values is one leaf."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(tree, list) and tree and all(isinstance(x, dict) for x in tree):
        for i, v in enumerate(tree):
            yield from leaves(v, f"{prefix}[{i}]")
    else:
        yield prefix, tree


def _is_number(v: Any) -> bool:
    if isinstance(v, bool) or v is None:
        return False
    if isinstance(v, int | float):
        return True
    return isinstance(v, list) and bool(v) and all(_is_number(x) for x in v)


def _template_file(name: str | None, builtin: dict[str, Path], folder: Path | None) -> Path | None:
    if not name:
        return None
    if name in builtin:
        return builtin[name]
    path = Path(name)
    if folder is not None and not path.is_absolute():
        path = folder / path
    return path if path.is_file() else None


def _templates_read(source: str) -> dict[str, Path]:
    """The pathway and contract files the scenario file ``source`` reads, as the scenario reader
    finds them (a built-in name or the user's own file); empty when it cannot read them now."""
    from effekt.experiments.scenario import read_tree

    try:
        tree = read_tree(source)
    except SpecError:
        return {}
    found = {"pathway": tree.pathway_source, "contract": tree.contract_source}
    return {k: Path(v) for k, v in found.items() if v and Path(v).is_file()}


def source_files(manifest: dict[str, Any]) -> list[tuple[str, Path]]:
    """(key prefix, file) of the files a results directory's scenario was read from, the last
    setting a key first: the scenario file (when it is still there), its pathway and contract
    templates, the country's world files."""
    from effekt.contracts import template_names, templates_dir
    from effekt.sim import builtin_dir, builtin_names, country_files

    scenario = manifest.get("scenario") or {}
    files: list[tuple[str, Path]] = []
    src = manifest.get("scenario_source")
    folder = None
    raw: dict[str, Any] = {}
    if src and Path(src).is_file():
        folder = Path(src).parent
        files.append(("", Path(src)))
        try:
            raw = tomllib.loads(Path(src).read_text(encoding="utf-8-sig"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            raw = {}
    read = _templates_read(src) if folder is not None else {}
    pathways = {n: builtin_dir() / f"{n}.toml" for n in builtin_names()}
    contracts = {n: templates_dir() / f"{n}.toml" for n in template_names()}
    pathway = (raw.get("pathway") or {}).get("template") or scenario.get("pathway", {}).get(
        "pathway", {}).get("name")
    contract = (raw.get("contract") or {}).get("template") or scenario.get("contract", {}).get(
        "contract", {}).get("name")
    for prefix, name, builtin in (("pathway", pathway, pathways), ("contract", contract, contracts)):
        path = read.get(prefix) or _template_file(name, builtin, folder)
        if path is not None:
            files.append((prefix, path))
    country = (scenario.get("scenario") or {}).get("country") or "no"
    try:
        world = country_files(country, folder)
    except Exception:  # a country folder that moved: its comments are not to be had
        world = {}
    for stem, prefix in (("benefits", "world.benefits"), ("target_groups", "world"),
                         ("labour_market", "world.labour_market")):
        if world.get(stem) is not None:
            files.append((prefix, Path(world[stem])))
    return files


def assumptions(manifest: dict[str, Any], files: list[tuple[str, Path]] | None = None,
                point: int = 0) -> pd.DataFrame:
    """Every number of ``manifest``'s resolved scenario: columns key, value, kind (one of
    :data:`KINDS`, ``table`` for a table's own source, ``design`` for a value design ``point`` of
    a sweep sets, or ``""``), source (the comment, the table's source, or the value the files
    give) and file (the file's name). ``files``: (key prefix, file) to read comments from
    (default :func:`source_files`)."""
    files = source_files(manifest) if files is None else files
    indexes = []
    for prefix, path in files:
        try:
            index = comment_index(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError):
            continue
        indexes.append((prefix, path.name, index))
    tree = manifest.get("scenario") or {}
    sources = {k.rsplit(".", 1)[0]: v for k, v in leaves(tree) if k.endswith(".source") and v}
    rows = []
    for key, value in leaves(tree):
        if not _is_number(value):
            continue
        found = _comment(key, indexes)
        if found:
            comment, name = found
            rows.append({"key": key, "value": value, "kind": kind_of(comment), "source": comment,
                         "file": name})
            continue
        parent = key
        while "." in parent and parent not in sources:
            parent = parent.rsplit(".", 1)[0]
        table = sources.get(parent, "")
        rows.append({"key": key, "value": value, "kind": "table" if table else "", "source": table,
                     "file": ""})
    points = manifest.get("points") or [{}]
    at = points[point] if 0 <= point < len(points) else {}
    for row in rows:  # a sweep's point sets its own values; the files' value and note stay beside it
        if row["key"] in (at or {}):
            note = f"{row['value']}" + (f"; {row['source']}" if row["source"] else "")
            row.update(value=at[row["key"]], kind="design", source=note)
    return pd.DataFrame(rows, columns=["key", "value", "kind", "source", "file"])


def _comment(key: str, indexes: list[tuple[str, str, dict[str, str]]]) -> tuple[str, str] | None:
    """The comment of the most specific key of ``key`` (itself, then its parents) in the first
    file of ``indexes`` that has one."""
    for prefix, name, index in indexes:
        if prefix and not (key == prefix or key.startswith(prefix + ".")):
            continue
        inner = key[len(prefix) + 1:] if prefix else key
        probe = inner
        while probe:
            if probe in index:
                return index[probe], name
            if probe.endswith("]"):
                probe = probe[:probe.rindex("[")]
            elif "." in probe:
                probe = probe.rsplit(".", 1)[0]
            else:
                break
    return None


def read_assumptions(out: str | Path, point: int = 0) -> pd.DataFrame:
    """:func:`assumptions` of results directory ``out`` at design ``point`` (from its
    ``manifest.json``)."""
    path = Path(out) / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"{out}: no manifest.json here (is it an effekt results directory?)")
    return assumptions(json.loads(path.read_text(encoding="utf-8")), point=point)


def labelled(table: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """:func:`assumptions` with its kinds and columns named in ``lang`` (lists of numbers as text)."""
    w = WORDS[lang]
    out = table.assign(kind=table["kind"].map(lambda k: w["kinds"].get(k, k)),
                       value=table["value"].map(lambda v: json.dumps(v) if isinstance(v, list) else v))
    return out.rename(columns={c: w[c] for c in ("key", "value", "kind", "source", "file")})
