"""How a contract's flows are valued: one object instead of a long list of arguments.

A :class:`Valuation` says in which money and by which rules an evaluation counts: the currency, the
base amount that prices benefits given in multiples of it (Norway's grunnbeløp G; 1 EUR for
Finland's levels in euros), the real discount rate of every NPV, the price year
both are in, who pays each kind of benefit, what a comparison with an empty control arm does, and
the other fiscal rules (tax, employer contributions, grants, wages), where the kommune stands in
inntektsutjevning (how much of its skatteøre it keeps), and how much of the programme's extra
work is extra for the public budgets (displacement, substitution). The defaults
are the built-in rules (``contracts/data/fiscal.toml``, G from 1 May 2025, 4 % as in the Finance
Ministry's R-109 circular, every job additional); :func:`effekt.contracts.evaluate.evaluate` takes
one. :meth:`Valuation.for_rules` takes the currency, base amount and price year from a country's
rules (``[money]``, e.g. Finland's ``contracts/data/fi/fiscal.toml``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, get_args

from effekt.contracts.fiscal import FiscalParams, benefit_payers, default_fiscal
from effekt.contracts.payments import MissingControl
from effekt.specfile import Said, SpecError, joined, keyed, said

if TYPE_CHECKING:
    from effekt.contracts.terms import Terms

G_DEFAULT = 130160.0  # source: NAV, grunnbeløp from 1 May 2025
CURRENCY_DEFAULT = "NOK"  # Norway's rules (contracts/data/fiscal.toml [money])
BASE_NAME_DEFAULT = "G"  # Norway's base amount, the grunnbeløp
DISCOUNT_RATE_DEFAULT = 0.04  # source: Finansdepartementet, rundskriv R-109 (2021): 4 % real
PRICE_YEAR_DEFAULT = 2025  # the year of G_DEFAULT and of the built-in fiscal rules


@dataclass(frozen=True)
class Valuation:
    """The terms of valuing one evaluation.

    ``G``: the base amount benefit levels are multiples of, in ``currency`` (Norway: the grunnbeløp,
    NOK per G in the price year; a country whose levels are in its currency: 1). ``currency``: the
    ISO 4217 code every amount of the evaluation is in (the KPIs' unit; a contract in another
    currency is converted by its ``nok_per_unit`` only when this is NOK: :meth:`priced`);
    ``base_name``: what the base amount is called (``G``), for labels. ``discount_rate``: real, per year, for
    every NPV. ``price_year``: the year whose kroner the amounts are in (G and the fiscal rules
    must be of that year; informative, the arithmetic does not use it). ``benefit_payers``: which
    party pays each benefit kind ("state", "kommune", "none", or shares of parties such as
    ``{"state": 0.5, "kommune": 0.5}``; default the table of ``fiscal``, ``[benefit_payers]``, else
    the built-in one); :meth:`with_benefit_payers` overrides single kinds, as a
    scenario's ``world.benefits.<kind>.payer`` does. ``missing_control``: ``"raise"`` makes a
    comparison with an empty control arm an error (:class:`effekt.contracts.payments.NeedsControl`),
    ``"not_met"`` counts it as not met (a randomised trial that put nobody into control).
    ``fiscal``: the other fiscal rules (default: the built-in ones). ``displacement_share``: the
    share of the programme's additional employment that someone else would otherwise have had;
    ``substitution_share``: the share of its wage-subsidised job time in which an employer swapped
    an existing worker for a subsidised one. Both offset the budget flows of employment
    (:mod:`effekt.contracts.displacement`); finite numbers from 0 to 1, default 0 (every job the
    comparison counts is additional). ``kommune_tax_base``: where the kommune stands in
    inntektsutjevning, ``"above_90"`` or ``"below_90"`` (its tax base against 90 % of the national
    average: it keeps 40 % or 5 % of its skatteøre by the built-in rules) or the share it keeps (0
    to 1); None (the default) keeps the fiscal rules' own ``[inntektsutjevning] position``. Set,
    it is applied to ``fiscal`` (``fiscal.inntektsutjevning.position``), so every flow valued by
    this valuation sees it.
    """

    G: float = G_DEFAULT
    discount_rate: float = DISCOUNT_RATE_DEFAULT
    price_year: int = PRICE_YEAR_DEFAULT
    benefit_payers: Mapping[str, Any] | None = field(default=None, hash=False)
    missing_control: MissingControl = "raise"
    fiscal: FiscalParams = field(default_factory=default_fiscal, hash=False)
    displacement_share: float = 0.0
    substitution_share: float = 0.0
    kommune_tax_base: str | float | None = None
    currency: str = CURRENCY_DEFAULT
    base_name: str = BASE_NAME_DEFAULT

    @classmethod
    def for_rules(cls, fiscal: FiscalParams, **kw: Any) -> Valuation:
        """A valuation by a country's fiscal rules: its currency, base amount (``G``) and price
        year from the rules' ``[money]`` table (Norway's defaults when it has none), the other
        terms from ``kw``."""
        money = fiscal.money
        if money is not None:
            kw = {"G": money.base_amount, "currency": money.currency, "base_name": money.base_name,
                  "price_year": money.price_year, **kw}
        return cls(fiscal=fiscal, **kw)

    def priced(self, terms: Terms) -> Terms:
        """``terms`` with its money in this valuation's currency: as written when the valuation
        counts in NOK (a contract in another currency converted by its ``nok_per_unit``, as
        always), at 1:1 when the contract is in the valuation's own currency (a Finnish contract in
        EUR valued by Finland's rules). A contract in a third currency has no rate to this one:
        :class:`effekt.specfile.SpecError` naming the keys."""
        c = terms.contract
        if self.currency == CURRENCY_DEFAULT or (c.currency == self.currency and c.nok_per_unit == 1.0):
            return terms
        if c.currency == self.currency:
            return terms.model_copy(update={"contract": c.model_copy(update={"nok_per_unit": 1.0})})
        raise SpecError(f"contract '{c.name}'", [said(
            f"contract.currency = '{c.currency}', but the evaluation counts in {self.currency} (the "
            f"country's rules, [money] of {self.fiscal.source or 'the fiscal rules'}) and a contract's "
            f"nok_per_unit converts only to NOK: write the contract's prices in {self.currency} "
            f"(contract.currency = '{self.currency}'), or evaluate it by Norway's rules",
            f"contract.currency = '{c.currency}', men evalueringen regner i {self.currency} (landets "
            f"regler, [money] i {self.fiscal.source or 'skattereglene'}), og en kontrakts "
            f"nok_per_unit regner bare om til NOK: skriv kontraktens priser i {self.currency} "
            f"(contract.currency = '{self.currency}'), eller evaluer den etter Norges regler")])

    def __post_init__(self) -> None:
        if self.benefit_payers is None:
            object.__setattr__(self, "benefit_payers", dict(self.fiscal.benefit_payers or benefit_payers()))
        problems = _share_problems(self.displacement_share, self.substitution_share)
        problems += _tax_base_problems(self.kommune_tax_base)
        if not self.G > 0:
            problems.append(said(f"G: {self.G!r}; must be a positive amount of {self.currency} "
                                 "(the base amount)",
                                 f"G: {self.G!r}; må være et positivt beløp i {self.currency} "
                                 "(grunnbeløpet)"))
        if not (isinstance(self.currency, str) and len(self.currency) == 3 and self.currency.isupper()):
            problems.append(said(f"currency: {self.currency!r}; an ISO 4217 code such as 'NOK' or 'EUR'",
                                 f"currency: {self.currency!r}; en ISO 4217-kode som 'NOK' eller 'EUR'"))
        if not self.discount_rate > -1:
            problems.append(said(f"discount_rate: {self.discount_rate!r}; must be greater than -1 (per year)",
                                 f"discount_rate: {self.discount_rate!r}; må være større enn -1 (per år)"))
        allowed = get_args(MissingControl)
        if self.missing_control not in allowed:
            problems.append(said(f"missing_control: '{self.missing_control}'; allowed: {', '.join(allowed)}",
                                 f"missing_control: '{self.missing_control}'; tillatt: {', '.join(allowed)}"))
        bad = sorted(str(k) for k, v in self.benefit_payers.items()
                     if not ((isinstance(v, str) and v) or (isinstance(v, Mapping) and v)))
        if bad:
            problems.append(said(f"benefit_payers: no party named for {bad}; name one (e.g. 'state', "
                                 "'kommune' or 'none')",
                                 f"benefit_payers: ingen part oppgitt for {bad}; oppgi én (f.eks. 'state', "
                                 "'kommune' eller 'none')"))
        if problems:
            raise ValueError(keyed("Valuation", joined("; ", problems)))
        # a read-only copy of its own: changing the caller's dict later changes nothing here, and
        # a shared (cached) valuation cannot be changed through it
        object.__setattr__(self, "benefit_payers", MappingProxyType(dict(self.benefit_payers)))
        for name in ("displacement_share", "substitution_share"):
            object.__setattr__(self, name, float(getattr(self, name)))
        base = self.kommune_tax_base
        if base is not None:
            if not isinstance(base, str):
                base = float(base)
                object.__setattr__(self, "kommune_tax_base", base)
            try:
                object.__setattr__(self, "fiscal", self.fiscal.with_kommune_tax_base(base))
            except ValueError as err:
                raise ValueError(keyed("Valuation: kommune_tax_base (scenario key scenario.kommune_tax_base)",
                                       err.args[0] if err.args and isinstance(err.args[0], Said)
                                       else str(err))) from None

    def __reduce__(self):  # picklable for worker processes (a mappingproxy is not)
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return (_rebuild, (values | {"benefit_payers": dict(self.benefit_payers)},))

    def with_benefit_payers(self, payers: Mapping[str, str]) -> Valuation:
        """This valuation with ``payers`` (benefit kind -> party) replacing those kinds' payers."""
        return replace(self, benefit_payers={**self.benefit_payers, **payers})


def _rebuild(values: dict) -> Valuation:
    return Valuation(**values)


def _tax_base_problems(base: object) -> list[str]:
    """What is wrong with a stated kommune tax base: it must be None, "above_90", "below_90" or a
    finite share from 0 to 1 (not a boolean)."""
    if base is None or base in ("above_90", "below_90"):
        return []
    number = isinstance(base, numbers.Real) and not isinstance(base, bool)
    if number and math.isfinite(base) and 0 <= base <= 1:
        return []
    return [said(f"kommune_tax_base (scenario key scenario.kommune_tax_base): {base!r}; allowed: 'above_90', "
                 "'below_90' (the kommune's tax base against 90 % of the national average) or the share of "
                 "its skatteøre the kommune keeps after inntektsutjevning, a number from 0 to 1",
                 f"kommune_tax_base (scenarionøkkel scenario.kommune_tax_base): {base!r}; tillatt: "
                 "'above_90', 'below_90' (kommunens skattegrunnlag mot 90 % av landsgjennomsnittet) eller "
                 "andelen av skatteøret kommunen beholder etter inntektsutjevning, et tall fra 0 til 1")]


def _share_problems(displacement_share: object, substitution_share: object) -> list[str]:
    """What is wrong with the two stated shares, each problem naming its key (and the scenario key
    that sets it): each must be a finite number from 0 to 1; a boolean is refused, not read as 0
    or 1."""
    problems = []
    for name, v, of, of_nb in (
            ("displacement_share", displacement_share, "additional employment", "ekstra sysselsetting"),
            ("substitution_share", substitution_share, "wage-subsidised job time",
             "tid i jobb med lønnstilskudd")):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (math.isfinite(v) and 0 <= v <= 1):
            problems.append(said(f"{name} (scenario key world.labour_market.{name}): {v!r}; must be a "
                                 f"number from 0 to 1, the share of the programme's {of} (not a boolean)",
                                 f"{name} (scenarionøkkel world.labour_market.{name}): {v!r}; må være et "
                                 f"tall fra 0 til 1, andelen av tiltakets {of_nb} (ikke true/false)"))
    return problems
