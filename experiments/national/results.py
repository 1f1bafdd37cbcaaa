"""Telling a national results directory apart, so the commands for one scenario's results refuse it.

``effekt report``, ``effekt summary`` and ``effekt export`` read a results directory as one scenario
(or a sweep of design points) and would treat the kommuner of a national run as design points:
"design point 1 of 357", or every kommune's replications pooled into one sample of a single
kommune's size. The sensible view of a national run is its totals (nation, fylker, kommuner), which
``effekt national`` prints and writes beside the results (``national_summary.csv``,
``national_budgets.csv``). So those commands refuse a national directory with
:class:`NationalResultsError`, saying which files to read and the command that prints the totals
again (a finished run resumes at once). Nothing heavy is imported here.
"""

from __future__ import annotations

import json
from pathlib import Path

NATIONAL_PARAMETERS = frozenset({"kommune", "kommune_name", "fylke", "people_outside_work", "variant"})
"""The design parameters every national run records (see
:func:`effekt.experiments.national.spec.load_national`)."""

TEXT = {
    "nb": ("{out} er resultatene av en nasjonal kjøring ({n} kommuner), ikke av ett scenario: "
           "'effekt {what}' ville lest kommunene som designpunkter. Les {files} i mappen (hele landet, "
           "fylker og kommuner), eller skriv totalene igjen med: {command}"),
    "en": ("{out} holds the results of a national run ({n} kommuner), not of one scenario: "
           "'effekt {what}' would read the kommuner as design points. Read {files} in the folder "
           "(the nation, fylker and kommuner), or print the totals again with: {command}"),
}


class NationalResultsError(FileNotFoundError):
    """A national run's directory given to a command that needs one scenario's results: the
    results that command reads (one scenario's) are not there. A FileNotFoundError so that every
    command that reads results already reports it as an error (exit 2) with this message."""


def national_manifest(out: str | Path) -> dict | None:
    """The manifest of ``out`` when it is a national run's results directory, else None."""
    path = Path(out) / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not NATIONAL_PARAMETERS <= set(manifest.get("parameters") or ()):
        return None
    return manifest


def refuse_national(out: str | Path, what: str | None = None, lang: str | None = None) -> None:
    """Raise :class:`NationalResultsError` when ``out`` is a national results directory. ``what``
    names the command (``report``, ``summary``, ``export``) and ``lang`` the message's language; when
    None, both come from the running command (its name and its ``--lang``), else the language from
    the environment, as ``--lang`` defaults."""
    manifest = national_manifest(out)
    if manifest is None:
        return
    import click

    ctx = click.get_current_context(silent=True)
    if what is None:
        what = ctx.info_name if ctx is not None and ctx.info_name else "report"
    if lang not in TEXT:
        lang = ctx.params.get("lang") if ctx is not None else None
    if lang not in TEXT:
        from effekt.experiments.cli_lang import lang_from_environment

        lang = lang_from_environment()
    out = Path(out)
    files = ", ".join(f for f in ("national_summary.csv", "national_budgets.csv") if (out / f).exists()) \
        or "national_summary.csv, national_budgets.csv"
    command = manifest.get("command") or f"effekt national SCENARIO --out {out}"
    raise NationalResultsError(TEXT[lang].format(out=out, n=len(manifest.get("points") or ()), what=what,
                                                 files=files, command=command))


__all__ = ["NATIONAL_PARAMETERS", "NationalResultsError", "national_manifest", "refuse_national"]
