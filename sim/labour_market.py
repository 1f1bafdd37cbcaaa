"""The labour market after a pathway (and under business as usual): parameters shared by all groups.

Group-specific hazards (entering work, losing a job, wages) live with the target groups in
``sim/data/target_groups.toml``. What is common to everyone lives here and in
``sim/data/labour_market.toml``: how many new hires start on a temporary contract, how fast
temporary jobs become permanent and how much more likely a temporary job is to end. The engine
turns these into competing exponential hazards, one timeout per change of state.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field

from effekt.specfile import Strict, load_spec


class LabourMarket(Strict):
    """Temporary and permanent jobs in the labour market after the pathway.

    A person hired from the labour market starts on a temporary contract with probability
    ``temporary_share``, else permanent. A temporary job ends by conversion to a permanent one at
    ``conversion_rate`` per year, or by job loss at the group's job-loss rate times
    ``temporary_loss_multiplier``; whichever comes first (competing risks).

    Wages grow with experience: in a labour-market job (one found in the labour market, or a
    pathway's job kept after it) the wage is the group's (or the job's) times
    ``(1 + wage_growth_per_year_worked) ** k`` for ``k`` completed years worked since referral
    (any job counts, a pathway's too), up to ``wage_growth_max_years``. The same rule in every
    arm; the spell is cut where a year is completed (``effekt.sim.engine``).
    """

    temporary_share: float = Field(default=0.0, ge=0, le=1)
    conversion_rate: float = Field(default=0.0, ge=0, description="per year, temporary -> permanent")
    temporary_loss_multiplier: float = Field(default=1.0, ge=0)
    wage_growth_per_year_worked: float = Field(
        default=0.0, ge=0, le=0.2, allow_inf_nan=False,
        description="real wage growth per completed year of work since referral, in labour-market jobs "
        "(found in the labour market or kept after a pathway), every arm alike; 0: wages stay at the "
        "group's (or the job's) level")
    wage_growth_max_years: int = Field(
        default=10, ge=1, le=50, description="the years of experience that count: wages grow no further "
        "after this many years worked (returns to experience flatten)")
    source: str | None = None


@cache
def default_labour_market() -> LabourMarket:
    """The built-in labour-market parameters (``sim/data/labour_market.toml``)."""
    return load_spec(LabourMarket, Path(__file__).resolve().parent / "data" / "labour_market.toml")
