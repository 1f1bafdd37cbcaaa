"""Pathways as data: a graph of stages read from a TOML file.

A pathway says, for one qualification programme, which stages a person passes (interview, course,
work training, temporary job ...), how long each takes, which competing exits it has and with what
probability, which stages need capacity (placement slots, mentors), who pays during each stage and
what it costs. The simulation engine walks this graph; it contains no programme-specific code, so a
user adds a pathway by writing a file.

Conventions
-----------
* Durations are in weeks; money is in the country's currency (NOK for Norway's pathways) at the
  scenario's price year.
* ``exits`` are competing destinations with probabilities; the remaining probability goes to
  ``next``. A stage without ``next`` is terminal: an ``employment`` stage hands the person to the
  labour market in that job, an ``exit`` stage hands them on without one (or out of sight, for
  ``outcome = "moved"``).
* An exit probability can depend on the person. ``group_multiplier`` scales it for people of a
  target group (capped at 1). ``logistic`` shifts it on the log-odds scale by coefficients on
  person attributes measured from a reference person (see :data:`LOGISTIC_TERMS`): ``p`` is then the
  probability for the reference person. When a person's exits sum over 1 they are scaled down
  proportionally. A stage without ``next`` must leave every person's exits summing to 1, so there it
  allows no ``logistic`` terms and no ``group_multiplier`` that lowers a group's sum below 1 (the
  file is refused at load, naming the exit).
* An exit may lead back to an earlier stage or to the stage itself (an exam retake, a repeated
  course). ``limit`` caps how often one person can take it; after that the person goes to
  ``otherwise`` instead. Cycles are allowed as long as every stage can reach a terminal stage
  through exits of positive probability.
* ``capacity`` names one resource or a list (``["placements", "mentors"]``); a person holds one
  unit of each for the whole stage, acquired in the order the resources are declared.
* Leaving a pathway (through an ``exit`` stage, or an ``employment`` stage that ends it) returns
  the person to **business as usual**: the target group's ``bau_entry_rate`` and
  ``bau_job_loss_rate``, the same hazards as the control arm, so a programme has no effect it does
  not earn. A stage's ``after`` states what the pathway changes there (work experience, a
  qualification): ``after = { entry_rate_multiplier = 1.5, job_loss_multiplier = 0.8 }`` scales
  those hazards for the rest of the horizon, with its source or the word assumption beside it.
  The job an employment stage gives is kept with the group's job-loss hazard times that job's
  ``job_loss_multiplier``; ``after`` applies once it is lost.
* ``funding`` says who pays the person during the stage (benefit continues or stops, wage payer,
  wage subsidy such as NAV's lønnstilskudd, whether the integration grant finances it) and
  ``costs`` what the stage costs per person, per week and per cohort, and who pays. Both are
  recorded on the ``spells`` table (see :mod:`effekt.sim.records`) for ``contracts`` to price; a
  per-cohort cost is charged on the spell of the first person of a kull to enter the stage
  (``cost_cohort``). A wage subsidy by NAV's rules (``funding.subsidy``) steps down and ends as
  those rules say, counted from the start of the subsidised job.
"""

from __future__ import annotations

import math
from collections import deque
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from effekt import lazy
from effekt.sim.distributions import Duration
from effekt.specfile import (
    SpecError,
    Strict,
    checked_before,
    joined,
    keyed,
    load_spec,
    mark_checked,
    nb_number,
    said,
)
from effekt.titles import TITLE_NB

np = lazy.module("numpy", globals())  # on first use: checking a pathway needs no numpy (issue 14)

def _new_list() -> list:
    """A new empty list, the default of a list field: a Python function, not the builtin ``list``,
    whose signature pydantic reads from its text with ``tokenize`` at each field (~1.4 ms each
    when a run's models are built, issue 14; ``dict``'s is refused at once)."""
    return []


StageKind = Literal[
    "screening",
    "course",
    "practice",
    "placement",
    "language",
    "exam",
    "job_search",
    "education",
    "project_position",
    "employment",
    "exit",
]
EMPLOYED_KINDS = ("employment", "project_position")

Payer = Literal["kommune", "nav", "state", "employer", "provider", "investor"]
"""Parties that can pay a wage, a subsidy or a cost. ``nav`` is the state's labour and welfare
administration (lønnstilskudd, AAP); ``employer`` is an ordinary employer outside the contract."""

LogisticTerm = Literal["age", "norwegian", "work_capacity", "higher_education", "employability"]
LOGISTIC_TERMS: dict[str, str] = {
    "age": "years above 30",
    "norwegian": "CEFR steps above B1 (A1=-2, A2=-1, B1=0, B2=1, C1=2, native=3)",
    "work_capacity": "work capacity minus 1.0 (so -0.5 for half capacity)",
    "higher_education": "1 with higher education (recognised or not), else 0",
    "employability": "the person's latent employability (standard normal; what drives their "
                     "business-as-usual chances and is not observed: a screening that uses it "
                     "cream-skims)",
}
"""The person attributes a ``logistic`` exit can use, and how each is measured from the reference
person (30 years old, Norwegian at B1, full work capacity, no higher education)."""



class Exit(Strict):
    """A competing exit from a stage."""

    to: str
    p: float = Field(ge=0, le=1, description="probability of taking this exit (reference person)")
    group_multiplier: dict[str, float] = Field(default_factory=dict)
    logistic: dict[LogisticTerm, float] = Field(
        default_factory=dict, description="log-odds change per unit of each person attribute"
    )
    limit: int | None = Field(
        default=None, ge=0, description="how many times one person can take this exit"
    )
    otherwise: str | None = Field(
        default=None, description="where a person goes instead once the limit is used up"
    )
    source: str | None = None

    @model_validator(mode="after")
    def _limit(self) -> Exit:
        if (self.limit is None) != (self.otherwise is None):
            raise ValueError(said("'limit' and 'otherwise' go together: say how often, and where to go after",
                                  "'limit' og 'otherwise' hører sammen: si hvor mange ganger, og hvor "
                                  "personen går etterpå"))
        if any(m < 0 for m in self.group_multiplier.values()):
            raise ValueError(said("group_multiplier values must not be negative",
                                  "verdiene i group_multiplier kan ikke være negative"))
        return self


class Employment(Strict):
    """The job a person holds during an employment stage (and keeps, if the stage is terminal)."""

    contract: Literal["temporary", "permanent", "project"]
    # strict: a boolean or a string is refused, not converted (true would read as 1.0)
    fte: float = Field(gt=0, le=1, strict=True, allow_inf_nan=False)
    annual_wage: float = Field(ge=0, strict=True, allow_inf_nan=False,
                               description="NOK per year at full time")
    job_loss_multiplier: float = Field(
        default=1.0, ge=0, strict=True, allow_inf_nan=False,
        description="scales the group's business-as-usual job-loss hazard while the person keeps "
        "this job after the pathway (a job more stable than business as usual); 0: never lost")
    source: str | None = None


def _positive(description: str) -> Any:
    """A strictly positive, finite multiplier; booleans and strings are refused, not converted."""
    return Field(default=1.0, gt=0, allow_inf_nan=False, strict=True, description=description)


class After(Strict):
    """What a person takes out of the pathway through this stage: the pathway's stated effect on
    the business-as-usual labour market the person returns to, for the rest of the horizon.

    Without ``after`` (or with both multipliers 1) leaving returns the person to exactly the
    process of the control arm. Each number needs its source, or the word assumption, beside it in
    the file, as every number in a pathway file does.
    """

    entry_rate_multiplier: float = _positive(
        "scales the group's business-as-usual hazard of finding work while out of work")
    job_loss_multiplier: float = _positive(
        "scales the group's business-as-usual job-loss hazard in jobs found afterwards")
    source: str | None = None

    @property
    def multipliers(self) -> tuple[float, float]:
        """(entry_rate_multiplier, job_loss_multiplier)."""
        return (self.entry_rate_multiplier, self.job_loss_multiplier)


NO_EFFECT = After()
"""Leaving with nothing stated: back to business as usual, both multipliers 1."""


class SubsidyStep(Strict):
    """One step of a wage subsidy: ``share`` of the wage cost for ``weeks``."""

    weeks: float = Field(gt=0, strict=True, allow_inf_nan=False)
    share: float = Field(ge=0, le=1, strict=True, allow_inf_nan=False)


class SubsidyRule(Strict):
    """A wage subsidy by its rules (``sim/data/subsidies.toml``): the share of the wage cost the
    payer reimburses, step by step from the start of the subsidised job; none after the last step."""

    title: str
    title_nb: str = Field(default="", description=TITLE_NB)
    payer: Payer = "nav"
    steps: list[SubsidyStep] = Field(min_length=1)
    source: str | None = None


class SubsidyRules(Strict):
    subsidies: dict[str, SubsidyRule]


@cache
def default_subsidies() -> dict[str, SubsidyRule]:
    """The wage-subsidy rules (``sim/data/subsidies.toml``), by name."""
    from effekt.specfile import read_toml, validate

    path = Path(__file__).resolve().parent / "data" / "subsidies.toml"
    rules = validate(SubsidyRules, {"subsidies": read_toml(path)}, str(path), priors_drawn=False)
    return dict(rules.subsidies)


class Funding(Strict):
    """Who pays the person during a stage.

    By default a person keeps the prior benefit in non-employment stages and the employer pays the
    wage (no benefit) in employment stages; ``benefit = "on_measures"`` pays the country's benefit
    on labour-market measures instead of the prior benefit (the kind whose role is
    ``on_measures`` in the benefits file: Norway's tiltakspenger, so ``benefit = "tiltakspenger"``
    says the same in Norway; the world checks that the kind named plays that role). ``subsidy``
    names a wage subsidy by its
    rules (``sim/data/subsidies.toml``: NAV's midlertidig lønnstilskudd is 40 % of the wage cost for
    six months, then 30 %, at most a year), counted from the start of the subsidised job, also
    while the person keeps the job after the pathway; ``subsidy_share`` is a flat share without a
    limit (for programmes outside NAV's rules), reimbursed by ``subsidy_payer``.
    """

    benefit: str | None = Field(
        default=None, description="'continues', 'stops', or 'on_measures' (or the name of the kind "
        "that plays that role in the country's benefits file, e.g. 'tiltakspenger'): the benefit on "
        "a labour-market measure instead of the prior benefit")
    wage_payer: Payer | None = None
    subsidy: str | None = None
    subsidy_payer: Payer | None = None
    subsidy_share: float = Field(default=0.0, ge=0, le=1)
    integration_grant: bool = Field(
        default=False, description="the stage is financed from the kommune's integration grant"
    )
    source: str | None = None

    @property
    def pays_on_measures(self) -> bool:
        """The stage pays the benefit on labour-market measures instead of the prior benefit."""
        return self.benefit not in (None, "continues", "stops")

    @model_validator(mode="after")
    def _subsidy(self) -> Funding:
        if self.benefit is not None and not self.benefit.replace("_", "").isalnum():
            raise ValueError(said(
                f"benefit: '{self.benefit}'; allowed: 'continues', 'stops', 'on_measures' or "
                "the benefit kind that plays that role (Norway: 'tiltakspenger')",
                f"benefit: '{self.benefit}'; tillatt: 'continues', 'stops', 'on_measures' eller "
                "ytelsen som har den rollen (Norge: 'tiltakspenger')"))
        if self.subsidy is not None:
            rules = default_subsidies()
            if self.subsidy not in rules:
                raise ValueError(said(
                    f"subsidy: no wage-subsidy rule named '{self.subsidy}'; known: "
                    f"{', '.join(sorted(rules))} (sim/data/subsidies.toml)",
                    f"subsidy: ingen lønnstilskuddsregel heter '{self.subsidy}'; kjente: "
                    f"{', '.join(sorted(rules))} (sim/data/subsidies.toml)"))
            if self.subsidy_share:
                raise ValueError(said("subsidy and subsidy_share: give one; the rule's steps say the share",
                                      "subsidy og subsidy_share: oppgi bare én; regelens trinn gir andelen"))
        if self.subsidy_share > 0 and self.subsidy_payer is None:
            raise ValueError(said("a subsidy_share needs a subsidy_payer (e.g. 'nav')",
                                  "en subsidy_share trenger en subsidy_payer (f.eks. 'nav')"))
        return self

    @property
    def subsidy_rule(self) -> SubsidyRule | None:
        return default_subsidies()[self.subsidy] if self.subsidy is not None else None


class Costs(Strict):
    """What a stage costs, in the country's currency (NOK in Norway): once per person entering it, per
    person-week, once per cohort."""

    per_person: float = Field(default=0.0, ge=0)
    per_week: float = Field(default=0.0, ge=0)
    per_cohort: float = Field(default=0.0, ge=0)
    per_cohort_weeks: float = Field(
        default=0.0, ge=0, strict=True, allow_inf_nan=False,
        description="spread the per-cohort cost evenly over this many weeks from the kull's first "
        "entry (staff engaged for the project's length); 0: all at once")
    payer: Payer = "provider"
    source: str | None = None


class Stage(Strict):
    """One stage of a pathway. Consistency across keys is checked by :class:`Pathway`, which
    knows the stage's name and so can name the exact key in its messages."""

    kind: StageKind
    title: str = ""
    title_nb: str = Field(default="", description=TITLE_NB)
    duration: Duration | None = None
    exits: list[Exit] = Field(default_factory=_new_list)
    next: str | None = None
    capacity: str | list[str] | None = None
    employment: Employment | None = None
    funding: Funding = Funding()
    costs: Costs = Costs()
    outcome: Literal["not_employed", "moved"] | None = None
    after: After | None = Field(
        default=None, description="the pathway's stated effect on the labour market after leaving "
        "through this stage (exit stages, and employment stages that end the pathway)")
    benefit_after: dict[str, float] | None = Field(
        default=None, description="business-as-usual pathways only: what the person's benefit "
        "becomes on leaving through this stage (shares of benefit kinds, e.g. { sosialhjelp = 0.5, "
        "none = 0.5 } when the introduction programme ends), drawn once; for a final job, the "
        "benefit once it is lost")
    source: str | None = None

    @property
    def terminal(self) -> bool:
        return self.kind == "exit" or (self.next is None and not self.exits)

    @property
    def resources(self) -> tuple[str, ...]:
        """The capacities this stage needs one unit of each (maybe none)."""
        if self.capacity is None:
            return ()
        return (self.capacity,) if isinstance(self.capacity, str) else tuple(self.capacity)

    def problems(self) -> list[tuple[str, str]]:
        """(key, message) for every inconsistency between this stage's keys."""
        out: list[tuple[str, str]] = []
        if self.benefit_after is not None:
            # the kinds are the world's (its benefits file): effekt.sim.World checks them
            if not self.terminal or self.outcome == "moved":
                out.append(("benefit_after", said(
                    "only a stage through which a person leaves business as usual takes 'benefit_after'",
                    "bare et trinn der en person forlater vanlig oppfølging kan ha 'benefit_after'")))
            total = sum(self.benefit_after.values())
            if any(v < 0 for v in self.benefit_after.values()) or abs(total - 1) > 1e-6:
                out.append(("benefit_after", said(
                    f"shares must be non-negative and sum to 1 (they sum to {total:g})",
                    f"andelene må være ikke-negative og summere til 1 (summen er {nb_number(total)})")))
        if self.kind == "exit":
            for key in ("duration", "next", "capacity", "employment"):
                if getattr(self, key):
                    out.append((key, said("an exit stage takes no duration, exits, next, capacity or "
                                          "employment; it only says its outcome",
                                          "et utgangstrinn har ingen duration, exits, next, capacity "
                                          "eller employment; det sier bare sitt outcome")))
            if self.exits:
                out.append(("exits", said("an exit stage has no exits of its own",
                                          "et utgangstrinn har ingen egne exits")))
            if self.outcome is None:
                out.append(("outcome", said("an exit stage needs outcome = 'not_employed' or 'moved'",
                                            "et utgangstrinn trenger outcome = 'not_employed' eller "
                                            "'moved'")))
            if self.outcome == "moved" and self.after is not None:
                out.append(("after", said("a 'moved' exit leaves the person out of sight, so nothing "
                                          "happens after it; 'after' is for outcome = 'not_employed'",
                                          "etter en 'moved'-utgang er personen ute av syne, så ingenting "
                                          "skjer etterpå; 'after' er for outcome = 'not_employed'")))
            return out
        if self.after is not None and not self.terminal:
            out.append(("after", said("only a stage through which a person leaves the pathway takes "
                                      "'after': an exit stage, or an employment stage without next and "
                                      "exits; put it on the exit stage this stage leads to",
                                      "bare et trinn der en person forlater forløpet kan ha 'after': et "
                                      "utgangstrinn, eller et jobbtrinn uten next og exits; sett det på "
                                      "utgangstrinnet dette trinnet leder til")))
        if self.duration is None and not self.terminal:
            out.append(("duration", said(f"a {self.kind} stage needs a duration (weeks), e.g. "
                                         "{ dist = \"fixed\", value = 4 }",
                                         f"et {self.kind}-trinn trenger en duration (uker), f.eks. "
                                         "{ dist = \"fixed\", value = 4 }")))
        if self.terminal and self.kind not in EMPLOYED_KINDS:
            out.append(("next", said(f"a {self.kind} stage needs a 'next' stage or exits; only "
                                     "employment and exit stages can end a pathway",
                                     f"et {self.kind}-trinn trenger et 'next'-trinn eller exits; bare "
                                     "jobb- og utgangstrinn kan avslutte et forløp")))
        if self.outcome is not None:
            out.append(("outcome", said("only exit stages have an outcome",
                                        "bare utgangstrinn har et outcome")))
        if self.kind in EMPLOYED_KINDS and self.employment is None:
            out.append(("employment", said(f"a {self.kind} stage needs an [employment] table",
                                           f"et {self.kind}-trinn trenger en [employment]-tabell")))
        if self.kind not in EMPLOYED_KINDS and self.employment is not None:
            out.append(("employment", said(f"a {self.kind} stage cannot have an employment table "
                                           f"(only {', '.join(EMPLOYED_KINDS)})",
                                           f"et {self.kind}-trinn kan ikke ha en employment-tabell "
                                           f"(bare {', '.join(EMPLOYED_KINDS)})")))
        if self.employment is None and (self.funding.wage_payer or self.funding.subsidy_share
                                        or self.funding.subsidy):
            out.append(("funding", said("wage_payer and subsidy_share need a wage: only stages with "
                                        "an [employment] table pay one",
                                        "wage_payer og subsidy_share trenger en lønn: bare trinn med "
                                        "en [employment]-tabell betaler lønn")))
        total = sum(e.p for e in self.exits)
        if total > 1 + 1e-9:
            ps = ", ".join(f"{e.to}={e.p:g}" for e in self.exits)
            ps_nb = ", ".join(f"{e.to}={nb_number(e.p)}" for e in self.exits)
            out.append(("exits", said(f"probabilities sum to {total:g} ({ps}); they must sum to at most 1, "
                                      "the rest goes to 'next'",
                                      f"sannsynlighetene summerer til {nb_number(total)} ({ps_nb}); de kan "
                                      "summere til høyst 1, resten går til 'next'")))
        if self.next is None and self.exits and total < 1 - 1e-9:
            out.append(("exits", said(f"probabilities sum to {total:g} < 1 and there is no 'next' stage "
                                      "for the rest",
                                      f"sannsynlighetene summerer til {nb_number(total)} < 1, og det "
                                      "finnes ikke noe 'next'-trinn for resten")))
        elif self.next is None and self.exits:
            out.extend(self._shortfalls())
        res = self.resources
        if len(set(res)) != len(res):
            out.append(("capacity", said("names a resource twice", "nevner en ressurs to ganger")))
        return out

    def _shortfalls(self) -> list[tuple[str, str]]:
        """Exits of a stage without ``next`` that could leave a person's exits summing below 1.

        Without ``next`` nobody can go anywhere else, so every person's exit probabilities must
        still sum to 1: a ``logistic`` term can lower any exit, and a ``group_multiplier`` below 1
        lowers it for that group unless other multipliers make up for it.
        """
        out: list[tuple[str, str]] = []
        for i, e in enumerate(self.exits):
            if any(b != 0 for b in e.logistic.values()):
                out.append((f"exits[{i}].logistic", said(
                    "a logistic exit can push a person's exits below 1, and this stage has no 'next' for "
                    "the rest; add a 'next' stage (and lower the other exits)",
                    "en logistisk utgang kan gjøre at en persons utganger summerer til under 1, og dette "
                    "trinnet har ikke noe 'next' for resten; legg til et 'next'-trinn (og senk de andre "
                    "utgangene)")))
        for g in sorted({g for e in self.exits for g in e.group_multiplier}):
            ps = [min(1.0, e.p * e.group_multiplier.get(g, 1.0)) for e in self.exits]
            total = sum(ps)
            if total < 1 - 1e-9:
                i = next(i for i, e in enumerate(self.exits) if e.group_multiplier.get(g, 1.0) < 1)
                shown = ", ".join(f"{e.to}={q:g}" for e, q in zip(self.exits, ps, strict=True))
                shown_nb = ", ".join(f"{e.to}={nb_number(q)}" for e, q in zip(self.exits, ps, strict=True))
                out.append((f"exits[{i}].group_multiplier", said(
                    f"for group {g} the exits sum to {total:g} < 1 ({shown}) and this stage "
                    "has no 'next' for the rest; add a 'next' stage or raise the other "
                    "exits' multipliers for that group",
                    f"for gruppen {g} summerer utgangene til {nb_number(total)} < 1 ({shown_nb}), og "
                    "trinnet har ikke noe 'next' for resten; legg til et 'next'-trinn eller øk de andre "
                    "utgangenes multiplikatorer for gruppen")))
        return out


class Capacity(Strict):
    """A limited resource that a stage needs one unit of: placement slots, class seats, mentors."""

    slots: int = Field(ge=1)
    title: str = ""
    title_nb: str = Field(default="", description=TITLE_NB)
    source: str | None = None


class PathwayInfo(Strict):
    name: str
    title: str
    title_nb: str = Field(default="", description=TITLE_NB)
    source: str
    entry: str
    description: str = ""
    description_nb: str = Field(default="", description="the description in Norwegian bokmål, shown in "
                                "nb; description is the English one (effekt.titles.description)")


class Pathway(Strict):
    """A validated stage graph."""

    pathway: PathwayInfo
    stages: dict[str, Stage] = Field(min_length=1)
    capacity: dict[str, Capacity] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _graph(self) -> Pathway:
        # One problem per line, each starting with its dotted key (effekt.specfile splits them).
        if checked_before(self):  # a validated pathway given to a world: pydantic checks it again
            return self
        problems = [keyed(f"stages.{n}.{k}", m) for n, st in self.stages.items() for k, m in st.problems()]
        if problems:
            raise ValueError(joined("\n", problems))
        names = set(self.stages)
        known = ", ".join(sorted(names))
        if self.pathway.entry not in names:
            problems.append(said(f"pathway.entry: no stage named '{self.pathway.entry}' (stages: {known})",
                                 f"pathway.entry: ingen trinn heter '{self.pathway.entry}' (trinn: {known})"))
        for name, st in self.stages.items():
            for i, ex in enumerate(st.exits):
                if ex.to not in names:
                    problems.append(said(
                        f"stages.{name}.exits[{i}].to: no stage named '{ex.to}' (stages: {known})",
                        f"stages.{name}.exits[{i}].to: ingen trinn heter '{ex.to}' (trinn: {known})"))
                if ex.otherwise is not None and ex.otherwise not in names:
                    problems.append(said(
                        f"stages.{name}.exits[{i}].otherwise: no stage named '{ex.otherwise}' "
                        f"(stages: {known})",
                        f"stages.{name}.exits[{i}].otherwise: ingen trinn heter '{ex.otherwise}' "
                        f"(trinn: {known})"))
            if st.next is not None and st.next not in names:
                problems.append(said(f"stages.{name}.next: no stage named '{st.next}' (stages: {known})",
                                     f"stages.{name}.next: ingen trinn heter '{st.next}' (trinn: {known})"))
            for r in st.resources:
                if r not in self.capacity:
                    problems.append(said(
                        f"stages.{name}.capacity: no capacity named '{r}' "
                        f"(declared: {', '.join(sorted(self.capacity)) or 'none'}; "
                        f"add a [capacity.{r}] table with slots = N)",
                        f"stages.{name}.capacity: ingen kapasitet heter '{r}' "
                        f"(oppgitt: {', '.join(sorted(self.capacity)) or 'ingen'}; "
                        f"legg til en [capacity.{r}]-tabell med slots = N)"))
        if problems:
            raise ValueError(joined("\n", problems))
        reachable = self._reachable_from(self.pathway.entry, positive=False)
        for n in sorted(names - reachable):
            problems.append(said(f"stages.{n}: not reachable from the entry stage '{self.pathway.entry}'",
                                 f"stages.{n}: kan ikke nås fra starttrinnet '{self.pathway.entry}'"))
        for n in sorted(reachable):
            if not any(self.stages[m].terminal for m in self._reachable_from(n, positive=True)):
                problems.append(said(
                    f"stages.{n}: no path of positive probability leads out of it to an employment "
                    "or exit stage (a cycle without exit); give the loop an exit with p > 0 or a limit",
                    f"stages.{n}: ingen vei med positiv sannsynlighet leder herfra til et jobb- eller "
                    "utgangstrinn (en sløyfe uten utgang); gi sløyfen en utgang med p > 0 eller en limit"))
        problems += self._timeless_loops()
        if problems:
            raise ValueError(joined("\n", problems))
        mark_checked(self)
        return self

    def _timeless_loops(self, most_rounds: float = 1000.0) -> list[str]:
        """A loop of stages in which no time passes (every stage on it lasts 0 weeks on average)
        goes round at one instant until a person leaves it: refused when a person would take more
        than ``most_rounds`` steps in it on average (a tiny chance to leave spins in place, since
        the clock never reaches the horizon). The loops are the strongly connected parts of the
        stage graph (Tarjan's algorithm); the expected steps are an absorbing Markov chain's,
        (I - Q)^-1 1 over the loop's stages, at the exits' reference probabilities."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on: set[str] = set()
        loops: list[list[str]] = []

        def visit(v: str) -> None:
            index[v] = low[v] = len(index)
            stack.append(v)
            on.add(v)
            for w in self.successors(v):
                if w not in index:
                    visit(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                part = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    part.append(w)
                    if w == v:
                        break
                if len(part) > 1 or v in self.successors(v):
                    loops.append(sorted(part))

        for v in self.stages:
            if v not in index:
                visit(v)

        def timeless(name: str) -> bool:
            d = self.stages[name].duration
            return d is None or d.mean <= 0

        problems = []
        for loop in loops:
            if not all(timeless(n) for n in loop):
                continue
            at = {n: i for i, n in enumerate(loop)}
            q = np.zeros((len(loop), len(loop)))
            for n in loop:
                st = self.stages[n]
                for e in st.exits:
                    if e.to in at:
                        q[at[n], at[e.to]] += e.p
                rest = 1.0 - sum(e.p for e in st.exits)
                if st.next in at and rest > 0:
                    q[at[n], at[st.next]] += rest
            try:
                steps = float(np.linalg.solve(np.eye(len(loop)) - q, np.ones(len(loop))).max())
            except np.linalg.LinAlgError:
                steps = math.inf
            if not math.isfinite(steps) or steps > most_rounds:
                huge = not math.isfinite(steps) or steps > 1e12
                shown = "more than 10^12" if huge else f"{steps:,.0f}"
                shown_nb = "mer enn 10^12" if huge else f"{steps:,.0f}".replace(",", "\u00a0")
                problems.append(said(
                    f"stages.{loop[0]}: the loop {' -> '.join(loop)} takes no time (every stage on it "
                    f"lasts 0 weeks) and a person goes round it {shown} times on average before "
                    "leaving, all at the same moment; give a stage of the loop a duration, or its "
                    "exits out more probability",
                    f"stages.{loop[0]}: sløyfen {' -> '.join(loop)} tar ingen tid (hvert trinn i den "
                    f"varer 0 uker), og en person går rundt {shown_nb} ganger i snitt før hen kommer "
                    "ut, alt i samme øyeblikk; gi et trinn i sløyfen en duration, eller gi utgangene "
                    "ut av den mer sannsynlighet"))
        return problems

    def successors(self, name: str, positive: bool = False) -> list[str]:
        """Stages a person can go to from ``name`` (only by positive probability if ``positive``).

        An exit with a ``limit`` can always lead on to its ``otherwise`` stage.
        """
        st = self.stages[name]
        out = []
        for e in st.exits:
            if not positive or e.p > 0:
                out.append(e.to)
            if e.otherwise is not None:
                out.append(e.otherwise)
        if st.next is not None and (not positive or sum(e.p for e in st.exits) < 1 - 1e-12):
            out.append(st.next)
        return out

    def stage_order(self, exits: bool = True) -> dict[str, int]:
        """Every stage in the order a person meets it, with its number of steps from the entry.

        Breadth first from the entry along :meth:`successors` (a stage's exits in the order they
        are written, each followed by its ``otherwise``, then ``next``), so a stage's depth is the
        fewest steps that reach it and stages a person meets early come first. The ``exit`` stages
        (the ends without a job) follow all the others, in the same order; ``exits=False`` leaves
        them out. This is the one order in which the stages are shown (``effekt pathways show``,
        the report's funnel). Every stage is reachable from the entry (checked at load).
        """
        depth: dict[str, int] = {}
        todo = deque([(self.pathway.entry, 0)])
        while todo:
            name, d = todo.popleft()
            if name in depth:
                continue
            depth[name] = d
            todo.extend((n, d + 1) for n in self.successors(name))
        ends = {n: d for n, d in depth.items() if self.stages[n].kind == "exit"}
        working = {n: d for n, d in depth.items() if n not in ends}
        return working | ends if exits else working

    def _reachable_from(self, start: str, positive: bool = False) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            n = todo.pop()
            if n in seen or n not in self.stages:
                continue
            seen.add(n)
            todo.extend(self.successors(n, positive))
        return seen

    @property
    def name(self) -> str:
        return self.pathway.name


def builtin_dir() -> Path:
    return _here() / "pathways"


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
        [said(f"no built-in pathway of that name and no such file; built-in: {', '.join(builtin_names())}",
              f"ingen innebygd forløp med det navnet og ingen slik fil; innebygde: "
              f"{', '.join(builtin_names())}")],
    )


# -- business as usual ------------------------------------------------------------------------------

@cache
def _here() -> Path:
    """This module's folder, resolved once (resolving the link tree's symlinks costs ~50 us)."""
    return Path(__file__).resolve().parent


def business_as_usual_dir() -> Path:
    """Where the built-in business-as-usual pathways live (``sim/business_as_usual``)."""
    return _here() / "business_as_usual"


def business_as_usual_names() -> list[str]:
    """The built-in business-as-usual pathways, by name (the folder read again when it changes:
    a scenario's resolve asks several times, and a glob costs ~80 us)."""
    folder = business_as_usual_dir()
    return list(_toml_stems(str(folder), folder.stat().st_mtime_ns))


@lru_cache(maxsize=8)
def _toml_stems(folder: str, mtime_ns: int) -> tuple[str, ...]:
    """The names of the TOML files in ``folder`` as it was at ``mtime_ns``, sorted."""
    return tuple(sorted(p.stem for p in Path(folder).glob("*.toml")))


def business_as_usual_problems(pathway: Pathway) -> list[str]:
    """Why ``pathway`` cannot be a business-as-usual pathway (empty if it can).

    Business as usual is what happens to a person without the programme, drawn person by person
    before the clock starts (the control arm meets no capacity), so it declares no capacity. Moving
    away is not part of it: a move during the programme is mirrored into the control arm instead
    (parallel mode), so a business-as-usual exit cannot be ``moved``. Nobody in it is paid by the
    programme's provider or investors (parties to the contract, which business as usual is not):
    its costs, wages and subsidies are the kommune's, NAV's, the state's or an employer's.
    """
    out = []
    if pathway.capacity:
        out.append(said(f"capacity: {', '.join(sorted(pathway.capacity))}: business as usual meets no "
                        "capacity (nobody queues for what they would have had anyway); leave out the "
                        "[capacity] tables and the stages' capacity",
                        f"capacity: {', '.join(sorted(pathway.capacity))}: vanlig oppfølging har ingen "
                        "kapasitet (ingen står i kø for det de ville fått uansett); ta bort "
                        "[capacity]-tabellene og trinnenes capacity"))
    contract_parties = {"provider", "investor"}
    for name, st in pathway.stages.items():
        f, c = st.funding, st.costs
        paid = [("costs.payer", c.payer if (c.per_person or c.per_week or c.per_cohort) else None),
                ("funding.wage_payer", f.wage_payer), ("funding.subsidy_payer", f.subsidy_payer)]
        for key, who in paid:
            if who in contract_parties:
                out.append(said(f"stages.{name}.{key}: '{who}' is a party to the programme's contract, "
                                "which business as usual is not; allowed: kommune, nav, state, employer"
                                + (" (costs.payer defaults to 'provider': name the payer)"
                                   if key == "costs.payer" else ""),
                                f"stages.{name}.{key}: '{who}' er part i tiltakets kontrakt, og det er "
                                "ikke vanlig oppfølging; tillatt: kommune, nav, state, employer"
                                + (" (costs.payer er 'provider' hvis ikke oppgitt: oppgi hvem som betaler)"
                                   if key == "costs.payer" else "")))
        if c.per_cohort:
            out.append(said(f"stages.{name}.costs.per_cohort: business as usual has no cohorts of its "
                            "own; give its cost per person or per week",
                            f"stages.{name}.costs.per_cohort: vanlig oppfølging har ingen egne kull; "
                            "oppgi kostnaden per person eller per uke"))
        if st.kind == "exit" and st.outcome == "moved":
            out.append(said(f"stages.{name}.outcome: 'moved' is not business as usual here (a move "
                            "during the programme is mirrored into the control arm); use 'not_employed'",
                            f"stages.{name}.outcome: 'moved' hører ikke til vanlig oppfølging her (en "
                            "flytting under tiltaket speiles i kontrollgruppen); bruk 'not_employed'"))
    return out


def load_business_as_usual(name_or_path: str) -> Pathway:
    """Load a built-in business-as-usual pathway by name, or one from a file, and check that it
    can be one (:func:`business_as_usual_problems`). Read once per version of the file (its
    modification time and size), so a long-lived process sees an edited file."""
    try:
        st = Path(str(name_or_path)).stat()
        version = (st.st_mtime_ns, st.st_size)
    except (OSError, ValueError):
        version = None  # a built-in name, or a path whose problem the loader reports
    return _load_business_as_usual(str(name_or_path), version)


@cache
def _load_business_as_usual(name_or_path: str, version: tuple[int, int] | None) -> Pathway:
    text = str(name_or_path)
    names = business_as_usual_names()
    if text in names:
        path = business_as_usual_dir() / f"{text}.toml"
    else:
        path = Path(text)
        if not (path.suffix == ".toml" or path.exists()):
            raise SpecError(text, [said(f"no built-in business-as-usual pathway of that name "
                                        f"and no such file; built-in: {', '.join(names) or 'none'}",
                                        f"ingen innebygd vanlig oppfølging med det navnet og ingen slik "
                                        f"fil; innebygde: {', '.join(names) or 'ingen'}")])
    pathway = load_spec(Pathway, path, priors_drawn=False)  # not in the scenario's tree: not drawn
    problems = business_as_usual_problems(pathway)
    if problems:
        raise SpecError(str(path), problems)
    return pathway
