"""The beregningsmodell: what the programme means for each public budget, month by month.

For each arm and each public party (kommune, fylke, state, and other_kommuner for the part of the
kommune's tax that inntektsutjevning passes on; the commissioners of a contract are parties too)
this integrates over the spells:

* **benefits** paid (negative), from each spell's benefit in the country's base amount (multiples
  of G in Norway) times the base amount ``G``, paid by the party (or parties, in shares) the
  fiscal rules name for that kind of benefit (``[benefit_payers]`` in ``contracts/data/fiscal.toml``:
  who pays a benefit is a rule of public finance, owned here; a valuation can override it);
* **income tax** (positive) per person and year (contract years, months 12y .. 12y + 11, as the
  ``budgets/`` table's): the year's taxable income is the sum over the person's spells of the wage
  x fte plus the benefit if ``[taxable_benefits]`` gives that kind a tax class, each x the spell's
  weeks in that year / 52; the wage and a benefit of the ``wage`` class (AAP, dagpenger) are taxed
  at the wage rule's average rate for that yearly income, a benefit of another class (``pension``:
  uføretrygd, introduksjonsstønad, kvalifiseringsstønad, trygdeavgift at the low rate;
  ``ordinary_income``: tiltakspenger, alminnelig inntekt only) at its class's average rate for the
  same income (``[benefit_tax_classes]``), so a job after half a year on a benefit is taxed on the
  year's whole income, each krone by its own class, and a benefit stopped by a job takes its tax
  with it; the year's tax falls in the months in proportion to the income earned in them; split
  between the kommune (its skatteøre, of which it keeps the ``[inntektsutjevning]`` share and the
  rest goes to ``other_kommuner``), the fylke (its skatteøre) and the state (the rest);
* **employer contributions** (arbeidsgiveravgift) on wages, to the state;
* the **integration grant** the state pays the kommune per settled refugee (state negative,
  kommune positive) while the person has not moved away;
* **wage costs** of every job a public party pays (the spells' ``wage_payer``: wage x fte plus
  employer contributions), the **value of the work** done in it (``[wages] productivity_share`` of
  that wage cost, to the same party) or, for a job whose stage matches ``[wages]
  revenue_share_by_stage`` (a municipal enterprise that sells its work), the **sales revenue**
  (that share of the wage cost, to the same party, instead of the value of the work), and **wage
  subsidies** (lønnstilskudd: ``subsidy_share`` of the wage cost, from ``subsidy_payer`` to the wage
  payer): one rule, so the net cost of a public
  job is wage cost - value of the work - subsidy received, whether it is a kommune engagement, a
  project position or a subsidised job; an ordinary employer's wage is no public cost;
* **programme costs** the pathway charges to a public party (spells' ``cost_once``,
  ``cost_cohort`` — a stage's per-cohort cost, on the kull's first entrant —, ``cost_per_week``,
  ``cost_payer``).

NAV counts as the state. Columns a table lacks are skipped (older tables, observed data). A
benefit kind the spells use that the rules do not know (no payer, or not in a
``[taxable_benefits]`` table) is refused with a :class:`effekt.specfile.SpecError` naming the kind
and the file, never paid or taxed by nobody silently. docs/public-finances.md explains the model
in Norwegian terms, with a worked example per party.

The contract's own flows (outcome payments, coupons, guarantees, bridge funding) are added by
:mod:`effekt.contracts.evaluate`. The **difference** arm is treatment minus control, the control scaled
to the treatment arm's size, so that it reads "what the programme changed"; when a valuation
states shares of displacement and substitution, :mod:`effekt.contracts.displacement` offsets its
items of employment (income tax, employer contributions, benefits, earnings). Participants' gross
earnings are reported as party ``participants`` (not a public budget). All amounts are in the
rules' currency (NOK by Norway's rules).

**Countries.** ``contracts/data/fiscal.toml`` is Norway's rules; another country's are its own file
(``contracts/data/fi/fiscal.toml``, Finland 2018, for Koto-SIB), chosen with the country's benefits
(:func:`fiscal_rules`, a scenario's ``[scenario] country``). A country without Norway's institutions
leaves their tables out: no ``[inntektsutjevning]`` (the kommune keeps its tax share), no
``[integration_grant]``, no ``fylke_shares``. ``[money]`` states the currency and the base amount
benefit levels are in. docs/public-finances.md, "Another country's rules", explains how to write one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from effekt import lazy
from effekt.contracts import periods
from effekt.contracts.block import RecordBlock
from effekt.contracts.frames import nonzero_months, taken
from effekt.contracts.outcomes import (
    Frame,
    Tables,
    _floats,
    _ints,
    _person_rows,
    _strings,
    among,
    dictionary_encoded,
    factorized,
    has,
    matching,
)
from effekt.contracts.periods import (
    WEEKS_PER_MONTH,
    cell_pieces,
    month_cells,
    month_of,
    month_span,
    spread_over_months,
)
from effekt.dotted import suggest
from effekt.lazy import pandas as pd
from effekt.specfile import SpecError, Strict, joined, load_spec, nb_number, said

np = lazy.module("numpy", globals())  # on first use: `effekt validate` reads only the rules (issue 14)
pa = lazy.module("pyarrow", globals())

FISCAL_COLUMNS = ["arm", "party", "month", "item", "amount"]
PUBLIC_DEFAULT = ("kommune", "fylke", "other_kommuner", "state")
"""The public budgets every evaluation reports: the kommune, the fylkeskommune, the other kommuner
(what inntektsutjevning passes on of the kommune's skatteøre) and the state (NAV and Skatteetaten
as one)."""
NOT_PUBLIC = {"none", "employer", "private", "participants", "provider", "investor", ""}
ALIASES = {"nav": "state", "fylkeskommune": "fylke"}
"""NAV is the state's: its payments and receipts are the state's; a fylkeskommune is the fylke."""
SUBSIDY_SHARE_COLUMNS = ("subsidy_share", "wage_subsidy_share", "wage_subsidy")
SUBSIDY_PAYER_COLUMNS = ("subsidy_payer", "wage_subsidy_payer")
WAGE_PAYER_COLUMNS = ("wage_payer", "employer")
FISCAL_ITEMS = ("benefits", "income_tax", "employer_contributions", "integration_grant",
                "wage_cost", "value_of_work", "sales_revenue", "wage_subsidy", "programme_costs", "contract")
"""The items of the public budgets, each with a KPI ``fiscal_<item>`` (net over all public parties)."""


def _new_list() -> list:
    """A new empty list, the default of a list field: a Python function, not the builtin ``list``,
    whose signature pydantic reads from its text with ``tokenize`` at each field (~1.4 ms each
    when a run's models are built, issue 14; ``dict``'s is refused at once)."""
    return []


class IncomeTax(Strict):
    """The average-rate rule: the average tax on an annual income (wage x fte plus taxable
    benefits), linear between ``wage_points``, and the shares of it that are the kommune's and
    the fylke's skatteøre (the state gets the rest). ``fylke_shares`` may be left out (rules
    built by hand): the fylke's part is then the state's."""

    wage_points: list[float] = Field(min_length=2)
    average_rates: list[float]
    kommune_shares: list[float]
    fylke_shares: list[float] | None = None

    @model_validator(mode="after")
    def _same_length(self) -> IncomeTax:
        n = len(self.wage_points)
        if len(self.average_rates) != n or len(self.kommune_shares) != n or (
                self.fylke_shares is not None and len(self.fylke_shares) != n):
            raise ValueError(said("wage_points, average_rates, kommune_shares and fylke_shares need the same "
                                  "length",
                                  "wage_points, average_rates, kommune_shares og fylke_shares må være like "
                                  "lange"))
        if self.wage_points != sorted(self.wage_points):
            raise ValueError(said("wage_points must increase", "wage_points må være stigende"))
        fylke = self.fylke_shares or [0.0] * n
        if not all(0 <= x <= 1 for x in [*self.average_rates, *self.kommune_shares, *fylke]):
            raise ValueError(said("rates and shares must lie in [0, 1]",
                                  "satser og andeler må ligge i [0, 1]"))
        if any(k + f > 1 for k, f in zip(self.kommune_shares, fylke, strict=True)):
            raise ValueError(said("kommune_shares + fylke_shares must not exceed 1 at any point (the state "
                                  "gets the rest)",
                                  "kommune_shares + fylke_shares kan ikke overstige 1 noe sted (staten får "
                                  "resten)"))
        return self

    def rate(self, income: np.ndarray) -> np.ndarray:
        return np.interp(income, self.wage_points, self.average_rates)

    def kommune_share(self, income: np.ndarray) -> np.ndarray:
        return np.interp(income, self.wage_points, self.kommune_shares)

    def fylke_share(self, income: np.ndarray) -> np.ndarray:
        if self.fylke_shares is None:
            return np.zeros_like(np.asarray(income, dtype=float))
        return np.interp(income, self.wage_points, self.fylke_shares)


class EmployerContributions(Strict):
    rate: float = Field(ge=0, le=1)
    to: str = "state"


class IntegrationGrant(Strict):
    """The state's grant to the kommune per settled refugee, by year since settlement (Norway's
    integreringstilskudd); an empty ``per_year`` (or a country's rules without the table) pays none."""

    per_year: list[float] = Field(default_factory=_new_list)
    year_at_entry: int = Field(default=1, ge=1)
    groups: list[str] = Field(default_factory=_new_list)
    benefit_kinds: list[str] = Field(default_factory=_new_list)


STAGE_PATTERN = re.compile(r"^[A-Za-z0-9_*?\[\]!-]+$")
"""What a stage-name pattern may hold: a stage name's letters, digits, ``_`` and ``-``, and the
glob characters of :mod:`fnmatch` (``*``, ``?``, ``[...]``, ``[!...]``), as the contract
templates' ``stages``."""

OLD_WAGE_KEYS = {
    "public_cost_contracts": "every job a public party pays is costed by one rule now",
    "subsidised_wages_are_costs": "a subsidised job is costed by the same rule as any other public job",
}


class Wages(Strict):
    """The one wage-cost rule: a job whose ``wage_payer`` is a public party costs that party its
    wage cost (wage x fte x (1 + employer contributions)), less the value of the work done
    (``productivity_share`` of the wage cost, or ``productivity_share_by_contract[contract]``),
    less any subsidy it receives. ``default_wage_payer``: who pays a job the data do not name a
    payer for; ``default_subsidy_payer`` likewise for a subsidy.

    ``revenue_share_by_stage``: stage-name patterns (:mod:`fnmatch`, as the contract templates'
    ``stages``) -> the share of the wage cost (0 to 1) that a public employer's job in a matching
    stage earns back in **sales** (a municipal enterprise, kommunalt foretak, selling its work):
    such a job books item ``sales_revenue`` to its wage payer *instead of* ``value_of_work``, so
    its net cost is wage cost - sales revenue - subsidy. The first pattern written that matches a
    stage counts. A job with another employer, or outside any matching stage, is unchanged."""

    productivity_share: float = Field(default=1.0, ge=0, le=1)
    productivity_share_by_contract: dict[str, float] = Field(default_factory=dict)
    default_wage_payer: str = "employer"
    default_subsidy_payer: str = "state"
    revenue_share_by_stage: dict[str, float] = Field(default_factory=dict)

    @field_validator("revenue_share_by_stage", mode="after")
    @classmethod
    def _revenue_shares(cls, shares: dict[str, float]) -> dict[str, float]:
        problems = []
        for pattern, share in shares.items():
            if not STAGE_PATTERN.match(pattern) or pattern.count("[") != pattern.count("]"):
                problems.append(said(f"'{pattern}' is no stage-name pattern (letters, digits, _ and -, with "
                                     "the glob characters * ? [...]; e.g. \"enterprise_*\")",
                                     f"'{pattern}' er ikke et mønster for trinnavn (bokstaver, sifre, _ og "
                                     "-, med jokertegnene * ? [...]; f.eks. \"enterprise_*\")"))
            elif not 0 <= share <= 1:
                problems.append(said(f"'{pattern}' = {share!r}: the share of the wage cost the work is sold "
                                     "for must lie in [0, 1]",
                                     f"'{pattern}' = {share!r}: andelen av lønnskostnaden arbeidet selges "
                                     "for, må ligge i [0, 1]"))
        if problems:
            raise ValueError(joined("; ", problems))
        return shares

    @model_validator(mode="before")
    @classmethod
    def _refuse_old_keys(cls, data: object) -> object:
        if isinstance(data, dict):
            old = [k for k in OLD_WAGE_KEYS if k in data]
            if old:
                raise ValueError(said(
                    "; ".join(f"{k} is no longer a key ({OLD_WAGE_KEYS[k]})" for k in old)
                    + ": a public employer's net cost of a job is wage cost - productivity_share x wage "
                    "cost - subsidy; write productivity_share = <share of the wage cost the work is "
                    "worth, 0 to 1> (0 counts the whole wage as a cost, as project positions were) and, "
                    "for a contract kind that differs, productivity_share_by_contract = { permanent = 1.0 }",
                    "; ".join(f"{k} er ikke lenger en nøkkel ({OLD_WAGE_KEYS[k]})" for k in old)
                    + ": en offentlig arbeidsgivers nettokostnad for en jobb er lønnskostnad - "
                    "productivity_share x lønnskostnad - tilskudd; skriv productivity_share = <andelen av "
                    "lønnskostnaden arbeidet er verdt, 0 til 1> (0 regner hele lønnen som kostnad, slik "
                    "prosjektstillinger ble regnet) og, for en kontraktstype som avviker, "
                    "productivity_share_by_contract = { permanent = 1.0 }"))
        return data

    @model_validator(mode="after")
    def _shares(self) -> Wages:
        bad = {k: v for k, v in self.productivity_share_by_contract.items() if not 0 <= v <= 1}
        if bad:
            raise ValueError(said(f"productivity_share_by_contract: {bad}; each share must lie in [0, 1]",
                                  f"productivity_share_by_contract: {bad}; hver andel må ligge i [0, 1]"))
        return self

    def productivity(self, contract: np.ndarray) -> np.ndarray:
        """The productivity share of each spell's contract kind."""
        out = np.full(len(contract), self.productivity_share)
        for kind, share in self.productivity_share_by_contract.items():
            out[contract == kind] = share
        return out

    def revenue_share(self, stage: np.ndarray) -> np.ndarray:
        """The sales-revenue share of each spell's stage (``revenue_share_by_stage``, the first
        matching pattern), NaN where no pattern matches (the job's work is valued by
        ``productivity_share`` instead); the stages matched as the contract terms match theirs
        (:func:`effekt.contracts.outcomes.matching`)."""
        share = np.full(len(stage), np.nan)
        for pattern, value in self.revenue_share_by_stage.items():
            share[np.isnan(share) & matching(stage, [pattern])] = value
        return share

    def unmatched_revenue_stages(self, stage_names: list[str]) -> list[str]:
        """The ``revenue_share_by_stage`` patterns that match none of ``stage_names`` (usually a
        typo, or a pattern written for another pathway), as ``"wages.revenue_share_by_stage:
        'x*' matches no stage"``."""
        return [f"wages.revenue_share_by_stage: '{p}' matches no stage ({', '.join(sorted(stage_names))})"
                for p in self.revenue_share_by_stage
                if not matching(np.array(stage_names, dtype=object), [p]).any()]


KommuneTaxBase = Literal["above_90", "below_90"]
"""Where the kommune's tax base per inhabitant lies against the national average."""


class Inntektsutjevning(Strict):
    """The kommune's share of income tax after inntektsutjevning (KDD, grønt hefte): of a marginal
    krone of its skatteøre a kommune keeps ``1 - compensation`` above the threshold and ``1 -
    compensation - extra_compensation`` below it; ``position`` says where this kommune is, or is
    the share it keeps (0 to 1). The rest goes to the other kommuner."""

    compensation: float = Field(ge=0, le=1)
    extra_compensation: float = Field(default=0.0, ge=0, le=1)
    threshold: float = Field(default=0.9, gt=0)
    position: KommuneTaxBase | float = "above_90"

    @model_validator(mode="after")
    def _keeps_something(self) -> Inntektsutjevning:
        if self.compensation + self.extra_compensation > 1:
            raise ValueError(said("compensation + extra_compensation must not exceed 1",
                                  "compensation + extra_compensation kan ikke overstige 1"))
        if not isinstance(self.position, str) and not 0 <= self.position <= 1:
            raise ValueError(said(f"position: {self.position!r}; 'above_90', 'below_90' or the share kept, "
                                  "0 to 1",
                                  f"position: {self.position!r}; 'above_90', 'below_90' eller andelen "
                                  "kommunen beholder, 0 til 1"))
        return self

    def kept_share(self) -> float:
        """The share of its skatteøre the kommune keeps."""
        if self.position == "above_90":
            return 1.0 - self.compensation
        if self.position == "below_90":
            return 1.0 - self.compensation - self.extra_compensation
        return float(self.position)


BenefitPayer = Literal["state", "kommune", "fylke", "none"]
"""Who pays a benefit: the state (NAV's folketrygd benefits), the kommune, the fylke or nobody."""
PayerShares = dict[BenefitPayer, float]
"""A benefit paid by several parties in shares (Finland's perustoimeentulotuki: paid by Kela,
financed half by the state and half by the kunta: ``{ state = 0.5, kommune = 0.5 }``)."""


class Money(Strict):
    """In which money the country's rules are: the ``currency`` (an ISO 4217 code, ``NOK``) and the
    **base amount** benefit levels are given in (``sim/data/.../benefits.toml``: ``g`` per year),
    ``base_amount`` units of the currency, named ``base_name`` (Norway: G, the grunnbeløp, 130 160
    NOK from 1 May 2025; a country whose levels are in its currency: 1, named as the currency), in
    the rules' ``price_year``."""

    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. NOK or EUR")
    base_amount: float = Field(gt=0, allow_inf_nan=False, description="the base amount in the currency")
    base_name: str = Field(min_length=1, description="what the base amount is called (G, EUR)")
    price_year: int = Field(ge=1900, le=2200)


WAGE_CLASS = "wage"
"""The tax class of wages, taxed by ``[income_tax]``; a benefit of this class (AAP, dagpenger) is
taxed as a wage."""


class FiscalParams(Strict):
    """The fiscal rules (``contracts/data/fiscal.toml``). ``benefit_payers``: which public party
    pays each kind of benefit (a spell's ``benefit_kind``). ``taxable_benefits``: each kind's tax
    class (``"wage"``, taxed by ``income_tax``, or a class of ``benefit_tax_classes``), ``true``
    for ``"wage"`` or ``false`` for not taxed; empty (rules built by hand) taxes no benefit.
    ``benefit_tax_classes``: the average-rate table of each tax class other than ``"wage"`` (the
    rates of an income all of that class, as ``income_tax`` is of wages).
    ``inntektsutjevning``: the share of its skatteøre the kommune keeps; left out, it keeps all.
    A kind the spells use that a non-empty table does not name is refused. Rules built by hand
    may leave ``benefit_payers`` out: :class:`effekt.contracts.valuation.Valuation` brings its
    own table (the built-in one unless told otherwise)."""

    income_tax: IncomeTax
    employer_contributions: EmployerContributions
    integration_grant: IntegrationGrant = IntegrationGrant()
    wages: Wages = Wages()
    inntektsutjevning: Inntektsutjevning | None = None
    taxable_benefits: dict[str, bool | str] = Field(default_factory=dict)
    benefit_tax_classes: dict[str, IncomeTax] = Field(default_factory=dict)
    benefit_payers: dict[str, BenefitPayer | PayerShares] = Field(default_factory=dict)
    money: Money | None = None
    _source: str = PrivateAttr(default="")

    @property
    def source(self) -> str:
        """The file these rules were read from (empty for rules built by hand)."""
        return self._source

    @model_validator(mode="after")
    def _payer_shares(self) -> FiscalParams:
        for kind, payer in self.benefit_payers.items():
            if isinstance(payer, dict):
                total = sum(payer.values())
                if not payer or any(v < 0 for v in payer.values()) or abs(total - 1) > 1e-9:
                    raise ValueError(said(f"benefit_payers.{kind}: {payer}: the parties' shares must be "
                                          f"non-negative and sum to 1 (they sum to {total:g})",
                                          f"benefit_payers.{kind}: {payer}: partenes andeler må være "
                                          f"ikke-negative og summere til 1 (summen er {nb_number(total)})"))
        return self

    @model_validator(mode="after")
    def _known_tax_classes(self) -> FiscalParams:
        if WAGE_CLASS in self.benefit_tax_classes:
            raise ValueError(said("benefit_tax_classes.wage: the wage class is [income_tax] itself; give "
                                  "this table another name and use it in [taxable_benefits]",
                                  "benefit_tax_classes.wage: lønnsklassen er [income_tax] selv; gi denne "
                                  "tabellen et annet navn og bruk det i [taxable_benefits]"))
        known = [WAGE_CLASS, *sorted(self.benefit_tax_classes)]
        bad = {k: v for k, v in self.taxable_benefits.items() if isinstance(v, str) and v not in known}
        if bad:
            listed = ", ".join(f"{k} = {v!r}" for k, v in bad.items())
            raise ValueError(said(
                "taxable_benefits: " + listed
                + f": a kind's value is its tax class, one of {known} (a class other than 'wage' needs a "
                "[benefit_tax_classes.<class>] table), or false when the benefit is not taxed",
                "taxable_benefits: " + listed
                + f": verdien for en ytelse er skatteklassen, en av {known} (en annen klasse enn 'wage' "
                "trenger en [benefit_tax_classes.<klasse>]-tabell), eller false når ytelsen ikke "
                "skattlegges"))
        return self

    def tax_class(self, kind: str) -> str | None:
        """The tax class of benefit ``kind`` (``"wage"`` for ``true``), None when it is not taxed
        or not in ``taxable_benefits``."""
        value = self.taxable_benefits.get(kind, False)
        if value is True:
            return WAGE_CLASS
        return value or None

    def kommune_kept_share(self) -> float:
        """The share of its skatteøre the kommune keeps after inntektsutjevning (1 without it)."""
        return 1.0 if self.inntektsutjevning is None else self.inntektsutjevning.kept_share()

    def with_kommune_tax_base(self, base: KommuneTaxBase | float) -> FiscalParams:
        """These rules with the kommune's position in inntektsutjevning set: ``"above_90"``,
        ``"below_90"`` or the share of its skatteøre it keeps (0 to 1)."""
        iu = self.inntektsutjevning
        if iu is None:
            if isinstance(base, str):
                raise ValueError(said(f"kommune_tax_base '{base}' needs the fiscal rules' "
                                      "[inntektsutjevning] table (these rules have none); give the share "
                                      "kept, 0 to 1, instead",
                                      f"kommune_tax_base '{base}' trenger tabellen [inntektsutjevning] i "
                                      "skattereglene (disse reglene har ingen); oppgi heller andelen "
                                      "kommunen beholder, 0 til 1"))
            iu = Inntektsutjevning(compensation=0.0, position=float(base))
        else:
            iu = Inntektsutjevning.model_validate({**iu.model_dump(), "position": base})
        return self.model_copy(update={"inntektsutjevning": iu})


DATA_DIR = Path(__file__).resolve().parent / "data"
COUNTRIES: dict[str, str] = {"no": "fiscal.toml", "fi": "fi/fiscal.toml"}
"""The built-in countries' fiscal rules, by code: Norway's (``contracts/data/fiscal.toml``, 2024-25
rules) and Finland's (``contracts/data/fi/fiscal.toml``, 2018 rules, for Koto-SIB). A folder of the
user's own holds its ``fiscal.toml`` beside its benefits (:func:`fiscal_rules`)."""


def fiscal_path(country: str = "no", base: str | Path | None = None) -> Path:
    """The fiscal rules file of ``country``: a built-in code (:data:`COUNTRIES`) or a folder
    (relative to ``base``) holding ``fiscal.toml``; anything else is a
    :class:`effekt.specfile.SpecError` naming ``scenario.country`` and what is allowed."""
    if country in COUNTRIES:
        return DATA_DIR / COUNTRIES[country]
    folder = Path(country)
    if not folder.is_absolute() and base is not None:
        folder = Path(base) / folder
    path = folder / "fiscal.toml"
    if not path.is_file():
        raise SpecError("", [said(
            f"scenario.country: '{country}' is no built-in country"
            f"{suggest(country, list(COUNTRIES), 0.5)} and {folder} holds no fiscal.toml; "
            f"allowed: {', '.join(COUNTRIES)} or a folder holding fiscal.toml (income "
            "tax, employer contributions, [benefit_payers], [taxable_benefits], [money])",
            f"scenario.country: '{country}' er ikke et innebygd land"
            f"{suggest(country, list(COUNTRIES), 0.5, lang='nb')} og {folder} har ingen fiscal.toml; "
            f"tillatt: {', '.join(COUNTRIES)} eller en mappe med fiscal.toml (inntektsskatt, "
            "arbeidsgiveravgift, [benefit_payers], [taxable_benefits], [money])")])
    return path.resolve()


@cache
def _rules_at(path: Path, mtime_ns: int = 0, size: int = 0) -> FiscalParams:
    rules = load_spec(FiscalParams, path, priors_drawn=False)  # not in the scenario's tree: not drawn
    rules._source = str(path)
    if rules.money is None and path != DATA_DIR / COUNTRIES["no"]:
        raise SpecError(str(path), [said("[money]: a country's fiscal rules say in which money they are: "
                                         "currency (e.g. 'EUR'), base_amount (what one unit of the benefit "
                                         "levels is worth, 1 for levels in the currency), base_name and "
                                         "price_year",
                                         "[money]: et lands skatteregler sier hvilken valuta de er i: "
                                         "currency (f.eks. 'EUR'), base_amount (hva én enhet i "
                                         "ytelsesnivåene er verdt, 1 for nivåer i valutaen), base_name og "
                                         "price_year")])
    return rules


def fiscal_rules(country: str = "no", base: str | Path | None = None) -> FiscalParams:
    """The fiscal rules of ``country`` (see :func:`fiscal_path`), read once per version of the file
    (its modification time and size: a long-lived process sees an edited file)."""
    path = fiscal_path(country, base)
    st = path.stat()
    return _rules_at(path, st.st_mtime_ns, st.st_size)


def default_fiscal() -> FiscalParams:
    """The built-in (Norwegian) fiscal rules, read once."""
    return fiscal_rules("no")


def benefit_payers() -> dict[str, str | dict[str, float]]:
    """Which party pays each benefit kind, by the built-in fiscal rules (``[benefit_payers]`` in
    ``contracts/data/fiscal.toml``); a fresh dict each call."""
    return dict(default_fiscal().benefit_payers)


Ledger = dict[tuple[str, str, str], "np.ndarray"]
"""Monthly amounts by (arm, party, item)."""


def _accumulate(rows: Ledger, arm: str, party: str, item: str, monthly: np.ndarray) -> None:
    key = (arm, party, item)
    if key in rows:
        rows[key] = rows[key] + monthly
    else:
        rows[key] = np.asarray(monthly, dtype=float).copy()


def ledger_frame(ledger: Ledger, month_dtype: type | str = "int64") -> pd.DataFrame:
    """A ledger as a long table (``FISCAL_COLUMNS``), zero months left out."""
    keys = list(ledger)
    which, month, amount = nonzero_months(list(ledger.values()))
    if len(which) == 0:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "amount" else object) for c in FISCAL_COLUMNS})
    return pd.DataFrame({
        "arm": taken([k[0] for k in keys], which), "party": taken([k[1] for k in keys], which),
        "month": month.astype(month_dtype, copy=False), "item": taken([k[2] for k in keys], which),
        "amount": amount,
    }, copy=False)


def difference_ledger(ledger: Ledger, n_treatment: int, n_control: int) -> Ledger:
    """Treatment minus control, scaled to the treatment arm's size (arm ``difference``)."""
    if n_control == 0:
        return {}
    scale = n_treatment / n_control
    out: Ledger = {}
    for (arm, party, item), a in ledger.items():
        if arm in ("treatment", "control"):
            _accumulate(out, "difference", party, item, a if arm == "treatment" else -scale * a)
    return out


def _codes(df: Frame, col: str, default: str) -> tuple[np.ndarray, list]:
    """Column ``col`` of ``df`` as a code per row into its distinct values, in order of first
    appearance (``default`` for a null, and for every row without the column): ``pd.factorize``'s
    codes of ``_strings(df, col, default)``, but of an Arrow string column by Arrow's dictionary
    encoding, without a Python string per row (a block's spells are tens of thousands of rows)."""
    if not has(df, col):
        return np.zeros(len(df), dtype=np.int32), [default]
    if isinstance(df, pa.Table) and df.schema.field(col).type in (pa.string(), pa.large_string()):
        encoded = dictionary_encoded(df.column(col))
        names = encoded.dictionary.to_pylist()
        indices = encoded.indices
        codes = np.asarray(indices.to_numpy(zero_copy_only=False))  # a null: NaN, of floats
        if indices.null_count:
            if default not in names:
                names.append(default)
            codes = np.where(np.isnan(codes), names.index(default), codes)
        return np.asarray(codes, dtype=np.int32), names
    codes, uniques = pd.factorize(_strings(df, col, default), use_na_sentinel=False)
    return codes, uniques.tolist()


def _party_codes(codes: np.ndarray, values: list) -> tuple[np.ndarray, list[str]]:
    """Codes into ``values`` as codes into the distinct party names they are (aliases applied:
    NAV is the state; a missing value is 'none')."""
    names = [ALIASES.get(v, v) if isinstance(v, str) else "none" for v in values]
    distinct = list(dict.fromkeys(names))
    if len(distinct) < len(names):  # two names of one party (nav and state)
        place = {p: i for i, p in enumerate(distinct)}
        codes = np.array([place[p] for p in names], dtype=np.int32)[codes]
    return codes, distinct


def _payer_codes(spells: Frame, columns: tuple[str, ...], default: str) -> tuple[np.ndarray, list[str]]:
    """Each spell's party (:func:`_party_codes`) in the first of ``columns`` the spells have,
    ``default`` where it is missing; every spell ``default`` when they have none of them."""
    col = next((c for c in columns if has(spells, c)), None)
    if col is None:
        return np.zeros(len(spells), dtype=np.int32), [ALIASES.get(default, default)]
    return _party_codes(*_codes(spells, col, default))


def payer_parts(payer: str | dict[str, float]) -> list[tuple[str, float]]:
    """A benefit's payer as (party, share) parts: one party with share 1, or the shares of a
    benefit several parties finance (:data:`PayerShares`), in the order written."""
    if isinstance(payer, dict):
        return [(str(p), float(v)) for p, v in payer.items()]
    return [(payer, 1.0)]


def _kind_rules(codes: np.ndarray, names: list, payers: dict[str, str | dict[str, float]],
                params: FiscalParams) -> tuple[list[tuple[np.ndarray, list[str], np.ndarray | None]],
                                               np.ndarray]:
    """Each spell's benefit payers and the tax class of its benefit (``""`` when not taxed), looked
    up once per distinct kind (``codes`` into ``names``, the kinds in order of first appearance).
    The payers come as parts (party per spell as a code into the party names,
    :func:`_party_codes`; share per spell or None when every share is 1): one part for benefits
    one party pays, more for a benefit several finance in shares. A kind without a payer, or
    missing from a non-empty ``taxable_benefits`` table, is refused."""
    taxable = params.taxable_benefits
    names = [v if isinstance(v, str) else "none" for v in names]
    unknown = [k for k in names if k not in payers and k != "none"]
    untaxed = [k for k in names if taxable and k not in taxable and k != "none"]
    if unknown or untaxed:
        where = params.source or str(fiscal_path())
        problems = [said(f"[benefit_payers]: benefit kind '{k}' has no payer; add {k} = \"state\" (or "
                         f"\"kommune\", \"fylke\", \"none\") with its source, or set "
                         f"world.benefits.{k}.payer in the scenario",
                         f"[benefit_payers]: ytelsen '{k}' har ingen betaler; legg til {k} = \"state\" "
                         f"(eller \"kommune\", \"fylke\", \"none\") med kilden, eller sett "
                         f"world.benefits.{k}.payer i scenarioet") for k in unknown]
        classes = [WAGE_CLASS, *sorted(params.benefit_tax_classes)]
        problems += [said(f"[taxable_benefits]: benefit kind '{k}' is not in the table; add {k} = \"wage\" "
                          f"(or another tax class: {classes}) or false, with its source (is it taxable "
                          "income, and personinntekt?)",
                          f"[taxable_benefits]: ytelsen '{k}' står ikke i tabellen; legg til {k} = \"wage\" "
                          f"(eller en annen skatteklasse: {classes}) eller false, med kilden (er den "
                          "skattepliktig inntekt, og personinntekt?)") for k in untaxed]
        raise SpecError(f"{where} (or the fiscal rules of the valuation)", problems)
    split = [payer_parts(payers.get(k, "none")) for k in names]
    parts = []
    for j in range(max((len(x) for x in split), default=1)):
        party, party_names = _party_codes(np.arange(len(split)),
                                          [x[j][0] if j < len(x) else "none" for x in split])
        share = [x[j][1] if j < len(x) else 0.0 for x in split]
        parts.append((party[codes], party_names,
                      None if all(v == 1.0 for v in share) else np.asarray(share)[codes]))
    tax_class = np.array([params.tax_class(k) or "" for k in names], dtype=object)
    return parts, tax_class[codes]


def _person_codes(spells: Frame, arm_code: np.ndarray) -> np.ndarray:
    """Each spell's person as a code 0 .. n - 1 (``arm_code``: each spell's replication and arm
    as a code, since each replication's and each arm's ``person_id`` are their own); a spell
    without a person id (no ``person_id`` column, or a missing one) is a person of its own."""
    n = len(arm_code)
    if not has(spells, "person_id"):
        return np.arange(n)
    pid = _floats(spells, "person_id", np.nan)
    known = np.isfinite(pid)
    lo = pid[known].min() if known.any() else 0.0
    span = (pid[known].max() - lo + 1) if known.any() else 1.0
    key = np.where(known, arm_code * span + (pid - lo), -1.0 - np.arange(n))
    return factorized(key)[0]


class _Taxes:
    """The income tax of a block's spells and the kommune's and fylke's skatteøre in it, at the
    rates of each person's income in each contract year (year ``y`` is months ``12y .. 12y + 11``,
    the years of the ``budgets/`` table), given by rows of spells (:meth:`rows`): a block's spells
    x years is never made at once (a replication of 400 000 persons has millions of spells).

    A spell's taxable income is the wage (``income``, annual) plus the benefit when it has a tax
    class. A person's taxable income in a year (``year_income``, :meth:`_Spells.year_incomes`) is
    the sum over their spells of that annual income x the spell's weeks in the year / 52, and the
    rates are read at that total: the wage and a ``wage``-class benefit at ``income_tax``'s
    average rate, a benefit of another class at that class's average rate, so a krone of
    uføretrygd beside a wage pays the low-rate trygdeavgift and the trinnskatt of the year's whole
    income (exact where the trygdeavgift's 25 % limit does not bind, up to the tables'
    interpolation). Spread over the months by the weeks (:meth:`_Spells.yearly_later`), a
    person's tax of a year is the rate at the year's income times that income. A year cut by the
    horizon (or begun before the data) is taxed on the income observed in it, not annualised: the
    cut is the same in both arms. A year without income pays no tax. Every number is elementwise
    in the spell (and its person's year), so rows taken in any pieces are the same bits."""

    def __init__(self, params: FiscalParams, income: np.ndarray, benefit: np.ndarray | None,
                 tax_class: np.ndarray | None, person: np.ndarray, year_income: np.ndarray) -> None:
        rule = params.income_tax
        self.params, self.person, self.year_income = params, person, year_income
        self.benefit, self.tax_class = (None, None) if benefit is None or tax_class is None else (benefit,
                                                                                                  tax_class)
        self.at_wage_rate = (income if self.benefit is None
                             else income + np.where(tax_class == WAGE_CLASS, benefit, 0.0))
        self.rate = rule.rate(year_income)
        self.k_share = rule.kommune_share(year_income)
        self.f_share = rule.fylke_share(year_income)
        self._last: tuple[int, int, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

    @staticmethod
    def taxable(income: np.ndarray, benefit: np.ndarray | None, tax_class: np.ndarray | None) -> np.ndarray:
        """Each spell's annual taxable income: the wage plus a benefit that has a tax class."""
        if benefit is None or tax_class is None:
            return income
        return income + np.where(tax_class != "", benefit, 0.0)

    def rows(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The annual income tax, kommune's and fylke's skatteøre of spells ``lo:hi`` (each
        spells x years), the last rows asked for kept (several parts are read of each)."""
        if self._last is not None and self._last[:2] == (lo, hi):
            return self._last[2]
        person = self.person[lo:hi]
        tax = self.rate[person] * self.at_wage_rate[lo:hi, None]
        k_tax = tax * self.k_share[person]
        f_tax = tax * self.f_share[person]
        if self.benefit is not None and self.tax_class is not None:
            tax_class, benefit = self.tax_class[lo:hi], self.benefit[lo:hi]
            for name, table in self.params.benefit_tax_classes.items():
                m = tax_class == name
                if not m.any():
                    continue
                y = self.year_income[person[m]]
                t = table.rate(y) * benefit[m][:, None]
                tax[m] += t
                k_tax[m] += t * table.kommune_share(y)
                f_tax[m] += t * table.fylke_share(y)
        self._last = (lo, hi, (tax, k_tax, f_tax))
        return tax, k_tax, f_tax


def public_flows(persons: pd.DataFrame, spells: pd.DataFrame, G: float, n_months: int,
                 params: FiscalParams | None = None,
                 payers: dict[str, str | dict[str, float]] | None = None) -> pd.DataFrame:
    """Each arm's public flows by party, month and item (levels, not differences)."""
    return ledger_frame(public_ledger(persons, spells, G, n_months, params, payers))


def public_ledger(persons: Frame, spells: Frame, G: float, n_months: int,
                  params: FiscalParams | None = None, payers: dict[str, str | dict[str, float]] | None = None,
                  tables: Tables | None = None) -> Ledger:
    """Each arm's public flows as monthly arrays by (arm, party, item): :func:`public_ledgers` of
    the block of this one replication (one implementation). ``tables`` (``Tables.of(persons,
    spells)``) is accepted from callers that have it at hand; the ledger does not need it, as it
    ties spells to persons itself, within each replication of a block."""
    return public_ledgers(RecordBlock.one(persons, spells), G, n_months, params, payers)[0]


def public_ledgers(block: RecordBlock, G: float, n_months: int, params: FiscalParams | None = None,
                   payers: dict[str, str | dict[str, float]] | None = None) -> list[Ledger]:
    """Each replication's public flows by (arm, party, item) (:func:`public_ledger`) for the
    replications of ``block`` (:class:`effekt.contracts.block.RecordBlock`), in order, summed over
    the block's spells at once.

    Every item is a sum over spells of an amount per spell and month (``sign x annual x the weeks
    in the month / 52``; the income tax at each month's own year's amount; a programme cost per
    week x weeks), added **in spell order** into its (replication, arm, party, item) bin
    (``np.add.at`` over the spells' nonzero months, one addition after another as ``np.bincount``
    adds, a piece of spells at a time so that a replication of 400 000 persons never holds its
    tens of millions of (spell, month) cells at once): a replication's numbers are the same bits
    whichever block it is summed in, alone or among hundreds, and wherever the pieces are cut.
    Each replication's ledger has the keys, in the order, that a loop over its own arms (sorted),
    the items (in the order of this function) and the parties (in order of first appearance
    among the arm's spells) gives; an item's condition (a wage cost, a subsidy, a fylke's
    skatteøre) is the replication's and arm's own; a key two steps share (the wage subsidy a
    party pays and receives, a per-cohort cost beside the stage costs) keeps the place of the
    first and adds the later ones to it in order."""
    params = params or default_fiscal()
    payers = payers if payers is not None else (params.benefit_payers or benefit_payers())
    w = params.wages
    spells = block.spells
    n = len(spells)
    start, end = _floats(spells, "start"), _floats(spells, "end")
    employed = _strings(spells, "state", "") == "employed"
    income = np.where(employed, _floats(spells, "annual_wage") * _floats(spells, "fte"), 0.0)
    has_benefit = has(spells, "benefit_kind")
    benefit = tax_class_of = None
    if has_benefit:
        payer_parts_of, tax_class_of = _block_kind_rules(spells, payers, params, block.spell_bounds)
        benefit = _floats(spells, "benefit_g") * G
    s = _Spells.of(block, start, end, n_months)
    person = _person_codes(spells, s.group).astype(np.int32)  # a code per person: fewer than 2**31
    taxes = _Taxes(params, income, benefit, tax_class_of, person,
                   s.year_incomes(person, _Taxes.taxable(income, benefit, tax_class_of)))
    del person
    kept = params.kommune_kept_share()
    aga = params.employer_contributions.rate
    labour_cost = income * (1 + aga)
    wage_payer = s.parties(*_payer_codes(spells, WAGE_PAYER_COLUMNS, w.default_wage_payer))
    share_col = next((c for c in SUBSIDY_SHARE_COLUMNS if has(spells, c)), None)
    share = _floats(spells, share_col) if share_col else np.zeros(n)
    sub_payer = s.parties(*_payer_codes(spells, SUBSIDY_PAYER_COLUMNS, w.default_subsidy_payer))
    public_job = employed & wage_payer.public[wage_payer.code]
    wage_cost = np.where(public_job, labour_cost, 0.0)
    work_value = (wage_cost * w.productivity(_strings(spells, "contract", "")) if public_job.any()
                  else wage_cost)
    sales = None
    if w.revenue_share_by_stage and public_job.any() and has(spells, "stage"):
        # a job in a stage that sells its work (a municipal enterprise) books sales revenue instead
        sold_share = w.revenue_share(_strings(spells, "stage", ""))
        sold = public_job & np.isfinite(sold_share)
        if sold.any():
            sales = np.where(sold, wage_cost * np.nan_to_num(sold_share), 0.0)
            work_value = np.where(sold, 0.0, work_value)
    subsidy = np.where(employed, share * labour_cost, 0.0)
    del labour_cost, share, public_job

    # every sum over the spells' months is planned first, then all are taken in one pass over the
    # cells, a piece of spells at a time (:meth:`_Spells.run`); the ledger is written afterwards,
    # in the order of the items
    benefit_sums = []
    if has_benefit:  # each payer its share (one part of share 1 for most benefits)
        for code, names, part_share in payer_parts_of:
            payer = s.parties(code, names)
            paid = benefit if part_share is None else benefit * part_share
            benefit_sums.append((payer, s.sum_later(paid, payer)))
    earnings = s.sum_later(income)
    parts = ["kommune", *(["other_kommuner"] if kept < 1 else []), "fylke", "state"]
    tax_sums, fylke_spell = s.taxes_later(taxes, kept, parts)  # by party; the parts add up to the tax
    contributions = s.sum_later(income * aga)
    costed = s.any_of(wage_cost != 0)  # the (replication, arm) groups that pay a public wage
    if costed.any():
        wage_sums = [s.sum_later(wage_cost, wage_payer), s.sum_later(work_value, wage_payer)]
        if sales is not None:
            sales_sum = s.sum_later(sales, wage_payer)
            sold_groups = s.any_of(sales != 0)
    subsidised = s.any_of(subsidy != 0)
    if subsidised.any():
        subsidy_sums = [s.sum_later(subsidy, sub_payer), s.sum_later(subsidy, wage_payer)]
    programme = _programme_costs(s, spells, start, n_months) if has(spells, "cost_payer") else None
    del wage_cost, work_value, subsidy, income
    s.run()

    book = _Book(block.n)
    arms = s.arm_names
    for payer, summed in benefit_sums:
        book.add("benefits", arms, payer, summed, -1.0)
    book.add("earnings", arms, s.one("participants"), earnings, 1.0, public_only=False)
    fylke = s.any_of(fylke_spell)  # the fylke's part where some spell of the arm pays it
    for party in parts:
        if party != "fylke" or fylke.any():
            book.add("income_tax", arms, s.one(party), tax_sums[party], 1.0,
                     where=fylke if party == "fylke" else None)
    to = ALIASES.get(params.employer_contributions.to, params.employer_contributions.to)
    book.add("employer_contributions", arms, s.one(to), contributions, 1.0)
    if costed.any():
        book.add("wage_cost", arms, wage_payer, wage_sums[0], -1.0, where=costed)
        book.add("value_of_work", arms, wage_payer, wage_sums[1], 1.0, where=costed)
        if sales is not None:
            book.add("sales_revenue", arms, wage_payer, sales_sum, 1.0, where=costed & sold_groups)
    if subsidised.any():
        book.add("wage_subsidy", arms, sub_payer, subsidy_sums[0], -1.0, where=subsidised)
        book.add("wage_subsidy", arms, wage_payer, subsidy_sums[1], 1.0, where=subsidised)
    if programme is not None:
        programme(book)
    if params.integration_grant.per_year:
        _integration_grant(book, block, n_months, params.integration_grant)
    return book.ledgers()


def _programme_costs(s: _Spells, spells: Frame, start: np.ndarray, n_months: int) -> Callable[[_Book], None]:
    """Stage costs the pathway charges to a public party (spells' ``cost_once`` at the spell's
    start, ``cost_per_week`` while it lasts, paid by ``cost_payer``): the weekly costs summed in
    spell order (planned here, taken by :meth:`_Spells.run`), then each spell's one-off cost added
    to its start month, in spell order. A stage's per-cohort cost (``cost_cohort``) falls on one
    spell (the kull's first entrant): at once, or spread evenly over ``cost_cohort_weeks`` from
    that spell's start, added to its payer's programme costs after the stage costs. Returns what
    writes them to the book once the sums are taken."""
    cost_payer = _party_codes(*_codes(spells, "cost_payer", "none"))
    per_week = _floats(spells, "cost_per_week")
    payer = s.parties(*cost_payer)
    monthly = s.sum_later(per_week, payer)

    def write(book: _Book) -> None:
        cohort, cohort_weeks = _floats(spells, "cost_cohort"), _floats(spells, "cost_cohort_weeks")
        spread = (cohort > 0) & (cohort_weeks > 0)
        once = _floats(spells, "cost_once") + np.where(spread, 0.0, cohort)
        np.add.at(monthly, (payer.bin, np.clip(month_of(start), 0, n_months - 1)), once)
        book.add("programme_costs", s.arm_names, payer, monthly, -1.0, weekly=True)
        if spread.any():
            over = spread_over_months(start[spread], start[spread] + cohort_weeks[spread], n_months)
            rate = np.zeros(len(spread))
            rate[spread] = cohort[spread] / cohort_weeks[spread]
            cohort_payer = s.parties(*cost_payer, of=spread)
            book.add("programme_costs", s.arm_names, cohort_payer, s.summed(rate, cohort_payer, spread, over),
                     -1.0, weekly=True)

    return write


NO_SPELL = 2**62
"""The first spell of a (replication, arm, party) bin that has none (no key for it)."""


@dataclass(frozen=True, eq=False)
class _Parties:
    """A party per spell of a block, coded for the sums: ``code`` into ``names`` per spell,
    ``public`` per name; ``bin`` = (replication, arm) group x ``len(names)`` + ``code``;
    ``first``: each bin's first spell (among the spells the parties were taken of; its order
    among the arm's parties), :data:`NO_SPELL` where it has none."""

    names: list[str]
    code: np.ndarray
    public: np.ndarray
    bin: np.ndarray
    first: np.ndarray


YearlyRows = Callable[[int, int], "np.ndarray"]
"""The annual amounts of spells ``lo:hi`` in each contract year (spells x years)."""


@dataclass(frozen=True, eq=False)
class _Spells:
    """A block's spells as the ledger sums them: each spell's (replication, arm) ``group``
    (replication x ``len(arm_names)`` + the arm's place among the block's arms, sorted), and the
    months each spell overlaps (``first`` month and ``count``; its cells, (spell, month) with the
    weeks of the spell in the month as :func:`effekt.contracts.periods.spread_over_months`
    computes them, are made a piece of spells at a time, :func:`effekt.contracts.periods.cell_pieces`),
    over which every item is summed (a cell of no weeks, at an edge, adds nothing to a sum).

    The sums are planned (:meth:`sum_later`, :meth:`taxes_later`: each gives its output, zeros
    until then) and taken together in one pass over the cells (:meth:`run`), each added in cell
    order (spell order, then month order) into its one output."""

    n_reps: int
    arm_names: list[str]
    group: np.ndarray
    start: np.ndarray
    end: np.ndarray
    first: np.ndarray
    count: np.ndarray
    n_months: int
    _jobs: list[tuple[np.ndarray, np.ndarray, np.ndarray | YearlyRows]] = field(default_factory=list,
                                                                                 repr=False)
    """The planned sums: (output, the spells' bins, per-spell annual amounts or their yearly rows)."""
    _hooks: list[Callable[[int, int], None]] = field(default_factory=list, repr=False)
    """What :meth:`run` calls with each piece of spells ``lo, hi`` (before its cells' sums)."""

    @classmethod
    def of(cls, block: RecordBlock, start: np.ndarray, end: np.ndarray, n_months: int) -> _Spells:
        codes, uniques = _codes(block.spells, "arm", "")
        arm_names = sorted(uniques)
        place = {a: i for i, a in enumerate(arm_names)}
        rank = np.array([place[a] for a in uniques], dtype=np.int32)
        first, count = month_span(start, end, np.arange(n_months + 1) * WEEKS_PER_MONTH)
        return cls(n_reps=block.n, arm_names=arm_names,
                   group=(block.spell_replication() * len(arm_names) + rank[codes]).astype(np.int32),
                   start=start, end=end,
                   first=first.astype(np.int32), count=count.astype(np.int32), n_months=n_months)

    @property
    def n_groups(self) -> int:
        return self.n_reps * len(self.arm_names)

    @property
    def n_years(self) -> int:
        """The contract years the months reach (month ``m`` is in year ``m // 12``)."""
        return -(-self.n_months // 12)

    @cached_property
    def _first(self) -> np.ndarray:
        """Each group's first spell (:data:`NO_SPELL` where it has none)."""
        first = np.full(self.n_groups, NO_SPELL, dtype=np.intp)
        np.minimum.at(first, self.group, np.arange(len(self.group)))
        return first

    def one(self, party: str) -> _Parties:
        """One party for every spell."""
        return _Parties([party], np.zeros(len(self.group), dtype=np.int32),
                        np.array([party not in NOT_PUBLIC]), self.group, self._first)

    def parties(self, code: np.ndarray, names: list[str], of: np.ndarray | None = None) -> _Parties:
        """Each spell's party (``code`` into ``names``, :func:`_party_codes`), of the spells ``of``
        (of all without it)."""
        code = np.asarray(code, dtype=np.int32)  # codes and bins are small: 4 bytes a spell, not 8
        bins = self.group * np.int32(len(names)) + code
        index = np.arange(len(bins)) if of is None else np.flatnonzero(of)
        first = np.full(self.n_groups * len(names), NO_SPELL, dtype=np.intp)
        np.minimum.at(first, bins[index], index)
        return _Parties(names, code, np.array([p not in NOT_PUBLIC for p in names], dtype=bool), bins, first)

    def _pieces(self) -> list[tuple[int, int]]:
        """The spells in consecutive pieces ``lo:hi`` of about
        :data:`effekt.contracts.periods.CHUNK_CELLS` cells (:func:`effekt.contracts.periods.cell_pieces`)."""
        return cell_pieces(self.count)

    def _cells(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The (spell, month, weeks) cells of spells ``lo:hi``
        (:func:`effekt.contracts.periods.month_cells`)."""
        edges = np.arange(self.n_months + 1) * WEEKS_PER_MONTH
        return month_cells(self.start[lo:hi], self.end[lo:hi], self.first[lo:hi], self.count[lo:hi], edges,
                           lo)

    def year_incomes(self, person: np.ndarray, taxable: np.ndarray) -> np.ndarray:
        """Each person's (``person``: a code per spell) taxable income in each contract year
        (persons x years): the sum over the person's spells, in spell order, of the spell's
        annual ``taxable`` income x its weeks in the year (its months' weeks added in month
        order) / 52."""
        n, n_years = len(self.group), self.n_years
        n_persons = int(person.max()) + 1 if n else 0
        out = np.zeros(n_persons * n_years)
        years = np.arange(n_years)
        for lo, hi in self._pieces():
            spell, month, weeks = self._cells(lo, hi)
            in_year = np.bincount((spell - lo) * n_years + month // 12, weights=weeks,
                                  minlength=(hi - lo) * n_years).astype(float, copy=False)
            np.add.at(out, (person[lo:hi, None].astype(np.int64) * n_years + years).ravel(),
                      (taxable[lo:hi, None] * in_year.reshape(-1, n_years)).ravel())
        return out.reshape(n_persons, n_years) / 52.0

    def sum_later(self, annual: np.ndarray, payer: _Parties | None = None) -> np.ndarray:
        """Per bin of ``payer`` (None: per group) and month (bins x months), the sum over spells in
        spell order of ``annual x`` the spell's weeks in the month: zeros until :meth:`run`."""
        bins, n_bins = ((self.group, self.n_groups) if payer is None
                        else (payer.bin, self.n_groups * len(payer.names)))
        out = np.zeros(n_bins * self.n_months)
        self._jobs.append((out, bins, annual))
        return out.reshape(n_bins, self.n_months)

    def yearly_later(self, rows: YearlyRows) -> np.ndarray:
        """:meth:`sum_later` per group of the spells' annual amounts in each contract year
        (``rows(lo, hi)``: spells ``lo:hi`` x years), each month at the annual amount of its own
        year."""
        out = np.zeros(self.n_groups * self.n_months)
        self._jobs.append((out, self.group, rows))
        return out.reshape(self.n_groups, self.n_months)

    def taxes_later(self, taxes: _Taxes, kept: float, parties: list[str]) -> tuple[dict[str, np.ndarray],
                                                                                 np.ndarray]:
        """The income tax by party (of ``kommune``, ``other_kommuner``, ``fylke``, ``state``):
        the kommune's skatteøre x ``kept``, the rest of it the other kommuner's, the fylke's
        skatteøre and the rest of the tax the state's, each summed by :meth:`yearly_later`; and
        whether each spell pays the fylke anything (filled by :meth:`run`)."""
        part: dict[str, YearlyRows] = {
            "kommune": lambda lo, hi: taxes.rows(lo, hi)[1] * kept,
            "other_kommuner": lambda lo, hi: taxes.rows(lo, hi)[1] * (1 - kept),
            "fylke": lambda lo, hi: taxes.rows(lo, hi)[2],
            "state": lambda lo, hi: _state_part(*taxes.rows(lo, hi)),
        }
        pays_fylke = np.zeros(len(self.group), dtype=bool)

        def fylke(lo: int, hi: int) -> None:
            pays_fylke[lo:hi] = (taxes.rows(lo, hi)[2] != 0).any(axis=1)

        self._hooks.append(fylke)
        return {p: self.yearly_later(part[p]) for p in parties}, pays_fylke

    def run(self) -> None:
        """Take the planned sums, one pass over the cells a piece of spells at a time: each
        output's cells added in cell order (``np.add.at``, one addition after another as
        ``np.bincount`` adds them, so the same bits as one ``np.bincount`` over all cells)."""
        jobs, hooks = self._jobs, self._hooks
        for lo, hi in self._pieces() if jobs or hooks else []:
            for hook in hooks:
                hook(lo, hi)
            spell, month, weeks = self._cells(lo, hi)
            at_of: dict[int, np.ndarray] = {}
            year_at = None
            for out, bins, values in jobs:
                at = at_of.get(id(bins))
                if at is None:  # the bins arrays are held by the jobs: an id is not reused meanwhile
                    at = at_of[id(bins)] = bins[spell] * np.int64(self.n_months) + month  # int32 bins
                if callable(values):
                    annual = values(lo, hi)
                    if year_at is None:
                        year_at = (spell - lo) * annual.shape[1] + month // 12
                    np.add.at(out, at, annual.ravel()[year_at] * weeks)
                else:
                    np.add.at(out, at, values[spell] * weeks)
        jobs.clear()
        hooks.clear()

    def summed(self, annual: np.ndarray, payer: _Parties, of: np.ndarray, weeks: np.ndarray) -> np.ndarray:
        """Per bin of ``payer`` and month, the sum over the spells ``of`` in spell order of
        ``annual x`` their own ``weeks`` (rows of ``weeks``: the spells ``of``, in order), at once."""
        n_bins = self.n_groups * len(payer.names)
        rows, month = np.nonzero(weeks)
        spell = np.flatnonzero(of)[rows]
        out = np.bincount(payer.bin[spell] * np.int64(self.n_months) + month,
                          weights=annual[spell] * weeks[rows, month], minlength=n_bins * self.n_months)
        return out.astype(float, copy=False).reshape(n_bins, self.n_months)

    def any_of(self, flag: np.ndarray) -> np.ndarray:
        """Per group: whether any of its spells has ``flag``."""
        out = np.zeros(self.n_groups, dtype=bool)
        out[self.group[flag]] = True
        return out


def _state_part(tax: np.ndarray, k_tax: np.ndarray, f_tax: np.ndarray) -> np.ndarray:
    """The state's part of the income tax: what the kommune's and fylke's skatteøre leave."""
    return tax - k_tax - f_tax


class _Book:
    """The ledgers of a block being written: each step's (replication, arm, party) sums with
    the place the loop of one replication gives them (the replication; the spells' items before
    the integration grant; the arm; the step; the party's first spell). :meth:`ledgers` makes
    one dict per replication in that order."""

    def __init__(self, n_reps: int) -> None:
        self.n_reps = n_reps
        self._keys: list[tuple[str, str, str]] = []
        self._entries: list[tuple[np.ndarray, np.ndarray, int, int, np.ndarray, np.ndarray, np.ndarray]] = []
        self._steps = 0

    def add(self, item: str, arm_names: list[str], payer: _Parties, sums: np.ndarray, sign: float, *,
            where: np.ndarray | None = None, public_only: bool = True, weekly: bool = False,
            phase: int = 0) -> None:
        """Item ``item`` of each (replication, arm, party) bin of ``payer`` that has a spell (of
        an arm ``where`` says; a public party unless not ``public_only``): ``sign x sums / 52``
        (``weekly``: ``sign x sums``; ``sums``: bins x months, a bin (replication x
        ``len(arm_names)`` + arm) x parties + party)."""
        self._steps += 1
        emit = payer.first < NO_SPELL
        n_parties = len(payer.names)
        if not n_parties or not len(arm_names):
            return
        emit = emit.reshape(-1, n_parties)
        if public_only and not payer.public.all():
            emit = emit & payer.public
        if where is not None:
            emit = emit & where[:, None]
        bins = np.flatnonzero(emit)
        if not len(bins):
            return
        group, party = np.divmod(bins, n_parties)
        rep, arm = np.divmod(group, len(arm_names))
        rows = sums[bins]
        self._entries.append((rep, len(self._keys) + arm * n_parties + party, phase, self._steps, arm,
                              payer.first[bins], sign * rows if weekly else sign * rows / 52.0))
        self._keys.extend([(a, p, item) for a in arm_names for p in payer.names])

    def ledgers(self) -> list[Ledger]:
        """One ledger per replication: its keys in the order of the loop of one replication, a
        key written twice the sum of its parts in that order."""
        out: list[Ledger] = [{} for _ in range(self.n_reps)]
        if not self._entries:
            return out
        rep, key, phase, step, arm, first, rows = zip(*self._entries, strict=True)
        sizes = [len(r) for r in rep]
        rep = np.concatenate(rep)
        at = np.lexsort((np.concatenate(first), np.repeat(step, sizes), np.concatenate(arm),
                         np.repeat(phase, sizes), rep))
        keys = self._keys
        for r, k, row in zip(rep[at].tolist(), np.concatenate(key)[at].tolist(), np.concatenate(rows)[at],
                             strict=True):
            ledger = out[r]
            name = keys[k]
            ledger[name] = ledger[name] + row if name in ledger else row
        return out


def _block_kind_rules(spells: Frame, payers: dict[str, str | dict[str, float]], params: FiscalParams,
                      bounds: np.ndarray) -> tuple[list[tuple[np.ndarray, list[str], np.ndarray | None]],
                                                   np.ndarray]:
    """:func:`_kind_rules` of a block's spells; a kind the rules lack is refused as the
    replications would refuse it one at a time: by the first replication that uses one, naming
    its kinds in the order they first appear in it."""
    codes, names = _codes(spells, "benefit_kind", "none")
    try:
        return _kind_rules(codes, names, payers, params)
    except SpecError:
        if len(bounds) > 2:
            kinds = np.array(names, dtype=object)
            for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
                own, first = factorized(codes[lo:hi])
                _kind_rules(own, kinds[codes[lo:hi][first]].tolist(), payers, params)
        raise


def _spell_persons(block: RecordBlock, arm: np.ndarray, pid: np.ndarray) -> np.ndarray:
    """Each spell's row of the block's ``persons`` (the person of the same replication, arm and
    ``person_id``; the last such row if there are two), -1 for a spell without its person: the
    rows :class:`effekt.contracts.outcomes.Tables` ties each replication's spells to, by the same
    function (:func:`effekt.contracts.outcomes._person_rows`)."""
    rows = _person_rows(arm, pid, block.person_replication())
    return rows(block.spells, block.spell_replication())


def _integration_grant(book: _Book, block: RecordBlock, n_months: int, ig: IntegrationGrant) -> None:
    """The state's integration grant to the kommune for each eligible person, monthly, from entry
    until the person moves away or the data end, for ``len(ig.per_year)`` years; per
    replication and arm (sorted) of its eligible persons, after the spells' items, the persons'
    grants summed in person order."""
    if not ig.per_year:
        return
    persons, spells = block.persons, block.spells
    eligible = among(_strings(persons, "group", ""), ig.groups)
    eligible |= among(_strings(persons, "benefit_kind", "none"), ig.benefit_kinds)
    if not eligible.any():
        return
    arm_all = _strings(persons, "arm")
    person = _spell_persons(block, arm_all, _ints(persons, "person_id"))
    n = len(persons)
    known = person >= 0
    s_start = _floats(spells, "start")
    moved_at = np.full(n, np.inf)
    is_moved = known & (_strings(spells, "state", "") == "moved")
    np.minimum.at(moved_at, person[is_moved], s_start[is_moved])
    data_end = np.full(n, -np.inf)
    np.maximum.at(data_end, person[known], _floats(spells, "end")[known])
    data_end[np.isneginf(data_end)] = 0.0
    stop = np.minimum(moved_at, data_end)[eligible]
    entry = _floats(persons, "entry_week")[eligible]
    arm = arm_all[eligible]
    arm_names = sorted(set(arm.tolist()))
    place = {a: i for i, a in enumerate(arm_names)}
    group = block.person_replication()[eligible] * len(arm_names) + np.array([place[a] for a in arm.tolist()],
                                                                             dtype=np.int64)
    n_groups = block.n * len(arm_names)
    months = np.arange(n_months)
    tm = (months + 0.5) * WEEKS_PER_MONTH
    per_year = np.asarray(ig.per_year, float)
    # each group's months summed person after person, in person order (np.add.at into one output,
    # as np.bincount adds), a piece of persons at a time: no eligible persons x months matrices
    total = np.zeros(n_groups * n_months)
    step = max(periods.CHUNK_CELLS // max(n_months, 1), 1)
    for lo in range(0, len(entry), step):
        e, st = entry[lo:lo + step, None], stop[lo:lo + step, None]
        year = ig.year_at_entry - 1 + np.floor((tm[None, :] - e) / 52.0).astype(int)
        active = (tm[None, :] >= e) & (tm[None, :] < st) & (year < len(ig.per_year))
        monthly = np.where(active, per_year[np.clip(year, 0, len(per_year) - 1)] / 12.0, 0.0)
        np.add.at(total, (group[lo:lo + step, None] * n_months + months).ravel(), monthly.ravel())
    total = total.reshape(n_groups, n_months)
    present = np.full(n_groups, NO_SPELL, dtype=np.intp)  # the grant's keys come after the spells'
    present[group] = 0
    for party, sign in (("kommune", 1.0), ("state", -1.0)):
        book.add("integration_grant", arm_names, _Parties([party], np.zeros(len(group), dtype=np.intp),
                 np.array([True]), group, present), total, sign, public_only=False, weekly=True, phase=1)


def difference(levels: pd.DataFrame, n_treatment: int, n_control: int) -> pd.DataFrame:
    """Treatment minus control (scaled to the treatment arm's size): arm ``difference``."""
    if n_control == 0 or levels.empty:
        return levels.iloc[0:0]
    scale = n_treatment / n_control
    t = levels[levels["arm"] == "treatment"]
    c = levels[levels["arm"] == "control"].assign(amount=lambda d: -scale * d["amount"])
    both = pd.concat([t, c], ignore_index=True).assign(arm="difference")
    return both.groupby(["arm", "party", "month", "item"], as_index=False)["amount"].sum()[FISCAL_COLUMNS]


COMPONENTS = ("income_tax", "employer_contributions", "benefits", "earnings")


def gains_by_component(diff: pd.DataFrame | Ledger) -> pd.DataFrame:
    """The public gain against control per month and component (income_tax, employer_contributions,
    benefits saved, earnings): what a savings-share contract (Koto-SIB) pays a share of."""
    if isinstance(diff, dict):
        sums: dict[str, np.ndarray] = {}
        for (_, _, item), a in diff.items():
            if item in COMPONENTS:
                sums[item] = sums.get(item, 0) + a
        if not sums:
            return pd.DataFrame({"month": pd.Series(dtype=int), "component": pd.Series(dtype=object),
                                 "amount": pd.Series(dtype=float)})
        return pd.concat([pd.DataFrame({"month": np.arange(len(a)), "component": c, "amount": a})
                          for c, a in sums.items()], ignore_index=True)
    d = diff[diff["item"].isin(list(COMPONENTS))]
    return (d.groupby(["month", "item"], as_index=False)["amount"].sum()
            .rename(columns={"item": "component"}))


def savings_gain(gains: Ledger | pd.DataFrame, window_months: int,
                 components: list[str] | tuple[str, ...]) -> float:
    """The public gain against control in ``components`` over the first ``window_months`` months:
    what a savings share (Koto-SIB) is paid a share of. ``gains`` is a difference ledger
    (:func:`difference_ledger`) or its table by component (:func:`gains_by_component`); from a
    ledger the sum is taken without building the table (nor importing pandas to tell which)."""
    if not isinstance(gains, dict):
        window = gains[(gains["month"] < window_months) & gains["component"].isin(list(components))]
        return float(window["amount"].sum())
    sums: dict[str, np.ndarray] = {}
    for (_, _, item), a in gains.items():
        if item in COMPONENTS:
            sums[item] = sums.get(item, 0) + a
    parts = [a[:max(window_months, 0)] for c, a in sums.items() if c in components]
    return float(np.concatenate(parts).sum()) if parts else 0.0


def series(table: pd.DataFrame, n_months: int, **where: object) -> np.ndarray:
    """The monthly amounts of the rows of ``table`` matching ``where`` (column=value)."""
    t = table
    for col, val in where.items():
        t = t[t[col].isin(val)] if isinstance(val, list | tuple | set) else t[t[col] == val]
    out = np.zeros(n_months)
    if len(t):
        np.add.at(out, np.clip(t["month"].to_numpy(int), 0, n_months - 1), t["amount"].to_numpy(float))
    return out
