"""Scenario files: one TOML file says everything about an experiment.

A scenario names a pathway and a contract (a built-in name or a file path, relative to the
scenario file) and may override any of their keys in place::

    [pathway]
    template = "kongsberg_kull"
    capacity.placements.slots = 8        # override one number of the built-in pathway

    [contract]
    template = "kongsberg_outcomes"
    prices.job_start = 50000

Reading a file gives a :class:`ScenarioTree`: the templates merged into one tree of plain data
(``scenario``, ``world``, ``pathway``, ``contract``, ``design``) with the names of the files it
came from. ``--set KEY=VALUE`` overrides and design-point values are set on that tree (so they
reach into template keys too, e.g. ``pathway.stages.course.exits[0].p``), with the one grammar of
dotted keys of :mod:`effekt.dotted`. :func:`resolve` turns a tree into a typed :class:`Scenario`
and validates everything strictly: unknown keys are errors, and every message names the file,
the dotted key, what is allowed and, for a misspelt key, the key that was probably meant.

Everything that makes a scenario goes through :func:`resolve`: :func:`load_scenario` (a file and
its ``--set``), :func:`load_experiment` (every design point), the analysis commands (a scenario
at other values is ``resolve(scenario.tree.with_values({...}))``) and a results directory's
manifest (its stored tree). No scenario is ever written back to TOML text and read again.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from effekt.contracts import (
    WEEKS_PER_MONTH,
    EvaluationDesign,
    FiscalParams,
    KpiRegistry,
    Terms,
    fiscal_path,
    fiscal_rules,
    kpis_for,
    needs_control,
    template_names,
    terms_data,
)
from effekt.dotted import (
    canonical,
    format_key,
    get_value,
    parse_assignment,
    parse_key,
    set_value,
    suggest,
)
from effekt.experiments import calibrations as _calibrations  # noqa: F401 (registers the built-in posteriors)
from effekt.experiments.design import Design, check_priors_in_design, design_points
from effekt.experiments.messages import nb_hint, unprefixed
from effekt.experiments.workload import check_design_size
from effekt.priors import (
    Prior,
    anchor_calibrated,
    find_priors,
    is_prior,
    point_values,
    tail_problems,
    with_values,
)
from effekt.sim import (
    KINDS_CONTEXT,
    WORLD_COUNTRIES,
    Benefit,
    Cohort,
    Counterfactual,
    LabourMarket,
    Pathway,
    TargetGroup,
    World,
    builtin_names,
    builtin_pathway_data,
    builtin_world_data,
    business_as_usual_names,
    country_dir,
    country_files,
    default_benefits,
    default_labour_market,
    default_target_groups,
)
from effekt.specfile import (
    SpecError,
    Strict,
    error_message,
    format_validation_error,
    joined,
    keyed,
    nb_number,
    problem_text,
    read_toml,
    said,
)

SECTIONS = ("scenario", "world", "pathway", "contract", "design", "evaluation")
TEMPLATE_KEYS = ("pathway.template", "contract.template", "scenario.country")
"""Keys that choose a file: they are applied when the file is read, before any other key (the
country chooses the world's data files the scenario's ``[world]`` is merged into)."""


NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
"""A scenario name: it becomes a directory name (``results/<name>``), so letters, digits, ``_``,
``-`` and ``.`` only, not starting with ``.`` and without ``..``: it can never point elsewhere."""


def _at_point(k: int, where: str, problem: str) -> str:
    """A problem of design point ``k`` (``where``: its values), in both languages (a problem that
    has no bokmål of its own reads through the common patterns of :func:`problem_text`)."""
    return said(f"design point {k} ({where}): {problem}",
                f"designpunkt {k} ({where}): {problem_text(problem, 'nb')}")


class ScenarioInfo(Strict):
    name: str
    title: str = ""
    title_nb: str = Field(default="", description="the title in Norwegian bokmål (the report in nb "
                          "shows it; title is the English one, and shown when this is empty)")
    description: str = ""
    country: str = Field(
        default="no", description="whose rules: 'no' (Norway, sim/data and contracts/data/fiscal.toml), "
        "'fi' (Finland 2018, sim/data/fi and contracts/data/fi/fiscal.toml) or the path of a folder "
        "holding a country's benefits.toml and fiscal.toml (relative to the scenario file); it "
        "chooses the world's benefits, target groups and labour market and the fiscal rules")
    currency: str | None = Field(
        default=None, description="the currency of every amount (default: the country's, [money] of "
        "its fiscal rules: NOK for Norway, EUR for Finland); another than the country's is refused")
    price_year: int | None = Field(default=None, description="the year of the prices (default: the "
                                   "country's rules', 2025 for Norway)")
    G: float | None = Field(default=None, gt=0, description="the base amount benefit levels are "
                            "multiples of, in the currency (Norway: the grunnbeløp G, 130 160 NOK; "
                            "default: the country's, [money] base_amount)")
    discount_rate: float = Field(default=0.04, gt=-1, description="real, per year (R-109: 4 %)")
    kommune_tax_base: Literal["above_90", "below_90"] | float | None = Field(
        default=None, description="where the kommune stands in inntektsutjevning: 'above_90' or "
        "'below_90' (its tax base against 90 % of the national average; it keeps 40 % or 5 % of a "
        "marginal krone of skatteøre) or the share it keeps, 0 to 1; default: the fiscal rules' "
        "position (contracts/data/fiscal.toml [inntektsutjevning], above_90)")

    @field_validator("kommune_tax_base", mode="before")
    @classmethod
    def _a_share_kept(cls, v: Any) -> Any:
        if isinstance(v, bool) or (isinstance(v, int | float) and not 0 <= v <= 1):
            raise ValueError(said(f"{v!r}: 'above_90', 'below_90' or the share of its skatteøre the kommune "
                                  "keeps after inntektsutjevning, a number from 0 to 1",
                                  f"{v!r}: skal være 'above_90', 'below_90' eller andelen av skatteøren "
                                  "kommunen beholder etter inntektsutjevningen, et tall fra 0 til 1"))
        return v

    @field_validator("country")
    @classmethod
    def _a_country(cls, v: str) -> str:
        """A built-in country or a folder holding its files (sim's and contracts' own checks)."""
        try:
            country_dir(v)
            fiscal_path(v)
        except SpecError as err:
            problems = [unprefixed(p, "scenario.country: ") for p in err.problems]
            raise ValueError(joined("; ", problems)) from None
        return v

    @model_validator(mode="after")
    def _the_country_s_money(self) -> ScenarioInfo:
        """The currency, base amount and price year the scenario leaves out are its country's
        (``[money]`` of its fiscal rules); a currency other than the country's is refused. A
        country whose fiscal rules file is itself refused gives that file's problems, one a line,
        each under ``country`` with the file named (in both languages)."""
        try:
            money = fiscal_rules(self.country).money
        except SpecError as err:
            lines = [keyed(f"country: {err.source}", p) for p in err.problems]
            raise ValueError(joined("\n", lines)) from None
        if money is None:
            return self
        if self.currency is not None and self.currency != money.currency:
            raise ValueError(said(
                f"currency: '{self.currency}', but the rules of country '{self.country}' are "
                f"in {money.currency} ({fiscal_path(self.country)} [money]); leave the key "
                f"out or write '{money.currency}'",
                f"currency: '{self.currency}', men reglene for landet '{self.country}' er i "
                f"{money.currency} ({fiscal_path(self.country)} [money]); utelat nøkkelen eller skriv "
                f"'{money.currency}'"))
        base = int(money.base_amount) if float(money.base_amount).is_integer() else money.base_amount
        for key, value in (("currency", money.currency), ("price_year", money.price_year), ("G", base)):
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)  # frozen: filled once, while validating
        return self

    @field_validator("name")
    @classmethod
    def _a_directory_name(cls, v: str) -> str:
        if not NAME_PATTERN.match(v) or ".." in v:
            raise ValueError(said(f"'{v}' is not allowed: the name becomes a directory (results/<name>), "
                                  "so use letters, digits, '_', '-' and '.' (not first, no '..')",
                                  f"'{v}' er ikke tillatt: navnet blir en mappe (results/<navn>), så bruk "
                                  "bokstaver, sifre, '_', '-' og '.' (ikke først, ikke '..')"))
        return v


PayerName = Literal["state", "kommune", "none"]


class ScenarioBenefit(Benefit):
    """A benefit as a scenario sees it: sim's level in G, and optionally who pays it in the public
    budgets, overriding the fiscal rule (``contracts/data/fiscal.toml`` ``[benefit_payers]``),
    e.g. ``world.benefits.aap.payer = "kommune"``."""

    payer: PayerName | None = None


def _default_benefits() -> dict[str, ScenarioBenefit]:
    return {k: ScenarioBenefit(**b.model_dump()) for k, b in default_benefits().items()}


def _share(what: str) -> Any:
    return Field(default=0.0, description=what)


class ScenarioLabourMarket(LabourMarket):
    """The labour market as a scenario sees it: sim's temporary and permanent jobs, and two
    shares the public budgets use and sim does not (:mod:`effekt.contracts.displacement`):
    ``displacement_share``, of the programme's additional employment, jobs a participant got that
    someone else would otherwise have had, who is then out of work instead; and
    ``substitution_share``, of the programme's wage-subsidised job time, an employer swapping an
    existing worker for a subsidised one. Each offsets that share of the taxes, benefits saved and
    earnings the programme's work brings. Default 0 (assumption: small pilots in a local labour
    market of many vacancies take few jobs from others), e.g.
    ``--set world.labour_market.displacement_share=0.25``; booleans are refused."""

    displacement_share: float = _share("share of the programme's additional employment")
    substitution_share: float = _share("share of the programme's wage-subsidised job time")

    @field_validator("displacement_share", "substitution_share", mode="before")
    @classmethod
    def _a_share(cls, v: Any, info: Any) -> float:
        """A number from 0 to 1; a boolean or a string is refused, not converted (true is no 1)."""
        if isinstance(v, bool) or not isinstance(v, int | float) or not (math.isfinite(v) and 0 <= v <= 1):
            of = cls.model_fields[info.field_name].description
            shown = str(v).lower() if isinstance(v, bool) else repr(v)
            raise ValueError(said(f"{shown} is not allowed: a number from 0 to 1 (the {of}; 0 = every job "
                                  f"is additional), not a boolean or a string",
                                  f"{shown} er ikke tillatt: skal være et tall fra 0 til 1 "
                                  f"({_SHARES_NB[info.field_name]}; 0 = hver jobb kommer i tillegg), "
                                  "ikke true/false eller en tekst"))
        return float(v)


_SHARES_NB = {"displacement_share": "andelen av programmets ekstra sysselsetting",
              "substitution_share": "andelen av programmets lønnstilskuddstid"}
"""The shares' descriptions in bokmål, for their messages."""

LABOUR_MARKET_SHARES = ("displacement_share", "substitution_share")
"""The keys of ``world.labour_market`` that are the scenario's, not sim's."""


def _default_labour_market() -> ScenarioLabourMarket:
    return ScenarioLabourMarket(**default_labour_market().model_dump())


LONG_RUN_MAX_YEARS = 100
"""The longest long run a scenario may ask for: everyone referred has retired long before (the
world's retirement age is 67, and nobody is referred before 18), so more years add only zeros."""


class WorldSection(Strict):
    """``groups``, ``benefits`` and ``labour_market`` start from the built-in data files
    (``sim/data``); a scenario overrides single keys, e.g. ``[world.groups.B] bau_entry_rate = 0.3``
    or ``--set world.labour_market.temporary_share=0.5``."""

    horizon_weeks: float = Field(gt=0)
    long_run_years: float | None = Field(
        default=None, description="simulate every person on to this many years from the start "
        "(job loss and re-entry, benefits ending by their rules, retirement at 67) and report the "
        "public budgets over the long run beside the contract period (horizon_weeks), which the "
        "contract and every other KPI keep; default: the contract period only")
    cohorts: list[Cohort] = Field(min_length=1)
    counterfactual: Counterfactual = Counterfactual()
    groups: dict[str, TargetGroup] = Field(default_factory=default_target_groups)
    benefits: dict[str, ScenarioBenefit] = Field(default_factory=_default_benefits)
    labour_market: ScenarioLabourMarket = Field(default_factory=_default_labour_market)
    retirement_age: float | None = Field(
        default=None, gt=18, le=80, strict=True, allow_inf_nan=False,
        description="the age at which people leave the labour market (sim's default: 67, "
        "folketrygdloven kap. 20)")

    @field_validator("long_run_years", mode="before")
    @classmethod
    def _a_number_of_years(cls, v: Any) -> Any:
        """A number of years above 0 and at most the longest horizon; a boolean, a string or 0
        is refused, not converted (there is no 'true' long run, and 0 years is no long run)."""
        if v is None:
            return v
        longest = LONG_RUN_MAX_YEARS
        if (isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
                or not 0 < v <= longest):
            shown = str(v).lower() if isinstance(v, bool) else repr(v)
            raise ValueError(said(f"{shown} is not allowed: a number of years above 0 and at most "
                                  f"{longest:g} (e.g. 20) to simulate every person beyond the contract; "
                                  "leave the key out for the contract period only",
                                  f"{shown} er ikke tillatt: skal være et antall år over 0 og høyst "
                                  f"{longest:g} (f.eks. 20) for å simulere hver person forbi kontrakten; "
                                  "utelat nøkkelen for bare kontraktsperioden"))
        return float(v)


class TemplateRef(BaseModel):
    """A scenario file's ``[pathway]`` or ``[contract]``: the template and keys laid over it."""

    model_config = ConfigDict(extra="allow")
    template: str


class ScenarioLayout(Strict):
    """The sections of a scenario file as read, before the templates are merged in (each
    section's own keys are validated by :func:`resolve`)."""

    scenario: dict[str, Any]
    world: dict[str, Any]
    pathway: TemplateRef
    contract: TemplateRef
    design: dict[str, Any] = Field(default_factory=dict)
    evaluation: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class ScenarioTree:
    """A scenario as plain data, templates merged in: what overrides and design points edit, and
    what :func:`resolve` validates. ``source`` names the scenario file (or the manifest it was
    stored in), ``pathway_source`` and ``contract_source`` the templates, for messages.
    ``folder`` is the scenario file's folder, against which :func:`resolve` reads a relative
    file path among the data (a group's ``bau_pathway``), as the templates are read when the
    file is; empty for a stored tree, whose paths were made absolute when it was resolved."""

    data: dict[str, Any]
    source: str
    pathway_source: str = ""
    contract_source: str = ""
    folder: str = ""

    def with_values(self, values: Mapping[str, Any] | Iterable[tuple[str, Any]],
                    origin: str = "") -> ScenarioTree:
        """A copy with each dotted key set to its value, in order. ``origin`` says where the values
        come from in messages (e.g. ``--set world.cohorts[0].size=9``)."""
        items = values.items() if isinstance(values, Mapping) else values
        return self._edited((key, value, origin) for key, value in items)

    def _edited(self, items: Iterable[tuple[str, Any, str]]) -> ScenarioTree:
        data = copy.deepcopy(self.data)
        for key, value, origin in items:
            at = f"{origin}: " if origin else ""
            try:
                parts = parse_key(key)
            except SpecError as err:
                raise SpecError(self.source, [keyed(at, p, "") for p in err.problems]) from None
            first = str(parts[0])
            if first not in SECTIONS:
                hint = suggest(first, SECTIONS)
                raise SpecError(self.source, [said(
                    f"{at}'{first}' is no section{hint}; sections: {', '.join(SECTIONS)}",
                    f"{at}'{first}' er ingen seksjon{nb_hint(hint)}; seksjoner: {', '.join(SECTIONS)}")])
            if format_key(parts) in TEMPLATE_KEYS:
                raise SpecError(self.source, [said(
                    f"{at}{format_key(parts)} chooses a file, so it is set when the scenario file "
                    f"is read (--set {format_key(parts)}=...), not on a scenario already resolved",
                    f"{at}{format_key(parts)} velger en fil, så den settes når scenariofilen leses "
                    f"(--set {format_key(parts)}=...), ikke på et scenario som alt er løst opp")])
            try:
                set_value(data, parts, value)
            except SpecError as err:
                raise SpecError(self.source, [keyed(at, p, "") for p in err.problems]) from None
        return replace(self, data=data)


@dataclass(frozen=True)
class Scenario:
    """A validated, fully resolved experiment at one design point.

    ``resolved`` is its tree as plain data (what the manifest stores and the hash is taken of);
    :attr:`tree` gives it back as a :class:`ScenarioTree`, so the same scenario at other values is
    ``resolve(scenario.tree.with_values({...}))``.
    """

    info: ScenarioInfo
    world: World
    terms: Terms
    design: Design
    resolved: dict[str, Any]
    source: str
    pathway_source: str = ""
    contract_source: str = ""
    benefit_payers: dict[str, str] = field(default_factory=dict)
    """Who pays each benefit where the scenario overrides the fiscal rule
    (``world.benefits.<kind>.payer``); the other kinds follow ``contracts``' rule."""
    evaluation: EvaluationDesign = field(default_factory=EvaluationDesign)
    """``[evaluation]``: what the contract pays against (:class:`effekt.contracts.EvaluationDesign`;
    default randomised, the control arm). Under ``matched`` the world simulates the comparison
    arm (``world.counterfactual.comparison = "matched"`` is set for it)."""
    displacement_share: float = 0.0
    """``world.labour_market.displacement_share``: for the public budgets, not for sim."""
    substitution_share: float = 0.0
    """``world.labour_market.substitution_share``: for the public budgets, not for sim."""
    folder: str = ""
    """The scenario file's folder (:attr:`ScenarioTree.folder`): a relative file path set later
    (``scenario.tree.with_values``) is read against it too."""
    long_run_weeks: float | None = None
    """``world.long_run_years`` in weeks (x 52), None without a long run. :attr:`world` keeps the
    contract's horizon (what the contract and its KPIs see); :attr:`simulated_world` runs to the
    later of the two."""
    priors: dict[str, Prior] = field(default_factory=dict)
    """The numbers the files give as distributions (:mod:`effekt.priors`), by canonical dotted key.
    :attr:`world` and :attr:`terms` hold their point values; :attr:`resolved` keeps their tables,
    so the scenario rebuilt from it has the same priors. Drawn by ``[design.parameters]``."""

    @cached_property
    def simulated_world(self) -> World:
        """The world as simulated: :attr:`world` with its horizon carried on to the long run
        (``max(horizon_weeks, long_run_weeks)``) when the scenario has one, else :attr:`world`.
        It knows the contract's horizon (``contract_horizon_weeks``): what happens from then on is
        drawn from the long-run stream, so the contract period is the same as without a long run.
        Made once per scenario: the engine builds a world's fixed part once per world object."""
        if self.long_run_weeks is None or self.long_run_weeks <= self.world.horizon_weeks:
            return self.world
        return self.world.model_copy(update={"horizon_weeks": self.long_run_weeks,
                                             "contract_horizon_weeks": self.world.horizon_weeks})

    @property
    def fiscal(self) -> FiscalParams:
        """The fiscal rules of the scenario's country (``[scenario] country``: Norway's
        ``contracts/data/fiscal.toml`` by default)."""
        return fiscal_rules(self.info.country)

    @property
    def kpis(self) -> KpiRegistry:
        """The KPIs a replication of this scenario returns (the contract's, with the long-run
        public budgets when the scenario has a long run): the columns of its ``runs``, their money
        in the scenario's currency."""
        money = self.fiscal.money
        return kpis_for(self.terms, long_run=self.long_run_weeks is not None,
                        currency=self.info.currency or "NOK", base_name=money.base_name if money else "G")

    @property
    def hash(self) -> str:
        return _hash(self.resolved)

    @property
    def tree(self) -> ScenarioTree:
        """The tree this scenario resolves from (resolving it again gives an equal scenario)."""
        return ScenarioTree(copy.deepcopy(self.resolved), self.source, self.pathway_source,
                            self.contract_source, self.folder)


@dataclass(frozen=True)
class Experiment:
    """A scenario and its design points: ``scenarios[k]`` is the scenario at ``points[k]``.

    Without a sweep (or when the design is ignored) there is one point, ``{}``: the scenario as
    written.
    """

    base: Scenario
    points: list[dict[str, Any]]
    scenarios: list[Scenario]
    drawn: list[str] = field(default_factory=list)
    """The keys whose priors are drawn (``[design.parameters] draws``; two-level Monte Carlo):
    columns of ``runs``, with the draws as design points."""

    @property
    def draws(self) -> int:
        """Outer draws of the priors per policy (0: every prior at its point value)."""
        return self.base.design.draws if self.drawn else 0

    @property
    def parameters(self) -> list[str]:
        return list(self.points[0]) if self.points else []

    @property
    def replications(self) -> int:
        return self.base.design.replications

    @property
    def is_sweep(self) -> bool:
        return self.points != [{}]

    @property
    def hash(self) -> str:
        """Identity of the whole experiment: the resolved scenario and its design points, but not
        the number of replications. Replication r has the same seed whatever the total, so a
        results directory can be extended with more replications of the same experiment."""
        resolved = {**self.base.resolved,
                    "design": {k: v for k, v in self.base.resolved.get("design", {}).items()
                               if k != "replications"}}
        return _hash({**resolved, "points": self.points} if self.is_sweep else resolved)


def _hash(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def default_scenario_path() -> Path:
    return (Path(__file__).resolve().parent / "scenarios" / "default.toml")


# ---------------------------------------------------------------------------------------------
# merging templates (dotted keys themselves: effekt.dotted)


def deep_merge(base: dict[str, Any], over: dict[str, Any], where: str = "") -> dict[str, Any]:
    """``base`` with ``over`` laid on top, table by table. A new table whose name looks like a
    misspelling of one in ``base`` is an error (``where`` names the place in messages)."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        here = f"{where}.{k}" if where else k
        if isinstance(v, dict) and isinstance(out.get(k), dict) and not (is_prior(v) or is_prior(out[k])):
            out[k] = deep_merge(out[k], v, here)  # a prior is one value: an override replaces it whole
        else:
            if k not in out and isinstance(v, dict):
                hint = suggest(k, [t for t in out if isinstance(out[t], dict)], cutoff=0.75)
                if hint:
                    raise SpecError("", [said(f"{here}: not in the template{hint}",
                                              f"{here}: finnes ikke i malen{nb_hint(hint)}")])
            out[k] = copy.deepcopy(v)
    return out


# ---------------------------------------------------------------------------------------------
# resolution


def _pathway_data(ref: str, base: Path) -> tuple[dict[str, Any], str]:
    if ref in builtin_names():
        return builtin_pathway_data(ref)
    path = Path(ref) if Path(ref).is_absolute() else base / ref
    if not path.exists():
        names = builtin_names()
        hint = suggest(ref, names, 0.75)
        raise SpecError("", [said(f"pathway.template: no built-in pathway '{ref}' and no file {path}; "
                                  f"built-in: {', '.join(names)}{hint}",
                                  f"pathway.template: intet innebygd forløp '{ref}' og ingen fil {path}; "
                                  f"innebygde: {', '.join(names)}{nb_hint(hint)}")])
    return read_toml(path), str(path)


def _resolve_ref(ref: str, base: Path) -> str:
    p = Path(ref)
    return ref if p.is_absolute() or not ref.endswith(".toml") else str(base / p)


def _anchored(ref: Any, folder: Path) -> Any:
    """A business-as-usual pathway reference read against ``folder``: a built-in name, an
    absolute path or anything that is no text stays as it is; a relative file path (ending in
    ``.toml``, or naming a file in ``folder``) becomes ``folder / ref``."""
    if not isinstance(ref, str) or ref in business_as_usual_names() or Path(ref).is_absolute():
        return ref
    there = folder / ref
    return str(there) if ref.endswith(".toml") or there.exists() else ref


def _with_anchored_files(world: Any, folder: str) -> Any:
    """The world table with each group's ``bau_pathway`` (one reference, or one per benefit kind)
    read against the scenario's ``folder`` (:func:`_anchored`), not the working directory: one
    scenario gives one result wherever it is run from. A copy; ``world`` is not changed."""
    groups = world.get("groups") if isinstance(world, dict) else None
    if not folder or not isinstance(groups, dict):
        return world
    base = Path(folder)
    out_groups = {}
    for name, g in groups.items():
        ref = g.get("bau_pathway") if isinstance(g, dict) else None
        if isinstance(ref, dict):
            g = {**g, "bau_pathway": {kind: _anchored(r, base) for kind, r in ref.items()}}
        elif ref is not None:
            g = {**g, "bau_pathway": _anchored(ref, base)}
        out_groups[name] = g
    return {**world, "groups": out_groups}


def _anchored_country(info: dict[str, Any], base: Path) -> str:
    """The scenario's ``country``: a built-in code as it is; a folder path read against the
    scenario's folder ``base`` and written back into ``info`` as an absolute path (so the stored
    scenario reads the same files wherever it is rebuilt). The folder must exist."""
    country = info.get("country", "no")
    if not isinstance(country, str) or country in WORLD_COUNTRIES:
        return country if isinstance(country, str) else "no"
    folder = country_dir(country, base)
    info["country"] = str(folder)
    return str(folder)


def _world_data(world: dict[str, Any], country: str = "no") -> dict[str, Any]:
    """The scenario's world table with the country's world data (sim's built-in files, or a
    country folder's) merged under its overrides."""
    defaults = builtin_world_data(country)
    out = dict(world)
    for key, base in defaults.items():
        over = world.get(key, {})
        if isinstance(over, dict):
            out[key] = deep_merge(base, over, f"world.{key}")
    return out


def _validated(model, data: Any, section: str, source: str, context: dict[str, Any] | None = None):
    """``data`` validated as ``model`` (with the validation ``context``, e.g. the benefit kinds of
    the world: :func:`_world_context`); each problem is named by its dotted key in the scenario
    (``section.`` before the key the model reports; a whole-section check names its own key)."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as err:
        raise SpecError(source, [keyed(section, p, ".") for p in format_validation_error(model, err)]
                        ) from None


def _anchored_posteriors(data: dict[str, Any], path: Path, source: str) -> dict[str, Any]:
    """A file's data with its ``{ calibrated = ... }`` references read against the file's own
    folder (:func:`effekt.priors.anchor_calibrated`), not the current one; a reference found
    nowhere is refused naming the file, the key and where it looked."""
    anchored, problems = anchor_calibrated(data, path.parent)
    if problems:
        raise SpecError(source, problems)
    return anchored


def read_tree(path: str | Path, assignments: Iterable[str] = (), option: str = "--set") -> ScenarioTree:
    """Read scenario file ``path``, merge its templates in and apply ``--set KEY=VALUE``
    ``assignments`` (template choices first: they decide which files the other keys reach into).
    ``option`` is how messages name where an assignment came from (``--variant b:`` in compare).

    Nothing is validated beyond the file's layout here; :func:`resolve` validates the tree."""
    path = Path(path)
    source = str(path)
    raw = _anchored_posteriors(read_toml(path), path, source)
    parsed: list[tuple[str, str, Any]] = []
    for text in assignments:
        try:
            parsed.append((text, *parse_assignment(text)))
        except SpecError as err:
            raise SpecError(source, [keyed(option, p, " ") for p in err.problems]) from None
    for text, key, value in parsed:
        if canonical(key) in TEMPLATE_KEYS:
            try:
                set_value(raw, key, value)
            except SpecError as err:
                raise SpecError(source, [keyed(f"{option} {text}", p) for p in err.problems]) from None
    try:
        layout = ScenarioLayout.model_validate(raw)
    except ValidationError as err:
        raise SpecError(source, format_validation_error(ScenarioLayout, err)) from None
    base = path.parent
    try:
        country = _anchored_country(raw["scenario"], base)
        world = _world_data(raw["world"], country)
    except SpecError as err:  # a country folder's file: name it beside the scenario
        where = f"{source} [world data {err.source}]" if err.source and err.source != source else source
        raise SpecError(where, err.problems) from None
    try:
        p_data, p_src = _pathway_data(layout.pathway.template, base)
        p_data = _anchored_posteriors(p_data, Path(p_src), p_src)
        p_over = {k: v for k, v in raw["pathway"].items() if k != "template"}
        pathway = deep_merge(p_data, p_over, "pathway")
        c_ref = _resolve_ref(layout.contract.template, base)
        if c_ref not in template_names() and not Path(c_ref).exists():  # named like the pathway's
            names = template_names()
            hint = suggest(str(layout.contract.template), names, 0.75)
            raise SpecError("", [said(f"contract.template: no contract template '{layout.contract.template}' "
                                      f"and no file {c_ref}; templates: {', '.join(names)}{hint}",
                                      f"contract.template: ingen kontraktmal '{layout.contract.template}' "
                                      f"og ingen fil {c_ref}; maler: {', '.join(names)}{nb_hint(hint)}")])
        c_data, c_src = terms_data(c_ref)
        c_data = _anchored_posteriors(c_data, Path(c_src), c_src)
        c_over = {k: v for k, v in raw["contract"].items() if k != "template"}
        contract = deep_merge(c_data, c_over, "contract")
    except SpecError as err:
        raise SpecError(err.source or source, err.problems) from None
    data = copy.deepcopy({"scenario": raw["scenario"], "world": world, "pathway": pathway,
                          "contract": contract, "design": raw.get("design", {}),
                          "evaluation": raw.get("evaluation", {})})
    tree = ScenarioTree(data, source, p_src, c_src, str(base.resolve()))
    return tree._edited((key, value, f"{option} {text}") for text, key, value in parsed
                        if canonical(key) not in TEMPLATE_KEYS)


def resolve(tree: ScenarioTree) -> Scenario:
    """The typed, validated :class:`Scenario` of a tree: every section checked by its model (all
    problems of ``scenario``, ``world`` and ``design`` at once), the world built, and the checks
    that need the whole scenario (the horizon covers the contract; a contract that compares with
    a control arm has one). Errors name ``tree.source`` and the dotted key.

    Numbers given as priors (:mod:`effekt.priors`, in any section but ``design``) are resolved at
    their point values; the whole scenario must also resolve with each prior at its 0.1 % and
    99.9 % quantiles (one at a time, the others at their point values), else the prior is refused
    naming its key. The scenario keeps the priors (:attr:`Scenario.priors`; those of target groups
    no cohort draws people from are left out, as they change nothing) and their tables in
    :attr:`Scenario.resolved`."""
    priors, tables, problems = find_priors(tree.data, skip=("design",))
    if problems:
        raise SpecError(_prior_source(tree, problems), problems)
    if not priors:
        return _resolve_numbers(tree)
    at_point = replace(tree, data=with_values(tree.data, point_values(priors)))
    parts = _checked_parts(at_point)
    scenario = _scenario_of(at_point, parts)
    tails = tail_problems(priors, functools.partial(_tail_refused, at_point, parts))
    if tails:
        raise SpecError(_prior_source(tree, tails), tails)
    in_cohorts = {g for c in scenario.world.cohorts for g in c.groups}
    used = {key: p for key, p in priors.items()  # a target group no cohort draws people from changes nothing
            if not (key.startswith("world.groups.") and parse_key(key)[2] not in in_cohorts)}
    resolved = copy.deepcopy(scenario.resolved)
    for key, table in tables.items():
        try:
            get_value(resolved, key)
        except SpecError:
            continue  # a key the validated section does not keep under that name: its number stays
        set_value(resolved, key, table)
    return replace(scenario, resolved=resolved, priors=used)


_READS: dict[str, tuple[str, ...]] = {
    "scenario": ("scenario",), "world": ("scenario", "world"), "design": ("design",),
    "evaluation": ("evaluation",), "pathway": ("pathway",), "contract": ("contract",),
    "built_world": ("scenario", "world", "pathway", "evaluation"),
}
"""The sections of a tree each validated part of :func:`_checked_parts` is made from (the world
section's benefit kinds come from the country, ``scenario.country``; the built world also from
the pathway and the evaluation design). A tail check of a prior in one section makes again only
the parts that read it: every other part is the same as at the point values (the checks of the
whole scenario, and the contract priced in the country's money, are made again every time)."""


def _tail_refused(at_point: ScenarioTree, parts: dict[str, Any], key: str, number: Any) -> list[str]:
    """The problems of ``at_point`` with ``number`` at ``key`` (a prior's tail quantile, the other
    priors at their point values), empty when the scenario resolves: exactly those of
    :func:`_resolve_numbers`, but the parts that do not read the key's section are taken from the
    scenario at its point values (``parts``, which resolved) instead of being validated again,
    and no :class:`Scenario` is made. A scenario with seven priors is checked fourteen times: this
    was most of ``effekt validate``'s own work (issue 14)."""
    section = str(parse_key(key)[0])
    data = {**at_point.data, section: with_values(at_point.data[section], {})}  # a copy; the others shared
    set_value(data, key, number)
    known = {part: value for part, value in parts.items() if section not in _READS.get(part, SECTIONS)}
    try:
        _checked_parts(replace(at_point, data=data), known)
    except SpecError as err:
        return err.problems
    return []


def _prior_source(tree: ScenarioTree, problems: list[str]) -> str:
    """The scenario file, and the pathway or contract template a prior's key lies in."""
    where = [f"{s} template {f}" for s, f in (("pathway", tree.pathway_source),
                                               ("contract", tree.contract_source))
             if f and any(p.startswith(f"{s}.") for p in problems)]
    return tree.source + (f" [{'; '.join(where)}]" if where else "")


def _resolve_numbers(tree: ScenarioTree) -> Scenario:
    """:func:`resolve` of a tree whose numbers are all numbers (no priors)."""
    return _scenario_of(tree, _checked_parts(tree))


def _checked_parts(tree: ScenarioTree, known: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The validated parts of a tree whose numbers are all numbers, by name (the sections'
    models as :data:`_READS` names them, ``priced_terms`` the contract priced in the country's
    currency), after every check that needs the whole scenario; a :class:`SpecError` names the
    first problems found, section by section as :func:`resolve` says. A part in ``known`` is
    taken as it is (it was validated from the same data), not validated again."""
    known = known or {}
    d = tree.data
    unknown = [k for k in d if k not in SECTIONS]
    listed = ", ".join(SECTIONS)
    problems: list[str] = [said(f"{k}: no such section{suggest(str(k), SECTIONS)}; sections: {listed}",
                                f"{k}: ingen slik seksjon{nb_hint(suggest(str(k), SECTIONS))}; "
                                f"seksjoner: {listed}")
                           for k in unknown]
    parts: dict[str, Any] = {}
    if "world" in d and "world" not in known:
        d = {**d, "world": _with_anchored_files(d["world"], tree.folder)}
    context = _world_context(d)  # the world's benefit kinds, for the groups' and benefits' checks
    for section, model in (("scenario", ScenarioInfo), ("world", WorldSection), ("design", Design),
                           ("evaluation", EvaluationDesign)):
        if section in known:
            parts[section] = known[section]
            continue
        try:
            parts[section] = _validated(model, d.get(section, {}), section, tree.source,
                                        context if section == "world" else None)
        except SpecError as err:
            problems.extend(err.problems)
    if problems:
        raise SpecError(tree.source, problems)
    for section, model, template in (("pathway", Pathway, tree.pathway_source),
                                     ("contract", Terms, tree.contract_source)):
        if section not in known:
            parts[section] = _validated(model, d.get(section, {}), section,
                                        f"{tree.source} [{section}, template {template or 'as stored'}]")
    parts = {**known, **parts}
    if "built_world" not in known:
        parts["built_world"] = _built_world(parts, context, tree.source)
    info, top_world, evaluation = parts["scenario"], parts["world"], parts["evaluation"]
    world, terms = parts["built_world"], parts["contract"]
    _check_horizon(world, terms, tree.source)
    _check_groups(world, terms, tree.source)
    _check_long_run(top_world, evaluation, tree.source)
    _check_evaluation(evaluation, terms, tree.source)
    if evaluation.is_randomised:  # other designs compare with something else than the control arm
        _check_control_arm(world, terms, tree.source)
    payers = {k: b.payer for k, b in top_world.benefits.items() if b.payer}
    parts["priced_terms"] = _check_country(info, world, terms, payers, tree.source)
    return parts


def _built_world(parts: Mapping[str, Any], context: dict[str, Any] | None, source: str) -> World:
    """sim's :class:`World` of the validated sections (``context``: the world's benefit kinds,
    for the groups' and benefits' checks, :func:`_world_context`)."""
    top_world: WorldSection = parts["world"]
    try:
        return World.model_validate(dict(
            pathway=parts["pathway"], cohorts=top_world.cohorts, horizon_weeks=top_world.horizon_weeks,
            counterfactual=_counterfactual_for(top_world.counterfactual, parts["evaluation"]),
            groups=top_world.groups,
            benefits={k: Benefit.model_validate(b.model_dump(exclude={"payer"}), context=context)
                      for k, b in top_world.benefits.items()},
            labour_market=LabourMarket(**top_world.labour_market.model_dump(exclude=set(LABOUR_MARKET_SHARES))),
            **({"retirement_age": top_world.retirement_age} if top_world.retirement_age is not None else {})),
            context=context)
    except ValidationError as err:
        raise SpecError(source, [keyed("world", error_message(e), ".") for e in err.errors()]) from None


def _scenario_of(tree: ScenarioTree, parts: Mapping[str, Any]) -> Scenario:
    """The :class:`Scenario` of a tree's validated parts (:func:`_checked_parts`), with its
    resolved tree: the sections as validated (their defaults filled in), the pathway and the
    contract as written."""
    d = tree.data
    info, top_world, design = parts["scenario"], parts["world"], parts["design"]
    evaluation: EvaluationDesign = parts["evaluation"]
    world_data = top_world.model_dump()
    if world_data["long_run_years"] is None:  # off: the resolved tree (and its hash) as before the key
        del world_data["long_run_years"]
    if world_data["retirement_age"] is None:  # the default: the resolved tree as before the key
        del world_data["retirement_age"]
    design_data = design.model_dump()
    if design_data["parameters"] is None:  # no [design.parameters]: the resolved tree as before the key
        del design_data["parameters"]
    info_data = info.model_dump()
    if info_data["country"] == "no":  # the default: the resolved tree (and its hash) as before the key
        del info_data["country"]
    resolved = {
        "scenario": info_data,
        "world": world_data,
        "pathway": copy.deepcopy(d["pathway"]),
        "contract": copy.deepcopy(d["contract"]),
        "design": design_data,
        "evaluation": evaluation.model_dump(),
    }
    return Scenario(info=info, world=parts["built_world"], terms=parts["priced_terms"], design=design,
                    resolved=resolved, source=tree.source, pathway_source=tree.pathway_source,
                    contract_source=tree.contract_source,
                    benefit_payers={k: b.payer for k, b in top_world.benefits.items() if b.payer},
                    displacement_share=top_world.labour_market.displacement_share,
                    substitution_share=top_world.labour_market.substitution_share,
                    evaluation=evaluation, folder=tree.folder,
                    long_run_weeks=(top_world.long_run_years * 52.0
                                    if top_world.long_run_years is not None else None))


def _world_context(d: dict[str, Any]) -> dict[str, Any] | None:
    """The validation context of a tree's world (:data:`effekt.sim.KINDS_CONTEXT`): the benefit
    kinds its groups may name are those of its benefits (the country's file merged with the
    scenario's overrides), and messages name the country's benefits file. None for a tree without
    a benefits table (the built-in Norwegian kinds)."""
    world = d.get("world")
    benefits = world.get("benefits") if isinstance(world, dict) else None
    if not isinstance(benefits, dict):
        return None
    country = d.get("scenario", {}).get("country", "no") if isinstance(d.get("scenario"), dict) else "no"
    try:
        where = str(country_files(str(country))["benefits"])
    except (SpecError, TypeError):
        where = "the benefits file"
    return {KINDS_CONTEXT: tuple(benefits), "benefits_file": f"{where} with the scenario's world.benefits"}


def _check_country(info: ScenarioInfo, world: World, terms: Terms, payers: dict[str, str],
                   source: str) -> Terms:
    """The country's fiscal rules (:func:`effekt.contracts.fiscal_rules`) know every benefit kind
    of the world: each has a payer (the rules' ``[benefit_payers]`` or the scenario's
    ``world.benefits.<kind>.payer``) and, where the rules tax benefits, a tax class; and the
    contract's money is in the country's currency (or converted to NOK, as always, in Norway).
    Returns the terms priced in that currency (:meth:`effekt.contracts.Valuation.priced`)."""
    from effekt.contracts import Valuation

    rules = fiscal_rules(info.country)
    where = rules.source or str(fiscal_path(info.country))
    problems = []
    for kind in world.benefits:
        if kind == "none":
            continue
        if kind not in rules.benefit_payers and kind not in payers:
            problems.append(said(
                f"world.benefits.{kind}: no payer in {where} [benefit_payers]; add {kind} = "
                "\"state\" (or \"kommune\", \"none\", or shares such as { state = 0.5, kommune "
                f"= 0.5 }}) there with its source, or set world.benefits.{kind}.payer",
                f"world.benefits.{kind}: ingen betaler i {where} [benefit_payers]; legg til {kind} = "
                "\"state\" (eller \"kommune\", \"none\", eller andeler som { state = 0.5, kommune "
                f"= 0.5 }}) der med kilden, eller sett world.benefits.{kind}.payer"))
        if rules.taxable_benefits and kind not in rules.taxable_benefits:
            classes = ["wage", *sorted(rules.benefit_tax_classes)]
            problems.append(said(
                f"world.benefits.{kind}: no tax class in {where} [taxable_benefits]; add "
                f"{kind} = one of {classes}, or false when it is not taxed, with its source",
                f"world.benefits.{kind}: ingen skatteklasse i {where} [taxable_benefits]; legg til "
                f"{kind} = en av {classes}, eller false når den ikke skattlegges, med kilden"))
    kinds = sorted(world.benefits)
    named_kinds = (("benefit_payers", rules.benefit_payers), ("taxable_benefits", rules.taxable_benefits))
    for table, named in named_kinds:
        for kind in sorted(named or {}):  # a misspelt kind here would silently never apply
            if kind not in world.benefits:
                hint = suggest(kind, kinds, 0.6)
                problems.append(said(
                    f"{where} [{table}] {kind}: no benefit kind '{kind}' in the world's benefits"
                    f"{hint}; kinds: {', '.join(kinds)}",
                    f"{where} [{table}] {kind}: ingen ytelse '{kind}' blant verdens ytelser"
                    f"{nb_hint(hint)}; ytelser: {', '.join(kinds)}"))
    if problems:
        raise SpecError(source, problems)
    try:
        return Valuation.for_rules(rules).priced(terms)
    except SpecError as err:
        raise SpecError(source, err.problems) from None


def horizon_needed(terms: Terms) -> tuple[int, str]:
    """The months of simulated time the contract needs to see everything it pays for, and the
    contract key that sets them (times 52/12 gives the weeks).

    Outcomes count when reached by the end of month ``contract.term_months`` (cohort and pooled triggers
    count the same outcomes), and a savings share sums the public gain over its first
    ``savings_share.window_months`` months: the simulation has to reach the later of the two.
    The payment lag and the final evaluation month need no simulated time: they only say when
    outcomes already reached are paid. Outcome windows (``window_weeks``) count from a person's
    entry but are cut at the end of the term, so they add nothing either.
    """
    months, key = terms.contract.term_months, "contract.contract.term_months"
    share = terms.savings_share
    if share is not None and share.window_months > months:
        months, key = share.window_months, "contract.savings_share.window_months"
    return months, key


def _check_horizon(world: World, terms: Terms, source: str) -> None:
    """A horizon shorter than the contract cuts outcomes off, which silently gives wrong money."""
    months, key = horizon_needed(terms)
    need = months * WEEKS_PER_MONTH
    if world.horizon_weeks < need - 1e-9:
        raise SpecError(source, [said(
            f"world.horizon_weeks ({world.horizon_weeks:g}) is shorter than the contract: {key} = "
            f"{months} months needs a horizon of at least {need:.6g} weeks ({months} x 52/12); "
            f"outcomes after the horizon would silently go unpaid. Raise world.horizon_weeks to "
            f"{math.ceil(need - 1e-9)} or more, or shorten {key}",
            f"world.horizon_weeks ({nb_number(world.horizon_weeks)}) er kortere enn kontrakten: {key} = "
            f"{months} måneder trenger en horisont på minst {nb_number(need)} uker ({months} x 52/12); "
            f"resultater etter horisonten ville ikke bli betalt, uten varsel. Øk world.horizon_weeks til "
            f"{math.ceil(need - 1e-9)} eller mer, eller forkort {key}")])


def _check_long_run(world: WorldSection, evaluation: EvaluationDesign, source: str) -> None:
    """A long run reaches at least as far as the contract period, and is not combined with a
    matched comparison group (which is built from whoever the pathway admits while the
    simulation runs, so a longer simulation would change whom the contract is measured on)."""
    years = world.long_run_years
    if years is None:
        return
    if years * 52.0 < world.horizon_weeks - 1e-9:
        raise SpecError(source, [said(
            f"world.long_run_years = {years:g} ({years * 52:g} weeks) ends before the contract period "
            f"(world.horizon_weeks = {world.horizon_weeks:g}, {world.horizon_weeks / 52:.3g} years): "
            f"the long run has to reach at least as far; raise it to {math.ceil(world.horizon_weeks / 52)} "
            "or more (e.g. 20), or leave it out",
            f"world.long_run_years = {years:g} ({nb_number(years * 52)} uker) slutter før kontraktsperioden "
            f"(world.horizon_weeks = {world.horizon_weeks:g}, {nb_number(world.horizon_weeks / 52, 3)} år): "
            f"det lange løpet må nå minst like langt; øk det til {math.ceil(world.horizon_weeks / 52)} "
            "eller mer (f.eks. 20), eller utelat det")])
    if evaluation.design == "matched":
        raise SpecError(source, [said(
            "world.long_run_years cannot be combined with evaluation.design = 'matched' (yet): the "
            "matched comparison group is built from everyone the pathway admits while the simulation "
            "runs, so simulating on to the long run would change whom the contract is measured on; "
            "leave world.long_run_years out, or use evaluation.design = 'randomised'",
            "world.long_run_years kan (ennå) ikke kombineres med evaluation.design = 'matched': den "
            "matchede sammenligningsgruppen bygges av alle forløpet tar inn mens simuleringen går, så "
            "å simulere videre til det lange løpet ville endre hvem kontrakten måles på; utelat "
            "world.long_run_years, eller bruk evaluation.design = 'randomised'")])


def _counterfactual_for(cf: Counterfactual, evaluation: EvaluationDesign) -> Counterfactual:
    """The world's counterfactual, with the matched comparison group simulated when the
    evaluation design compares with it (``evaluation.design = "matched"``)."""
    if evaluation.design != "matched" or cf.comparison == "matched":
        return cf
    return Counterfactual.model_validate({**cf.model_dump(), "comparison": "matched"})


def _check_groups(world: World, terms: Terms, source: str) -> None:
    """Target groups a contract names per group (``expected_weeks_by_group``, a price's
    ``by_group``) must be the world's: a misspelt group would silently get the default."""
    groups = sorted(world.groups)
    problems = []
    for name, o in terms.outcomes.items():
        for g in getattr(o, "expected_weeks_by_group", None) or {}:
            if g not in world.groups:
                hint = suggest(g, groups)
                problems.append(said(
                    f"contract.outcomes.{name}.expected_weeks_by_group.{g}: no target group "
                    f"'{g}'{hint}; the world's groups: {', '.join(groups)}",
                    f"contract.outcomes.{name}.expected_weeks_by_group.{g}: ingen målgruppe "
                    f"'{g}'{nb_hint(hint)}; verdens grupper: {', '.join(groups)}"))
    for name, p in terms.prices.items():
        for g in getattr(p, "by_group", None) or {}:
            if g not in world.groups:
                hint = suggest(g, groups)
                problems.append(said(
                    f"contract.prices.{name}.by_group.{g}: no target group '{g}'"
                    f"{hint}; the world's groups: {', '.join(groups)}",
                    f"contract.prices.{name}.by_group.{g}: ingen målgruppe '{g}'"
                    f"{nb_hint(hint)}; verdens grupper: {', '.join(groups)}"))
    if problems:
        raise SpecError(source, problems)


def _check_evaluation(evaluation: EvaluationDesign, terms: Terms, source: str) -> None:
    """A design that cannot measure what the contract pays for (a savings share against a
    historical baseline, a trigger relative to no comparison, a baseline without the contract's
    outcomes) is refused when the scenario is loaded, naming the keys."""
    problems = evaluation.problems(terms, prefix="evaluation.", contract_prefix="contract.")
    if problems:
        raise SpecError(source, problems)


def _check_control_arm(world: World, terms: Terms, source: str) -> None:
    """A contract that compares with the control arm cannot be evaluated without one: say so when
    the scenario is loaded, not halfway through a batch."""
    if world.counterfactual.mode != "none":
        return
    comparisons = needs_control(terms)
    if comparisons:
        keys = "; ".join(f"contract.{c}" for c in comparisons)
        raise SpecError(source, [said(
            f"world.counterfactual.mode = 'none' simulates no control arm, but the contract compares "
            f"with one: {keys}. Use "
            "world.counterfactual.mode = 'parallel' or 'rct', or a contract that does not compare "
            "with a control arm",
            f"world.counterfactual.mode = 'none' simulerer ingen kontrollgruppe, men kontrakten "
            f"sammenligner med en: {keys}. Bruk world.counterfactual.mode = 'parallel' eller 'rct', "
            "eller en kontrakt som ikke sammenligner med en kontrollgruppe")])


def load_scenario(path: str | Path | None = None, assignments: Iterable[str] | None = None,
                  option: str = "--set") -> Scenario:
    """Read, resolve and validate a scenario file (the built-in default when ``path`` is None);
    ``option`` names the assignments' origin in messages (see :func:`read_tree`)."""
    path = Path(path) if path is not None else default_scenario_path()
    return resolve(read_tree(path, list(assignments or []), option))


def load_experiment(path: str | Path | None = None, assignments: Iterable[str] | None = None,
                    sweep: bool = True, force: bool = False, workers: int | None = 1,
                    progress: Callable[[int, int], None] | None = None) -> Experiment:
    """The scenario at every design point of its ``[design]`` (just the scenario if ``sweep`` is
    False or the design varies nothing). Every point is validated here, before anything runs.

    ``[design.parameters] draws`` (outer draws of the scenario's priors) are made with or without
    ``sweep``: they are the scenario's own uncertainty, not a sweep (``effekt run --draws``).
    A design of more than :data:`effekt.experiments.workload.MAX_DESIGN_POINTS` points is refused
    before its points are built, unless ``force``.

    ``workers``: local processes that build the points (a point of a scenario with priors costs
    some 40 ms, its priors' tails checked again there: issue 14), in chunks of
    :func:`_chunk_size`; the same :class:`Experiment` and, for a point that does not validate, the
    same error as one process (the first such point in the design's order), whatever the number.
    ``progress(done, total)`` is called as points are built (``effekt run``'s bar on a terminal)."""
    path = Path(path) if path is not None else default_scenario_path()
    tree = read_tree(path, list(assignments or []))
    base = resolve(tree)
    check_priors_in_design(base.design, base.priors, base.source)
    points, drawn = design_points(base.design, base.priors, grid=sweep, with_drawn=True)
    check_design_size(len(points), base.source, force)
    origins = {key: f"design.{t}.'{key}'" for t in ("sweep", "levers", "uncertainties")
               for key in getattr(base.design, t)}
    origins.update({key: f"design.parameters (a draw of the prior of {key})" for key in drawn})
    if points == [{}]:  # nothing varied: the scenario as written
        return Experiment(base=base, points=points, scenarios=[base], drawn=drawn)
    scenarios = _point_scenarios(tree, origins, points, workers, progress)
    return Experiment(base=base, points=points, scenarios=scenarios, drawn=drawn)


PARALLEL_POINTS = 16
"""Fewer design points than this are built in the calling process whatever ``workers`` says:
starting the processes (some 50 ms) would cost more than it saves."""


def _chunk_size(points: int, workers: int) -> int:
    """Design points a process builds at a time: about eight chunks a worker (the bar moves, and
    the last chunks leave no worker idle for long), at most 64 (the tree is sent once a chunk);
    one at a time in one process (the bar moves with every point)."""
    if workers <= 1:
        return 1
    return max(1, min(64, math.ceil(points / (8 * workers))))


def _point_scenarios(tree: ScenarioTree, origins: dict[str, str], points: list[dict[str, Any]],
                     workers: int | None, progress: Callable[[int, int], None] | None) -> list[Scenario]:
    """The :class:`Scenario` of ``tree`` at each of ``points`` (``origins``: how a message names
    where each key's value came from), built on ``workers`` local processes
    (:func:`_built_on_processes`) or in this one; raises the first point's error in order."""
    n = len(points)
    workers = (os.cpu_count() or 1) if workers is None else int(workers)  # None: all cores, as the executors
    workers = max(1, min(workers, math.ceil(n / 4))) if n >= PARALLEL_POINTS else 1
    size = _chunk_size(n, workers)
    indexed = list(enumerate(points))
    jobs = [(tree, origins, indexed[start:start + size]) for start in range(0, n, size)]
    scenarios: list[Scenario] = []
    if progress is not None:
        progress(0, n)
    # in this process the executors (and multiprocessing) are not even imported: effekt validate
    chunks = _built_on_processes(jobs, workers) if workers > 1 else (_chunk_scenarios(job) for job in jobs)
    with closing(chunks):
        for built, error in chunks:
            scenarios.extend(built)
            if progress is not None:
                progress(len(scenarios), n)
            if error is not None:
                raise error  # closing the chunks' generator cancels the rest and ends the processes
    return scenarios


def _built_on_processes(jobs: list[Any], workers: int) -> Iterator[tuple[list[Scenario], SpecError | None]]:
    """:func:`_chunk_scenarios` of each job on ``workers`` local processes, in the jobs' order
    (:func:`effekt.experiments.executors.map_in_order`); a process killed is an
    :class:`~effekt.experiments.executors.ExecutorLost` that says nothing has run."""
    from effekt.experiments.executors import ExecutorLost, ProcessExecutor, map_in_order

    try:  # a pool of this call's own (not kept): an error or Ctrl-C ends its processes at once
        with closing(map_in_order(ProcessExecutor(workers), _chunk_scenarios, jobs)) as out:
            yield from out
    except ExecutorLost:
        raise ExecutorLost(said(
            "a process building the design points died (killed from outside, or by the system for want "
            "of memory); nothing has run and nothing is stored: run the command again, or with "
            "--workers 1",
            "en prosess som bygde designpunktene, døde (stoppet utenfra, eller av systemet for lite "
            "minne); ingenting er kjørt og ingenting er lagret: kjør kommandoen på nytt, eller med "
            "--workers 1")) from None


def _chunk_scenarios(job: tuple[ScenarioTree, dict[str, str], list[tuple[int, dict[str, Any]]]]
                     ) -> tuple[list[Scenario], SpecError | None]:
    """The scenarios of a chunk of design points ``(k, point)`` (a task of
    :func:`_point_scenarios`, in whichever process), up to the first point that does not
    validate, and that point's error (naming it) or None."""
    tree, origins, chunk = job
    built = []
    for k, point in chunk:
        try:
            built.append(resolve(tree._edited((key, value, origins[key]) for key, value in point.items())))
        except SpecError as err:
            where = ", ".join(f"{key}={value!r}" for key, value in point.items())
            return built, SpecError(err.source, [_at_point(k, where, p) for p in err.problems])
    return built, None
