"""Pathways as data: a graph of stages read from a TOML file.

A pathway says, for one qualification programme, which stages a person passes (interview, course,
work training, temporary job ...), how long each takes, which competing exits it has and with what
probability, and which stages need a capacity slot. The simulation engine walks this graph; it
contains no programme-specific code, so a user adds a pathway by writing a file.

Conventions
-----------
* Durations are in weeks.
* ``exits`` are competing destinations with probabilities; the remaining probability goes to
  ``next``. A stage without ``next`` is terminal: an ``employment`` stage hands the person to the
  labour market in that job, an ``exit`` stage hands them on without one (or out of sight, for
  ``outcome = "moved"``).
* Group multipliers scale an exit probability for people of a target group (capped at 1; when the
  scaled exits sum over 1 they are scaled down proportionally).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.distributions import Duration
from sim.specfile import SpecError, load_spec

StageKind = Literal[
    "screening",
    "course",
    "practice",
    "placement",
    "language",
    "exam",
    "job_search",
    "project_position",
    "employment",
    "exit",
]
EMPLOYED_KINDS = ("employment", "project_position")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Exit(_Strict):
    """A competing exit from a stage."""

    to: str
    p: float = Field(ge=0, le=1, description="probability of taking this exit")
    group_multiplier: dict[str, float] = Field(default_factory=dict)
    source: str | None = None


class Employment(_Strict):
    """The job a person holds during an employment stage (and keeps, if the stage is terminal)."""

    contract: Literal["temporary", "permanent", "project"]
    fte: float = Field(gt=0, le=1)
    annual_wage: float = Field(ge=0, description="NOK per year at full time")
    job_loss_multiplier: float = Field(
        default=1.0, ge=0, description="scales the group's job-loss hazard after the pathway"
    )
    source: str | None = None


class Stage(_Strict):
    """One stage of a pathway."""

    kind: StageKind
    title: str = ""
    duration: Duration | None = None
    exits: list[Exit] = Field(default_factory=list)
    next: str | None = None
    capacity: str | None = None
    employment: Employment | None = None
    outcome: Literal["not_employed", "moved"] | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Stage:
        if self.kind == "exit":
            if self.duration is not None or self.exits or self.next or self.capacity:
                raise ValueError(
                    "an exit stage takes no duration, exits, next or capacity; "
                    "it only says its outcome"
                )
            if self.outcome is None:
                raise ValueError("an exit stage needs outcome = 'not_employed' or 'moved'")
            return self
        if self.duration is None and not self.terminal:
            raise ValueError(f"a {self.kind} stage needs a duration (weeks)")
        if self.terminal and self.kind not in EMPLOYED_KINDS:
            raise ValueError(
                f"a {self.kind} stage needs a 'next' stage or exits; only employment and exit "
                "stages can end a pathway"
            )
        if self.outcome is not None:
            raise ValueError("only exit stages have an outcome")
        if self.kind in EMPLOYED_KINDS and self.employment is None:
            raise ValueError(f"a {self.kind} stage needs an [employment] table")
        if self.kind not in EMPLOYED_KINDS and self.employment is not None:
            raise ValueError(f"a {self.kind} stage cannot have an employment table")
        total = sum(e.p for e in self.exits)
        if total > 1 + 1e-9:
            raise ValueError(f"exit probabilities sum to {total:g}, more than 1")
        if self.next is None and self.exits and total < 1 - 1e-9:
            raise ValueError(
                f"exits sum to {total:g} < 1 and there is no 'next' stage for the rest"
            )
        return self

    @property
    def terminal(self) -> bool:
        return self.kind == "exit" or (self.next is None and not self.exits)


class Capacity(_Strict):
    """A limited resource that a stage needs one unit of: placement slots, class seats, mentors."""

    slots: int = Field(ge=1)
    title: str = ""
    source: str | None = None


class PathwayInfo(_Strict):
    name: str
    title: str
    source: str
    entry: str
    description: str = ""


class Pathway(_Strict):
    """A validated stage graph."""

    pathway: PathwayInfo
    stages: dict[str, Stage] = Field(min_length=1)
    capacity: dict[str, Capacity] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _graph(self) -> Pathway:
        problems = []
        names = set(self.stages)
        if self.pathway.entry not in names:
            problems.append(f"pathway.entry: no stage named '{self.pathway.entry}'")
        for name, st in self.stages.items():
            for i, ex in enumerate(st.exits):
                if ex.to not in names:
                    problems.append(f"stages.{name}.exits[{i}].to: no stage named '{ex.to}'")
            if st.next is not None and st.next not in names:
                problems.append(f"stages.{name}.next: no stage named '{st.next}'")
            if st.capacity is not None and st.capacity not in self.capacity:
                problems.append(
                    f"stages.{name}.capacity: no capacity named '{st.capacity}' "
                    f"(declared: {', '.join(sorted(self.capacity)) or 'none'})"
                )
        if problems:
            raise ValueError("; ".join(problems))
        reachable = self._reachable_from(self.pathway.entry)
        unreachable = sorted(names - reachable)
        if unreachable:
            raise ValueError(f"stages not reachable from the entry: {', '.join(unreachable)}")
        stuck = sorted(n for n in names if not self._reaches_terminal(n))
        if stuck:
            raise ValueError(f"stages from which no path leads out (a cycle without exit): {stuck}")
        return self

    def successors(self, name: str) -> list[str]:
        st = self.stages[name]
        out = [e.to for e in st.exits]
        if st.next is not None:
            out.append(st.next)
        return out

    def _reachable_from(self, start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            n = todo.pop()
            if n in seen or n not in self.stages:
                continue
            seen.add(n)
            todo.extend(self.successors(n))
        return seen

    def _reaches_terminal(self, start: str) -> bool:
        return any(self.stages[n].terminal for n in self._reachable_from(start))

    @property
    def name(self) -> str:
        return self.pathway.name


def builtin_dir() -> Path:
    return (Path(__file__).parent / "pathways")


def builtin_names() -> list[str]:
    return sorted(p.stem for p in builtin_dir().glob("*.toml"))


@cache
def _load_builtin(name: str) -> Pathway:
    return load_spec(Pathway, builtin_dir() / f"{name}.toml")


def load_pathway(name_or_path: str | Path) -> Pathway:
    """Load a built-in pathway by name, or a pathway file by path."""
    text = str(name_or_path)
    if text in builtin_names():
        return _load_builtin(text)
    path = Path(text)
    if path.suffix == ".toml" or path.exists():
        return load_spec(Pathway, path)
    raise SpecError(
        text,
        [f"no built-in pathway of that name and no such file; built-in: {', '.join(builtin_names())}"],
    )
