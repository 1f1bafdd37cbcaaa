"""The ``effekt`` command line. Thin: it parses, calls the library, and prints."""

from __future__ import annotations

import shlex
import sys
from importlib.metadata import version
from pathlib import Path

import click

from experiments.batch import run_batch
from experiments.executors import make_executor
from experiments.scenario import load_scenario
from experiments.store import ResultsDirError
from experiments.summary import headline, kpi_table, load_runs, render
from sim.specfile import SpecError


def _fail(err: Exception) -> None:
    click.echo(f"error: {err}", err=True)
    sys.exit(2)


def _load(scenario, assignments):
    try:
        return load_scenario(scenario, list(assignments))
    except SpecError as err:
        _fail(err)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version("effekt"), prog_name="effekt")
def main() -> None:
    """Simulate effektkontrakter (social impact bonds) in employment.

    Cohorts of people from outside the labour market flow through a qualification pathway; an
    outcome contract turns what happens to them into payments for investors, the provider, the
    kommune and the state. Start with `effekt run`.
    """


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--runs", "replications", type=click.IntRange(min=1),
              help="Replications (default: the scenario's design.replications).")
@click.option("--seed", type=click.IntRange(min=0), help="Root seed (default: the scenario's).")
@click.option("--out", type=click.Path(file_okay=False),
              help="Results directory (default: results/<scenario name>).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Local worker processes (default: all cores; 1 runs in this process).")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Override a scenario key, e.g. --set contract.prices.job_start=60000.")
@click.option("--overwrite", is_flag=True, help="Replace results of another scenario in --out.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
def run(scenario, replications, seed, out, workers, assignments, overwrite, quiet):
    """Run SCENARIO (a TOML file; without it the built-in default) and summarise.

    Results are written as Parquet under --out; a run that was stopped resumes where it
    left off when started again with the same command.
    """
    extra = list(assignments)
    if replications is not None:
        extra.append(f"design.replications={replications}")
    if seed is not None:
        extra.append(f"design.seed={seed}")
    sc = _load(scenario, extra)
    out = Path(out or Path("results") / sc.info.name)
    command = "effekt " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    try:
        run_batch(sc, out, executor=make_executor(workers), overwrite=overwrite,
                  progress=None if not quiet else False, command=command)
    except ResultsDirError as err:
        _fail(err)
    if quiet:
        return
    runs = load_runs(out)
    click.echo("")
    for line in headline(runs, sc.info.title):
        click.echo(line)
    click.echo("")
    click.echo(f"Results in {out}/: runs/ (one row per replication), cashflows/ (party x month), "
               "manifest.json")
    click.echo(f"More: effekt summary {out}")


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE")
def validate(scenario, assignments):
    """Check SCENARIO without running it."""
    sc = _load(scenario, assignments)
    click.echo(f"{scenario}: ok ({sc.info.name}, pathway {sc.world.pathway.name}, "
               f"contract {sc.terms.contract.name}, {sc.world.size} people, "
               f"{sc.design.replications} replications)")


@main.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json", "markdown"]),
              default="text", show_default=True)
def summary(out, fmt):
    """KPI table of a results directory: mean, 95 % CI, P5/P50/P95."""
    try:
        runs = load_runs(out)
    except FileNotFoundError as err:
        _fail(err)
    click.echo(render(kpi_table(runs), fmt))
