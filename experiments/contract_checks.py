"""Warnings about a contract that would silently pay nothing, or less than its reader expects.

A contract can be valid key by key and still never pay: an outcome measured 24 months after entry
under a term that ends before it, a kull entering so late that its outcomes fall after the term,
an outcome measured at the very week the simulation stops. None of these is an error (a user may
mean it, e.g. a second kull that is not part of the contract), so they are warnings, given where
the user looks: ``effekt validate`` and ``effekt run`` print them before anything runs
(:func:`term_notices`), and after a run, and in the report, the results are checked too
(:func:`payment_notices`): nobody reached a paid outcome, or people did and nothing was paid.

Each warning comes in Norwegian bokmål and English (:class:`Notice`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from effekt.contracts import Terms, earliest_reach, term_end_week
from effekt.lazy import pandas as pd
from effekt.sim import World


@dataclass(frozen=True)
class Notice:
    """One warning in both languages; :meth:`text` gives it in ``lang`` ("nb" or "en")."""

    nb: str
    en: str

    def text(self, lang: str = "en") -> str:
        return self.nb if lang == "nb" else self.en


def _num(x: float, lang: str) -> str:
    s = f"{x:.1f}".rstrip("0").rstrip(".")
    return s.replace(".", ",") if lang == "nb" else s


def cohort_entries(world: World) -> list[tuple[str, float]]:
    """(cohort name, the first week anyone of it enters) for every kull the world simulates: a
    repeating kull gives one entry per repeat, a referral stream its first week."""
    out = []
    for c in world.cohorts:
        if c.repeats > 1 and c.repeat_every_weeks:
            out += [(f"{c.name} {k + 1}", c.start_week + k * c.repeat_every_weeks) for k in range(c.repeats)]
        else:
            out.append((c.name, c.start_week))
    return out


def paid_outcomes(terms: Terms) -> list[str]:
    """The outcomes the contract pays for: those with a price (rate card or trigger)."""
    return [name for name in terms.outcomes if name in terms.prices]


def term_notices(world: World, terms: Terms) -> list[Notice]:
    """What the contract's own terms and the world's cohorts say before anything runs: a paid
    outcome that no kull (or only some) can reach inside the term, or that is measured at or after
    the horizon, where the simulation no longer sees anyone."""
    c = terms.contract
    end = term_end_week(c.term_months)
    horizon = world.horizon_weeks
    entries = cohort_entries(world)
    notices: list[Notice] = []
    for name in paid_outcomes(terms):
        offset, absolute = earliest_reach(terms.outcomes[name])
        reach = [(k, offset if absolute else start + offset) for k, start in entries]
        late = [(k, w) for k, w in reach if w > end + 1e-9]
        if late and len(late) == len(reach):
            w = min(w for _, w in reach)
            months = math.ceil(w / (52.0 / 12.0) - 1e-9)
            notices.append(Notice(
                nb=(f"advarsel: resultatet '{name}' kan aldri utløse betaling: det nås tidligst i uke "
                    f"{_num(w, 'nb')}, etter at kontraktsperioden slutter i uke {_num(end, 'nb')} "
                    f"(contract.contract.term_months = {c.term_months}); kontrakten betaler da ingenting "
                    f"for det. Sett term_months til minst {months}, eller mål resultatet tidligere"),
                en=(f"warning: outcome '{name}' can never be paid: it is reached at the earliest in week "
                    f"{_num(w, 'en')}, after the contract's term ends in week {_num(end, 'en')} "
                    f"(contract.contract.term_months = {c.term_months}), so the contract pays nothing "
                    f"for it. Raise term_months to at least {months}, or measure it earlier")))
        elif late:
            names = ", ".join(f"'{k}'" for k, _ in late)
            notices.append(Notice(
                nb=(f"advarsel: for kull {names} faller resultatet '{name}' etter kontraktsperiodens slutt "
                    f"i uke {_num(end, 'nb')} (term_months = {c.term_months}): de kan ikke utløse "
                    "betaling for det"),
                en=(f"warning: for kull {names}, outcome '{name}' falls after the term ends in week "
                    f"{_num(end, 'en')} (term_months = {c.term_months}): they cannot be paid for it")))
        if terms.outcomes[name].metric == "in_work_at":
            unseen = [(k, w) for k, w in reach if w <= end + 1e-9 and w >= horizon - 1e-9]
            if unseen:
                w = min(w for _, w in unseen)
                notices.append(Notice(
                    nb=(f"advarsel: resultatet '{name}' måles i uke {_num(w, 'nb')}, ved eller etter "
                        f"simuleringens slutt (world.horizon_weeks = {_num(horizon, 'nb')}): ingen blir "
                        f"sett i arbeid da, og det blir aldri betalt. Øk world.horizon_weeks til over "
                        f"{_num(w, 'nb')}"),
                    en=(f"warning: outcome '{name}' is measured in week {_num(w, 'en')}, at or after the "
                        f"end of the simulation (world.horizon_weeks = {_num(horizon, 'en')}): nobody is "
                        f"seen in work then and it is never paid. Raise world.horizon_weeks above "
                        f"{_num(w, 'en')}")))
    return notices


def payment_notices(runs: pd.DataFrame, terms: Terms | None = None) -> list[Notice]:
    """What the results say: the contract paid nothing in any replication, although people
    reached a paid outcome (then the terms are the likely reason) or because nobody did."""
    if "outcome_payments" not in runs or runs.empty:
        return []
    paid = pd.to_numeric(runs["outcome_payments"], errors="coerce").fillna(0.0)
    if (paid.abs() > 0).any():
        return []
    n = len(runs)
    names = paid_outcomes(terms) if terms is not None else [
        c.removeprefix("outcomes_") for c in runs.columns
        if c.startswith("outcomes_") and not c.endswith("_control")]
    reached = {k: float(runs[f"outcomes_{k}"].mean()) for k in names if f"outcomes_{k}" in runs}
    reached = {k: v for k, v in reached.items() if v > 0}
    if reached:
        nb_parts = ", ".join(f"'{k}' ({_num(v, 'nb')} per kjøring)" for k, v in reached.items())
        en_parts = ", ".join(f"'{k}' ({_num(v, 'en')} per run)" for k, v in reached.items())
        return [Notice(
            nb=(f"advarsel: deltakere nådde betalte resultater ({nb_parts} i snitt), men kontrakten "
                f"betalte ingenting i noen av de {n} kjøringene: sjekk term_months, tak og "
                "terskler (effekt validate viser det den kan se)"),
            en=(f"warning: participants reached paid outcomes ({en_parts} on average), but the contract "
                f"paid nothing in any of the {n} runs: check term_months, caps and triggers (effekt "
                "validate lists what it can see)"))]
    return [Notice(
        nb=(f"advarsel: ingen nådde et betalt resultat i noen av de {n} kjøringene: kontrakten betalte "
            "ingenting"),
        en=f"warning: nobody reached a paid outcome in any of the {n} runs: the contract paid nothing")]
