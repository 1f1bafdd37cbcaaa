"""The simulation model a calibration fits: a pathway at given numbers -> simulated counts.

:func:`build_model` reads the pathway a calibration file names, checks every key, prior and
stage name against it, and returns a :class:`PathwayModel`: a picklable value that worker
processes (local or Dask) call. ``model.simulate(theta, seed)`` sets the calibrated numbers,
simulates study units (the file's ``[world]``, one replication each, with seeds spawned from
``seed``) until every target has its published denominator, and returns one simulated count per
target (held-out ones too). The other priors of the pathway stay at their point values.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from effekt.dotted import get_value
from effekt.experiments.calibrate.measures import Records, measure
from effekt.experiments.calibrate.spec import CalibrationFile, Target, parameter_keys
from effekt.experiments.messages import nb_hint
from effekt.priors import (
    CalibratedPrior,
    Point,
    Prior,
    PriorError,
    find_priors,
    parse_prior,
    point_values,
    tail_problems,
    with_values,
)
from effekt.sim import Counterfactual, Pathway, World, builtin_names, builtin_pathway_data, simulate
from effekt.specfile import SpecError, format_validation_error, joined, keyed, read_toml, said

MAX_REPLICATIONS = 2000
"""Study units simulated at most for one study; a denominator still short by then is an error."""


@dataclass(frozen=True)
class PathwayModel:
    """A pathway with its calibrated keys, the study world and the targets' measures."""

    pathway: dict[str, Any]
    """The pathway file's table, every prior but the calibrated ones at its point value."""
    source: str
    keys: tuple[str, ...]
    world: Any
    targets: tuple[tuple[str, Target], ...]

    def world_at(self, theta: Mapping[str, float]) -> World:
        """The study world with the calibrated numbers set (``theta``: key -> number)."""
        tree = with_values({"pathway": self.pathway}, theta)
        try:
            pathway = Pathway.model_validate(tree["pathway"])
        except ValidationError as err:
            raise SpecError(self.source, format_validation_error(Pathway, err)) from None
        return World(pathway=pathway, cohorts=list(self.world.cohorts),
                     horizon_weeks=self.world.horizon_weeks, counterfactual=Counterfactual(mode="none"))

    def simulate(self, theta: Mapping[str, float], seed: np.random.SeedSequence) -> np.ndarray:
        """One simulated count per target: each target's first ``of`` qualifying people of study
        units simulated with seeds ``seed`` + (r,), r = 0, 1, ... (all targets read the same units).
        Numbers the pathway refuses together (exits whose probabilities sum above 1) give an empty
        array: such a combination has prior probability 0 (the joint prior is truncated to what
        the pathway accepts), and ABC-SMC rejects it."""
        try:
            world = self.world_at(theta)
        except SpecError:
            return np.zeros(0, dtype=int)  # the pathway refuses these numbers together: no study
        need = np.array([t.of for _, t in self.targets])
        have = np.zeros(len(need), dtype=int)
        counts = np.zeros(len(need), dtype=int)
        for r in range(MAX_REPLICATIONS):
            if (have >= need).all():
                return counts
            unit_seed = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, r))
            tables = Records(simulate(world, unit_seed))
            for j, (_, target) in enumerate(self.targets):
                if have[j] >= need[j]:
                    continue
                _, hit = measure(tables, world.horizon_weeks, target.measure)
                take = hit[: need[j] - have[j]]
                counts[j] += int(take.sum())
                have[j] += len(take)
        short = [name for (name, _), h, n in zip(self.targets, have, need, strict=True) if h < n]
        raise SpecError(self.source, [said(f"targets.{name}: {MAX_REPLICATIONS} study units give fewer than "
                                           f"'of' people in the measure's denominator; check the measure and "
                                           "the [world]",
                                           f"targets.{name}: {MAX_REPLICATIONS} studieenheter gir færre enn "
                                           "'of' personer i målets nevner; sjekk målet og [world]")
                                      for name in short])


def _pathway_table(ref: str, folder: Path) -> tuple[dict[str, Any], str]:
    if ref in builtin_names():
        return builtin_pathway_data(ref)
    path = Path(ref) if Path(ref).is_absolute() else folder / ref
    if not path.exists():
        raise SpecError(ref, [said(f"calibration.pathway: no built-in pathway of that name and no such file; "
                                   f"built-in: {', '.join(builtin_names())}",
                                   "calibration.pathway: intet innebygd forløp med det navnet og ingen slik "
                                   f"fil; innebygde: {', '.join(builtin_names())}")])
    return read_toml(path), str(path)


def _stage_problems(spec: CalibrationFile, stages: list[str]) -> list[str]:
    out = []
    for name, target in spec.targets.items():
        m = target.measure
        for field_name in ("stage", "to_stage"):
            st = getattr(m, field_name, None)
            if st is not None and st not in stages:
                close = difflib.get_close_matches(st, stages, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                out.append(said(f"targets.{name}.measure.{field_name}: no stage '{st}' in the pathway{hint}; "
                                f"stages: {', '.join(stages)}",
                                f"targets.{name}.measure.{field_name}: intet trinn '{st}' i forløpet"
                                f"{nb_hint(hint)}; trinn: {', '.join(stages)}"))
        for st in getattr(m, "except_to", []):
            if st not in stages:
                out.append(said(f"targets.{name}.measure.except_to: no stage '{st}' in the pathway; "
                                f"stages: {', '.join(stages)}",
                                f"targets.{name}.measure.except_to: intet trinn '{st}' i forløpet; "
                                f"trinn: {', '.join(stages)}"))
    return out


def build_model(spec: CalibrationFile, source: str) -> tuple[PathwayModel, dict[str, Prior]]:
    """The model and the priors of the calibrated keys (in the file's order), after checking
    that every key is a number of the pathway, every ``"declared"`` key has a prior in the pathway
    file, every prior parses and can be fitted (a continuous distribution, not a point mass or a
    posterior), the pathway accepts each prior's 0.1 % and 99.9 % quantiles, and every stage a
    measure names exists."""
    folder = Path(source).parent
    data, p_source = _pathway_table(spec.calibration.pathway, folder)
    declared, _, problems = find_priors({"pathway": data})
    if problems:
        raise SpecError(p_source, problems)
    keys = parameter_keys(spec)
    priors: dict[str, Prior] = {}
    for written, key in zip(spec.parameters, keys, strict=True):
        raw = spec.parameters[written]
        try:
            get_value({"pathway": data}, key)
        except SpecError as err:
            problems.append(keyed(f"parameters.{written!r}", joined("; ", err.problems)))
            continue
        if raw == "declared":
            if key not in declared:
                problems.append(said(f"parameters.{written!r}: 'declared', but {p_source} gives that number "
                                     "no prior; give one here, e.g. { beta = [6, 34] }",
                                     f"parameters.{written!r}: 'declared', men {p_source} gir ikke det "
                                     "tallet noen fordeling; gi en her, f.eks. { beta = [6, 34] }"))
                continue
            prior = declared[key]
        else:
            try:
                prior = parse_prior(raw, key)
            except PriorError as err:
                problems.append(keyed(f"parameters.{written!r}", err.args[0] if err.args else str(err)))
                continue
        if isinstance(prior, Point | CalibratedPrior) or prior.integer:
            problems.append(said(f"parameters.{written!r}: {prior.describe('en')} cannot be fitted: give "
                                 "a continuous distribution (beta, gamma, lognormal, normal, triangular, "
                                 "uniform)",
                                 f"parameters.{written!r}: {prior.describe('nb')} kan ikke tilpasses: gi en "
                                 "kontinuerlig fordeling (beta, gamma, lognormal, normal, triangular, "
                                 "uniform)"))
            continue
        priors[key] = prior
    problems += _stage_problems(spec, list(data.get("stages", {})))
    if problems:
        raise SpecError(source, problems)
    others = {k: p for k, p in declared.items() if k not in priors}
    at_point = with_values({"pathway": data}, {**point_values(others), **point_values(priors)})

    def refused(key: str, number: Any) -> list[str]:
        try:
            Pathway.model_validate(with_values(at_point, {key: number})["pathway"])
        except ValidationError as err:
            return format_validation_error(Pathway, err)
        return []

    tails = tail_problems(priors, refused)
    if tails:
        raise SpecError(source, tails)
    model = PathwayModel(pathway=copy.deepcopy(at_point["pathway"]), source=p_source, keys=tuple(keys),
                         world=spec.world, targets=tuple(spec.targets.items()))
    model.world_at(point_values(priors))  # the pathway validates at the point values
    return model, priors


__all__ = ["MAX_REPLICATIONS", "PathwayModel", "build_model"]
