"""Shared plumbing of the analysis commands: scenarios with changed values, replications under
common random numbers, and scenarios rebuilt from a results directory.

Every analysis varies something (a price, a probability, a cohort size) and compares outcomes. To
make the comparison fair, every variant is run with the *same* replication seeds (common random
numbers): the same people, the same draws, only the varied value differs. That is what
:func:`replicate` does: it always seeds replication ``r`` with ``replication_seed(seed, r)``.
"""

from __future__ import annotations

import copy
import json
import math
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from effekt.experiments.runner import run_replication
from effekt.experiments.scenario import Scenario, load_scenario
from effekt.specfile import SpecError

_INDEX = re.compile(r"^(?P<name>[^\[\]]+)(?P<idx>(\[\d+\])*)$")


def split_key(key: str) -> list[str | int]:
    """``world.cohorts[0].size`` -> ``["world", "cohorts", 0, "size"]``."""
    parts: list[str | int] = []
    for piece in key.strip().split("."):
        m = _INDEX.match(piece)
        if not piece or m is None:
            raise SpecError("--vary", [f"'{key}': not a dotted key (e.g. contract.prices.job_start "
                                       "or world.cohorts[0].size)"])
        parts.append(m["name"])
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", m["idx"]))
    return parts


def get_value(tree: Mapping[str, Any], key: str) -> Any:
    """The value at dotted ``key`` in a nested dict/list (a scenario's resolved form)."""
    node: Any = tree
    walked: list[str] = []
    for part in split_key(key):
        walked.append(str(part))
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            here = ".".join(walked[:-1]) or "(top level)"
            allowed = sorted(map(str, node)) if isinstance(node, Mapping) else []
            hint = f"; keys here: {', '.join(allowed)}" if allowed else ""
            raise SpecError("--vary", [f"'{key}': no '{part}' under {here}{hint}"]) from None
    return node


def set_value(tree: dict[str, Any], key: str, value: Any) -> None:
    """Set dotted ``key`` in a nested dict/list, creating tables on the way."""
    parts = split_key(key)
    node: Any = tree
    for part in parts[:-1]:
        if isinstance(part, int):
            node = node[part]
        else:
            node = node.setdefault(part, {})
    node[parts[-1]] = value


def typed_like(base: Any, value: float) -> Any:
    """``value`` as an int when the scenario's own value at that key is an int (sizes, slots)."""
    if isinstance(base, bool):
        raise SpecError("--vary", ["cannot vary a true/false setting"])
    if isinstance(base, int):
        return int(round(value))
    return float(value)


# -- a tiny TOML writer (inline tables only): enough to hand dicts back to load_scenario -----------

def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, Mapping):
        items = [f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items() if x is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def to_toml(data: Mapping[str, Any]) -> str:
    """``data`` as a TOML document (one line per top-level key, inline tables below)."""
    return "".join(f"{json.dumps(str(k))} = {_toml_value(v)}\n" for k, v in data.items()
                   if v is not None)


def scenario_at(path: str | Path | None, values: Mapping[str, float], resolved: Mapping[str, Any],
                assignments: Iterable[str] = ()) -> Scenario:
    """:func:`scenario_with` for numbers from a sampler or root finder: each value is tried as
    given (a price of 8 000.37 stays one) and, if the scenario rejects it, rounded where the
    scenario's own value is an integer (sizes, slots)."""
    try:
        return scenario_with(path, {k: float(v) for k, v in values.items()}, assignments)
    except SpecError:
        typed = {k: typed_like(get_value(resolved, k), v) for k, v in values.items()}
        return scenario_with(path, typed, assignments)


def scenario_with(path: str | Path | None, values: Mapping[str, Any] | None = None,
                  assignments: Iterable[str] = ()) -> Scenario:
    """Load scenario ``path`` (None: the built-in default) with dotted ``values`` set.

    Everything goes through ``load_scenario``'s own ``--set`` route, so errors name the file and
    key the same way. A key with a list index (``world.cohorts[0].size``,
    ``pathway.stages.work_training.exits[1].p``) may point into a template the scenario file only
    names, so the whole list is taken from the resolved scenario, changed, and set as one value.
    """
    values = dict(values or {})
    assignments = list(assignments)
    plain = [f"{k}={_toml_value(v)}" for k, v in values.items() if "[" not in k]
    indexed = {k: v for k, v in values.items() if "[" in k}
    if not indexed:
        return load_scenario(path, [*assignments, *plain])
    resolved = load_scenario(path, assignments).resolved
    lists: dict[str, list] = {}
    for key, value in indexed.items():
        parts = split_key(key)
        first = next(i for i, p in enumerate(parts) if isinstance(p, int))
        prefix = ".".join(str(p) for p in parts[:first])
        if prefix not in lists:
            current = get_value(resolved, prefix)
            if not isinstance(current, list):
                raise SpecError("--vary", [f"'{key}': {prefix} is not a list"])
            lists[prefix] = copy.deepcopy(current)
        node: Any = lists[prefix]
        rest = parts[first:]
        try:
            for part in rest[:-1]:
                node = node[part]
            if rest[-1] not in range(len(node)) if isinstance(node, list) else rest[-1] not in node:
                raise KeyError(rest[-1])
            node[rest[-1]] = value
        except (KeyError, IndexError, TypeError):
            raise SpecError("--vary", [f"'{key}': no such entry in {prefix}"]) from None
    listed = [f"{k}={_toml_value(v)}" for k, v in lists.items()]
    return load_scenario(path, [*assignments, *plain, *listed])


def scenario_from_results(out: str | Path, point: int = 0) -> Scenario:
    """The scenario a results directory was run with (at design ``point`` of a sweep), rebuilt
    from its manifest.

    If the manifest's source file still resolves to the same scenario (same hash) and no design
    point values apply, it is used; otherwise the resolved scenario stored in the manifest, with
    the point's values set, is written back as TOML (pathway and contract as files of their own)
    and validated by the scenario models, so the directory stays usable when the source file has
    changed or moved.
    """
    out = Path(out)
    mpath = out / "manifest.json"
    if not mpath.exists():
        raise SpecError(str(out), ["no manifest.json here (is it an effekt results directory?)"])
    manifest = json.loads(mpath.read_text())
    src = manifest.get("scenario_source")
    want = manifest.get("scenario_hash")
    points = manifest.get("points") or [{}]
    if not 0 <= point < len(points):
        raise SpecError(str(mpath), [f"points: no design point {point} (there are {len(points)})"])
    values = points[point] or {}
    if src and Path(src).exists() and not values:
        try:
            sc = load_scenario(src)
            if sc.hash == want:
                return sc
        except SpecError:
            pass
    resolved = manifest.get("scenario")
    if not isinstance(resolved, dict):
        raise SpecError(str(mpath), ["scenario: missing; cannot rebuild the scenario"])
    resolved = copy.deepcopy(resolved)
    for key, value in values.items():
        set_value(resolved, key, value)
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        top = {k: v for k, v in resolved.items() if k not in ("pathway", "contract")}
        for section in ("pathway", "contract"):
            part = tmpd / f"{section}.toml"
            part.write_text(to_toml(resolved[section]))
            top[section] = {"template": str(part)}
        scen = tmpd / "scenario.toml"
        scen.write_text(to_toml(top))
        try:
            return load_scenario(scen)
        except SpecError as err:
            raise SpecError(str(mpath), err.problems) from None


def replicate(scenario: Scenario, replications: int, seed: int | None = None) -> pd.DataFrame:
    """KPI rows of replications ``0 .. replications-1`` (seeded from ``seed``, default the
    scenario's), plus ``commissioner_payments_npv``: what the commissioners pay, discounted.

    Two calls with the same ``seed`` use common random numbers.
    """
    if seed is not None and seed != scenario.design.seed:
        from dataclasses import replace

        scenario = replace(scenario, design=scenario.design.model_copy(update={"seed": seed}))
    rows = []
    rate = scenario.info.discount_rate
    payers = set(scenario.terms.commissioners)
    for r in range(replications):
        out = run_replication(scenario, r)
        row = out["runs"].iloc[0].to_dict()
        cash = out["cashflows"]
        pay = cash[cash["party"].isin(payers) & (cash["item"] == "outcome_payment")]
        row["commissioner_payments_npv"] = float(
            (-pay["amount"] / (1 + rate) ** (pay["month"] / 12.0)).sum())
        rows.append(row)
    return pd.DataFrame(rows)
