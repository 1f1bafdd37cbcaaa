"""``effekt national [SCENARIO]``: every kommune of a national scenario, as shards, summed to the nation.

Thin, like the rest of the CLI: validate the national file (every kommune's scenario variant), run
the shards (kommune x replication chunk) on this machine's processes or on Dask (``--dask ADDRESS``),
streamed to Parquet in ``--out`` (default ``results/<name>``; rerun the same command to resume),
then print the national and fylke totals of the headline KPIs and each party's budget, in bokmål
or English (``--lang``), and write ``national_summary.csv`` (nation, fylker and kommuner, every
additive KPI with its 5th and 95th percentiles over replications) and ``national_budgets.csv``
beside the results. The machinery is :mod:`effekt.experiments.national`.
"""

from __future__ import annotations

import shlex
import signal
import sys
from pathlib import Path

import click

from effekt.experiments.cli_analysis import executor_options
from effekt.experiments.cli_lang import fail as _fail
from effekt.experiments.cli_lang import lang_option

TEXT = {
    "nb": {
        "header": "{title}: {n} kommuner, {reps} replikasjoner hver ({who})",
        "assumed": "merk: folketallet utenfor arbeid er en antakelse for {n} av {total} kommuner (se {file})",
        "national": "Hele landet (gjennomsnitt per replikasjon, 90 % intervall)",
        "fylker": "Fylker (gjennomsnitt per replikasjon)",
        "budgets": "Budsjetter per part, hele landet (nåverdi, forskjell mot uten tiltaket)",
        "party": "Part", "npv": "Nåverdi", "unit": "Enhet", "kommuner": "Kommuner",
        "written": "Skrev {files}",
        "stopped": ("stoppet: shardene som er ferdige er lagret i {out}/; kjør samme kommando igjen "
                    "for å fortsette"),
    },
    "en": {
        "header": "{title}: {n} kommuner, {reps} replications each ({who})",
        "assumed": "note: the people outside work are an assumption for {n} of {total} kommuner (see {file})",
        "national": "Norway (mean per replication, 90 % interval)",
        "fylker": "Fylker (mean per replication)",
        "budgets": "Budgets per party, all of Norway (NPV, difference from without the programme)",
        "party": "Party", "npv": "NPV", "unit": "Unit", "kommuner": "Kommuner",
        "written": "Wrote {files}",
        "stopped": ("stopped: the shards finished so far are kept in {out}/; run the same command again "
                    "to resume"),
    },
}


PARTIES = {
    "nb": {"kommune": "kommunene", "state": "staten", "fylke": "fylkeskommunene",
           "other_kommuner": "andre kommuner", "participants": "deltakerne", "investor": "investorene",
           "provider": "leverandørene"},
    "en": {"kommune": "the kommuner", "state": "the state", "fylke": "the fylkeskommuner",
           "other_kommuner": "other kommuner", "participants": "the participants",
           "investor": "the investors", "provider": "the providers"},
}
"""A party's name in the national budgets (the sum over kommuner); a party not listed keeps its key."""


def _value(x: float, kind: str, lang: str) -> str:
    from effekt.experiments import formatting as fmt

    if kind == "money":
        return fmt.money(x, lang)
    return fmt.number(x, lang, 1 if abs(x) < 100 else 0)


def print_summary(out: Path, national, lang: str) -> None:
    """The national and fylke totals and the national budgets, as text in ``lang``."""
    from effekt.experiments import formatting as fmt
    from effekt.experiments.national.aggregate import (
        HEADLINE,
        additive,
        budget_summary,
        kpi_summary,
        read_runs,
    )

    t = TEXT[lang]
    from effekt.experiments.store import read_kpis

    runs = read_runs(out)
    registry = read_kpis(out)
    heads = [k for k in HEADLINE if k in runs.columns]
    nat = kpi_summary(runs, "national", heads).iloc[0]
    click.echo(f"\n{t['national']}")
    for k in heads:
        kind = registry[k].kind
        low, high = nat[k + "_p5"], nat[k + "_p95"]
        spread = (fmt.money_interval(low, high, lang, like=nat[k]) if kind == "money"
                  else fmt.interval(low, high, lang, 0))
        click.echo(f"  {registry[k].label(lang)}: {_value(nat[k], kind, lang)} ({spread})")
    fyl = kpi_summary(runs, "fylke", heads, national.table.fylker)
    click.echo(f"\n{t['fylker']}")
    cols = [h for h in ("participants", "additional_outcomes", "fiscal_npv_total") if h in heads]
    head = [t["unit"], t["kommuner"], *(registry[c].label(lang) for c in cols)]
    click.echo("  " + " | ".join(head))
    for _, row in fyl.iterrows():
        cells = [f"{row['code']} {row['name']}", fmt.number(row["kommuner"], lang),
                 *(_value(row[c], registry[c].kind, lang) for c in cols)]
        click.echo("  " + " | ".join(cells))
    budgets = budget_summary(out, "national")
    click.echo(f"\n{t['budgets']}")
    for _, row in budgets.iterrows():
        party = PARTIES[lang].get(row["party"], row["party"])
        click.echo(f"  {party}: {fmt.money(row['amount_discounted'], lang)}")
    levels = [kpi_summary(runs, level, additive(registry), national.table.fylker)
              for level in ("national", "fylke", "kommune")]
    import pandas as pd

    summary_file, budget_file = out / "national_summary.csv", out / "national_budgets.csv"
    pd.concat(levels, ignore_index=True).to_csv(summary_file, index=False)
    pd.concat([budget_summary(out, level).assign(level=level) for level in ("national", "fylke", "kommune")],
              ignore_index=True).to_csv(budget_file, index=False)
    click.echo("\n" + t["written"].format(files=f"{summary_file}, {budget_file}"))


@click.command()
@click.argument("scenario", required=False, metavar="[SCENARIO]")
@click.option("--runs", "replications", type=click.IntRange(min=1),
              help="Replications per kommune (default: the file's national.replications).")
@click.option("--kommune", "include", multiple=True, metavar="NUMBER",
              help="Only this kommune (or fylke) number; repeat for more (default: the file's include, "
                   "else all).")
@click.option("--out", type=click.Path(file_okay=False), help="Results directory (default: results/<name>).")
@executor_options
@click.option("--chunk", type=click.IntRange(min=1),
              help="Replications per shard (default: about one second of work).")
@click.option("--overwrite", is_flag=True, help="Delete the effekt results in --out and start again.")
@lang_option("Language of the summary printed after the run (Norwegian bokmål or English).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
def national(scenario, replications, include, out, workers, dask, chunk, overwrite, lang, quiet):
    """Run every kommune of a national scenario as shards (kommune x replications) and sum them to
    fylke and nation. SCENARIO is a national scenario file (default: the built-in 'national', each
    of Norway's kommuner one Kongsberg-style kull). --dask ADDRESS runs the shards on a cluster."""
    from effekt.experiments.executors import ExecutorLost, make_executor
    from effekt.experiments.national.run import run_national
    from effekt.experiments.national.spec import load_national
    from effekt.experiments.store import ResultsDirError
    from effekt.specfile import SpecError
    from effekt.titles import title

    t = TEXT[lang]
    try:
        nat = load_national(scenario, include)
    except SpecError as err:
        _fail(err, lang)
    reps = replications or nat.info.replications
    out = Path(out) if out else Path("results") / nat.info.name
    try:
        executor = make_executor(workers, dask)
    except RuntimeError as err:
        _fail(err, lang)
    if not quiet:
        base = nat.variants[nat.points[0]["variant"]]
        who = f"{executor.name}, {executor.workers} workers" if lang == "en" else \
            f"{executor.name}, {executor.workers} arbeidere"
        click.echo(t["header"].format(title=title(base.info, lang) or nat.info.name, n=len(nat.points),
                                      reps=reps, who=who), err=True)
        assumed = sum(1 for k in nat.kommuner if k.is_assumption and k.number not in _own_people(nat))
        if assumed:
            click.echo(t["assumed"].format(n=assumed, total=len(nat.kommuner), file=nat.table.source),
                       err=True)
    command = "effekt " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        run_national(nat, out, executor, replications=reps, chunk=chunk, overwrite=overwrite,
                     progress=None if not quiet else False, command=command)
    except (ResultsDirError, ExecutorLost) as err:
        _fail(err, lang)
    except KeyboardInterrupt:
        click.echo("\n" + t["stopped"].format(out=out), err=True)
        sys.exit(130)
    finally:
        signal.signal(signal.SIGTERM, previous)
        executor.close()
    if not quiet:
        print_summary(out, nat, lang)


def _own_people(nat) -> set[str]:
    """Kommuner whose people outside work the national file sets itself (not the kommune file's)."""
    from effekt.experiments.national.spec import NationalLayout
    from effekt.specfile import read_toml

    layout = NationalLayout.model_validate(read_toml(nat.source))
    return {k for k, o in layout.kommune.items() if o.people_outside_work is not None}


def _terminated(signum, frame) -> None:
    """SIGTERM: unwind as for Ctrl-C (workers closed, lock released, how to resume said)."""
    raise KeyboardInterrupt


__all__ = ["national"]
