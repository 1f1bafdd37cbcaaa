"""A national scenario file: a set of kommuner, each a scenario of its own, run as one experiment.

Every kommune starts from one ordinary scenario file (``national.scenario``: its world, pathway,
contract and fiscal rules) and gets

* its own cohorts: ``take_up`` x its people outside work (the kommune file), at least
  ``min_size``, split over the scenario's cohorts in proportion to their sizes;
* its own seed: ``SeedSequence([seed, kommunenummer])``, so kommuner are independent of each other
  and a kommune's results do not depend on which other kommuner run, nor in which order;
* one default contract (``national.contract``, a template name; default the scenario's), which a
  fylke or a kommune may replace (``[fylke."46"] contract = ...``, ``[kommune."3303"] contract``);
* any scenario key set as with ``--set`` (``set = { "pathway.capacity.placements.slots" = 8 }``)
  nationally (``[set]``), per fylke and per kommune (the kommune's value wins, then the fylke's).

The kommuner are the design points of one :class:`~effekt.experiments.scenario.Experiment`
(``points[k]`` names kommune k, its fylke, people, size, seed and overrides, so they are columns of
``runs`` and part of the experiment's hash), run by the ordinary batch machinery: a shard is a
kommune x a chunk of replications, and a results directory resumes like any other.

Resolving a scenario costs ~0.2 s, so a kommune's scenario is not resolved from scratch: each
distinct combination of contract and ``set`` values (a *variant*; the national default and one per
fylke or kommune with overrides) is resolved and validated once, and a kommune's scenario is its
variant with the cohort sizes and the seed put in (:func:`with_size_and_seed`; equal to resolving
the same values, tested). Kommune scenarios are made when a shard needs them, not kept.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, ValidationError, field_validator

from effekt.experiments.national.kommuner import Kommune, KommuneTable, read_kommuner
from effekt.experiments.scenario import Experiment, Scenario, read_tree, resolve
from effekt.specfile import SpecError, Strict, format_validation_error, keyed, read_toml, said

NATIONAL_FILE = Path(__file__).resolve().parent / "national.toml"
"""The built-in national scenario (every kommune a Kongsberg-style kull)."""

BUILT_IN = {"national": NATIONAL_FILE}


class Override(Strict):
    """What a fylke or a kommune changes: its contract template, its take-up and scenario keys."""

    contract: str | None = None
    take_up: float | None = Field(default=None, ge=0, le=1)
    set: dict[str, Any] = Field(default_factory=dict)


class KommuneOverride(Override):
    """A kommune's own changes; also its people outside work, replacing the kommune file's."""

    people_outside_work: int | None = Field(default=None, ge=0)


class NationalInfo(Strict):
    """``[national]``: the national scenario's name, its base scenario and the take-up rule."""

    name: str = Field(min_length=1)
    title: str = ""
    title_nb: str = ""
    scenario: str = Field(min_length=1)
    """The scenario file every kommune starts from (relative to the national file)."""
    kommuner: str = ""
    """The kommune file (relative to the national file); empty: the shipped one."""
    contract: str | None = None
    """The default contract template of every kommune (None: the base scenario's)."""
    take_up: float = Field(gt=0, le=1)
    """Share of a kommune's people outside work who take part (its cohorts' total size)."""
    min_size: int = Field(default=1, ge=1)
    """The smallest number of participants a kommune runs."""
    replications: int = Field(ge=1)
    seed: int = Field(ge=0)
    include: list[str] = Field(default_factory=list)
    """Kommune numbers or fylke numbers to run; empty: every kommune in the file."""

    @field_validator("name")
    @classmethod
    def _a_directory_name(cls, v: str) -> str:
        if not all(c.isalnum() or c in "-_." for c in v):
            raise ValueError(said("letters, digits, '-', '_' and '.' only (it names the results folder)",
                                  "bare bokstaver, sifre, '-', '_' og '.' (det gir navn til resultatmappen)"))
        return v


class NationalLayout(Strict):
    """The sections of a national scenario file."""

    national: NationalInfo
    set: dict[str, Any] = Field(default_factory=dict)
    fylke: dict[str, Override] = Field(default_factory=dict)
    kommune: dict[str, KommuneOverride] = Field(default_factory=dict)


@dataclass(frozen=True)
class Variant:
    """A distinct contract and set of scenario keys, resolved once for all its kommuner."""

    contract: str | None
    values: tuple[tuple[str, Any], ...]

    @property
    def label(self) -> str:
        """A stable text of the variant (a ``runs`` column, part of the experiment's hash)."""
        return json.dumps({"contract": self.contract, "set": [list(kv) for kv in self.values]},
                          sort_keys=True, default=str)


def kommune_seed(root: int, number: str) -> int:
    """Kommune ``number``'s seed: the first word of ``SeedSequence([root, int(number)])``, so
    every kommune has its own stream whatever else runs."""
    return int(np.random.SeedSequence([root, int(number)]).generate_state(1, dtype=np.uint32)[0])


def split_size(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` people over cohorts in proportion to ``weights`` (largest remainder, ties to the
    first cohort), each cohort at least 1."""
    w = np.asarray(weights, dtype=float)
    if total < len(w):
        raise ValueError(f"{total} people cannot fill {len(w)} cohorts")
    exact = (total - len(w)) * w / w.sum()
    out = np.floor(exact).astype(int)
    order = np.argsort(-(exact - out), kind="stable")
    out[order[: total - len(w) - int(out.sum())]] += 1
    return [int(x) + 1 for x in out]


def with_size_and_seed(scenario: Scenario, sizes: Sequence[int], seed: int, replications: int) -> Scenario:
    """``scenario`` with its cohorts' sizes, its seed and its number of replications replaced:
    the scenario that resolving its tree with those values gives (cohort size and seed are checked
    by nothing but their own types, which these are), without resolving again."""
    cohorts = [c.model_copy(update={"size": int(n)})
               for c, n in zip(scenario.world.cohorts, sizes, strict=True)]
    world = scenario.world.model_copy(update={"cohorts": cohorts})
    design = scenario.design.model_copy(update={"seed": int(seed), "replications": int(replications)})
    resolved = json.loads(json.dumps(scenario.resolved, default=str))
    for c, n in zip(resolved["world"]["cohorts"], sizes, strict=True):
        c["size"] = int(n)
    resolved["design"] = {**resolved.get("design", {}), "seed": int(seed), "replications": int(replications)}
    return replace(scenario, world=world, design=design, resolved=resolved)


class _KommuneScenarios(Sequence):
    """``scenarios[k]``: kommune k's scenario, made when asked for (a few kept for the shards in
    flight), so the experiment holds one resolved scenario per variant, not one per kommune."""

    def __init__(self, national: National):
        self._national = national
        self._cache: OrderedDict[int, Scenario] = OrderedDict()

    def __len__(self) -> int:
        return len(self._national.points)

    def __getitem__(self, k):  # type: ignore[override]
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        if k < 0:
            k += len(self)
        if k in self._cache:
            self._cache.move_to_end(k)
            return self._cache[k]
        scenario = self._national.scenario_of(k)
        self._cache[k] = scenario
        while len(self._cache) > 16:
            self._cache.popitem(last=False)
        return scenario


@dataclass(frozen=True)
class National:
    """A validated national scenario: its kommuner (design points) and their variants."""

    info: NationalInfo
    source: str
    table: KommuneTable
    kommuner: tuple[Kommune, ...]
    points: tuple[dict[str, Any], ...]
    variants: dict[str, Scenario]
    """Resolved scenario of each variant, by :attr:`Variant.label`."""
    cohort_weights: tuple[int, ...]

    def scenario_of(self, k: int) -> Scenario:
        """Kommune ``k``'s scenario (its variant with its sizes and seed)."""
        p = self.points[k]
        base = self.variants[p["variant"]]
        sizes = split_size(p["size"], self.cohort_weights)
        return with_size_and_seed(base, sizes, p["seed"], self.info.replications)

    def experiment(self, replications: int | None = None) -> Experiment:
        """The kommuner as the design points of one experiment (``replications`` overrides the
        file's, as ``--runs`` does)."""
        national = self if replications is None else replace(
            self, info=self.info.model_copy(update={"replications": replications}))
        default = national.variants[national.points[0]["variant"]]
        design = default.design.model_copy(update={"replications": national.info.replications,
                                                   "seed": national.info.seed})
        resolved = {**default.resolved, "design": {**default.resolved.get("design", {}),
                                                   "replications": national.info.replications,
                                                   "seed": national.info.seed}}
        base = replace(default, design=design, resolved=resolved)
        return Experiment(base=base, points=[dict(p) for p in national.points],
                          scenarios=_KommuneScenarios(national))  # type: ignore[arg-type]


def _where(source: str, problems: list[str], prefix: str) -> SpecError:
    return SpecError(source, [keyed(prefix, p, "") for p in problems])


def load_national(path: str | Path | None = None, include: Sequence[str] = ()) -> National:
    """Read and validate a national scenario file (a path, or ``national`` for the built-in).

    Everything is checked before anything runs, every message naming the national file and the key:
    unknown keys (with the key probably meant), a fylke or kommune number not in the kommune file,
    a kommune too small for the scenario's cohorts, and each variant's contract and ``set`` values
    (resolved as a scenario; its problems named by the fylke or kommune that set them).
    ``include`` (kommune or fylke numbers) narrows the file's own ``include``."""
    if path is None or str(path) in BUILT_IN:
        path = BUILT_IN[str(path or "national")]
    path = Path(path)
    source = str(path)
    raw = read_toml(path)
    try:
        layout = NationalLayout.model_validate(raw)
    except ValidationError as err:
        raise SpecError(source, format_validation_error(NationalLayout, err)) from None
    info = layout.national
    folder = path.resolve().parent
    table = read_kommuner(folder / info.kommuner if info.kommuner else None)
    fylker, numbers = table.fylker, table.by_number
    problems = []
    for f in layout.fylke:
        if f not in fylker:
            problems.append(said(f"fylke.'{f}': no fylke {f} in {table.source}; fylker: "
                                 f"{', '.join(sorted(fylker))}",
                                 f"fylke.'{f}': intet fylke {f} i {table.source}; fylker: "
                                 f"{', '.join(sorted(fylker))}"))
    for k in layout.kommune:
        if k not in numbers:
            near = [n for n in numbers if n[:2] == k[:2]][:6]
            hint = f" (fylke {k[:2]} has {', '.join(near)} ...)" if near else ""
            hint_nb = f" (fylke {k[:2]} har {', '.join(near)} ...)" if near else ""
            problems.append(said(f"kommune.'{k}': no kommune {k} in {table.source}{hint}",
                                 f"kommune.'{k}': ingen kommune {k} i {table.source}{hint_nb}"))
    wanted = list(include) or info.include
    for i, code in enumerate(wanted):
        if code not in numbers and code not in fylker:
            where = "--kommune" if include else f"national.include[{i}]"
            problems.append(said(f"{where}: '{code}' is neither a kommune number nor a fylke number in "
                                 f"{table.source}",
                                 f"{where}: '{code}' er verken et kommunenummer eller et fylkesnummer i "
                                 f"{table.source}"))
    if problems:
        raise SpecError(source, problems)
    chosen = table.select(wanted)
    if not chosen:
        raise SpecError(source, [said("national.include: selects no kommune",
                                      "national.include: velger ingen kommune")])

    scenario_path = folder / info.scenario
    base_values = {"scenario.name": info.name}
    if info.title:
        base_values["scenario.title"] = info.title
    if info.title_nb:
        base_values["scenario.title_nb"] = info.title_nb
    trees: dict[str | None, Any] = {}

    def tree_for(contract: str | None, where: str = "national.contract"):
        if contract not in trees:
            assignments = [] if contract is None else [f"contract.template={contract}"]
            try:
                trees[contract] = read_tree(scenario_path, assignments)
            except SpecError as err:
                raise SpecError(source, [keyed(f"{where} ({info.scenario})", p)
                                         for p in err.problems]) from None
        return trees[contract]

    weights = tuple(c.get("size", 1) for c in tree_for(info.contract).data["world"].get("cohorts", []))
    if not weights:
        raise SpecError(source, [said(f"national.scenario: {scenario_path} has no [[world.cohorts]] to size",
                                      f"national.scenario: {scenario_path} har ingen [[world.cohorts]] å "
                                      "gi størrelse")])
    if info.min_size < len(weights):
        raise SpecError(source, [said(f"national.min_size: {info.min_size}, but the scenario has "
                                      f"{len(weights)} cohorts: at least one person each",
                                      f"national.min_size: {info.min_size}, men scenarioet har "
                                      f"{len(weights)} kull: minst én person i hvert")])

    variants: dict[str, Scenario] = {}
    points = []
    for kommune in chosen:
        f_over = layout.fylke.get(kommune.fylke, Override())
        k_over = layout.kommune.get(kommune.number, KommuneOverride())
        contract = k_over.contract or f_over.contract or info.contract
        values = {**layout.set, **f_over.set, **k_over.set}
        take_up = next(t for t in (k_over.take_up, f_over.take_up, info.take_up) if t is not None)
        people = (k_over.people_outside_work if k_over.people_outside_work is not None
                  else kommune.people_outside_work)
        size = max(info.min_size, int(round(take_up * people)))
        variant = Variant(contract, tuple(sorted(values.items())))
        if variant.label not in variants:
            origin = (f"kommune.'{kommune.number}'" if (k_over.set or k_over.contract) else
                      f"fylke.'{kommune.fylke}'" if (f_over.set or f_over.contract) else "set")
            where = (f"kommune.'{kommune.number}'.contract" if k_over.contract else
                     f"fylke.'{kommune.fylke}'.contract" if f_over.contract else "national.contract")
            tree = tree_for(contract, where).with_values(base_values)
            try:
                tree = tree.with_values(values, origin=origin)
                variants[variant.label] = resolve(tree)
            except SpecError as err:
                raise _where(source, err.problems, f"{origin} ({kommune.number} {kommune.name}): ") from None
        points.append({"kommune": kommune.number, "kommune_name": kommune.name, "fylke": kommune.fylke,
                       "people_outside_work": people, "size": size,
                       "seed": kommune_seed(info.seed, kommune.number), "variant": variant.label})
    return National(info=info, source=source, table=table, kommuner=tuple(chosen), points=tuple(points),
                    variants=variants, cohort_weights=weights)


__all__ = ["BUILT_IN", "NATIONAL_FILE", "National", "kommune_seed", "load_national", "split_size",
           "with_size_and_seed"]
