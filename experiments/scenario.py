"""Scenario files: one TOML file says everything about an experiment.

A scenario names a pathway and a contract (a built-in name or a file path, relative to the
scenario file) and may override any of their keys in place::

    [pathway]
    template = "kongsberg_kull"
    capacity.placements.slots = 8        # override one number of the built-in pathway

    [contract]
    template = "kongsberg_outcomes"
    prices.job_start = 50000

Loading resolves the templates, applies the overrides, validates everything strictly (unknown
keys are errors) and returns a :class:`Scenario`. ``--set dotted.key=value`` on the command line
edits the raw file the same way before validation.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.terms import Terms, terms_data
from sim.pathway import Pathway, builtin_dir, builtin_names
from sim.people import Cohort
from sim.specfile import SpecError, read_toml, validate
from sim.world import Counterfactual, World


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScenarioInfo(_Strict):
    name: str
    title: str = ""
    description: str = ""
    currency: str = "NOK"
    price_year: int = 2025
    G: float = Field(default=130160, gt=0, description="grunnbeløp in the price year (NOK)")
    discount_rate: float = Field(default=0.04, gt=-1, description="real, per year (R-109: 4 %)")


class WorldSection(_Strict):
    horizon_weeks: float = Field(gt=0)
    cohorts: list[Cohort] = Field(min_length=1)
    counterfactual: Counterfactual = Counterfactual()


class Design(_Strict):
    replications: int = Field(default=100, ge=1)
    seed: int = Field(default=0, ge=0)


class TemplateRef(BaseModel):
    model_config = ConfigDict(extra="allow")
    template: str


class ScenarioFile(_Strict):
    scenario: ScenarioInfo
    world: WorldSection
    pathway: TemplateRef
    contract: TemplateRef
    design: Design = Design()


@dataclass(frozen=True)
class Scenario:
    """A validated, fully resolved experiment."""

    info: ScenarioInfo
    world: World
    terms: Terms
    design: Design
    resolved: dict[str, Any]
    source: str

    @property
    def hash(self) -> str:
        text = json.dumps(self.resolved, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def default_scenario_path() -> Path:
    return (Path(__file__).parent / "scenarios" / "default.toml")


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` laid on top, table by table."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def parse_assignment(text: str) -> tuple[list[str], Any]:
    """``a.b.c=value`` -> (["a", "b", "c"], value); the value is read as TOML, else as a string."""
    if "=" not in text:
        raise SpecError("--set", [f"'{text}': expected dotted.key=value"])
    key, raw = text.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise SpecError("--set", [f"'{text}': empty key"])
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return parts, value


def apply_assignments(data: dict[str, Any], assignments: list[str]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    for text in assignments:
        parts, value = parse_assignment(text)
        node = out
        for p in parts[:-1]:
            if not isinstance(node.setdefault(p, {}), dict):
                raise SpecError("--set", [f"'{text}': '{p}' is a value, not a table"])
            node = node[p]
        node[parts[-1]] = value
    return out


def _pathway_data(ref: str, base: Path) -> tuple[dict[str, Any], str]:
    if ref in builtin_names():
        path = builtin_dir() / f"{ref}.toml"
    else:
        path = Path(ref) if Path(ref).is_absolute() else base / ref
    return read_toml(path), str(path)


def _resolve_ref(ref: str, base: Path) -> str:
    p = Path(ref)
    return ref if p.is_absolute() or not ref.endswith(".toml") else str(base / p)


def load_scenario(path: str | Path | None = None, assignments: list[str] | None = None) -> Scenario:
    """Read, resolve and validate a scenario file (the built-in default when ``path`` is None)."""
    path = Path(path) if path is not None else default_scenario_path()
    raw = apply_assignments(read_toml(path), assignments or [])
    source = str(path)
    top = validate(ScenarioFile, raw, source)
    base = path.parent

    p_over = {k: v for k, v in raw["pathway"].items() if k != "template"}
    p_data, p_src = _pathway_data(top.pathway.template, base)
    pathway_dict = deep_merge(p_data, p_over)
    pathway = _validate_part(Pathway, pathway_dict, source, "pathway", p_src)

    c_over = {k: v for k, v in raw["contract"].items() if k != "template"}
    c_data, c_src = terms_data(_resolve_ref(top.contract.template, base))
    terms_dict = deep_merge(c_data, c_over)
    terms = _validate_part(Terms, terms_dict, source, "contract", c_src)

    try:
        world = World(pathway=pathway, cohorts=top.world.cohorts,
                      horizon_weeks=top.world.horizon_weeks,
                      counterfactual=top.world.counterfactual)
    except ValueError as err:  # pydantic ValidationError is a ValueError
        raise SpecError(source, [f"world: {e['msg']}" for e in err.errors()]) from None

    resolved = {
        "scenario": top.scenario.model_dump(),
        "world": top.world.model_dump(),
        "pathway": pathway_dict,
        "contract": terms_dict,
        "design": top.design.model_dump(),
    }
    return Scenario(info=top.scenario, world=world, terms=terms, design=top.design,
                    resolved=resolved, source=source)


def _validate_part(model, data, source: str, section: str, template_src: str):
    try:
        return validate(model, data, f"{source} [{section}, template {template_src}]")
    except SpecError as err:
        raise SpecError(err.source, [f"{section}.{p}" for p in err.problems]) from None
