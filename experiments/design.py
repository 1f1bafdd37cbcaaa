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
  ``samples`` points;
* ``[design.parameters]``: ``draws = N`` outer draws of every prior the scenario's files declare
  (numbers given as distributions, :mod:`effekt.priors`): two-level Monte Carlo, each draw a design
  point whose inner replications sample the people. ``sampler = "lhs"`` (default: a Latin
  hypercube on the priors' CDFs) or ``"random"``. A prior on a key that ``[design.uncertainties]``
  also varies is refused; a sweep or lever on a prior's key sets that number, so it is not drawn.

Design point ``k`` is one combination: the grid of sweep and levers (policies, outer) crossed with
the samples of the uncertainties (scenarios) crossed with the draws of the priors (inner). The
draws are the same in every policy and scenario. Every design point runs the same replications
with the same replication seeds, so points share common random numbers and differences between
them are not noise from different luck.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from effekt import lazy
from effekt.dotted import canonical, format_key, parse_key
from effekt.priors import SAMPLERS, Prior, draw
from effekt.specfile import SpecError, Strict, joined, keyed, said

np = lazy.module("numpy", globals())  # on first use: `effekt validate` draws nothing (issue 14)

Scalar = StrictBool | StrictInt | StrictFloat | StrictStr

AUXILIARY_PURPOSES = ("design_sampler", "breakeven_bootstrap", "pilot_power", "decision_bootstrap",
                      "pilot_value", "parameter_draws", "sweep_report_bootstrap")
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
            raise ValueError(said(f"low ({self.low:g}) must be below high ({self.high:g})",
                                  f"low ({self.low:g}) må være mindre enn high ({self.high:g})"))
        if self.integer and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError(said("integer ranges need whole-number low and high",
                                  "et heltallsområde trenger hele tall i low og high"))
        return self

    def scale(self, u: np.ndarray) -> list[Any]:
        """Map unit-interval draws ``u`` onto the range."""
        if self.integer:
            lo, hi = int(self.low), int(self.high)
            return [int(v) for v in np.minimum(lo + np.floor(u * (hi - lo + 1)), hi)]
        return [float(v) for v in self.low + u * (self.high - self.low)]


class ParameterDraws(Strict):
    """``[design.parameters]``: outer draws of the scenario's priors (two-level Monte Carlo)."""

    draws: int = Field(default=0, ge=0, strict=True, description="outer draws of every prior "
                       "(0: none, each prior at its point value)")
    sampler: Literal[SAMPLERS] = Field(default="lhs", description="lhs: a Latin hypercube on the "
                                       "priors' CDFs; random: independent draws")


class Design(Strict):
    """Replications, root seed and (optionally) the design points of a scenario."""

    replications: int = Field(default=100, ge=1)
    seed: int = Field(default=0, ge=0)
    sweep: dict[str, list[Scalar]] = Field(default_factory=dict)
    levers: dict[str, list[Scalar]] = Field(default_factory=dict)
    uncertainties: dict[str, Uncertainty] = Field(default_factory=dict)
    sampler: Literal["lhs", "sobol"] = "lhs"
    samples: int | None = Field(default=None, ge=1)
    parameters: ParameterDraws | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Design:
        for table in ("sweep", "levers"):
            for key, values in getattr(self, table).items():
                if not values:
                    raise ValueError(said(f"{table}.{key!r}: give at least one value",
                                          f"{table}.{key!r}: gi minst én verdi"))
                if len(set(map(repr, values))) != len(values):
                    raise ValueError(said(f"{table}.{key!r}: the same value appears twice",
                                          f"{table}.{key!r}: samme verdi står to ganger"))
        seen: dict[str, tuple[str, str]] = {}  # canonical key -> (table, key as written)
        for table in ("sweep", "levers", "uncertainties"):
            for key in getattr(self, table):
                try:
                    parts = parse_key(key)
                except SpecError as err:
                    raise ValueError(keyed(f"{table}.{key!r}", joined("; ", err.problems))) from None
                same = seen.get(format_key(parts))
                if same is not None:
                    also = "" if same[1] == key else f" (as {same[1]!r})"
                    also_nb = "" if same[1] == key else f" (som {same[1]!r})"
                    raise ValueError(said(f"{table}.{key!r}: in both design.{same[0]}{also} and "
                                          f"design.{table}; vary a parameter in one table only",
                                          f"{table}.{key!r}: i både design.{same[0]}{also_nb} og "
                                          f"design.{table}; varier en parameter i bare én tabell"))
                seen[format_key(parts)] = (table, key)
                if parts[0] == "design":
                    raise ValueError(said(f"{table}.{key!r}: a design cannot vary the design itself",
                                          f"{table}.{key!r}: et design kan ikke variere selve designet"))
                if parts[0] not in ("scenario", "world", "pathway", "contract"):
                    raise ValueError(said(
                        f"{table}.{key!r}: a parameter is a dotted key starting with scenario, "
                        "world, pathway or contract",
                        f"{table}.{key!r}: en parameter er en punktnøkkel som begynner med scenario, "
                        "world, pathway eller contract"))
        if self.uncertainties and self.samples is None:
            raise ValueError(said("samples: uncertainties need a number of samples (e.g. samples = 32)",
                                  "samples: usikkerheter trenger et antall trekk (f.eks. samples = 32)"))
        if self.samples is not None and not self.uncertainties:
            raise ValueError(said("samples: set, but there are no uncertainties to sample",
                                  "samples: satt, men det er ingen usikkerheter å trekke"))
        if self.sampler == "sobol" and self.samples and self.samples & (self.samples - 1):
            lo = 1 << (self.samples.bit_length() - 1)
            raise ValueError(said(
                f"samples: a Sobol design needs a power of two (keeps its balance); got "
                f"{self.samples}, try {lo} or {2 * lo}",
                f"samples: et Sobol-design trenger en potens av to (holder balansen); fikk "
                f"{self.samples}, prøv {lo} eller {2 * lo}"))
        return self

    @property
    def varied(self) -> list[str]:
        """The dotted keys the sweep, levers and uncertainties vary, in the order of the runs
        table's columns (the drawn priors follow them)."""
        return [*self.sweep, *self.levers, *self.uncertainties]

    @property
    def is_sweep(self) -> bool:
        return bool(self.varied)

    @property
    def draws(self) -> int:
        """``[design.parameters] draws`` (0 when absent)."""
        return self.parameters.draws if self.parameters is not None else 0


def drawn_priors(design: Design, priors: Mapping[str, Prior] | None, grid: bool = True) -> dict[str, Prior]:
    """The priors ``[design.parameters]`` draws: all of them but those a sweep or lever sets
    (``grid``: the sweep and levers are expanded); none without draws."""
    if not design.draws or not priors:
        return {}
    fixed = {canonical(k) for k in (*design.sweep, *design.levers)} if grid else set()
    return {key: p for key, p in priors.items() if key not in fixed}


def check_priors_in_design(design: Design, priors: Mapping[str, Prior], source: str = "") -> None:
    """Refuse a design that cannot draw what it asks for: draws without any prior, or a prior on
    a key that ``[design.uncertainties]`` also varies (two ways of saying what one number may be)."""
    problems = []
    for key in design.uncertainties:
        if canonical(key) in priors:
            problems.append(said(
                f"design.uncertainties.{key!r}: the scenario's files also give {canonical(key)} a prior "
                f"({priors[canonical(key)].describe('en')}); a number is uncertain in one way: remove "
                "the range (the prior is drawn with [design.parameters] draws or --draws) or replace "
                "the prior by a number (--set KEY=VALUE)",
                f"design.uncertainties.{key!r}: scenarioets filer gir også {canonical(key)} en fordeling "
                f"({priors[canonical(key)].describe('nb')}); et tall er usikkert på én måte: fjern "
                "området (fordelingen trekkes med [design.parameters] draws eller --draws) eller bytt "
                "fordelingen ut med et tall (--set NØKKEL=VERDI)"))
    if design.draws and not priors:
        problems.append(said(
            f"design.parameters.draws = {design.draws}: the scenario declares no priors, so there is "
            "nothing to draw; give a number as a distribution (e.g. p = { value = 0.62, beta = "
            "[25.1, 15.4] }, docs/pathways.md 'Priors') or leave out the draws",
            f"design.parameters.draws = {design.draws}: scenarioet har ingen fordelinger, så det er "
            "ingenting å trekke; gi et tall som en fordeling (f.eks. p = { value = 0.62, beta = "
            "[25.1, 15.4] }, docs/pathways.md 'Priors') eller utelat draws"))
    if problems:
        raise SpecError(source, problems)


def design_points(design: Design, priors: Mapping[str, Prior] | None = None, grid: bool = True,
                  with_drawn: bool = False) -> Any:
    """Every design point as ``{dotted key: value}``; one empty point if nothing varies.

    Policies (the grid of sweep and levers) are the outer loop, sampled scenarios the middle one,
    draws of the priors (``[design.parameters]``, :func:`drawn_priors`) the inner one; ``grid``
    False leaves out the sweep, levers and uncertainties (the draws stay). Each sample is drawn
    from its own stream of the root seed, so a design is reproducible, and the draws are the same
    in every policy. ``with_drawn``: return ``(points, drawn keys)``.
    """
    policies: list[dict[str, Any]] = [{}]
    samples: list[dict[str, Any]] = [{}]
    if grid:
        grid_keys = [*design.sweep, *design.levers]
        grid_values = [*design.sweep.values(), *design.levers.values()]
        policies = [dict(zip(grid_keys, combo, strict=True)) for combo in itertools.product(*grid_values)]
        samples = _sample(design)
    drawn = drawn_priors(design, priors, grid)
    draws = _draws(design, drawn)
    points = [{**policy, **scen, **d} for policy in policies for scen in samples for d in draws]
    return (points, sorted(drawn)) if with_drawn else points


def _draws(design: Design, priors: Mapping[str, Prior]) -> list[dict[str, Any]]:
    if not priors:
        return [{}]
    rng = auxiliary_rng(design.seed, "parameter_draws")
    return draw(priors, design.draws, rng, design.parameters.sampler)


def _sample(design: Design) -> list[dict[str, Any]]:
    if not design.uncertainties:
        return [{}]
    d = len(design.uncertainties)
    from scipy.stats import qmc  # here, not at the top: most scenarios sample nothing (start-up)

    rng = auxiliary_rng(design.seed, "design_sampler")
    if design.sampler == "sobol":
        unit = qmc.Sobol(d, scramble=True, rng=rng).random(design.samples)
    else:
        unit = qmc.LatinHypercube(d, rng=rng).random(design.samples)
    cols = {key: unc.scale(unit[:, j]) for j, (key, unc) in enumerate(design.uncertainties.items())}
    return [{key: cols[key][i] for key in cols} for i in range(design.samples)]
