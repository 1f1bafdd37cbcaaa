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
    """

    temporary_share: float = Field(default=0.0, ge=0, le=1)
    conversion_rate: float = Field(default=0.0, ge=0, description="per year, temporary -> permanent")
    temporary_loss_multiplier: float = Field(default=1.0, ge=0)
    source: str | None = None


@cache
def default_labour_market() -> LabourMarket:
    """The built-in labour-market parameters (``sim/data/labour_market.toml``)."""
    return load_spec(LabourMarket, Path(__file__).resolve().parent / "data" / "labour_market.toml")
