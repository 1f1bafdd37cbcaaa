"""Shared plumbing of the analysis commands: scenarios at changed values, replications under
common random numbers on any executor, and scenarios rebuilt from a results directory.

Every analysis varies something (a price, a probability, a cohort size) and compares outcomes.
A scenario at other values is ``resolve(base.tree.with_values(values))``: the values are set on
the scenario's data tree with the one dotted-key grammar (:mod:`effekt.dotted`) and validated as
a whole, exactly as ``--set`` and design points are. Nothing is written back as TOML.

To make comparisons fair, every variant is run with the *same* replication seeds (common random
numbers): the same people, the same draws, only the varied value differs. :func:`replicate_many`
runs replications ``0 .. R-1`` of each scenario, split into :class:`Evaluation` tasks on the same
executors as ``effekt batch`` (serial, local processes, Dask); a replication's rows depend only
on its scenario and seed, never on the executor, so every executor gives the same numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from effekt.dotted import format_key, get_value, parse_key
from effekt.experiments.executors import Executor, SerialExecutor
from effekt.experiments.runner import run_replication
from effekt.experiments.scenario import (
    Scenario,
    ScenarioTree,
    default_scenario_path,
    read_tree,
    resolve,
)
from effekt.priors import PriorError, is_prior, parse_prior
from effekt.specfile import SpecError, keyed, said


def typed_like(base: Any, value: float) -> Any:
    """``value`` as an int when the scenario's own value at that key is an int (sizes, slots)."""
    if isinstance(base, bool):
        raise SpecError("--vary", [said("cannot vary a true/false setting",
                                        "kan ikke variere en true/false-innstilling")])
    if isinstance(base, int):
        return int(round(value))
    return float(value)


def scenario_with(path: str | Path | None, values: Mapping[str, Any] | None = None,
                  assignments: Iterable[str] = ()) -> Scenario:
    """Scenario file ``path`` (None: the built-in default) with its ``--set`` ``assignments`` and
    dotted ``values`` set (``world.cohorts[0].size``, ``pathway.stages.work_training.exits[1].p``:
    any key of the merged tree, templates included). Errors name the file and the key."""
    tree = read_tree(path if path is not None else default_scenario_path(), list(assignments))
    return resolve(tree.with_values(dict(values or {})))


def scenario_at(base: Scenario, values: Mapping[str, float]) -> Scenario:
    """``base`` at numbers from a sampler or root finder: each value is tried as given (a price of
    8 000.37 stays one) and, if the scenario rejects it, rounded where the scenario's own value
    is an integer (sizes, slots)."""
    tree = base.tree
    try:
        return resolve(tree.with_values({k: float(v) for k, v in values.items()}))
    except SpecError:
        typed = {k: typed_like(get_value(base.resolved, k, base.source), v) for k, v in values.items()}
        return resolve(tree.with_values(typed))


def number_at(tree: Mapping[str, Any], key: str, option: str, source: str = "") -> float | int:
    """The number at dotted ``key`` of a scenario's resolved tree (a prior's point value where
    the files give the number as a distribution). Errors name ``source`` (the
    scenario file; default: the option), the option (``--vary``, ``--param``) and the key, as
    ``--set`` errors do."""
    where = source or option
    try:
        parts = parse_key(key)
    except SpecError as err:
        raise SpecError(where, [keyed(option, p, " ") for p in err.problems]) from None
    try:
        value = get_value(tree, parts)
    except SpecError as err:
        named = [p if p.startswith(f"{format_key(parts)}:") else keyed(key, p) for p in err.problems]
        raise SpecError(where, [keyed(option, p, " ") for p in named]) from None
    if is_prior(value):  # a number given as a distribution: its point value, as the scenario uses
        try:
            return parse_prior(value, format_key(parts)).point_value  # a calibrated one finds its key
        except PriorError as err:
            message = err.args[0] if err.args else str(err)  # a Said keeps its bokmål
            raise SpecError(where, [keyed(f"{option} {key}", message)]) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(where, [said(f"{option} {key}: {value!r} is not a number",
                                     f"{option} {key}: {value!r} er ikke et tall")])
    return value


def scenario_from_results(out: str | Path, point: int = 0) -> Scenario:
    """The scenario a results directory was run with (at design ``point`` of a sweep), rebuilt
    from its manifest: the stored tree, with the point's values set, resolved as any scenario is.
    The directory stays usable when the source file has changed or moved; errors name the
    manifest and the key."""
    out = Path(out)
    mpath = out / "manifest.json"
    if not mpath.exists():
        raise SpecError(str(out), [said("no manifest.json here (is it an effekt results directory?)",
                                        "ingen manifest.json her (er det en resultatmappe fra effekt?)")])
    manifest = json.loads(mpath.read_text())
    points = manifest.get("points") or [{}]
    if not 0 <= point < len(points):
        raise SpecError(str(mpath), [said(f"points: no design point {point} (there are {len(points)})",
                                          f"points: intet designpunkt {point} (det er {len(points)})")])
    stored = manifest.get("scenario")
    if not isinstance(stored, dict):
        raise SpecError(str(mpath), [said("scenario: missing; cannot rebuild the scenario",
                                          "scenario: mangler; kan ikke bygge opp scenarioet igjen")])
    tree = ScenarioTree(stored, str(mpath), "stored in the manifest", "stored in the manifest")
    return resolve(tree.with_values(points[point] or {}, origin=f"points[{point}]"))


# -- replications on an executor -------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """One task for an executor: replications ``start .. stop - 1`` of scenario number ``index``
    of a call, seeded from root ``seed`` (picklable, so any executor can run it)."""

    index: int
    scenario: Scenario
    seed: int
    start: int
    stop: int


def run_evaluation(task: Evaluation) -> list[dict[str, Any]]:
    """The KPI row of each replication of ``task``, plus ``commissioner_payments_npv``: what the
    commissioners pay in outcome payments, discounted (the function executors call)."""
    scenario = task.scenario
    if task.seed != scenario.design.seed:
        scenario = replace(scenario, design=scenario.design.model_copy(update={"seed": task.seed}))
    rate = scenario.info.discount_rate
    payers = set(scenario.terms.commissioners)
    rows = []
    for r in range(task.start, task.stop):
        out = run_replication(scenario, r)
        row = out["runs"].iloc[0].to_dict()
        cash = out["cashflows"]
        pay = cash[cash["party"].isin(payers) & (cash["item"] == "outcome_payment")]
        row["commissioner_payments_npv"] = float(
            (-pay["amount"] / (1 + rate) ** (pay["month"] / 12.0)).sum())
        rows.append(row)
    return rows


def _chunk(total: int, replications: int, workers: int) -> int:
    """Replications per task: one task per scenario in this process; else about four tasks per
    worker, so one scenario's replications (a root finder's single value) run in parallel too."""
    if workers <= 1:
        return max(1, replications)
    return max(1, min(replications, math.ceil(total / (4 * workers))))


def replicate_many(scenarios: Sequence[Scenario], replications: int, seed: int | None = None,
                   executor: Executor | None = None) -> list[pd.DataFrame]:
    """KPI rows of replications ``0 .. replications - 1`` of each scenario (one frame each, in
    order, sorted by replication), run on ``executor`` (default: this process).

    Every scenario is seeded from ``seed`` (default: each scenario's own root seed), so calls with
    the same ``seed`` use common random numbers; the frames do not depend on the executor.
    """
    executor = executor or SerialExecutor()
    size = _chunk(len(scenarios) * replications, replications, executor.workers)
    tasks = [Evaluation(i, sc, sc.design.seed if seed is None else seed, start,
                        min(start + size, replications))
             for i, sc in enumerate(scenarios) for start in range(0, replications, size)]
    rows: list[list[dict[str, Any]]] = [[] for _ in scenarios]
    for task, result in executor.map_unordered(run_evaluation, tasks):
        rows[task.index].extend(result)
    return [pd.DataFrame(sorted(r, key=lambda row: row["replication"])) for r in rows]


def replicate(scenario: Scenario, replications: int, seed: int | None = None,
              executor: Executor | None = None) -> pd.DataFrame:
    """KPI rows of replications ``0 .. replications - 1`` of one scenario (see
    :func:`replicate_many`). Two calls with the same ``seed`` use common random numbers."""
    return replicate_many([scenario], replications, seed, executor)[0]
