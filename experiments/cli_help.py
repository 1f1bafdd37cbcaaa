"""The help pages and click's own messages in the reader's language: the seam between click and
effekt's two languages.

What the command line prints comes from two places, and both follow the language of the invocation
(``--lang`` anywhere on the command line, before or after ``--help``; else the locale, as
:func:`~effekt.experiments.cli_lang.lang_from_environment` reads it; bokmål by default):

- effekt's own help texts (each command's docstring, each option's ``help=``, ``show_default``
  and metavar) are written in English at their definition and looked up in bokmål in
  :data:`effekt.experiments.cli_help_nb.HELP_NB`, a table of (English, bokmål) pairs;
- click's own words (``Usage:``, ``Options:``, ``Show this message and exit.``, ``Error: Missing
  argument 'SCENARIO'.``, ``No such option``, ``'x' is not a valid integer.``, ``Aborted!`` ...)
  come from click's gettext calls, translated by a compiled gettext catalogue of click's msgids,
  ``locale/nb/LC_MESSAGES/click.po`` (``.mo`` beside it, compiled by Babel and tested to be up to
  date), read with the standard library's :class:`gettext.GNUTranslations`.

Why this seam. click marks its messages with the classic GNU gettext API (``from gettext import
gettext as _`` in each of its modules), whose language is the process's global text domain and
the environment's ``LANGUAGE``/``LC_*``/``LANG``. effekt's language is chosen otherwise: ``--lang``
wins, and ``C``/``POSIX``/no locale mean bokmål. Driving gettext's global domain would mean
rewriting the process environment (inherited by workers and the browser) and changing the text
domain of every library in the process (argparse uses it too), and click offers no hook to do it
before ``--help`` is handled (click issue #2706 describes the limitation). So for the duration of one
invocation :func:`speaking` binds the ``_``/``ngettext`` names click's modules imported to the
bokmål catalogue, and the help texts and type names of the command tree to bokmål; on the way
out everything is put back, so the next invocation in the same process (the tests) starts from
English. tests/test_cli_help_nb.py checks that every click module that imports gettext is
covered and that every msgid click marks has a translation, so a click upgrade that moves things
fails a test rather than printing English. Not thread-safe: the names are the process's, so two
invocations of the command line on two threads of one process would see each other's language
(one command line per process, as effekt runs it and as the tests call it, is safe).

Cheap at start-up: the standard library's gettext and a small .mo, read only in bokmål; no Babel.
"""

from __future__ import annotations

import gc
import gettext
import importlib
import inspect
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

import click

from effekt.experiments.cli_lang import INVOCATION_LANG, LANGS, lang_from_environment

CATALOGUE = Path(__file__).with_name("locale") / "nb" / "LC_MESSAGES" / "click.mo"
"""click's own messages in bokmål, compiled from ``click.po`` beside it."""

CLICK_MODULES: tuple[str, ...] = (
    "click.core", "click.decorators", "click.exceptions", "click.formatting", "click.parser",
    "click.shell_completion", "click.termui", "click.types", "click.utils", "click._termui_impl",
)
"""click's modules that import ``gettext``/``ngettext`` (``click._winconsole`` only on Windows)."""

OPTIONS_METAVAR_NB = "[VALG]"
SUBCOMMAND_METAVAR_NB = "KOMMANDO [ARGUMENTER]..."

_MISSING = object()


@cache
def catalogue() -> gettext.GNUTranslations:
    """click's messages in bokmål (read once per process)."""
    with CATALOGUE.open("rb") as fh:
        return gettext.GNUTranslations(fh)


def click_text(msgid: str) -> str:
    """click's message ``msgid`` in the invocation's language (for the few click words effekt
    prints itself)."""
    return catalogue().gettext(msgid) if INVOCATION_LANG.get() == "nb" else msgid


def lang_in_args(args: Sequence[str]) -> str | None:
    """The language an explicit ``--lang nb|en`` (or ``--lang=en``) on the command line asks for,
    wherever it stands (before or after ``--help``, on the group or a command); None without one,
    or when its value is not a language (click then refuses it in the environment's language)."""
    for i, arg in enumerate(args):
        if arg == "--":
            break
        value = args[i + 1] if arg == "--lang" and i + 1 < len(args) else (
            arg.partition("=")[2] if arg.startswith("--lang=") else None)
        if value in LANGS:
            return value
    return None


def walk(root: click.Command, name: str = "effekt", full: set[int] | None = None,
         loaded_only: bool = False) -> Iterator[tuple[click.Command, click.Context | None]]:
    """Every command of the tree under ``root``, with a context of its own (for its help option)
    when ``full`` is None or holds its ``id``, else None; with ``loaded_only``, not the commands
    of a :class:`SpeakingGroup` that are still to be imported (:meth:`SpeakingGroup.add_lazy`)."""

    def visit(cmd: click.Command, info: str, parent: click.Context | None):
        ctx = (click.Context(cmd, info_name=info, parent=parent, **(cmd.context_settings or {}))
               if full is None or id(cmd) in full else None)
        yield cmd, ctx
        if isinstance(cmd, SpeakingGroup) and not loaded_only:
            cmd.load_all()
        if isinstance(cmd, click.Group):
            for sub in sorted(cmd.commands):
                yield from visit(cmd.commands[sub], sub, ctx)

    yield from visit(root, name, None)


def texts(cmd: click.Command, ctx: click.Context | None) -> Iterator[tuple[Any, str, str]]:
    """The English texts of ``cmd`` that a help page or an error shows: (object, attribute, text)
    for the command's help and, with a context, each option's help, string ``show_default`` and
    metavar."""
    for attr in ("help", "short_help", "epilog"):
        value = getattr(cmd, attr, None)
        if value:
            yield cmd, attr, inspect.cleandoc(value)
    if ctx is None:
        return
    for param in cmd.get_params(ctx):
        if isinstance(param, click.Option):
            if param.help:
                yield param, "help", param.help
            if isinstance(param.show_default, str):
                yield param, "show_default", param.show_default
            if param.metavar:
                yield param, "metavar", param.metavar


class _Undo:
    """Attribute changes, put back in reverse order."""

    def __init__(self) -> None:
        self.changes: list[tuple[Any, str, Any]] = []

    def set(self, obj: Any, attr: str, value: Any) -> None:
        self.changes.append((obj, attr, obj.__dict__.get(attr, _MISSING)))
        setattr(obj, attr, value)

    def undo(self) -> None:
        for obj, attr, old in reversed(self.changes):
            if old is _MISSING:
                delattr(obj, attr)
            else:
                setattr(obj, attr, old)
        self.changes.clear()


def _before_double_dash(args: Sequence[str]) -> list[str]:
    """The arguments before ``--`` (after it, everything is an argument, never a command)."""
    args = list(args)
    return args[:args.index("--")] if "--" in args else args


def invoked(root: click.Group, args: Sequence[str]) -> list[click.Command]:
    """The commands ``args`` name under ``root`` (``effekt pathways show x`` -> pathways, show):
    the ones whose options, placeholders and types a help page or an error can show."""
    path: list[click.Command] = []
    cmd: click.Command = root
    for arg in args:
        if arg == "--":
            break
        sub = cmd.commands.get(arg) if isinstance(cmd, click.Group) else None
        if sub is not None:
            path.append(sub)
            cmd = sub
    return path


def _to_bokmal(root: click.Group, args: Sequence[str], undo: _Undo) -> None:
    """Set the help texts of every command (the lists of commands show them) and the options,
    metavars and type names of the invoked ones to bokmål (English where the table has no entry:
    tests/test_cli_help_nb.py makes sure it has one for every text). Only the invoked commands
    get contexts of their own: an invocation pays for what it can show."""
    from effekt.experiments.cli_help_nb import HELP_NB, METAVARS_NB, TYPE_NAMES_NB

    click_nb = catalogue()
    full = {id(root), *(id(c) for c in invoked(root, args))}
    # the commands the invocation can show are imported (SpeakingGroup.main); help options are made
    # now, while click still speaks English
    for cmd, ctx in walk(root, full=full, loaded_only=True):
        for obj, attr, text in texts(cmd, ctx if id(cmd) in full else None):
            table = METAVARS_NB if attr == "metavar" else HELP_NB
            undo.set(obj, attr, table.get(text) or click_nb.gettext(text))
        if id(cmd) not in full:
            continue
        if cmd.options_metavar == "[OPTIONS]":
            undo.set(cmd, "options_metavar", OPTIONS_METAVAR_NB)
        if isinstance(cmd, click.Group) and cmd.subcommand_metavar == "COMMAND [ARGS]...":
            undo.set(cmd, "subcommand_metavar", SUBCOMMAND_METAVAR_NB)
        for param in cmd.get_params(ctx):
            name = getattr(param.type, "name", None)
            if name in TYPE_NAMES_NB:
                undo.set(param.type, "name", TYPE_NAMES_NB[name])


def _click_to_bokmal(undo: _Undo) -> None:
    """Bind the ``_`` and ``ngettext`` that click's modules imported to the bokmål catalogue (the
    modules click has loaded: its shell completion and its own progress bar and pager, which
    effekt does not use, are not imported for it)."""
    click_nb = catalogue()
    for name in CLICK_MODULES:
        module = sys.modules.get(name)
        if module is None:
            continue
        if getattr(module, "_", None) is gettext.gettext:
            undo.set(module, "_", click_nb.gettext)
        if getattr(module, "ngettext", None) is gettext.ngettext:
            undo.set(module, "ngettext", click_nb.ngettext)


@contextmanager
def speaking(root: click.Group, lang: str, args: Sequence[str] = ()) -> Iterator[None]:
    """Within: the invocation's language is ``lang`` (the default of every ``--lang``), and in
    bokmål click's messages and the help of the tree under ``root`` (all of it for the commands
    ``args`` names) are bokmål."""
    token = INVOCATION_LANG.set(lang)
    undo = _Undo()
    try:
        if lang == "nb":
            _to_bokmal(root, args, undo)
            _click_to_bokmal(undo)
        yield
    finally:
        undo.undo()
        INVOCATION_LANG.reset(token)


class SpeakingGroup(click.Group):
    """effekt's top-level group: each invocation in the language of its ``--lang`` or locale.

    The commands of other modules are registered by name (:meth:`add_lazy`) and imported when an
    invocation can show them: the one it names, or all of them when it names none (the list of
    commands of ``effekt --help``, the suggestions for a misspelt command). ``effekt validate``
    then imports none of the modules of ``effekt app``, ``national``, ``pathways`` ... (a web
    browser's module, subprocess: ~6 ms of its start-up, issue 14)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, str] = {}
        """The commands still to be imported: name -> ``"module:attribute"``."""

    def add_lazy(self, name: str, target: str) -> None:
        """Register the command ``name``, the attribute of a module (``"module:attribute"``), to be
        imported when an invocation can show it."""
        self.lazy[name] = target

    def load(self, name: str) -> click.Command | None:
        """The command ``name`` (imported now if it was registered by :meth:`add_lazy`), None when
        the group has no such command."""
        target = self.lazy.pop(name, None)
        if target is not None:
            module, _, attr = target.partition(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return self.commands.get(name)

    def load_all(self) -> None:
        """Import every command still to be imported."""
        for name in list(self.lazy):
            self.load(name)

    def load_for(self, args: Sequence[str]) -> None:
        """Import what an invocation with ``args`` can show: the command it names (its first
        argument that is a command's name), or every command when it names none."""
        names = self.lazy.keys() | self.commands.keys()
        named = next((a for a in _before_double_dash(args) if a in names), None)
        if named is None:
            self.load_all()
        else:
            self.load(named)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self.load(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load_all()
        return super().list_commands(ctx)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and args[0] not in self.lazy and args[0] not in self.commands:
            self.load_all()  # no such command: click's suggestions are made from all of them
        return super().resolve_command(ctx, args)

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        self.load_for(argv)
        token = PROCESS_COMMAND_LINE.set(args is None)
        try:
            with speaking(self, lang_in_args(argv) or lang_from_environment(), argv):
                return super().main(args, *rest, **kwargs)
        finally:
            PROCESS_COMMAND_LINE.reset(token)
            if args is None:  # the process's own command line (``effekt ...``), which ends here
                keep_from_collector()


PROCESS_COMMAND_LINE: ContextVar[bool] = ContextVar("effekt_process_command_line", default=False)
"""Whether the invocation is the process's own command line (``effekt ...``, :meth:`SpeakingGroup.main`
without ``args``), which the process ends with; not one called with arguments (the tests'
``CliRunner``, a script), whose process goes on."""


def keep_from_collector() -> None:
    """Put every object alive into the cyclic garbage collector's permanent generation
    (:func:`gc.freeze`), where its passes no longer visit them; for a process that ends soon or
    keeps those objects to its end (:data:`PROCESS_COMMAND_LINE`). At the end of a command line,
    the full collections the interpreter makes on its way out would traverse every object the
    imports made (pydantic's validators, numpy, pyarrow) and free nothing that matters: about
    30 ms of an ``effekt validate`` of some 0.2 s and 60 ms of an ``effekt run --runs 1`` (issue
    14). Nothing waits for them: the commands close their files, stores and workers themselves,
    and the libraries' own clean-up runs from :mod:`atexit`, which runs as before. Cycles that
    were garbage already are not freed: the process is about to end, or they are the few an
    import left."""
    gc.freeze()
