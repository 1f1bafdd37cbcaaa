"""People in target groups, and the cohorts (kull) they arrive in.

Target groups and benefit levels are data (``sim/data/target_groups.toml`` and
``sim/data/benefits.toml``), each number with its source or marked as an assumption. People are
drawn in bulk per cohort from one named random stream, so the same seed gives the same people in
the treatment and the counterfactual arm (common random numbers).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, model_validator

from effekt import lazy
from effekt.dotted import suggest
from effekt.specfile import (
    SpecError,
    Strict,
    checked_before,
    format_validation_error,
    joined,
    keyed,
    load_spec,
    mark_checked,
    nb_number,
    read_toml,
    said,
)
from effekt.titles import TITLE_NB

np = lazy.module("numpy", globals())  # on first use: checking people's specs needs no numpy (issue 14)

NORWEGIAN_LEVELS = ("A1", "A2", "B1", "B2", "C1", "native")
EDUCATION_LEVELS = (
    "primary",
    "upper_secondary",
    "vocational",
    "higher",
    "higher_unrecognised",
)
NO_BENEFIT = "none"
"""The benefit kind of no benefit: what a spell off every benefit records (a benefits file lists it
with level 0 when its target groups name it, e.g. ``benefit = { none = 0.2, ... }``)."""
BENEFIT_ROLES = ("on_measures", "after_job_loss")
"""The rules of the engine a benefit can play: ``on_measures`` is paid instead of the prior benefit
in a stage whose ``funding.benefit`` says so (Norway's tiltakspenger); ``after_job_loss`` is the
earnings-related benefit after a lost job (Norway's dagpenger, ``share_of_wage``). Each country's
benefits file gives the role to at most one of its kinds."""
KINDS_CONTEXT = "benefit_kinds"
"""The validation context key holding the kinds of the chosen benefits file (and ``benefits_file``
its path, for messages): a target group or a benefit validated with it names only those kinds;
validated without it, any built-in country's kinds (a :class:`effekt.sim.World` checks them
against its own benefits either way). pydantic re-runs these checks when a validated group is
passed to a model, so a world of another country's kinds is built with the context too
(``World.model_validate(..., context=...)``)."""


def default_benefit_kinds() -> tuple[str, ...]:
    """The benefit kinds of the built-in countries' benefits files (Norway's first): what a model
    validated without a benefits file (:data:`KINDS_CONTEXT`) may name."""
    from effekt.sim.world_data import builtin_benefit_kinds

    return builtin_benefit_kinds()


def benefit_kinds_of(info: ValidationInfo | None) -> tuple[tuple[str, ...], str]:
    """The benefit kinds a model validated with ``info`` may name, and the file they are from
    (for messages): those of the validation context (:data:`KINDS_CONTEXT`), else the built-in
    file's."""
    context = getattr(info, "context", None) or {}
    kinds = context.get(KINDS_CONTEXT)
    if kinds is None:
        from effekt.sim.world_data import COUNTRIES, country_dir

        files = ", ".join(str(country_dir(c) / "benefits.toml") for c in COUNTRIES)
        return default_benefit_kinds(), f"the built-in benefits files: {files}"
    return tuple(kinds), str(context.get("benefits_file", "the benefits file"))


def unknown_kinds(found: object, allowed: tuple[str, ...], where: str = "") -> str:
    """The message for benefit kinds ``found`` that ``allowed`` lacks: each with the kind probably
    meant, and what is allowed (from ``where``, the benefits file); empty when none is unknown."""
    unknown = sorted(set(found) - set(allowed))  # type: ignore[call-overload]
    if not unknown:
        return ""
    hints = "".join(suggest(k, allowed) for k in unknown)
    hints_nb = "".join(suggest(k, allowed, lang="nb") for k in unknown)
    return said(f"unknown benefit kind(s) {unknown}{hints}; allowed"
                f"{f' (the kinds of {where})' if where else ''}: {', '.join(allowed)}",
                f"ukjent ytelse {unknown}{hints_nb}; tillatt{_kinds_of_nb(where)}: {', '.join(allowed)}")


_WHERE_NB = {"this world's benefits": "denne verdenens ytelser", "the benefits file": "ytelsesfilens ytelser"}
"""The bokmål of the ``where`` phrases the callers of :func:`unknown_kinds` pass (else a file)."""


def _kinds_of_nb(where: str) -> str:
    """`` (ytelsene i FILE)``: where the allowed benefit kinds come from, in bokmål."""
    if not where:
        return ""
    return f" ({_WHERE_NB[where]})" if where in _WHERE_NB else f" (ytelsene i {where})"


_WHAT_NB = {"Norwegian level": "norsknivå", "education level": "utdanningsnivå", "benefit kind": "ytelse",
            "benefit kind (then)": "ytelse (then)"}
"""The bokmål of the ``what`` of :func:`_check_shares`."""


def _check_shares(shares: dict[str, float], allowed: tuple[str, ...], what: str, where: str = "") -> None:
    what_nb = _WHAT_NB.get(what, what)
    unknown = sorted(set(shares) - set(allowed))
    if unknown:
        hints = "".join(suggest(k, allowed) for k in unknown)
        hints_nb = "".join(suggest(k, allowed, lang="nb") for k in unknown)
        source = f" (the kinds of {where})" if where else ""
        source_nb = _kinds_of_nb(where)
        raise ValueError(said(f"unknown {what} {unknown}{hints}; allowed{source}: {', '.join(allowed)}",
                              f"ukjent {what_nb} {unknown}{hints_nb}; tillatt{source_nb}: "
                              f"{', '.join(allowed)}"))
    if any(v < 0 for v in shares.values()):
        raise ValueError(said(f"{what} shares must not be negative",
                              f"andelene for {what_nb} kan ikke være negative"))
    total = sum(shares.values())
    if abs(total - 1) > 1e-6:
        raise ValueError(said(f"{what} shares sum to {total:g}, not 1",
                              f"andelene for {what_nb} summerer til {nb_number(total)}, ikke 1"))


class Range(Strict):
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.low > self.high:
            raise ValueError(said("needs low <= high", "krever low <= high"))
        return self


REMOVED_GROUP_KEYS: dict[str, str] = {
    "post_entry_rate": said((
        "post_entry_rate is no longer a target-group key: everyone who leaves a pathway returns to "
        "business as usual, the same bau_entry_rate and bau_job_loss_rate as the control arm, so "
        "that a programme shows no effect it did not earn. A pathway that changes what happens "
        "after it states that on the stage people leave through, e.g. "
        "after = { entry_rate_multiplier = 1.5 } with its source or 'assumption' beside it "
        "(docs/pathways.md, 'Leaving a pathway')"
    ), (
        "post_entry_rate er ikke lenger en nøkkel for målgrupper: alle som forlater et forløp går "
        "tilbake til vanlig oppfølging, med samme bau_entry_rate og bau_job_loss_rate som "
        "kontrollgruppen, så et tiltak ikke viser en effekt det ikke har fortjent. Et forløp som endrer "
        "det som skjer etterpå, sier det på trinnet folk går ut gjennom, f.eks. "
        "after = { entry_rate_multiplier = 1.5 }, med kilden eller 'assumption' ved siden av "
        "(docs/pathways.md, 'Leaving a pathway')"
    )),
    "job_loss_rate": said((
        "job_loss_rate is now bau_job_loss_rate: one business-as-usual job-loss hazard per group, "
        "for both arms. A pathway whose jobs are more stable says so itself: "
        "employment.job_loss_multiplier on the job it gives, or after = { job_loss_multiplier = 0.5 } "
        "on the stage people leave through, with its source or 'assumption' beside it"
    ), (
        "job_loss_rate heter nå bau_job_loss_rate: én risiko for å miste jobben i vanlig oppfølging "
        "per gruppe, for begge grupper. Et forløp med mer stabile jobber sier det selv: "
        "employment.job_loss_multiplier på jobben det gir, eller after = { job_loss_multiplier = 0.5 } "
        "på trinnet folk går ut gjennom, med kilden eller 'assumption' ved siden av"
    )),
}
"""Target-group keys of earlier versions, and what to write instead: a file or scenario that still
sets one is refused with this message rather than silently meaning something else."""


class TargetGroup(Strict):
    """What is known (or assumed) about people of one target group.

    The two hazards describe **business as usual**, the labour market a person of the group is in
    without the programme: the control arm all the time, and the programme arm before entry and
    again after leaving the pathway. The same rates apply in both arms, so a pathway has an effect
    only through what it does (its stages and jobs) and what its file states about afterwards
    (``after`` on the stage a person leaves through; see :class:`effekt.sim.pathway.After`).
    """

    title: str
    title_nb: str = Field(default="", description=TITLE_NB)
    age: Range
    norwegian: dict[str, float]
    education: dict[str, float]
    work_capacity: Range
    benefit: dict[str, float]
    bau_entry_rate: float = Field(
        ge=0, description="per year: hazard of finding work while out of work, business as usual "
        "(scaled by the world's counterfactual.entry_rate_multiplier in both arms)")
    bau_job_loss_rate: float = Field(
        ge=0, description="per year: hazard of losing a job once in one, business as usual (a "
        "pathway's job scales it by its job_loss_multiplier)")
    wage: float = Field(ge=0, description="NOK per year at full time, ordinary job")
    fte: float = Field(gt=0, le=1)
    employability_sd: float = Field(
        default=0.0, ge=0, le=3, strict=True, allow_inf_nan=False,
        description="how much people of the group differ in their business-as-usual chances: a "
        "person's hazard of finding work is bau_entry_rate x exp(sd x z - sd^2/2), z their latent "
        "employability (standard normal, the same in both arms); the mean hazard stays bau_entry_rate")
    bau_pathway: str | dict[str, str] | None = Field(
        default=None, description="the business-as-usual pathway people of the group are in when "
        "referred (e.g. the introduction programme): the control arm walks it from referral, and the "
        "programme arm resumes it on the same clock when leaving the pathway; a built-in name "
        "(sim/business_as_usual) or a file, for everyone in the group, or a table by prior benefit "
        "kind (e.g. { kvalifiseringsstonad = \"kvalifiseringsprogram\" }: people on other benefits "
        "go straight to the labour market). None: straight into the labour market")

    def bau_pathway_for(self, benefit_kind: str) -> str | None:
        """The business-as-usual pathway of a person of this group on ``benefit_kind``."""
        b = self.bau_pathway
        return b.get(benefit_kind) if isinstance(b, dict) else b

    @model_validator(mode="before")
    @classmethod
    def _removed_keys(cls, data: object) -> object:
        if isinstance(data, dict):
            found = [REMOVED_GROUP_KEYS[k] for k in REMOVED_GROUP_KEYS if k in data]
            if found:
                raise ValueError(joined("; and ", found))
        return data

    def employability_factor(self, z: float) -> float:
        """A person's multiplier on ``bau_entry_rate`` at latent employability ``z``
        (lognormal with mean 1, so the group's mean hazard is unchanged)."""
        sd = self.employability_sd
        return math.exp(sd * z - 0.5 * sd * sd) if sd else 1.0

    @model_validator(mode="after")
    def _shares(self, info: ValidationInfo) -> TargetGroup:
        kinds, where = benefit_kinds_of(info)
        if checked_before(self, kinds):  # a validated group given to a world, the same kinds (where:
            return self  # only the messages' words)
        _check_shares(self.norwegian, NORWEGIAN_LEVELS, "Norwegian level")
        _check_shares(self.education, EDUCATION_LEVELS, "education level")
        _check_shares(self.benefit, kinds, "benefit kind", where)
        if isinstance(self.bau_pathway, dict):
            message = unknown_kinds(self.bau_pathway, kinds, where)
            if message:
                raise ValueError(keyed("bau_pathway", message))
        mark_checked(self, kinds)
        return self


class TargetGroups(Strict):
    groups: dict[str, TargetGroup] = Field(min_length=1)


def _finite(description: str, **limits: float) -> Any:
    return Field(default=None, strict=True, allow_inf_nan=False, description=description, **limits)


class Benefit(Strict):
    """A benefit: its level, and how long it lasts by the rules.

    ``max_weeks``: the benefit ends that many weeks after the person is referred (AAP's three
    years, kvalifiseringsstønad's one plus one, the introduction programme's two years), and the
    person goes on to one of ``then`` (shares of benefit kinds, e.g. ``{ uforetrygd = 0.3,
    sosialhjelp = 0.5, none = 0.2 }``), drawn once per person and the same in both arms, so a
    benefit ending is never an effect. Where the rules count from an earlier start than referral,
    the limit is an assumption about time already used, stated beside it.

    ``share_of_wage`` (dagpenger): after losing a job, with earnings of at least
    ``qualifying_g`` G in the last 52 weeks (or ``qualifying_g_36`` G in the last 156), the level
    is that share of the larger of the last 52 weeks' earnings and the yearly average of the last
    156, up to ``cap_g`` G, for ``max_weeks`` (``short_weeks`` with less than ``long_period_g`` G
    in the last 52 weeks); ``nok_per_g`` converts wages to the level's unit (NOK per G in Norway; in
    a country whose levels are in its currency, 1).

    Levels are in the country's **base amount** per year: multiples of G in Norway's file
    (``sim/data/benefits.toml``), euros in Finland's (``sim/data/fi/benefits.toml``, base 1 EUR);
    the fiscal rules say which base and currency (:mod:`effekt.contracts.fiscal`, ``[money]``).
    ``role`` names the engine's rule a benefit plays, if any (:data:`BENEFIT_ROLES`): the benefit
    paid on a labour-market measure (``"on_measures"``) or after a lost job
    (``"after_job_loss"``, with ``share_of_wage``).
    """

    title: str
    title_nb: str = Field(default="", description=TITLE_NB)
    g: float = Field(ge=0, description="the level per year, in the country's base amount (multiples "
                     "of G in Norway)")
    role: Literal["on_measures", "after_job_loss"] | None = Field(
        default=None, description="the engine's rule this benefit plays: 'on_measures' (paid in a "
        "stage whose funding.benefit names it, Norway's tiltakspenger) or 'after_job_loss' (the "
        "earnings-related benefit after a lost job, Norway's dagpenger)")
    under25: float = Field(gt=0, description="factor for people under 25")
    max_weeks: float | None = _finite("weeks after referral at which the benefit ends", gt=0)
    then: dict[str, float] | None = Field(
        default=None, description="what the person goes on to when it ends: shares of benefit kinds")
    share_of_wage: float | None = _finite("dagpenger: share of the lost job's wage", gt=0, le=1)
    cap_g: float | None = _finite("dagpenger: the highest wage counted, in G", gt=0)
    qualifying_g: float | None = _finite("dagpenger: earnings in the last 52 weeks that qualify, G", ge=0)
    qualifying_g_36: float | None = _finite("dagpenger: or earnings in the last 156 weeks, G", ge=0)
    long_period_g: float | None = _finite("dagpenger: earnings for the long period, G", ge=0)
    short_weeks: float | None = _finite("dagpenger: the period below long_period_g, weeks", gt=0)
    nok_per_g: float | None = _finite("dagpenger: G in NOK, to convert the wage", gt=0)
    with_work: Literal["stops", "hours", "income"] = Field(
        default="stops", description="what the benefit does while the person is in a job the employer "
        "pays: 'stops' (none in a job), 'hours' (graded by the job's fte: g x (1 - fte), none above "
        "stop_above_fte) or 'income' (reduced by reduction_share of the year's earnings above free_g)")
    stop_above_fte: float | None = _finite("with_work = 'hours': none in a job above this fte", gt=0, le=1)
    free_g: float | None = _finite("with_work = 'income': earnings a year that reduce nothing, in G", ge=0)
    reduction_share: float | None = _finite("with_work = 'income': the benefit falls by this share of the "
                                            "earnings above free_g", gt=0, le=1)
    stop_above_g: float | None = _finite("with_work = 'income': none with earnings a year above this, "
                                         "in G", gt=0)
    subsidiary: bool = Field(
        default=False, description="a last resort that other income and benefits come before (Norway's "
        "sosialhjelp): the benefit after a lost job is paid even when this one is larger")
    source: str | None = None

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> Benefit:
        if (self.max_weeks is None) != (self.then is None) and self.share_of_wage is None:
            raise ValueError(said("max_weeks and then go together: when the benefit ends, and what "
                                  "the person goes on to (e.g. then = { sosialhjelp = 0.6, none = 0.4 })",
                                  "max_weeks og then hører sammen: når ytelsen slutter, og hva personen "
                                  "går over til (f.eks. then = { sosialhjelp = 0.6, none = 0.4 })"))
        if self.then is not None:
            kinds, where = benefit_kinds_of(info)
            _check_shares(self.then, kinds, "benefit kind (then)", where)
        if (self.role == "after_job_loss") != (self.share_of_wage is not None):
            raise ValueError(said("role = 'after_job_loss' and share_of_wage go together: the benefit after "
                                  "a lost job is a share of the lost wage (and a share_of_wage is only paid "
                                  "after a lost job)",
                                  "role = 'after_job_loss' og share_of_wage hører sammen: ytelsen etter "
                                  "tapt jobb er en andel av den tapte lønnen (og en share_of_wage betales "
                                  "bare etter tapt jobb)"))
        if self.share_of_wage is not None:
            missing = [k for k in ("max_weeks", "cap_g", "qualifying_g", "qualifying_g_36",
                                   "long_period_g", "short_weeks", "nok_per_g")
                       if getattr(self, k) is None]
            if missing:
                raise ValueError(said(f"a benefit with share_of_wage (dagpenger) needs {', '.join(missing)}",
                                      f"en ytelse med share_of_wage (dagpenger) trenger "
                                      f"{', '.join(missing)}"))
        self._work_rule()
        return self

    def _work_rule(self) -> None:
        """Each rule for work takes its own keys; the other rule's are refused, except with
        ``with_work = "stops"``, which ignores them (a scenario turns a rule off with one key)."""
        keys = {"stops": (), "hours": ("stop_above_fte",),
                "income": ("free_g", "reduction_share", "nok_per_g")}[self.with_work]
        missing = [k for k in keys if getattr(self, k) is None]
        if missing:
            raise ValueError(said(f"with_work = '{self.with_work}' needs {', '.join(missing)}: "
                                  + WORK_RULES[self.with_work],
                                  f"with_work = '{self.with_work}' trenger {', '.join(missing)}: "
                                  + WORK_RULES_NB[self.with_work]))
        own = {"stop_above_fte": "hours", "free_g": "income", "reduction_share": "income",
               "stop_above_g": "income"}
        stray = [k for k, rule in own.items() if getattr(self, k) is not None and rule != self.with_work]
        if stray and self.with_work != "stops":
            raise ValueError(said(f"{', '.join(stray)}: only with with_work = '{own[stray[0]]}' "
                                  f"(this benefit has with_work = '{self.with_work}')",
                                  f"{', '.join(stray)}: bare med with_work = '{own[stray[0]]}' (denne "
                                  f"ytelsen har with_work = '{self.with_work}')"))

    def in_work(self, g: float, fte: float, annual_wage: float) -> float:
        """The level (in the file's base amount a year) of this benefit, ``g`` out of work, while
        the person works ``fte`` of full time at ``annual_wage`` (a year at full time, in the
        currency): by :attr:`with_work`."""
        if self.with_work == "hours":
            return g * (1.0 - fte) if fte <= self.stop_above_fte else 0.0
        if self.with_work == "income":
            earned = annual_wage * fte / self.nok_per_g
            if self.stop_above_g is not None and earned > self.stop_above_g:
                return 0.0
            return max(0.0, g - self.reduction_share * max(0.0, earned - self.free_g))
        return 0.0


WORK_RULES = {
    "stops": "the benefit stops in a job",
    "hours": "graded by hours, g x (1 - fte) up to stop_above_fte (a share of full time), none above it "
             "(AAP: folketrygdloven § 11-23)",
    "income": "reduced by reduction_share of the earnings a year above free_g (in the file's base "
              "amount, converted from the wage by nok_per_g), not below 0, none above stop_above_g if "
              "given (uføretrygd: folketrygdloven § 12-14)",
}
"""What each ``with_work`` rule of :class:`Benefit` does (for messages and docs)."""

WORK_RULES_NB = {
    "stops": "ytelsen stopper i jobb",
    "hours": "graderes etter timer, g x (1 - fte) opp til stop_above_fte (en andel av full tid), ingen over "
             "det (AAP: folketrygdloven § 11-23)",
    "income": "reduseres med reduction_share av årsinntekten over free_g (i filens grunnbeløp, regnet om "
              "fra lønnen med nok_per_g), ikke under 0, ingen over stop_above_g om oppgitt (uføretrygd: "
              "folketrygdloven § 12-14)",
}
""":data:`WORK_RULES` in bokmål."""


class Benefits(Strict):
    """A benefits file: its kinds are the benefit kinds of the country (validate it with
    :func:`load_benefits`, which tells each benefit's ``then`` those kinds)."""

    benefits: dict[str, Benefit]

    @model_validator(mode="after")
    def _known(self) -> Benefits:
        for kind, b in self.benefits.items():
            missing = sorted(set(b.then or {}) - set(self.benefits))
            if missing:
                hints = "".join(suggest(k, list(self.benefits)) for k in missing)
                hints_nb = "".join(suggest(k, list(self.benefits), lang="nb") for k in missing)
                raise ValueError(said(f"{kind}.then: benefit kind(s) {missing}{hints} have no level in this "
                                      f"file; its kinds: {', '.join(self.benefits)}",
                                      f"{kind}.then: ytelsen {missing}{hints_nb} har ikke noe nivå i denne "
                                      f"filen; filens ytelser: {', '.join(self.benefits)}"))
        for role in BENEFIT_ROLES:
            having = [k for k, b in self.benefits.items() if b.role == role]
            if len(having) > 1:
                raise ValueError(said(f"role = '{role}' is given to {having}: one kind at most plays each "
                                      "rule of the engine",
                                      f"role = '{role}' er gitt til {having}: høyst én ytelse kan ha hver "
                                      "rolle i motoren"))
        return self


def benefits_problems(benefits: dict[str, Benefit], used: set[str] | None = None) -> list[str]:
    """What is wrong with a world's benefits as a whole, one line per problem naming the kind: a
    ``then`` naming a kind the world lacks, or a role given to two kinds. ``used``: kinds the
    world's groups and pathways name (each must have a level)."""
    out = []
    kinds = list(benefits)
    for kind, b in benefits.items():
        missing = sorted(set(b.then or {}) - set(kinds))
        if missing:
            out.append(keyed(f"benefits.{kind}.then", unknown_kinds(missing, tuple(kinds))))
    for role in BENEFIT_ROLES:
        having = [k for k, b in benefits.items() if b.role == role]
        if len(having) > 1:
            out.append(said(f"benefits: role = '{role}' is given to {having}; one kind at most plays it",
                            f"benefits: role = '{role}' er gitt til {having}; høyst én ytelse kan ha den"))
    return out


def benefit_with_role(benefits: dict[str, Benefit], role: str) -> tuple[str, Benefit] | tuple[None, None]:
    """The kind that plays ``role`` (:data:`BENEFIT_ROLES`) among ``benefits``, and its benefit;
    (None, None) when none does."""
    for kind, b in benefits.items():
        if b.role == role:
            return kind, b
    return None, None


def load_benefits(path: str | Path) -> dict[str, Benefit]:
    """A benefits file (kind -> its table, as ``sim/data/benefits.toml``) validated: its kinds are
    the country's, so a ``then`` may name any of them and nothing else. Problems raise
    :class:`effekt.specfile.SpecError` naming the file and the key."""
    path = Path(path)
    data = read_toml(path)
    try:
        return dict(Benefits.model_validate({"benefits": data}, context={
            KINDS_CONTEXT: tuple(data), "benefits_file": str(path)}).benefits)
    except ValidationError as err:
        raise SpecError(str(path), format_validation_error(Benefits, err)) from None


def load_target_groups(path: str | Path, kinds: tuple[str, ...],
                       benefits_file: str = "") -> dict[str, TargetGroup]:
    """A target-groups file (``[groups.<name>]`` tables, as ``sim/data/target_groups.toml``)
    validated against benefit ``kinds`` (those of the country's benefits file ``benefits_file``):
    a group naming a kind the file lacks is refused, naming both files. A group's business-as-usual
    pathway given as a file name (``*.toml``) is read in the file's folder."""
    from effekt.sim.world_data import _in_folder

    path = Path(path)
    data = read_toml(path)
    for g in (data.get("groups") or {}).values():
        ref = g.get("bau_pathway") if isinstance(g, dict) else None
        if ref is not None:
            g["bau_pathway"] = ({k: _in_folder(r, path.resolve().parent) for k, r in ref.items()}
                                if isinstance(ref, dict) else _in_folder(ref, path.resolve().parent))
    try:
        return dict(TargetGroups.model_validate(data, context={
            KINDS_CONTEXT: tuple(kinds), "benefits_file": benefits_file or "the benefits file"}).groups)
    except ValidationError as err:
        raise SpecError(str(path), format_validation_error(TargetGroups, err)) from None


def _data(name: str) -> Path:
    return (Path(__file__).resolve().parent / "data" / name)


@cache
def default_target_groups() -> dict[str, TargetGroup]:
    """The built-in target groups A, B, C, D and R."""
    return dict(load_spec(TargetGroups, _data("target_groups.toml")).groups)


@cache
def default_benefits() -> dict[str, Benefit]:
    """The built-in (Norwegian) benefits: levels in multiples of G (who pays them is a fiscal rule,
    ``contracts/data/fiscal.toml``)."""
    return load_benefits(_data("benefits.toml"))


class Cohort(Strict):
    """A kull, a repeating schedule of kull, or a referral stream.

    ``arrival = "together"`` (default): ``size`` people start together at ``start_week``. With
    ``repeats = K`` and ``repeat_every_weeks = N`` the kull repeats K times, N weeks apart (e.g. a
    kull of 14 twice a year: ``repeats = 6, repeat_every_weeks = 26``); the copies are named
    ``"<name> 1"``, ``"<name> 2"`` ... ``arrival = "poisson"``: a referral stream; ``size`` people
    arrive one at a time from ``start_week`` as a Poisson process of ``rate_per_week`` (exponential
    gaps); people who would arrive at or after the horizon are not simulated.

    ``stage`` starts the people in a named pathway stage instead of the pathway's entry: with
    ``start_week = 0`` that is an initial caseload already in the system when the simulation starts.
    ``elapsed_weeks`` says how long they have already been in that stage: their remaining time is
    drawn from the stage's duration given that it is longer than that, so a caseload half-way
    through a fixed 26-week placement has 13 weeks left; it must be shorter than the longest the
    stage can last (checked by :class:`effekt.sim.World`).
    """

    name: str
    start_week: float = Field(ge=0)
    size: int = Field(ge=1)
    groups: dict[str, float] = Field(min_length=1)
    arrival: Literal["together", "poisson"] = "together"
    rate_per_week: float | None = Field(default=None, gt=0)
    repeats: int = Field(default=1, ge=1)
    repeat_every_weeks: float | None = Field(default=None, gt=0)
    stage: str | None = None
    elapsed_weeks: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _mix(self) -> Cohort:
        if any(v < 0 for v in self.groups.values()):
            raise ValueError(said("group shares must not be negative",
                                  "gruppeandelene kan ikke være negative"))
        total = sum(self.groups.values())
        if abs(total - 1) > 1e-6:
            raise ValueError(said(f"group shares sum to {total:g}, not 1",
                                  f"gruppeandelene summerer til {nb_number(total)}, ikke 1"))
        if self.arrival == "poisson" and self.rate_per_week is None:
            raise ValueError(said("rate_per_week: needed with arrival = 'poisson' (referrals per week)",
                                  "rate_per_week: må oppgis med arrival = 'poisson' (henvisninger per uke)"))
        if self.arrival == "together" and self.rate_per_week is not None:
            raise ValueError(said("rate_per_week: only for arrival = 'poisson'; a kull arrives together",
                                  "rate_per_week: bare for arrival = 'poisson'; et kull starter samlet"))
        if self.elapsed_weeks > 0 and self.stage is None:
            raise ValueError(said("elapsed_weeks: only for a cohort that starts in a named 'stage'",
                                  "elapsed_weeks: bare for et kull som starter i et navngitt 'stage'"))
        if self.repeats > 1 and self.repeat_every_weeks is None:
            raise ValueError(said("repeat_every_weeks: needed when repeats > 1 (weeks between kull starts)",
                                  "repeat_every_weeks: må oppgis når repeats > 1 (uker mellom kullstartene)"))
        return self

    def starts(self) -> list[tuple[str, float]]:
        """(name, start week) of each kull in the schedule."""
        if self.repeats == 1:
            return [(self.name, self.start_week)]
        step = self.repeat_every_weeks or 0.0
        return [(f"{self.name} {k + 1}", self.start_week + k * step) for k in range(self.repeats)]

    @property
    def total_size(self) -> int:
        return self.size * self.repeats


@dataclass(slots=True)
class Person:
    """One simulated person. ``benefit_g`` is the prior benefit per year in the country's base amount
    (multiples of G in Norway)."""

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
    stage: str | None = None  # the stage the person starts in (None: the pathway's entry)
    elapsed: float = 0.0  # weeks already spent in that stage at entry (initial caseloads)
    employability: float = 0.0  # latent, standard normal (see TargetGroup.employability_sd)
    # (week, kind, base amounts a year): the benefit from then on
    changes: tuple[tuple[float, str, float], ...] = ()


MAX_BENEFIT_CHANGES = 8
"""How many times one person's benefit can end and become another (a chain of limits)."""


def ends_by_rule(benefit: Benefit) -> bool:
    """Whether ``benefit`` ends by its own rules into another drawn from shares (a ``max_weeks``
    with ``then`` shares, not a share of a wage): the condition of :func:`benefit_changes`, and the
    engine's reason to make the benefits random stream at all."""
    return benefit.max_weeks is not None and bool(benefit.then) and benefit.share_of_wage is None


def benefit_changes(kind: str, age: int, entry: float, benefits: dict[str, Benefit],
                    rng: np.random.Generator | None) -> tuple[tuple[float, str, float], ...]:
    """When a person's benefit ends by its rules and what it becomes: (week, kind, level in G).

    A benefit with ``max_weeks`` ends that long after referral (``entry``); the next kind is drawn
    from its ``then`` shares with one uniform from ``rng``, and may have a limit of its own. The
    result is a property of the person, the same in both arms."""
    out: list[tuple[float, str, float]] = []
    t, b = entry, benefits[kind]
    while ends_by_rule(b) and len(out) < MAX_BENEFIT_CHANGES:
        t += b.max_weeks
        kinds, cum = _cumulative(tuple(b.then.items()))
        u = rng.random() if rng is not None else 0.0
        kind = kinds[min(bisect_right(cum, u), len(kinds) - 1)]
        b = benefits[kind]
        out.append((t, kind, b.g * (b.under25 if age < 25 else 1.0)))
    return tuple(out)


class _BenefitRules:
    """What :func:`benefit_changes` reads of a country's benefits, by kind, for
    :func:`draw_people`: each kind's level (G a year, the factor under 25) and, for a kind that
    ends by its rules (:func:`ends_by_rule`), its limit and the inverse CDF of what follows it
    (in key order, :func:`_cumulative`). ``chains``: some kind that follows one ending by its
    rules ends by its rules too (a person may then draw more than once)."""

    __slots__ = ("level", "first", "chains")

    def __init__(self, benefits: dict[str, Benefit]):
        self.level = {k: (b.g, b.under25) for k, b in benefits.items()}
        self.first = {k: (b.max_weeks, *_cumulative(tuple(b.then.items())))
                      for k, b in benefits.items() if ends_by_rule(b)}
        self.chains = any(then in self.first for _, kinds, _ in self.first.values() for then in kinds)


_RULES: dict[tuple[tuple[str, int], ...], tuple[list[Benefit], _BenefitRules]] = {}


def _benefit_rules(benefits: dict[str, Benefit]) -> _BenefitRules:
    """:class:`_BenefitRules` of ``benefits``, remembered for the last 64 sets: a Monte Carlo
    batch draws with the same (frozen) benefits in every replication. Keyed by the kinds and
    the benefits' identities (the entry holds the benefits, so no id is reused while it lives):
    a ``benefits`` dict whose entries were replaced since is a new set. A Benefit is frozen, but
    its ``then`` is a plain dict: one changed in place is not seen (nothing in effekt does that;
    a changed benefit is a new Benefit, ``model_copy(update=...)``)."""
    key = tuple((k, id(b)) for k, b in benefits.items())
    hit = _RULES.get(key)
    if hit is not None:
        return hit[1]
    if len(_RULES) >= 64:
        _RULES.pop(next(iter(_RULES)))
    rules = _BenefitRules(benefits)
    _RULES[key] = (list(benefits.values()), rules)
    return rules


def _draw_changes(people: list[Person], rules: _BenefitRules, rng: np.random.Generator | None) -> None:
    """Set ``changes`` of ``people`` (in id order, each on a benefit that ends by its rules) as
    :func:`benefit_changes` would, one after the other, from ``rng``: where no benefit that
    follows one ending ends by its rules too (one draw a person), the uniforms are drawn in one
    call, the same numbers as one call each."""
    level, first = rules.level, rules.first
    if rng is None:
        us: list[float] | None = [0.0] * len(people)
    else:
        us = None if rules.chains else rng.random(len(people)).tolist()
    for k, p in enumerate(people):
        out: list[tuple[float, str, float]] = []
        t, kind, age = p.entry_week, p.benefit_kind, p.age
        rule = first.get(kind)
        while rule is not None and len(out) < MAX_BENEFIT_CHANGES:
            weeks, kinds, cum = rule
            t += weeks
            u = us[k] if us is not None else rng.random()
            kind = kinds[min(bisect_right(cum, u), len(kinds) - 1)]
            g, under25 = level[kind]
            out.append((t, kind, g * (under25 if age < 25 else 1.0)))
            rule = first.get(kind)
        p.changes = tuple(out)


@cache
def _cumulative(items: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float]]:
    """Keys and cumulative shares for inverse-CDF draws, **in key order**: who is drawn with
    which attribute does not depend on the order a file or a scenario lists the shares in (a
    results manifest stores its tree with sorted keys, and must rebuild the same people)."""
    items = tuple(sorted(items))
    keys = [k for k, _ in items]
    total = sum(v for _, v in items)
    cum, acc = [], 0.0
    for _, v in items:
        acc += v / total
        cum.append(acc)
    cum[-1] = 1.0
    return keys, cum


def _pick(rng: np.random.Generator, shares: dict[str, float], n: int) -> list[str]:
    """``n`` keys of ``shares`` drawn with those shares (inverse CDF, one uniform per draw)."""
    keys, cum = _cumulative(tuple(shares.items()))
    u = rng.random(n).tolist()
    if len(keys) == 1:
        return keys * n
    last = len(keys) - 1
    return [keys[min(bisect_right(cum, x), last)] for x in u]


class _GroupDraws:
    """What turns a person's uniforms into attributes of target group ``tg`` (inverse CDFs of
    its shares in key order, see :func:`_cumulative`; its age and work-capacity ranges)."""

    __slots__ = ("age_low", "age_span", "wc_low", "wc_span", "kinds", "kcum", "last_kind",
                 "levels", "lcum", "last_level", "edus", "ecum", "last_edu")

    def __init__(self, tg: TargetGroup):
        self.age_low = int(tg.age.low)
        self.age_span = int(tg.age.high) - int(tg.age.low) + 1
        self.wc_low, self.wc_span = tg.work_capacity.low, tg.work_capacity.high - tg.work_capacity.low
        self.kinds, self.kcum = _cumulative(tuple(tg.benefit.items()))
        self.levels, self.lcum = _cumulative(tuple(tg.norwegian.items()))
        self.edus, self.ecum = _cumulative(tuple(tg.education.items()))
        self.last_kind, self.last_level, self.last_edu = \
            len(self.kinds) - 1, len(self.levels) - 1, len(self.edus) - 1


_DRAWS: dict[int, tuple[TargetGroup, _GroupDraws]] = {}


def _group_draws(tg: TargetGroup) -> _GroupDraws:
    """:class:`_GroupDraws` of ``tg``, remembered for the last 64 groups: a Monte Carlo batch
    draws the people of the same (frozen) groups in every replication. The entry holds ``tg``
    itself, so its id is not reused while the entry lives, and a hit is checked to be it."""
    hit = _DRAWS.get(id(tg))
    if hit is not None and hit[0] is tg:
        return hit[1]
    if len(_DRAWS) >= 64:
        _DRAWS.pop(next(iter(_DRAWS)))
    d = _GroupDraws(tg)
    _DRAWS[id(tg)] = (tg, d)
    return d


def draw_people(
    cohorts: list[Cohort],
    groups: dict[str, TargetGroup],
    benefits: dict[str, Benefit],
    rng: np.random.Generator,
    arrivals: np.random.Generator | None = None,
    horizon: float = math.inf,
    employability: np.random.Generator | None = None,
    benefit_rules: np.random.Generator | None = None,
) -> list[Person]:
    """Draw everyone in ``cohorts``; ids run from 0 in cohort (then schedule) order.

    Attributes come from ``rng``, drawn in bulk per kull: first everyone's group, then for each
    group in the order of the cohort's mix one uniform per person and attribute (age, benefit,
    Norwegian level, education, work capacity), turned into values by inverse CDF; the arrival
    times of referral streams come from ``arrivals`` (so adding a
    referral stream never changes the arrival times of anyone else), and each person's latent
    employability from ``employability`` (one standard normal per person in id order, drawn for
    every kull whoever is in it; 0 without the stream), and when their benefit ends by its
    rules from ``benefit_rules`` (:func:`benefit_changes`, in id order). People arriving at or
    after ``horizon`` are left out.
    """
    people: list[Person] = []
    next_id = 0
    rules = _benefit_rules(benefits)
    level = rules.level
    for cohort in cohorts:
        unknown = sorted(set(cohort.groups) - set(groups))
        if unknown:
            raise ValueError(said(
                f"cohort '{cohort.name}': unknown target group(s) {unknown}; "
                f"known: {', '.join(sorted(groups))}",
                f"kull '{cohort.name}': ukjent målgruppe {unknown}; "
                f"kjente: {', '.join(sorted(groups))}"))
        n = cohort.size
        keys, cum = _cumulative(tuple(cohort.groups.items()))  # the groups in key order
        drawn = [(g, _group_draws(groups[g])) for g in keys]
        last = len(keys) - 1
        for name, start in cohort.starts():
            if cohort.arrival == "poisson":
                if arrivals is None:
                    raise ValueError("a referral stream needs an 'arrivals' random stream")
                gaps = arrivals.exponential(1.0 / (cohort.rate_per_week or 1.0), n)
                entries = (start + np.cumsum(gaps)).tolist()
            else:
                entries = [float(start)] * n
            # everyone's group (one uniform each, as _pick), then five uniforms per person of each
            # group in turn: one call for both, the same numbers as one call for each
            u = rng.random(6 * n).tolist()
            who = keys * n if len(keys) == 1 else [keys[min(bisect_right(cum, x), last)] for x in u[:n]]
            members: dict[str, list[int]] = {g: [] for g in keys}
            for i, g in enumerate(who):
                members[g].append(i)
            zs = employability.standard_normal(n).tolist() if employability is not None else [0.0] * n
            batch: list[Person | None] = [None] * n
            pos = n
            for g, d in drawn:
                idx = members[g]
                if not idx:
                    continue
                mine = iter(u[pos:pos + 5 * len(idx)])
                pos += 5 * len(idx)
                # one uniform per attribute and person: age, benefit, Norwegian, education, capacity
                fives = zip(mine, mine, mine, mine, mine, strict=True)
                for i, (ua, ub, un, ue, uw) in zip(idx, fives, strict=True):
                    age = d.age_low + min(int(ua * d.age_span), d.age_span - 1)
                    kind = d.kinds[min(bisect_right(d.kcum, ub), d.last_kind)]
                    g_level, under25 = level[kind]
                    batch[i] = Person(next_id + i, name, g, age,
                                      d.levels[min(bisect_right(d.lcum, un), d.last_level)],
                                      d.edus[min(bisect_right(d.ecum, ue), d.last_edu)],
                                      d.wc_low + uw * d.wc_span, kind,
                                      g_level * (under25 if age < 25 else 1.0), entries[i],
                                      cohort.stage, cohort.elapsed_weeks, zs[i])
            # in id order; only a benefit that ends by its rules draws (benefit_changes says how)
            changing = [p for p in batch if p is not None and p.benefit_kind in rules.first]
            if changing:
                _draw_changes(changing, rules, benefit_rules)
            next_id += n
            people.extend(p for p in batch if p is not None and p.entry_week < horizon)
    return people
