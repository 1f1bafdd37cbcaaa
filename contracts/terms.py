"""Contract terms: which outcomes are paid for, at what price, with which caps and timing, and
who funds and who pays. Read from TOML templates (``contracts/templates``) or a user's file.

Money is NOK at the scenario's price year. Outcome windows are in weeks from a person's entry
(the simulation clock's unit); payment timing is in months, the period of the cashflows.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.specfile import SpecError, read_toml, validate


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JobStart(_Strict):
    """A person starts a job of at least ``min_fte`` within ``window_weeks`` of entry."""

    metric: Literal["job_start"]
    min_fte: float = Field(default=0.0, ge=0, le=1)
    window_weeks: float = Field(gt=0)


class SustainedEmployment(_Strict):
    """A person has been in work ``weeks`` weeks without a break, reached within ``window_weeks``
    of entry (consecutive job spells, e.g. a temporary engagement then a permanent post, count as
    one unbroken period)."""

    metric: Literal["sustained_employment"]
    weeks: float = Field(gt=0)
    min_fte: float = Field(default=0.0, ge=0, le=1)
    window_weeks: float = Field(gt=0)

    @model_validator(mode="after")
    def _fits(self) -> SustainedEmployment:
        if self.weeks > self.window_weeks:
            raise ValueError("weeks is longer than window_weeks: the outcome could never happen")
        return self


Outcome = Annotated[JobStart | SustainedEmployment, Field(discriminator="metric")]


class ContractInfo(_Strict):
    name: str
    title: str
    source: str = ""
    term_months: int = Field(gt=0, description="last month in which an outcome can be achieved")
    payment_lag_months: int = Field(default=0, ge=0)
    payment_period: Literal["monthly", "quarterly"] = "monthly"


class Caps(_Strict):
    per_person: float | None = Field(default=None, gt=0)
    contract: float | None = Field(default=None, gt=0)


class Provider(_Strict):
    """The service provider's delivery costs, which the investor funds as they fall due."""

    per_cohort: float = Field(default=0.0, ge=0, description="fixed cost per kull, at its start")
    per_participant: float = Field(default=0.0, ge=0, description="at entry")
    per_week: float = Field(default=0.0, ge=0, description="per participant-week in programme")


class Terms(_Strict):
    """A validated contract."""

    contract: ContractInfo
    outcomes: dict[str, Outcome] = Field(min_length=1)
    prices: dict[str, float]
    caps: Caps = Caps()
    commissioners: dict[str, float] = Field(min_length=1)
    provider: Provider = Provider()

    @model_validator(mode="after")
    def _consistent(self) -> Terms:
        unknown = sorted(set(self.prices) - set(self.outcomes))
        if unknown:
            raise ValueError(
                f"prices: unknown outcome(s) {unknown}; outcomes defined: "
                f"{', '.join(sorted(self.outcomes))}"
            )
        unpriced = sorted(set(self.outcomes) - set(self.prices))
        if unpriced:
            raise ValueError(f"prices: no price for outcome(s) {unpriced}")
        negative = sorted(k for k, v in self.prices.items() if v < 0)
        if negative:
            raise ValueError(f"prices: negative price for {negative}")
        top = max(self.prices.values())
        for key in ("per_person", "contract"):
            cap = getattr(self.caps, key)
            if cap is not None and cap < top:
                raise ValueError(f"caps.{key} ({cap:g}) is below a single price ({top:g})")
        if any(v < 0 for v in self.commissioners.values()):
            raise ValueError("commissioners: shares must not be negative")
        total = sum(self.commissioners.values())
        if abs(total - 1) > 1e-9:
            raise ValueError(f"commissioners: shares sum to {total:g}, not 1")
        return self


def templates_dir() -> Path:
    return (Path(__file__).parent / "templates")


def template_names() -> list[str]:
    return sorted(p.stem for p in templates_dir().glob("*.toml"))


def terms_data(name_or_path: str | Path) -> tuple[dict[str, Any], str]:
    """The raw table of a template (by name) or contract file, and where it came from."""
    text = str(name_or_path)
    if text in template_names():
        path = templates_dir() / f"{text}.toml"
    else:
        path = Path(text)
        if not (path.suffix == ".toml" or path.exists()):
            raise SpecError(
                text,
                [f"no contract template of that name and no such file; templates: "
                 f"{', '.join(template_names())}"],
            )
    return read_toml(path), str(path)


@cache
def _load_template(name: str) -> Terms:
    data, source = terms_data(name)
    return validate(Terms, data, source)


def load_terms(name_or_path: str | Path) -> Terms:
    """Load a contract template by name or a contract file by path."""
    if str(name_or_path) in template_names():
        return _load_template(str(name_or_path))
    data, source = terms_data(name_or_path)
    return validate(Terms, data, source)
