"""People in target groups, and the cohorts (kull) they arrive in.

Target groups and benefit levels are data (``sim/data/target_groups.toml`` and
``sim/data/benefits.toml``), each number with its source or marked as an assumption. People are
drawn in bulk per cohort from one named random stream, so the same seed gives the same people in
the treatment and the counterfactual arm (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.specfile import load_spec

NORWEGIAN_LEVELS = ("A1", "A2", "B1", "B2", "C1", "native")
EDUCATION_LEVELS = (
    "primary",
    "upper_secondary",
    "vocational",
    "higher",
    "higher_unrecognised",
)
BENEFIT_KINDS = (
    "aap",
    "introduksjonsstonad",
    "kvalifiseringsstonad",
    "sosialhjelp",
    "uforetrygd",
    "none",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_shares(shares: dict[str, float], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(shares) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; allowed: {', '.join(allowed)}")
    if any(v < 0 for v in shares.values()):
        raise ValueError(f"{what} shares must not be negative")
    total = sum(shares.values())
    if abs(total - 1) > 1e-6:
        raise ValueError(f"{what} shares sum to {total:g}, not 1")


class Range(_Strict):
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.low > self.high:
            raise ValueError("needs low <= high")
        return self


class TargetGroup(_Strict):
    """What is known (or assumed) about people of one target group."""

    title: str
    age: Range
    norwegian: dict[str, float]
    education: dict[str, float]
    work_capacity: Range
    benefit: dict[str, float]
    bau_entry_rate: float = Field(ge=0, description="per year, business as usual")
    post_entry_rate: float = Field(ge=0, description="per year, after leaving a pathway")
    job_loss_rate: float = Field(ge=0, description="per year, once employed")
    wage: float = Field(ge=0, description="NOK per year at full time, ordinary job")
    fte: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _shares(self) -> TargetGroup:
        _check_shares(self.norwegian, NORWEGIAN_LEVELS, "Norwegian level")
        _check_shares(self.education, EDUCATION_LEVELS, "education level")
        _check_shares(self.benefit, BENEFIT_KINDS, "benefit kind")
        return self


class TargetGroups(_Strict):
    groups: dict[str, TargetGroup] = Field(min_length=1)


class Benefit(_Strict):
    title: str
    g: float = Field(ge=0, description="multiples of G per year")
    under25: float = Field(gt=0, description="factor for people under 25")
    payer: Literal["state", "kommune", "none"]


class Benefits(_Strict):
    benefits: dict[str, Benefit]


def _data(name: str) -> Path:
    return (Path(__file__).parent / "data" / name)


@cache
def default_target_groups() -> dict[str, TargetGroup]:
    """The built-in target groups A, B, C, D and R."""
    return dict(load_spec(TargetGroups, _data("target_groups.toml")).groups)


@cache
def default_benefits() -> dict[str, Benefit]:
    """Benefit levels in multiples of G, with who pays them."""
    from sim.specfile import read_toml, validate

    path = _data("benefits.toml")
    return dict(validate(Benefits, {"benefits": read_toml(path)}, str(path)).benefits)


class Cohort(_Strict):
    """A kull: ``size`` people who start together at ``start_week``, with a target-group mix."""

    name: str
    start_week: float = Field(ge=0)
    size: int = Field(ge=1)
    groups: dict[str, float] = Field(min_length=1)

    @model_validator(mode="after")
    def _mix(self) -> Cohort:
        if any(v < 0 for v in self.groups.values()):
            raise ValueError("group shares must not be negative")
        total = sum(self.groups.values())
        if abs(total - 1) > 1e-6:
            raise ValueError(f"group shares sum to {total:g}, not 1")
        return self


@dataclass(slots=True)
class Person:
    """One simulated person. ``benefit_g`` is the prior benefit in multiples of G per year."""

    person_id: int
    cohort: str
    group: str
    age: int
    norwegian: str
    education: str
    work_capacity: float
    benefit_kind: str
    benefit_g: float
    entry_week: float


def _pick(rng: np.random.Generator, shares: dict[str, float], n: int) -> list[str]:
    keys = list(shares)
    p = np.fromiter(shares.values(), dtype=float)
    return [keys[i] for i in rng.choice(len(keys), size=n, p=p / p.sum())]


def draw_people(
    cohorts: list[Cohort],
    groups: dict[str, TargetGroup],
    benefits: dict[str, Benefit],
    rng: np.random.Generator,
) -> list[Person]:
    """Draw everyone in ``cohorts``; ids run from 0 in cohort order."""
    people: list[Person] = []
    for cohort in cohorts:
        unknown = sorted(set(cohort.groups) - set(groups))
        if unknown:
            raise ValueError(
                f"cohort '{cohort.name}': unknown target group(s) {unknown}; "
                f"known: {', '.join(sorted(groups))}"
            )
        for g in _pick(rng, cohort.groups, cohort.size):
            tg = groups[g]
            age = int(rng.integers(int(tg.age.low), int(tg.age.high) + 1))
            kind = _pick(rng, tg.benefit, 1)[0]
            level = benefits[kind].g * (benefits[kind].under25 if age < 25 else 1.0)
            people.append(
                Person(
                    person_id=len(people),
                    cohort=cohort.name,
                    group=g,
                    age=age,
                    norwegian=_pick(rng, tg.norwegian, 1)[0],
                    education=_pick(rng, tg.education, 1)[0],
                    work_capacity=float(rng.uniform(tg.work_capacity.low, tg.work_capacity.high)),
                    benefit_kind=kind,
                    benefit_g=level,
                    entry_week=cohort.start_week,
                )
            )
    return people
