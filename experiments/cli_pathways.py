"""``effekt pathways``: list the built-in pathways and show one as a readable outline.

A policy user who wants to copy and change a pathway first needs to see what is in it: which
stages, how long each takes, where people go from it and with what probability, which stages
need a placement slot and which pay a wage. ``show`` prints that from the validated pathway, so
what it prints is exactly what the simulation runs.
"""

from __future__ import annotations

import sys
import textwrap

import click

from effekt.sim import Distribution, Pathway, builtin_dir, builtin_names, load_pathway
from effekt.specfile import SpecError

INDENT = "      "


def _fail(err: Exception) -> None:
    click.echo(f"error: {err}", err=True)
    sys.exit(2)


def _num(x: float) -> str:
    """A number without noise: 4, 0.5, 26.7."""
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}".replace(",", " ")


def describe_duration(d: Distribution, lang: str = "en") -> str:
    """One line for a duration distribution, with its mean in weeks (the distribution's own
    :meth:`~effekt.sim.distributions.Distribution.describe`)."""
    return d.describe(lang)


def _pct(p: float) -> str:
    return f"{100 * p:.3g} %"


def _exit_line(e) -> str:
    parts = [f"{_pct(e.p)} -> {e.to}"]
    mult = getattr(e, "group_multiplier", None)
    if mult:
        parts.append("group x " + ", ".join(f"{g} {_num(m)}" for g, m in sorted(mult.items())))
    logistic = getattr(e, "logistic", None)
    if logistic:
        parts.append("log-odds per unit of " + ", ".join(f"{k} {b:+.3g}" for k, b in logistic.items())
                     + " (p is for the reference person)")
    limit = getattr(e, "limit", None)
    if limit is not None:
        parts.append(f"at most {limit} time{'s' if limit != 1 else ''}, then -> {e.otherwise}")
    return "; ".join(parts)


def _resources(st) -> tuple[str, ...]:
    res = getattr(st, "resources", None)
    if res is not None:
        return tuple(res)
    return () if st.capacity is None else (st.capacity,)


def _money_lines(st) -> list[str]:
    """Funding and costs of a stage, if the pathway format has them and they are set."""
    out = []
    funding = getattr(st, "funding", None)
    if funding is not None:
        bits = []
        if funding.benefit is not None:
            bits.append(f"benefit {funding.benefit}")
        if funding.wage_payer:
            bits.append(f"wage paid by {funding.wage_payer}")
        if funding.subsidy_share:
            bits.append(f"{_pct(funding.subsidy_share)} of the wage cost from {funding.subsidy_payer}")
        if funding.integration_grant:
            bits.append("financed from the integration grant")
        if bits:
            out.append("funding: " + ", ".join(bits))
    costs = getattr(st, "costs", None)
    if costs is not None:
        bits = [f"{_num(v)} NOK {label}" for v, label in ((costs.per_person, "per person"),
                                                          (costs.per_week, "per week"),
                                                          (costs.per_cohort, "per cohort")) if v]
        if bits:
            out.append("costs: " + ", ".join(bits) + f" (paid by {costs.payer})")
    return out


def _after(st) -> str:
    """What the pathway states about the labour market after leaving through ``st``, as
    multipliers on business as usual (the control arm's hazards); empty when nothing is stated."""
    after = getattr(st, "after", None)
    if after is None:
        return ""
    bits = [f"{label} x{_num(m)}" for m, label in ((after.entry_rate_multiplier, "job finding"),
                                                   (after.job_loss_multiplier, "job loss")) if m != 1]
    return ", ".join(bits) if bits else "no change"


def outline(pw: Pathway) -> str:
    """A readable outline of the stage graph."""
    info = pw.pathway
    lines = [f"{info.title}  [{info.name}]", f"source: {info.source}"]
    if info.description.strip():
        lines.append("")
        lines += textwrap.wrap(" ".join(info.description.split()), width=96)
    if pw.capacity:
        lines += ["", "Capacity"]
        for name, c in pw.capacity.items():
            title = f" - {c.title}" if c.title else ""
            lines.append(f"  {name}: {c.slots} slot{'s' if c.slots != 1 else ''}{title}")
    lines += ["", f"Stages (entry: {info.entry})"]
    ends = []
    for name in pw.stage_order():
        st = pw.stages[name]
        if st.kind == "exit":
            outcome = "moved away, out of sight" if st.outcome == "moved" else "not employed"
            then = ""
            if st.outcome != "moved":
                then = f"; then business as usual, {_after(st)} (stated)" if _after(st) else \
                    "; then business as usual"
            ends.append(f"  {name}: {st.title or name} ({outcome}{then})")
            continue
        terminal = " (end: the labour market takes over)" if st.terminal else ""
        lines.append(f"  {name}  [{st.kind}]{terminal}")
        if st.title:
            lines.append(f"{INDENT}{st.title}")
        if st.duration is not None:
            lines.append(f"{INDENT}duration: {describe_duration(st.duration)}")
        res = _resources(st)
        if res:
            slots = ", ".join(f"{r} ({pw.capacity[r].slots} slots)" for r in res)
            lines.append(f"{INDENT}needs: {slots}")
        job = st.employment
        if job is not None:
            extra = f", job loss x{_num(job.job_loss_multiplier)}" if job.job_loss_multiplier != 1 else ""
            lines.append(f"{INDENT}employment: {job.contract}, {_pct(job.fte)} FTE, "
                         f"{_num(job.annual_wage)} NOK/yr{extra}")
        lines += [f"{INDENT}{m}" for m in _money_lines(st)]
        if _after(st):
            lines.append(f"{INDENT}once this job is lost: business as usual, {_after(st)} (stated)")
        if not st.terminal:
            lines.append(f"{INDENT}exits:")
            for e in st.exits:
                lines.append(f"{INDENT}  {_exit_line(e)}")
            if st.next is not None:
                rest = 1 - sum(e.p for e in st.exits)
                varies = any(getattr(e, "group_multiplier", None) or getattr(e, "logistic", None)
                             for e in st.exits)
                note = "next: everyone who takes no exit" if varies else "next"
                lines.append(f"{INDENT}  {_pct(max(rest, 0.0))} -> {st.next} ({note})")
    if ends:
        lines += ["", "Ends"] + ends
    return "\n".join(lines)


@click.group()
def pathways() -> None:
    """The built-in pathways (stage graphs of qualification programmes)."""


@pathways.command("list")
def list_() -> None:
    """Name, title, number of stages and source of each built-in pathway."""
    rows = []
    for name in builtin_names():
        try:
            pw = load_pathway(name)
        except SpecError as err:
            _fail(err)
        rows.append((name, str(len(pw.stages)), pw.pathway.title, pw.pathway.source))
    width = max(len("NAME"), *(len(r[0]) for r in rows))
    click.echo(f"{'NAME':<{width}}  STAGES  TITLE")
    for name, n, title, source in rows:
        click.echo(f"{name:<{width}}  {n:>6}  {title}")
        click.echo(f"{'':<{width}}          source: {source}")
    click.echo(f"\n{len(rows)} built-in pathways in {builtin_dir()}; "
               "`effekt pathways show NAME` for one in detail.")


@pathways.command()
@click.argument("name")
def show(name: str) -> None:
    """Outline of pathway NAME (a built-in name or a pathway .toml file)."""
    try:
        pw = load_pathway(name)
    except SpecError as err:
        _fail(err)
    click.echo(outline(pw))
