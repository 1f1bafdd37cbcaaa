"""Readable names of the scenario keys a sweep or a decision varies, in bokmål and English.

A design point is a set of dotted scenario keys and values
(``world.counterfactual.entry_rate_multiplier = 1.2``). Readers show the name a person knows
where effekt has one (:func:`parameter_label`), and the key itself, marked as code, where it has
none: the key is also what one writes in ``--set`` and in ``[design.sweep]``, so it is never lost.
"""

from __future__ import annotations

import re

_EXACT: dict[str, tuple[str, str]] = {  # key -> (nb, en)
    "world.counterfactual.entry_rate_multiplier": (
        "jobbsjanser uten tiltaket (faktor)", "job chances without the programme (factor)"),
    "world.counterfactual.mode": ("kontrafaktisk", "counterfactual"),
    "world.horizon_weeks": ("tidshorisont (uker)", "horizon (weeks)"),
    "world.long_run_years": ("lang sikt (år)", "long run (years)"),
    "world.size": ("antall personer", "people"),
    "world.labour_market.displacement_share": ("andel fortrengning", "displacement share"),
    "world.labour_market.substitution_share": ("andel substitusjon", "substitution share"),
    "world.labour_market.temporary_share": ("andel midlertidige jobber", "temporary job share"),
    "contract.template": ("kontraktsmal", "contract template"),
    "contract.term_months": ("kontraktsperiode (måneder)", "contract term (months)"),
    "contract.provider.per_week": ("leverandørens kostnad per uke", "provider cost per week"),
    "pathway.template": ("løp", "pathway"),
}

_PATTERNS: list[tuple[re.Pattern[str], tuple[str, str]]] = [
    (re.compile(r"^contract\.prices\.(?P<x>\w+)$"), ("pris per resultat «{x}»", "price per outcome '{x}'")),
    (re.compile(r"^world\.cohorts\[(?P<x>\d+)\]\.size$"), ("personer i kull {n}", "people in cohort {n}")),
    (re.compile(r"^pathway\.capacity\.(?P<x>\w+)\.slots$"), ("plasser i «{x}»", "places in '{x}'")),
]


def known_parameter(key: str) -> bool:
    """Whether effekt has a readable name for scenario key ``key``."""
    return key in _EXACT or any(p.match(key) for p, _ in _PATTERNS)


def parameter_label(key: str, lang: str = "en", code: str = "`") -> str:
    """The readable name of scenario key ``key`` in ``lang`` (``nb`` or ``en``); a key without one
    is returned as code, between ``code`` marks (a Markdown backtick by default; ``""`` for none)."""
    if lang not in ("nb", "en"):
        raise ValueError(f"language '{lang}'; allowed: nb, en")
    i = 0 if lang == "nb" else 1
    if key in _EXACT:
        return _EXACT[key][i]
    for pattern, words in _PATTERNS:
        m = pattern.match(key)
        if m:
            x = m.group("x")
            return words[i].format(x=x, n=int(x) + 1 if x.isdigit() else x)
    return f"{code}{key}{code}"
