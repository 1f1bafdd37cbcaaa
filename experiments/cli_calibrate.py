"""``effekt calibrate FILE``: fit a pathway's uncertain numbers to published counts (ABC-SMC).

Thin, like the rest of the CLI: read the calibration file, run the fit on the chosen executor
(``--workers``, ``--dask``: the same posterior on every executor and worker count), print the
posterior, the posterior predictive check of the fitted targets and the held-out targets, and
write ``<name>.posterior.toml`` to ``--out`` (default ``calibrations/``, where
``{ calibrated = "<name>" }`` finds it). The method is :mod:`effekt.experiments.calibrate`.
"""

from __future__ import annotations

import click

from effekt.experiments.cli_analysis import executor_options
from effekt.experiments.cli_lang import fail as _fail
from effekt.experiments.cli_lang import lang_option

GENERATION = {"nb": "Generasjon {t} (toleranse {eps})", "en": "Generation {t} (tolerance {eps})"}


@click.command()
@click.argument("file", metavar="FILE")
@click.option("--out", type=click.Path(file_okay=False), default="calibrations", show_default=True,
              help="Folder for <name>.posterior.toml ({ calibrated = \"<name>\" } looks in ./calibrations).")
@click.option("--particles", type=click.IntRange(min=10),
              help="Particles per generation (default: the file's).")
@click.option("--generations", type=click.IntRange(min=1, max=50),
              help="Generations at most (default: the file's).")
@click.option("--tolerance", type=click.FloatRange(min=0),
              help="Final tolerance in counts (default: the file's; 0 is exact ABC).")
@click.option("--seed", type=click.IntRange(min=0), help="Root seed (default: the file's).")
@executor_options
@lang_option()
@click.option("--quiet", is_flag=True, help="No progress bar.")
def calibrate(file, out, particles, generations, tolerance, seed, workers, dask, lang, quiet):
    """Calibrate a pathway to published counts: FILE is a calibration file or a built-in name
    (springbrett). Writes the posterior a scenario draws from with { calibrated = "<name>" }."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from effekt.experiments.calibrate import build_model, load_calibration_file
    from effekt.experiments.calibrate.posterior import run_calibration, write_posterior
    from effekt.experiments.calibrate.report import WORDS, summary_lines
    from effekt.experiments.executors import open_executor
    from effekt.specfile import SpecError, said

    try:
        spec, source = load_calibration_file(file)
        model, _ = build_model(spec, source)
    except SpecError as err:
        _fail(err, lang)
    _check_writable(out, lang)  # before the fit: minutes of work must not be lost to an unwritable folder
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   disable=quiet, transient=False, console=None)
    tasks: dict[int, int] = {}

    def progress(t: int, accepted: int, total: int, eps: float) -> None:
        if t not in tasks:
            shown = "∞" if eps == float("inf") else f"{eps:g}"
            tasks[t] = bar.add_task(GENERATION[lang].format(t=t, eps=shown), total=total)
        bar.update(tasks[t], completed=accepted)

    try:
        with open_executor(workers, dask) as executor:
            # local workers forked before the bar's redrawing thread starts (a process forked
            # beside it could inherit a lock on the terminal held: ProcessExecutor.start_workers)
            start_workers = getattr(executor, "start_workers", None)
            if start_workers is not None:
                start_workers()
            with bar:
                cal = run_calibration(spec, source, executor=executor, particles=particles,
                                      generations=generations, seed=seed, tolerance=tolerance,
                                      progress=progress, model=model)
    except (SpecError, RuntimeError) as err:
        _fail(err, lang)
    click.echo("\n".join(summary_lines(cal, lang)))
    try:
        path = write_posterior(cal, out)
    except OSError as err:
        reason = err.strerror or err
        _fail(said(f"{out}: the posterior cannot be written ({reason})",
                   f"{out}: posteriorfordelingen kan ikke skrives ({reason})"), lang)
    click.echo("\n" + WORDS[lang]["written"].format(path=path, name=spec.calibration.name))


def _check_writable(out: str, lang: str) -> None:
    """Refuse (exit 2) an --out folder that cannot be made or written, before anything runs."""
    import tempfile
    from pathlib import Path

    from effekt.specfile import said

    try:
        Path(out).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".effekt-write-test-"):
            pass
    except OSError as err:
        reason = err.strerror or err
        _fail(said(f"--out {out}: cannot be written ({reason}); choose another folder",
                   f"--out {out}: kan ikke skrives ({reason}); velg en annen mappe"), lang)


__all__ = ["calibrate"]
