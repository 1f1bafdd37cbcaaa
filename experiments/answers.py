"""Answers that say what they mean: the sentences of the run summary and the report where a
number alone would mislead (issue 13, item 3), in Norwegian bokmål and English.

* **The investor's return**: the money multiple and the probability of a loss come first (they are
  defined in every run where money was put in); the IRR only where it is defined, with the count
  of runs it is defined in, and each undefined run explained by why
  (:data:`effekt.contracts.IRR_UNDEFINED`: nothing back, money back but no rate makes the NPV zero,
  several rates do). A median "IRR" of 2 runs out of 200 is said to be that.
* **The price per additional outcome** when the programme adds none: a plain sentence ("every
  krone pays for people who would have reached it anyway"), not "an unbounded amount".
* **What drives the result**: one sentence from numbers already computed (the share of the
  outcomes paid for that are not additional, or the largest item of the public budgets).
* **Where the numbers come from**: every file the scenario read, by its path (the built-in
  templates and the user's own scenario, pathway and contract files), and which of the user's
  numbers carry neither a source nor the word assumption.

Numbers are formatted by :mod:`effekt.experiments.formatting`; ``typeset=True`` (the HTML
report) writes the real minus sign.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from effekt.contracts import (
    IRR_UNDEFINED,
    ITEM_NAMES,
    NO_SINGLE_RATE,
    KpiRegistry,
    irr_reason,
    undefined_irr_reasons,
)
from effekt.experiments import formatting as fmt

REASON_WORDS: dict[str, tuple[str, str]] = {
    **IRR_UNDEFINED,
    NO_SINGLE_RATE: ("penger tilbake, men ingen enkelt rente (ingen eller flere renter gir nåverdi null)",
                     "money back, but no single rate (no rate, or several, makes the NPV zero)"),
}
"""(nb, en) words for every reason an IRR is undefined, those of the cashflows and of the KPIs."""

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "multiple": ("Investor money multiple: {mean} (90 % of {runs} {p5} to {p95}); probability of "
                     "loss {loss}{ci}"),
        "ci": " (95 % CI {lo} to {hi})",
        "irr_all": "Investor IRR: median {med} a year (90 % of {runs} {p5} to {p95})",
        "irr_some": "Investor IRR, defined in {k} of {n} {runs}: median {med} a year ({spread})",
        "irr_none": "Investor IRR: defined in none of the {n} {runs}",
        "spread90": "90 % of them {p5} to {p95}",
        "spread_few": "from {lo} to {hi}",
        "undefined": "; undefined in {u}: {why}",
        "runs": "runs",
        "replications": "replications",
        "per_extra": ("Additional outcomes ({what}) over the counterfactual: {n} per {run} on "
                      "average; the commissioners pay {per} per additional outcome."),
        "per_extra_none": ("The contract pays for outcomes ({what}) but the programme adds none that "
                           "can be told from chance ({n} per {run} against the counterfactual, on "
                           "average, 95 % CI {lo} to {hi}): the {paid} paid go, as far as the runs can "
                           "tell, to people who would have reached it anyway."),
        "per_extra_nothing": ("The programme adds no outcomes ({what}) over the counterfactual ({n} "
                              "per {run} on average), and the contract paid nothing for them."),
        "per_extra_fewer": ("The programme gives fewer outcomes ({what}) than the counterfactual ({n} "
                            "per {run} on average, 95 % CI {lo} to {hi}): the {paid} paid go to people "
                            "who would have reached it anyway, and some who would have do not."),
        "run": "run",
        "replication": "replication",
        "drives_none": ("What drives the result: the programme adds no outcomes that can be told from "
                        "chance, so what the contract pays goes, as far as the runs can tell, to people "
                        "who would have reached them anyway."),
        "drives_fewer": ("What drives the result: the programme gives fewer outcomes than the "
                         "counterfactual (it holds people back), so what the contract pays goes to people "
                         "who would have reached them anyway."),
        "drives_deadweight": ("What drives the result: the contract pays mostly for people who would "
                              "have reached the outcome anyway ({share} of the outcomes paid for are "
                              "not additional)."),
        "drives_item": ("What drives the result: of what the programme changes in the public budgets, "
                        "{item} weighs most ({amount} against the counterfactual, undiscounted, "
                        "mean)."),
        "prov_builtin": ("Numbers in effekt's own files ({files}): {a} marked as assumptions, {s} "
                         "with a source, {c} calibrated{u}."),
        "prov_unmarked": ", {u} unmarked",
        "prov_own": ("Numbers in your own files ({files}): {n}, of which {s} with a source and {a} "
                     "marked as assumptions{rest}."),
        "prov_own_bare": "; with neither: {keys}",
        "prov_more": " and {k} more",
        "prov_unknown": ("The files the scenario was read from are not known (results made by an "
                         "older effekt, or the scenario file has moved): sources not checked."),
    },
    "nb": {
        "multiple": ("Investors pengemultippel: {mean} (90 % av {runs} {p5} til {p95}); "
                     "sannsynlighet for tap {loss}{ci}"),
        "ci": " (95 % KI {lo} til {hi})",
        "irr_all": "Investors internrente: median {med} per år (90 % av {runs} {p5} til {p95})",
        "irr_some": ("Investors internrente, definert i {k} av de {n} {runs}: median {med} per år "
                     "({spread})"),
        "irr_none": "Investors internrente: definert i ingen av de {n} {runs}",
        "spread90": "90 % av dem {p5} til {p95}",
        "spread_few": "fra {lo} til {hi}",
        "undefined": "; udefinert i {u}: {why}",
        "runs": "kjøringene",
        "replications": "replikasjonene",
        "per_extra": ("Resultater ({what}) utover det kontrafaktiske: {n} per {run} i "
                      "gjennomsnitt; oppdragsgiverne betaler {per} per ekstra resultat."),
        "per_extra_none": ("Kontrakten betaler for resultater ({what}), men tiltaket gir ingen ekstra "
                           "som kan skilles fra tilfeldigheter ({n} per {run} mot det kontrafaktiske, i "
                           "gjennomsnitt, 95 % KI {lo} til {hi}): de {paid} som er betalt, går så langt "
                           "kjøringene kan si, til folk som ville nådd resultatet uansett."),
        "per_extra_nothing": ("Tiltaket gir ingen resultater ({what}) utover det kontrafaktiske ({n} "
                              "per {run} i gjennomsnitt), og kontrakten betalte ingenting for dem."),
        "per_extra_fewer": ("Tiltaket gir færre resultater ({what}) enn det kontrafaktiske ({n} per "
                            "{run} i gjennomsnitt, 95 % KI {lo} til {hi}): de {paid} som er betalt, går "
                            "til folk som ville nådd resultatet uansett, og noen som ville nådd det, "
                            "gjør det ikke."),
        "run": "kjøring",
        "replication": "replikasjon",
        "drives_none": ("Dette driver resultatet: tiltaket gir ingen ekstra resultater som kan skilles "
                        "fra tilfeldigheter, så det kontrakten betaler, går så langt kjøringene kan si, "
                        "til folk som ville nådd dem uansett."),
        "drives_fewer": ("Dette driver resultatet: tiltaket gir færre resultater enn det kontrafaktiske "
                         "(det holder folk tilbake), så det kontrakten betaler, går til folk som ville "
                         "nådd dem uansett."),
        "drives_deadweight": ("Dette driver resultatet: kontrakten betaler mest for folk som ville nådd "
                              "resultatet uansett ({share} av resultatene det betales for, er ikke "
                              "ekstra)."),
        "drives_item": ("Dette driver resultatet: av det tiltaket endrer i de offentlige budsjettene, "
                        "veier {item} mest ({amount} mot det kontrafaktiske, udiskontert, "
                        "gjennomsnitt)."),
        "prov_builtin": ("Tall i effekts egne filer ({files}): {a} merket som antakelser, {s} med "
                         "kilde, {c} kalibrert{u}."),
        "prov_unmarked": ", {u} umerket",
        "prov_own": ("Tall i dine egne filer ({files}): {n}, av dem {s} med kilde og {a} merket som "
                     "antakelser{rest}."),
        "prov_own_bare": "; uten noen av delene: {keys}",
        "prov_more": " og {k} til",
        "prov_unknown": ("Filene scenarioet ble lest fra, er ukjente (resultater fra en eldre effekt, "
                         "eller scenariofilen er flyttet): kildene er ikke sjekket."),
    },
}
"""The sentences of this module in bokmål and English."""

DEADWEIGHT_SHARE = 0.5
"""From this share of the outcomes paid for not being additional, the contract is said to pay
*mostly* for what would have happened anyway."""


def _col(reg: KpiRegistry, runs: pd.DataFrame, measure: str, **where: str | None) -> str | None:
    """The column of the KPI ``measure`` (with ``where``) that ``runs`` has, None otherwise (the
    declared one, else the first that :meth:`KpiRegistry.select` finds: a registry read back from
    stored results may declare it with other defaults)."""
    try:
        name = reg.at(measure, **where).name
        if name in runs:
            return name
    except KeyError:
        pass
    found = [k.name for k in reg.select(measure=measure, **where) if k.name in runs]
    return found[0] if found else None


# -- the investor's return -------------------------------------------------------------------


def irr_reasons_from_kpis(runs: pd.DataFrame, reg: KpiRegistry) -> pd.Series:
    """Per run, why the investors' IRR is undefined (None where it is defined), from the KPIs:
    ``nothing_invested``, ``nothing_back`` or, with money in and back, :data:`NO_SINGLE_RATE`
    (the cashflows say which: :func:`irr_reasons_from_cashflows`), by the one rule of
    :func:`effekt.contracts.undefined_irr_reasons` that ``effekt breakeven`` uses too."""

    def values(measure: str) -> np.ndarray:
        col = _col(reg, runs, measure, party="investor")
        return runs[col].to_numpy(float) if col else np.full(len(runs), np.nan)

    out = undefined_irr_reasons(values("irr"), values("invested"), values("received"))
    return pd.Series(out, index=runs.index, dtype=object)


def irr_reasons_from_cashflows(runs: pd.DataFrame, cashflows: pd.DataFrame,
                               party: str = "investor") -> pd.Series:
    """Per run (``runs["replication"]``), why the IRR of ``party``'s monthly cashflows (the long
    ``cashflows`` table: replication, party, month, amount) is undefined, None where it is defined
    (:func:`effekt.contracts.irr_reason`); a run without flows of ``party`` invested nothing."""
    mine = cashflows[cashflows["party"] == party]
    months = int(mine["month"].max()) + 1 if len(mine) else 0
    by_rep = {int(r): g for r, g in mine.groupby("replication")}
    out = []
    for r in runs["replication"].astype(int):
        flows = np.zeros(months)
        g = by_rep.get(r)
        if g is not None:
            np.add.at(flows, g["month"].to_numpy(int), g["amount"].to_numpy(float))
        out.append(irr_reason(flows))
    return pd.Series(out, index=runs.index, dtype=object)


def _why(reasons: Counter, lang: str) -> str:
    i = 0 if lang == "nb" else 1
    order = [*IRR_UNDEFINED, NO_SINGLE_RATE]
    return ", ".join(f"{reasons[r]} {REASON_WORDS[r][i]}" for r in order if reasons.get(r))


def irr_sentence(irr: pd.Series, reasons: pd.Series, lang: str, *, replications: bool = False,
                 typeset: bool = False) -> str:
    """The investors' IRR in one sentence: its median and spread over the runs where it is
    defined, the count of those runs when some are not, and why the others are not (``reasons``:
    per run a key of :data:`REASON_WORDS` or None, as :func:`irr_reasons_from_kpis` or
    :func:`irr_reasons_from_cashflows` give). ``replications``: call the runs replications (the
    report's word)."""
    w = WORDS[lang]
    runs = w["replications" if replications else "runs"]
    x = pd.Series(irr, dtype=float)
    defined = x[np.isfinite(x.to_numpy())]
    n, k = len(x), len(defined)

    def p(v: float) -> str:
        return fmt.percent(v, lang, unicode_minus=typeset)

    finite = np.isfinite(x.to_numpy())  # a reason counts only where the IRR is undefined
    undefined = Counter(r for r, ok in zip(reasons, finite, strict=True) if r is not None and not ok)
    u = n - k
    if k == n:
        return w["irr_all"].format(med=p(defined.median()), runs=runs, p5=p(defined.quantile(0.05)),
                                   p95=p(defined.quantile(0.95)))
    tail = w["undefined"].format(u=u, why=_why(undefined, lang)) if undefined else ""
    if k == 0:
        return w["irr_none"].format(n=n, runs=runs) + tail
    spread = (w["spread90"].format(p5=p(defined.quantile(0.05)), p95=p(defined.quantile(0.95)))
              if k >= 20 else w["spread_few"].format(lo=p(defined.min()), hi=p(defined.max())))
    return w["irr_some"].format(k=k, n=n, runs=runs, med=p(defined.median()), spread=spread) + tail


def multiple_sentence(runs: pd.DataFrame, reg: KpiRegistry, lang: str, *, replications: bool = False,
                      ci: tuple[float, float] | None = None, typeset: bool = False) -> str | None:
    """The investors' money multiple and probability of loss (with its 95 % CI ``ci`` when
    given); None when the runs lack them."""
    mult, loss = _col(reg, runs, "multiple", party="investor"), _col(reg, runs, "loss", party="investor")
    if mult is None or loss is None:
        return None
    w = WORDS[lang]
    m = runs[mult].dropna()

    def d(v: float) -> str:
        return fmt.number(v, lang, 2, unicode_minus=typeset)

    def p(v: float) -> str:
        return fmt.percent(v, lang, unicode_minus=typeset)

    return w["multiple"].format(
        mean=d(m.mean() if len(m) else math.nan), runs=w["replications" if replications else "runs"],
        p5=d(m.quantile(0.05) if len(m) else math.nan), p95=d(m.quantile(0.95) if len(m) else math.nan),
        loss=fmt.probability(runs[loss].mean(), lang),
        ci=w["ci"].format(lo=p(ci[0]), hi=p(ci[1])) if ci else "")


# -- what an additional outcome costs, and what drives the result ------------------------------


def additional_ci(runs: pd.DataFrame) -> tuple[float, float]:
    """The 95 % confidence interval of the mean additional outcomes over the runs (normal
    approximation; a single run gives its value at both ends). The sentences below decide on it,
    not on the sign of a noisy mean: a programme that does nothing has a mean of about 0 with
    either sign, and must read the same whichever sign its luck gives."""
    x = runs["additional_outcomes"].dropna().to_numpy(float)
    if len(x) < 2:
        m = float(x[0]) if len(x) else math.nan
        return m, m
    half = 1.96 * float(np.std(x, ddof=1)) / math.sqrt(len(x))
    return float(x.mean()) - half, float(x.mean()) + half


def per_extra_sentence(runs: pd.DataFrame, what: str, lang: str, currency: str = "NOK", *,
                       replications: bool = False, typeset: bool = False) -> str | None:
    """What the commissioners pay per additional outcome (``what``: the primary outcome's name),
    in plain words when the programme adds none that can be told from chance, or gives fewer than
    the counterfactual (the whole 95 % interval below 0); None without the KPIs or their values."""
    if not {"commissioner_paid", "additional_outcomes"} <= set(runs.columns):
        return None
    extra, paid = float(runs["additional_outcomes"].mean()), float(runs["commissioner_paid"].mean())
    if not (np.isfinite(extra) and np.isfinite(paid)):
        return None
    w = WORDS[lang]
    run = w["replication" if replications else "run"]
    n = fmt.number(extra, lang, 1, unicode_minus=typeset)
    lo, hi = additional_ci(runs)
    if lo > 0:  # more outcomes than chance explains: a price per additional outcome means something
        return w["per_extra"].format(what=what, n=n, run=run,
                                     per=fmt.money(paid / extra, lang, currency=currency,
                                                   unicode_minus=typeset))
    if paid > 0:
        return w["per_extra_fewer" if hi < 0 else "per_extra_none"].format(what=what, n=n, run=run,
                                          lo=fmt.number(lo, lang, 1, unicode_minus=typeset),
                                          hi=fmt.number(hi, lang, 1, unicode_minus=typeset),
                                          paid=fmt.money(paid, lang, currency=currency,
                                                         unicode_minus=typeset))
    return w["per_extra_nothing"].format(what=what, n=n, run=run)


def driver_sentence(runs: pd.DataFrame, reg: KpiRegistry, lang: str, currency: str = "NOK", *,
                    typeset: bool = False) -> str | None:
    """One plain sentence on what drives the result, from the KPIs already computed, first that
    applies: the programme adds no outcomes, or gives fewer (the 95 % interval of the additional
    outcomes wholly below 0), but the contract pays (every krone pays for what would have happened
    anyway); at least :data:`DEADWEIGHT_SHARE` of the outcomes paid for are
    not additional; else the public-budget item the programme changes most (the undiscounted
    ``fiscal_<item>`` KPIs, programme against the counterfactual). None when no KPI says."""
    w = WORDS[lang]
    if {"commissioner_paid", "additional_outcomes"} <= set(runs.columns):
        extra, paid = runs["additional_outcomes"].mean(), runs["commissioner_paid"].mean()
        lo, hi = additional_ci(runs)
        if np.isfinite(extra) and paid > 0 and lo <= 0:
            return w["drives_fewer" if hi < 0 else "drives_none"]
    share = _col(reg, runs, "paid_not_additional_share")
    if share is not None:
        s = runs[share].mean()
        if np.isfinite(s) and s >= DEADWEIGHT_SHARE:
            return w["drives_deadweight"].format(share=fmt.percent(s, lang, unicode_minus=typeset))
    items = {item: float(runs[f"fiscal_{item}"].mean()) for item in ITEM_NAMES
             if f"fiscal_{item}" in runs and runs[f"fiscal_{item}"].notna().any()}
    items = {k: v for k, v in items.items() if np.isfinite(v) and v != 0}
    if not items:
        return None
    item = max(items, key=lambda k: abs(items[k]))
    return w["drives_item"].format(item=ITEM_NAMES[item][0 if lang == "nb" else 1],
                                   amount=fmt.money(items[item], lang, currency=currency, sign=True,
                                                    unicode_minus=typeset))


# -- where the numbers come from -----------------------------------------------------------------

_NUMBER = re.compile(r"=\s*[-+]?\d|[{,]\s*\w+\s*=\s*[-+]?\d")
_KEY = re.compile(r"^\s*([\w\"'.-]+)\s*=")
_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?")
_NOT_CLAIMS = ("design",)
"""Tables of a user's file whose numbers are choices of the run (seed, replications), not claims
about the world that need a source."""


@dataclass
class FileNumbers:
    """The numbers of one file by how their comments mark them; ``bare``: the dotted keys of a
    user's numbers with neither a source nor the word assumption (``calibrated`` counts as a
    source)."""

    path: Path
    builtin: bool
    assumption: int = 0
    source: int = 0
    calibrated: int = 0
    unmarked: int = 0
    bare: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.assumption + self.source + self.calibrated + self.unmarked


def count_numbers(path: Path, builtin: bool) -> FileNumbers:
    """Count the numbers of TOML file ``path`` line by line, by the comment on their line
    (``calibrated``, ``source``, ``assumption``, or none); in a user's file (not ``builtin``) the
    keys of the unmarked ones, outside the tables of :data:`_NOT_CLAIMS`."""
    out = FileNumbers(Path(path), builtin)
    table = ""
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        code, _, comment = line.partition("#")
        head = _TABLE.match(code)
        if head and "=" not in code.split("]")[0]:
            table = head.group(1).strip()
            continue
        if not _NUMBER.search(code):
            continue
        c = comment.lower()
        kind = ("calibrated" if "calibrated" in c else "source" if "source" in c
                else "assumption" if "assumption" in c else "unmarked")
        if kind == "unmarked" and not builtin and table.split(".")[0] in _NOT_CLAIMS:
            continue
        setattr(out, kind, getattr(out, kind) + 1)
        if kind == "unmarked" and not builtin:
            key = _KEY.match(code)
            out.bare.append(".".join(x for x in (table, key.group(1).strip("\"'") if key else "?") if x))
    return out


def _builtin_dirs() -> list[Path]:
    from effekt.contracts import templates_dir
    from effekt.sim import builtin_dir

    return [Path(builtin_dir()).resolve(), Path(templates_dir()).resolve()]


def scenario_files(out: str | Path) -> list[Path] | None:
    """Every file the scenario of results directory ``out`` was read from: the scenario file the
    manifest names and the pathway, contract and business-as-usual pathway files it read (built-in
    templates or the user's own files, by path; a country folder's data files are not counted).
    None when the manifest names no scenario file or it is gone."""
    mpath = Path(out) / "manifest.json"
    try:
        source = json.loads(mpath.read_text(encoding="utf-8")).get("scenario_source")
    except (OSError, ValueError):
        return None
    if not source or not Path(source).is_file():
        return None
    from effekt.experiments.scenario import read_tree
    from effekt.specfile import SpecError

    files = [Path(source)]
    try:
        tree = read_tree(source)
    except SpecError:
        return files
    found = [tree.pathway_source, tree.contract_source, *_bau_files(tree.data, Path(source).parent)]
    for p in found:
        if p and Path(p).is_file() and Path(p) not in files:
            files.append(Path(p))
    return files


def _bau_files(data: dict, folder: Path) -> list[str]:
    """The groups' business-as-usual pathway files named by path (``bau_pathway = "my_bau.toml"``,
    one or one per benefit kind), read against the scenario's ``folder``; built-in names are not
    files and are left out."""
    groups = (data.get("world") or {}).get("groups") or {}
    out = []
    for g in groups.values() if isinstance(groups, dict) else []:
        ref = g.get("bau_pathway") if isinstance(g, dict) else None
        for r in (ref.values() if isinstance(ref, dict) else [ref]):
            if isinstance(r, str) and r.endswith(".toml"):
                out.append(str(Path(r) if Path(r).is_absolute() else folder / r))
    return out


def provenance(files: list[Path]) -> list[FileNumbers]:
    """The numbers of each of ``files``, each marked built-in (under sim's pathways or the
    contract templates) or the user's own."""
    dirs = _builtin_dirs()
    return [count_numbers(f, any(Path(f).resolve().is_relative_to(d) for d in dirs)) for f in files]


def provenance_lines(counts: list[FileNumbers] | None, lang: str, shown: int = 6) -> list[str]:
    """The caveats on where the numbers come from: one sentence for effekt's own files and one for
    the user's, naming at most ``shown`` of the user's numbers that have neither a source nor the
    word assumption; with ``counts`` None, that the files are not known."""
    w = WORDS[lang]
    if counts is None:
        return [w["prov_unknown"]]
    lines = []
    own = [c for c in counts if not c.builtin]
    builtin = [c for c in counts if c.builtin]
    if builtin and sum(c.total for c in builtin):
        u = sum(c.unmarked for c in builtin)
        lines.append(w["prov_builtin"].format(
            files=", ".join(c.path.name for c in builtin), a=sum(c.assumption for c in builtin),
            s=sum(c.source for c in builtin), c=sum(c.calibrated for c in builtin),
            u=w["prov_unmarked"].format(u=u) if u else ""))
    if own:
        bare = [f"{c.path.name}: {k}" for c in own for k in c.bare]
        rest = ""
        if bare:
            more = w["prov_more"].format(k=len(bare) - shown) if len(bare) > shown else ""
            rest = w["prov_own_bare"].format(keys=", ".join(bare[:shown]) + more)
        lines.append(w["prov_own"].format(
            files=", ".join(str(c.path) for c in own), n=sum(c.total for c in own),
            s=sum(c.source + c.calibrated for c in own), a=sum(c.assumption for c in own), rest=rest))
    return lines
