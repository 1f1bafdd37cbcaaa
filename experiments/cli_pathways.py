"""``effekt pathways``: list the built-in pathways and show one as a readable outline.

A policy user who wants to copy and change a pathway first needs to see what is in it: which
stages, how long each takes, where people go from it and with what probability, which stages
need a placement slot and which pay a wage. ``show`` prints that from the validated pathway, so
what it prints is exactly what the simulation runs.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import click

from effekt.experiments.cli_lang import fail as _fail
from effekt.experiments.cli_lang import lang_option

if TYPE_CHECKING:  # effekt.sim (numpy, pyarrow, simpy) is imported by the commands, not by --help
    from effekt.sim import Distribution, Pathway

INDENT = "      "

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "source": "source", "capacity": "Capacity", "slot": "slot", "slots": "slots",
        "stages": "Stages (entry: {entry})", "ends": "Ends", "moved": "moved away, out of sight",
        "not_employed": "not employed", "then_bau": "then business as usual",
        "stated": "(stated)", "terminal": " (end: the labour market takes over)",
        "duration": "duration", "needs": "needs", "employment": "employment", "fte": "FTE",
        "per_year": "NOK/yr", "job_loss": "job loss", "job_finding": "job finding",
        "no_change": "no change", "lost": "once this job is lost: business as usual",
        "exits": "exits", "next": "next", "next_everyone": "next: everyone who takes no exit",
        "group": "group", "log_odds": "log-odds per unit of", "reference": "(p is for the reference person)",
        "at_most": "at most {n} time{s}, then -> {to}", "funding": "funding", "benefit": "benefit {kind}",
        "wage_by": "wage paid by {payer}", "subsidy": "{share} of the wage cost from {payer}",
        "grant": "financed from the integration grant", "costs": "costs", "paid_by": "(paid by {payer})",
        "currency": "NOK", "per_person": "per person", "per_week": "per week", "per_cohort": "per cohort",
        "list_head": "NAME", "list_stages": "STAGES", "list_title": "TITLE",
        "list_tail": "{n} built-in pathways in {where}; `effekt pathways show NAME` for one in detail.",
    },
    "nb": {
        "source": "kilde", "capacity": "Kapasitet", "slot": "plass", "slots": "plasser",
        "stages": "Trinn (start: {entry})", "ends": "Avslutninger", "moved": "flyttet, ute av syne",
        "not_employed": "ikke i arbeid", "then_bau": "deretter dagens ordning",
        "stated": "(oppgitt)", "terminal": " (slutt: arbeidsmarkedet tar over)",
        "duration": "varighet", "needs": "trenger", "employment": "ansettelse", "fte": "stilling",
        "per_year": "kr/år", "job_loss": "jobbtap", "job_finding": "jobbsjanse",
        "no_change": "ingen endring", "lost": "når denne jobben tapes: dagens ordning",
        "exits": "utganger", "next": "neste", "next_everyone": "neste: alle som ikke tar en utgang",
        "group": "gruppe", "log_odds": "log-odds per enhet av", "reference": "(p gjelder referansepersonen)",
        "at_most": "høyst {n} gang{s}, deretter -> {to}", "funding": "finansiering",
        "benefit": "ytelse {kind}", "wage_by": "lønn betalt av {payer}",
        "subsidy": "{share} av lønnskostnaden fra {payer}", "grant": "finansiert av integreringstilskuddet",
        "costs": "kostnader", "paid_by": "(betalt av {payer})", "currency": "kr",
        "per_person": "per person", "per_week": "per uke", "per_cohort": "per kull",
        "list_head": "NAVN", "list_stages": "TRINN", "list_title": "TITTEL",
        "list_tail": "{n} innebygde løp i {where}; `effekt pathways show NAVN` viser ett i detalj.",
    },
}
"""What ``pathways show`` and ``list`` print around the data, in both languages."""

PAYERS_NB: dict[str, str] = {"kommune": "kommunen", "nav": "NAV", "state": "staten",
                             "employer": "arbeidsgiveren", "provider": "tilbyderen",
                             "investor": "investorene"}
"""The payers of a stage (sim's ``Payer``) as a Norwegian sentence names them."""

BENEFIT_NB: dict[str, str] = {"continues": "ytelsen løper videre", "stops": "ytelsen stanser",
                              "on_measures": "ytelse på tiltak (tiltakspenger)"}
"""A stage's ``funding.benefit`` in Norwegian; another value is a benefit kind, shown by its key."""

CONTRACTS_NB: dict[str, str] = {"temporary": "midlertidig", "permanent": "fast",
                                "project": "prosjektstilling"}
"""An employment stage's ``contract`` in Norwegian."""


def _payer(payer: str, lang: str) -> str:
    return PAYERS_NB.get(payer, payer) if lang == "nb" else payer


def _num(x: float, lang: str = "en") -> str:
    """A number without noise: 4, 0.5, 26.7 (4, 0,5, 26,7 in nb); from 1 000 whole units with the
    thousands grouped as :func:`effekt.experiments.formatting.number` groups them in ``lang``."""
    if abs(x) < 1000:
        text = f"{x:.3g}"
        return text.replace(".", ",") if lang == "nb" else text
    from effekt.experiments.formatting import number

    return number(x, lang)


def describe_duration(d: Distribution, lang: str = "en") -> str:
    """One line for a duration distribution, with its mean in weeks (the distribution's own
    :meth:`~effekt.sim.distributions.Distribution.describe`)."""
    return d.describe(lang)


def _pct(p: float, lang: str = "en") -> str:
    return f"{_num(100 * p, lang)} %"


def _exit_line(e, lang: str = "en") -> str:
    w = WORDS[lang]
    parts = [f"{_pct(e.p, lang)} -> {e.to}"]
    mult = getattr(e, "group_multiplier", None)
    if mult:
        parts.append(f"{w['group']} x " + ", ".join(f"{g} {_num(m, lang)}" for g, m in sorted(mult.items())))
    logistic = getattr(e, "logistic", None)
    if logistic:
        coefs = ", ".join(f"{k} {b:+.3g}".replace(".", "," if lang == "nb" else ".")
                          for k, b in logistic.items())
        parts.append(f"{w['log_odds']} {coefs} {w['reference']}")
    limit = getattr(e, "limit", None)
    if limit is not None:
        plural = ("s" if lang == "en" else "er") if limit != 1 else ""
        parts.append(w["at_most"].format(n=limit, s=plural, to=e.otherwise))
    return "; ".join(parts)


def _resources(st) -> tuple[str, ...]:
    res = getattr(st, "resources", None)
    if res is not None:
        return tuple(res)
    return () if st.capacity is None else (st.capacity,)


def _money_lines(st, lang: str = "en") -> list[str]:
    """Funding and costs of a stage, if the pathway format has them and they are set."""
    w = WORDS[lang]
    out = []
    funding = getattr(st, "funding", None)
    if funding is not None:
        bits = []
        if funding.benefit is not None:
            kind = funding.benefit
            bits.append(BENEFIT_NB[kind] if lang == "nb" and kind in BENEFIT_NB
                        else w["benefit"].format(kind=kind))
        if funding.wage_payer:
            bits.append(w["wage_by"].format(payer=_payer(funding.wage_payer, lang)))
        if funding.subsidy_share:
            bits.append(w["subsidy"].format(share=_pct(funding.subsidy_share, lang),
                                            payer=_payer(funding.subsidy_payer, lang)))
        if funding.integration_grant:
            bits.append(w["grant"])
        if bits:
            out.append(f"{w['funding']}: " + ", ".join(bits))
    costs = getattr(st, "costs", None)
    if costs is not None:
        bits = [f"{_num(v, lang)} {w['currency']} {w[label]}"
                for v, label in ((costs.per_person, "per_person"), (costs.per_week, "per_week"),
                                 (costs.per_cohort, "per_cohort")) if v]
        if bits:
            paid = w["paid_by"].format(payer=_payer(costs.payer, lang))
            out.append(f"{w['costs']}: " + ", ".join(bits) + " " + paid)
    return out


def _after(st, lang: str = "en") -> str:
    """What the pathway states about the labour market after leaving through ``st``, as
    multipliers on business as usual (the control arm's hazards); empty when nothing is stated."""
    w = WORDS[lang]
    after = getattr(st, "after", None)
    if after is None:
        return ""
    pairs = ((after.entry_rate_multiplier, "job_finding"), (after.job_loss_multiplier, "job_loss"))
    bits = [f"{w[label]} x{_num(m, lang)}" for m, label in pairs if m != 1]
    return ", ".join(bits) if bits else w["no_change"]


def outline(pw: Pathway, lang: str = "en") -> str:
    """A readable outline of the stage graph, with the titles and words in ``lang`` (``nb`` or
    ``en``; :func:`effekt.titles.title`)."""
    from effekt.titles import description, title

    w = WORDS[lang]
    info = pw.pathway
    lines = [f"{title(info, lang, info.name)}  [{info.name}]", f"{w['source']}: {info.source}"]
    text = description(info, lang)
    if text.strip():
        lines.append("")
        lines += textwrap.wrap(" ".join(text.split()), width=96)
    if pw.capacity:
        lines += ["", w["capacity"]]
        for name, c in pw.capacity.items():
            own = title(c, lang)
            suffix = f" - {own}" if own else ""
            lines.append(f"  {name}: {c.slots} {w['slots'] if c.slots != 1 else w['slot']}{suffix}")
    lines += ["", w["stages"].format(entry=info.entry)]
    ends = []
    for name in pw.stage_order():
        st = pw.stages[name]
        after = _after(st, lang)
        if st.kind == "exit":
            outcome = w["moved"] if st.outcome == "moved" else w["not_employed"]
            then = ""
            if st.outcome != "moved":
                then = f"; {w['then_bau']}, {after} {w['stated']}" if after else f"; {w['then_bau']}"
            ends.append(f"  {name}: {title(st, lang, name)} ({outcome}{then})")
            continue
        terminal = w["terminal"] if st.terminal else ""
        lines.append(f"  {name}  [{st.kind}]{terminal}")
        if title(st, lang):
            lines.append(f"{INDENT}{title(st, lang)}")
        if st.duration is not None:
            lines.append(f"{INDENT}{w['duration']}: {describe_duration(st.duration, lang)}")
        res = _resources(st)
        if res:
            slots = ", ".join(f"{r} ({pw.capacity[r].slots} {w['slots']})" for r in res)
            lines.append(f"{INDENT}{w['needs']}: {slots}")
        job = st.employment
        if job is not None:
            contract = CONTRACTS_NB.get(job.contract, job.contract) if lang == "nb" else job.contract
            extra = (f", {w['job_loss']} x{_num(job.job_loss_multiplier, lang)}"
                     if job.job_loss_multiplier != 1 else "")
            lines.append(f"{INDENT}{w['employment']}: {contract}, {_pct(job.fte, lang)} {w['fte']}, "
                         f"{_num(job.annual_wage, lang)} {w['per_year']}{extra}")
        lines += [f"{INDENT}{m}" for m in _money_lines(st, lang)]
        if after:
            lines.append(f"{INDENT}{w['lost']}, {after} {w['stated']}")
        if not st.terminal:
            lines.append(f"{INDENT}{w['exits']}:")
            for e in st.exits:
                lines.append(f"{INDENT}  {_exit_line(e, lang)}")
            if st.next is not None:
                rest = 1 - sum(e.p for e in st.exits)
                varies = any(getattr(e, "group_multiplier", None) or getattr(e, "logistic", None)
                             for e in st.exits)
                note = w["next_everyone"] if varies else w["next"]
                lines.append(f"{INDENT}  {_pct(max(rest, 0.0), lang)} -> {st.next} ({note})")
    if ends:
        lines += ["", w["ends"]] + ends
    return "\n".join(lines)


@click.group()
def pathways() -> None:
    """The built-in pathways (stage graphs of qualification programmes)."""


@pathways.command("list")
@lang_option("Language of the titles and words (Norwegian bokmål or English).")
def list_(lang: str) -> None:
    """Name, title, number of stages and source of each built-in pathway."""
    from effekt.sim import builtin_dir, builtin_names, load_pathway
    from effekt.specfile import SpecError
    from effekt.titles import title

    w = WORDS[lang]
    rows = []
    for name in builtin_names():
        try:
            pw = load_pathway(name)
        except SpecError as err:
            _fail(err, lang)
        rows.append((name, str(len(pw.stages)), title(pw.pathway, lang, name), pw.pathway.source))
    width = max(len(w["list_head"]), *(len(r[0]) for r in rows))
    click.echo(f"{w['list_head']:<{width}}  {w['list_stages']:>6}  {w['list_title']}")
    for name, n, shown, source in rows:
        click.echo(f"{name:<{width}}  {n:>6}  {shown}")
        click.echo(f"{'':<{width}}          {w['source']}: {source}")
    click.echo("\n" + w["list_tail"].format(n=len(rows), where=builtin_dir()))


@pathways.command()
@click.argument("name")
@lang_option("Language of the titles and words (Norwegian bokmål or English).")
def show(name: str, lang: str) -> None:
    """Outline of pathway NAME (a built-in name or a pathway .toml file)."""
    from effekt.sim import load_pathway
    from effekt.specfile import SpecError

    try:
        pw = load_pathway(name)
    except SpecError as err:
        _fail(err, lang)
    click.echo(outline(pw, lang))
