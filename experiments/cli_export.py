"""``effekt export DIR``: a results directory as an Excel workbook and/or CSV files for Excel.

A command of its own rather than ``report --xlsx``: the workbook reads only the stored tables
(``runs/``, ``budgets/``, ``manifest.json``) and is written in a second, while the HTML report
re-simulates replications for its time series; an adviser who wants the numbers in Excel should
not wait for figures, and a script can export without matplotlib.
"""

from __future__ import annotations

from pathlib import Path

import click

from effekt.experiments.cli_lang import fail as _fail
from effekt.experiments.cli_lang import lang_option

WORDS = {
    "nb": {"wrote": "skrev {path}", "nothing": "oppgi --xlsx FIL og/eller --csv MAPPE",
           "exists": "{path} finnes allerede; gi --overwrite for å erstatte den, eller velg et annet navn",
           "no_folder": "{path}: mappen {folder} finnes ikke; lag den først, eller velg en annen plass"},
    "en": {"wrote": "wrote {path}", "nothing": "give --xlsx FILE and/or --csv DIR",
           "exists": "{path} exists already; pass --overwrite to replace it, or choose another name",
           "no_folder": "{path}: the folder {folder} does not exist; create it first, or choose another "
                        "place"},
}


@click.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True))
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False),
              help="Write an Excel workbook: summary, budgets by year, KPIs, assumptions with sources.")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False),
              help="Write the same tables as CSV files into this folder (';' and decimal commas with "
                   "--lang nb, for Norwegian Excel).")
@click.option("--point", type=click.IntRange(min=0), default=0, show_default=True,
              help="The design point of a sweep to export.")
@click.option("--overwrite", is_flag=True, help="Replace an existing workbook or CSV files.")
@lang_option("Language of the sheets, headers and labels (Norwegian bokmål or English).")
def export(out, xlsx, csv_dir, point, overwrite, lang):
    """Export results directory OUT for Excel: --xlsx FILE (a workbook with the sheets
    Sammendrag, Budsjett per år, KPI-er and Forutsetninger; in English with --lang en) and/or
    --csv DIR (the same tables as CSV). Numbers are stored as numbers with Excel number formats,
    so Excel shows them in its own locale."""
    from effekt.experiments.export_xlsx import write_csv_files, write_workbook

    w = WORDS[lang]
    if not xlsx and not csv_dir:
        _fail(w['nothing'], lang)
    if xlsx:  # a file of the user's is never replaced unasked, nor a folder made anywhere
        target = Path(xlsx)
        if not target.parent.resolve().is_dir():
            _fail(w['no_folder'].format(path=xlsx, folder=target.parent), lang)
        if target.exists() and not overwrite:
            _fail(w['exists'].format(path=xlsx), lang)
    if csv_dir and Path(csv_dir).exists() and any(Path(csv_dir).glob("*.csv")) and not overwrite:
        _fail(w['exists'].format(path=csv_dir), lang)
    try:
        if xlsx:
            click.echo(w["wrote"].format(path=write_workbook(out, xlsx, lang, point)))
        if csv_dir:
            for path in write_csv_files(out, csv_dir, lang, point):
                click.echo(w["wrote"].format(path=path))
    except (FileNotFoundError, ValueError, OSError) as err:
        _fail(err, lang)
