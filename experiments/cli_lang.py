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
from collections.abc import Callable, Mapping
from typing import Any

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


DEFAULT_HELP = "Language of what is printed: Norwegian bokmål or English."


def lang_option(help: str = DEFAULT_HELP) -> Callable[[Any], Any]:
    """The ``--lang nb|en`` option, defaulting to :func:`lang_from_environment` (read when the
    command runs, not when it is defined)."""
    return click.option("--lang", type=click.Choice(list(LANGS)), default=lang_from_environment,
                        show_default="nb; en when LC_ALL, LC_MESSAGES or LANG starts with en",
                        help=help)
