"""The world of one simulation: people, cohorts, the pathway, the labour market and the horizon.

A :class:`World` is everything ``sim.simulate`` needs apart from the random streams. It is built
by ``experiments`` from a scenario file, or directly in Python.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.pathway import Pathway
from sim.people import Benefit, Cohort, TargetGroup, default_benefits, default_target_groups


class Counterfactual(BaseModel):
    """What would have happened anyway.

    ``parallel``: every person is simulated twice, in the programme and under business as usual
    (group hazards of entering work), with common random numbers. ``rct``: referred people are
    randomised, a share ``treatment_share`` into the programme and the rest into control.
    ``none``: no control arm.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["parallel", "rct", "none"] = "parallel"
    treatment_share: float = Field(default=0.5, gt=0, lt=1)
    entry_rate_multiplier: float = Field(
        default=1.0, ge=0, description="scales every group's business-as-usual entry hazard"
    )


class World(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    pathway: Pathway
    cohorts: list[Cohort] = Field(min_length=1)
    horizon_weeks: float = Field(gt=0)
    counterfactual: Counterfactual = Counterfactual()
    groups: dict[str, TargetGroup] = Field(default_factory=default_target_groups)
    benefits: dict[str, Benefit] = Field(default_factory=default_benefits)

    @model_validator(mode="after")
    def _known_groups(self) -> World:
        for i, c in enumerate(self.cohorts):
            unknown = sorted(set(c.groups) - set(self.groups))
            if unknown:
                raise ValueError(
                    f"cohorts[{i}].groups: unknown target group(s) {unknown}; "
                    f"known: {', '.join(sorted(self.groups))}"
                )
            if c.start_week >= self.horizon_weeks:
                raise ValueError(f"cohorts[{i}].start_week is at or after the horizon")
        return self

    @property
    def size(self) -> int:
        return sum(c.size for c in self.cohorts)
