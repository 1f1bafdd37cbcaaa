"""The ``effekt`` command line. Thin: it parses, calls the library, and prints.

``effekt run [SCENARIO]``      run a scenario's replications and print a plain-language summary
``effekt batch FILE``          the same, for scripts: results only (no summary)
``effekt sweep FILE``          every design point of the scenario's [design] section
``effekt validate FILE``       check a scenario (and every design point) without running it
``effekt summary DIR``         the KPI table of a results directory and its budgets per year
"""

from __future__ import annotations

import functools
import gc
import os
import shlex
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from effekt.experiments.cli_analysis import executor_options
from effekt.experiments.cli_help import PROCESS_COMMAND_LINE, SpeakingGroup, click_text, keep_from_collector
from effekt.experiments.cli_lang import fail as _fail
from effekt.experiments.cli_lang import lang_option, people, say
from effekt.experiments.datasets import RECORD_TABLES
from effekt.titles import title as titled

if TYPE_CHECKING:
    from effekt.experiments.scenario import Experiment

# The library is imported inside each command (``effekt --help`` and ``effekt validate`` start
# without pandas, pyarrow and scipy): only click and the options' help come in with this module.


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a command imports the library, back as it was
    after. The imports make tens of thousands of objects that live to the end of the process
    (modules, classes, pydantic's validators) and next to no garbage, so the collector's passes
    over them free nothing; on the process's own command line they are then kept out of its later
    passes too (:func:`cli_help.keep_from_collector`; else the first pass after this one would
    visit them all). About 10 ms of an ``effekt validate`` of some 0.2 s (issue 14).
    Only the imports: reading a scenario leaves cycles (a pathway's checks, some 600 objects a
    design point), which a sweep of thousands of points must not keep."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if PROCESS_COMMAND_LINE.get():
            keep_from_collector()
        if enabled:
            gc.enable()


def _load(scenario, assignments, sweep: bool, force: bool = False, lang: str = "en",
          workers: int | None = 1, bar: bool | None = None) -> Experiment:
    """The experiment of ``scenario``, its design points built on ``workers`` local processes
    (:func:`effekt.experiments.scenario.load_experiment`), with a bar on stderr while a sweep's
    points are built (``bar``: None, when stderr is a terminal); a scenario's error ends the
    command with its message."""
    from effekt.experiments.scenario import load_experiment
    from effekt.specfile import SpecError

    with _building_bar(sys.stderr.isatty() if bar is None else bar, lang) as progress:
        try:
            return load_experiment(scenario, list(assignments), sweep=sweep, force=force,
                                   workers=workers, progress=progress)
        except Exception as err:
            # a point that does not validate, or a process building the points killed (the
            # executors are loaded only if one ran)
            executors = sys.modules.get("effekt.experiments.executors")
            lost = executors is not None and isinstance(err, executors.ExecutorLost)
            if not (lost or isinstance(err, SpecError)):
                raise
            progress.close()
            _fail(err, lang)


class _BuildingBar:
    """``progress(done, total)`` of :func:`load_experiment`, drawn as a bar on stderr once a
    design has :data:`~effekt.experiments.scenario.PARALLEL_POINTS` points or more (a scenario of
    a few points is built before a bar could say anything). rich is imported only then. Refreshed
    by hand, never by a thread of its own: the points are built on processes forked after the bar
    appears."""

    def __init__(self, enabled: bool, lang: str) -> None:
        self.enabled, self.lang = enabled, lang
        self._bar = None
        self._task = None

    def __call__(self, done: int, total: int) -> None:
        from effekt.experiments.scenario import PARALLEL_POINTS

        if not self.enabled or total < PARALLEL_POINTS:
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            # no thread of its own, and stdout and stderr left as they are: the forked workers
            # would inherit rich's stand-ins and draw a stale bar with anything they write
            self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn(say("progress_built", self.lang)), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True, auto_refresh=False,
                                 redirect_stdout=False, redirect_stderr=False)
            self._bar.start()
            self._task = self._bar.add_task(say("progress_building", self.lang), total=total)
        self._bar.update(self._task, completed=done)
        self._bar.refresh()
        if done >= total:
            self.close()

    def close(self) -> None:
        """The bar off the screen (the points are built, or one did not validate)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


@contextmanager
def _building_bar(enabled: bool, lang: str) -> Iterator[_BuildingBar]:
    bar = _BuildingBar(enabled, lang)
    try:
        yield bar
    finally:
        bar.close()


def _tables(text: str | None) -> tuple[str, ...]:
    names = tuple(t.strip() for t in (text or "").split(",") if t.strip())
    unknown = sorted(set(names) - set(RECORD_TABLES))
    if unknown:
        raise click.BadParameter(f"unknown table(s) {unknown}; choose from {', '.join(RECORD_TABLES)}")
    return names


_force_option = click.option(
    "--force", is_flag=True,
    help="Run (or accept) a scenario larger than this machine's memory or than 10 000 design points; "
         "without it such a scenario is refused before anything runs, naming the number to lower.")


def _batch_options(fn):
    """Options shared by run, batch and sweep."""
    options = [
        click.option("--runs", "replications", type=click.IntRange(min=1),
                     help="Replications per design point (default: the scenario's design.replications)."),
        click.option("--seed", type=click.IntRange(min=0), help="Root seed (default: the scenario's)."),
        click.option("--draws", type=click.IntRange(min=0),
                     help="Outer draws of the numbers the files give as priors (two-level Monte Carlo: "
                          "each draw runs the --runs replications with the same seeds; default: "
                          "design.parameters.draws, else none, every prior at its point value)."),
        click.option("--out", type=click.Path(file_okay=False),
                     help="Results directory (default: results/<scenario name>)."),
        executor_options,
        click.option("--chunk", type=click.IntRange(min=1),
                     help="Replications per task (default: about one second of work)."),
        click.option("--tables", "tables", metavar="NAMES",
                     help=f"Also store record tables, comma-separated: {','.join(RECORD_TABLES)}."),
        click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
                     help="Override a scenario key, e.g. --set contract.prices.job_start=60000."),
        click.option("--overwrite", is_flag=True,
                     help="Delete the effekt results in --out and start again (a directory without "
                          "manifest.json is never deleted)."),
        click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary."),
        _force_option,
    ]
    return functools.reduce(lambda f, opt: opt(f), reversed(options), fn)


def _execute(scenario, replications, seed, draws, out, workers, dask, chunk, tables, assignments,
             overwrite, quiet, sweep: bool, force: bool = False, lang: str = "en",
             prefetch: tuple[str, ...] = ()) -> tuple[Experiment, Path]:
    extra = list(assignments)
    if replications is not None:
        extra.append(f"design.replications={replications}")
    if seed is not None:
        extra.append(f"design.seed={seed}")
    if draws is not None:
        extra.append(f"design.parameters.draws={draws}")
    try:
        names = _tables(tables)
    except click.BadParameter:
        unknown = sorted({t.strip() for t in (tables or "").split(",") if t.strip()} - set(RECORD_TABLES))
        _fail(say("tables", lang, unknown=unknown, allowed=", ".join(RECORD_TABLES)), lang)
    with _collector_paused():  # the library's imports
        from effekt.experiments.batch import run_batch
        from effekt.experiments.contract_checks import term_notices
        from effekt.experiments.executors import ExecutorLost, make_executor
        from effekt.experiments.scenario import load_experiment  # noqa: F401  (for _load)
        from effekt.experiments.store import ResultsDirError, ResultStore
    building = None if dask else workers  # None: all cores (a cluster's workers may not see the files)
    exp = _load(scenario, extra, sweep, force, lang, workers=building, bar=False if quiet else None)
    if not quiet:
        for notice in term_notices(exp.base.world, exp.base.terms):
            click.echo(notice.text(lang), err=True)
    if sweep and not exp.is_sweep:
        _fail(say("sweeps_nothing", lang, source=exp.base.source), lang)
    if out is None:
        # results/<name> is effekt's own scratch place: results of another experiment there are
        # replaced (with a note); an explicit --out is never overwritten without --overwrite
        out = Path("results") / exp.base.info.name
        try:
            old = ResultStore(out).read_manifest()
        except ResultsDirError as err:
            _fail(err, lang)
        if old is not None and ResultStore.mismatch(old, {"experiment_hash": exp.hash,
                                                           "scenario": exp.base.resolved,
                                                           "tables": list(names)}):
            click.echo(say("replacing", lang, out=out), err=True)
            overwrite = True
    out = Path(out)
    command = "effekt " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    try:
        executor = make_executor(workers, dask)
    except RuntimeError as err:
        _fail(err, lang)
    if not force and not dask:  # a Dask cluster's memory is on its workers' machines
        _check_workload(exp, executor.workers, lang=lang, cpu=False, notice_on=False if quiet else None)
    previous = signal.signal(signal.SIGTERM, _terminated)  # stop as Ctrl-C does: workers closed
    try:
        run_batch(exp, out, executor=executor, chunk=chunk, overwrite=overwrite,
                  progress=None if not quiet else False, command=command, tables=names, lang=lang,
                  prefetch=prefetch)
    except (ResultsDirError, ExecutorLost) as err:  # a full disk, a lost scheduler: what is kept
        _fail(err, lang)
    except KeyboardInterrupt:
        click.echo(say("stopped", lang, out=out), err=True)
        sys.exit(130)
    finally:
        signal.signal(signal.SIGTERM, previous)
        executor.close()
    return exp, out


def _terminated(signum, frame) -> None:
    """SIGTERM during a batch: unwind as for Ctrl-C, so the workers are closed, the directory's lock
    is released and the message says how to resume (every stored task file is complete)."""
    raise KeyboardInterrupt


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``effekt --version``: click's own words for it ("effekt, version 0.1.0"), in bokmål when the
    invocation is (click's ``version_option`` fixes its message when it is defined)."""
    if value and not ctx.resilient_parsing:
        from importlib.metadata import version  # only when asked: 0.04 s of start-up otherwise

        click.echo(click_text("%(prog)s, version %(version)s") % {"prog": "effekt",
                                                                    "version": version("effekt")})
        ctx.exit()


@click.group(cls=SpeakingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
              help="Show the version and exit.")
@lang_option("Language of the help pages and messages of every command (Norwegian bokmål or English).")
def main(lang: str) -> None:
    """Simulate effektkontrakter (social impact bonds) in employment.

    Cohorts of people from outside the labour market flow through a qualification pathway; an
    outcome contract turns what happens to them into payments for investors, the provider, the
    kommune and the state. Start with `effekt run`.
    """


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@_batch_options
@lang_option("Language of the summary printed after the run (Norwegian bokmål or English).")
def run(scenario, lang, **opts):
    """Run SCENARIO (a TOML file; without it the built-in default) and summarise.

    Runs the scenario as written (a [design] sweep is left to `effekt sweep`). Results are
    written as Parquet under --out; a run that was stopped resumes where it left off when started
    again with the same command.
    """
    exp, out = _execute(scenario, sweep=False, lang=lang, prefetch=() if opts["quiet"] else RUN_SUMMARY,
                        **opts)
    if opts["quiet"]:
        return
    from effekt.experiments.contract_checks import payment_notices
    from effekt.experiments.summary import headline, load_runs

    runs = load_runs(out)
    click.echo("")
    base = exp.base
    windows = ((base.world.horizon_weeks / 52.0, base.long_run_weeks / 52.0)
               if base.long_run_weeks is not None else None)
    title = titled(base.info, lang)
    for line in headline(runs, title, windows=windows, lang=lang):
        click.echo(line)
    for notice in payment_notices(runs, base.terms):
        click.echo(notice.text(lang))
    for line in _uncertainty_lines(out, runs, lang):
        click.echo(line)
    click.echo("")
    click.echo(RUN_WORDS[lang]["results"].format(out=out))
    click.echo(RUN_WORDS[lang]["more"].format(out=out))


RUN_SUMMARY = ("effekt.experiments.summary", "effekt.experiments.contract_checks",
               "effekt.experiments.parameter_uncertainty")
"""The modules of the summary ``effekt run`` prints after its batch (pandas and ``scipy.special``
with them), imported while the batch's tasks run on other processes (:func:`effekt.lazy.prefetch`:
about 0.3 s of the command's serial end, issue 14)."""


RUN_WORDS: dict[str, dict[str, str]] = {
    "en": {"results": ("Results in {out}/: runs/ (one row per replication), cashflows/ (party x month), "
                       "budgets/ (party x year x item), manifest.json"),
           "more": "More: effekt summary {out}",
           "decomposition": "The variance decomposition of every KPI: effekt summary {out}"},
    "nb": {"results": ("Resultater i {out}/: runs/ (én rad per replikasjon), cashflows/ (part x måned), "
                       "budgets/ (part x år x post), manifest.json"),
           "more": "Mer: effekt summary {out}",
           "decomposition": "Variansdekomponeringen av hvert nøkkeltall: effekt summary {out}"},
}
"""The closing lines of ``effekt run`` in bokmål and English."""


def _uncertainty_lines(out: Path, runs, lang: str = "en") -> list[str]:
    """After the headline: with draws of the priors, how many and the share of the key KPIs'
    variance they make; without, that the ranges are chance alone (nothing without priors)."""
    from effekt.experiments.parameter_uncertainty import (
        decomposition_line,
        key_kpis,
        note_lines,
        parameter_table,
        read_draw_info,
    )
    from effekt.experiments.summary import parameters

    info = read_draw_info(out)
    lines = note_lines(info, len(runs), lang)
    if info.draws:
        table = parameter_table(runs, info.drawn, parameters(out), lang=lang)
        line = decomposition_line(table, key_kpis(runs.attrs.get("kpis"), table), lang)
        lines += [line] if line else []
        lines.append(RUN_WORDS[lang]["decomposition"].format(out=out))
    return lines


def _script_command(name: str, sweep: bool, doc: str):
    """``effekt batch`` and ``effekt sweep``: the same options and body, for scripts (results only,
    no summary); they differ only in whether the [design] section is expanded."""

    @main.command(name=name, help=doc)
    @click.argument("scenario", type=click.Path(dir_okay=False))
    @_batch_options
    @lang_option("Language of the messages and the progress bar (Norwegian bokmål or English).")
    def command(scenario, lang, **opts):
        exp, out = _execute(scenario, sweep=sweep, lang=lang, **opts)
        if opts["quiet"]:
            return
        name = exp.base.info.name
        if not sweep and not exp.drawn:
            click.echo(say("batch_done", lang, n=exp.replications, name=name, out=out))
            return
        if not sweep:
            click.echo(say("batch_draws", lang, draws=exp.draws, priors=len(exp.drawn), n=exp.replications,
                           name=name, out=out))
            click.echo(say("more", lang, out=out))
            return
        click.echo(say("sweep_done", lang, points=len(exp.points), n=exp.replications, name=name, out=out,
                       params=", ".join(exp.parameters)))
        click.echo(say("more", lang, out=out))

    return command


batch = _script_command("batch", sweep=False, doc="Run the replications of SCENARIO into --out (no "
                        "summary; resumes when rerun).")
sweep = _script_command("sweep", sweep=True, doc="Run every design point of SCENARIO's [design] "
                        "section into --out (resumes when rerun).")


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Override a scenario key, e.g. --set contract.prices.job_start=60000.")
@_force_option
@lang_option("Language of the messages (Norwegian bokmål or English).")
def validate(scenario, assignments, force, lang):
    """Check SCENARIO and every design point of it without running anything; a large scenario is
    also measured on pilot replications (time and memory), and refused if it cannot fit."""
    with _collector_paused():  # the library's imports
        from effekt.experiments.contract_checks import term_notices
        from effekt.experiments.scenario import load_experiment  # noqa: F401  (for _load)
    exp = _load(scenario, assignments, sweep=True, force=force, lang=lang, workers=None)  # all cores
    work = _check_workload(exp, os.cpu_count() or 1, refuse=not force, lang=lang)  # may refuse: before "ok"
    sc = exp.base
    points = say("ok_points", lang, n=len(exp.points)) if exp.is_sweep else ""
    drawn = say("ok_drawn", lang, n=exp.draws) if exp.drawn else say("ok_point_values", lang)
    priors = (say("ok_prior" if len(sc.priors) == 1 else "ok_priors", lang, n=len(sc.priors), drawn=drawn)
              if sc.priors else "")
    click.echo(say("ok", lang, scenario=scenario, name=sc.info.name, pathway=sc.world.pathway.name,
                   contract=sc.terms.contract.name, people=people(sc.world.size, lang),
                   replications=sc.design.replications, points=points, priors=priors))
    for notice in term_notices(sc.world, sc.terms):
        click.echo(notice.text(lang))
    if work.measured:
        click.echo(work.line(os.cpu_count() or 1, lang))


def _check_workload(exp: Experiment, workers: int, refuse: bool = True, lang: str = "en", cpu: bool = True,
                    notice_on: bool | None = None):
    """The experiment's workload (:mod:`effekt.experiments.workload`); a scenario that would not fit
    in memory on ``workers`` workers is refused (exit 2) unless not ``refuse``. ``cpu``: also time
    a small world's replications as tasks (validate prints the CPU time; a run needs the memory only).
    Before pilots of seconds, a line on stderr says what is measured (:func:`_pilot_notice`;
    ``notice_on``: None, when stderr is a terminal)."""
    from effekt.experiments.workload import check_workload, estimate
    from effekt.specfile import SpecError

    if (sys.stderr.isatty() if notice_on is None else notice_on) and (notice := _pilot_notice(exp, lang)):
        click.echo(notice, err=True)
    work = estimate(exp, cpu=cpu)
    if refuse:
        try:
            check_workload(work, workers, exp.base.source)
        except SpecError as err:
            _fail(err, lang)
    return work


def _pilot_notice(exp: Experiment, lang: str) -> str | None:
    """What the workload estimate is about to measure, when it takes seconds: pilot replications
    of :data:`~effekt.experiments.workload.PILOT_SMALL_PERSONS` people or more (a world of 400 000
    is measured for 5-13 s before anything is said). None for a quick one, or none at all."""
    from effekt.experiments.workload import PILOT_SMALL_PERSONS, _persons, needs_pilot, pilot_sizes

    base = exp.base
    persons = _persons(base)
    if persons < PILOT_SMALL_PERSONS or not needs_pilot(base, exp.replications * len(exp.points)):
        return None
    sizes = pilot_sizes(persons)
    if sizes == (persons,):  # measured on one replication of itself
        return say("measuring_itself", lang, people=people(persons, lang))
    return say("measuring_pilots", lang, people=people(persons, lang),
               sizes=(" og " if lang == "nb" else " and ").join(people(n, lang) for n in sizes))


@main.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json", "markdown"]),
              default="text", show_default=True,
              help="text for the terminal, csv for Excel, json, or markdown.")
@lang_option("Language of the labels and numbers (Norwegian bokmål or English).")
@click.option("--budgets", "budgets_only", is_flag=True,
              help="Only the budgets per year (each party by year, programme minus control, nominal).")
@click.option("--kpi", "kpi_names", multiple=True, metavar="NAME[,NAME]",
              help="Only these KPIs' rows (code names as in --lang en or the CSV, e.g. "
                   "investor_loss,fiscal_npv_kommune); the budgets and windows are then left out.")
def summary(out, fmt, lang, budgets_only, kpi_names):
    """KPI table of a results directory: mean, 95 % CI, P5/P50/P95 (per design point for sweeps),
    and, as text or markdown, the budgets per year below it.

    Indicators (investor_loss, cap_binding) have a probability as their mean. The budgets per
    year are each party's flows by year, the programme minus the control arm, nominal, in the
    scenario's currency, mean over replications (from budgets/; --budgets shows them alone, in any
    --format).
    """
    from effekt.experiments.budgets import WORDS as BUDGET_WORDS
    from effekt.experiments.budgets import render_budgets
    from effekt.experiments.parameter_uncertainty import WORDS as UNCERTAINTY_WORDS
    from effekt.experiments.parameter_uncertainty import (
        note_lines,
        parameter_table,
        policy_runs,
        read_draw_info,
        render_table,
    )
    from effekt.experiments.store import ResultsDirError, ResultStore
    from effekt.experiments.summary import (
        horizon_lines,
        kpi_table,
        load_runs,
        parameters,
        render,
        select_kpis,
        windows_of,
    )
    from effekt.specfile import SpecError

    try:
        runs = load_runs(out)
    except FileNotFoundError as err:
        _fail(err, lang)
    try:
        manifest = ResultStore(out).read_manifest() or {}
    except ResultsDirError as err:
        _fail(err, lang)
    if manifest and not manifest.get("complete"):
        total = manifest.get("replications", 0) * max(1, len(manifest.get("points", [{}])))
        click.echo(say("incomplete", lang, out=out, k=len(runs), n=total,
                       command=manifest.get("command") or "?"), err=True)
    budgets = _budgets_table(out, runs, budgets_only, lang)
    if budgets_only:
        click.echo(render_budgets(budgets, fmt, lang))
        return
    info = read_draw_info(out)
    registry = runs.attrs.get("kpis")
    table = (parameter_table(runs, info.drawn, parameters(out), lang=lang) if info.draws
             else kpi_table(runs, parameters(out), lang=lang))
    wanted = [n.strip() for names in kpi_names for n in names.split(",") if n.strip()]
    if wanted:
        try:
            table = select_kpis(table, wanted)
        except SpecError as err:
            _fail(err, lang)
    if fmt == "csv":  # for Excel in the reader's language: ';', decimal commas and a BOM in bokmål
        from effekt.experiments.excel_csv import summary_csv

        click.echo(summary_csv(table, lang), nl=False)
        return
    if info.draws:  # two-level Monte Carlo: intervals over draws x replications, and their variance
        click.echo(render_table(table, fmt, lang, registry))
    else:
        click.echo(render(table, fmt, lang, registry))
    if wanted:
        return
    if fmt in ("text", "markdown") and note_lines(info, len(runs), lang):  # what the ranges include
        click.echo("")
        click.echo("\n".join(note_lines(info, len(runs), lang)))
    if fmt in ("text", "markdown"):  # the two windows side by side, and a warning where signs differ
        windows = windows_of(out)
        groups = (policy_runs(runs, parameters(out), info.drawn) if info.draws
                  else list(runs.groupby("point", sort=True)))
        for point, df in groups:
            lines = horizon_lines(df, runs.attrs.get("kpis"), lang, windows)
            if lines and len(groups) > 1:
                head = UNCERTAINTY_WORDS[lang]["group"].format(g=point) if info.draws else \
                    BUDGET_WORDS[lang]["point"].format(point=point)
                lines = [head + ":", *lines]
            if lines:
                click.echo("")
                click.echo("\n".join(lines))
    if budgets is not None and fmt in ("text", "markdown"):
        click.echo("")
        click.echo(render_budgets(budgets, fmt, lang))


def _budgets_table(out, runs, required: bool, lang: str):
    """The budgets per year of ``out`` (None when it has no budgets/, an older effekt's results;
    an error when ``required``)."""
    from effekt.experiments.budgets import budgets_per_year, load_budgets
    from effekt.experiments.parameter_uncertainty import policy_runs, pool_draws, read_draw_info
    from effekt.experiments.summary import parameters

    try:
        budgets = load_budgets(out)
        info = read_draw_info(out)
        if info.draws:  # two-level Monte Carlo: each policy's means over all its draws x replications
            groups = policy_runs(runs, parameters(out), info.drawn)
            budgets, runs = pool_draws(budgets, groups), pool_draws(runs, groups)
        return budgets_per_year(budgets, runs)
    except FileNotFoundError as err:
        if required:
            _fail(err, lang)
        return None

# the commands of other modules, imported when an invocation names them (SpeakingGroup.add_lazy)
for _name, _target in (("pathways", "cli_pathways:pathways"), ("export", "cli_export:export"),
                       ("init", "cli_init:init"), ("calibrate", "cli_calibrate:calibrate"),
                       ("app", "cli_app:app_command"), ("national", "cli_national:national")):
    main.add_lazy(_name, f"effekt.experiments.{_target}")

from effekt.experiments.cli_analysis import register  # noqa: E402

register(main)
