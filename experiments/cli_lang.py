"""The language of what the command line prints for a person: one ``--lang`` option for every
command, and its default from the environment.

effekt is made for Norwegian users, so bokmål (``nb``) is the default: ``--lang en`` or a locale
that starts with ``en`` (``LANG=en_GB.UTF-8``) gives English. The locale is read as POSIX
programs read it: the first of ``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` that is set and not empty
decides; ``en...`` is English, and everything else (``nb_NO``, ``no``, ``nn_NO``, ``C``,
``POSIX``, a language effekt does not speak, nothing set) is bokmål. An explicit ``--lang`` wins.

Cheap to import (``os`` and ``click`` only): the command line imports it when it starts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, NoReturn

import click

LANGS: tuple[str, ...] = ("nb", "en")
LOCALE_VARIABLES: tuple[str, ...] = ("LC_ALL", "LC_MESSAGES", "LANG")
"""The environment variables that choose the language, strongest first (POSIX)."""


def lang_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """``en`` when the deciding locale variable (:data:`LOCALE_VARIABLES`) starts with ``en``,
    else ``nb`` (also for ``C``, ``POSIX`` and when none is set)."""
    env = os.environ if environ is None else environ
    for name in LOCALE_VARIABLES:
        value = env.get(name, "")
        if value:
            return "en" if value.strip().lower().startswith("en") else "nb"
    return "nb"


INVOCATION_LANG: ContextVar[str | None] = ContextVar("effekt_invocation_lang", default=None)
"""The language of the running ``effekt`` invocation (set by
:class:`effekt.experiments.cli_help.SpeakingGroup`: ``--lang`` wherever it stands, else the
locale); None outside one."""


def invocation_lang() -> str:
    """The language of the running invocation, else :func:`lang_from_environment`: the default of
    every ``--lang``, so ``effekt --lang en run`` speaks English as ``effekt run --lang en`` does."""
    return INVOCATION_LANG.get() or lang_from_environment()


DEFAULT_HELP = "Language of what is printed: Norwegian bokmål or English."


def lang_option(help: str = DEFAULT_HELP) -> Callable[[Any], Any]:
    """The ``--lang nb|en`` option, defaulting to :func:`invocation_lang` (read when the command
    runs, not when it is defined). Its help is English here; the bokmål is in
    :data:`effekt.experiments.cli_help_nb.HELP_NB`."""
    return click.option("--lang", type=click.Choice(list(LANGS)), default=invocation_lang,
                        show_default="nb; en when LC_ALL, LC_MESSAGES or LANG starts with en",
                        help=help)


# -- the command line's own messages ---------------------------------------------------------------
# One table, (bokmål, English) for every key, rather than an `if lang == "nb"` at each message: a
# reviewer sees every message and its translation side by side, and a missing translation is a
# KeyError in the tests, never English in an nb terminal. A gettext catalogue (Babel's .po/.mo)
# would add a compile step and a data file to the install for some forty short strings, and would
# cost start-up time (validate must start in well under a second); the table is plain Python.

MESSAGES: dict[str, tuple[str, str]] = {
    "error": ("feil: {err}", "error: {err}"),
    "written": ("Rapporten er skrevet til {path}", "Report written to {path}"),
    "page_written": ("Siden er skrevet til {path}", "Page written to {path}"),
    "ok": ("{scenario}: ok ({name}, forløp {pathway}, kontrakt {contract}, {people} personer, "
           "{replications} replikasjoner{points}{priors})",
           "{scenario}: ok ({name}, pathway {pathway}, contract {contract}, {people} people, "
           "{replications} replications{points}{priors})"),
    "ok_points": (", {n} designpunkter", ", {n} design points"),
    "ok_priors": (", {n} priorfordelinger{drawn}", ", {n} priors{drawn}"),
    "ok_prior": (", {n} priorfordeling{drawn}", ", {n} prior{drawn}"),
    "ok_drawn": (" ({n} trekk)", " ({n} draws)"),
    "ok_point_values": (" ved punktverdiene", " at their point values"),
    "tables": ("--tables: ukjente tabeller {unknown}; velg blant {allowed}",
               "--tables: unknown table(s) {unknown}; choose from {allowed}"),
    "sweeps_nothing": ("{source}: [design]-delen varierer ingenting; legg til [design.sweep], "
                       "[design.levers] eller [design.uncertainties] (se docs/experiments.md), eller "
                       "bruk 'effekt batch'",
                       "{source}: the [design] section varies nothing; add [design.sweep], "
                       "[design.levers] or [design.uncertainties] (see docs/experiments.md), or use "
                       "'effekt batch'"),
    "replacing": ("merk: erstatter tidligere resultater av et annet eksperiment i {out}/ "
                  "(gi --out for å holde resultatene adskilt)",
                  "note: replacing earlier results of another experiment in {out}/ "
                  "(give --out to keep results apart)"),
    "stopped": ("\nstoppet: replikasjonene som er ferdige, er tatt vare på i {out}/; kjør samme "
                "kommando igjen for å fortsette der den stoppet",
                "\nstopped: the replications finished so far are kept in {out}/; run the same "
                "command again to resume where it stopped"),
    "batch_done": ("{n} replikasjoner av {name} i {out}/", "{n} replications of {name} in {out}/"),
    "batch_draws": ("{draws} trekk av {priors} priorfordelinger x {n} replikasjoner av {name} i {out}/",
                    "{draws} draws of {priors} priors x {n} replications of {name} in {out}/"),
    "sweep_done": ("{points} designpunkter x {n} replikasjoner av {name} i {out}/ (parametre: {params})",
                   "{points} design points x {n} replications of {name} in {out}/ (parameters: {params})"),
    "more": ("Mer: effekt summary {out}", "More: effekt summary {out}"),
    "incomplete": ("merk: {out} er ufullstendig ({k} av {n} replikasjoner); kjør kommandoen som laget "
                   "den, igjen for å fullføre: {command}",
                   "note: {out} is incomplete ({k} of {n} replications); rerun the command that made "
                   "it to finish it: {command}"),
    # the progress bar of run, batch and sweep (effekt.experiments.batch)
    "progress_replications": ("replikasjoner", "replications"),
    "progress_rate": ("rep./s", "rep/s"),
    "progress_eta": ("gjenstår", "ETA"),
    "progress_points": ("{n} designpunkter", "{n} design points"),
    "progress_building": ("Bygger designpunktene", "Building the design points"),
    "measuring_pilots": ("Måler tid og minne for en replikasjon av {people} personer (begge armer) på "
                         "pilotreplikasjoner av {sizes} personer …",
                         "Measuring the time and memory of a replication of {people} people (both arms) on "
                         "pilot replications of {sizes} people ..."),
    "measuring_itself": ("Måler tid og minne på én replikasjon av {people} personer (begge armer) …",
                         "Measuring the time and memory of one replication of {people} people "
                         "(both arms) ..."),
    "progress_built": ("designpunkter", "design points"),
    # the analysis commands (effekt.experiments.cli_analysis)
    "per_long_run": ("--per: '{per}' med --horizon long_run: det teller personer i arbeid i én måned av "
                     "kontraktsperioden; tillatt på lang sikt: {allowed}",
                     "--per: '{per}' with --horizon long_run: it counts persons in work at one month of "
                     "the contract period; allowed with the long run: {allowed}"),
    "pilot_both": ("gi --p-treatment eller --effect, ikke begge", "give --p-treatment or --effect, not both"),
    "pilot_not_p": ("--effect {effect} på et kontrafaktisk nivå på {p} er ikke en sannsynlighet",
                    "--effect {effect} on a counterfactual of {p} is not a probability"),
    "pilot_same_p": ("med og uten tiltaket er sannsynligheten den samme, {p}: det er ingen forskjell for en "
                     "pilot å vise",
                     "the programme and the counterfactual both have probability {p}: there is no "
                     "difference for a pilot to show"),
}
"""Every message the command line itself prints, as (bokmål, English) format strings."""


def say(key: str, lang: str, **values: object) -> str:
    """The message ``key`` of :data:`MESSAGES` in ``lang`` (``nb`` or ``en``), filled with ``values``."""
    nb, en = MESSAGES[key]
    return (nb if lang == "nb" else en).format(**values)


def people(n: int, lang: str) -> str:
    """A whole count with its thousands grouped (a no-break space in bokmål, as Babel writes it;
    none in English, as the English output always had): cheap, for validate's start-up."""
    return f"{n:,}".replace(",", "\u00a0") if lang == "nb" else str(n)


def fail(err: BaseException | str, lang: str) -> NoReturn:
    """Print ``err`` as the command line's error in ``lang`` and exit 2: "feil: "/"error: " and a
    :class:`~effekt.specfile.SpecError` with its framing, or any other error's message, in that
    language (a rule's own bokmål when it was raised with :func:`effekt.specfile.said`). The one
    way every command reports an error; the messages module (pydantic) loads only here."""
    from effekt.experiments.messages import error_text

    text = err.text(lang) if hasattr(err, "text") and hasattr(err, "problems") else error_text(err, lang)
    click.echo(say("error", lang, err=text), err=True)
    sys.exit(2)
