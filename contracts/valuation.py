"""How a contract's flows are valued: one object instead of a long list of arguments.

A :class:`Valuation` says in which money and by which rules an evaluation counts: the grunnbeløp G
that prices benefits given in multiples of G, the real discount rate of every NPV, the price year
both are in, who pays each kind of benefit, what a comparison with an empty control arm does, and
the other fiscal rules (tax, employer contributions, grants, wages). The defaults are the built-in
rules (``contracts/data/fiscal.toml``, G from 1 May 2025, 4 % as in the Finance Ministry's R-109
circular); :func:`effekt.contracts.evaluate.evaluate` takes one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import get_args

from effekt.contracts.fiscal import FiscalParams, benefit_payers, default_fiscal
from effekt.contracts.payments import MissingControl

G_DEFAULT = 130160.0  # source: NAV, grunnbeløp from 1 May 2025
DISCOUNT_RATE_DEFAULT = 0.04  # source: Finansdepartementet, rundskriv R-109 (2021): 4 % real
PRICE_YEAR_DEFAULT = 2025  # the year of G_DEFAULT and of the built-in fiscal rules


@dataclass(frozen=True)
class Valuation:
    """The terms of valuing one evaluation.

    ``G``: the grunnbeløp (NOK per year) in the price year. ``discount_rate``: real, per year, for
    every NPV. ``price_year``: the year whose kroner the amounts are in (G and the fiscal rules
    must be of that year; informative, the arithmetic does not use it). ``benefit_payers``: which
    party pays each benefit kind ("state", "kommune", "none"; default the fiscal rules'
    ``[benefit_payers]`` table); :meth:`with_benefit_payers` overrides single kinds, as a
    scenario's ``world.benefits.<kind>.payer`` does. ``missing_control``: ``"raise"`` makes a
    comparison with an empty control arm an error (:class:`effekt.contracts.payments.NeedsControl`),
    ``"not_met"`` counts it as not met (a randomised trial that put nobody into control).
    ``fiscal``: the other fiscal rules (default: the built-in ones).
    """

    G: float = G_DEFAULT
    discount_rate: float = DISCOUNT_RATE_DEFAULT
    price_year: int = PRICE_YEAR_DEFAULT
    benefit_payers: Mapping[str, str] = field(default_factory=benefit_payers, hash=False)
    missing_control: MissingControl = "raise"
    fiscal: FiscalParams = field(default_factory=default_fiscal, hash=False)

    def __post_init__(self) -> None:
        problems = []
        if not self.G > 0:
            problems.append(f"G: {self.G!r}; must be a positive amount of NOK")
        if not self.discount_rate > -1:
            problems.append(f"discount_rate: {self.discount_rate!r}; must be greater than -1 (per year)")
        allowed = get_args(MissingControl)
        if self.missing_control not in allowed:
            problems.append(f"missing_control: '{self.missing_control}'; allowed: {', '.join(allowed)}")
        bad = sorted(str(k) for k, v in self.benefit_payers.items() if not (isinstance(v, str) and v))
        if bad:
            problems.append(f"benefit_payers: no party named for {bad}; name one (e.g. 'state', "
                            "'kommune' or 'none')")
        if problems:
            raise ValueError("Valuation: " + "; ".join(problems))
        # a read-only copy of its own: changing the caller's dict later changes nothing here, and
        # a shared (cached) valuation cannot be changed through it
        object.__setattr__(self, "benefit_payers", MappingProxyType(dict(self.benefit_payers)))

    def __reduce__(self):  # picklable for worker processes (a mappingproxy is not)
        return (_rebuild, (self.G, self.discount_rate, self.price_year, dict(self.benefit_payers),
                           self.missing_control, self.fiscal))

    def with_benefit_payers(self, payers: Mapping[str, str]) -> Valuation:
        """This valuation with ``payers`` (benefit kind -> party) replacing those kinds' payers."""
        return replace(self, benefit_payers={**self.benefit_payers, **payers})


def _rebuild(G: float, discount_rate: float, price_year: int, payers: dict[str, str],
             missing_control: MissingControl, fiscal: FiscalParams) -> Valuation:
    return Valuation(G=G, discount_rate=discount_rate, price_year=price_year, benefit_payers=payers,
                     missing_control=missing_control, fiscal=fiscal)
