"""The world of one simulation: people, cohorts, the pathway, the labour market and the horizon.

A :class:`World` is everything ``sim.simulate`` needs apart from the random streams. It is built
by ``experiments`` from a scenario file, or directly in Python.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from effekt.sim.labour_market import LabourMarket, default_labour_market
from effekt.sim.pathway import Pathway, load_business_as_usual
from effekt.sim.people import (
    Benefit,
    Cohort,
    TargetGroup,
    benefit_with_role,
    benefits_problems,
    default_benefits,
    default_target_groups,
    unknown_kinds,
)
from effekt.specfile import SpecError, Strict, en_number, joined, keyed, nb_number, said

MAX_HORIZON_WEEKS = 52000.0
"""The longest horizon a world may have: 1000 years. Far beyond any contract or working life
(Norwegian and British outcome contracts run 3-8 years), but long queueing verifications (thousands of
arrivals through a capacity stage) need long clocks; short enough that a mistyped horizon (1e9)
is refused with a message instead of exhausting memory."""


def _check_elapsed(key: str, elapsed: float, stage: str, pathway: Pathway) -> None:
    """Refuse an initial caseload that has spent longer in its stage than the stage can last.

    The remaining time is drawn from the stage's duration given that it is longer than
    ``elapsed``; that is impossible when ``elapsed`` reaches the upper end of the distribution's
    ``bounds`` (``fixed`` value, ``uniform``/``triangular`` high, largest ``empirical`` value), and
    meaningless for a stage without a duration (an end of the pathway).
    """
    duration = pathway.stages[stage].duration
    if duration is None:
        raise ValueError(said(
            f"{key}.elapsed_weeks: stage '{stage}' has no duration (it ends the pathway), so "
            "nobody can be part-way through it; leave elapsed_weeks out",
            f"{key}.elapsed_weeks: trinnet '{stage}' har ingen duration (det avslutter forløpet), så "
            "ingen kan være midt i det; ta bort elapsed_weeks"))
    longest = duration.bounds[1]
    if elapsed >= longest:
        raise ValueError(said(
            f"{key}.elapsed_weeks: {elapsed:g} weeks, but stage '{stage}' lasts at most "
            f"{longest:g} weeks ({duration.describe('en', mean=False)}); allowed: "
            f"0 <= elapsed_weeks < {longest:g}",
            f"{key}.elapsed_weeks: {nb_number(elapsed)} uker, men trinnet '{stage}' varer høyst "
            f"{nb_number(longest)} uker ({duration.describe('nb', mean=False)}); tillatt: "
            f"0 <= elapsed_weeks < {nb_number(longest)}"))


class Counterfactual(Strict):
    """What would have happened anyway.

    ``parallel``: every person is simulated twice, in the programme and under business as usual
    (the group's hazards of finding and losing work), with common random numbers for the people.
    ``rct``: referred people are randomised, a share ``treatment_share`` into the programme and the
    rest into control. ``none``: no control arm.

    ``entry_rate_multiplier`` scales every group's business-as-usual hazard of finding work
    (``bau_entry_rate``) **wherever a person is in business as usual**: the whole control arm, and
    the programme arm once a person has left the pathway (times what the pathway states ``after``
    the stage they left through). It is a statement about the labour market both arms face (a
    boom or a slump), not about the programme, so varying it never creates an effect by itself.

    ``comparison = "matched"`` adds what a non-randomised evaluation compares with (see
    :data:`effekt.sim.ARMS`); the control arm stays the true counterfactual, so the two side by
    side show the bias of a matched comparison.
    """

    mode: Literal["parallel", "rct", "none"] = "parallel"
    comparison: Literal["none", "matched"] = Field(
        default="none", description="'matched': add a matched comparison group as an evaluation "
        "would build one (the arm 'comparison': for each participant someone with the same "
        "observables but their own latent employability, under business as usual)")
    treatment_share: float = Field(default=0.5, gt=0, lt=1)
    entry_rate_multiplier: float = Field(
        default=1.0, ge=0, description="scales every group's business-as-usual entry hazard, in both "
        "arms (the control arm, and people who have left the pathway)"
    )


class World(Strict):
    """Everything one replication needs apart from the random streams.

    ``cohorts`` holds kull (possibly on a repeating schedule), referral streams (Poisson arrivals)
    and initial caseloads (people starting in a named stage at week 0); see :class:`effekt.sim.Cohort`.
    """

    model_config = ConfigDict(**Strict.model_config, arbitrary_types_allowed=True)

    pathway: Pathway
    cohorts: list[Cohort] = Field(min_length=1)
    horizon_weeks: float = Field(gt=0)
    contract_horizon_weeks: float | None = Field(
        default=None, gt=0, strict=True, allow_inf_nan=False,
        description="the contract's horizon when the world is simulated beyond it (a long run, "
        "horizon_weeks later): everything drawn at or after it comes from the long_run stream, so the "
        "records up to it are those of a simulation ending there; None: the horizon itself")
    counterfactual: Counterfactual = Counterfactual()
    groups: dict[str, TargetGroup] = Field(default_factory=default_target_groups)
    benefits: dict[str, Benefit] = Field(default_factory=default_benefits)
    labour_market: LabourMarket = Field(default_factory=default_labour_market)
    retirement_age: float = Field(
        default=67.0, gt=18, le=80, strict=True, allow_inf_nan=False,
        description="the age at which a person leaves the labour market (state 'retired', neither "
        "wage nor the benefits modelled here; the old-age pension is the same in both arms and not "
        "counted); source: folketrygdloven kap. 20, 67 is the usual age (the pension can start from "
        "62), so on a long horizon nobody works or draws AAP past it")

    def business_as_usual(self, group: str, benefit_kind: str) -> Pathway | None:
        """The business-as-usual pathway of a person of ``group`` on ``benefit_kind`` (None:
        straight into the labour market)."""
        name = self.groups[group].bau_pathway_for(benefit_kind)
        return load_business_as_usual(name) if name is not None else None

    @model_validator(mode="after")
    def _known_groups(self) -> World:
        if self.horizon_weeks > MAX_HORIZON_WEEKS:
            raise ValueError(said(
                f"horizon_weeks: {en_number(self.horizon_weeks, grouped=False)} is too long; at most "
                f"{MAX_HORIZON_WEEKS:g} "
                f"weeks ({MAX_HORIZON_WEEKS / 52:g} years) are allowed",
                f"horizon_weeks: {nb_number(self.horizon_weeks)} er for lang; høyst "
                f"{nb_number(MAX_HORIZON_WEEKS)} "
                f"uker ({nb_number(MAX_HORIZON_WEEKS / 52)} år) er tillatt"))
        if self.contract_horizon_weeks is not None and self.contract_horizon_weeks > self.horizon_weeks:
            raise ValueError(said(
                f"contract_horizon_weeks: {en_number(self.contract_horizon_weeks, grouped=False)} is after "
                "the horizon "
                f"({self.horizon_weeks:g} weeks); allowed: 0 < contract_horizon_weeks <= horizon_weeks",
                f"contract_horizon_weeks: {nb_number(self.contract_horizon_weeks)} er etter horisonten "
                f"({nb_number(self.horizon_weeks)} uker); tillatt: 0 < contract_horizon_weeks "
                "<= horizon_weeks"))
        for name, st in self.pathway.stages.items():
            if st.benefit_after is not None:
                raise ValueError(said(
                    f"pathway '{self.pathway.name}': stages.{name}.benefit_after: only a "
                    "business-as-usual pathway says what a benefit becomes (its rules); a person who "
                    "leaves the programme returns to business as usual, which decides it",
                    f"forløp '{self.pathway.name}': stages.{name}.benefit_after: bare et forløp for "
                    "vanlig oppfølging sier hva en ytelse blir (dets regler); en person som forlater "
                    "tiltaket går tilbake til vanlig oppfølging, som avgjør det"))
            for i, e in enumerate(st.exits):
                unknown = sorted(set(e.group_multiplier) - set(self.groups))
                if unknown:
                    raise ValueError(said(
                        f"pathway '{self.pathway.name}': stages.{name}.exits[{i}].group_multiplier: "
                        f"unknown target group(s) {unknown}; known: {', '.join(sorted(self.groups))}",
                        f"forløp '{self.pathway.name}': stages.{name}.exits[{i}].group_multiplier: "
                        f"ukjent målgruppe {unknown}; kjente: {', '.join(sorted(self.groups))}"))
        for g, tg in self.groups.items():
            named = tg.bau_pathway
            for kind, bau_name in (named.items() if isinstance(named, dict) else [(None, named)]):
                if bau_name is None:
                    continue
                key = f"groups.{g}.bau_pathway" + (f".{kind}" if kind else "")
                try:
                    bau = load_business_as_usual(bau_name)
                except SpecError as e:
                    where = "" if e.source == bau_name else f" ({e.source})"
                    raise ValueError(keyed(f"{key} = '{bau_name}'{where}",
                                           joined("; ", e.problems))) from None
                for name, st in bau.stages.items():
                    unknown = sorted({m for e in st.exits for m in e.group_multiplier} - set(self.groups))
                    if unknown:
                        raise ValueError(said(f"{key} '{bau_name}': stages.{name}: group_multiplier for "
                                              f"unknown target group(s) {unknown}",
                                              f"{key} '{bau_name}': stages.{name}: group_multiplier for "
                                              f"ukjent målgruppe {unknown}"))
        for i, c in enumerate(self.cohorts):
            unknown = sorted(set(c.groups) - set(self.groups))
            if unknown:
                raise ValueError(said(
                    f"cohorts[{i}].groups: unknown target group(s) {unknown}; "
                    f"known: {', '.join(sorted(self.groups))}",
                    f"cohorts[{i}].groups: ukjent målgruppe {unknown}; "
                    f"kjente: {', '.join(sorted(self.groups))}"))
            if c.start_week >= self.horizon_weeks:
                raise ValueError(said(
                    f"cohorts[{i}].start_week ({c.start_week:g}) is at or after the horizon "
                    f"({self.horizon_weeks:g} weeks)",
                    f"cohorts[{i}].start_week ({nb_number(c.start_week)}) er ved eller etter horisonten "
                    f"({nb_number(self.horizon_weeks)} uker)"))
            last_name, last = c.starts()[-1]
            if last >= self.horizon_weeks:
                raise ValueError(said(
                    f"cohorts[{i}].repeats: '{last_name}' would start at week {last:g}, at or after the "
                    f"horizon ({self.horizon_weeks:g} weeks); lower repeats or repeat_every_weeks",
                    f"cohorts[{i}].repeats: '{last_name}' ville startet i uke {nb_number(last)}, ved eller "
                    f"etter horisonten ({nb_number(self.horizon_weeks)} uker); senk repeats eller "
                    "repeat_every_weeks"))
            if c.stage is not None and c.stage not in self.pathway.stages:
                raise ValueError(said(
                    f"cohorts[{i}].stage: no stage named '{c.stage}' in pathway "
                    f"'{self.pathway.name}' (stages: {', '.join(self.pathway.stages)})",
                    f"cohorts[{i}].stage: ingen trinn heter '{c.stage}' i forløpet "
                    f"'{self.pathway.name}' (trinn: {', '.join(self.pathway.stages)})"))
            if c.elapsed_weeks > 0:
                _check_elapsed(f"cohorts[{i}]", c.elapsed_weeks, c.stage, self.pathway)
        return self

    @model_validator(mode="after")
    def _known_benefits(self) -> World:
        """Every benefit kind the world names is one of its benefits (the chosen country's file
        with the scenario's overrides): the groups' shares and business-as-usual tables, the
        benefits' ``then``, business-as-usual pathways' ``benefit_after``; and a stage paying the
        benefit on measures names ``on_measures`` or the kind that plays that role."""
        kinds = tuple(self.benefits)
        problems = benefits_problems(self.benefits)
        for g, tg in self.groups.items():
            for key, found in (("benefit", tg.benefit),
                               ("bau_pathway", tg.bau_pathway if isinstance(tg.bau_pathway, dict) else {})):
                message = unknown_kinds(found, kinds, "this world's benefits")
                if message:
                    problems.append(keyed(f"groups.{g}.{key}", message))
        measure_kind, _ = benefit_with_role(self.benefits, "on_measures")

        def funding(where: str, stages: dict, where_nb: str | None = None) -> None:
            where_nb = where if where_nb is None else where_nb
            for name, st in stages.items():
                b = st.funding.benefit
                wrong = measure_kind is None or b not in ("on_measures", measure_kind)
                if st.funding.pays_on_measures and wrong:
                    plays = (f"the kind that plays it here is '{measure_kind}'" if measure_kind else
                             "no benefit of this world has role = 'on_measures'")
                    plays_nb = (f"ytelsen som har den rollen her, er '{measure_kind}'" if measure_kind else
                                "ingen ytelse i denne verdenen har role = 'on_measures'")
                    also = f", '{measure_kind}'" if measure_kind else ""
                    problems.append(said(
                        f"{where}stages.{name}.funding.benefit: '{b}' is not the benefit on "
                        f"labour-market measures ({plays}); allowed: 'continues', 'stops', "
                        f"'on_measures'" + also,
                        f"{where_nb}stages.{name}.funding.benefit: '{b}' er ikke ytelsen under "
                        f"arbeidsmarkedstiltak ({plays_nb}); tillatt: 'continues', 'stops', "
                        f"'on_measures'" + also))
                message = unknown_kinds(st.benefit_after or {}, kinds, "this world's benefits")
                if message:
                    problems.append(said(f"{where}stages.{name}.benefit_after: {message}",
                                         f"{where_nb}stages.{name}.benefit_after: {message.nb}"))

        funding(f"pathway '{self.pathway.name}': ", self.pathway.stages, f"forløp '{self.pathway.name}': ")
        for g, tg in self.groups.items():
            named = tg.bau_pathway
            for kind, bau_name in (named.items() if isinstance(named, dict) else [(None, named)]):
                if bau_name is not None:
                    key = f"groups.{g}.bau_pathway" + (f".{kind}" if kind else "")
                    funding(f"{key} '{bau_name}': ", load_business_as_usual(bau_name).stages)
        if problems:
            raise ValueError(joined("; ", list(dict.fromkeys(problems))))
        return self

    def benefit_with_role(self, role: str) -> tuple[str, Benefit] | tuple[None, None]:
        """The benefit kind that plays ``role`` (``on_measures``, ``after_job_loss``) in this world,
        and its benefit; (None, None) when none does (:data:`effekt.sim.people.BENEFIT_ROLES`)."""
        return benefit_with_role(self.benefits, role)

    @property
    def size(self) -> int:
        """How many people are referred (at most, for referral streams cut off by the horizon)."""
        return sum(c.total_size for c in self.cohorts)
