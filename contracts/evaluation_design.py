"""Evaluation designs: what a contract compares its outcomes with, and so what it pays for.

A contract that pays for results has to say which results would have happened anyway. How it
finds out is its **evaluation design**, and each design has a bias of its own:

``randomised``
    a randomised control group (or, in the simulation's parallel mode, the same people under
    business as usual): the control arm. Unbiased apart from chance. Koto-SIB (Finland).
``matched``
    a comparison group matched on what the registers show (cohort, target group, age, Norwegian,
    education, work capacity, benefit, entry week), one per *participant (admitted past
    screening)*: the simulation's arm ``comparison``. Only these participants are measured, and
    every payment rule counts them only, an absolute trigger and a rate card too: a matched
    evaluation sees nobody else (treatment people whose ``person_id`` is in the comparison arm).
    Not the KPI ``participants``, which counts every treated (referred) person. Latent
    employability is not matched, so a screening that picks the more employable (cream-skimming)
    makes it overstate the effect.
``historical``
    a fixed baseline from earlier years: ``baseline = {outcome = share}``, the share of treated
    people expected to reach each outcome anyway (for an outcome counted in days, days per treated
    person), with its ``source``, as many rate-card SIBs. Biased whenever this cohort or this
    labour market differs from those years.
``gross``
    no comparison at all: every outcome counts as if it would not have happened anyway (the DWP
    Innovation Fund paid so). It pays for the deadweight in full.

What the contract **pays** uses the design's comparison; what the report calls the **true**
effect always uses the control arm (the same people under business as usual). The design object
here only relabels and filters the tables the payment rules read
(:meth:`EvaluationDesign.measured`, :meth:`EvaluationDesign.measured_tables`) and gives the
baseline a trigger compares with (:meth:`EvaluationDesign.baseline_shares`); the rules
themselves are those of :mod:`effekt.contracts.payments`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal, get_args

from pydantic import Field, model_validator

from effekt import lazy
from effekt.contracts.terms import BINARY_METRICS
from effekt.dotted import suggest
from effekt.specfile import SpecError, Strict, joined, said

if TYPE_CHECKING:
    from effekt.contracts.outcomes import Frame
    from effekt.contracts.payments import Columns, People
    from effekt.contracts.terms import Terms

np = lazy.module("numpy", globals())  # on first use: `effekt validate` needs neither (issue 14)
pa = lazy.module("pyarrow", globals())

DesignKind = Literal["randomised", "matched", "historical", "gross"]
"""The evaluation designs; see the module docstring for the bias of each."""
DESIGNS: tuple[str, ...] = get_args(DesignKind)

COMPARISON_ARM = "comparison"
"""The arm of the record tables that holds the matched comparison group (one person per
participant, with the participant's ``person_id``)."""

DESIGN_LABELS: dict[str, tuple[str, str]] = {
    "randomised": ("randomisert kontrollgruppe", "randomised control group"),
    "matched": ("matchet sammenligningsgruppe", "matched comparison group"),
    "historical": ("historisk referanse", "historical baseline"),
    "gross": ("ingen sammenligning (brutto)", "no comparison (gross)"),
}
"""How a design is named in (nb, en)."""

_COMPARES_WITH = {"randomised": "the control arm", "matched": "the matched comparison arm",
                  "historical": "a fixed baseline share", "gross": "nothing"}
_COMPARES_WITH_NB = {"randomised": "kontrollgruppen", "matched": "den matchede sammenligningsgruppen",
                     "historical": "en fast andel fra før (baseline)", "gross": "ingenting"}


class EvaluationDesign(Strict):
    """A scenario's ``[evaluation]`` table: the design (default ``randomised``: today's
    behaviour), and for ``historical`` the baseline shares and their source.

    ``baseline`` maps a contract outcome to the share of treated people expected to reach it
    without the programme (days per treated person for an outcome counted in days). It is
    required under ``historical`` (for the primary outcome and every outcome a trigger compares)
    and refused under every other design, as is ``source``.
    """

    design: DesignKind = "randomised"
    baseline: dict[str, float] = Field(default_factory=dict)
    source: str = ""

    @model_validator(mode="after")
    def _own_keys(self) -> EvaluationDesign:
        problems = []
        if self.design == "historical":
            if not self.baseline:
                problems.append(said("baseline: design 'historical' needs the share of treated people "
                                     "expected to reach each outcome the contract compares, e.g. "
                                     "baseline = { job_start = 0.35 }",
                                     "baseline: design 'historical' trenger andelen av deltakerne som "
                                     "forventes å nå hvert resultat kontrakten sammenligner, f.eks. "
                                     "baseline = { job_start = 0.35 }"))
            if not self.source.strip():
                problems.append(said("source: design 'historical' needs the source of its baseline "
                                     "(the earlier years it was measured in), or the word assumption",
                                     "source: design 'historical' trenger kilden til sin baseline "
                                     "(de tidligere årene den ble målt i), eller ordet assumption"))
        else:
            if self.baseline:
                problems.append(said(f"baseline: only design 'historical' compares with a baseline; design "
                                     f"'{self.design}' compares with {_COMPARES_WITH[self.design]}: remove "
                                     "baseline or set design = 'historical'",
                                     f"baseline: bare design 'historical' sammenligner med en baseline; "
                                     f"design '{self.design}' sammenligner med "
                                     f"{_COMPARES_WITH_NB[self.design]}: ta bort baseline eller sett "
                                     "design = 'historical'"))
            if self.source:
                problems.append(said(f"source: names the source of a historical baseline; design "
                                     f"'{self.design}' has none: remove it or set design = 'historical'",
                                     f"source: oppgir kilden til en historisk baseline; design "
                                     f"'{self.design}' har ingen: ta den bort eller sett design = "
                                     "'historical'"))
        for name, share in self.baseline.items():
            if isinstance(share, bool) or not math.isfinite(share) or share < 0:
                problems.append(said(f"baseline.{name}: {share!r}; a share (or days per person) of 0 "
                                     "or more",
                                     f"baseline.{name}: {share!r}; en andel (eller dager per person) på 0 "
                                     "eller mer"))
        if problems:
            raise ValueError(joined("\n", problems))
        return self

    @property
    def is_randomised(self) -> bool:
        return self.design == "randomised"

    def label(self, lang: str = "en") -> str:
        """The design's name in ``lang`` (``nb`` or ``en``)."""
        if lang not in ("nb", "en"):
            raise ValueError(f"language '{lang}'; allowed: nb, en")
        nb, en = DESIGN_LABELS[self.design]
        return nb if lang == "nb" else en

    # -- what cannot work ------------------------------------------------------------------------

    def problems(self, terms: Terms, prefix: str = "evaluation.", contract_prefix: str = "") -> list[str]:
        """What in ``terms`` this design cannot evaluate, one line per problem naming the dotted
        key (``prefix`` before the design's keys, ``contract_prefix`` before the contract's, e.g.
        ``evaluation.`` and ``contract.`` in a scenario); empty when the pair works.

        A savings share is a share of the public gain against a comparison group: a historical
        baseline or no comparison cannot measure it. A trigger relative to the comparison divides
        by the comparison's share, which is 0 without a comparison (and must be above 0 in a
        baseline). A historical baseline must give the primary outcome (the measured additional
        outcomes count it) and every outcome a trigger compares; it may name no other key.
        """
        d, c = self.design, contract_prefix
        out = []
        if d in ("historical", "gross") and terms.savings_share is not None:
            out.append(said(f"{c}savings_share: a share of the public gain against a comparison group; "
                            f"{prefix}design = '{d}' compares with {_COMPARES_WITH[d]} and cannot measure "
                            f"one. Use "
                            f"{prefix}design = 'randomised' or 'matched', or a contract without a savings "
                            "share",
                            f"{c}savings_share: en andel av den offentlige gevinsten mot en "
                            f"sammenligningsgruppe; {prefix}design = '{d}' sammenligner med "
                            f"{_COMPARES_WITH_NB[d]} og kan ikke måle den. Bruk {prefix}design = "
                            "'randomised' eller 'matched', eller en kontrakt uten savings_share"))
        if d == "gross":
            for i, t in enumerate(terms.triggers):
                if t.compare == "relative_to_control":
                    out.append(said(f"{c}triggers[{i}]: compare = 'relative_to_control' divides by the "
                                    f"comparison's share, and {prefix}design = 'gross' has no comparison "
                                    "(its share is 0): use compare = 'absolute', or another design",
                                    f"{c}triggers[{i}]: compare = 'relative_to_control' deler på "
                                    f"sammenligningsgruppens andel, og {prefix}design = 'gross' har ingen "
                                    "sammenligning (andelen er 0): bruk compare = 'absolute', eller et "
                                    "annet design"))
        if d == "historical":
            names = list(terms.outcomes)
            for name in self.baseline:
                if name not in terms.outcomes:
                    out.append(said(f"{prefix}baseline.{name}: not an outcome of the contract"
                                    f"{suggest(name, names)}; outcomes: {', '.join(names)}",
                                    f"{prefix}baseline.{name}: ikke et resultat i kontrakten"
                                    f"{suggest(name, names, lang='nb')}; resultater: {', '.join(names)}"))
            wanted = {terms.primary: ("the primary outcome (the measured additional outcomes count it)",
                                      "hovedresultatet (de målte ekstra resultatene teller det)")}
            for i, t in enumerate(terms.triggers):
                if t.needs_control:
                    wanted.setdefault(t.outcome, (f"{c}triggers[{i}] compares it",
                                                  f"{c}triggers[{i}] sammenligner det"))
            for name, (why, why_nb) in wanted.items():
                if name not in self.baseline:
                    out.append(said(f"{prefix}baseline.{name}: missing; design 'historical' needs the share "
                                    f"expected without the programme for {why}",
                                    f"{prefix}baseline.{name}: mangler; design 'historical' trenger andelen "
                                    f"som forventes uten tiltaket for {why_nb}"))
            for name, share in self.baseline.items():
                o = terms.outcomes.get(name)
                if o is not None and o.metric in BINARY_METRICS and share > 1:
                    out.append(said(f"{prefix}baseline.{name}: {share:g}; '{name}' is reached or not, so "
                                    "its baseline is a share between 0 and 1",
                                    f"{prefix}baseline.{name}: {share:g}; '{name}' nås eller ikke, så "
                                    "baseline er en andel mellom 0 og 1"))
            for i, t in enumerate(terms.triggers):
                if t.compare == "relative_to_control" and self.baseline.get(t.outcome, 1.0) <= 0:
                    out.append(said(f"{prefix}baseline.{t.outcome}: 0, and {c}triggers[{i}] compares "
                                    "relative to it (divides by it): give a share above 0",
                                    f"{prefix}baseline.{t.outcome}: 0, og {c}triggers[{i}] sammenligner "
                                    "relativt til den (deler på den): oppgi en andel over 0"))
        return out

    def check(self, terms: Terms) -> None:
        """Raise :class:`effekt.specfile.SpecError` when the design cannot evaluate ``terms``
        (:meth:`problems`)."""
        problems = self.problems(terms)
        if problems:
            raise SpecError(f"evaluation design '{self.design}' for contract '{terms.contract.name}'",
                            problems)

    # -- what the payment rules read -------------------------------------------------------------

    def baseline_shares(self) -> dict[str, float] | None:
        """The share each outcome is compared with instead of the control arm's: the baseline
        under ``historical``, 0 for every outcome under ``gross`` (an empty mapping: missing
        outcomes count 0); None when the comparison is an arm of the tables."""
        if self.design == "historical":
            return dict(self.baseline)
        if self.design == "gross":
            return {}
        return None

    def measured(self, found: Columns, people: People) -> tuple[Columns, People]:
        """The outcomes and people as the design sees them: arm ``treatment`` is who it measures,
        arm ``control`` what it compares with. ``randomised``: the tables as they are;
        ``matched``: the participants (admitted past screening) against the comparison arm
        (relabelled ``control``), for every payment rule;
        ``historical`` and ``gross``: the treatment arm alone (the baseline stands in for the
        comparison)."""
        if self.design == "randomised":
            return found, people
        from effekt.contracts.payments import People

        keep_people, arm_people = self._keep(people.arm, people.person_id, people)
        keep_found, arm_found = self._keep(found["arm"], found["person_id"], people)
        m_found = {k: (arm_found if k == "arm" else v)[keep_found] for k, v in found.items()}
        m_people = People(arm=arm_people[keep_people], person_id=people.person_id[keep_people],
                          cohort=people.cohort[keep_people], entry=people.entry[keep_people])
        return m_found, m_people

    def _keep(self, arm: np.ndarray, pid: np.ndarray, people: People) -> tuple[np.ndarray, np.ndarray]:
        """Which rows (``arm``, ``pid``) the design measures, and their arms as it names them."""
        if self.design in ("historical", "gross"):
            return arm == "treatment", arm
        comparison = arm == COMPARISON_ARM
        participants = np.unique(people.person_id[people.arm == COMPARISON_ARM])
        keep = comparison | ((arm == "treatment") & np.isin(pid, participants))
        relabelled = np.where(comparison, "control", arm).astype(object)
        return keep, relabelled

    def measured_tables(self, persons: Frame, spells: Frame) -> tuple[Frame, Frame]:
        """``persons`` and ``spells`` cut to what a ``matched`` design measures (participants and
        the comparison arm, relabelled ``control``), for the public gain a savings share is paid
        on. Other designs: the tables as they are."""
        if self.design != "matched":
            return persons, spells
        p_arm, p_pid = _column(persons, "arm"), _column(persons, "person_id")
        participants = np.unique(p_pid[p_arm == COMPARISON_ARM])

        def cut(table: Frame) -> Frame:
            arm, pid = _column(table, "arm"), _column(table, "person_id")
            comparison = arm == COMPARISON_ARM
            keep = comparison | ((arm == "treatment") & np.isin(pid, participants))
            relabelled = np.where(comparison, "control", arm).astype(object)[keep]
            if isinstance(table, pa.Table):
                kept = table.filter(pa.array(keep))
                i = kept.schema.get_field_index("arm")
                return kept.set_column(i, kept.schema.field(i), pa.array(relabelled, type=pa.string()))
            return table[keep].assign(arm=relabelled)

        return cut(persons), cut(spells)


def _column(table: Frame, name: str) -> np.ndarray:
    if isinstance(table, pa.Table):
        return np.asarray(table.column(name).to_numpy(zero_copy_only=False))
    return table[name].to_numpy()


RANDOMISED = EvaluationDesign()
"""The default design: the control arm."""
