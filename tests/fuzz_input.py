"""Mutations of every shipped data file, and the check that each is either accepted or refused with a
message, never a traceback (issue 15's fuzzing evidence; used by tests/test_fuzz_input.py).

A *case* is one shipped file (scenario, pathway, business-as-usual pathway, contract template,
world data or fiscal rules) with one mutation, placed where ``effekt validate`` reads it: the file
itself for a scenario; for the others the built-in default scenario pointing at the mutated copy
(``[pathway] template``, ``[contract] template``, ``bau_pathway``, or a country folder holding the
copy beside the other world files). Mutations work on the parsed table (delete a key, rename it,
replace a value by NaN, an infinity, a huge, negative or zero number, a boolean, an empty array or
table, a string, a dangling name; empty a list; duplicate an entry) or on the bytes (truncate,
insert bytes that are not UTF-8, replace the file by binary bytes).

:func:`check` runs one case and returns what happened: ``ok``, ``refused`` (exit 2 with a message
naming the file) or raises AssertionError for a traceback, a message that does not name a file,
or an accepted mutation that is clearly invalid (NaN or infinity, a boolean for a number, a
misspelt key).
"""

from __future__ import annotations

import copy
import math
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from click.testing import CliRunner

from effekt.experiments.cli import main
from effekt.experiments.examples import PATHWAY_TEMPLATES

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "experiments" / "scenarios" / "default.toml"

SCENARIOS = sorted((ROOT / "experiments" / "scenarios").glob("*.toml"))
PATHWAYS = sorted((ROOT / "sim" / "pathways").glob("*.toml"))
BAU = sorted((ROOT / "sim" / "business_as_usual").glob("*.toml"))
TEMPLATES = sorted((ROOT / "contracts" / "templates").glob("*.toml"))
WORLD = [ROOT / "sim" / "data" / n for n in ("benefits.toml", "target_groups.toml", "labour_market.toml")]
WORLD.append(ROOT / "contracts" / "data" / "fiscal.toml")
"""The files a country folder holds (sim's WORLD_FILES and the fiscal rules); subsidies.toml is
read from the package alone."""
FILES = SCENARIOS + PATHWAYS + BAU + TEMPLATES + WORLD

VALUE_KINDS = ("nan", "inf", "-inf", "huge", "negative", "zero", "true", "false", "empty_list",
               "empty_table", "string", "dangling")
KEY_KINDS = ("delete", "rename")
LIST_KINDS = ("empty", "duplicate")
BYTE_KINDS = ("truncate", "latin1", "binary")
CLEARLY_INVALID = ("nan", "inf", "-inf", "rename", "latin1", "binary")
"""Mutations no file may be accepted with (a boolean for a number is checked separately)."""

_PATHWAY_OF = {v: k for k, v in PATHWAY_TEMPLATES.items()}


@dataclass(frozen=True)
class Mutation:
    """One change to one file: ``kind``, where (``path``, the keys and indices to it) and, for
    byte mutations, ``at`` (a share of the file's length)."""

    kind: str
    path: tuple[Any, ...] = ()
    at: float = 0.0

    def describe(self) -> str:
        where = ".".join(str(p) for p in self.path)
        return f"{self.kind} at {where or 'the file'}" + (f" ({self.at:.2f})" if self.at else "")


def leaves(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value (tables and lists included) in a parsed TOML table."""
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        out.append((*at, key))
        out.extend(leaves(child, (*at, key)))
    return out


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        node = node[p]
    return node


def _value(kind: str, old: Any) -> Any:
    return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "huge": 1e154, "negative": -7,
            "zero": 0, "true": True, "false": False, "empty_list": [], "empty_table": {},
            "string": "x y", "dangling": "no_such_thing"}[kind]


def mutate_table(data: dict[str, Any], m: Mutation) -> dict[str, Any]:
    """``data`` with mutation ``m`` applied (a deep copy)."""
    data = copy.deepcopy(data)
    parent, last = _get(data, m.path[:-1]), m.path[-1]
    if m.kind == "delete":
        del parent[last]
    elif m.kind == "rename":
        if isinstance(parent, dict):
            parent[f"{last}x"] = parent.pop(last)
        else:  # a list entry has no key: rename its first key instead
            entry = parent[last]
            if isinstance(entry, dict) and entry:
                first = next(iter(entry))
                entry[f"{first}x"] = entry.pop(first)
    elif m.kind in LIST_KINDS:
        target = parent[last]
        if isinstance(target, list):
            if m.kind == "empty":
                target.clear()
            elif target:
                target.append(copy.deepcopy(target[0]))
    else:
        parent[last] = _value(m.kind, parent[last])
    return data


def mutated_bytes(raw: bytes, data: dict[str, Any], m: Mutation) -> bytes:
    """The file's new bytes: a byte mutation of ``raw`` or the mutated table written as TOML."""
    if m.kind == "truncate":
        return raw[: int(len(raw) * m.at)]
    if m.kind == "latin1":
        cut = int(len(raw) * m.at)
        return raw[:cut] + b"# caf\xe9\n" + raw[cut:]
    if m.kind == "binary":
        return bytes(range(256)) * 4
    return tomli_w.dumps(mutate_table(data, m)).encode("utf-8")


def clearly_invalid(data: dict[str, Any], m: Mutation) -> bool:
    """Whether no reading of the file should accept ``m``: NaN or infinity, a misspelt key (a key
    of a table of names, e.g. a group's, is a name, which another check refuses), bytes that are
    not UTF-8 text, or a boolean where a number was."""
    if m.kind in CLEARLY_INVALID:
        if m.kind == "rename":
            parent = _get(data, m.path[:-1])
            return isinstance(parent, dict) and not isinstance(parent.get(m.path[-1]), list)
        return True
    if m.kind in ("true", "false"):
        old = _get(data, m.path)
        return isinstance(old, int | float) and not isinstance(old, bool)
    return False


def scenario_for(file: Path, copy_path: Path, folder: Path) -> tuple[Path, list[str]]:
    """The scenario that reads ``copy_path`` in ``file``'s place, and its --set options."""
    if file in SCENARIOS:
        return copy_path, []
    text = DEFAULT.read_text(encoding="utf-8").replace("horizon_weeks = 156", "horizon_weeks = 300")
    sets: list[str] = []  # (300 weeks: long enough for every built-in contract's term)
    if file in PATHWAYS:
        text = text.replace('template = "kongsberg_kull"', f'template = "{copy_path}"')
        text = text.replace('template = "kongsberg_outcomes"', f'template = "{PATHWAY_TEMPLATES[file.stem]}"')
    elif file in TEMPLATES:
        pathway = _PATHWAY_OF.get(file.stem, "kongsberg_kull")
        text = text.replace('template = "kongsberg_kull"', f'template = "{pathway}"')
        text = text.replace('template = "kongsberg_outcomes"', f'template = "{copy_path}"')
    elif file in BAU:
        kind = {"aap_oppfolging": "aap", "kvalifiseringsprogram": "kvalifiseringsstonad",
                "introduksjonsprogram": "introduksjonsstonad"}.get(file.stem, "aap")
        sets = [f"world.groups.C.bau_pathway.{kind}={copy_path}",
                "world.cohorts[0].groups={ C = 1.0 }"]
    else:  # world data or fiscal rules: a country folder holding the copy beside the others
        text = text.replace('[scenario]\n', f'[scenario]\ncountry = "{folder}"\n', 1)
    scenario = copy_path.parent / "scenario.toml"
    scenario.write_text(text, encoding="utf-8")
    return scenario, sets


def place(file: Path, tmp: Path) -> tuple[Path, Path]:
    """A fresh place for one case: the copy's path (inside a country folder for world files) and
    the folder."""
    if tmp.exists():
        shutil.rmtree(tmp)
    folder = tmp / "land"
    folder.mkdir(parents=True)
    if file in WORLD:
        for p in WORLD:
            shutil.copy(p, folder / p.name)
        return folder / file.name, folder
    return tmp / file.name, folder


def check(file: Path, m: Mutation, tmp: Path) -> str:
    """Run one case; ``ok`` or ``refused``, or an AssertionError saying what went wrong."""
    raw = file.read_bytes()
    if file in SCENARIOS:  # its copy lives elsewhere: a path relative to the repository made absolute
        raw = raw.replace(b'"../../', f'"{ROOT}/'.encode())
    data = tomllib.loads(raw.decode("utf-8"))
    copy_path, folder = place(file, tmp)
    copy_path.write_bytes(mutated_bytes(raw, data, m))
    scenario, sets = scenario_for(file, copy_path, folder)
    args = ["validate", str(scenario), "--lang", "en"] + [a for s in sets for a in ("--set", s)]
    result = CliRunner().invoke(main, args)
    what = f"{file.relative_to(ROOT)}: {m.describe()}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{what}: traceback {type(result.exception).__name__}: {result.exception}")
    if result.exit_code == 0:
        if clearly_invalid(data, m):
            raise AssertionError(f"{what}: accepted, though clearly invalid:\n{result.output}")
        return "ok"
    assert result.exit_code == 2, f"{what}: exit {result.exit_code}\n{result.output}"
    assert "Traceback" not in result.output, f"{what}: {result.output}"
    named = (str(copy_path) in result.output or str(scenario) in result.output
             or file.name in result.output or "--set" in result.output)
    assert result.output.startswith("error: ") and named, f"{what}: no file named:\n{result.output}"
    # the same refusal in bokmål (the default language): each rule's own wording, no traceback
    nb = CliRunner().invoke(main, [a if a != "en" else "nb" for a in args])
    if nb.exception is not None and not isinstance(nb.exception, SystemExit):
        raise AssertionError(f"{what}: traceback in nb {type(nb.exception).__name__}: {nb.exception}")
    assert nb.exit_code == 2 and "Traceback" not in nb.output, f"{what}: nb exit {nb.exit_code}\n{nb.output}"
    assert nb.output.startswith("feil: ") and ": invalid\n" not in nb.output, f"{what}: nb:\n{nb.output}"
    return "refused"


def cases(file: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The paths a mutation may take in ``file``: every value, and every list."""
    data = tomllib.loads(file.read_text(encoding="utf-8"))
    paths = leaves(data)  # (a relative path a scenario names is made absolute in its copy: same keys)
    lists = [p for p in paths if isinstance(_get(data, p), list)]
    return paths, lists


__all__ = ["BYTE_KINDS", "FILES", "KEY_KINDS", "LIST_KINDS", "VALUE_KINDS", "Mutation", "cases", "check"]
