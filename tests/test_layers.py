"""The layers point one way and meet only at their public faces.

    experiments -> contracts -> (record schemas of) sim          effekt.specfile, effekt.dotted: base

Every module under ``sim/``, ``contracts/``, ``experiments/`` and ``src/effekt/`` is parsed with
:mod:`ast` (imports inside functions and ``if TYPE_CHECKING:`` blocks count too, and so does
``importlib.import_module("...")`` with a literal name), and each import is checked against the
rules below. A failure names the file, the line and the rule. Within a package modules import each
other freely.

Rules
    namespace   the import name is ``effekt.…``: bare ``sim``, ``contracts``, ``experiments`` are not
                packages once installed
    base        ``effekt`` itself, ``effekt.specfile`` and ``effekt.dotted`` import no layer
    direction   sim imports neither contracts nor experiments; contracts does not import experiments
    face        across layers only the face: ``effekt.sim``, ``effekt.contracts``, never a submodule
    schemas     contracts takes from ``effekt.sim`` only the record schemas (by name)
    simpy       contracts never imports SimPy
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

import effekt.sim

ROOT = Path(__file__).resolve().parents[1]

PACKAGES: dict[str, Path] = {
    "effekt.sim": ROOT / "sim",
    "effekt.contracts": ROOT / "contracts",
    "effekt.experiments": ROOT / "experiments",
    "effekt": ROOT / "src" / "effekt",
}
"""Import name of each package -> its folder (the ``package-dir`` mapping of pyproject.toml)."""

LAYERS = ("sim", "contracts", "experiments")
FACES = {layer: f"effekt.{layer}" for layer in LAYERS}
BARE = {"sim", "contracts", "experiments"}

NOT_A_SCHEMA = {"Recorder"}
"""Defined in ``sim/records.py`` but not part of the record schemas: the row collector the engine
fills during a simulation."""


def _top_level(path: Path) -> set[str]:
    """The names a module defines at its top level (assignments, classes, functions)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ClassDef | ast.FunctionDef):
            names.add(node.name)
    return names


def _public_top_level(path: Path) -> set[str]:
    return {n for n in _top_level(path) if not n.startswith("_")}


RECORD_SCHEMAS = frozenset(
    (_public_top_level(ROOT / "sim" / "records.py") - NOT_A_SCHEMA) & set(effekt.sim.__all__)
)
"""What contracts may import from ``effekt.sim``: the names sim's records module defines (schemas,
the values of their columns, the ``Tables`` bundle) that sim's face re-exports."""


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.message}"


def module_name(path: Path) -> tuple[str, bool]:
    """The import name of the module in ``path`` and whether it is a package's ``__init__``."""
    path = path.resolve()
    for package, folder in PACKAGES.items():
        if path.is_relative_to(folder):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            return ".".join([package, *parts]), is_package
    raise ValueError(f"{path} is in none of the packages {sorted(PACKAGES)}")


def _file_of(name: str) -> Path | None:
    """The file or folder of our module or package ``name``, None if there is none."""
    for package, folder in sorted(PACKAGES.items(), key=lambda kv: -len(kv[0])):
        if name == package:
            return folder
        if name.startswith(package + "."):
            rest = folder.joinpath(*name[len(package) + 1:].split("."))
            return next((p for p in (rest.with_suffix(".py"), rest) if p.exists()), None)
    return None


def _init_of(package: str) -> Path | None:
    """The ``__init__.py`` of our package ``package``, None if it has none."""
    folder = _file_of(package)
    init = folder / "__init__.py" if folder is not None and folder.is_dir() else None
    return init if init is not None and init.is_file() else None


@cache
def _bound_in_init(package: str) -> frozenset[str]:
    """The names a package's ``__init__`` binds itself (imports, assignments, definitions)."""
    init = _init_of(package)
    if init is None:
        return frozenset()
    names = set(_top_level(init))
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return frozenset(names)


@cache
def face_all(package: str) -> frozenset[str]:
    """The names in the ``__all__`` of a package's ``__init__`` (its public face)."""
    init = _init_of(package)
    if init is None:
        return frozenset()
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if (isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets)
                and isinstance(node.value, ast.List | ast.Tuple)):
            return frozenset(e.value for e in node.value.elts if isinstance(e, ast.Constant))
    return frozenset()


def _dotted_name(node: ast.AST) -> str | None:
    """``a.b.c`` for an attribute chain on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def reaches(tree: ast.AST) -> Iterator[tuple[int, str, str]]:
    """What else in ``tree`` could reach into a layer without an import statement, as (line, what
    it names, how): attribute chains (``effekt.sim.engine.simulate``), strings naming a module or
    data package (``importlib.resources.files("effekt.sim.data")``,
    ``import_module(".engine", "effekt.sim")``) and paths built from a layer's folder name
    (``Path(__file__).parents[1] / "sim" / "data"``)."""
    inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and id(node) not in inner
                and not isinstance(getattr(node, "ctx", None), ast.Store)):
            name = _dotted_name(node)
            if name and name.startswith("effekt.") and name.count(".") >= 2:
                yield node.lineno, name, "attribute"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith("effekt."):
                yield node.lineno, node.value, "string"
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            for side in (node.left, node.right):
                if isinstance(side, ast.Constant) and side.value in LAYERS:
                    yield node.lineno, str(side.value), "path"
        if (isinstance(node, ast.Call) and len(node.args) >= 2
                and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args[:2])
                and str(node.args[0].value).startswith(".")):
            yield node.lineno, f"{node.args[1].value}{node.args[0].value}", "string"


def _is_module(package: str, name: str) -> bool:
    """Whether ``from package import name`` imports our module ``package.name``: the package's
    ``__init__`` does not bind ``name`` itself (a bound name wins, as at run time) and there is a
    module or package of that name."""
    return name not in _bound_in_init(package) and _file_of(f"{package}.{name}") is not None


def layer_of(name: str) -> str | None:
    """``sim``, ``contracts``, ``experiments``, ``base`` (the rest of ``effekt``), ``bare`` (an old
    bare name), ``simpy``, or None for anything else (standard library, third party)."""
    top = name.split(".")[0]
    for layer in LAYERS:
        if name == FACES[layer] or name.startswith(FACES[layer] + "."):
            return layer
    if top == "effekt":
        return "base"
    if top in BARE:
        return "bare"
    if top == "simpy":
        return "simpy"
    return None


def imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str, str | None]]:
    """Every import in ``tree`` as (line, module imported, name taken from it or None for the
    whole module). ``from P import n`` where ``P.n`` is one of our modules counts as importing
    ``P.n``; relative imports are resolved against ``module``."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                if alias.name != "*" and _is_module(source, alias.name):
                    yield node.lineno, f"{source}.{alias.name}", None
                else:
                    yield node.lineno, source, alias.name
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"
                   or isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__"))):
            yield node.lineno, node.args[0].value, None


def check_source(source: str, path: str, module: str | None = None, is_package: bool = False,
                 ) -> list[Violation]:
    """Every rule an import in ``source`` (the text of the module at ``path``, relative to the
    repository) breaks. ``module`` defaults to the import name that ``path`` is installed as."""
    if module is None:
        module, is_package = module_name(ROOT / path)
    here = layer_of(module)
    found: list[Violation] = []

    def bad(line: int, rule: str, message: str) -> None:
        found.append(Violation(path, line, rule, message))

    found_imports = imports(ast.parse(source, filename=path), module, is_package)
    for line, target, name in sorted(found_imports, key=lambda i: i[0]):
        there = layer_of(target)
        what = f"{target}.{name}" if name else target
        if there == "bare":
            bad(line, "namespace", f"imports bare '{target}': the import name is 'effekt.{target}'")
        elif here == "base" and there in LAYERS:
            bad(line, "base", f"imports {what}: the shared base (effekt, effekt.specfile, "
                              f"effekt.dotted) imports no layer")
        elif here == "sim" and there in ("contracts", "experiments"):
            bad(line, "direction", f"imports {what}: sim imports neither contracts nor experiments "
                                   f"(experiments -> contracts -> record schemas of sim)")
        elif here == "contracts" and there == "experiments":
            bad(line, "direction", f"imports {what}: contracts does not import experiments "
                                   f"(experiments -> contracts -> record schemas of sim)")
        elif here == "contracts" and there == "simpy":
            bad(line, "simpy", f"imports {what}: contracts never runs SimPy; it reads record tables")
        elif here in LAYERS and there in LAYERS and here != there:
            if target != FACES[there]:
                bad(line, "face", f"imports {what}: use the public face, "
                                  f"'from {FACES[there]} import ...', not its submodule {target}")
            elif here == "contracts" and name not in RECORD_SCHEMAS:
                allowed = ", ".join(sorted(RECORD_SCHEMAS))
                got = f"'{name}'" if name else "the whole module"
                bad(line, "schemas", f"imports {got} from effekt.sim: contracts may use only sim's "
                                     f"record schemas, by name ({allowed})")
            elif name is not None and name not in face_all(target):
                bad(line, "public", f"imports '{name}' from {target}, which does not list it in its "
                                    f"__all__: use the face's public names only")
    if here in LAYERS:
        for line, what, how in reaches(ast.parse(source, filename=path)):
            there = layer_of(what) if how != "path" else what
            if there not in LAYERS or there == here:
                continue
            if how == "path":
                bad(line, "data", f"builds a path into the '{what}' folder: another layer's files are "
                                  f"read through its face (e.g. builtin_world_data), not by path")
            elif what != FACES[there]:
                first = what[len(FACES[there]) + 1:].split(".")[0]
                already = any(v.line == line and v.rule == "face" for v in found)
                if (how == "string" or _is_module(FACES[there], first)) and not already:
                    bad(line, "face", f"reaches {what} ({how}): use the public face {FACES[there]}, "
                                      f"not its modules or files")
    return found


def source_files() -> list[Path]:
    return sorted(p for folder in PACKAGES.values() for p in folder.rglob("*.py")
                  if "__pycache__" not in p.parts)


# ---------------------------------------------------------------------------------------------
# the checker itself


def test_the_checker_reports_a_face_bypassing_import():
    src = "from effekt.sim.people import default_benefits\n"
    [v] = check_source(src, "contracts/fake.py", "effekt.contracts.fake")
    assert (v.path, v.line, v.rule) == ("contracts/fake.py", 1, "face")
    assert "effekt.sim.people" in str(v) and str(v).startswith("contracts/fake.py:1: [face]")


def test_the_checker_finds_imports_inside_functions_and_every_rule():
    src = ("import math\n"
           "\n"
           "def f():\n"
           "    from effekt.contracts import evaluate\n"
           "    import simpy\n"
           "    import effekt.experiments.cli\n")
    found = check_source(src, "sim/fake.py", "effekt.sim.fake")
    assert [(v.line, v.rule) for v in found] == [(4, "direction"), (6, "direction")]
    found = check_source(src, "contracts/fake.py", "effekt.contracts.fake")
    assert [(v.line, v.rule) for v in found] == [(5, "simpy"), (6, "direction")]
    src = ("from effekt.sim import PERSONS, simulate\n"
           "import effekt.sim\n"
           "from effekt import sim\n"
           "from effekt.sim import records\n"
           "from .. import sim as s\n"
           "import sim\n")
    found = check_source(src, "contracts/fake.py", "effekt.contracts.fake")
    assert [(v.line, v.rule) for v in found] == [(1, "schemas"), (2, "schemas"), (3, "schemas"),
                                                 (4, "face"), (5, "schemas"), (6, "namespace")]
    found = check_source("from effekt.contracts.terms import Terms\n"
                         "import importlib\n"
                         "importlib.import_module('effekt.sim.engine')\n"
                         "from effekt.contracts import evaluate, fiscal\n",
                         "experiments/fake.py", "effekt.experiments.fake")
    # ``evaluate`` is the face's function (the face binds the name); ``fiscal`` only a submodule
    assert [(v.line, v.rule, v.message.split(":")[0]) for v in found] == [
        (1, "face", "imports effekt.contracts.terms.Terms"), (3, "face", "imports effekt.sim.engine"),
        (4, "face", "imports effekt.contracts.fiscal")]
    found = check_source("from effekt.sim import World\n", "src/effekt/fake.py", "effekt.fake")
    assert [(v.line, v.rule) for v in found] == [(1, "base")]


def test_the_checker_sees_ways_around_a_face_without_an_import_statement():
    cases = {
        "import effekt.sim\nx = effekt.sim.engine.simulate\n": "face",
        "from importlib import resources\nf = resources.files('effekt.sim.data')\n": "face",
        "import importlib\nm = importlib.import_module('.engine', 'effekt.sim')\n": "face",
        "from pathlib import Path\np = Path(__file__).parents[1] / 'sim' / 'data'\n": "data",
        "from effekt.sim import _Model\n": "public",
    }
    for src, rule in cases.items():
        found = check_source(src, "experiments/fake.py", "effekt.experiments.fake")
        assert [v.rule for v in found] == [rule], (src, found)
    # a face's own public name through an attribute is fine
    assert not check_source("import effekt.sim\nx = effekt.sim.simulate\n", "experiments/fake.py",
                            "effekt.experiments.fake")


def test_the_checker_allows_what_the_rules_allow():
    assert check_source("from effekt.sim import PERSONS, SPELLS\nfrom effekt.specfile import Strict\n"
                        "from effekt.contracts.terms import Terms\nfrom . import fiscal\n",
                        "contracts/fake.py", "effekt.contracts.fake") == []
    assert check_source("from effekt.sim import simulate\nfrom effekt.contracts import evaluate\n"
                        "from effekt import sim\nimport simpy\nfrom effekt.dotted import split_key\n",
                        "experiments/fake.py", "effekt.experiments.fake") == []
    assert check_source("import simpy\nfrom effekt.sim.engine import simulate\n"
                        "from effekt.specfile import SpecError\n",
                        "sim/fake.py", "effekt.sim.fake") == []


def test_relative_imports_resolve_to_the_module_they_name():
    tree = ast.parse("from . import people\nfrom .records import SPELLS\nfrom .. import contracts\n")
    assert list(imports(tree, "effekt.sim.engine", False)) == [
        (1, "effekt.sim.people", None), (2, "effekt.sim.records", "SPELLS"), (3, "effekt.contracts", None)]
    tree = ast.parse("from . import engine\n")
    assert list(imports(tree, "effekt.sim", True)) == [(1, "effekt.sim.engine", None)]


def test_the_record_schemas_contracts_may_use():
    assert {"PERSONS", "EVENTS", "SPELLS", "CAPACITY", "SCHEMAS", "Tables"} <= RECORD_SCHEMAS
    assert not RECORD_SCHEMAS & {"Recorder", "simulate", "World", "Pathway", "default_benefits"}
    import effekt.sim.records as records

    for name in RECORD_SCHEMAS:
        assert getattr(effekt.sim, name) is getattr(records, name), name


def test_module_names_follow_the_package_dir_mapping():
    assert module_name(ROOT / "sim" / "engine.py") == ("effekt.sim.engine", False)
    assert module_name(ROOT / "experiments" / "analysis" / "__init__.py") == (
        "effekt.experiments.analysis", True)
    assert module_name(ROOT / "src" / "effekt" / "specfile.py") == ("effekt.specfile", False)


# ---------------------------------------------------------------------------------------------
# the code base


def test_every_layer_module_is_checked():
    names = {module_name(p)[0] for p in source_files()}
    assert {"effekt.sim.engine", "effekt.contracts.fiscal", "effekt.experiments.scenario",
            "effekt.experiments.analysis.common", "effekt.specfile", "effekt.dotted", "effekt"} <= names


@pytest.mark.parametrize("path", source_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_the_right_way_through_the_faces(path):
    rel = str(path.relative_to(ROOT))
    found = check_source(path.read_text(encoding="utf-8"), rel)
    assert not found, "imports against the layer rules:\n" + "\n".join(map(str, found))
