"""Every `effekt ...` command quoted in a fenced block of docs/*.md is a valid invocation.

A renamed command or option, a removed choice (`--for commissioner`), or one positional argument too
many would otherwise leave a stale doc that a reader copies and gets an error from. Each command line
is parsed by click itself (``make_context`` with resilient parsing, walking down the groups), so
nothing runs: no file has to exist and no simulation starts. Placeholders such as SCENARIO or FILE
stand for what the reader types; they are skipped where a value is checked (a choice, a subcommand).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from effekt.experiments.cli import main

DOCS = Path(__file__).resolve().parents[1] / "docs"

# Words the docs use for "put your own here": never checked as a choice value or a command name.
PLACEHOLDERS = frozenset(
    {
        "SCENARIO", "FILE", "DIR", "RESULTS", "OUT", "KEY", "VALUE", "KEY=VALUE", "N", "K", "NAME",
        "PATH", "A.toml", "B.toml", "LANG", "COMMAND", "PARTY", "METRIC", "KPI", "URL", "HOST", "PORT",
    }
)
# Fences whose lines are code or data, never shell commands.
NOT_SHELL = ("toml", "python", "py", "sql", "json")
# A line that starts a command: optional prompt, then the program's name alone or followed by a
# command or option word (a diagram's "effekt   (src/effekt/) ..." is no command).
COMMAND = re.compile(r"^\s*(?:\$\s+)?(effekt(?:\s+[-a-z].*)?)$")


@dataclass(frozen=True)
class DocCommand:
    """One quoted command: where it is (file and line, for the failure message) and its words."""

    file: str
    line: int
    text: str

    def argv(self) -> list[str]:
        """The words after ``effekt``, split as a POSIX shell would, a trailing ``# comment`` dropped."""
        return shlex.split(self.text, comments=True)[1:]


def fenced_commands(path: Path) -> list[DocCommand]:
    """The `effekt ...` lines inside fenced blocks of one markdown file, continuation lines joined."""
    found: list[DocCommand] = []
    fence: str | None = None
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("```"):
            fence = None if fence is not None else stripped[3:].strip().lower()
            pending = None
            continue
        if fence is None or fence.startswith(NOT_SHELL):
            continue
        if pending is not None:
            start, text = pending
            text = text + " " + stripped.rstrip("\\")
            pending = (start, text) if stripped.endswith("\\") else None
            if pending is None:
                found.append(DocCommand(path.name, start, text))
            continue
        match = COMMAND.match(raw)
        if match is None:
            continue
        text = match.group(1).rstrip()
        if text.endswith("\\"):
            pending = (number, text.rstrip("\\"))
        else:
            found.append(DocCommand(path.name, number, text))
    return found


def all_commands() -> list[DocCommand]:
    """Every quoted command of every page in docs/."""
    return [cmd for page in sorted(DOCS.glob("*.md")) for cmd in fenced_commands(page)]


def check_invocation(argv: list[str]) -> None:
    """Raise click.UsageError (or AssertionError) unless ``effekt argv`` names existing commands and
    options, gives no positional argument too many, and picks only allowed choices."""
    ctx = main.make_context("effekt", list(argv), resilient_parsing=True)
    command: click.Command = main
    while isinstance(command, click.Group):
        # click >= 8.2 keeps a group's subcommand words in _protected_args (protected_args before)
        protected = getattr(ctx, "_protected_args", None)
        rest = [*(ctx.protected_args if protected is None else protected), *ctx.args]
        if not rest:
            return  # `effekt` or `effekt pathways` alone: prints the help
        if rest[0] in PLACEHOLDERS:
            return
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None, f"no command {rest[0]!r}"
        ctx = sub.make_context(name, list(rest), parent=ctx, resilient_parsing=True)
        command = sub
    assert not ctx.args or ctx.allow_extra_args, f"unexpected extra arguments {ctx.args}"
    _check_choices(command, ctx, rest)


def _check_choices(command: click.Command, ctx: click.Context, argv: list[str]) -> None:
    """A value given to a click.Choice option must be one of its choices (resilient parsing would
    silently drop it); placeholders pass."""
    opts, _, _ = command.make_parser(ctx).parse_args(args=list(argv))
    for param in command.params:
        if not isinstance(param.type, click.Choice) or param.name not in opts:
            continue
        given = opts[param.name]
        for value in given if isinstance(given, (list, tuple)) else [given]:
            if isinstance(value, str) and value not in PLACEHOLDERS:
                param.type.convert(value, param, ctx)


COMMANDS = all_commands()


def test_the_docs_quote_commands():
    """The parser finds the docs' commands (guards against a regex that silently finds none)."""
    names = {c.argv()[0] for c in COMMANDS if c.argv()}
    assert len(COMMANDS) >= 40
    assert {"run", "compare", "decide", "calibrate", "summary"} <= names


@pytest.mark.parametrize("cmd", COMMANDS, ids=[f"{c.file}:{c.line}" for c in COMMANDS])
def test_documented_command_is_a_valid_invocation(cmd: DocCommand):
    try:
        check_invocation(cmd.argv())
    except (click.UsageError, AssertionError) as err:
        pytest.fail(f"docs/{cmd.file} line {cmd.line}: `{cmd.text}` is not a valid invocation: {err}")


@pytest.mark.parametrize(
    "argv",
    [
        ["rnu", "kongsberg.toml"],  # a misspelt command
        ["run", "kongsberg.toml", "--runz", "10"],  # a misspelt option
        ["breakeven", "kongsberg.toml", "--for", "investor", "--metric", "irrr", "--vary", "x"],  # no choice
        ["summary", "results/x", "--lang", "de"],  # a language the CLI does not speak
        ["run", "a.toml", "b.toml"],  # one argument too many
        ["pathways", "shwo", "kongsberg_kull"],  # a misspelt subcommand of a group
    ],
)
def test_a_stale_command_is_caught(argv: list[str]):
    """What the check is for: each of these would be a stale line in a doc."""
    with pytest.raises((click.UsageError, AssertionError)):
        check_invocation(argv)


def test_continuation_lines_and_comments_are_joined(tmp_path: Path):
    page = tmp_path / "page.md"
    page.write_text(
        "text effekt run not-a-command\n"
        "```sh\n"
        "effekt run --set a=1 \\\n"
        "           --set 'b=2'   # a comment\n"
        "$ effekt summary results/x --lang en\n"
        "```\n"
        "```toml\n"
        "effekt = 1\n"
        "```\n",
        encoding="utf-8",
    )
    found = fenced_commands(page)
    assert [c.line for c in found] == [3, 5]
    assert found[0].argv() == ["run", "--set", "a=1", "--set", "b=2"]
    assert found[1].argv() == ["summary", "results/x", "--lang", "en"]
