"""Contract terms: which outcomes are paid for, at what price, with which triggers, caps and timing,
and who funds, who delivers and who pays. Read from TOML templates (``contracts/templates``) or a
user's file, and validated strictly: a mistake names the file and the dotted key.

Money is in the contract's currency (``contract.currency``) and converted to NOK with
``contract.nok_per_unit`` when a contract is evaluated by Norway's rules (by another country's rules,
a contract in that country's currency counts 1:1: :meth:`effekt.contracts.Valuation.priced`), so a
template can keep the prices its source published (GBP, EUR). Outcome windows are in weeks from a
person's entry (the simulation clock's unit); payment timing is in months, the period of the
cashflows.
"""

from __future__ import annotations

import fnmatch
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from effekt.dotted import suggest
from effekt.specfile import SpecError, Strict, en_number, joined, nb_number, read_toml, said, validate
from effekt.titles import TITLE_NB


def _new_list() -> list:
    """A new empty list, the default of a list field: a Python function, not the builtin ``list``,
    whose signature pydantic reads from its text with ``tokenize`` at each field (~1.4 ms each
    when a run's models are built, issue 14; ``dict``'s is refused at once)."""
    return []


# -- outcome metrics ------------------------------------------------------------------------------

class Titled(Strict):
    """What every outcome may say about itself for a reader: ``title`` (English) and ``title_nb``
    (Norwegian bokmål), shown by the report instead of the outcome's key (effekt.titles.title)."""

    title: str = Field(default="", description="the outcome's title in English (default: its key)")
    title_nb: str = Field(default="", description=TITLE_NB)


class JobStart(Titled):
    """A person starts a job of at least ``min_fte`` within ``window_weeks`` of entry.

    Jobs whose ``contract`` is in ``exclude_contracts`` (e.g. ``"project"``: a programme's own
    project positions) or whose pathway stage matches a pattern in ``exclude_stages`` (e.g.
    ``"simple_job*"``) do not count, in this and the other employment metrics.
    """

    metric: Literal["job_start"]
    min_fte: float = Field(default=0.0, ge=0, le=1)
    window_weeks: float = Field(gt=0)
    exclude_contracts: list[str] = Field(default_factory=_new_list)
    exclude_stages: list[str] = Field(default_factory=_new_list)


class SustainedEmployment(Titled):
    """A person has been in work ``weeks`` weeks, reached within ``window_weeks`` of entry.

    ``continuous = true`` (default, as DWP's 'sustained job'): without a break; consecutive job
    spells (a temporary engagement, then a permanent post) count as one unbroken period.
    ``continuous = false``: ``weeks`` weeks in work in all, counted from entry ('N weeks within M
    months').
    """

    metric: Literal["sustained_employment"]
    weeks: float = Field(gt=0)
    min_fte: float = Field(default=0.0, ge=0, le=1)
    window_weeks: float = Field(gt=0)
    continuous: bool = True
    exclude_contracts: list[str] = Field(default_factory=_new_list)
    exclude_stages: list[str] = Field(default_factory=_new_list)

    @model_validator(mode="after")
    def _fits(self) -> SustainedEmployment:
        if self.weeks > self.window_weeks:
            raise ValueError(said("weeks is longer than window_weeks: the outcome could never happen",
                                  "weeks er lengre enn window_weeks: resultatet kan aldri inntreffe"))
        return self


class InWorkAt(Titled):
    """A person is in work (at least ``min_fte``) at a point in time: ``weeks_after_entry`` weeks
    after their own entry, or at the absolute simulation week ``at_week``.

    ``ordinary_only = true``: only ordinary work counts, not the programme's own jobs (a project
    position or a wage-subsidised job in a pathway stage; see
    :func:`effekt.contracts.outcomes.programme_jobs`). ``or_education = true``: a person in
    ordinary education (state ``education``) counts too, "in work or education" as SSB and DWP
    measure it (``min_fte`` and ``exclude_contracts`` apply to jobs; ``exclude_stages`` to both).
    Both must be written as true or false.
    """

    metric: Literal["in_work_at"]
    weeks_after_entry: float | None = Field(default=None, ge=0)
    at_week: float | None = Field(default=None, ge=0)
    min_fte: float = Field(default=0.0, ge=0, le=1)
    exclude_contracts: list[str] = Field(default_factory=_new_list)
    exclude_stages: list[str] = Field(default_factory=_new_list)
    ordinary_only: bool = False
    or_education: bool = False

    @field_validator("ordinary_only", "or_education", mode="before")
    @classmethod
    def _true_or_false(cls, v: object) -> object:
        if not isinstance(v, bool):  # pydantic would take "yes", 1 or "false" (as False!) as booleans
            raise ValueError(said(f"must be true or false (a TOML boolean, without quotes), not {v!r}",
                                  f"skal være true eller false (en TOML-boolsk verdi, uten anførselstegn), "
                                  f"ikke {v!r}"))
        return v

    @model_validator(mode="after")
    def _one_date(self) -> InWorkAt:
        if (self.weeks_after_entry is None) == (self.at_week is None):
            raise ValueError(said("give exactly one of weeks_after_entry and at_week",
                                  "oppgi nøyaktig én av weeks_after_entry og at_week"))
        return self


class StageEvent(Titled):
    """A person has an event (default ``completed``) at a stage whose name matches one of
    ``stages`` (shell patterns such as ``"fagprove*"``), within ``window_weeks`` of entry.

    ``followed_by`` (patterns) requires the next stage the person went to to match, which tells a
    passed exam (next: the job) from a failed one (next: a retake); ``not_followed_by`` excludes
    people whose next stage matches (e.g. ``"dropped_out"``: 'completed' marks the end of a stage's
    time, and a drop-out exit is taken after it). ``qualification`` (fagbrev,
    language test) and ``completion`` (of the programme) are the same measurement with two names.
    """

    metric: Literal["qualification", "completion"]
    stages: list[str] = Field(min_length=1)
    events: list[str] = Field(default_factory=lambda: ["completed"], min_length=1)
    followed_by: list[str] = Field(default_factory=_new_list)
    not_followed_by: list[str] = Field(default_factory=_new_list)
    window_weeks: float | None = Field(default=None, gt=0)

    def matches(self, stage: str | None, patterns: list[str] | None = None) -> bool:
        pats = self.stages if patterns is None else patterns
        return isinstance(stage, str) and any(fnmatch.fnmatchcase(stage, p) for p in pats)


class BenefitDaysSaved(Titled):
    """Days off benefit against an expected benefit duration (Buzinezzclub).

    A person is expected to stay on benefit ``expected_weeks`` weeks from entry (per target group
    with ``expected_weeks_by_group``); the outcome's quantity is the days within that window the
    person was not on a benefit, reached at the end of the window (or at the end of the data).
    People without a benefit at entry save nothing unless ``only_on_benefit_at_entry = false``.
    """

    metric: Literal["benefit_days_saved"]
    expected_weeks: float = Field(gt=0)
    expected_weeks_by_group: dict[str, float] = Field(default_factory=dict)
    only_on_benefit_at_entry: bool = True

    @field_validator("expected_weeks_by_group")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, w in v.items() if w <= 0)
        if bad:
            raise ValueError(said(f"expected weeks must be positive (groups {bad})",
                                  f"forventede uker må være positive (gruppene {bad})"))
        return v


Outcome = Annotated[
    JobStart | SustainedEmployment | InWorkAt | StageEvent | BenefitDaysSaved,
    Field(discriminator="metric"),
]
BINARY_METRICS = ("job_start", "sustained_employment", "in_work_at", "qualification", "completion")


def earliest_reach(outcome: Outcome) -> tuple[float, bool]:
    """The least time at which ``outcome`` can be reached, in weeks after a person's entry, and
    whether it is an absolute week instead (``in_work_at.at_week``). A metric its own terms do
    not bound (a job start, a stage event, benefit days saved, which are counted at the end of
    the window or of the data) can be reached at entry. What the contract warnings need to tell
    an outcome no kull can reach inside the term (``effekt.experiments.contract_checks``)."""
    if isinstance(outcome, InWorkAt):
        if outcome.at_week is not None:
            return outcome.at_week, True
        return outcome.weeks_after_entry or 0.0, False
    if isinstance(outcome, SustainedEmployment):
        return outcome.weeks, False
    return 0.0, False


# -- pricing --------------------------------------------------------------------------------------

class Step(Strict):
    """One rung of a price ladder: from ``from`` (count of outcomes so far, or weeks since entry)
    on, the price is ``price``. Written ``from`` in files; ``Step(start=..., price=...)`` in code."""

    model_config = ConfigDict(**Strict.model_config, populate_by_name=True)

    start: float = Field(alias="from", ge=0)
    price: float


class Price(Strict):
    """The price of one outcome (per unit of it: per person, or per day for benefit days).

    ``by_group`` overrides the default for target groups; ``ladder`` replaces it by rungs, either
    by the number of such outcomes reached before in the contract (``ladder_by = "count"``, volume
    tiers) or by how soon after entry it was reached (``"weeks_since_entry"``, faster pays more).
    A count ladder counts every outcome reached, also one the per-person cap then pays less for:
    with falling rungs, one more outcome of a person at the cap can lower the contract's total.
    """

    default: float
    by_group: dict[str, float] = Field(default_factory=dict)
    ladder: list[Step] = Field(default_factory=_new_list)
    ladder_by: Literal["count", "weeks_since_entry"] = "count"

    @model_validator(mode="after")
    def _ladder_sorted(self) -> Price:
        starts = [s.start for s in self.ladder]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError(said("ladder rungs must have increasing 'from' values",
                                  "trinnene i ladder må ha stigende 'from'-verdier"))
        return self

    def all_prices(self) -> list[float]:
        return [self.default, *self.by_group.values(), *(s.price for s in self.ladder)]


class Trigger(Strict):
    """Pay for an outcome only when the cohort result clears a threshold (Peterborough).

    The result is the share of people with the outcome; ``compare`` says against what:
    ``absolute`` (the share itself), ``relative_to_control`` ((share - control share) / control
    share) or ``difference_to_control`` (share - control share). ``scope = "cohort"`` tests each
    cohort ``evaluate_after_months`` after its start; ``"pooled"`` tests all cohorts together at the
    contract's final evaluation and pays what the cohort tests have not already paid.
    ``pay = "additional"`` pays only for outcomes above the control arm's rate. Triggered outcomes
    are priced at the outcome's ``default`` price (no group prices or ladders) and are not subject
    to the per-person cap; the contract cap applies.
    """

    outcome: str
    scope: Literal["cohort", "pooled"]
    compare: Literal["absolute", "relative_to_control", "difference_to_control"]
    threshold: float
    pay: Literal["all", "additional"] = "all"
    evaluate_after_months: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _when(self) -> Trigger:
        if self.scope == "cohort" and self.evaluate_after_months is None:
            raise ValueError(said("a cohort trigger needs evaluate_after_months",
                                  "en trigger med scope = 'cohort' trenger evaluate_after_months"))
        return self

    @property
    def needs_control(self) -> bool:
        return self.compare != "absolute" or self.pay == "additional"


SAVINGS_COMPONENTS = ("income_tax", "employer_contributions", "benefits", "earnings")


class SavingsShare(Strict):
    """Pay a share of what the public purse gained against the control arm (Koto-SIB).

    ``share`` of the sum of ``components`` (treatment minus control, scaled to the treatment arm's
    size) over the first ``window_months`` months, paid once at the final evaluation; nothing is
    paid when the gain is negative.
    """

    share: float = Field(gt=0, le=1)
    components: list[Literal["income_tax", "employer_contributions", "benefits", "earnings"]] = (
        Field(min_length=1)
    )
    window_months: int = Field(gt=0)


# -- contract frame -------------------------------------------------------------------------------

class ContractInfo(Strict):
    name: str
    title: str
    title_nb: str = Field(default="", description=TITLE_NB)
    source: str = ""
    currency: str = "NOK"
    nok_per_unit: float = Field(default=1.0, gt=0, description="NOK per unit of the currency, used when "
                                "the evaluation counts in NOK (Norway's rules); by another country's rules "
                                "a contract in that country's currency counts 1:1 (Valuation.priced)")
    term_months: int = Field(gt=0, description="the last month (counted from 1) in which an outcome counts: "
                             "one reached by week term_months x 52/12 is paid")
    final_evaluation_month: int | None = Field(default=None, ge=0)
    payment_lag_months: int = Field(default=0, ge=0)
    payment_period: Literal["monthly", "quarterly", "annual"] = "monthly"
    primary_outcome: str | None = None
    fee_for_service_margin: float = Field(
        default=0.0, ge=0, description="provider margin on costs if bought fee-for-service"
    )

    @property
    def final_month(self) -> int:
        """The month of the final evaluation (default: end of term plus the payment lag)."""
        if self.final_evaluation_month is not None:
            return self.final_evaluation_month
        return self.term_months + self.payment_lag_months


class Caps(Strict):
    per_person: float | None = Field(default=None, gt=0)
    contract: float | None = Field(default=None, gt=0)


class Provider(Strict):
    """The service provider's delivery costs (funded by investors as they fall due) and its
    performance fee (a share of each outcome payment, paid before investors).

    The costs are the contract's own (``per_cohort``, ``per_participant``, ``per_week``), in the
    contract's currency; with ``pathway_costs = true`` the stage costs a pathway charges to the
    provider (spells' ``cost_once``/``cost_per_week`` with ``cost_payer = "provider"``, NOK) are
    added. ``per_week`` runs in the pathway's own programme and education stages; neither it nor
    the stage costs run in a business-as-usual pathway's stages (``spells.business_as_usual``).
    """

    per_cohort: float = Field(default=0.0, ge=0, description="fixed cost per kull, at its start")
    per_participant: float = Field(default=0.0, ge=0, description="at entry")
    per_week: float = Field(default=0.0, ge=0,
                            description="per participant-week in the pathway's programme or education stages")
    pathway_costs: bool = Field(
        default=False, description="also fund the stage costs the pathway charges to the provider")
    performance_fee: float = Field(default=0.0, ge=0, le=1, description="share of payments")


class Intermediary(Strict):
    """The intermediary's fees: ``fixed`` at the start, ``per_month`` during delivery (both funded
    like delivery costs) and ``share_of_payments`` of each outcome payment."""

    fixed: float = Field(default=0.0, ge=0)
    per_month: float = Field(default=0.0, ge=0)
    share_of_payments: float = Field(default=0.0, ge=0, le=1)


class Tranche(Strict):
    """One class of investor capital.

    ``share`` of every drawdown; ``seniority`` 1 is repaid first; ``capital_protection`` is the
    share of drawn principal the commissioners guarantee at the final evaluation; ``coupon`` a fixed
    annual rate on outstanding principal that the commissioners pay for the first ``coupon_months``;
    ``max_return`` caps the tranche's return (simple annual rate on outstanding principal, coupons
    included); beyond it payments go to the next tranche or the residual.
    """

    name: str
    share: float = Field(gt=0, le=1)
    seniority: int = Field(default=1, ge=1)
    capital_protection: float = Field(default=0.0, ge=0, le=1)
    coupon: float = Field(default=0.0, ge=0)
    coupon_months: int = Field(default=0, ge=0)
    max_return: float | None = Field(default=None, ge=0)


class Investors(Strict):
    """Who funds the working capital, in tranches whose shares sum to 1.

    ``commitment`` is the capital promised (informative: the KPIs say whether it was enough).
    ``residual_to`` receives what is left when every tranche has reached its maximum return.
    """

    commitment: float | None = Field(default=None, gt=0)
    tranches: list[Tranche] = Field(
        default_factory=lambda: [Tranche(name="investor", share=1.0)], min_length=1
    )
    residual_to: Literal["commissioners", "provider"] = "commissioners"

    @model_validator(mode="after")
    def _add_up(self) -> Investors:
        total = sum(t.share for t in self.tranches)
        if abs(total - 1) > 1e-9:
            raise ValueError(said(f"tranches: shares sum to {total:g}, not 1",
                                  f"tranches: andelene summerer til {nb_number(total)}, ikke 1"))
        names = [t.name for t in self.tranches]
        if len(set(names)) != len(names):
            raise ValueError(said(f"tranches: names must be unique ({names})",
                                  f"tranches: navnene må være unike ({names})"))
        ranked = sorted(self.tranches, key=lambda t: t.seniority)
        for t in ranked[:-1]:
            if t.max_return is None and any(u.seniority > t.seniority for u in ranked):
                raise ValueError(said(
                    f"tranches: '{t.name}' has no max_return, so the more junior tranches "
                    "behind it could never be paid a return; give it a max_return",
                    f"tranches: '{t.name}' har ingen max_return, så de mer underordnede trinnene "
                    "bak den kunne aldri få avkastning; gi den en max_return"))
        return self


class Funding(Strict):
    """How delivery is financed.

    ``recycling``: outcome payments received during delivery pay later costs before new capital
    is drawn (so investors need less than the cap); off by default, when every payment is passed
    straight on to the investors. ``investor_months``: bridge financing
    (Lier, Asker-Arba) - investors fund delivery only in the first months; after that
    ``takeover_by`` (a commissioner) pays the provider directly.
    """

    recycling: bool = False
    investor_months: int | None = Field(default=None, ge=0)
    takeover_by: str | None = None

    @model_validator(mode="after")
    def _bridge(self) -> Funding:
        if (self.investor_months is None) != (self.takeover_by is None):
            raise ValueError(said("bridge financing needs both investor_months and takeover_by",
                                  "mellomfinansiering trenger både investor_months og takeover_by"))
        return self


RESERVED_PARTIES = {"investor", "provider", "intermediary", "participants"}
COMMISSIONERS = ("kommune", "fylke", "state")
"""Who can commission (pay for outcomes): the public parties whose budgets the evaluation keeps.
A name outside this list is refused with a did-you-mean, never taken as a new party: a misspelt
``kommnue`` would otherwise pay the outcomes from a budget nobody reports, and the kommune's
public NPV would flip sign."""


class Terms(Strict):
    """A validated contract."""

    contract: ContractInfo
    outcomes: dict[str, Outcome] = Field(min_length=1)
    prices: dict[str, Price]
    triggers: list[Trigger] = Field(default_factory=_new_list)
    savings_share: SavingsShare | None = None
    caps: Caps = Caps()
    commissioners: dict[str, float] = Field(min_length=1)
    provider: Provider = Provider()
    intermediary: Intermediary = Intermediary()
    investors: Investors = Investors()
    funding: Funding = Funding()

    @field_validator("prices", mode="before")
    @classmethod
    def _plain_prices(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: ({"default": p} if isinstance(p, int | float) else p) for k, p in v.items()}
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Terms:
        outcomes = sorted(self.outcomes)
        unknown = sorted(set(self.prices) - set(self.outcomes))
        if unknown:
            raise ValueError(said(f"prices: unknown outcome(s) {unknown}; outcomes defined: "
                                  f"{', '.join(outcomes)}",
                                  f"prices: ukjent resultat {unknown}; definerte resultater: "
                                  f"{', '.join(outcomes)}"))
        unpriced = sorted(set(self.outcomes) - set(self.prices))
        if unpriced:
            raise ValueError(said(f"prices: no price for outcome(s) {unpriced}",
                                  f"prices: ingen pris for resultatet {unpriced}"))
        for k, p in self.prices.items():
            if any(x < 0 for x in p.all_prices()):
                raise ValueError(said(f"prices.{k}: negative price; prices must be >= 0",
                                      f"prices.{k}: negativ pris; prisene må være >= 0"))
        for i, t in enumerate(self.triggers):
            if t.outcome not in self.outcomes:
                raise ValueError(said(f"triggers[{i}].outcome: unknown outcome '{t.outcome}'; "
                                      f"outcomes defined: {', '.join(outcomes)}",
                                      f"triggers[{i}].outcome: ukjent resultat '{t.outcome}'; "
                                      f"definerte resultater: {', '.join(outcomes)}"))
            if self.outcomes[t.outcome].metric not in BINARY_METRICS:
                raise ValueError(said(f"triggers[{i}].outcome: '{t.outcome}' is not a yes/no outcome",
                                      f"triggers[{i}].outcome: '{t.outcome}' er ikke et ja/nei-resultat"))
        primary = self.contract.primary_outcome
        if primary is not None and primary not in self.outcomes:
            raise ValueError(said(f"contract.primary_outcome: unknown outcome '{primary}'; "
                                  f"outcomes defined: {', '.join(outcomes)}",
                                  f"contract.primary_outcome: ukjent resultat '{primary}'; "
                                  f"definerte resultater: {', '.join(outcomes)}"))
        binary_prices = [max(p.all_prices()) for k, p in self.prices.items()
                         if self.outcomes[k].metric in BINARY_METRICS]
        top = max(binary_prices, default=0.0)
        for key in ("per_person", "contract"):
            cap = getattr(self.caps, key)
            if cap is not None and cap < top:
                raise ValueError(said(f"caps.{key} ({en_number(cap)}) is below a single price "
                                      f"({en_number(top)})",
                                      f"caps.{key} ({nb_number(cap)}) er lavere enn én enkelt pris "
                                      f"({nb_number(top)})"))
        clash = sorted(set(self.commissioners) & RESERVED_PARTIES)
        if clash:
            raise ValueError(said(f"commissioners: {clash} name other parties of the contract; use e.g. "
                                  "'kommune', 'state', 'fylke'",
                                  f"commissioners: {clash} er navn på andre parter i kontrakten; bruk "
                                  "f.eks. 'kommune', 'state', 'fylke'"))
        for name in self.commissioners:
            if name not in COMMISSIONERS:
                raise ValueError(said(f"commissioners.{name}: not a party that can commission"
                                      f"{suggest(name, COMMISSIONERS)}; allowed: {', '.join(COMMISSIONERS)} "
                                      "(the public budgets the evaluation reports)",
                                      f"commissioners.{name}: ikke en part som kan være oppdragsgiver"
                                      f"{suggest(name, COMMISSIONERS, lang='nb')}; tillatt: "
                                      f"{', '.join(COMMISSIONERS)} (de offentlige budsjettene evalueringen "
                                      "viser)"))
        if any(v < 0 for v in self.commissioners.values()):
            raise ValueError(said("commissioners: shares must not be negative",
                                  "commissioners: andelene kan ikke være negative"))
        total = sum(self.commissioners.values())
        if abs(total - 1) > 1e-9:
            raise ValueError(said(f"commissioners: shares sum to {total:g}, not 1",
                                  f"commissioners: andelene summerer til {nb_number(total)}, ikke 1"))
        taker = self.funding.takeover_by
        if taker is not None and taker not in self.commissioners:
            raise ValueError(said(f"funding.takeover_by: '{taker}' is not a commissioner "
                                  f"({', '.join(sorted(self.commissioners))})",
                                  f"funding.takeover_by: '{taker}' er ikke en oppdragsgiver "
                                  f"({', '.join(sorted(self.commissioners))})"))
        from effekt.contracts.kpis import kpi_collisions  # kpis reads the terms: import it late

        collisions = kpi_collisions(self)
        if collisions:  # every KPI needs a name of its own (a column of the runs table)
            raise ValueError(joined("\n", collisions))
        return self

    @property
    def primary(self) -> str:
        """The outcome the commissioner's cost per outcome is counted in."""
        return self.contract.primary_outcome or next(iter(self.outcomes))

    @property
    def needs_control(self) -> bool:
        return self.savings_share is not None or any(t.needs_control for t in self.triggers)


def needs_control(terms: Terms) -> list[str]:
    """What in ``terms`` compares with the control arm, one dotted key (within the contract) and
    why per item, e.g. ``"triggers[0]: compare = 'relative_to_control' (outcome 'job')"`` or
    ``"savings_share"``; empty when nothing does. Such a contract cannot be evaluated without a
    control arm (counterfactual mode ``none``): a scenario checks this when it is loaded."""
    out = []
    for i, t in enumerate(terms.triggers):
        if t.compare != "absolute":
            out.append(said(f"triggers[{i}]: compare = '{t.compare}' (outcome '{t.outcome}')",
                            f"triggers[{i}]: compare = '{t.compare}' (resultat '{t.outcome}')"))
        elif t.pay == "additional":
            out.append(said(f"triggers[{i}]: pay = 'additional' (outcome '{t.outcome}')",
                            f"triggers[{i}]: pay = 'additional' (resultat '{t.outcome}')"))
    if terms.savings_share is not None:
        out.append(said("savings_share: a share of the public gain against the control arm",
                        "savings_share: en andel av den offentlige gevinsten mot kontrollgruppen"))
    return out


def stage_patterns(terms: Terms) -> dict[str, list[str]]:
    """Every stage-name pattern the terms use, by the dotted key it appears under."""
    out: dict[str, list[str]] = {}
    for name, o in terms.outcomes.items():
        for key in ("stages", "followed_by", "not_followed_by", "exclude_stages"):
            pats = getattr(o, key, None)
            if pats:
                out[f"outcomes.{name}.{key}"] = list(pats)
    return out


def unmatched_stages(terms: Terms, stage_names: list[str]) -> list[str]:
    """Stage patterns in ``terms`` that match none of a pathway's ``stage_names``, as
    ``"outcomes.X.stages: 'fagprve*'"``: usually a typo, or a contract written for another
    pathway (the terms alone cannot know the pathway, so a scenario can check this)."""
    problems = []
    for key, pats in stage_patterns(terms).items():
        if key.endswith("not_followed_by"):
            continue  # exclusions written for several pathways need not all exist
        for pat in pats:
            if not any(fnmatch.fnmatchcase(n, pat) for n in stage_names):
                problems.append(said(f"{key}: '{pat}' matches no stage ({', '.join(sorted(stage_names))})",
                                     f"{key}: '{pat}' passer ikke med noe trinn "
                                     f"({', '.join(sorted(stage_names))})"))
    return problems


def templates_dir() -> Path:
    return Path(__file__).resolve().parent / "templates"


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
                [said(f"no contract template of that name and no such file; templates: "
                      f"{', '.join(template_names())}",
                      f"ingen kontraktmal med det navnet og ingen slik fil; maler: "
                      f"{', '.join(template_names())}")],
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
