"""Scenario files: one TOML file says everything about an experiment.

A scenario names a pathway and a contract (a built-in name or a file path, relative to the
scenario file) and may override any of their keys in place::

    [pathway]
    template = "kongsberg_kull"
    capacity.placements.slots = 8        # override one number of the built-in pathway

    [contract]
    template = "kongsberg_outcomes"
    prices.job_start = 50000

Loading resolves the templates into one tree (``scenario``, ``world``, ``pathway``, ``contract``,
``design``), applies ``--set dotted.key=value`` overrides and design-point values to that tree
(so they reach into template keys too, e.g. ``pathway.stages.course.exits[0].p``), and validates
everything strictly: unknown keys are errors, and every message names the file, the dotted key,
what is allowed and, for a misspelt key, the key that was probably meant.

:func:`load_scenario` gives one :class:`Scenario`; :func:`load_experiment` gives an
:class:`Experiment`: the scenario at every design point of its ``[design]`` (see
:mod:`effekt.experiments.design`).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from effekt.contracts.periods import WEEKS_PER_MONTH
from effekt.contracts.terms import Terms, needs_control, terms_data
from effekt.experiments.design import Design, design_points
from effekt.sim.labour_market import LabourMarket, default_labour_market
from effekt.sim.pathway import Pathway, builtin_dir, builtin_names
from effekt.sim.people import Benefit, Cohort, TargetGroup, default_benefits, default_target_groups
from effekt.sim.world import Counterfactual, World
from effekt.specfile import SpecError, Strict, read_toml, validate

SECTIONS = ("scenario", "world", "pathway", "contract", "design")



NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
"""A scenario name: it becomes a directory name (``results/<name>``), so letters, digits, ``_``,
``-`` and ``.`` only, not starting with ``.`` and without ``..``: it can never point elsewhere."""


class ScenarioInfo(Strict):
    name: str
    title: str = ""
    description: str = ""
    currency: str = "NOK"
    price_year: int = 2025
    G: float = Field(default=130160, gt=0, description="grunnbeløp in the price year (NOK)")
    discount_rate: float = Field(default=0.04, gt=-1, description="real, per year (R-109: 4 %)")

    @field_validator("name")
    @classmethod
    def _a_directory_name(cls, v: str) -> str:
        if not NAME_PATTERN.match(v) or ".." in v:
            raise ValueError(f"'{v}' is not allowed: the name becomes a directory (results/<name>), "
                             "so use letters, digits, '_', '-' and '.' (not first, no '..')")
        return v


class WorldSection(Strict):
    """``groups``, ``benefits`` and ``labour_market`` start from the built-in data files
    (``sim/data``); a scenario overrides single keys, e.g. ``[world.groups.B] bau_entry_rate = 0.3``
    or ``--set world.labour_market.temporary_share=0.5``."""

    horizon_weeks: float = Field(gt=0)
    cohorts: list[Cohort] = Field(min_length=1)
    counterfactual: Counterfactual = Counterfactual()
    groups: dict[str, TargetGroup] = Field(default_factory=default_target_groups)
    benefits: dict[str, Benefit] = Field(default_factory=default_benefits)
    labour_market: LabourMarket = Field(default_factory=default_labour_market)


class TemplateRef(BaseModel):
    model_config = ConfigDict(extra="allow")
    template: str


class ScenarioFile(Strict):
    scenario: ScenarioInfo
    world: WorldSection
    pathway: TemplateRef
    contract: TemplateRef
    design: Design = Design()


@dataclass(frozen=True)
class Scenario:
    """A validated, fully resolved experiment at one design point."""

    info: ScenarioInfo
    world: World
    terms: Terms
    design: Design
    resolved: dict[str, Any]
    source: str

    @property
    def hash(self) -> str:
        return _hash(self.resolved)


@dataclass(frozen=True)
class Experiment:
    """A scenario and its design points: ``scenarios[k]`` is the scenario at ``points[k]``.

    Without a sweep (or when the design is ignored) there is one point, ``{}``: the scenario as
    written.
    """

    base: Scenario
    points: list[dict[str, Any]]
    scenarios: list[Scenario]

    @property
    def parameters(self) -> list[str]:
        return list(self.points[0]) if self.points else []

    @property
    def replications(self) -> int:
        return self.base.design.replications

    @property
    def is_sweep(self) -> bool:
        return self.points != [{}]

    @property
    def hash(self) -> str:
        """Identity of the whole experiment: the resolved scenario and its design points, but not
        the number of replications. Replication r has the same seed whatever the total, so a
        results directory can be extended with more replications of the same experiment."""
        resolved = {**self.base.resolved,
                    "design": {k: v for k, v in self.base.resolved.get("design", {}).items()
                               if k != "replications"}}
        return _hash({**resolved, "points": self.points} if self.is_sweep else resolved)


def _hash(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def sim_data_dir() -> Path:
    """Where sim keeps its built-in data files (target groups, benefits, labour market)."""
    from effekt import sim

    return Path(sim.__file__).parent / "data"


def default_scenario_path() -> Path:
    return (Path(__file__).parent / "scenarios" / "default.toml")


# ---------------------------------------------------------------------------------------------
# dotted keys


_PART = re.compile(r"^([^\[\]]*)((?:\[\d+\])*)$")


def split_key(key: str) -> list[str | int]:
    """``"world.cohorts[0].size"`` (or ``"world.cohorts.0.size"``) -> ``["world", "cohorts", 0, "size"]``."""
    out: list[str | int] = []
    for raw in key.strip().split("."):
        m = _PART.match(raw.strip())
        if m is None or (not m.group(1) and not m.group(2)):
            raise ValueError(f"'{key}' is not a dotted key (e.g. contract.prices.job_start)")
        name, idx = m.group(1), m.group(2)
        if name:
            out.append(int(name) if name.isdigit() else name)
        out.extend(int(i) for i in re.findall(r"\d+", idx))
    return out


def _show(parts: list[str | int]) -> str:
    text = ""
    for p in parts:
        text += f"[{p}]" if isinstance(p, int) else ("." if text else "") + p
    return text


def _close(name: str, options: list[str]) -> str:
    hint = difflib.get_close_matches(name, options, n=1, cutoff=0.75)
    return f" (did you mean '{hint[0]}'?)" if hint else ""


def set_dotted(tree: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` in ``tree`` in place. Missing tables are created, except when their name looks
    like a misspelling of a table that exists there (that is almost always a typo)."""
    try:
        parts = split_key(key)
    except ValueError as err:
        raise SpecError("", [str(err)]) from None
    node: Any = tree
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        here = _show(parts[:i + 1])
        if isinstance(node, list):
            if not isinstance(part, int):
                raise SpecError("", [f"{_show(parts[:i])} is a list: index it by number, e.g. "
                                     f"{_show(parts[:i])}[0]"])
            if part >= len(node):
                raise SpecError("", [f"{here}: out of range, {_show(parts[:i])} has {len(node)} "
                                     f"entr{'y' if len(node) == 1 else 'ies'}"])
        elif isinstance(node, dict):
            if isinstance(part, int):
                raise SpecError("", [f"{_show(parts[:i])} is a table, not a list: '{part}' is no key"])
            if part not in node and not last:
                keys = [k for k in node if isinstance(node[k], dict)]
                hint = _close(part, keys)
                if hint:
                    raise SpecError("", [f"{here}: no such table{hint}; tables here: "
                                         f"{', '.join(sorted(keys))}"])
                node[part] = {}
        else:
            raise SpecError("", [f"{_show(parts[:i])} is a value, not a table or list"])
        if last:
            node[part] = copy.deepcopy(value)
        else:
            node = node[part]


def parse_assignment(text: str) -> tuple[str, Any]:
    """``a.b.c=value`` -> ("a.b.c", value); the value is read as TOML, else as a string."""
    if "=" not in text:
        raise SpecError("--set", [f"'{text}': expected dotted.key=value"])
    key, raw = text.split("=", 1)
    if not key.strip():
        raise SpecError("--set", [f"'{text}': empty key"])
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.strip(), value


def apply_assignments(data: dict[str, Any], assignments: list[str]) -> dict[str, Any]:
    """A copy of a raw scenario table with ``dotted.key=value`` assignments applied (kept for
    callers that edit a file's own table; :func:`load_scenario` applies them to the resolved tree)."""
    out = copy.deepcopy(data)
    for text in assignments:
        key, value = parse_assignment(text)
        _located(set_dotted, (out, key, value), "--set", text)
    return out


def deep_merge(base: dict[str, Any], over: dict[str, Any], where: str = "") -> dict[str, Any]:
    """``base`` with ``over`` laid on top, table by table. A new table whose name looks like a
    misspelling of one in ``base`` is an error (``where`` names the place in messages)."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        here = f"{where}.{k}" if where else k
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v, here)
        else:
            if k not in out and isinstance(v, dict):
                hint = _close(k, [t for t in out if isinstance(out[t], dict)])
                if hint:
                    raise SpecError("", [f"{here}: not in the template{hint}"])
            out[k] = copy.deepcopy(v)
    return out


# ---------------------------------------------------------------------------------------------
# resolution


def _pathway_data(ref: str, base: Path) -> tuple[dict[str, Any], str]:
    if ref in builtin_names():
        path = builtin_dir() / f"{ref}.toml"
    else:
        path = Path(ref) if Path(ref).is_absolute() else base / ref
        if not path.exists():
            raise SpecError("", [f"pathway.template: no built-in pathway '{ref}' and no file {path}; "
                                 f"built-in: {', '.join(builtin_names())}{_close(ref, builtin_names())}"])
    return read_toml(path), str(path)


def _resolve_ref(ref: str, base: Path) -> str:
    p = Path(ref)
    return ref if p.is_absolute() or not ref.endswith(".toml") else str(base / p)


def _world_data(world: dict[str, Any]) -> dict[str, Any]:
    """The scenario's world table with the built-in data files merged under its overrides."""
    data = sim_data_dir()
    defaults = {
        "groups": read_toml(data / "target_groups.toml").get("groups", {}),
        "benefits": read_toml(data / "benefits.toml"),
        "labour_market": read_toml(data / "labour_market.toml"),
    }
    out = dict(world)
    for key, base in defaults.items():
        over = world.get(key, {})
        if isinstance(over, dict):
            out[key] = deep_merge(base, over, f"world.{key}")
    return out


@dataclass(frozen=True)
class _Tree:
    """A scenario file with its templates merged in: the tree overrides and design points edit."""

    data: dict[str, Any]
    source: str
    pathway_src: str
    contract_src: str


def _resolve_tree(path: Path, assignments: list[str]) -> _Tree:
    source = str(path)
    raw = read_toml(path)
    parsed = [parse_assignment(a) for a in assignments]
    # template choices first: they decide which files the other overrides reach into
    for key, value in parsed:
        if key in ("pathway.template", "contract.template"):
            _located(set_dotted, (raw, key, value), source, f"--set {key}")
    if isinstance(raw.get("world"), dict):
        try:
            raw["world"] = _world_data(raw["world"])
        except SpecError as err:
            raise SpecError(source, err.problems) from None
    top = _validate_top(raw, source)
    base = path.parent
    try:
        p_data, p_src = _pathway_data(top.pathway.template, base)
        p_over = {k: v for k, v in raw["pathway"].items() if k != "template"}
        pathway = deep_merge(p_data, p_over, "pathway")
        c_data, c_src = terms_data(_resolve_ref(top.contract.template, base))
        c_over = {k: v for k, v in raw["contract"].items() if k != "template"}
        contract = deep_merge(c_data, c_over, "contract")
    except SpecError as err:
        raise SpecError(err.source or source, err.problems) from None
    data = {"scenario": raw["scenario"], "world": raw["world"], "pathway": pathway,
            "contract": contract, "design": raw.get("design", {})}
    data = copy.deepcopy(data)
    for (key, value), text in zip(parsed, assignments, strict=True):
        if key in ("pathway.template", "contract.template"):
            continue
        try:
            first = str(split_key(key)[0])
        except ValueError as err:
            raise SpecError(source, [f"--set {text}: {err}"]) from None
        if first not in SECTIONS:
            raise SpecError(source, [f"--set {text}: '{first}' is no section{_close(first, list(SECTIONS))}; "
                                     f"sections: {', '.join(SECTIONS)}"])
        _located(set_dotted, (data, key, value), source, f"--set {text}")
    return _Tree(data, source, p_src, c_src)


_SECTION_CHECK = re.compile(r"^(\w+): ([\w.\[\]']+): ")


def _validate_top(data: dict[str, Any], source: str) -> ScenarioFile:
    """Validate the scenario's own sections; a section-wide check's 'key: message' is shown under
    the section's dotted key (``design.samples: ...``, not ``design: samples: ...``)."""
    try:
        return validate(ScenarioFile, data, source)
    except SpecError as err:
        raise SpecError(source, [_SECTION_CHECK.sub(r"\1.\2: ", p) for p in err.problems]) from None


def _located(fn, args: tuple, source: str, what: str) -> None:
    """Call ``fn(*args)``; a :class:`SpecError` it raises is re-raised naming ``source`` and ``what``."""
    try:
        fn(*args)
    except SpecError as err:
        raise SpecError(source, [f"{what}: {p}" for p in err.problems]) from None


def _relocate(problems: list[str], section: str) -> list[str]:
    """Prefix a part's problems with its section; a whole-part check's 'key: message' keeps its key."""
    out = []
    for p in problems:
        if p.startswith("(top level): "):
            p = p.removeprefix("(top level): ")
        out.append(f"{section}.{p}")
    return out


def _validate_part(model, data, source: str, section: str, template_src: str):
    try:
        return validate(model, data, f"{source} [{section}, template {template_src}]")
    except SpecError as err:
        raise SpecError(err.source, _relocate(err.problems, section)) from None


def _build(tree: _Tree) -> Scenario:
    d = tree.data
    top = _validate_top({**d, "pathway": {"template": "-"}, "contract": {"template": "-"}}, tree.source)
    pathway = _validate_part(Pathway, d["pathway"], tree.source, "pathway", tree.pathway_src)
    terms = _validate_part(Terms, d["contract"], tree.source, "contract", tree.contract_src)
    try:
        world = World(pathway=pathway, cohorts=top.world.cohorts,
                      horizon_weeks=top.world.horizon_weeks,
                      counterfactual=top.world.counterfactual, groups=top.world.groups,
                      benefits=top.world.benefits, labour_market=top.world.labour_market)
    except ValueError as err:  # pydantic ValidationError is a ValueError
        raise SpecError(tree.source, [f"world.{e['msg'].removeprefix('Value error, ')}"
                                      for e in err.errors()]) from None
    _check_horizon(world, terms, tree.source)
    _check_control_arm(world, terms, tree.source)
    resolved = {
        "scenario": top.scenario.model_dump(),
        "world": top.world.model_dump(),
        "pathway": d["pathway"],
        "contract": d["contract"],
        "design": top.design.model_dump(),
    }
    return Scenario(info=top.scenario, world=world, terms=terms, design=top.design,
                    resolved=resolved, source=tree.source)


def horizon_needed(terms: Terms) -> tuple[int, str]:
    """The months of simulated time the contract needs to see everything it pays for, and the
    contract key that sets them (times 52/12 gives the weeks).

    Outcomes count when reached before month ``contract.term_months`` (cohort and pooled triggers
    count the same outcomes), and a savings share sums the public gain over its first
    ``savings_share.window_months`` months: the simulation has to reach the later of the two.
    The payment lag and the final evaluation month need no simulated time: they only say when
    outcomes already reached are paid. Outcome windows (``window_weeks``) count from a person's
    entry but are cut at the end of the term, so they add nothing either.
    """
    months, key = terms.contract.term_months, "contract.contract.term_months"
    share = terms.savings_share
    if share is not None and share.window_months > months:
        months, key = share.window_months, "contract.savings_share.window_months"
    return months, key


def _check_horizon(world: World, terms: Terms, source: str) -> None:
    """A horizon shorter than the contract cuts outcomes off, which silently gives wrong money."""
    months, key = horizon_needed(terms)
    need = months * WEEKS_PER_MONTH
    if world.horizon_weeks < need - 1e-9:
        raise SpecError(source, [
            f"world.horizon_weeks ({world.horizon_weeks:g}) is shorter than the contract: {key} = "
            f"{months} months needs a horizon of at least {need:.6g} weeks ({months} x 52/12); "
            f"outcomes after the horizon would silently go unpaid. Raise world.horizon_weeks to "
            f"{math.ceil(need - 1e-9)} or more, or shorten {key}"])


def _check_control_arm(world: World, terms: Terms, source: str) -> None:
    """A contract that compares with the control arm cannot be evaluated without one: say so when
    the scenario is loaded, not halfway through a batch."""
    if world.counterfactual.mode != "none":
        return
    comparisons = needs_control(terms)
    if comparisons:
        raise SpecError(source, [
            f"world.counterfactual.mode = 'none' simulates no control arm, but the contract compares "
            f"with one: {'; '.join(f'contract.{c}' for c in comparisons)}. Use "
            "world.counterfactual.mode = 'parallel' or 'rct', or a contract that does not compare "
            "with a control arm"])


def load_scenario(path: str | Path | None = None, assignments: list[str] | None = None) -> Scenario:
    """Read, resolve and validate a scenario file (the built-in default when ``path`` is None)."""
    path = Path(path) if path is not None else default_scenario_path()
    return _build(_resolve_tree(path, list(assignments or [])))


def load_experiment(path: str | Path | None = None, assignments: list[str] | None = None,
                    sweep: bool = True) -> Experiment:
    """The scenario at every design point of its ``[design]`` (just the scenario if ``sweep`` is
    False or the design varies nothing). Every point is validated here, before anything runs."""
    path = Path(path) if path is not None else default_scenario_path()
    tree = _resolve_tree(path, list(assignments or []))
    base = _build(tree)
    points = design_points(base.design) if sweep else [{}]
    scenarios = []
    for k, point in enumerate(points):
        if not point:
            scenarios.append(base)
            continue
        data = copy.deepcopy(tree.data)
        for key, value in point.items():
            table = next(t for t in ("sweep", "levers", "uncertainties")
                         if key in getattr(base.design, t))
            _located(set_dotted, (data, key, value), tree.source,
                     f"design.{table}.'{key}'")
        try:
            scenarios.append(_build(_Tree(data, tree.source, tree.pathway_src, tree.contract_src)))
        except SpecError as err:
            where = ", ".join(f"{k}={v!r}" for k, v in point.items())
            raise SpecError(err.source, [f"design point {k} ({where}): {p}"
                                         for p in err.problems]) from None
    return Experiment(base=base, points=points, scenarios=scenarios)
