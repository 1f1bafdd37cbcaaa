"""Experimental designs: which design points a scenario is run at, in EMA Workbench's vocabulary.

A scenario's ``[design]`` section may declare, besides ``replications`` and the root ``seed``
(parameters are dotted keys in the one grammar of :mod:`effekt.dotted`, the same as ``--set``
and ``--vary``: ``world.cohorts[0].size`` or ``world.cohorts.0.size``):

* ``[design.sweep]``: a full grid over named parameters, each a dotted key into the scenario with a
  list of values (``"contract.prices.job_start" = [30000, 45000, 60000]``);
* ``[design.levers]``: policy choices, also lists of values, crossed in full (a lever is a
  parameter the commissioners control: a price, a cap, the number of placements);
* ``[design.uncertainties]``: ranges of parameters nobody controls
  (``"world.counterfactual.entry_rate_multiplier" = { low = 0.5, high = 1.5 }``), sampled with a
  Latin hypercube (``sampler = "lhs"``) or a scrambled Sobol sequence (``sampler = "sobol"``),
  ``samples`` points.

Design point ``k`` is one combination: the grid of sweep and levers (policies, outer) crossed with
the samples of the uncertainties (scenarios, inner). Every design point runs the same replications
with the same replication seeds, so points share common random numbers and differences between
them are not noise from different luck.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

import numpy as np
from pydantic import (
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)
from scipy.stats import qmc

from effekt.dotted import format_key, parse_key
from effekt.specfile import SpecError, Strict

Scalar = StrictBool | StrictInt | StrictFloat | StrictStr

AUXILIARY_PURPOSES = ("design_sampler", "breakeven_bootstrap", "pilot_power")
"""Random numbers drawn outside the simulation, each from its own stream of the root seed."""

_AUXILIARY = 0x5A3D1E


def auxiliary_key(purpose: str) -> tuple[int, int, int]:
    """Spawn key of an auxiliary stream (one of :data:`AUXILIARY_PURPOSES`) of the root seed.

    Replications use spawn keys of length 1 (``(r,)``) and their named streams keys of length 2
    (``(r, i)``); these keys have length 3, so no choice of ``r`` can make the design sample, a
    bootstrap or simulated pilots reuse the random numbers of a replication.
    """
    if purpose not in AUXILIARY_PURPOSES:
        raise ValueError(f"unknown auxiliary stream '{purpose}'; known: {', '.join(AUXILIARY_PURPOSES)}")
    return (_AUXILIARY, AUXILIARY_PURPOSES.index(purpose), 0)


def auxiliary_rng(seed: int, purpose: str) -> np.random.Generator:
    """The generator of auxiliary stream ``purpose`` of root seed ``seed`` (see :func:`auxiliary_key`)."""
    sequence = np.random.SeedSequence(seed, spawn_key=auxiliary_key(purpose))
    return np.random.Generator(np.random.PCG64(sequence))


SAMPLER_SPAWN_KEY = auxiliary_key("design_sampler")
"""Spawn key of the design sampler's stream, ``(0x5A3D1E, 0, 0)``."""



class Uncertainty(Strict):
    """A range ``[low, high]`` sampled uniformly; ``integer`` draws whole numbers in it."""

    low: float
    high: float
    integer: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Uncertainty:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.integer and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError("integer ranges need whole-number low and high")
        return self

    def scale(self, u: np.ndarray) -> list[Any]:
        """Map unit-interval draws ``u`` onto the range."""
        if self.integer:
            lo, hi = int(self.low), int(self.high)
            return [int(v) for v in np.minimum(lo + np.floor(u * (hi - lo + 1)), hi)]
        return [float(v) for v in self.low + u * (self.high - self.low)]


class Design(Strict):
    """Replications, root seed and (optionally) the design points of a scenario."""

    replications: int = Field(default=100, ge=1)
    seed: int = Field(default=0, ge=0)
    sweep: dict[str, list[Scalar]] = Field(default_factory=dict)
    levers: dict[str, list[Scalar]] = Field(default_factory=dict)
    uncertainties: dict[str, Uncertainty] = Field(default_factory=dict)
    sampler: Literal["lhs", "sobol"] = "lhs"
    samples: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> Design:
        for table in ("sweep", "levers"):
            for key, values in getattr(self, table).items():
                if not values:
                    raise ValueError(f"{table}.{key!r}: give at least one value")
                if len(set(map(repr, values))) != len(values):
                    raise ValueError(f"{table}.{key!r}: the same value appears twice")
        seen: dict[str, tuple[str, str]] = {}  # canonical key -> (table, key as written)
        for table in ("sweep", "levers", "uncertainties"):
            for key in getattr(self, table):
                try:
                    parts = parse_key(key)
                except SpecError as err:
                    raise ValueError(f"{table}.{key!r}: {'; '.join(err.problems)}") from None
                same = seen.get(format_key(parts))
                if same is not None:
                    also = "" if same[1] == key else f" (as {same[1]!r})"
                    raise ValueError(f"{table}.{key!r}: in both design.{same[0]}{also} and "
                                     f"design.{table}; vary a parameter in one table only")
                seen[format_key(parts)] = (table, key)
                if parts[0] == "design":
                    raise ValueError(f"{table}.{key!r}: a design cannot vary the design itself")
                if parts[0] not in ("scenario", "world", "pathway", "contract"):
                    raise ValueError(
                        f"{table}.{key!r}: a parameter is a dotted key starting with scenario, "
                        "world, pathway or contract"
                    )
        if self.uncertainties and self.samples is None:
            raise ValueError("samples: uncertainties need a number of samples (e.g. samples = 32)")
        if self.samples is not None and not self.uncertainties:
            raise ValueError("samples: set, but there are no uncertainties to sample")
        if self.sampler == "sobol" and self.samples and self.samples & (self.samples - 1):
            lo = 1 << (self.samples.bit_length() - 1)
            raise ValueError(
                f"samples: a Sobol design needs a power of two (keeps its balance); got "
                f"{self.samples}, try {lo} or {2 * lo}"
            )
        return self

    @property
    def parameters(self) -> list[str]:
        """The dotted keys a design varies, in the order of the runs table's columns."""
        return [*self.sweep, *self.levers, *self.uncertainties]

    @property
    def is_sweep(self) -> bool:
        return bool(self.parameters)


def design_points(design: Design) -> list[dict[str, Any]]:
    """Every design point as ``{dotted key: value}``; one empty point if nothing varies.

    Policies (the grid of sweep and levers) are the outer loop, sampled scenarios the inner one.
    The sample is drawn from its own stream of the root seed, so a design is reproducible.
    """
    grid_keys = [*design.sweep, *design.levers]
    grid_values = [*design.sweep.values(), *design.levers.values()]
    policies = [dict(zip(grid_keys, combo, strict=True)) for combo in itertools.product(*grid_values)]
    samples = _sample(design)
    return [{**policy, **scen} for policy in policies for scen in samples]


def _sample(design: Design) -> list[dict[str, Any]]:
    if not design.uncertainties:
        return [{}]
    d = len(design.uncertainties)
    rng = auxiliary_rng(design.seed, "design_sampler")
    if design.sampler == "sobol":
        unit = qmc.Sobol(d, scramble=True, rng=rng).random(design.samples)
    else:
        unit = qmc.LatinHypercube(d, rng=rng).random(design.samples)
    cols = {key: unc.scale(unit[:, j]) for j, (key, unc) in enumerate(design.uncertainties.items())}
    return [{key: cols[key][i] for key in cols} for i in range(design.samples)]
