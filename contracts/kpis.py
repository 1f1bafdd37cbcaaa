"""The KPIs a contract evaluation returns, declared: one :class:`Kpi` per value.

Every number :func:`effekt.contracts.evaluate` returns for a replication is declared here before
anything is computed: its column name, unit, kind (money, count, share, indicator, rate, ratio),
the arm it measures (treatment, control or the difference between them), the party it belongs to
(the investors, a tranche, a commissioner, a public budget), a label in Norwegian bokmål and
English and whether more is better. :func:`kpis_for` builds the :class:`KpiRegistry` of a
contract from its terms; readers (summaries, reports, comparisons, break-even, the stored runs
table and its Parquet column metadata) look KPIs up there instead of guessing from their names.
Modelled on pvlib's ``ModelChainResult`` and EMA Workbench's outcome objects: typed, documented
results.

Names are built once, here, and a contract whose keys would make two KPIs share a name (an outcome
``job`` next to one called ``job_control``, a commissioner called ``total``) is refused when its
terms are loaded, with a message naming the keys. The names of existing contracts' KPIs do not
change: they are the columns users already read.

An **indicator** KPI is 0 or 1 in every replication (did the investors lose money, did a cap
bind): its mean over replications is a probability, and summaries give it a binomial interval.
Every other KPI is a count or an amount, even when it happens to be 0 or 1 in a small batch
(participants in a cohort of one): which KPIs are indicators is declared, not guessed from values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import repeat
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, get_args

from effekt.contracts.fiscal import FISCAL_ITEMS, PUBLIC_DEFAULT
from effekt.contracts.terms import BINARY_METRICS
from effekt.specfile import SpecError, said
from effekt.titles import title as titled

if TYPE_CHECKING:
    from effekt.contracts.terms import Terms

CURRENCY_DEFAULT = "NOK"
"""The currency of Norway's rules, the default: KPIs are declared in it and relabelled for another
(:func:`in_currency`)."""
BASE_NAME_DEFAULT = "G"
"""Norway's base amount of benefit levels, the grunnbeløp."""

Kind = Literal["money", "count", "share", "indicator", "rate", "ratio"]
"""``money``: an amount (NOK, NOK per outcome, multiples of G); ``count``: people or outcomes;
``share``: a fraction in [0, 1] (shown as a percentage); ``indicator``: 0 or 1 per replication
(its mean is a probability); ``rate``: per year (an IRR); ``ratio``: money out per money in."""
Arm = Literal["treatment", "control", "difference"]
"""Which arm a KPI measures; ``difference`` is treatment minus control scaled to the treatment
arm's size ("what the programme changed")."""
PartyKind = Literal["investor", "tranche", "commissioner", "public"]
"""What kind of party a KPI belongs to: all investors, one tranche of them, a commissioner (or all
of them), a public budget (or all of them)."""

KINDS: tuple[str, ...] = get_args(Kind)
ARMS: tuple[str, ...] = get_args(Arm)
PARTY_KINDS: tuple[str, ...] = get_args(PartyKind)

Key = tuple[str, str | None, str | None, str | None]
"""What a KPI measures, without its name: (measure, arm, party, outcome). Two KPIs of one contract
never share a key; :func:`effekt.contracts.evaluate.evaluate` fills values by key."""


def kpi_key(measure: str, *, arm: str | None = None, party: str | None = None,
            outcome: str | None = None) -> Key:
    """The :data:`Key` of the KPI measuring ``measure`` for ``arm``, ``party`` and ``outcome``."""
    return (measure, arm, party, outcome)


@dataclass(frozen=True)
class Kpi:
    """One declared KPI: a column of the runs table and a value of ``Evaluation.kpis``.

    ``name`` is the column name (stable: users read it). ``measure`` is what is measured, shared
    by KPIs that differ only in arm, party or outcome (``in_work_12m`` for both arms, ``irr`` for
    the investors and each tranche, ``fiscal_npv`` for each public budget, ``outcomes`` for each
    outcome). ``party`` names the party as the cashflow and fiscal tables do (``investor``,
    ``investor.senior``, ``kommune``); None for a value of the whole contract or a total over all
    parties of ``party_kind``. ``outcome`` is the contract's outcome key for outcome counts.
    ``higher_is_better`` is from the point of view of the party (or the programme); None when
    neither direction is good in itself (how many people took part, what was paid).
    """

    name: str
    measure: str
    kind: Kind
    unit: str
    label_nb: str
    label_en: str
    arm: Arm | None = None
    party: str | None = None
    party_kind: PartyKind | None = None
    outcome: str | None = None
    higher_is_better: bool | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"KPI {self.name}: kind '{self.kind}'; allowed: {', '.join(KINDS)}")
        if self.arm is not None and self.arm not in ARMS:
            raise ValueError(f"KPI {self.name}: arm '{self.arm}'; allowed: {', '.join(ARMS)}")
        if self.party_kind is not None and self.party_kind not in PARTY_KINDS:
            raise ValueError(f"KPI {self.name}: party_kind '{self.party_kind}'; allowed: "
                             f"{', '.join(PARTY_KINDS)}")

    @property
    def key(self) -> Key:
        """(measure, arm, party, outcome): what this KPI measures, without its name."""
        return (self.measure, self.arm, self.party, self.outcome)

    @property
    def is_indicator(self) -> bool:
        """0 or 1 in every replication, so that its mean is a probability."""
        return self.kind == "indicator"

    def label(self, lang: str = "en") -> str:
        """The KPI's label in ``lang`` (``nb`` or ``en``)."""
        if lang not in ("nb", "en"):
            raise ValueError(f"language '{lang}'; allowed: nb, en")
        return self.label_nb if lang == "nb" else self.label_en

    def metadata(self) -> dict[str, str]:
        """The declaration as strings, for Arrow/Parquet field metadata (every field but the name;
        None is written as an empty string, ``higher_is_better`` as ``true``/``false``/``''``)."""
        hib = "" if self.higher_is_better is None else str(self.higher_is_better).lower()
        return {"measure": self.measure, "kind": self.kind, "unit": self.unit,
                "arm": self.arm or "", "party": self.party or "", "party_kind": self.party_kind or "",
                "outcome": self.outcome or "", "label_nb": self.label_nb, "label_en": self.label_en,
                "higher_is_better": hib}

    @classmethod
    def from_metadata(cls, name: str, metadata: Mapping[bytes, bytes] | Mapping[str, str]) -> Kpi:
        """The declaration stored by :meth:`metadata` (keys and values may be bytes, as pyarrow
        returns them). Raises KeyError when the metadata holds no declaration."""
        md = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
              for k, v in metadata.items()}
        hib = md.get("higher_is_better", "")
        return cls(name=name, measure=md["measure"], kind=md["kind"], unit=md["unit"],  # type: ignore[arg-type]
                   label_nb=md["label_nb"], label_en=md["label_en"], arm=md.get("arm") or None,  # type: ignore[arg-type]
                   party=md.get("party") or None, party_kind=md.get("party_kind") or None,  # type: ignore[arg-type]
                   outcome=md.get("outcome") or None,
                   higher_is_better=None if hib == "" else hib == "true")


_ANY: object = object()


class KpiRegistry(Mapping[str, Kpi]):
    """The KPIs of one contract, in the order evaluations return them: a read-only mapping from
    column name to :class:`Kpi`. Built by :func:`kpis_for` (or read back from stored results);
    names and keys are unique."""

    def __init__(self, kpis: Iterable[Kpi] = ()):
        self._by_name: dict[str, Kpi] = {}
        self._by_key: dict[Key, Kpi] = {}
        for k in kpis:
            if k.name in self._by_name:
                raise ValueError(f"KPI '{k.name}' declared twice")
            if k.key in self._by_key:
                raise ValueError(f"KPIs '{self._by_key[k.key].name}' and '{k.name}' measure the same "
                                 f"thing {k.key}")
            self._by_name[k.name] = k
            self._by_key[k.key] = k

    def __getitem__(self, name: str) -> Kpi:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def __copy__(self) -> KpiRegistry:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> KpiRegistry:
        """The registry itself: it is read-only, and pandas deep-copies a frame's ``attrs`` (where
        the loaded runs keep their registry) on nearly every operation, which made a summary of
        stored results spend most of its time copying KPI declarations."""
        return self

    def __repr__(self) -> str:
        return f"KpiRegistry({len(self)} KPIs: {', '.join(list(self)[:4])}{', ...' if len(self) > 4 else ''})"

    @property
    def names(self) -> list[str]:
        """The column names, in order."""
        return list(self._by_name)

    @property
    def currency(self) -> str:
        """The currency the money KPIs are in (the unit of ``outcome_payments``; NOK, Norway's, when
        no money KPI is declared): what a reader shows beside the amounts."""
        for k in self.values():
            if k.measure == "outcome_payments":
                return k.unit
        return CURRENCY_DEFAULT

    def at(self, measure: str, *, arm: str | None = None, party: str | None = None,
           outcome: str | None = None) -> Kpi:
        """The KPI measuring ``measure`` for ``arm``, ``party`` and ``outcome``; KeyError naming
        the measures there are when there is none."""
        key = kpi_key(measure, arm=arm, party=party, outcome=outcome)
        if key not in self._by_key:
            measures = sorted({k.measure for k in self.values()})
            raise KeyError(f"no KPI measures {key}; measures: {', '.join(measures)}")
        return self._by_key[key]

    def select(self, *, measure: object = _ANY, kind: object = _ANY, arm: object = _ANY,
               party: object = _ANY, party_kind: object = _ANY, outcome: object = _ANY) -> list[Kpi]:
        """The KPIs matching every field given (None matches None: ``party=None`` is a total over
        all parties), in order."""
        want = {f: v for f, v in (("measure", measure), ("kind", kind), ("arm", arm), ("party", party),
                                  ("party_kind", party_kind), ("outcome", outcome)) if v is not _ANY}
        def matching() -> list[Kpi]:
            return [k for k in self.values() if all(getattr(k, f) == v for f, v in want.items())]

        memo = self.__dict__.setdefault("_selected", {})  # the registry never changes: once per query
        query = tuple(want.items())
        try:
            found = memo.get(query)
        except TypeError:  # an unhashable value asked for: no memo
            return matching()
        if found is None:
            found = memo[query] = matching()
        return list(found)

    def label(self, name: str, lang: str = "en") -> str:
        """The label of KPI ``name`` in ``lang``; the name itself for a column no contract declares
        (one an analysis adds, such as ``commissioner_payments_npv``)."""
        return self[name].label(lang) if name in self else name

    def is_indicator(self, name: str) -> bool:
        """Whether ``name`` is a declared indicator KPI (0 or 1 in every replication)."""
        return name in self and self[name].is_indicator

    @property
    def indicators(self) -> list[str]:
        """The names of the indicator KPIs."""
        return [k.name for k in self.values() if k.is_indicator]

    def fill(self, values: Mapping[Key, float]) -> dict[str, float]:
        """``values`` by key as {name: value} in the registry's order; a KPI without a value is NaN.
        A value no KPI declares is a programming error (it would be lost silently): ValueError."""
        by_key = self._by_key  # in the registry's order too (both built from the same list)
        if not by_key.keys() >= values.keys():  # one set comparison (a replication's ~100 values)
            stray = [k for k in values if k not in by_key]
            raise ValueError(f"values for undeclared KPIs {stray}")
        order = self.__dict__.get("_fill_order")
        if order is None:  # the registry never changes: its names and keys listed once
            order = self.__dict__["_fill_order"] = ([k.name for k in by_key.values()], list(by_key))
        names, keys = order
        return dict(zip(names, map(float, map(values.get, keys, repeat(math.nan))), strict=True))

    def union(self, *others: KpiRegistry) -> KpiRegistry:
        """These KPIs, then those of ``others`` whose names are new (several scenarios compared:
        their contracts' shared KPIs once, each one's own KPIs beside them)."""
        out = list(self.values())
        seen = set(self)
        keys = set(self._by_key)
        for other in others:
            for k in other.values():
                if k.name not in seen and k.key not in keys:
                    out.append(k)
                    seen.add(k.name)
                    keys.add(k.key)
        return KpiRegistry(out)


# -- the declarations -----------------------------------------------------------------------------

PARTY_NAMES: dict[str, tuple[str, str]] = {
    "kommune": ("kommunen", "kommune"),
    "state": ("staten", "state"),
    "fylke": ("fylkeskommunen", "fylke"),
    "other_kommuner": ("andre kommuner", "other kommuner"),
}
"""How labels name a party in (nb, en); other parties by their own name."""

ITEM_NAMES: dict[str, tuple[str, str]] = {
    "benefits": ("stønader", "benefits"),
    "income_tax": ("inntektsskatt", "income tax"),
    "employer_contributions": ("arbeidsgiveravgift", "employer contributions"),
    "integration_grant": ("integreringstilskudd", "integration grant"),
    "wage_cost": ("lønnskostnader", "wage cost"),
    "value_of_work": ("verdien av arbeidet", "value of the work done"),
    "sales_revenue": ("salgsinntekter", "sales revenue"),
    "wage_subsidy": ("lønnstilskudd", "wage subsidy"),
    "programme_costs": ("programkostnader", "programme costs"),
    "contract": ("kontraktens betalinger", "contract"),
}

_INVESTOR: tuple[tuple[str, Kind, str, str, str, bool | None], ...] = (
    # measure, kind, unit, en (with {who}/{Who}), nb (with {hvem}/{Hvem}), higher is better
    ("invested", "money", "NOK", "{Who} capital put in (NOK)", "{Hvem}: innskutt kapital (NOK)", None),
    ("received", "money", "NOK", "{Who} money back (NOK)", "{Hvem}: penger tilbake (NOK)", True),
    ("net", "money", "NOK", "{Who} net gain (NOK)", "{Hvem}: netto gevinst (NOK)", True),
    ("irr", "rate", "1/year", "{Who} IRR (per year)", "{Hvem}: internrente (per år)", True),
    ("multiple", "ratio", "ratio", "{Who} money multiple", "{Hvem}: pengemultippel", True),
    ("npv", "money", "NOK (NPV)", "{Who} NPV at the discount rate (NOK)",
     "{Hvem}: nåverdi med diskonteringsrenten (NOK)", True),
    ("peak_capital", "money", "NOK", "{Who} peak capital at risk (NOK)",
     "{Hvem}: største kapital i risiko (NOK)", None),
    ("loss", "indicator", "0/1", "Probability of {who} loss", "Sannsynlighet for tap for {hvem}", False),
    ("loss_amount", "money", "NOK", "{Who} loss when there is one (NOK)",
     "{Hvem}: tapet når det er et tap (NOK)", False),
)
"""The investors' KPIs, for all tranches together and (with several tranches) for each one."""


class _Signature(NamedTuple):
    """What of the terms the KPIs depend on (hashable, so registries are built once per contract)."""

    outcomes: tuple[tuple[str, str | None], ...]  # (key, metric; None: not known)
    primary: str | None
    commissioners: tuple[str, ...]
    tranches: tuple[str, ...]
    commitment: bool
    long_run: bool = False  # the public budgets over the long run too (effekt.contracts.long_run)
    titles: tuple[tuple[str, str, str], ...] = ()  # (key, title en, title nb) of titled outcomes


def _signature(terms: Terms, long_run: bool = False) -> _Signature:
    return _Signature(outcomes=tuple((k, o.metric) for k, o in terms.outcomes.items()),
                      primary=terms.primary, commissioners=tuple(terms.commissioners),
                      tranches=tuple(t.name for t in terms.investors.tranches),
                      commitment=terms.investors.commitment is not None, long_run=long_run,
                      titles=tuple((k, titled(o, "en"), titled(o, "nb")) for k, o in terms.outcomes.items()
                                   if getattr(o, "title", "")))


def _party_nb(p: str) -> str:
    return PARTY_NAMES.get(p, (p, p))[0]


def _party_en(p: str) -> str:
    return PARTY_NAMES.get(p, (p, p))[1]


def _outcome_unit(metric: str | None) -> str:
    """persons for outcomes a person reaches or not, days for durations; "persons or days" when
    the metric is unknown (a column read without its contract)."""
    if metric is None:
        return "persons or days"
    return "persons" if metric in BINARY_METRICS else "days"


_UNIT_NB = {"persons": "personer", "days": "dager", "persons or days": "personer eller dager"}

WORK_VARIANTS: dict[str, tuple[str, str]] = {
    "in_ordinary_work": ("In ordinary work", "I ordinært arbeid"),
    "in_work_or_education": ("In work or education", "I arbeid eller utdanning"),
}
"""The variants of the in-work KPIs, with their label stems (en, nb), declared for 12 and 24
months and both arms beside ``in_work_{12,24}m_*`` (``in_ordinary_work_12m_treatment`` ...):
ordinary work only, not the programme's own project and subsidised jobs
(:func:`effekt.contracts.outcomes.programme_jobs`); in work or in ordinary education, as SSB and
DWP measure. The measures are :data:`effekt.contracts.outcomes.WORK_MEASURES`."""


def work_variant_of(measure: str) -> str | None:
    """The in-work measure a variant measure narrows or widens (``in_ordinary_work_12m`` ->
    ``in_work_12m``), None for any other measure. Readers show a variant beside in work only
    where the two differ (without project, subsidised or education spells they are the same)."""
    for v in WORK_VARIANTS:
        if measure.startswith(f"{v}_") and measure.endswith("m"):
            return "in_work" + measure[len(v):]
    return None


class _Builder:
    """Collects declarations with the contract key each comes from, to name both keys of a clash."""

    def __init__(self) -> None:
        self.kpis: list[tuple[Kpi, str]] = []

    def add(self, origin: str, name: str, measure: str, kind: Kind, unit: str, en: str, nb: str,
            **kw: object) -> None:
        self.kpis.append((Kpi(name=name, measure=measure, kind=kind, unit=unit, label_en=en,
                              label_nb=nb, **kw), origin))  # type: ignore[arg-type]

    def problems(self) -> list[str]:
        """One line per pair of keys whose KPIs share a name, naming both keys (the contract's own
        key first) and the names they share."""
        first: dict[str, tuple[Kpi, str]] = {}
        clashes: dict[tuple[str, str], list[tuple[str, Kpi, Kpi]]] = {}
        for k, origin in self.kpis:
            if k.name in first:
                other, where = first[k.name]
                mine_first = where.startswith("(")  # the contract's own key first
                a, b, ka, kb = (origin, where, k, other) if mine_first else (where, origin, other, k)
                clashes.setdefault((a, b), []).append((k.name, ka, kb))
            else:
                first[k.name] = (k, origin)
        out = []
        for (a, b), found in clashes.items():
            names = ", ".join(f"'{n}'" for n, _, _ in found)
            _, ka, kb = found[0]
            rename = "rename one of them" if not b.startswith("(") else f"rename {a}"
            rename_nb = "gi en av dem et annet navn" if not b.startswith("(") else f"gi {a} et annet navn"
            other = b if b.startswith("(") else f"{b} of the same contract"
            other_nb = b if b.startswith("(") else f"{b} i samme kontrakt"
            plural = len(found) > 1
            out.append(said(f"{a}: would report the KPI{'s' if plural else ''} {names} ({_what(ka)}), "
                            f"which {other} reports too ({_what(kb)}): {rename}, so that every KPI has a "
                            f"name of its own",
                            f"{a}: ville rapportert KPI-en{'e' if plural else ''} {names} "
                            f"({_what(ka, 'nb')}), som {other_nb} også rapporterer ({_what(kb, 'nb')}): "
                            f"{rename_nb}, så hver KPI får sitt eget navn"))
        return out

    def registry(self) -> KpiRegistry:
        seen: set[str] = set()
        kept = []
        for k, _ in self.kpis:
            if k.name not in seen:
                seen.add(k.name)
                kept.append(k)
        return KpiRegistry(kept)


def _what(k: Kpi, lang: str = "en") -> str:
    """What a KPI measures, in words, for an error message (``lang``: ``en`` or ``nb``)."""
    if k.outcome and k.measure == "outcomes":
        return (f"gruppen {k.arm} for resultatet '{k.outcome}'" if lang == "nb"
                else f"the {k.arm} arm of outcome '{k.outcome}'")
    if k.party:
        return f"{k.measure} for parten '{k.party}'" if lang == "nb" else f"{k.measure} of party '{k.party}'"
    if k.party_kind:
        return (f"{k.measure} for alle {k.party_kind}-parter samlet" if lang == "nb"
                else f"{k.measure} of all {k.party_kind} parties together")
    return k.measure


def _investor(b: _Builder, origin: str, prefix: str, party: str, party_kind: PartyKind,
              who_en: str, who_nb: str) -> None:
    for measure, kind, unit, en, nb, hib in _INVESTOR:
        b.add(origin, f"{prefix}_{measure}", measure, kind, unit,
              en.format(who=who_en, Who=who_en[:1].upper() + who_en[1:]),
              nb.format(hvem=who_nb, Hvem=who_nb[:1].upper() + who_nb[1:]),
              party=party, party_kind=party_kind, higher_is_better=hib)


def _declare(sig: _Signature) -> _Builder:
    """Every KPI of a contract with signature ``sig``, in the order evaluations return them."""
    b = _Builder()
    fixed = "(every contract)"
    b.add(fixed, "participants", "people", "count", "persons", "People in the programme",
          "Personer i tiltaket", arm="treatment")
    b.add(fixed, "controls", "people", "count", "persons", "People in the counterfactual arm",
          "Personer i den kontrafaktiske armen", arm="control")
    def work_shares(measure: str, en: str, nb: str) -> None:
        """A share in work (or a variant) at 12 and 24 months, in both arms."""
        for m in (12, 24):
            b.add(fixed, f"{measure}_{m}m_treatment", f"{measure}_{m}m", "share", "share",
                  f"{en} {m} months after start, programme",
                  f"{nb} {m} måneder etter oppstart, med tiltaket", arm="treatment", higher_is_better=True)
            b.add(fixed, f"{measure}_{m}m_control", f"{measure}_{m}m", "share", "share",
                  f"{en} {m} months after start, counterfactual",
                  f"{nb} {m} måneder etter oppstart, uten tiltaket (kontrafaktisk)", arm="control")

    work_shares("in_work", "In work", "I arbeid")
    named = {k: (en, nb) for k, en, nb in sig.titles}  # the outcome's title where its file gives one
    for key, metric in sig.outcomes:
        unit = _outcome_unit(metric)
        en, nb = named.get(key, (f"Outcomes '{key}'", f"Resultater '{key}'"))
        b.add(f"outcomes.{key}", f"outcomes_{key}", "outcomes", "count", unit,
              f"{en}, programme ({unit})", f"{nb}, med tiltaket ({_UNIT_NB[unit]})",
              arm="treatment", outcome=key, higher_is_better=True)
        b.add(f"outcomes.{key}", f"outcomes_{key}_control", "outcomes", "count", unit,
              f"{en}, counterfactual ({unit})",
              f"{nb}, uten tiltaket (kontrafaktisk) ({_UNIT_NB[unit]})", arm="control",
              outcome=key)
    for measure, (en, nb) in WORK_VARIANTS.items():  # after the outcomes: the columns' order stays
        work_shares(measure, en, nb)
    b.add(fixed, "outcome_payments", "outcome_payments", "money", "NOK", "Outcome payments (NOK)",
          "Resultatbetalinger (NOK)")
    b.add(fixed, "provider_costs", "provider_costs", "money", "NOK",
          "Provider costs funded by investors (NOK)",
          "Leverandørens kostnader, finansiert av investorene (NOK)")
    b.add(fixed, "cap_binding", "cap_binding", "indicator", "0/1", "Probability a payment cap binds",
          "Sannsynlighet for at et betalingstak slår inn")
    b.add(fixed, "recycled_payments", "recycled_payments", "money", "NOK",
          "Outcome payments recycled into delivery (NOK)",
          "Resultatbetalinger brukt på nytt i leveransen (NOK)")
    _investor(b, fixed, "investor", "investor", "investor", "investor", "investorene")
    b.add(fixed, "investor_peak_capital_share_of_cap", "peak_capital_share_of_cap", "share", "share",
          "Peak capital as a share of the contract cap",
          "Største kapital i risiko som andel av kontraktstaket", party="investor", party_kind="investor")
    if sig.commitment:
        b.add("investors.commitment", "investor_commitment_exceeded", "commitment_exceeded", "indicator",
              "0/1", "Probability costs exceed the investors' commitment",
              "Sannsynlighet for at kostnadene overstiger investorenes tilsagn", party="investor",
              party_kind="investor", higher_is_better=False)
    if len(sig.tranches) > 1:
        for i, t in enumerate(sig.tranches):
            _investor(b, f"investors.tranches[{i}] ('{t}')", f"investor_{t}", f"investor.{t}", "tranche",
                      f"tranche '{t}'", f"tranchen '{t}'")
    b.add(fixed, "commissioner_paid", "commissioner_paid", "money", "NOK", "Commissioners paid in all (NOK)",
          "Oppdragsgiverne betalte i alt (NOK)", party_kind="commissioner")
    for c in sig.commissioners:
        b.add(f"commissioners.{c}", f"commissioner_paid_{c}", "commissioner_paid", "money", "NOK",
              f"Paid by {_party_en(c)} (NOK)", f"Betalt av {_party_nb(c)} (NOK)", party=c,
              party_kind="commissioner")
    primary_unit = _outcome_unit(dict(sig.outcomes).get(sig.primary or "", "job_start"))
    b.add(fixed, "additional_outcomes", "additional_outcomes", "count", primary_unit,
          "Additional primary outcomes over the counterfactual",
          "Flere primærresultater enn uten tiltaket (kontrafaktisk)", arm="difference",
          outcome=sig.primary, higher_is_better=True)
    b.add(fixed, "cost_per_outcome", "cost_per_outcome", "money", "NOK per outcome",
          "Commissioners' cost per primary outcome (NOK)",
          "Oppdragsgivernes kostnad per primærresultat (NOK)",
          party_kind="commissioner", higher_is_better=False)
    b.add(fixed, "cost_per_additional_outcome", "cost_per_additional_outcome", "money", "NOK per outcome",
          "Commissioners' cost per additional outcome (NOK)",
          "Oppdragsgivernes kostnad per ekstra resultat (NOK)", party_kind="commissioner",
          higher_is_better=False)
    # what the contract's evaluation design measures, beside the truth (effekt.contracts.evaluation_design)
    b.add(fixed, "paid_primary_outcomes", "paid_outcomes", "count", primary_unit,
          "Primary outcomes paid for", "Primærresultater det ble betalt for", outcome=sig.primary)
    b.add(fixed, "measured_additional_outcomes", "measured_additional_outcomes", "count", primary_unit,
          "Additional primary outcomes as the evaluation design measures them",
          "Flere primærresultater slik evalueringsdesignet måler dem", arm="difference",
          outcome=sig.primary)
    b.add(fixed, "design_bias_outcomes", "design_bias", "count", primary_unit,
          "Bias of the evaluation design: measured minus true additional primary outcomes",
          "Evalueringsdesignets skjevhet: målte minus faktiske ekstra primærresultater",
          arm="difference", outcome=sig.primary)
    b.add(fixed, "paid_not_additional_share", "paid_not_additional_share", "share", "share",
          "Share of the primary outcomes paid for that were not additional",
          "Andel av primærresultatene det ble betalt for som ikke var ekstra",
          outcome=sig.primary, higher_is_better=False)
    b.add(fixed, "fee_for_service_cost", "fee_for_service_cost", "money", "NOK",
          "Same service bought fee-for-service (NOK)", "Samme tjeneste kjøpt som ordinært tjenestekjøp (NOK)")
    b.add(fixed, "premium_over_fee_for_service", "premium_over_fee_for_service", "money", "NOK",
          "Paid above fee-for-service (NOK)", "Betalt utover ordinært tjenestekjøp (NOK)",
          party_kind="commissioner", higher_is_better=False)
    b.add(fixed, "control_missing", "control_missing", "indicator", "0/1",
          "Probability the RCT put nobody in control",
          "Sannsynlighet for at loddtrekningen ikke satte noen i kontrollgruppen", higher_is_better=False)
    for p in public_parties(sig.commissioners):
        origin = f"commissioners.{p}" if p in sig.commissioners else fixed
        en, nb = _party_en(p), _party_nb(p)
        b.add(origin, f"fiscal_npv_{p}", "fiscal_npv", "money", "NOK (NPV)",
              f"{en[:1].upper() + en[1:]} budget, NPV vs counterfactual (NOK)",
              f"Budsjettet til {nb}, nåverdi mot kontrafaktisk (NOK)", arm="difference", party=p,
              party_kind="public", higher_is_better=True)
        b.add(origin, f"fiscal_net_{p}", "fiscal_net", "money", "NOK",
              f"Budget of the {en}, undiscounted (NOK)", f"Budsjettet til {nb}, udiskontert (NOK)",
              arm="difference", party=p, party_kind="public", higher_is_better=True)
    total = "(the public budgets' total)"
    b.add(total, "fiscal_npv_total", "fiscal_npv", "money", "NOK (NPV)",
          "Public budgets in all, NPV vs counterfactual (NOK)",
          "Offentlige budsjetter i alt, nåverdi mot kontrafaktisk (NOK)", arm="difference",
          party_kind="public", higher_is_better=True)
    b.add(total, "fiscal_net_total", "fiscal_net", "money", "NOK",
          "Public budgets in all, undiscounted (NOK)",
          "Offentlige budsjetter i alt, udiskontert (NOK)", arm="difference", party_kind="public",
          higher_is_better=True)
    for item in FISCAL_ITEMS:
        nb, en = ITEM_NAMES.get(item, (item, item))
        b.add(fixed, f"fiscal_{item}", f"fiscal_{item}", "money", "NOK",
              f"Public budgets: {en}, undiscounted (NOK)", f"Offentlige budsjetter: {nb}, udiskontert (NOK)",
              arm="difference", party_kind="public", higher_is_better=True)
    b.add(fixed, "benefits_saved_g", "benefits_saved_g", "money", "G", "Benefits saved (multiples of G)",
          "Sparte stønader (antall G)", arm="difference", higher_is_better=True)
    b.add(fixed, "earnings_gain", "earnings_gain", "money", "NOK", "Participants' extra gross earnings (NOK)",
          "Deltakernes ekstra bruttoinntekt (NOK)", arm="difference", higher_is_better=True)
    b.add(fixed, "earnings_gain_per_person", "earnings_gain_per_person", "money", "NOK per person",
          "Extra gross earnings per participant (NOK)", "Ekstra bruttoinntekt per deltaker (NOK)",
          arm="difference", higher_is_better=True)
    for p in public_parties(sig.commissioners):  # displacement and substitution (contracts.displacement)
        origin = f"commissioners.{p}" if p in sig.commissioners else fixed
        en, nb = _party_en(p), _party_nb(p)
        b.add(origin, f"fiscal_offset_npv_{p}", "fiscal_offset_npv", "money", "NOK (NPV)",
              f"{en[:1].upper() + en[1:]} budget: lost to displacement and substitution, NPV (NOK)",
              f"Budsjettet til {nb}: tapt ved fortrengning og substitusjon, nåverdi (NOK)",
              arm="difference", party=p, party_kind="public", higher_is_better=True)
    b.add(total, "fiscal_offset_npv_total", "fiscal_offset_npv", "money", "NOK (NPV)",
          "Public budgets in all: lost to displacement and substitution, NPV (NOK)",
          "Offentlige budsjetter i alt: tapt ved fortrengning og substitusjon, nåverdi (NOK)",
          arm="difference", party_kind="public", higher_is_better=True)
    b.add(fixed, "fiscal_displacement_offset", "fiscal_displacement_offset", "money", "NOK",
          "Public budgets: lost to displacement, undiscounted (NOK)",
          "Offentlige budsjetter: tapt ved fortrengning, udiskontert (NOK)", arm="difference",
          party_kind="public", higher_is_better=True)
    b.add(fixed, "fiscal_substitution_offset", "fiscal_substitution_offset", "money", "NOK",
          "Public budgets: lost to substitution, undiscounted (NOK)",
          "Offentlige budsjetter: tapt ved substitusjon, udiskontert (NOK)", arm="difference",
          party_kind="public", higher_is_better=True)
    b.add(fixed, "earnings_offset", "earnings_offset", "money", "NOK",
          "Earnings displaced and substituted workers lose (NOK, in the earnings gain)",
          "Inntekt fortrengte og substituerte arbeidstakere taper (NOK, trukket fra inntektsgevinsten)",
          arm="difference", higher_is_better=True)
    _work_years(b, fixed)  # after every older KPI: the columns before it stay where they are
    if sig.long_run:  # last: the columns of a contract period stay where they are
        _long_run(b, sig, fixed, total)
        _work_years(b, fixed, long_run=True)
    return b


WORK_YEARS_MEASURE = "additional_work_years"
"""The measure (and the KPI's name) of the additional discounted person-years in work over the
contract period (:mod:`effekt.contracts.work_years`): what ``effekt decide``'s willingness to pay
is per by default."""
WORK_YEARS_LONG_RUN_MEASURE = "additional_work_years_long_run"
"""The same over the long run (``[world] long_run_years``), declared only with a long run."""


def _work_years(b: _Builder, fixed: str, long_run: bool = False) -> None:
    """Additional discounted person-years in work (programme minus counterfactual, scaled to the
    programme arm), over the contract period or (``long_run``) the long run."""
    if long_run:
        b.add(fixed, WORK_YEARS_LONG_RUN_MEASURE, WORK_YEARS_LONG_RUN_MEASURE, "count",
              "person-years (discounted)",
              "Additional person-years in work over the counterfactual, discounted, over the long run",
              "Flere personår i arbeid enn uten tiltaket (kontrafaktisk), diskontert, på lang sikt",
              arm="difference", higher_is_better=True)
        return
    b.add(fixed, WORK_YEARS_MEASURE, WORK_YEARS_MEASURE, "count", "person-years (discounted)",
          "Additional person-years in work over the counterfactual, discounted",
          "Flere personår i arbeid enn uten tiltaket (kontrafaktisk), diskontert",
          arm="difference", higher_is_better=True)


LONG_RUN_MEASURE = "fiscal_npv_long_run"
"""The measure of the public budgets' NPV over the long run (:mod:`effekt.contracts.long_run`),
beside ``fiscal_npv`` over the contract period."""


def _long_run(b: _Builder, sig: _Signature, fixed: str, total: str) -> None:
    """The public budgets over the long run: one NPV per public party and their total, declared
    only when the scenario simulates beyond the contract (``[world] long_run_years``)."""
    for p in public_parties(sig.commissioners):
        origin = f"commissioners.{p}" if p in sig.commissioners else fixed
        en, nb = _party_en(p), _party_nb(p)
        b.add(origin, f"{LONG_RUN_MEASURE}_{p}", LONG_RUN_MEASURE, "money", "NOK (NPV)",
              f"{en[:1].upper() + en[1:]} budget, NPV vs counterfactual over the long run (NOK)",
              f"Budsjettet til {nb}, nåverdi mot kontrafaktisk på lang sikt (NOK)", arm="difference",
              party=p, party_kind="public", higher_is_better=True)
    b.add(total, f"{LONG_RUN_MEASURE}_total", LONG_RUN_MEASURE, "money", "NOK (NPV)",
          "Public budgets in all, NPV vs counterfactual over the long run (NOK)",
          "Offentlige budsjetter i alt, nåverdi mot kontrafaktisk på lang sikt (NOK)", arm="difference",
          party_kind="public", higher_is_better=True)


def public_parties(commissioners: Iterable[str]) -> list[str]:
    """The public budgets with KPIs of their own: kommune, fylke, other_kommuner (the kommune's tax
    that inntektsutjevning passes on), state and every commissioner, sorted. Any other party the
    tables name counts in the totals and the fiscal table."""
    return sorted(set(PUBLIC_DEFAULT) | set(commissioners))


@lru_cache(maxsize=512)
def _declared(sig: _Signature) -> tuple[KpiRegistry, tuple[str, ...]]:
    b = _declare(sig)
    return b.registry(), tuple(b.problems())


def kpi_collisions(terms: Terms) -> list[str]:
    """One line per KPI name that two keys of ``terms`` would both report, naming both keys (the
    terms' validation refuses such a contract, so the loader names its file); empty when none.
    Checked with the long-run KPIs declared (a superset), so a contract that loads can be
    evaluated with a long run too."""
    return list(_declared(_signature(terms, long_run=True))[1])


def kpis_for(terms: Terms, *, long_run: bool = False, currency: str = CURRENCY_DEFAULT,
             base_name: str = BASE_NAME_DEFAULT) -> KpiRegistry:
    """The :class:`KpiRegistry` of a contract: every KPI :func:`effekt.contracts.evaluate.evaluate`
    returns for ``terms``, in order; ``long_run``: evaluated with a long run too
    (``evaluate(..., long_run_weeks=...)``), which adds the public budgets' long-run NPVs
    (``fiscal_npv_long_run_<party>``, ``fiscal_npv_long_run_total``) at the end. Computed once per
    distinct contract. Terms whose keys would give two KPIs one name are refused
    (:class:`effekt.specfile.SpecError` naming the keys); loaded terms never are, because loading
    refuses them first. ``currency`` and ``base_name``: the money of the evaluation (a country's
    rules, :class:`effekt.contracts.Valuation`): the money KPIs' units and labels say it instead of
    NOK, and ``benefits_saved_g`` the base amount instead of G (:func:`in_currency`)."""
    registry, problems = _declared(_signature(terms, long_run))
    if problems:
        raise SpecError(f"contract '{terms.contract.name}'", list(problems))
    return in_currency(registry, currency, base_name)


CURRENCY_WORDS: dict[str, dict[str, str]] = {"nb": {"NOK": "kr", "EUR": "€"}, "en": {}}
"""How a text names a currency after an amount, by language (``1 234 kr``, ``1 234 €``); a
currency not listed is named by its code (``1 234 EUR`` in English, ``1 234 GBP``)."""
_MONEY_WORD = {"en": re.compile(r"(?<![^\s(>\u00a0\u202f])NOK(?![^\s),.;:<\u00a0\u202f])"),
               "nb": re.compile(r"(?<![^\s(>\u00a0\u202f])(?:kr|NOK)(?![^\s),.;:<\u00a0\u202f])")}


CURRENCY_NAMES_NB: dict[str, str] = {"NOK": "kroner", "EUR": "euro"}
"""How a bokmål sentence names a currency in running text (``nominelle kroner``)."""
_KRONER = re.compile(r"\bkroner\b")


def currency_word(currency: str, lang: str) -> str:
    """The word a ``lang`` text puts after an amount in ``currency`` (``kr``, ``NOK``, ``€``)."""
    return CURRENCY_WORDS.get(lang, {}).get(currency, currency)


def in_currency_text(text: str, currency: str, lang: str) -> str:
    """``text`` (written, as effekt's texts are, with Norway's ``NOK``, or ``kr`` in bokmål, after
    its amounts) with ``currency``'s word instead (:func:`currency_word`); unchanged for NOK. Only
    a whole word between spaces or punctuation is replaced, never letters inside other text (an
    image's base64 data, ``kroner``)."""
    if currency == CURRENCY_DEFAULT:
        return text
    pattern = _MONEY_WORD["nb" if lang == "nb" else "en"]
    text = pattern.sub(currency_word(currency, lang), text)
    if lang == "nb":  # the currency's name in running text ("nominelle kroner")
        text = _KRONER.sub(CURRENCY_NAMES_NB.get(currency, currency), text)
    return text


def in_currency_words(words: Mapping[str, str], currency: str, lang: str) -> dict[str, str]:
    """A table of texts (a language's words of a report) with :func:`in_currency_text` applied
    to every text."""
    return {k: in_currency_text(v, currency, lang) if isinstance(v, str) else v for k, v in words.items()}


_RELABELLED: dict[tuple[int, str, str], tuple[KpiRegistry, KpiRegistry]] = {}


def _relabelled(registry: KpiRegistry, currency: str, base_name: str) -> KpiRegistry:
    """:func:`in_currency` for another money, remembered per registry (registries are built once
    per contract, and kept alive by the cache holding them)."""
    key = (id(registry), currency, base_name)
    hit = _RELABELLED.get(key)
    if hit is not None and hit[0] is registry:
        return hit[1]
    if len(_RELABELLED) >= 512:
        _RELABELLED.pop(next(iter(_RELABELLED)))
    out = []
    for k in registry.values():
        unit, en, nb = k.unit, k.label_en, k.label_nb
        if k.measure == "benefits_saved_g":
            same = base_name == currency
            unit = base_name
            en = f"Benefits saved ({currency})" if same else f"Benefits saved (multiples of {base_name})"
            nb = f"Sparte stønader ({currency})" if same else f"Sparte stønader (antall {base_name})"
        elif k.kind == "money":
            unit = _NOK.sub(currency, unit)
            en, nb = _NOK.sub(currency, en), _NOK.sub(currency, nb)
        out.append(replace(k, unit=unit, label_en=en, label_nb=nb))
    _RELABELLED[key] = (registry, KpiRegistry(out))
    return _RELABELLED[key][1]


_NOK = re.compile(r"\bNOK\b")


def in_currency(registry: KpiRegistry, currency: str = CURRENCY_DEFAULT,
                base_name: str = BASE_NAME_DEFAULT) -> KpiRegistry:
    """``registry`` with its money KPIs in ``currency``: units and labels name it instead of NOK,
    and the benefits saved are in ``base_name`` (the base amount) instead of G. The same registry
    for Norway's money (NOK, G)."""
    if currency == CURRENCY_DEFAULT and base_name == BASE_NAME_DEFAULT:
        return registry
    return _relabelled(registry, currency, base_name)


def common_kpis() -> KpiRegistry:
    """The KPIs every contract declares with the same name and meaning (those not named after an
    outcome, a tranche or a commissioner; the kommune's and the state's budgets are always there):
    what a reader can rely on when it has a table of KPI rows and no contract."""
    return _declared(_Signature(outcomes=(), primary=None, commissioners=(), tranches=("investor",),
                                commitment=True))[0]


def declared_kpi(name: str) -> Kpi | None:
    """The declaration :func:`kpis_for` gives a column called ``name`` in any contract that has
    one, for a table read without its contract (``pd.read_parquet`` drops the field metadata):
    the KPIs every contract has, and those named after a contract key (an outcome, a tranche, a
    commissioner), found by declaring them for that key with the same rule :func:`kpis_for`
    uses. None for a name no contract declares. An outcome's unit (persons or days) depends on
    its metric, which the name does not tell: such a KPI says "persons or days"."""
    common = common_kpis()
    if name in common:
        return common[name]
    found = _by_rule(name)
    return found


@lru_cache(maxsize=4096)
def _by_rule(name: str) -> Kpi | None:
    candidates: list[_Signature] = []
    base = _Signature(outcomes=(), primary=None, commissioners=(), tranches=("investor",), commitment=True)
    for prefix, suffixes in (("outcomes_", ("_control", "")),):
        if name.startswith(prefix):
            for s in suffixes:
                if name.endswith(s) and len(name) > len(prefix) + len(s):
                    key = name[len(prefix):len(name) - len(s)] if s else name[len(prefix):]
                    candidates.append(base._replace(outcomes=((key, None),)))
    for measure, *_ in _INVESTOR:
        tail = f"_{measure}"
        if name.startswith("investor_") and name.endswith(tail) and len(name) > len("investor_") + len(tail):
            tranche = name[len("investor_"):-len(tail)]
            candidates.append(base._replace(tranches=(tranche, "\x00other")))
    if name == WORK_YEARS_LONG_RUN_MEASURE:
        candidates.append(base._replace(long_run=True))
    long_run = f"{LONG_RUN_MEASURE}_"  # before fiscal_npv_, whose rule would take it for a commissioner's
    if name.startswith(long_run):
        candidates.append(base._replace(long_run=True))
        if len(name) > len(long_run):
            candidates.append(base._replace(commissioners=(name[len(long_run):],), long_run=True))
    for prefix in ("commissioner_paid_", "fiscal_npv_", "fiscal_net_", "fiscal_offset_npv_"):
        if name.startswith(prefix) and len(name) > len(prefix):
            candidates.append(base._replace(commissioners=(name[len(prefix):],)))
    for sig in candidates:
        registry = _declared(sig)[0]
        if name in registry:
            return registry[name]
    return None


def kpis_for_columns(names: Iterable[str]) -> KpiRegistry:
    """The declarations of the KPI columns among ``names`` (see :func:`declared_kpi`), in their
    order; names no contract declares (design parameters, ``point``, ``replication``) are left
    out. For a runs table read without its contract."""
    found: list[Kpi] = []
    keys: set[Key] = set()
    for n in names:
        k = declared_kpi(n)
        if k is not None and k.key not in keys:
            found.append(k)
            keys.add(k.key)
    return KpiRegistry(found)


def is_indicator_kpi(name: str, registry: KpiRegistry | None = None) -> bool:
    """Whether KPI ``name`` is declared an indicator (0/1 in every replication) in ``registry``
    (default: whatever :func:`declared_kpi` says any contract declares a column of that name)."""
    if registry is not None:
        return registry.is_indicator(name)
    k = declared_kpi(name)
    return k is not None and k.is_indicator


INDICATOR_KPIS: frozenset[str] = frozenset(common_kpis().indicators)
"""The indicator KPIs every contract has (``cap_binding``, ``investor_loss``,
``investor_commitment_exceeded``, ``control_missing``); a contract with tranches adds one per
tranche (``investor_<tranche>_loss``): ask its registry (:func:`kpis_for`)."""
