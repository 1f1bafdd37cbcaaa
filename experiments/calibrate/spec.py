"""Calibration files: which pathway, which uncertain numbers, and which published counts.

A calibration file (``experiments/calibrations/*.toml``) is strict TOML like every other spec
(:mod:`effekt.specfile`): an unknown key is an error naming the key and what is allowed. Its parts::

    [calibration]
    name = "springbrett"                     # the posterior is written as <name>.posterior.toml
    title = { nb = "...", en = "..." }
    pathway = "kongsberg_kull"               # a built-in pathway, or a pathway file (relative to this file)
    seed = 20261201                          # the root seed: the same seed gives the same posterior

    [calibration.fit]                        # ABC-SMC settings (all optional; the CLI may override)
    particles = 400
    generations = 6
    tolerance = 0                            # the final tolerance in counts (0: exact ABC)

    [world]                                  # how one study unit is simulated (a kull of 14)
    cohorts = [{ name = "kull", start_week = 0, size = 14, groups = { A = 0.2, B = 0.3, C = 0.3, D = 0.2 } }]
    horizon_weeks = 220

    [parameters]                             # the uncertain numbers: dotted keys into the pathway
    "pathway.stages.work_training.exits[1].p" = "declared"      # the prior the pathway file declares
    "pathway.stages.work_training.exits[0].p" = { beta = [6, 34] }   # or a prior given here

    [targets.finishers_in_paid_work]         # a published count
    title = { nb = "...", en = "..." }
    count = 24
    of = 61
    measure = { kind = "employed_after_finishing", stage = "work_training", weeks = 26,
                except_to = ["dropped_out"] }        # (one line in the file)
    source = "Spekter 2017 ..."
    held_out = false                         # true: checked against the posterior, not fitted

A target's count is compared with a simulated study of exactly ``of`` people: study units (the
``[world]``, one replication each) are simulated until ``of`` people qualify for the measure's
denominator, and the first ``of`` of them (in order of replication and person) are counted, so the
binomial luck of a count of that size is part of the model. The measures are the vocabulary of
:mod:`effekt.experiments.calibrate.measures`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from effekt.dotted import canonical, parse_key
from effekt.sim import Cohort
from effekt.specfile import SpecError, Strict, format_validation_error, joined, keyed, read_toml, said


class Titles(Strict):
    """A label in Norwegian bokmål and English."""

    nb: StrictStr = Field(min_length=1)
    en: StrictStr = Field(min_length=1)


class Fit(Strict):
    """``[calibration.fit]``: the ABC-SMC settings (:mod:`effekt.experiments.calibrate.abc_smc`)."""

    particles: StrictInt = Field(default=400, ge=10, description="particles per generation")
    generations: StrictInt = Field(default=6, ge=1, le=50, description="generations at most")
    tolerance: float = Field(default=0, ge=0, description="final tolerance: largest |simulated - "
                             "published| count accepted (0: exact ABC on the counts)")
    quantile: float = Field(default=0.5, gt=0, lt=1, description="each tolerance is this quantile "
                            "of the previous generation's distances")
    batch: StrictInt | None = Field(default=None, ge=1, description="proposals simulated per round "
                                    "(default: the particles); fixed, so results do not depend on workers")
    predictive: StrictInt = Field(default=200, ge=10, description="simulated studies for the "
                                  "posterior predictive check")


class CalibrationInfo(Strict):
    """``[calibration]``: what is calibrated and with which seed."""

    name: StrictStr = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$",
                            description="lower-case letters, digits, _ or -")
    title: Titles
    pathway: StrictStr = Field(min_length=1)
    description: StrictStr = ""
    seed: StrictInt = Field(default=0, ge=0)
    fit: Fit = Field(default_factory=Fit)


class StudyWorld(Strict):
    """``[world]``: one study unit (a replication), treatment arm only."""

    cohorts: list[Cohort] = Field(min_length=1)
    horizon_weeks: float = Field(gt=0)


class _Measure(Strict):
    stage: StrictStr = Field(min_length=1)


class EmployedAfterFinishing(_Measure):
    """Of those who completed ``stage`` (and did not go on to a stage in ``except_to``): the share
    employed ``weeks`` after finishing (Spekter's finishers in paid work)."""

    kind: Literal["employed_after_finishing"]
    weeks: float = Field(ge=0)
    except_to: list[StrictStr] = Field(default_factory=list)


class EmployedAfterEntry(_Measure):
    """Of those with ``event`` at ``stage``: the share employed ``weeks`` after their referral
    (IMDi's Fjell starters in work three years on)."""

    kind: Literal["employed_after_entry"]
    event: StrictStr = "entered"
    weeks: float = Field(ge=0)


class Reached(_Measure):
    """Of those with ``event`` at ``stage``: the share who had ``to_event`` at ``to_stage``
    (Gloppen's admitted students who got the fagbrev job)."""

    kind: Literal["reached"]
    event: StrictStr = "entered"
    to_stage: StrictStr = Field(min_length=1)
    to_event: StrictStr = "entered"


class EmployedAmongActive(_Measure):
    """At ``weeks`` after their referral, of those employed or still in ``stage``: the share
    employed (Spekter 2016: 12 in work while 36 were still in work training)."""

    kind: Literal["employed_among_active"]
    weeks: float = Field(ge=0)


Measure = Annotated[EmployedAfterFinishing | EmployedAfterEntry | Reached | EmployedAmongActive,
                    Field(discriminator="kind")]
MEASURE_KINDS = ("employed_after_finishing", "employed_after_entry", "reached", "employed_among_active")


class Target(Strict):
    """A published count: ``count`` of ``of`` people, measured as ``measure``."""

    title: Titles
    count: StrictInt = Field(ge=0)
    of: StrictInt = Field(ge=1)
    measure: Measure
    source: StrictStr = Field(min_length=3, description="where the figure is published")
    held_out: StrictBool = False

    @model_validator(mode="after")
    def _count_of(self) -> Target:
        if self.count > self.of:
            raise ValueError(said(f"count ({self.count}) cannot exceed of ({self.of})",
                                  f"count ({self.count}) kan ikke være større enn of ({self.of})"))
        return self


Declared = Literal["declared"]


class CalibrationFile(Strict):
    """A whole calibration file."""

    calibration: CalibrationInfo
    world: StudyWorld
    parameters: dict[str, Declared | dict[str, Any]] = Field(min_length=1)
    targets: dict[str, Target] = Field(min_length=1)

    @field_validator("parameters")
    @classmethod
    def _pathway_keys(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key in v:
            try:
                parts = parse_key(key)
            except SpecError as err:
                raise ValueError(keyed(repr(key), joined("; ", err.problems))) from None
            if parts[0] != "pathway" or len(parts) < 2:
                raise ValueError(said(
                    f"{key!r}: a calibrated number is a dotted key into the pathway, "
                    "starting with 'pathway.' (e.g. pathway.stages.work_training.exits[1].p)",
                    f"{key!r}: et kalibrert tall er en punktnøkkel inn i forløpet, som begynner "
                    "med 'pathway.' (f.eks. pathway.stages.work_training.exits[1].p)"))
        return v

    @model_validator(mode="after")
    def _fitted(self) -> CalibrationFile:
        if all(t.held_out for t in self.targets.values()):
            raise ValueError(said("targets: every target is held out; at least one must be fitted",
                                  "targets: alle målene er holdt utenfor; minst ett må tilpasses"))
        return self

    @property
    def fitted(self) -> dict[str, Target]:
        return {k: t for k, t in self.targets.items() if not t.held_out}

    @property
    def held_out(self) -> dict[str, Target]:
        return {k: t for k, t in self.targets.items() if t.held_out}


def load_calibration_file(path: str | Path) -> tuple[CalibrationFile, str]:
    """Read and validate a calibration file (``path``, or a built-in name such as ``springbrett``):
    ``(spec, source)``. The priors under ``[parameters]`` are kept as written (they are the point of the
    file, not numbers to validate at their point values); the checks that need the pathway (keys,
    stage names, priors) happen in :func:`effekt.experiments.calibrate.model.build_model`."""
    path = resolve_calibration_path(path)
    data = read_toml(path)
    try:
        return CalibrationFile.model_validate(data), str(path)
    except ValidationError as err:
        raise SpecError(str(path), format_validation_error(CalibrationFile, err)) from None


def builtin_calibrations_dir() -> Path:
    """The folder of the built-in calibration files (``experiments/calibrations``)."""
    return Path(__file__).parent.parent / "calibrations"


def builtin_calibrations() -> list[str]:
    return sorted(p.stem for p in builtin_calibrations_dir().glob("*.toml")
                  if not p.name.endswith(".posterior.toml"))


def resolve_calibration_path(path: str | Path) -> Path:
    """A file path as given, or a built-in calibration's file by name."""
    text = str(path)
    if text in builtin_calibrations():
        return builtin_calibrations_dir() / f"{text}.toml"
    p = Path(text)
    if not p.exists() and not text.endswith(".toml"):
        raise SpecError(text, [said("no calibration file of that name; built-in: "
                                    f"{', '.join(builtin_calibrations())}",
                                    "ingen kalibreringsfil med det navnet; innebygde: "
                                    f"{', '.join(builtin_calibrations())}")])
    return p


def parameter_keys(spec: CalibrationFile) -> list[str]:
    """The calibrated keys in canonical form, in the file's order."""
    return [canonical(k) for k in spec.parameters]


__all__ = ["MEASURE_KINDS", "CalibrationFile", "CalibrationInfo", "Fit", "StudyWorld", "Target", "Titles",
           "builtin_calibrations", "builtin_calibrations_dir", "load_calibration_file", "parameter_keys",
           "resolve_calibration_path"]
